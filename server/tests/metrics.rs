//! `/metrics`: off by default, behind a bearer token on the main listener or open on a
//! listener of its own; what it serves parses with the official Prometheus client's
//! parser (`scripts/parse-metrics.py`), and the counters move after runs.

mod common;

use common::binary::Binary;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// Every sample of a scrape, as parsed by prometheus_client.
struct Scrape(Vec<Value>);

impl Scrape {
    fn parse(text: &str) -> Self {
        let python = std::env::var("AURA_TEST_PYTHON").unwrap_or_else(|_| {
            format!(
                "{}/.cache/aura/venv/bin/python",
                std::env::var("HOME").unwrap()
            )
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/parse-metrics.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} (scripts/bootstrap.sh installs prometheus_client): {e}")
            });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "the Prometheus parser rejected /metrics: {}\n{text}",
            String::from_utf8_lossy(&output.stderr)
        );
        Scrape(serde_json::from_slice(&output.stdout).unwrap())
    }

    /// The value of the sample `name` whose labels include `labels`; 0 when absent.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|s| s["name"] == name)
            .filter(|s| labels.iter().all(|(k, v)| s["labels"][k] == *v))
            .map(|s| s["value"].as_f64().unwrap())
            .sum()
    }

    fn family(&self, family: &str) -> Option<&Value> {
        self.0.iter().find(|s| s["family"] == family)
    }
}

async fn scrape(url: &str, token: Option<&str>) -> Scrape {
    let mut req = reqwest::Client::new().get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_need_the_token_parse_and_move_after_runs() {
    let app = spawn_app_with(&[("AURA_METRICS_TOKEN", TOKEN)]).await;
    let url = app.url("/metrics");
    let anonymous = reqwest::Client::new();
    for token in [
        None,
        Some("wrong-token-0123456789abcdef"),
        Some(&TOKEN[1..]),
    ] {
        let mut req = anonymous.get(&url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "token {token:?}");
        assert!(res.headers().contains_key("www-authenticate"));
    }
    let before = scrape(&url, Some(TOKEN)).await;

    let c = app.signed_in_client("metrics@example.com").await;
    let (_, ok) = app
        .run_once(
            &c,
            json!([{ "id": "hello", "type": "template", "config": { "template": "hi {{ input.n }}" } }]),
            json!({ "n": 1 }),
        )
        .await;
    assert_eq!(ok["run"]["status"], "succeeded");
    let (_, failed) = app
        .run_once(
            &c,
            json!([{ "id": "broken", "type": "template", "config": { "template": "{{ input.missing }}" } }]),
            json!({}),
        )
        .await;
    assert_eq!(failed["run"]["status"], "failed");
    let after = scrape(&url, Some(TOKEN)).await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    assert!(moved("aura_runs_started_total", &[]) >= 2.0);
    assert!(moved("aura_runs_finished_total", &[("status", "succeeded")]) >= 1.0);
    assert!(moved("aura_runs_finished_total", &[("status", "failed")]) >= 1.0);
    assert!(
        moved(
            "aura_step_duration_seconds_count",
            &[("type", "template"), ("outcome", "succeeded")]
        ) >= 1.0
    );
    assert!(moved("aura_step_claim_wait_seconds_count", &[]) >= 2.0);
    assert!(moved("aura_claim_duration_seconds_count", &[]) >= 2.0);
    // HTTP by the matched route, never the raw path.
    assert!(
        moved(
            "aura_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/v1/workflows/{id}/runs"),
                ("status", "201")
            ]
        ) >= 2.0
    );
    assert!(
        moved(
            "aura_http_request_duration_seconds_count",
            &[("route", "/api/v1/runs/{id}"), ("status", "200")]
        ) >= 1.0
    );
    assert!(
        after.0.iter().all(|s| s["labels"]["route"]
            .as_str()
            .is_none_or(|route| !route.contains("/runs/0"))),
        "a raw run id leaked into a route label"
    );
    assert_eq!(after.value("aura_db_connections_max", &[]), 4.0);
    assert!(after.value("aura_db_connections", &[("state", "idle")]) >= 0.0);
    for family in [
        "aura_runs_started",
        "aura_runs_resumed",
        "aura_runs_finished",
        "aura_step_duration_seconds",
        "aura_step_claim_wait_seconds",
        "aura_claim_duration_seconds",
        "aura_lease_expiries",
        "aura_queue_depth",
        "aura_queue_oldest_age_seconds",
        "aura_http_requests",
        "aura_http_request_duration_seconds",
        "aura_db_connections",
        "aura_db_connections_max",
        "aura_sse_streams_open",
    ] {
        let sample = after
            .family(family)
            .unwrap_or_else(|| panic!("{family} is missing"));
        assert!(
            !sample["help"].as_str().unwrap().is_empty(),
            "{family} has no HELP"
        );
    }
    assert_eq!(
        after.family("aura_step_duration_seconds").unwrap()["type"],
        "histogram"
    );
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_metrics_address_serves_them_without_a_token_and_only_there() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let database = fresh_database_url().await;
    let app = Binary::start(&[
        ("AURA_DATABASE_URL", &database),
        ("AURA_METRICS_ADDR", &addr),
    ])
    .await;
    let scrape = scrape(&format!("http://{addr}/metrics"), None).await;
    assert!(scrape.family("aura_queue_depth").is_some());
    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "not on the main listener"
    );
}
