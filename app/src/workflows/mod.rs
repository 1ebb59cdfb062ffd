//! The Workflows page: the caller's workflows, and a form that saves a definition (JSON)
//! as a new workflow. The visual builder replaces the JSON form later; the server
//! functions here (list, get, versions, save with optimistic concurrency, delete) are the
//! ones it will call.

pub mod graph;

use crate::error::AppError;
use crate::shell::form::{
    BUTTON_CLASS, FormAlert, INPUT_CLASS, SECONDARY_BUTTON_CLASS, action_error,
};
use crate::shell::toast::use_toasts;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: i64,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowDetail {
    pub row: WorkflowRow,
    /// The current definition, pretty-printed JSON.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: i64,
    pub saved: String,
    pub definition: String,
}

#[cfg(feature = "ssr")]
fn row(w: &aura_store::Workflow) -> WorkflowRow {
    WorkflowRow {
        id: w.id.clone(),
        name: w.name.clone(),
        description: w.description.clone(),
        version: w.current_version,
        updated: crate::server::format_millis(w.updated_at),
    }
}

#[cfg(feature = "ssr")]
fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_owned())
}

#[server(prefix = "/api", endpoint = "workflows/list")]
pub async fn list_workflows() -> Result<Vec<WorkflowRow>, AppError> {
    use crate::server::{principal, respond};
    respond(async move {
        let principal = principal()?;
        Ok(crate::server::services()
            .workflows
            .list(&principal)
            .await?
            .iter()
            .map(row)
            .collect())
    })
    .await
}

#[server(prefix = "/api", endpoint = "workflows/get")]
pub async fn get_workflow(id: String) -> Result<WorkflowDetail, AppError> {
    use crate::server::{principal, respond};
    respond(async move {
        let principal = principal()?;
        let w = crate::server::services()
            .workflows
            .get(&principal, &id)
            .await?;
        Ok(WorkflowDetail {
            row: row(&w),
            definition: pretty(&w.definition),
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "workflows/versions")]
pub async fn workflow_versions(id: String) -> Result<Vec<VersionRow>, AppError> {
    use crate::server::{principal, respond};
    respond(async move {
        let principal = principal()?;
        let versions = crate::server::services()
            .workflows
            .versions(&principal, &id)
            .await?;
        Ok(versions
            .into_iter()
            .map(|v| VersionRow {
                version: v.version,
                saved: crate::server::format_millis(v.created_at),
                definition: pretty(&v.definition),
            })
            .collect())
    })
    .await
}

/// Creates a workflow (empty `id`) or saves a new version of one. `expected_version` is
/// the version the form was loaded from; a newer save makes this a conflict, never an
/// overwrite.
#[server(prefix = "/api", endpoint = "workflows/save")]
pub async fn save_workflow(
    id: Option<String>,
    name: String,
    description: String,
    definition: String,
    expected_version: Option<i64>,
) -> Result<String, AppError> {
    use crate::server::{principal, respond};
    respond(async move {
        let principal = principal()?;
        let definition = serde_json::from_str(&definition).map_err(|e| {
            AppError::invalid(
                "definition",
                format!("The definition is not a valid workflow: {e}."),
            )
        })?;
        let input = aura_engine::WorkflowInput {
            name,
            description,
            definition,
            layout: None,
        };
        let saved = match id.filter(|id| !id.is_empty()) {
            None => {
                crate::server::services()
                    .workflows
                    .create(&principal, &input)
                    .await?
            }
            Some(id) => {
                crate::server::services()
                    .workflows
                    .update(&principal, &id, &input, expected_version)
                    .await?
            }
        };
        Ok(saved.id)
    })
    .await
}

#[server(prefix = "/api", endpoint = "workflows/delete")]
pub async fn delete_workflow(id: String) -> Result<(), AppError> {
    use crate::server::{principal, respond};
    respond(async move {
        let principal = principal()?;
        Ok(crate::server::services()
            .workflows
            .delete(&principal, &id)
            .await?)
    })
    .await
}

const PANEL: &str =
    "mt-6 rounded-xl border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900";

const EXAMPLE: &str = r#"{
  "steps": [
    { "id": "greet", "type": "template",
      "config": { "template": "Hello {{ input.name }}" } }
  ]
}"#;

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let save = ServerAction::<SaveWorkflow>::new();
    let remove = ServerAction::<DeleteWorkflow>::new();
    let error = action_error(save);
    let toasts = use_toasts();
    let list = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| list_workflows(),
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            toasts.show("Workflow saved.");
        }
    });
    let field = move |name: &'static str| move || error.get().and_then(|e| e.field(name));
    view! {
        <Title text="Workflows"/>
        <h1 class="text-2xl font-semibold">"Workflows"</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Every save is a new version; runs keep the version they started with."</p>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading workflows…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class=PANEL data-testid="workflows-empty">"No workflows yet. Create the first one below."</p>
                    }.into_any(),
                    Ok(rows) => view! {
                        <ul class=format!("{PANEL} divide-y divide-slate-100 dark:divide-slate-800") aria-label="Workflows">
                            {rows.into_iter().map(|w| view! {
                                <li class="flex flex-wrap items-center justify-between gap-3 py-3">
                                    <div>
                                        <p class="font-medium">{w.name.clone()}</p>
                                        <p class="text-xs text-slate-500">{format!("Version {} · saved {}", w.version, w.updated)}</p>
                                    </div>
                                    <div class="flex items-center gap-2">
                                        <A href="/runs" attr:class=SECONDARY_BUTTON_CLASS>"Run…"</A>
                                        <ActionForm action=remove>
                                            <input type="hidden" name="id" value=w.id.clone()/>
                                            <button type="submit" class=SECONDARY_BUTTON_CLASS aria-label=format!("Delete {}", w.name)>"Delete"</button>
                                        </ActionForm>
                                    </div>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <section class=PANEL aria-labelledby="new-workflow">
            <h2 id="new-workflow" class="text-lg font-semibold">"New workflow"</h2>
            <ActionForm action=save>
                <div class="mt-4 grid gap-4">
                    <div>
                        <label for="wf-name" class="block text-sm font-medium">"Name"</label>
                        <input id="wf-name" name="name" class=INPUT_CLASS required=true aria-describedby="wf-name-error"/>
                        <p id="wf-name-error" class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">{field("name")}</p>
                    </div>
                    <input type="hidden" name="description" value=""/>
                    <div>
                        <label for="wf-definition" class="block text-sm font-medium">"Definition (JSON)"</label>
                        <textarea id="wf-definition" name="definition" rows="8" class=format!("{INPUT_CLASS} font-mono") aria-describedby="wf-definition-error">{EXAMPLE}</textarea>
                        <p id="wf-definition-error" class="mt-1 whitespace-pre-line text-sm text-red-600 dark:text-red-400" role="alert">{field("definition")}</p>
                    </div>
                </div>
                <div class="mt-4 flex items-center gap-3">
                    <FormAlert error/>
                    <button type="submit" class=BUTTON_CLASS disabled=move || save.pending().get()>"Save workflow"</button>
                </div>
            </ActionForm>
        </section>
    }
}
