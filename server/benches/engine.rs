//! Engine overhead, throughput and memory, with every step durable.
//!
//!   cargo bench -p aura-server --bench engine                    # SQLite
//!   scripts/with-postgres.sh cargo bench -p aura-server --bench engine   # SQLite and PostgreSQL
//!
//! `AURA_BENCH_RUNS` sets the throughput run count (default 10,000). Prints Markdown tables
//! (medians) for docs/benchmarks.md. The engine runs in this process exactly as in the
//! server (same store, executors and runners; no HTTP), so its peak RSS is the engine's.

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
