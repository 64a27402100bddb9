//! Two `custos` processes (two app nodes) on one PostgreSQL database and one shared blob folder:
//! a session made on one works on the other, a wall raised through one is enforced by the other
//! on the very next request, concurrent uploads through both lose nothing, the audit log of
//! both keeps one verified chain, and a lost database connection is a clear 503 that leaves
//! nothing half-written and heals by itself.
//!
//! Needs `CUSTOS_TEST_POSTGRES_URL` (skipped loudly without it).

use crate::node::{Node, client, start};
use custos_app::DEMO_PASSWORD;
use custos_store::testing::PgScratch;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

impl Node {
    async fn login(&self, http: &Client, user: &str) -> String {
        crate::node::first_login(http, &self.base, user, DEMO_PASSWORD)
            .await
            .token
    }

    async fn get(&self, http: &Client, token: &str, path: &str) -> (StatusCode, Value) {
        let r = http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn upload(&self, http: &Client, token: &str, matter: &str, content: Vec<u8>) -> Value {
        let metadata = json!({
            "title": "scale-out upload",
            "classification": "confidential",
            "media_type": "application/octet-stream",
            "provenance": crate::harness::full_provenance(),
        });
        let form = reqwest::multipart::Form::new()
            .text("metadata", metadata.to_string())
            .part("content", reqwest::multipart::Part::bytes(content));
        let r = http
            .post(format!("{}/api/matters/{matter}/documents", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload: {e}"));
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        json!({ "status": status.as_u16(), "body": body })
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn copy_dir(from: &Path, to: &Path) {
    // Folders keep their (private) mode too: `serve` refuses a data directory others may read.
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to)
        .unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")) {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // std::fs::copy keeps the mode (the key file stays 0600).
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

fn blob_files(root: &Path) -> usize {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir() && e.file_name() != "tmp")
                .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_sessions_walls_uploads_and_the_audit_chain() {
    let Some(scratch) = PgScratch::create("two_nodes_share_sessions_walls_uploads").await else {
        return;
    };
    let scratch = scratch.unwrap_or_else(|e| panic!("scratch schema: {e}"));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir_a = tmp.path().join("node-a");
    let dir_b = tmp.path().join("node-b");
    let shared = tmp.path().join("shared-blobs");
    let (a_str, b_str) = (
        dir_a.to_str().unwrap_or_default().to_owned(),
        dir_b.to_str().unwrap_or_default().to_owned(),
    );
    // Node A creates the demo firm on PostgreSQL; node B gets a copy of A's data directory
    // (configuration, key file, TLS files), as docs/OPERATIONS.md says.
    let node_a = start(&[
        "demo",
        "--data-dir",
        &a_str,
        "--database-url",
        &scratch.url,
        "--blob-dir",
        shared.to_str().unwrap_or_default(),
    ]);
    copy_dir(&dir_a, &dir_b);
    let node_b = start(&["serve", "--data-dir", &b_str]);
    let http = client(&dir_a.join("tls/cert.pem"));

    // A session made on node A works on node B.
    let lena = node_a.login(&http, "lena.lawyer").await;
    let (status, me) = node_b.get(&http, &lena, "/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_name"], "lena.lawyer");

    // Lena's matters; she can read a document of the first one through node B.
    let (_, matters) = node_a.get(&http, &lena, "/api/matters").await;
    let matters = ids(&matters);
    assert!(matters.len() >= 2, "{matters:?}");
    let (walled, open) = (&matters[0], &matters[1]);
    let (_, docs) = node_b
        .get(&http, &lena, &format!("/api/matters/{walled}/documents"))
        .await;
    let doc = ids(&docs).first().cloned().unwrap_or_default();
    let doc_path = format!("/api/documents/{doc}");
    assert_eq!(node_b.get(&http, &lena, &doc_path).await.0, StatusCode::OK);

    // A wall raised through node A is enforced by node B on the very next request.
    let officer = node_a.login(&http, "olivia.officer").await;
    let (_, me) = node_a.get(&http, &lena, "/api/me").await;
    let r = http
        .post(format!("{}/api/walls", node_a.base))
        .bearer_auth(&officer)
        .json(&json!({
            "subject": { "kind": "person", "id": me["id"] },
            "object": { "kind": "matter", "id": walled },
            "reason": "conflict check: scale-out test",
        }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("wall: {e}"));
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        node_b.get(&http, &lena, &doc_path).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        node_a.get(&http, &lena, &doc_path).await.0,
        StatusCode::NOT_FOUND
    );

    // Concurrent uploads through both nodes: nothing lost, each readable on the other node.
    let blobs_before = blob_files(&shared);
    let mut uploads = Vec::new();
    for i in 0..12u8 {
        let (node, http, lena, open) = (
            if i % 2 == 0 { &node_a } else { &node_b },
            http.clone(),
            lena.clone(),
            open.clone(),
        );
        let content: Vec<u8> = (0..50_000u32).map(|b| (b as u8) ^ i).collect();
        uploads.push(async move {
            let r = node.upload(&http, &lena, &open, content.clone()).await;
            (r, content, i)
        });
    }
    let results = futures_util::future::join_all(uploads).await;
    for (r, _, i) in &results {
        assert_eq!(r["status"], 201, "upload {i}: {r}");
    }
    let (_, listed) = node_b
        .get(
            &http,
            &lena,
            &format!("/api/matters/{open}/documents?limit=200"),
        )
        .await;
    let listed = ids(&listed);
    for (r, content, i) in &results {
        let id = r["body"]["id"].as_str().unwrap_or_default();
        assert!(listed.iter().any(|l| l == id), "upload {i} missing");
        let other = if i % 2 == 0 { &node_b } else { &node_a };
        let bytes = http
            .get(format!("{}/api/documents/{id}/content", other.base))
            .bearer_auth(&lena)
            .send()
            .await
            .unwrap_or_else(|e| panic!("download: {e}"))
            .bytes()
            .await
            .unwrap_or_default();
        assert_eq!(&bytes[..], &content[..], "upload {i} read back");
    }
    assert_eq!(blob_files(&shared), blobs_before + results.len());

    // Connection loss: hold the audit sequencer from outside so requests on both nodes are
    // in flight inside their unit of work, then terminate every Custos backend.
    let mut admin = scratch
        .connect()
        .await
        .unwrap_or_else(|e| panic!("admin: {e}"));
    sqlx::query("BEGIN")
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlx::query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let blobs_before = blob_files(&shared);
    let matter_path = format!("/api/matters/{open}");
    let read = node_b.get(&http, &lena, &matter_path);
    let upload = node_a.upload(&http, &lena, open, vec![7u8; 10_000]);
    let kill = async {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&scratch.schema)
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("terminate: {e}"));
    };
    let ((read_status, read_body), upload, ()) = tokio::join!(read, upload, kill);
    assert_eq!(read_status, StatusCode::SERVICE_UNAVAILABLE, "{read_body}");
    assert_eq!(read_body["error"]["code"], "unavailable");
    assert_eq!(upload["status"], 503, "{upload}");
    assert_eq!(upload["body"]["error"]["code"], "unavailable");
    sqlx::query("ROLLBACK")
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Nothing half-written: no document row, no blob of the failed upload.
    assert_eq!(blob_files(&shared), blobs_before);
    // Both nodes recover by themselves.
    let (status, listed_after) = node_a
        .get(
            &http,
            &lena,
            &format!("/api/matters/{open}/documents?limit=200"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&listed_after).len(), listed.len());
    assert_eq!(node_b.get(&http, &lena, "/api/me").await.0, StatusCode::OK);

    // One audit chain, written by both nodes, verifies end to end.
    drop(node_a);
    drop(node_b);
    let verify = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["audit", "verify", "--data-dir", &b_str])
        .env_remove("CUSTOS_DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("verify: {e}"));
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && out.contains("hash chain intact"),
        "{out} {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    drop(admin);
    scratch.drop_schema().await;
}

#[test]
fn init_refuses_a_database_that_holds_a_firm_and_a_url_it_cannot_use() {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let Some(scratch) = runtime.block_on(PgScratch::create("init_refuses_a_database")) else {
        return;
    };
    let scratch = scratch.unwrap_or_else(|e| panic!("scratch schema: {e}"));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let init = |dir: &str, url: &str| {
        Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(["init", "--data-dir", dir, "--database-url", url])
            .env_remove("CUSTOS_DATABASE_URL")
            .output()
            .unwrap_or_else(|e| panic!("init: {e}"))
    };
    let first = tmp.path().join("first");
    let out = init(first.to_str().unwrap_or_default(), &scratch.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The password in the URL never reaches the configuration's Debug or an error message.
    let second = tmp.path().join("second");
    let out = init(second.to_str().unwrap_or_default(), &scratch.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("already holds a Custos firm"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // ...and leaves no key or configuration behind.
    let left = std::fs::read_dir(&second).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "a failed init left files behind");

    let third = tmp.path().join("third");
    let out = init(
        third.to_str().unwrap_or_default(),
        "mysql://custos:s3cret-pw@db/custos",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("only postgres:// URLs"), "{err}");
    assert!(!err.contains("s3cret-pw"), "password leaked: {err}");
    let out = init(
        tmp.path().join("fourth").to_str().unwrap_or_default(),
        "postgres://custos:s3cret-pw@127.0.0.1:1/custos",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot connect"), "{err}");
    assert!(!err.contains("s3cret-pw"), "password leaked: {err}");
    runtime.block_on(scratch.drop_schema());
}
