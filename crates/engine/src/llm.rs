//! The `llm` step's providers: a small trait, and an OpenAI-compatible chat-completions
//! client that streams (server-sent events) so tokens reach the step log as they arrive.

use crate::step::{StepFailure, StepLog};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// A rendered chat request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system: Option<String>,
    pub prompt: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    pub text: String,
    pub model: String,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

/// A model provider. Implementations stream tokens into `log` as they arrive.
#[async_trait::async_trait]
pub trait LlmProvider: Send + Sync {
    async fn chat(&self, request: &ChatRequest, log: &StepLog)
    -> Result<ChatResponse, StepFailure>;
}

/// Any server speaking OpenAI's `/chat/completions` wire format (OpenAI, vLLM, Ollama,
/// llama.cpp, LiteLLM, …).
pub struct OpenAiCompatible {
    base_url: String,
    api_key: Option<String>,
    client: reqwest::Client,
}

impl OpenAiCompatible {
    /// `base_url` is the API root, for example `https://api.openai.com/v1`. The operator
    /// configures it, so it is not subject to the `http` step's egress guard (a local
    /// model server on loopback is a normal setup).
    pub fn new(base_url: &str, api_key: Option<String>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("Aura/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// Splits a server-sent event stream into the `data` payloads of its events.
#[derive(Default)]
struct SseParser {
    buffer: String,
}

impl SseParser {
    /// Feeds bytes; returns the data of every event completed by them.
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer
            .push_str(&String::from_utf8_lossy(bytes).replace("\r\n", "\n"));
        let mut events = Vec::new();
        while let Some(end) = self.buffer.find("\n\n") {
            let block: String = self.buffer.drain(..end + 2).collect();
            let data: Vec<&str> = block
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                events.push(data.join("\n"));
            }
        }
        events
    }
}

fn api_error(status: reqwest::StatusCode, body: &str) -> StepFailure {
    let detail = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect());
    let message = format!("The model provider answered {status}: {detail}");
    if status.as_u16() == 429 || status.is_server_error() {
        StepFailure::retryable(message)
    } else {
        StepFailure::fatal(message)
    }
}

#[async_trait::async_trait]
impl LlmProvider for OpenAiCompatible {
    async fn chat(
        &self,
        request: &ChatRequest,
        log: &StepLog,
    ) -> Result<ChatResponse, StepFailure> {
        let mut messages = Vec::new();
        if let Some(system) = &request.system {
            messages.push(serde_json::json!({ "role": "system", "content": system }));
        }
        messages.push(serde_json::json!({ "role": "user", "content": request.prompt }));
        let mut body = serde_json::json!({
            "model": request.model,
            "messages": messages,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if let Some(t) = request.temperature {
            body["temperature"] = t.into();
        }
        if let Some(n) = request.max_tokens {
            body["max_tokens"] = n.into();
        }
        let mut call = self
            .client
            .post(format!("{}/chat/completions", self.base_url))
            .json(&body);
        if let Some(key) = &self.api_key {
            call = call.bearer_auth(key);
        }
        let mut response = call.send().await.map_err(|e| {
            StepFailure::retryable(format!("Could not reach the model provider: {e}"))
        })?;
        let status = response.status();
        let read_error =
            |e: reqwest::Error| StepFailure::retryable(format!("The model stream broke off: {e}"));
        if !status.is_success() {
            let text = response.text().await.map_err(read_error)?;
            return Err(api_error(status, &text));
        }
        let mut parser = SseParser::default();
        let mut reply = ChatResponse {
            text: String::new(),
            model: request.model.clone(),
            finish_reason: None,
            usage: None,
        };
        let mut done = false;
        while let Some(bytes) = response.chunk().await.map_err(read_error)? {
            for data in parser.push(&bytes) {
                if data.trim() == "[DONE]" {
                    done = true;
                    continue;
                }
                let value: Value = serde_json::from_str(&data).map_err(|e| {
                    StepFailure::retryable(format!("The model sent a malformed chunk: {e}"))
                })?;
                if let Some(message) = value["error"]["message"].as_str() {
                    return Err(StepFailure::retryable(format!(
                        "The model provider reported an error mid-stream: {message}"
                    )));
                }
                let chunk: Chunk = serde_json::from_value(value).map_err(|e| {
                    StepFailure::retryable(format!("The model sent a malformed chunk: {e}"))
                })?;
                if let Some(model) = chunk.model {
                    reply.model = model;
                }
                if chunk.usage.is_some() {
                    reply.usage = chunk.usage;
                }
                for choice in chunk.choices {
                    if let Some(token) = choice.delta.content {
                        log.write(&token);
                        reply.text.push_str(&token);
                    }
                    if choice.finish_reason.is_some() {
                        reply.finish_reason = choice.finish_reason;
                    }
                }
            }
        }
        if !done && reply.finish_reason.is_none() {
            return Err(StepFailure::retryable(
                "The model stream ended before the reply was complete.",
            ));
        }
        log.write("\n");
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_across_chunk_boundaries() {
        let mut parser = SseParser::default();
        assert!(parser.push(b"data: {\"a\"").is_empty());
        assert_eq!(parser.push(b":1}\n\ndata: [DO"), vec!["{\"a\":1}"]);
        assert_eq!(parser.push(b"NE]\r\n\r\n: comment\n\n"), vec!["[DONE]"]);
    }
}
