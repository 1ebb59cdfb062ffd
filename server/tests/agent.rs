//! The `agent` step against a scripted model, on SQLite or PostgreSQL: its tools on both
//! wire protocols, its budgets and stuck detector, its change set applied by itself
//! (`apply: auto`) or refused on a conflict, the ledger, and a hard kill in the middle
//! that neither repeats a model request nor a tool call.

mod common;

use common::binary::Binary;
use common::model_script::{ModelScript, Turn};
use common::upstream::Upstream;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_agent_reads_edits_analyses_and_finishes_with_a_change_set() {
    let model = ModelScript::start(vec![
        (call("read_file", json!({ "path": "app.py" })), (100, 10)),
        (eval_to_int(), (150, 20)),
        (call("analyze", json!({ "path": "app.py" })), (180, 10)),
        (
            call("finish", json!({ "summary": "Replaced eval with int." })),
            (200, 10),
        ),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let (run, data) = app
        .run_once(
            &c,
            json!([{ "id": "fix", "type": "agent", "config": {
                "goal": "Remove eval from {{ input.file }}", "project": "api", "model": "scripted" } }]),
            json!({ "file": "app.py" }),
        )
        .await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let output = &steps_by_id(&data)["fix"]["output"];
    assert_eq!(output["summary"], "Replaced eval with int.");
    assert_eq!(output["turns"], 4);
    assert_eq!(output["tokens"], 680);
    let file = &output["changes"]["files"][0];
    assert_eq!(file["path"], "app.py");
    assert_eq!(file["base_revision"], 1);
    assert_eq!(file["content"], "def run(code):\n    return int(code)\n");
    assert!(
        file["diff"]
            .as_str()
            .unwrap()
            .contains("+    return int(code)"),
        "{file}"
    );
    let requests = model.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(model.left(), 0);
    // The transcript the run page shows: the goal, then each answer and result.
    let ada = principal_of(&app, "ada@example.com").await;
    let transcripts = app.engine.agent_transcripts(&ada, &run).await.unwrap();
    let entries = &transcripts["fix"];
    assert_eq!(entries.len(), 9);
    assert_eq!(
        entries[0],
        aura_engine::TranscriptEntry::Goal {
            goal: "Remove eval from app.py".into()
        }
    );
    assert!(
        matches!(&entries[1], aura_engine::TranscriptEntry::Model { calls, tokens: 110, .. } if calls[0].name == "read_file")
    );
    assert!(
        matches!(&entries[4], aura_engine::TranscriptEntry::Result { name, is_error: false, .. } if name == "edit_file")
    );
    // The same over REST, for the run's owner only.
    let res = c
        .get(app.url(&format!("/api/v1/runs/{run}/steps/fix/transcript")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    let kinds: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "goal", "model", "result", "model", "result", "model", "result", "model", "result"
        ]
    );
    assert_eq!(body["data"][1]["calls"][0]["name"], "read_file");
    assert_eq!(body["data"][1]["calls"][0]["arguments"]["path"], "app.py");
    assert_eq!(body["data"][1]["tokens"], 110);
    assert_eq!(body["data"][8]["content"], "Finished.");
    let res = c
        .get(app.url(&format!("/api/v1/runs/{run}/steps/other/transcript")))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["data"], json!([]));
    let eve = app.signed_in_client("eve@example.com").await;
    let res = eve
        .get(app.url(&format!("/api/v1/runs/{run}/steps/fix/transcript")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The model saw the goal rendered, then each tool's result.
    assert!(requests[0].to_string().contains("Remove eval from app.py"));
    assert!(
        requests[1]
            .to_string()
            .contains("2 |     return eval(code)"),
        "{}",
        requests[1]
    );
    assert!(
        requests[3].to_string().contains("app.py: no findings."),
        "{}",
        requests[3]
    );
}

/// A turn calling one tool.
fn call(name: &'static str, arguments: Value) -> Turn {
    Turn::Tools(vec![(name, arguments)])
}

/// A turn replacing `eval(code)` with `int(code)` in app.py.
fn eval_to_int() -> Turn {
    call(
        "edit_file",
        json!({ "path": "app.py", "search": "eval(code)", "replace": "int(code)" }),
    )
}

/// An app whose default model provider is `model`, with a project `api` holding app.py.
async fn agent_app(model: &ModelScript) -> (TestApp, reqwest::Client) {
    let llm = format!("{}/v1", model.url);
    let app = spawn_app_with(&[("AURA_LLM_BASE_URL", &llm), ("AURA_LLM_API_KEY", "sk-test")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    app.project_with(
        &c,
        "api",
        &[("app.py", "def run(code):\n    return eval(code)\n")],
    )
    .await;
    (app, c)
}

/// Runs an agent step with `extra` settings; returns the step.
async fn agent_step(
    app: &TestApp,
    c: &reqwest::Client,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut config = json!({ "goal": "Fix app.py", "project": "api", "model": "scripted" });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    let (_, data) = app
        .run_once(
            c,
            json!([{ "id": "fix", "type": "agent", "config": config }]),
            json!({}),
        )
        .await;
    steps_by_id(&data)["fix"].clone()
}

#[tokio::test]
async fn a_missing_search_text_is_refused_precisely_and_a_corrected_edit_lands() {
    let model = ModelScript::start(vec![
        (
            call("edit_file", json!({ "path": "app.py", "search": "return  eval(code)", "replace": "return int(code)" })),
            (10, 1),
        ),
        (
            call("edit_file", json!({ "path": "app.py", "search": "return eval(code)", "replace": "return int(code)" })),
            (10, 1),
        ),
        (Turn::Text("Done."), (10, 1)),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let step = agent_step(&app, &c, json!({})).await;
    assert_eq!(step["status"], "succeeded", "{step}");
    assert_eq!(step["output"]["summary"], "Done.");
    assert_eq!(
        step["output"]["changes"]["files"][0]["content"],
        "def run(code):\n    return int(code)\n"
    );
    let second = model.requests()[1].to_string();
    assert!(
        second.contains("The search text was not found in app.py")
            && second.contains("closest line is 2"),
        "{second}"
    );
}

#[tokio::test]
async fn budgets_and_the_stuck_detector_stop_the_agent_with_a_reason() {
    let read = || call("read_file", json!({ "path": "app.py" }));
    let list = |folder: &'static str| call("list_files", json!({ "folder": folder }));
    // Iterations: two turns allowed, a third is never asked for.
    let model = ModelScript::start(vec![
        (list("a"), (10, 1)),
        (list("b"), (10, 1)),
        (list("c"), (10, 1)),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let step = agent_step(&app, &c, json!({ "max_iterations": 2 })).await;
    assert_eq!(step["status"], "failed");
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .contains("its 2 iterations (max_iterations)"),
        "{step}"
    );
    assert_eq!(model.requests().len(), 2);

    // Tokens: 600 used after two turns, against a budget of 500.
    let model = ModelScript::start(vec![
        (list("a"), (250, 50)),
        (list("b"), (250, 50)),
        (list("c"), (1, 1)),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let step = agent_step(&app, &c, json!({ "max_tokens": 500 })).await;
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .contains("600 tokens, its budget of 500 (max_tokens)"),
        "{step}"
    );
    assert_eq!(model.requests().len(), 2);

    // Stuck: the same call with the same answer three times in a row.
    let model = ModelScript::start(vec![
        (read(), (1, 1)),
        (read(), (1, 1)),
        (read(), (1, 1)),
        (read(), (1, 1)),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let step = agent_step(&app, &c, json!({})).await;
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .contains("stuck: it called `read_file` with the same arguments"),
        "{step}"
    );
    assert_eq!(model.requests().len(), 3);
}

/// Adds the provider `claude` (Anthropic's protocol) serving `scripted` at $100 per
/// million tokens either way, through the models API.
async fn anthropic_provider(app: &TestApp, c: &reqwest::Client, model: &ModelScript) {
    let res = c
        .post(app.url("/api/v1/models/providers"))
        .json(&json!({
            "name": "claude", "protocol": "anthropic", "base_url": format!("{}/v1", model.url),
            "api_key": "sk-ant-test",
            "models": [{ "name": "scripted", "input_per_million": 100.0, "output_per_million": 100.0 }],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
}

#[tokio::test]
async fn on_anthropics_protocol_every_call_is_billed_to_the_run_and_step_and_the_cost_budget_stops_it()
 {
    // $1.00 a turn: after two turns $2.00 is spent, over a budget of $1.50.
    let model = ModelScript::start(vec![
        (
            call("read_file", json!({ "path": "app.py", "start_line": 2 })),
            (10_000, 0),
        ),
        (eval_to_int(), (9_000, 1_000)),
        (Turn::Text("never asked"), (1, 1)),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    anthropic_provider(&app, &c, &model).await;
    let (run, data) = app
        .run_once(
            &c,
            json!([{ "id": "fix", "type": "agent", "config": {
                "goal": "Fix app.py", "project": "api", "model": "claude/scripted", "max_cost_usd": 1.5 } }]),
            json!({}),
        )
        .await;
    let step = &steps_by_id(&data)["fix"];
    assert_eq!(step["status"], "failed", "{step}");
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .contains("its budget of $1.50 (max_cost_usd)"),
        "{step}"
    );
    assert_eq!(model.left(), 1);
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    // Anthropic's shape: tools with input schemas, and the read's result as a tool_result
    // block answering the tool_use of the first turn.
    assert_eq!(requests[0]["tools"][0]["name"], "list_files");
    assert!(requests[0]["tools"][0]["input_schema"].is_object());
    let answer = &requests[1]["messages"][2]["content"][0];
    assert_eq!(answer["type"], "tool_result", "{}", requests[1]);
    assert_eq!(answer["tool_use_id"], "toolu_1_0");
    assert!(
        answer.to_string().contains("2 |     return eval(code)"),
        "{answer}"
    );
    // Each call is one ledger row, under the run and the step, priced.
    let rows = app.store.llm_calls_of_run(&run).await.unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.step_id.as_deref(), Some("fix"));
        assert_eq!(row.source, "agent");
        assert_eq!(row.cost_micros, 1_000_000);
    }
}

#[tokio::test]
async fn scripts_and_http_run_once_each_and_only_listed_tools_are_offered() {
    let upstream = Upstream::start().await;
    let model = ModelScript::start(vec![
        (
            Turn::Tools(vec![
                ("run_script", json!({ "code": "return input.n * 7;" })),
                (
                    "http",
                    json!({ "url": format!("{}/count/agent", upstream.url) }),
                ),
                ("read_file", json!({ "path": "app.py" })),
            ]),
            (10, 1),
        ),
        (
            call("run_script", json!({ "code": "while (true) {}" })),
            (10, 1),
        ),
        (Turn::Text("Checked."), (10, 1)),
    ])
    .await;
    let llm = format!("{}/v1", model.url);
    let app = spawn_app_with(&[
        ("AURA_LLM_BASE_URL", &llm),
        ("AURA_LLM_API_KEY", "sk-test"),
        ("AURA_HTTP_ALLOW", "127.0.0.1"),
    ])
    .await;
    let c = app.signed_in_client("ada@example.com").await;
    app.project_with(&c, "api", &[("app.py", "x = 1\n")]).await;
    let (run, data) = app
        .run_once(
            &c,
            json!([{ "id": "fix", "type": "agent", "timeout_ms": 5000, "config": {
                "goal": "Check", "project": "api", "model": "scripted", "tools": ["run_script", "http"] } }]),
            json!({ "n": 6 }),
        )
        .await;
    let step = &steps_by_id(&data)["fix"];
    assert_eq!(step["status"], "succeeded", "{step}");
    let requests = model.requests();
    let offered: Vec<&str> = requests[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["run_script", "http", "finish"]);
    let results: Vec<String> = requests[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(results[0], "The script returned: 42");
    assert!(results[1].contains(r#""calls":1"#), "{}", results[1]);
    assert_eq!(results[2], "`read_file` is not a tool this agent may use.");
    // The script's limits are the step's: an endless loop ends, as an answer.
    // (half the step's 5 s timeout, so the agent still has time to go on).
    let last = requests[2].to_string();
    assert!(
        last.contains("The script ran longer than its 2500 ms limit and was stopped."),
        "{last}"
    );
    assert_eq!(upstream.calls("agent"), 1);
    // A call with side effects is committed as started before it runs.
    let kinds: Vec<String> = app
        .store
        .agent_turns(&run, "fix")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "start",
            "model",
            "tool_started",
            "tool_result",
            "tool_started",
            "tool_result",
            "tool_result",
            "model",
            "tool_started",
            "tool_result",
            "model"
        ]
    );
}

/// Replaces `from` with `to` in app.py, writes a test file, and finishes.
fn fixing_turns(from: &str, to: &str) -> Vec<(Turn, (u64, u64))> {
    vec![
        (
            call(
                "edit_file",
                json!({ "path": "app.py", "search": from, "replace": to }),
            ),
            (10, 1),
        ),
        (
            call(
                "write_file",
                json!({ "path": "tests/test_app.py", "content": format!("assert {to}\n") }),
            ),
            (10, 1),
        ),
        (call("finish", json!({ "summary": "Fixed." })), (10, 1)),
    ]
}

#[tokio::test]
async fn apply_auto_writes_the_changes_as_the_step_completes_and_a_concurrent_edit_stops_it() {
    let model = ModelScript::start(
        [
            fixing_turns("eval(code)", "int(code)"),
            fixing_turns("int(code)", "float(code)"),
        ]
        .concat(),
    )
    .await;
    let (app, c) = agent_app(&model).await;
    let (project, entries) = app
        .project_with(
            &c,
            "auto",
            &[("app.py", "def run(code):\n    return eval(code)\n")],
        )
        .await;
    let app_py = &entries["app.py"];
    let steps = json!([{ "id": "fix", "type": "agent", "config": {
        "goal": "Fix", "project": "auto", "model": "scripted", "apply": "auto" } }]);
    let (run, data) = app.run_once(&c, steps.clone(), json!({})).await;
    let step = &steps_by_id(&data)["fix"];
    assert_eq!(step["status"], "succeeded", "{step}");
    assert_eq!(
        step["output"]["applied"]["files"],
        json!(["app.py", "tests/test_app.py"])
    );
    let file = app.file_at(&c, &project, app_py).await;
    assert_eq!(file["revision"], 2);
    assert_eq!(file["content"], "def run(code):\n    return int(code)\n");
    let note = app.newest_note(&c, &project, app_py).await;
    assert_eq!(note, format!("Run {run}, step fix, applied automatically"));

    // The second run waits on the model while a person saves app.py: its change set
    // conflicts, the step fails saying so, and nothing of it is written.
    model.hold(4);
    let workflow = app.create_workflow(&c, steps).await;
    let run = app.start_run(&c, &workflow, json!({})).await;
    model.held().await;
    let res = c
        .put(app.url(&format!("/api/v1/projects/{project}/files/{app_py}")))
        .json(&json!({ "content": "a person's edit\n", "base_revision": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    model.release();
    let data = app.finished_run(&c, &run).await;
    let step = &steps_by_id(&data)["fix"];
    assert_eq!(step["status"], "failed", "{step}");
    let error = step["error"].as_str().unwrap();
    assert!(
        error.contains("app.py: It changed since it was read: revision 2 then, revision 3 now")
            && error.contains("none were"),
        "{error}"
    );
    assert_eq!(
        app.file_at(&c, &project, app_py).await["content"],
        "a person's edit\n"
    );
    assert_eq!(model.left(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_agent_resumes_without_repeating_a_model_request_or_a_tool() {
    let model = ModelScript::start(vec![
        (call("read_file", json!({ "path": "app.py" })), (100, 10)),
        (eval_to_int(), (100, 10)),
        (
            call("run_script", json!({ "code": "return 1 + 1;" })),
            (100, 10),
        ),
        (
            call("finish", json!({ "summary": "Done after a restart." })),
            (100, 10),
        ),
    ])
    .await;
    // The fourth request comes after the third tool call; the server dies waiting for it.
    model.hold(4);
    let database_url = fresh_database_url().await;
    let llm = format!("{}/v1", model.url);
    let env = [
        ("AURA_DATABASE_URL", database_url.as_str()),
        ("AURA_WORKERS", "1"),
        ("AURA_LEASE_SECS", "3"),
        ("AURA_LLM_BASE_URL", llm.as_str()),
        ("AURA_LLM_API_KEY", "sk-test"),
    ];
    let mut first = Binary::start(&env).await;
    let c = first.signed_in_client("ada@example.com").await;
    first
        .project_with(
            &c,
            "api",
            &[("app.py", "def run(code):\n    return eval(code)\n")],
        )
        .await;
    let workflow = first
        .create_workflow(
            &c,
            json!([{ "id": "fix", "type": "agent", "config": {
                "goal": "Fix app.py", "project": "api", "model": "scripted" } }]),
        )
        .await;
    let run = first.start_run(&c, &workflow, json!({})).await;
    tokio::time::timeout(Duration::from_secs(60), model.held())
        .await
        .expect("the agent reached its fourth model request");
    first.kill_hard();

    let second = Binary::start(&env).await;
    let res = second.sign_in(&c, "ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(60);
    let data = loop {
        let data = second.run(&c, &run).await;
        if data["run"]["status"] != "running" && data["run"]["status"] != "queued" {
            break data;
        }
        assert!(Instant::now() < deadline, "the run never finished: {data}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let step = &steps_by_id(&data)["fix"];
    assert_eq!(step["output"]["summary"], "Done after a restart.");
    assert_eq!(step["output"]["turns"], 4);
    assert_eq!(
        step["output"]["changes"]["files"][0]["content"],
        "def run(code):\n    return int(code)\n"
    );
    // Four turns answered, each once: the one the dead server waited for was asked again
    // (never answered, never paid), and no answered request was repeated.
    let requests = model.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(model.received(), 5);
    for (i, a) in requests.iter().enumerate() {
        for b in &requests[i + 1..] {
            assert_ne!(a, b, "a model request was repeated");
        }
    }
    // The resumed request carries the three results from before the kill, each once.
    let last = requests[3].to_string();
    for expected in [
        "return eval(code)",
        "Edited app.py",
        "The script returned: 2",
    ] {
        assert_eq!(last.matches(expected).count(), 1, "{expected}: {last}");
    }
}

/// The README's example workflow, as written there.
fn readme_example() -> Value {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("An example: fix the security findings")
        .expect("the README has the example");
    let block = &readme[start..];
    let json_start = block.find("```json\n").unwrap() + "```json\n".len();
    let json_end = json_start + block[json_start..].find("```").unwrap();
    serde_json::from_str(&block[json_start..json_end]).expect("the example is JSON")
}

#[tokio::test]
async fn the_readme_example_scans_fixes_waits_for_approval_applies_and_rechecks() {
    let model = ModelScript::start(vec![
        (
            call("search", json!({ "pattern": "eval\\(", "paths": "src/**" })),
            (300, 20),
        ),
        (
            call("edit_file", json!({ "path": "src/pay.py", "search": "eval(amount)", "replace": "float(amount)" })),
            (400, 30),
        ),
        (
            call("analyze", json!({ "path": "src/pay.py" })),
            (450, 10),
        ),
        (
            call("finish", json!({ "summary": "Parsed the amount instead of evaluating it." })),
            (500, 10),
        ),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let res = c
        .put(app.url("/api/v1/models/aliases/coder"))
        .json(&json!({ "targets": ["openai/scripted"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let (project, entries) = app
        .project_with(
            &c,
            "payments",
            &[(
                "src/pay.py",
                "def charge(amount):\n    return eval(amount)\n",
            )],
        )
        .await;
    let workflow = app
        .create_workflow(&c, readme_example()["steps"].clone())
        .await;
    let run = app.start_run(&c, &workflow, json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let data = loop {
        let data = app.run(&c, &run).await;
        if data["run"]["status"] == "waiting" {
            break data;
        }
        assert!(Instant::now() < deadline, "never waited: {data}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let steps = steps_by_id(&data);
    assert_eq!(steps["scan"]["output"]["summary"]["error"], 1);
    assert_eq!(
        steps["review"]["output"]["message"],
        "Parsed the amount instead of evaluating it. Apply it?"
    );
    assert!(
        model.requests()[0]
            .to_string()
            .contains("Fix the 1 errors Aura's analysis finds in src/"),
        "{}",
        model.requests()[0]
    );
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/steps/review/decision")))
        .json(&json!({ "approved": true, "comment": "good" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    assert_eq!(
        steps_by_id(&data)["recheck"]["output"]["summary"]["error"],
        0
    );
    let file = app.file_at(&c, &project, &entries["src/pay.py"]).await;
    assert_eq!(
        file["content"],
        "def charge(amount):\n    return float(amount)\n"
    );
}

#[tokio::test]
async fn a_run_resumed_after_the_agent_failed_continues_from_its_transcript() {
    // Two turns, then the model fails (the script is out of turns): the step fails.
    let model = ModelScript::start(vec![
        (call("read_file", json!({ "path": "app.py" })), (100, 10)),
        (eval_to_int(), (100, 10)),
    ])
    .await;
    let (app, c) = agent_app(&model).await;
    let (run, data) = app
        .run_once(
            &c,
            json!([{ "id": "fix", "type": "agent", "retry": { "max_attempts": 1 }, "config": {
                "goal": "Fix app.py", "project": "api", "model": "scripted" } }]),
            json!({}),
        )
        .await;
    assert_eq!(data["run"]["status"], "failed", "{data}");
    assert!(
        steps_by_id(&data)["fix"]["error"]
            .as_str()
            .unwrap()
            .contains("The model call failed"),
        "{data}"
    );
    assert_eq!(model.requests().len(), 2);

    // Resumed once the model answers again: the agent picks up after its edit.
    model.push(vec![(
        call("finish", json!({ "summary": "Finished after a resume." })),
        (100, 10),
    )]);
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/resume")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let output = &steps_by_id(&data)["fix"]["output"];
    assert_eq!(output["summary"], "Finished after a resume.");
    assert_eq!(output["turns"], 3);
    assert_eq!(
        output["changes"]["files"][0]["content"],
        "def run(code):\n    return int(code)\n"
    );
    let requests = model.requests();
    assert_eq!(requests.len(), 3);
    let last = requests[2].to_string();
    assert_eq!(last.matches("Edited app.py").count(), 1, "{last}");
    assert_eq!(
        last.matches("2 |     return eval(code)").count(),
        1,
        "{last}"
    );
}
