//! The saved shape of a workflow and of each step type's configuration.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use aura_types::StepKind;
pub use aura_types::definition::{Edge, RetryPolicy, StepDefinition, WorkflowDefinition};

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
