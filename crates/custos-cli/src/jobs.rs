//! Periodic jobs: the serving node's tick, and `custos jobs`.

use anyhow::Result;
use custos_app::DataDir;
use std::path::Path;

/// How often a serving node looks for due jobs.
const JOBS_TICK: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the standard jobs that are due, on a tick, for as long as the node serves; with
/// several nodes each job runs on one of them at a time (`custos_app::Job`).
pub(crate) async fn run_jobs(app: custos_app::App) {
    let node = node_name();
    let jobs = custos_app::App::standard_jobs();
    let mut every = tokio::time::interval(JOBS_TICK);
    loop {
        every.tick().await;
        match app.run_due_jobs(&node, &jobs).await {
            Ok(runs) => {
                for run in runs {
                    match (&run.outcome, run.lease_lost) {
                        (Err(e), _) => tracing::error!(job = run.name, error = %e, "job failed"),
                        (Ok(_), true) => tracing::warn!(job = run.name, "job outlived its lease"),
                        (Ok(n), false) => tracing::info!(job = run.name, changed = n, "job ran"),
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "jobs not run"),
        }
    }
}

/// This node's name in job leases: host name and process id.
fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "node".to_owned());
    format!("{host}:{}", std::process::id())
}

/// `custos jobs`: one line per job.
pub(crate) async fn show(data_dir: &Path) -> Result<()> {
    let app = DataDir::open(data_dir)?.open_app().await?;
    let states = app.job_states().await;
    app.close().await;
    let when = |t: Option<time::OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "-".to_owned())
    };
    println!(
        "{:<22} {:>8} {:<25} {:<25} {:>5}  STATE",
        "JOB", "EVERY", "LAST RUN", "NEXT RUN", "RUNS"
    );
    for s in states? {
        let every = s
            .every_seconds
            .map_or_else(|| "?".to_owned(), |e| format!("{e}s"));
        let state = match (&s.running_on, &s.last_error, s.last_changed) {
            (Some(node), _, _) => format!("running on {node}"),
            (None, Some(e), _) => format!("failed: {e}"),
            (None, None, Some(n)) => format!("ok, changed {n}"),
            (None, None, None) => "never run".to_owned(),
        };
        let next = if s.runs == 0 {
            "at next tick".to_owned()
        } else {
            when(s.next_run_at)
        };
        println!(
            "{:<22} {:>8} {:<25} {:<25} {:>5}  {state}",
            s.name,
            every,
            when(s.last_started_at),
            next,
            s.runs
        );
    }
    Ok(())
}

/// Asks the configured witnesses to cosign each new checkpoint, on the jobs' tick, for as long
/// as the node serves (every node may ask: a witness cosigns a checkpoint once, and a second
/// cosignature of the same checkpoint is not stored).
pub(crate) async fn ask_witnesses(app: custos_app::App, witnesses: Vec<custos_app::WitnessConfig>) {
    if witnesses.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for the witnesses");
            return;
        }
    };
    let mut every = tokio::time::interval(JOBS_TICK);
    loop {
        every.tick().await;
        let outcomes = custos_server::witness::push_to_witnesses(&app, &witnesses, &client).await;
        for outcome in outcomes {
            match outcome {
                Ok(Some(size)) => tracing::info!(size, "checkpoint cosigned by a witness"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "a witness did not cosign"),
            }
        }
    }
}
