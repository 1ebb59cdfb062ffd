//! `/api/v1/workflows/{id}/webhooks` and `/api/v1/webhooks/{id}`: a workflow's webhook
//! triggers. The URL's token (and a generated secret or header token) is in the answer
//! that made it, and never again; regenerating gives a new URL.

use super::{ApiPath, ApiResult, Data, Deleted, Signed, bad_body, respond};
use crate::AppState;
use aura_app::server::ErrorBody;
use aura_triggers::{Created, Webhook, WebhookSpec};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(regenerate))
}

/// A trigger, with what is shown only once when it was just made or given a new URL.
#[derive(Debug, Serialize, ToSchema)]
struct WebhookView {
    #[serde(flatten)]
    webhook: Webhook,
    /// The URL to deliver to (only in the answer that made it or regenerated it).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// A generated HMAC secret or header token (only in the answer that generated it).
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl WebhookView {
    fn new(created: Created, base: &str) -> Self {
        Self {
            webhook: created.webhook,
            url: created.token.map(|token| format!("{base}/hooks/{token}")),
            secret: created.secret,
        }
    }
}

/// Where this instance is reached: `AURA_PUBLIC_ORIGIN`, else the request's `Host`.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(origin) = &state.config.public_origin {
        return origin.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// A workflow's webhooks, oldest first.
#[utoipa::path(get, operation_id = "webhooks.list", path = "/workflows/{id}/webhooks", tag = "webhooks", params(("id" = String, Path, description = "The workflow")),
    responses((status = 200, description = "The workflow's webhooks", body = Data<Vec<Webhook>>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let hooks = state.services.webhooks.list(&principal, &id).await?;
    Ok(respond(StatusCode::OK, hooks))
}

/// Makes a webhook; the answer holds its URL (and a generated secret), shown only now.
#[utoipa::path(post, operation_id = "webhooks.create", path = "/workflows/{id}/webhooks", tag = "webhooks", params(("id" = String, Path, description = "The workflow")), request_body = WebhookSpec,
    responses((status = 201, description = "Made", body = Data<WebhookView>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody),
        (status = 422, description = "A setting out of range, each under its field", body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Json<WebhookSpec>, JsonRejection>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let created = state
        .services
        .webhooks
        .create(&principal, &id, spec)
        .await?;
    Ok(respond(
        StatusCode::CREATED,
        WebhookView::new(created, &base_url(&state, &headers)),
    ))
}

/// One webhook, with how many runs it started and its last run.
#[utoipa::path(get, operation_id = "webhooks.show", path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, description = "The webhook", body = Data<Webhook>),
        (status = 404, description = "No such webhook of yours", body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let hook = state.services.webhooks.get(&principal, &id).await?;
    Ok(respond(StatusCode::OK, hook))
}

/// Replaces a webhook's settings (its URL stays); a secret or token left out is kept.
#[utoipa::path(put, operation_id = "webhooks.update", path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = WebhookSpec,
    responses((status = 200, description = "Saved", body = Data<WebhookView>),
        (status = 404, description = "No such webhook of yours", body = ErrorBody),
        (status = 422, description = "A setting out of range, each under its field", body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Json<WebhookSpec>, JsonRejection>,
) -> ApiResult {
    let Json(spec) = body.map_err(bad_body)?;
    let saved = state
        .services
        .webhooks
        .update(&principal, &id, spec)
        .await?;
    Ok(respond(
        StatusCode::OK,
        WebhookView::new(saved, &base_url(&state, &headers)),
    ))
}

/// Gives the webhook a new URL; the old one stops working at once.
#[utoipa::path(post, operation_id = "webhooks.regenerate", path = "/webhooks/{id}/regenerate", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, description = "The webhook with its new URL", body = Data<WebhookView>),
        (status = 404, description = "No such webhook of yours", body = ErrorBody)))]
async fn regenerate(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult {
    let created = state.services.webhooks.regenerate(&principal, &id).await?;
    Ok(respond(
        StatusCode::OK,
        WebhookView::new(created, &base_url(&state, &headers)),
    ))
}

/// Deletes a webhook; its URL answers 404 from now on. Its runs stay.
#[utoipa::path(delete, operation_id = "webhooks.remove", path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Data<Deleted>),
        (status = 404, description = "No such webhook of yours", body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state.services.webhooks.delete(&principal, &id).await?;
    Ok(respond(StatusCode::OK, Deleted { deleted: id }))
}
