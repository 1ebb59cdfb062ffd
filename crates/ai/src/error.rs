//! What can go wrong in one call to one provider, and whether trying again may help.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// 429: too many requests or tokens.
    #[error("rate limited (429): {message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    /// 5xx (and Anthropic's 529 "overloaded").
    #[error("server error ({status}): {message}")]
    Server {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Any other 4xx: the request itself is wrong (bad key, unknown model, too long).
    #[error("refused ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("no connection within {0:?}")]
    ConnectTimeout(Duration),
    #[error("no first token within {0:?}")]
    FirstTokenTimeout(Duration),
    #[error("the call took longer than {0:?}")]
    TotalTimeout(Duration),
    /// The connection failed or broke off.
    #[error("transport: {0}")]
    Transport(String),
    /// The provider reported an error inside a stream that had started.
    #[error("error mid-stream: {0}")]
    MidStream(String),
    /// The answer does not follow the protocol.
    #[error("malformed answer: {0}")]
    Malformed(String),
}

impl CallError {
    /// Whether the same call may succeed if tried again (here or on another target).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, CallError::Refused { .. })
    }

    /// How long the provider asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::RateLimited { retry_after, .. } | CallError::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The error for an HTTP status and body (the provider's own message when it has one).
    pub(crate) fn from_status(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let message = provider_message(body);
        match status {
            429 => CallError::RateLimited {
                message,
                retry_after,
            },
            500..=599 => CallError::Server {
                status,
                message,
                retry_after,
            },
            _ => CallError::Refused { status, message },
        }
    }
}

/// `error.message` of an OpenAI or Anthropic error body, else the start of the body.
pub(crate) fn provider_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect())
}

/// `Retry-After` in seconds (the HTTP-date form is not used by model providers).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}
