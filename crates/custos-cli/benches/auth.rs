//! Benchmark (not a test): `cargo bench -p custos-cli --bench auth`.
//!
//! 1. Login flood: one client reads a document's metadata over HTTPS in a loop (as an
//!    authorised lawyer) and its latencies are recorded alone and while 8 clients hammer
//!    `POST /api/session` with wrong passwords, the two phases alternating
//!    `CUSTOS_BENCH_ROUNDS` (4) times for `CUSTOS_BENCH_SECS` (3) s each. Throttling is turned
//!    off for this (`worst case`: every flood request costs one Argon2id verification), and
//!    measured again with the default throttle (`realistic`: the flood is refused after a few
//!    failures). Reports p50/p99 and the flood/alone p99 ratio.
//! 2. Session check cost: `App::authenticate` (the per-request token check) against a bare
//!    authorised metadata read (`App::get_document`, which opens a unit, decides, audits and
//!    commits), in process, each repeated `CUSTOS_BENCH_N` times (default 2,000).
//!
//! Writes `bench-results/auth.json`. The server, the reader and the 8 attackers run on three
//! separate runtimes (own threads, own connections) but share the machine's cores.
//! `CUSTOS_BENCH_ONLY=flood` or `=session` runs one part.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use custos_app::{
    App, AppSettings, Caller, DEMO_PASSWORD, SessionKind, ThrottlePolicy, init_data_dir,
    seed_demo_firm,
};
use custos_domain::{RequestId, SystemClock};
use custos_store::{LocalBlobStore, SqliteStore};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "../tests/it/node.rs"]
#[allow(dead_code, reason = "the tests use more of it")]
mod node;

fn secs() -> u64 {
    std::env::var("CUSTOS_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

fn rounds() -> u64 {
    std::env::var("CUSTOS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

fn pct(sorted: &[u128], p: f64) -> u128 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Server {
    base: String,
    cert: std::path::PathBuf,
    app: App,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn serve(root: &std::path::Path, throttle: ThrottlePolicy) -> Server {
    let dir = custos_app::DataDir::open(root).unwrap();
    let store = SqliteStore::open(&dir.path(&dir.config.database.path), false)
        .await
        .unwrap();
    let blobs = LocalBlobStore::open(&dir.path(&dir.config.blobs)).unwrap();
    let kek = custos_crypto::Kek::load_key_file(&dir.path(&dir.config.key_file)).unwrap();
    let app = App::new(
        Arc::new(store),
        Arc::new(blobs),
        kek,
        Arc::new(SystemClock),
        AppSettings {
            throttle,
            ..AppSettings::default()
        },
    )
    .unwrap();
    let tls = custos_server::load_tls_config(
        &dir.path(&dir.config.tls_cert),
        &dir.path(&dir.config.tls_key),
    )
    .unwrap();
    let listener = custos_server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(custos_server::serve(
        listener,
        tls,
        custos_server::router(app.clone()),
        async {
            let _ = rx.await;
        },
    ));
    Server {
        base: format!("https://localhost:{port}"),
        cert: dir.path(&dir.config.tls_cert),
        app,
        _shutdown: tx,
    }
}

/// Latencies (µs) of sequential metadata reads for `secs`, over one keep-alive connection.
async fn read_loop(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    doc: &str,
    secs: u64,
) -> Vec<u128> {
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/documents/{doc}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await.unwrap();
        out.push(t.elapsed().as_micros());
    }
    out.sort_unstable();
    out
}

/// The three runtimes of a flood phase: the server's (as `custos serve` would run it), the
/// reader's (one client, one connection) and the attackers' (8 clients, each with its own
/// connection, on their own threads), so that none of them queues behind another's tasks.
struct Runtimes {
    server: tokio::runtime::Runtime,
    reader: tokio::runtime::Runtime,
    flood: tokio::runtime::Runtime,
}

fn flood_phase(
    rt: &Runtimes,
    s: &Server,
    token: &str,
    doc: &str,
    label: &str,
) -> serde_json::Value {
    let http = node::client(&s.cert);
    let attempts = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let (mut alone, mut during) = (Vec::new(), Vec::new());
    // Alone and flooded phases alternate, so that both see the same disk and machine states.
    for _ in 0..rounds() {
        alone.extend(
            rt.reader
                .block_on(read_loop(&http, &s.base, token, doc, secs())),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let mut flood = Vec::new();
        for c in 0..8 {
            let (stop, attempts, refused) = (stop.clone(), attempts.clone(), refused.clone());
            let attacker = node::client(&s.cert);
            let url = format!("{}/api/session", s.base);
            flood.push(rt.flood.spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let r = attacker
                        .post(&url)
                        .json(&json!({ "user_name": "lena.lawyer", "password": format!("flood {c} {i}"), "code": "123456" }))
                        .send()
                        .await
                        .unwrap();
                    attempts.fetch_add(1, Ordering::Relaxed);
                    if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = r.bytes().await;
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(500));
        during.extend(
            rt.reader
                .block_on(read_loop(&http, &s.base, token, doc, secs())),
        );
        stop.store(true, Ordering::Relaxed);
        // Held (tarpitted) answers are not waited for: the attackers are dropped.
        for f in flood {
            f.abort();
        }
    }
    alone.sort_unstable();
    during.sort_unstable();
    let flood_secs = rounds() as f64 * (secs() as f64 + 0.5);
    let flood_logins = attempts.load(Ordering::Relaxed);
    let row = json!({
        "mode": label, "rounds": rounds(), "secs_per_phase": secs(),
        "alone_p50_us": pct(&alone, 0.5), "alone_p99_us": pct(&alone, 0.99), "alone_n": alone.len(),
        "flood_p50_us": pct(&during, 0.5), "flood_p99_us": pct(&during, 0.99), "flood_n": during.len(),
        "flood_logins": flood_logins, "flood_refused_429": refused.load(Ordering::Relaxed),
        "flood_logins_per_s": flood_logins as f64 / flood_secs,
        "p99_ratio_flood_vs_alone": pct(&during, 0.99) as f64 / pct(&alone, 0.99) as f64,
    });
    println!("{label}: {row}");
    row
}

fn main() {
    let only = std::env::var("CUSTOS_BENCH_ONLY").unwrap_or_default();
    let rt = Runtimes {
        server: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("server")
            .build()
            .unwrap(),
        reader: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        flood: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("flood")
            .build()
            .unwrap(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("firm");
    let firm = rt.server.block_on(async {
        let outcome = init_data_dir(&root, "olivia.officer", &Default::default())
            .await
            .unwrap();
        seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password)
            .await
            .unwrap()
    });
    let mut results = Vec::new();

    // 1. Login flood, worst case (no throttle) then with the default throttle.
    let open = ThrottlePolicy {
        account_free: u32::MAX,
        address_free: u32::MAX,
        ..ThrottlePolicy::default()
    };
    let s = rt.server.block_on(serve(&root, open));
    let http = node::client(&s.cert);
    let (lena, doc) = rt.reader.block_on(async {
        let lena = node::first_login(&http, &s.base, "lena.lawyer", DEMO_PASSWORD).await;
        // The metadata read must be allowed: find a document lena may see.
        for d in firm.documents.values() {
            let r = http
                .get(format!("{}/api/documents/{d}", s.base))
                .bearer_auth(&lena.token)
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                return (lena, d.to_string());
            }
        }
        panic!("lena may read no document");
    });
    drop(http);
    let flood = only.is_empty() || only == "flood";
    let worst = flood.then(|| flood_phase(&rt, &s, &lena.token, &doc, "worst case: no throttle"));
    rt.server.block_on(async { drop(s) });
    let s = rt.server.block_on(serve(&root, ThrottlePolicy::default()));
    let realistic =
        flood.then(|| flood_phase(&rt, &s, &lena.token, &doc, "realistic: default throttle"));
    results.extend(worst.into_iter().chain(realistic));

    // 2. Session check vs bare authorised metadata read, in process.
    if only.is_empty() || only == "session" {
        let n: usize = std::env::var("CUSTOS_BENCH_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        let app = &s.app;
        let row = rt.server.block_on(async {
            let caller: Caller = app
                .authenticate(RequestId::new(), &lena.token, SessionKind::Bearer)
                .await
                .unwrap();
            let doc_id = custos_domain::DocumentId(uuid::Uuid::parse_str(&doc).unwrap());
            let mut check = Vec::new();
            let mut read = Vec::new();
            for round in 0..3 {
                let t = Instant::now();
                for _ in 0..n {
                    app.authenticate(RequestId::new(), &lena.token, SessionKind::Bearer)
                        .await
                        .unwrap();
                }
                let c = t.elapsed().as_secs_f64() / n as f64;
                let t = Instant::now();
                for _ in 0..n {
                    app.get_document(&caller, doc_id).await.unwrap();
                }
                let r = t.elapsed().as_secs_f64() / n as f64;
                if round > 0 {
                    check.push(c);
                    read.push(r);
                }
            }
            let c = check.iter().sum::<f64>() / check.len() as f64;
            let r = read.iter().sum::<f64>() / read.len() as f64;
            json!({
                "session_check_us": c * 1e6, "metadata_read_us": r * 1e6, "ratio": c / r, "n": n,
            })
        });
        println!("session check vs metadata read: {row}");
        results.push(row);
    }
    rt.server.block_on(async { drop(s) });
    std::fs::create_dir_all("bench-results").ok();
    std::fs::write(
        "bench-results/auth.json",
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
}
