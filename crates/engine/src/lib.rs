//! Aura's workflow engine. So far: what a workflow *is* and when one is valid.
//!
//! A workflow is a DAG of named steps. [`WorkflowDefinition`] is the saved form (JSON);
//! [`validate`] checks it and returns every problem at once, each tied to its step, so the
//! builder can mark the offending nodes. Execution (queue, workers, leases, events) builds
//! on these types. The crate knows nothing of HTTP, Leptos or the database.

mod definition;
mod templates;
mod validate;

pub use definition::{
    ConditionConfig, Edge, HttpConfig, LlmConfig, MapConfig, MapStep, RetryPolicy, ScriptConfig,
    StepDefinition, StepKind, TemplateConfig, WorkflowDefinition,
};
pub use validate::{Problem, validate};
