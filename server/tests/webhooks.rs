//! Webhook triggers over HTTP, on SQLite or PostgreSQL: signed deliveries start runs with
//! the request as input; bad signatures, replays and oversized bodies are refused and
//! start nothing; sync mode answers with a step's output or falls back to 202; the hook
//! takes cookie-less cross-origin posts while the CSRF rule still guards the rest.

mod common;

use common::upstream::Upstream;
use common::*;
use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "It's a Secret to Everybody, really";

fn sign(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Makes a webhook on `workflow`; returns (its view, its URL).
async fn webhook(app: &TestApp, c: &Client, workflow: &str, spec: Value) -> (Value, String) {
    let res = c
        .post(app.url(&format!("/api/v1/workflows/{workflow}/webhooks")))
        .json(&spec)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = json(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let url = body["data"]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.address), "{url}");
    (body["data"].clone(), url)
}

/// A bare client: no cookies, no session, like GitHub's.
fn outsider() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn runs_of(app: &TestApp, c: &Client, workflow: &str) -> Vec<Value> {
    let res = c
        .get(app.url(&format!("/api/v1/runs?workflow_id={workflow}")))
        .send()
        .await
        .unwrap();
    json(res).await["data"]["runs"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_github_signed_delivery_starts_a_run_with_the_request_as_input() {
    let app = spawn_app().await;
    let c = app.signed_in_client("hooks@example.com").await;
    let workflow = app
        .create_workflow(
            &c,
            json!([{ "id": "say", "type": "template", "config": { "template": "{{ input.body.action }} by {{ input.body.sender.login }}" } }]),
        )
        .await;
    let (hook, url) = webhook(
        &app,
        &c,
        &workflow,
        json!({ "name": "GitHub", "verification": { "kind": "hmac", "secret": SECRET } }),
    )
    .await;
    assert_eq!(hook["verification"], "hmac");
    assert_eq!(hook["verify_header"], "x-hub-signature-256");
    assert!(hook.get("secret").is_none(), "a given secret is not echoed");

    let body = br#"{"action":"opened","sender":{"login":"octocat"}}"#;
    let res = outsider()
        .post(format!("{url}?source=github"))
        .header("content-type", "application/json")
        .header("x-github-event", "pull_request")
        .header("x-hub-signature-256", sign(SECRET, &[body]))
        .header("cookie", "aura_session=stolen")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let answer = json(res).await;
    let run_id = answer["run_id"].as_str().unwrap();
    assert_eq!(answer["status"], "queued");

    let run = app.finished_run(&c, run_id).await;
    assert_eq!(run["run"]["status"], "succeeded", "{run}");
    let input = &run["run"]["input"];
    assert_eq!(input["body"]["sender"]["login"], "octocat");
    assert_eq!(input["method"], "POST");
    assert_eq!(input["query"]["source"], "github");
    assert_eq!(input["headers"]["x-github-event"], "pull_request");
    assert!(
        input["headers"].get("cookie").is_none(),
        "cookies never reach a run"
    );
    assert_eq!(input["webhook"]["id"], hook["id"]);
    assert_eq!(run["output"], "opened by octocat");

    let shown = json(
        c.get(app.url(&format!(
            "/api/v1/webhooks/{}",
            hook["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(shown["data"]["runs"], 1);
    assert_eq!(shown["data"]["last_run_id"], run_id);
    assert_eq!(shown["data"]["last_run_status"], "succeeded");
}

#[tokio::test]
async fn bad_signatures_replays_and_oversized_bodies_are_refused_and_start_nothing() {
    let app = spawn_app().await;
    let c = app.signed_in_client("refused@example.com").await;
    let workflow = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "ok" } }]),
        )
        .await;
    let (hook, url) = webhook(
        &app,
        &c,
        &workflow,
        json!({
            "name": "Stamped",
            "max_body_kb": 1,
            "verification": { "kind": "hmac", "header": "X-Signature", "timestamp_header": "X-Timestamp", "tolerance_secs": 60 }
        }),
    )
    .await;
    // No secret was given: one was generated and shown this once.
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    let hook_id = hook["id"].as_str().unwrap();
    let post = |body: &'static [u8], stamp: i64, signature: String| {
        outsider()
            .post(&url)
            .header("x-timestamp", stamp.to_string())
            .header("x-signature", signature)
            .body(body.to_vec())
            .send()
    };
    let body: &[u8] = br#"{"n":1}"#;
    let now = now_secs();
    let stamped = |stamp: i64| sign(&secret, &[stamp.to_string().as_bytes(), b".", body]);

    let refusals = [
        (
            "a wrong secret",
            post(
                body,
                now,
                sign(
                    "not the secret at all!",
                    &[now.to_string().as_bytes(), b".", body],
                ),
            )
            .await
            .unwrap(),
        ),
        (
            "the body alone signed",
            post(body, now, sign(&secret, &[body])).await.unwrap(),
        ),
        (
            "an old timestamp",
            post(body, now - 3600, stamped(now - 3600)).await.unwrap(),
        ),
        (
            "a future timestamp",
            post(body, now + 3600, stamped(now + 3600)).await.unwrap(),
        ),
    ];
    for (what, res) in refusals {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        let error = json(res).await;
        assert_eq!(error["error"]["code"], "unauthenticated", "{what}: {error}");
    }
    let missing = outsider()
        .post(&url)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);

    let good = post(body, now, stamped(now)).await.unwrap();
    assert_eq!(good.status(), StatusCode::ACCEPTED);
    let replay = post(body, now, stamped(now)).await.unwrap();
    assert_eq!(
        replay.status(),
        StatusCode::UNAUTHORIZED,
        "the same delivery twice"
    );
    assert!(
        json(replay).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("replay")
    );

    // Over the 1 KB limit: with a declared length, and streamed without one.
    let big = vec![b'x'; 2048];
    let res = outsider()
        .post(&url)
        .header("x-timestamp", now.to_string())
        .header(
            "x-signature",
            sign(&secret, &[now.to_string().as_bytes(), b".", &big]),
        )
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(big[..1024].to_vec()), Ok(big[1024..].to_vec())];
    let res = outsider()
        .post(&url)
        .header("x-timestamp", now.to_string())
        .header(
            "x-signature",
            sign(&secret, &[now.to_string().as_bytes(), b".", &big]),
        )
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        runs_of(&app, &c, &workflow).await.len(),
        1,
        "only the good delivery ran"
    );
    let shown = json(
        c.get(app.url(&format!("/api/v1/webhooks/{hook_id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shown["data"]["rejected"], 6, "{shown}");
    assert!(shown["data"]["last_rejected_at"].is_i64());
}

#[tokio::test]
async fn sync_mode_answers_with_the_steps_output_or_falls_back_to_202() {
    let upstream = Upstream::start().await;
    let app = spawn_app_with(&[("AURA_HTTP_ALLOW", "127.0.0.1")]).await;
    let c = app.signed_in_client("sync@example.com").await;
    let quick = app
        .create_workflow(
            &c,
            json!([
                { "id": "greet", "type": "template", "config": { "template": "Hello {{ input.body.name }}" }, "next": [{ "to": "shape" }] },
                { "id": "shape", "type": "template", "config": { "template": "{{ steps.greet.output | upper }}" } }
            ]),
        )
        .await;
    let (_, url) = webhook(
        &app,
        &c,
        &quick,
        json!({ "name": "Reply", "response": { "mode": "sync", "step": "greet", "timeout_ms": 10000 } }),
    )
    .await;
    let res = outsider()
        .post(&url)
        .json(&json!({ "name": "Ada" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-aura-run-id"));
    assert_eq!(res.text().await.unwrap(), "Hello Ada");

    let slow = app
        .create_workflow(
            &c,
            json!([{ "id": "wait", "type": "http", "config": { "method": "GET", "url": format!("{}/slow/3000", upstream.url) } }]),
        )
        .await;
    let (_, url) = webhook(
        &app,
        &c,
        &slow,
        json!({ "name": "Slow", "response": { "mode": "sync", "timeout_ms": 300 } }),
    )
    .await;
    let started = std::time::Instant::now();
    let res = outsider().post(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED, "the wait ran out");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    let run_id = json(res).await["run_id"].as_str().unwrap().to_owned();
    let run = app.finished_run(&c, &run_id).await;
    assert_eq!(run["run"]["status"], "succeeded", "the run went on: {run}");

    // A run that fails in time answers 502 with its error.
    let broken = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "{{ input.nothing.here }}" } }]),
        )
        .await;
    let (_, url) = webhook(
        &app,
        &c,
        &broken,
        json!({ "name": "Broken", "response": { "mode": "sync" } }),
    )
    .await;
    let res = outsider().post(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(json(res).await["status"], "failed");
}

#[tokio::test]
async fn hooks_take_cookieless_cross_origin_posts_while_csrf_guards_everything_else() {
    let app = spawn_app().await;
    let c = app.signed_in_client("origin@example.com").await;
    let workflow = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "{{ input.body }}" } }]),
        )
        .await;
    let (hook, url) = webhook(
        &app,
        &c,
        &workflow,
        json!({ "name": "Form", "verification": { "kind": "header", "header": "X-Form-Token", "token": "a-static-token-1234567890" } }),
    )
    .await;
    assert!(hook.get("secret").is_none());
    let form = |token: &str| {
        outsider()
            .post(&url)
            .header("origin", "https://forms.example.net")
            .header("x-form-token", token.to_owned())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=ada%40example.com&plan=pro")
            .send()
    };
    assert_eq!(
        form("a-wrong-token-12345678901").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let res = form("a-static-token-1234567890").await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "cross-origin, cookie-less"
    );
    let run_id = json(res).await["run_id"].as_str().unwrap().to_owned();
    let run = app.finished_run(&c, &run_id).await;
    assert_eq!(run["run"]["input"]["body"]["email"], "ada@example.com");
    assert!(
        run["run"]["input"]["headers"].get("x-form-token").is_none(),
        "the token header stays out of the run"
    );

    // The same cross-origin request elsewhere, with the user's cookie: refused.
    let forged = c
        .post(app.url("/api/v1/workflows"))
        .header("origin", "https://forms.example.net")
        .json(&json!({ "name": "Forged", "definition": { "steps": [] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // And a browser session is no credential on /hooks/: the URL is.
    let res = c
        .post(app.url("/hooks/whk_0000000000000000000000000000000000000000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn webhooks_are_managed_by_their_owner_and_audited() {
    let app = spawn_app().await;
    let c = app.signed_in_client("owner@example.com").await;
    let workflow = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "ok" } }]),
        )
        .await;

    // Every bad setting names its field.
    for (spec, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x", "method": "TRACE" }), "method"),
        (json!({ "name": "x", "max_body_kb": 999999 }), "max_body_kb"),
        (
            json!({ "name": "x", "rate_per_minute": 0 }),
            "rate_per_minute",
        ),
        (
            json!({ "name": "x", "verification": { "kind": "hmac", "secret": "short" } }),
            "verification.secret",
        ),
        (
            json!({ "name": "x", "verification": { "kind": "header", "header": "Authorization", "token": "a-long-enough-token-123" } }),
            "verification.header",
        ),
        (
            json!({ "name": "x", "response": { "mode": "sync", "step": "nope" } }),
            "response.step",
        ),
        (
            json!({ "name": "x", "response": { "mode": "sync", "timeout_ms": 999999 } }),
            "response.timeout_ms",
        ),
    ] {
        let res = c
            .post(app.url(&format!("/api/v1/workflows/{workflow}/webhooks")))
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
    let res = c
        .post(app.url(&format!("/api/v1/workflows/{workflow}/webhooks")))
        .json(&json!({ "name": "x", "surprise": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "unknown fields");

    let (hook, url) = webhook(
        &app,
        &c,
        &workflow,
        json!({ "name": "Limited", "rate_per_minute": 2 }),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    assert_eq!(
        outsider().get(&url).send().await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    for _ in 0..2 {
        assert_eq!(
            outsider().post(&url).send().await.unwrap().status(),
            StatusCode::ACCEPTED
        );
    }
    let limited = outsider().post(&url).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));

    // A new URL: the old one is gone at once.
    let res = c
        .post(app.url(&format!("/api/v1/webhooks/{id}/regenerate")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let new_url = json(res).await["data"]["url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(
        outsider().post(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Disabled: refused, saying so; settings replaced with PUT keep the URL.
    let res = c
        .put(app.url(&format!("/api/v1/webhooks/{id}")))
        .json(&json!({ "name": "Limited", "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        outsider().post(&new_url).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Someone else sees none of it.
    let eve = app.signed_in_client("eve@example.com").await;
    for req in [
        eve.get(app.url(&format!("/api/v1/webhooks/{id}"))),
        eve.get(app.url(&format!("/api/v1/workflows/{workflow}/webhooks"))),
        eve.post(app.url(&format!("/api/v1/webhooks/{id}/regenerate"))),
        eve.delete(app.url(&format!("/api/v1/webhooks/{id}"))),
    ] {
        assert_eq!(req.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }

    let res = c
        .delete(app.url(&format!("/api/v1/webhooks/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        outsider().post(&new_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let listed = json(
        c.get(app.url(&format!("/api/v1/workflows/{workflow}/webhooks")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["data"], json!([]));

    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    for action in [
        "webhook.create",
        "webhook.regenerate",
        "webhook.update",
        "webhook.delete",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}
