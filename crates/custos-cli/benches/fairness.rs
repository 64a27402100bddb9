//! Benchmark (not a test): `cargo bench -p custos-cli --bench fairness`. No request starves
//! another (groundwork issue): a demo firm on tmpfs (`/dev/shm`, or `CUSTOS_BENCH_DIR`) plus
//! `CUSTOS_BENCH_DOCS` (default 2,000) documents in matter M1, served by `custos serve` as a
//! child process. All clients are Lena, each with its own API token and connection.
//!
//! 1. Starvation: a "victim" client loops `GET /api/documents/{id}` alone, then while a
//!    "heavy" client loops the heaviest listing (`GET /api/matters/{M1}/documents?limit=200`,
//!    200 decisions and one audit entry each). Reported: victim throughput with / alone
//!    (target >= 0.5), and the victim's p50/p99.
//! 2. Eight clients each looping "list a page of 50 documents, then get one": p50/p99 per
//!    request (target p99 < 50 ms on tmpfs).
//!
//! Phases alternate `CUSTOS_BENCH_ROUNDS` (3) times for `CUSTOS_BENCH_SECS` (3) s each, so
//! every phase sees the same machine. Writes `bench-results/fairness.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[path = "seed.rs"]
mod seed;

#[path = "../tests/it/node.rs"]
#[allow(dead_code, reason = "the tests use more of it")]
mod node;

#[path = "served_firm.rs"]
mod served_firm;
use served_firm::{env_or, served_firm};

/// Runs one client's loop on a runtime and OS thread of its own, with a connection of its own,
/// so that clients never queue behind each other inside the load generator (the server is
/// what is measured). `make(http)` gives each step.
fn on_own_runtime<F, Fut>(
    stop: Arc<AtomicBool>,
    cert: std::path::PathBuf,
    make: F,
) -> tokio::task::JoinHandle<Vec<Duration>>
where
    F: FnOnce(reqwest::Client) -> Box<dyn FnMut() -> Fut> + Send + 'static,
    Fut: std::future::Future<Output = usize> + 'static,
{
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let step = make(node::client(&cert));
            run_loop(stop, step).await
        })
    });
    tokio::task::spawn_blocking(move || thread.join().unwrap())
}

/// Loops `step` until `stop`; returns each request's latency.
async fn run_loop<F, Fut>(stop: Arc<AtomicBool>, mut step: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut lat = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let requests = step().await;
        let took = t.elapsed();
        for _ in 0..requests {
            lat.push(took / requests as u32);
        }
    }
    lat
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n_docs: usize = env_or("CUSTOS_BENCH_DOCS", 2000);
    let secs: f64 = env_or("CUSTOS_BENCH_SECS", 3.0);
    let rounds: usize = env_or("CUSTOS_BENCH_ROUNDS", 3);
    let base_dir = std::env::var("CUSTOS_BENCH_DIR").unwrap_or_else(|_| "/dev/shm".to_owned());
    let firm = served_firm(&base_dir, "custos-fairness-", n_docs, 9).await;
    let (base, cert, m1) = (firm.node.base.clone(), firm.cert.clone(), firm.m1);
    // One API token per client.
    let clients = &firm.tokens;
    let docs = Arc::clone(&firm.docs);
    // `CUSTOS_BENCH_VICTIM=health` makes the victim ask an endpoint without database or
    // decision (to tell database waits from CPU scheduling).
    let victim_health = std::env::var("CUSTOS_BENCH_VICTIM").is_ok_and(|v| v == "health");

    /// What a client loops.
    #[derive(Clone, Copy, PartialEq)]
    enum Work {
        GetDocument,
        HeaviestListing,
        ListAndGet,
    }
    let spawn = |work: Work, token: &String, stop: &Arc<AtomicBool>, seed: u64| {
        let (base, docs, token) = (base.clone(), Arc::clone(&docs), token.clone());
        on_own_runtime(Arc::clone(stop), cert.clone(), move |http| {
            let mut i = seed as usize;
            Box::new(move || {
                i += 1;
                let (http, base, docs, token) =
                    (http.clone(), base.clone(), Arc::clone(&docs), token.clone());
                Box::pin(async move {
                    let get = |url: String| {
                        let (http, token) = (http.clone(), token.clone());
                        async move {
                            let r = http.get(url).bearer_auth(&token).send().await.unwrap();
                            assert!(r.status().is_success(), "{}", r.status());
                            r.bytes().await.unwrap();
                        }
                    };
                    let doc = format!("{base}/api/documents/{}", docs[i % docs.len()]);
                    let requests: usize = match work {
                        Work::GetDocument if victim_health => {
                            get(format!("{base}/api/health")).await;
                            1
                        }
                        Work::GetDocument => {
                            get(doc).await;
                            1
                        }
                        Work::HeaviestListing => {
                            get(format!("{base}/api/matters/{m1}/documents?limit=200")).await;
                            1
                        }
                        Work::ListAndGet => {
                            get(format!("{base}/api/matters/{m1}/documents?limit=50")).await;
                            get(doc).await;
                            2
                        }
                    };
                    requests
                }) as std::pin::Pin<Box<dyn std::future::Future<Output = usize>>>
            })
        })
    };

    let (mut alone, mut contended, mut eight) = (Vec::new(), Vec::new(), Vec::new());
    let mut heavy: Vec<Duration> = Vec::new();
    let (mut alone_n, mut contended_n) = (0usize, 0usize);
    let phase = Duration::from_secs_f64(secs);
    for round in 0..rounds {
        for which in ["alone", "contended", "eight"] {
            let stop = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            match which {
                "alone" | "contended" => {
                    tasks.push(spawn(Work::GetDocument, &clients[0], &stop, 0));
                    if which == "contended" {
                        tasks.push(spawn(Work::HeaviestListing, &clients[1], &stop, 0));
                    }
                }
                _ => {
                    for (k, c) in clients.iter().skip(1).take(8).enumerate() {
                        tasks.push(spawn(Work::ListAndGet, c, &stop, (round * 8 + k) as u64));
                    }
                }
            }
            tokio::time::sleep(phase).await;
            stop.store(true, Ordering::Relaxed);
            let mut results = Vec::new();
            for t in tasks {
                results.push(t.await.unwrap());
            }
            match which {
                "alone" => {
                    alone_n += results[0].len();
                    alone.extend(results.swap_remove(0));
                }
                "contended" => {
                    contended_n += results[0].len();
                    heavy.extend(results.pop().unwrap_or_default());
                    contended.extend(results.swap_remove(0));
                }
                _ => eight.extend(results.into_iter().flatten()),
            }
        }
    }
    for v in [&mut alone, &mut contended, &mut eight, &mut heavy] {
        v.sort();
    }
    let total = secs * rounds as f64;
    let (alone_rps, contended_rps) = (alone_n as f64 / total, contended_n as f64 / total);
    let ratio = contended_rps / alone_rps;
    println!(
        "victim GET alone: {alone_rps:.0} req/s (p50 {:.2} ms, p99 {:.2} ms)",
        percentile(&alone, 0.5),
        percentile(&alone, 0.99)
    );
    println!(
        "victim GET beside the heaviest listing: {contended_rps:.0} req/s (p50 {:.2} ms, p99 {:.2} ms); ratio {ratio:.2} (target >= 0.5)",
        percentile(&contended, 0.5),
        percentile(&contended, 0.99)
    );
    println!(
        "heaviest listing (200 documents) meanwhile: {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms)",
        heavy.len() as f64 / total,
        percentile(&heavy, 0.5),
        percentile(&heavy, 0.99)
    );
    println!(
        "8 clients, list + get: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (target p99 < 50 ms)",
        eight.len() as f64 / total,
        percentile(&eight, 0.5),
        percentile(&eight, 0.99)
    );
    let summary = json!({
        "dir": base_dir, "docs": n_docs, "secs": secs, "rounds": rounds,
        "victim_alone_rps": alone_rps, "victim_contended_rps": contended_rps, "ratio": ratio,
        "victim_alone_p99_ms": percentile(&alone, 0.99),
        "victim_contended_p99_ms": percentile(&contended, 0.99),
        "heavy_rps": heavy.len() as f64 / total, "heavy_p50_ms": percentile(&heavy, 0.5),
        "eight_rps": eight.len() as f64 / total,
        "eight_p50_ms": percentile(&eight, 0.5), "eight_p99_ms": percentile(&eight, 0.99),
    });
    std::fs::create_dir_all("bench-results").ok();
    std::fs::write(
        "bench-results/fairness.json",
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
}
