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

impl Node {
    /// Stops the process with SIGTERM (as systemd or docker would) and waits for it.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child
            .wait()
            .unwrap_or_else(|e| panic!("wait for custos: {e}"))
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

/// A person logged in through the real flow, with what later logins need.
pub struct Enrolled {
    /// Full-session bearer token.
    pub token: String,
    /// TOTP secret from enrollment.
    pub secret: Vec<u8>,
    /// Last TOTP step used.
    pub last_step: u64,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// First login of a person who has not enrolled a second factor yet: password, then TOTP
/// enrollment and confirmation with a code computed from the secret shown, as an
/// authenticator app would. The setup session becomes full.
pub async fn first_login(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> Enrolled {
    use reqwest::StatusCode;
    use serde_json::{Value, json};
    let r = http
        .post(format!("{base}/api/session"))
        .json(&json!({ "user_name": user, "password": password }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e}"));
    assert_eq!(r.status(), StatusCode::CREATED, "first login of {user}");
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        body["stage"], "setup",
        "first login of {user} must be a setup session: {body}"
    );
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let r = http
        .post(format!("{base}/api/me/totp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("enroll: {e}"));
    assert_eq!(r.status(), StatusCode::CREATED, "enrollment of {user}");
    let enrollment: Value = r.json().await.unwrap_or_default();
    let secret =
        custos_crypto::totp::from_base32(enrollment["secret"].as_str().unwrap_or_default())
            .unwrap_or_else(|| panic!("secret is not base32"))
            .to_vec();
    let now = unix_now();
    let code = custos_crypto::totp::code_at(&secret, now, 6);
    let r = http
        .post(format!("{base}/api/me/totp/confirm"))
        .bearer_auth(&token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("confirm: {e}"));
    assert_eq!(r.status(), StatusCode::OK, "confirmation of {user}");
    Enrolled {
        token,
        secret,
        last_step: custos_crypto::totp::step_of(now),
    }
}

/// The next code an authenticator would give that the server has not seen yet: a step after
/// the last one used, within the one step of drift allowed (waits when a step is needed).
pub async fn next_code(secret: &[u8], last_step: &mut u64) -> String {
    loop {
        let now = custos_crypto::totp::step_of(unix_now());
        let candidate = (*last_step + 1).max(now.saturating_sub(1));
        if candidate <= now + 1 {
            *last_step = candidate;
            return custos_crypto::totp::code_at(secret, candidate * 30, 6);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
