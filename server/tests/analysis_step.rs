//! The `analysis` step on SQLite or PostgreSQL: a project's files chosen by globs, or text
//! from an earlier step, analysed into findings and per-function metrics; `fail_on`
//! failing the step with the findings named; other users' projects out of reach.

mod common;

use common::*;
use serde_json::{Value, json};

const RISKY: &str = "def run(code):\n    return eval(code)\n";
const TIDY: &str = "def add(a, b):\n    # TODO: check types\n    return a + b\n";

fn files_of(output: &Value) -> Vec<&str> {
    output["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn project_files_are_chosen_by_globs_and_reported_with_counts_and_metrics() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let (id, _) = app
        .project_with(
            &c,
            "api",
            &[
                ("src/risky.py", RISKY),
                ("src/lib/tidy.py", TIDY),
                ("tools/gen.go", "package main\n\nfunc main() {}\n"),
                ("README.md", "# not code\n"),
            ],
        )
        .await;
    let (_, data) = app
        .run_once(
            &c,
            json!([{ "id": "scan", "type": "analysis", "config": { "project": "api", "paths": ["src/**/*.py"] } }]),
            json!({}),
        )
        .await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let output = &steps_by_id(&data)["scan"]["output"];
    assert_eq!(files_of(output), ["src/lib/tidy.py", "src/risky.py"]);
    assert_eq!(output["project"]["id"], id.as_str());
    assert_eq!(output["summary"]["files"], 2);
    assert_eq!(output["summary"]["error"], 1, "{output}");
    assert_eq!(output["summary"]["info"], 1, "{output}");
    assert_eq!(output["summary"]["functions"], 2);
    let risky = &output["files"][1];
    assert_eq!(risky["language"], "python");
    assert_eq!(risky["findings"][0]["rule"], "security.eval");
    assert_eq!(risky["findings"][0]["line"], 2);
    assert_eq!(risky["functions"][0]["name"], "run");
    assert_eq!(risky["functions"][0]["parameters"], 1);

    // Every analysable file when no paths are given (by id this time); a folder path
    // takes what is under it.
    let (_, data) = app
        .run_once(
            &c,
            json!([
                { "id": "all", "type": "analysis", "config": { "project": id }, "next": [{ "to": "tools" }] },
                { "id": "tools", "type": "analysis", "config": { "project": "api", "paths": ["tools"] } }
            ]),
            json!({}),
        )
        .await;
    let steps = steps_by_id(&data);
    assert_eq!(
        files_of(&steps["all"]["output"]),
        ["src/lib/tidy.py", "src/risky.py", "tools/gen.go"]
    );
    assert_eq!(files_of(&steps["tools"]["output"]), ["tools/gen.go"]);
}

#[tokio::test]
async fn fail_on_fails_the_step_naming_the_findings_at_that_severity() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    app.project_with(&c, "api", &[("risky.py", RISKY), ("tidy.py", TIDY)])
        .await;
    let scan = |paths: Value, fail_on: &str| {
        json!([{ "id": "scan", "type": "analysis",
                 "config": { "project": "api", "paths": paths, "fail_on": fail_on } }])
    };
    // Only an info finding in tidy.py: `warning` lets it pass, `info` does not.
    let (_, data) = app
        .run_once(&c, scan(json!(["tidy.py"]), "warning"), json!({}))
        .await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let (_, data) = app
        .run_once(&c, scan(json!(["tidy.py"]), "info"), json!({}))
        .await;
    assert_eq!(data["run"]["status"], "failed");
    let error = steps_by_id(&data)["scan"]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("1 finding at info or above (fail_on: info)")
            && error.contains("tidy.py:2:")
            && error.contains("style.todo (info)"),
        "{error}"
    );
    let (_, data) = app
        .run_once(&c, scan(json!(["*.py"]), "error"), json!({}))
        .await;
    let error = steps_by_id(&data)["scan"]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("1 finding at error or above")
            && error.contains("risky.py:2:")
            && error.contains("security.eval (error)")
            && !error.contains("tidy.py"),
        "{error}"
    );
}

#[tokio::test]
async fn text_from_an_earlier_step_is_analysed_and_other_users_projects_are_out_of_reach() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let (_, data) = app
        .run_once(
            &c,
            json!([
                { "id": "write", "type": "template", "config": { "template": "function f(x) {\n  if (x) { return eval(x); }\n  return 0;\n}\n" }, "next": [{ "to": "scan" }] },
                { "id": "scan", "type": "analysis", "config": { "text": "{{ steps.write.output }}", "language": "javascript" } }
            ]),
            json!({}),
        )
        .await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let output = &steps_by_id(&data)["scan"]["output"];
    assert_eq!(output["files"][0]["path"], "text");
    assert_eq!(output["files"][0]["findings"][0]["rule"], "security.eval");
    assert_eq!(output["files"][0]["functions"][0]["complexity"], 2);

    // Eve's project is invisible to Ada's runs, by slug and by id.
    let eve = app.signed_in_client("eve@example.com").await;
    let (secret, _) = app.project_with(&eve, "secret", &[("a.py", RISKY)]).await;
    for key in ["secret", secret.as_str()] {
        let (_, data) = app
            .run_once(
                &c,
                json!([{ "id": "scan", "type": "analysis", "config": { "project": key } }]),
                json!({}),
            )
            .await;
        assert_eq!(data["run"]["status"], "failed");
        let error = steps_by_id(&data)["scan"]["error"].clone();
        assert!(
            error
                .as_str()
                .unwrap()
                .contains("among the run owner's projects"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_report_larger_than_the_output_cap_fails_naming_the_cap() {
    let app = spawn_app_with(&[("AURA_STEP_OUTPUT_MAX_KB", "1")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    let files: Vec<(String, &str)> = (0..20).map(|i| (format!("m{i}.py"), RISKY)).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    app.project_with(&c, "big", &files).await;
    let (_, data) = app
        .run_once(
            &c,
            json!([{ "id": "scan", "type": "analysis", "config": { "project": "big" } }]),
            json!({}),
        )
        .await;
    assert_eq!(data["run"]["status"], "failed");
    let error = steps_by_id(&data)["scan"]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("AURA_STEP_OUTPUT_MAX_KB")
            && error.contains("choose fewer files with paths"),
        "{error}"
    );
}
