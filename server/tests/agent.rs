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
