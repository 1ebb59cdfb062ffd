//! REST API v1 for workflows over HTTP, on SQLite or PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn body(name: &str, template: &str) -> Value {
    json!({
        "name": name,
        "description": "Says hello",
        "definition": { "steps": [
            { "id": "greet", "type": "template", "config": { "template": template } }
        ]}
    })
}

#[tokio::test]
async fn workflows_can_be_created_versioned_listed_and_deleted() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let url = app.url("/api/v1/workflows");

    let res = c
        .post(&url)
        .json(&body("Greeter", "Hello {{ input.name }}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = json(res).await;
    assert!(!created["meta"]["request_id"].as_str().unwrap().is_empty());
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["current_version"], 1);
    assert_eq!(created["data"]["definition"]["steps"][0]["id"], "greet");

    let mut update = body("Greeter", "Hi {{ input.name }}");
    update["expected_version"] = json!(1);
    let save = |body: &Value| {
        c.put(app.url(&format!("/api/v1/workflows/{id}")))
            .json(body)
            .send()
    };
    let res = save(&update).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["data"]["current_version"], 2);

    // The same edit based on version 1 again is stale now.
    let res = save(&update).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(json(res).await["error"]["code"], "conflict");

    let versions = json(
        c.get(app.url(&format!("/api/v1/workflows/{id}/versions")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let numbers: Vec<i64> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![2, 1]);
    let v1 = json(
        c.get(app.url(&format!("/api/v1/workflows/{id}/versions/1")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        v1["data"]["definition"]["steps"][0]["config"]["template"],
        "Hello {{ input.name }}"
    );

    let list = json(c.get(&url).send().await.unwrap()).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let res = c
        .delete(app.url(&format!("/api/v1/workflows/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = c
        .get(app.url(&format!("/api/v1/workflows/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(res).await["error"]["code"], "not_found");
}

#[tokio::test]
async fn invalid_definitions_get_422_with_every_problem() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let bad = json!({
        "name": "",
        "definition": { "steps": [
            { "id": "a", "type": "template", "config": { "template": "{{ steps.b.output }}" }, "next": [{ "to": "b" }] },
            { "id": "b", "type": "http", "config": { "method": "GET" }, "next": [{ "to": "a" }] }
        ]}
    });
    let res = c
        .post(app.url("/api/v1/workflows"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(res).await["error"].clone();
    assert_eq!(error["code"], "validation");
    let details = error["details"].as_array().unwrap();
    let has = |step: Option<&str>, field: &str| {
        details
            .iter()
            .any(|d| d["step"].as_str() == step && d["field"] == field)
    };
    assert!(has(None, "name"), "{details:#?}");
    assert!(has(Some("a"), "next"), "cycle reported: {details:#?}");
    assert!(
        has(Some("b"), "config"),
        "missing url reported: {details:#?}"
    );
    assert!(
        json(c.get(app.url("/api/v1/workflows")).send().await.unwrap()).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_bodies_get_400_naming_the_problem() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let res = c
        .post(app.url("/api/v1/workflows"))
        .header("content-type", "application/json")
        .body("{\"name\": \"x\", \"definition\": {\"steps\": [{\"id\": \"a\", \"type\": \"teleport\"}]}}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let error = json(res).await["error"].clone();
    assert_eq!(error["code"], "bad_request");
    assert!(
        error["message"].as_str().unwrap().contains("teleport"),
        "{error}"
    );
}

#[tokio::test]
async fn the_api_needs_a_signed_in_owner() {
    let app = spawn_app().await;
    let res = client()
        .get(app.url("/api/v1/workflows"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["error"]["code"], "unauthenticated");

    let ada = app.signed_in_client("ada@example.com").await;
    let eve = app.signed_in_client("eve@example.com").await;
    let created = json(
        ada.post(app.url("/api/v1/workflows"))
            .json(&body("Private", "x"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let path = format!(
        "/api/v1/workflows/{}",
        created["data"]["id"].as_str().unwrap()
    );
    assert_eq!(
        eve.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        eve.put(app.url(&path))
            .json(&body("Mine", "y"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        eve.delete(app.url(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ada.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::OK
    );

    let res = ada
        .post(app.url("/api/v1/workflows"))
        .header("origin", "https://evil.example")
        .json(&body("Forged", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the API is covered by the same-origin check"
    );
}
