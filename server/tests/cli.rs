//! The `aura` command line, run as the real binary against a live server: login, pushing
//! and pulling workflows, starting a run and waiting for its output, following its
//! events to the end, projects pushed and pulled, errors that say what to do, and the
//! offline analysis with its exit code and SARIF.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// A scratch directory for one test, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir()
            .join("aura-tests")
            .join(format!("cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `aura ARGS` with its config file in `scratch`, no inherited login, stdin from
/// `stdin`; fails the test if it takes over a minute.
async fn aura(scratch: &Scratch, args: &[&str], stdin: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_aura"))
        .args(args)
        .current_dir(&scratch.0)
        .env("AURA_CLI_CONFIG", scratch.path("config/aura.toml"))
        .env_remove("AURA_URL")
        .env_remove("AURA_API_KEY")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the aura binary starts");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("`aura {}` did not end within a minute", args.join(" ")))
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the command succeeded and returns its stdout.
fn ok(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// A signed-up user with an API key (read, write, run), logged in through the CLI.
async fn logged_in(app: &TestApp, scratch: &Scratch) -> String {
    let c = app.signed_in_client("ada@example.com").await;
    let res = app
        .post(
            &c,
            "/api/keys/create",
            &[
                ("name", "cli"),
                ("read", "on"),
                ("write", "on"),
                ("run", "on"),
                ("expires_in_days", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let key = json(res).await["secret"].as_str().unwrap().to_owned();
    let out = aura(
        scratch,
        &["login", "--url", &app.address],
        &format!("{key}\n"),
    )
    .await;
    let stdout = ok(&out, "login");
    assert!(
        stdout.contains("Logged in") && stdout.contains("ada@example.com"),
        "{stdout}"
    );
    assert!(stdout.contains("read, write, run"), "{stdout}");
    key
}

const GREETING: &str = r#"{
  "name": "greeting",
  "description": "Says hello, loudly",
  "definition": { "steps": [
    { "id": "greet", "type": "template", "config": { "template": "Hello {{ input.name }}" }, "next": [{ "to": "shout" }] },
    { "id": "shout", "type": "template", "config": { "template": "{{ steps.greet.output | upper }}" } }
  ] }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_push_and_run_a_workflow_to_its_output() {
    let app = spawn_app().await;
    let scratch = Scratch::new();

    // Before login every command says how to log in.
    let out = aura(&scratch, &["workflows", "list"], "").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("aura login"),
        "{}",
        text(&out.stderr)
    );

    // A key that is not a key is refused before anything is saved.
    let out = aura(&scratch, &["login", "--url", &app.address], "hunter2\n").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("aura_"));
    assert!(!scratch.path("config/aura.toml").exists());
    // A well-formed but unknown key: the server's 401, with what to do.
    let fake = format!("aura_{}", "0".repeat(48));
    let out = aura(&scratch, &["login", "--url", &app.address], &fake).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("HTTP 401"),
        "{}",
        text(&out.stderr)
    );
    assert!(!scratch.path("config/aura.toml").exists());

    let key = logged_in(&app, &scratch).await;
    // The login is stored for the owner alone.
    let config = scratch.path("config/aura.toml");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "config mode {mode:o}");
    assert!(std::fs::read_to_string(&config).unwrap().contains(&key));

    let out = aura(&scratch, &["workflows", "list"], "").await;
    assert!(ok(&out, "empty list").contains("No workflows yet"));

    // Push creates, a second push of the same name saves the next version.
    scratch.write("greeting.json", GREETING);
    let out = aura(&scratch, &["workflows", "push", "greeting.json"], "").await;
    assert!(
        ok(&out, "push").contains("Created workflow greeting"),
        "{}",
        text(&out.stdout)
    );
    scratch.write("greeting.json", &GREETING.replace("Hello", "Hi"));
    let out = aura(&scratch, &["workflows", "push", "greeting.json"], "").await;
    assert!(ok(&out, "push again").contains("at version 2"));
    let out = aura(&scratch, &["--json", "workflows", "list"], "").await;
    let listed: Value = serde_json::from_str(&ok(&out, "list --json")).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["current_version"], 2);
    let out = aura(&scratch, &["workflows", "list"], "").await;
    let table = ok(&out, "list");
    assert!(
        table.starts_with("ID") && table.contains("greeting"),
        "{table}"
    );

    // A definition the server refuses: each problem named, exit 1, nothing saved.
    scratch.write(
        "broken.json",
        r#"{"name": "broken", "definition": {"steps": [{"id": "a", "type": "template", "config": {}, "next": [{"to": "nowhere"}]}]}}"#,
    );
    let out = aura(&scratch, &["workflows", "push", "broken.json"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("HTTP 422") && stderr.contains("step a"),
        "{stderr}"
    );

    // Pull writes a file that pushes back; one that carries an old version is a conflict.
    let out = aura(
        &scratch,
        &["workflows", "pull", "greeting", "-o", "pulled.json"],
        "",
    )
    .await;
    ok(&out, "pull");
    let pulled: Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.path("pulled.json")).unwrap())
            .unwrap();
    assert_eq!(pulled["version"], 2);
    assert_eq!(
        pulled["definition"]["steps"][0]["config"]["template"],
        "Hi {{ input.name }}"
    );
    let mut stale = pulled.clone();
    stale["version"] = json!(1);
    scratch.write("stale.json", &stale.to_string());
    let out = aura(&scratch, &["workflows", "push", "stale.json"], "").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("HTTP 409"),
        "{}",
        text(&out.stderr)
    );

    // `runs start --wait` prints the run's output and nothing else on stdout.
    scratch.write("input.json", r#"{"name": "Ada"}"#);
    let out = aura(
        &scratch,
        &[
            "runs",
            "start",
            "greeting",
            "--input",
            "@input.json",
            "--wait",
        ],
        "",
    )
    .await;
    let output: Value = serde_json::from_str(&ok(&out, "runs start --wait")).unwrap();
    assert_eq!(output, json!("HI ADA"));

    // Input from stdin, and a bad input is a usage error naming where it came from.
    let out = aura(
        &scratch,
        &[
            "--json", "runs", "start", "greeting", "--input", "-", "--wait",
        ],
        r#"{"name": "Grace"}"#,
    )
    .await;
    let detail: Value = serde_json::from_str(&ok(&out, "--json --wait")).unwrap();
    assert_eq!(detail["run"]["status"], "succeeded");
    assert_eq!(detail["output"], "HI GRACE");
    assert_eq!(detail["steps"].as_array().unwrap().len(), 2);
    let out = aura(
        &scratch,
        &["runs", "start", "greeting", "--input", "[1]"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--input"),
        "{}",
        text(&out.stderr)
    );

    let out = aura(&scratch, &["runs", "list", "--workflow", "greeting"], "").await;
    let table = ok(&out, "runs list");
    assert_eq!(table.matches("succeeded").count(), 2, "{table}");

    // An unknown run is the server's 404, with its request id.
    let out = aura(&scratch, &["runs", "show", "no-such-run"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("HTTP 404 not_found, request "), "{stderr}");

    // Secrets: the value from stdin, only the name back.
    let out = aura(
        &scratch,
        &["secrets", "set", "API_TOKEN"],
        "tok-cli-0123456789\n",
    )
    .await;
    assert!(ok(&out, "secrets set").contains("secrets.API_TOKEN"));
    let out = aura(&scratch, &["secrets", "list"], "").await;
    let table = ok(&out, "secrets list");
    assert!(
        table.contains("API_TOKEN") && !table.contains("tok-cli"),
        "{table}"
    );
    let out = aura(&scratch, &["secrets", "set", "bad name"], "x\n").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("HTTP 422"),
        "{}",
        text(&out.stderr)
    );
    let out = aura(&scratch, &["secrets", "delete", "API_TOKEN"], "").await;
    ok(&out, "secrets delete");

    let out = aura(&scratch, &["whoami"], "").await;
    assert!(ok(&out, "whoami").contains("ada@example.com"));
    let out = aura(&scratch, &["logout"], "").await;
    ok(&out, "logout");
    assert!(!config.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_a_run_prints_its_events_and_ends_with_it() {
    let app = spawn_app().await;
    let scratch = Scratch::new();
    logged_in(&app, &scratch).await;
    // The first step keeps a core busy for a while, so the run is still going when the
    // follower connects; the last one fails.
    scratch.write(
        "slow.json",
        r#"{"name": "slow", "definition": {"steps": [
            {"id": "work", "type": "script", "config": {"code": "console.log('working'); const t = Date.now(); while (Date.now() - t < 1500) {} return 7;"}, "next": [{"to": "check"}]},
            {"id": "check", "type": "script", "config": {"code": "throw new Error('seven is not enough')"}}
        ]}}"#,
    );
    ok(
        &aura(&scratch, &["workflows", "push", "slow.json"], "").await,
        "push",
    );
    let out = aura(&scratch, &["--json", "runs", "start", "slow"], "").await;
    let run: Value = serde_json::from_str(&ok(&out, "start")).unwrap();
    let run_id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(run["status"], "queued");

    let out = aura(&scratch, &["runs", "logs", &run_id, "--follow"], "").await;
    // It ended by itself (within `aura`'s minute), after the run's last event.
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&out.stdout);
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines.last().unwrap().contains("run failed"),
        "last line: {log}"
    );
    for expected in [
        "run queued",
        "step work started",
        "work │ working",
        "step work succeeded",
        "seven is not enough",
    ] {
        assert!(log.contains(expected), "`{expected}` missing from:\n{log}");
    }

    // Without --follow: the same events, then it ends.
    let out = aura(&scratch, &["runs", "logs", &run_id], "").await;
    assert_eq!(text(&out.stdout), log);

    // Waiting on a run that fails: exit 1 and the failing step on stderr.
    let out = aura(&scratch, &["runs", "start", "slow", "--follow"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("failed") && stderr.contains("step check") && stderr.contains("seven"),
        "{stderr}"
    );

    let out = aura(&scratch, &["runs", "show", &run_id], "").await;
    let shown = ok(&out, "show");
    assert!(shown.contains("work") && shown.contains("check") && shown.contains("failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_approval_is_shown_and_decided_from_the_cli() {
    let app = spawn_app().await;
    let scratch = Scratch::new();
    logged_in(&app, &scratch).await;
    scratch.write(
        "gate.json",
        r#"{"name": "gate", "definition": {"steps": [
            {"id": "review", "type": "approval", "config": {"message": "Ship {{ input.v }}?"}, "next": [{"to": "done"}]},
            {"id": "done", "type": "template", "config": {"template": "{{ steps.review.output.comment }}"}}
        ]}}"#,
    );
    ok(
        &aura(&scratch, &["workflows", "push", "gate.json"], "").await,
        "push",
    );
    let mut runs = Vec::new();
    for _ in 0..2 {
        let out = aura(
            &scratch,
            &[
                "--json",
                "runs",
                "start",
                "gate",
                "--input",
                r#"{"v": "2.0"}"#,
            ],
            "",
        )
        .await;
        let run: Value = serde_json::from_str(&ok(&out, "start")).unwrap();
        runs.push(run["id"].as_str().unwrap().to_owned());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = aura(&scratch, &["runs", "list", "--status", "waiting"], "").await;
        if ok(&out, "list").matches("waiting").count() >= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "runs never waited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = aura(&scratch, &["runs", "logs", &runs[0]], "").await;
    let log = ok(&out, "logs");
    assert!(
        log.contains("step review waits for a decision: Ship 2.0?")
            && log.contains(&format!("aura runs approve|reject {} review", runs[0])),
        "{log}"
    );
    let out = aura(
        &scratch,
        &["runs", "approve", &runs[0], "review", "--comment", "go"],
        "",
    )
    .await;
    assert!(ok(&out, "approve").contains("Approved step review of run"));
    let out = aura(
        &scratch,
        &["--json", "runs", "reject", &runs[1], "review"],
        "",
    )
    .await;
    let rejected: Value = serde_json::from_str(&ok(&out, "reject")).unwrap();
    assert_eq!(rejected["id"], runs[1].as_str());
    // Each run went on with its decision.
    for (run, comment) in runs.iter().zip(["go", ""]) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let detail = loop {
            let out = aura(&scratch, &["--json", "runs", "show", run], "").await;
            let detail: Value = serde_json::from_str(&ok(&out, "show")).unwrap();
            if detail["run"]["status"] == "succeeded" {
                break detail;
            }
            assert!(std::time::Instant::now() < deadline, "{detail}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(detail["output"], comment, "{detail}");
    }
    // `--wait` waits through the approval and says so on stderr; stdout is the output.
    let waiting = aura(
        &scratch,
        &[
            "runs",
            "start",
            "gate",
            "--input",
            r#"{"v": "3.0"}"#,
            "--wait",
        ],
        "",
    );
    let decide = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let out = aura(
                &scratch,
                &["--json", "runs", "list", "--status", "waiting"],
                "",
            )
            .await;
            let page: Value = serde_json::from_str(&ok(&out, "list")).unwrap();
            if let Some(run) = page["runs"][0]["id"].as_str() {
                let out = aura(
                    &scratch,
                    &["runs", "approve", run, "review", "--comment", "three"],
                    "",
                )
                .await;
                ok(&out, "approve");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never waited");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (out, ()) = tokio::join!(waiting, decide);
    assert_eq!(ok(&out, "start --wait").trim(), r#""three""#);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "step review waits for a decision: Ship 3.0? (decide with `aura runs approve|reject"
        ),
        "{stderr}"
    );

    // Deciding twice: a clear error and exit code 1.
    let out = aura(&scratch, &["runs", "approve", &runs[0], "review"], "").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not waiting"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_push_and_pull_a_directory() {
    let app = spawn_app().await;
    let scratch = Scratch::new();
    logged_in(&app, &scratch).await;
    scratch.write("service/src/main.py", "print('hi')\n");
    scratch.write("service/README.md", "# service\n");
    scratch.write("service/.git/HEAD", "ref: refs/heads/main\n");
    std::fs::write(
        scratch.path("service/logo.png"),
        [0x89, b'P', b'N', b'G', 0, 0xff],
    )
    .unwrap();

    let out = aura(&scratch, &["projects", "push", "service"], "").await;
    let stdout = ok(&out, "first push");
    assert!(stdout.contains("Created project service"), "{stdout}");
    assert!(
        stdout.contains("logo.png"),
        "binary file reported: {stdout}"
    );

    // A second push changes one file and adds one: revisions, not a new project.
    scratch.write("service/src/main.py", "print('hello')\n");
    scratch.write("service/src/util.py", "X = 1\n");
    let out = aura(&scratch, &["--json", "projects", "push", "service"], "").await;
    let pushed: Value = serde_json::from_str(&ok(&out, "second push")).unwrap();
    assert_eq!(pushed["updated"], json!(["src/main.py"]));
    assert_eq!(pushed["created"], json!(["src/util.py"]));
    assert_eq!(pushed["unchanged"], 1);
    let out = aura(&scratch, &["--json", "projects", "list"], "").await;
    let listed: Value = serde_json::from_str(&ok(&out, "list")).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let out = aura(&scratch, &["projects", "pull", "service", "copy"], "").await;
    ok(&out, "pull");
    let read = |p: &str| std::fs::read_to_string(scratch.path("copy").join(p)).unwrap();
    assert_eq!(read("src/main.py"), "print('hello')\n");
    assert_eq!(read("src/util.py"), "X = 1\n");
    assert_eq!(read("README.md"), "# service\n");
    assert!(!scratch.path("copy/.git").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_made_delivered_to_disabled_and_deleted_from_the_cli() {
    let app = spawn_app().await;
    let scratch = Scratch::new();
    logged_in(&app, &scratch).await;
    let file = scratch.write("greeting.json", GREETING);
    ok(
        &aura(&scratch, &["workflows", "push", file.to_str().unwrap()], "").await,
        "push",
    );
    let out = aura(
        &scratch,
        &[
            "webhooks",
            "create",
            "greeting",
            "--name",
            "Signed",
            "--hmac",
            "--secret-stdin",
        ],
        "a-secret-of-at-least-16\n",
    )
    .await;
    let stdout = ok(&out, "create");
    let url = stdout
        .lines()
        .find_map(|l| l.strip_prefix("URL (shown this once): "))
        .unwrap_or_else(|| panic!("no URL in {stdout}"))
        .to_owned();
    assert!(
        !stdout.contains("secret (shown"),
        "a given secret is not echoed: {stdout}"
    );

    // The URL works with the secret given on stdin.
    use hmac::Mac;
    let body = br#"{"name":"hook"}"#;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"a-secret-of-at-least-16").unwrap();
    mac.update(body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let deliver = || {
        reqwest::Client::new()
            .post(&url)
            .header("x-hub-signature-256", &signature)
            .body(body.to_vec())
            .send()
    };
    assert_eq!(deliver().await.unwrap().status(), StatusCode::ACCEPTED);

    let out = aura(&scratch, &["--json", "webhooks", "list", "greeting"], "").await;
    let listed: Value = serde_json::from_str(&ok(&out, "list")).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed[0]["runs"], 1);
    let table = ok(
        &aura(&scratch, &["webhooks", "list", "greeting"], "").await,
        "table",
    );
    assert!(
        table.contains("Signed") && table.contains("hmac"),
        "{table}"
    );

    ok(
        &aura(&scratch, &["webhooks", "disable", &id], "").await,
        "disable",
    );
    assert_eq!(deliver().await.unwrap().status(), StatusCode::FORBIDDEN);
    let stdout = ok(
        &aura(&scratch, &["webhooks", "enable", &id], "").await,
        "enable",
    );
    assert!(stdout.contains("is enabled"), "{stdout}");
    assert_eq!(
        deliver().await.unwrap().status(),
        StatusCode::ACCEPTED,
        "the secret survived disable and enable"
    );

    let out = aura(&scratch, &["webhooks", "regenerate", &id], "").await;
    assert!(ok(&out, "regenerate").contains("URL (shown this once)"));
    assert_eq!(deliver().await.unwrap().status(), StatusCode::NOT_FOUND);
    ok(
        &aura(&scratch, &["webhooks", "delete", &id], "").await,
        "delete",
    );
    let out = aura(&scratch, &["webhooks", "show", &id], "").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_are_previewed_in_words_made_listed_disabled_and_deleted() {
    let app = spawn_app_with(&[("AURA_SCHEDULER", "false")]).await;
    let scratch = Scratch::new();
    logged_in(&app, &scratch).await;
    let file = scratch.write("greeting.json", GREETING);
    ok(
        &aura(&scratch, &["workflows", "push", file.to_str().unwrap()], "").await,
        "push",
    );
    let out = aura(
        &scratch,
        &["schedules", "preview", "--every", "13 hours"],
        "",
    )
    .await;
    let stdout = ok(&out, "preview");
    assert!(stdout.starts_with("every 13 hours (UTC)"), "{stdout}");
    assert_eq!(stdout.lines().count(), 6, "five next fires: {stdout}");
    let out = aura(
        &scratch,
        &["schedules", "preview", "--cron", "0 61 * * *"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("rule.expression"),
        "{}",
        text(&out.stderr)
    );

    let out = aura(
        &scratch,
        &[
            "schedules",
            "create",
            "greeting",
            "--name",
            "Weekdays",
            "--cron",
            "0 9 * * 1-5",
            "--timezone",
            "Europe/Berlin",
            "--input",
            r#"{"name": "cron"}"#,
            "--overlap",
            "queue",
        ],
        "",
    )
    .await;
    let stdout = ok(&out, "create");
    assert!(
        stdout.contains("at 09:00 on Monday to Friday (Europe/Berlin)"),
        "{stdout}"
    );
    let out = aura(&scratch, &["--json", "schedules", "list", "greeting"], "").await;
    let listed: Value = serde_json::from_str(&ok(&out, "list")).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed[0]["input"]["name"], "cron");
    assert_eq!(listed[0]["overlap"], "queue");

    let stdout = ok(
        &aura(&scratch, &["schedules", "disable", &id], "").await,
        "disable",
    );
    assert!(stdout.contains("is disabled"), "{stdout}");
    let out = aura(&scratch, &["--json", "schedules", "list", "greeting"], "").await;
    let listed: Value = serde_json::from_str(&ok(&out, "list")).unwrap();
    assert_eq!(listed[0]["enabled"], false);
    assert_eq!(listed[0]["overlap"], "queue", "the rest kept");
    ok(
        &aura(&scratch, &["schedules", "delete", &id], "").await,
        "delete",
    );
    let table = ok(
        &aura(&scratch, &["schedules", "list", "greeting"], "").await,
        "empty",
    );
    assert!(table.contains("No schedules"), "{table}");
}

fn sarif_of(stdout: &str) -> Value {
    let log: Value = serde_json::from_str(stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    log
}

#[tokio::test]
async fn analyze_exits_1_on_a_secret_and_writes_sarif() {
    let scratch = Scratch::new();
    scratch.write(
        "src/settings.py",
        "import os\n\napi_key = \"sk_live_4f9a8b7c6d5e4f3a2b1c\"\n",
    );
    scratch.write(
        "src/clean.rs",
        "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    );
    scratch.write("src/notes.txt", "not code\n");

    let out = aura(&scratch, &["analyze", "src"], "").await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("src/settings.py:3:1: error security.hardcoded-secret"),
        "{stdout}"
    );
    assert!(stdout.contains("2 files analysed"), "{stdout}");

    let out = aura(&scratch, &["analyze", "src", "--format", "sarif"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let log = sarif_of(&text(&out.stdout));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "aura");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{run}");
    let result = &results[0];
    assert_eq!(result["ruleId"], "security.hardcoded-secret");
    assert_eq!(result["level"], "error");
    let rule = &run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "security.hardcoded-secret");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/settings.py");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], 3);
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );

    // A clean file: exit 0 and an empty result list; the JSON format lists its functions.
    let out = aura(
        &scratch,
        &["analyze", "src/clean.rs", "--format", "sarif"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        sarif_of(&text(&out.stdout))["runs"][0]["results"],
        json!([])
    );
    let out = aura(&scratch, &["--json", "analyze", "src/clean.rs"], "").await;
    let reports: Value = serde_json::from_str(&ok(&out, "json")).unwrap();
    assert_eq!(reports[0]["functions"][0]["name"], "add");

    // `--fail-on never` reports without failing; a named file in no known language is a
    // usage error.
    let out = aura(&scratch, &["analyze", "src", "--fail-on", "never"], "").await;
    assert_eq!(out.status.code(), Some(0));
    let out = aura(&scratch, &["analyze", "src/notes.txt"], "").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("notes.txt"));
}
