//! Benchmark (not a test): `cargo bench -p custos-cli --bench durability`. Durability at the
//! price of nothing (issue 15, group commit): audited reads per second through the API with
//! the data directory on disk versus the same on tmpfs, where a sync costs nothing.
//!
//! Two demo firms, one in `CUSTOS_BENCH_DISK_DIR` (default: the system's temporary directory,
//! on disk here) and one in `CUSTOS_BENCH_DIR` (default `/dev/shm`), each served by
//! `custos serve` as a child process. `CUSTOS_BENCH_CLIENTS` (8) clients, each on a thread,
//! runtime and connection of its own with an API token of its own, loop an authorised
//! metadata read (`GET /api/documents/{id}`: a decision and one audit entry that must be
//! durable before the answer leaves) for `CUSTOS_BENCH_SECS` (5) s; phases alternate disk,
//! tmpfs, tmpfs, disk, `CUSTOS_BENCH_ROUNDS` (2) times. Also measured in the same run: syncs
//! per second of the disk alone (4 KiB write + fdatasync), the ceiling of one entry per sync.
//! Writes `bench-results/durability.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "../tests/it/node.rs"]
#[allow(dead_code, reason = "the tests use more of it")]
mod node;

#[path = "seed.rs"]
mod seed;

#[path = "served_firm.rs"]
mod served_firm;
use served_firm::{ServedFirm, env_or, served_firm};

/// Every client loops audited reads for `secs`; returns the successful reads.
fn load(firm: &ServedFirm, secs: f64) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = firm
        .tokens
        .iter()
        .enumerate()
        .map(|(k, token)| {
            let (stop, done, token) = (Arc::clone(&stop), Arc::clone(&done), token.clone());
            let (base, cert, docs) = (
                firm.node.base.clone(),
                firm.cert.clone(),
                Arc::clone(&firm.docs),
            );
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let http = node::client(&cert);
                    let mut i = k;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let url = format!("{base}/api/documents/{}", docs[i % docs.len()]);
                        let r = http.get(url).bearer_auth(&token).send().await.unwrap();
                        assert!(r.status().is_success(), "{}", r.status());
                        r.bytes().await.unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed)
}

/// 4 KiB writes each followed by fdatasync, per second, in `dir`.
fn syncs_per_second(dir: &Path, secs: f64) -> f64 {
    let path = dir.join("custos-durability-sync.bin");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = [7u8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        file.write_all(&block).unwrap();
        file.sync_data().unwrap();
        n += 1;
    }
    drop(file);
    std::fs::remove_file(&path).ok();
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clients: usize = env_or("CUSTOS_BENCH_CLIENTS", 8);
    let secs: f64 = env_or("CUSTOS_BENCH_SECS", 5.0);
    let rounds: usize = env_or("CUSTOS_BENCH_ROUNDS", 2);
    let tmpfs_dir = std::env::var("CUSTOS_BENCH_DIR").unwrap_or_else(|_| "/dev/shm".to_owned());
    let disk_dir = std::env::var("CUSTOS_BENCH_DISK_DIR")
        .unwrap_or_else(|_| std::env::temp_dir().to_string_lossy().into_owned());
    let disk = served_firm(&disk_dir, "custos-durability-", 0, clients).await;
    let tmpfs = served_firm(&tmpfs_dir, "custos-durability-", 0, clients).await;
    let syncs = syncs_per_second(Path::new(&disk_dir), secs.min(2.0));
    println!("disk ({disk_dir}): {syncs:.0} syncs/s (4 KiB + fdatasync)");
    let (mut on_disk, mut on_tmpfs) = (0u64, 0u64);
    for _ in 0..rounds {
        for which in [&disk, &tmpfs, &tmpfs, &disk] {
            let n = tokio::task::block_in_place(|| load(which, secs));
            if std::ptr::eq(which, &disk) {
                on_disk += n;
            } else {
                on_tmpfs += n;
            }
        }
    }
    let total = secs * 2.0 * rounds as f64;
    let (disk_rps, tmpfs_rps) = (on_disk as f64 / total, on_tmpfs as f64 / total);
    let ratio = disk_rps / tmpfs_rps;
    println!(
        "{clients} clients, audited reads: disk {disk_rps:.0}/s vs tmpfs ({tmpfs_dir}) {tmpfs_rps:.0}/s: ratio {ratio:.2} (target >= 0.8); {:.1} reads per disk sync",
        disk_rps / syncs
    );
    let summary = json!({
        "clients": clients, "secs": secs, "rounds": rounds,
        "disk_dir": disk_dir, "tmpfs_dir": tmpfs_dir, "disk_syncs_per_s": syncs,
        "disk_reads_per_s": disk_rps, "tmpfs_reads_per_s": tmpfs_rps, "ratio": ratio,
    });
    std::fs::create_dir_all("bench-results").ok();
    std::fs::write(
        "bench-results/durability.json",
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
}
