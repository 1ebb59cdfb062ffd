//! The saved shape of a workflow and of each step type's configuration.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use aura_types::StepKind;
pub use aura_types::definition::{Edge, RetryPolicy, StepDefinition, WorkflowDefinition};

/// `template`: renders `template`; with `json: true` the result is parsed as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// The text to render. `{{ input.name }}` reads the run's input and
    /// `{{ steps.fetch.output }}` an earlier step's output.
    #[schemars(extend("x-template" = true))]
    pub template: String,
    /// Parse the rendered text as JSON, so later steps read it as data.
    #[serde(default)]
    pub json: bool,
    /// Instructions the template may execute; at most the operator's ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

/// `script`: JavaScript run in the sandbox with `input` in scope; returns JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptConfig {
    /// JavaScript with `input` and `steps` in scope; what it returns is the output.
    #[schemars(extend("x-code" = true))]
    pub code: String,
    /// Memory the script may use, in MiB; at most the operator's ceiling.
    #[serde(default)]
    pub memory_limit_mb: Option<u32>,
}

/// `http`: every string is a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// GET, POST, PUT, PATCH, DELETE or HEAD.
    pub method: String,
    /// The address to call (a template); private addresses are refused unless allowed.
    #[schemars(extend("x-template" = true))]
    pub url: String,
    /// Request headers; each value is a template.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body (a template).
    #[serde(default)]
    #[schemars(extend("x-template" = true))]
    pub body: Option<String>,
    /// Largest response body read, in bytes; at most the operator's ceiling.
    #[serde(default)]
    pub max_response_bytes: Option<u64>,
}

/// `condition`: a boolean expression over earlier outputs; chooses the `"true"` or
/// `"false"` branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    /// True or false, e.g. `steps.fetch.output.status == 200`; picks the branch to take.
    #[schemars(extend("x-template" = true))]
    pub expression: String,
    /// Instructions the expression may execute; at most the operator's ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

/// `map`: runs `step` once per element of the list that `items` evaluates to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    /// An expression giving the list to go through, e.g. `steps.fetch.output.items`.
    #[schemars(extend("x-template" = true))]
    pub items: String,
    /// How many items run at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// The step run for each item; it reads the item as `item` and its index as `index`.
    pub step: MapStep,
    /// Most items the list may have; at most the operator's ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
}

fn default_concurrency() -> u32 {
    4
}

/// The step a `map` runs per item; it sees the item as `item` and its index as `index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapStep {
    /// The type of the step run per item.
    #[serde(rename = "type")]
    #[schemars(schema_with = "step_kind_schema")]
    pub kind: StepKind,
    /// That type's settings.
    #[serde(default)]
    pub config: serde_json::Value,
}

fn step_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
    schemars::json_schema!({ "type": "string", "enum": names })
}

/// `llm`: a chat completion; `prompt` and `system` are templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// The provider to ask; empty, the one the model alias routes to.
    #[serde(default)]
    pub provider: Option<String>,
    /// A model alias or a provider's model name (see Models).
    pub model: String,
    /// What to ask (a template).
    #[schemars(extend("x-template" = true))]
    pub prompt: String,
    /// Instructions ahead of the prompt (a template).
    #[serde(default)]
    #[schemars(extend("x-template" = true))]
    pub system: Option<String>,
    /// Sampling temperature, 0 to 2.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Most tokens the answer may have.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Answer identical requests from the cache; unset, only at temperature 0.
    #[serde(default)]
    pub cache: Option<bool>,
}

/// `analysis`: Aura's code analysis (syntax, security and style rules, per-function
/// metrics) over a project's files or over text an earlier step produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The project whose files to analyse: its slug or id. Leave it empty to analyse
    /// `text` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Which files: paths or globs (`src/**/*.py`, `*.rs`, a folder); empty, every file
    /// in a language Aura analyses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Text to analyse instead of files (a template), e.g. `{{ steps.write.output.text }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-template" = true))]
    pub text: Option<String>,
    /// The text's language: rust, python, javascript, typescript or go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Fail the step when a finding is at least this severe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<FailOn>,
}

/// The least severe finding that fails an `analysis` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

/// `approval`: the run waits until a person approves or rejects, with a comment. Later
/// steps read `steps.<id>.output.approved` and `.comment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalConfig {
    /// What the approver is asked (a template).
    #[schemars(extend("x-template" = true))]
    pub message: String,
    /// Minutes to wait for a decision; empty, wait until someone decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<u32>,
    /// What a timeout decides: reject (the default), approve, or fail the run.
    #[serde(default)]
    pub on_timeout: TimeoutOutcome,
    /// An earlier step whose proposed changes (`output.changes`, as the `agent` step
    /// makes them) are applied as revisions when this is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<String>,
}

/// How an `approval` step's wait ends when nobody decides in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutOutcome {
    #[default]
    Reject,
    Approve,
    Fail,
}

/// `agent`: a model works on a project through tools until it calls `finish` or a budget
/// runs out. Its edits are a change set in its output (`changes`), for an `approval` with
/// `apply` (or `apply: auto`) to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// What to achieve (a template), e.g. `Fix {{ steps.scan.output.summary.error }} findings`.
    #[schemars(extend("x-template" = true))]
    pub goal: String,
    /// The project it works on: its slug or id.
    pub project: String,
    /// A model alias or a provider's model name (see Models).
    pub model: String,
    /// The tools it may use; empty, every tool but `http`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<AgentTool>,
    /// Most model turns.
    #[serde(default = "default_iterations")]
    pub max_iterations: u32,
    /// Most tokens, prompt and answer together, over every turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Most cost, in US dollars, over every turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// Most wall time, in seconds, across attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<u64>,
    /// `auto` applies the change set itself when it finishes; `approval` (the default)
    /// leaves it to an `approval` step.
    #[serde(default)]
    pub apply: ApplyMode,
}

fn default_iterations() -> u32 {
    20
}

/// A tool an `agent` may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentTool {
    ListFiles,
    ReadFile,
    Search,
    EditFile,
    WriteFile,
    Analyze,
    RunScript,
    Http,
}

/// Who applies an agent's change set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplyMode {
    #[default]
    Approval,
    Auto,
}

/// The longest an `approval` step may wait: 30 days.
pub const MAX_APPROVAL_MINUTES: u32 = 30 * 24 * 60;

/// The JSON Schema of `kind`'s configuration: the structs a save is checked with, so a
/// form made from it asks for exactly what validation wants.
pub fn config_schema(kind: StepKind) -> serde_json::Value {
    let schema = match kind {
        StepKind::Template => schemars::schema_for!(TemplateConfig),
        StepKind::Script => schemars::schema_for!(ScriptConfig),
        StepKind::Http => schemars::schema_for!(HttpConfig),
        StepKind::Condition => schemars::schema_for!(ConditionConfig),
        StepKind::Map => schemars::schema_for!(MapConfig),
        StepKind::Llm => schemars::schema_for!(LlmConfig),
        StepKind::Analysis => schemars::schema_for!(AnalysisConfig),
        StepKind::Approval => schemars::schema_for!(ApprovalConfig),
        StepKind::Agent => schemars::schema_for!(AgentConfig),
    };
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_type_has_an_object_schema_naming_its_required_fields() {
        for kind in StepKind::ALL {
            let schema = config_schema(*kind);
            assert_eq!(schema["type"], "object", "{kind}");
            assert!(schema["properties"].is_object(), "{kind}");
        }
        let http = config_schema(StepKind::Http);
        assert_eq!(http["required"], serde_json::json!(["method", "url"]));
        assert_eq!(http["properties"]["url"]["x-template"], true);
        let map = config_schema(StepKind::Map);
        let step = &map["$defs"]["MapStep"]["properties"]["type"]["enum"];
        assert_eq!(step.as_array().unwrap().len(), StepKind::ALL.len());
    }
}
