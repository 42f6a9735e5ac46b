//! `mcpwire gateway` processes: started from a config file with a given environment, their
//! URL read from the line they print, stopped with SIGKILL (or SIGHUP'd to reload).

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// One gateway process.
pub struct Replica {
    child: Child,
    pub url: String,
    /// Everything it wrote to stderr so far (its logs).
    pub logs: Arc<Mutex<String>>,
}

impl Replica {
    /// Its `/metrics`, as text, fetched with `c`.
    pub async fn metrics(&self, c: &reqwest::Client) -> String {
        mcpwire_testkit::gateway_kit::fetch_text(c.get(format!("{}/metrics", self.url))).await
    }

    /// Starts `mcpwire gateway --config path` with exactly `env` (plus PATH).
    pub async fn start(path: &Path, env: &[(&str, String)]) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcpwire"))
            .args(["gateway", "--config"])
            .arg(path)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let mut s = sink.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(l)) = lines.next_line().await {
                if let Some(rest) = l.strip_prefix("mcpwire gateway listening on ") {
                    return rest.trim().to_owned();
                }
            }
            String::new()
        })
        .await
        .unwrap_or_default();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        assert!(
            url.starts_with("http://"),
            "the gateway did not start: {}",
            logs.lock().unwrap()
        );
        Replica { child, url, logs }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// SIGKILL: no drain, no clean-up.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    pub fn signal(&self, sig: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }
}
