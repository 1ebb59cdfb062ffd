//! `/api/v1/workflows`: create, update (a new version), list, get and delete workflows,
//! and read their versions.

use super::{ApiPath, ApiResult, Data, Deleted, Signed, bad_body, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::ErrorBody;
use aura_engine::{WorkflowDefinition, WorkflowInput};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(versions))
        .routes(routes!(version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WorkflowBody {
    name: String,
    #[serde(default)]
    description: String,
    /// `{steps: [{id, type, config, next?, retry?, timeout_ms?}]}`; see the README.
    #[schema(value_type = Object)]
    definition: WorkflowDefinition,
    /// The version the client edited; a newer saved version makes the save a 409.
    #[serde(default)]
    expected_version: Option<i64>,
    /// Where the builder draws each step: `{"step id": [x, y]}`. A save that changes only
    /// this rewrites the current version's positions and makes no new version.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    layout: Option<aura_types::StepPositions>,
}

impl WorkflowBody {
    fn into_input(self) -> (WorkflowInput, Option<i64>) {
        let input = WorkflowInput {
            name: self.name,
            description: self.description,
            definition: self.definition,
            layout: self.layout,
        };
        (input, self.expected_version)
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct WorkflowView {
    id: String,
    name: String,
    description: String,
    current_version: i64,
    created_at: i64,
    updated_at: i64,
    #[schema(value_type = Object)]
    definition: serde_json::Value,
    /// Where the builder draws each step, when it has been saved.
    #[schema(value_type = Option<Object>)]
    layout: Option<serde_json::Value>,
}

impl From<aura_store::Workflow> for WorkflowView {
    fn from(w: aura_store::Workflow) -> Self {
        WorkflowView {
            definition: serde_json::from_str(&w.definition).unwrap_or(serde_json::Value::Null),
            layout: w
                .layout
                .as_deref()
                .and_then(|l| serde_json::from_str(l).ok()),
            id: w.id,
            name: w.name,
            description: w.description,
            current_version: w.current_version,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// Your workflows, most recently changed first.
#[utoipa::path(get, operation_id = "workflows.list", path = "/workflows", tag = "workflows",
    responses((status = 200, description = "Your workflows", body = Data<Vec<WorkflowView>>)))]
async fn list(State(state): State<AppState>, Signed(principal): Signed) -> ApiResult {
    let items = state
        .services
        .workflows
        .list(&principal)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        items
            .into_iter()
            .map(WorkflowView::from)
            .collect::<Vec<_>>(),
    ))
}

/// Creates a workflow at version 1.
#[utoipa::path(post, operation_id = "workflows.create", path = "/workflows", tag = "workflows", request_body = WorkflowBody,
    responses(
        (status = 201, description = "Created", body = Data<WorkflowView>),
        (status = 422, description = "Every problem of the definition, each with its step and field", body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    Signed(principal): Signed,
    body: Result<Json<WorkflowBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let (input, _) = body.into_input();
    let created = state
        .services
        .workflows
        .create(&principal, &input)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::CREATED, WorkflowView::from(created)))
}

/// One workflow with its current definition.
#[utoipa::path(get, operation_id = "workflows.show", path = "/workflows/{id}", tag = "workflows", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The workflow", body = Data<WorkflowView>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let workflow = state
        .services
        .workflows
        .get(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, WorkflowView::from(workflow)))
}

/// Saves a new version; with `expected_version`, a newer save makes this a 409.
#[utoipa::path(put, operation_id = "workflows.update", path = "/workflows/{id}", tag = "workflows", params(("id" = String, Path)), request_body = WorkflowBody,
    responses(
        (status = 200, description = "Saved as the next version", body = Data<WorkflowView>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody),
        (status = 409, description = "A newer version was saved (`conflict`)", body = ErrorBody),
        (status = 422, description = "Problems of the definition", body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<WorkflowBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let (input, expected) = body.into_input();
    let updated = state
        .services
        .workflows
        .update(&principal, &id, &input, expected)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, WorkflowView::from(updated)))
}

/// Hides the workflow; its versions stay readable for past runs.
#[utoipa::path(delete, operation_id = "workflows.remove", path = "/workflows/{id}", tag = "workflows", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Data<Deleted>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state
        .services
        .workflows
        .delete(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, Deleted { deleted: id }))
}

#[derive(Debug, Serialize, ToSchema)]
struct VersionView {
    version: i64,
    created_by: Option<String>,
    created_at: i64,
    #[schema(value_type = Object)]
    definition: serde_json::Value,
    /// Where the builder draws each step, when it has been saved.
    #[schema(value_type = Option<Object>)]
    layout: Option<serde_json::Value>,
}

impl From<aura_store::WorkflowVersion> for VersionView {
    fn from(v: aura_store::WorkflowVersion) -> Self {
        VersionView {
            definition: serde_json::from_str(&v.definition).unwrap_or(serde_json::Value::Null),
            layout: v
                .layout
                .as_deref()
                .and_then(|l| serde_json::from_str(l).ok()),
            version: v.version,
            created_by: v.created_by,
            created_at: v.created_at,
        }
    }
}

/// Every version, newest first.
#[utoipa::path(get, operation_id = "workflows.versions", path = "/workflows/{id}/versions", tag = "workflows", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The versions", body = Data<Vec<VersionView>>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody)))]
async fn versions(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let all = state
        .services
        .workflows
        .versions(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        all.into_iter().map(VersionView::from).collect::<Vec<_>>(),
    ))
}

/// One version.
#[utoipa::path(get, operation_id = "workflows.version", path = "/workflows/{id}/versions/{version}", tag = "workflows",
    params(("id" = String, Path), ("version" = i64, Path)),
    responses(
        (status = 200, description = "The version", body = Data<VersionView>),
        (status = 404, description = "No such version", body = ErrorBody)))]
async fn version(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, version)): ApiPath<(String, i64)>,
) -> ApiResult {
    let (row, _) = state
        .services
        .workflows
        .version(&principal, &id, version)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, VersionView::from(row)))
}
