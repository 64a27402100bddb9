//! Periodic jobs on two app nodes sharing one PostgreSQL database: a job runs once per
//! interval whichever nodes tick, and a node that dies mid-run loses the job to the other once
//! its lease lapses. The nodes are two `App`s with their own connection pools and one clock
//! that the test moves.
//!
//! Needs `CUSTOS_TEST_POSTGRES_URL` (skipped loudly without it).

use counting::CountingJob;
use custos_app::{App, AppSettings, Job};
use custos_domain::FixedClock;
use custos_store::testing::PgScratch;
use custos_store::{AuditFilter, LocalBlobStore, PgStore, Store};
use std::sync::Arc;
use std::sync::atomic::Ordering;

mod counting {
    //! A job that counts its runs, optionally waiting to be let go first (a run that hangs,
    //! as on a node that dies mid-run).
    use custos_app::{App, AppError, Job, JobReport, JobSpec};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Debug)]
    pub struct CountingJob {
        pub runs: Arc<AtomicU64>,
        pub hang: Option<Arc<tokio::sync::Notify>>,
    }

    #[async_trait::async_trait]
    impl Job for CountingJob {
        fn spec(&self) -> JobSpec {
            JobSpec {
                name: "test.count",
                every: time::Duration::seconds(60),
                lease: time::Duration::seconds(30),
            }
        }

        async fn run(&self, _app: &App) -> Result<JobReport, AppError> {
            if let Some(hang) = &self.hang {
                hang.notified().await;
            }
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            // Every other run changes something: only those are audited.
            Ok(JobReport {
                changed: n % 2,
                detail: serde_json::json!({ "run": n }),
            })
        }
    }
}

struct Nodes {
    a: App,
    b: App,
    stores: Vec<PgStore>,
    clock: Arc<FixedClock>,
    scratch: PgScratch,
    _blobs: tempfile::TempDir,
}

async fn two_nodes(test: &str) -> Option<Nodes> {
    let scratch = PgScratch::create(test).await?.unwrap();
    let blobs = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(
        time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
    ));
    let mut stores = Vec::new();
    let mut apps = Vec::new();
    for _ in 0..2 {
        let store = PgStore::connect(&scratch.url, 4, true).await.unwrap();
        stores.push(store.clone());
        let app = App::new(
            Arc::new(store) as Arc<dyn Store>,
            Arc::new(LocalBlobStore::open(blobs.path()).unwrap()),
            custos_crypto::Kek::generate().unwrap(),
            clock.clone(),
            AppSettings::default(),
        )
        .unwrap();
        apps.push(app);
    }
    let b = apps.pop().unwrap();
    let a = apps.pop().unwrap();
    Some(Nodes {
        a,
        b,
        stores,
        clock,
        scratch,
        _blobs: blobs,
    })
}

impl Nodes {
    async fn close(self) {
        for s in &self.stores {
            s.close().await;
        }
        self.scratch.drop_schema().await;
    }

    async fn audited_runs(&self) -> usize {
        let filter = AuditFilter {
            resource: Some("job:test.count".to_owned()),
            ..AuditFilter::default()
        };
        let mut tx = self.stores[0].begin_read().await.unwrap();
        let entries = tx.audit_entries(&filter, 0, 100).await.unwrap();
        tx.commit().await.unwrap();
        assert!(entries.iter().all(|e| e.record.action == "job.run"
            && e.record.actor.is_none()
            && e.record.reasons[0].rule == "system.job"));
        entries.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_once_per_interval_across_two_nodes() {
    let Some(nodes) = two_nodes("jobs_once_per_interval").await else {
        return;
    };
    let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let jobs: Vec<Arc<dyn Job>> = vec![Arc::new(CountingJob {
        runs: runs.clone(),
        hang: None,
    })];
    for interval in 1..=5u64 {
        // Both nodes tick at once, three times within the interval.
        for _ in 0..3 {
            let (x, y) = tokio::join!(
                nodes.a.run_due_jobs("node-a", &jobs),
                nodes.b.run_due_jobs("node-b", &jobs)
            );
            let _ = (x.unwrap(), y.unwrap());
            nodes.clock.advance(time::Duration::seconds(10));
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            interval,
            "one run per interval"
        );
        nodes.clock.advance(time::Duration::seconds(30));
    }
    // Runs 1, 3 and 5 changed something: three audit entries, no more.
    assert_eq!(nodes.audited_runs().await, 3);
    let states = nodes.b.job_states().await.unwrap();
    let state = states.iter().find(|s| s.name == "test.count").unwrap();
    assert_eq!(state.runs, 5);
    assert_eq!(state.running_on, None);
    nodes.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_dies_mid_run_loses_the_lease_to_the_other() {
    let Some(nodes) = two_nodes("jobs_lease_passes_on").await else {
        return;
    };
    let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let hang = Arc::new(tokio::sync::Notify::new());
    let hanging: Vec<Arc<dyn Job>> = vec![Arc::new(CountingJob {
        runs: runs.clone(),
        hang: Some(hang.clone()),
    })];
    let healthy: Vec<Arc<dyn Job>> = vec![Arc::new(CountingJob {
        runs: runs.clone(),
        hang: None,
    })];
    // Node A claims the job and hangs in it.
    let a = nodes.a.clone();
    let stuck = tokio::spawn(async move { a.run_due_jobs("node-a", &hanging).await });
    let claimed = async {
        loop {
            let states = nodes.b.job_states().await.unwrap();
            if states.iter().any(|s| s.running_on.is_some()) {
                return states;
            }
            tokio::task::yield_now().await;
        }
    };
    let states = tokio::time::timeout(std::time::Duration::from_secs(10), claimed)
        .await
        .unwrap();
    let running = states.iter().find(|s| s.name == "test.count").unwrap();
    assert!(running.running_on.as_deref().unwrap().starts_with("node-a"));
    // Node B ticks while the lease is live: nothing runs.
    nodes.clock.advance(time::Duration::seconds(29));
    assert!(
        nodes
            .b
            .run_due_jobs("node-b", &healthy)
            .await
            .unwrap()
            .is_empty()
    );
    // The lease lapses: node B takes over and runs it.
    nodes.clock.advance(time::Duration::seconds(1));
    let took_over = nodes.b.run_due_jobs("node-b", &healthy).await.unwrap();
    assert_eq!(took_over.len(), 1);
    assert!(!took_over[0].lease_lost);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Node A was not dead after all: its late end is not recorded over node B's.
    hang.notify_one();
    let late = stuck.await.unwrap().unwrap();
    assert_eq!(late.len(), 1);
    assert!(
        late[0].lease_lost,
        "a run that outlived its lease must say so"
    );
    let states = nodes.a.job_states().await.unwrap();
    let state = states.iter().find(|s| s.name == "test.count").unwrap();
    assert_eq!(state.runs, 1, "only node B's run is on the job's row");
    nodes.close().await;
}
