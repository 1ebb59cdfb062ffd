//! The visual builder, `/workflows/{id}` (and `/workflows/new`): the canvas, the palette,
//! the step panel, problems found as the user edits, saving with conflict handling, an
//! "Edit as JSON" tab, and read-only views of older versions that can be restored.
//!
//! The server renders the whole graph where it was saved (laying out workflows saved
//! without positions first), so the page reads before the WASM arrives and hydration
//! does not lay anything out again.

mod canvas;
mod form;
mod history;
mod panel;
mod run;
mod state;

use super::graph::{Graph, StepDiff, diff};
use super::save_workflow;
use crate::error::{AppError, Problem};
use crate::shell::form::{BUTTON_CLASS, SECONDARY_BUTTON_CLASS};
use crate::shell::toast::use_toasts;
use aura_types::definition::WorkflowDefinition;
use aura_types::{StepKind, StepPositions};
use canvas::{Canvas, STEP_DRAG_TYPE, step_label};
use history::{Comparison, History};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use panel::StepPanel;
use run::{RunBar, Watch};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use state::{Builder, View};
use std::collections::HashMap;

/// Everything the builder opens with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuilderDoc {
    /// `None` until a new workflow is first saved.
    pub id: Option<String>,
    pub name: String,
    pub description: String,
    /// The version shown (0 for a new workflow).
    pub version: i64,
    /// The workflow's newest version; a different `version` is shown read-only.
    pub current_version: i64,
    pub definition: WorkflowDefinition,
    /// Every step's position (the server lays out those without one).
    pub positions: StepPositions,
    /// Each step type's configuration schema, for the step forms.
    pub schemas: Vec<(StepKind, Value)>,
}

impl BuilderDoc {
    fn read_only(&self) -> bool {
        self.id.is_some() && self.version != self.current_version
    }
}

/// The workflow `id` (its current version, or `version`), ready for the builder; `new`
/// is a new workflow with one step.
#[server(prefix = "/api", endpoint = "workflows/open")]
pub async fn open_workflow(id: String, version: Option<i64>) -> Result<BuilderDoc, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let s = services();
        let schemas: Vec<(StepKind, Value)> = StepKind::ALL
            .iter()
            .map(|k| (*k, aura_engine::config_schema(*k)))
            .collect();
        if id == "new" {
            let definition = WorkflowDefinition {
                steps: vec![aura_types::definition::StepDefinition {
                    id: "start".to_owned(),
                    kind: StepKind::Template,
                    config: serde_json::json!({ "template": "Hello {{ input.name }}" }),
                    retry: None,
                    timeout_ms: None,
                    next: Vec::new(),
                }],
            };
            return Ok(BuilderDoc {
                id: None,
                name: String::new(),
                description: String::new(),
                version: 0,
                current_version: 0,
                positions: [("start".to_owned(), [40.0, 40.0])].into(),
                definition,
                schemas,
            });
        }
        let current = s.workflows.get(&principal, &id).await?;
        let at = version.unwrap_or(current.current_version);
        let (row, definition, positions) = s.engine.drawing(&principal, &id, at).await?;
        Ok(BuilderDoc {
            id: Some(current.id),
            name: current.name,
            description: current.description,
            version: row.version,
            current_version: current.current_version,
            definition,
            positions,
            schemas,
        })
    })
    .await
}

/// The workflow version run `id` executes, drawn as the builder draws it (read-only),
/// even when the workflow has since been deleted.
#[server(prefix = "/api", endpoint = "runs/drawing")]
pub async fn run_drawing(id: String) -> Result<BuilderDoc, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        let s = services();
        let run = s.engine.run(&principal, &id).await?;
        let (row, definition, positions) = s
            .engine
            .drawing(&principal, &run.workflow_id, run.workflow_version)
            .await?;
        Ok(BuilderDoc {
            id: Some(run.workflow_id),
            name: String::new(),
            description: String::new(),
            version: row.version,
            // Never editable here.
            current_version: -1,
            definition,
            positions,
            schemas: Vec::new(),
        })
    })
    .await
}

#[cfg(feature = "ssr")]
fn parse_definition(text: &str) -> Result<WorkflowDefinition, AppError> {
    serde_json::from_str(text).map_err(|e| {
        AppError::invalid(
            "definition",
            format!("The definition is not a valid workflow: {e}."),
        )
    })
}

/// Every problem a save of this workflow would meet, without saving it. Problems are
/// the answer, not a refusal: an empty list means it would save.
#[server(prefix = "/api", endpoint = "workflows/check")]
pub async fn check_workflow(name: String, definition: String) -> Result<Vec<Problem>, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        principal()?;
        let definition = match parse_definition(&definition) {
            Ok(d) => d,
            Err(AppError::Validation { problems, .. }) => return Ok(problems),
            Err(other) => return Err(other),
        };
        let input = aura_engine::WorkflowInput {
            name,
            description: String::new(),
            definition,
            layout: None,
        };
        match services().workflows.check(&input).map_err(AppError::from) {
            Ok(()) => Ok(Vec::new()),
            Err(AppError::Validation { problems, .. }) => Ok(problems),
            Err(other) => Err(other),
        }
    })
    .await
}

/// Positions for every step of `definition` from the layered layout ("Tidy up").
#[server(prefix = "/api", endpoint = "workflows/tidy")]
pub async fn tidy_workflow(definition: String) -> Result<StepPositions, AppError> {
    use crate::server::{principal, respond, services};
    respond(async move {
        let principal = principal()?;
        Ok(services()
            .engine
            .tidy(&principal, parse_definition(&definition)?)
            .await?)
    })
    .await
}

#[component]
pub fn BuilderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let doc = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query
                    .read()
                    .get("version")
                    .and_then(|v| v.parse::<i64>().ok()),
            )
        },
        |(id, version)| open_workflow(id, version),
    );
    view! {
        <Title text="Workflow builder"/>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500" role="status">"Opening the workflow…"</p> }>
            {move || Suspend::new(async move {
                match doc.await {
                    // `Either`, not `into_any`: an erased view also carries async
                    // hydration for its whole tree, which costs WASM and is never used here.
                    Ok(doc) => Either::Left(view! { <Editor doc/> }),
                    Err(err) => Either::Right(view! {
                        <h1 class="text-2xl font-semibold">"Workflow"</h1>
                        <p role="alert" class="mt-4 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p>
                        <A href="/workflows" attr:class=format!("{SECONDARY_BUTTON_CLASS} mt-4")>"Back to workflows"</A>
                    }),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Canvas,
    Json,
    History,
}

/// A save refused because someone saved first: their version, and what each side
/// changed since the version this tab started from.
#[derive(Clone)]
struct Conflict {
    theirs: BuilderDoc,
    theirs_changed: StepDiff,
    mine_changed: StepDiff,
}

fn describe(d: &StepDiff) -> String {
    if d.is_empty() {
        return "only moved steps".into();
    }
    let mut parts = Vec::new();
    for (label, ids) in [
        ("added", &d.added),
        ("removed", &d.removed),
        ("changed", &d.changed),
    ] {
        if !ids.is_empty() {
            parts.push(format!("{label} {}", ids.join(", ")));
        }
    }
    parts.join("; ")
}

#[component]
fn Editor(doc: BuilderDoc) -> impl IntoView {
    let read_only = doc.read_only();
    let graph = Graph::from_definition(&doc.definition, &doc.positions);
    let b = Builder::new(graph.clone(), read_only);
    let base = StoredValue::new(graph);
    let schemas = StoredValue::new(doc.schemas.iter().cloned().collect::<HashMap<_, _>>());
    let wf_id = RwSignal::new(doc.id.clone());
    let version = RwSignal::new(doc.version);
    let current_version = doc.current_version;
    let description = StoredValue::new(doc.description.clone());
    let name = RwSignal::new(doc.name.clone());
    let saved_name = RwSignal::new(doc.name.clone());
    let dirty = Memo::new(move |_| b.is_dirty() || name.get() != saved_name.get());
    let tab = RwSignal::new(Tab::Canvas);
    let saving = RwSignal::new(false);
    let save_error = RwSignal::new(None::<String>);
    let conflict = RwSignal::new(None::<Conflict>);
    let toasts = use_toasts();
    let navigate = use_navigate();
    let watch = Watch::new();
    let comparison = RwSignal::new(None::<Comparison>);
    let marks = Signal::derive(move || {
        comparison.with(|c| c.as_ref().map(|c| c.marks.clone()).unwrap_or_default())
    });

    // The server's objections, asked for shortly after each pause in editing.
    let checks = StoredValue::new(0_u64);
    let check_now = move || {
        // The page may have gone (a new workflow's first save opens its own page).
        let Some(asked) = checks.try_update_value(|c| {
            *c += 1;
            *c
        }) else {
            return;
        };
        let definition = b
            .graph
            .with_value(|g| serde_json::to_string(&g.to_definition()).unwrap_or_default());
        let name = name.get_untracked();
        spawn_local(async move {
            let result = check_workflow(name, definition).await;
            if checks.try_get_value() != Some(asked) {
                return; // A newer check is on its way, or the page is gone.
            }
            match result {
                Ok(problems) => b.problems.set(problems),
                Err(err) => b.notice.set(Some(err.to_string())),
            }
        });
    };
    if !read_only {
        let timer = StoredValue::new(None::<TimeoutHandle>);
        Effect::new(move |_| {
            b.edits.track();
            name.track();
            if let Some(t) = timer.get_value() {
                t.clear();
            }
            timer.set_value(
                set_timeout_with_handle(check_now, std::time::Duration::from_millis(400)).ok(),
            );
        });
        on_cleanup(move || {
            if let Some(Some(t)) = timer.try_get_value() {
                t.clear();
            }
        });
    }

    let save = {
        let navigate = navigate.clone();
        move |expected: Option<i64>| {
            if saving.get_untracked() || read_only {
                return;
            }
            saving.set(true);
            save_error.set(None);
            let mark = b.edits.get_untracked();
            let (definition, layout, graph) = b.graph.with_value(|g| {
                (
                    serde_json::to_string(&g.to_definition()).unwrap_or_default(),
                    serde_json::to_string(&g.positions()).unwrap_or_default(),
                    g.clone(),
                )
            });
            let new_name = name.get_untracked();
            let id = wf_id.get_untracked();
            let navigate = navigate.clone();
            spawn_local(async move {
                let result = save_workflow(
                    id.clone(),
                    new_name.clone(),
                    description.get_value(),
                    definition,
                    expected,
                    Some(layout),
                )
                .await;
                if !b.alive() {
                    return;
                }
                saving.set(false);
                match result {
                    Ok(saved) => {
                        let made = saved.version != version.get_untracked();
                        b.saved_edit.set(mark);
                        saved_name.set(new_name);
                        version.set(saved.version);
                        base.set_value(graph);
                        conflict.set(None);
                        toasts.show(if made {
                            format!("Saved as version {}.", saved.version)
                        } else {
                            "Saved the layout.".to_owned()
                        });
                        if id.is_none() {
                            wf_id.set(Some(saved.id.clone()));
                            navigate(
                                &format!("/workflows/{}", saved.id),
                                leptos_router::NavigateOptions {
                                    replace: true,
                                    ..Default::default()
                                },
                            );
                        }
                    }
                    Err(AppError::Conflict { .. }) => {
                        let Some(id) = id else { return };
                        let theirs = open_workflow(id, None).await;
                        if !b.alive() {
                            return;
                        }
                        match theirs {
                            Ok(theirs) => {
                                let their_graph =
                                    Graph::from_definition(&theirs.definition, &theirs.positions);
                                let started = base.get_value();
                                let mine = b.graph.get_value();
                                conflict.set(Some(Conflict {
                                    theirs_changed: diff(&started, &their_graph),
                                    mine_changed: diff(&started, &mine),
                                    theirs,
                                }));
                            }
                            Err(err) => save_error.set(Some(err.to_string())),
                        }
                    }
                    Err(AppError::Validation { problems, fields }) => {
                        b.problems.set(problems);
                        save_error.set(Some(match fields.get("name") {
                            Some(m) => format!("Name: {m}"),
                            None => "Not saved: fix the problems listed below first.".to_owned(),
                        }));
                    }
                    Err(err) => save_error.set(Some(err.to_string())),
                }
            });
        }
    };
    let save_now = {
        let save = save.clone();
        move || {
            save(if wf_id.get_untracked().is_some() {
                Some(version.get_untracked())
            } else {
                None
            })
        }
    };

    // Ctrl/Cmd+S saves; Ctrl/Cmd+Z and Shift+Z (or Y) undo and redo, except in a text
    // field, which keeps its own undo.
    {
        let save_now = save_now.clone();
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if !(ev.ctrl_key() || ev.meta_key()) {
                return;
            }
            let key = ev.key().to_lowercase();
            if key == "s" {
                ev.prevent_default();
                save_now();
                return;
            }
            let in_text = document().active_element().is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
            if in_text || tab.get_untracked() != Tab::Canvas {
                return;
            }
            match (key.as_str(), ev.shift_key()) {
                ("z", false) => {
                    ev.prevent_default();
                    b.undo();
                }
                ("z", true) | ("y", false) => {
                    ev.prevent_default();
                    b.redo();
                }
                _ => {}
            }
        });
        on_cleanup(move || keys.remove());
    }
    #[cfg(feature = "hydrate")]
    {
        let guard = crate::projects::NavigationGuard::new(move || dirty.get_untracked());
        let guard = send_wrapper::SendWrapper::new(guard);
        on_cleanup(move || drop(guard));
    }

    let tidy = move |_| {
        let definition = b
            .graph
            .with_value(|g| serde_json::to_string(&g.to_definition()).unwrap_or_default());
        spawn_local(async move {
            let result = tidy_workflow(definition).await;
            if !b.alive() {
                return;
            }
            match result {
                Ok(positions) => {
                    b.edit(|g| {
                        g.place(&positions);
                        Ok(())
                    });
                    let view = b
                        .graph
                        .with_value(|g| View::fitting(g, b.size.get_untracked()));
                    b.view.set(view);
                }
                Err(err) => b.notice.set(Some(err.to_string())),
            }
        });
    };

    let status = move || {
        let v = version.get();
        let mut text = match (wf_id.get().is_some(), read_only) {
            (false, _) => "New workflow".to_owned(),
            (true, true) => format!("Version {v} (read-only)"),
            (true, false) => format!("Version {v}"),
        };
        if !read_only {
            text.push_str(if saving.get() {
                " · saving…"
            } else if dirty.get() {
                " · unsaved changes"
            } else {
                " · saved"
            });
        }
        text
    };

    let restore = {
        move |_| {
            // Saves the old version's graph as the newest one, then opens it.
            let id = wf_id.get_untracked();
            let (definition, layout) = b.graph.with_value(|g| {
                (
                    serde_json::to_string(&g.to_definition()).unwrap_or_default(),
                    serde_json::to_string(&g.positions()).unwrap_or_default(),
                )
            });
            let navigate = navigate.clone();
            let name = name.get_untracked();
            spawn_local(async move {
                let result = save_workflow(
                    id.clone(),
                    name,
                    description.get_value(),
                    definition,
                    Some(current_version),
                    Some(layout),
                )
                .await;
                match result {
                    Ok(saved) => {
                        toasts.show(format!("Restored as version {}.", saved.version));
                        navigate(&format!("/workflows/{}", saved.id), Default::default());
                    }
                    Err(err) => save_error.set(Some(err.to_string())),
                }
            });
        }
    };

    let json_text = RwSignal::new(String::new());
    let json_error = RwSignal::new(None::<String>);
    let open_json = move |_| {
        let text = b
            .graph
            .with_value(|g| serde_json::to_string_pretty(&g.to_definition()).unwrap_or_default());
        json_text.set(text);
        json_error.set(None);
        tab.set(Tab::Json);
    };
    let apply_json = move |_| {
        let text = json_text.get_untracked();
        match serde_json::from_str::<WorkflowDefinition>(&text) {
            Ok(definition) => {
                let mut positions = b.graph.with_value(Graph::positions);
                // Steps new to the canvas go in a row below the others.
                let below = b
                    .graph
                    .with_value(state::bounds)
                    .map(|(_, hi)| hi.y + 56.0)
                    .unwrap_or(40.0);
                let mut x = 40.0;
                for step in &definition.steps {
                    positions.entry(step.id.clone()).or_insert_with(|| {
                        let at = [x, below];
                        x += aura_types::NODE_WIDTH + 24.0;
                        at
                    });
                }
                b.replace_all(Graph::from_definition(&definition, &positions));
                json_error.set(None);
                tab.set(Tab::Canvas);
            }
            Err(err) => json_error.set(Some(format!("Not applied: {err}."))),
        }
    };

    let tab_class = move |t: Tab| {
        if tab.get() == t {
            "border-b-2 border-indigo-600 px-3 py-2 text-sm font-semibold text-indigo-700 dark:text-indigo-300"
        } else {
            "border-b-2 border-transparent px-3 py-2 text-sm text-slate-600 hover:text-slate-900 dark:text-slate-400"
        }
    };
    let save_click = {
        let save_now = save_now.clone();
        move |_| save_now()
    };

    view! {
        <div class="flex flex-wrap items-center gap-3">
            <A href="/workflows" attr:class="text-sm text-slate-500 hover:text-slate-800 dark:hover:text-slate-200">"← Workflows"</A>
            <label for="workflow-name" class="sr-only">"Workflow name"</label>
            <input id="workflow-name" class="min-w-0 flex-1 rounded-md border border-transparent bg-transparent px-2 py-1 text-2xl font-semibold hover:border-slate-300 focus:border-indigo-500 focus:outline-none dark:hover:border-slate-600"
                placeholder="Name this workflow" prop:value=move || name.get() value=doc.name.clone() readonly=read_only
                on:input=move |ev| name.set(event_target_value(&ev))/>
            <span class="text-sm text-slate-500" data-testid="builder-status" aria-live="polite">{status}</span>
        </div>
        {read_only.then(|| {
            let id = doc.id.clone().unwrap_or_default();
            view! {
                <div class="mt-3 flex flex-wrap items-center gap-3 rounded-md border border-amber-300 bg-amber-50 px-4 py-2 text-sm dark:border-amber-800 dark:bg-amber-950" role="note">
                    <span>{format!("You are looking at version {} of {}; the workflow is at version {current_version}.", doc.version, doc.version.max(current_version))}</span>
                    <A href=format!("/workflows/{id}") attr:class=SECONDARY_BUTTON_CLASS>"Open the current version"</A>
                    <button type="button" class=BUTTON_CLASS on:click=restore>{format!("Restore version {} as version {}", doc.version, current_version + 1)}</button>
                </div>
            }
        })}
        <div class="mt-3 flex flex-wrap items-center gap-2">
            <div role="tablist" aria-label="Views" class="flex">
                <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Canvas).to_string() class=move || tab_class(Tab::Canvas)
                    on:click=move |_| tab.set(Tab::Canvas)>"Canvas"</button>
                <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::Json).to_string() class=move || tab_class(Tab::Json)
                    on:click=open_json>"Edit as JSON"</button>
                {doc.id.is_some().then(|| view! {
                    <button type="button" role="tab" aria-selected=move || (tab.get() == Tab::History).to_string() class=move || tab_class(Tab::History)
                        on:click=move |_| tab.set(Tab::History)>"History"</button>
                })}
            </div>
            {doc.id.clone().map(|id| view! {
                <A href=format!("/workflows/{id}/triggers") attr:class="px-3 py-2 text-sm text-indigo-600 hover:underline dark:text-indigo-400">"Webhooks and schedules"</A>
            })}
            {(!read_only).then(|| view! {
                <div class="ml-auto flex flex-wrap items-center gap-2">
                    <button type="button" class=SECONDARY_BUTTON_CLASS disabled=move || !b.can_undo.get() title="Undo (Ctrl+Z)" on:click=move |_| b.undo()>"Undo"</button>
                    <button type="button" class=SECONDARY_BUTTON_CLASS disabled=move || !b.can_redo.get() title="Redo (Ctrl+Shift+Z)" on:click=move |_| b.redo()>"Redo"</button>
                    <button type="button" class=SECONDARY_BUTTON_CLASS title="Lay the steps out again" on:click=tidy>"Tidy up"</button>
                    <button type="button" class=BUTTON_CLASS disabled=move || saving.get() title="Save (Ctrl+S)" on:click=save_click>"Save"</button>
                </div>
            })}
        </div>
        {(!read_only).then(|| view! { <RunBar b watch workflow=wf_id dirty version/> })}
        <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400" data-testid="save-error">{move || save_error.get()}</p>
        {move || conflict.get().map(|c| {
            let theirs_version = c.theirs.version;
            let save = save.clone();
            let take = c.theirs.clone();
            view! {
                <div role="alertdialog" aria-labelledby="conflict-title" class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-4 text-sm dark:border-amber-800 dark:bg-amber-950" data-testid="conflict">
                    <h2 id="conflict-title" class="font-semibold">{format!("Version {theirs_version} was saved while you were editing version {}.", version.get_untracked())}</h2>
                    <p class="mt-1">{format!("That version {}.", describe(&c.theirs_changed))}</p>
                    <p>{format!("You {}.", describe(&c.mine_changed))}</p>
                    <div class="mt-3 flex flex-wrap gap-2">
                        <button type="button" class=BUTTON_CLASS on:click=move |_| save(Some(theirs_version))>{format!("Save mine as version {}", theirs_version + 1)}</button>
                        <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| {
                            let g = Graph::from_definition(&take.definition, &take.positions);
                            b.replace_all(g.clone());
                            base.set_value(g);
                            name.set(take.name.clone());
                            saved_name.set(take.name.clone());
                            version.set(take.version);
                            b.saved_edit.set(b.edits.get_untracked());
                            conflict.set(None);
                        }>{format!("Discard mine and open version {theirs_version}")}</button>
                        <button type="button" class=SECONDARY_BUTTON_CLASS on:click=move |_| conflict.set(None)>"Keep editing"</button>
                    </div>
                    <p class="mt-2 text-xs text-slate-600 dark:text-slate-400">{format!("Saving yours keeps version {theirs_version} in the history, where it can be restored.")}</p>
                </div>
            }
        })}
        <p class="sr-only" aria-live="polite" data-testid="canvas-notice">{move || b.notice.get()}</p>
        {move || b.notice.get().map(|n| view! {
            <p class="mt-2 rounded-md bg-slate-100 px-3 py-1.5 text-sm text-slate-700 dark:bg-slate-800 dark:text-slate-200" aria-hidden="true">{n}</p>
        })}
        {doc.id.clone().map(|workflow| view! {
            <Show when=move || tab.get() == Tab::History>
                <History b workflow=workflow.clone() shown=doc.version comparison on_compared=Callback::new(move |_| tab.set(Tab::Canvas))/>
            </Show>
        })}
        {move || comparison.get().map(|c| view! {
            <p class="mt-2 flex flex-wrap items-center gap-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-1.5 text-sm dark:border-sky-900 dark:bg-sky-950" data-testid="comparison" role="status">
                <span>{c.summary()}</span>
                <span class="text-xs text-slate-500">"Added steps are ringed green, changed ones amber."</span>
                <button type="button" class="text-sm text-indigo-700 hover:underline dark:text-indigo-300" on:click=move |_| comparison.set(None)>"Clear the comparison"</button>
            </p>
        })}
        <div class="mt-3" class:hidden=move || tab.get() != Tab::Json>
            <label for="workflow-json" class="block text-sm font-medium">"Workflow definition (JSON)"</label>
            <textarea id="workflow-json" rows="24" spellcheck="false" readonly=read_only aria-describedby="workflow-json-error"
                class="mt-1 block w-full rounded-md border border-slate-300 bg-white p-3 font-mono text-sm dark:border-slate-600 dark:bg-slate-900"
                prop:value=move || json_text.get() on:input=move |ev| json_text.set(event_target_value(&ev))></textarea>
            <p id="workflow-json-error" role="alert" class="mt-1 text-sm text-red-600 dark:text-red-400">{move || json_error.get()}</p>
            {(!read_only).then(|| view! {
                <button type="button" class=format!("{BUTTON_CLASS} mt-2") on:click=apply_json>"Apply JSON"</button>
            })}
        </div>
        <div class="mt-3 grid gap-3 lg:grid-cols-[9rem_minmax(0,1fr)_18rem]" class:hidden=move || tab.get() != Tab::Canvas>
            {if read_only { Either::Left(view! { <div></div> }) } else { Either::Right(view! { <Palette b/> }) }}
            <div>
                <Canvas b statuses=watch.statuses() marks/>
                <Problems b/>
            </div>
            <StepPanel b schemas steps=watch.steps()/>
        </div>
    }
}

/// A run's workflow version on the read-only canvas, each step showing its status in
/// the run. Loaded once per run; `statuses` follow the run as it moves.
#[component]
pub fn RunCanvas(run: String, statuses: Signal<HashMap<String, String>>) -> impl IntoView {
    let doc = Resource::new(move || run.clone(), run_drawing);
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Drawing the workflow…"</p> }>
            {move || Suspend::new(async move {
                match doc.await {
                    Ok(doc) => {
                        let b = Builder::new(Graph::from_definition(&doc.definition, &doc.positions), true);
                        Either::Left(view! {
                            <section class="mt-6" aria-label="Workflow graph" data-testid="run-graph">
                                <Canvas b statuses/>
                            </section>
                        })
                    }
                    Err(err) => Either::Right(view! { <p class="mt-6 text-sm text-slate-500">{format!("The workflow cannot be drawn: {err}")}</p> }),
                }
            })}
        </Suspense>
    }
}

/// The step types: drag one onto the canvas, or press one to add it after the selected
/// step.
#[component]
fn Palette(b: Builder) -> impl IntoView {
    let add = move |kind: StepKind| {
        let after = b.single();
        if let Some(id) = b.edit(|g| Ok(g.append(kind, after.as_deref()))) {
            b.select([id.clone()]);
            focus_node(id);
        }
    };
    view! {
        <nav aria-label="Step types" class="flex flex-col gap-2">
            <p class="text-xs text-slate-500">"Drag onto the canvas, or press to add after the selected step."</p>
            {StepKind::ALL.iter().map(|kind| {
                let kind = *kind;
                view! {
                    <button type="button" draggable="true" class="rounded-md border border-slate-300 bg-white px-3 py-2 text-left text-sm hover:border-indigo-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-900"
                        aria-label=format!("Add {} {} step", article(kind), step_label(kind))
                        on:dragstart=move |ev: leptos::ev::DragEvent| {
                            if let Some(data) = ev.data_transfer() {
                                let _ = data.set_data(STEP_DRAG_TYPE, kind.as_str());
                                data.set_effect_allowed("copy");
                            }
                        }
                        on:click=move |_| add(kind)>
                        {step_label(kind)}
                    </button>
                }
            }).collect_view()}
        </nav>
    }
}

fn article(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Llm | StepKind::Http | StepKind::Approval => "an",
        _ => "a",
    }
}

/// Moves keyboard focus to a step's node once it is on screen.
fn focus_node(id: String) {
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = document()
            .query_selector(&format!("[data-node={id}]"))
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let options = leptos::web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = el.focus_with_options(&options);
        }
    });
}

/// The server's problems with the workflow; each step's problem selects that step.
#[component]
fn Problems(b: Builder) -> impl IntoView {
    view! {
        <section class="mt-3" aria-labelledby="problems-title">
            <h2 id="problems-title" class="text-sm font-semibold">
                {move || match b.problems.with(Vec::len) {
                    0 => "No problems".to_owned(),
                    1 => "1 problem".to_owned(),
                    n => format!("{n} problems"),
                }}
            </h2>
            <ul class="mt-1 max-h-40 space-y-1 overflow-auto text-sm" data-testid="problems">
                {move || b.problems.get().into_iter().map(|p: Problem| {
                    let text = format!("{}: {}", p.field, p.message);
                    match p.step {
                        Some(step) => Either::Left(view! {
                            <li>
                                <button type="button" class="text-left text-red-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-red-300"
                                    on:click={
                                        let step = step.clone();
                                        move |_| { b.select([step.clone()]); focus_node(step.clone()); }
                                    }>
                                    <span class="font-mono">{step.clone()}</span>{format!(" — {text}")}
                                </button>
                            </li>
                        }),
                        None => Either::Right(view! { <li class="text-red-700 dark:text-red-300">{text}</li> }),
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
