//! Periodic work: which node runs a job, and when it is next due. A job's row is its lease: a
//! node claims it (only when the job is due and no live lease exists), runs the job, and
//! finishes it (recording the outcome and the next due time) only while it still holds the
//! claim. Claims are single statements, so of several nodes claiming at once exactly one wins.

use crate::StoreError;
use crate::sql::exec::{SqlTx, q};
use crate::sql::{SqlRow, ms};
use async_trait::async_trait;
use custos_domain::Timestamp;

/// A job's state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    /// The job's name.
    pub name: String,
    /// The claim that holds (or last held) the lease: node and claim id.
    pub holder: Option<String>,
    /// The lease ends then (at or before now: nobody runs it).
    pub lease_until: Timestamp,
    /// Next due.
    pub next_run_at: Timestamp,
    /// The last run started then.
    pub last_started_at: Option<Timestamp>,
    /// The last run ended then.
    pub last_finished_at: Option<Timestamp>,
    /// What went wrong in the last run (none: it succeeded).
    pub last_error: Option<String>,
    /// How many records the last run changed.
    pub last_changed: Option<u64>,
    /// Runs finished so far.
    pub runs: u64,
}

/// Job leases.
#[async_trait]
#[expect(
    private_bounds,
    reason = "sealed: only this crate's units of work (SqlTx) have these operations"
)]
pub trait JobsTx: SqlTx {
    /// Claims job `name` for `holder` until `lease_until`, if it is due at `now` and no other
    /// claim's lease is live; returns whether this claim won. A job never claimed before is
    /// due at once.
    async fn claim_job(
        &mut self,
        name: &str,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let claimed = q(
            "INSERT INTO jobs (name, holder, lease_until, next_run_at, last_started_at, runs)
             VALUES ($1, $2, $3, 0, $4, 0)
             ON CONFLICT (name) DO UPDATE SET holder = $2, lease_until = $3, last_started_at = $4
             WHERE jobs.lease_until <= $4 AND jobs.next_run_at <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(ms(lease_until))
        .bind(ms(now))
        .run(self.conn())
        .await?;
        Ok(claimed == 1)
    }

    /// Records the end of `holder`'s run and when the job is next due, and releases the lease;
    /// returns false (and changes nothing) when the claim was lost (its lease ended and
    /// another node took the job over: every claim has its own holder string).
    async fn finish_job(
        &mut self,
        name: &str,
        holder: &str,
        at: Timestamp,
        next_run_at: Timestamp,
        outcome: Result<u64, &str>,
    ) -> Result<bool, StoreError> {
        let (changed, error) = match outcome {
            Ok(n) => (Some(i64::try_from(n).unwrap_or(i64::MAX)), None),
            Err(e) => (None, Some(e)),
        };
        let done = q(
            "UPDATE jobs SET lease_until = $3, next_run_at = $4, last_finished_at = $3,
                             last_error = $5, last_changed = $6, runs = runs + 1
             WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(holder)
        .bind(ms(at))
        .bind(ms(next_run_at))
        .bind(error)
        .bind(changed)
        .run(self.conn())
        .await?;
        Ok(done == 1)
    }

    /// Every job that has a row, by name.
    async fn jobs(&mut self) -> Result<Vec<JobRow>, StoreError> {
        q("SELECT * FROM jobs ORDER BY name")
            .list(self.conn(), job_row)
            .await
    }
}

impl<T: SqlTx> JobsTx for T {}

fn opt_time(row: &impl SqlRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    row.opt_int(col)?.map(crate::from_ms).transpose()
}

fn job_row(row: &impl SqlRow) -> Result<JobRow, StoreError> {
    let count = |v: i64| u64::try_from(v).map_err(|_| StoreError::Corrupt("job count".into()));
    Ok(JobRow {
        name: row.text("name")?,
        holder: row.opt_text("holder")?,
        lease_until: crate::from_ms(row.int("lease_until")?)?,
        next_run_at: crate::from_ms(row.int("next_run_at")?)?,
        last_started_at: opt_time(row, "last_started_at")?,
        last_finished_at: opt_time(row, "last_finished_at")?,
        last_error: row.opt_text("last_error")?,
        last_changed: row.opt_int("last_changed")?.map(count).transpose()?,
        runs: count(row.int("runs")?)?,
    })
}
