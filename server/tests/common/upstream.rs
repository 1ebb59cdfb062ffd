//! A local HTTP server the tests' workflows call: counters to prove which steps ran, flaky
//! and slow endpoints, redirects, and an OpenAI-compatible chat endpoint that streams.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Shared {
    calls: Arc<Mutex<HashMap<String, u64>>>,
    chats: Arc<Mutex<Vec<Value>>>,
}

impl Shared {
    fn hit(&self, name: &str) -> u64 {
        let mut calls = self.calls.lock().unwrap();
        let n = calls.entry(name.to_owned()).or_default();
        *n += 1;
        *n
    }
}

pub struct Upstream {
    /// `http://127.0.0.1:port`
    pub url: String,
    shared: Shared,
}

impl Upstream {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .route("/count/{name}", get(count))
            .route("/headers", get(echo_headers))
            .route("/flaky/{name}/{failures}", get(flaky))
            .route("/fail-once/{name}", get(fail_once))
            .route("/slow/{ms}", get(slow))
            .route("/work/{name}/{ms}", get(work))
            .route("/redirect", get(redirect))
            .route("/big/{bytes}", get(big))
            .route("/endless", get(endless))
            .route("/v1/chat/completions", post(chat))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    /// How many times `name` was called.
    pub fn calls(&self, name: &str) -> u64 {
        self.shared
            .calls
            .lock()
            .unwrap()
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// Total calls across all names.
    pub fn total_calls(&self) -> u64 {
        self.shared.calls.lock().unwrap().values().sum()
    }

    /// The bodies of the chat requests received.
    pub fn chats(&self) -> Vec<Value> {
        self.shared.chats.lock().unwrap().clone()
    }
}

/// The request's headers as JSON, so a test sees what a step sent.
async fn echo_headers(headers: HeaderMap) -> Response {
    let map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    axum::Json(Value::Object(map)).into_response()
}

async fn count(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    let calls = s.hit(&name);
    axum::Json(json!({ "name": name, "calls": calls })).into_response()
}

async fn flaky(State(s): State<Shared>, Path((name, failures)): Path<(String, u64)>) -> Response {
    let calls = s.hit(&name);
    if calls <= failures {
        (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
    } else {
        axum::Json(json!({ "calls": calls })).into_response()
    }
}

async fn fail_once(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    if s.hit(&name) == 1 {
        (StatusCode::BAD_REQUEST, "not yet").into_response()
    } else {
        axum::Json(json!({ "ok": true })).into_response()
    }
}

async fn slow(Path(ms): Path<u64>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "finally"
}

/// Counts on arrival, then takes `ms` to answer: a step that can be interrupted mid-way.
async fn work(State(s): State<Shared>, Path((name, ms)): Path<(String, u64)>) -> Response {
    let calls = s.hit(&name);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    axum::Json(json!({ "name": name, "calls": calls })).into_response()
}

async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, q["to"].clone())]).into_response()
}

/// A body that never ends: 64 KiB chunks for as long as someone reads.
async fn endless() -> Response {
    let chunk = bytes_chunk();
    let stream =
        futures_util::stream::repeat_with(move || Ok::<_, std::convert::Infallible>(chunk.clone()));
    axum::body::Body::from_stream(stream).into_response()
}

fn bytes_chunk() -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b'x'; 64 * 1024])
}

async fn big(Path(bytes): Path<usize>) -> String {
    "x".repeat(bytes)
}

/// Streams "Hello, <prompt>!" in three chunks plus a usage chunk, like OpenAI's API with
/// `stream: true` and `stream_options.include_usage`; without `stream`, answers it whole. Model `missing` answers 404 with an
/// OpenAI-style error body; `overloaded` answers 503; `rambler` streams one chunk, then
/// nothing, and counts `rambler_closed` when the client drops the connection.
async fn chat(State(s): State<Shared>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    let body = body.0;
    s.chats.lock().unwrap().push(json!({
        "body": body,
        "authorization": headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()),
    }));
    match body["model"].as_str() {
        Some("missing") => {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({ "error": { "message": "The model `missing` does not exist", "type": "invalid_request_error" } })),
            )
                .into_response();
        }
        Some("overloaded") => {
            return (StatusCode::SERVICE_UNAVAILABLE, "overloaded").into_response();
        }
        Some("rambler") => {
            /// Counts the client dropping the connection.
            struct Closed(Shared);
            impl Drop for Closed {
                fn drop(&mut self) {
                    self.0.hit("rambler_closed");
                }
            }
            let chunk = json!({ "model": "rambler", "choices": [{ "index": 0, "delta": { "content": "Let me think about this at length. " }, "finish_reason": null }] });
            let first = futures_util::stream::once(async move {
                Ok::<_, std::io::Error>(format!("data: {chunk}\n\n"))
            });
            let closed = Closed(s.clone());
            let stalled = futures_util::stream::unfold(closed, |closed| async move {
                std::future::pending::<()>().await;
                Some((Ok(String::new()), closed))
            });
            return (
                [(header::CONTENT_TYPE, "text/event-stream")],
                axum::body::Body::from_stream(futures_util::StreamExt::chain(first, stalled)),
            )
                .into_response();
        }
        // A code assistant: a sentence, then the replacement in a fenced block.
        Some("coder") => {
            let reply = "I removed the hard-coded key.\n```python\nprint('fixed')\n```\n";
            let mut text = String::new();
            for piece in [&reply[..20], &reply[20..]] {
                let chunk = json!({ "model": "coder", "choices": [{ "index": 0, "delta": { "content": piece }, "finish_reason": null }] });
                text.push_str(&format!("data: {chunk}\n\n"));
            }
            let end = json!({ "model": "coder", "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }],
                              "usage": { "prompt_tokens": 40, "completion_tokens": 12 } });
            text.push_str(&format!("data: {end}\n\ndata: [DONE]\n\n"));
            return ([(header::CONTENT_TYPE, "text/event-stream")], text).into_response();
        }
        _ => {}
    }
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned();
    if body["stream"] != true {
        return axum::Json(json!({
            "id": "c1", "object": "chat.completion", "model": "test-model-1",
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": format!("Hello, {prompt}!") }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10 },
        }))
        .into_response();
    }
    let chunk = |content: &str| {
        json!({ "id": "c1", "object": "chat.completion.chunk", "model": "test-model-1",
                "choices": [{ "index": 0, "delta": { "content": content }, "finish_reason": null }] })
    };
    let events = [
        chunk("Hello"),
        chunk(", "),
        chunk(&format!("{prompt}!")),
        json!({ "id": "c1", "object": "chat.completion.chunk", "model": "test-model-1",
                "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }),
        json!({ "id": "c1", "object": "chat.completion.chunk", "model": "test-model-1", "choices": [],
                "usage": { "prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10 } }),
    ];
    let mut text = String::new();
    for event in events {
        text.push_str(&format!("data: {event}\n\n"));
    }
    text.push_str("data: [DONE]\n\n");
    // Split mid-event so the client must reassemble chunks.
    let (a, b) = text.split_at(text.len() / 3);
    let parts: Vec<Result<String, std::io::Error>> = vec![Ok(a.to_owned()), Ok(b.to_owned())];
    let stream = futures_util::stream::iter(parts);
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}
