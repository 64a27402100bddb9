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

mod blob;
mod postgres;
mod rows;
mod sql;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;

pub use blob::{BlobReader, BlobStore, BlobWriter, LocalBlobStore, STALE_PART};
pub use postgres::{PgStore, redact_url};
pub use rows::{
    ApiTokenRow, AuditFilter, ClientRow, DocumentRow, FactorRow, FactorSelection, MatterRow,
    PersonRow, PrincipalRow, RecoveryRow, SessionKind, SessionRow, SessionStage, ThrottleRow,
};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use custos_audit::{AuditEntry, AuditRecord};
use custos_domain::{
    ClientId, DocumentId, MatterId, PersonId, PersonStatus, Team, TeamId, Timestamp, Wall,
};

/// Errors of the store; the message never contains sealed data.
#[derive(Debug, thiserror::Error)]
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
}

/// One unit of work; dropped without [`StoreTx::commit`], nothing of it happened.
#[async_trait]
pub trait StoreTx: Send {
    /// Makes every change of the unit durable at once.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    /// Adds a person.
    async fn insert_person(&mut self, row: &PersonRow) -> Result<(), StoreError>;
    /// A person by id.
    async fn person(&mut self, id: PersonId) -> Result<Option<PersonRow>, StoreError>;
    /// A person by user name.
    async fn person_by_user_name(&mut self, name: &str) -> Result<Option<PersonRow>, StoreError>;
    /// People ordered by id, after `after`.
    async fn list_people(
        &mut self,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<PersonRow>, StoreError>;
    /// Changes a person's status ([`StoreError::NotFound`] if there is no such person).
    async fn set_person_status(
        &mut self,
        id: PersonId,
        status: PersonStatus,
    ) -> Result<(), StoreError>;
    /// Replaces a person's password hash, whether it must be changed at next login, and when it
    /// was set ([`StoreError::NotFound`] if there is no such person).
    async fn set_password(
        &mut self,
        id: PersonId,
        hash: &str,
        must_change: bool,
        changed_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// A person with their teams, led teams, staffing and the walls that screen them or their
    /// teams: what every decision needs, in three statements whatever the number of teams.
    async fn principal(&mut self, id: PersonId) -> Result<Option<PrincipalRow>, StoreError>;

    /// Adds a team.
    async fn insert_team(&mut self, team: &Team) -> Result<(), StoreError>;
    /// A team by id.
    async fn team(&mut self, id: TeamId) -> Result<Option<Team>, StoreError>;
    /// Teams ordered by id, after `after`.
    async fn list_teams(
        &mut self,
        after: Option<TeamId>,
        limit: u32,
    ) -> Result<Vec<Team>, StoreError>;
    /// Adds a member to a team (no-op when already a member).
    async fn add_team_member(&mut self, team: TeamId, person: PersonId) -> Result<(), StoreError>;
    /// Removes a member; returns whether they were one.
    async fn remove_team_member(
        &mut self,
        team: TeamId,
        person: PersonId,
    ) -> Result<bool, StoreError>;
    /// Members of a team.
    async fn team_members(&mut self, team: TeamId) -> Result<Vec<PersonId>, StoreError>;
    /// Teams a person belongs to.
    async fn teams_of(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError>;
    /// Teams a person leads.
    async fn teams_led_by(&mut self, person: PersonId) -> Result<Vec<TeamId>, StoreError>;

    /// Adds a client.
    async fn insert_client(&mut self, row: &ClientRow) -> Result<(), StoreError>;
    /// A client by id.
    async fn client(&mut self, id: ClientId) -> Result<Option<ClientRow>, StoreError>;
    /// Clients ordered by id, after `after`.
    async fn list_clients(
        &mut self,
        after: Option<ClientId>,
        limit: u32,
    ) -> Result<Vec<ClientRow>, StoreError>;
    /// Every matter of the clients whose ids lie between `first` and `last` (inclusive),
    /// ordered by client: a listing's batch of clients in one statement.
    async fn matters_of_clients_between(
        &mut self,
        first: ClientId,
        last: ClientId,
    ) -> Result<Vec<MatterRow>, StoreError>;
    /// Every matter of a client.
    async fn matters_of_client(&mut self, client: ClientId) -> Result<Vec<MatterRow>, StoreError>;

    /// Adds a matter.
    async fn insert_matter(&mut self, row: &MatterRow) -> Result<(), StoreError>;
    /// A matter by id.
    async fn matter(&mut self, id: MatterId) -> Result<Option<MatterRow>, StoreError>;
    /// Matters ordered by id, after `after`.
    async fn list_matters(
        &mut self,
        after: Option<MatterId>,
        limit: u32,
    ) -> Result<Vec<MatterRow>, StoreError>;
    /// Staffs a person on a matter (no-op when already staffed).
    async fn add_matter_member(
        &mut self,
        matter: MatterId,
        person: PersonId,
    ) -> Result<(), StoreError>;
    /// Removes a person from a matter; returns whether they were staffed.
    async fn remove_matter_member(
        &mut self,
        matter: MatterId,
        person: PersonId,
    ) -> Result<bool, StoreError>;
    /// People staffed on a matter.
    async fn matter_members(&mut self, matter: MatterId) -> Result<Vec<PersonId>, StoreError>;
    /// Matters a person is staffed on.
    async fn staffed_matters(&mut self, person: PersonId) -> Result<Vec<MatterId>, StoreError>;

    /// Adds a document's metadata (its blob must already be durable).
    async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError>;
    /// A document by id.
    async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRow>, StoreError>;
    /// The ids of the documents whose ids lie between `first` and `last` (inclusive), in order:
    /// a batch of candidates checked in one statement.
    async fn document_ids_between(
        &mut self,
        first: DocumentId,
        last: DocumentId,
    ) -> Result<Vec<DocumentId>, StoreError>;
    /// Documents of a matter ordered by id, after `after`.
    async fn list_documents(
        &mut self,
        matter: MatterId,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Vec<DocumentRow>, StoreError>;

    /// Raises a wall.
    async fn insert_wall(&mut self, wall: &Wall) -> Result<(), StoreError>;
    /// Walls ordered by id, after `after`.
    async fn list_walls(
        &mut self,
        after: Option<custos_domain::WallId>,
        limit: u32,
    ) -> Result<Vec<Wall>, StoreError>;
    /// Walls whose subject is `person` or one of `teams`.
    async fn walls_screening(
        &mut self,
        person: PersonId,
        teams: &[TeamId],
    ) -> Result<Vec<Wall>, StoreError>;

    /// Walls whose subject is `team`.
    async fn walls_of_team(&mut self, team: TeamId) -> Result<Vec<Wall>, StoreError>;

    /// Records a session.
    async fn insert_session(&mut self, row: &SessionRow) -> Result<(), StoreError>;
    /// A session by the hash of its token.
    async fn session(&mut self, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError>;
    /// Sessions of a person, oldest first.
    async fn sessions_of(&mut self, person: PersonId) -> Result<Vec<SessionRow>, StoreError>;
    /// Ends one session of a person by its public id; returns whether it existed.
    async fn delete_session_of(
        &mut self,
        person: PersonId,
        id: uuid::Uuid,
    ) -> Result<bool, StoreError>;
    /// Ends every session of a person but `keep`.
    async fn delete_other_sessions(
        &mut self,
        person: PersonId,
        keep: uuid::Uuid,
    ) -> Result<u64, StoreError>;
    /// Moves a session to another stage, with its new absolute expiry.
    async fn set_session_stage(
        &mut self,
        id: uuid::Uuid,
        stage: SessionStage,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Adds a second factor (pending or active).
    async fn insert_factor(&mut self, row: &FactorRow) -> Result<(), StoreError>;
    /// Second factors of a person, oldest first.
    async fn factors_of(&mut self, person: PersonId) -> Result<Vec<FactorRow>, StoreError>;
    /// Makes a pending factor active.
    async fn activate_factor(&mut self, id: uuid::Uuid) -> Result<(), StoreError>;
    /// Removes a person's factors: the pending ones, or all.
    async fn delete_factors_of(
        &mut self,
        person: PersonId,
        which: FactorSelection,
    ) -> Result<u64, StoreError>;
    /// Records that TOTP step `step` was used, if and only if it is later than every step
    /// used before (atomic: of two units presenting the same code, one wins).
    async fn advance_factor_step(&mut self, id: uuid::Uuid, step: i64) -> Result<bool, StoreError>;

    /// Replaces a person's recovery codes (hashes).
    async fn replace_recovery_codes(
        &mut self,
        person: PersonId,
        hashes: &[[u8; 32]],
    ) -> Result<(), StoreError>;
    /// Marks a recovery code used, if it exists and was unused (atomic).
    async fn use_recovery_code(
        &mut self,
        person: PersonId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// How many recovery codes of a person are left.
    async fn unused_recovery_codes(&mut self, person: PersonId) -> Result<u64, StoreError>;

    /// The failed-login counter of a key.
    async fn throttle(&mut self, key: &str) -> Result<Option<ThrottleRow>, StoreError>;
    /// Counts one more failure for a key (atomic); returns the new count. A key whose last
    /// failure was before `forget_before` starts again from one (counters decay).
    async fn add_failure(
        &mut self,
        key: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<u32, StoreError>;
    /// Refuses a key until `until`.
    async fn lock_until(&mut self, key: &str, until: Timestamp) -> Result<(), StoreError>;
    /// Forgets a key's failures; returns whether there were any.
    async fn clear_throttle(&mut self, key: &str) -> Result<bool, StoreError>;
    /// Keys starting with `prefix` locked after `at`.
    async fn locked_throttles(
        &mut self,
        prefix: &str,
        at: Timestamp,
    ) -> Result<Vec<ThrottleRow>, StoreError>;

    /// Adds a personal API token.
    async fn insert_api_token(&mut self, row: &ApiTokenRow) -> Result<(), StoreError>;
    /// API tokens of a person, oldest first.
    async fn api_tokens_of(&mut self, person: PersonId) -> Result<Vec<ApiTokenRow>, StoreError>;
    /// Revokes a token of a person; returns whether it was live.
    async fn revoke_api_token(
        &mut self,
        person: PersonId,
        id: uuid::Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Revokes every live token of a person (credential reset, suspension, "end everything");
    /// returns how many.
    async fn revoke_api_tokens_of(
        &mut self,
        person: PersonId,
        at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Records a pending two-person account recovery (replacing an earlier one of the person).
    async fn upsert_recovery(&mut self, row: &RecoveryRow) -> Result<(), StoreError>;
    /// The pending recovery of a person.
    async fn recovery(&mut self, person: PersonId) -> Result<Option<RecoveryRow>, StoreError>;
    /// Forgets a person's pending recovery; returns whether there was one.
    async fn delete_recovery(&mut self, person: PersonId) -> Result<bool, StoreError>;

    /// Ends a session; returns whether it existed.
    async fn delete_session(&mut self, token_hash: &[u8; 32]) -> Result<bool, StoreError>;
    /// Ends every session of a person.
    async fn delete_sessions_of(&mut self, person: PersonId) -> Result<u64, StoreError>;

    /// Appends an audit entry; it gets the next sequence number and chain hash no later than
    /// the unit's commit (and before any [`StoreTx::audit_entries`] of the same unit), so the
    /// log has one gapless order in commit order. If the entry cannot be written, the commit
    /// fails: nothing of the unit happens.
    async fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError>;
    /// The sequence number and chain hash of the last committed entry (`None`: empty log).
    async fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>, StoreError>;
    /// Entries matching `filter`, in sequence order, after sequence number `after`.
    async fn audit_entries(
        &mut self,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Converts a stored Unix-millisecond time.
pub(crate) fn from_ms(ms: i64) -> Result<Timestamp, StoreError> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::Corrupt(format!("time {ms} out of range")))
}
