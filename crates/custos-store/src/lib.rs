//! Persistence of Custos behind traits: [`Store`] opens a [`StoreTx`], a unit of work in which a
//! use case reads facts, changes state and appends its audit entries, then commits all or nothing.
//! [`SqliteStore`] is the embedded default, [`PgStore`] the scale-out backend (several app nodes
//! on one PostgreSQL database); [`LocalBlobStore`] keeps encrypted blobs in a folder (local, or
//! shared by the nodes).
//!
//! **Architecture Invariant:** only this crate has SQL. It stores what it is given: sensitive
//! fields arrive sealed and leave sealed; it never sees a key. Rules of the confidentiality policy
//! do not live here.
//!
//! Queries are checked at run time, not with `query!` macros: the conformance tests that run
//! against every backend are the check, and no database is needed to build.

pub mod areas;
mod audit_scan;
mod blob;
mod group_commit;
mod pg_append;
mod postgres;
mod rows;
mod sql;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
mod tip;

pub use audit_scan::AuditRowReader;
pub use blob::{BlobReader, BlobStore, BlobWriter, LocalBlobStore, STALE_PART};
pub use group_commit::AuditBatches;
pub use postgres::{PgStore, redact_url};
pub use rows::{
    ApiTokenRow, AuditFilter, BreakGlassReview, BreakGlassRow, ClientRow, DocumentRow, FactorRow,
    FactorSelection, MatterRow, OpenBreakGlass, PersonRow, PrincipalRow, RecoveryRow, SessionRow,
    ThrottleRow,
};
pub use sqlite::SqliteStore;

pub use areas::{
    ApprovalRow, ConsentRow, DownloadRow, ExceptionRow, MailRow, ReleaseCodeRow, ReleaseLinkRow,
    ThirdPartyRow, TransferFilter, TransferRow, TransferStatus,
};
use areas::{
    AuditTx, CheckpointsTx, CredentialsTx, EmergencyTx, JobsTx, PeopleTx, PoliciesTx, RecipientsTx,
    RecordsTx, ReleaseTx, SessionsTx, StaffingTx, TransfersTx, WallsTx,
};
pub use areas::{
    BreakGlassFilter, CheckpointRow, ClientAudience, CosignatureRow, FirmPolicyRow, JobRow,
    MatterAudience, NumberKind,
};

use async_trait::async_trait;
use custos_domain::{PersonStatus, Timestamp};

/// Errors of the store; the message never contains sealed data.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or reference constraint refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or is busy beyond the timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The audit log refused a change (append-only).
    #[error("audit log is append-only")]
    AppendOnly,
    /// The record to change does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A stored row could not be read back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Blob storage failed.
    #[error("blob store: {0}")]
    Blob(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
}

/// A database that opens units of work.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Opens a unit of work that may change records. On SQLite it holds the one writer
    /// connection from the start (units that change records take turns, first come first
    /// served, without polling a busy database).
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError>;

    /// Opens a unit that only reads records, from one consistent snapshot, and never waits for
    /// or blocks units that write (long reads: listings, reports, "who can access", exports).
    /// Its audit entries are written, in the log's one order, when it commits and before the
    /// commit returns; until then [`StoreTx::audit_entries`] shows committed entries only.
    /// Changing a record in it fails.
    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError>;

    /// The session of a token hash with its person's current status, read without a unit of
    /// work (every request does this first; it must not take the write lock).
    async fn session_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(SessionRow, PersonStatus)>, StoreError>;

    /// Records activity on a session (idle timeout); never moves the time back. Outside a unit
    /// of work: one short statement.
    async fn touch_session(&self, token_hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError>;

    /// Writes a consistent copy of the whole database, taken online, to a new file `to`
    /// (SQLite: `VACUUM INTO`, which reads one snapshot and never blocks writers for long).
    /// PostgreSQL refuses: its backups are `pg_dump`'s job (docs/OPERATIONS.md).
    async fn snapshot_into(&self, to: &std::path::Path) -> Result<(), StoreError>;

    /// Closes every connection; the embedded database is checkpointed first, so that the
    /// database file alone holds every committed change.
    async fn close(&self);

    /// The append-only guards (triggers) of the audit log that are missing: empty when the
    /// schema is intact. `serve` refuses to start otherwise; `audit verify` reports them.
    async fn missing_audit_guards(&self) -> Result<Vec<&'static str>, StoreError>;

    /// The API token of a hash with its owner's current status (per request, no unit of work).
    async fn api_token_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(ApiTokenRow, PersonStatus)>, StoreError>;

    /// What the group commit of read units' audit entries did since this handle was opened
    /// (batches written, units and entries in them): how many commits concurrent reads shared.
    fn audit_batches(&self) -> AuditBatches;

    /// Read units waiting for their audit entries to be written now.
    fn audit_units_waiting(&self) -> usize;

    /// A reader of the audit log's rows as stored, for verifying the whole log (`custos audit
    /// verify`), to be used from a thread outside the async runtime (SQLite: a connection of
    /// its own; PostgreSQL: the pool, waiting on the runtime); `None` when there is none (the
    /// log is then read through read units).
    fn audit_row_reader(&self) -> Result<Option<Box<dyn AuditRowReader>>, StoreError> {
        Ok(None)
    }
}

/// One unit of work; dropped without [`StoreTx::commit`], nothing of it happened. Its
/// operations are grouped by area (the supertraits, in `areas`); a `dyn StoreTx` has all of
/// their methods.
#[async_trait]
pub trait StoreTx:
    PeopleTx
    + StaffingTx
    + RecordsTx
    + WallsTx
    + EmergencyTx
    + PoliciesTx
    + SessionsTx
    + CredentialsTx
    + JobsTx
    + AuditTx
    + CheckpointsTx
    + RecipientsTx
    + TransfersTx
    + ReleaseTx
    + Send
{
    /// Makes every change of the unit durable at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    /// How many statements the unit has run so far, not counting beginning and committing it
    /// (on PostgreSQL each is a round trip): what tests and benchmarks count round trips by.
    fn statements_run(&self) -> u64;
}

/// Converts a stored Unix-millisecond time.
pub(crate) fn from_ms(ms: i64) -> Result<Timestamp, StoreError> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::Corrupt(format!("time {ms} out of range")))
}
