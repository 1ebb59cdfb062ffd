//! Engine overhead, throughput and memory, with every step durable.
//!
//!   cargo bench -p aura-server --bench engine                    # SQLite
//!   scripts/with-postgres.sh cargo bench -p aura-server --bench engine   # SQLite and PostgreSQL
//!
//! `AURA_BENCH_RUNS` sets the throughput run count (default 10,000). The dashboard's
//! queries are timed first, over `AURA_BENCH_DASHBOARD_RUNS` runs (default 100,000);
//! `-- dashboard` after the command runs only that part. Prints Markdown tables
//! (medians) for docs/benchmarks.md. The engine runs in this process exactly as in the
//! server (same store, executors and runners; no HTTP), so its peak RSS is the engine's.

mod common;

use aura_engine::{
    Engine, ExecutorConfig, Executors, Range, Runner, RunnerConfig, WorkflowDefinition,
    WorkflowInput, Workflows,
};
use aura_store::{PoolSettings, Store};
use serde_json::json;
use std::time::{Duration, Instant};

async fn fresh_store(label: &str) -> Store {
    fresh_store_at(label).await.0
}

/// A new empty database, and its URL.
async fn fresh_store_at(label: &str) -> (Store, String) {
    let url = common::database_url(label).await;
    let store = Store::connect(
        &url,
        &PoolSettings {
            max_connections: 16,
            ..PoolSettings::default()
        },
    )
    .await
    .unwrap();
    (store, url)
}

async fn owner(store: &Store) -> aura_store::Principal {
    let user = aura_store::NewUser {
        email: "bench@example.com".into(),
        display_name: "Bench".into(),
        password_hash: "x".into(),
    };
    store
        .create_user(
            &user,
            aura_store::NewAuditEvent {
                action: "bench".into(),
                ..Default::default()
            },
        )
        .await
        .map(|user| aura_store::Principal::session(user, aura_store::Origin::default()))
        .unwrap()
}

/// A sequential chain of trivial steps, each reading its predecessor's output.
async fn chain(store: &Store, owner: &aura_store::Principal, length: usize, kind: &str) -> String {
    let steps: Vec<_> = (0..length)
        .map(|i| {
            let next = if i + 1 < length {
                json!([{ "to": format!("s{}", i + 1) }])
            } else {
                json!([])
            };
            let config = match (kind, i) {
                ("script", 0) => json!({ "code": "return input.n + 1;" }),
                ("script", _) => json!({ "code": format!("return steps.s{}.output + 1;", i - 1) }),
                (_, 0) => json!({ "template": "{{ input.n }}" }),
                _ => json!({ "template": format!("{{{{ steps.s{}.output }}}}", i - 1) }),
            };
            json!({ "id": format!("s{i}"), "type": kind, "config": config, "next": next })
        })
        .collect();
    let definition: WorkflowDefinition = serde_json::from_value(json!({ "steps": steps })).unwrap();
    let input = WorkflowInput {
        name: format!("chain {length}"),
        description: String::new(),
        definition,
        layout: None,
    };
    Workflows::new(store.clone())
        .create(owner, &input)
        .await
        .unwrap()
        .id
}

fn engine(store: &Store) -> Engine {
    Engine::new(
        store.clone(),
        Executors::new(ExecutorConfig {
            evaluator: aura_engine::EvaluatorProgram {
                program: env!("CARGO_BIN_EXE_aura").into(),
                args: vec![aura_engine::EVALUATOR_ARG.into()],
            },
            ..ExecutorConfig::default()
        })
        .unwrap(),
    )
}

fn runner(engine: &Engine, name: String) -> Runner {
    let mut config = RunnerConfig::new(name);
    config.lease = Duration::from_secs(60);
    config.poll_interval = Duration::from_millis(1);
    engine.runner(config)
}

/// Peak resident set size of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median wall time of one 40-step sequential run, executed by one runner.
async fn overhead(label: &str, kind: &str) -> f64 {
    let store = fresh_store(label).await;
    let owner = owner(&store).await;
    let workflow = chain(&store, &owner, 40, kind).await;
    let runner = runner(&engine(&store), "bench".into());
    let mut times = Vec::new();
    for n in 0..21 {
        let started = Instant::now();
        runner
            .engine()
            .start(&owner, &workflow, &json!({ "n": n }))
            .await
            .unwrap();
        while runner.run_one().await.unwrap() {}
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    median(times)
}

/// Single-step runs per second with `concurrency` runners working the queue.
async fn throughput(label: &str, runs: usize, concurrency: usize) -> f64 {
    let store = fresh_store(label).await;
    let owner = owner(&store).await;
    let workflow = chain(&store, &owner, 1, "template").await;
    let engine = engine(&store);
    let starter = runner(&engine, "starter".into());
    for n in 0..runs {
        starter
            .engine()
            .start(&owner, &workflow, &json!({ "n": n }))
            .await
            .unwrap();
    }
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            let r = runner(&engine, format!("w{i}"));
            tokio::spawn(async move { while r.run_one().await.unwrap() {} })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    runs as f64 / started.elapsed().as_secs_f64()
}

/// Fills a fresh database with `runs` runs of one user spread evenly over the last 30
/// days (70% succeeded, 20% failed, 5% cancelled, 5% running; a model call for every
/// fifth), then times the dashboard for each range: median of 15, in ms.
async fn dashboard(label: &str, runs: usize) -> Vec<f64> {
    use sqlx::Connection;
    let (store, url) = fresh_store_at(label).await;
    let owner = owner(&store).await;
    let workflow = chain(&store, &owner, 1, "template").await;
    let user = owner.user_id().to_owned();
    let now = aura_store::now_millis();
    let span = 30 * 24 * 3_600_000_i64;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    for chunk in (0..runs).collect::<Vec<_>>().chunks(1_000) {
        let mut run_rows = Vec::new();
        let mut call_rows = Vec::new();
        for &i in chunk {
            let created = now - span + span * i as i64 / runs as i64;
            let (status, finished) = match i % 20 {
                0..14 => ("succeeded", Some(created + 200 + (i as i64 * 37) % 5_000)),
                14..18 => ("failed", Some(created + 100 + (i as i64 * 53) % 9_000)),
                18 => ("cancelled", Some(created + 50)),
                _ => ("running", None),
            };
            let id = uuid::Uuid::new_v4();
            let finished = finished.map_or("NULL".to_owned(), |f| f.to_string());
            run_rows.push(format!(
                "('{id}', '{workflow}', 1, '{user}', '{status}', '{{}}', NULL, {created}, {created}, {finished})"
            ));
            if i % 5 == 0 {
                call_rows.push(format!(
                    "('{}', {created}, '{user}', 'step', 'default', 'openai/gpt-4o-mini', 400, 120, 132, 0, 900, 'ok')",
                    uuid::Uuid::new_v4()
                ));
            }
        }
        let mut tx = conn.begin().await.unwrap();
        sqlx::raw_sql(&format!(
            "INSERT INTO runs (id, workflow_id, workflow_version, owner_id, status, input, error, \
             created_at, updated_at, finished_at) VALUES {}",
            run_rows.join(", ")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        if !call_rows.is_empty() {
            sqlx::raw_sql(&format!(
                "INSERT INTO llm_calls (id, occurred_at, user_id, source, alias, target, \
                 input_tokens, output_tokens, cost_micros, cached, latency_ms, outcome) VALUES {}",
                call_rows.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    if label == "PostgreSQL" {
        sqlx::raw_sql("ANALYZE").execute(&mut conn).await.unwrap();
    }
    let engine = engine(&store);
    let mut medians = Vec::new();
    for range in Range::ALL {
        let mut times = Vec::new();
        for _ in 0..15 {
            let started = Instant::now();
            let board = engine.dashboard(&owner, range, now).await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(board.totals.runs() > 0);
        }
        medians.push(median(times));
    }
    medians
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("AURA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut backends = vec!["SQLite"];
    if std::env::var("AURA_TEST_POSTGRES_URL").is_ok() {
        backends.push("PostgreSQL");
    }
    let dashboard_runs: usize = std::env::var("AURA_BENCH_DASHBOARD_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut boards = Vec::new();
    for label in &backends {
        let medians = dashboard(label, dashboard_runs).await;
        boards.push(format!(
            "| {label} | {dashboard_runs} | {:.1} ms | {:.1} ms | {:.1} ms |",
            medians[0], medians[1], medians[2]
        ));
    }
    println!("| Database | runs over 30 days | dashboard, 24 h | 7 days | 30 days |");
    println!("| --- | --- | --- | --- | --- |");
    boards.iter().for_each(|l| println!("{l}"));
    println!();
    // `cargo bench --bench engine -- dashboard` stops here.
    if std::env::args().any(|a| a == "dashboard") {
        return;
    }
    let mut overheads = Vec::new();
    let mut throughputs = Vec::new();
    for label in backends {
        let template = overhead(label, "template").await;
        let script = overhead(label, "script").await;
        overheads.push(format!(
            "| {label} | {template:.1} ms | {:.2} ms | {script:.1} ms | {:.2} ms |",
            template / 40.0,
            script / 40.0
        ));
        let mut rates = Vec::new();
        for concurrency in [1, 2, 4, 8] {
            rates.push(format!("{:.0}", throughput(label, runs, concurrency).await));
        }
        throughputs.push(format!(
            "| {label} | {runs} | {} | {:.0} MiB |",
            rates.join(" | "),
            peak_rss_mib()
        ));
    }
    println!(
        "| Database | 40 template steps, median | per step | 40 script steps, median | per step |"
    );
    println!("| --- | --- | --- | --- | --- |");
    overheads.iter().for_each(|l| println!("{l}"));
    println!();
    println!("| Database | single-step runs | steps/s, 1 runner | 2 | 4 | 8 | peak RSS so far |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    throughputs.iter().for_each(|l| println!("{l}"));
}
