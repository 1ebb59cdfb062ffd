//! The real `aura` binary as an operator runs it: configuration errors, JSON logs with
//! request ids, readiness, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn aura() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aura"));
    // Run from an empty directory so no Leptos.toml or .env of the developer leaks in.
    let dir = std::env::temp_dir().join(format!("aura-process-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    cmd.current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn an_invalid_setting_stops_start_up_naming_the_variable() {
    let output = aura()
        .env("AURA_SESSION_IDLE_TIMEOUT_SECS", "soon")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AURA_SESSION_IDLE_TIMEOUT_SECS"),
        "{stderr}"
    );
}

#[test]
fn serves_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let port = free_port();
    let mut child = aura()
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("AURA_DATABASE_URL", "sqlite://data/aura.db")
        .env("AURA_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let probe = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            use std::io::{Read, Write};
            stream.write_all(b"GET /readyz HTTP/1.1\r\nhost: localhost\r\nx-request-id: probe-123\r\nconnection: close\r\n\r\n")?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        });
        match probe {
            Ok(response) => break response,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("server never answered: {e}"),
        }
    };
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(
        ready.to_lowercase().contains("x-request-id: probe-123"),
        "{ready}"
    );

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");

    let mut lines = Vec::new();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read>),
    ]
    .into_iter()
    .flatten()
    {
        lines.extend(BufReader::new(stream).lines().map_while(Result::ok));
    }
    let request_line = lines
        .iter()
        .find(|l| l.contains("probe-123"))
        .unwrap_or_else(|| panic!("no log line carries the request id: {lines:#?}"));
    let json: serde_json::Value = serde_json::from_str(request_line).expect("log lines are JSON");
    assert_eq!(json["span"]["request_id"], "probe-123", "{json}");
    assert!(
        lines.iter().any(|l| l.contains("shutdown signal received")),
        "{lines:#?}"
    );
}
