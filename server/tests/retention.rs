//! Retention: the settings (admins only, validated, audited) and the sweep, which deletes
//! finished runs with their steps and events, leaving unfinished ones alone, and audit
//! events older than their window.

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
        let url = app.url("/api/settings/set_retention");
        let c = c.clone();
        let days = days.to_owned();
        async move {
            c.post(url)
                .form(&[("what", "run_retention_days"), ("days", &days)])
                .send()
                .await
                .unwrap()
        }
    };
    for bad in ["0", "5000", "soon"] {
        let res = set(&admin, bad).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(json(res).await["fields"]["days"].is_string());
    }
    let res = admin
        .post(app.url("/api/settings/set_retention"))
        .form(&[("what", "everything"), ("days", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(res).await["fields"]["what"].is_string());
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
    let swept = aura_server::retention::sweep(&app.store).await.unwrap();
    assert_eq!((swept.runs, swept.audit_events), (0, 0));
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
        trigger: None,
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

#[tokio::test]
async fn audit_events_are_kept_for_their_own_window() {
    let app = spawn_app_with(&[("AURA_WORKERS", "1")]).await;
    let admin = app.signed_in_client("admin@example.com").await;
    let set = |days: &str| {
        admin
            .post(app.url("/api/settings/set_retention"))
            .form(&[("what", "audit_retention_days"), ("days", days)])
            .send()
    };
    // A week at least: audit events are evidence.
    let res = set("6").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    assert!(
        body["fields"]["days"]
            .as_str()
            .is_some_and(|m| m.contains("7 to 3650")),
        "{body}"
    );
    assert_eq!(set("10").await.unwrap().status(), StatusCode::OK);
    let res = admin
        .post(app.url("/api/settings/retention"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await, json!({ "run_days": 30, "audit_days": 10 }));

    // Every event but the setting changes moves eleven days back.
    let day_ms = 24 * 3600 * 1000;
    let moved = app
        .execute_sql(&format!(
            "UPDATE audit_events SET occurred_at = occurred_at - {} WHERE action <> 'settings.change'",
            11 * day_ms
        ))
        .await;
    assert!(moved >= 1, "{moved}");
    let swept = aura_server::retention::sweep(&app.store).await.unwrap();
    assert_eq!((swept.runs, swept.audit_events), (0, moved));
    let left = app.audit_actions().await;
    assert!(!left.is_empty());
    assert!(
        left.iter()
            .all(|(action, _, _)| action == "settings.change"),
        "{left:?}"
    );
}

#[tokio::test]
async fn expired_model_answers_leave_the_cache() {
    let app = spawn_app().await;
    app.store
        .cache_llm_response("old", "p/m", "{}", -1)
        .await
        .unwrap();
    app.store
        .cache_llm_response("fresh", "p/m", "{}", 60_000)
        .await
        .unwrap();
    let swept = aura_server::retention::sweep(&app.store).await.unwrap();
    assert_eq!(swept.cached_answers, 1);
    assert!(
        app.store
            .cached_llm_response("old")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.store
            .cached_llm_response("fresh")
            .await
            .unwrap()
            .is_some()
    );
}
