//! A `custos` process serving HTTPS on a random port, for tests and benchmarks that need real
//! separate nodes (the scale-out benchmark includes this file with `#[path]`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `custos` process serving HTTPS; killed on drop.
pub struct Node {
    child: Child,
    /// `https://localhost:<port>`.
    pub base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `custos <args>` on a random port and waits for its "serving" line.
pub fn start(args: &[&str]) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("CUSTOS_DATA_DIR")
        .env_remove("CUSTOS_LISTEN")
        .env_remove("CUSTOS_DATABASE_URL")
        .env("CUSTOS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn custos: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = match lines.next() {
            Some(Ok(line)) => line,
            other => panic!("custos {args:?} exited before serving: {other:?}"),
        };
        if let Some(rest) = line.split("https://127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Node {
        child,
        base: format!("https://localhost:{port}"),
    }
}

pub fn client(cert: &Path) -> reqwest::Client {
    let pem = std::fs::read(cert).unwrap_or_default();
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem(&pem).ok())
        .https_only(true)
        .build()
        .unwrap_or_default()
}
