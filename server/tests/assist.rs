//! AI actions on a project file over REST: Fix sends the analysis findings and streams a
//! proposal for the whole file or the selection, Explain proposes nothing, each call is a
//! ledger row for the user and the project, a project budget refuses the next action, and
//! without a configured model the action says where to configure one.

mod common;

use common::upstream::Upstream;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const FILE: &str = "import os\napi_key = \"sk_live_4f9a8b7c6d5e4f3a2b1c\"\nprint(1)\n";

async fn project_with_file(app: &TestApp, c: &Client) -> (String, String) {
    let res = c
        .post(app.url("/api/v1/projects"))
        .header("Origin", &app.address)
        .json(&json!({ "name": "Payments" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let project = json(res).await["data"]["id"].as_str().unwrap().to_owned();
    let res = c
        .post(app.url(&format!("/api/v1/projects/{project}/files")))
        .header("Origin", &app.address)
        .json(&json!({ "path": "app.py", "content": FILE }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let entry = json(res).await["data"]["id"].as_str().unwrap().to_owned();
    (project, entry)
}

/// Posts an action; returns the status and either the error body or the SSE events
/// as (name, data) pairs.
async fn assist(
    app: &TestApp,
    c: &Client,
    project: &str,
    entry: &str,
    body: Value,
) -> (StatusCode, Vec<(String, Value)>, Value) {
    let res = c
        .post(app.url(&format!("/api/v1/projects/{project}/files/{entry}/assist")))
        .header("Origin", &app.address)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let is_stream = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    let text = res.text().await.unwrap();
    if !is_stream {
        return (status, Vec::new(), serde_json::from_str(&text).unwrap());
    }
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event: ") {
                name = v.to_owned();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push_str(v);
            }
        }
        if !name.is_empty() {
            events.push((name, serde_json::from_str(&data).unwrap()));
        }
    }
    (status, events, Value::Null)
}

#[tokio::test]
async fn fix_streams_a_proposal_and_is_billed_to_the_user_and_the_project() {
    let upstream = Upstream::start().await;
    let llm = format!("{}/v1", upstream.url);
    let app = spawn_app_with(&[("AURA_LLM_BASE_URL", &llm), ("AURA_LLM_MODEL", "coder")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    let (project, entry) = project_with_file(&app, &c).await;

    let (status, events, _) = assist(&app, &c, &project, &entry, json!({ "action": "fix" })).await;
    assert_eq!(status, StatusCode::OK);
    let deltas: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert!(
        deltas.starts_with("I removed the hard-coded key."),
        "{events:?}"
    );
    let (name, done) = events.last().unwrap();
    assert_eq!(name, "done");
    assert_eq!(done["proposal"], "print('fixed')\n");
    assert_eq!(done["base_revision"], 1);
    assert_eq!(done["target"], "openai/coder");
    assert_eq!(
        (done["input_tokens"].clone(), done["output_tokens"].clone()),
        (json!(40), json!(12))
    );
    // The findings went along with the file.
    let sent = upstream.chats().last().unwrap()["body"]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sent.contains("security.hardcoded-secret") && sent.contains("line 2"),
        "{sent}"
    );

    // A selection: only those lines are replaced.
    let (_, events, _) = assist(
        &app,
        &c,
        &project,
        &entry,
        json!({ "action": "fix", "start_line": 2, "end_line": 2 }),
    )
    .await;
    assert_eq!(
        events.last().unwrap().1["proposal"],
        "import os\nprint('fixed')\nprint(1)\n"
    );
    // Explain proposes nothing.
    let (_, events, _) = assist(&app, &c, &project, &entry, json!({ "action": "explain" })).await;
    assert_eq!(events.last().unwrap().1["proposal"], Value::Null);

    // The editor's unsaved text is what the action works on.
    let unsaved = "import os\nprint(2)\n";
    let (_, events, _) = assist(
        &app,
        &c,
        &project,
        &entry,
        json!({ "action": "fix", "content": unsaved, "start_line": 2, "end_line": 2 }),
    )
    .await;
    let proposal = events.last().unwrap().1["proposal"].clone();
    assert_eq!(proposal, "import os\nprint('fixed')\n");
    let sent = upstream.chats().last().unwrap()["body"]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sent.contains("print(2)") && !sent.contains("sk_live"),
        "{sent}"
    );

    // Applying is a save whose note the revision keeps; a bad note names its field.
    let file_url = app.url(&format!("/api/v1/projects/{project}/files/{entry}"));
    for (note, status) in [
        (json!("two\nlines"), StatusCode::UNPROCESSABLE_ENTITY),
        (json!("x".repeat(201)), StatusCode::UNPROCESSABLE_ENTITY),
        (json!("AI: Fix (openai/coder)"), StatusCode::OK),
    ] {
        let res = c
            .put(&file_url)
            .header("Origin", &app.address)
            .json(&json!({ "content": proposal, "base_revision": 1, "note": note }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
        if status != StatusCode::OK {
            assert_eq!(json(res).await["error"]["details"][0]["field"], "note");
        }
    }
    let res = c.get(format!("{file_url}/revisions")).send().await.unwrap();
    let revisions = json(res).await["data"].clone();
    assert_eq!(revisions[0]["revision"], 2);
    assert_eq!(revisions[0]["note"], "AI: Fix (openai/coder)");
    assert_eq!(revisions[1]["note"], "");

    // Each action is a ledger row for the user and the project.
    let (_, me) = {
        let res = c.get(app.url("/api/v1/me")).send().await.unwrap();
        (res.status(), json(res).await)
    };
    let calls = app
        .store
        .llm_calls_of_user(me["data"]["id"].as_str().unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| c.source == "editor"
        && c.project_id.as_deref() == Some(project.as_str())
        && c.input_tokens == 40));

    // Bad requests name their field.
    for (body, field) in [
        (json!({ "action": "rewrite" }), "action"),
        (json!({ "action": "generate" }), "action"),
        (
            json!({ "action": "fix", "start_line": 2, "end_line": 9 }),
            "start_line",
        ),
        (json!({ "action": "fix", "start_line": 2 }), "start_line"),
    ] {
        let (status, _, body) = assist(&app, &c, &project, &entry, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["details"][0]["field"], field, "{body}");
    }
    // Another user's file is not found.
    let bob = app.signed_in_client("bob@example.com").await;
    let (status, _, _) = assist(&app, &bob, &project, &entry, json!({ "action": "fix" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A project budget of 100 tokens is used up (4 × 52): the next action is refused.
    let res = c
        .put(app.url("/api/v1/models/budgets"))
        .header("Origin", &app.address)
        .json(&json!({ "scope": "project", "subject_id": project, "max_tokens": 100 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["data"]["subject"], "Payments");
    let before = upstream.chats().len();
    let (status, _, body) = assist(&app, &c, &project, &entry, json!({ "action": "fix" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("budget of this project is used up"),
        "{body}"
    );
    assert_eq!(upstream.chats().len(), before, "nothing was sent");
}

#[tokio::test]
async fn without_a_model_the_action_says_where_to_configure_one() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let (project, entry) = project_with_file(&app, &c).await;
    let (status, _, body) =
        assist(&app, &c, &project, &entry, json!({ "action": "explain" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/models")
    );
}

#[tokio::test]
async fn an_action_counts_against_the_users_open_streams() {
    let upstream = Upstream::start().await;
    let llm = format!("{}/v1", upstream.url);
    let app = spawn_app_with(&[
        ("AURA_LLM_BASE_URL", &llm),
        ("AURA_LLM_MODEL", "coder"),
        ("AURA_MAX_EVENT_STREAMS_PER_USER", "1"),
    ])
    .await;
    let c = app.signed_in_client("ada@example.com").await;
    let (project, entry) = project_with_file(&app, &c).await;
    // One open stream (a run's events, followed live) takes the only place.
    let wf = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "x" } }]),
        )
        .await;
    let run = app.start_run(&c, &wf, json!({})).await;
    let held = c
        .get(app.url(&format!("/api/v1/runs/{run}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), StatusCode::OK);
    let (status, _, body) =
        assist(&app, &c, &project, &entry, json!({ "action": "explain" })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AURA_MAX_EVENT_STREAMS_PER_USER")
    );
    drop(held);
    // Once it closes, the action runs.
    let mut ok = false;
    for _ in 0..50 {
        let (status, _, _) =
            assist(&app, &c, &project, &entry, json!({ "action": "explain" })).await;
        if status == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "the place came back");
}

#[tokio::test]
async fn stopping_an_action_abandons_the_model_call_and_bills_an_estimate() {
    let upstream = Upstream::start().await;
    let llm = format!("{}/v1", upstream.url);
    let app = spawn_app_with(&[("AURA_LLM_BASE_URL", &llm), ("AURA_LLM_MODEL", "rambler")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    let (project, entry) = project_with_file(&app, &c).await;
    let mut res = c
        .post(app.url(&format!("/api/v1/projects/{project}/files/{entry}/assist")))
        .header("Origin", &app.address)
        .json(&json!({ "action": "explain" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let first = res.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("at length"));
    // The user presses Stop: the browser drops the response.
    drop(res);
    let me = json(c.get(app.url("/api/v1/me")).send().await.unwrap()).await;
    let user = me["data"]["id"].as_str().unwrap().to_owned();
    let mut stopped = None;
    for _ in 0..100 {
        let calls = app.store.llm_calls_of_user(&user, 10).await.unwrap();
        if let Some(call) = calls.into_iter().find(|c| c.outcome == "stopped") {
            stopped = Some(call);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let call = stopped.expect("a stopped call is in the ledger");
    assert_eq!(call.target.as_deref(), Some("openai/rambler"));
    // Estimated: the request (over 100 characters) and the one chunk streamed (35 characters).
    assert!(call.input_tokens > 25, "{call:?}");
    assert_eq!(call.output_tokens, 9, "{call:?}");
    // The provider's connection was closed too, so it stops generating.
    let mut closed = 0;
    for _ in 0..100 {
        closed = upstream.calls("rambler_closed");
        if closed == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(closed, 1);
}
