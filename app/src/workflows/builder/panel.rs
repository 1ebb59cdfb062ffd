//! The step panel beside the canvas: the selected step's id, its settings (a form made
//! from its type's schema), retries and timeout, and its edges, each editable from the
//! keyboard. With several steps selected it offers what applies to all of them.

use super::super::graph::{BRANCHES, Link};
use super::canvas::step_label;
use super::form::ConfigForm;
use super::state::Builder;
use crate::runs::StepRow;
use crate::shell::form::SECONDARY_BUTTON_CLASS;
use aura_types::StepKind;
use aura_types::definition::RetryPolicy;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

const SMALL_INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 dark:border-slate-600 dark:bg-slate-900 aria-[invalid=true]:border-red-500";
const DANGER_BUTTON: &str = "inline-flex items-center justify-center rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950";

#[component]
pub fn StepPanel(
    b: Builder,
    schemas: StoredValue<HashMap<StepKind, Value>>,
    /// Each step of the run being watched, if any.
    steps: Signal<HashMap<String, StepRow>>,
) -> impl IntoView {
    let count = move || b.selected.with(|s| s.len());
    view! {
        <aside class="rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900" aria-labelledby="step-panel-title" data-testid="step-panel">
            {move || {
                // Re-made when the selection changes or the graph is replaced under it;
                // typing in the form does neither, so focus stays put.
                b.reloads.track();
                match (count(), b.single()) {
                    (1, Some(id)) => EitherOf3::A(view! {
                        <StepInRun id=id.clone() steps/>
                        {single(b, id, schemas)}
                    }),
                    (0, _) => EitherOf3::B(view! {
                        <h2 id="step-panel-title" class="text-sm font-semibold">"Step"</h2>
                        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                            {if b.read_only { "Select a step to see its settings." } else { "Select a step to edit it, or add one from the palette." }}
                        </p>
                    }),
                    (n, _) => EitherOf3::C(view! {
                        <h2 id="step-panel-title" class="text-sm font-semibold">{format!("{n} steps selected")}</h2>
                        {(!b.read_only).then(|| view! {
                            <div class="mt-3 flex flex-wrap gap-2">
                                <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| b.duplicate_selection()>"Duplicate"</button>
                                <button type="button" class=DANGER_BUTTON on:click=move |_| b.delete_selection()>{format!("Delete {n} steps")}</button>
                            </div>
                        })}
                    }),
                }
            }}
        </aside>
    }
}

fn single(
    b: Builder,
    id: String,
    schemas: StoredValue<HashMap<StepKind, Value>>,
) -> Option<impl IntoView> {
    let node = b.graph.with_value(|g| g.node(&id).cloned())?;
    let kind = node.kind;
    let ro = b.read_only;
    let step_problems = {
        let id = id.clone();
        move || {
            b.problems.with(|ps| {
                ps.iter()
                    .filter(|p| {
                        p.step.as_deref() == Some(id.as_str()) && !p.field.starts_with("config")
                    })
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect::<Vec<_>>()
            })
        }
    };
    let error_of = {
        let id = id.clone();
        Callback::new(move |field: String| {
            b.problems.with(|ps| {
                ps.iter()
                    .find(|p| p.step.as_deref() == Some(id.as_str()) && p.field == field)
                    .map(|p| p.message.clone())
            })
        })
    };
    let on_config = {
        let id = id.clone();
        Callback::new(move |config: Value| {
            let field = Some(format!("{id}:config"));
            b.edit_typing(field, |g| {
                let n = g
                    .node(&id)
                    .cloned()
                    .ok_or_else(|| super::super::graph::EditError::Unknown(id.clone()))?;
                g.set_step(&id, config, n.retry.clone(), n.timeout_ms)
            });
        })
    };
    let rename_error = RwSignal::new(None::<String>);
    let rename = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let new = event_target_value(&ev).trim().to_owned();
            if new == id {
                return;
            }
            if b.edit(|g| g.rename(&id, &new)).is_some() {
                rename_error.set(None);
                b.select([new]);
            } else {
                rename_error.set(b.notice.get_untracked());
            }
        }
    };
    let set_limits = {
        let id = id.clone();
        move |retry: Option<Option<RetryPolicy>>, timeout: Option<Option<u64>>| {
            let field = Some(format!("{id}:limits"));
            b.edit_typing(field, |g| {
                let n = g
                    .node(&id)
                    .cloned()
                    .ok_or_else(|| super::super::graph::EditError::Unknown(id.clone()))?;
                g.set_step(
                    &id,
                    n.config.clone(),
                    retry.unwrap_or_else(|| n.retry.clone()),
                    timeout.unwrap_or(n.timeout_ms),
                )
            });
        }
    };
    let attempts = node
        .retry
        .as_ref()
        .map(|r| r.max_attempts.to_string())
        .unwrap_or_default();
    let interval = node
        .retry
        .as_ref()
        .map(|r| r.initial_interval_ms.to_string())
        .unwrap_or_default();
    let timeout = node.timeout_ms.map(|t| t.to_string()).unwrap_or_default();
    let retry_of = {
        let id = id.clone();
        move || {
            b.graph
                .with_value(|g| g.node(&id).and_then(|n| n.retry.clone()))
        }
    };
    let schema = schemas
        .with_value(|s| s.get(&kind).cloned())
        .unwrap_or(Value::Null);
    let completions = {
        let id = id.clone();
        Signal::derive(move || {
            b.links.track();
            let mut offered = vec!["input".to_owned()];
            offered.extend(b.input_keys.get().into_iter().map(|k| format!("input.{k}")));
            offered.extend(
                b.graph
                    .with_value(|g| g.upstream(&id))
                    .into_iter()
                    .map(|u| format!("steps.{u}.output")),
            );
            offered
        })
    };
    let form_step = id.clone();
    Some(view! {
        <h2 id="step-panel-title" class="text-sm font-semibold">{format!("{} step", step_label(kind))}</h2>
        <ul class="mt-2 space-y-1 text-xs text-red-600 dark:text-red-400" role="list" aria-label="Problems with this step">
            {move || step_problems().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
        </ul>
        <div class="mt-3">
            <label for="step-id" class="block text-sm font-medium">"Step id"</label>
            <input id="step-id" class=format!("{SMALL_INPUT} font-mono") value=id.clone() readonly=ro aria-describedby="step-id-help step-id-error"
                aria-invalid=move || rename_error.get().is_some().to_string() on:change=rename/>
            <p id="step-id-help" class="mt-1 text-xs text-slate-500">"Later steps read this step's output as "<code>{format!("steps.{id}.output")}</code>"."</p>
            <p id="step-id-error" role="alert" class="mt-1 text-xs text-red-600 dark:text-red-400">{move || rename_error.get()}</p>
        </div>
        <ConfigForm step=form_step schema config=node.config.clone() on_change=on_config error_of read_only=ro completions/>
        <details class="mt-4">
            <summary class="cursor-pointer text-sm font-medium">"Retries and timeout"</summary>
            <div class="mt-2 grid grid-cols-2 gap-3">
                <div>
                    <label for="step-attempts" class="block text-sm">"Attempts"</label>
                    <input id="step-attempts" type="number" min="1" step="1" class=SMALL_INPUT value=attempts readonly=ro placeholder="1"
                        on:input={
                            let set_limits = set_limits.clone();
                            let retry_of = retry_of.clone();
                            move |ev| {
                                let text = event_target_value(&ev);
                                let retry = match text.trim().parse::<u32>() {
                                    Ok(n) if n > 1 => Some(RetryPolicy { max_attempts: n, ..retry_of().unwrap_or_default() }),
                                    Ok(_) => None,
                                    Err(_) if text.trim().is_empty() => None,
                                    Err(_) => return,
                                };
                                set_limits(Some(retry), None);
                            }
                        }/>
                </div>
                <div>
                    <label for="step-interval" class="block text-sm">"First retry after (ms)"</label>
                    <input id="step-interval" type="number" min="0" step="1" class=SMALL_INPUT value=interval readonly=ro placeholder="1000"
                        on:input={
                            let set_limits = set_limits.clone();
                            move |ev| {
                                let Ok(ms) = event_target_value(&ev).trim().parse::<u64>() else { return };
                                if let Some(policy) = retry_of() {
                                    set_limits(Some(Some(RetryPolicy { initial_interval_ms: ms, ..policy })), None);
                                }
                            }
                        }/>
                </div>
                <div class="col-span-2">
                    <label for="step-timeout" class="block text-sm">"Timeout (ms)"</label>
                    <input id="step-timeout" type="number" min="1" step="1" class=SMALL_INPUT value=timeout readonly=ro placeholder="The operator's default"
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            match text.trim().parse::<u64>() {
                                Ok(ms) => set_limits(None, Some(Some(ms))),
                                Err(_) if text.trim().is_empty() => set_limits(None, Some(None)),
                                Err(_) => {}
                            }
                        }/>
                </div>
            </div>
        </details>
        <Edges b id=id.clone() kind/>
        {(!ro).then(|| view! {
            <button type="button" class=format!("{DANGER_BUTTON} mt-4 w-full") on:click=move |_| b.delete_selection()>"Delete step"</button>
        })}
    })
}

/// The step's outgoing edges, each removable, and a form to add one.
#[component]
fn Edges(b: Builder, id: String, kind: StepKind) -> impl IntoView {
    let outgoing = {
        let id = id.clone();
        move || {
            b.links.with(|ls| {
                ls.iter()
                    .filter(|l| l.from == id)
                    .cloned()
                    .collect::<Vec<Link>>()
            })
        }
    };
    let targets = {
        let id = id.clone();
        move || {
            b.cells.with(|cs| {
                cs.iter()
                    .map(|c| c.id.clone())
                    .filter(|c| *c != id)
                    .collect::<Vec<_>>()
            })
        }
    };
    let target = RwSignal::new(String::new());
    let branch = RwSignal::new(BRANCHES[0].to_owned());
    let connect = {
        let id = id.clone();
        move |_| {
            let to = target.get_untracked();
            if to.is_empty() {
                b.notice.set(Some("Choose the step to connect to.".into()));
                return;
            }
            let branch = (kind == StepKind::Condition).then(|| branch.get_untracked());
            b.edit(|g| g.connect(&id, &to, branch));
        }
    };
    view! {
        <section class="mt-4" aria-labelledby="edges-title">
            <h3 id="edges-title" class="text-sm font-medium">"Next steps"</h3>
            <ul class="mt-1 space-y-1 text-sm" data-testid="next-steps">
                {move || {
                    let list = outgoing();
                    if list.is_empty() {
                        return Either::Left(view! { <li class="text-xs text-slate-500">"None: the run ends after this step."</li> });
                    }
                    Either::Right(list.into_iter().map(|l| {
                        let text = match &l.branch {
                            Some(branch) => format!("{} (when {branch})", l.to),
                            None => l.to.clone(),
                        };
                        let label = format!("Remove the edge to {text}");
                        view! {
                            <li class="flex items-center justify-between gap-2">
                                <span class="font-mono text-xs">{format!("→ {text}")}</span>
                                {(!b.read_only).then(|| view! {
                                    <button type="button" class="rounded px-2 text-xs text-red-700 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 dark:text-red-300" aria-label=label
                                        on:click=move |_| { b.edit(|g| { g.disconnect(&l); Ok(()) }); }>"Remove"</button>
                                })}
                            </li>
                        }
                    }).collect_view())
                }}
            </ul>
            {(!b.read_only).then(|| view! {
                <div class="mt-2 flex flex-wrap items-end gap-2">
                    <div class="min-w-0 flex-1">
                        <label for="connect-to" class="block text-xs">"Connect to"</label>
                        <select id="connect-to" class=SMALL_INPUT on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="">"Choose a step…"</option>
                            {move || targets().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                    {(kind == StepKind::Condition).then(|| view! {
                        <div>
                            <label for="connect-branch" class="block text-xs">"When"</label>
                            <select id="connect-branch" class=SMALL_INPUT on:change=move |ev| branch.set(event_target_value(&ev))>
                                {BRANCHES.map(|b| view! { <option value=b>{b}</option> }).collect_view()}
                            </select>
                        </div>
                    })}
                    <button type="button" class=SECONDARY_BUTTON_CLASS on:click=connect>"Connect"</button>
                </div>
            })}
        </section>
    }
}

/// The selected step in the run being watched: its status, error, log and output.
#[component]
fn StepInRun(id: String, steps: Signal<HashMap<String, StepRow>>) -> impl IntoView {
    let step = Memo::new(move |_| steps.with(|s| s.get(&id).cloned()));
    move || {
        step.get().map(|s| {
            view! {
                <section class="mb-4 rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700" aria-label="This step in the run" data-testid="step-run">
                    <p class="font-medium">{format!("In this run: {}", s.status.as_str())}
                        {(s.attempt > 1).then(|| format!(" (attempt {})", s.attempt))}</p>
                    {s.error.map(|e| view! { <p class="mt-1 text-red-700 dark:text-red-300">{e}</p> })}
                    {(!s.log.is_empty()).then(|| view! {
                        <pre class="mt-2 max-h-40 overflow-auto rounded bg-slate-950 p-2 text-xs text-slate-100" aria-label="Log">{s.log.clone()}</pre>
                    })}
                    {s.output.map(|o| view! {
                        <pre class="mt-2 max-h-40 overflow-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-800" aria-label="Output">{o}</pre>
                    })}
                </section>
            }
        })
    }
}
