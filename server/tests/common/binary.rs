//! The real `aura` binary, started and killed like an operator (or a crash) would.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Binary {
    pub child: Child,
    pub address: String,
}

impl Binary {
    /// Starts `aura` on a free port with `env`, from an empty directory, and waits for
    /// `/readyz`.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("aura-binary-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aura"));
        cmd.current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            // One key for every process of a test: instances sharing a database must.
            .env("AURA_SECRET_KEY", super::TEST_SECRET_KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start the aura binary");
        let address = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = probe.get(format!("{address}/readyz")).send().await
                && res.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "aura never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, address }
    }

    /// SIGKILL: no graceful shutdown, no chance to finish or release anything.
    pub fn kill_hard(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
