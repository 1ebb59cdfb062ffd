//! Backup and restore as an operator does them, against the real binary: a backup taken
//! while a stream of writes goes on, restored into an empty place, serves the same
//! accounts, workflows, runs and files. On SQLite with `aura backup` / `aura restore`; on
//! PostgreSQL with `pg_dump` / `pg_restore`, as the README says.

mod common;

use common::binary::Binary;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const OWNER: &str = "owner@example.com";

fn steps(label: &str) -> Value {
    json!([
        { "id": "greet", "type": "template", "config": { "template": format!("{label}: {{{{ input.n }}}}") }, "next": [{ "to": "shout" }] },
        { "id": "shout", "type": "template", "config": { "template": "{{ steps.greet.output | upper }}" } }
    ])
}

async fn get(app: &Binary, c: &Client, path: &str) -> Value {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    json(res).await["data"].clone()
}

async fn create_file(app: &Binary, c: &Client, project: &str, path: &str, content: &str) -> Value {
    let res = c
        .post(app.url(&format!("/api/v1/projects/{project}/files")))
        .json(&json!({ "path": path, "content": content }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "creating {path}");
    json(res).await["data"].clone()
}

/// Everything a user of the instance can see, keyed by id. Runs are read once they have
/// ended (a restored instance finishes the runs that were in flight at the backup).
#[derive(Debug, Default)]
struct Snapshot {
    workflows: BTreeMap<String, Value>,
    runs: BTreeMap<String, Value>,
    files: BTreeMap<String, Value>,
}

async fn snapshot(app: &Binary, c: &Client) -> Snapshot {
    let mut snap = Snapshot::default();
    for workflow in get(app, c, "/api/v1/workflows").await.as_array().unwrap() {
        let id = workflow["id"].as_str().unwrap();
        let detail = get(app, c, &format!("/api/v1/workflows/{id}")).await;
        snap.workflows.insert(id.to_owned(), detail);
    }
    let mut cursor = String::new();
    loop {
        let page = get(app, c, &format!("/api/v1/runs?limit=100{cursor}")).await;
        for run in page["runs"].as_array().unwrap() {
            let id = run["id"].as_str().unwrap();
            snap.runs
                .insert(id.to_owned(), app.finished_run(c, id).await);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let projects = get(app, c, "/api/v1/projects?limit=100").await;
    for project in projects["items"].as_array().unwrap() {
        let project = project["id"].as_str().unwrap();
        for entry in get(app, c, &format!("/api/v1/projects/{project}/files"))
            .await
            .as_array()
            .unwrap()
        {
            if entry["kind"] == "file" {
                let id = entry["id"].as_str().unwrap();
                let file = get(app, c, &format!("/api/v1/projects/{project}/files/{id}")).await;
                snap.files.insert(id.to_owned(), file);
            }
        }
    }
    snap
}

/// What must not differ between two instances for a run: its input, workflow, outcome
/// and each step's output (timings and attempts may, for a run the restore finished).
fn run_outcome(detail: &Value) -> Value {
    let run = &detail["run"];
    let mut steps: Vec<Value> = detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!([s["step_id"], s["status"], s["output"]]))
        .collect();
    steps.sort_by_key(|s| s.to_string());
    json!({
        "workflow": run["workflow_id"], "version": run["workflow_version"],
        "input": run["input"], "status": run["status"], "steps": steps,
    })
}

/// Backs up the database at `url` to `file` the documented way.
fn backup(url: &str, file: &Path) {
    let output = match postgres_bin() {
        None => aura_command(url).arg("backup").arg(file).output().unwrap(),
        Some(bin) => Command::new(bin.join("pg_dump"))
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(file)
            .arg(url)
            .output()
            .unwrap(),
    };
    assert!(
        output.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Restores `file` into the empty database at `url` the documented way.
fn restore(file: &Path, url: &str) {
    let output = match postgres_bin() {
        None => aura_command(url).arg("restore").arg(file).output().unwrap(),
        Some(bin) => Command::new(bin.join("pg_restore"))
            .args(["--no-owner", "--exit-on-error", "--dbname", url])
            .arg(file)
            .output()
            .unwrap(),
    };
    assert!(
        output.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// PostgreSQL's client tools, when this suite runs on PostgreSQL.
fn postgres_bin() -> Option<PathBuf> {
    std::env::var_os("AURA_TEST_POSTGRES_URL")?;
    Some(
        std::env::var_os("AURA_TEST_POSTGRES_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin")),
    )
}

fn aura_command(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aura"));
    cmd.current_dir(scratch_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AURA_DATABASE_URL", database_url)
        .env("AURA_SECRET_KEY", TEST_SECRET_KEY);
    cmd
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir()
        .join("aura-tests")
        .join(format!("backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_to_an_instance_serving_the_same_data() {
    let source_url = fresh_database_url().await;
    // Short leases: a step that was running when the backup was taken holds the source's
    // lease in the copy, and the restored instance runs it again once that expires. With
    // the default 30 s lease, that wait alone could use up a run's 30 s to finish.
    let source = Arc::new(
        Binary::start(&[("AURA_DATABASE_URL", &source_url), ("AURA_LEASE_SECS", "3")]).await,
    );
    let c = source.signed_in_client(OWNER).await;

    // History before the backup: finished runs, a project with revised files.
    let project = {
        let res = c
            .post(source.url("/api/v1/projects"))
            .json(&json!({ "name": "Service", "description": "Backed up" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        json(res).await["data"]["id"].as_str().unwrap().to_owned()
    };
    let main = create_file(&source, &c, &project, "src/main.rs", "fn main() {}\n").await;
    let res = c
        .put(source.url(&format!(
            "/api/v1/projects/{project}/files/{}",
            main["id"].as_str().unwrap()
        )))
        .json(&json!({ "content": "fn main() { println!(\"hi\"); }\n", "base_revision": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    create_file(&source, &c, &project, "README.md", "# Service\n").await;
    for n in 0..3 {
        source
            .run_once(&c, steps("before"), json!({ "n": n }))
            .await;
    }
    let before = snapshot(&source, &c).await;

    // A stream of writes: a workflow, a run and a file per round, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (source, c, project) = (source.clone(), c.clone(), project.clone());
        let (stop, rounds) = (stop.clone(), rounds.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let n = rounds.load(Ordering::SeqCst);
                let workflow = source.create_workflow(&c, steps("stream")).await;
                source.start_run(&c, &workflow, json!({ "n": n })).await;
                create_file(
                    &source,
                    &c,
                    &project,
                    &format!("stream/{n}.txt"),
                    &n.to_string(),
                )
                .await;
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let wait_for = |target: usize| {
        let rounds = rounds.clone();
        async move {
            while rounds.load(Ordering::SeqCst) < target {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(3).await;
    let backup_file = scratch_dir().join("aura.backup");
    let during = rounds.load(Ordering::SeqCst);
    tokio::task::spawn_blocking({
        let (url, file) = (source_url.clone(), backup_file.clone());
        move || backup(&url, &file)
    })
    .await
    .unwrap();
    wait_for(rounds.load(Ordering::SeqCst) + 3).await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let after = snapshot(&source, &c).await;

    // Restore into an empty database and start a second instance on it.
    let restored_url = fresh_database_url().await;
    tokio::task::spawn_blocking({
        let (url, file) = (restored_url.clone(), backup_file.clone());
        move || restore(&file, &url)
    })
    .await
    .unwrap();
    let restored = Binary::start(&[
        ("AURA_DATABASE_URL", &restored_url),
        ("AURA_LEASE_SECS", "3"),
    ])
    .await;
    let rc = client();
    let res = restored.sign_in(&rc, OWNER, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "the account came back");
    let got = snapshot(&restored, &rc).await;

    // Everything from before the backup is there, exactly as it was.
    for (id, workflow) in &before.workflows {
        assert_eq!(got.workflows.get(id), Some(workflow), "workflow {id}");
    }
    for (id, run) in &before.runs {
        assert_eq!(got.runs.get(id), Some(run), "run {id}");
    }
    for (id, file) in &before.files {
        assert_eq!(got.files.get(id), Some(file), "file {id}");
    }
    // The writes the backup caught are whole and match the source; none is invented.
    assert!(
        got.workflows.len() >= before.workflows.len() + during,
        "the backup holds the writes before it started"
    );
    assert!(
        got.workflows.len() < after.workflows.len(),
        "writes went on after the backup"
    );
    for (id, workflow) in &got.workflows {
        assert_eq!(after.workflows.get(id), Some(workflow), "workflow {id}");
    }
    for (id, run) in &got.runs {
        let source_run = after
            .runs
            .get(id)
            .unwrap_or_else(|| panic!("run {id} is invented"));
        assert_eq!(run_outcome(run), run_outcome(source_run), "run {id}");
        assert_eq!(
            run["run"]["status"], "succeeded",
            "run {id} finished after the restore"
        );
    }
    for (id, file) in &got.files {
        assert_eq!(after.files.get(id), Some(file), "file {id}");
    }
    // Each round's workflow, run and file were separate writes; the backup may end between
    // them, but never inside one: every run has its workflow.
    for run in got.runs.values() {
        let workflow = run["run"]["workflow_id"].as_str().unwrap();
        assert!(
            got.workflows.contains_key(workflow),
            "run without its workflow"
        );
    }
}

#[tokio::test]
async fn backup_and_restore_refuse_to_overwrite_and_check_what_they_restore() {
    if postgres_bin().is_some() {
        // PostgreSQL: the commands point at pg_dump instead of touching anything.
        let url = std::env::var("AURA_TEST_POSTGRES_URL").unwrap();
        let output = aura_command(&url)
            .args(["backup", "x.db"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
        return;
    }
    let url = fresh_database_url().await;
    let app = Binary::start(&[("AURA_DATABASE_URL", &url)]).await;
    app.signed_in_client(OWNER).await;
    let dir = scratch_dir();
    let file = dir.join("taken.db");

    let ok = aura_command(&url)
        .args(["--json", "backup"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let summary: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(summary["users"], 1, "{summary}");
    let taken = std::fs::read(&file).unwrap();

    // The same name again: refused, the first backup untouched, no partial file left.
    let again = aura_command(&url)
        .arg("backup")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&file).unwrap(), taken);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["taken.db"], "nothing else was written");

    // A restore onto the running database is refused.
    let onto_live = aura_command(&url)
        .arg("restore")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!onto_live.status.success());
    assert!(String::from_utf8_lossy(&onto_live.stderr).contains("already exists"));

    // A damaged backup and a file that is not an Aura database are refused, and leave
    // no database behind.
    let target = format!("sqlite://{}/restored/aura.db", dir.display());
    let mut damaged = taken.clone();
    let middle = damaged.len() / 2;
    damaged[middle..middle + 4096].fill(0xA5);
    std::fs::write(dir.join("damaged.db"), &damaged).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a database").unwrap();
    for name in ["damaged.db", "notes.txt"] {
        let out = aura_command(&target)
            .arg("restore")
            .arg(dir.join(name))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name} was restored");
        assert!(!dir.join("restored/aura.db").exists());
    }

    // The good one restores, and says which key its secrets need when this one differs.
    let out = aura_command(&target)
        .env("AURA_SECRET_KEY", "ff".repeat(32))
        .arg("restore")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Aura will not start until it has key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.join("restored/aura.db")).unwrap(), taken);
}
