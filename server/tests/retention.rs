//! Run retention: the setting (admins only, validated, audited) and the sweep, which
//! deletes finished runs with their steps and events and leaves unfinished ones alone.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn admins_set_the_retention_and_the_sweep_deletes_only_old_finished_runs() {
    let app = spawn_app_with(&[("AURA_WORKERS", "1")]).await;
    let admin = app.signed_in_client("admin@example.com").await;
    let member = app.signed_in_client("member@example.com").await;
    let set = |c: &reqwest::Client, days: &str| {
        let url = app.url("/api/settings/set_run_retention");
        let c = c.clone();
        let days = days.to_owned();
        async move { c.post(url).form(&[("days", days)]).send().await.unwrap() }
    };
    for bad in ["0", "5000", "soon"] {
        let res = set(&admin, bad).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(json(res).await["fields"]["days"].is_string());
    }
    assert_eq!(set(&member, "7").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(set(&admin, "7").await.status(), StatusCode::OK);
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|(action, _, who)| action == "settings.change"
                && who.as_deref() == Some("admin@example.com"))
    );

    let wf = app
        .create_workflow(
            &admin,
            json!([{ "id": "t", "type": "template", "config": { "template": "x" } }]),
        )
        .await;
    let done = app.start_run(&admin, &wf, json!({})).await;
    app.finished_run(&admin, &done).await;
    // Nothing is old enough yet.
    assert_eq!(aura_server::retention::sweep(&app.store).await.unwrap(), 0);
    // A cutoff after the run ended deletes it with its steps and events; an unfinished
    // run (this one has no runner able to reach it) stays.
    let blocked = app
        .create_workflow(
            &admin,
            json!([{ "id": "t", "type": "template", "config": { "template": "x" } }]),
        )
        .await;
    let store = app.store.clone();
    let pending = aura_store::NewRun {
        workflow_id: blocked,
        workflow_version: 1,
        owner_id: app.store.find_run(&done).await.unwrap().unwrap().owner_id,
        input: "{}".into(),
        steps: vec![aura_store::NewStep {
            id: "t".into(),
            waiting_on: 1,
            max_attempts: 3,
        }],
    };
    let open = store.start_run(&pending).await.unwrap();
    let deleted = store
        .delete_runs_finished_before(aura_store::now_millis() + 1)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(store.find_run(&done).await.unwrap().is_none());
    assert!(store.step_runs(&done).await.unwrap().is_empty());
    assert!(store.run_events(&done, 0).await.unwrap().is_empty());
    assert!(store.find_run(&open.id).await.unwrap().is_some());
    let res = admin
        .get(app.url(&format!("/api/v1/runs/{done}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
