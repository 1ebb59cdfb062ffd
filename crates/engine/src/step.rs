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

/// Replaces the values of a run owner's secrets with `[secret NAME]`, wherever a run
/// would show them: log text, outputs, errors.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// (value, replacement), longest value first, so a secret containing another is
    /// replaced whole.
    secrets: Vec<(String, String)>,
}

impl Masker {
    pub fn new(secrets: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut secrets: Vec<(String, String)> = secrets
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (value, format!("[secret {name}]")))
            .collect();
        secrets.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        Self { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, replacement) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), replacement);
            }
        }
        out
    }

    /// Every string in `value`, keys included.
    pub fn json(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// How many bytes at the end of `text` could be the start of a secret, so a flush
    /// keeps them until the next write shows whether they are.
    fn unsafe_tail(&self, text: &str) -> usize {
        let mut keep = 0;
        for (value, _) in &self.secrets {
            for len in (1..value.len().min(text.len() + 1)).rev() {
                if len <= keep {
                    break;
                }
                if value.is_char_boundary(len)
                    && text.is_char_boundary(text.len() - len)
                    && text.ends_with(&value[..len])
                {
                    keep = len;
                    break;
                }
            }
        }
        keep
    }
}

/// A step attempt's log: text accumulates here and the runner flushes it to the run's
/// events, with secrets masked. It stops growing at its cap, with a note saying so.
#[derive(Clone)]
pub struct StepLog(Arc<Mutex<LogState>>);

struct LogState {
    pending: String,
    written: usize,
    cap: usize,
    truncated: bool,
    masker: Masker,
}

impl StepLog {
    pub fn new(cap_bytes: usize) -> Self {
        Self::masked(cap_bytes, Masker::default())
    }

    /// A log whose flushes mask the run owner's secrets.
    pub fn masked(cap_bytes: usize, masker: Masker) -> Self {
        Self(Arc::new(Mutex::new(LogState {
            pending: String::new(),
            written: 0,
            cap: cap_bytes,
            truncated: false,
            masker,
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

    /// Takes what was written since the last call, masked. A tail that could be the
    /// start of a secret stays behind until more text (or [`StepLog::take_all`]) decides.
    pub fn take(&self) -> Option<String> {
        self.take_inner(false)
    }

    /// Takes everything left, masked: the attempt is over.
    pub fn take_all(&self) -> Option<String> {
        self.take_inner(true)
    }

    fn take_inner(&self, all: bool) -> Option<String> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if state.pending.is_empty() {
            return None;
        }
        let pending = std::mem::take(&mut state.pending);
        if state.masker.is_empty() {
            return Some(pending);
        }
        let masked = state.masker.text(&pending);
        let keep = if all {
            0
        } else {
            state.masker.unsafe_tail(&masked)
        };
        let (now, later) = masked.split_at(masked.len() - keep);
        state.pending = later.to_owned();
        (!now.is_empty()).then(|| now.to_owned())
    }
}

/// What a step produced: its output, the branch a condition took, and token usage; or,
/// for a step that now waits for a person, what they are asked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepResult {
    pub output: Value,
    pub branch: Option<String>,
    pub usage: Option<Value>,
    pub wait: Option<WaitFor>,
    /// A change set to apply as the step completes, in the same transaction (an agent
    /// with `apply: auto`).
    pub(crate) apply: Option<crate::approvals::Proposal>,
}

/// A step that waits for a decision: what the approver is shown, and when the wait ends
/// by itself (milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct WaitFor {
    pub request: Value,
    pub until: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_even_when_written_in_pieces() {
        let masker = Masker::new([("TOKEN".to_owned(), "s3cr3t-value".to_owned())]);
        let log = StepLog::masked(1024, masker.clone());
        log.write("sending s3cr");
        // The tail could be the secret's start: it waits.
        assert_eq!(log.take().as_deref(), Some("sending "));
        log.write("3t-value now, s3");
        assert_eq!(log.take().as_deref(), Some("[secret TOKEN] now, "));
        log.write(" done");
        assert_eq!(log.take_all().as_deref(), Some("s3 done"));
        assert_eq!(
            masker.json(&serde_json::json!({ "auth": "Bearer s3cr3t-value", "s3cr3t-value": [1, "s3cr3t-value"] })),
            serde_json::json!({ "auth": "Bearer [secret TOKEN]", "[secret TOKEN]": [1, "[secret TOKEN]"] })
        );
    }
}
