//! The one error type every server function returns, and its wire format.
//!
//! It crosses the network as JSON, so the browser can show field errors under the right
//! inputs and a throttled user can see how long to wait. On the server the status code is
//! set from the variant in one place ([`crate::server::respond`]).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// 422: input was refused; messages are keyed by form field name.
    #[error("Please correct the highlighted fields.")]
    Validation { fields: BTreeMap<String, String> },
    /// 401: not signed in, or the credentials were wrong.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// 429: too many attempts.
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
    /// 409: the record is not in a state that allows this (a finished run cancelled).
    #[error("{message}")]
    Conflict { message: String },
    /// 500: details are in the server log under this request id.
    #[error(
        "Something went wrong on our side. Please try again; if it keeps happening, quote request id {request_id}."
    )]
    Internal { request_id: String },
    /// The request never got a proper answer (network down, malformed response).
    #[error("Could not reach the server: {message}")]
    Transport { message: String },
}

impl AppError {
    /// The message for one form field, if the server refused that field.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Validation { fields } => fields.get(name).cloned(),
            _ => None,
        }
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
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport {
            message: value.to_string(),
        }
    }
}
