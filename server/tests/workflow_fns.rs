//! The workflow server functions the UI calls (list, get, versions, save, delete), over
//! HTTP on SQLite or PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;

const DEFINITION: &str =
    r#"{"steps":[{"id":"greet","type":"template","config":{"template":"Hi {{ input.name }}"}}]}"#;

#[tokio::test]
async fn workflows_are_saved_as_versions_listed_and_deleted_through_server_functions() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;

    let res = app
        .post(
            &c,
            "/api/workflows/save",
            &[
                ("name", "Greeter"),
                ("description", ""),
                ("definition", DEFINITION),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved = json(res).await;
    assert_eq!(saved["version"], 1);
    let id = saved["id"].as_str().unwrap().to_owned();

    let res = app
        .post(
            &c,
            "/api/workflows/save",
            &[
                ("id", &id),
                ("name", "Greeter"),
                ("description", "v2"),
                ("definition", &DEFINITION.replace("Hi", "Hello")),
                ("expected_version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The same edit from version 1 again is stale: refused, nothing overwritten.
    let res = app
        .post(
            &c,
            "/api/workflows/save",
            &[
                ("id", &id),
                ("name", "Greeter"),
                ("description", "stale"),
                ("definition", DEFINITION),
                ("expected_version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let detail = json(app.post(&c, "/api/workflows/get", &[("id", &id)]).await).await;
    assert_eq!(detail["row"]["version"], 2);
    assert!(detail["definition"].as_str().unwrap().contains("Hello"));
    let versions = json(
        app.post(&c, "/api/workflows/versions", &[("id", &id)])
            .await,
    )
    .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let list = json(app.post(&c, "/api/workflows/list", &[]).await).await;
    assert_eq!(list[0]["name"], "Greeter");

    let res = app
        .post(
            &c,
            "/api/workflows/save",
            &[
                ("name", ""),
                ("description", ""),
                ("definition", "{not json"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(res).await["fields"]["definition"]
            .as_str()
            .unwrap()
            .contains("not a valid workflow")
    );
    let broken = r#"{"steps":[{"id":"greet","type":"template","config":{"template":"{{ steps.nope.output }}"}}]}"#;
    let res = app
        .post(
            &c,
            "/api/workflows/save",
            &[("name", ""), ("description", ""), ("definition", broken)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields = json(res).await["fields"].clone();
    assert!(fields["name"].is_string(), "{fields}");
    assert!(
        fields["definition"]
            .as_str()
            .unwrap()
            .contains("Step `greet`"),
        "{fields}"
    );

    let other = app.signed_in_client("grace@example.com").await;
    let res = app.post(&other, "/api/workflows/get", &[("id", &id)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post(&other, "/api/workflows/delete", &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = app.post(&c, "/api/workflows/delete", &[("id", &id)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let list = json(app.post(&c, "/api/workflows/list", &[]).await).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
}
