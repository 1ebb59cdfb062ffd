//! `/api/v1/notifications`: the caller's notices, marking them read, and a live stream of
//! the unread count (what the bell shows on every page).

use super::runs::credential_stands;
use super::{ApiPath, ApiResult, Data, Signed, respond};
use crate::AppState;
use aura_app::error::AppError;
use aura_app::server::ErrorBody;
use aura_engine::RunSignal;
use aura_store::{Notification, Principal, Store};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How often a stream re-reads the count when nothing happened here: notices written by
/// another instance show within this.
const POLL: Duration = Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_all))
        .routes(routes!(read))
        .routes(routes!(events))
}

/// A notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    id: String,
    /// `run_failed`, `schedule_skipped` or `budget_nearly_used`.
    kind: String,
    title: String,
    body: String,
    /// Where it leads in the app, e.g. `/runs/{id}`.
    link: Option<String>,
    /// How many events it stands for (repeats about one subject collapse while unread).
    count: i64,
    read: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            link: n.link,
            count: n.count,
            read: n.read_at.is_some(),
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct NotificationPage {
    items: Vec<NotificationView>,
    unread: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// 1 to 100 (default 50).
    limit: Option<i64>,
}

/// Your latest notices and how many are unread.
#[utoipa::path(get, operation_id = "notifications.list", path = "/notifications", tag = "notifications", params(ListQuery),
    responses((status = 200, description = "Your notices, the latest first", body = Data<NotificationPage>),
        (status = 422, description = "A bad limit", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Signed(principal): Signed,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(super::bad_query)?;
    let page = state
        .services
        .notifications
        .list(&principal, query.limit)
        .await?;
    Ok(respond(
        StatusCode::OK,
        NotificationPage {
            items: page.items.into_iter().map(NotificationView::from).collect(),
            unread: page.unread,
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
struct Marked {
    /// How many notices this marked read.
    marked: u64,
}

/// Marks every notice of yours read.
#[utoipa::path(post, operation_id = "notifications.read_all", path = "/notifications/read-all", tag = "notifications",
    responses((status = 200, description = "Marked", body = Data<Marked>)))]
async fn read_all(State(state): State<AppState>, Signed(principal): Signed) -> ApiResult {
    let marked = state
        .services
        .notifications
        .mark_all_read(&principal)
        .await?;
    Ok(respond(StatusCode::OK, Marked { marked }))
}

/// Marks one notice read.
#[utoipa::path(post, operation_id = "notifications.read", path = "/notifications/{id}/read", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, description = "Marked", body = Data<Marked>),
        (status = 404, description = "No such notice of yours", body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    Signed(principal): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    state
        .services
        .notifications
        .mark_read(&principal, &id)
        .await?;
    Ok(respond(StatusCode::OK, Marked { marked: 1 }))
}

/// Server-sent events: `unread` with `{unread}` now and whenever the count changes.
#[utoipa::path(get, operation_id = "notifications.events", path = "/notifications/events", tag = "notifications",
    responses((status = 200, description = "`text/event-stream` of `unread` events, data `{unread}`", content_type = "text/event-stream", body = super::SseEvent)))]
async fn events(
    State(state): State<AppState>,
    Signed(principal): Signed,
    session: tower_sessions::Session,
) -> ApiResult {
    let Some(slot) = state.notification_streams.take(principal.user_id()) else {
        return Err(AppError::Throttled {
            message: format!(
                "You have {} notification streams open, the most allowed; close a tab first.",
                state.notification_streams.max
            ),
            retry_after_secs: 30,
        });
    };
    let watch = Watch {
        store: state.store.clone(),
        principal,
        session: session.id().map(|id| id.to_string()),
        signals: state.services.engine.subscribe(),
        last: None,
        recheck: state.config.event_stream_recheck,
        checked_at: tokio::time::Instant::now(),
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        loop {
            if w.checked_at.elapsed() >= w.recheck {
                if !credential_stands(&w.store, &w.principal, w.session.as_deref()).await {
                    return None;
                }
                w.checked_at = tokio::time::Instant::now();
            }
            match w.store.unread_notifications(w.principal.user_id()).await {
                Ok(unread) if w.last != Some(unread) => {
                    w.last = Some(unread);
                    let event = Event::default()
                        .event("unread")
                        .data(serde_json::json!({ "unread": unread }).to_string());
                    return Some((Ok::<_, std::convert::Infallible>(event), w));
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::info!(error = %err, "notification stream ended");
                    return None;
                }
            }
            w.wait().await;
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

struct Watch {
    store: Store,
    principal: Principal,
    session: Option<String>,
    signals: broadcast::Receiver<RunSignal>,
    last: Option<i64>,
    recheck: Duration,
    checked_at: tokio::time::Instant,
    _slot: super::runs::StreamSlot,
}

impl Watch {
    /// Until something may have changed the count here (a run moved on this instance), or
    /// the poll interval for what other instances wrote.
    async fn wait(&mut self) {
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            signal = self.signals.recv() => match signal {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Let a burst of signals settle into one read.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(broadcast::error::RecvError::Closed) => tokio::time::sleep(POLL).await,
            },
        }
    }
}
