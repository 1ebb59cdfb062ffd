//! Executing steps durably.
//!
//! A [`Runner`] claims one ready step at a time from the database queue, executes it, and
//! commits the output together with the successors it unlocks. Several runners (in one
//! process or in several sharing PostgreSQL) can work the same queue: claims are atomic and
//! results are fenced by lease, so a step that finished is never executed again.
//!
//! While a step executes, the runner heartbeats its lease, flushes the step's log to the
//! run's events, and watches for cancellation (in-process signals at once, other
//! processes' through the heartbeat, which fails once the step is no longer running).

use crate::definition::{RetryPolicy, StepDefinition};
use crate::engine::Engine;
use crate::exec::{Attempt, StepContext};
use crate::step::{StepFailure, StepLog, StepResult};
use crate::workflows::WorkflowError;
use aura_store::{ClaimedStep, Run, StepOutcome};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Tuning for a runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Identifies this runner in leases; unique per process and runner.
    pub worker_id: String,
    pub lease: Duration,
    /// How long an idle runner waits before polling the queue again.
    pub poll_interval: Duration,
    /// Step log cap per attempt, in bytes.
    pub log_cap: usize,
    /// Most steps one user may have running at once, across every runner sharing the
    /// database; the claim skips users at the cap.
    pub max_running_per_user: i64,
}

impl RunnerConfig {
    pub fn new(worker_id: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(100),
            log_cap: 64 * 1024,
            max_running_per_user: 2,
        }
    }
}

/// Extra time the outer timeout gives a script beyond the sandbox's own limit.
const SCRIPT_GRACE: Duration = Duration::from_millis(500);
/// How often a running step's log is flushed and its cancellation checked.
const TICK: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct Runner {
    engine: Engine,
    config: RunnerConfig,
}

/// How an attempt ended.
enum Ending {
    Done(Result<StepResult, StepFailure>),
    /// Cancelled, or the lease was lost: someone else owns the outcome now.
    Abandoned(&'static str),
}

impl Runner {
    pub fn new(engine: Engine, config: RunnerConfig) -> Self {
        Self { engine, config }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Claims and executes one ready step. `Ok(false)` when the queue had nothing ready.
    pub async fn run_one(&self) -> Result<bool, WorkflowError> {
        let store = self.engine.store();
        let lease_ms = self.config.lease.as_millis() as i64;
        let claiming = std::time::Instant::now();
        let claimed = store
            .claim_step(
                &self.config.worker_id,
                lease_ms,
                self.config.max_running_per_user,
            )
            .await?;
        metrics::histogram!("aura_claim_duration_seconds").record(claiming.elapsed());
        let Some(aura_store::Claim { step: claim, run }) = claimed else {
            return Ok(false);
        };
        self.engine.notify(&claim.run_id, false);
        let dag = self.engine.dag(&run).await?;
        let Some(step) = dag.step(&claim.step_id) else {
            self.fail(
                &claim,
                "The step is missing from the workflow version.",
                None,
            )
            .await?;
            return Ok(true);
        };
        // Validation lets templates read upstream steps only: a step nothing leads to has
        // no outputs to read, which saves the query for every run's first step.
        let mut context = self.context(&run, dag.has_upstream(&step.id)).await?;
        // Secrets are opened only for steps whose config mentions them; their values are
        // masked in everything this attempt records.
        let secrets = match self.engine.secrets() {
            Some(secrets) if step.config.to_string().contains("secrets") => {
                secrets.values(&run.owner_id).await.map_err(|err| {
                    WorkflowError::Unexpected(anyhow::anyhow!("could not open secrets: {err}"))
                })?
            }
            _ => Vec::new(),
        };
        let masker = crate::secrets::Secrets::masker(&secrets);
        if !secrets.is_empty() {
            context["secrets"] = Value::Object(
                secrets
                    .into_iter()
                    .map(|(name, value)| (name, Value::String(value)))
                    .collect(),
            );
        }
        let context = StepContext::new(context);
        let log = StepLog::masked(self.config.log_cap, masker.clone());
        let started = std::time::Instant::now();
        let ending = self.attempt(&claim, &run, step, &context, &log).await;
        let outcome = match &ending {
            Ending::Done(Ok(_)) => "succeeded",
            Ending::Done(Err(_)) => "failed",
            Ending::Abandoned(_) => "abandoned",
        };
        metrics::histogram!(
            "aura_step_duration_seconds",
            "type" => step.kind.as_str(),
            "outcome" => outcome
        )
        .record(started.elapsed());
        self.flush_log_all(&claim, &log).await;
        let ending = match ending {
            Ending::Done(Ok(mut result)) => {
                result.output = masker.json(&result.output);
                // What the approval path applies is the (masked) output; so is this.
                for file in result.apply.iter_mut().flat_map(|p| p.files.iter_mut()) {
                    file.content = masker.text(&file.content);
                }
                Ending::Done(Ok(result))
            }
            Ending::Done(Err(mut failure)) => {
                failure.message = masker.text(&failure.message);
                Ending::Done(Err(failure))
            }
            other => other,
        };
        match ending {
            Ending::Done(Ok(StepResult {
                wait: Some(wait), ..
            })) => {
                let request = masker.json(&wait.request).to_string();
                let wait = self
                    .engine
                    .wait_of(&run, &claim.step_id, &request, wait.until)
                    .await?;
                if store
                    .wait_step(&claim, &self.config.worker_id, &wait)
                    .await?
                {
                    self.engine.notify(&claim.run_id, false);
                } else {
                    tracing::warn!(run = %claim.run_id, step = %claim.step_id, "lease lost; wait discarded");
                }
            }
            Ending::Done(Ok(result)) => {
                let edges = taken_edges(step, result.branch.as_deref());
                let outcome = StepOutcome {
                    edges,
                    successors: dag.successors(),
                };
                let usage = result.usage.as_ref().map(Value::to_string);
                let apply = result
                    .apply
                    .as_ref()
                    .map(|p| self.engine.change_set(p, &run.owner_id));
                match store
                    .complete_step(
                        &claim,
                        &self.config.worker_id,
                        &result.output.to_string(),
                        usage.as_deref(),
                        &outcome,
                        apply.as_ref(),
                    )
                    .await?
                {
                    Ok(true) => self.engine.notify(&claim.run_id, false),
                    Ok(false) => {
                        tracing::warn!(run = %claim.run_id, step = %claim.step_id, "lease lost; result discarded");
                    }
                    Err(conflicts) => {
                        let message = format!(
                            "The changes cannot be applied, and none were: {}.",
                            crate::approvals::describe(&conflicts)
                        );
                        self.fail(&claim, &message, None).await?;
                    }
                }
            }
            Ending::Done(Err(failure)) => {
                let policy = step.retry.clone().unwrap_or_default();
                let retry_at = (failure.retryable
                    && claim.attempt < i64::from(policy.max_attempts))
                .then(|| aura_store::now_millis() + backoff_ms(&policy, claim.attempt));
                self.fail(&claim, &failure.message, retry_at).await?;
            }
            Ending::Abandoned(why) => {
                tracing::info!(run = %claim.run_id, step = %claim.step_id, why, "step abandoned");
            }
        }
        Ok(true)
    }

    /// Executes the step under its timeout while heartbeating, flushing the log and
    /// watching for cancellation.
    async fn attempt(
        &self,
        claim: &ClaimedStep,
        run: &aura_store::Run,
        step: &StepDefinition,
        context: &StepContext,
        log: &StepLog,
    ) -> Ending {
        let cancel = Arc::new(AtomicBool::new(false));
        let is_script = step.kind == crate::definition::StepKind::Script;
        let step_timeout = self
            .engine
            .executors()
            .limits()
            .timeout_for(step.timeout_ms, is_script);
        let mut timeout = step_timeout;
        if is_script {
            // The sandbox enforces the same limit itself and says precisely what stopped
            // the script; this outer bound is only the backstop.
            timeout += SCRIPT_GRACE;
        }
        let caller = aura_ai::CallContext {
            user_id: run.owner_id.clone(),
            project_id: None,
            workflow_id: Some(run.workflow_id.clone()),
            run_id: Some(run.id.clone()),
            step_id: Some(claim.step_id.clone()),
            source: "step",
        };
        let attempt = Attempt {
            context,
            item: None,
            log,
            cancel: &cancel,
            timeout: step_timeout,
            caller: &caller,
        };
        let mut signals = self.engine.subscribe();
        let execution = tokio::time::timeout(
            timeout,
            self.engine
                .executors()
                .execute(step.kind, &step.config, &attempt),
        );
        tokio::pin!(execution);
        let start = tokio::time::Instant::now();
        let mut ticks = tokio::time::interval_at(start + TICK, TICK);
        let mut last_beat = start;
        let ending = loop {
            tokio::select! {
                result = &mut execution => {
                    break Ending::Done(result.unwrap_or_else(|_| Err(StepFailure::retryable(
                        format!(
                            "The step ran longer than its {} ms timeout and was stopped \
                             (timeout_ms; the most is {}).",
                            step_timeout.as_millis(),
                            crate::limits::vars::TIMEOUT,
                        ),
                    ))));
                }
                _ = ticks.tick() => {
                    self.flush_log(claim, log).await;
                    if last_beat.elapsed() >= self.config.lease / 3 {
                        last_beat = tokio::time::Instant::now();
                        let lease_ms = self.config.lease.as_millis() as i64;
                        match self.engine.store().heartbeat(claim, &self.config.worker_id, lease_ms).await {
                            Ok(true) => {}
                            Ok(false) => break Ending::Abandoned("lease lost or run cancelled"),
                            Err(err) => tracing::warn!(error = %err, "heartbeat failed"),
                        }
                    }
                }
                signal = signals.recv() => match signal {
                    Ok(signal) if signal.cancelled && signal.run_id == claim.run_id => {
                        break Ending::Abandoned("run cancelled");
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => std::future::pending::<()>().await,
                },
            }
        };
        // Dropping the execution stops http and llm calls; scripts see the flag.
        cancel.store(matches!(ending, Ending::Abandoned(_)), Ordering::Relaxed);
        ending
    }

    async fn flush_log(&self, claim: &ClaimedStep, log: &StepLog) {
        let Some(text) = log.take() else { return };
        self.store_log(claim, text).await;
    }

    /// The last flush of an attempt: everything left, held-back tails included.
    async fn flush_log_all(&self, claim: &ClaimedStep, log: &StepLog) {
        let Some(text) = log.take_all() else { return };
        self.store_log(claim, text).await;
    }

    async fn store_log(&self, claim: &ClaimedStep, text: String) {
        let detail = serde_json::json!({ "attempt": claim.attempt, "text": text }).to_string();
        match self
            .engine
            .store()
            .append_event(
                &claim.run_id,
                aura_store::EventKind::StepLog,
                Some(&claim.step_id),
                &detail,
            )
            .await
        {
            Ok(()) => self.engine.notify(&claim.run_id, false),
            Err(err) => tracing::warn!(error = %err, "could not store a step log"),
        }
    }

    async fn fail(
        &self,
        claim: &ClaimedStep,
        message: &str,
        retry_at: Option<i64>,
    ) -> Result<(), WorkflowError> {
        self.engine
            .store()
            .fail_step(claim, &self.config.worker_id, message, retry_at)
            .await?;
        self.engine.notify(&claim.run_id, false);
        Ok(())
    }

    /// `{input, steps: {id: {output}}}` for templates.
    async fn context(&self, run: &Run, has_upstream: bool) -> Result<Value, WorkflowError> {
        let input: Value = serde_json::from_str(&run.input).map_err(anyhow::Error::new)?;
        let mut steps = Map::new();
        let outputs = if has_upstream {
            self.engine.store().step_outputs(&run.id).await?
        } else {
            Vec::new()
        };
        for (id, output) in outputs {
            let output: Value = serde_json::from_str(&output).map_err(anyhow::Error::new)?;
            steps.insert(id, serde_json::json!({ "output": output }));
        }
        Ok(serde_json::json!({ "input": input, "steps": steps }))
    }

    /// Works the queue until `shutdown` resolves; expired leases are re-queued as it goes.
    pub async fn work(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last_sweep: Option<tokio::time::Instant> = None;
        loop {
            if last_sweep.is_none_or(|at| at.elapsed() >= self.config.lease / 2) {
                last_sweep = Some(tokio::time::Instant::now());
                if let Err(err) = self.engine.store().requeue_expired_leases().await {
                    tracing::warn!(error = %err, "could not re-queue expired leases");
                }
                if let Err(err) = self.engine.end_expired_waits().await {
                    tracing::warn!(error = %err, "could not end expired waits");
                }
            }
            // A step that started is allowed to finish; shutdown is seen between steps.
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = std::future::ready(()) => {}
            }
            let worked = match self.run_one().await {
                Ok(worked) => worked,
                Err(err) => {
                    tracing::error!(error = %err, "runner failed to process a step");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                }
            }
        }
    }
}

/// Each successor once, taken if any edge to it is: a condition may send both of its
/// branches to the same step, and the store counts each predecessor once.
pub(crate) fn taken_edges(step: &StepDefinition, branch: Option<&str>) -> Vec<(String, bool)> {
    let mut edges: Vec<(String, bool)> = Vec::new();
    for edge in &step.next {
        let taken = branch.is_none() || edge.branch.as_deref() == branch;
        match edges.iter_mut().find(|(to, _)| *to == edge.to) {
            Some((_, seen)) => *seen |= taken,
            None => edges.push((edge.to.clone(), taken)),
        }
    }
    edges
}

/// Exponential backoff with ±20 % jitter, capped at the policy's maximum interval.
pub fn backoff_ms(policy: &RetryPolicy, attempt: i64) -> i64 {
    let exponent = (attempt.max(1) - 1).min(62) as i32;
    let base = policy.initial_interval_ms as f64 * policy.backoff_coefficient.powi(exponent);
    let capped = base.min(policy.max_interval_ms as f64);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.8 + 0.4 * (f64::from(nanos % 1_000) / 1_000.0);
    (capped * jitter).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_to_one_successor_count_once_and_are_taken_if_any_branch_is() {
        let step: crate::definition::StepDefinition = serde_json::from_value(serde_json::json!({
            "id": "check", "type": "condition", "config": { "expression": "true" },
            "next": [{ "to": "x", "branch": "true" }, { "to": "x", "branch": "false" }, { "to": "y", "branch": "false" }]
        }))
        .unwrap();
        assert_eq!(
            taken_edges(&step, Some("true")),
            vec![("x".to_owned(), true), ("y".to_owned(), false)]
        );
        assert_eq!(
            taken_edges(&step, Some("false")),
            vec![("x".to_owned(), true), ("y".to_owned(), true)]
        );
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_interval_ms: 1_000,
            backoff_coefficient: 2.0,
            max_interval_ms: 5_000,
        };
        for (attempt, base) in [
            (1, 1_000.0),
            (2, 2_000.0),
            (3, 4_000.0),
            (4, 5_000.0),
            (9, 5_000.0),
        ] {
            let delay = backoff_ms(&policy, attempt) as f64;
            assert!(
                (base * 0.8..=base * 1.2).contains(&delay),
                "attempt {attempt}: {delay}"
            );
        }
    }
}
