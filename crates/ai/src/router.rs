//! Model aliases and routing. An alias (`default`, `fast`, `code`, or one an admin
//! defines) names an ordered list of targets, each a provider endpoint and one of its
//! models. A call tries the first target; 429, 5xx, timeouts and broken streams are
//! retried there with backoff (exactly `Retry-After` when the provider sends one), then
//! the next target is tried. A target that fails `failures_to_cool` calls in a row is
//! skipped for `cool_down`. Every failed try is reported as it happens, so a step log
//! shows which target answered and why the others did not.

use crate::chat::{ChatRequest, ChatResponse};
use crate::error::{CallError, provider_message, retry_after};
use crate::{anthropic, openai, sse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// OpenAI chat completions, and every server compatible with it.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

/// A provider: where it is and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub protocol: Protocol,
    /// The API root, e.g. `https://api.openai.com/v1` or `https://api.anthropic.com/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    /// Without the key: endpoints end up in logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .finish()
    }
}

/// One place an alias may send a call: a provider and one of its models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub endpoint: Arc<Endpoint>,
    pub model: String,
}

impl Target {
    /// `provider/model`, as logs and the ledger name it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.endpoint.name, self.model)
    }
}

/// Bounds of one call to one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection (TCP and TLS).
    pub connect: Duration,
    /// From sending the request to the first event of a stream, or to the whole answer.
    pub first_token: Duration,
    /// The whole call.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs(60),
            total: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per target before moving to the next one.
    pub attempts_per_target: u32,
    /// Backoff before the second try, doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait; a `Retry-After` beyond it moves on to the next target instead.
    pub max_delay: Duration,
    /// Failed calls in a row that put a target in cool-down.
    pub failures_to_cool: u32,
    pub cool_down: Duration,
    /// The most bytes one answer may have.
    pub max_response_bytes: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts_per_target: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            failures_to_cool: 3,
            cool_down: Duration::from_secs(60),
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

/// One failed try.
#[derive(Debug, Clone, PartialEq)]
pub struct Try {
    /// `provider/model`.
    pub target: String,
    pub error: CallError,
    /// The wait before trying this target again; `None` when the next target is next.
    pub retry_in: Option<Duration>,
}

/// A call that got an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub response: ChatResponse,
    /// `provider/model` that answered.
    pub target: String,
    /// The tries that failed before it.
    pub tries: Vec<Try>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error("no model alias or provider model named `{0}` is configured")]
    UnknownAlias(String),
    #[error("every target of `{alias}` is cooling down after repeated failures; try again in {}s", .ready_in.as_secs().max(1))]
    CoolingDown { alias: String, ready_in: Duration },
    #[error("every target of `{alias}` failed; last: {}", .tries.last().map(|t| format!("{}: {}", t.target, t.error)).unwrap_or_default())]
    AllFailed { alias: String, tries: Vec<Try> },
}

impl RouteError {
    /// Whether trying the whole call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            RouteError::UnknownAlias(_) => false,
            RouteError::CoolingDown { .. } => true,
            RouteError::AllFailed { tries, .. } => tries.iter().any(|t| t.error.is_retryable()),
        }
    }
}

/// What a call reports while it runs.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A try of this target (`provider/model`) begins.
    Trying(&'a str),
    /// Streamed text. After a failed try, text from the next one starts over.
    Text(&'a str),
    Failed(&'a Try),
}

#[derive(Debug, Default)]
struct Health {
    failures: u32,
    cooling_until: Option<Instant>,
}

pub struct Router {
    http: reqwest::Client,
    endpoints: HashMap<String, Arc<Endpoint>>,
    /// Where a bare model name (neither an alias nor `provider/model`) goes.
    default_endpoint: Option<Arc<Endpoint>>,
    aliases: HashMap<String, Vec<Target>>,
    timeouts: Timeouts,
    policy: RetryPolicy,
    health: Mutex<HashMap<String, Health>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("endpoints", &self.endpoints.values().collect::<Vec<_>>())
            .field("aliases", &self.aliases.keys().collect::<Vec<_>>())
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Router {
    pub fn new(timeouts: Timeouts, policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("Aura/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            endpoints: HashMap::new(),
            default_endpoint: None,
            aliases: HashMap::new(),
            timeouts,
            policy,
            health: Mutex::new(HashMap::new()),
        })
    }

    /// Adds (or replaces) a provider; `provider/model` names reach it directly.
    pub fn with_endpoint(mut self, endpoint: Arc<Endpoint>) -> Self {
        self.endpoints.insert(endpoint.name.clone(), endpoint);
        self
    }

    /// Sends bare model names (neither an alias nor `provider/model`) to `endpoint`, as
    /// the `llm` step did before aliases existed.
    pub fn with_default_endpoint(mut self, endpoint: Arc<Endpoint>) -> Self {
        self.default_endpoint = Some(endpoint.clone());
        self.with_endpoint(endpoint)
    }

    /// Adds (or replaces) an alias; its targets' providers are added too.
    pub fn with_alias(mut self, alias: &str, targets: Vec<Target>) -> Self {
        for target in &targets {
            self.endpoints
                .insert(target.endpoint.name.clone(), target.endpoint.clone());
        }
        self.aliases.insert(alias.to_owned(), targets);
        self
    }

    pub fn aliases(&self) -> impl Iterator<Item = (&str, &[Target])> {
        self.aliases.iter().map(|(a, t)| (a.as_str(), t.as_slice()))
    }

    /// The targets of `name`: an alias; else `provider/model` naming one target (the
    /// model may contain `/` itself); else a model of the default provider.
    fn resolve(&self, name: &str) -> Option<Vec<Target>> {
        if let Some(targets) = self.aliases.get(name) {
            return Some(targets.clone());
        }
        let direct = name.split_once('/').and_then(|(provider, model)| {
            let endpoint = self.endpoints.get(provider)?;
            Some(Target {
                endpoint: endpoint.clone(),
                model: model.to_owned(),
            })
        });
        let target = direct.or_else(|| {
            Some(Target {
                endpoint: self.default_endpoint.clone()?,
                model: name.to_owned(),
            })
        })?;
        (!target.model.is_empty()).then(|| vec![target])
    }

    /// The `provider/model` labels `name` leads to, in order; `None` for an unknown name.
    pub fn targets_of(&self, name: &str) -> Option<Vec<String>> {
        self.resolve(name)
            .map(|targets| targets.iter().map(Target::label).collect())
    }

    /// The target `provider/model` names, when that provider is known.
    pub fn target(&self, name: &str) -> Option<Target> {
        let (provider, model) = name.split_once('/')?;
        let endpoint = self.endpoints.get(provider)?;
        (!model.is_empty()).then(|| Target {
            endpoint: endpoint.clone(),
            model: model.to_owned(),
        })
    }

    /// One call to the first target of `name`, without retries, fallback or cool-down:
    /// "Test connection" wants to see the provider's own answer or error.
    pub async fn test(&self, name: &str, request: &ChatRequest) -> Result<Route, RouteError> {
        let target = self
            .resolve(name)
            .and_then(|t| t.into_iter().next())
            .ok_or_else(|| RouteError::UnknownAlias(name.to_owned()))?;
        match self.call(&target, request, &mut |_| {}).await {
            Ok(response) => Ok(Route {
                response,
                target: target.label(),
                tries: Vec::new(),
            }),
            Err(error) => Err(RouteError::AllFailed {
                alias: name.to_owned(),
                tries: vec![Try {
                    target: target.label(),
                    error,
                    retry_in: None,
                }],
            }),
        }
    }

    /// Sends `request` to the targets of `alias` (see the module docs).
    pub async fn chat(
        &self,
        alias: &str,
        request: &ChatRequest,
        on: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<Route, RouteError> {
        let targets = self
            .resolve(alias)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RouteError::UnknownAlias(alias.to_owned()))?;
        let now = Instant::now();
        let (ready, cooling): (Vec<Target>, Vec<Target>) = targets
            .into_iter()
            .partition(|t| self.cooling_until(t).is_none_or(|until| until <= now));
        if ready.is_empty() {
            let ready_in = cooling
                .iter()
                .filter_map(|t| self.cooling_until(t))
                .min()
                .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
            return Err(RouteError::CoolingDown {
                alias: alias.to_owned(),
                ready_in,
            });
        }
        let mut tries = Vec::new();
        for target in &ready {
            for attempt in 1..=self.policy.attempts_per_target.max(1) {
                on(Progress::Trying(&target.label()));
                let mut on_text = |text: &str| on(Progress::Text(text));
                match self.call(target, request, &mut on_text).await {
                    Ok(response) => {
                        self.record(target, true);
                        return Ok(Route {
                            response,
                            target: target.label(),
                            tries,
                        });
                    }
                    Err(error) => {
                        self.record(target, false);
                        let wait = (error.is_retryable()
                            && attempt < self.policy.attempts_per_target)
                            .then(|| self.backoff(attempt, error.retry_after()))
                            .flatten();
                        let failed = Try {
                            target: target.label(),
                            error,
                            retry_in: wait,
                        };
                        on(Progress::Failed(&failed));
                        tries.push(failed);
                        match wait {
                            Some(wait) => tokio::time::sleep(wait).await,
                            None => break,
                        }
                    }
                }
            }
        }
        Err(RouteError::AllFailed {
            alias: alias.to_owned(),
            tries,
        })
    }

    /// The wait before try `attempt + 1` on the same target: `Retry-After` when the
    /// provider sent it, else exponential; `None` when that is longer than `max_delay`.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let wait = retry_after.unwrap_or_else(|| {
            self.policy
                .base_delay
                .saturating_mul(1 << (attempt - 1).min(16))
        });
        (wait <= self.policy.max_delay).then_some(wait)
    }

    fn cooling_until(&self, target: &Target) -> Option<Instant> {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.get(&target.label()).and_then(|h| h.cooling_until)
    }

    fn record(&self, target: &Target, ok: bool) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = health.entry(target.label()).or_default();
        if ok {
            *entry = Health::default();
            return;
        }
        entry.failures += 1;
        if entry.failures >= self.policy.failures_to_cool {
            entry.failures = 0;
            entry.cooling_until = Some(Instant::now() + self.policy.cool_down);
        }
    }

    /// One call to one target, within the total timeout.
    async fn call(
        &self,
        target: &Target,
        request: &ChatRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, CallError> {
        let total = self.timeouts.total;
        tokio::time::timeout(total, self.call_once(target, request, on_text))
            .await
            .unwrap_or(Err(CallError::TotalTimeout(total)))
    }

    async fn call_once(
        &self,
        target: &Target,
        request: &ChatRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatResponse, CallError> {
        let endpoint = &target.endpoint;
        let mut request = request.clone();
        request.model.clone_from(&target.model);
        let base = endpoint.base_url.trim_end_matches('/');
        let mut http = match endpoint.protocol {
            Protocol::OpenAi => {
                let call = self
                    .http
                    .post(format!("{base}/chat/completions"))
                    .json(&openai::body(&request));
                match &endpoint.api_key {
                    Some(key) => call.bearer_auth(key),
                    None => call,
                }
            }
            Protocol::Anthropic => {
                let call = self
                    .http
                    .post(format!("{base}/messages"))
                    .header("anthropic-version", anthropic::VERSION)
                    .json(&anthropic::body(&request));
                match &endpoint.api_key {
                    Some(key) => call.header("x-api-key", key),
                    None => call,
                }
            }
        };
        if request.stream {
            http = http.header("accept", "text/event-stream");
        }
        let first_token = self.timeouts.first_token;
        let deadline = Instant::now() + first_token;
        let mut response = match tokio::time::timeout_at(deadline, http.send()).await {
            Err(_) => return Err(CallError::FirstTokenTimeout(first_token)),
            Ok(Err(err)) if err.is_connect() && err.is_timeout() => {
                return Err(CallError::ConnectTimeout(self.timeouts.connect));
            }
            Ok(Err(err)) => return Err(CallError::Transport(describe(&err))),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let wait = retry_after(response.headers());
            let body = self.read_bounded(&mut response, deadline).await?;
            let text = String::from_utf8_lossy(&body);
            // Anthropic's "overloaded" is a 529: a server error like any 5xx.
            return Err(CallError::from_status(status, &text, wait));
        }
        // Some servers answer a streaming request whole (LiteLLM's mock responses do):
        // the content type says which it is.
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !request.stream || is_json {
            let body = self.read_bounded(&mut response, deadline).await?;
            let reply = match endpoint.protocol {
                Protocol::OpenAi => openai::parse(&body, &request.model),
                Protocol::Anthropic => anthropic::parse(&body, &request.model),
            }?;
            if request.stream && !reply.text.is_empty() {
                on_text(&reply.text);
            }
            return Ok(reply);
        }
        let mut reader = match endpoint.protocol {
            Protocol::OpenAi => Reader::OpenAi(openai::Stream::new(&request.model)),
            Protocol::Anthropic => Reader::Anthropic(anthropic::Stream::new(&request.model)),
        };
        let mut parser = sse::Parser::default();
        let mut started = false;
        let mut read = 0_usize;
        loop {
            let chunk = if started {
                response.chunk().await
            } else {
                tokio::time::timeout_at(deadline, response.chunk())
                    .await
                    .map_err(|_| CallError::FirstTokenTimeout(first_token))?
            };
            let Some(chunk) = chunk.map_err(|err| CallError::Transport(describe(&err)))? else {
                if let Some(data) = parser.finish() {
                    reader.event(&data, on_text)?;
                }
                break;
            };
            read += chunk.len();
            if read > self.policy.max_response_bytes {
                return Err(CallError::Malformed(format!(
                    "the answer is larger than {} bytes",
                    self.policy.max_response_bytes
                )));
            }
            for data in parser.feed(&chunk) {
                started = true;
                reader.event(&data, on_text)?;
            }
            // Some servers keep the connection open after the last event.
            if reader.is_done() {
                break;
            }
        }
        reader.finish()
    }

    /// A whole body, by `deadline` and within the size cap.
    async fn read_bounded(
        &self,
        response: &mut reqwest::Response,
        deadline: Instant,
    ) -> Result<Vec<u8>, CallError> {
        let mut body = Vec::new();
        loop {
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .map_err(|_| CallError::FirstTokenTimeout(self.timeouts.first_token))?;
            let Some(chunk) = chunk.map_err(|err| CallError::Transport(describe(&err)))? else {
                return Ok(body);
            };
            if body.len() + chunk.len() > self.policy.max_response_bytes {
                return Err(CallError::Malformed(format!(
                    "the answer is larger than {} bytes: {}",
                    self.policy.max_response_bytes,
                    provider_message(&String::from_utf8_lossy(&body))
                )));
            }
            body.extend_from_slice(&chunk);
        }
    }
}

enum Reader {
    OpenAi(openai::Stream),
    Anthropic(anthropic::Stream),
}

impl Reader {
    fn event(
        &mut self,
        data: &str,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), CallError> {
        match self {
            Reader::OpenAi(stream) => stream.event(data, on_text),
            Reader::Anthropic(stream) => stream.event(data, on_text),
        }
    }

    fn is_done(&self) -> bool {
        match self {
            Reader::OpenAi(stream) => stream.is_done(),
            Reader::Anthropic(stream) => stream.is_done(),
        }
    }

    fn finish(self) -> Result<ChatResponse, CallError> {
        match self {
            Reader::OpenAi(stream) => stream.finish(),
            Reader::Anthropic(stream) => stream.finish(),
        }
    }
}

/// The error with its causes: reqwest's own message is often just "error sending request".
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}
