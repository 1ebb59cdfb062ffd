//! A measured coding-agent run: what Aura adds per turn around the model.
//!
//!   cargo bench -p aura-server --bench agent                            # SQLite
//!   scripts/with-postgres.sh cargo bench -p aura-server --bench agent   # both databases
//!
//! The server is built as `aura` builds it (`aura_server::build`), with its default model
//! provider pointed at a scripted model in this process that answers at once over OpenAI's
//! protocol. The agent works on a project of 40 Python files for 24 turns: it reads,
//! searches, edits and analyses files in turn (a quarter each), then finishes. One runner
//! executes each run, so the step's wall time is the agent's. Aura's overhead per turn is
//! the step's wall time, less the time the model took to answer (measured in the model
//! server's handler), divided by the turns: building each request from the replayed
//! transcript, the HTTP round trip, parsing, committing the answer and each tool result,
//! and the tools themselves. Prints a Markdown table of medians over `AURA_BENCH_AGENT_RUNS`
//! runs (default 11) for docs/benchmarks.md.

mod common;

use aura_engine::{RunnerConfig, WorkflowDefinition, WorkflowInput, Workflows};
use aura_server::config::{Config, Sources};
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TURNS: usize = 24;
const FILES: usize = 40;

#[derive(Default)]
struct Model {
    requests: AtomicU64,
    /// Time spent answering, in microseconds.
    busy_us: AtomicU64,
    tokens: AtomicU64,
}

/// The next call, from how many tool results the conversation carries.
fn call_for(answered: usize) -> (String, Value) {
    let file = format!("pkg/m{}.py", answered % FILES);
    if answered + 1 >= TURNS {
        return ("finish".into(), json!({ "summary": "Done." }));
    }
    match answered % 4 {
        0 => ("read_file".into(), json!({ "path": file })),
        1 => (
            "search".into(),
            json!({ "pattern": "def f\\d+\\(", "paths": "pkg/**" }),
        ),
        2 => (
            "edit_file".into(),
            json!({ "path": format!("pkg/m{}.py", (answered / 4) % FILES),
                    "search": format!("function {}.\"\"\"\n    return x + 0", answered / 4),
                    "replace": format!("function {}.\"\"\"\n    return x + 1", answered / 4) }),
        ),
        _ => ("analyze".into(), json!({ "path": file })),
    }
}

async fn chat(State(model): State<Arc<Model>>, Json(body): Json<Value>) -> Json<Value> {
    let started = Instant::now();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let answered = messages.iter().filter(|m| m["role"] == "tool").count();
    let prompt = (body.to_string().len() / 4) as u64;
    let (name, arguments) = call_for(answered);
    let n = model.requests.fetch_add(1, Ordering::Relaxed);
    model.tokens.fetch_add(prompt + 20, Ordering::Relaxed);
    let answer = json!({
        "id": format!("chatcmpl-{n}"), "object": "chat.completion", "model": "bench",
        "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{ "id": format!("call_{n}"), "type": "function",
                "function": { "name": name, "arguments": arguments.to_string() } }] } }],
        "usage": { "prompt_tokens": prompt, "completion_tokens": 20, "total_tokens": prompt + 20 }
    });
    model
        .busy_us
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    Json(answer)
}

/// A Python module of 50 small functions.
fn module(i: usize) -> String {
    (0..50)
        .map(|f| {
            format!("def f{f}(x):\n    \"\"\"Module {i}, function {f}.\"\"\"\n    return x + 0\n\n")
        })
        .collect()
}

struct Measured {
    wall_ms: f64,
    model_ms: f64,
    turns: f64,
    tokens: f64,
}

async fn measure(label: &str, runs: usize) -> Vec<Measured> {
    let model = Arc::new(Model::default());
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state(model.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let env: HashMap<String, String> = [
        ("AURA_DATABASE_URL", common::database_url(label).await),
        (
            "AURA_SECRET_KEY",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".into(),
        ),
        ("AURA_LLM_BASE_URL", url),
        ("AURA_LLM_API_KEY", "sk-bench".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut config = Config::load(&Sources {
        file_text: None,
        env,
    })
    .unwrap();
    config.evaluator = aura_engine::EvaluatorProgram {
        program: env!("CARGO_BIN_EXE_aura").into(),
        args: vec![aura_engine::EVALUATOR_ARG.into()],
    };
    let (_router, runtime) = aura_server::build(config).await.unwrap();
    let store = runtime.store.clone();
    let user = store
        .create_user(
            &aura_store::NewUser {
                email: "bench@example.com".into(),
                display_name: "Bench".into(),
                password_hash: "x".into(),
            },
            aura_store::NewAuditEvent {
                action: "bench".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let owner = aura_store::Principal::session(user, aura_store::Origin::default());
    let files: Vec<_> = (0..FILES)
        .map(|i| aura_store::NewFile {
            path: format!("pkg/m{i}.py"),
            content: module(i),
        })
        .collect();
    store
        .create_project_with_files(
            &owner.user.id,
            &aura_store::ProjectDraft {
                name: "Bench".into(),
                slug: "bench".into(),
                description: String::new(),
            },
            &["pkg".to_owned()],
            &files,
        )
        .await
        .unwrap()
        .unwrap();
    let definition: WorkflowDefinition = serde_json::from_value(json!({ "steps": [
        { "id": "fix", "type": "agent", "config": {
            "goal": "Make every function add one.", "project": "bench", "model": "bench",
            "max_iterations": TURNS + 1 } }
    ] }))
    .unwrap();
    let workflow = Workflows::new(store.clone())
        .create(
            &owner,
            &WorkflowInput {
                name: "agent".into(),
                description: String::new(),
                definition,
                layout: None,
            },
        )
        .await
        .unwrap()
        .id;
    let mut runner_config = RunnerConfig::new("bench".to_owned());
    runner_config.lease = Duration::from_secs(60);
    runner_config.poll_interval = Duration::from_millis(1);
    let runner = runtime.engine.runner(runner_config);
    let mut measured = Vec::new();
    // One run first to warm the connections and caches; then the measured ones.
    for n in 0..=runs {
        let (busy_before, tokens_before) = (
            model.busy_us.load(Ordering::Relaxed),
            model.tokens.load(Ordering::Relaxed),
        );
        let requests_before = model.requests.load(Ordering::Relaxed);
        let run = runtime
            .engine
            .start(&owner, &workflow, &json!({}))
            .await
            .unwrap();
        let started = Instant::now();
        while runner.run_one().await.unwrap() {}
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        let steps = store.step_runs(&run.id).await.unwrap();
        assert_eq!(
            steps[0].status.as_str(),
            "succeeded",
            "{:?}",
            steps[0].error
        );
        // Every edit landed: one changed file per edit.
        let output: Value = serde_json::from_str(steps[0].output.as_deref().unwrap()).unwrap();
        assert_eq!(
            output["changes"]["files"].as_array().unwrap().len(),
            TURNS / 4,
            "{output}"
        );
        if n == 0 {
            continue;
        }
        measured.push(Measured {
            wall_ms,
            model_ms: (model.busy_us.load(Ordering::Relaxed) - busy_before) as f64 / 1000.0,
            turns: (model.requests.load(Ordering::Relaxed) - requests_before) as f64,
            tokens: (model.tokens.load(Ordering::Relaxed) - tokens_before) as f64,
        });
    }
    measured
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("AURA_BENCH_AGENT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let mut backends = vec!["SQLite"];
    if std::env::var("AURA_TEST_POSTGRES_URL").is_ok() {
        backends.push("PostgreSQL");
    }
    println!(
        "| Database | Runs | Turns | Tokens | Wall time | Model time | Aura per turn | Per turn, min–max |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for label in backends {
        let measured = measure(label, runs).await;
        let per_turn: Vec<f64> = measured
            .iter()
            .map(|m| (m.wall_ms - m.model_ms) / m.turns)
            .collect();
        let (min, max) = per_turn
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        println!(
            "| {label} | {} | {:.0} | {:.0} | {:.1} ms | {:.2} ms | {:.2} ms | {min:.2}–{max:.2} ms |",
            measured.len(),
            median(measured.iter().map(|m| m.turns).collect()),
            median(measured.iter().map(|m| m.tokens).collect()),
            median(measured.iter().map(|m| m.wall_ms).collect()),
            median(measured.iter().map(|m| m.model_ms).collect()),
            median(per_turn),
        );
    }
}
