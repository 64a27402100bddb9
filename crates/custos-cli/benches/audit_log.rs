//! Benchmark (not a test): `cargo bench -p custos-cli --bench audit_log` (issue 15).
//!
//! A log of `CUSTOS_BENCH_ENTRIES` entries (default 1,000,000; real canonical entries, leaf
//! and chain hashes, and the Merkle tree's stored hashes, written straight into a SQLite
//! database made by `SqliteStore`, in `CUSTOS_BENCH_DIR`, default `/dev/shm`), then:
//!
//! 1. Proofs: inclusion of a random entry in the whole tree, and consistency from a random
//!    earlier size, each made through the store (`audit_tree_hashes`, then `merkle`), one read
//!    unit each, `CUSTOS_BENCH_N` (default 2,000) of each: median and p99.
//! 2. `App::verify_audit_log` over the whole log (every entry decoded, its canonical bytes
//!    rebuilt and hashed, the chain and the tree's root recomputed) against SHA-256 over the
//!    same canonical bytes held in memory (the physical limit of hashing), and against reading
//!    every row from the database (same pages of 1,000) and hashing its columns' bytes (the
//!    limit of reading the log at all), alternating, three rounds.
//!
//! Writes `bench-results/audit_log.json`. `CUSTOS_BENCH_SMOKE=1` shrinks everything.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

#[path = "audit_common.rs"]
mod audit_common;
use audit_common::{Lcg, empty_database, quantile};

use custos_audit::merkle::{self, MemoryTree};
use custos_audit::{AuditReason, AuditRecord, Outcome};
use custos_domain::{PersonId, RequestId};
use custos_store::{SqliteStore, Store};
use std::sync::Arc;
use std::time::Instant;

fn smoke() -> bool {
    std::env::var("CUSTOS_BENCH_SMOKE").is_ok()
}

fn env_or(name: &str, default: u64, smoke_default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke() { smoke_default } else { default })
}

/// The record numbered `seq` (deterministic, of the real shape and size).
fn record(seq: u64) -> AuditRecord {
    let person = PersonId(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(seq % 500),
    ));
    let target =
        uuid::Uuid::from_u128(0x0190_0001_0000_7000_8000_0000_0000_0000 + u128::from(seq % 50_000));
    AuditRecord {
        at_ms: 1_760_000_000_000 + i64::try_from(seq).unwrap() * 100,
        request_id: RequestId(uuid::Uuid::from_u128(u128::from(seq) << 64 | 0x7000_8000)),
        actor: Some(person),
        action: [
            "document.read",
            "document.view",
            "matter.view",
            "matter.list",
        ][usize::try_from(seq % 4).unwrap()]
        .to_owned(),
        resource: if seq % 4 == 3 {
            "firm".to_owned()
        } else {
            format!("document:{target}")
        },
        outcome: if seq.is_multiple_of(20) {
            Outcome::Deny
        } else {
            Outcome::Allow
        },
        reasons: vec![AuditReason {
            rule: "R1.need_to_know".to_owned(),
            message: format!("person {person} is staffed on matter {target}"),
        }],
        detail: if seq % 4 == 3 {
            serde_json::json!({ "shown": 50, "withheld": seq % 3 })
        } else {
            serde_json::Value::Null
        },
    }
}

/// Writes the log; returns the store and every entry's canonical bytes.
async fn log_of(base: &str, size: u64) -> (tempfile::TempDir, Arc<SqliteStore>, Vec<Vec<u8>>) {
    let (dir, path, pool) = empty_database(base, "custos-audit-log-").await;
    pool.close().await;
    let started = Instant::now();
    let mut tree = MemoryTree::default();
    let mut chain = custos_audit::GENESIS;
    let mut canonical = Vec::with_capacity(usize::try_from(size).unwrap());
    // Written through rusqlite's prepared statements (the store's own writer is measured
    // elsewhere; sqlx took three minutes for a million rows here).
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, resource, \
                 outcome, reasons, detail, leaf_hash, chain_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .unwrap();
        for seq in 1..=size {
            let r = record(seq);
            let bytes = r.canonical_bytes(seq);
            let leaf = custos_audit::leaf_hash(&bytes);
            chain = custos_audit::chain_hash(&chain, &leaf);
            tree.push(leaf).unwrap();
            insert
                .execute(rusqlite::params![
                    i64::try_from(seq).unwrap(),
                    r.at_ms,
                    r.request_id.to_string(),
                    r.actor.map(|a| a.to_string()),
                    r.action,
                    r.resource,
                    r.outcome.as_str(),
                    serde_json::to_string(&r.reasons).unwrap(),
                    custos_audit::canonical_json(&r.detail),
                    &leaf[..],
                    &chain[..],
                ])
                .unwrap();
            canonical.push(bytes);
        }
        let mut insert = tx
            .prepare("INSERT INTO audit_tree (idx, hash) VALUES (?1, ?2)")
            .unwrap();
        for (idx, hash) in tree.stored_hashes().iter().enumerate() {
            insert
                .execute(rusqlite::params![i64::try_from(idx).unwrap(), &hash[..]])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    drop(conn);
    println!(
        "  wrote {size} entries and their tree in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let store = Arc::new(SqliteStore::open(&path, false).await.unwrap());
    (dir, store, canonical)
}

fn stats(mut t: Vec<f64>) -> (f64, f64) {
    t.sort_by(f64::total_cmp);
    (quantile(&t, 0.5), quantile(&t, 0.99))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let base = std::env::var("CUSTOS_BENCH_DIR").unwrap_or_else(|_| "/dev/shm".to_owned());
    let size = env_or("CUSTOS_BENCH_ENTRIES", 1_000_000, 5_000);
    let n = env_or("CUSTOS_BENCH_N", 2_000, 50);
    let (_dir, store, canonical) = log_of(&base, size).await;
    let mut rng = Lcg(size);

    // 1. Proofs through the store.
    let (mut inclusion, mut consistency) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let index = rng.next(size);
        let started = Instant::now();
        let mut tx = store.begin_read().await.unwrap();
        let needed = merkle::inclusion_needs(size, index).unwrap();
        let proof =
            merkle::inclusion_proof(size, index, &tx.audit_tree_hashes(&needed).await.unwrap())
                .unwrap();
        tx.commit().await.unwrap();
        inclusion.push(started.elapsed().as_secs_f64() * 1e6);
        assert!(!proof.is_empty() || size == 1);
        let old = 1 + rng.next(size - 1);
        let started = Instant::now();
        let mut tx = store.begin_read().await.unwrap();
        let needed = merkle::consistency_needs(old, size).unwrap();
        let proof =
            merkle::consistency_proof(old, size, &tx.audit_tree_hashes(&needed).await.unwrap())
                .unwrap();
        tx.commit().await.unwrap();
        consistency.push(started.elapsed().as_secs_f64() * 1e6);
        assert!(!proof.is_empty() || old == size);
    }
    let (inc_median, inc_p99) = stats(inclusion);
    let (con_median, con_p99) = stats(consistency);
    println!("proofs at {size} entries (SQLite on {base}), {n} each:");
    println!("  inclusion   median {inc_median:.0} us, p99 {inc_p99:.0} us");
    println!("  consistency median {con_median:.0} us, p99 {con_p99:.0} us");

    // 2. Verify versus SHA-256 over the same bytes, alternating.
    let blobs = tempfile::tempdir_in(&base).unwrap();
    let app = custos_app::App::new(
        store.clone(),
        Arc::new(custos_store::LocalBlobStore::open(blobs.path()).unwrap()),
        custos_crypto::Kek::generate().unwrap(),
        Arc::new(custos_domain::SystemClock),
        custos_app::AppSettings::default(),
    )
    .unwrap();
    let (mut verify, mut hashing, mut reading) = (Vec::new(), Vec::new(), Vec::new());
    let mut all_hashing = Vec::new();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!(
            "sqlite://{}",
            _dir.path().join("custos.db").display()
        ))
        .await
        .unwrap();
    // CUSTOS_BENCH_PROFILE=1: only `verify`, ten times (for a profiler), nothing written.
    if std::env::var("CUSTOS_BENCH_PROFILE").is_ok() {
        for _ in 0..10 {
            let started = Instant::now();
            assert_eq!(app.verify_audit_log().await.unwrap(), size);
            println!("verify {:.3} s", started.elapsed().as_secs_f64());
        }
        return;
    }
    for _ in 0..if smoke() { 1 } else { 3 } {
        let started = Instant::now();
        assert_eq!(read_and_hash(&pool).await, size);
        reading.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let mut acc = 0u8;
        for bytes in &canonical {
            acc ^= custos_audit::leaf_hash(bytes)[0];
        }
        hashing.push(started.elapsed().as_secs_f64());
        // Every hash verify computes, on one core: the leaves, the chain and the tree's nodes.
        let started = Instant::now();
        let mut chain = custos_audit::GENESIS;
        let mut tree = merkle::Frontier::default();
        for bytes in &canonical {
            let leaf = custos_audit::leaf_hash(bytes);
            chain = custos_audit::chain_hash(&chain, &leaf);
            tree.push(leaf);
        }
        std::hint::black_box((chain, tree.root()));
        all_hashing.push(started.elapsed().as_secs_f64());
        std::hint::black_box(acc);
        let started = Instant::now();
        let checked = app.verify_audit_log().await.unwrap();
        verify.push(started.elapsed().as_secs_f64());
        assert_eq!(checked, size);
    }
    let (verify_s, hashing_s, reading_s) = (stats(verify).0, stats(hashing).0, stats(reading).0);
    let all_hashing_s = stats(all_hashing).0;
    println!(
        "reading every row and hashing its columns: {reading_s:.2} s; verify is x{:.2} of that",
        verify_s / reading_s
    );
    let bytes: usize = canonical.iter().map(Vec::len).sum();
    println!(
        "verify of {size} entries ({:.0} MB canonical): {verify_s:.2} s; SHA-256 over the same bytes: \
         {hashing_s:.2} s; ratio {:.2}",
        bytes as f64 / 1e6,
        verify_s / hashing_s
    );
    println!(
        "every hash verify computes (leaves, chain, tree nodes), on one core: {all_hashing_s:.2} s \
         (x{:.2} of the leaves alone); verify is x{:.2} of that",
        all_hashing_s / hashing_s,
        verify_s / all_hashing_s
    );
    std::fs::create_dir_all("bench-results").unwrap();
    std::fs::write(
        "bench-results/audit_log.json",
        serde_json::to_string_pretty(&serde_json::json!({
            "entries": size,
            "inclusion_us": { "median": inc_median, "p99": inc_p99 },
            "consistency_us": { "median": con_median, "p99": con_p99 },
            "verify_s": verify_s,
            "sha256_s": hashing_s,
            "verify_vs_sha256": verify_s / hashing_s,
            "read_and_hash_s": reading_s,
            "all_hashing_one_core_s": all_hashing_s,
            "verify_vs_all_hashing_one_core": verify_s / all_hashing_s,
            "verify_vs_read_and_hash": verify_s / reading_s,
        }))
        .unwrap(),
    )
    .unwrap();
    app.close().await;
}

/// Reads every row of the log (pages of 1,000, as verify does) and hashes each row's columns:
/// the least any verifier of the stored log does. Returns the rows read.
async fn read_and_hash(pool: &sqlx::SqlitePool) -> u64 {
    use sqlx::Row;
    let mut after = 0_i64;
    let mut count = 0;
    let mut buf = Vec::with_capacity(1024);
    let mut acc = 0u8;
    loop {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000")
            .bind(after)
            .fetch_all(pool)
            .await
            .unwrap();
        let Some(last) = rows.last() else { break };
        after = last.get::<i64, _>("seq");
        for row in &rows {
            buf.clear();
            buf.extend_from_slice(&row.get::<i64, _>("at_ms").to_be_bytes());
            for col in [
                "request_id",
                "actor_id",
                "action",
                "resource",
                "outcome",
                "reasons",
                "detail",
            ] {
                buf.extend_from_slice(
                    row.get::<Option<&str>, _>(col)
                        .unwrap_or_default()
                        .as_bytes(),
                );
            }
            buf.extend_from_slice(row.get::<&[u8], _>("leaf_hash"));
            buf.extend_from_slice(row.get::<&[u8], _>("chain_hash"));
            acc ^= custos_audit::leaf_hash(&buf)[0];
            count += 1;
        }
    }
    std::hint::black_box(acc);
    count
}
