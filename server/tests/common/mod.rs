//! Test harness: starts the real app on port 0 with a fresh database and talks HTTP to it.
//!
//! The database is SQLite in a temporary file, or, when `AURA_TEST_POSTGRES_URL` points at
//! a PostgreSQL server (the test command starts a throwaway cluster), a new database
//! created for this test alone.

#![allow(dead_code)]

pub mod binary;
pub mod model_script;
pub mod upstream;

use aura_server::config::{Config, Sources};
use aura_store::Store;
use reqwest::header::HeaderMap;
use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::Value;
use sqlx::Connection;
use std::collections::HashMap;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery staple";

/// The key that seals the test apps' secrets (a key file would land in the crate).
pub const TEST_SECRET_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub store: Store,
    pub engine: aura_engine::Engine,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A new, empty database: a SQLite file, or a PostgreSQL database when the suite runs there.
pub async fn fresh_database_url() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var("AURA_TEST_POSTGRES_URL") {
        Ok(admin_url) => {
            let name = format!("aura_test_{id}");
            let mut conn = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to test PostgreSQL");
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("AURA_TEST_POSTGRES_URL has a database path");
            format!("{base}/{name}")
        }
        Err(_) => {
            let dir = std::env::temp_dir().join("aura-tests");
            format!("sqlite://{}/{id}.db", dir.display())
        }
    }
}

/// The built `aura` binary as the template evaluator (this test binary cannot be one).
pub fn evaluator() -> aura_engine::EvaluatorProgram {
    aura_engine::EvaluatorProgram {
        program: env!("CARGO_BIN_EXE_aura").into(),
        args: vec![aura_engine::EVALUATOR_ARG.into()],
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra `AURA_*` settings.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    spawn_app_on(fresh_database_url().await, settings).await
}

/// Starts another app on an existing database: a second instance sharing it.
pub async fn spawn_app_on(database_url: String, settings: &[(&str, &str)]) -> TestApp {
    let mut env: HashMap<String, String> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("AURA_DATABASE_URL".into(), database_url.clone());
    env.insert("AURA_DATABASE_MAX_CONNECTIONS".into(), "4".into());
    env.entry("AURA_SECRET_KEY".into())
        .or_insert_with(|| TEST_SECRET_KEY.into());
    let mut config = Config::load(&Sources {
        file_text: None,
        env,
    })
    .expect("test config is valid");
    config.evaluator = evaluator();
    let (router, services) = aura_server::build(config).await.expect("app builds");
    let store = services.store.clone();
    let engine = services.engine.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(aura_server::serve(listener, router, services, async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        database_url,
        store,
        engine,
        shutdown: Some(tx),
    }
}

/// A browser-like client: keeps cookies, does not follow redirects, sends a user agent.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .user_agent("aura-tests/1.0")
        // A hung request fails its test with a message instead of stalling the suite.
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Talking HTTP to an Aura: the in-process test app or the real binary.
#[allow(async_fn_in_trait)]
pub trait Api {
    fn url(&self, path: &str) -> String;

    async fn post(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(endpoint))
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    async fn sign_up(&self, client: &Client, email: &str, name: &str, password: &str) -> Response {
        self.post(
            client,
            "/api/auth/sign_up",
            &[
                ("email", email),
                ("display_name", name),
                ("password", password),
            ],
        )
        .await
    }

    async fn sign_in(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post(
            client,
            "/api/auth/sign_in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs up a new account on a fresh client and returns the client, signed in.
    async fn signed_in_client(&self, email: &str) -> Client {
        let c = client();
        let res = self.sign_up(&c, email, "Test User", PASSWORD).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "sign-up of {email}: {}",
            res.text().await.unwrap()
        );
        c
    }

    /// Creates a workflow with these steps through the API; returns its id.
    async fn create_workflow(&self, c: &Client, steps: Value) -> String {
        let res = c
            .post(self.url("/api/v1/workflows"))
            .json(&serde_json::json!({ "name": "Test", "definition": { "steps": steps } }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = json(res).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// A project file as the API reads it: `{path, revision, content, …}`.
    async fn file_at(&self, c: &Client, project: &str, entry: &str) -> Value {
        let res = c
            .get(self.url(&format!("/api/v1/projects/{project}/files/{entry}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        json(res).await["data"].clone()
    }

    /// The note of a file's newest revision.
    async fn newest_note(&self, c: &Client, project: &str, entry: &str) -> String {
        let res = c
            .get(self.url(&format!(
                "/api/v1/projects/{project}/files/{entry}/revisions"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        json(res).await["data"][0]["note"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Creates a project (name and slug `slug`) with these files; returns its id and each
    /// file's entry id by path.
    async fn project_with(
        &self,
        c: &Client,
        slug: &str,
        files: &[(&str, &str)],
    ) -> (String, HashMap<String, String>) {
        let res = c
            .post(self.url("/api/v1/projects"))
            .json(&serde_json::json!({ "name": slug, "slug": slug }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = json(res).await["data"]["id"].as_str().unwrap().to_owned();
        let mut entries = HashMap::new();
        for (path, content) in files {
            let res = c
                .post(self.url(&format!("/api/v1/projects/{id}/files")))
                .json(&serde_json::json!({ "path": path, "content": content }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED, "{path}");
            let entry = json(res).await["data"]["id"].as_str().unwrap().to_owned();
            entries.insert(path.to_string(), entry);
        }
        (id, entries)
    }

    /// Starts a run through the API; returns its id.
    async fn start_run(&self, c: &Client, workflow: &str, input: Value) -> String {
        let res = c
            .post(self.url(&format!("/api/v1/workflows/{workflow}/runs")))
            .json(&serde_json::json!({ "input": input }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = json(res).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates a workflow, runs it with `input` and waits for the end: `(run id, {run, steps})`.
    async fn run_once(&self, c: &Client, steps: Value, input: Value) -> (String, Value) {
        let workflow = self.create_workflow(c, steps).await;
        let run = self.start_run(c, &workflow, input).await;
        let data = self.finished_run(c, &run).await;
        (run, data)
    }

    /// `{run, steps}` of a run.
    async fn run(&self, c: &Client, run: &str) -> Value {
        let res = c
            .get(self.url(&format!("/api/v1/runs/{run}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        json(res).await["data"].clone()
    }

    /// Waits (up to 30 s) until the run ends; returns `{run, steps}`.
    async fn finished_run(&self, c: &Client, run: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let data = self.run(c, run).await;
            if ["succeeded", "failed", "cancelled"]
                .contains(&data["run"]["status"].as_str().unwrap())
            {
                return data;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run did not finish: {data}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

impl Api for TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Api for binary::Binary {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl TestApp {
    /// Runs SQL on the app's database, to arrange what the API cannot (events from long
    /// ago); returns the rows affected.
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .unwrap();
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .unwrap()
            .rows_affected()
    }

    pub async fn audit_actions(&self) -> Vec<(String, String, Option<String>)> {
        let page = self
            .store
            .list_audit_events(&aura_store::AuditFilter {
                limit: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        page.events
            .into_iter()
            .map(|e| (e.action, e.outcome, e.actor_email))
            .collect()
    }
}

pub async fn json(res: Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// The value of our session cookie in a `Set-Cookie` header, if one was set.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("aura_session=") || v.starts_with("__Host-aura_session="))
        .map(str::to_owned)
}

/// `step id → step` of a run's `{run, steps}`.
pub fn steps_by_id(data: &Value) -> HashMap<String, Value> {
    data["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step_id"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

/// The principal of a signed-up user, for calling services directly.
pub async fn principal_of(app: &TestApp, email: &str) -> aura_store::Principal {
    let (user, _) = app
        .store
        .find_user_credentials(email)
        .await
        .unwrap()
        .unwrap();
    aura_store::Principal::session(user, aura_store::Origin::default())
}
