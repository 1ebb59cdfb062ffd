//! Model providers and aliases over REST: administrators only, keys sealed at rest (the raw
//! row holds no plain text), aliases routing `llm` steps to a configured provider with its
//! key, "test connection", a wrong secret key stopping start-up, and `aura secrets rotate`
//! moving every secret to a new key.

mod common;

use common::upstream::Upstream;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

async fn app_with(upstream: &Upstream) -> TestApp {
    let llm = format!("{}/v1", upstream.url);
    spawn_app_with(&[
        ("AURA_LLM_BASE_URL", &llm),
        ("AURA_LLM_API_KEY", "sk-env"),
        ("AURA_LLM_MODEL", "env-model"),
        ("AURA_WORKERS", "2"),
    ])
    .await
}

async fn send(
    app: &TestApp,
    c: &Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = c
        .request(method, app.url(path))
        .header("Origin", &app.address);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let res = request.send().await.unwrap();
    (res.status(), json(res).await)
}

fn provider(upstream: &Upstream, key: &str) -> Value {
    json!({
        "name": "upstream",
        "protocol": "openai",
        "base_url": format!("{}/v1", upstream.url),
        "api_key": key,
        "models": [{ "name": "gpt-test" }, { "name": "gpt-4o-mini" }, { "name": "cheap", "input_per_million": 0.1, "output_per_million": 0.2 }],
    })
}

async fn stored_api_keys(app: &TestApp) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query_as::<_, (Option<String>,)>("SELECT api_key FROM model_providers")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(k,)| k)
        .collect()
}

#[tokio::test]
async fn admins_configure_providers_whose_keys_are_sealed_and_aliases_route_steps() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let admin = app.signed_in_client("ada@example.com").await;
    let member = app.signed_in_client("bob@example.com").await;
    use reqwest::Method;

    // Only the environment's provider, read-only, and its `default` alias.
    let (status, body) = send(&app, &admin, Method::GET, "/api/v1/models/providers", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["source"], "environment");
    assert_eq!(body["data"][0]["name"], "openai");
    assert_eq!(body["data"][0]["api_key_hint"], "…-env");
    let (_, aliases) = send(&app, &admin, Method::GET, "/api/v1/models/aliases", None).await;
    assert_eq!(
        aliases["data"],
        json!([{ "name": "default", "targets": ["openai/env-model"], "source": "environment" }])
    );

    // A member may not even look.
    let (status, body) = send(&app, &member, Method::GET, "/api/v1/models/providers", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Bad input names each field; nothing is stored.
    let (status, body) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/providers",
        Some(json!({ "name": "a/b", "protocol": "openai", "base_url": "ftp://x", "api_key": "k", "models": [] })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "base_url", "models"], "{body}");
    let (status, _) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/providers",
        Some(json!({ "name": "x", "protocol": "gemini", "base_url": "https://x.example", "models": [{ "name": "m" }] })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stored_api_keys(&app).await.is_empty());

    // Created: the key is sealed, shown only as a hint; known models get known prices.
    let (status, body) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/providers",
        Some(provider(&upstream, "sk-upstream-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = &body["data"];
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["api_key_hint"], "…cret");
    assert!(!body.to_string().contains("sk-upstream-secret"));
    assert_eq!(
        created["models"][1],
        json!({ "name": "gpt-4o-mini", "input_per_million": 0.15, "output_per_million": 0.6 })
    );
    assert_eq!(created["models"][2]["input_per_million"], 0.1);
    let stored = stored_api_keys(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].starts_with("v1.") && !stored[0].contains("sk-upstream"),
        "{stored:?}"
    );
    let audit = app.audit_actions().await;
    assert!(
        audit
            .iter()
            .any(|(action, ..)| action == "model_provider.save")
    );
    let details: Vec<(Option<String>,)> = {
        let mut conn = sqlx::AnyConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query_as("SELECT detail FROM audit_events WHERE action = 'model_provider.save'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    let detail = details[0].0.clone().unwrap();
    assert!(
        detail.contains("\"key\":\"set\"") && !detail.contains("sk-upstream"),
        "{detail}"
    );

    // A second provider with the same name is refused.
    let (status, body) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/providers",
        Some(provider(&upstream, "k2")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"][0]["field"], "name");

    // An alias to it; a target that names no provider is refused.
    let (status, body) = send(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/models/aliases/fast",
        Some(json!({ "targets": ["nowhere/m"] })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = send(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/models/aliases/fast",
        Some(json!({ "targets": ["upstream/gpt-test", "openai/env-model"] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A step naming the alias reaches the provider, with its (unsealed) key.
    let wf = app
        .create_workflow(
            &admin,
            json!([{ "id": "ask", "type": "llm", "config": { "model": "fast", "prompt": "{{ input.name }}" } }]),
        )
        .await;
    let run = app.start_run(&admin, &wf, json!({ "name": "Ada" })).await;
    let data = app.finished_run(&admin, &run).await;
    let ask = &steps_by_id(&data)["ask"];
    assert_eq!(ask["status"], "succeeded", "{data}");
    assert_eq!(ask["output"]["target"], "upstream/gpt-test");
    let sent = upstream.chats();
    assert_eq!(
        sent.last().unwrap()["authorization"],
        "Bearer sk-upstream-secret"
    );

    // Test connection: the answer, or the provider's own error.
    let (status, body) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/test",
        Some(json!({ "model": "upstream/gpt-test" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["ok"], true, "{body}");
    assert!(
        body["data"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Hello")
    );
    let (_, body) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/test",
        Some(json!({ "model": "upstream/missing" })),
    )
    .await;
    assert_eq!(body["data"]["ok"], false);
    assert!(
        body["data"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{body}"
    );
    // Both tests are in the ledger, under the admin.
    let (_, me) = send(&app, &admin, Method::GET, "/api/v1/me", None).await;
    let calls = app
        .store
        .llm_calls_of_user(me["data"]["id"].as_str().unwrap(), 10)
        .await
        .unwrap();
    let tests: Vec<(&str, &str)> = calls
        .iter()
        .filter(|c| c.source == "test")
        .map(|c| (c.alias.as_str(), c.outcome.as_str()))
        .collect();
    assert_eq!(
        tests,
        vec![("upstream/missing", "error"), ("upstream/gpt-test", "ok")]
    );

    // An edit without `api_key` keeps the key; deleting removes the sealed row.
    let mut edit = provider(&upstream, "");
    edit.as_object_mut().unwrap().remove("api_key");
    edit["models"] = json!([{ "name": "gpt-test" }]);
    let (status, body) = send(
        &app,
        &admin,
        Method::PUT,
        &format!("/api/v1/models/providers/{id}"),
        Some(edit),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["api_key_hint"], "…cret");
    let (status, _) = send(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/models/providers/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(stored_api_keys(&app).await.is_empty());
    let (status, _) = send(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/models/providers/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn api_keys_need_the_admin_scope_on_an_admins_key() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let admin = app.signed_in_client("ada@example.com").await;
    let make = |scopes: &'static [&'static str]| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let mut form = vec![("name", "k"), ("expires_in_days", "")];
            for scope in scopes {
                form.push((scope, "on"));
            }
            let res = app.post(&admin, "/api/keys/create", &form).await;
            json(res).await["secret"].as_str().unwrap().to_owned()
        }
    };
    let bare = Client::new();
    let reader = make(&["read", "write"]).await;
    let res = bare
        .get(app.url("/api/v1/models/providers"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        json(res).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`admin`")
    );
    let admin_key = make(&["admin"]).await;
    let res = bare
        .get(app.url("/api/v1/models/providers"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_secret_key_stops_start_up_and_rotation_moves_every_secret() {
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let admin = app.signed_in_client("ada@example.com").await;
    let (status, _) = send(
        &app,
        &admin,
        reqwest::Method::POST,
        "/api/v1/models/providers",
        Some(provider(&upstream, "sk-upstream-secret")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let before = stored_api_keys(&app).await;

    let build = |key: String| {
        let url = app.database_url.clone();
        async move {
            let env = [
                ("AURA_DATABASE_URL".to_owned(), url),
                ("AURA_SECRET_KEY".to_owned(), key),
                ("AURA_WORKERS".to_owned(), "0".to_owned()),
            ]
            .into_iter()
            .collect();
            let mut config = aura_server::config::Config::load(&aura_server::config::Sources {
                file_text: None,
                env,
            })
            .unwrap();
            config.evaluator = evaluator();
            aura_server::build(config).await.map(|_| ())
        }
    };
    let wrong = "ff".repeat(32);
    let err = build(wrong.clone()).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("sealed with key") && message.contains("aura secrets rotate"),
        "{message}"
    );

    // Rotation with the real binary: every secret sealed again, under the new key.
    let new_key = "ab".repeat(32);
    let mut rotate = tokio::process::Command::new(env!("CARGO_BIN_EXE_aura"));
    rotate
        .args(["--json", "secrets", "rotate", "--new-key-stdin"])
        .env("AURA_DATABASE_URL", &app.database_url)
        .env("AURA_SECRET_KEY", TEST_SECRET_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = rotate.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("{new_key}\n").as_bytes())
            .await
            .unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["secrets"], 1);
    assert_eq!(
        report["new_key"],
        new_key.as_str(),
        "the key to set is printed"
    );
    let after = stored_api_keys(&app).await;
    assert_ne!(before, after);
    assert!(after[0].starts_with(&format!("v1.{}.", report["new_key_id"].as_str().unwrap())));

    // The old key no longer opens the database; the new one does, and the key works.
    assert!(build(TEST_SECRET_KEY.to_owned()).await.is_err());
    build(new_key.clone())
        .await
        .expect("starts with the new key");
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(action, ..)| action == "secrets.rotate"));
}

#[tokio::test]
async fn each_call_is_one_ledger_row_cache_hits_cost_nothing_and_budgets_refuse() {
    use reqwest::Method;
    let upstream = Upstream::start().await;
    let app = app_with(&upstream).await;
    let admin = app.signed_in_client("ada@example.com").await;
    let mut priced = provider(&upstream, "sk-upstream-secret");
    priced["models"] =
        json!([{ "name": "gpt-test", "input_per_million": 1.0, "output_per_million": 2.0 }]);
    let (status, _) = send(
        &app,
        &admin,
        Method::POST,
        "/api/v1/models/providers",
        Some(priced),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, me) = send(&app, &admin, Method::GET, "/api/v1/me", None).await;
    let user_id = me["data"]["id"].as_str().unwrap().to_owned();

    let ask = |cache: Option<bool>| {
        let mut config =
            json!({ "model": "upstream/gpt-test", "prompt": "{{ input.name }}", "temperature": 0 });
        if let Some(cache) = cache {
            config["cache"] = json!(cache);
        }
        json!([{ "id": "ask", "type": "llm", "config": config }])
    };
    let run = |steps: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let wf = app.create_workflow(&admin, steps).await;
            let run = app.start_run(&admin, &wf, json!({ "name": "Ada" })).await;
            let data = app.finished_run(&admin, &run).await;
            (wf, run, data)
        }
    };

    // The first call: paid, and one ledger row saying so.
    let (wf, first, data) = run(ask(None)).await;
    let step = &steps_by_id(&data)["ask"];
    assert_eq!(step["output"]["cached"], false, "{data}");
    assert_eq!(step["output"]["cost_usd"], 0.000013);
    let rows = app.store.llm_calls_of_run(&first).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (
            row.user_id.as_str(),
            row.workflow_id.as_deref(),
            row.step_id.as_deref(),
            row.source.as_str()
        ),
        (user_id.as_str(), Some(wf.as_str()), Some("ask"), "step")
    );
    assert_eq!(row.alias, "upstream/gpt-test");
    assert_eq!(row.target.as_deref(), Some("upstream/gpt-test"));
    assert_eq!(
        (
            row.input_tokens,
            row.output_tokens,
            row.cost_micros,
            row.cached
        ),
        (7, 3, 13, 0)
    );
    assert_eq!(row.outcome, "ok");
    assert_eq!(upstream.chats().len(), 1);

    // The same request at temperature 0: answered from the cache, free, never sent.
    let (_, second, data) = run(ask(None)).await;
    let step = &steps_by_id(&data)["ask"];
    assert_eq!(step["output"]["cached"], true, "{data}");
    assert_eq!(step["output"]["text"], "Hello, Ada!");
    assert_eq!(step["output"]["cost_usd"], 0.0);
    assert!(log_text(&app, &admin, &second).await.contains("(cached)"));
    assert_eq!(upstream.chats().len(), 1, "the cache answered");
    let row = &app.store.llm_calls_of_run(&second).await.unwrap()[0];
    assert_eq!((row.cached, row.cost_micros, row.input_tokens), (1, 0, 0));

    // A step may turn the cache off.
    let (_, _, data) = run(ask(Some(false))).await;
    assert_eq!(steps_by_id(&data)["ask"]["output"]["cached"], false);
    assert_eq!(upstream.chats().len(), 2);

    // A budget of 20 tokens a month: 20 are used, so the next call is refused, once,
    // naming the budget, and the refusal is in the ledger.
    let (status, body) = send(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/models/budgets",
        Some(json!({ "scope": "user", "subject_id": "ada@example.com", "max_tokens": 20 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["used_tokens"], 20);
    // Named by email, stored by id, listed by email.
    assert_eq!(body["data"]["subject_id"], user_id.as_str());
    assert_eq!(body["data"]["subject"], "ada@example.com");
    let (_, refused, data) = run(ask(Some(false))).await;
    let step = &steps_by_id(&data)["ask"];
    assert_eq!(step["status"], "failed");
    assert_eq!(step["attempt"], 1, "a used-up budget is not retried");
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .contains("monthly model budget of this user is used up: 20 tokens"),
        "{step}"
    );
    assert_eq!(upstream.chats().len(), 2, "nothing was sent");
    let row = &app.store.llm_calls_of_run(&refused).await.unwrap()[0];
    assert_eq!(row.outcome, "refused");

    // Bad budgets name their field.
    let (status, body) = send(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/models/budgets",
        Some(json!({ "scope": "team", "subject_id": "nobody" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["scope", "max_tokens"], "{body}");
    let id = {
        let (_, list) = send(&app, &admin, Method::GET, "/api/v1/models/budgets", None).await;
        list["data"][0]["id"].as_str().unwrap().to_owned()
    };
    let (status, _) = send(
        &app,
        &admin,
        Method::DELETE,
        &format!("/api/v1/models/budgets/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, data) = run(ask(Some(false))).await;
    assert_eq!(steps_by_id(&data)["ask"]["status"], "succeeded");

    // 30 tokens used of a 36-token budget is over 80%: the next calls go through, and the
    // user is told once this month.
    let (status, body) = send(
        &app,
        &admin,
        Method::PUT,
        "/api/v1/models/budgets",
        Some(json!({ "scope": "user", "subject_id": "ada@example.com", "max_tokens": 36 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["used_tokens"], 30);
    let (_, _, data) = run(ask(Some(false))).await;
    assert_eq!(steps_by_id(&data)["ask"]["status"], "succeeded");
    let nearly = |list: &Value| {
        list["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "budget_nearly_used")
            .cloned()
            .collect::<Vec<_>>()
    };
    let (_, list) = send(&app, &admin, Method::GET, "/api/v1/notifications", None).await;
    let notices = nearly(&list);
    assert_eq!(notices.len(), 1, "{list}");
    assert!(
        notices[0]["body"]
            .as_str()
            .unwrap()
            .contains("30 of 36 tokens"),
        "{list}"
    );
    let (_, _, _) = run(ask(Some(false))).await;
    let (_, list) = send(&app, &admin, Method::GET, "/api/v1/notifications", None).await;
    assert_eq!(nearly(&list).len(), 1, "once a month: {list}");
}

async fn log_text(app: &TestApp, c: &Client, run: &str) -> String {
    let res = c
        .get(app.url(&format!("/api/v1/runs/{run}/events?until=caught_up")))
        .send()
        .await
        .unwrap();
    res.text().await.unwrap()
}
