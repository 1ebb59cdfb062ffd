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
use aura_store::{Principal, Scope};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::rejection::JsonRejection;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
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

/// The caller of a REST request (the middleware put the [`Principal`] in the request),
/// holding the scope the route needs. Without a principal: 401; with an API key that
/// lacks the scope: 403 naming it. Both in the error envelope.
struct Signed(Principal);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(AppError::unauthenticated)?;
        let scope = required_scope(&parts.method, parts.uri.path());
        if !principal.allows(scope) {
            return Err(AppError::Forbidden {
                message: format!("This API key lacks the `{scope}` scope this request needs."),
            });
        }
        Ok(Signed(principal))
    }
}

/// The scope a REST request needs: reading is `read`; starting, cancelling and resuming
/// runs is `run`; analysing changes nothing and is `read`; every other change is `write`.
/// (Paths are relative to `/api/v1`, as the nested router sees them.)
fn required_scope(method: &Method, path: &str) -> Scope {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    if matches!(*method, Method::GET | Method::HEAD) {
        return Scope::Read;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["workflows", _, "runs"] | ["runs", _, "cancel" | "resume"] => Scope::Run,
        ["projects", _, "analyze"] => Scope::Read,
        _ => Scope::Write,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_needs_its_scope() {
        for (method, path, scope) in [
            (Method::GET, "/workflows", Scope::Read),
            (Method::GET, "/api/v1/runs/r1/events", Scope::Read),
            (Method::POST, "/workflows", Scope::Write),
            (Method::PUT, "/workflows/w1", Scope::Write),
            (Method::DELETE, "/projects/p1/files/e1", Scope::Write),
            (Method::POST, "/workflows/w1/runs", Scope::Run),
            (Method::POST, "/api/v1/runs/r1/cancel", Scope::Run),
            (Method::POST, "/runs/r1/resume", Scope::Run),
            (Method::POST, "/projects/p1/analyze", Scope::Read),
            (Method::POST, "/projects/import", Scope::Write),
        ] {
            assert_eq!(required_scope(&method, path), scope, "{method} {path}");
        }
    }
}
