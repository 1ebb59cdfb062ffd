//! The HTTP client behind the CLI: one server URL and API key, JSON in, the API's
//! `{data, meta}` envelope out, and every failure one [`CliError`] that says what to do.

use super::config::Profile;
use super::output::Style;
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or input the server never saw.
    #[error("{0}")]
    Usage(String),
    #[error(
        "not logged in: run `aura login --url URL` with an API key from the server's /settings page, or set AURA_URL and AURA_API_KEY"
    )]
    NotLoggedIn,
    /// The server's error envelope.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Value,
        request_id: Option<String>,
    },
    #[error("could not reach {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// Something the command checks itself failed (a run that failed, a bad answer).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// 2 for usage errors (as clap's own), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let context = context.into();
        move |source| CliError::Io { context, source }
    }

    /// The message for stderr: the error, each field problem, and what to do next.
    pub fn render(&self, style: &Style) -> String {
        let mut out = format!("{} {self}", style.red("error:"));
        if let CliError::Api {
            status,
            code,
            details,
            request_id,
            ..
        } = self
        {
            for problem in details.as_array().into_iter().flatten() {
                let field = problem["field"].as_str().unwrap_or("");
                let message = problem["message"].as_str().unwrap_or("");
                match problem["step"].as_str() {
                    Some(step) => out.push_str(&format!("\n  step {step}, {field}: {message}")),
                    None => out.push_str(&format!("\n  {field}: {message}")),
                }
            }
            let hint = match *status {
                401 => {
                    "\n  The key is unknown, revoked or expired: make a new one on /settings and run `aura login` again."
                }
                _ => "",
            };
            out.push_str(hint);
            let id = request_id
                .as_deref()
                .map(|id| format!(", request {id}"))
                .unwrap_or_default();
            out.push_str(&style.dim(&format!("\n  (HTTP {status} {code}{id})")));
        }
        out
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorDetail,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    details: Value,
}

#[derive(Deserialize)]
struct Meta {
    request_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(profile: Profile) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("aura-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|err| CliError::Failed(format!("could not set up HTTP: {err}")))?;
        Ok(Self {
            base: profile.url,
            key: profile.api_key,
            http,
        })
    }

    /// The logged-in client, from the saved login or the environment.
    pub fn from_login() -> Result<Self, CliError> {
        Self::new(super::config::load()?)
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// A request to `path` under `/api/v1`, carrying the key.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.key)
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.data(self.request(Method::GET, path)).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CliError> {
        self.data(self.request(Method::POST, path).json(body)).await
    }

    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CliError> {
        self.data(self.request(Method::PUT, path).json(body)).await
    }

    /// Sends the request and reads `data` from the answer.
    pub async fn data<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, CliError> {
        let response = self.send(request).await?;
        let bytes = response.bytes().await.map_err(|err| self.transport(err))?;
        serde_json::from_slice::<Envelope<T>>(&bytes)
            .map(|envelope| envelope.data)
            .map_err(|err| {
                CliError::Failed(format!(
                    "the server at {} answered with something this CLI does not understand ({err}); is it an Aura server of the same version?",
                    self.base
                ))
            })
    }

    /// Sends the request; any status but 2xx becomes the server's error.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, CliError> {
        let response = request.send().await.map_err(|err| self.transport(err))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response.bytes().await.unwrap_or_default();
        Err(match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
            Ok(body) => CliError::Api {
                status: status.as_u16(),
                code: body.error.code,
                message: body.error.message,
                details: body.error.details,
                request_id: body.meta.and_then(|m| m.request_id),
            },
            Err(_) => CliError::Api {
                status: status.as_u16(),
                code: "http".into(),
                message: format!(
                    "{} answered {status}; is AURA_URL an Aura server?",
                    self.base
                ),
                details: Value::Null,
                request_id: None,
            },
        })
    }

    pub fn transport(&self, err: reqwest::Error) -> CliError {
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(inner) = source {
            reason = format!("{reason}: {inner}");
            source = inner.source();
        }
        CliError::Transport {
            url: self.base.clone(),
            reason,
        }
    }
}

/// Whether the error is the server's 404.
pub fn is_not_found(err: &CliError) -> bool {
    matches!(err, CliError::Api { status: 404, .. })
}
