//! The OpenAPI document: served at /api/v1/openapi.json without signing in, generated
//! from the handlers, covering every REST route with the error envelope and both ways to
//! authenticate; and live answers have the shape it describes. (The test command also
//! checks it with an independent validator, openapi-spec-validator.)

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every REST route, as the routers register them.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/me"),
    ("get", "/api/v1/models/providers"),
    ("post", "/api/v1/models/providers"),
    ("put", "/api/v1/models/providers/{id}"),
    ("delete", "/api/v1/models/providers/{id}"),
    ("get", "/api/v1/models/aliases"),
    ("put", "/api/v1/models/aliases/{name}"),
    ("delete", "/api/v1/models/aliases/{name}"),
    ("post", "/api/v1/models/test"),
    ("get", "/api/v1/models/budgets"),
    ("put", "/api/v1/models/budgets"),
    ("delete", "/api/v1/models/budgets/{id}"),
    ("post", "/api/v1/projects/{id}/files/{entry}/assist"),
    ("get", "/api/v1/secrets"),
    ("put", "/api/v1/secrets/{name}"),
    ("delete", "/api/v1/secrets/{name}"),
    ("get", "/api/v1/workflows"),
    ("post", "/api/v1/workflows"),
    ("get", "/api/v1/workflows/{id}"),
    ("put", "/api/v1/workflows/{id}"),
    ("delete", "/api/v1/workflows/{id}"),
    ("get", "/api/v1/workflows/{id}/versions"),
    ("get", "/api/v1/workflows/{id}/versions/{version}"),
    ("post", "/api/v1/workflows/{id}/runs"),
    ("get", "/api/v1/runs"),
    ("get", "/api/v1/runs/{id}"),
    ("post", "/api/v1/runs/{id}/cancel"),
    ("post", "/api/v1/runs/{id}/resume"),
    ("post", "/api/v1/runs/{id}/steps/{step_id}/decision"),
    ("get", "/api/v1/runs/{id}/steps/{step_id}/transcript"),
    ("get", "/api/v1/runs/{id}/events"),
    ("get", "/api/v1/projects"),
    ("post", "/api/v1/projects"),
    ("post", "/api/v1/projects/import"),
    ("get", "/api/v1/projects/{id}"),
    ("patch", "/api/v1/projects/{id}"),
    ("delete", "/api/v1/projects/{id}"),
    ("get", "/api/v1/projects/{id}/export"),
    ("post", "/api/v1/projects/{id}/analyze"),
    ("get", "/api/v1/projects/{id}/files"),
    ("post", "/api/v1/projects/{id}/files"),
    ("get", "/api/v1/projects/{id}/files/{entry}"),
    ("put", "/api/v1/projects/{id}/files/{entry}"),
    ("patch", "/api/v1/projects/{id}/files/{entry}"),
    ("delete", "/api/v1/projects/{id}/files/{entry}"),
    ("get", "/api/v1/projects/{id}/files/{entry}/revisions"),
    (
        "get",
        "/api/v1/projects/{id}/files/{entry}/revisions/{revision}",
    ),
    (
        "post",
        "/api/v1/projects/{id}/files/{entry}/revisions/{revision}/restore",
    ),
    ("get", "/api/v1/workflows/{id}/webhooks"),
    ("post", "/api/v1/workflows/{id}/webhooks"),
    ("get", "/api/v1/webhooks/{id}"),
    ("put", "/api/v1/webhooks/{id}"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("post", "/api/v1/webhooks/{id}/regenerate"),
    ("get", "/api/v1/workflows/{id}/schedules"),
    ("post", "/api/v1/workflows/{id}/schedules"),
    ("post", "/api/v1/schedules/preview"),
    ("get", "/api/v1/schedules/{id}"),
    ("put", "/api/v1/schedules/{id}"),
    ("delete", "/api/v1/schedules/{id}"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read-all"),
    ("post", "/api/v1/notifications/{id}/read"),
    ("get", "/api/v1/notifications/events"),
];

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_document_covers_every_route_and_matches_live_answers() {
    let app = spawn_app().await;
    let res = client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc = json(res).await;
    assert_eq!(doc["openapi"], "3.1.0");

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    // Every reference resolves: a schema used only inside another (a query parameter's
    // enum) must still be registered.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for reference in all {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {reference}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{reference} does not resolve"
        );
    }

    for (method, path) in ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op["operationId"].is_string(), "{method} {path}");
        for status in ["401", "403", "503"] {
            assert_eq!(
                op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");

    // The reference page renders every operation, with no script.
    let res = client()
        .get(app.url("/api/v1/reference"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = res.text().await.unwrap();
    for (method, path) in ROUTES {
        let id = doc["paths"][path][method]["operationId"].as_str().unwrap();
        assert!(page.contains(&format!("id=\"op-{id}\"")), "{id}");
    }
    assert!(page.contains("id=\"schema-ErrorBody\"") && !page.contains("<script"));

    // Live answers carry exactly the documented fields.
    let c = app.signed_in_client("ada@example.com").await;
    let created = json(
        c.post(app.url("/api/v1/workflows"))
            .json(&json!({ "name": "Doc", "definition": { "steps": [
                { "id": "t", "type": "template", "config": { "template": "x" } }
            ] } }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&created), properties(&doc, "Data_WorkflowView"));
    assert_eq!(keys(&created["data"]), properties(&doc, "WorkflowView"));
    assert_eq!(keys(&created["meta"]), properties(&doc, "Meta"));
    let missing = json(
        c.get(app.url("/api/v1/workflows/nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(keys(&missing), properties(&doc, "ErrorBody"));
    assert_eq!(keys(&missing["error"]), properties(&doc, "ErrorDetail"));
}
