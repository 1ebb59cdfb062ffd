//! Save-time validation of a workflow definition.
//!
//! Every problem is collected (not just the first), and each names the step and the field
//! it belongs to, so the builder can mark nodes and inputs. Rules: ids are well-formed and
//! unique; edges point at existing steps and carry a branch exactly when they leave a
//! `condition`; the graph is acyclic and every step is reachable from the first; each
//! step's config matches its type's schema; templates only read the run input and
//! upstream steps.

use crate::definition::{
    AgentConfig, AnalysisConfig, ApprovalConfig, ConditionConfig, HttpConfig, LlmConfig,
    MAX_APPROVAL_MINUTES, MapConfig, RetryPolicy, ScriptConfig, StepDefinition, StepKind,
    TemplateConfig, WorkflowDefinition,
};
use crate::limits::{StepLimits, vars};
use crate::templates::{environment, expression_references, template_references};
use minijinja::Environment;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// One thing wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The step it concerns, or `None` for the workflow as a whole.
    pub step: Option<String>,
    /// Path of the offending field within the step, e.g. `next[1].to` or `config.url`.
    pub field: String,
    pub message: String,
}

pub(crate) const MAX_STEPS: usize = 1_000;
const HTTP_METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, step: Option<&str>, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            step: step.map(str::to_owned),
            field: field.into(),
            message: message.into(),
        });
    }
}

fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a definition against the default ceilings; `Ok(())` or every problem found.
pub fn validate(definition: &WorkflowDefinition) -> Result<(), Vec<Problem>> {
    validate_with(definition, &StepLimits::default())
}

/// Checks a definition; a step asking for more than the operator's `limits` allow is a
/// problem naming the ceiling.
pub fn validate_with(
    definition: &WorkflowDefinition,
    limits: &StepLimits,
) -> Result<(), Vec<Problem>> {
    let mut problems = Problems(Vec::new());
    let steps = &definition.steps;
    if steps.is_empty() {
        problems.add(None, "steps", "A workflow needs at least one step.");
        return Err(problems.0);
    }
    if steps.len() > MAX_STEPS {
        problems.add(
            None,
            "steps",
            format!("A workflow can have at most {MAX_STEPS} steps."),
        );
        return Err(problems.0);
    }

    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, step) in steps.iter().enumerate() {
        if !is_valid_id(&step.id) {
            problems.add(
                Some(&step.id),
                "id",
                "Use 1–64 lowercase letters, digits or underscores, starting with a letter.",
            );
        }
        // Edges resolve to the first step with an id; later duplicates are reported.
        if *index.entry(step.id.as_str()).or_insert(i) != i {
            problems.add(
                Some(&step.id),
                "id",
                format!("Another step already has the id {:?}.", step.id),
            );
        }
    }

    let successors = check_edges(steps, &index, &mut problems);
    let acyclic = check_cycles(steps, &successors, &mut problems);
    check_reachable(steps, &successors, &mut problems);
    let ancestors = if acyclic {
        ancestors(steps.len(), &successors)
    } else {
        vec![HashSet::new(); steps.len()]
    };

    let env = environment();
    for (i, step) in steps.iter().enumerate() {
        check_limits(step, limits, &mut problems);
        let upstream: HashSet<&str> = ancestors[i].iter().map(|&a| steps[a].id.as_str()).collect();
        let scope = Scope {
            step: &step.id,
            upstream: &upstream,
            known: &index,
            in_map: false,
            env: &env,
            limits,
        };
        check_config(step.kind, &step.config, "config", &scope, &mut problems);
    }

    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(problems.0)
    }
}

/// Resolves edges to indices, reporting dangling targets and misplaced branches.
fn check_edges(
    steps: &[StepDefinition],
    index: &HashMap<&str, usize>,
    problems: &mut Problems,
) -> Vec<Vec<usize>> {
    steps
        .iter()
        .map(|step| {
            let mut out = Vec::new();
            for (k, edge) in step.next.iter().enumerate() {
                match index.get(edge.to.as_str()) {
                    None => problems.add(
                        Some(&step.id),
                        format!("next[{k}].to"),
                        format!("No step has the id {:?}.", edge.to),
                    ),
                    Some(_) if edge.to == step.id => problems.add(
                        Some(&step.id),
                        format!("next[{k}].to"),
                        "A step cannot lead to itself.",
                    ),
                    Some(&target) => {
                        if !out.contains(&target) {
                            out.push(target);
                        }
                    }
                }
                let field = format!("next[{k}].branch");
                match (step.kind, edge.branch.as_deref()) {
                    (StepKind::Condition, Some("true" | "false")) => {}
                    (StepKind::Condition, _) => problems.add(
                        Some(&step.id),
                        field,
                        "Edges out of a condition step need a branch: \"true\" or \"false\".",
                    ),
                    (_, Some(_)) => problems.add(
                        Some(&step.id),
                        field,
                        "Only edges out of a condition step carry a branch.",
                    ),
                    (_, None) => {}
                }
            }
            out
        })
        .collect()
}

/// Kahn's algorithm; steps left with incoming edges lie on or behind a cycle.
fn check_cycles(
    steps: &[StepDefinition],
    successors: &[Vec<usize>],
    problems: &mut Problems,
) -> bool {
    let mut indegree = vec![0usize; steps.len()];
    for outs in successors {
        for &t in outs {
            indegree[t] += 1;
        }
    }
    let mut queue: VecDeque<usize> = (0..steps.len()).filter(|&i| indegree[i] == 0).collect();
    let mut removed = vec![false; steps.len()];
    while let Some(i) = queue.pop_front() {
        removed[i] = true;
        for &t in &successors[i] {
            indegree[t] -= 1;
            if indegree[t] == 0 {
                queue.push_back(t);
            }
        }
    }
    // A step is on a cycle if it can reach itself; report only those, not their followers.
    let mut acyclic = true;
    for start in (0..steps.len()).filter(|&i| !removed[i]) {
        if reachable_from(start, successors).contains(&start) {
            acyclic = false;
            problems.add(
                Some(&steps[start].id),
                "next",
                "This step is part of a cycle; workflows must not loop back.",
            );
        }
    }
    acyclic
}

/// Every index reachable from `start` by at least one edge.
fn reachable_from(start: usize, successors: &[Vec<usize>]) -> HashSet<usize> {
    let mut seen = HashSet::new();
    let mut queue: VecDeque<usize> = successors[start].iter().copied().collect();
    while let Some(i) = queue.pop_front() {
        if seen.insert(i) {
            queue.extend(successors[i].iter().copied());
        }
    }
    seen
}

fn check_reachable(steps: &[StepDefinition], successors: &[Vec<usize>], problems: &mut Problems) {
    let reached = reachable_from(0, successors);
    for (i, step) in steps.iter().enumerate().skip(1) {
        if !reached.contains(&i) {
            problems.add(
                Some(&step.id),
                "id",
                format!("No path leads here from the first step, {:?}.", steps[0].id),
            );
        }
    }
}

/// For each step, the steps that always or possibly run before it.
fn ancestors(count: usize, successors: &[Vec<usize>]) -> Vec<HashSet<usize>> {
    let mut result = vec![HashSet::new(); count];
    for start in 0..count {
        for reached in reachable_from(start, successors) {
            result[reached].insert(start);
        }
    }
    result
}

/// `Some(message)` when `value` is zero or above the operator's `ceiling`.
fn beyond(value: u64, ceiling: u64, unit: &str, var: &str) -> Option<String> {
    if value == 0 {
        Some("Use a value greater than zero.".to_owned())
    } else if value > ceiling {
        Some(format!(
            "This instance allows at most {ceiling}{unit} ({var}); ask for less."
        ))
    } else {
        None
    }
}

fn check_limits(step: &StepDefinition, limits: &StepLimits, problems: &mut Problems) {
    let id = Some(step.id.as_str());
    if let Some(ms) = step.timeout_ms {
        let ceiling = limits.max_timeout.as_millis() as u64;
        if let Some(message) = beyond(ms, ceiling, " ms", vars::TIMEOUT) {
            problems.add(id, "timeout_ms", message);
        }
    }
    if let Some(RetryPolicy {
        max_attempts,
        initial_interval_ms,
        backoff_coefficient,
        max_interval_ms,
    }) = &step.retry
    {
        if !(1..=100).contains(max_attempts) {
            problems.add(id, "retry.max_attempts", "Use 1 to 100 attempts.");
        }
        if !backoff_coefficient.is_finite() || *backoff_coefficient < 1.0 {
            problems.add(
                id,
                "retry.backoff_coefficient",
                "The backoff coefficient must be at least 1.",
            );
        }
        if initial_interval_ms > max_interval_ms {
            problems.add(
                id,
                "retry.max_interval_ms",
                "The maximum interval must not be below the initial interval.",
            );
        }
    }
}

/// What a step's templates may read.
struct Scope<'a> {
    step: &'a str,
    upstream: &'a HashSet<&'a str>,
    known: &'a HashMap<&'a str, usize>,
    /// Inside a `map` sub-step, `item` and `index` are defined too.
    in_map: bool,
    env: &'a Environment<'static>,
    limits: &'a StepLimits,
}

impl Scope<'_> {
    fn fuel(&self, field: &str, fuel: Option<u64>, problems: &mut Problems) {
        if let Some(message) = fuel.and_then(|f| {
            beyond(
                f,
                self.limits.template_fuel,
                " instructions",
                vars::TEMPLATE_FUEL,
            )
        }) {
            problems.add(Some(self.step), field, message);
        }
    }
}

impl Scope<'_> {
    fn check_references(&self, field: &str, references: BTreeSet<String>, problems: &mut Problems) {
        for path in references {
            let mut parts = path.split('.');
            let root = parts.next().unwrap_or_default();
            let message = match root {
                "input" => None,
                // The run owner's secrets; a missing one fails the step when it renders.
                "secrets" => match parts.next() {
                    None => Some("Read a secret as secrets.<NAME>.".to_owned()),
                    Some(_) => None,
                },
                // Functions such as `range` and `namespace` are globals of the environment.
                name if self.env.globals().any(|(global, _)| global == name) => None,
                "item" | "index" if self.in_map => None,
                "steps" => match parts.next() {
                    None => Some("Refer to an earlier step as steps.<id>.".to_owned()),
                    Some(id) if self.upstream.contains(id) => None,
                    Some(id) if id == self.step => {
                        Some("A step cannot read its own output.".to_owned())
                    }
                    Some(id) if self.known.contains_key(id) => Some(format!(
                        "steps.{id} does not run before this step; only upstream steps can be read."
                    )),
                    Some(id) => Some(format!("No step has the id {id:?}.")),
                },
                other => Some(format!(
                    "Unknown variable {other:?}: templates can read input{}, steps.<id> and secrets.<NAME>.",
                    if self.in_map { ", item, index" } else { "" }
                )),
            };
            if let Some(message) = message {
                problems.add(Some(self.step), field, message);
            }
        }
    }

    fn template(&self, field: &str, source: &str, problems: &mut Problems) {
        match template_references(self.env, source) {
            Ok(refs) => self.check_references(field, refs, problems),
            Err(e) => problems.add(Some(self.step), field, format!("Template error: {e}")),
        }
    }

    fn expression(&self, field: &str, source: &str, problems: &mut Problems) {
        if source.trim().is_empty() {
            problems.add(Some(self.step), field, "Enter an expression.");
            return;
        }
        match expression_references(self.env, source) {
            Ok(refs) => self.check_references(field, refs, problems),
            Err(e) => problems.add(Some(self.step), field, format!("Expression error: {e}")),
        }
    }
}

fn parse<T: DeserializeOwned>(
    kind: StepKind,
    config: &serde_json::Value,
    field: &str,
    scope: &Scope,
    problems: &mut Problems,
) -> Option<T> {
    let value = if config.is_null() {
        serde_json::json!({})
    } else {
        config.clone()
    };
    match serde_json::from_value(value) {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            let kind = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            problems.add(
                Some(scope.step),
                field,
                format!("Invalid {kind} step configuration: {e}."),
            );
            None
        }
    }
}

fn check_config(
    kind: StepKind,
    config: &serde_json::Value,
    field: &str,
    scope: &Scope,
    problems: &mut Problems,
) {
    let at = |name: &str| format!("{field}.{name}");
    let step = Some(scope.step);
    match kind {
        StepKind::Template => {
            if let Some(c) = parse::<TemplateConfig>(kind, config, field, scope, problems) {
                scope.template(&at("template"), &c.template, problems);
                scope.fuel(&at("fuel"), c.fuel, problems);
            }
        }
        StepKind::Script => {
            if let Some(c) = parse::<ScriptConfig>(kind, config, field, scope, problems) {
                if c.code.trim().is_empty() {
                    problems.add(step, at("code"), "Enter the script to run.");
                }
                let ceiling = u64::from(scope.limits.script_memory_mb);
                if let Some(message) = c
                    .memory_limit_mb
                    .and_then(|m| beyond(u64::from(m), ceiling, " MB", vars::SCRIPT_MEMORY))
                {
                    problems.add(step, at("memory_limit_mb"), message);
                }
            }
        }
        StepKind::Http => {
            if let Some(c) = parse::<HttpConfig>(kind, config, field, scope, problems) {
                if !HTTP_METHODS.contains(&c.method.to_uppercase().as_str()) {
                    problems.add(
                        step,
                        at("method"),
                        format!("Use one of {}.", HTTP_METHODS.join(", ")),
                    );
                }
                if c.url.trim().is_empty() {
                    problems.add(step, at("url"), "Enter the URL to call.");
                } else {
                    scope.template(&at("url"), &c.url, problems);
                }
                for (name, value) in &c.headers {
                    scope.template(&at(&format!("headers.{name}")), value, problems);
                }
                if let Some(body) = &c.body {
                    scope.template(&at("body"), body, problems);
                }
                let ceiling = scope.limits.http_max_response_bytes;
                if let Some(message) = c
                    .max_response_bytes
                    .and_then(|m| beyond(m, ceiling, " bytes", vars::HTTP_RESPONSE))
                {
                    problems.add(step, at("max_response_bytes"), message);
                }
            }
        }
        StepKind::Condition => {
            if let Some(c) = parse::<ConditionConfig>(kind, config, field, scope, problems) {
                scope.expression(&at("expression"), &c.expression, problems);
                scope.fuel(&at("fuel"), c.fuel, problems);
            }
        }
        StepKind::Map => {
            if let Some(c) = parse::<MapConfig>(kind, config, field, scope, problems) {
                scope.expression(&at("items"), &c.items, problems);
                if !(1..=64).contains(&c.concurrency) {
                    problems.add(step, at("concurrency"), "Use a concurrency of 1 to 64.");
                }
                let ceiling = scope.limits.map_max_items as u64;
                if let Some(message) = c
                    .max_items
                    .and_then(|m| beyond(m as u64, ceiling, " items", vars::MAP_ITEMS))
                {
                    problems.add(step, at("max_items"), message);
                }
                if matches!(
                    c.step.kind,
                    StepKind::Map | StepKind::Condition | StepKind::Approval | StepKind::Agent
                ) {
                    problems.add(
                        step,
                        at("step.type"),
                        "A map runs a single llm, script, http, template or analysis step per item.",
                    );
                } else {
                    let inner = Scope {
                        in_map: true,
                        ..*scope
                    };
                    check_config(
                        c.step.kind,
                        &c.step.config,
                        &at("step.config"),
                        &inner,
                        problems,
                    );
                }
            }
        }
        StepKind::Llm => {
            if let Some(c) = parse::<LlmConfig>(kind, config, field, scope, problems) {
                if c.model.trim().is_empty() {
                    problems.add(step, at("model"), "Enter the model to use.");
                }
                scope.template(&at("prompt"), &c.prompt, problems);
                if let Some(system) = &c.system {
                    scope.template(&at("system"), system, problems);
                }
                if c.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
                    problems.add(step, at("temperature"), "Use a temperature from 0 to 2.");
                }
                if c.max_tokens == Some(0) {
                    problems.add(step, at("max_tokens"), "Allow at least one token.");
                }
            }
        }
        StepKind::Agent => {
            if let Some(c) = parse::<AgentConfig>(kind, config, field, scope, problems) {
                if c.goal.trim().is_empty() {
                    problems.add(step, at("goal"), "Say what the agent should achieve.");
                } else {
                    scope.template(&at("goal"), &c.goal, problems);
                }
                if c.project.trim().is_empty() {
                    problems.add(step, at("project"), "Name the project the agent works on.");
                }
                if c.model.trim().is_empty() {
                    problems.add(step, at("model"), "Enter the model to use.");
                }
                if !(1..=200).contains(&c.max_iterations) {
                    problems.add(step, at("max_iterations"), "Use 1 to 200 iterations.");
                }
                if c.max_tokens == Some(0) {
                    problems.add(step, at("max_tokens"), "Allow at least one token.");
                }
                if c.max_cost_usd.is_some_and(|d| d.is_nan() || d <= 0.0) {
                    problems.add(step, at("max_cost_usd"), "Allow more than $0.");
                }
                if c.max_seconds == Some(0) {
                    problems.add(step, at("max_seconds"), "Allow at least one second.");
                }
            }
        }
        StepKind::Analysis => {
            if let Some(c) = parse::<AnalysisConfig>(kind, config, field, scope, problems) {
                check_analysis(&c, field, scope, problems);
            }
        }
        StepKind::Approval => {
            if let Some(c) = parse::<ApprovalConfig>(kind, config, field, scope, problems) {
                if c.message.trim().is_empty() {
                    problems.add(step, at("message"), "Say what the approver is asked.");
                } else {
                    scope.template(&at("message"), &c.message, problems);
                }
                if let Some(source) = &c.apply
                    && !scope.upstream.contains(source.as_str())
                {
                    problems.add(
                        step,
                        at("apply"),
                        format!(
                            "`{source}` is not a step before this one; name the step whose changes an approval applies."
                        ),
                    );
                }
                if c.timeout_minutes
                    .is_some_and(|m| !(1..=MAX_APPROVAL_MINUTES).contains(&m))
                {
                    problems.add(
                        step,
                        at("timeout_minutes"),
                        format!(
                            "Use 1 to {MAX_APPROVAL_MINUTES} minutes (30 days), or leave it empty to wait until someone decides."
                        ),
                    );
                }
            }
        }
    }
}

fn check_analysis(c: &AnalysisConfig, field: &str, scope: &Scope, problems: &mut Problems) {
    let at = |name: &str| format!("{field}.{name}");
    let step = Some(scope.step);
    let project = c
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    match (project, &c.text) {
        (Some(_), Some(_)) => problems.add(
            step,
            at("text"),
            "Analyse a project's files or text, not both: clear project or text.",
        ),
        (None, None) => problems.add(
            step,
            at("project"),
            "Name the project to analyse (its slug), or give text to analyse.",
        ),
        (None, Some(text)) => {
            scope.template(&at("text"), text, problems);
            match c.language.as_deref() {
                None => problems.add(
                    step,
                    at("language"),
                    "Say the text's language: rust, python, javascript, typescript or go.",
                ),
                Some(name) if crate::analyze::language_named(name).is_none() => problems.add(
                    step,
                    at("language"),
                    format!(
                        "`{name}` is not a language Aura analyses; use rust, python, javascript, typescript or go."
                    ),
                ),
                Some(_) => {}
            }
            if !c.paths.is_empty() {
                problems.add(
                    step,
                    at("paths"),
                    "Paths choose a project's files; text has none.",
                );
            }
        }
        (Some(_), None) => {
            if c.paths.len() > MAX_ANALYSIS_PATHS {
                problems.add(
                    step,
                    at("paths"),
                    format!("Give at most {MAX_ANALYSIS_PATHS} paths or patterns."),
                );
            }
            for (i, path) in c.paths.iter().enumerate() {
                if let Err(message) = crate::workspace::PathFilter::new(std::slice::from_ref(path))
                {
                    problems.add(step, at(&format!("paths[{i}]")), message);
                }
            }
        }
    }
}

/// The most path patterns one `analysis` step may give.
const MAX_ANALYSIS_PATHS: usize = 100;
