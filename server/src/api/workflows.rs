//! `/api/v1/workflows`: create, update (a new version), list, get and delete workflows,
//! and read their versions.

use super::{ApiResult, Signed, bad_body, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_engine::{WorkflowDefinition, WorkflowInput};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workflows", get(list).post(create))
        .route("/workflows/{id}", get(show).put(update).delete(remove))
        .route("/workflows/{id}/versions", get(versions))
        .route("/workflows/{id}/versions/{version}", get(version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowBody {
    name: String,
    #[serde(default)]
    description: String,
    definition: WorkflowDefinition,
    /// The version the client edited; a newer saved version makes the save a 409.
    #[serde(default)]
    expected_version: Option<i64>,
}

impl WorkflowBody {
    fn into_input(self) -> (WorkflowInput, Option<i64>) {
        let input = WorkflowInput {
            name: self.name,
            description: self.description,
            definition: self.definition,
        };
        (input, self.expected_version)
    }
}

#[derive(Debug, Serialize)]
struct WorkflowView {
    id: String,
    name: String,
    description: String,
    current_version: i64,
    created_at: i64,
    updated_at: i64,
    definition: serde_json::Value,
}

impl From<aura_store::Workflow> for WorkflowView {
    fn from(w: aura_store::Workflow) -> Self {
        WorkflowView {
            definition: serde_json::from_str(&w.definition).unwrap_or(serde_json::Value::Null),
            id: w.id,
            name: w.name,
            description: w.description,
            current_version: w.current_version,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

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

async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
) -> ApiResult {
    let workflow = state
        .services
        .workflows
        .get(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, WorkflowView::from(workflow)))
}

async fn update(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
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

async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
) -> ApiResult {
    state
        .services
        .workflows
        .delete(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        serde_json::json!({ "deleted": id }),
    ))
}

#[derive(Debug, Serialize)]
struct VersionView {
    version: i64,
    created_by: Option<String>,
    created_at: i64,
    definition: serde_json::Value,
}

impl From<aura_store::WorkflowVersion> for VersionView {
    fn from(v: aura_store::WorkflowVersion) -> Self {
        VersionView {
            definition: serde_json::from_str(&v.definition).unwrap_or(serde_json::Value::Null),
            version: v.version,
            created_by: v.created_by,
            created_at: v.created_at,
        }
    }
}

async fn versions(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path(id): Path<String>,
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

async fn version(
    State(state): State<AppState>,
    Signed(principal): Signed,
    Path((id, version)): Path<(String, i64)>,
) -> ApiResult {
    let (row, _) = state
        .services
        .workflows
        .version(&principal, &id, version)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, VersionView::from(row)))
}
