//! A scripted model server for the wire tests: each request it receives gets the next
//! scripted reply, byte for byte, in the chunks given (with pauses, so they arrive as
//! separate reads), and is recorded for the test to inspect.

#![allow(dead_code)] // Each test file uses part of it.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub chunks: Vec<Vec<u8>>,
    /// Before the first chunk (after the status and headers).
    pub delay: Duration,
}

impl Reply {
    /// A `text/event-stream` answer in these chunks.
    pub fn stream(chunks: &[&str]) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            chunks: chunks.iter().map(|c| c.as_bytes().to_vec()).collect(),
            delay: Duration::ZERO,
        }
    }

    /// A JSON answer with this status.
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            chunks: vec![body.as_bytes().to_vec()],
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Default)]
struct Shared {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct Script {
    pub url: String,
    shared: Shared,
}

impl Script {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let shared = Shared::default();
        shared.replies.lock().unwrap().extend(replies);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, shared }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn left(&self) -> usize {
        self.shared.replies.lock().unwrap().len()
    }
}

async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.seen.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let Some(reply) = shared.replies.lock().unwrap().pop_front() else {
        return Response::builder()
            .status(StatusCode::IM_A_TEAPOT)
            .body(Body::from("the script has no more replies"))
            .unwrap();
    };
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(*name, value);
    }
    let delay = reply.delay;
    let chunks = futures_util::stream::unfold(
        (reply.chunks.into_iter(), true),
        move |(mut chunks, first)| async move {
            let chunk = chunks.next()?;
            tokio::time::sleep(if first {
                delay
            } else {
                Duration::from_millis(5)
            })
            .await;
            Some((Ok::<_, Infallible>(Bytes::from(chunk)), (chunks, false)))
        },
    );
    response.body(Body::from_stream(chunks)).unwrap()
}
