//! Running the workflow from the builder: an input dialog that remembers the last input
//! (per workflow, in the browser), then the run's live status on each node and each step's
//! output, log and error in the step panel.

use crate::error::AppError;
use crate::runs::{Following, RunDetail, StepRow, follow_live, get_run, start_run};
use crate::shell::form::{BUTTON_CLASS, SECONDARY_BUTTON_CLASS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use std::collections::HashMap;

/// The run the builder is watching, reloaded as its events arrive.
#[derive(Clone, Copy)]
pub struct Watch {
    run_id: RwSignal<Option<String>>,
    detail: RwSignal<Option<RunDetail>>,
    events: RwSignal<u64>,
}

impl Watch {
    pub fn new() -> Self {
        let watch = Watch {
            run_id: RwSignal::new(None),
            detail: RwSignal::new(None),
            events: RwSignal::new(0),
        };
        follow_live(
            Signal::derive(move || watch.detail.with(|d| d.as_ref().map(Following::of))),
            watch.events,
        );
        // Reload the detail when the run changes or its events arrive.
        Effect::new(move |_| {
            watch.events.track();
            let Some(id) = watch.run_id.get() else {
                return;
            };
            spawn_local(async move {
                let detail = get_run(id.clone()).await;
                let current = watch.run_id.try_get_untracked().flatten();
                if let (Ok(detail), true) = (detail, current.as_deref() == Some(id.as_str())) {
                    watch.detail.set(Some(detail));
                }
            });
        });
        watch
    }

    pub fn statuses(self) -> Signal<HashMap<String, String>> {
        Signal::derive(move || {
            self.detail
                .with(|d| d.as_ref().map(RunDetail::statuses).unwrap_or_default())
        })
    }

    pub fn steps(self) -> Signal<HashMap<String, StepRow>> {
        Signal::derive(move || {
            self.detail.with(|d| {
                d.as_ref()
                    .map(|d| d.steps.iter().map(|s| (s.id.clone(), s.clone())).collect())
                    .unwrap_or_default()
            })
        })
    }
}

const INPUT_KEY: &str = "aura.run-input.";

fn remembered_input(workflow: &str) -> Option<String> {
    window()
        .local_storage()
        .ok()
        .flatten()?
        .get_item(&format!("{INPUT_KEY}{workflow}"))
        .ok()
        .flatten()
}

fn remember_input(workflow: &str, input: &str) {
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(&format!("{INPUT_KEY}{workflow}"), input);
    }
}

/// The top-level fields of a JSON object, sorted.
fn keys_of(input: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(input)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// "Run…", its input dialog, and the banner of the run being watched. The remembered
/// input's fields become template completions (`input.<field>`).
#[component]
pub fn RunBar(
    b: super::state::Builder,
    watch: Watch,
    workflow: RwSignal<Option<String>>,
    dirty: Memo<bool>,
    version: RwSignal<i64>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let input = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(id) = workflow.get() {
            b.input_keys.set(
                remembered_input(&id)
                    .map(|i| keys_of(&i))
                    .unwrap_or_default(),
            );
        }
    });
    let show = move |_| {
        let Some(id) = workflow.get_untracked() else {
            return;
        };
        input.set(remembered_input(&id).unwrap_or_else(|| "{}".to_owned()));
        error.set(None);
        open.set(true);
        request_animation_frame(move || {
            if let Some(el) = textarea.get_untracked() {
                let _ = el.focus();
            }
        });
    };
    let start = move || {
        let Some(id) = workflow.get_untracked() else {
            return;
        };
        let text = input.get_untracked();
        starting.set(true);
        spawn_local(async move {
            let result = start_run(id.clone(), text.clone()).await;
            if starting.try_set(false).is_some() {
                return; // The page is gone.
            }
            match result {
                Ok(run) => {
                    remember_input(&id, &text);
                    b.input_keys.set(keys_of(&text));
                    watch.detail.set(None);
                    watch.run_id.set(Some(run));
                    open.set(false);
                }
                Err(AppError::Validation { fields, .. }) => {
                    error.set(
                        fields
                            .get("input")
                            .cloned()
                            .or_else(|| fields.values().next().cloned()),
                    );
                }
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <div class="mt-3 flex flex-wrap items-center gap-3">
            <button type="button" class=SECONDARY_BUTTON_CLASS disabled=move || workflow.get().is_none()
                title=move || if workflow.get().is_none() { "Save the workflow to run it" } else { "Run the saved version" }
                on:click=show>"Run…"</button>
            {move || watch.detail.get().map(|d| {
                let href = format!("/runs/{}", d.id);
                view! {
                    <p class="text-sm" aria-live="polite" data-testid="watched-run">
                        {format!("Run of version {}: {}", d.version, d.status.as_str())}
                        {d.error.clone().map(|e| format!(" — {e}"))}
                        " · " <A href=href attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"Open the run page"</A>
                    </p>
                    <button type="button" class="text-sm text-slate-500 hover:underline" on:click=move |_| {
                        watch.run_id.set(None);
                        watch.detail.set(None);
                    }>"Stop showing the run"</button>
                }
            })}
        </div>
        <Show when=move || open.get()>
            <div role="dialog" aria-modal="false" aria-labelledby="run-dialog-title" class="mt-3 rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-700 dark:bg-slate-900"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        open.set(false);
                    } else if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        start();
                    }
                }>
                <h2 id="run-dialog-title" class="text-sm font-semibold">{move || format!("Run version {}", version.get())}</h2>
                {move || dirty.get().then(|| view! {
                    <p class="mt-1 text-sm text-amber-700 dark:text-amber-300">"Your unsaved changes are not part of the saved version this runs."</p>
                })}
                <label for="run-input-json" class="mt-2 block text-sm font-medium">"Input (JSON)"</label>
                <textarea id="run-input-json" node_ref=textarea rows="5" spellcheck="false" aria-describedby="run-input-error"
                    aria-invalid=move || error.get().is_some().to_string()
                    class="mt-1 block w-full rounded-md border border-slate-300 bg-white p-2 font-mono text-sm dark:border-slate-600 dark:bg-slate-950"
                    prop:value=move || input.get() on:input=move |ev| input.set(event_target_value(&ev))></textarea>
                <p id="run-input-error" role="alert" class="mt-1 text-sm text-red-600 dark:text-red-400">{move || error.get()}</p>
                <div class="mt-2 flex gap-2">
                    <button type="button" class=BUTTON_CLASS disabled=move || starting.get() on:click=move |_| start()>"Start run"</button>
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </div>
        </Show>
    }
}
