//! Benchmark (not a test): `cargo bench -p custos-cli --bench web`.
//!
//! The web interface against the JSON API, in one run, server in its own process (TLS, real
//! SQLite on the disk of `CUSTOS_BENCH_DIR` or the system's temporary directory):
//! 1. Time to first byte of the matter page (a lawyer on the matter) versus the JSON API calls
//!    that fetch the same data (the matter, its documents, its members, its client, the
//!    members' names), one after the other on the same connection, and versus the single
//!    heaviest call (`/api/matters/{id}/documents`); and of the audit explorer's first page
//!    (the officer) versus `/api/audit?limit=100` plus the directory for names. Median and p99
//!    over `CUSTOS_BENCH_N` (default 300) requests each, the two sides interleaved.
//! 2. Upload of `CUSTOS_BENCH_BYTES` (default 1 GiB) through the page's multipart form (CSRF
//!    token first, the provenance fields, then the file) versus through the API (metadata JSON,
//!    then the content), `CUSTOS_BENCH_UPLOAD_PAIRS` (default 4) times each in the order
//!    P A A P P A A P..., the median of each side; the server's peak RSS (VmHWM) for each.
//!
//! Writes `bench-results/web.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use bytes::Bytes;
use custos_app::{DEMO_PASSWORD, init_data_dir, seed_demo_firm};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[path = "../tests/it/node.rs"]
#[allow(dead_code, reason = "the tests use more of it")]
mod node;

const PIECE: usize = 256 * 1024;

fn generated_body(
    total: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let piece = Bytes::from((0..PIECE).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let pieces = total.div_ceil(PIECE as u64);
    futures_util::stream::iter(0..pieces).map(move |i| {
        let remaining = total - i * PIECE as u64;
        Ok(piece.slice(..(remaining.min(PIECE as u64) as usize)))
    })
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak_rss_of(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

async fn serve_child(data_dir: std::path::PathBuf) {
    let dir = custos_app::DataDir::open(&data_dir).unwrap();
    let app = dir.open_app().await.unwrap();
    let tls = custos_server::load_tls_config(
        &dir.path(&dir.config.tls_cert),
        &dir.path(&dir.config.tls_key),
    )
    .unwrap();
    let listener = custos_server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    custos_server::serve(
        listener,
        tls,
        custos_server::router(app),
        std::future::pending(),
    )
    .await;
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn n() -> usize {
    std::env::var("CUSTOS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// A browser session: the cookie and the CSRF token, from the API's cookie login.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn browser_login(http: &reqwest::Client, base: &str, user: &str) -> Browser {
    let mut enrolled = node::first_login(http, base, user, DEMO_PASSWORD).await;
    let code = node::next_code(&enrolled.secret, &mut enrolled.last_step).await;
    let r = http
        .post(format!("{base}/api/session"))
        .json(&serde_json::json!({
            "user_name": user, "password": DEMO_PASSWORD, "code": code, "cookie": true
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "cookie login: {}", r.status());
    let cookie = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = r.json().await.unwrap();
    Browser {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

/// Time to the response's headers (the first byte), then the body is read to its end.
async fn ttfb(request: reqwest::RequestBuilder) -> Duration {
    let start = Instant::now();
    let r = request.send().await.unwrap();
    let first = start.elapsed();
    assert!(r.status().is_success(), "{}", r.status());
    let _ = r.bytes().await.unwrap();
    first
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.99))
}

async fn pages(
    http: &reqwest::Client,
    base: &str,
    firm: &custos_app::DemoFirm,
) -> serde_json::Value {
    let lawyer = browser_login(http, base, "lena.lawyer").await;
    // The API side is the same person in the same session: the browser's cookie (a GET
    // needs no CSRF token), so both sides pay the same session check.
    let lena_api = lawyer.cookie.clone();
    let matter = firm.matters["M1"];
    let officer = browser_login(http, base, "olivia.officer").await;
    let rounds = n();
    let mut page_matter = Vec::new();
    let mut api_matter_all = Vec::new();
    let mut api_matter_one = Vec::new();
    let mut page_audit = Vec::new();
    let mut api_audit = Vec::new();
    // The members' ids, for the API's name lookups (one call per person, as a client would).
    let members: Vec<String> = http
        .get(format!("{base}/api/matters/{matter}/members"))
        .header("cookie", &lena_api)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap_or_default().to_owned())
        .collect();
    let client = firm.clients["C1"];
    for i in 0..rounds + 20 {
        let warm = i < 20;
        let page = ttfb(
            http.get(format!("{base}/matters/{matter}"))
                .header("cookie", &lawyer.cookie)
                .header("accept", "text/html"),
        )
        .await;
        let start = Instant::now();
        for url in [
            format!("{base}/api/matters/{matter}"),
            format!("{base}/api/matters/{matter}/documents"),
            format!("{base}/api/matters/{matter}/members"),
            format!("{base}/api/clients/{client}"),
        ]
        .into_iter()
        .chain(members.iter().map(|p| format!("{base}/api/people/{p}")))
        {
            ttfb(http.get(url).header("cookie", &lena_api)).await;
        }
        let all = start.elapsed();
        let one = ttfb(
            http.get(format!("{base}/api/matters/{matter}/documents"))
                .header("cookie", &lena_api),
        )
        .await;
        let audit_page = ttfb(
            http.get(format!("{base}/audit"))
                .header("cookie", &officer.cookie)
                .header("accept", "text/html"),
        )
        .await;
        let start = Instant::now();
        ttfb(
            http.get(format!("{base}/api/audit?limit=100"))
                .header("cookie", &officer.cookie),
        )
        .await;
        ttfb(
            http.get(format!("{base}/api/people?limit=200"))
                .header("cookie", &officer.cookie),
        )
        .await;
        let audit_api = start.elapsed();
        if !warm {
            page_matter.push(page);
            api_matter_all.push(all);
            api_matter_one.push(one);
            page_audit.push(audit_page);
            api_audit.push(audit_api);
        }
    }
    let (pm50, pm99) = stats(page_matter);
    let (am50, am99) = stats(api_matter_all);
    let (ao50, ao99) = stats(api_matter_one);
    let (pa50, pa99) = stats(page_audit);
    let (aa50, aa99) = stats(api_audit);
    println!("time to first byte, {rounds} requests each (ms, median / p99):");
    println!("  matter page          {pm50:7.2} / {pm99:7.2}");
    println!(
        "  API, same data       {am50:7.2} / {am99:7.2}   ({} calls)  page/API {:.2} / {:.2} (target <= 1.3)",
        4 + members.len(),
        pm50 / am50,
        pm99 / am99
    );
    println!(
        "  API, documents only  {ao50:7.2} / {ao99:7.2}   page/one call {:.2} / {:.2}",
        pm50 / ao50,
        pm99 / ao99
    );
    println!("  audit explorer page  {pa50:7.2} / {pa99:7.2}");
    println!(
        "  API, same data       {aa50:7.2} / {aa99:7.2}   (audit + directory)  page/API {:.2} / {:.2} (target <= 1.3)",
        pa50 / aa50,
        pa99 / aa99
    );
    serde_json::json!({
        "requests": rounds,
        "matter_page_ms": {"p50": pm50, "p99": pm99},
        "matter_api_same_data_ms": {"p50": am50, "p99": am99, "calls": 4 + members.len()},
        "matter_api_one_call_ms": {"p50": ao50, "p99": ao99},
        "matter_ratio_p50": pm50 / am50, "matter_ratio_p99": pm99 / am99,
        "matter_ratio_vs_one_call_p50": pm50 / ao50, "matter_ratio_vs_one_call_p99": pm99 / ao99,
        "audit_page_ms": {"p50": pa50, "p99": pa99},
        "audit_api_same_data_ms": {"p50": aa50, "p99": aa99},
        "audit_ratio_p50": pa50 / aa50, "audit_ratio_p99": pa99 / aa99,
    })
}

async fn uploads(
    http: &reqwest::Client,
    base: &str,
    firm: &custos_app::DemoFirm,
    pid: u32,
    total: u64,
) -> serde_json::Value {
    let browser = browser_login(http, base, "sally.secretary").await;
    let matter = firm.matters["M1"];
    let provenance = [
        ("title", "benchmark"),
        ("classification", "confidential"),
        ("source", "bench"),
        ("content_description", "generated bytes"),
        ("purpose", "benchmark"),
        ("legal_basis", "n/a"),
        ("collected_by", "bench"),
        ("collected_at", "2026-11-23T00:00"),
    ];
    let page_round = async || {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", browser.csrf.clone());
        for (name, value) in provenance {
            form = form.text(name, value);
        }
        let form = form.part(
            "content",
            reqwest::multipart::Part::stream_with_length(
                reqwest::Body::wrap_stream(generated_body(total)),
                total,
            )
            .file_name("bench.bin")
            .mime_str("application/octet-stream")
            .unwrap(),
        );
        let start = Instant::now();
        let r = http
            .post(format!("{base}/matters/{matter}/upload"))
            .header("cookie", &browser.cookie)
            .header("accept", "text/html")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "page upload");
        start.elapsed()
    };
    let metadata = serde_json::json!({
        "title": "benchmark", "classification": "confidential",
        "provenance": {"source": "bench", "content_description": "generated bytes", "purpose": "benchmark",
                       "legal_basis": "n/a", "collected_by": "bench", "collected_at": "2026-11-23T00:00:00Z"}
    });
    let api_round = async || {
        let form = reqwest::multipart::Form::new()
            .text("metadata", metadata.to_string())
            .part(
                "content",
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(generated_body(total)),
                    total,
                ),
            );
        let start = Instant::now();
        let r = http
            .post(format!("{base}/api/matters/{matter}/documents"))
            .header("cookie", &browser.cookie)
            .header("x-csrf-token", &browser.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "API upload: {}", r.status());
        start.elapsed()
    };
    let rss_before = proc_status_kib(pid, "VmRSS:");
    // Rounds in ABBA order, repeated (P A A P P A A P ...), and the median of each side: a
    // round's position in the run must not decide the ratio (later rounds were measured to
    // run slower whichever side they were on).
    let pairs: usize = std::env::var("CUSTOS_BENCH_UPLOAD_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let (mut page_times, mut api_times) = (Vec::new(), Vec::new());
    let (mut peak_page, mut peak_api) = (0, 0);
    for round in 0..pairs * 2 {
        let page_turn = matches!(round % 4, 0 | 3);
        reset_peak_rss_of(pid);
        if page_turn {
            page_times.push(page_round().await);
            peak_page = peak_page.max(proc_status_kib(pid, "VmHWM:"));
        } else {
            api_times.push(api_round().await);
            peak_api = peak_api.max(proc_status_kib(pid, "VmHWM:"));
        }
    }
    let median = |mut times: Vec<Duration>| {
        times.sort_unstable();
        times[times.len() / 2]
    };
    let mib_s = |d: Duration| total as f64 / (1024.0 * 1024.0) / d.as_secs_f64();
    let page = mib_s(median(page_times));
    let api = mib_s(median(api_times));
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "upload {pairs} x {} MiB each way (median): page form {page:.0} MiB/s, API {api:.0} MiB/s, page/API {:.2} (target >= 0.9)",
        total >> 20,
        page / api
    );
    println!(
        "  server peak RSS: page uploads {:.1} MiB, API uploads {:.1} MiB (target < 64 MiB; {:.1} MiB before)",
        mib(peak_page),
        mib(peak_api),
        mib(rss_before)
    );
    serde_json::json!({
        "bytes": total,
        "page_mib_s": page, "api_mib_s": api, "ratio": page / api,
        "server_peak_rss_page_mib": mib(peak_page), "server_peak_rss_api_mib": mib(peak_api),
        "server_rss_before_mib": mib(rss_before),
    })
}

async fn run(total: u64) -> serde_json::Value {
    let dir = match std::env::var("CUSTOS_BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d).unwrap(),
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let data = dir.path().join("data");
    let outcome = init_data_dir(&data, "olivia.officer", &Default::default())
        .await
        .unwrap();
    let firm = seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password)
        .await
        .unwrap();
    let cert = outcome.data_dir.path(&outcome.data_dir.config.tls_cert);
    drop(outcome.app);
    let mut child = KillOnDrop(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--serve-child", data.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port: u16 = line.trim().parse().unwrap();
    let pem = std::fs::read(&cert).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    // Uploads first, so that their memory is measured before the page phase has grown the
    // allocator's arenas.
    let uploads = uploads(&http, &base, &firm, pid, total).await;
    let pages = pages(&http, &base, &firm).await;
    serde_json::json!({ "ttfb": pages, "upload": uploads })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(i) = args.iter().position(|a| a == "--serve-child") {
        runtime.block_on(serve_child(args[i + 1].clone().into()));
        return;
    }
    let total: u64 = std::env::var("CUSTOS_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let summary = runtime.block_on(run(total));
    let _ = std::fs::create_dir_all("bench-results");
    let _ = std::fs::write(
        "bench-results/web.json",
        serde_json::to_string_pretty(&summary).unwrap(),
    );
}
