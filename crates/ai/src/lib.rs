//! The AI layer: one request and response type over the two wire protocols model servers
//! speak (OpenAI chat completions and Anthropic Messages), streaming or whole, with tool
//! calls; and a [`Router`] that turns a model alias into an ordered list of targets,
//! retries 429 and 5xx with backoff that honours `Retry-After`, falls back to the next
//! target, cools down a target that keeps failing, and bounds connecting, the first token
//! and the whole call.
//!
//! The engine's `llm` step, the editor's AI actions and the coding agent all call it
//! through [`Models`], the router in use. [`ModelSettings`] is the administrators' side:
//! providers (their keys sealed with the vault) and aliases, stored through the store,
//! with the router rebuilt on each change. No Leptos, no axum.

mod anthropic;
mod chat;
mod error;
mod llm;
mod openai;
mod router;
mod settings;
pub mod sse;

pub use chat::{
    ChatRequest, ChatResponse, Message, Part, Role, StopReason, ToolCall, ToolSpec, Usage,
};
pub use error::CallError;
pub use llm::{Answer, CallContext, Llm, LlmError, dollars, month_start};
pub use router::{
    Endpoint, Progress, Protocol, RetryPolicy, Route, RouteError, Router, Target, Timeouts, Try,
};
pub use settings::{
    AliasView, Bootstrap, BudgetView, KNOWN_PRICES, KeyChange, ModelInput, ModelPrice,
    ModelSettings, Models, ProviderInput, ProviderView, SettingsError, TestOutcome, known_price,
};
