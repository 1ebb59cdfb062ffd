//! REST API v1: JSON in, `{data, meta}` or `{error: {code, message, details}, meta}` out.
//!
//! Handlers are thin: they read the caller (resolved by middleware from the session),
//! call one service method and map the result. Errors are the edge's one [`AppError`]:
//! domain errors convert to it in `aura_app::server`, and it answers with the envelope.

mod projects;
mod runs;
mod workflows;

pub use runs::EventStreams;

use crate::AppState;
use aura_app::error::AppError;
use aura_store::Principal;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    workflows::routes()
        .merge(runs::routes())
        .merge(projects::routes())
}

type ApiResult = Result<Response, AppError>;

/// A successful answer: `{"data": …, "meta": {"request_id": …}}`. Errors answer through
/// [`AppError`]'s `IntoResponse`, the same type server functions return.
fn respond<T: Serialize>(status: StatusCode, data: T) -> Response {
    (
        status,
        axum::Json(
            json!({ "data": data, "meta": { "request_id": aura_app::server::request_id() } }),
        ),
    )
        .into_response()
}

/// The signed-in caller of a REST request (the middleware put the [`Principal`] in the
/// request), or 401 in the error envelope.
struct Signed(Principal);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Signed)
            .ok_or_else(AppError::unauthenticated)
    }
}

/// A body that is not the JSON we expect.
fn bad_body(rejection: JsonRejection) -> AppError {
    AppError::BadRequest {
        message: format!("The request body is not valid: {}", rejection.body_text()),
    }
}

/// A query string that is not what the route expects.
fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> AppError {
    AppError::BadRequest {
        message: rejection.body_text(),
    }
}
