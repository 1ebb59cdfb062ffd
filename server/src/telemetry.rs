//! Prometheus metrics at `/metrics`, in the text format of `metrics-exporter-prometheus`.
//!
//! Every crate records through the `metrics` facade (a no-op until a recorder is
//! installed); this module installs the exporter's recorder once per process, describes
//! each metric, times HTTP requests by matched route, and, at each scrape, reads what is
//! a state rather than an event (queue depth, pool use) from the database and the pool.
//!
//! `/metrics` is off unless `AURA_METRICS_TOKEN` (a bearer token on the main listener)
//! or `AURA_METRICS_ADDR` (a listener of its own, typically private) is set.

use crate::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Histogram buckets in seconds, from a fast HTTP request to a long step.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The process-wide recorder, installed on first use. `None` when another recorder was
/// installed first (then nothing is exported, and start-up says so).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    describe();
                    register();
                    Some(handle)
                }
                Err(err) => {
                    tracing::error!(error = %err, "could not install the metrics recorder; /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

/// Counters that may stay at zero for long are exported from the start, so a query over
/// them has a series to read (`rate()` of a missing series is nothing, not zero).
fn register() {
    for trigger in ["manual", "webhook", "schedule"] {
        metrics::counter!("aura_runs_started_total", "trigger" => trigger).increment(0);
    }
    metrics::counter!("aura_runs_resumed_total").increment(0);
    for status in ["succeeded", "failed", "cancelled"] {
        metrics::counter!("aura_runs_finished_total", "status" => status).increment(0);
    }
    metrics::counter!("aura_lease_expiries_total").increment(0);
    metrics::counter!("aura_webhook_deliveries_total").increment(0);
    metrics::gauge!("aura_sse_streams_open").increment(0.0);
}

fn describe() {
    describe_counter!(
        "aura_runs_started_total",
        "Runs started, by trigger (manual: the UI, REST or CLI; webhook; schedule)."
    );
    describe_counter!(
        "aura_runs_resumed_total",
        "Failed or cancelled runs resumed."
    );
    describe_counter!(
        "aura_runs_finished_total",
        "Runs that ended, by status (succeeded, failed, cancelled)."
    );
    describe_histogram!(
        "aura_step_duration_seconds",
        Unit::Seconds,
        "How long a step attempt ran, by step type and outcome (succeeded, failed, abandoned)."
    );
    describe_histogram!(
        "aura_step_claim_wait_seconds",
        Unit::Seconds,
        "From a step being ready to a worker claiming it."
    );
    describe_histogram!(
        "aura_claim_duration_seconds",
        Unit::Seconds,
        "How long one claim on the queue took (including finding nothing)."
    );
    describe_counter!(
        "aura_lease_expiries_total",
        "Steps whose worker lost its lease (died or froze), handled by this instance."
    );
    describe_gauge!(
        "aura_queue_depth",
        "Steps ready to run and not yet claimed, across every instance."
    );
    describe_gauge!(
        "aura_queue_oldest_age_seconds",
        Unit::Seconds,
        "How long the oldest ready step has waited (0 when none)."
    );
    describe_counter!(
        "aura_http_requests_total",
        "HTTP requests, by method, matched route and status."
    );
    describe_histogram!(
        "aura_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency to the response head, by method, matched route and status."
    );
    describe_gauge!(
        "aura_db_connections",
        "Database pool connections, by state (in_use, idle)."
    );
    describe_gauge!("aura_db_connections_max", "The database pool's size limit.");
    describe_counter!(
        "aura_webhook_deliveries_total",
        "Webhook deliveries that started a run."
    );
    describe_counter!(
        "aura_webhook_rejections_total",
        "Webhook deliveries refused, by reason (signature, timestamp, replay, token, rate_limited)."
    );
    describe_counter!(
        "aura_schedule_fires_total",
        "Schedule fires claimed by this instance, by outcome (started, skipped, queued)."
    );
    describe_gauge!(
        "aura_sse_streams_open",
        "Live event streams open (runs followed, AI actions answering)."
    );
}

/// Times every request by its matched route (`/api/v1/runs/{id}`, never the raw path, so
/// the label set stays bounded); anything unmatched (static files, 404s) is `other`.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("aura_http_requests_total", &labels).increment(1);
    metrics::histogram!("aura_http_request_duration_seconds", &labels).record(started.elapsed());
    response
}

/// `GET /metrics` on the main listener: only with `Authorization: Bearer AURA_METRICS_TOKEN`.
async fn with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !given.is_some_and(|given| same_secret(given, expected)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "a bearer token (AURA_METRICS_TOKEN) is required\n",
        )
            .into_response();
    }
    scrape(&state).await
}

/// Compares in time that depends only on the lengths.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

async fn scrape(state: &AppState) -> Response {
    let Some(handle) = handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are unavailable\n").into_response();
    };
    match state.store.queue_stats().await {
        Ok((depth, oldest)) => {
            metrics::gauge!("aura_queue_depth").set(depth as f64);
            let age = oldest.map_or(0, |at| (aura_store::now_millis() - at).max(0));
            metrics::gauge!("aura_queue_oldest_age_seconds").set(age as f64 / 1000.0);
        }
        // The rest is still worth having; the stale gauges keep their last value.
        Err(err) => tracing::warn!(error = %err, "could not read the queue for /metrics"),
    }
    let pool = state.store.pool_stats();
    metrics::gauge!("aura_db_connections", "state" => "in_use").set(f64::from(pool.in_use));
    metrics::gauge!("aura_db_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("aura_db_connections_max").set(f64::from(pool.max));
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// `/metrics` for the main router; answers 404 unless a token is configured.
pub fn route() -> Router<AppState> {
    Router::new().route("/metrics", get(with_token))
}

/// The router of `AURA_METRICS_ADDR`: `/metrics` with no token (unless one is set), for
/// an address only the monitoring system reaches.
pub fn own_listener(state: AppState) -> Router {
    let scrape_open = |State(state): State<AppState>, headers: HeaderMap| async move {
        if state.config.metrics_token.is_some() {
            with_token(State(state), headers).await
        } else {
            scrape(&state).await
        }
    };
    Router::new()
        .route("/metrics", get(scrape_open))
        .with_state(state)
}

/// Keeps histogram data bounded between scrapes (the exporter drains it on upkeep).
pub async fn upkeep() {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        if let Some(handle) = handle() {
            handle.run_upkeep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc123", "abc123"));
        assert!(!same_secret("abc124", "abc123"));
        assert!(!same_secret("abc12", "abc123"));
        assert!(!same_secret("", "abc123"));
    }
}
