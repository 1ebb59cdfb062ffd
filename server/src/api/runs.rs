//! `/api/v1/runs`: start a run, list runs with filters, read one with its steps, cancel,
//! resume, decide a waiting approval, read an agent step's transcript, and follow its
//! events live (server-sent events).

use super::{ApiPath, ApiResult, Data, Signed, bad_body, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::ErrorBody;
use aura_engine::{Engine, MAX_PAGE, RunPage as EngineRunPage, RunSignal};
use aura_store::{Principal, Run, RunEvent, RunFilter, RunStatus, StepRun, StepStatus};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(cancel))
        .routes(routes!(resume))
        .routes(routes!(decide))
        .routes(routes!(transcript))
        .routes(routes!(events))
}

fn json_text(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    id: String,
    workflow_id: String,
    workflow_version: i64,
    /// `queued`, `running`, `waiting`, `succeeded`, `failed` or `cancelled`.
    #[schema(value_type = String)]
    status: RunStatus,
    #[schema(value_type = Object)]
    input: Value,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

impl From<Run> for RunView {
    fn from(r: Run) -> Self {
        RunView {
            input: json_text(Some(&r.input)),
            id: r.id,
            workflow_id: r.workflow_id,
            workflow_version: r.workflow_version,
            status: r.status,
            error: r.error,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct StepView {
    step_id: String,
    /// `pending`, `queued`, `running`, `waiting`, `succeeded`, `failed`, `skipped` or
    /// `cancelled`.
    #[schema(value_type = String)]
    status: StepStatus,
    attempt: i64,
    /// The step's output (any JSON), null until it succeeded; while an `approval` step
    /// waits, what the approver is asked (`message`, `timeout_at`, `on_timeout`).
    #[schema(value_type = Object, nullable)]
    output: Value,
    error: Option<String>,
    /// Token usage of `llm` steps.
    #[schema(value_type = Object, nullable)]
    usage: Value,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl From<StepRun> for StepView {
    fn from(s: StepRun) -> Self {
        StepView {
            output: json_text(s.output.as_deref()),
            usage: json_text(s.usage.as_deref()),
            step_id: s.step_id,
            status: s.status,
            attempt: s.attempt,
            error: s.error,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartBody {
    /// The run's input: a JSON object (default `{}`).
    #[serde(default)]
    #[schema(value_type = Object)]
    input: Option<Value>,
}

/// A run in a listing.
#[derive(Debug, Serialize, ToSchema)]
struct RunListItem {
    id: String,
    workflow_id: String,
    workflow_name: String,
    workflow_version: i64,
    #[schema(value_type = String)]
    status: RunStatus,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

impl From<aura_store::RunSummary> for RunListItem {
    fn from(r: aura_store::RunSummary) -> Self {
        RunListItem {
            id: r.id,
            workflow_id: r.workflow_id,
            workflow_name: r.workflow_name,
            workflow_version: r.workflow_version,
            status: r.status,
            error: r.error,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

/// A page of runs; `next_cursor` fetches the next one.
#[derive(Debug, Serialize, ToSchema)]
struct RunPage {
    runs: Vec<RunListItem>,
    next_cursor: Option<String>,
}

/// A run with its steps.
#[derive(Debug, Serialize, ToSchema)]
struct RunDetail {
    run: RunView,
    steps: Vec<StepView>,
    /// Once the run succeeded: the output of the step that ends it, or an object of the
    /// outputs of the steps that end it, by step id. Null before.
    #[schema(value_type = Object, nullable)]
    output: Option<Value>,
}

/// Starts a run of the workflow's current version.
#[utoipa::path(post, operation_id = "runs.start", path = "/workflows/{id}/runs", tag = "runs", params(("id" = String, Path, description = "The workflow")),
    request_body = StartBody,
    responses(
        (status = 201, description = "Queued", body = Data<RunView>),
        (status = 404, description = "No such workflow of yours", body = ErrorBody),
        (status = 422, description = "The input is not a JSON object", body = ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(workflow_id): ApiPath<String>,
    body: Result<Json<StartBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let input = body
        .input
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !input.is_object() {
        return Err(AppError::invalid(
            "input",
            "The run input must be a JSON object.",
        ));
    }
    let run = state
        .services
        .engine
        .start(&principal, &workflow_id, &input)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::CREATED, RunView::from(run)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    workflow_id: Option<String>,
    /// `queued`, `running`, `waiting`, `succeeded`, `failed` or `cancelled`.
    status: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    limit: Option<i64>,
}

/// Your runs, newest first.
#[utoipa::path(get, operation_id = "runs.list", path = "/runs", tag = "runs", params(ListQuery),
    responses(
        (status = 200, description = "A page of runs", body = Data<RunPage>),
        (status = 422, description = "A bad status, limit or cursor", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Signed(principal): Signed,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(super::bad_query)?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(RunStatus::parse(text).ok_or_else(|| {
            let all: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            AppError::invalid("status", format!("Use one of {}.", all.join(", ")))
        })?),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid("limit", format!("Use 1 to {MAX_PAGE}.")));
    }
    let before = match &query.cursor {
        None => None,
        Some(cursor) => Some(EngineRunPage::parse_cursor(cursor).ok_or_else(|| {
            AppError::invalid("cursor", "Use the next_cursor of a previous page.")
        })?),
    };
    let filter = RunFilter {
        workflow_id: query.workflow_id.filter(|s| !s.is_empty()),
        status,
        before,
        limit,
    };
    let page = state
        .services
        .engine
        .page(&principal, &filter)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        RunPage {
            runs: page.runs.into_iter().map(RunListItem::from).collect(),
            next_cursor: page.next_cursor,
        },
    ))
}

/// The run and its steps.
#[utoipa::path(get, operation_id = "runs.show", path = "/runs/{id}", tag = "runs", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The run", body = Data<RunDetail>),
        (status = 404, description = "No such run of yours", body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let detail = state
        .services
        .engine
        .run_with_steps(&principal, &id)
        .await
        .map_err(AppError::from)?;
    Ok(respond(
        StatusCode::OK,
        RunDetail {
            run: RunView::from(detail.run),
            steps: detail.steps.into_iter().map(StepView::from).collect(),
            output: detail.output,
        },
    ))
}

/// Stops a queued, running or waiting run.
#[utoipa::path(post, operation_id = "runs.cancel", path = "/runs/{id}/cancel", tag = "runs", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = Data<RunView>),
        (status = 404, description = "No such run of yours", body = ErrorBody),
        (status = 409, description = "The run has already ended (`invalid_state`)", body = ErrorBody)))]
async fn cancel(state: State<AppState>, principal: Signed, id: ApiPath<String>) -> ApiResult {
    control(state, principal, id, Control::Cancel).await
}

/// Runs a failed or cancelled run again from its failed steps.
#[utoipa::path(post, operation_id = "runs.resume", path = "/runs/{id}/resume", tag = "runs", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Queued again", body = Data<RunView>),
        (status = 404, description = "No such run of yours", body = ErrorBody),
        (status = 409, description = "Only failed or cancelled runs resume (`invalid_state`)", body = ErrorBody)))]
async fn resume(state: State<AppState>, principal: Signed, id: ApiPath<String>) -> ApiResult {
    control(state, principal, id, Control::Resume).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    /// `true` to approve, `false` to reject.
    approved: bool,
    /// Why; later steps read it as `steps.<id>.output.comment`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    comment: String,
}

/// Approves or rejects a waiting `approval` step; the run goes on.
#[utoipa::path(post, operation_id = "runs.decide", path = "/runs/{id}/steps/{step_id}/decision", tag = "runs",
    params(("id" = String, Path), ("step_id" = String, Path)),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "Decided; the run goes on", body = Data<RunView>),
        (status = 400, description = "A body that is not a decision", body = ErrorBody),
        (status = 404, description = "No such run of yours, or no such approval step in it", body = ErrorBody),
        (status = 409, description = "The step is not waiting for a decision (`invalid_state`)", body = ErrorBody),
        (status = 422, description = "A comment that is too long", body = ErrorBody)))]
async fn decide(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, step_id)): ApiPath<(String, String)>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> ApiResult {
    let Json(body) = body.map_err(bad_body)?;
    let decision = aura_engine::Decision {
        approved: body.approved,
        comment: body.comment,
    };
    let run = state
        .services
        .engine
        .decide(&principal, &id, &step_id, &decision)
        .await
        .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, RunView::from(run)))
}

/// One entry of an agent step's transcript, in order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TranscriptEntryView {
    /// What the agent was asked (the goal, rendered).
    Goal { goal: String },
    /// A model answer: its text, the tools it called, and what it cost.
    Model {
        text: String,
        calls: Vec<ToolCallView>,
        tokens: u64,
        cost_usd: f64,
    },
    /// A call with side effects (a script, a request) began and has no answer yet.
    Started { call_id: String },
    /// A tool's answer; `is_error` when the tool refused or failed.
    Result {
        name: String,
        content: String,
        is_error: bool,
    },
}

#[derive(Debug, Serialize, ToSchema)]
struct ToolCallView {
    id: String,
    name: String,
    #[schema(value_type = Object)]
    arguments: Value,
}

impl From<aura_engine::TranscriptEntry> for TranscriptEntryView {
    fn from(entry: aura_engine::TranscriptEntry) -> Self {
        use aura_engine::TranscriptEntry as E;
        match entry {
            E::Goal { goal } => Self::Goal { goal },
            E::Model {
                text,
                calls,
                tokens,
                cost_micros,
            } => Self::Model {
                text,
                calls: calls
                    .into_iter()
                    .map(|c| ToolCallView {
                        id: c.id,
                        name: c.name,
                        arguments: c.arguments,
                    })
                    .collect(),
                tokens,
                cost_usd: cost_micros as f64 / 1_000_000.0,
            },
            E::Started { call_id } => Self::Started { call_id },
            E::Result {
                name,
                content,
                is_error,
            } => Self::Result {
                name,
                content,
                is_error,
            },
        }
    }
}

/// An `agent` step's transcript: the goal, each model answer and each tool result as
/// they were committed. Empty until the agent starts (and for other step types).
#[utoipa::path(get, operation_id = "runs.transcript", path = "/runs/{id}/steps/{step_id}/transcript", tag = "runs",
    params(("id" = String, Path), ("step_id" = String, Path)),
    responses(
        (status = 200, description = "The transcript, oldest first", body = Data<Vec<TranscriptEntryView>>),
        (status = 404, description = "No such run of yours", body = ErrorBody)))]
async fn transcript(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath((id, step_id)): ApiPath<(String, String)>,
) -> ApiResult {
    let mut transcripts = state
        .services
        .engine
        .agent_transcripts(&principal, &id)
        .await
        .map_err(AppError::from)?;
    let entries: Vec<TranscriptEntryView> = transcripts
        .remove(&step_id)
        .unwrap_or_default()
        .into_iter()
        .map(TranscriptEntryView::from)
        .collect();
    Ok(respond(StatusCode::OK, entries))
}

enum Control {
    Cancel,
    Resume,
}

async fn control(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
    command: Control,
) -> ApiResult {
    let run = match command {
        Control::Cancel => state.services.engine.cancel(&principal, &id).await,
        Control::Resume => state.services.engine.resume(&principal, &id).await,
    }
    .map_err(AppError::from)?;
    Ok(respond(StatusCode::OK, RunView::from(run)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// For clients that cannot set `Last-Event-ID`.
    after: Option<i64>,
    /// When the stream ends: absent, it stays open (a browser follows a run that may be
    /// resumed); `caught_up`, after the stored events; `finished`, once the run has
    /// finished and all its events are sent.
    #[param(inline)]
    until: Option<Until>,
}

/// When an event stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Until {
    CaughtUp,
    Finished,
}

/// How often a stream re-reads the database even without an in-process signal: runs
/// worked by another instance (sharing PostgreSQL) produce events this process does not
/// hear about.
const POLL: Duration = Duration::from_secs(1);

/// Replays the run's events after `Last-Event-ID` (or `?after=`), then stays open and
/// sends new ones as they are stored.
/// Server-sent events: the run's events after `Last-Event-ID` (or `after`), then live.
#[utoipa::path(get, operation_id = "runs.events", path = "/runs/{id}/events", tag = "runs", params(("id" = String, Path), EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses(
        (status = 200, description = "`text/event-stream`; each event's name is its kind, its data `{id, kind, step_id, detail, created_at}`", content_type = "text/event-stream", body = super::SseEvent),
        (status = 404, description = "No such run of yours", body = ErrorBody),
        (status = 422, description = "A bad Last-Event-ID", body = ErrorBody)))]
async fn events(
    State(state): State<AppState>,
    Signed(principal): Signed,
    session: tower_sessions::Session,
    ApiPath(id): ApiPath<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult {
    let Some(slot) = state.event_streams.take(principal.user_id()) else {
        return Err(AppError::Throttled {
            message: format!(
                "You have {} event streams open, the most allowed (AURA_MAX_EVENT_STREAMS_PER_USER); close one first.",
                state.event_streams.max
            ),
            retry_after_secs: 5,
        });
    };
    let Query(query) = query.map_err(super::bad_query)?;
    let after = match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| AppError::invalid("Last-Event-ID", "Send the id of an event."))?,
        None => query.after.unwrap_or(0),
    };
    // Checks ownership before the stream starts, so a stranger gets a plain 404.
    let signals = state.services.engine.subscribe();
    let first = state
        .services
        .engine
        .events(&principal, &id, after)
        .await
        .map_err(AppError::from)?;
    let follower = Follower {
        engine: state.services.engine.clone(),
        owner: principal,
        run_id: id,
        last_id: after,
        queue: first.into(),
        signals,
        session: session.id().map(|id| id.to_string()),
        recheck: state.config.event_stream_recheck,
        until: query.until,
        checked_at: tokio::time::Instant::now(),
        _slot: slot,
    };
    Ok(Sse::new(follower.into_stream())
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

struct Follower {
    engine: Engine,
    owner: Principal,
    run_id: String,
    last_id: i64,
    queue: VecDeque<RunEvent>,
    signals: broadcast::Receiver<RunSignal>,
    /// The session the stream was opened with; re-checked every `recheck`, so signing out
    /// or changing the password ends the stream.
    session: Option<String>,
    recheck: Duration,
    until: Option<Until>,
    checked_at: tokio::time::Instant,
    _slot: StreamSlot,
}

/// Counts each user's open event streams against a cap.
#[derive(Debug, Clone)]
pub struct EventStreams {
    pub max: u32,
    open: Arc<Mutex<HashMap<String, u32>>>,
}

impl EventStreams {
    pub fn new(max: u32) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    pub(crate) fn take(&self, user: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user.to_owned()).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        metrics::gauge!("aura_sse_streams_open").increment(1.0);
        Some(StreamSlot {
            streams: self.clone(),
            user: user.to_owned(),
        })
    }
}

/// One open stream; its place is given back when the stream ends.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    streams: EventStreams,
    user: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        metrics::gauge!("aura_sse_streams_open").decrement(1.0);
        let mut open = self.streams.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

impl Follower {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures_util::stream::unfold(self, |mut f| async move {
            loop {
                if let Some(event) = f.queue.pop_front() {
                    f.last_id = event.id;
                    return Some((Ok(to_sse(&event)), f));
                }
                if f.has_ended().await {
                    // The run's status was read first, so this read sees every event
                    // stored before it finished.
                    match f.engine.events(&f.owner, &f.run_id, f.last_id).await {
                        Ok(more) if !more.is_empty() => {
                            f.queue.extend(more);
                            continue;
                        }
                        _ => return None,
                    }
                }
                f.wait().await;
                if f.checked_at.elapsed() >= f.recheck {
                    f.checked_at = tokio::time::Instant::now();
                    if !f.session_is_valid().await {
                        tracing::info!(run = %f.run_id, "event stream ended: the session ended");
                        return None;
                    }
                }
                match f.engine.events(&f.owner, &f.run_id, f.last_id).await {
                    Ok(more) => f.queue.extend(more),
                    // The run was deleted (retention) or the database is away: end the
                    // stream; the client reconnects with Last-Event-ID.
                    Err(err) => {
                        tracing::info!(run = %f.run_id, error = %err, "event stream ended");
                        return None;
                    }
                }
            }
        })
    }

    /// Whether the stream should end once the stored events are sent (`until`).
    async fn has_ended(&self) -> bool {
        match self.until {
            None => false,
            Some(Until::CaughtUp) => true,
            Some(Until::Finished) => self
                .engine
                .run(&self.owner, &self.run_id)
                .await
                .map_or(true, |run| run.status.is_finished()),
        }
    }

    async fn session_is_valid(&self) -> bool {
        credential_stands(self.engine.store(), &self.owner, self.session.as_deref()).await
    }

    /// Until this run may have new events: a signal for it, or the poll interval.
    async fn wait(&mut self) {
        let deadline = tokio::time::sleep(POLL);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return,
                signal = self.signals.recv() => match signal {
                    Ok(signal) if signal.run_id == self.run_id => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => { deadline.as_mut().await; return; }
                },
            }
        }
    }
}

/// Whether a stream's credential still stands: its session still belongs to its user, or
/// its API key is neither revoked nor expired.
pub(super) async fn credential_stands(
    store: &aura_store::Store,
    owner: &Principal,
    session: Option<&str>,
) -> bool {
    if let aura_store::Credential::ApiKey { key_id, .. } = &owner.credential {
        return match store.list_api_keys(owner.user_id()).await {
            Ok(keys) => keys.iter().any(|k| {
                &k.id == key_id
                    && k.revoked_at.is_none()
                    && k.expires_at.is_none_or(|at| at > aura_store::now_millis())
            }),
            Err(_) => true,
        };
    }
    let Some(session) = session else {
        return false;
    };
    match store.session_user(session, aura_store::now_millis()).await {
        Ok(user) => user.as_deref() == Some(owner.user_id()),
        // A database hiccup is not a sign-out; the next check decides.
        Err(_) => true,
    }
}

fn to_sse(event: &RunEvent) -> Event {
    let data = serde_json::json!({
        "id": event.id,
        "kind": event.kind,
        "step_id": event.step_id,
        "detail": json_text(event.detail.as_deref()),
        "created_at": event.created_at,
    });
    Event::default()
        .id(event.id.to_string())
        .event(event.kind.as_str())
        .data(data.to_string())
}
