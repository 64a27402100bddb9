//! Benchmark (not a test): `cargo bench -p custos-cli --bench audit_query`. Audit queries stay
//! flat as the log grows (issue 15): a log of each size in `CUSTOS_BENCH_SIZES` (default
//! `100000,10000000`) is written straight into a SQLite database made by `SqliteStore` (rows
//! of the real shape: six actions, one in twenty a denial; one person per 2,000 entries and
//! one document per 400, so that every query below fills its page at every size and the
//! comparison is of the log's size alone), then three queries are timed through the store's
//! own `audit_entries`, one page of 100 each: a person's own trail from a random cursor, the
//! officer's "this person's denials, newest first", and a document's history, newest first.
//! Rounds alternate between the logs, so the machine's drift hits both alike. Writes
//! `bench-results/audit_query.json`.
//!
//! The databases live in `CUSTOS_BENCH_DIR` (default `/dev/shm`: tmpfs, so the figures are the
//! queries', not the disk's). `CUSTOS_BENCH_SMOKE=1` shrinks everything.

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

use custos_audit::Outcome;
use custos_domain::PersonId;
use custos_store::{AuditFilter, SqliteStore, Store};
use std::collections::BTreeMap;
use std::time::Instant;

/// Entries per person and per document.
const PER_PERSON: u64 = 2_000;
const PER_DOCUMENT: u64 = 400;
const ACTIONS: [&str; 6] = [
    "document.read",
    "document.view",
    "matter.view",
    "matter.list",
    "client.view",
    "document.upload",
];

fn smoke() -> bool {
    std::env::var("CUSTOS_BENCH_SMOKE").is_ok()
}

fn sizes() -> Vec<u64> {
    let default = if smoke() {
        "2000,20000"
    } else {
        "100000,10000000"
    };
    std::env::var("CUSTOS_BENCH_SIZES")
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().parse().expect("CUSTOS_BENCH_SIZES: numbers"))
        .collect()
}

fn people(size: u64) -> u64 {
    (size / PER_PERSON).max(1)
}

fn documents(size: u64) -> u64 {
    (size / PER_DOCUMENT).max(1)
}

fn person(n: u64) -> PersonId {
    PersonId(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(n),
    ))
}

fn document(n: u64) -> String {
    format!(
        "document:{}",
        uuid::Uuid::from_u128(0x0190_0001_0000_7000_8000_0000_0000_0000 + u128::from(n))
    )
}

/// A log of `size` entries in a new database under `base`.
async fn log_of(base: &str, size: u64) -> (tempfile::TempDir, SqliteStore) {
    let (dir, path, pool) = empty_database(base, "custos-audit-query-").await;
    let started = Instant::now();
    let mut rng = Lcg(size);
    let mut seq = 0;
    while seq < size {
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..50_000.min(size - seq) {
            seq += 1;
            let deny = rng.next(20) == 0;
            sqlx::query(
                "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, resource, \
                 outcome, reasons, detail, leaf_hash, chain_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', 'null', zeroblob(32), zeroblob(32))",
            )
            .bind(i64::try_from(seq).unwrap())
            .bind(1_760_000_000_000_i64 + i64::try_from(seq).unwrap() * 100)
            .bind(uuid::Uuid::from_u128(u128::from(seq)).to_string())
            .bind(person(rng.next(people(size))).to_string())
            .bind(ACTIONS[usize::try_from(rng.next(6)).unwrap()])
            .bind(document(rng.next(documents(size))))
            .bind(if deny { "deny" } else { "allow" })
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    pool.close().await;
    println!(
        "  wrote {size} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let store = SqliteStore::open(&path, false).await.unwrap();
    (dir, store)
}

/// One query of `kind`, timed (microseconds).
async fn query(store: &SqliteStore, kind: &str, size: u64, rng: &mut Lcg) -> f64 {
    let who = person(rng.next(people(size)));
    let (filter, after) = match kind {
        "own trail" => (
            AuditFilter {
                actor: Some(who),
                ..AuditFilter::default()
            },
            rng.next(size / 2),
        ),
        "officer: a person's denials" => (
            AuditFilter {
                actor: Some(who),
                outcome: Some(Outcome::Deny),
                newest_first: true,
                ..AuditFilter::default()
            },
            0,
        ),
        _ => (
            AuditFilter {
                resource: Some(document(rng.next(documents(size)))),
                newest_first: true,
                ..AuditFilter::default()
            },
            0,
        ),
    };
    let started = Instant::now();
    let mut tx = store.begin_read().await.unwrap();
    let page = tx.audit_entries(&filter, after, 100).await.unwrap();
    tx.commit().await.unwrap();
    let took = started.elapsed().as_secs_f64() * 1e6;
    // Every person has 2,000 entries (100 denials), every document 400: pages are full.
    assert!(
        smoke() || page.len() > 50,
        "{kind}: a page of {}",
        page.len()
    );
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let base = std::env::var("CUSTOS_BENCH_DIR").unwrap_or_else(|_| "/dev/shm".to_owned());
    let sizes = sizes();
    let mut logs = Vec::new();
    for &size in &sizes {
        logs.push((size, log_of(&base, size).await));
    }
    let kinds = [
        "own trail",
        "officer: a person's denials",
        "document history",
    ];
    let (rounds, per_round) = if smoke() { (2, 5) } else { (6, 100) };
    let mut times: BTreeMap<(u64, &str), Vec<f64>> = BTreeMap::new();
    let mut rng = Lcg(7);
    for _ in 0..rounds {
        for (size, (_, store)) in &logs {
            for kind in kinds {
                for _ in 0..per_round {
                    let t = query(store, kind, *size, &mut rng).await;
                    times.entry((*size, kind)).or_default().push(t);
                }
            }
        }
    }
    let mut report = serde_json::Map::new();
    let (small, large) = (sizes[0], sizes[sizes.len() - 1]);
    println!("audit queries, one page of 100 (SQLite on {base}), median / p99 in us:");
    for kind in kinds {
        let mut line = format!("  {kind:<30}");
        let mut medians = Vec::new();
        for &size in &sizes {
            let mut t = times.remove(&(size, kind)).unwrap_or_default();
            t.sort_by(f64::total_cmp);
            let (median, p99) = (quantile(&t, 0.5), quantile(&t, 0.99));
            medians.push(median);
            line.push_str(&format!("  {size}: {median:.0} / {p99:.0}"));
            report.insert(
                format!("{kind} @ {size}"),
                serde_json::json!({ "median_us": median, "p99_us": p99 }),
            );
        }
        let ratio = medians[medians.len() - 1] / medians[0];
        line.push_str(&format!("  ratio {large} vs {small}: {ratio:.2}"));
        report.insert(format!("{kind}: ratio"), serde_json::json!(ratio));
        println!("{line}");
    }
    std::fs::create_dir_all("bench-results").unwrap();
    std::fs::write(
        "bench-results/audit_query.json",
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    for (_, (_, store)) in logs {
        store.close().await;
    }
}
