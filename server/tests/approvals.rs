//! `approval` steps on SQLite or PostgreSQL: a run waits durably (step and run `waiting`)
//! and tells its owner; approving or rejecting, with a comment, lets it go on and later
//! steps read the decision; decisions are audited, checked and refused when late; a
//! timeout decides as configured; a waiting run survives a hard restart.

mod common;

use common::binary::Binary;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// `review` waits; `after` says what was decided (templates print booleans as `True`).
fn reviewed(extra: Value) -> Value {
    let mut config = json!({ "message": "Ship {{ input.change }}?" });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    json!([
        { "id": "review", "type": "approval", "config": config, "next": [{ "to": "after" }] },
        { "id": "after", "type": "template", "config": {
            "template": "{{ steps.review.output.approved }}|{{ steps.review.output.comment }}|{{ steps.review.output.timed_out }}" } }
    ])
}

/// Waits (up to 30 s) until the run is `waiting`; returns `{run, steps}`.
async fn waiting_run(app: &impl Api, c: &Client, run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let data = app.run(c, run).await;
        if data["run"]["status"] == "waiting" {
            return data;
        }
        assert!(Instant::now() < deadline, "run never waited: {data}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn decide(
    app: &impl Api,
    c: &Client,
    run: &str,
    step: &str,
    body: Value,
) -> (StatusCode, Value) {
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/steps/{step}/decision")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, json(res).await)
}

#[tokio::test]
async fn a_run_waits_for_approval_then_goes_on_with_the_decision() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let workflow = app.create_workflow(&c, reviewed(json!({}))).await;
    let run = app
        .start_run(&c, &workflow, json!({ "change": "v2" }))
        .await;
    let data = waiting_run(&app, &c, &run).await;
    let steps = steps_by_id(&data);
    assert_eq!(steps["review"]["status"], "waiting");
    assert_eq!(steps["review"]["output"]["message"], "Ship v2?");
    assert_eq!(steps["review"]["output"]["timeout_at"], Value::Null);
    assert_eq!(steps["after"]["status"], "pending");
    // The runs list shows it, and filters by it.
    let res = c
        .get(app.url("/api/v1/runs?status=waiting"))
        .send()
        .await
        .unwrap();
    let listed = json(res).await;
    assert_eq!(listed["data"]["runs"][0]["id"], run.as_str(), "{listed}");
    // The owner is told, with a link to the run.
    let res = c
        .get(app.url("/api/v1/notifications"))
        .send()
        .await
        .unwrap();
    let notices = json(res).await;
    let notice = notices["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "approval_waiting")
        .unwrap_or_else(|| panic!("no approval notice: {notices}"))
        .clone();
    assert_eq!(notice["link"], format!("/runs/{run}"));
    assert_eq!(notice["body"], "Ship v2?");
    assert_eq!(notice["title"], "A run of Test waits for your approval");

    // Nobody else may decide, or even see it.
    let eve = app.signed_in_client("eve@example.com").await;
    let (status, _) = decide(&app, &eve, &run, "review", json!({ "approved": true })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Bad bodies are refused with what is wrong, and change nothing.
    let (status, body) = decide(&app, &c, &run, "review", json!({ "approve": true })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let long = "x".repeat(2001);
    let (status, body) = decide(
        &app,
        &c,
        &run,
        "review",
        json!({ "approved": true, "comment": long }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("comment"), "{body}");
    // Only approval steps are decided; `after` is not one.
    let (status, _) = decide(&app, &c, &run, "after", json!({ "approved": true })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.run(&c, &run).await["run"]["status"], "waiting");

    let (status, body) = decide(
        &app,
        &c,
        &run,
        "review",
        json!({ "approved": true, "comment": "  Looks right  " }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let steps = steps_by_id(&data);
    assert_eq!(steps["after"]["output"], "True|Looks right|False");
    let decision = &steps["review"]["output"];
    assert_eq!(decision["decided_by"], "ada@example.com");
    assert!(decision["decided_at"].as_i64().unwrap() > 0);
    // A second decision comes too late.
    let (status, body) = decide(&app, &c, &run, "review", json!({ "approved": false })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("not waiting"), "{body}");
    // Audited once, by whom.
    let audited: Vec<_> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, ..)| action == "approval.decide")
        .collect();
    assert_eq!(
        audited,
        vec![(
            "approval.decide".to_owned(),
            "success".to_owned(),
            Some("ada@example.com".to_owned())
        )]
    );
}

#[tokio::test]
async fn a_rejection_is_an_output_later_steps_branch_on_and_cancel_ends_a_wait() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let steps = json!([
        { "id": "review", "type": "approval", "config": { "message": "Deploy?" }, "next": [{ "to": "check" }] },
        { "id": "check", "type": "condition", "config": { "expression": "steps.review.output.approved" },
          "next": [{ "to": "deploy", "branch": "true" }, { "to": "skip", "branch": "false" }] },
        { "id": "deploy", "type": "template", "config": { "template": "deployed" } },
        { "id": "skip", "type": "template", "config": { "template": "not deployed: {{ steps.review.output.comment }}" } }
    ]);
    let workflow = app.create_workflow(&c, steps).await;
    let run = app.start_run(&c, &workflow, json!({})).await;
    waiting_run(&app, &c, &run).await;
    let (status, body) = decide(
        &app,
        &c,
        &run,
        "review",
        json!({ "approved": false, "comment": "Friday" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = app.finished_run(&c, &run).await;
    let steps = steps_by_id(&data);
    assert_eq!(steps["deploy"]["status"], "skipped");
    assert_eq!(steps["skip"]["output"], "not deployed: Friday");

    // Cancelling a waiting run ends the wait; deciding after that is refused.
    let run = app.start_run(&c, &workflow, json!({})).await;
    waiting_run(&app, &c, &run).await;
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = app.run(&c, &run).await;
    assert_eq!(data["run"]["status"], "cancelled");
    assert_eq!(steps_by_id(&data)["review"]["status"], "cancelled");
    let (status, _) = decide(&app, &c, &run, "review", json!({ "approved": true })).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_timeout_decides_as_configured() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let mut runs = Vec::new();
    for outcome in ["reject", "approve", "fail"] {
        let workflow = app
            .create_workflow(
                &c,
                reviewed(json!({ "timeout_minutes": 60, "on_timeout": outcome })),
            )
            .await;
        let run = app.start_run(&c, &workflow, json!({ "change": "x" })).await;
        let data = waiting_run(&app, &c, &run).await;
        let at = steps_by_id(&data)["review"]["output"]["timeout_at"]
            .as_i64()
            .unwrap();
        let now = aura_store::now_millis();
        assert!(
            (now + 59 * 60_000..=now + 60 * 60_000).contains(&at),
            "{at}"
        );
        runs.push(run);
    }
    // Nothing is due yet.
    assert_eq!(app.engine.end_expired_waits().await.unwrap(), 0);
    // An hour passes (for these waits).
    app.execute_sql(
        "UPDATE step_runs SET wait_until = wait_until - 3600001 WHERE status = 'waiting'",
    )
    .await;
    assert_eq!(app.engine.end_expired_waits().await.unwrap(), 3);
    assert_eq!(app.engine.end_expired_waits().await.unwrap(), 0);
    let rejected = app.finished_run(&c, &runs[0]).await;
    assert_eq!(
        steps_by_id(&rejected)["after"]["output"],
        "False|Nobody decided within 1 hour(s); the timeout rejected it.|True"
    );
    let approved = app.finished_run(&c, &runs[1]).await;
    assert!(
        steps_by_id(&approved)["after"]["output"]
            .as_str()
            .unwrap()
            .starts_with("True|"),
        "{approved}"
    );
    let failed = app.finished_run(&c, &runs[2]).await;
    assert_eq!(failed["run"]["status"], "failed");
    let steps = steps_by_id(&failed);
    assert!(
        steps["review"]["error"]
            .as_str()
            .unwrap()
            .contains("Nobody decided within 1 hour(s)"),
        "{failed}"
    );
    assert_eq!(steps["after"]["status"], "cancelled");
}

#[tokio::test]
async fn approval_settings_are_checked_on_save() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let res = c
        .post(app.url("/api/v1/workflows"))
        .json(&json!({ "name": "Bad", "definition": { "steps": [
            { "id": "review", "type": "approval", "config": { "message": " ", "timeout_minutes": 0 } },
            { "id": "late", "type": "approval", "config": { "message": "ok", "on_timeout": "shrug" } },
            { "id": "gate", "type": "approval", "config": { "message": "ok", "apply": "nowhere" } },
            { "id": "each", "type": "map", "config": { "items": "input.xs",
              "step": { "type": "approval", "config": { "message": "one?" } } } }
        ] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await.to_string();
    for expected in [
        "Say what the approver is asked",
        "Use 1 to 43200 minutes",
        "shrug",
        "`nowhere` is not a step before this one",
        "A map runs a single llm, script, http, template or analysis step per item",
    ] {
        assert!(body.contains(expected), "{expected}: {body}");
    }
}

#[tokio::test]
async fn a_waiting_run_survives_a_hard_restart() {
    let database_url = fresh_database_url().await;
    let env = [
        ("AURA_DATABASE_URL", database_url.as_str()),
        ("AURA_WORKERS", "1"),
    ];
    let mut first = Binary::start(&env).await;
    let c = first.signed_in_client("ada@example.com").await;
    let workflow = first.create_workflow(&c, reviewed(json!({}))).await;
    let run = first
        .start_run(&c, &workflow, json!({ "change": "v3" }))
        .await;
    waiting_run(&first, &c, &run).await;
    first.kill_hard();

    let second = Binary::start(&env).await;
    let res = second.sign_in(&c, "ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Still waiting, long after any lease would have expired, with its question.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let data = waiting_run(&second, &c, &run).await;
    assert_eq!(
        steps_by_id(&data)["review"]["output"]["message"],
        "Ship v3?"
    );
    let (status, body) = decide(
        &second,
        &c,
        &run,
        "review",
        json!({ "approved": true, "comment": "after the restart" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = second.finished_run(&c, &run).await;
    assert_eq!(
        steps_by_id(&data)["after"]["output"],
        "True|after the restart|False"
    );
}

async fn paths(app: &TestApp, c: &Client, project: &str) -> Vec<String> {
    let res = c
        .get(app.url(&format!("/api/v1/projects/{project}/files")))
        .send()
        .await
        .unwrap();
    json(res).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "file")
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

/// `propose` outputs the change set its input holds (as the agent step will); `review`
/// applies it when approved.
fn proposing() -> Value {
    json!([
        { "id": "propose", "type": "script",
          "config": { "code": "return { summary: 'fix', changes: { project: input.project, files: input.files } };" },
          "next": [{ "to": "review" }] },
        { "id": "review", "type": "approval", "config": { "message": "Apply the fix?", "apply": "propose" } }
    ])
}

#[tokio::test]
async fn approving_applies_the_change_set_as_revisions_and_conflicts_apply_nothing() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let (project, entries) = app
        .project_with(&c, "api", &[("app.py", "x = eval(y)\n")])
        .await;
    let app_py = &entries["app.py"];
    let workflow = app.create_workflow(&c, proposing()).await;
    let change = |base: i64, content: &str, new_file: &str| {
        json!({ "project": project, "files": [
            { "path": "app.py", "base_revision": base, "content": content },
            { "path": new_file, "base_revision": null, "content": "SAFE = True\n" }
        ] })
    };

    // Approved: both files written, as revisions attributed to the run.
    let run = app
        .start_run(&c, &workflow, change(1, "x = int(y)\n", "lib/safe.py"))
        .await;
    waiting_run(&app, &c, &run).await;
    let (status, body) = decide(&app, &c, &run, "review", json!({ "approved": true })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = app.finished_run(&c, &run).await;
    let applied = &steps_by_id(&data)["review"]["output"]["applied"];
    assert_eq!(applied["files"], json!(["app.py", "lib/safe.py"]));
    let read = app.file_at(&c, &project, app_py).await;
    assert_eq!(read["content"], "x = int(y)\n");
    assert_eq!(read["revision"], 2);
    let note = app.newest_note(&c, &project, app_py).await;
    assert!(note.contains(&format!("Run {run}, step propose")), "{note}");
    assert_eq!(paths(&app, &c, &project).await, ["app.py", "lib/safe.py"]);

    // Rejected: nothing is written.
    let run = app
        .start_run(&c, &workflow, change(2, "rejected\n", "lib/no.py"))
        .await;
    waiting_run(&app, &c, &run).await;
    let (status, _) = decide(&app, &c, &run, "review", json!({ "approved": false })).await;
    assert_eq!(status, StatusCode::OK);
    let data = app.finished_run(&c, &run).await;
    assert_eq!(
        steps_by_id(&data)["review"]["output"]["applied"],
        Value::Null
    );
    assert_eq!(app.file_at(&c, &project, app_py).await["revision"], 2);
    assert_eq!(paths(&app, &c, &project).await, ["app.py", "lib/safe.py"]);

    // A person saves app.py while the run waits: approving is refused with the conflict,
    // and nothing of the change set is written (not even the new file).
    let run = app
        .start_run(&c, &workflow, change(2, "from the run\n", "lib/late.py"))
        .await;
    waiting_run(&app, &c, &run).await;
    let res = c
        .put(app.url(&format!("/api/v1/projects/{project}/files/{app_py}")))
        .json(&json!({ "content": "a person's edit\n", "base_revision": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let pending = app
        .engine
        .pending_changes(&principal_of(&app, "ada@example.com").await, &run, "review")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.files.len(), 2);
    let conflicts = pending.conflicts;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].path, "app.py");
    // The approver's diff: the text the change was based on beside the proposal.
    let ada = principal_of(&app, "ada@example.com").await;
    let diff = app
        .engine
        .change_diff(&ada, &run, "review", "app.py")
        .await
        .unwrap();
    assert_eq!(diff.base_revision, Some(2));
    assert_eq!(diff.proposed, "from the run\n");
    assert_eq!(diff.original.as_deref(), Some("x = int(y)\n"));
    let created = app
        .engine
        .change_diff(&ada, &run, "review", "lib/late.py")
        .await
        .unwrap();
    assert_eq!((created.base_revision, created.original), (None, None));
    // Only the proposed files, and only for the run's owner.
    app.signed_in_client("mallory@example.com").await;
    let mallory = principal_of(&app, "mallory@example.com").await;
    for (who, path) in [(&ada, "nowhere.py"), (&mallory, "app.py")] {
        assert!(matches!(
            app.engine.change_diff(who, &run, "review", path).await,
            Err(aura_engine::WorkflowError::NotFound)
        ));
    }
    let (status, body) = decide(&app, &c, &run, "review", json!({ "approved": true })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.to_string()
            .contains("app.py: It changed since it was read: revision 2 then, revision 3 now"),
        "{body}"
    );
    assert_eq!(
        app.file_at(&c, &project, app_py).await["content"],
        "a person's edit\n"
    );
    assert_eq!(paths(&app, &c, &project).await, ["app.py", "lib/safe.py"]);
    assert_eq!(app.run(&c, &run).await["run"]["status"], "waiting");
    let (status, _) = decide(&app, &c, &run, "review", json!({ "approved": false })).await;
    assert_eq!(status, StatusCode::OK);

    // A change set naming someone else's project is never applied.
    let eve = app.signed_in_client("eve@example.com").await;
    let (theirs, _) = app
        .project_with(&eve, "theirs", &[("a.py", "x = 1\n")])
        .await;
    let run = app
        .start_run(
            &c,
            &workflow,
            json!({ "project": theirs, "files": [{ "path": "a.py", "base_revision": 1, "content": "stolen" }] }),
        )
        .await;
    waiting_run(&app, &c, &run).await;
    let (status, body) = decide(&app, &c, &run, "review", json!({ "approved": true })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.to_string().contains("not among the run owner's"),
        "{body}"
    );
}
