//! Security review item 8: backups as documented lost data (most of it lived in the WAL). Now
//! `custos backup` takes a consistent online snapshot without the key, `custos restore` brings
//! it up on a fresh data directory and verifies the audit log, and a clean stop checkpoints.

use crate::harness::{TestResult, spawn_demo_firm};
use crate::node;
use custos_app::DEMO_PASSWORD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

fn custos(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .env_remove("CUSTOS_DATA_DIR")
        .env_remove("CUSTOS_DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("run custos: {e}"))
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_restore_verify_drill() -> TestResult {
    let t = spawn_demo_firm().await;
    let lena = t.login("lena.lawyer").await;
    let content = format!("drill content {}", uuid::Uuid::new_v4()).into_bytes();
    let r = t
        .upload(&lena, t.matter("M1"), "drill", "internal", content.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: Value = r.json().await?;
    let doc = doc["id"].as_str().unwrap_or_default().to_owned();
    let root = t.data_dir.root().to_path_buf();
    assert!(
        std::fs::metadata(root.join("custos.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
            > 0,
        "the recent writes are in the WAL: a plain copy of custos.db would miss them"
    );

    // A signed checkpoint: a restore without the log's signing key must keep it verifiable.
    let signed = custos(&[
        "audit",
        "checkpoint",
        "--data-dir",
        root.to_str().unwrap_or_default(),
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let old_verifier = std::fs::read_to_string(root.join("audit-log.key.pub"))?;

    // Online: the server keeps serving while the backup runs.
    let tmp = tempfile::tempdir()?;
    let backup = tmp.path().join("backup");
    let out = custos(&[
        "backup",
        "--data-dir",
        root.to_str().unwrap_or_default(),
        "--to",
        backup.to_str().unwrap_or_default(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.get(&lena, "/api/matters").await.status(), StatusCode::OK);
    // Never the key, nor the TLS key: no file named so, no file holding the key's bytes.
    let key = std::fs::read(root.join("kek.key"))?;
    for file in files(&backup) {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            name != "kek.key" && name != "key.pem" && name != "audit-log.key",
            "{}",
            file.display()
        );
        let bytes = std::fs::read(&file)?;
        assert!(
            !bytes.windows(key.len()).any(|w| w == key),
            "key bytes in {}",
            file.display()
        );
    }

    // Restore refuses a non-empty target and another firm's key.
    let restored = tmp.path().join("restored");
    let other_key = tmp.path().join("other.key");
    custos_crypto::Kek::generate()?.write_new_key_file(&other_key)?;
    let wrong = custos(&[
        "restore",
        "--from",
        backup.to_str().unwrap_or_default(),
        "--data-dir",
        tmp.path().join("wrong").to_str().unwrap_or_default(),
        "--key",
        other_key.to_str().unwrap_or_default(),
    ]);
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("is not this firm's"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let busy = custos(&[
        "restore",
        "--from",
        backup.to_str().unwrap_or_default(),
        "--data-dir",
        root.to_str().unwrap_or_default(),
        "--key",
        root.join("kek.key").to_str().unwrap_or_default(),
    ]);
    assert!(
        !busy.status.success(),
        "a data directory in use is never overwritten"
    );

    let out = custos(&[
        "restore",
        "--from",
        backup.to_str().unwrap_or_default(),
        "--data-dir",
        restored.to_str().unwrap_or_default(),
        "--key",
        root.join("kek.key").to_str().unwrap_or_default(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit log verified"));
    let verify = custos(&[
        "audit",
        "verify",
        "--data-dir",
        restored.to_str().unwrap_or_default(),
    ]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // Restored without `--log-key`: a new signing key, the backup's verifier key kept as a
    // former one, and the checkpoint signed before the backup still verifies with it.
    let new_verifier = std::fs::read_to_string(restored.join("audit-log.key.pub"))?;
    assert_ne!(new_verifier, old_verifier);
    assert_eq!(
        std::fs::read_to_string(restored.join("audit-log.key.former"))?.trim(),
        old_verifier.trim()
    );
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(
        !stdout.contains(" 0 signed checkpoints match"),
        "the earlier checkpoint was compared: {stdout}"
    );

    // The restored firm serves the drilled document to Lena, with her own second factor.
    let mut node = node::start(&["serve", "--data-dir", restored.to_str().unwrap_or_default()]);
    let http = node::client(&restored.join("tls/cert.pem"));
    let code = t.next_code("lena.lawyer").await;
    let login: Value = http
        .post(format!("{}/api/session", node.base))
        .json(&json!({ "user_name": "lena.lawyer", "password": DEMO_PASSWORD, "code": code }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_owned();
    let got = http
        .get(format!("{}/api/documents/{doc}/content", node.base))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await?.to_vec(), content);

    // A clean stop (SIGTERM) checkpoints: the database file alone holds everything.
    assert!(node.terminate().success());
    let wal = std::fs::metadata(restored.join("custos.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0, "the WAL was checkpointed at shutdown");
    let head = std::fs::read_to_string(restored.join("audit.head"))?;
    assert!(head.trim().contains(':'), "{head}");
    Ok(())
}
