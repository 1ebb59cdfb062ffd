//! The AI layer: one request and response type over the two wire protocols model servers
//! speak (OpenAI chat completions and Anthropic Messages), streaming or whole, with tool
//! calls; and a [`Router`] that turns a model alias into an ordered list of targets,
//! retries 429 and 5xx with backoff that honours `Retry-After`, falls back to the next
//! target, cools down a target that keeps failing, and bounds connecting, the first token
//! and the whole call.
//!
//! The engine's `llm` step, the editor's AI actions and the coding agent all call it.
//! It knows nothing of Leptos, axum or the database: who pays for a call, what it costs
//! and whether it may happen are the callers' business.

mod anthropic;
mod chat;
mod error;
mod openai;
mod router;
pub mod sse;

pub use chat::{
    ChatRequest, ChatResponse, Message, Part, Role, StopReason, ToolCall, ToolSpec, Usage,
};
pub use error::CallError;
pub use router::{
    Endpoint, Progress, Protocol, RetryPolicy, Route, RouteError, Router, Target, Timeouts, Try,
};
