//! Every step type run end to end by the server's own runners, through the REST API, on
//! SQLite or PostgreSQL. Steps call a local HTTP server whose counters prove what ran.

mod common;

use common::upstream::Upstream;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// An app whose `http` steps may reach loopback and whose `llm` steps use `upstream`.
async fn app_with(upstream: &Upstream) -> TestApp {
    let llm = format!("{}/v1", upstream.url);
    spawn_app_with(&[
        ("AURA_HTTP_ALLOW", "127.0.0.1"),
        ("AURA_LLM_BASE_URL", &llm),
        ("AURA_LLM_API_KEY", "sk-test"),
        ("AURA_WORKERS", "2"),
    ])
    .await
}

fn fast_retry(max_attempts: u32) -> Value {
    json!({ "max_attempts": max_attempts, "initial_interval_ms": 10, "backoff_coefficient": 2.0, "max_interval_ms": 50 })
}

async fn events(app: &TestApp, c: &Client, run: &str) -> Vec<Value> {
    // The stream stays open; read what the replay sends within a short window.
    let mut res = c
        .get(app.url(&format!("/api/v1/runs/{run}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_millis(400);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(
        deadline.saturating_duration_since(Instant::now()),
        res.chunk(),
    )
    .await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn log_of(events: &[Value], step: &str) -> String {
    events
        .iter()
        .filter(|e| e["kind"] == "step_log" && e["step_id"] == step)
        .map(|e| e["detail"]["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn script_http_and_template_steps_pass_data_downstream() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let (run, data) = app.run_once(&c, json!([
                { "id": "fetch", "type": "http", "config": { "method": "GET", "url": format!("{}/count/{{{{ input.who }}}}", upstream.url) }, "next": [{ "to": "shape" }] },
                { "id": "shape", "type": "script", "config": { "code": "console.log('calls', steps.fetch.output.body.calls); return { who: steps.fetch.output.body.name, twice: steps.fetch.output.body.calls * 2 };" }, "next": [{ "to": "say" }] },
                { "id": "say", "type": "template", "config": { "template": "{{ steps.shape.output.who }} x{{ steps.shape.output.twice }}" } }
            ]), json!({ "who": "ada" })).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let steps = steps_by_id(&data);
    assert_eq!(steps["fetch"]["output"]["status"], 200);
    assert_eq!(steps["say"]["output"], "ada x2");
    assert_eq!(upstream.calls("ada"), 1);
    let events = events(&app, &c, &run).await;
    assert_eq!(log_of(&events, "shape"), "calls 1\n");
    assert!(log_of(&events, "fetch").contains("GET http://127.0.0.1"));
    assert_eq!(events.last().unwrap()["kind"], "run_succeeded");
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "monotonic ids: {ids:?}"
    );
}

#[tokio::test]
async fn a_map_runs_a_sub_step_over_50_items_in_order() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let (_, data) = app.run_once(&c, json!([
                { "id": "items", "type": "script", "config": { "code": "return Array.from({length: 50}, (_, i) => i);" }, "next": [{ "to": "each" }] },
                { "id": "each", "type": "map", "config": {
                    "items": "steps.items.output", "concurrency": 8,
                    "step": { "type": "http", "config": { "method": "GET", "url": format!("{}/count/item-{{{{ item }}}}", upstream.url) } }
                } }
            ]), json!({})).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let out = steps_by_id(&data)["each"]["output"].clone();
    let names: Vec<String> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["body"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        (0..50).map(|i| format!("item-{i}")).collect::<Vec<_>>()
    );
    assert!((0..50).all(|i| upstream.calls(&format!("item-{i}")) == 1));
}

#[tokio::test]
async fn retries_back_off_then_succeed_or_run_out() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let step = |name: &str, failures: u32, attempts: u32| {
        json!([{ "id": "call", "type": "http", "retry": fast_retry(attempts),
                 "config": { "method": "GET", "url": format!("{}/flaky/{name}/{failures}", upstream.url) } }])
    };
    let (run, data) = app.run_once(&c, step("recovers", 2, 3), json!({})).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    assert_eq!(steps_by_id(&data)["call"]["attempt"], 3);
    assert_eq!(upstream.calls("recovers"), 3);
    let retried = events(&app, &c, &run)
        .await
        .iter()
        .filter(|e| e["kind"] == "step_retrying")
        .count();
    assert_eq!(retried, 2);

    let doomed = app.create_workflow(&c, step("doomed", 99, 2)).await;
    let run = app.start_run(&c, &doomed, json!({})).await;
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "failed");
    let call = &steps_by_id(&data)["call"];
    assert_eq!(call["status"], "failed");
    assert_eq!(call["attempt"], 2);
    assert!(call["error"].as_str().unwrap().contains("503"), "{call}");
    assert_eq!(upstream.calls("doomed"), 2);
}

#[tokio::test]
async fn steps_time_out_and_scripts_are_stopped_by_their_limits() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let once = fast_retry(1);
    for (name, step, expected) in [
        (
            "slow http",
            json!({ "id": "s", "type": "http", "timeout_ms": 200, "retry": once,
            "config": { "method": "GET", "url": format!("{}/slow/5000", upstream.url) } }),
            "longer than its 200 ms timeout",
        ),
        (
            "infinite loop",
            json!({ "id": "s", "type": "script", "timeout_ms": 300, "retry": once,
            "config": { "code": "while (true) {}" } }),
            "longer than its 300 ms limit",
        ),
        (
            "memory bomb",
            json!({ "id": "s", "type": "script", "retry": once,
            "config": { "code": "const a = []; while (true) a.push(new Array(1e6).fill(1));", "memory_limit_mb": 16 } }),
            "more than its 16 MB memory limit",
        ),
    ] {
        let wf = app.create_workflow(&c, json!([step])).await;
        let started = Instant::now();
        let run = app.start_run(&c, &wf, json!({})).await;
        let data = app.finished_run(&c, &run).await;
        assert_eq!(data["run"]["status"], "failed", "{name}: {data}");
        let error = steps_by_id(&data)["s"]["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name} took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn cancelling_stops_a_running_step_and_resume_reuses_finished_work() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let wf = app
        .create_workflow(
            &c,
            json!([
                { "id": "first", "type": "http", "config": { "method": "GET", "url": format!("{}/count/first", upstream.url) }, "next": [{ "to": "spin" }] },
                { "id": "spin", "type": "script", "timeout_ms": 60000, "config": { "code": "if (input.spin) { while (true) {} } return 'quick';" }, "next": [{ "to": "last" }] },
                { "id": "last", "type": "http", "config": { "method": "GET", "url": format!("{}/count/last", upstream.url) } }
            ]),
        )
        .await;
    let run = app.start_run(&c, &wf, json!({ "spin": true })).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while steps_by_id(&app.run(&c, &run).await)["spin"]["status"] != "running" {
        assert!(Instant::now() < deadline, "spin never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancel_url = app.url(&format!("/api/v1/runs/{run}/cancel"));
    let res = c.post(&cancel_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "cancelled");
    let steps = steps_by_id(&data);
    assert_eq!(steps["first"]["status"], "succeeded");
    assert_eq!(steps["spin"]["status"], "cancelled");
    assert_eq!(steps["last"]["status"], "cancelled");
    // Cancelling twice is refused with a clear reason.
    let res = c.post(&cancel_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        json(res).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already ended")
    );

    // A cancelled run resumes; it still spins (same input), so cancel it again, then
    // show resume after a failure with the fail-once endpoint below.
    let (run, data) = app.run_once(&c, json!([
                { "id": "first", "type": "http", "config": { "method": "GET", "url": format!("{}/count/paid", upstream.url) }, "next": [{ "to": "flaky" }] },
                { "id": "flaky", "type": "http", "config": { "method": "GET", "url": format!("{}/fail-once/flaky", upstream.url) }, "next": [{ "to": "after" }] },
                { "id": "after", "type": "template", "config": { "template": "{{ steps.first.output.body.calls }}" } }
            ]), json!({})).await;
    assert_eq!(data["run"]["status"], "failed");
    assert_eq!(steps_by_id(&data)["after"]["status"], "cancelled");
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/resume")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    assert_eq!(steps_by_id(&data)["after"]["output"], "1");
    assert_eq!(
        upstream.calls("paid"),
        1,
        "the succeeded step did not run again"
    );
    assert_eq!(upstream.calls("flaky"), 2);
    let res = c
        .post(app.url(&format!("/api/v1/runs/{run}/resume")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn http_steps_refuse_internal_addresses_by_default() {
    let upstream = Upstream::start().await;
    let app = spawn_app_with(&[("AURA_WORKERS", "1")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    for url in [
        format!("{}/count/never", upstream.url),
        "http://10.0.0.1/".to_owned(),
        "http://localhost:9/".to_owned(),
    ] {
        let (_, data) = app.run_once(&c, json!([{ "id": "call", "type": "http", "config": { "method": "GET", "url": url } }]), json!({})).await;
        let call = &steps_by_id(&data)["call"];
        assert_eq!(call["status"], "failed", "{url}: {call}");
        assert!(
            call["error"].as_str().unwrap().contains("Request refused"),
            "{url}: {call}"
        );
        assert_eq!(call["attempt"], 1, "a refusal is not retried");
    }
    assert_eq!(upstream.calls("never"), 0);
}

#[tokio::test]
async fn redirects_are_checked_hop_by_hop_and_responses_are_capped() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let once = fast_retry(1);
    let cases = [
        (
            format!("{}/redirect?to=http://10.0.0.1/", upstream.url),
            "10.0.0.1 is a private address",
        ),
        (
            format!("{}/big/5000", upstream.url),
            "larger than the 1000-byte cap",
        ),
    ];
    for (url, expected) in cases {
        let wf = app
            .create_workflow(
                &c,
                json!([{ "id": "call", "type": "http", "retry": once,
                "config": { "method": "GET", "url": url, "max_response_bytes": 1000 } }]),
            )
            .await;
        let run = app.start_run(&c, &wf, json!({})).await;
        let data = app.finished_run(&c, &run).await;
        let error = steps_by_id(&data)["call"]["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains(expected), "{error}");
    }
    let (_, data) = app.run_once(&c, json!([{ "id": "call", "type": "http",
            "config": { "method": "GET", "url": format!("{}/redirect?to=/count/redirected", upstream.url) } }]), json!({})).await;
    assert_eq!(
        steps_by_id(&data)["call"]["output"]["body"]["name"],
        "redirected"
    );
}

#[tokio::test]
async fn llm_steps_stream_tokens_into_the_log_and_store_usage() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let wf = app
        .create_workflow(
            &c,
            json!([{ "id": "ask", "type": "llm", "config": {
                "model": "gpt-test", "system": "Be brief.", "prompt": "{{ input.name }}", "temperature": 0.2
            } }]),
        )
        .await;
    let run = app.start_run(&c, &wf, json!({ "name": "Ada" })).await;
    let data = app.finished_run(&c, &run).await;
    assert_eq!(data["run"]["status"], "succeeded", "{data}");
    let ask = &steps_by_id(&data)["ask"];
    assert_eq!(ask["output"]["text"], "Hello, Ada!");
    assert_eq!(ask["output"]["model"], "test-model-1");
    assert_eq!(ask["output"]["stop_reason"], "end_turn");
    assert_eq!(ask["output"]["target"], "openai/gpt-test");
    assert_eq!(
        ask["usage"],
        json!({ "input_tokens": 7, "output_tokens": 3 })
    );
    assert_eq!(
        log_of(&events(&app, &c, &run).await, "ask"),
        "Hello, Ada!\n[answered by openai/gpt-test]\n"
    );
    let sent = &upstream.chats()[0];
    assert_eq!(sent["authorization"], "Bearer sk-test");
    assert_eq!(sent["body"]["stream"], true);
    assert_eq!(
        sent["body"]["messages"][0],
        json!({ "role": "system", "content": "Be brief." })
    );
    assert_eq!(sent["body"]["temperature"], 0.2);

    for (model, expected, attempts) in [
        ("missing", "The model `missing` does not exist", 1),
        ("overloaded", "503", 2),
    ] {
        let (run, data) = app
            .run_once(
                &c,
                json!([{ "id": "ask", "type": "llm", "retry": fast_retry(2),
                "config": { "model": model, "prompt": "hi" } }]),
                json!({}),
            )
            .await;
        let ask = &steps_by_id(&data)["ask"];
        assert_eq!(ask["status"], "failed");
        assert!(ask["error"].as_str().unwrap().contains(expected), "{ask}");
        assert_eq!(
            ask["attempt"], attempts,
            "{model}: client errors are not retried, 503s are"
        );
        // Each failed try is in the step log, with what happens next.
        let log = log_of(&events(&app, &c, &run).await, "ask");
        assert!(
            log.contains(&format!("[openai/{model} failed: ")),
            "{model}: {log}"
        );
        if model == "overloaded" {
            assert!(
                log.contains("server error (503)") && log.contains("trying it again in"),
                "{log}"
            );
        }
    }
}

#[tokio::test]
async fn runs_are_listed_with_filters_and_hidden_from_other_users() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let good = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "ok" } }]),
        )
        .await;
    let bad = app
        .create_workflow(&c, json!([{ "id": "t", "type": "template", "config": { "template": "{{ input.nope }}" } }]))
        .await;
    let mut ids = Vec::new();
    for wf in [&good, &good, &bad] {
        let run = app.start_run(&c, wf, json!({})).await;
        app.finished_run(&c, &run).await;
        ids.push(run);
    }
    let list = |query: &str| {
        let url = app.url(&format!("/api/v1/runs{query}"));
        let c = c.clone();
        async move {
            let res = c.get(url).send().await.unwrap();
            (res.status(), json(res).await)
        }
    };
    let (_, all) = list("").await;
    let listed: Vec<&str> = all["data"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![ids[2].as_str(), ids[1].as_str(), ids[0].as_str()],
        "newest first"
    );
    let (_, failed) = list("?status=failed").await;
    assert_eq!(failed["data"]["runs"].as_array().unwrap().len(), 1);
    let (_, by_wf) = list(&format!("?workflow_id={good}&limit=1")).await;
    assert_eq!(by_wf["data"]["runs"][0]["id"], ids[1].as_str());
    let cursor = by_wf["data"]["next_cursor"].as_str().unwrap().to_owned();
    let (_, page2) = list(&format!("?workflow_id={good}&limit=1&cursor={cursor}")).await;
    assert_eq!(page2["data"]["runs"][0]["id"], ids[0].as_str());
    // The Runs page's server function: by workflow, after the same cursor.
    let runs_page = |workflow: &str, cursor: &str| {
        let form = [("status", ""), ("workflow", workflow), ("cursor", cursor)];
        c.post(app.url("/api/runs/list")).form(&form).send()
    };
    let res = runs_page(&good, "").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = json(res).await;
    let listed: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![ids[1].as_str(), ids[0].as_str()]);
    assert_eq!(page["next_cursor"], Value::Null, "fewer than a page");
    let page = json(runs_page(&good, &cursor).await.unwrap()).await;
    assert_eq!(page["runs"][0]["id"], ids[0].as_str());
    assert_eq!(page["runs"].as_array().unwrap().len(), 1);
    let res = runs_page("", "not-a-cursor").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for (query, field) in [
        ("?status=done", "status"),
        ("?limit=0", "limit"),
        ("?cursor=x", "cursor"),
    ] {
        let (status, body) = list(query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(body["error"]["details"][0]["field"], field);
    }
    let res = c
        .post(app.url(&format!("/api/v1/workflows/{good}/runs")))
        .json(&json!({ "input": [1, 2] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["error"]["details"][0]["field"], "input");

    let other = app.signed_in_client("grace@example.com").await;
    for path in [
        format!("/api/v1/runs/{}", ids[0]),
        format!("/api/v1/runs/{}/events", ids[0]),
    ] {
        let res = other.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let res = other
        .post(app.url(&format!("/api/v1/runs/{}/cancel", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, mine) = (
        StatusCode::OK,
        json(other.get(app.url("/api/v1/runs")).send().await.unwrap()).await,
    );
    assert_eq!(mine["data"]["runs"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_event_stream_replays_from_last_event_id_then_goes_live() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let c = app.signed_in_client("ada@example.com").await;
    let wf = app
        .create_workflow(
            &c,
            json!([
                { "id": "wait", "type": "http", "config": { "method": "GET", "url": format!("{}/slow/300", upstream.url) }, "next": [{ "to": "done" }] },
                { "id": "done", "type": "template", "config": { "template": "ok" } }
            ]),
        )
        .await;
    let run = app.start_run(&c, &wf, json!({})).await;
    // Follow live from the start, reading until the run ends.
    let mut res = c
        .get(app.url(&format!("/api/v1/runs/{run}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text.contains("event: run_succeeded") {
        assert!(Instant::now() < deadline, "no run_succeeded in: {text}");
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(1), res.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let ids: Vec<i64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|i| i.parse().unwrap())
        .collect();
    assert!(ids.len() >= 5, "{text}");
    // Reconnecting with Last-Event-ID replays only what came after it.
    let mut again = c
        .get(app.url(&format!("/api/v1/runs/{run}/events")))
        .header("Last-Event-ID", ids[2].to_string())
        .send()
        .await
        .unwrap();
    let mut replay = String::new();
    while !replay.contains("event: run_succeeded") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), again.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        replay.push_str(&String::from_utf8_lossy(&chunk));
    }
    let replayed: Vec<i64> = replay
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|i| i.parse().unwrap())
        .collect();
    assert_eq!(replayed, ids[3..].to_vec());
    let res = c
        .get(app.url(&format!("/api/v1/runs/{run}/events")))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
