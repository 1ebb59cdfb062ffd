//! OpenAI's chat completions (`POST {base}/chat/completions`), as OpenAI, vLLM, Ollama,
//! llama.cpp, LiteLLM and most proxies speak it. Streaming asks for usage
//! (`stream_options.include_usage`) and assembles tool-call fragments by their `index`.
//! It accepts what real servers send: a usage chunk whose `choices` is `[]`, `null`, or
//! one empty delta, and a stream that ends without `[DONE]` once a finish reason came.

use crate::chat::{ChatRequest, ChatResponse, Part, Role, StopReason, ToolCall, Usage};
use crate::error::CallError;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) fn body(request: &ChatRequest) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for message in &request.messages {
        let text: String = message
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n");
        match message.role {
            Role::User => {
                // Tool results are messages of their own, before any text.
                for part in &message.parts {
                    if let Part::ToolResult {
                        call_id, content, ..
                    } = part
                    {
                        messages.push(
                            json!({ "role": "tool", "tool_call_id": call_id, "content": content }),
                        );
                    }
                }
                if !text.is_empty() {
                    messages.push(json!({ "role": "user", "content": text }));
                }
            }
            Role::Assistant => {
                let calls: Vec<Value> = message
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall(call) => Some(json!({
                            "id": call.id,
                            "type": "function",
                            "function": { "name": call.name, "arguments": call.arguments.to_string() },
                        })),
                        _ => None,
                    })
                    .collect();
                let mut out = json!({
                    "role": "assistant",
                    "content": if text.is_empty() { Value::Null } else { Value::String(text) },
                });
                if !calls.is_empty() {
                    out["tool_calls"] = Value::Array(calls);
                }
                messages.push(out);
            }
        }
    }
    let mut body =
        json!({ "model": request.model, "messages": messages, "stream": request.stream });
    if request.stream {
        body["stream_options"] = json!({ "include_usage": true });
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                } })
            })
            .collect();
    }
    if let Some(t) = request.temperature {
        body["temperature"] = t.into();
    }
    if let Some(n) = request.max_tokens {
        body["max_tokens"] = n.into();
    }
    body
}

fn usage(value: &Value) -> Option<Usage> {
    let usage = value.get("usage").filter(|u| u.is_object())?;
    Some(Usage {
        input_tokens: usage["prompt_tokens"].as_u64().unwrap_or(0),
        output_tokens: usage["completion_tokens"].as_u64().unwrap_or(0),
    })
}

fn arguments(name: &str, text: &str) -> Result<Value, CallError> {
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(text).map_err(|err| {
        CallError::Malformed(format!(
            "the arguments of tool call `{name}` are not JSON: {err}"
        ))
    })
}

fn mid_stream_error(value: &Value) -> Option<CallError> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    let message = error["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| error.to_string());
    Some(CallError::MidStream(message))
}

/// A whole (non-streamed) answer.
pub(crate) fn parse(body: &[u8], model: &str) -> Result<ChatResponse, CallError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| CallError::Malformed(format!("the answer is not JSON: {err}")))?;
    if let Some(err) = mid_stream_error(&value) {
        return Err(err);
    }
    let choice = &value["choices"][0];
    if !choice.is_object() {
        return Err(CallError::Malformed("the answer has no choices".into()));
    }
    let message = &choice["message"];
    let mut reply = ChatResponse::empty(value["model"].as_str().unwrap_or(model));
    reply.text = message["content"].as_str().unwrap_or_default().to_owned();
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        let name = call["function"]["name"].as_str().unwrap_or_default();
        reply.tool_calls.push(ToolCall {
            id: call["id"].as_str().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            arguments: arguments(name, call["function"]["arguments"].as_str().unwrap_or(""))?,
        });
    }
    reply.stop_reason = choice["finish_reason"]
        .as_str()
        .map(StopReason::from_openai);
    reply.usage = usage(&value);
    Ok(reply)
}

/// A tool call being streamed: its fragments by `index`.
#[derive(Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
}

/// Reads a streamed answer event by event.
pub(crate) struct Stream {
    reply: ChatResponse,
    calls: BTreeMap<u64, PendingCall>,
    done: bool,
}

impl Stream {
    pub(crate) fn new(model: &str) -> Self {
        Self {
            reply: ChatResponse::empty(model),
            calls: BTreeMap::new(),
            done: false,
        }
    }

    /// One event's data; text deltas go to `on_text` as they arrive.
    pub(crate) fn event(
        &mut self,
        data: &str,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), CallError> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|err| CallError::Malformed(format!("a chunk is not JSON: {err}")))?;
        if let Some(err) = mid_stream_error(&value) {
            return Err(err);
        }
        if let Some(model) = value["model"].as_str().filter(|m| !m.is_empty()) {
            model.clone_into(&mut self.reply.model);
        }
        if let Some(usage) = usage(&value) {
            self.reply.usage = Some(usage);
        }
        // `choices` may be missing, null or empty on the usage chunk.
        for choice in value["choices"].as_array().into_iter().flatten() {
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                on_text(text);
                self.reply.text.push_str(text);
            }
            for fragment in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = fragment["index"].as_u64().unwrap_or(0);
                let call = self.calls.entry(index).or_default();
                if let Some(id) = fragment["id"].as_str() {
                    call.id.push_str(id);
                }
                if let Some(name) = fragment["function"]["name"].as_str() {
                    call.name.push_str(name);
                }
                if let Some(arguments) = fragment["function"]["arguments"].as_str() {
                    call.arguments.push_str(arguments);
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.reply.stop_reason = Some(StopReason::from_openai(reason));
            }
        }
        Ok(())
    }

    /// Whether `[DONE]` came: nothing more will.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The answer, once the stream ended: complete if `[DONE]` or a finish reason came.
    pub(crate) fn finish(mut self) -> Result<ChatResponse, CallError> {
        if !self.done && self.reply.stop_reason.is_none() {
            return Err(CallError::Transport(
                "the stream ended before the answer was complete".into(),
            ));
        }
        for (_, call) in std::mem::take(&mut self.calls) {
            self.reply.tool_calls.push(ToolCall {
                arguments: arguments(&call.name, &call.arguments)?,
                id: call.id,
                name: call.name,
            });
        }
        Ok(self.reply)
    }
}
