//! Durable runs on SQLite or PostgreSQL: ordering, branches, failures, leases, and two
//! runners sharing one queue.

mod common;

use aura_engine::{Runner, RunnerConfig, WorkflowDefinition, WorkflowInput, Workflows};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn owner(app: &TestApp) -> aura_store::Principal {
    user(app, "ada@example.com").await
}

async fn user(app: &TestApp, email: &str) -> aura_store::Principal {
    let user = aura_store::NewUser {
        email: email.into(),
        display_name: "Ada".into(),
        password_hash: "x".into(),
    };
    let audit = aura_store::NewAuditEvent {
        action: "auth.sign_up".into(),
        ..Default::default()
    };
    let user = app.store.create_user(&user, audit).await.unwrap();
    aura_store::Principal::session(user, aura_store::Origin::default())
}

async fn workflow(app: &TestApp, owner: &aura_store::Principal, steps: Value) -> String {
    let definition: WorkflowDefinition = serde_json::from_value(json!({ "steps": steps })).unwrap();
    let input = WorkflowInput {
        name: "Test".into(),
        description: String::new(),
        definition,
        layout: None,
    };
    Workflows::new(app.store.clone())
        .create(owner, &input)
        .await
        .unwrap()
        .id
}

fn runner(app: &TestApp, name: &str) -> Runner {
    let mut config = RunnerConfig::new(name);
    config.poll_interval = Duration::from_millis(5);
    app.engine.runner(config)
}

/// The app without its own runners: these tests drive runners by hand.
async fn app() -> TestApp {
    spawn_app_with(&[("AURA_WORKERS", "0")]).await
}

async fn drain(runner: &Runner) {
    while runner.run_one().await.unwrap() {}
}

async fn statuses(app: &TestApp, run_id: &str) -> Vec<(String, String)> {
    let mut steps: Vec<(String, String)> = app
        .store
        .step_runs(run_id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.step_id, s.status.to_string()))
        .collect();
    steps.sort();
    steps
}

#[tokio::test]
async fn a_linear_run_passes_outputs_downstream_and_succeeds() {
    let app = app().await;
    let owner = owner(&app).await;
    let id = workflow(&app, &owner, json!([
        { "id": "greet", "type": "template", "config": { "template": "Hello {{ input.name }}" }, "next": [{ "to": "shout" }] },
        { "id": "shout", "type": "template", "config": { "template": "{{ steps.greet.output | upper }}" }, "next": [{ "to": "both" }] },
        { "id": "both", "type": "template",
          "config": { "template": "{\"quiet\": \"{{ steps.greet.output }}\", \"loud\": \"{{ steps.shout.output }}\"}", "json": true } }
    ])).await;
    let runner = runner(&app, "w1");
    let run = runner
        .engine()
        .start(&owner, &id, &json!({ "name": "Ada" }))
        .await
        .unwrap();
    assert_eq!(run.status, "queued");
    drain(&runner).await;

    let run = app.store.find_run(&run.id).await.unwrap().unwrap();
    assert_eq!(run.status, "succeeded");
    let steps = app.store.step_runs(&run.id).await.unwrap();
    let both = steps.iter().find(|s| s.step_id == "both").unwrap();
    let output: Value = serde_json::from_str(both.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({ "quiet": "Hello Ada", "loud": "HELLO ADA" }));
    assert!(steps.iter().all(|s| s.attempt == 1));
    // The run's output is its one ending step's.
    let detail = runner
        .engine()
        .run_with_steps(&owner, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.output, Some(output));

    let kinds: Vec<String> = app
        .store
        .run_events(&run.id, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("run_queued"));
    assert_eq!(kinds.last().map(String::as_str), Some("run_succeeded"));
    assert_eq!(kinds.iter().filter(|k| *k == "step_succeeded").count(), 3);
}

#[tokio::test]
async fn a_condition_runs_one_branch_and_skips_everything_only_the_other_leads_to() {
    let app = app().await;
    let owner = owner(&app).await;
    let id = workflow(&app, &owner, json!([
        { "id": "check", "type": "condition", "config": { "expression": "input.size > 10" },
          "next": [{ "to": "big", "branch": "true" }, { "to": "small", "branch": "false" }] },
        { "id": "big", "type": "template", "config": { "template": "big" }, "next": [{ "to": "big_more" }, { "to": "report" }] },
        { "id": "big_more", "type": "template", "config": { "template": "more" } },
        { "id": "small", "type": "template", "config": { "template": "small" }, "next": [{ "to": "report" }] },
        { "id": "report", "type": "template", "config": { "template": "done" } }
    ])).await;
    let runner = runner(&app, "w1");
    let run = runner
        .engine()
        .start(&owner, &id, &json!({ "size": 3 }))
        .await
        .unwrap();
    drain(&runner).await;

    assert_eq!(
        app.store.find_run(&run.id).await.unwrap().unwrap().status,
        "succeeded"
    );
    assert_eq!(
        statuses(&app, &run.id).await,
        vec![
            ("big".into(), "skipped".into()),
            ("big_more".into(), "skipped".into()),
            ("check".into(), "succeeded".into()),
            ("report".into(), "succeeded".into()),
            ("small".into(), "succeeded".into()),
        ]
    );
    // Only the ending step that ran makes the output (`big_more` was skipped) ...
    let detail = runner
        .engine()
        .run_with_steps(&owner, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.output, Some(json!("done")));
    // ... and two that ran make an object by step id.
    let run = runner
        .engine()
        .start(&owner, &id, &json!({ "size": 30 }))
        .await
        .unwrap();
    drain(&runner).await;
    let detail = runner
        .engine()
        .run_with_steps(&owner, &run.id)
        .await
        .unwrap();
    assert_eq!(
        detail.output,
        Some(json!({ "big_more": "more", "report": "done" }))
    );
}

#[tokio::test]
async fn a_step_that_cannot_succeed_fails_the_run_and_cancels_what_had_not_started() {
    let app = app().await;
    let owner = owner(&app).await;
    let id = workflow(&app, &owner, json!([
        { "id": "first", "type": "template", "config": { "template": "{{ input.missing }}" }, "next": [{ "to": "second" }],
          "retry": { "max_attempts": 3 } },
        { "id": "second", "type": "template", "config": { "template": "never" } }
    ])).await;
    let runner = runner(&app, "w1");
    let run = runner
        .engine()
        .start(&owner, &id, &json!({}))
        .await
        .unwrap();
    drain(&runner).await;

    let run = app.store.find_run(&run.id).await.unwrap().unwrap();
    assert_eq!(run.status, "failed");
    let detail = runner
        .engine()
        .run_with_steps(&owner, &run.id)
        .await
        .unwrap();
    assert_eq!(detail.output, None, "a failed run has no output");
    let steps = app.store.step_runs(&run.id).await.unwrap();
    let first = steps.iter().find(|s| s.step_id == "first").unwrap();
    assert_eq!(
        (first.status.as_str(), first.attempt),
        ("failed", 1),
        "a template error is not retried"
    );
    assert!(
        first.error.as_deref().unwrap().contains("undefined"),
        "{:?}",
        first.error
    );
    assert_eq!(
        statuses(&app, &run.id).await[1],
        ("second".into(), "cancelled".into())
    );
}

#[tokio::test]
async fn an_expired_lease_puts_the_step_back_and_fences_the_old_worker() {
    let app = app().await;
    let owner = owner(&app).await;
    let id = workflow(
        &app,
        &owner,
        json!([
            { "id": "only", "type": "template", "config": { "template": "ok" } }
        ]),
    )
    .await;
    let runner = runner(&app, "w-live");
    let run = runner
        .engine()
        .start(&owner, &id, &json!({}))
        .await
        .unwrap();

    // A worker claims the step and dies: its lease runs out.
    let dead = app
        .store
        .claim_step("w-dead", 1, 2)
        .await
        .unwrap()
        .expect("a step is ready")
        .step;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(app.store.requeue_expired_leases().await.unwrap(), 1);
    drain(&runner).await;

    let steps = app.store.step_runs(&run.id).await.unwrap();
    assert_eq!(
        (steps[0].status.as_str(), steps[0].attempt),
        ("succeeded", 2),
        "the attempt count shows the re-run"
    );
    // The dead worker waking up cannot overwrite the result.
    let successors = std::collections::HashMap::new();
    let outcome = aura_store::StepOutcome {
        edges: vec![],
        successors: &successors,
    };
    assert_eq!(
        app.store
            .complete_step(&dead, "w-dead", "\"late\"", None, &outcome, None)
            .await
            .unwrap(),
        Ok(false)
    );
    assert!(!app.store.heartbeat(&dead, "w-dead", 1_000).await.unwrap());
    let steps = app.store.step_runs(&run.id).await.unwrap();
    assert_eq!(steps[0].output.as_deref(), Some("\"ok\""));
}

#[tokio::test]
async fn two_runners_share_the_queue_and_never_run_a_step_twice() {
    let app = app().await;
    let owner = owner(&app).await;
    let id = workflow(&app, &owner, json!([
        { "id": "a", "type": "template", "config": { "template": "{{ input.n }}" }, "next": [{ "to": "b" }] },
        { "id": "b", "type": "template", "config": { "template": "{{ steps.a.output }}!" } }
    ])).await;
    let first = runner(&app, "w1");
    let second = runner(&app, "w2");
    let mut runs = Vec::new();
    for n in 0..30 {
        runs.push(
            first
                .engine()
                .start(&owner, &id, &json!({ "n": n }))
                .await
                .unwrap()
                .id,
        );
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let spawn = |runner: Runner| {
        let mut stop = stop_rx.clone();
        tokio::spawn(runner.work(async move {
            let _ = stop.wait_for(|s| *s).await;
        }))
    };
    let workers = [spawn(first), spawn(second)];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for run in &runs {
        loop {
            let status = app.store.find_run(run).await.unwrap().unwrap().status;
            if status == "succeeded" {
                break;
            }
            assert!(
                status != "failed" && tokio::time::Instant::now() < deadline,
                "run {run} is {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    stop_tx.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let mut by_worker = std::collections::HashMap::new();
    for (n, run) in runs.iter().enumerate() {
        let events = app.store.run_events(run, 0).await.unwrap();
        let starts: Vec<_> = events.iter().filter(|e| e.kind == "step_started").collect();
        assert_eq!(
            starts.len(),
            2,
            "each of the two steps started exactly once"
        );
        for start in starts {
            let detail: Value = serde_json::from_str(start.detail.as_deref().unwrap()).unwrap();
            *by_worker
                .entry(detail["worker"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
        let b = app
            .store
            .step_runs(run)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.step_id == "b")
            .unwrap();
        assert_eq!(b.output, Some(format!("\"{n}!\"")));
    }
    assert_eq!(by_worker.values().sum::<i32>(), 60);
}

#[tokio::test]
async fn parallel_last_steps_finishing_together_still_close_the_run() {
    let app = app().await;
    let owner = owner(&app).await;
    // A fan-out to two last steps: whichever finishes last must see the other and end the run.
    let id = workflow(
        &app,
        &owner,
        json!([
            { "id": "root", "type": "template", "config": { "template": "go" }, "next": [{ "to": "left" }, { "to": "right" }] },
            { "id": "left", "type": "template", "config": { "template": "l" } },
            { "id": "right", "type": "template", "config": { "template": "r" } }
        ]),
    )
    .await;
    let first = runner(&app, "w1");
    let second = runner(&app, "w2");
    let mut runs = Vec::new();
    for _ in 0..40 {
        runs.push(
            first
                .engine()
                .start(&owner, &id, &json!({}))
                .await
                .unwrap()
                .id,
        );
    }
    let (a, b) = (first.clone(), second.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { while a.run_one().await.unwrap() {} }),
        tokio::spawn(async move { while b.run_one().await.unwrap() {} })
    );
    ra.unwrap();
    rb.unwrap();
    for run in runs {
        let status = app.store.find_run(&run).await.unwrap().unwrap().status;
        assert_eq!(status, "succeeded", "run {run}");
    }
}

/// A step whose worker keeps dying (its lease expires every time) uses up its attempts
/// and fails, even across restarts: the count lives in the database, not in the process.
#[tokio::test]
async fn a_step_whose_lease_keeps_expiring_fails_after_its_attempts_across_restarts() {
    let app = app().await;
    let owner = owner(&app).await;
    let id = workflow(
        &app,
        &owner,
        json!([
            { "id": "poison", "type": "template", "config": { "template": "x" },
              "retry": { "max_attempts": 3 }, "next": [{ "to": "after" }] },
            { "id": "after", "type": "template", "config": { "template": "y" } }
        ]),
    )
    .await;
    let run = app.engine.start(&owner, &id, &json!({})).await.unwrap();
    let url = app.database_url.clone();
    for attempt in 1..=3 {
        // Each "process" connects afresh, claims the step and dies holding its lease.
        let store = aura_store::Store::connect(&url, &Default::default())
            .await
            .unwrap();
        let claim = store
            .claim_step(&format!("w-{attempt}"), 1, 2)
            .await
            .unwrap()
            .expect("the step is ready again");
        assert_eq!(
            (claim.step.step_id.as_str(), claim.step.attempt),
            ("poison", attempt)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(store.requeue_expired_leases().await.unwrap(), 1);
        store.close().await;
    }
    assert!(
        app.store
            .claim_step("w-4", 1_000, 2)
            .await
            .unwrap()
            .is_none(),
        "never again"
    );
    let run = app.store.find_run(&run.id).await.unwrap().unwrap();
    assert_eq!(run.status, "failed");
    let steps = app.store.step_runs(&run.id).await.unwrap();
    let poison = steps.iter().find(|s| s.step_id == "poison").unwrap();
    assert_eq!((poison.status.as_str(), poison.attempt), ("failed", 3));
    let error = poison.error.as_deref().unwrap();
    assert!(error.contains("was lost 3 times"), "{error}");
    let after = steps.iter().find(|s| s.step_id == "after").unwrap();
    assert_eq!(after.status, "cancelled");
    let events = app.store.run_events(&run.id, 0).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "step_retrying").count(),
        2,
        "{kinds:?}"
    );
    assert!(kinds.ends_with(&["step_failed", "run_failed"]), "{kinds:?}");
}

/// One user's backlog cannot starve another: the claim picks the user with the fewest
/// running steps (oldest first within a user) and skips users at the cap.
#[tokio::test]
async fn claims_are_fair_between_users_and_capped_per_user() {
    let app = app().await;
    let busy = user(&app, "busy@example.com").await;
    let quiet = user(&app, "quiet@example.com").await;
    let steps = json!([{ "id": "t", "type": "template", "config": { "template": "x" } }]);
    let busy_flow = workflow(&app, &busy, steps.clone()).await;
    let quiet_flow = workflow(&app, &quiet, steps).await;
    let mut busy_runs = Vec::new();
    for _ in 0..10 {
        busy_runs.push(
            app.engine
                .start(&busy, &busy_flow, &json!({}))
                .await
                .unwrap()
                .id,
        );
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let quiet_run = app
        .engine
        .start(&quiet, &quiet_flow, &json!({}))
        .await
        .unwrap()
        .id;

    let claim = |n: u32| {
        let store = app.store.clone();
        async move {
            store
                .claim_step(&format!("w{n}"), 60_000, 2)
                .await
                .unwrap()
                .map(|c| c.step.run_id)
        }
    };
    // The busy user's oldest run first, then the quiet user (fewer running), then busy
    // again up to its cap of two, then nothing: the rest of the backlog waits.
    assert_eq!(claim(1).await.as_deref(), Some(busy_runs[0].as_str()));
    assert_eq!(claim(2).await.as_deref(), Some(quiet_run.as_str()));
    assert_eq!(claim(3).await.as_deref(), Some(busy_runs[1].as_str()));
    assert_eq!(claim(4).await, None, "the busy user is at its cap");
}
