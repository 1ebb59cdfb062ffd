//! `/api/v1/secrets`: the caller's workflow secrets. Values go in and never come out.

use super::{ApiPath, ApiResult, Data, Deleted, Signed, bad_body, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::ErrorBody;
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
        .routes(routes!(list))
        .routes(routes!(set, remove))
}

/// A secret: its name, never its value.
#[derive(Debug, Serialize, ToSchema)]
struct SecretView {
    /// Templates read it as `{{ secrets.NAME }}`.
    name: String,
    updated_at: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SecretBody {
    /// 4 to 16384 bytes; masked in every log, output, event and error of your runs.
    value: String,
}

/// Your secrets' names.
#[utoipa::path(get, operation_id = "secrets.list", path = "/secrets", tag = "secrets",
    responses((status = 200, description = "Your secrets", body = Data<Vec<SecretView>>)))]
async fn list(State(state): State<AppState>, Signed(principal): Signed) -> ApiResult {
    let engine = &state.services.engine;
    let secrets = engine
        .secrets()
        .ok_or(AppError::NotFound)?
        .list(&principal)
        .await?;
    Ok(respond(
        StatusCode::OK,
        secrets
            .into_iter()
            .map(|s| SecretView {
                name: s.name,
                updated_at: s.updated_at,
            })
            .collect::<Vec<_>>(),
    ))
}

/// Creates or replaces a secret.
#[utoipa::path(put, operation_id = "secrets.set", path = "/secrets/{name}", tag = "secrets", params(("name" = String, Path)), request_body = SecretBody,
    responses((status = 200, description = "Saved", body = Data<SecretView>),
        (status = 422, description = "A bad name or value", body = ErrorBody)))]
async fn set(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(name): ApiPath<String>,
    body: Result<Json<SecretBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let saved = state
        .services
        .engine
        .secrets()
        .ok_or(AppError::NotFound)?
        .set(&principal, &name, &body.value)
        .await?;
    Ok(respond(
        StatusCode::OK,
        SecretView {
            name: saved.name,
            updated_at: saved.updated_at,
        },
    ))
}

/// Deletes a secret; runs that read it fail naming it.
#[utoipa::path(delete, operation_id = "secrets.remove", path = "/secrets/{name}", tag = "secrets", params(("name" = String, Path)),
    responses((status = 200, description = "Deleted", body = Data<Deleted>),
        (status = 404, description = "No such secret", body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(name): ApiPath<String>,
) -> ApiResult {
    state
        .services
        .engine
        .secrets()
        .ok_or(AppError::NotFound)?
        .delete(&principal, &name)
        .await?;
    Ok(respond(StatusCode::OK, Deleted { deleted: name }))
}
