//! `Llm`: the one way a model is called. Before the call, the budgets of the user and the
//! project are checked; identical requests are answered from the cache when it is on; the
//! router makes the call; and every call, answered, cached, failed or refused, becomes one
//! row of the ledger with its cost.

use crate::chat::{ChatRequest, ChatResponse, Usage};
use crate::router::{Progress, RouteError, Try};
use crate::settings::Models;
use aura_store::{LlmCall, Store, StoreError};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// Who a call is for, and why: what the ledger records and budgets are checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallContext {
    pub user_id: String,
    pub project_id: Option<String>,
    pub workflow_id: Option<String>,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    /// `step`, `editor`, `agent` or `test`.
    pub source: &'static str,
}

/// An answered call.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub response: ChatResponse,
    /// `provider/model` that answered (for a cache hit: the one that answered first).
    pub target: String,
    pub cached: bool,
    /// Millionths of a US dollar; 0 for a cache hit.
    pub cost_micros: i64,
    /// Failed tries before the answer.
    pub tries: Vec<Try>,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(transparent)]
    Route(#[from] RouteError),
    /// A budget is used up; the message names it.
    #[error("{0}")]
    OverBudget(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller stopped the call before it ended (see [`Llm::chat_until`]).
    #[error("the call was stopped before the answer ended")]
    Stopped,
}

impl LlmError {
    /// Whether the same call may succeed later. A used-up budget does not come back
    /// within a step's retries.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Route(err) => err.is_retryable(),
            LlmError::OverBudget(_) | LlmError::Stopped => false,
            LlmError::Store(_) => true,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Llm {
    models: Models,
    store: Store,
    cache_ttl: Duration,
}

impl Llm {
    pub fn new(models: Models, store: Store, cache_ttl: Duration) -> Self {
        Self {
            models,
            store,
            cache_ttl,
        }
    }

    pub fn models(&self) -> &Models {
        &self.models
    }

    /// Calls `name` (an alias, `provider/model`, or a model of the default provider).
    /// `cache`: `None` caches when the temperature is 0.
    pub async fn chat(
        &self,
        context: &CallContext,
        name: &str,
        request: &ChatRequest,
        cache: Option<bool>,
        on: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<Answer, LlmError> {
        self.chat_until(context, name, request, cache, on, std::future::pending())
            .await
    }

    /// [`Llm::chat`], abandoned when `stop` completes first (the user pressed Stop, or
    /// left): the provider's connection is dropped, so it stops generating. The ledger
    /// still gets a row, `stopped`, with tokens estimated from the text sent and
    /// received (about four characters a token), since providers bill what they
    /// generated before the connection closed.
    pub async fn chat_until(
        &self,
        context: &CallContext,
        name: &str,
        request: &ChatRequest,
        cache: Option<bool>,
        on: &mut (dyn FnMut(Progress<'_>) + Send),
        stop: impl Future<Output = ()> + Send,
    ) -> Result<Answer, LlmError> {
        let started = Instant::now();
        let mut row = LlmCall {
            user_id: context.user_id.clone(),
            project_id: context.project_id.clone(),
            workflow_id: context.workflow_id.clone(),
            run_id: context.run_id.clone(),
            step_id: context.step_id.clone(),
            source: context.source.to_owned(),
            alias: name.to_owned(),
            ..LlmCall::default()
        };
        if let Err(refusal) = self.check_budgets(context).await {
            row.outcome = "refused".into();
            row.error = Some(refusal.to_string());
            self.store.record_llm_call(&row).await?;
            return Err(refusal);
        }
        let router = self.models.current();
        let key = cache
            .unwrap_or(request.temperature == Some(0.0))
            .then(|| {
                router
                    .targets_of(name)
                    .map(|targets| cache_key(&targets, request))
            })
            .flatten();
        if let Some(key) = &key
            && let Some((target, text)) = self.store.cached_llm_response(key).await?
            && let Ok(response) = serde_json::from_str::<ChatResponse>(&text)
        {
            if !response.text.is_empty() {
                on(Progress::Text(&response.text));
            }
            row.target = Some(target.clone());
            row.input_tokens = 0;
            row.output_tokens = 0;
            row.cached = 1;
            row.latency_ms = started.elapsed().as_millis() as i64;
            row.outcome = "ok".into();
            self.store.record_llm_call(&row).await?;
            return Ok(Answer {
                response,
                target,
                cached: true,
                cost_micros: 0,
                tries: Vec::new(),
            });
        }
        // What the try in flight has streamed, for the estimate if the call is stopped.
        let mut trying: Option<String> = None;
        let mut streamed = 0usize;
        let mut watch = |progress: Progress<'_>| {
            match &progress {
                Progress::Trying(target) => {
                    trying = Some((*target).to_owned());
                    streamed = 0;
                }
                Progress::Text(text) => streamed += text.len(),
                Progress::Failed(_) => {}
            }
            on(progress)
        };
        let result = tokio::select! {
            result = router.chat(name, request, &mut watch) => Some(result),
            () = stop => None,
        };
        row.latency_ms = started.elapsed().as_millis() as i64;
        let Some(result) = result else {
            let usage = Usage {
                input_tokens: estimated_tokens(request_chars(request)),
                output_tokens: estimated_tokens(streamed),
            };
            row.cost_micros = trying
                .as_deref()
                .map_or(0, |target| self.models.cost_micros(target, usage));
            row.target = trying;
            row.input_tokens = usage.input_tokens as i64;
            row.output_tokens = usage.output_tokens as i64;
            row.outcome = "stopped".into();
            row.error = Some("Stopped before the answer ended; tokens are estimated.".into());
            self.store.record_llm_call(&row).await?;
            return Err(LlmError::Stopped);
        };
        match result {
            Ok(route) => {
                let usage = route.response.usage.unwrap_or_default();
                let cost_micros = self.models.cost_micros(&route.target, usage);
                row.target = Some(route.target.clone());
                row.input_tokens = usage.input_tokens as i64;
                row.output_tokens = usage.output_tokens as i64;
                row.cost_micros = cost_micros;
                row.outcome = "ok".into();
                self.store.record_llm_call(&row).await?;
                if let Some(key) = &key
                    && let Ok(text) = serde_json::to_string(&route.response)
                {
                    self.store
                        .cache_llm_response(
                            key,
                            &route.target,
                            &text,
                            self.cache_ttl.as_millis() as i64,
                        )
                        .await?;
                }
                Ok(Answer {
                    response: route.response,
                    target: route.target,
                    cached: false,
                    cost_micros,
                    tries: route.tries,
                })
            }
            Err(err) => {
                if let RouteError::AllFailed { tries, .. } = &err {
                    row.target = tries.last().map(|t| t.target.clone());
                }
                row.outcome = "error".into();
                row.error = Some(err.to_string());
                self.store.record_llm_call(&row).await?;
                Err(err.into())
            }
        }
    }

    /// Refuses the call when a budget of the user or the project is used up this month.
    async fn check_budgets(&self, context: &CallContext) -> Result<(), LlmError> {
        let budgets = self
            .store
            .llm_budgets_for(&context.user_id, context.project_id.as_deref())
            .await?;
        let since = month_start(aura_store::now_millis());
        for budget in budgets {
            let used = self
                .store
                .llm_used(&budget.scope, &budget.subject_id, since)
                .await?;
            let over_tokens = budget.max_tokens.is_some_and(|max| used.tokens >= max);
            let over_cost = budget
                .max_cost_micros
                .is_some_and(|max| used.cost_micros >= max);
            if over_tokens || over_cost {
                let limit = match (budget.max_tokens, budget.max_cost_micros) {
                    (Some(tokens), _) if over_tokens => {
                        format!("{tokens} tokens ({} used)", used.tokens)
                    }
                    (_, Some(cost)) => {
                        format!("{} ({} used)", dollars(cost), dollars(used.cost_micros))
                    }
                    _ => String::new(),
                };
                return Err(LlmError::OverBudget(format!(
                    "The monthly model budget of this {} is used up: {limit}. An administrator can raise it on the settings page.",
                    budget.scope
                )));
            }
            self.warn_when_nearly_used(context, &budget, used, since)
                .await;
        }
        Ok(())
    }

    /// Tells the caller, once a month per budget, when 80% of it is used.
    async fn warn_when_nearly_used(
        &self,
        context: &CallContext,
        budget: &aura_store::LlmBudget,
        used: aura_store::LlmUsed,
        month: i64,
    ) {
        let near = |used: i64, max: i64| max > 0 && used.saturating_mul(5) >= max.saturating_mul(4);
        let text = match (budget.max_tokens, budget.max_cost_micros) {
            (Some(max), _) if near(used.tokens, max) => {
                format!("{} of {max} tokens", used.tokens)
            }
            (_, Some(max)) if near(used.cost_micros, max) => {
                format!("{} of {}", dollars(used.cost_micros), dollars(max))
            }
            _ => return,
        };
        let notice = aura_store::NewNotification {
            user_id: context.user_id.clone(),
            kind: "budget_nearly_used",
            subject: format!("budget:{}:{month}", budget.id),
            title: format!(
                "The monthly model budget of this {} is nearly used",
                budget.scope
            ),
            body: format!(
                "{text} used this month. Model calls stop when it is used up; an administrator can raise it."
            ),
            link: None,
        };
        if let Err(err) = self.store.notify(&notice, aura_store::Repeat::Once).await {
            tracing::warn!(error = %err, "could not write the budget notice");
        }
    }
}

/// `$1.23`, from millionths of a dollar.
pub fn dollars(micros: i64) -> String {
    format!("${:.2}", micros as f64 / 1_000_000.0)
}

/// Roughly how many characters a request sends: its JSON, which holds every message,
/// tool and tool result.
fn request_chars(request: &ChatRequest) -> usize {
    serde_json::to_vec(request).map_or(0, |json| json.len())
}

/// Tokens for `chars` characters of text, by the common rule of thumb of four a token.
fn estimated_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

/// The cache key: the targets the name resolves to (so changing an alias misses) and the
/// request without its streaming flag.
fn cache_key(targets: &[String], request: &ChatRequest) -> String {
    let mut request = request.clone();
    request.stream = false;
    request.model = String::new();
    let text = serde_json::json!({ "targets": targets, "request": request }).to_string();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first millisecond of the UTC month `millis` falls in.
pub fn month_start(millis: i64) -> i64 {
    let days = millis.div_euclid(86_400_000);
    // Civil-from-days (Howard Hinnant), enough to find the month's first day.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day_of_month = doy - (153 * mp + 2) / 5; // 0-based
    (days - day_of_month) * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_on_their_first_day() {
        // 2026-11-23 01:15:24 UTC → 2026-11-01 00:00 UTC.
        assert_eq!(month_start(1_795_396_524_000), 1_793_491_200_000);
        // 2024-02-29 12:00 UTC → 2024-02-01.
        assert_eq!(month_start(1_709_208_000_000), 1_706_745_600_000);
        // The first millisecond of a month is its own start.
        assert_eq!(month_start(1_793_491_200_000), 1_793_491_200_000);
        assert_eq!(dollars(1_234_567), "$1.23");
    }
}
