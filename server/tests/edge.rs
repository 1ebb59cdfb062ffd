//! One edge: for each domain error, the REST API and the server functions answer with the
//! same status and the same code (REST in `{error: {code}}`, server functions in
//! `{code}`), because both convert the error to the one `AppError` in one place.

mod common;

use common::*;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// The status, the error code and the `Retry-After` header of an answer.
async fn answer(request: RequestBuilder, rest: bool) -> (StatusCode, String, Option<String>) {
    let res = request.send().await.unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = json(res).await;
    let code = if rest {
        &body["error"]["code"]
    } else {
        &body["code"]
    };
    (
        status,
        code.as_str()
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_owned(),
        retry_after,
    )
}

struct Row {
    case: &'static str,
    rest: RequestBuilder,
    function: RequestBuilder,
    status: StatusCode,
    code: &'static str,
}

async fn check(rows: Vec<Row>) {
    for row in rows {
        let rest = answer(row.rest, true).await;
        let function = answer(row.function, false).await;
        assert_eq!(
            (rest.0, rest.1.as_str()),
            (row.status, row.code),
            "{}: REST",
            row.case
        );
        assert_eq!(
            (function.0, function.1.as_str()),
            (row.status, row.code),
            "{}: server function",
            row.case
        );
        if row.status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(rest.2.is_some() && function.2.is_some(), "{}", row.case);
        }
    }
}

fn function(c: &Client, app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> RequestBuilder {
    let form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    c.post(app.url(endpoint)).form(&form)
}

#[tokio::test]
async fn rest_and_server_functions_answer_each_domain_error_alike() {
    let app = spawn_app_with(&[("AURA_WORKERS", "1")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    let anonymous = client();

    // A workflow at version 2, so version 1 is stale.
    let definition =
        json!({ "steps": [{ "id": "t", "type": "template", "config": { "template": "x" } }] });
    let workflow = app.create_workflow(&c, definition["steps"].clone()).await;
    // A changed definition: an unchanged one would keep the version.
    let edited =
        json!({ "steps": [{ "id": "t", "type": "template", "config": { "template": "y" } }] });
    let update = |version: i64| {
        c.put(app.url(&format!("/api/v1/workflows/{workflow}")))
            .json(&json!({ "name": "Test", "definition": edited, "expected_version": version }))
    };
    assert_eq!(update(1).send().await.unwrap().status(), StatusCode::OK);
    // A finished run, which cannot be cancelled.
    let run = app.start_run(&c, &workflow, json!({})).await;
    app.finished_run(&c, &run).await;
    // A project with a file at revision 2.
    let project = json(
        c.post(app.url("/api/v1/projects"))
            .json(&json!({ "name": "Edge" }))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = json(
        c.post(app.url(&format!("/api/v1/projects/{project}/files")))
            .json(&json!({ "path": "a.rs", "kind": "file", "content": "one" }))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file_url = app.url(&format!("/api/v1/projects/{project}/files/{file}"));
    let saved = c
        .put(&file_url)
        .json(&json!({ "content": "two", "base_revision": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let definition_text = definition.to_string();

    check(vec![
        Row {
            case: "not signed in",
            rest: anonymous.get(app.url("/api/v1/workflows")),
            function: function(&anonymous, &app, "/api/workflows/list", &[]),
            status: StatusCode::UNAUTHORIZED,
            code: "unauthenticated",
        },
        Row {
            case: "no such workflow",
            rest: c.get(app.url("/api/v1/workflows/nope")),
            function: function(&c, &app, "/api/workflows/get", &[("id", "nope")]),
            status: StatusCode::NOT_FOUND,
            code: "not_found",
        },
        Row {
            case: "invalid workflow",
            rest: c
                .post(app.url("/api/v1/workflows"))
                .json(&json!({ "name": "", "definition": definition })),
            function: function(
                &c,
                &app,
                "/api/workflows/save",
                &[
                    ("name", ""),
                    ("description", ""),
                    ("definition", &definition_text),
                ],
            ),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation",
        },
        Row {
            case: "stale workflow version",
            rest: update(1),
            function: function(
                &c,
                &app,
                "/api/workflows/save",
                &[
                    ("id", &workflow),
                    ("name", "Test"),
                    ("description", ""),
                    ("definition", &definition_text),
                    ("expected_version", "1"),
                ],
            ),
            status: StatusCode::CONFLICT,
            code: "conflict",
        },
        Row {
            case: "finished run cancelled",
            rest: c.post(app.url(&format!("/api/v1/runs/{run}/cancel"))),
            function: function(
                &c,
                &app,
                "/api/runs/control",
                &[("id", &run), ("command", "cancel")],
            ),
            status: StatusCode::CONFLICT,
            code: "invalid_state",
        },
        Row {
            case: "taken path",
            rest: c
                .post(app.url(&format!("/api/v1/projects/{project}/files")))
                .json(&json!({ "path": "a.rs", "kind": "file", "content": "" })),
            function: function(
                &c,
                &app,
                "/api/projects/create-entry",
                &[("project", &project), ("path", "a.rs"), ("folder", "false")],
            ),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation",
        },
        Row {
            case: "stale file revision",
            rest: c
                .put(&file_url)
                .json(&json!({ "content": "three", "base_revision": 1 })),
            function: function(
                &c,
                &app,
                "/api/projects/save",
                &[
                    ("project", &project),
                    ("entry", &file),
                    ("content", "three"),
                    ("base_revision", "1"),
                ],
            ),
            status: StatusCode::CONFLICT,
            code: "stale_revision",
        },
    ])
    .await;

    // The stale answer carries what is saved now, on both surfaces.
    let rest: Value = json(
        c.put(&file_url)
            .json(&json!({ "content": "three", "base_revision": 1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rest["error"]["details"]["current"]["content"], "two");
    let function_body = json(
        function(
            &c,
            &app,
            "/api/projects/save",
            &[
                ("project", &project),
                ("entry", &file),
                ("content", "three"),
                ("base_revision", "1"),
            ],
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(function_body["current"]["revision"], 2);

    // The database out of reach: 503 with Retry-After on both.
    app.store.close().await;
    check(vec![Row {
        case: "database unavailable",
        rest: c.get(app.url("/api/v1/workflows")),
        function: function(&c, &app, "/api/workflows/list", &[]),
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
    }])
    .await;
}

/// Every action the audit log records is a typed `AuditAction`, which is the list the
/// audit page's filter offers; a name outside it is refused by the filter.
#[tokio::test]
async fn every_recorded_audit_action_is_one_the_filter_offers() {
    let app = spawn_app().await;
    let admin = app.signed_in_client("admin@example.com").await;
    let project = json(
        admin
            .post(app.url("/api/v1/projects"))
            .json(&json!({ "name": "Audited" }))
            .send()
            .await
            .unwrap(),
    )
    .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let export = admin
        .get(app.url(&format!("/api/v1/projects/{project}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    let deleted = admin
        .delete(app.url(&format!("/api/v1/projects/{project}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let recorded = app.audit_actions().await;
    assert!(recorded.len() >= 4, "{recorded:?}");
    for (action, _, _) in &recorded {
        assert!(
            aura_store::AuditAction::parse(action).is_some(),
            "{action} is recorded but not offered"
        );
    }
    for action in ["project.create", "project.export", "project.delete"] {
        assert!(recorded.iter().any(|(a, _, _)| a == action), "{action}");
        let res = function(
            &admin,
            &app,
            "/api/audit/events",
            &[("actor", ""), ("action", action)],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let rows = json(res).await["rows"].as_array().unwrap().len();
        assert_eq!(rows, 1, "{action}");
    }
    let res = function(
        &admin,
        &app,
        "/api/audit/events",
        &[("actor", ""), ("action", "project.teleport")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
