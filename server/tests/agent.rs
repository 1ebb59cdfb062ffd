//! The `agent` step against a scripted model, on SQLite or PostgreSQL. (Work in progress:
//! the first end-to-end case.)

mod common;

use common::model_script::{ModelScript, Turn};
use common::*;
use serde_json::json;

#[tokio::test]
async fn the_agent_reads_edits_analyses_and_finishes_with_a_change_set() {
    let model = ModelScript::start(vec![
        (
            Turn::Tools(vec![("read_file", json!({ "path": "app.py" }))]),
            (100, 10),
        ),
        (
            Turn::Tools(vec![(
                "edit_file",
                json!({ "path": "app.py", "search": "eval(code)", "replace": "int(code)" }),
            )]),
            (150, 20),
        ),
        (
            Turn::Tools(vec![("analyze", json!({ "path": "app.py" }))]),
            (180, 10),
        ),
        (
            Turn::Tools(vec![(
                "finish",
                json!({ "summary": "Replaced eval with int." }),
            )]),
            (200, 10),
        ),
    ])
    .await;
    let llm = format!("{}/v1", model.url);
    let app = spawn_app_with(&[("AURA_LLM_BASE_URL", &llm), ("AURA_LLM_API_KEY", "sk-test")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    app.project_with(
        &c,
        "api",
        &[("app.py", "def run(code):\n    return eval(code)\n")],
    )
    .await;
    let (_, data) = app
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
            Turn::Tools(vec![(
                "edit_file",
                json!({ "path": "app.py", "search": "return  eval(code)", "replace": "return int(code)" }),
            )]),
            (10, 1),
        ),
        (
            Turn::Tools(vec![(
                "edit_file",
                json!({ "path": "app.py", "search": "return eval(code)", "replace": "return int(code)" }),
            )]),
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
    let read = || Turn::Tools(vec![("read_file", json!({ "path": "app.py" }))]);
    let list =
        |folder: &'static str| Turn::Tools(vec![("list_files", json!({ "folder": folder }))]);
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
