//! What the server writes to its log: a start line and one access line per request (method,
//! matched route, status, latency, request id), plain text when not on a terminal, and never a
//! secret or client content (security review, low items; checked over a full scenario).

use crate::node;
use custos_app::{DEMO, DEMO_PASSWORD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_has_requests_and_no_secrets_or_content() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let log_path = tmp.path().join("custos.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args([
            "demo",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("CUSTOS_LISTEN")
        .env_remove("CUSTOS_LOG")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("https://127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let base = format!("https://localhost:{port}");
    let http = node::client(&dir.join("tls/cert.pem"));
    let lena = node::first_login(&http, &base, "lena.lawyer", DEMO_PASSWORD).await;
    let matters: Value = http
        .get(format!("{base}/api/matters"))
        .bearer_auth(&lena.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let matter = matters["items"][0]["id"].as_str().unwrap().to_owned();
    let docs: Value = http
        .get(format!("{base}/api/matters/{matter}/documents?limit=5"))
        .bearer_auth(&lena.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc = docs["items"][0]["id"].as_str().unwrap().to_owned();
    let content = http
        .get(format!("{base}/api/documents/{doc}/content"))
        .bearer_auth(&lena.token)
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), StatusCode::OK);
    let body = content.bytes().await.unwrap();
    let wrong = http
        .post(format!("{base}/api/session"))
        .json(&json!({ "user_name": "lena.lawyer", "password": "my secret guess 42" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("custos serving"), "{text}");
    assert!(text.contains("route=/api/matters/{id}/documents"), "{text}");
    assert!(text.contains("status=401"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour codes in a log file");
    assert!(!text.contains("limit=5"), "no query strings");
    let mut secrets: Vec<String> = vec![
        DEMO_PASSWORD.to_owned(),
        "my secret guess 42".to_owned(),
        lena.token.clone(),
        String::from_utf8_lossy(&body).into_owned(),
    ];
    secrets.extend(DEMO.documents.iter().map(|d| d.title.to_owned()));
    secrets.extend(DEMO.matters.iter().map(|m| m.title.to_owned()));
    secrets.extend(DEMO.clients.iter().map(|c| c.name.to_owned()));
    for secret in secrets.iter().filter(|s| s.len() > 6) {
        assert!(!text.contains(secret.as_str()), "{secret:?} is in the log");
    }
}

/// Security review (low): stopping the demo with SIGTERM (systemd, docker, kill) left its
/// temporary directory, key file included, behind. It goes now, as with Ctrl-C.
#[test]
fn sigterm_removes_the_demo_directory_and_its_key() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env_remove("CUSTOS_LISTEN")
        .env("CUSTOS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut dir = None;
    loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.strip_prefix("Demo firm created in ") {
            dir = rest.split(" (").next().map(std::path::PathBuf::from);
        }
        if line.contains("serving https://") {
            break;
        }
    }
    let dir = dir.expect("the demo names its directory");
    assert!(dir.join("kek.key").exists());
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
    assert!(!dir.exists(), "{} is left behind", dir.display());
}
