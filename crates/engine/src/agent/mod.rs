//! The `agent` step: a model working on a project through tools, until it finishes or a
//! budget runs out.
//! - `workbench`: the project's files as the agent sees and edits them (an overlay; its
//!   edits are a change set, never writes);
//! - `transcript`: the durable record of every model answer and tool result, and what
//!   replaying it gives back;
//! - `run`: the loop, its tools, budgets and stuck detector.

pub(crate) mod run;
pub(crate) mod transcript;
pub(crate) mod workbench;

pub use transcript::TranscriptEntry;
