//! The one error type of Aura's edge: every server function and every REST handler returns
//! it, and every domain error converts to it exactly once (`crate::server`).
//!
//! It crosses the network as JSON, so the browser can show field errors under the right
//! inputs and a throttled user can see how long to wait. Its HTTP status comes from
//! [`AppError::status`], the only mapping of errors to statuses; on the server it also
//! renders itself as REST's `{error, meta}` envelope.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// 400: the request itself is malformed (a body that is not the expected JSON).
    #[error("{message}")]
    BadRequest { message: String },
    /// 422: input was refused. `fields` holds one message per form field; `problems` the
    /// same problems one by one, with the workflow step each belongs to.
    #[error("Please correct the highlighted fields.")]
    Validation {
        fields: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        problems: Vec<Problem>,
    },
    /// 401: not signed in, or the credentials were wrong.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// 429: too many attempts, or too many of something open at once.
    #[error("{message}")]
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// 403
    #[error("{message}")]
    Forbidden { message: String },
    /// 404
    #[error("That page or record does not exist.")]
    NotFound,
    /// 405: the route exists but takes another method (a webhook's).
    #[error("{message}")]
    MethodNotAllowed { message: String },
    /// 413: a body over the limit that applies to it.
    #[error("{message}")]
    TooLarge { message: String },
    /// 409: a newer version was saved since this one was read.
    #[error("{message}")]
    Conflict { message: String },
    /// 409: a file changed since it was opened; `current` is what is saved now.
    #[error("{message}")]
    StaleRevision {
        message: String,
        current: Option<crate::projects::api::FileView>,
    },
    /// 409: the record is not in a state that allows this (a finished run cancelled).
    #[error("{message}")]
    InvalidState { message: String },
    /// 503: the database is out of reach; try again after `retry_after_secs`.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// 500: details are in the server log under this request id.
    #[error(
        "Something went wrong on our side. Please try again; if it keeps happening, quote request id {request_id}."
    )]
    Internal { request_id: String },
    /// The request never got a proper answer (network down, malformed response).
    #[error("Could not reach the server: {message}")]
    Transport { message: String },
}

/// One refused input: the field, and the workflow step it belongs to, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub field: String,
    pub message: String,
}

impl AppError {
    /// The message for one form field, if the server refused that field.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Validation { fields, .. } => fields.get(name).cloned(),
            _ => None,
        }
    }

    /// A 422 about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Validation {
            fields: [(field.to_owned(), message.clone())].into(),
            problems: vec![Problem {
                step: None,
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// A 422 from problems. `for_form` says which form field shows each problem, and how
    /// (a workflow's step problems all show under `definition`, naming their step).
    pub fn problems(
        problems: Vec<Problem>,
        for_form: impl Fn(&Problem) -> (String, String),
    ) -> Self {
        let mut fields = BTreeMap::<String, String>::new();
        for problem in &problems {
            let (field, text) = for_form(problem);
            let entry = fields.entry(field).or_default();
            if !entry.is_empty() {
                entry.push('\n');
            }
            entry.push_str(&text);
        }
        AppError::Validation { fields, problems }
    }

    pub fn unauthenticated() -> Self {
        AppError::Unauthenticated {
            message: "Please sign in to continue.".into(),
        }
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden {
            message: "You do not have permission to do that.".into(),
        }
    }

    /// The HTTP status: the one place errors map to statuses.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest { .. } | AppError::Transport { .. } => 400,
            AppError::Validation { .. } => 422,
            AppError::Unauthenticated { .. } => 401,
            AppError::Throttled { .. } => 429,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound => 404,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::TooLarge { .. } => 413,
            AppError::Conflict { .. }
            | AppError::StaleRevision { .. }
            | AppError::InvalidState { .. } => 409,
            AppError::Unavailable { .. } => 503,
            AppError::Internal { .. } => 500,
        }
    }

    /// The machine-readable code; the same string as the JSON `code` tag.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "bad_request",
            AppError::Validation { .. } => "validation",
            AppError::Unauthenticated { .. } => "unauthenticated",
            AppError::Throttled { .. } => "throttled",
            AppError::Forbidden { .. } => "forbidden",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::TooLarge { .. } => "too_large",
            AppError::Conflict { .. } => "conflict",
            AppError::StaleRevision { .. } => "stale_revision",
            AppError::InvalidState { .. } => "invalid_state",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal { .. } => "internal",
            AppError::Transport { .. } => "transport",
        }
    }

    /// Seconds to wait before trying again, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::Throttled {
                retry_after_secs, ..
            }
            | AppError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport {
            message: value.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_json_tag_and_statuses_are_http_errors() {
        let all = [
            AppError::BadRequest {
                message: "m".into(),
            },
            AppError::invalid("name", "m"),
            AppError::unauthenticated(),
            AppError::Throttled {
                message: "m".into(),
                retry_after_secs: 3,
            },
            AppError::forbidden(),
            AppError::NotFound,
            AppError::MethodNotAllowed {
                message: "m".into(),
            },
            AppError::TooLarge {
                message: "m".into(),
            },
            AppError::Conflict {
                message: "m".into(),
            },
            AppError::StaleRevision {
                message: "m".into(),
                current: None,
            },
            AppError::InvalidState {
                message: "m".into(),
            },
            AppError::Unavailable {
                message: "m".into(),
                retry_after_secs: 5,
            },
            AppError::Internal {
                request_id: "r".into(),
            },
            AppError::Transport {
                message: "m".into(),
            },
        ];
        for error in all {
            let json = serde_json::to_value(&error).unwrap();
            assert_eq!(json["code"], error.code(), "{error:?}");
            assert!((400..600).contains(&error.status()), "{error:?}");
            let back: AppError = serde_json::from_value(json).unwrap();
            assert_eq!(back, error);
        }
    }

    #[test]
    fn problems_are_keyed_for_forms_and_kept_one_by_one() {
        let error = AppError::problems(
            vec![
                Problem {
                    step: Some("a".into()),
                    field: "next".into(),
                    message: "a cycle".into(),
                },
                Problem {
                    step: Some("b".into()),
                    field: "config".into(),
                    message: "no url".into(),
                },
            ],
            |p| {
                let step = p.step.as_deref().unwrap_or_default();
                (
                    "definition".into(),
                    format!("Step `{step}`, {}: {}", p.field, p.message),
                )
            },
        );
        assert_eq!(
            error.field("definition").as_deref(),
            Some("Step `a`, next: a cycle\nStep `b`, config: no url")
        );
        let AppError::Validation { problems, .. } = error else {
            panic!("a validation error");
        };
        assert_eq!(problems.len(), 2);
    }
}
