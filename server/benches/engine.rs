//! Engine overhead and throughput, with every step durable.
//!
//!   cargo bench -p aura-server --bench engine                    # SQLite
//!   scripts/with-postgres.sh cargo bench -p aura-server --bench engine   # SQLite and PostgreSQL
//!
//! Prints a Markdown table (medians) for docs/benchmarks.md.

use aura_engine::{
    Engine, ExecutorConfig, Executors, Runner, RunnerConfig, WorkflowDefinition, WorkflowInput,
    Workflows,
};
use aura_store::{PoolSettings, Store};
use serde_json::json;
use std::time::{Duration, Instant};

async fn fresh_store(label: &str) -> Store {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = match label {
        "PostgreSQL" => {
            use sqlx::Connection;
            let admin = std::env::var("AURA_TEST_POSTGRES_URL").unwrap();
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE bench_{id}"))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{}/bench_{id}", admin.rsplit_once('/').unwrap().0)
        }
        _ => format!(
            "sqlite://{}/aura-bench/{id}.db",
            std::env::temp_dir().display()
        ),
    };
    Store::connect(
        &url,
        &PoolSettings {
            max_connections: 16,
            ..PoolSettings::default()
        },
    )
    .await
    .unwrap()
}

async fn owner(store: &Store) -> String {
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
        .unwrap()
        .id
}

async fn chain(store: &Store, owner: &str, length: usize) -> String {
    let steps: Vec<_> = (0..length)
        .map(|i| {
            let next = if i + 1 < length { json!([{ "to": format!("s{}", i + 1) }]) } else { json!([]) };
            let template = if i == 0 { "{{ input.n }}".to_owned() } else { format!("{{{{ steps.s{}.output }}}}", i - 1) };
            json!({ "id": format!("s{i}"), "type": "template", "config": { "template": template }, "next": next })
        })
        .collect();
    let definition: WorkflowDefinition = serde_json::from_value(json!({ "steps": steps })).unwrap();
    let input = WorkflowInput {
        name: format!("chain {length}"),
        description: String::new(),
        definition,
    };
    Workflows::new(store.clone())
        .create(owner, &input)
        .await
        .unwrap()
        .id
}

fn runner(store: &Store, name: String) -> Runner {
    let executors = Executors::new(ExecutorConfig::default()).unwrap();
    let mut config = RunnerConfig::new(name);
    config.lease = Duration::from_secs(60);
    config.poll_interval = Duration::from_millis(1);
    Engine::new(store.clone(), executors).runner(config)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median wall time of one 40-step sequential run, executed by one runner.
async fn overhead(label: &str) -> f64 {
    let store = fresh_store(label).await;
    let owner = owner(&store).await;
    let workflow = chain(&store, &owner, 40).await;
    let runner = runner(&store, "bench".into());
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
    let workflow = chain(&store, &owner, 1).await;
    let starter = runner(&store, "starter".into());
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
            let r = runner(&store, format!("w{i}"));
            tokio::spawn(async move { while r.run_one().await.unwrap() {} })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    runs as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("AURA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut backends = vec!["SQLite"];
    if std::env::var("AURA_TEST_POSTGRES_URL").is_ok() {
        backends.push("PostgreSQL");
    }
    println!("| Database | 40-step run, median | per step | steps/s, 1 runner | 2 | 4 | 8 |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for label in backends {
        let run_ms = overhead(label).await;
        let mut rates = Vec::new();
        for concurrency in [1, 2, 4, 8] {
            rates.push(format!("{:.0}", throughput(label, runs, concurrency).await));
        }
        println!(
            "| {label} | {run_ms:.1} ms | {:.2} ms | {} |",
            run_ms / 40.0,
            rates.join(" | ")
        );
    }
}
