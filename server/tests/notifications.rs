//! In-app notices on SQLite or PostgreSQL: a failed run tells its owner (live, on the
//! event stream), repeats collapse while unread, a skipped schedule fire tells its owner,
//! marking read (one, all), and nobody sees another's notices.

mod common;

use aura_triggers::Scheduler;
use common::*;
use futures_util::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn notices(app: &TestApp, c: &Client) -> Value {
    let res = c
        .get(app.url("/api/v1/notifications"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["data"].clone()
}

fn failing() -> Value {
    json!([{ "id": "boom", "type": "template", "config": { "template": "{{ input.missing.deeper }}" } }])
}

/// Reads server-sent events until one named `unread` arrives; returns its count.
async fn next_unread(
    events: &mut (impl futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin),
    buffer: &mut String,
) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains("event: unread") {
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str::<Value>(data).unwrap()["unread"]
                    .as_i64()
                    .unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("an unread event in time")
            .expect("the stream stays open")
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_failed_run_notifies_its_owner_live_and_repeats_collapse_while_unread() {
    let app = spawn_app().await;
    let c = app.signed_in_client("owner@example.com").await;
    let res = c
        .get(app.url("/api/v1/notifications/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut events = res.bytes_stream();
    let mut buffer = String::new();
    assert_eq!(next_unread(&mut events, &mut buffer).await, 0);
    assert_eq!(notices(&app, &c).await, json!({ "items": [], "unread": 0 }));

    let res = c
        .post(app.url("/api/v1/workflows"))
        .json(&json!({ "name": "Nightly report", "definition": { "steps": failing() } }))
        .send()
        .await
        .unwrap();
    let workflow = json(res).await["data"]["id"].as_str().unwrap().to_owned();
    let first = app.start_run(&c, &workflow, json!({})).await;
    assert_eq!(
        app.finished_run(&c, &first).await["run"]["status"],
        "failed"
    );
    assert_eq!(
        next_unread(&mut events, &mut buffer).await,
        1,
        "live, no reload"
    );

    let list = notices(&app, &c).await;
    assert_eq!(list["unread"], 1);
    let notice = &list["items"][0];
    assert_eq!(notice["kind"], "run_failed");
    assert_eq!(notice["title"], "A run of Nightly report failed");
    assert!(
        notice["body"]
            .as_str()
            .unwrap()
            .starts_with("Step `boom` failed"),
        "{notice}"
    );
    assert_eq!(notice["link"], format!("/runs/{first}"));
    assert_eq!(notice["count"], 1);

    // A second failure of the same workflow joins the unread notice.
    let second = app.start_run(&c, &workflow, json!({})).await;
    app.finished_run(&c, &second).await;
    let list = notices(&app, &c).await;
    assert_eq!(list["unread"], 1);
    assert_eq!(list["items"][0]["count"], 2);
    assert_eq!(
        list["items"][0]["link"],
        format!("/runs/{second}"),
        "the latest run"
    );

    // Read: the next failure is a new notice.
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let res = c
        .post(app.url(&format!("/api/v1/notifications/{id}/read")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(next_unread(&mut events, &mut buffer).await, 0);
    let third = app.start_run(&c, &workflow, json!({})).await;
    app.finished_run(&c, &third).await;
    let list = notices(&app, &c).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["unread"], 1);
    assert_eq!(list["items"][1]["read"], true);

    // A succeeded or cancelled run tells nobody anything.
    let fine = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "ok" } }]),
        )
        .await;
    let run = app.start_run(&c, &fine, json!({})).await;
    app.finished_run(&c, &run).await;
    assert_eq!(
        notices(&app, &c).await["items"].as_array().unwrap().len(),
        2
    );

    // Someone else: no notices, and 404 for the owner's.
    let eve = app.signed_in_client("eve@example.com").await;
    assert_eq!(notices(&app, &eve).await["unread"], 0);
    let res = eve
        .post(app.url(&format!("/api/v1/notifications/{id}/read")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = c
        .post(app.url("/api/v1/notifications/read-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["data"]["marked"], 1);
    assert_eq!(notices(&app, &c).await["unread"], 0);
    let res = c
        .get(app.url("/api/v1/notifications?limit=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_fire_skipped_for_overlap_notifies_the_schedules_owner() {
    let app = spawn_app_with(&[("AURA_WORKERS", "0"), ("AURA_SCHEDULER", "false")]).await;
    let c = app.signed_in_client("sched@example.com").await;
    let workflow = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "ok" } }]),
        )
        .await;
    let res = c
        .post(app.url(&format!("/api/v1/workflows/{workflow}/schedules")))
        .json(&json!({ "name": "Every minute", "rule": { "kind": "every", "count": 1, "unit": "minutes" } }))
        .send()
        .await
        .unwrap();
    let first = json(res).await["data"]["next_fire_at"].as_i64().unwrap();
    let scheduler = Scheduler::new(app.store.clone(), app.engine.clone());
    scheduler.tick(first).await.unwrap();
    assert_eq!(
        notices(&app, &c).await["unread"],
        0,
        "a started fire is no news"
    );
    scheduler.tick(first + 60_000).await.unwrap();
    scheduler.tick(first + 120_000).await.unwrap();
    let list = notices(&app, &c).await;
    assert_eq!(list["unread"], 1);
    let notice = &list["items"][0];
    assert_eq!(notice["kind"], "schedule_skipped");
    assert_eq!(notice["title"], "Schedule Every minute skipped a fire");
    assert_eq!(notice["count"], 2, "two skipped fires, one notice");
    assert_eq!(notice["link"], format!("/workflows/{workflow}"));
}
