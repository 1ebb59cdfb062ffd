//! The Workflows page (the caller's workflows, each opening in the builder) and the
//! builder itself (`builder`, editing the document in `graph`). The server functions
//! here list, read, save and delete workflows for pages outside the builder.

mod builder;
pub mod graph;
mod triggers;

pub use builder::{BuilderPage, RunCanvas};
pub use triggers::TriggersPage;

use crate::error::AppError;
use crate::shell::form::{BUTTON_CLASS, SECONDARY_BUTTON_CLASS};
use leptos::either::EitherOf3;
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
    /// Who saved it.
    pub by: String,
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
                by: v
                    .created_by_name
                    .unwrap_or_else(|| "a deleted account".to_owned()),
                definition: pretty(&v.definition),
            })
            .collect())
    })
    .await
}

/// What a save made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedWorkflow {
    pub id: String,
    pub version: i64,
}

/// Creates a workflow (empty `id`) or saves a new version of one, with where the builder
/// drew its steps (`layout`, JSON `{"step": [x, y]}`). `expected_version` is the version
/// the builder loaded; a newer save makes this a conflict, never an overwrite. A save
/// that only moves steps keeps the version.
#[server(prefix = "/api", endpoint = "workflows/save")]
pub async fn save_workflow(
    id: Option<String>,
    name: String,
    description: String,
    definition: String,
    expected_version: Option<i64>,
    #[server(default)] layout: Option<String>,
) -> Result<SavedWorkflow, AppError> {
    use crate::server::{principal, respond};
    respond(async move {
        let principal = principal()?;
        let definition = serde_json::from_str(&definition).map_err(|e| {
            AppError::invalid(
                "definition",
                format!("The definition is not a valid workflow: {e}."),
            )
        })?;
        let layout = layout
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(&l))
            .transpose()
            .map_err(|e| {
                AppError::invalid("layout", format!("The step positions are not valid: {e}."))
            })?;
        let input = aura_engine::WorkflowInput {
            name,
            description,
            definition,
            layout,
        };
        let services = crate::server::services();
        let saved = match id.filter(|id| !id.is_empty()) {
            None => services.workflows.create(&principal, &input).await?,
            Some(id) => {
                services
                    .workflows
                    .update(&principal, &id, &input, expected_version)
                    .await?
            }
        };
        Ok(SavedWorkflow {
            id: saved.id,
            version: saved.current_version,
        })
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

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let remove = ServerAction::<DeleteWorkflow>::new();
    let list = Resource::new(move || remove.version().get(), |_| list_workflows());
    view! {
        <Title text="Workflows"/>
        <div class="flex flex-wrap items-center justify-between gap-3">
            <div>
                <h1 class="text-2xl font-semibold">"Workflows"</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Every save is a new version; runs keep the version they started with."</p>
            </div>
            <A href="/workflows/new" attr:class=BUTTON_CLASS>"New workflow"</A>
        </div>
        <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading workflows…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => EitherOf3::A(view! {
                        <p class=PANEL data-testid="workflows-empty">"No workflows yet. Press “New workflow” to draw the first one."</p>
                    }),
                    Ok(rows) => EitherOf3::B(view! {
                        <ul class=format!("{PANEL} divide-y divide-slate-100 dark:divide-slate-800") aria-label="Workflows">
                            {rows.into_iter().map(|w| {
                                let title = w.name.clone();
                                view! {
                                <li class="flex flex-wrap items-center justify-between gap-3 py-3">
                                    <div>
                                        <A href=format!("/workflows/{}", w.id) attr:class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{title}</A>
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
                            }}).collect_view()}
                        </ul>
                    }),
                    Err(err) => EitherOf3::C(view! { <p role="alert" class="mt-6 text-sm text-red-600 dark:text-red-400">{err.to_string()}</p> }),
                }
            })}
        </Transition>
    }
}
