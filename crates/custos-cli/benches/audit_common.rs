//! Shared by the audit benchmarks: an empty Custos database with a raw connection to fill it
//! fast, and a small deterministic generator (included with `#[path]`).

#![allow(
    clippy::unwrap_used,
    dead_code,
    reason = "benchmark code; each benchmark uses part of it"
)]

use custos_store::SqliteStore;
use std::path::PathBuf;

/// A new database made by `SqliteStore` (schema, triggers, indexes) in a temporary directory
/// under `base`, and one raw connection to it with fsync off (the filling is not measured).
pub async fn empty_database(
    base: &str,
    prefix: &str,
) -> (tempfile::TempDir, PathBuf, sqlx::SqlitePool) {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base)
        .unwrap();
    let path = dir.path().join("custos.db");
    SqliteStore::open(&path, true).await.unwrap().close().await;
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("PRAGMA synchronous = OFF")
        .execute(&pool)
        .await
        .unwrap();
    (dir, path, pool)
}

/// A linear congruential generator: the same log and the same questions on every run.
#[derive(Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `below`.
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// The `p` quantile of sorted samples.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
