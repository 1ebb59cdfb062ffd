//! REST API v1: JSON in, `{data, meta}` or `{error: {code, message, details}, meta}` out.
//!
//! Handlers are thin: they read the caller (resolved by middleware from the session),
//! call one service method and map the result. Error-to-status mapping lives here once.

mod projects;
mod runs;
mod workflows;

pub use runs::EventStreams;

use crate::AppState;
use aura_app::server::Caller;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    workflows::routes()
        .merge(runs::routes())
        .merge(projects::routes())
}

type ApiResult = Result<Response, ApiError>;

/// A successful answer: `{"data": …, "meta": {"request_id": …}}`.
fn respond<T: Serialize>(caller: &Caller, status: StatusCode, data: T) -> Response {
    (
        status,
        axum::Json(json!({ "data": data, "meta": { "request_id": caller.request_id } })),
    )
        .into_response()
}

/// An error answer; `details` carries field problems for 422s.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
    request_id: String,
}

impl ApiError {
    fn new(
        caller: &Caller,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            request_id: caller.request_id.clone(),
        }
    }

    fn unauthenticated(caller: &Caller) -> Self {
        Self::new(
            caller,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in, or send an API key.",
        )
    }

    fn not_found(caller: &Caller) -> Self {
        Self::new(
            caller,
            StatusCode::NOT_FOUND,
            "not_found",
            "No such resource.",
        )
    }

    fn internal(caller: &Caller, err: &dyn std::fmt::Debug) -> Self {
        tracing::error!(request_id = %caller.request_id, error = ?err, "API request failed");
        Self::new(
            caller,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!(
                "Something went wrong on our side; quote request id {} if it keeps happening.",
                caller.request_id
            ),
        )
    }

    /// A 422 about one field of the request.
    fn field(caller: &Caller, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::new(
            caller,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("{field}: {message}"),
        );
        error.details = json!([{ "field": field, "message": message }]);
        error
    }

    /// A body that is not the JSON we expect.
    fn bad_body(caller: &Caller, rejection: &JsonRejection) -> Self {
        Self::new(
            caller,
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("The request body is not valid: {}", rejection.body_text()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "code": self.code, "message": self.message, "details": self.details },
            "meta": { "request_id": self.request_id },
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The signed-in user's id, or 401.
fn user_id(caller: &Caller) -> Result<String, ApiError> {
    caller
        .user
        .as_ref()
        .map(|u| u.id.clone())
        .ok_or_else(|| ApiError::unauthenticated(caller))
}
