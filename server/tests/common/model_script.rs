//! A model provider that follows a script, for the agent's tests: each chat request gets
//! the next scripted turn (tool calls, or a final text) in the wire format it was asked in
//! (OpenAI's `/v1/chat/completions` or Anthropic's `/v1/messages`), with the usage the
//! script says. Every answered request is recorded, so a test can prove that no turn was
//! asked for twice (a resumed agent must not pay for a finished model call again). One
//! request can be held unanswered, for a test to act (kill the server, edit a file) while
//! the agent waits for the model.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Turn {
    /// Calls these tools: (name, arguments).
    Tools(Vec<(&'static str, Value)>),
    /// A final answer in text.
    Text(&'static str),
}

#[derive(Default)]
struct Shared {
    turns: Mutex<VecDeque<(Turn, u64, u64)>>,
    /// Requests answered, in order.
    requests: Mutex<Vec<Value>>,
    /// Requests received, answered or not.
    calls: Mutex<u64>,
    /// The request (1-based) to hold until `release`.
    hold: Mutex<Option<u64>>,
    held: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

pub struct ModelScript {
    /// `http://127.0.0.1:port`
    pub url: String,
    shared: Arc<Shared>,
}

impl ModelScript {
    /// Serves `turns` in order, each reporting `tokens` = (input, output).
    pub async fn start(turns: Vec<(Turn, (u64, u64))>) -> Self {
        let shared = Arc::new(Shared::default());
        *shared.turns.lock().unwrap() = turns.into_iter().map(|(t, (i, o))| (t, i, o)).collect();
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    /// Adds turns to the end of the script.
    pub fn push(&self, turns: Vec<(Turn, (u64, u64))>) {
        self.shared
            .turns
            .lock()
            .unwrap()
            .extend(turns.into_iter().map(|(t, (i, o))| (t, i, o)));
    }

    /// Holds the `n`th request (1-based) unanswered until [`Self::release`].
    pub fn hold(&self, n: u64) {
        *self.shared.hold.lock().unwrap() = Some(n);
    }

    /// Waits until the held request has arrived.
    pub async fn held(&self) {
        self.shared.held.notified().await;
    }

    /// Lets the held request be answered (with the next turn, as it is then).
    pub fn release(&self) {
        self.shared.release.notify_one();
    }

    /// Requests received, answered or not.
    pub fn received(&self) -> u64 {
        *self.shared.calls.lock().unwrap()
    }

    /// The request bodies answered, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Scripted turns not asked for yet.
    pub fn left(&self) -> usize {
        self.shared.turns.lock().unwrap().len()
    }
}

/// The next turn, or `None` when the script is done (answered 500, so a test sees it).
/// The held request waits here for its release first.
async fn next(shared: &Shared, body: Value) -> Option<(Turn, u64, u64, u64)> {
    let n = {
        let mut calls = shared.calls.lock().unwrap();
        *calls += 1;
        *calls
    };
    let held = {
        let mut hold = shared.hold.lock().unwrap();
        (*hold == Some(n)).then(|| hold.take()).is_some()
    };
    if held {
        shared.held.notify_one();
        shared.release.notified().await;
    }
    let (turn, input, output) = shared.turns.lock().unwrap().pop_front()?;
    shared.requests.lock().unwrap().push(body);
    Some((turn, input, output, n))
}

fn script_done() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "error": { "message": "the script has no more turns" } })),
    )
        .into_response()
}

async fn openai(
    State(shared): State<Arc<Shared>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some((turn, input, output, n)) = next(&shared, body).await else {
        return script_done();
    };
    let (message, finish) = match turn {
        Turn::Tools(calls) => (
            json!({ "role": "assistant", "content": null, "tool_calls": calls.iter().enumerate().map(|(i, (name, args))| json!({
                "id": format!("call_{n}_{i}"), "type": "function",
                "function": { "name": name, "arguments": args.to_string() }
            })).collect::<Vec<_>>() }),
            "tool_calls",
        ),
        Turn::Text(text) => (json!({ "role": "assistant", "content": text }), "stop"),
    };
    axum::Json(json!({
        "id": format!("chatcmpl-{n}"), "object": "chat.completion", "model": "scripted",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": { "prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output }
    }))
    .into_response()
}

async fn anthropic(
    State(shared): State<Arc<Shared>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some((turn, input, output, n)) = next(&shared, body).await else {
        return script_done();
    };
    let (content, stop) = match turn {
        Turn::Tools(calls) => (
            calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    json!({ "type": "tool_use", "id": format!("toolu_{n}_{i}"), "name": name, "input": args })
                })
                .collect::<Vec<_>>(),
            "tool_use",
        ),
        Turn::Text(text) => (vec![json!({ "type": "text", "text": text })], "end_turn"),
    };
    axum::Json(json!({
        "id": format!("msg_{n}"), "type": "message", "role": "assistant", "model": "scripted",
        "content": content, "stop_reason": stop,
        "usage": { "input_tokens": input, "output_tokens": output }
    }))
    .into_response()
}
