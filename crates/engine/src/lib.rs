//! Aura's workflow engine: what a workflow *is*, when one is valid, saving it as immutable
//! versions, and running it durably.
//!
//! A workflow is a DAG of named steps. [`WorkflowDefinition`] is the saved form (JSON);
//! [`validate`] checks it and returns every problem at once, each tied to its step, so the
//! builder can mark the offending nodes; [`Workflows`] stores valid definitions through
//! `aura-store`. [`Engine`] starts, cancels and resumes runs; [`Runner`]s claim and execute
//! their steps through the [`Executors`] (templates in evaluator processes, the QuickJS sandbox, the guarded HTTP
//! client, LLM providers). The crate knows nothing of HTTP routes or Leptos, and writes no
//! SQL itself.

mod agent;
mod analyze;
mod approvals;
mod dag;
mod dashboard;
mod definition;
mod engine;
mod evaluator;
mod exec;
mod http;
mod layout;
mod limits;
mod notifications;
mod runner;
mod sandbox;
mod secrets;
mod step;
mod templates;
mod validate;
mod workflows;
mod workspace;

pub use agent::TranscriptEntry;
pub use approvals::{ChangeDiff, Decision, MAX_COMMENT_CHARS, PendingChanges};
pub use dag::Dag;
pub use dashboard::{Bucket, Dashboard, Range};
pub use definition::{
    AgentConfig, AgentTool, AnalysisConfig, ApplyMode, ApprovalConfig, ConditionConfig, Edge,
    FailOn, HttpConfig, LlmConfig, MAX_APPROVAL_MINUTES, MapConfig, MapStep, RetryPolicy,
    ScriptConfig, StepDefinition, StepKind, TemplateConfig, TimeoutOutcome, WorkflowDefinition,
    config_schema,
};
pub use engine::{Engine, MAX_PAGE, RunDetail, RunPage, RunSignal};
pub use evaluator::{EVALUATOR_ARG, EvaluatorProgram, serve_evaluations};
pub use exec::{ExecutorConfig, Executors, StepContext};
pub use http::EgressPolicy;
pub use layout::{Layout, NODE_HEIGHT, NODE_WIDTH, PlacedEdge, PlacedStep, layout};
pub use limits::{StepLimits, vars as limit_vars};
pub use notifications::{MAX_LIST as MAX_NOTIFICATIONS, NotificationList, Notifications};
pub use runner::{Runner, RunnerConfig, backoff_ms};
pub use sandbox::{Sandbox, ScriptError, ScriptJob, ScriptLimits};
pub use secrets::{SecretError, SecretName, Secrets};
pub use step::{Masker, StepFailure, StepLog, StepResult, WaitFor};
pub use validate::{Problem, validate, validate_with};
pub use workflows::{WorkflowError, WorkflowInput, Workflows, read_layout};
