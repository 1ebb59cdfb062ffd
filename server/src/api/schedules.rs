//! `/api/v1/workflows/{id}/schedules`, `/api/v1/schedules/{id}` and
//! `/api/v1/schedules/preview`: a workflow's schedules, and what a rule would do before
//! it is saved (its words and next fire times).

use super::{ApiPath, ApiResult, Data, Deleted, Signed, bad_body, respond};
use crate::AppState;
use aura_app::server::ErrorBody;
use aura_triggers::{Preview, Schedule, ScheduleSpec};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(preview))
        .routes(routes!(show, update, remove))
}

/// A workflow's schedules, oldest first, each with its next fires and last run.
#[utoipa::path(get, operation_id = "schedules.list", path = "/workflows/{id}/schedules", tag = "schedules", params(("id" = String, Path, description = "The workflow")),
    responses((status = 200, description = "The workflow's schedules", body = Data<Vec<Schedule>>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let schedules = state.services.schedules.list(&principal, &id).await?;
    Ok(respond(StatusCode::OK, schedules))
}

/// Makes a schedule; it fires from its next time on.
#[utoipa::path(post, operation_id = "schedules.create", path = "/workflows/{id}/schedules", tag = "schedules", params(("id" = String, Path, description = "The workflow")), request_body = ScheduleSpec,
    responses((status = 201, description = "Made", body = Data<Schedule>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody),
        (status = 422, description = "A bad rule, zone, input or setting, under its field", body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<ScheduleSpec>, JsonRejection>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let schedule = state
        .services
        .schedules
        .create(&principal, &id, spec)
        .await?;
    Ok(respond(StatusCode::CREATED, schedule))
}

/// What a schedule would do: its rule in words and its next five fires. Saves nothing.
#[utoipa::path(post, operation_id = "schedules.preview", path = "/schedules/preview", tag = "schedules", request_body = ScheduleSpec,
    responses((status = 200, description = "The rule in words and its next fires", body = Data<Preview>),
        (status = 422, description = "A bad rule or zone, under its field", body = ErrorBody)))]
async fn preview(
    State(state): State<AppState>,
    Signed(_principal): Signed,
    body: Result<Json<ScheduleSpec>, JsonRejection>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let preview = state
        .services
        .schedules
        .preview(&spec, aura_store::now_millis())?;
    Ok(respond(StatusCode::OK, preview))
}

/// One schedule.
#[utoipa::path(get, operation_id = "schedules.show", path = "/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, description = "The schedule", body = Data<Schedule>),
        (status = 404, description = "No such schedule of yours", body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let schedule = state.services.schedules.get(&principal, &id).await?;
    Ok(respond(StatusCode::OK, schedule))
}

/// Replaces a schedule's settings; its next fire is computed again from now.
#[utoipa::path(put, operation_id = "schedules.update", path = "/schedules/{id}", tag = "schedules", params(("id" = String, Path)), request_body = ScheduleSpec,
    responses((status = 200, description = "Saved", body = Data<Schedule>),
        (status = 404, description = "No such schedule of yours", body = ErrorBody),
        (status = 422, description = "A bad rule, zone, input or setting, under its field", body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<ScheduleSpec>, JsonRejection>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let schedule = state
        .services
        .schedules
        .update(&principal, &id, spec)
        .await?;
    Ok(respond(StatusCode::OK, schedule))
}

/// Deletes a schedule; its runs stay.
#[utoipa::path(delete, operation_id = "schedules.remove", path = "/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Data<Deleted>),
        (status = 404, description = "No such schedule of yours", body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state.services.schedules.delete(&principal, &id).await?;
    Ok(respond(StatusCode::OK, Deleted { deleted: id }))
}
