//! Schedules on SQLite or PostgreSQL, driven by a simulated clock (`Scheduler::tick(now)`),
//! never by sleeping: fires across daylight-saving changes in Europe/Berlin and
//! America/New_York, the overlap policies, catch-up after downtime, and two instances on
//! one database firing a per-minute schedule 30 times for 30 simulated minutes.
//!
//! The apps run without workers (runs stay queued, so "the previous run is still going"
//! is under the test's control) and without their own scheduler (only the test ticks).

mod common;

use aura_triggers::Scheduler;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const QUIET: &[(&str, &str)] = &[("AURA_WORKERS", "0"), ("AURA_SCHEDULER", "false")];

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

async fn schedule(app: &TestApp, c: &Client, workflow: &str, spec: Value) -> Value {
    let res = c
        .post(app.url(&format!("/api/v1/workflows/{workflow}/schedules")))
        .json(&spec)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = json(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

async fn show(app: &TestApp, c: &Client, id: &str) -> Value {
    json(
        c.get(app.url(&format!("/api/v1/schedules/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]
        .clone()
}

async fn workflow(app: &TestApp, c: &Client) -> String {
    app.create_workflow(
        c,
        json!([{ "id": "t", "type": "template", "config": { "template": "{{ input.schedule.fire_at }}" } }]),
    )
    .await
}

/// The runs of `workflow`, oldest first.
async fn runs(app: &TestApp, c: &Client, workflow: &str) -> Vec<Value> {
    let res = c
        .get(app.url(&format!("/api/v1/runs?workflow_id={workflow}&limit=100")))
        .send()
        .await
        .unwrap();
    let mut runs = json(res).await["data"]["runs"].as_array().unwrap().clone();
    runs.reverse();
    runs
}

/// The fire instants of a schedule's runs, read from each run's input.
async fn fired(app: &TestApp, c: &Client, workflow: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs(app, c, workflow).await {
        let detail = app.run(c, run["id"].as_str().unwrap()).await;
        out.push(
            detail["run"]["input"]["schedule"]["fire_at"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    out.sort();
    out
}

async fn cancel(app: &TestApp, c: &Client, run: &str) {
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Ticks at every fire the schedule names until `until`, and also half a minute after
/// each and between fires, as a scheduler polling every few seconds would.
async fn drive(app: &TestApp, c: &Client, scheduler: &Scheduler, id: &str, until: i64) {
    loop {
        let next = show(app, c, id).await["next_fire_at"].as_i64().unwrap();
        if next > until {
            return;
        }
        scheduler.tick(next - 20_000).await.unwrap();
        scheduler.tick(next).await.unwrap();
        scheduler.tick(next + 30_000).await.unwrap();
    }
}

#[tokio::test]
async fn schedules_fire_at_the_right_instants_across_daylight_saving_changes() {
    let app = spawn_app_with(QUIET).await;
    let c = app.signed_in_client("dst@example.com").await;
    let scheduler = Scheduler::new(app.store.clone(), app.engine.clone());
    let cases = [
        // Berlin springs forward on 2027-03-28: 02:30 does not exist that day.
        (
            "Europe/Berlin",
            "30 2 27-29 3 *",
            "2027-03-30T00:00:00Z",
            vec!["2027-03-27T01:30:00Z", "2027-03-29T00:30:00Z"],
        ),
        // Berlin falls back on 2027-10-31: 02:30 happens twice and fires once.
        (
            "Europe/Berlin",
            "30 2 30-31 10 *",
            "2027-11-01T00:00:00Z",
            vec!["2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z"],
        ),
        // New York springs forward on 2027-03-14.
        (
            "America/New_York",
            "30 2 13-15 3 *",
            "2027-03-16T00:00:00Z",
            vec!["2027-03-13T07:30:00Z", "2027-03-15T06:30:00Z"],
        ),
        // New York falls back on 2027-11-07: 01:30 happens twice and fires once.
        (
            "America/New_York",
            "30 1 6-8 11 *",
            "2027-11-09T00:00:00Z",
            vec![
                "2027-11-06T05:30:00Z",
                "2027-11-07T05:30:00Z",
                "2027-11-08T06:30:00Z",
            ],
        ),
        // 09:00 on weekdays keeps its wall-clock time across Berlin's change.
        (
            "Europe/Berlin",
            "0 9 26,29 3 *",
            "2027-03-30T00:00:00Z",
            vec!["2027-03-26T08:00:00Z", "2027-03-29T07:00:00Z"],
        ),
    ];
    for (zone, expression, until, expected) in cases {
        let workflow = workflow(&app, &c).await;
        let made = schedule(
            &app,
            &c,
            &workflow,
            json!({ "name": expression, "rule": { "kind": "cron", "expression": expression },
                    "timezone": zone, "overlap": "allow" }),
        )
        .await;
        drive(
            &app,
            &c,
            &scheduler,
            made["id"].as_str().unwrap(),
            ms(until),
        )
        .await;
        assert_eq!(
            fired(&app, &c, &workflow).await,
            expected,
            "{zone} {expression}"
        );
    }
}

#[tokio::test]
async fn the_overlap_policies_skip_queue_one_or_allow_all() {
    let app = spawn_app_with(QUIET).await;
    let c = app.signed_in_client("overlap@example.com").await;
    let scheduler = Scheduler::new(app.store.clone(), app.engine.clone());
    let every_minute = |overlap: &str| json!({ "name": overlap, "rule": { "kind": "every", "count": 1, "unit": "minutes" }, "overlap": overlap });

    // skip: a fire while the previous run is queued is recorded as skipped.
    let skip_flow = workflow(&app, &c).await;
    let skip = schedule(&app, &c, &skip_flow, every_minute("skip")).await;
    let id = skip["id"].as_str().unwrap();
    let t1 = skip["next_fire_at"].as_i64().unwrap();
    assert_eq!(scheduler.tick(t1).await.unwrap().started, 1);
    assert_eq!(scheduler.tick(t1 + 60_000).await.unwrap().skipped, 1);
    let shown = show(&app, &c, id).await;
    assert_eq!(shown["last_outcome"], "skipped");
    assert_eq!(
        shown["last_run_status"],
        Value::Null,
        "a skipped fire has no run"
    );
    let first = runs(&app, &c, &skip_flow).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cancel(&app, &c, &first).await;
    assert_eq!(scheduler.tick(t1 + 120_000).await.unwrap().started, 1);
    assert_eq!(runs(&app, &c, &skip_flow).await.len(), 2);

    // queue: one fire waits for the previous run; later ones meanwhile are skipped.
    let queue_flow = workflow(&app, &c).await;
    let queue = schedule(&app, &c, &queue_flow, every_minute("queue")).await;
    let id = queue["id"].as_str().unwrap();
    let t1 = queue["next_fire_at"].as_i64().unwrap();
    scheduler.tick(t1).await.unwrap();
    assert_eq!(scheduler.tick(t1 + 60_000).await.unwrap().queued, 1);
    assert_eq!(show(&app, &c, id).await["last_outcome"], "queued");
    assert_eq!(scheduler.tick(t1 + 120_000).await.unwrap().skipped, 1);
    assert_eq!(runs(&app, &c, &queue_flow).await.len(), 1);
    let first = runs(&app, &c, &queue_flow).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cancel(&app, &c, &first).await;
    // The queued fire starts at the next tick, due or not.
    assert_eq!(scheduler.tick(t1 + 130_000).await.unwrap().started, 1);
    let both = runs(&app, &c, &queue_flow).await;
    assert_eq!(both.len(), 2);
    let second = app.run(&c, both[1]["id"].as_str().unwrap()).await;
    assert_eq!(
        second["run"]["input"]["schedule"]["fire_at"],
        iso(t1 + 60_000),
        "the queued fire keeps its own time"
    );

    // allow: every fire starts a run.
    let allow_flow = workflow(&app, &c).await;
    let allow = schedule(&app, &c, &allow_flow, every_minute("allow")).await;
    let t1 = allow["next_fire_at"].as_i64().unwrap();
    for minute in 0..3 {
        assert_eq!(
            scheduler.tick(t1 + minute * 60_000).await.unwrap().started,
            1
        );
    }
    assert_eq!(runs(&app, &c, &allow_flow).await.len(), 3);
}

#[tokio::test]
async fn after_downtime_catch_up_runs_the_last_missed_fire_once_or_nothing() {
    let app = spawn_app_with(QUIET).await;
    let c = app.signed_in_client("catchup@example.com").await;
    let scheduler = Scheduler::new(app.store.clone(), app.engine.clone());
    let hourly = |catch_up: &str, window: u32| {
        json!({ "name": catch_up, "rule": { "kind": "cron", "expression": "0 * * * *" },
                "catch_up": catch_up, "catch_up_window_secs": window, "overlap": "allow" })
    };
    for (catch_up, window, expect_runs) in [("none", 3600, 0), ("last", 3600, 1), ("last", 600, 0)]
    {
        let flow = workflow(&app, &c).await;
        let made = schedule(&app, &c, &flow, hourly(catch_up, window)).await;
        let due = made["next_fire_at"].as_i64().unwrap();
        // Down for five hours and twenty minutes: five fires were missed.
        let back = due + 5 * 3_600_000 + 20 * 60_000;
        let tick = scheduler.tick(back).await.unwrap();
        assert_eq!(tick.started, expect_runs, "{catch_up} {window}");
        let ran = fired(&app, &c, &flow).await;
        assert_eq!(ran.len(), expect_runs, "never a burst: {ran:?}");
        if expect_runs == 1 {
            assert_eq!(ran[0], iso(due + 5 * 3_600_000), "the latest missed fire");
        }
        let next = show(&app, &c, made["id"].as_str().unwrap()).await["next_fire_at"]
            .as_i64()
            .unwrap();
        assert_eq!(next, due + 6 * 3_600_000, "then on schedule again");
        assert_eq!(
            scheduler.tick(back + 1000).await.unwrap(),
            Default::default()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_fire_a_per_minute_schedule_exactly_once_each_minute() {
    let app = spawn_app_with(QUIET).await;
    let other = spawn_app_on(app.database_url.clone(), QUIET).await;
    let c = app.signed_in_client("twice@example.com").await;
    let flow = workflow(&app, &c).await;
    let made = schedule(
        &app,
        &c,
        &flow,
        json!({ "name": "minutely", "rule": { "kind": "cron", "expression": "* * * * *" }, "overlap": "allow" }),
    )
    .await;
    let first = made["next_fire_at"].as_i64().unwrap();
    let a = Scheduler::new(app.store.clone(), app.engine.clone());
    let b = Scheduler::new(other.store.clone(), other.engine.clone());
    let mut started = 0;
    for minute in 0..30 {
        // Both instances tick at the same simulated instant, twice, racing each other.
        let now = first + minute * 60_000 + 500;
        let (x, y, z, w) = tokio::join!(a.tick(now), b.tick(now), a.tick(now), b.tick(now));
        started +=
            x.unwrap().started + y.unwrap().started + z.unwrap().started + w.unwrap().started;
    }
    assert_eq!(started, 30);
    let ran = fired(&app, &c, &flow).await;
    assert_eq!(ran.len(), 30);
    let expected: Vec<String> = (0..30).map(|m| iso(first + m * 60_000)).collect();
    assert_eq!(ran, expected, "one run per simulated minute");
}

#[tokio::test]
async fn schedules_are_previewed_in_words_validated_by_field_and_kept_to_their_owner() {
    let app = spawn_app_with(QUIET).await;
    let c = app.signed_in_client("words@example.com").await;
    let res = c
        .post(app.url("/api/v1/schedules/preview"))
        .json(&json!({ "name": "x", "rule": { "kind": "every", "count": 13, "unit": "hours" }, "timezone": "Europe/Berlin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let preview = json(res).await["data"].clone();
    assert_eq!(preview["description"], "every 13 hours");
    let upcoming = preview["upcoming"].as_array().unwrap();
    assert_eq!(upcoming.len(), 5);
    let gap = upcoming[1]["at"].as_i64().unwrap() - upcoming[0]["at"].as_i64().unwrap();
    assert_eq!(gap, 13 * 3_600_000);
    assert!(
        upcoming[0]["local"].as_str().unwrap().ends_with("CET"),
        "{preview}"
    );
    let res = c
        .post(app.url("/api/v1/schedules/preview"))
        .json(&json!({ "name": "x", "rule": { "kind": "cron", "expression": "0 9 * * 1-5" }, "timezone": "America/New_York" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(res).await["data"]["description"],
        "at 09:00 on Monday to Friday"
    );

    let flow = workflow(&app, &c).await;
    for (spec, field) in [
        (
            json!({ "name": "", "rule": { "kind": "every", "count": 1, "unit": "hours" } }),
            "name",
        ),
        (
            json!({ "name": "x", "rule": { "kind": "cron", "expression": "61 * * * *" } }),
            "rule.expression",
        ),
        (
            json!({ "name": "x", "rule": { "kind": "cron", "expression": "0 0 31 2 *" } }),
            "rule.expression",
        ),
        (
            json!({ "name": "x", "rule": { "kind": "every", "count": 0, "unit": "minutes" } }),
            "rule.count",
        ),
        (
            json!({ "name": "x", "rule": { "kind": "every", "count": 1, "unit": "hours" }, "timezone": "Mars/Olympus" }),
            "timezone",
        ),
        (
            json!({ "name": "x", "rule": { "kind": "every", "count": 1, "unit": "hours" }, "input": [1] }),
            "input",
        ),
        (
            json!({ "name": "x", "rule": { "kind": "every", "count": 1, "unit": "hours" }, "catch_up_window_secs": 1 }),
            "catch_up_window_secs",
        ),
    ] {
        let res = c
            .post(app.url(&format!("/api/v1/workflows/{flow}/schedules")))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{spec}");
        let body = json(res).await;
        assert!(
            body["error"]["details"].to_string().contains(field),
            "{field}: {body}"
        );
    }

    let made = schedule(
        &app,
        &c,
        &flow,
        json!({ "name": "Nightly", "rule": { "kind": "cron", "expression": "0 2 * * *" }, "timezone": "Europe/Berlin", "input": { "depth": 2 } }),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["description"], "at 02:00");
    assert_eq!(made["upcoming"].as_array().unwrap().len(), 3);
    assert_eq!(made["overlap"], "skip");
    assert_eq!(made["catch_up"], "none");

    // Disabled: no next fire, and the scheduler leaves it alone.
    let res = c
        .put(app.url(&format!("/api/v1/schedules/{id}")))
        .json(&json!({ "name": "Nightly", "rule": { "kind": "cron", "expression": "0 2 * * *" }, "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let shown = show(&app, &c, &id).await;
    assert_eq!(shown["enabled"], false);
    assert_eq!(shown["next_fire_at"], Value::Null);
    let scheduler = Scheduler::new(app.store.clone(), app.engine.clone());
    let later = made["next_fire_at"].as_i64().unwrap() + 86_400_000;
    assert_eq!(scheduler.tick(later).await.unwrap(), Default::default());

    let eve = app.signed_in_client("eve@example.com").await;
    for req in [
        eve.get(app.url(&format!("/api/v1/schedules/{id}"))),
        eve.get(app.url(&format!("/api/v1/workflows/{flow}/schedules"))),
        eve.delete(app.url(&format!("/api/v1/schedules/{id}"))),
    ] {
        assert_eq!(req.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    let res = c
        .delete(app.url(&format!("/api/v1/schedules/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    for action in ["schedule.create", "schedule.update", "schedule.delete"] {
        assert!(actions.iter().any(|a| a == action), "{action}");
    }
}
