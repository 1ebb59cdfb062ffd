//! API keys: made on the settings page (server functions), used on the REST API with their
//! scopes enforced, refused once expired or revoked, stored only as a hash, never
//! accepted by a server function, and audited.

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

async fn create_key(app: &TestApp, c: &Client, name: &str, scopes: &[&str], days: &str) -> Value {
    let mut form = vec![("name", name), ("expires_in_days", days)];
    for scope in scopes {
        form.push((scope, "on"));
    }
    let res = app.post(c, "/api/keys/create", &form).await;
    assert_eq!(res.status(), StatusCode::OK, "creating {name}");
    json(res).await
}

/// A client with no cookies: only the key speaks for it.
fn bare() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Every value stored in the `api_keys` table, as text.
async fn stored_key_columns(app: &TestApp) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let rows: Vec<(String, String, String, String, String)> =
        sqlx::query_as("SELECT id, user_id, name, prefix, secret_hash FROM api_keys")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    rows.into_iter()
        .flat_map(|(a, b, c, d, e)| [a, b, c, d, e])
        .collect()
}

#[tokio::test]
async fn keys_are_made_used_within_their_scopes_and_refused_once_revoked_or_expired() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;

    // Bad input names its field; no key is made.
    let res = app
        .post(
            &c,
            "/api/keys/create",
            &[("name", " "), ("expires_in_days", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    for field in ["name", "scopes", "expires_in_days"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    // A member may not give a key the admin scope (ada is the first account: an admin;
    // bob is not).
    let bob = app.signed_in_client("bob@example.com").await;
    let res = app
        .post(
            &bob,
            "/api/keys/create",
            &[("name", "x"), ("admin", "on"), ("expires_in_days", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let reader = create_key(&app, &c, "ci reader", &["read"], "").await;
    let secret = reader["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("aura_") && secret.len() == 53,
        "{secret}"
    );

    // Stored only as its SHA-256: the secret appears in no column.
    let stored = stored_key_columns(&app).await;
    assert!(
        !stored.iter().any(|v| v.contains(&secret[5..])),
        "{stored:?}"
    );
    assert!(
        stored.contains(&aura_auth::hash_api_key(&secret)),
        "the hash is stored"
    );

    // Used on REST, from a client with no cookie and a foreign Origin (no CSRF check).
    let api = bare();
    let bearer = format!("Bearer {secret}");
    let res = api
        .get(app.url("/api/v1/workflows"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Outside its scope: 403 naming the scope.
    let res = api
        .post(app.url("/api/v1/workflows"))
        .header("authorization", &bearer)
        .header("origin", "https://elsewhere.example")
        .json(&json!({ "name": "x", "definition": { "steps": [
            { "id": "t", "type": "template", "config": { "template": "x" } }
        ] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`write`"),
        "{body}"
    );
    // A writer may, even from another origin: a key carries no cookie to forge.
    let writer = create_key(&app, &c, "deploy", &["read", "write", "run"], "30").await;
    let writer_bearer = format!("Bearer {}", writer["secret"].as_str().unwrap());
    let res = api
        .post(app.url("/api/v1/workflows"))
        .header("authorization", &writer_bearer)
        .header("origin", "https://elsewhere.example")
        .json(&json!({ "name": "From CI", "definition": { "steps": [
            { "id": "t", "type": "template", "config": { "template": "x" } }
        ] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // A key never authenticates a server function (nor a page).
    let res = api
        .post(app.url("/api/workflows/list"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The list shows prefixes and last use, never secrets.
    let list = json(app.post(&c, "/api/keys/list", &[]).await).await;
    let keys = list.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(!list.to_string().contains(&secret[5..]));
    let reader_row = keys.iter().find(|k| k["name"] == "ci reader").unwrap();
    assert!(secret.starts_with(reader_row["prefix"].as_str().unwrap()));
    assert!(reader_row["last_used"].is_string(), "{reader_row}");

    // Expired: 401.
    let moved = app
        .execute_sql("UPDATE api_keys SET expires_at = 1 WHERE name = 'deploy'")
        .await;
    assert_eq!(moved, 1);
    let res = api
        .get(app.url("/api/v1/workflows"))
        .header("authorization", &writer_bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"]["code"], "unauthenticated");

    // Revoked: 401 at once; revoking someone else's key is a 404.
    let id = reader_row["id"].as_str().unwrap();
    let res = app.post(&bob, "/api/keys/revoke", &[("id", id)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.post(&c, "/api/keys/revoke", &[("id", id)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = api
        .get(app.url("/api/v1/workflows"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A made-up key is refused the same way.
    let res = api
        .get(app.url("/api/v1/workflows"))
        .header("authorization", "Bearer aura_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Creation, first use from an address, and revocation are audited.
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .map(|(action, _, _)| action)
        .collect();
    for action in ["api_key.create", "api_key.use", "api_key.revoke"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    // Used many times from one address, a key is audited once for it.
    assert_eq!(
        actions.iter().filter(|a| *a == "api_key.use").count(),
        2,
        "one per key: {actions:?}"
    );
}

/// Reads the stream to its end; `Err` when it is still open after `secs`.
async fn drain(
    stream: &mut reqwest::Response,
    secs: u64,
) -> Result<(), tokio::time::error::Elapsed> {
    tokio::time::timeout(std::time::Duration::from_secs(secs), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
}

/// An event stream opened with a key stays open while the key stands (its re-checks
/// look at the key, not a session) and ends once the key is revoked.
#[tokio::test]
async fn an_event_stream_opened_with_a_key_ends_when_the_key_is_revoked() {
    let app = spawn_app_with(&[
        ("AURA_EVENT_STREAM_RECHECK_SECS", "1"),
        ("AURA_WORKERS", "0"),
    ])
    .await;
    let c = app.signed_in_client("ada@example.com").await;
    let key = create_key(&app, &c, "follower", &["read", "run"], "").await;
    let bearer = format!("Bearer {}", key["secret"].as_str().unwrap());
    // No runner: the run stays queued and its stream stays open.
    let workflow = app
        .create_workflow(
            &c,
            json!([{ "id": "t", "type": "template", "config": { "template": "x" } }]),
        )
        .await;
    let run = app.start_run(&c, &workflow, json!({})).await;
    let api = bare();
    let mut stream = api
        .get(app.url(&format!("/api/v1/runs/{run}/events")))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        drain(&mut stream, 3).await.is_err(),
        "the stream ended although its key still stands"
    );
    let id = json(app.post(&c, "/api/keys/list", &[]).await).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app.post(&c, "/api/keys/revoke", &[("id", &id)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        drain(&mut stream, 5).await.is_ok(),
        "the stream kept going after its key was revoked"
    );
}
