//! Benchmark (not a test): `cargo bench -p custos-cli --bench scaleout`. Needs a PostgreSQL
//! server: `CUSTOS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! 1. API read throughput: a demo firm plus `CUSTOS_BENCH_DOCS` (default 10,000) documents in
//!    one matter; concurrent clients each repeat "list a page of 50 documents from a random
//!    cursor, then get one random document's metadata" as an authorised lawyer. The same rows
//!    (copied through the store traits, so both databases hold identical sealed data) are
//!    served by one node on SQLite, one node on PostgreSQL, and two nodes on PostgreSQL;
//!    servers are child processes (`custos serve`), phases alternate (S P P2 P2 P S).
//! 2. Audit append throughput on PostgreSQL (sequencer row, hash chain) versus a raw `INSERT`
//!    of rows of the same size into a plain table, each in its own committed transaction, with
//!    1 and with 8 concurrent writers: units that change records (each numbers and commits its
//!    own entry) and units that only read (entries through the node's group commit).
//!    `CUSTOS_BENCH_PART=audit` runs only this part.
//!
//! Writes `bench-results/scaleout.json`. Load generator and servers share the machine's cores.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use custos_app::{Caller, DataDir, init_data_dir, seed_demo_firm};
use custos_audit::{AuditRecord, Outcome};
use custos_domain::RequestId;
use custos_store::testing::PgScratch;
use custos_store::{PgStore, SqliteStore, Store};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Concurrent clients (`CUSTOS_BENCH_CLIENTS`, default 8).
fn clients() -> usize {
    std::env::var("CUSTOS_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

#[path = "seed.rs"]
mod seed;
use seed::seed_documents;

#[path = "../tests/it/node.rs"]
#[allow(dead_code, reason = "the tests use more of it")]
mod node;
use node::{Node, client, start};

async fn login(http: &reqwest::Client, node: &Node, user: &str) -> String {
    node::first_login(http, &node.base, user, custos_app::DEMO_PASSWORD)
        .await
        .token
}

/// Copies every record (not sessions, not the audit log) from one store to another.
async fn copy_firm(from: &dyn Store, to: &dyn Store) -> usize {
    let mut src = from.begin().await.unwrap();
    let mut dst = to.begin().await.unwrap();
    let people = src.list_people(None, 10_000).await.unwrap();
    for p in &people {
        dst.insert_person(p).await.unwrap();
    }
    let teams = src.list_teams(None, 10_000).await.unwrap();
    for t in &teams {
        dst.insert_team(t).await.unwrap();
        for m in src.team_members(t.id).await.unwrap() {
            dst.add_team_member(t.id, m).await.unwrap();
        }
    }
    for c in src.list_clients(None, 10_000).await.unwrap() {
        dst.insert_client(&c).await.unwrap();
    }
    let matters = src.list_matters(None, 10_000).await.unwrap();
    for m in &matters {
        dst.insert_matter(m).await.unwrap();
        for p in src.matter_members(m.id).await.unwrap() {
            dst.add_matter_member(m.id, p).await.unwrap();
        }
    }
    for w in src.list_walls(None, 10_000).await.unwrap() {
        dst.insert_wall(&w).await.unwrap();
    }
    let mut docs = 0;
    for m in &matters {
        let mut after = None;
        loop {
            let page = src.list_documents(m.id, after, 1000).await.unwrap();
            for d in &page {
                dst.insert_document(d).await.unwrap();
            }
            docs += page.len();
            match page.last() {
                Some(last) => after = Some(last.id),
                None => break,
            }
        }
    }
    dst.commit().await.unwrap();
    docs
}

/// Runs the read workload against `nodes` (clients spread evenly) for `secs`; operations/s.
async fn read_phase(
    nodes: &[&Node],
    http: &reqwest::Client,
    tokens: &[String],
    matter: &str,
    docs: &Arc<Vec<String>>,
    secs: f64,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..clients() {
        let base = nodes[c % nodes.len()].base.clone();
        let token = tokens[c % nodes.len()].clone();
        let (http, docs, done, matter) = (
            http.clone(),
            Arc::clone(docs),
            Arc::clone(&done),
            matter.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut seed = (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            while Instant::now() < deadline {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let cursor = &docs[(seed % docs.len() as u64) as usize];
                let doc = &docs[((seed >> 20) % docs.len() as u64) as usize];
                let list = http
                    .get(format!(
                        "{base}/api/matters/{matter}/documents?limit=50&cursor={cursor}"
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert!(list.status().is_success(), "{}", list.status());
                let _ = list.bytes().await.unwrap();
                let get = http
                    .get(format!("{base}/api/documents/{doc}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert!(get.status().is_success(), "{}", get.status());
                let _ = get.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / secs
}

fn record(i: usize) -> AuditRecord {
    AuditRecord {
        at_ms: 1_760_000_000_000 + i as i64,
        request_id: RequestId::new(),
        actor: Some(custos_domain::PersonId::new()),
        action: "document.view".into(),
        resource: format!("document:{}", uuid::Uuid::now_v7()),
        outcome: Outcome::Allow,
        reasons: vec![],
        detail: json!({ "shown": 1 }),
    }
}

/// Audit appends (one entry per committed unit of work) per second: units that change records
/// (`begin`: each numbers its entry under the sequencer row and commits alone), or units that
/// only read (`begin_read`: their entries go through the node's group commit).
async fn audit_appends(store: Arc<dyn Store>, writers: usize, total: usize, read: bool) -> f64 {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (store, next) = (Arc::clone(&store), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total {
                    break;
                }
                let mut tx = if read {
                    store.begin_read().await.unwrap()
                } else {
                    store.begin().await.unwrap()
                };
                tx.append_audit(&record(i)).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Raw INSERTs of rows of the same shape and size, each committed alone, per second.
async fn raw_inserts(url: &str, writers: usize, total: usize) -> f64 {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(writers as u32)
        .connect(url)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_raw (seq BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL,
         request_id TEXT NOT NULL, actor_id TEXT, action TEXT NOT NULL, resource TEXT NOT NULL,
         outcome TEXT NOT NULL, reasons TEXT NOT NULL, detail TEXT NOT NULL,
         leaf_hash BYTEA NOT NULL, chain_hash BYTEA NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (pool, next) = (pool.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total {
                    break;
                }
                let r = record(i);
                let mut tx = pool.begin().await.unwrap();
                sqlx::query(
                    "INSERT INTO bench_raw (at_ms, request_id, actor_id, action, resource, outcome,
                     reasons, detail, leaf_hash, chain_hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(r.at_ms)
                .bind(r.request_id.to_string())
                .bind(r.actor.map(|a| a.to_string()))
                .bind(&r.action)
                .bind(&r.resource)
                .bind(r.outcome.as_str())
                .bind(serde_json::to_string(&r.reasons).unwrap())
                .bind(r.detail.to_string())
                .bind(&[7u8; 32][..])
                .bind(&[9u8; 32][..])
                .execute(&mut *tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    pool.close().await;
    rate
}

/// Audit appends versus raw INSERTs, in a fresh schema: raw, writing units, reading units, raw
/// again (the raw rate is the mean of both).
async fn audit_part() -> Vec<Value> {
    let audit_scratch = PgScratch::create("scaleout bench audit")
        .await
        .unwrap()
        .unwrap();
    let store: Arc<dyn Store> =
        Arc::new(PgStore::connect(&audit_scratch.url, 8, true).await.unwrap());
    let mut audit = Vec::new();
    let total: usize = std::env::var("CUSTOS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for writers in [1usize, 8] {
        let raw = raw_inserts(&audit_scratch.url, writers, total).await;
        let appended = audit_appends(Arc::clone(&store), writers, total, false).await;
        let read = audit_appends(Arc::clone(&store), writers, total, true).await;
        let raw2 = raw_inserts(&audit_scratch.url, writers, total).await;
        let raw = (raw + raw2) / 2.0;
        println!(
            "Audit append, {writers} writer(s): raw INSERT {raw:.0}/s; writing units {appended:.0}/s (ratio {:.2}); audited reads (group commit) {read:.0}/s (ratio {:.2})",
            appended / raw,
            read / raw
        );
        audit.push(json!({
            "writers": writers, "raw_insert_per_s": raw,
            "write_unit_append_per_s": appended, "ratio_write_units": appended / raw,
            "read_unit_append_per_s": read, "ratio_read_units": read / raw,
        }));
    }
    audit_scratch.drop_schema().await;
    audit
}

#[tokio::main]
async fn main() {
    if std::env::var("CUSTOS_BENCH_PART").is_ok_and(|p| p == "audit") {
        audit_part().await;
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n_docs: usize = std::env::var("CUSTOS_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let phase_secs: f64 = std::env::var("CUSTOS_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6.0);
    let Some(scratch) = PgScratch::create("scaleout bench").await else {
        if std::env::var("CUSTOS_BENCH_SMOKE").is_ok() {
            println!("scaleout: SKIPPED (no PostgreSQL named by the environment)");
            return;
        }
        panic!(
            "set {} (e.g. postgres://postgres@127.0.0.1:5432/test) to run this benchmark",
            custos_store::testing::PG_ENV
        );
    };
    let scratch = scratch.unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // The firm on SQLite, with n_docs more documents in matter M9 (lena.lawyer is staffed).
    let sqlite_dir = tmp.path().join("sqlite");
    let outcome = init_data_dir(&sqlite_dir, "olivia.officer", &Default::default())
        .await
        .unwrap();
    let firm = seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password)
        .await
        .unwrap();
    let matter = firm.matters["M9"];
    let lead = Caller {
        person: firm.people["lisa.litlead"],
        request_id: RequestId::new(),
        via: custos_app::Via::Internal,
        address: None,
    };
    let t = Instant::now();
    seed_documents(&outcome.app, lead, matter, n_docs).await;
    println!(
        "seeded {n_docs} documents on SQLite in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    drop(outcome.app);

    // The same rows on PostgreSQL; a data directory per node with the same key and blobs.
    let pg_dir = tmp.path().join("pg-a");
    let pg_dir_b = tmp.path().join("pg-b");
    for dir in [&pg_dir, &pg_dir_b] {
        std::fs::create_dir_all(dir.join("tls")).unwrap();
        // Private, as `serve` demands of a data directory.
        for private in [dir.to_path_buf(), dir.join("tls")] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        for f in ["kek.key", "tls/cert.pem", "tls/key.pem"] {
            std::fs::copy(sqlite_dir.join(f), dir.join(f)).unwrap();
        }
        let mut config = DataDir::open(&sqlite_dir).unwrap().config;
        config.database.url = Some(scratch.url.clone());
        config.blobs = sqlite_dir.join("blobs");
        std::fs::write(dir.join("custos.toml"), toml::to_string(&config).unwrap()).unwrap();
    }
    let sqlite = SqliteStore::open(&sqlite_dir.join("custos.db"), false)
        .await
        .unwrap();
    let pg = PgStore::connect(&scratch.url, 4, true).await.unwrap();
    let copied = copy_firm(&sqlite, &pg).await;
    sqlite.close().await;
    println!("copied {copied} documents to PostgreSQL");

    let node_s = start(&["serve", "--data-dir", sqlite_dir.to_str().unwrap()]);
    let node_p = start(&["serve", "--data-dir", pg_dir.to_str().unwrap()]);
    let node_p2 = start(&["serve", "--data-dir", pg_dir_b.to_str().unwrap()]);
    let http = client(&sqlite_dir.join("tls/cert.pem"));
    let tok_s = login(&http, &node_s, "lena.lawyer").await;
    let tok_p = login(&http, &node_p, "lena.lawyer").await;
    let matter_s = matter.to_string();
    // Every document id of the matter, for random cursors and reads.
    let mut docs = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!(
                "{}/api/matters/{matter_s}/documents?limit=200{cursor}",
                node_s.base
            ))
            .bearer_auth(&tok_s)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            docs.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!(docs.len() >= n_docs, "{} documents visible", docs.len());
    let docs = Arc::new(docs);

    let (mut s, mut p1, mut p2) = (Vec::new(), Vec::new(), Vec::new());
    // Warm-up (connections, caches) on every node.
    for (node, tok) in [(&node_s, &tok_s), (&node_p, &tok_p), (&node_p2, &tok_p)] {
        read_phase(
            &[node],
            &http,
            std::slice::from_ref(tok),
            &matter_s,
            &docs,
            1.0,
        )
        .await;
    }
    for phase in ["S", "P", "P2", "P2", "P", "S"] {
        let rate = match phase {
            "S" => {
                read_phase(
                    &[&node_s],
                    &http,
                    std::slice::from_ref(&tok_s),
                    &matter_s,
                    &docs,
                    phase_secs,
                )
                .await
            }
            "P" => {
                read_phase(
                    &[&node_p],
                    &http,
                    std::slice::from_ref(&tok_p),
                    &matter_s,
                    &docs,
                    phase_secs,
                )
                .await
            }
            _ => {
                read_phase(
                    &[&node_p, &node_p2],
                    &http,
                    &[tok_p.clone(), tok_p.clone()],
                    &matter_s,
                    &docs,
                    phase_secs,
                )
                .await
            }
        };
        println!("  read phase {phase:<2}: {rate:.0} list+get/s");
        match phase {
            "S" => s.push(rate),
            "P" => p1.push(rate),
            _ => p2.push(rate),
        }
    }
    drop((node_s, node_p, node_p2));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (s, p1, p2) = (mean(&s), mean(&p1), mean(&p2));
    println!(
        "API reads, {} clients, {} documents in the matter:",
        clients(),
        docs.len()
    );
    println!("  SQLite, 1 node:      {s:.0} list+get/s");
    println!(
        "  PostgreSQL, 1 node:  {p1:.0} list+get/s  (ratio PG/SQLite {:.2})",
        p1 / s
    );
    println!(
        "  PostgreSQL, 2 nodes: {p2:.0} list+get/s  (ratio 2 nodes/1 node {:.2})",
        p2 / p1
    );

    let audit = audit_part().await;
    scratch.drop_schema().await;

    let summary = json!({
        "documents": docs.len(),
        "clients": clients(),
        "phase_seconds": phase_secs,
        "reads_per_s": { "sqlite_1_node": s, "postgres_1_node": p1, "postgres_2_nodes": p2 },
        "ratio_postgres_vs_sqlite": p1 / s,
        "ratio_2_nodes_vs_1": p2 / p1,
        "audit": audit,
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench-results");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("scaleout.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
}
