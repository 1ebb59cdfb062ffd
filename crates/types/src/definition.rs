//! The saved shape of a workflow: its steps, each with a type, a configuration and the
//! edges to the steps after it. Shared with the browser build, which edits it in the
//! builder; each type's configuration is checked on the server (`aura_engine`).

use crate::StepKind;
use serde::{Deserialize, Serialize};

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
