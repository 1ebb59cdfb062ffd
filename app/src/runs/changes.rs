//! The review of a waiting approval's proposed changes (`/runs/{id}/changes/{step}`):
//! each file's diff in Monaco, the text it was based on beside the proposal. A page of its
//! own, entered with a full page load, because Monaco needs the relaxed style policy the
//! editor page has (see the server's CSP), which the run page does not.

use super::{ChangeRow, DecideStep, DecisionForm};
use crate::error::AppError;
use crate::shell::form::SECONDARY_BUTTON_CLASS;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};

/// What a waiting approval would write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesView {
    pub files: Vec<ChangeRow>,
    /// What stands in the way of the whole change set.
    pub blocked: Vec<String>,
}

/// The files a waiting approval would write, with their conflicts.
#[server(prefix = "/api", endpoint = "runs/changes")]
pub async fn proposed_changes(run: String, step: String) -> Result<ChangesView, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let pending = services()
            .engine
            .pending_changes(&principal, &run, &step)
            .await?
            .ok_or(AppError::NotFound)?;
        let (files, blocked) = super::change_rows(pending);
        Ok(ChangesView { files, blocked })
    })
    .await
}

/// One proposed file: its text at the base revision and the proposed text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeDiffView {
    pub original: String,
    pub proposed: String,
    /// Monaco's language id.
    pub language: String,
    pub title: String,
}

/// The diff of one file a waiting approval would write.
#[server(prefix = "/api", endpoint = "runs/change_diff")]
pub async fn change_diff(
    run: String,
    step: String,
    path: String,
) -> Result<ChangeDiffView, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let diff = services()
            .engine
            .change_diff(&principal, &run, &step, &path)
            .await?;
        let title = match (diff.base_revision, &diff.original) {
            (None, _) => format!("{}: a new file (right)", diff.path),
            (Some(revision), Some(_)) => {
                format!(
                    "{}: revision {revision} (left) and the proposal (right)",
                    diff.path
                )
            }
            (Some(revision), None) => format!(
                "{}: revision {revision} is gone; the proposal (right)",
                diff.path
            ),
        };
        Ok(ChangeDiffView {
            language: crate::projects::language_of(&diff.path).to_owned(),
            original: diff.original.unwrap_or_default(),
            proposed: diff.proposed,
            title,
        })
    })
    .await
}

#[component]
pub fn ChangesPage() -> impl IntoView {
    let params = use_params_map();
    let run = move || params.read().get("id").unwrap_or_default();
    let step = move || params.read().get("step").unwrap_or_default();
    let changes = Resource::new(move || (run(), step()), |(r, s)| proposed_changes(r, s));
    let chosen = RwSignal::new(None::<String>);
    // The first file is shown until another is chosen.
    Effect::new(move |_| {
        if chosen.get_untracked().is_none()
            && let Some(Ok(view)) = changes.get()
            && let Some(first) = view.files.first()
        {
            chosen.set(Some(first.path.clone()));
        }
    });
    let diff = Resource::new(
        move || (run(), step(), chosen.get()),
        |(run, step, path)| async move {
            match path {
                Some(path) => change_diff(run, step, path).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let host = NodeRef::<leptos::html::Div>::new();
    show_diff(host, diff);
    // Decided here: back to the run, which goes on.
    let decide = ServerAction::<DecideStep>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = decide.value().get() {
            navigate(&format!("/runs/{}", run()), Default::default());
        }
    });
    view! {
        <Title text="Proposed changes"/>
        <p class="text-sm"><A href=move || format!("/runs/{}", run()) attr:class="text-indigo-600 hover:underline dark:text-indigo-400">"← Back to the run"</A></p>
        <h1 class="mt-4 text-2xl font-semibold">"Proposed changes"</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
            {move || format!("What step {} would write once approved.", step())}
        </p>
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading the changes…"</p> }>
            {move || Suspend::new(async move {
                match changes.await {
                    Ok(view) if view.files.is_empty() && view.blocked.is_empty() => view! {
                        <p class="mt-4 text-sm">"This approval proposes no files."</p>
                    }.into_any(),
                    Ok(view) => view! {
                        <div class="mt-4 flex flex-wrap gap-2" role="group" aria-label="Files">
                            {view.files.into_iter().map(|file| {
                                let path = file.path.clone();
                                let label = match (&file.conflict, file.new_file) {
                                    (Some(_), _) => format!("{} (conflict)", file.path),
                                    (None, true) => format!("{} (new)", file.path),
                                    (None, false) => file.path.clone(),
                                };
                                view! {
                                    <button type="button" class=SECONDARY_BUTTON_CLASS title=file.conflict.clone().unwrap_or_default()
                                        aria-pressed=move || (chosen.get().as_deref() == Some(path.as_str())).to_string()
                                        on:click=move |_| chosen.set(Some(file.path.clone()))>
                                        {label}
                                    </button>
                                }
                            }).collect_view()}
                        </div>
                        {view.blocked.into_iter().map(|why| view! {
                            <p class="mt-2 text-sm text-red-700 dark:text-red-300" role="alert">{why}</p>
                        }).collect_view()}
                    }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <p class="mt-4 text-sm">"Nothing to review: this step is not an approval of proposed changes."</p>
                    }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-4 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <p class="mt-4 text-sm font-medium" data-testid="diff-title" aria-live="polite">
            {move || match diff.get() {
                Some(Ok(Some(d))) => d.title,
                Some(Err(e)) => e.to_string(),
                Some(Ok(None)) => String::new(),
                None => "Loading the diff…".to_owned(),
            }}
        </p>
        <div node_ref=host class="mt-2 h-[65vh] rounded-md border border-slate-200 dark:border-slate-800" data-testid="change-diff"></div>
        <Transition>
            {move || Suspend::new(async move {
                changes.await.ok().map(|view| {
                    let conflicted = !view.blocked.is_empty() || view.files.iter().any(|f| f.conflict.is_some());
                    view! {
                        <section class="mt-4 max-w-xl" aria-label="Decision">
                            {conflicted.then(|| view! {
                                <p class="text-sm text-red-700 dark:text-red-300" role="status">
                                    {super::CONFLICTED}
                                </p>
                            })}
                            <DecisionForm run=run() step=step() decide conflicted/>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}

/// In the browser: loads Monaco once and shows each fetched diff in one diff editor, made
/// on first use and disposed with the page (Monaco's editors share page-wide services,
/// so the editor is never remade while the page lives).
#[cfg(feature = "hydrate")]
fn show_diff(
    host: NodeRef<leptos::html::Div>,
    diff: Resource<Result<Option<ChangeDiffView>, AppError>>,
) {
    use crate::projects::monaco::{self, DiffEditor};
    use send_wrapper::SendWrapper;
    let editor: StoredValue<Option<SendWrapper<DiffEditor>>> = StoredValue::new(None);
    Effect::new(move |_| {
        let Some(Ok(Some(view))) = diff.get() else {
            return;
        };
        let Some(element) = host.get() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if monaco::load().await.is_err() {
                return;
            }
            editor.try_update_value(|slot| {
                slot.get_or_insert_with(|| SendWrapper::new(DiffEditor::new(&element)))
                    .show(&view.original, &view.proposed, &view.language)
            });
        });
    });
    on_cleanup(move || editor.set_value(None));
}

#[cfg(not(feature = "hydrate"))]
fn show_diff(
    _host: NodeRef<leptos::html::Div>,
    _diff: Resource<Result<Option<ChangeDiffView>, AppError>>,
) {
}
