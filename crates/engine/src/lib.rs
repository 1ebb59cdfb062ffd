//! Aura's workflow engine. So far: what a workflow *is*, when one is valid, and saving it
//! as immutable versions.
//!
//! A workflow is a DAG of named steps. [`WorkflowDefinition`] is the saved form (JSON);
//! [`validate`] checks it and returns every problem at once, each tied to its step, so the
//! builder can mark the offending nodes; [`Workflows`] stores valid definitions through
//! `aura-store`. Execution (queue, workers, leases, events) builds on these types. The crate
//! knows nothing of HTTP or Leptos, and writes no SQL itself.

mod definition;
mod runner;
mod templates;
mod validate;
mod workflows;

pub use definition::{
    ConditionConfig, Edge, HttpConfig, LlmConfig, MapConfig, MapStep, RetryPolicy, ScriptConfig,
    StepDefinition, StepKind, TemplateConfig, WorkflowDefinition,
};
pub use runner::{Runner, RunnerConfig, backoff_ms};
pub use validate::{Problem, validate};
pub use workflows::{WorkflowError, WorkflowInput, Workflows};
