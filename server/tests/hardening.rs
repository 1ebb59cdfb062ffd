//! The edge under abuse, on SQLite or PostgreSQL: sign-in bursts, forged
//! `X-Forwarded-For`, sliding idle sessions, event streams after sign-out, caching and
//! request ids, and folder operations that must match their exact prefix.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_parallel_burst_of_wrong_passwords_gets_at_most_five_401s() {
    let app = spawn_app().await;
    app.signed_in_client("ada@example.com").await;
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let c = client();
            let url = app.url("/api/auth/sign_in");
            tokio::spawn(async move {
                c.post(url)
                    .form(&[("email", "ada@example.com"), ("password", "wrong password")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut unauthorized = 0;
    let mut throttled = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        unauthorized <= 5,
        "{unauthorized} wrong passwords were checked"
    );
    assert_eq!(unauthorized + throttled, 50);
    let audited = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, o, _)| a == "auth.sign_in" && o == "failure")
        .count();
    assert_eq!(
        audited,
        unauthorized + 1,
        "each checked password and the throttle engaging, not every refusal"
    );
}

#[tokio::test]
async fn forged_forwarded_for_entries_cannot_dodge_the_per_ip_limit() {
    // The test client connects from 127.0.0.1, a trusted proxy by default; the "proxy"
    // appends the address it saw (203.0.113.5), the attacker controls everything left of it.
    let app = spawn_app_with(&[("AURA_TRUST_PROXY", "true")]).await;
    let mut last = StatusCode::OK;
    for n in 0..51 {
        let forged = format!("10.9.{}.{}, 203.0.113.5", n / 250, n % 250);
        last = client()
            .post(app.url("/api/auth/sign_in"))
            .header("x-forwarded-for", forged)
            .form(&[
                ("email", format!("user{n}@example.com").as_str()),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .unwrap()
            .status();
        if n < 50 {
            assert_eq!(last, StatusCode::UNAUTHORIZED, "attempt {n}");
        }
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the 51st attempt from one client"
    );
    let ips: Vec<Option<String>> = app
        .store
        .list_audit_events(&aura_store::AuditFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.ip)
        .collect();
    assert!(
        ips.iter().all(|ip| ip.as_deref() == Some("203.0.113.5")),
        "{ips:?}"
    );
}

#[tokio::test]
async fn an_active_session_outlives_the_idle_timeout_and_an_idle_one_does_not() {
    let app = spawn_app_with(&[("AURA_SESSION_IDLE_TIMEOUT_SECS", "2")]).await;
    let active = app.signed_in_client("ada@example.com").await;
    let idle = client();
    assert_eq!(
        app.sign_in(&idle, "ada@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(4_500) {
        let status = active
            .get(app.url("/profile"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "after {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let status = idle.get(app.url("/profile")).send().await.unwrap().status();
    assert_eq!(status, StatusCode::SEE_OTHER, "the idle session ended");
    let status = active
        .get(app.url("/profile"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK, "the active one did not");
}

#[tokio::test]
async fn event_streams_end_after_sign_out_and_are_capped_per_user() {
    let app = spawn_app_with(&[
        ("AURA_EVENT_STREAM_RECHECK_SECS", "1"),
        ("AURA_MAX_EVENT_STREAMS_PER_USER", "2"),
    ])
    .await;
    let c = app.signed_in_client("ada@example.com").await;
    let (run, _) = app
        .run_once(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "x" } }]),
            json!({}),
        )
        .await;
    let url = app.url(&format!("/api/v1/runs/{run}/events"));
    let mut first = c.get(&url).send().await.unwrap();
    let second = c.get(&url).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let third = c.get(&url).send().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        json(third).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AURA_MAX_EVENT_STREAMS_PER_USER")
    );
    drop(second);
    // Sign out on the same session: the open stream ends within the re-check interval.
    let res = app.post(&c, "/api/auth/sign_out", &[]).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = first.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream kept going after sign-out");
}

#[tokio::test]
async fn api_answers_are_never_cached_and_unsafe_request_ids_are_replaced() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let res = c.get(app.url("/api/v1/workflows")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let res = c
        .get(app.url("/healthz"))
        .header("x-request-id", "evil<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.contains("evil") && !id.is_empty(), "{id}");
    let long = "a".repeat(200);
    let res = c
        .get(app.url("/healthz"))
        .header("x-request-id", &long)
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], long.as_str());
    let res = c
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-42");
}

#[tokio::test]
async fn deleting_or_moving_a_folder_leaves_look_alike_paths_alone() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let res = c
        .post(app.url("/api/v1/projects"))
        .json(&json!({ "name": "Look-alikes" }))
        .send()
        .await
        .unwrap();
    let project = json(res).await["data"]["id"].as_str().unwrap().to_owned();
    for path in ["src/a.txt", "SRC/b.txt", "s_c/c.txt", "srcx/d.txt"] {
        let res = c
            .post(app.url(&format!("/api/v1/projects/{project}/files")))
            .json(&json!({ "path": path, "content": path }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{path}");
    }
    let tree = |c: reqwest::Client| {
        let url = app.url(&format!("/api/v1/projects/{project}/files"));
        async move {
            let body = json(c.get(url).send().await.unwrap()).await;
            let mut paths: Vec<(String, String)> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["path"].as_str().unwrap().to_owned(),
                        e["id"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            paths.sort();
            paths
        }
    };
    let id_of = |entries: &[(String, String)], path: &str| {
        entries.iter().find(|(p, _)| p == path).unwrap().1.clone()
    };
    let entries = tree(c.clone()).await;
    let src = id_of(&entries, "src");
    let res = c
        .patch(app.url(&format!("/api/v1/projects/{project}/files/{src}")))
        .json(&json!({ "path": "lib" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let paths: Vec<String> = tree(c.clone()).await.into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "SRC",
            "SRC/b.txt",
            "lib",
            "lib/a.txt",
            "s_c",
            "s_c/c.txt",
            "srcx",
            "srcx/d.txt"
        ]
    );
    let res = c
        .delete(app.url(&format!("/api/v1/projects/{project}/files/{src}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let paths: Vec<String> = tree(c.clone()).await.into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        ["SRC", "SRC/b.txt", "s_c", "s_c/c.txt", "srcx", "srcx/d.txt"]
    );
}
