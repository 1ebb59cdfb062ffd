//! The saved shape of a workflow and of each step type's configuration.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A workflow version as stored: its steps, the first of which is where a run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDefinition {
    pub steps: Vec<StepDefinition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDefinition {
    /// Unique within the workflow; templates refer to it as `steps.<id>`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: StepKind,
    /// Type-specific settings, checked against the type's schema on save.
    #[serde(default)]
    pub config: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Steps that run after this one. Out of a `condition` step, each edge names the
    /// branch (`"true"` or `"false"`) it belongs to.
    #[serde(default)]
    pub next: Vec<Edge>,
}

pub use aura_types::StepKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// Exponential backoff with jitter. The defaults follow Temporal's (1 s initial interval,
/// coefficient 2, maximum interval 100 × initial) except the attempt cap: Temporal retries
/// forever, which is the wrong default when a step may be a paid LLM call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_interval_ms: u64,
    pub backoff_coefficient: f64,
    pub max_interval_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_interval_ms: 1_000,
            backoff_coefficient: 2.0,
            max_interval_ms: 100_000,
        }
    }
}

/// `template`: renders `template`; with `json: true` the result is parsed as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    pub template: String,
    #[serde(default)]
    pub json: bool,
    /// Instructions the template may execute; at most the operator's ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

/// `script`: JavaScript run in the sandbox with `input` in scope; returns JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptConfig {
    pub code: String,
    #[serde(default)]
    pub memory_limit_mb: Option<u32>,
}

/// `http`: every string is a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub max_response_bytes: Option<u64>,
}

/// `condition`: a boolean expression over earlier outputs; chooses the `"true"` or
/// `"false"` branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    pub expression: String,
    /// Instructions the expression may execute; at most the operator's ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

/// `map`: runs `step` once per element of the list that `items` evaluates to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    pub items: String,
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    pub step: MapStep,
    /// Most items the list may have; at most the operator's ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
}

fn default_concurrency() -> u32 {
    4
}

/// The step a `map` runs per item; it sees the item as `item` and its index as `index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapStep {
    #[serde(rename = "type")]
    pub kind: StepKind,
    #[serde(default)]
    pub config: serde_json::Value,
}

/// `llm`: a chat completion; `prompt` and `system` are templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    #[serde(default)]
    pub provider: Option<String>,
    pub model: String,
    pub prompt: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Answer identical requests from the cache; unset, only at temperature 0.
    #[serde(default)]
    pub cache: Option<bool>,
}
