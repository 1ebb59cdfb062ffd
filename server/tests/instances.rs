//! The real binary under failure and in pairs, on SQLite or PostgreSQL:
//! - killed with SIGKILL in the middle of 20 runs, then restarted: every run finishes,
//!   and no step that had succeeded is executed again;
//! - two processes on one database share the queue: 1,000 runs, each step exactly once.

mod common;

use common::binary::Binary;
use common::upstream::Upstream;
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn binary(database: &str, workers: &str) -> Binary {
    Binary::start(&[
        ("AURA_DATABASE_URL", database),
        ("AURA_HTTP_ALLOW", "127.0.0.1"),
        ("AURA_WORKERS", workers),
        ("AURA_LEASE_SECS", "3"),
    ])
    .await
}

async fn signed_in(server: &Binary, first: bool) -> reqwest::Client {
    let c = client();
    let res = if first {
        server.sign_up(&c, "ops@example.com", "Ops", PASSWORD).await
    } else {
        server.sign_in(&c, "ops@example.com", PASSWORD).await
    };
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    c
}

/// Waits until every run has ended; returns their `{run, steps}`.
async fn all_finished(
    server: &Binary,
    c: &reqwest::Client,
    runs: &[String],
    limit: Duration,
) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    let mut done = Vec::new();
    for run in runs {
        loop {
            let data = server.run(c, run).await;
            if ["succeeded", "failed", "cancelled"]
                .contains(&data["run"]["status"].as_str().unwrap())
            {
                done.push(data);
                break;
            }
            assert!(Instant::now() < deadline, "run never finished: {data}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_finishes_every_run_after_restart_without_redoing_finished_steps() {
    let upstream = Upstream::start().await;
    let database = fresh_database_url().await;
    let mut first = binary(&database, "4").await;
    let c = signed_in(&first, true).await;
    let steps: Vec<Value> = (0..10)
        .map(|i| {
            let next = if i < 9 { json!([{ "to": format!("s{}", i + 1) }]) } else { json!([]) };
            json!({ "id": format!("s{i}"), "type": "http", "next": next,
                    "config": { "method": "GET", "url": format!("{}/work/{{{{ input.run }}}}-s{i}/40", upstream.url) } })
        })
        .collect();
    let wf = first.create_workflow(&c, json!(steps)).await;
    let mut runs = Vec::new();
    for n in 0..20 {
        runs.push(first.start_run(&c, &wf, json!({ "run": n })).await);
    }
    // Kill once a good share of the 200 steps ran, while others are mid-request.
    let deadline = Instant::now() + Duration::from_secs(30);
    while upstream.total_calls() < 60 {
        assert!(Instant::now() < deadline, "the runs never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill_hard();
    let calls_at_kill = upstream.total_calls();
    assert!(
        calls_at_kill < 200,
        "the kill came too late to test anything"
    );

    let second = binary(&database, "4").await;
    let c = signed_in(&second, false).await;
    let finished = all_finished(&second, &c, &runs, Duration::from_secs(60)).await;
    let mut rerun = 0;
    for (n, data) in finished.iter().enumerate() {
        assert_eq!(data["run"]["status"], "succeeded", "{data}");
        for (id, step) in steps_by_id(data) {
            let calls = upstream.calls(&format!("{n}-{id}"));
            let attempt = step["attempt"].as_u64().unwrap();
            assert!(calls >= 1, "{n}-{id} never called");
            // Each execution is a claimed attempt: a step ran twice only if it was
            // interrupted while running, and then its attempt count says so.
            assert!(
                calls <= attempt,
                "{n}-{id}: {calls} calls but attempt {attempt}"
            );
            if calls > 1 {
                rerun += 1;
            }
        }
    }
    // Only steps in flight at the kill (at most one per runner) may have run twice.
    assert!(rerun <= 4, "{rerun} steps ran twice");
    eprintln!(
        "crash test: {calls_at_kill} calls before the kill, {rerun} interrupted steps ran again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_queue_and_run_each_step_exactly_once() {
    let upstream = Upstream::start().await;
    let database = fresh_database_url().await;
    let one = binary(&database, "0").await;
    let c = signed_in(&one, true).await;
    let wf = one
        .create_workflow(
            &c,
            json!([{ "id": "only", "type": "http",
                     "config": { "method": "GET", "url": format!("{}/count/{{{{ input.n }}}}", upstream.url) } }]),
        )
        .await;
    let mut runs = Vec::new();
    for n in 0..1000 {
        runs.push(one.start_run(&c, &wf, json!({ "n": n })).await);
    }
    drop(one);
    // Both instances start on a full queue and race for it.
    let (a, b) = tokio::join!(binary(&database, "4"), binary(&database, "4"));
    let c = signed_in(&a, false).await;
    let finished = all_finished(&a, &c, &runs, Duration::from_secs(120)).await;
    for (n, data) in finished.iter().enumerate() {
        assert_eq!(data["run"]["status"], "succeeded", "{data}");
        assert_eq!(steps_by_id(data)["only"]["attempt"], 1);
        assert_eq!(upstream.calls(&n.to_string()), 1, "run {n}");
    }
    assert_eq!(upstream.total_calls(), 1000);
    drop(b);
    // Both processes took part: their runner ids differ in the instance part.
    let store = aura_store::Store::connect(&database, &aura_store::PoolSettings::default())
        .await
        .unwrap();
    let mut instances = std::collections::HashSet::new();
    for run in &runs {
        for event in store.run_events(run, 0).await.unwrap() {
            if event.kind == "step_started" {
                let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
                let worker = detail["worker"].as_str().unwrap();
                instances.insert(worker.rsplit_once('-').unwrap().0.to_owned());
            }
        }
    }
    assert_eq!(instances.len(), 2, "{instances:?}");
}
