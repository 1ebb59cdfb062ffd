//! `POST /api/v1/projects/{id}/files/{entry}/assist`: an AI action on a file, answered as
//! server-sent events. Refusals known before the model answers (no such file, a bad
//! selection, a used-up budget, no model configured) are ordinary error envelopes; once
//! the first text arrives the answer streams: `delta` events with text, then one `done`
//! event with the proposal, tokens and cost (or an `error` event).

use super::{ApiPath, ApiResult, Signed, bad_body};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::ErrorBody;
use aura_projects::{Action, AssistRequest, Assisted, Selection};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(assist))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AssistBody {
    /// `explain`, `fix`, `document` or `generate`.
    action: String,
    /// What to generate (`generate` only).
    #[serde(default)]
    prompt: Option<String>,
    /// The selection's first and last lines (1-based); absent for the whole file.
    #[serde(default)]
    start_line: Option<usize>,
    #[serde(default)]
    end_line: Option<usize>,
    /// The editor's unsaved text, to act on instead of the saved revision (bounded like
    /// a saved file).
    #[serde(default)]
    content: Option<String>,
}

enum Message {
    Text(String),
    Done(Result<Assisted, AppError>),
}

/// Runs an AI action on a file and streams its answer.
#[utoipa::path(post, operation_id = "projects.assist", path = "/projects/{id}/files/{entry}/assist", tag = "projects",
    params(("id" = String, Path), ("entry" = String, Path)), request_body = AssistBody,
    responses(
        (status = 200, description = "`text/event-stream`: `delta` events `{text}`, then `done` `{text, proposal, base_revision, target, input_tokens, output_tokens, cost_usd, cached}` or `error` `{code, message}`", content_type = "text/event-stream", body = super::SseEvent),
        (status = 404, description = "No such file of yours", body = ErrorBody),
        (status = 409, description = "No model is configured, or the provider refuses (`invalid_state`)", body = ErrorBody),
        (status = 422, description = "A bad action, prompt or selection", body = ErrorBody)))]
async fn assist(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((project_id, entry_id)): ApiPath<(String, String)>,
    body: Result<Json<AssistBody>, JsonRejection>,
) -> ApiResult {
    // The answer is an event stream: it counts against the user's open streams, so one
    // user cannot hold every connection and model call at once.
    let Some(slot) = state.event_streams.take(principal.user_id()) else {
        return Err(AppError::Throttled {
            message: format!(
                "You have {} event streams open, the most allowed (AURA_MAX_EVENT_STREAMS_PER_USER); wait for one to end.",
                state.event_streams.max
            ),
            retry_after_secs: 5,
        });
    };
    let Json(body) = body.map_err(bad_body)?;
    let action = Action::parse(&body.action, body.prompt).ok_or_else(|| {
        AppError::invalid(
            "action",
            "Use explain, fix, document, or generate with a prompt.",
        )
    })?;
    let selection = match (body.start_line, body.end_line) {
        (None, None) => None,
        (Some(start), Some(end)) => Some(Selection { start, end }),
        _ => {
            return Err(AppError::invalid(
                "start_line",
                "Send both start_line and end_line, or neither.",
            ));
        }
    };
    let request = AssistRequest {
        project_id,
        entry_id,
        action,
        selection,
        content: body.content,
    };
    let (sender, mut receiver) = mpsc::channel::<Message>(256);
    let services = state.services.clone();
    tokio::spawn(async move {
        let texts = sender.clone();
        // The client stopping (or leaving) drops the stream's receiver: the model call
        // is abandoned then rather than paid for to its end.
        let gone = sender.clone();
        let result = services
            .projects
            .assist(
                &services.llm,
                &principal,
                &request,
                &mut |text| {
                    // A full channel drops a delta; the `done` event still holds all text.
                    let _ = texts.try_send(Message::Text(text.to_owned()));
                },
                async move { gone.closed().await },
            )
            .await
            .map_err(AppError::from);
        let _ = sender.send(Message::Done(result)).await;
        // The slot is given back when the call ends, even if the client left early.
        drop(slot);
    });
    // Wait for the first message: a refusal before any text is an ordinary error answer.
    let first = match receiver.recv().await {
        Some(Message::Done(Err(err))) => return Err(err),
        Some(first) => first,
        None => {
            return Err(AppError::Unavailable {
                message: "The AI action stopped unexpectedly. Try again.".into(),
                retry_after_secs: 1,
            });
        }
    };
    let stream = futures_util::stream::unfold(
        (Some(first), receiver, false),
        |(pending, mut receiver, finished)| async move {
            if finished {
                return None;
            }
            let message = match pending {
                Some(message) => message,
                None => receiver.recv().await?,
            };
            let (event, finished) = match message {
                Message::Text(text) => (
                    Event::default()
                        .event("delta")
                        .data(serde_json::json!({ "text": text }).to_string()),
                    false,
                ),
                Message::Done(Ok(done)) => (
                    Event::default().event("done").data(
                        serde_json::json!({
                            "text": done.text,
                            "proposal": done.proposal,
                            "base_revision": done.base_revision,
                            "target": done.target,
                            "input_tokens": done.input_tokens,
                            "output_tokens": done.output_tokens,
                            "cost_usd": done.cost_micros as f64 / 1_000_000.0,
                            "cached": done.cached,
                        })
                        .to_string(),
                    ),
                    true,
                ),
                Message::Done(Err(err)) => (
                    Event::default().event("error").data(
                        serde_json::json!({ "code": err.code(), "message": err.to_string() })
                            .to_string(),
                    ),
                    true,
                ),
            };
            Some((Ok::<_, Infallible>(event), (None, receiver, finished)))
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
