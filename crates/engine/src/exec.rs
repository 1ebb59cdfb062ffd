//! Executing one step: each step type's config rendered against the run's context and
//! handed to its executor (minijinja, the QuickJS sandbox, the guarded HTTP client, an LLM
//! provider). Nothing here touches the database; the runner records what comes back.

use crate::definition::{
    ConditionConfig, HttpConfig, LlmConfig, MapConfig, ScriptConfig, StepKind, TemplateConfig,
};
use crate::http::{DEFAULT_MAX_RESPONSE_BYTES, EgressPolicy, HttpClient, HttpRequest};
use crate::llm::{ChatRequest, LlmProvider, OpenAiCompatible};
use crate::sandbox::{Sandbox, ScriptError, ScriptLimits};
use crate::templates::environment;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use minijinja::Environment;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a step attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    pub message: String,
    pub retryable: bool,
}

impl StepFailure {
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }

    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }
}

/// A step attempt's log: text accumulates here and the runner flushes it to the run's
/// events. It stops growing at its cap, with a note saying so.
#[derive(Clone)]
pub struct StepLog(Arc<Mutex<LogState>>);

struct LogState {
    pending: String,
    written: usize,
    cap: usize,
    truncated: bool,
}

impl StepLog {
    pub fn new(cap_bytes: usize) -> Self {
        Self(Arc::new(Mutex::new(LogState {
            pending: String::new(),
            written: 0,
            cap: cap_bytes,
            truncated: false,
        })))
    }

    /// Appends raw text (a streamed token, say).
    pub fn write(&self, text: &str) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if state.truncated {
            return;
        }
        let room = state.cap.saturating_sub(state.written);
        if text.len() <= room {
            state.pending.push_str(text);
            state.written += text.len();
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            state.pending.push_str(&text[..end]);
            let note = format!("\n[log truncated at {} bytes]\n", state.cap);
            state.pending.push_str(&note);
            state.written = state.cap;
            state.truncated = true;
        }
    }

    pub fn line(&self, text: &str) {
        self.write(text);
        self.write("\n");
    }

    /// Takes what was written since the last call.
    pub fn take(&self) -> Option<String> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (!state.pending.is_empty()).then(|| std::mem::take(&mut state.pending))
    }
}

/// What a step produced: its output, the branch a condition took, and token usage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepResult {
    pub output: Value,
    pub branch: Option<String>,
    pub usage: Option<Value>,
}

/// Settings for the executors.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    pub egress: EgressPolicy,
    /// Threads in the script sandbox pool.
    pub script_threads: usize,
    pub script_memory_mb: u32,
    /// Script wall-time limit when the step sets no timeout.
    pub script_time: Duration,
    /// OpenAI-compatible endpoint for `llm` steps (`provider` unset or `"openai"`).
    pub llm_base_url: String,
    pub llm_api_key: Option<String>,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            egress: EgressPolicy::default(),
            script_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            script_memory_mb: 64,
            script_time: Duration::from_secs(10),
            llm_base_url: "https://api.openai.com/v1".into(),
            llm_api_key: None,
        }
    }
}

/// Everything a step needs to run, shared by every runner in the process.
pub struct Executors {
    env: Environment<'static>,
    sandbox: Sandbox,
    http: HttpClient,
    providers: HashMap<String, Arc<dyn LlmProvider>>,
    config: ExecutorConfig,
}

/// One step attempt's surroundings.
pub struct Attempt<'a> {
    /// `{input, steps: {id: {output}}}`, plus `item`/`index` inside a map.
    pub context: &'a Value,
    pub log: &'a StepLog,
    pub cancel: &'a Arc<AtomicBool>,
    pub timeout: Option<Duration>,
}

impl Executors {
    pub fn new(config: ExecutorConfig) -> anyhow::Result<Self> {
        let mut providers: HashMap<String, Arc<dyn LlmProvider>> = HashMap::new();
        providers.insert(
            "openai".into(),
            Arc::new(OpenAiCompatible::new(
                &config.llm_base_url,
                config.llm_api_key.clone(),
            )?),
        );
        Ok(Self {
            env: environment(),
            sandbox: Sandbox::new(config.script_threads),
            http: HttpClient::new(config.egress.clone())?,
            providers,
            config,
        })
    }

    /// Adds or replaces a named provider.
    pub fn with_provider(mut self, name: &str, provider: Arc<dyn LlmProvider>) -> Self {
        self.providers.insert(name.to_owned(), provider);
        self
    }

    fn render(&self, source: &str, context: &Value) -> Result<String, StepFailure> {
        self.env
            .render_str(source, context)
            .map_err(|e| StepFailure::fatal(format!("Template failed: {e}")))
    }

    fn eval(&self, expression: &str, context: &Value) -> Result<minijinja::Value, StepFailure> {
        self.env
            .compile_expression(expression)
            .and_then(|e| e.eval(context))
            .map_err(|e| StepFailure::fatal(format!("Expression failed: {e}")))
    }

    /// Runs one step of any type.
    pub async fn execute(
        &self,
        kind: StepKind,
        config: &Value,
        attempt: &Attempt<'_>,
    ) -> Result<StepResult, StepFailure> {
        match kind {
            StepKind::Condition => {
                let config: ConditionConfig = parse(config)?;
                let taken = self.eval(&config.expression, attempt.context)?.is_true();
                let branch = if taken { "true" } else { "false" };
                Ok(StepResult {
                    output: serde_json::json!({ "branch": branch }),
                    branch: Some(branch.to_owned()),
                    usage: None,
                })
            }
            StepKind::Map => self.map(&parse(config)?, attempt).await,
            leaf => self.leaf(leaf, config, attempt).await,
        }
    }

    /// A step that a map may also run per item.
    async fn leaf(
        &self,
        kind: StepKind,
        config: &Value,
        attempt: &Attempt<'_>,
    ) -> Result<StepResult, StepFailure> {
        let context = attempt.context;
        let output = |output| StepResult {
            output,
            ..StepResult::default()
        };
        match kind {
            StepKind::Template => {
                let config: TemplateConfig = parse(config)?;
                let text = self.render(&config.template, context)?;
                if config.json {
                    serde_json::from_str(&text).map(output).map_err(|e| {
                        StepFailure::fatal(format!("The template did not produce valid JSON: {e}"))
                    })
                } else {
                    Ok(output(Value::String(text)))
                }
            }
            StepKind::Script => {
                let config: ScriptConfig = parse(config)?;
                let limits = ScriptLimits {
                    memory_bytes: config
                        .memory_limit_mb
                        .unwrap_or(self.config.script_memory_mb)
                        as usize
                        * 1024
                        * 1024,
                    wall_time: attempt.timeout.unwrap_or(self.config.script_time),
                };
                let run = self
                    .sandbox
                    .run(&config.code, context, limits, attempt.cancel.clone())
                    .await;
                for line in &run.logs {
                    attempt.log.line(line);
                }
                run.result.map(output).map_err(|e| StepFailure {
                    retryable: matches!(e, ScriptError::Unavailable(_)),
                    message: e.to_string(),
                })
            }
            StepKind::Http => {
                let config: HttpConfig = parse(config)?;
                let headers = config
                    .headers
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.render(v, context)?)))
                    .collect::<Result<_, StepFailure>>()?;
                let request = HttpRequest {
                    method: config.method.clone(),
                    url: self.render(&config.url, context)?,
                    headers,
                    body: config
                        .body
                        .as_deref()
                        .map(|b| self.render(b, context))
                        .transpose()?,
                    max_response_bytes: config
                        .max_response_bytes
                        .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                };
                self.http.send(&request, attempt.log).await.map(output)
            }
            StepKind::Llm => {
                let config: LlmConfig = parse(config)?;
                let name = config.provider.as_deref().unwrap_or("openai");
                let provider = self.providers.get(name).ok_or_else(|| {
                    StepFailure::fatal(format!("No model provider named `{name}` is configured."))
                })?;
                let request = ChatRequest {
                    model: config.model.clone(),
                    system: config
                        .system
                        .as_deref()
                        .map(|s| self.render(s, context))
                        .transpose()?,
                    prompt: self.render(&config.prompt, context)?,
                    temperature: config.temperature,
                    max_tokens: config.max_tokens,
                };
                let reply = provider.chat(&request, attempt.log).await?;
                let usage = reply
                    .usage
                    .as_ref()
                    .map(|u| serde_json::to_value(u).unwrap_or_default());
                Ok(StepResult {
                    output: serde_json::json!({
                        "text": reply.text,
                        "model": reply.model,
                        "finish_reason": reply.finish_reason,
                        "usage": usage,
                    }),
                    branch: None,
                    usage,
                })
            }
            StepKind::Map | StepKind::Condition => Err(StepFailure::fatal(
                "A map runs a single llm, script, http or template step per item.",
            )),
        }
    }

    /// Runs the sub-step once per item, at most `concurrency` at a time, keeping order.
    async fn map(
        &self,
        config: &MapConfig,
        attempt: &Attempt<'_>,
    ) -> Result<StepResult, StepFailure> {
        let items = self.eval(&config.items, attempt.context)?;
        let items: Vec<Value> = serde_json::to_value(&items)
            .ok()
            .and_then(|v| match v {
                Value::Array(items) => Some(items),
                _ => None,
            })
            .ok_or_else(|| {
                StepFailure::fatal(format!("`{}` did not evaluate to a list.", config.items))
            })?;
        let count = items.len();
        let contexts: Vec<Value> = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let mut context = attempt.context.clone();
                context["item"] = item;
                context["index"] = index.into();
                context
            })
            .collect();
        // A plain loop over named futures (not stream combinators with closures), so the
        // runner's future stays `Send` for any lifetime.
        let limit = config.concurrency.max(1) as usize;
        let mut running = FuturesOrdered::new();
        let mut results = Vec::with_capacity(count);
        let mut next = 0;
        while results.len() < count {
            while running.len() < limit && next < count {
                running.push_back(self.item(config, attempt, &contexts[next], next));
                next += 1;
            }
            match running.next().await {
                Some(result) => results.push(result?),
                None => break,
            }
        }
        attempt.log.line(&format!("map: {count} items done"));
        let usage = sum_usage(results.iter().filter_map(|r| r.usage.as_ref()));
        Ok(StepResult {
            output: Value::Array(results.into_iter().map(|r| r.output).collect()),
            branch: None,
            usage,
        })
    }
}

impl Executors {
    async fn item(
        &self,
        config: &MapConfig,
        attempt: &Attempt<'_>,
        context: &Value,
        index: usize,
    ) -> Result<StepResult, StepFailure> {
        let inner = Attempt {
            context,
            ..*attempt
        };
        self.leaf(config.step.kind, &config.step.config, &inner)
            .await
            .map_err(|e| StepFailure {
                message: format!("Item {index}: {}", e.message),
                ..e
            })
    }
}

/// Token counts added up across a map's items.
fn sum_usage<'a>(usages: impl Iterator<Item = &'a Value>) -> Option<Value> {
    let mut total: Option<serde_json::Map<String, Value>> = None;
    for usage in usages {
        let sum = total.get_or_insert_with(Default::default);
        for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            let add = usage[key].as_u64().unwrap_or(0);
            let now = sum.get(key).and_then(Value::as_u64).unwrap_or(0);
            sum.insert(key.into(), (now + add).into());
        }
    }
    total.map(Value::Object)
}

/// Configs were validated on save; a mismatch here means a corrupt row, not bad input.
fn parse<T: serde::de::DeserializeOwned>(config: &Value) -> Result<T, StepFailure> {
    serde_json::from_value(config.clone())
        .map_err(|e| StepFailure::fatal(format!("Invalid step configuration: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_stops_at_its_cap_with_a_note() {
        let log = StepLog::new(10);
        log.write("héllo ");
        log.write("world, this is long");
        log.write("more");
        let text = log.take().unwrap();
        assert!(text.starts_with("héllo wor\n[log truncated"), "{text}");
        assert!(text.contains("[log truncated at 10 bytes]"));
        assert!(!text.contains("more"));
        assert_eq!(log.take(), None);
    }

    async fn run(
        kind: StepKind,
        config: Value,
        context: &Value,
    ) -> Result<StepResult, StepFailure> {
        let executors = Executors::new(ExecutorConfig::default()).unwrap();
        let log = StepLog::new(1024);
        let cancel = Arc::default();
        let attempt = Attempt {
            context,
            log: &log,
            cancel: &cancel,
            timeout: None,
        };
        executors.execute(kind, &config, &attempt).await
    }

    #[tokio::test]
    async fn templates_render_strictly_conditions_branch_and_maps_keep_order() {
        let context = serde_json::json!({ "input": { "name": "Ada", "size": 5, "xs": [3, 1, 2] }, "steps": {} });
        let out = run(
            StepKind::Template,
            serde_json::json!({ "template": "Hi {{ input.name }}" }),
            &context,
        )
        .await
        .unwrap();
        assert_eq!(out.output, "Hi Ada");
        let out = run(
            StepKind::Template,
            serde_json::json!({ "template": "{\"n\": {{ input.size }}}", "json": true }),
            &context,
        )
        .await
        .unwrap();
        assert_eq!(out.output["n"], 5);
        let failure = run(
            StepKind::Template,
            serde_json::json!({ "template": "{{ input.missing }}" }),
            &context,
        )
        .await
        .unwrap_err();
        assert!(
            failure.message.contains("undefined") && !failure.retryable,
            "{failure:?}"
        );
        let out = run(
            StepKind::Condition,
            serde_json::json!({ "expression": "input.size > 3" }),
            &context,
        )
        .await
        .unwrap();
        assert_eq!(out.branch.as_deref(), Some("true"));
        let out = run(
            StepKind::Map,
            serde_json::json!({
                "items": "input.xs", "concurrency": 2,
                "step": { "type": "script", "config": { "code": "return item * 10 + index;" } }
            }),
            &context,
        )
        .await
        .unwrap();
        assert_eq!(out.output, serde_json::json!([30, 11, 22]));
        let failure = run(
            StepKind::Map,
            serde_json::json!({
                "items": "input.name", "step": { "type": "template", "config": { "template": "x" } }
            }),
            &context,
        )
        .await
        .unwrap_err();
        assert!(
            failure.message.contains("did not evaluate to a list"),
            "{failure:?}"
        );
    }
}
