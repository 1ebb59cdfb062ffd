//! Projects, files, revisions, zip import/export and analysis over the REST API, on
//! SQLite or PostgreSQL.

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::io::Write;

async fn create_project(app: &TestApp, c: &Client, name: &str) -> Value {
    let res = c
        .post(app.url("/api/v1/projects"))
        .json(&json!({ "name": name, "description": "Demo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    json(res).await["data"].clone()
}

async fn create_file(app: &TestApp, c: &Client, project: &str, path: &str, content: &str) -> Value {
    let res = c
        .post(app.url(&format!("/api/v1/projects/{project}/files")))
        .json(&json!({ "path": path, "content": content }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "creating {path}");
    json(res).await["data"].clone()
}

/// Status and body of a request.
async fn call(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, json(res).await)
}

fn paths(tree: &Value) -> Vec<String> {
    tree["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(body).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test]
async fn projects_are_created_renamed_searched_paged_and_deleted() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let first = create_project(&app, &c, "Payment Service").await;
    assert_eq!(first["slug"], "payment-service");
    // Same name again: the derived slug gets a suffix.
    let second = create_project(&app, &c, "Payment Service").await;
    assert_eq!(second["slug"], "payment-service-2");
    for i in 0..3 {
        create_project(&app, &c, &format!("Tool {i}")).await;
    }

    // An explicit slug that is taken is a problem with that field: 422, as the server
    // functions have always said (REST used to answer 409).
    let (status, body) = call(
        c.post(app.url("/api/v1/projects"))
            .json(&json!({ "name": "X", "slug": "payment-service" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "slug");
    let (status, body) = call(
        c.post(app.url("/api/v1/projects"))
            .json(&json!({ "name": " ", "slug": "Bad Slug" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "slug"]);

    // Search is case-insensitive and treats % literally.
    let (_, found) = call(c.get(app.url("/api/v1/projects?q=PAYMENT"))).await;
    assert_eq!(found["data"]["items"].as_array().unwrap().len(), 2);
    let (_, none) = call(c.get(app.url("/api/v1/projects?q=%25"))).await;
    assert!(none["data"]["items"].as_array().unwrap().is_empty());

    // Two per page: 5 projects come in pages of 2, 2, 1 with no repeats.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) =
            call(c.get(app.url(&format!("/api/v1/projects?limit=2&cursor={cursor}")))).await;
        assert_eq!(status, StatusCode::OK);
        for item in page["data"]["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["data"]["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let (status, body) = call(c.get(app.url("/api/v1/projects?cursor=garbage"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "cursor");

    let id = first["id"].as_str().unwrap();
    let (status, renamed) = call(
        c.patch(app.url(&format!("/api/v1/projects/{id}")))
            .json(&json!({ "name": "Payments", "description": "Renamed" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["data"]["name"], "Payments");
    assert_eq!(renamed["data"]["slug"], "payment-service", "slug kept");

    let (status, _) = call(c.delete(app.url(&format!("/api/v1/projects/{id}")))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(c.get(app.url(&format!("/api/v1/projects/{id}")))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"project.create".to_owned()));
    assert!(actions.contains(&"project.delete".to_owned()));
}

#[tokio::test]
async fn files_and_folders_are_created_moved_and_deleted_with_paths_validated() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let project = create_project(&app, &c, "Tree").await;
    let id = project["id"].as_str().unwrap();
    let files = app.url(&format!("/api/v1/projects/{id}/files"));

    let main = create_file(&app, &c, id, "src//main.rs", "fn main() {}\n").await;
    assert_eq!(main["path"], "src/main.rs", "normalised");
    assert_eq!(main["language"], "rust");
    assert_eq!(main["revision"], 1);
    create_file(&app, &c, id, "src/util/mod.rs", "").await;
    let (status, _) = call(
        c.post(&files)
            .json(&json!({ "path": "docs", "kind": "folder" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    for (path, expected) in [
        ("../etc/passwd", StatusCode::UNPROCESSABLE_ENTITY),
        ("/abs.rs", StatusCode::UNPROCESSABLE_ENTITY),
        ("", StatusCode::UNPROCESSABLE_ENTITY),
        // A taken path is a field problem (422), like a taken slug.
        ("src/main.rs", StatusCode::UNPROCESSABLE_ENTITY),
        ("src/main.rs/inner.rs", StatusCode::UNPROCESSABLE_ENTITY),
        ("src", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = call(
            c.post(&files)
                .json(&json!({ "path": path, "content": "x" })),
        )
        .await;
        assert_eq!(status, expected, "{path}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "path", "{path}");
    }
    let long = "a/".repeat(300) + "x.rs";
    let (status, _) = call(c.post(&files).json(&json!({ "path": long }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, tree) = call(c.get(&files)).await;
    assert_eq!(
        paths(&tree),
        [
            "folder:docs",
            "folder:src",
            "file:src/main.rs",
            "folder:src/util",
            "file:src/util/mod.rs"
        ]
    );

    // Moving a folder takes its contents along; it cannot move into itself.
    let src = tree["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "src")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let entry = |e: &str| app.url(&format!("/api/v1/projects/{id}/files/{e}"));
    let (status, _) = call(c.patch(entry(&src)).json(&json!({ "path": "src/inner" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(c.patch(entry(&src)).json(&json!({ "path": "docs" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "docs is taken");
    let (status, moved) = call(c.patch(entry(&src)).json(&json!({ "path": "lib/core" }))).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let (_, tree) = call(c.get(&files)).await;
    assert_eq!(
        paths(&tree),
        [
            "folder:docs",
            "folder:lib",
            "folder:lib/core",
            "file:lib/core/main.rs",
            "folder:lib/core/util",
            "file:lib/core/util/mod.rs"
        ]
    );
    // The moved file keeps its content and revision history.
    let main_id = main["id"].as_str().unwrap();
    let (_, file) = call(c.get(entry(main_id))).await;
    assert_eq!(file["data"]["content"], "fn main() {}\n");
    assert_eq!(file["data"]["path"], "lib/core/main.rs");

    let (status, deleted) = call(c.delete(entry(&src))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["data"]["deleted"], 4);
    let (_, tree) = call(c.get(&files)).await;
    assert_eq!(paths(&tree), ["folder:docs", "folder:lib"]);
    let (status, _) = call(c.get(entry(main_id))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn size_caps_are_enforced_with_a_named_field() {
    let app = spawn_app_with(&[("AURA_MAX_FILE_KB", "4"), ("AURA_MAX_PROJECT_MB", "1")]).await;
    let c = app.signed_in_client("ada@example.com").await;
    let project = create_project(&app, &c, "Caps").await;
    let id = project["id"].as_str().unwrap();
    let files = app.url(&format!("/api/v1/projects/{id}/files"));
    let (status, body) = call(
        c.post(&files)
            .json(&json!({ "path": "big.txt", "content": "x".repeat(5000) })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "content");
    assert!(body["error"]["message"].as_str().unwrap().contains("4 KiB"));

    // 256 files of 4,000 bytes fit in 1 MiB; the 263rd does not.
    let chunk = "y".repeat(4000);
    let mut refused = None;
    for i in 0..300 {
        let (status, body) = call(
            c.post(&files)
                .json(&json!({ "path": format!("f{i}.txt"), "content": chunk })),
        )
        .await;
        if status != StatusCode::CREATED {
            refused = Some((i, status, body));
            break;
        }
    }
    let (i, status, body) = refused.expect("the project cap refused a file");
    assert_eq!(i, 262);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 MiB limit")
    );
    let (_, tree) = call(c.get(&files)).await;
    assert_eq!(
        tree["data"].as_array().unwrap().len(),
        262,
        "nothing half-written"
    );
}

#[tokio::test]
async fn another_user_gets_404_for_everything() {
    let app = spawn_app().await;
    let ada = app.signed_in_client("ada@example.com").await;
    let eve = app.signed_in_client("eve@example.com").await;
    let project = create_project(&app, &ada, "Secret").await;
    let id = project["id"].as_str().unwrap();
    let file = create_file(&app, &ada, id, "a.py", "x = 1\n").await;
    let file_id = file["id"].as_str().unwrap();

    let base = format!("/api/v1/projects/{id}");
    let attempts = [
        eve.get(app.url(&base)),
        eve.patch(app.url(&base)).json(&json!({ "name": "Mine" })),
        eve.delete(app.url(&base)),
        eve.get(app.url(&format!("{base}/files"))),
        eve.post(app.url(&format!("{base}/files")))
            .json(&json!({ "path": "b.py" })),
        eve.get(app.url(&format!("{base}/files/{file_id}"))),
        eve.put(app.url(&format!("{base}/files/{file_id}")))
            .json(&json!({ "content": "stolen", "base_revision": 1 })),
        eve.get(app.url(&format!("{base}/files/{file_id}/revisions"))),
        eve.post(app.url(&format!("{base}/files/{file_id}/revisions/1/restore"))),
        eve.get(app.url(&format!("{base}/export"))),
        eve.post(app.url(&format!("{base}/analyze"))),
    ];
    for req in attempts {
        let res = req.send().await.unwrap();
        let url = res.url().to_string();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{url}");
    }
    let (_, list) = call(eve.get(app.url("/api/v1/projects"))).await;
    assert!(list["data"]["items"].as_array().unwrap().is_empty());
    // Ada's file is untouched.
    let (_, read) = call(ada.get(app.url(&format!("{base}/files/{file_id}")))).await;
    assert_eq!(read["data"]["content"], "x = 1\n");
    assert_eq!(read["data"]["revision"], 1);
}

#[tokio::test]
async fn a_stale_save_is_refused_with_the_current_version_and_revisions_restore() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let project = create_project(&app, &c, "Edits").await;
    let id = project["id"].as_str().unwrap();
    let file = create_file(&app, &c, id, "main.go", "package main\n").await;
    let url = app.url(&format!(
        "/api/v1/projects/{id}/files/{}",
        file["id"].as_str().unwrap()
    ));

    // Two editors opened revision 1; the first save wins.
    let (status, saved) = call(
        c.put(&url)
            .json(&json!({ "content": "package main\n// tab one\n", "base_revision": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["data"]["revision"], 2);
    let (status, conflict) = call(
        c.put(&url)
            .json(&json!({ "content": "package main\n// tab two\n", "base_revision": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "stale_revision");
    assert_eq!(conflict["error"]["details"]["current"]["revision"], 2);
    assert_eq!(
        conflict["error"]["details"]["current"]["content"],
        "package main\n// tab one\n"
    );
    let (_, read) = call(c.get(&url)).await;
    assert_eq!(
        read["data"]["content"], "package main\n// tab one\n",
        "not overwritten"
    );

    let (status, bad) = call(c.put(&url).json(&json!({ "content": 5 }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");

    // Revisions list newest first with authors; restoring 1 makes revision 3.
    let (_, revisions) = call(c.get(format!("{url}/revisions"))).await;
    let list = revisions["data"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["revision"], 2);
    assert_eq!(list[0]["author_email"], "ada@example.com");
    let (_, old) = call(c.get(format!("{url}/revisions/1"))).await;
    assert_eq!(old["data"]["content"], "package main\n");
    let (status, restored) = call(c.post(format!("{url}/revisions/1/restore"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(restored["data"]["revision"], 3);
    let (_, read) = call(c.get(&url)).await;
    assert_eq!(read["data"]["content"], "package main\n");
    let (_, revisions) = call(c.get(format!("{url}/revisions"))).await;
    assert_eq!(revisions["data"][0]["note"], "Restored revision 1");
    let (status, _) = call(c.post(format!("{url}/revisions/9/restore"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn zip_import_checks_entries_and_export_round_trips() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let import = |name: &str, bytes: Vec<u8>| {
        c.post(app.url(&format!("/api/v1/projects/import?name={name}")))
            .header("content-type", "application/zip")
            .body(bytes)
    };

    let archive = zip_of(&[
        ("shop-main/src/app.py", b"import os\nprint(os.name)\n"),
        ("shop-main/README.md", b"# Shop\n"),
        ("shop-main/logo.png", &[0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe]),
    ]);
    let (status, imported) = call(import("Shop", archive)).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["data"]["files"], 2);
    assert_eq!(imported["data"]["skipped"], json!(["logo.png"]));
    let id = imported["data"]["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, tree) = call(c.get(app.url(&format!("/api/v1/projects/{id}/files")))).await;
    assert_eq!(
        paths(&tree),
        ["file:README.md", "folder:src", "file:src/app.py"]
    );

    // Export, then import the export: same files, same content.
    let res = c
        .get(app.url(&format!("/api/v1/projects/{id}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("shop.zip")
    );
    let exported = res.bytes().await.unwrap().to_vec();
    let (status, again) = call(import("Shop copy", exported)).await;
    assert_eq!(status, StatusCode::CREATED);
    let copy = again["data"]["project"]["id"].as_str().unwrap();
    let (_, tree) = call(c.get(app.url(&format!("/api/v1/projects/{copy}/files")))).await;
    assert_eq!(
        paths(&tree),
        ["file:README.md", "folder:src", "file:src/app.py"]
    );
    let app_py = tree["data"][2]["id"].as_str().unwrap();
    let (_, file) = call(c.get(app.url(&format!("/api/v1/projects/{copy}/files/{app_py}")))).await;
    assert_eq!(file["data"]["content"], "import os\nprint(os.name)\n");

    let (_, before) = call(c.get(app.url("/api/v1/projects"))).await;
    let count = before["data"]["items"].as_array().unwrap().len();

    // Path traversal: refused as a whole, naming the entry.
    let evil = zip_of(&[
        ("ok.txt", b"fine"),
        ("../../etc/cron.d/evil", b"* * * * * rm -rf /"),
    ]);
    let (status, body) = call(import("Evil", evil)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "file");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("../../etc/cron.d/evil")
    );

    // A zip bomb: a few KiB that inflate past the 1 MiB file cap.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = zip_of(&[("bomb.txt", &zeros)]);
    assert!(bomb.len() < 64 * 1024);
    let (status, body) = call(import("Bomb", bomb)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("file size limit")
    );

    let (status, body) = call(import("Junk", b"not a zip".to_vec())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = call(import("", zip_of(&[("a.txt", b"a")]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // None of the refused imports left a project behind.
    let (_, after) = call(c.get(app.url("/api/v1/projects"))).await;
    assert_eq!(after["data"]["items"].as_array().unwrap().len(), count);
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.contains(&"project.import".to_owned()));
    assert!(actions.contains(&"project.export".to_owned()));
}

#[tokio::test]
async fn analyze_reports_findings_for_every_supported_file() {
    let app = spawn_app().await;
    let c = app.signed_in_client("ada@example.com").await;
    let project = create_project(&app, &c, "Scan").await;
    let id = project["id"].as_str().unwrap();
    create_file(&app, &c, id, "app.py", "def f(x):\n    return eval(x)\n").await;
    create_file(&app, &c, id, "broken.rs", "fn main( {\n").await;
    create_file(&app, &c, id, "clean.go", "package main\n\nfunc main() {}\n").await;
    create_file(&app, &c, id, "notes.md", "# eval(x) here is prose\n").await;

    let (status, body) = call(c.post(app.url(&format!("/api/v1/projects/{id}/analyze")))).await;
    assert_eq!(status, StatusCode::OK);
    let files = body["data"]["files"].as_array().unwrap();
    let by_path = |p: &str| files.iter().find(|f| f["path"] == p).unwrap();
    assert_eq!(files.len(), 3, "markdown is not analysed");
    let rules = |p: &str| -> Vec<String> {
        by_path(p)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(rules("app.py"), ["security.eval"]);
    assert!(
        rules("broken.rs").iter().any(|r| r == "syntax"),
        "{:?}",
        rules("broken.rs")
    );
    assert!(rules("clean.go").is_empty());
    let eval = &by_path("app.py")["findings"][0];
    assert_eq!(eval["line"], 2);
    assert_eq!(eval["severity"], "error");
    assert!(!eval["hint"].as_str().unwrap().is_empty());
    assert_eq!(by_path("app.py")["functions"][0]["name"], "f");
}
