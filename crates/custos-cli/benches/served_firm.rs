//! Shared by the benchmarks that load the API of a served firm (included with `#[path]`, next
//! to `node.rs` and `seed.rs`): a demo firm made in a temporary directory, optionally with more
//! documents in matter M1, served by `custos serve` as a child process, with API read tokens
//! of Lena's (one per client) and the ids of the documents she can read in M1.

#![allow(
    clippy::unwrap_used,
    dead_code,
    reason = "benchmark code: a failed setup ends the run; each benchmark uses part of it"
)]

use super::node;
use custos_app::{Caller, init_data_dir, seed_demo_firm};
use custos_domain::RequestId;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// `name` from the environment, or `default` when unset or not a `T`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The JSON body of the answer to `request`.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// A served demo firm.
pub struct ServedFirm {
    pub _dir: tempfile::TempDir,
    pub node: node::Node,
    /// The server's certificate, for clients of its TLS.
    pub cert: PathBuf,
    pub m1: custos_domain::MatterId,
    /// Lena's API read tokens, one per client.
    pub tokens: Vec<String>,
    /// The first 200 documents of M1 Lena may read.
    pub docs: Arc<Vec<String>>,
}

/// A demo firm under `base_dir` (in a directory named `prefix...`) with `extra_docs` more
/// documents in M1 (seeded through the application before serving), served, with `tokens`
/// read tokens of Lena's.
pub async fn served_firm(
    base_dir: &str,
    prefix: &str,
    extra_docs: usize,
    tokens: usize,
) -> ServedFirm {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base_dir)
        .unwrap();
    let root = dir.path().join("firm");
    let outcome = init_data_dir(&root, "olivia.officer", &Default::default())
        .await
        .unwrap();
    let demo = seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password)
        .await
        .unwrap();
    let m1 = demo.matters["M1"];
    if extra_docs > 0 {
        let lena = Caller {
            person: demo.people["lena.lawyer"],
            request_id: RequestId::new(),
            via: custos_app::Via::Internal,
            address: None,
        };
        let started = std::time::Instant::now();
        super::seed::seed_documents(&outcome.app, lena, m1, extra_docs).await;
        println!(
            "seeded {extra_docs} documents in {:.1} s ({base_dir})",
            started.elapsed().as_secs_f64()
        );
    }
    outcome.app.close().await;
    drop(outcome.app);
    let node = node::start(&["serve", "--data-dir", root.to_str().unwrap()]);
    let cert = root.join("tls/cert.pem");
    let http = node::client(&cert);
    let session = node::first_login(&http, &node.base, "lena.lawyer", custos_app::DEMO_PASSWORD)
        .await
        .token;
    let mut read_tokens = Vec::new();
    for i in 0..tokens {
        let r = json_of(
            http.post(format!("{}/api/me/tokens", node.base))
                .bearer_auth(&session)
                .json(&json!({ "name": format!("bench {i}"), "scopes": ["read"], "days": 1 })),
        )
        .await;
        read_tokens.push(r["token"].as_str().unwrap().to_owned());
    }
    let page = json_of(
        http.get(format!(
            "{}/api/matters/{m1}/documents?limit=200",
            node.base
        ))
        .bearer_auth(&read_tokens[0]),
    )
    .await;
    let docs: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!docs.is_empty());
    ServedFirm {
        _dir: dir,
        node,
        cert,
        m1,
        tokens: read_tokens,
        docs: Arc::new(docs),
    }
}
