//! Periodic work: named jobs with an interval, run by `custos serve` on exactly one node at a
//! time. Each node calls [`App::run_due_jobs`] on a short tick; a job runs only on the node
//! whose claim on the job's row won (a lease, [`custos_store::areas::JobsTx`]), and only when
//! due. A node that dies mid-run leaves its lease to expire, and the next node to tick after
//! that takes the job over. A run that changes records is audited (`job.run`, no actor, rule
//! `system.job`); every run's outcome is on the job's row, shown by `custos jobs` and
//! `GET /api/jobs`.
//!
//! The jobs Custos has today clean up sign-in state and orphaned blobs; later features add
//! theirs (checkpoint signing, retention deadlines, expiry reminders, link expiry, incident
//! clocks) by implementing [`Job`] and listing it in [`App::standard_jobs`].

use crate::{App, AppError, AuditEvent, Caller, vocabulary};
use async_trait::async_trait;
use custos_audit::Outcome;
use custos_domain::{DocumentId, RequestId};
use custos_policy::{Action, Resource};
use serde::Serialize;
use std::sync::Arc;

/// How often and how long a job may run.
#[derive(Debug, Clone, Copy)]
pub struct JobSpec {
    /// The job's name (its row, its audit resource `job:<name>`).
    pub name: &'static str,
    /// From the start of one run to the next.
    pub every: time::Duration,
    /// How long a claim lasts: longer than a run ever takes. A node that dies holding it
    /// delays the job by at most this.
    pub lease: time::Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct JobReport {
    /// Records changed (zero: nothing to audit).
    pub changed: u64,
    /// What changed, for the audit entry (ids and counts, never content).
    pub detail: serde_json::Value,
}

/// A periodic job.
#[async_trait]
pub trait Job: Send + Sync + std::fmt::Debug {
    /// Its name and timing.
    fn spec(&self) -> JobSpec;
    /// Does the work once.
    async fn run(&self, app: &App) -> Result<JobReport, AppError>;
}

/// A run on this node.
#[derive(Debug)]
pub struct JobRun {
    /// The job.
    pub name: &'static str,
    /// Records changed, or what went wrong.
    pub outcome: Result<u64, String>,
    /// The claim was lost before the run ended (it ran longer than its lease and another
    /// node took the job over): the outcome is not recorded on the job's row.
    pub lease_lost: bool,
}

/// A job's state, for `custos jobs` and the API.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct JobState {
    /// The job's name.
    pub name: String,
    /// Interval in seconds (none: a job this node does not know).
    pub every_seconds: Option<i64>,
    /// The node running it now, if a run is under way.
    pub running_on: Option<String>,
    /// When the last run started.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_started_at: Option<time::OffsetDateTime>,
    /// When the last run ended.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_finished_at: Option<time::OffsetDateTime>,
    /// Next due (none: never run yet, due at once).
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_run_at: Option<time::OffsetDateTime>,
    /// What went wrong in the last run.
    pub last_error: Option<String>,
    /// Records the last run changed.
    pub last_changed: Option<u64>,
    /// Runs finished.
    pub runs: u64,
}

/// Ends sessions that can no longer be used and forgets failed-login counters that no longer
/// count.
#[derive(Debug)]
struct SignInCleanup;

#[async_trait]
impl Job for SignInCleanup {
    fn spec(&self) -> JobSpec {
        JobSpec {
            name: "signin.cleanup",
            every: time::Duration::minutes(10),
            lease: time::Duration::minutes(5),
        }
    }

    async fn run(&self, app: &App) -> Result<JobReport, AppError> {
        let now = app.now();
        let mut tx = app.store.begin().await?;
        let sessions = tx
            .delete_dead_sessions(now, now - app.settings.session_idle)
            .await?;
        let counters = tx
            .forget_throttles(now, now - app.settings.throttle.forget_after)
            .await?;
        tx.commit().await?;
        Ok(JobReport {
            changed: sessions + counters,
            detail: serde_json::json!({ "sessions": sessions, "throttle_counters": counters }),
        })
    }
}

/// Removes blobs that no document row names, written more than an hour ago (a crash between a
/// blob's rename and its row's commit leaves one; a write in progress on another node is
/// younger).
#[derive(Debug)]
struct OrphanBlobSweep;

#[async_trait]
impl Job for OrphanBlobSweep {
    fn spec(&self) -> JobSpec {
        JobSpec {
            name: "blobs.orphan_sweep",
            every: time::Duration::hours(24),
            lease: time::Duration::hours(1),
        }
    }

    async fn run(&self, app: &App) -> Result<JobReport, AppError> {
        let before = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let mut candidates = app.blobs.finished_before(before).await?;
        candidates.sort();
        let mut removed = Vec::new();
        // One statement per 500 candidates: the ids of documents in the batch's id range.
        for chunk in candidates.chunks(500) {
            let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let mut tx = app.store.begin_read().await?;
            let known = tx
                .document_ids_between(DocumentId(*first), DocumentId(*last))
                .await?;
            tx.commit().await?;
            for id in chunk {
                if known.binary_search(&DocumentId(*id)).is_err() {
                    app.blobs.delete(*id).await?;
                    removed.push(id.to_string());
                }
            }
        }
        Ok(JobReport {
            changed: removed.len() as u64,
            detail: serde_json::json!({ "blobs": removed }),
        })
    }
}

impl App {
    /// The jobs every serving node runs.
    pub fn standard_jobs() -> Vec<Arc<dyn Job>> {
        vec![
            Arc::new(SignInCleanup),
            Arc::new(OrphanBlobSweep),
            Arc::new(crate::usecases::checkpoints::CheckpointJob),
            Arc::new(crate::mail::MailJob),
        ]
    }

    /// Runs, on node `node`, each of `jobs` that is due and not running elsewhere; returns
    /// the runs it made. Reading which jobs are due takes no write lock; only a due job's claim
    /// and its end are writes.
    pub async fn run_due_jobs(
        &self,
        node: &str,
        jobs: &[Arc<dyn Job>],
    ) -> Result<Vec<JobRun>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let rows = tx.jobs().await?;
        tx.commit().await?;
        let mut runs = Vec::new();
        for job in jobs {
            let spec = job.spec();
            let now = self.now();
            let row = rows.iter().find(|r| r.name == spec.name);
            if row.is_some_and(|r| r.next_run_at > now || r.lease_until > now) {
                continue;
            }
            let holder = format!("{node}/{}", uuid::Uuid::new_v4());
            let mut tx = self.store.begin().await?;
            let claimed = tx
                .claim_job(spec.name, &holder, now, now + spec.lease)
                .await?;
            tx.commit().await?;
            if claimed {
                runs.push(
                    self.run_claimed(job.as_ref(), spec, node, &holder, now)
                        .await?,
                );
            }
        }
        Ok(runs)
    }

    /// Runs a job this node has claimed, records its outcome on the job's row, and audits it
    /// if it changed anything.
    async fn run_claimed(
        &self,
        job: &dyn Job,
        spec: JobSpec,
        node: &str,
        holder: &str,
        started: time::OffsetDateTime,
    ) -> Result<JobRun, AppError> {
        let outcome = job.run(self).await;
        let mut tx = self.store.begin().await?;
        let recorded = match &outcome {
            Ok(report) => Ok(report.changed),
            Err(e) => Err(e.to_string()),
        };
        let finished = tx
            .finish_job(
                spec.name,
                holder,
                self.now(),
                started + spec.every,
                recorded.as_ref().map(|n| *n).map_err(String::as_str),
            )
            .await?;
        if let Ok(report) = &outcome
            && report.changed > 0
        {
            let event = AuditEvent {
                request_id: RequestId::new(),
                actor: None,
                action: vocabulary::ACTION_JOB_RUN,
                resource: format!("job:{}", spec.name),
                outcome: Outcome::Allow,
                rule: vocabulary::RULE_SYSTEM_JOB,
                message: format!(
                    "periodic job {} changed {} records",
                    spec.name, report.changed
                ),
                detail: serde_json::json!({ "node": node, "changed": report.changed, "what": report.detail }),
            };
            self.audit_event(&mut *tx, event).await?;
        }
        tx.commit().await?;
        Ok(JobRun {
            name: spec.name,
            outcome: recorded,
            lease_lost: !finished,
        })
    }

    /// Every job's state, for the operator at the console (`custos jobs`: whoever holds the
    /// data directory; not audited, like `audit verify`).
    pub async fn job_states(&self) -> Result<Vec<JobState>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let rows = tx.jobs().await?;
        tx.commit().await?;
        Ok(self.states(rows))
    }

    /// Every job's state, for the officer and IT (audited).
    pub async fn jobs(&self, caller: &Caller) -> Result<Vec<JobState>, AppError> {
        let tx = self.begin_for(Action::ViewJobs).await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::ViewJobs, &Resource::Firm)
            .await?;
        let rows = tx.jobs().await?;
        tx.commit().await?;
        Ok(self.states(rows))
    }

    /// The standard jobs (never run yet: no row) and every job with a row, by name.
    fn states(&self, rows: Vec<custos_store::JobRow>) -> Vec<JobState> {
        let now = self.now();
        let known: Vec<JobSpec> = Self::standard_jobs().iter().map(|j| j.spec()).collect();
        let mut out: Vec<JobState> = rows
            .iter()
            .map(|r| JobState {
                name: r.name.clone(),
                every_seconds: known
                    .iter()
                    .find(|s| s.name == r.name)
                    .map(|s| s.every.whole_seconds()),
                running_on: r
                    .holder
                    .as_deref()
                    .filter(|_| r.lease_until > now)
                    .map(|h| h.split('/').next().unwrap_or(h).to_owned()),
                last_started_at: r.last_started_at,
                last_finished_at: r.last_finished_at,
                next_run_at: (r.runs > 0).then_some(r.next_run_at),
                last_error: r.last_error.clone(),
                last_changed: r.last_changed,
                runs: r.runs,
            })
            .collect();
        for spec in known
            .iter()
            .filter(|s| !rows.iter().any(|r| r.name == s.name))
        {
            out.push(JobState {
                name: spec.name.to_owned(),
                every_seconds: Some(spec.every.whole_seconds()),
                running_on: None,
                last_started_at: None,
                last_finished_at: None,
                next_run_at: None,
                last_error: None,
                last_changed: None,
                runs: 0,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}
