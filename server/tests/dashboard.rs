//! The dashboard's figures over real runs whose times are then set in the database: counts
//! per bucket and status, the success rate, nearest-rank p50 and p95, the failing
//! workflows, model tokens, recent runs, another user's runs left out, and the server
//! function refusing an unknown range.

mod common;

use aura_engine::Range;
use aura_store::{Origin, Principal};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

#[tokio::test]
async fn the_dashboard_counts_one_owners_runs_per_bucket() {
    let app = spawn_app().await;
    let ada = app.signed_in_client("ada@example.com").await;
    let ok = app
        .create_workflow(
            &ada,
            json!([{ "id": "t", "type": "template", "config": { "template": "hi" } }]),
        )
        .await;
    let bad = app
        .create_workflow(
            &ada,
            json!([{ "id": "s", "type": "script", "config": { "code": "throw new Error('no')" } }]),
        )
        .await;
    let mut runs = Vec::new();
    for workflow in [&ok, &ok, &ok, &bad] {
        let run = app.start_run(&ada, workflow, json!({})).await;
        app.finished_run(&ada, &run).await;
        runs.push(run);
    }
    let bob = app.signed_in_client("bob@example.com").await;
    let bobs = app
        .create_workflow(
            &bob,
            json!([{ "id": "t", "type": "template", "config": { "template": "hi" } }]),
        )
        .await;
    let bobs_run = app.start_run(&bob, &bobs, json!({})).await;
    app.finished_run(&bob, &bobs_run).await;

    // Noon today (UTC); each run moved to a known start and length.
    let now = aura_store::now_millis() / DAY * DAY + DAY / 2;
    for (run, started, took) in [
        (&runs[0], now - HOUR, 1_000),
        (&runs[1], now - 2 * HOUR, 2_000),
        (&runs[2], now - 10 * DAY, 3_000),
        (&runs[3], now - 2 * DAY, 10_000),
    ] {
        app.execute_sql(&format!(
            "UPDATE runs SET created_at = {started}, finished_at = {} WHERE id = '{run}'",
            started + took
        ))
        .await;
    }
    let ada_id = app
        .store
        .user_id_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    // A model call today, and one from 40 days ago.
    for (id, at) in [("c1", now - HOUR), ("c2", now - 40 * DAY)] {
        app.execute_sql(&format!(
            "INSERT INTO llm_calls (id, occurred_at, user_id, source, alias, target, input_tokens, \
             output_tokens, cost_micros, cached, latency_ms, outcome) VALUES \
             ('{id}', {at}, '{ada_id}', 'step', 'default', 'openai/m', 400, 120, 250, 0, 10, 'ok')"
        ))
        .await;
    }
    let user = app.store.find_user(&ada_id).await.unwrap().unwrap();
    let principal = Principal::session(user, Origin::default());

    let week = app
        .engine
        .dashboard(&principal, Range::Week, now)
        .await
        .unwrap();
    assert_eq!(week.buckets.len(), 7);
    let today = week.buckets[6];
    assert_eq!(today.start, now - DAY / 2);
    assert_eq!((today.succeeded, today.failed), (2, 0));
    assert_eq!(
        (today.input_tokens, today.output_tokens, today.cost_micros),
        (400, 120, 250)
    );
    assert_eq!(week.buckets[4].failed, 1);
    assert_eq!((week.totals.succeeded, week.totals.failed), (2, 1));
    assert_eq!(week.totals.runs(), 3);
    assert!((week.success_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    // Three finished runs (1 s, 2 s, 10 s): nearest rank p50 is the 2nd, p95 the 3rd.
    assert_eq!(week.durations.finished, 3);
    assert_eq!(
        (week.durations.p50_ms, week.durations.p95_ms),
        (Some(2_000), Some(10_000))
    );
    assert_eq!(week.failing.len(), 1);
    assert_eq!(week.failing[0].workflow_id, bad);
    assert_eq!((week.failing[0].failed, week.failing[0].total), (1, 1));
    // The newest runs, whatever their age; never Bob's.
    assert_eq!(week.recent.len(), 4);
    assert!(week.recent.iter().all(|r| r.id != bobs_run));

    let month = app
        .engine
        .dashboard(&principal, Range::Month, now)
        .await
        .unwrap();
    assert_eq!(month.buckets.len(), 30);
    assert_eq!((month.totals.succeeded, month.totals.failed), (3, 1));
    assert_eq!(month.durations.finished, 4);
    assert_eq!(
        (month.durations.p50_ms, month.durations.p95_ms),
        (Some(2_000), Some(10_000))
    );
    assert_eq!(
        month.totals.input_tokens, 400,
        "the call 40 days ago is out"
    );

    let day = app
        .engine
        .dashboard(&principal, Range::Day, now)
        .await
        .unwrap();
    assert_eq!(day.buckets.len(), 24);
    assert_eq!(day.buckets[23].start, now);
    assert_eq!(
        (day.buckets[22].succeeded, day.buckets[21].succeeded),
        (1, 1)
    );
    assert_eq!(day.totals.runs(), 2);
    assert!(day.failing.is_empty());

    // A version saved without positions is drawn where the layered layout puts it.
    let run = app.engine.run(&principal, &runs[3]).await.unwrap();
    let (_, definition, drawn) = app
        .engine
        .drawing(&principal, &run.workflow_id, run.workflow_version)
        .await
        .unwrap();
    assert_eq!(definition.steps.len(), 1);
    assert_eq!(drawn.keys().collect::<Vec<_>>(), ["s"]);

    // The server function: today's runs, and a named field for a bad range.
    let res = ada
        .post(app.url("/api/dashboard"))
        .form(&[("range", "7d")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let view = json(res).await;
    assert_eq!(view["totals"]["failed"], 1);
    assert_eq!(view["failing"][0]["id"], bad.as_str());
    assert_eq!(view["buckets"].as_array().unwrap().len(), 7);
    let res = ada
        .post(app.url("/api/dashboard"))
        .form(&[("range", "1y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("range"));
}
