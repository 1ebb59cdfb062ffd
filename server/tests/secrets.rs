//! Workflow secrets: set over REST (names only come back), sealed at rest, read by
//! templates and scripts as `secrets.NAME`, sent where a step sends them, and masked in
//! every output, log, event and error of the run.

mod common;

use common::upstream::Upstream;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

const TOKEN: &str = "tok-9f8e7d6c5b4a3210";

#[tokio::test]
async fn secrets_reach_their_steps_and_are_masked_everywhere_a_run_shows_them() {
    let upstream = Upstream::start().await;
    let app = spawn_app_with(&[("AURA_HTTP_ALLOW", "127.0.0.1"), ("AURA_WORKERS", "2")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    let put = |name: &str, value: &str| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/secrets/{name}"));
        let origin = app.address.clone();
        let value = value.to_owned();
        async move {
            let res = c
                .put(url)
                .header("Origin", origin)
                .json(&json!({ "value": value }))
                .send()
                .await
                .unwrap();
            (res.status(), json(res).await)
        }
    };

    // Bad names and values name their field.
    let (status, body) = put("9lives", TOKEN).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "name");
    let (status, body) = put("SHORT", "abc").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "value");

    let (status, body) = put("API_TOKEN", TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains(TOKEN));
    let list = json(c.get(app.url("/api/v1/secrets")).send().await.unwrap()).await;
    assert_eq!(list["data"][0]["name"], "API_TOKEN");
    assert!(!list.to_string().contains(TOKEN));
    // Stored sealed.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let (stored,): (String,) = sqlx::query_as("SELECT value FROM workflow_secrets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        stored.starts_with("v1.") && !stored.contains("tok-9f8e"),
        "{stored}"
    );

    let headers = format!("{}/headers", upstream.url);
    let (run, data) = app
        .run_once(
            &c,
            json!([
                { "id": "call", "type": "http", "config": {
                    "method": "GET", "url": headers,
                    "headers": { "authorization": "Bearer {{ secrets.API_TOKEN }}" } },
                  "next": [{ "to": "show" }] },
                { "id": "show", "type": "template",
                  "config": { "template": "sent {{ steps.call.output.body.authorization }}" },
                  "next": [{ "to": "leak" }] },
                { "id": "leak", "type": "script", "retry": { "max_attempts": 1 },
                  "config": { "code": "console.log('token is ' + secrets.API_TOKEN); throw new Error('refused ' + secrets.API_TOKEN);" } }
            ]),
            json!({}),
        )
        .await;
    let steps = steps_by_id(&data);
    // The upstream received the real value ...
    assert_eq!(steps["call"]["status"], "succeeded", "{data}");
    // ... and the run shows it nowhere.
    assert_eq!(
        steps["call"]["output"]["body"]["authorization"],
        "Bearer [secret API_TOKEN]"
    );
    assert_eq!(steps["show"]["output"], "sent Bearer [secret API_TOKEN]");
    assert_eq!(steps["leak"]["status"], "failed");
    assert!(
        steps["leak"]["error"]
            .as_str()
            .unwrap()
            .contains("refused [secret API_TOKEN]"),
        "{data}"
    );
    let events = c
        .get(app.url(&format!("/api/v1/runs/{run}/events?until=caught_up")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(events.contains("token is [secret API_TOKEN]"), "{events}");
    assert!(!data.to_string().contains(TOKEN), "{data}");
    assert!(!events.contains(TOKEN), "{events}");
    let stored: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT output, error FROM step_runs")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(!format!("{stored:?}").contains(TOKEN));

    // Another user's runs cannot read it: validation passes, rendering fails naming it.
    let bob = app.signed_in_client("bob@example.com").await;
    let (_, data) = app
        .run_once(
            &bob,
            json!([{ "id": "t", "type": "template", "retry": { "max_attempts": 1 },
                     "config": { "template": "{{ secrets.API_TOKEN }}" } }]),
            json!({}),
        )
        .await;
    let t = &steps_by_id(&data)["t"];
    assert_eq!(t["status"], "failed");
    assert!(!data.to_string().contains(TOKEN));

    let res = c
        .delete(app.url("/api/v1/secrets/API_TOKEN"))
        .header("Origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let _: Value = json(res).await;
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|(a, ..)| a == "secret.set"));
    assert!(actions.iter().any(|(a, ..)| a == "secret.delete"));
}

#[tokio::test]
async fn a_user_keeps_at_most_100_secrets() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let put = |name: String| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/secrets/{name}"));
        let origin = app.address.clone();
        async move {
            c.put(url)
                .header("Origin", origin)
                .json(&json!({ "value": "value-1234" }))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..100 {
        assert_eq!(put(format!("S{i}")).await.status(), StatusCode::OK);
    }
    let res = put("ONE_MORE".into()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(res).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100 secrets")
    );
    // Replacing one is not adding one.
    assert_eq!(put("S7".into()).await.status(), StatusCode::OK);
}
