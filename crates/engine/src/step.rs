//! What every executor shares: a step attempt's result, its failure (and whether a retry
//! can help), and its log. Executors depend on this module, never on the dispatcher in
//! `exec.rs`.

use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Why a step attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    pub message: String,
    pub retryable: bool,
}

impl StepFailure {
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }

    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }
}

/// A step attempt's log: text accumulates here and the runner flushes it to the run's
/// events. It stops growing at its cap, with a note saying so.
#[derive(Clone)]
pub struct StepLog(Arc<Mutex<LogState>>);

struct LogState {
    pending: String,
    written: usize,
    cap: usize,
    truncated: bool,
}

impl StepLog {
    pub fn new(cap_bytes: usize) -> Self {
        Self(Arc::new(Mutex::new(LogState {
            pending: String::new(),
            written: 0,
            cap: cap_bytes,
            truncated: false,
        })))
    }

    /// Appends raw text (a streamed token, say).
    pub fn write(&self, text: &str) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if state.truncated {
            return;
        }
        let room = state.cap.saturating_sub(state.written);
        if text.len() <= room {
            state.pending.push_str(text);
            state.written += text.len();
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            state.pending.push_str(&text[..end]);
            let note = format!("\n[log truncated at {} bytes]\n", state.cap);
            state.pending.push_str(&note);
            state.written = state.cap;
            state.truncated = true;
        }
    }

    pub fn line(&self, text: &str) {
        self.write(text);
        self.write("\n");
    }

    /// Whether the cap was reached: nothing more will be kept.
    pub fn is_full(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).truncated
    }

    /// Takes what was written since the last call.
    pub fn take(&self) -> Option<String> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (!state.pending.is_empty()).then(|| std::mem::take(&mut state.pending))
    }
}

/// What a step produced: its output, the branch a condition took, and token usage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepResult {
    pub output: Value,
    pub branch: Option<String>,
    pub usage: Option<Value>,
}
