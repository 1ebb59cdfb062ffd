//! The History tab: every saved version (who saved it and when), each openable read-only,
//! and a comparison of any of them with the graph on screen, marked on the canvas.

use super::super::graph::{Graph, diff};
use super::super::{VersionRow, workflow_versions};
use super::state::Builder;
use crate::shell::form::SECONDARY_BUTTON_CLASS;
use aura_types::StepPositions;
use aura_types::definition::WorkflowDefinition;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::HashMap;

/// A comparison shown on the canvas: what each step became since `version`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Comparison {
    pub version: i64,
    /// Step id → "added" or "changed".
    pub marks: HashMap<String, &'static str>,
    pub removed: Vec<String>,
}

impl Comparison {
    /// What changed from `old` (a saved version) to the graph on screen.
    pub fn between(version: i64, old: &WorkflowDefinition, b: &Builder) -> Self {
        let old = Graph::from_definition(old, &StepPositions::new());
        let d = b.graph.with_value(|now| diff(&old, now));
        let mut marks: HashMap<String, &'static str> =
            d.added.into_iter().map(|id| (id, "added")).collect();
        marks.extend(d.changed.into_iter().map(|id| (id, "changed")));
        Comparison {
            version,
            marks,
            removed: d.removed,
        }
    }

    pub fn summary(&self) -> String {
        let pick = |mark: &str| {
            let mut ids: Vec<&str> = self
                .marks
                .iter()
                .filter(|(_, m)| **m == mark)
                .map(|(id, _)| id.as_str())
                .collect();
            ids.sort_unstable();
            ids.join(", ")
        };
        let mut parts = Vec::new();
        for (label, ids) in [
            ("added", pick("added")),
            ("changed", pick("changed")),
            ("removed", self.removed.join(", ")),
        ] {
            if !ids.is_empty() {
                parts.push(format!("{label} {ids}"));
            }
        }
        if parts.is_empty() {
            format!(
                "Nothing changed since version {} but positions.",
                self.version
            )
        } else {
            format!("Since version {}: {}.", self.version, parts.join("; "))
        }
    }
}

#[component]
pub fn History(
    b: Builder,
    workflow: String,
    shown: i64,
    comparison: RwSignal<Option<Comparison>>,
    on_compared: Callback<()>,
) -> impl IntoView {
    let versions = {
        let workflow = workflow.clone();
        Resource::new(move || workflow.clone(), workflow_versions)
    };
    let compare =
        move |row: &VersionRow| match serde_json::from_str::<WorkflowDefinition>(&row.definition) {
            Ok(old) => {
                comparison.set(Some(Comparison::between(row.version, &old, &b)));
                on_compared.run(());
            }
            Err(err) => b.notice.set(Some(format!(
                "Version {} cannot be read: {err}",
                row.version
            ))),
        };
    view! {
        <section class="mt-3 rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900" aria-labelledby="history-title">
            <h2 id="history-title" class="text-sm font-semibold">"Versions"</h2>
            <Suspense fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading versions…"</p> }>
                {move || { let workflow = workflow.clone(); Suspend::new(async move {
                    match versions.await {
                        Ok(rows) => Either::Left(view! {
                            <ol class="mt-2 divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="versions">
                                {rows.into_iter().map(|row| {
                                    let href = format!("/workflows/{}?version={}", workflow, row.version);
                                    let label = format!("Compare version {} with the canvas", row.version);
                                    let here = row.version == shown;
                                    let compare_row = row.clone();
                                    view! {
                                        <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                                            <span>
                                                <span class="font-medium">{format!("Version {}", row.version)}</span>
                                                {here.then_some(" (on the canvas)")}
                                                <span class="text-slate-500">{format!(" · saved {} by {}", row.saved, row.by)}</span>
                                            </span>
                                            <span class="flex gap-2">
                                                <A href=href attr:class=SECONDARY_BUTTON_CLASS>{format!("Open version {}", row.version)}</A>
                                                <button type="button" class=SECONDARY_BUTTON_CLASS aria-label=label
                                                    on:click=move |_| compare(&compare_row)>"Compare"</button>
                                            </span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }),
                        Err(err) => Either::Right(view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }),
                    }
                })}}
            </Suspense>
        </section>
    }
}
