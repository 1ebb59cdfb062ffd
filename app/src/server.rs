//! Server-side plumbing shared by server functions and the REST API: the services in
//! context, the principal (who is calling) and origin of the current request, and the one conversion of each domain
//! error to the edge's [`AppError`], with its HTTP answer.
//!
//! Compiled only with the `ssr` feature; the WASM bundle never sees it.

use crate::error::{AppError, Problem};
use aura_auth::{Accounts, AuthError, SessionPolicy};
use aura_store::{Origin, Principal};
use axum::http::{HeaderValue, StatusCode, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::future::Future;

/// Session keys.
pub const SESSION_USER_ID: &str = "user_id";
pub const SESSION_SIGNED_IN_AT: &str = "signed_in_at";
/// When activity last extended the session's idle timeout.
pub const SESSION_SEEN_AT: &str = "seen_at";

/// The services, built once at start-up: axum state for the REST API and Leptos context
/// for server functions. No service is constructed per request.
#[derive(Clone, Debug)]
pub struct Services {
    pub accounts: Accounts,
    pub api_keys: aura_auth::ApiKeys,
    pub sessions: SessionPolicy,
    pub engine: aura_engine::Engine,
    pub workflows: aura_engine::Workflows,
    pub projects: aura_projects::Projects,
    /// Model providers and aliases (administrators), and the router calls go through.
    pub models: std::sync::Arc<aura_ai::ModelSettings>,
    /// Model calls outside workflow steps (editor actions): budgets, cache, ledger.
    pub llm: aura_ai::Llm,
    /// Webhook triggers: their settings, and deliveries to `/hooks/{token}`.
    pub webhooks: aura_triggers::Webhooks,
    /// Schedules: their settings and previews (the scheduler runs beside the server).
    pub schedules: aura_triggers::Schedules,
    /// The caller's in-app notices (the bell).
    pub notifications: aura_engine::Notifications,
}

pub fn services() -> Services {
    expect_context::<Services>()
}

fn request_parts<T: Clone + Send + Sync + 'static>() -> Option<T> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<T>().cloned())
}

/// Where the request being handled came from (set by the server's middleware).
pub fn origin() -> Origin {
    request_parts::<Origin>().unwrap_or_default()
}

/// Who is calling, if they signed in.
pub fn current_principal() -> Option<Principal> {
    request_parts::<Principal>()
}

/// Who is calling, or 401.
pub fn principal() -> Result<Principal, AppError> {
    current_principal().ok_or_else(AppError::unauthenticated)
}

pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| internal(anyhow::anyhow!("session layer missing: {e}")))
}

tokio::task_local! {
    /// The id of the request being handled, set by the server's middleware around each
    /// request, so errors can be logged and answered with it wherever they arise.
    pub static REQUEST_ID: String;
}

/// The current request's id: from the middleware's scope, or, inside Leptos rendering,
/// from the caller in context.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| origin().request_id)
}

/// Logs an unexpected failure with the request id and hides it from the client.
fn internal(err: anyhow::Error) -> AppError {
    let request_id = request_id();
    tracing::error!(request_id = %request_id, error = ?err, "request failed");
    AppError::Internal { request_id }
}

/// A failure no rule foresaw: the database out of reach is a 503 worth retrying; anything
/// else is logged as a 500.
fn unexpected(err: anyhow::Error) -> AppError {
    match err.downcast_ref::<aura_store::StoreError>() {
        Some(aura_store::StoreError::Unavailable(reason)) => {
            tracing::warn!(request_id = %request_id(), %reason, "database unavailable");
            AppError::Unavailable {
                message: "Aura cannot reach its database right now. Try again in a few seconds."
                    .into(),
                retry_after_secs: 5,
            }
        }
        _ => internal(err),
    }
}

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Validation(fields) => AppError::problems(
                fields
                    .into_iter()
                    .map(|(field, message)| Problem {
                        step: None,
                        field,
                        message,
                    })
                    .collect(),
                |p| (p.field.clone(), p.message.clone()),
            ),
            AuthError::InvalidCredentials => AppError::Unauthenticated {
                message: "The email or password is not correct.".into(),
            },
            AuthError::InvalidApiKey => AppError::Unauthenticated {
                message: "The API key is not valid: it is unknown, revoked or expired.".into(),
            },
            AuthError::Throttled { retry_after_secs } => AppError::Throttled {
                message: format!(
                    "Too many sign-in attempts. Try again in {}.",
                    human_duration(retry_after_secs)
                ),
                retry_after_secs,
            },
            AuthError::SignUpClosed => AppError::Forbidden {
                message:
                    "Sign-up is closed on this Aura instance. Ask an administrator for an account."
                        .into(),
            },
            AuthError::Forbidden => AppError::forbidden(),
            AuthError::NotFound => AppError::NotFound,
            AuthError::Unexpected(err) => unexpected(err),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        internal(anyhow::anyhow!("session store: {err}"))
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        0 | 1 => "1 second".into(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "1 minute".into(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

impl From<aura_engine::WorkflowError> for AppError {
    fn from(err: aura_engine::WorkflowError) -> Self {
        use aura_engine::WorkflowError;
        match err {
            // Step problems show under `definition` (the form field holding the JSON) and
            // name their step; name and description keep their own fields.
            WorkflowError::Invalid(problems) => AppError::problems(
                problems
                    .into_iter()
                    .map(|p| Problem {
                        step: p.step,
                        field: p.field,
                        message: p.message,
                    })
                    .collect(),
                |p| match &p.step {
                    Some(step) => (
                        "definition".to_owned(),
                        format!("Step `{step}`, {}: {}", p.field, p.message),
                    ),
                    None if matches!(p.field.as_str(), "name" | "description" | "comment") => {
                        (p.field.clone(), p.message.clone())
                    }
                    None => (
                        "definition".to_owned(),
                        format!("{}: {}", p.field, p.message),
                    ),
                },
            ),
            WorkflowError::NotFound => AppError::NotFound,
            WorkflowError::Conflict => AppError::Conflict {
                message: "Someone saved a newer version of this workflow. Reload it, reapply your change and save again.".into(),
            },
            WorkflowError::InvalidState(message) => AppError::InvalidState { message },
            WorkflowError::Busy(message) => AppError::Throttled {
                message,
                retry_after_secs: 1,
            },
            WorkflowError::Unexpected(err) => unexpected(err),
        }
    }
}

impl From<aura_projects::ProjectError> for AppError {
    fn from(err: aura_projects::ProjectError) -> Self {
        use aura_projects::ProjectError;
        match err {
            ProjectError::Invalid(problems) => AppError::problems(
                problems
                    .into_iter()
                    .map(|p| Problem {
                        step: None,
                        field: p.field,
                        message: p.message,
                    })
                    .collect(),
                |p| (p.field.clone(), p.message.clone()),
            ),
            // A taken slug or path is a problem with what the user typed in that field.
            ProjectError::Taken { field, message } => AppError::invalid(&field, message),
            ProjectError::NotFound => AppError::NotFound,
            ProjectError::StaleRevision { current } => AppError::StaleRevision {
                message: format!(
                    "The file changed since it was opened: it is at revision {} now. Merge your change into it and save again.",
                    current.entry.current_revision
                ),
                current: Some(crate::projects::api::FileView::from(*current)),
            },
            ProjectError::Unexpected(err) => unexpected(err),
        }
    }
}

impl From<aura_engine::SecretError> for AppError {
    fn from(err: aura_engine::SecretError) -> Self {
        use aura_engine::SecretError;
        match err {
            SecretError::NotFound => AppError::NotFound,
            SecretError::Invalid(field, message) => AppError::invalid(field, message),
            SecretError::Store(err) => unexpected(err.into()),
            SecretError::Vault(err) => internal(err.into()),
        }
    }
}

impl From<aura_triggers::WebhookError> for AppError {
    fn from(err: aura_triggers::WebhookError) -> Self {
        use aura_triggers::WebhookError;
        match err {
            WebhookError::NotFound => AppError::NotFound,
            WebhookError::Invalid(field, message) => AppError::invalid(field, message),
            WebhookError::Disabled => AppError::Forbidden {
                message: "This webhook is disabled; its owner can enable it again.".into(),
            },
            WebhookError::MethodNotAllowed(method) => AppError::MethodNotAllowed {
                message: format!("This webhook takes {method} requests."),
            },
            WebhookError::Rejected(reason) => AppError::Unauthenticated {
                message: format!("The delivery was refused: {reason}."),
            },
            WebhookError::TooLarge(kb) => AppError::TooLarge {
                message: format!("The body is larger than this webhook's limit of {kb} KB."),
            },
            WebhookError::RateLimited(secs) => AppError::Throttled {
                message: format!(
                    "Too many deliveries to this webhook; try again in {}.",
                    human_duration(secs)
                ),
                retry_after_secs: secs,
            },
            WebhookError::BadBody(message) => AppError::BadRequest { message },
            WebhookError::Workflow(err) => err.into(),
            WebhookError::Store(err) => unexpected(err.into()),
            WebhookError::Vault(err) => internal(err.into()),
        }
    }
}

impl From<aura_triggers::ScheduleError> for AppError {
    fn from(err: aura_triggers::ScheduleError) -> Self {
        use aura_triggers::ScheduleError;
        match err {
            ScheduleError::NotFound => AppError::NotFound,
            ScheduleError::Invalid(field, message) => AppError::invalid(field, message),
            ScheduleError::Workflow(err) => err.into(),
            ScheduleError::Store(err) => unexpected(err.into()),
        }
    }
}

impl From<aura_projects::AssistError> for AppError {
    fn from(err: aura_projects::AssistError) -> Self {
        use aura_ai::{LlmError, RouteError};
        use aura_projects::AssistError;
        match err {
            AssistError::Project(err) => err.into(),
            AssistError::Invalid(message) => AppError::invalid("start_line", message),
            AssistError::Model(LlmError::OverBudget(message)) => AppError::Forbidden { message },
            AssistError::Model(LlmError::Route(RouteError::UnknownAlias(_))) => {
                AppError::InvalidState {
                    message: format!(
                        "{}: an administrator can add a provider and a `code` or `default` alias on /models.",
                        crate::projects::NO_MODEL
                    ),
                }
            }
            AssistError::Model(LlmError::Route(err)) if err.is_retryable() => {
                AppError::Unavailable {
                    message: format!(
                        "The model provider did not answer: {err}. Try again shortly."
                    ),
                    retry_after_secs: 5,
                }
            }
            AssistError::Model(LlmError::Route(err)) => AppError::InvalidState {
                message: format!("The model provider refused the call: {err}."),
            },
            AssistError::Model(LlmError::Store(err)) => unexpected(err.into()),
            AssistError::Model(LlmError::Stopped) => AppError::InvalidState {
                message: "The AI action was stopped.".into(),
            },
        }
    }
}

impl From<aura_ai::SettingsError> for AppError {
    fn from(err: aura_ai::SettingsError) -> Self {
        use aura_ai::SettingsError;
        match err {
            SettingsError::Forbidden => AppError::Forbidden {
                message: "Only administrators manage model providers and aliases.".into(),
            },
            SettingsError::NotFound => AppError::NotFound,
            SettingsError::Invalid(fields) => AppError::problems(
                fields
                    .into_iter()
                    .map(|(field, message)| Problem {
                        step: None,
                        field,
                        message,
                    })
                    .collect(),
                |p| (p.field.clone(), p.message.clone()),
            ),
            SettingsError::Store(err) => unexpected(err.into()),
            SettingsError::Vault(err) => internal(err.into()),
        }
    }
}

/// A UTC timestamp in milliseconds as `2026-11-22 14:03:07 UTC`, formatted on the server so
/// the WASM bundle needs no date library.
pub fn format_millis(millis: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// Runs a server function body and sets the HTTP status (and `Retry-After`) from its error.
pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    // A plain form post is answered with a redirect back to the form, carrying the error
    // in the URL (server_fn's form-redirects); an error status would replace that redirect.
    if let Err(err) = &result
        && !is_plain_form_post()
        && let Some(response) = use_context::<ResponseOptions>()
    {
        if let Some(value) = err
            .retry_after_secs()
            .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.insert_header(header::RETRY_AFTER, value);
        }
        response.set_status(
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    result
}

/// REST's error envelope: `{"error": {code, message, details}, "meta": {request_id}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    pub meta: Meta,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `validation`, `unauthenticated`, `forbidden`, `not_found`,
    /// `conflict`, `stale_revision`, `invalid_state`, `throttled`, `unavailable` or
    /// `internal`.
    pub code: String,
    pub message: String,
    /// For `validation`: `[{step?, field, message}]`; for `stale_revision`:
    /// `{current}`, the file as saved now; otherwise null.
    pub details: serde_json::Value,
}

/// What every REST answer carries besides its data or error.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Meta {
    /// The id the server logged this request under.
    pub request_id: String,
}

/// REST's answer for an error: [`ErrorBody`], with the status from [`AppError::status`]
/// and `Retry-After` when there is one.
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after_secs();
        let code = self.code();
        let (message, details) = match &self {
            AppError::Validation { fields, problems } => {
                let message = fields
                    .iter()
                    .map(|(field, message)| format!("{field}: {message}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let details = if problems.is_empty() {
                    serde_json::json!(fields
                        .iter()
                        .map(|(field, message)| serde_json::json!({ "field": field, "message": message }))
                        .collect::<Vec<_>>())
                } else {
                    serde_json::to_value(problems).unwrap_or_default()
                };
                (message, details)
            }
            AppError::StaleRevision { current, .. } => {
                (self.to_string(), serde_json::json!({ "current": current }))
            }
            other => (other.to_string(), serde_json::Value::Null),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                details,
            },
            meta: Meta {
                request_id: request_id(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(value) =
            retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// After a plain (pre-hydration) form post, send the browser to `path` with a 303. Calls
/// from the hydrated app get the path in the response body and navigate themselves.
pub fn redirect_plain_form(path: &str) {
    if let (true, Some(response), Ok(location)) = (
        is_plain_form_post(),
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(path),
    ) {
        response.insert_header(header::LOCATION, location);
        response.set_status(StatusCode::SEE_OTHER);
    }
}

/// Whether the request is a browser's own form submission (before hydration), which
/// expects an HTML answer, rather than a call from the hydrated app.
fn is_plain_form_post() -> bool {
    use_context::<axum::http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(45), "45 seconds");
        assert_eq!(human_duration(60), "1 minute");
        assert_eq!(human_duration(900), "15 minutes");
        assert_eq!(human_duration(61 * 2), "3 minutes");
    }
}
