//! Starting runs and executing their steps durably.
//!
//! A [`Runner`] claims one ready step at a time from the database queue, executes it, and
//! commits the output together with the successors it unlocks. Several runners (in one
//! process or in several sharing PostgreSQL) can work the same queue: claims are atomic and
//! results are fenced by lease, so a step that finished is never executed again.
//!
//! Executed here so far: `template` and `condition`. The other step types (script, http,
//! map, llm) fail with a clear message until their executors land.

use crate::definition::{
    ConditionConfig, RetryPolicy, StepKind, TemplateConfig, WorkflowDefinition,
};
use crate::templates::environment;
use crate::workflows::{WorkflowError, Workflows};
use aura_store::{ClaimedStep, NewRun, Run, StepOutcome, Store};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tuning for a runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Identifies this runner in leases; unique per process and runner.
    pub worker_id: String,
    pub lease: Duration,
    /// How long an idle runner waits before polling the queue again.
    pub poll_interval: Duration,
}

type Graph = Arc<(WorkflowDefinition, HashMap<String, Vec<String>>)>;

#[derive(Clone)]
pub struct Runner {
    store: Store,
    workflows: Workflows,
    config: RunnerConfig,
    definitions: Arc<Mutex<HashMap<(String, i64), Graph>>>,
}

/// Why a step attempt failed, and whether trying again can help.
struct StepFailure {
    message: String,
    retryable: bool,
}

impl Runner {
    pub fn new(store: Store, config: RunnerConfig) -> Self {
        Self {
            workflows: Workflows::new(store.clone()),
            store,
            config,
            definitions: Arc::default(),
        }
    }

    /// Starts a run of the workflow's current version with `input`.
    pub async fn start(
        &self,
        owner_id: &str,
        workflow_id: &str,
        input: &Value,
    ) -> Result<Run, WorkflowError> {
        let workflow = self.workflows.get(owner_id, workflow_id).await?;
        let definition: WorkflowDefinition =
            serde_json::from_str(&workflow.definition).map_err(anyhow::Error::new)?;
        let mut waiting: HashMap<&str, HashSet<&str>> = HashMap::new();
        for step in &definition.steps {
            waiting.entry(step.id.as_str()).or_default();
            for edge in &step.next {
                waiting
                    .entry(edge.to.as_str())
                    .or_default()
                    .insert(step.id.as_str());
            }
        }
        let steps = definition
            .steps
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    waiting.get(s.id.as_str()).map_or(0, |p| p.len() as i64),
                )
            })
            .collect();
        let run = NewRun {
            workflow_id: workflow.id,
            workflow_version: workflow.current_version,
            owner_id: owner_id.to_owned(),
            input: input.to_string(),
            steps,
        };
        Ok(self.store.start_run(&run).await?)
    }

    async fn graph(&self, run: &Run) -> Result<Graph, WorkflowError> {
        let key = (run.workflow_id.clone(), run.workflow_version);
        if let Some(found) = self
            .definitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(found.clone());
        }
        let (_, definition) = self
            .workflows
            .version(&run.owner_id, &run.workflow_id, run.workflow_version)
            .await?;
        let successors = definition
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.next.iter().map(|e| e.to.clone()).collect()))
            .collect();
        let graph: Graph = Arc::new((definition, successors));
        self.definitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, graph.clone());
        Ok(graph)
    }

    /// Claims and executes one ready step. `Ok(false)` when the queue had nothing ready.
    pub async fn run_one(&self) -> Result<bool, WorkflowError> {
        let lease_ms = self.config.lease.as_millis() as i64;
        let Some(claim) = self
            .store
            .claim_step(&self.config.worker_id, lease_ms)
            .await?
        else {
            return Ok(false);
        };
        let run = self
            .store
            .find_run(&claim.run_id)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        let graph = self.graph(&run).await?;
        let (definition, successors) = &*graph;
        let Some(step) = definition.steps.iter().find(|s| s.id == claim.step_id) else {
            self.fail(
                &claim,
                "The step is missing from the workflow version.",
                None,
            )
            .await?;
            return Ok(true);
        };
        let context = self.context(&run).await?;
        // Template and condition steps finish in microseconds; the timeout matters for the
        // asynchronous step types (http, llm, script), which will await inside it.
        let timeout = step
            .timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(300));
        let result = match tokio::time::timeout(timeout, async {
            execute(step.kind, &step.config, &context)
        })
        .await
        {
            Ok(result) => result,
            Err(_) => Err(StepFailure {
                message: format!("Timed out after {} ms.", timeout.as_millis()),
                retryable: true,
            }),
        };
        match result {
            Ok((output, branch)) => {
                let edges = taken_edges(step, branch.as_deref());
                let outcome = StepOutcome { edges, successors };
                let committed = self
                    .store
                    .complete_step(
                        &claim,
                        &self.config.worker_id,
                        &output.to_string(),
                        &outcome,
                    )
                    .await?;
                if !committed {
                    tracing::warn!(run = %claim.run_id, step = %claim.step_id, "lease lost; result discarded");
                }
            }
            Err(failure) => {
                let policy = step.retry.clone().unwrap_or_default();
                let retry_at = (failure.retryable
                    && claim.attempt < i64::from(policy.max_attempts))
                .then(|| aura_store::now_millis() + backoff_ms(&policy, claim.attempt));
                self.fail(&claim, &failure.message, retry_at).await?;
            }
        }
        Ok(true)
    }

    async fn fail(
        &self,
        claim: &ClaimedStep,
        message: &str,
        retry_at: Option<i64>,
    ) -> Result<(), WorkflowError> {
        self.store
            .fail_step(claim, &self.config.worker_id, message, retry_at)
            .await?;
        Ok(())
    }

    /// `{input, steps: {id: {output}}}` for templates.
    async fn context(&self, run: &Run) -> Result<Value, WorkflowError> {
        let input: Value = serde_json::from_str(&run.input).map_err(anyhow::Error::new)?;
        let mut steps = Map::new();
        for (id, output) in self.store.step_outputs(&run.id).await? {
            let output: Value = serde_json::from_str(&output).map_err(anyhow::Error::new)?;
            steps.insert(id, serde_json::json!({ "output": output }));
        }
        Ok(serde_json::json!({ "input": input, "steps": steps }))
    }

    /// Works the queue until `shutdown` resolves; expired leases are re-queued as it goes.
    pub async fn work(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            if last_sweep.elapsed() >= self.config.lease / 2 {
                last_sweep = tokio::time::Instant::now();
                if let Err(err) = self.store.requeue_expired_leases().await {
                    tracing::warn!(error = %err, "could not re-queue expired leases");
                }
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
fn taken_edges(
    step: &crate::definition::StepDefinition,
    branch: Option<&str>,
) -> Vec<(String, bool)> {
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

/// Runs one step; returns its output and, for a condition, the branch taken.
fn execute(
    kind: StepKind,
    config: &Value,
    context: &Value,
) -> Result<(Value, Option<String>), StepFailure> {
    let env = environment();
    // Configs were validated on save; a mismatch here means a corrupt row, not bad input.
    let invalid = |e: serde_json::Error| StepFailure {
        message: format!("Invalid step configuration: {e}"),
        retryable: false,
    };
    let render_error = |e: minijinja::Error| StepFailure {
        message: format!("Template failed: {e}"),
        retryable: false,
    };
    match kind {
        StepKind::Template => {
            let config: TemplateConfig = serde_json::from_value(config.clone()).map_err(invalid)?;
            let text = env
                .render_str(&config.template, context)
                .map_err(render_error)?;
            let output = if config.json {
                serde_json::from_str(&text).map_err(|e| StepFailure {
                    message: format!("The template did not produce valid JSON: {e}"),
                    retryable: false,
                })?
            } else {
                Value::String(text)
            };
            Ok((output, None))
        }
        StepKind::Condition => {
            let config: ConditionConfig =
                serde_json::from_value(config.clone()).map_err(invalid)?;
            let expression = env
                .compile_expression(&config.expression)
                .map_err(render_error)?;
            let taken = expression.eval(context).map_err(render_error)?.is_true();
            let branch = if taken { "true" } else { "false" };
            Ok((
                serde_json::json!({ "branch": branch }),
                Some(branch.to_owned()),
            ))
        }
        other => Err(StepFailure {
            message: format!("{other:?} steps cannot run yet in this version of Aura."),
            retryable: false,
        }),
    }
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

    #[test]
    fn templates_render_strictly_and_conditions_choose_a_branch() {
        let context = serde_json::json!({ "input": { "name": "Ada", "size": 5 }, "steps": {} });
        let (out, _) = execute(
            StepKind::Template,
            &serde_json::json!({ "template": "Hi {{ input.name }}" }),
            &context,
        )
        .ok()
        .unwrap();
        assert_eq!(out, "Hi Ada");
        let (out, _) = execute(
            StepKind::Template,
            &serde_json::json!({ "template": "{\"n\": {{ input.size }}}", "json": true }),
            &context,
        )
        .ok()
        .unwrap();
        assert_eq!(out["n"], 5);
        let failure = execute(
            StepKind::Template,
            &serde_json::json!({ "template": "{{ input.missing }}" }),
            &context,
        )
        .err()
        .unwrap();
        assert!(failure.message.contains("undefined"), "{}", failure.message);
        let (_, branch) = execute(
            StepKind::Condition,
            &serde_json::json!({ "expression": "input.size > 3" }),
            &context,
        )
        .ok()
        .unwrap();
        assert_eq!(branch.as_deref(), Some("true"));
        let failure = execute(StepKind::Http, &serde_json::json!({}), &context)
            .err()
            .unwrap();
        assert!(!failure.retryable);
    }
}
