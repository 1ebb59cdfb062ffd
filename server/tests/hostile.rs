//! Two users share one instance (SQLite or PostgreSQL). User A starts every kind of
//! hostile step at once; user B runs 50 ordinary runs meanwhile. Every one of B's runs
//! succeeds, each of A's steps fails naming the limit it hit, `/healthz` keeps answering
//! within 200 ms, the process's peak memory stays under a stated bound, and no template
//! evaluator process outlives its step.

mod common;

use common::upstream::Upstream;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Peak resident memory of this test process (the server runs in it), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// CPU time (user + system, in clock ticks) of each live child process of this one.
fn children_cpu_ticks() -> std::collections::HashMap<u32, u64> {
    let me = std::process::id();
    let mut children = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the parenthesised command name: state, ppid, … utime (12th),
        // stime (13th).
        let Some(rest) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        let ppid: u32 = fields[1].parse().unwrap_or(0);
        if ppid != me || fields[0] == "Z" {
            continue;
        }
        let ticks = fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        let pid = entry.file_name().to_string_lossy().parse().unwrap_or(0);
        children.insert(pid, ticks);
    }
    children
}

/// The bound this test holds the whole process to: the server, its runners and sandbox,
/// the test client and the upstream server together.
const PEAK_RSS_BOUND_MIB: u64 = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hostile_tenant_cannot_hurt_another() {
    let upstream = Upstream::start().await;
    let app = spawn_app_with(&[
        ("AURA_HTTP_ALLOW", "127.0.0.1"),
        ("AURA_WORKERS", "4"),
        ("AURA_MAX_RUNNING_STEPS_PER_USER", "2"),
        ("AURA_MAX_STEP_TIMEOUT_SECS", "3"),
        ("AURA_SCRIPT_MEMORY_MB", "32"),
        ("AURA_TEMPLATE_MEMORY_MB", "64"),
        ("AURA_HTTP_MAX_RESPONSE_KB", "1024"),
        ("AURA_STEP_LOG_MAX_BYTES", "16384"),
    ])
    .await;
    let a = app.signed_in_client("mallory@example.com").await;
    let b = app.signed_in_client("bob@example.com").await;

    // /healthz is probed every 50 ms for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    let slowest_ms = Arc::new(AtomicU64::new(0));
    let probe = {
        let (stop, slowest_ms) = (stop.clone(), slowest_ms.clone());
        let url = app.url("/healthz");
        tokio::spawn(async move {
            let c = client();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let res = c.get(&url).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                slowest_ms.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    // Asking for more than the operator allows is refused at save time.
    let res = a
        .post(app.url("/api/v1/workflows"))
        .json(&json!({ "name": "Spin", "definition": { "steps": [
            { "id": "spin", "type": "script", "config": { "code": "while (true) {}" }, "timeout_ms": 86_400_000u64 }
        ] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    assert!(
        body.to_string().contains("AURA_MAX_STEP_TIMEOUT_SECS"),
        "{body}"
    );

    let xs: Vec<u32> = (0..3_000).collect();
    let many: Vec<u32> = (0..100_000).collect();
    let heavy_condition = vec!["range(100000)|map('string')|join|length > 0"; 250].join(" and ");
    let hostile: Vec<(&str, Value, Value, &str)> = vec![
        (
            "template bomb",
            json!([{ "id": "bomb", "type": "template", "config": { "template":
                "{% for a in input.xs %}{% for b in input.xs %}{% for c in input.xs %}x{% endfor %}{% endfor %}{% endfor %}" } }]),
            json!({ "xs": xs }),
            "AURA_TEMPLATE_FUEL",
        ),
        (
            "condition bomb",
            json!([{ "id": "bomb", "type": "condition", "config": { "expression": heavy_condition },
                     "retry": { "max_attempts": 1 } }]),
            json!({}),
            "AURA_MAX_STEP_TIMEOUT_SECS",
        ),
        (
            "one endless instruction",
            json!([{ "id": "bomb", "type": "template",
                     "config": { "template": "{{ (range(10) * 10**15) | sum }}" },
                     "retry": { "max_attempts": 1 } }]),
            json!({}),
            "AURA_MAX_STEP_TIMEOUT_SECS",
        ),
        (
            "string doubling",
            json!([{ "id": "bomb", "type": "template", "config": { "template":
                "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}" } }]),
            json!({}),
            "AURA_TEMPLATE_MEMORY_MB",
        ),
        (
            "map over 100,000 items",
            json!([{ "id": "bomb", "type": "map", "config": { "items": "input.xs",
                "step": { "type": "template", "config": { "template": "{{ item }}" } } } }]),
            json!({ "xs": many }),
            "AURA_MAP_MAX_ITEMS",
        ),
        (
            "console.log flood",
            json!([{ "id": "bomb", "type": "script", "config": { "code":
                "while (true) console.log('flood '.repeat(200));" } }]),
            json!({}),
            "3000 ms limit",
        ),
        (
            "while (true)",
            json!([{ "id": "bomb", "type": "script", "config": { "code": "while (true) {}" } }]),
            json!({}),
            "3000 ms limit",
        ),
        (
            "memory bomb",
            json!([{ "id": "bomb", "type": "script", "config": { "code":
                "const a = []; while (true) a.push('x'.repeat(1 << 20));" } }]),
            json!({}),
            "32 MB memory limit",
        ),
        (
            "endless response",
            json!([{ "id": "bomb", "type": "http", "config": { "method": "GET",
                "url": format!("{}/endless", upstream.url) } }]),
            json!({}),
            "AURA_HTTP_MAX_RESPONSE_KB",
        ),
    ];
    let mut a_runs = Vec::new();
    for (name, steps, input, limit) in &hostile {
        let workflow = app.create_workflow(&a, steps.clone()).await;
        a_runs.push((
            *name,
            app.start_run(&a, &workflow, input.clone()).await,
            *limit,
        ));
    }

    let ordinary = app
        .create_workflow(
            &b,
            json!([{ "id": "hello", "type": "template", "config": { "template": "hello {{ input.n }}" } }]),
        )
        .await;
    let started = Instant::now();
    let mut b_runs = Vec::new();
    for n in 0..50 {
        b_runs.push(app.start_run(&b, &ordinary, json!({ "n": n })).await);
    }
    for (n, run) in b_runs.iter().enumerate() {
        let data = app.finished_run(&b, run).await;
        assert_eq!(data["run"]["status"], "succeeded", "B's run {n}: {data}");
        assert_eq!(data["steps"][0]["output"], format!("hello {n}"));
    }
    let b_done = started.elapsed();

    for (name, run, limit) in &a_runs {
        let data = app.finished_run(&a, run).await;
        assert_eq!(data["run"]["status"], "failed", "{name}: {data}");
        let error = data["steps"][0]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(limit),
            "{name} should name {limit:?}: {error}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    probe.await.unwrap();

    // The endless template's evaluator was killed with its step: no child process of this
    // one (the evaluators) keeps burning CPU.
    let before = children_cpu_ticks();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = children_cpu_ticks();
    for (pid, ticks) in &after {
        let used = ticks - before.get(pid).copied().unwrap_or(0);
        assert!(used < 50, "child {pid} used {used} CPU ticks in one second");
    }

    let slowest = slowest_ms.load(Ordering::Relaxed);
    let peak = peak_rss_mib();
    eprintln!("B's 50 runs took {b_done:?}; slowest /healthz {slowest} ms; peak RSS {peak} MiB");
    assert!(slowest < 200, "/healthz took {slowest} ms");
    assert!(peak < PEAK_RSS_BOUND_MIB, "peak RSS {peak} MiB");
}
