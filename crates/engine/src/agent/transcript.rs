//! An agent's transcript as it is stored (one JSON body per entry) and what replaying it
//! gives back: the conversation so far, the budgets used, and the calls not answered yet.

use aura_ai::{Message, Part, Role, ToolCall};
use serde::{Deserialize, Serialize};

/// The first entry: what the agent was asked, and the files as it found them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Start {
    pub goal: String,
    pub project_id: String,
    /// (path, entry id, revision) of every file when the agent started.
    pub base: Vec<(String, String, i64)>,
    pub started_at: i64,
}

/// A model's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ModelTurn {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_micros: i64,
}

/// A tool call's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ToolResult {
    pub call_id: String,
    pub name: String,
    pub content: String,
    pub is_error: bool,
}

/// One entry of a transcript as the run page shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum TranscriptEntry {
    /// What the agent was asked.
    Goal { goal: String },
    /// A model answer: its text, the calls it made, and what it cost.
    Model {
        text: String,
        calls: Vec<ToolCall>,
        tokens: u64,
        cost_micros: i64,
    },
    /// A call with side effects began (a script, a request) and has no answer yet.
    Started { call_id: String },
    /// A call's answer.
    Result {
        name: String,
        content: String,
        is_error: bool,
    },
}

/// A stored transcript as entries, in order.
pub fn entries(turns: &[aura_store::AgentTurn]) -> Result<Vec<TranscriptEntry>, String> {
    let mut entries = Vec::with_capacity(turns.len());
    for turn in turns {
        let bad = |e: serde_json::Error| format!("transcript entry {} is damaged: {e}", turn.seq);
        entries.push(match turn.kind.as_str() {
            START => {
                let start: Start = serde_json::from_str(&turn.body).map_err(bad)?;
                TranscriptEntry::Goal { goal: start.goal }
            }
            MODEL => {
                let model: ModelTurn = serde_json::from_str(&turn.body).map_err(bad)?;
                TranscriptEntry::Model {
                    text: model.text,
                    calls: model.tool_calls,
                    tokens: model.input_tokens + model.output_tokens,
                    cost_micros: model.cost_micros,
                }
            }
            TOOL_STARTED => {
                let started: Started = serde_json::from_str(&turn.body).map_err(bad)?;
                TranscriptEntry::Started {
                    call_id: started.call_id,
                }
            }
            TOOL_RESULT => {
                let result: ToolResult = serde_json::from_str(&turn.body).map_err(bad)?;
                TranscriptEntry::Result {
                    name: result.name,
                    content: result.content,
                    is_error: result.is_error,
                }
            }
            other => {
                return Err(format!(
                    "transcript entry {} has an unknown kind `{other}`",
                    turn.seq
                ));
            }
        });
    }
    Ok(entries)
}

/// The body of a `tool_started` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Started {
    pub call_id: String,
}

/// Entry kinds as stored.
pub(crate) const START: &str = "start";
pub(crate) const MODEL: &str = "model";
pub(crate) const TOOL_STARTED: &str = "tool_started";
pub(crate) const TOOL_RESULT: &str = "tool_result";

/// The transcript replayed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Replay {
    pub start: Option<Start>,
    pub messages: Vec<Message>,
    pub model_turns: u32,
    pub tokens: u64,
    pub cost_micros: i64,
    /// Calls of the last model turn, in order, with their results so far.
    pub pending: Vec<ToolCall>,
    /// Calls that were started (side effects) but have no result.
    pub started: Vec<String>,
    /// Every answered call, in order: the call and its result.
    pub answered: Vec<(ToolCall, ToolResult)>,
    /// The next sequence number.
    pub next_seq: i64,
}

impl Replay {
    pub(crate) fn of(turns: &[aura_store::AgentTurn]) -> Result<Self, String> {
        let mut replay = Replay::default();
        for turn in turns {
            replay.next_seq = turn.seq + 1;
            let bad =
                |e: serde_json::Error| format!("transcript entry {} is damaged: {e}", turn.seq);
            match turn.kind.as_str() {
                START => replay.start = Some(serde_json::from_str(&turn.body).map_err(bad)?),
                MODEL => {
                    let model: ModelTurn = serde_json::from_str(&turn.body).map_err(bad)?;
                    replay.push_model(model);
                }
                TOOL_STARTED => {
                    let started: Started = serde_json::from_str(&turn.body).map_err(bad)?;
                    replay.started.push(started.call_id);
                }
                TOOL_RESULT => {
                    let result: ToolResult = serde_json::from_str(&turn.body).map_err(bad)?;
                    replay.push_result(result);
                }
                other => {
                    return Err(format!(
                        "transcript entry {} has an unknown kind `{other}`",
                        turn.seq
                    ));
                }
            }
        }
        Ok(replay)
    }

    /// A model answer: counted against the budgets, and its calls become pending.
    pub(crate) fn push_model(&mut self, model: ModelTurn) {
        self.model_turns += 1;
        self.tokens += model.input_tokens + model.output_tokens;
        self.cost_micros += model.cost_micros;
        let mut parts = Vec::new();
        if !model.text.is_empty() {
            parts.push(Part::Text { text: model.text });
        }
        parts.extend(model.tool_calls.iter().cloned().map(Part::ToolCall));
        self.messages.push(Message {
            role: Role::Assistant,
            parts,
        });
        self.pending = model.tool_calls;
        self.started.clear();
    }

    /// A tool's answer: into the conversation (the results of one answer's calls share a
    /// message), and its call is no longer pending.
    pub(crate) fn push_result(&mut self, result: ToolResult) {
        let part = Part::ToolResult {
            call_id: result.call_id.clone(),
            content: result.content.clone(),
            is_error: result.is_error,
        };
        match self.messages.last_mut() {
            Some(last)
                if last.role == Role::User
                    && last
                        .parts
                        .iter()
                        .all(|p| matches!(p, Part::ToolResult { .. })) =>
            {
                last.parts.push(part)
            }
            _ => self.messages.push(Message {
                role: Role::User,
                parts: vec![part],
            }),
        }
        if let Some(i) = self.pending.iter().position(|c| c.id == result.call_id) {
            let call = self.pending.remove(i);
            self.answered.push((call, result));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn turn(seq: i64, kind: &str, body: serde_json::Value) -> aura_store::AgentTurn {
        aura_store::AgentTurn {
            seq,
            kind: kind.to_owned(),
            body: body.to_string(),
            created_at: 0,
        }
    }

    #[test]
    fn a_replay_rebuilds_the_conversation_budgets_and_unanswered_calls() {
        let call = |id: &str, name: &str| json!({ "id": id, "name": name, "arguments": {} });
        let turns = vec![
            turn(
                0,
                START,
                json!({ "goal": "fix", "project_id": "p", "base": [["a.py", "e1", 2]], "started_at": 5 }),
            ),
            turn(
                1,
                MODEL,
                json!({ "text": "Looking.", "tool_calls": [call("c1", "read_file"), call("c2", "http")],
                                   "input_tokens": 100, "output_tokens": 20, "cost_micros": 300 }),
            ),
            turn(
                2,
                TOOL_RESULT,
                json!({ "call_id": "c1", "name": "read_file", "content": "x = 1", "is_error": false }),
            ),
            turn(3, TOOL_STARTED, json!({ "call_id": "c2" })),
        ];
        let replay = Replay::of(&turns).unwrap();
        assert_eq!(replay.start.as_ref().unwrap().base[0].2, 2);
        assert_eq!(
            (replay.model_turns, replay.tokens, replay.cost_micros),
            (1, 120, 300)
        );
        assert_eq!(replay.messages.len(), 2);
        assert_eq!(replay.messages[1].role, Role::User);
        // `http` was started and never answered: a resume must not run it again.
        assert_eq!(replay.pending.len(), 1);
        assert_eq!(replay.started, ["c2"]);
        assert_eq!(replay.answered[0].0.name, "read_file");
        assert_eq!(replay.next_seq, 4);
        assert!(
            Replay::of(&[turn(0, "gossip", json!({}))])
                .unwrap_err()
                .contains("unknown kind")
        );
        assert!(
            Replay::of(&[turn(0, MODEL, json!({ "text": 1 }))])
                .unwrap_err()
                .contains("damaged")
        );
    }
}
