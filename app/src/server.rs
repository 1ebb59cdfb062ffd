//! Server-side plumbing shared by every server function: the services in context, the
//! caller of the current request, and the mapping of errors to HTTP statuses.
//!
//! Compiled only with the `ssr` feature; the WASM bundle never sees it.

use crate::error::AppError;
use aura_auth::{Accounts, AuthError, RequestContext, SessionPolicy};
use aura_store::User;
use axum::http::{HeaderValue, StatusCode, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::future::Future;

/// Session keys.
pub const SESSION_USER_ID: &str = "user_id";
pub const SESSION_SIGNED_IN_AT: &str = "signed_in_at";
/// When activity last extended the session's idle timeout.
pub const SESSION_SEEN_AT: &str = "seen_at";

/// What server functions need from the server, provided as Leptos context.
#[derive(Clone, Debug)]
pub struct AppContext {
    pub accounts: Accounts,
    pub sessions: SessionPolicy,
    pub engine: aura_engine::Engine,
    pub projects: aura_projects::Projects,
}

/// Who is calling, resolved once per request by the server's middleware and stored in the
/// request extensions.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub user: Option<User>,
    pub ip: String,
    pub user_agent: Option<String>,
    pub request_id: String,
}

impl Caller {
    pub fn request_context(&self) -> RequestContext {
        RequestContext {
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

pub fn app_context() -> AppContext {
    expect_context::<AppContext>()
}

/// The caller of the request being handled.
pub fn caller() -> Caller {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .unwrap_or_default()
}

/// The signed-in user, or 401.
pub fn signed_in() -> Result<(User, Caller), AppError> {
    let caller = caller();
    match caller.user.clone() {
        Some(user) => Ok((user, caller)),
        None => Err(AppError::unauthenticated()),
    }
}

pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| internal(anyhow_msg(format!("session layer missing: {e}"))))
}

fn anyhow_msg(message: String) -> AuthError {
    AuthError::Unexpected(std::io::Error::other(message).into())
}

/// Logs an unexpected failure with the request id and hides it from the client.
fn internal(err: AuthError) -> AppError {
    let request_id = caller().request_id;
    tracing::error!(request_id = %request_id, error = ?err, "request failed");
    AppError::Internal { request_id }
}

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Validation(fields) => AppError::Validation { fields },
            AuthError::InvalidCredentials => AppError::Unauthenticated {
                message: "The email or password is not correct.".into(),
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
            err @ AuthError::Unexpected(_) => internal(err),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        internal(anyhow_msg(format!("session store: {err}")))
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
            // Step problems are keyed `definition` (the form field holding the JSON) and
            // name their step; name and description keep their own fields.
            WorkflowError::Invalid(problems) => {
                let mut fields = std::collections::BTreeMap::<String, String>::new();
                for p in problems {
                    let (key, text) = match &p.step {
                        Some(step) => (
                            "definition".to_owned(),
                            format!("Step `{step}`, {}: {}", p.field, p.message),
                        ),
                        None if p.field == "name" || p.field == "description" => {
                            (p.field, p.message)
                        }
                        None => (
                            "definition".to_owned(),
                            format!("{}: {}", p.field, p.message),
                        ),
                    };
                    let entry = fields.entry(key).or_default();
                    if !entry.is_empty() {
                        entry.push('\n');
                    }
                    entry.push_str(&text);
                }
                AppError::Validation { fields }
            }
            WorkflowError::NotFound => AppError::NotFound,
            WorkflowError::Conflict => AppError::Conflict {
                message: "Someone saved a newer version of this workflow.".into(),
            },
            WorkflowError::InvalidState(message) => AppError::Conflict { message },
            WorkflowError::Unexpected(err) => internal(AuthError::Unexpected(err)),
        }
    }
}

impl From<aura_projects::ProjectError> for AppError {
    fn from(err: aura_projects::ProjectError) -> Self {
        use aura_projects::ProjectError;
        match err {
            ProjectError::Invalid(problems) => {
                let mut fields = std::collections::BTreeMap::<String, String>::new();
                for p in problems {
                    fields.entry(p.field).or_insert(p.message);
                }
                AppError::Validation { fields }
            }
            // A taken slug or path is a problem with what the user typed in that field.
            ProjectError::Taken { field, message } => AppError::Validation {
                fields: [(field, message)].into(),
            },
            ProjectError::NotFound => AppError::NotFound,
            ProjectError::StaleRevision { .. } => AppError::Conflict {
                message: "The file changed since you opened it.".into(),
            },
            ProjectError::Unexpected(err) => internal(AuthError::Unexpected(err)),
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
        let status = match err {
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            AppError::Throttled {
                retry_after_secs, ..
            } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.insert_header(header::RETRY_AFTER, value);
                }
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport { .. } => StatusCode::BAD_REQUEST,
        };
        response.set_status(status);
    }
    result
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
