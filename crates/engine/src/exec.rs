//! Executing one step: each step type's config rendered against the run's context and
//! handed to its executor (minijinja, the QuickJS sandbox, the guarded HTTP client, an LLM
//! provider). Nothing here touches the database; the runner records what comes back.

use crate::definition::{
    AnalysisConfig, ApprovalConfig, ConditionConfig, HttpConfig, LlmConfig, MapConfig,
    ScriptConfig, StepKind, TemplateConfig,
};
use crate::evaluator::{Evaluator, EvaluatorProgram, Outcome, Task};
use crate::http::{EgressPolicy, HttpClient, HttpRequest};
use crate::limits::{StepLimits, vars};
use crate::sandbox::{Sandbox, ScriptError, ScriptJob, ScriptLimits};
use crate::step::{StepFailure, StepLog, StepResult, WaitFor};
use crate::templates::output_too_large;
use crate::workspace::Workspace;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Settings for the executors.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    pub egress: EgressPolicy,
    /// Threads in the script sandbox pool; give it two per runner, so that one step's
    /// scripts never wait for another step's.
    pub script_threads: usize,
    /// The operator's ceilings.
    pub limits: StepLimits,
    /// How to start the processes that evaluate templates and expressions.
    pub evaluator: EvaluatorProgram,
    /// How `llm` steps call models (budgets, cache, router, ledger); none: `llm` steps fail
    /// saying no provider is configured.
    pub llm: Option<aura_ai::Llm>,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            egress: EgressPolicy::default(),
            script_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            limits: StepLimits::default(),
            evaluator: EvaluatorProgram::current_exe(),
            llm: None,
        }
    }
}

/// A map runs at most this many template or script items of one step at once, whatever
/// its `concurrency`: those items use CPU, not the network, and one step must not take
/// every core (nor every sandbox thread) from the other users' steps.
const CPU_ITEMS_PER_STEP: usize = 2;

/// Everything a step needs to run, shared by every runner in the process.
pub struct Executors {
    evaluator: Evaluator,
    sandbox: Sandbox,
    pub(crate) http: HttpClient,
    pub(crate) llm: Option<aura_ai::Llm>,
    pub(crate) limits: StepLimits,
    /// The run owners' projects; set when the engine is built on a store.
    pub(crate) workspace: Option<Workspace>,
    /// Code analyses running at once in this process (CPU work, like scripts).
    pub(crate) analysis_slots: tokio::sync::Semaphore,
    /// The operator's caps on a project: what applied change sets must keep to, and how
    /// much an agent's edits may hold.
    pub(crate) project_limits: aura_store::ProjectLimits,
}

/// What a step's templates and scripts read: `{input, steps: {id: {output}}}`. Built once
/// per step and shared by every item of a map, which adds only `item` and `index`. Its
/// JSON text, made on first use, is what evaluators and scripts receive.
pub struct StepContext {
    id: u64,
    json: Value,
    text: OnceLock<Arc<str>>,
}

impl StepContext {
    pub fn new(json: Value) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            json,
            text: OnceLock::new(),
        }
    }

    /// Unique in this process: an evaluator that holds this id holds this context.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn json_text(&self) -> Arc<str> {
        self.text
            .get_or_init(|| Arc::from(self.json.to_string()))
            .clone()
    }
}

/// One element of a map's list.
pub(crate) struct Item {
    pub(crate) value: Value,
    pub(crate) index: usize,
}

/// One step attempt's surroundings.
pub(crate) struct Attempt<'a> {
    pub context: &'a StepContext,
    /// Inside a map: the item this execution is for.
    pub item: Option<&'a Item>,
    pub log: &'a StepLog,
    pub cancel: &'a Arc<AtomicBool>,
    /// The step's timeout, already clamped to the ceiling.
    pub timeout: Duration,
    /// Who the step runs for: what model calls are billed to.
    pub caller: &'a aura_ai::CallContext,
}

impl Executors {
    pub fn new(config: ExecutorConfig) -> anyhow::Result<Self> {
        Ok(Self {
            // As many evaluators as sandbox threads: the same steps use one or the other.
            evaluator: Evaluator::new(
                config.evaluator,
                config.script_threads,
                config.limits.template_memory_mb,
                config.limits.max_output_bytes,
            ),
            sandbox: Sandbox::new(config.script_threads),
            http: HttpClient::new(config.egress.clone())?,
            llm: config.llm,
            limits: config.limits,
            workspace: None,
            analysis_slots: tokio::sync::Semaphore::new(config.script_threads.max(1)),
            project_limits: aura_store::ProjectLimits {
                max_project_bytes: 20 * 1024 * 1024,
                max_entries: 5_000,
            },
        })
    }

    /// Lets steps read their run owner's projects.
    pub(crate) fn attach_store(&mut self, store: aura_store::Store) {
        self.workspace = Some(Workspace::new(store));
    }

    pub fn limits(&self) -> &StepLimits {
        &self.limits
    }

    /// Renders a template field (a URL, a prompt) with the full fuel.
    async fn render(&self, source: &str, attempt: &Attempt<'_>) -> Result<String, StepFailure> {
        self.render_with(source, attempt, self.limits.template_fuel)
            .await
    }

    async fn render_with(
        &self,
        source: &str,
        attempt: &Attempt<'_>,
        fuel: u64,
    ) -> Result<String, StepFailure> {
        let task = Task::Render {
            template: source.to_owned(),
        };
        match self.evaluate(task, attempt, fuel).await? {
            Outcome::Text(text) => Ok(text),
            other => Err(unexpected(other)),
        }
    }

    /// Runs one evaluation in an evaluator process and turns its failures into the step's.
    async fn evaluate(
        &self,
        task: Task,
        attempt: &Attempt<'_>,
        fuel: u64,
    ) -> Result<Outcome, StepFailure> {
        let noun = match task {
            Task::Render { .. } => "Template",
            Task::Condition { .. } | Task::List { .. } => "Expression",
        };
        match self
            .evaluator
            .run(task, attempt.context, attempt.item, fuel)
            .await?
        {
            Outcome::OutOfFuel => Err(StepFailure::fatal(format!(
                "{noun} stopped: it used up its fuel of {fuel} instructions ({}).",
                vars::TEMPLATE_FUEL
            ))),
            Outcome::OutputTooLarge => Err(output_too_large(
                self.limits.max_output_bytes,
                "template's output",
            )),
            Outcome::Failed(message) => {
                Err(StepFailure::fatal(format!("{noun} failed: {message}")))
            }
            outcome => Ok(outcome),
        }
    }

    /// Runs a script in the sandbox: its memory at most the operator's ceiling, for at
    /// most `wall_time`.
    pub(crate) async fn script(
        &self,
        code: &str,
        memory_limit_mb: Option<u32>,
        wall_time: Duration,
        attempt: &Attempt<'_>,
    ) -> Result<Value, StepFailure> {
        let ceiling = self.limits.script_memory_mb;
        let memory_mb = memory_limit_mb.map_or(ceiling, |m| m.min(ceiling));
        let limits = ScriptLimits {
            memory_bytes: memory_mb as usize * 1024 * 1024,
            wall_time,
            max_result_bytes: self.limits.max_output_bytes,
        };
        let item = attempt
            .item
            .map(|item| {
                serde_json::to_string(&serde_json::json!({
                    "item": item.value, "index": item.index
                }))
            })
            .transpose()
            .map_err(|e| StepFailure::fatal(format!("The item is not JSON: {e}")))?;
        let job = ScriptJob {
            code,
            scope: attempt.context.json_text(),
            item,
            limits,
            log: attempt.log.clone(),
            cancel: attempt.cancel.clone(),
        };
        self.sandbox.run(job).await.map_err(|e| StepFailure {
            retryable: matches!(e, ScriptError::Unavailable(_)),
            message: e.to_string(),
        })
    }

    /// Runs one step of any type.
    pub(crate) async fn execute(
        &self,
        kind: StepKind,
        config: &Value,
        attempt: &Attempt<'_>,
    ) -> Result<StepResult, StepFailure> {
        match kind {
            StepKind::Condition => {
                let config: ConditionConfig = parse(config)?;
                let fuel = self.limits.fuel_for(config.fuel);
                let task = Task::Condition {
                    expression: config.expression,
                };
                let taken = match self.evaluate(task, attempt, fuel).await? {
                    Outcome::Truth(taken) => taken,
                    other => return Err(unexpected(other)),
                };
                let branch = if taken { "true" } else { "false" };
                Ok(StepResult {
                    output: serde_json::json!({ "branch": branch }),
                    branch: Some(branch.to_owned()),
                    ..StepResult::default()
                })
            }
            StepKind::Map => self.map(&parse(config)?, attempt).await,
            StepKind::Agent => {
                let config: crate::definition::AgentConfig = parse(config)?;
                let goal = self.render(&config.goal, attempt).await?;
                let (Some(workspace), Some(llm)) = (&self.workspace, &self.llm) else {
                    return Err(StepFailure::fatal(
                        "The agent needs projects and a model provider, and this server has not both.",
                    ));
                };
                let (Some(run_id), Some(step_id)) =
                    (&attempt.caller.run_id, &attempt.caller.step_id)
                else {
                    return Err(StepFailure::fatal(
                        "The agent runs only as a step of a run.",
                    ));
                };
                let caller = aura_ai::CallContext {
                    source: "agent",
                    ..attempt.caller.clone()
                };
                let session = crate::agent::run::Session {
                    config: &config,
                    goal,
                    exec: self,
                    workspace,
                    llm,
                    attempt,
                    caller: &caller,
                    run_id,
                    step_id,
                };
                let finished = session.run().await?;
                let project_id = finished.replay.start.as_ref().map(|s| s.project_id.clone());
                // Diffs of every changed file: CPU work, off the async workers.
                let workbench = finished.workbench;
                let files = tokio::task::spawn_blocking(move || workbench.changes())
                    .await
                    .map_err(|e| {
                        StepFailure::retryable(format!("The diff stopped unexpectedly: {e}"))
                    })?;
                attempt.log.line(&format!(
                    "agent: {} turns, {} tokens, {} files changed",
                    finished.replay.model_turns,
                    finished.replay.tokens,
                    files.len()
                ));
                // `apply: auto`: the change set is written as the step completes, in the
                // same transaction (see the runner).
                let apply = match (&project_id, config.apply) {
                    (Some(project), crate::definition::ApplyMode::Auto) if !files.is_empty() => {
                        let mut note =
                            format!("Run {run_id}, step {step_id}, applied automatically");
                        note.truncate(200);
                        Some(crate::approvals::Proposal {
                            project_id: project.clone(),
                            files: files
                                .iter()
                                .map(|f| aura_store::FileChange {
                                    path: f.path.clone(),
                                    base_revision: f.base_revision,
                                    content: f.content.clone(),
                                })
                                .collect(),
                            note,
                        })
                    }
                    _ => None,
                };
                Ok(StepResult {
                    output: serde_json::json!({
                        "summary": finished.summary,
                        "changes": { "project": project_id, "files": files },
                        "applied": crate::approvals::applied(apply.as_ref()),
                        "turns": finished.replay.model_turns,
                        "tokens": finished.replay.tokens,
                        "cost_usd": finished.replay.cost_micros as f64 / 1e6,
                    }),
                    apply,
                    ..StepResult::default()
                })
            }
            StepKind::Approval => {
                let config: ApprovalConfig = parse(config)?;
                let message = self.render(&config.message, attempt).await?;
                let until = config
                    .timeout_minutes
                    .map(|m| aura_store::now_millis() + i64::from(m) * 60_000);
                attempt.log.line("Waiting for a decision.");
                Ok(StepResult {
                    wait: Some(WaitFor {
                        request: serde_json::json!({
                            "message": message,
                            "timeout_at": until,
                            "on_timeout": config.on_timeout,
                            "apply": config.apply,
                        }),
                        until,
                    }),
                    ..StepResult::default()
                })
            }
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
        let output = output_of;
        match kind {
            StepKind::Template => {
                let config: TemplateConfig = parse(config)?;
                let fuel = self.limits.fuel_for(config.fuel);
                let text = self.render_with(&config.template, attempt, fuel).await?;
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
                self.script(
                    &config.code,
                    config.memory_limit_mb,
                    attempt.timeout,
                    attempt,
                )
                .await
                .map(output)
            }
            StepKind::Http => {
                let config: HttpConfig = parse(config)?;
                let mut headers = std::collections::BTreeMap::new();
                for (name, value) in &config.headers {
                    headers.insert(name.clone(), self.render(value, attempt).await?);
                }
                let body = match config.body.as_deref() {
                    Some(body) => Some(self.render(body, attempt).await?),
                    None => None,
                };
                let ceiling = self.limits.http_max_response_bytes;
                let request = HttpRequest {
                    method: config.method.clone(),
                    url: self.render(&config.url, attempt).await?,
                    headers,
                    body,
                    max_response_bytes: config
                        .max_response_bytes
                        .map_or(ceiling, |m| m.min(ceiling)),
                };
                self.http.send(&request, attempt.log).await.map(output)
            }
            StepKind::Llm => {
                let config: LlmConfig = parse(config)?;
                // `model` is an alias, `provider/model`, or a model of the default provider.
                let name = match &config.provider {
                    Some(provider) => format!("{provider}/{}", config.model),
                    None => config.model.clone(),
                };
                let system = match config.system.as_deref() {
                    Some(system) => Some(self.render(system, attempt).await?),
                    None => None,
                };
                let request = aura_ai::ChatRequest {
                    system,
                    messages: vec![aura_ai::Message::user(
                        self.render(&config.prompt, attempt).await?,
                    )],
                    temperature: config.temperature,
                    max_tokens: config.max_tokens,
                    stream: true,
                    ..aura_ai::ChatRequest::default()
                };
                let log = attempt.log;
                let llm = self.llm.as_ref().ok_or_else(|| {
                    StepFailure::fatal("No model provider is configured on this server.")
                })?;
                let answer = llm
                    .chat(
                        attempt.caller,
                        &name,
                        &request,
                        config.cache,
                        &mut |progress| match progress {
                            aura_ai::Progress::Trying(_) => {}
                            aura_ai::Progress::Text(text) => log.write(text),
                            aura_ai::Progress::Failed(failed) => log.write(&format!(
                                "\n[{} failed: {}; {}]\n",
                                failed.target,
                                failed.error,
                                match failed.retry_in {
                                    Some(wait) =>
                                        format!("trying it again in {:.1}s", wait.as_secs_f64()),
                                    None => "moving on".to_owned(),
                                }
                            )),
                        },
                    )
                    .await
                    .map_err(model_failure)?;
                log.write(&format!(
                    "\n[answered by {}{}]\n",
                    answer.target,
                    if answer.cached { " (cached)" } else { "" }
                ));
                let reply = answer.response;
                let usage = reply
                    .usage
                    .map(|u| serde_json::to_value(u).unwrap_or_default());
                Ok(StepResult {
                    output: serde_json::json!({
                        "text": reply.text,
                        "model": reply.model,
                        "target": answer.target,
                        "cached": answer.cached,
                        "cost_usd": answer.cost_micros as f64 / 1_000_000.0,
                        "stop_reason": reply.stop_reason.as_ref().map(aura_ai::StopReason::as_str),
                        "usage": usage,
                    }),
                    usage,
                    ..StepResult::default()
                })
            }
            StepKind::Analysis => {
                let config: AnalysisConfig = parse(config)?;
                let text = match config.text.as_deref() {
                    Some(text) => Some(self.render(text, attempt).await?),
                    None => None,
                };
                let output = crate::analyze::run(
                    &config,
                    text,
                    &attempt.caller.user_id,
                    self.workspace.as_ref(),
                    &self.analysis_slots,
                )
                .await?;
                if json_size(&output) > self.limits.max_output_bytes {
                    return Err(output_too_large(
                        self.limits.max_output_bytes,
                        "analysis report (choose fewer files with paths)",
                    ));
                }
                attempt.log.line(&format!(
                    "analysis: {} files, {} findings",
                    output["summary"]["files"], output["summary"]["findings"]
                ));
                Ok(output_of(output))
            }
            StepKind::Map | StepKind::Condition | StepKind::Approval | StepKind::Agent => {
                Err(StepFailure::fatal(
                    "A map runs a single llm, script, http, template or analysis step per item.",
                ))
            }
        }
    }

    /// Runs the sub-step once per item, at most `concurrency` at a time, keeping order.
    /// Every item reads the one shared context; the item count and the total size of the
    /// outputs are capped.
    async fn map(
        &self,
        config: &MapConfig,
        attempt: &Attempt<'_>,
    ) -> Result<StepResult, StepFailure> {
        let max_items = config.max_items.map_or(self.limits.map_max_items, |m| {
            m.min(self.limits.map_max_items)
        });
        let task = Task::List {
            expression: config.items.clone(),
            max_items,
        };
        let list = match self
            .evaluate(task, attempt, self.limits.template_fuel)
            .await?
        {
            Outcome::List(list) => list,
            Outcome::NotAList => {
                return Err(StepFailure::fatal(format!(
                    "`{}` did not evaluate to a list.",
                    config.items
                )));
            }
            other => return Err(unexpected(other)),
        };
        let items: Vec<Item> = list
            .into_iter()
            .enumerate()
            .map(|(index, value)| Item { value, index })
            .collect();
        if items.len() > max_items {
            let source = if config
                .max_items
                .is_some_and(|m| m < self.limits.map_max_items)
            {
                "the step's max_items".to_owned()
            } else {
                vars::MAP_ITEMS.to_owned()
            };
            return Err(StepFailure::fatal(format!(
                "The list has more than {max_items} items, the most one map may run ({source})."
            )));
        }
        let count = items.len();
        let cpu_bound = matches!(config.step.kind, StepKind::Template | StepKind::Script);
        let mut limit = config.concurrency.max(1) as usize;
        if cpu_bound {
            limit = limit.min(CPU_ITEMS_PER_STEP);
        }
        // A plain loop over named futures (not stream combinators with closures), so the
        // runner's future stays `Send` for any lifetime.
        let mut running = FuturesOrdered::new();
        let mut results = Vec::with_capacity(count);
        let mut output_bytes = 0usize;
        let mut next = 0;
        while results.len() < count {
            while running.len() < limit && next < count {
                running.push_back(self.item(config, attempt, &items[next]));
                next += 1;
            }
            match running.next().await {
                Some(result) => {
                    let result = result?;
                    output_bytes += json_size(&result.output);
                    if output_bytes > self.limits.max_output_bytes {
                        return Err(output_too_large(
                            self.limits.max_output_bytes,
                            "map's combined output",
                        ));
                    }
                    results.push(result);
                }
                None => break,
            }
        }
        attempt.log.line(&format!("map: {count} items done"));
        let usage = sum_usage(results.iter().filter_map(|r| r.usage.as_ref()));
        Ok(StepResult {
            output: Value::Array(results.into_iter().map(|r| r.output).collect()),
            usage,
            ..StepResult::default()
        })
    }
}

impl Executors {
    async fn item(
        &self,
        config: &MapConfig,
        attempt: &Attempt<'_>,
        item: &Item,
    ) -> Result<StepResult, StepFailure> {
        let inner = Attempt {
            item: Some(item),
            ..*attempt
        };
        self.leaf(config.step.kind, &config.step.config, &inner)
            .await
            .map_err(|e| StepFailure {
                message: format!("Item {}: {}", item.index, e.message),
                ..e
            })
    }
}

/// A result that is only an output.
fn output_of(output: Value) -> StepResult {
    StepResult {
        output,
        ..StepResult::default()
    }
}

/// The length of `value` as JSON text, without building the text.
fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
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

/// An evaluator answered a different kind of task than it was given.
/// A failed model call as the step's failure: retried when the call may succeed later.
pub(crate) fn model_failure(err: aura_ai::LlmError) -> StepFailure {
    let message = format!("The model call failed: {err}");
    if err.is_retryable() {
        StepFailure::retryable(message)
    } else {
        StepFailure::fatal(message)
    }
}

fn unexpected(outcome: Outcome) -> StepFailure {
    tracing::error!(?outcome, "an evaluator answered out of turn");
    StepFailure::retryable("The template evaluator gave an unexpected answer.")
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

    /// The `aura-evaluate` binary, which cargo builds next to this test's directory
    /// whenever it builds the package's tests.
    pub(crate) fn test_evaluator() -> EvaluatorProgram {
        let exe = std::env::current_exe().unwrap();
        let program = exe
            .parent()
            .and_then(|deps| deps.parent())
            .unwrap()
            .join("aura-evaluate");
        assert!(
            program.exists(),
            "{} is missing: run `cargo test -p aura-engine` (not `--lib`), which builds it",
            program.display()
        );
        EvaluatorProgram {
            program,
            args: Vec::new(),
        }
    }

    async fn run_with(
        limits: StepLimits,
        kind: StepKind,
        config: Value,
        context: &Value,
    ) -> Result<StepResult, StepFailure> {
        let executors = Executors::new(ExecutorConfig {
            limits,
            evaluator: test_evaluator(),
            ..ExecutorConfig::default()
        })
        .unwrap();
        let log = StepLog::new(1024);
        let cancel = Arc::default();
        let context = StepContext::new(context.clone());
        let attempt = Attempt {
            context: &context,
            item: None,
            log: &log,
            cancel: &cancel,
            timeout: Duration::from_secs(5),
            caller: &aura_ai::CallContext::default(),
        };
        executors.execute(kind, &config, &attempt).await
    }

    async fn run(
        kind: StepKind,
        config: Value,
        context: &Value,
    ) -> Result<StepResult, StepFailure> {
        run_with(StepLimits::default(), kind, config, context).await
    }

    #[tokio::test]
    async fn templates_and_expressions_stop_at_their_fuel_and_output_caps() {
        let xs: Vec<u32> = (0..3000).collect();
        let context = serde_json::json!({ "input": { "xs": xs }, "steps": {} });
        let bomb = "{% for a in input.xs %}{% for b in input.xs %}{% for c in input.xs %}x{% endfor %}{% endfor %}{% endfor %}";
        let failure = run(
            StepKind::Template,
            serde_json::json!({ "template": bomb }),
            &context,
        )
        .await
        .unwrap_err();
        assert!(
            failure.message.contains("AURA_TEMPLATE_FUEL"),
            "{failure:?}"
        );
        let small = StepLimits {
            max_output_bytes: 1000,
            ..StepLimits::default()
        };
        let failure = run_with(
            small.clone(),
            StepKind::Template,
            serde_json::json!({ "template": "{% for x in input.xs %}{{ x }},{% endfor %}" }),
            &context,
        )
        .await
        .unwrap_err();
        assert!(
            failure
                .message
                .contains("1000-byte cap (AURA_STEP_OUTPUT_MAX_KB)"),
            "{failure:?}"
        );
        let failure = run_with(
            small,
            StepKind::Map,
            serde_json::json!({
                "items": "input.xs",
                "step": { "type": "template", "config": { "template": "{{ item }}-item" } }
            }),
            &context,
        )
        .await
        .unwrap_err();
        assert!(
            failure.message.contains("map's combined output"),
            "{failure:?}"
        );
        let few = StepLimits {
            map_max_items: 100,
            ..StepLimits::default()
        };
        let failure = run_with(
            few,
            StepKind::Map,
            serde_json::json!({
                "items": "input.xs",
                "step": { "type": "template", "config": { "template": "{{ item }}" } }
            }),
            &context,
        )
        .await
        .unwrap_err();
        assert!(
            failure.message.contains("more than 100 items")
                && failure.message.contains("AURA_MAP_MAX_ITEMS"),
            "{failure:?}"
        );
    }

    #[tokio::test]
    async fn an_evaluation_that_outgrows_its_memory_or_time_ends_alone() {
        let limits = StepLimits {
            template_memory_mb: 32,
            ..StepLimits::default()
        };
        let executors = Executors::new(ExecutorConfig {
            limits,
            evaluator: test_evaluator(),
            // One evaluator slot: the second evaluation below gets it only if the first
            // one's process was ended.
            script_threads: 1,
            ..ExecutorConfig::default()
        })
        .unwrap();
        let log = StepLog::new(1024);
        let cancel = Arc::default();
        let context = StepContext::new(serde_json::json!({ "input": {}, "steps": {} }));
        let attempt = Attempt {
            context: &context,
            item: None,
            log: &log,
            cancel: &cancel,
            timeout: Duration::from_secs(5),
            caller: &aura_ai::CallContext::default(),
        };
        // Forty doublings in a few dozen instructions: fuel cannot see it, the cap does.
        let doubling = serde_json::json!({ "template":
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}" });
        let failure = executors
            .execute(StepKind::Template, &doubling, &attempt)
            .await
            .unwrap_err();
        assert!(
            failure
                .message
                .contains("more than 32 MB of memory (AURA_TEMPLATE_MEMORY_MB)")
                && !failure.retryable,
            "{failure:?}"
        );
        // One instruction that never ends: the step's timeout drops the evaluation, which
        // kills its process and frees the slot.
        let endless = serde_json::json!({ "template": "{{ (range(10) * 10**15) | sum }}" });
        let timed_out = tokio::time::timeout(
            Duration::from_millis(500),
            executors.execute(StepKind::Template, &endless, &attempt),
        )
        .await;
        assert!(timed_out.is_err(), "{timed_out:?}");
        let next = tokio::time::timeout(
            Duration::from_secs(10),
            executors.execute(
                StepKind::Template,
                &serde_json::json!({ "template": "still {{ 6 * 7 }}" }),
                &attempt,
            ),
        )
        .await
        .expect("the slot was freed")
        .unwrap();
        assert_eq!(next.output, "still 42");
    }

    #[tokio::test]
    async fn map_items_see_the_shared_context_and_their_own_item() {
        let context = serde_json::json!({ "input": { "xs": ["a", "b"], "tag": "t" }, "steps": { "s": { "output": 7 } } });
        let out = run(
            StepKind::Map,
            serde_json::json!({
                "items": "input.xs",
                "step": { "type": "template", "config": { "template": "{{ item }}{{ index }}{{ input.tag }}{{ steps.s.output }}" } }
            }),
            &context,
        )
        .await
        .unwrap();
        assert_eq!(out.output, serde_json::json!(["a0t7", "b1t7"]));
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
