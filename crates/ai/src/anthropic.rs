//! Anthropic's Messages API (`POST {base}/messages`, `anthropic-version: 2023-06-01`).
//! Streaming handles `message_start`, `content_block_start`, `content_block_delta`
//! (`text_delta`, `input_json_delta`), `content_block_stop`, `message_delta` (stop reason
//! and output tokens), `message_stop`, `ping`, and `error` events mid-stream. A tool call's
//! input is parsed only when its block stops.

use crate::chat::{ChatRequest, ChatResponse, Part, Role, StopReason, ToolCall, Usage};
use crate::error::CallError;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) const VERSION: &str = "2023-06-01";

/// Anthropic requires `max_tokens`; this is used when the request leaves it out.
const DEFAULT_MAX_TOKENS: u32 = 4096;

pub(crate) fn body(request: &ChatRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|message| {
            let content: Vec<Value> = message
                .parts
                .iter()
                .map(|part| match part {
                    Part::Text { text } => json!({ "type": "text", "text": text }),
                    Part::ToolCall(call) => json!({
                        "type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments,
                    }),
                    Part::ToolResult {
                        call_id,
                        content,
                        is_error,
                    } => json!({
                        "type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": is_error,
                    }),
                })
                .collect();
            let role = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": content })
        })
        .collect();
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "max_tokens": request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "stream": request.stream,
    });
    if let Some(system) = &request.system {
        body["system"] = system.clone().into();
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "input_schema": t.parameters }))
            .collect();
    }
    if let Some(t) = request.temperature {
        body["temperature"] = t.into();
    }
    body
}

fn error_event(value: &Value) -> CallError {
    let error = &value["error"];
    let kind = error["type"].as_str().unwrap_or("error");
    let message = error["message"].as_str().unwrap_or("no message");
    CallError::MidStream(format!("{kind}: {message}"))
}

fn input(name: &str, text: &str) -> Result<Value, CallError> {
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(text).map_err(|err| {
        CallError::Malformed(format!(
            "the input of tool call `{name}` is not JSON: {err}"
        ))
    })
}

/// A whole (non-streamed) answer.
pub(crate) fn parse(body: &[u8], model: &str) -> Result<ChatResponse, CallError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| CallError::Malformed(format!("the answer is not JSON: {err}")))?;
    if value["type"] == "error" {
        return Err(error_event(&value));
    }
    let mut reply = ChatResponse::empty(value["model"].as_str().unwrap_or(model));
    let Some(content) = value["content"].as_array() else {
        return Err(CallError::Malformed("the answer has no content".into()));
    };
    for block in content {
        match block["type"].as_str() {
            Some("text") => reply.text.push_str(block["text"].as_str().unwrap_or("")),
            Some("tool_use") => reply.tool_calls.push(ToolCall {
                id: block["id"].as_str().unwrap_or_default().to_owned(),
                name: block["name"].as_str().unwrap_or_default().to_owned(),
                arguments: block["input"].clone(),
            }),
            _ => {}
        }
    }
    reply.stop_reason = value["stop_reason"]
        .as_str()
        .map(StopReason::from_anthropic);
    reply.usage = Some(Usage {
        input_tokens: value["usage"]["input_tokens"].as_u64().unwrap_or(0),
        output_tokens: value["usage"]["output_tokens"].as_u64().unwrap_or(0),
    });
    Ok(reply)
}

/// A content block being streamed.
enum Block {
    Text,
    Tool {
        id: String,
        name: String,
        json: String,
    },
    /// A kind this client does not use (thinking, server tools): skipped.
    Other,
}

/// Reads a streamed answer event by event.
pub(crate) struct Stream {
    reply: ChatResponse,
    blocks: BTreeMap<u64, Block>,
    usage: Usage,
    done: bool,
}

impl Stream {
    pub(crate) fn new(model: &str) -> Self {
        Self {
            reply: ChatResponse::empty(model),
            blocks: BTreeMap::new(),
            usage: Usage::default(),
            done: false,
        }
    }

    pub(crate) fn event(
        &mut self,
        data: &str,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), CallError> {
        let value: Value = serde_json::from_str(data)
            .map_err(|err| CallError::Malformed(format!("an event is not JSON: {err}")))?;
        let index = value["index"].as_u64().unwrap_or(0);
        match value["type"].as_str().unwrap_or("") {
            "message_start" => {
                let message = &value["message"];
                if let Some(model) = message["model"].as_str() {
                    model.clone_into(&mut self.reply.model);
                }
                self.usage.input_tokens = message["usage"]["input_tokens"].as_u64().unwrap_or(0);
                self.usage.output_tokens = message["usage"]["output_tokens"].as_u64().unwrap_or(0);
            }
            "content_block_start" => {
                let block = &value["content_block"];
                let started = match block["type"].as_str() {
                    Some("text") => {
                        if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                            on_text(text);
                            self.reply.text.push_str(text);
                        }
                        Block::Text
                    }
                    Some("tool_use") => Block::Tool {
                        id: block["id"].as_str().unwrap_or_default().to_owned(),
                        name: block["name"].as_str().unwrap_or_default().to_owned(),
                        json: String::new(),
                    },
                    _ => Block::Other,
                };
                self.blocks.insert(index, started);
            }
            "content_block_delta" => {
                let delta = &value["delta"];
                match (delta["type"].as_str(), self.blocks.get_mut(&index)) {
                    (Some("text_delta"), _) => {
                        if let Some(text) = delta["text"].as_str() {
                            on_text(text);
                            self.reply.text.push_str(text);
                        }
                    }
                    (Some("input_json_delta"), Some(Block::Tool { json, .. })) => {
                        json.push_str(delta["partial_json"].as_str().unwrap_or(""));
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(Block::Tool { id, name, json }) = self.blocks.remove(&index) {
                    let arguments = input(&name, &json)?;
                    self.reply.tool_calls.push(ToolCall {
                        id,
                        name,
                        arguments,
                    });
                }
            }
            "message_delta" => {
                if let Some(reason) = value["delta"]["stop_reason"].as_str() {
                    self.reply.stop_reason = Some(StopReason::from_anthropic(reason));
                }
                if let Some(tokens) = value["usage"]["output_tokens"].as_u64() {
                    self.usage.output_tokens = tokens;
                }
                if let Some(tokens) = value["usage"]["input_tokens"].as_u64() {
                    self.usage.input_tokens = tokens;
                }
            }
            "message_stop" => self.done = true,
            "error" => return Err(error_event(&value)),
            // `ping`, and event types added later.
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn finish(mut self) -> Result<ChatResponse, CallError> {
        if !self.done {
            return Err(CallError::Transport(
                "the stream ended before `message_stop`".into(),
            ));
        }
        self.reply.usage = Some(self.usage);
        Ok(self.reply)
    }
}
