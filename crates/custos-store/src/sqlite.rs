//! The SQLite implementation of the store traits (WAL, full sync, foreign keys on).

use crate::areas::{AuditTx, audit, audit_tree};
use crate::group_commit::{AuditBatches, GroupCommit};
use crate::rows::{ApiTokenRow, AuditFilter, SessionRow};
use crate::sql::exec::{Conn, SqlTx};
use crate::sql::{
    API_TOKEN_AND_STATUS, SESSION_AND_STATUS, TOUCH_SESSION, api_token_and_status_row, map_err, ms,
    session_and_status_row,
};
use crate::tip::TipCache;
use crate::{Store, StoreError, StoreTx};
use async_trait::async_trait;
use custos_audit::{AuditEntry, AuditRecord};
use custos_domain::PersonStatus;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{ConnectOptions, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The embedded default store: one SQLite file in the data directory.
///
/// SQLite has one writer at a time. Units that change records run on the one writer
/// connection (`BEGIN IMMEDIATE`): they queue for it in order (the pool hands it out first come,
/// first served) instead of polling a busy database, and never see `SQLITE_BUSY` from each
/// other. Units that only read (`begin_read`) run on their own read-only connections from one
/// snapshot (WAL readers never wait for the writer nor block it); their audit entries wait in
/// the unit and are written, numbered and chained, in a short write on the writer connection
/// when the unit commits, before the commit returns: no answer leaves before its entry is
/// durable. Read units committing together share that write (group commit: one transaction,
/// one sync, for every entry waiting when the writer is free). Appends start from the tip the
/// writer's last append left (`tip.rs`), checked against the log under the write lock.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The one connection that writes.
    pool: SqlitePool,
    /// Read-only connections (`PRAGMA query_only`) for units that only read.
    readers: SqlitePool,
    /// The connection that answers the per-request credential checks, outside the pool: a
    /// pooled query also pings its connection when it goes back to the pool (sqlx's guard
    /// against cancelled queries), one more round trip to the connection's worker thread on
    /// every request. Opened on first use, dropped after an error and opened again on the
    /// next check. Checks take turns on it (about 30 µs each). It reads committed rows only,
    /// so a revocation committed on any connection is seen by the next check.
    checker: Arc<tokio::sync::Mutex<Option<SqliteConnection>>>,
    options: SqliteConnectOptions,
    /// Read units' audit entries waiting for the writer.
    group: Arc<GroupCommit>,
    /// The database file (for the raw reader of the audit log).
    path: std::path::PathBuf,
    /// The log's tip as the writer connection last left it (`tip.rs`).
    tip: TipCache,
}

impl SqliteStore {
    /// Opens (creating if asked) the database at `path` and runs pending migrations; refuses a
    /// database whose schema is newer than this binary.
    pub async fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        if create {
            // Created here, private, before SQLite would create it with the process umask
            // (0644); SQLite gives its WAL and shared-memory files the database file's mode.
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(StoreError::Database(format!(
                        "cannot create `{}`: {e}",
                        path.display()
                    )));
                }
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "on");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            // No ping before each use: an embedded connection is a file handle and cannot go
            // stale like a network one (a broken one fails on use). The ping was a second
            // round trip to the connection's worker thread on every query, doubling the cost
            // of the per-request session check.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        MIGRATOR.run(&pool).await.map_err(crate::sql::migrate_err)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(false)
                    .pragma("query_only", "ON"),
            )
            .await
            .map_err(map_err)?;
        Ok(SqliteStore {
            pool,
            readers,
            checker: Arc::new(tokio::sync::Mutex::new(None)),
            options: options.create_if_missing(false),
            group: Arc::default(),
            path: path.to_owned(),
            tip: TipCache::default(),
        })
    }

    /// Runs a credential lookup (one row by token hash) on the checker connection.
    async fn check(
        &self,
        sql: &'static str,
        token_hash: &[u8; 32],
    ) -> Result<Option<SqliteRow>, StoreError> {
        let mut slot = self.checker.lock().await;
        let conn = match &mut *slot {
            Some(conn) => conn,
            empty => empty.insert(self.options.connect().await.map_err(map_err)?),
        };
        let row = sqlx::query(sql)
            .bind(&token_hash[..])
            .fetch_optional(&mut *conn)
            .await;
        if row.is_err() {
            // Start again from a fresh connection next time.
            *slot = None;
        }
        row.map_err(map_err)
    }

    /// Closes every connection, after moving every committed change from the WAL into the
    /// database file (so that a copy of `custos.db` alone is complete).
    pub async fn close(&self) {
        if let Some(conn) = self.checker.lock().await.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
        // If it fails (another process holds the database), nothing is lost: the WAL stays
        // beside the file and SQLite replays it at the next open.
        self.readers.close().await;
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        Ok(Box::new(SqliteTx {
            tx,
            read_only: None,
            statements: 0,
            tip: self.tip.clone(),
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let tx = self.readers.begin().await.map_err(map_err)?;
        Ok(Box::new(SqliteTx {
            tx,
            statements: 0,
            tip: self.tip.clone(),
            read_only: Some(ReadOnly {
                pending: Vec::new(),
                writer: self.pool.clone(),
                group: Arc::clone(&self.group),
            }),
        }))
    }

    async fn session_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(SessionRow, PersonStatus)>, StoreError> {
        self.check(SESSION_AND_STATUS, token_hash)
            .await?
            .map(|r| session_and_status_row(&r))
            .transpose()
    }

    async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        at: custos_domain::Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(TOUCH_SESSION)
            .bind(&token_hash[..])
            .bind(ms(at))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn snapshot_into(&self, to: &Path) -> Result<(), StoreError> {
        // On a connection of its own, neither the writer (a snapshot must not hold up writes)
        // nor a `query_only` reader (which refuses VACUUM INTO).
        let mut conn = self.options.connect().await.map_err(map_err)?;
        let path = to
            .to_str()
            .ok_or_else(|| StoreError::Database("backup path is not UTF-8".to_owned()))?;
        let done = sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut conn)
            .await
            .map_err(map_err);
        let _ = sqlx::Connection::close(conn).await;
        done?;
        Ok(())
    }

    async fn close(&self) {
        SqliteStore::close(self).await;
    }

    async fn missing_audit_guards(&self) -> Result<Vec<&'static str>, StoreError> {
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master
             WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_tree', 'audit_checkpoints', 'audit_cosignatures')",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(map_err)?;
        Ok(crate::sql::missing_guards(
            &[
                "audit_log_no_update",
                "audit_log_no_delete",
                "audit_tree_no_update",
                "audit_tree_no_delete",
                "audit_checkpoints_no_update",
                "audit_checkpoints_no_delete",
                "audit_cosignatures_no_update",
                "audit_cosignatures_no_delete",
            ],
            &present,
        ))
    }

    async fn api_token_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(ApiTokenRow, PersonStatus)>, StoreError> {
        self.check(API_TOKEN_AND_STATUS, token_hash)
            .await?
            .map(|r| api_token_and_status_row(&r))
            .transpose()
    }

    fn audit_batches(&self) -> AuditBatches {
        self.group.stats()
    }

    fn audit_units_waiting(&self) -> usize {
        self.group.waiting()
    }

    fn audit_row_reader(&self) -> Result<Option<Box<dyn crate::AuditRowReader>>, StoreError> {
        Ok(Some(Box::new(crate::audit_scan::SqliteRowReader::open(
            &self.path,
        )?)))
    }
}

/// A unit of work on SQLite: on the writer connection (holding the write lock), or, for a unit
/// that only reads, a snapshot on a read-only connection whose audit entries are written on
/// the writer connection when it commits.
struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    read_only: Option<ReadOnly>,
    /// Statements run through [`SqlTx::conn`] (calls into the embedded library), and by
    /// appends to the log.
    statements: u64,
    /// The store's tip (`tip.rs`).
    tip: TipCache,
}

/// What a read-only unit keeps until it commits.
struct ReadOnly {
    /// Audit entries of this unit, not yet written.
    pending: Vec<AuditRecord>,
    writer: SqlitePool,
    group: Arc<GroupCommit>,
}

impl SqlTx for SqliteTx {
    fn conn(&mut self) -> Conn<'_> {
        self.statements += 1;
        Conn::Lite(&mut self.tx)
    }
}

#[async_trait]
impl StoreTx for SqliteTx {
    fn statements_run(&self) -> u64 {
        self.statements
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        // A snapshot ends first (a reader holds nothing the writer waits for anyway).
        let SqliteTx {
            tx, read_only, tip, ..
        } = *self;
        tx.commit().await.map_err(map_err)?;
        match read_only {
            Some(ReadOnly {
                pending,
                writer,
                group,
            }) if !pending.is_empty() => {
                let write = Box::new(move |records| {
                    Box::pin(async move { write_audit_entries(&writer, &tip, records).await }) as _
                });
                group.submit(pending, write).await
            }
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl AuditTx for SqliteTx {
    async fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError> {
        match &mut self.read_only {
            Some(read_only) => {
                read_only.pending.push(record.clone());
                Ok(())
            }
            // The unit holds SQLite's one write lock (BEGIN IMMEDIATE), so the last row cannot
            // change before this one commits: sequence order is commit order.
            None => {
                self.statements +=
                    append_after_head(&mut self.tx, &self.tip, vec![record.clone()]).await?;
                Ok(())
            }
        }
    }

    async fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        audit::head(self.conn()).await
    }

    async fn audit_tree_hashes(&mut self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        crate::areas::audit_tree::read(self.conn(), indexes).await
    }

    async fn audit_entries(
        &mut self,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // A read-only unit sees committed entries only: its own are written when it commits.
        audit::select(self.conn(), filter, after, limit).await
    }
}

/// Numbers, chains and writes `records` after the log's last entry, inside `tx`, which holds
/// the write lock, and returns how many statements that took. At the store's tip if the log
/// still ends there (two statements: the entries, written only if it does, and the tree's
/// hashes, computed from the tip's edge); if not, or with no tip yet, the general way (the
/// head, the entries, the tree's edge read and its hashes written), which learns the tip.
async fn append_after_head(
    tx: &mut Transaction<'static, Sqlite>,
    tip: &TipCache,
    records: Vec<AuditRecord>,
) -> Result<u64, StoreError> {
    let mut statements = 0;
    let records = match tip.peek() {
        Some(at) => {
            let numbered = crate::tip::number(&at, records)?;
            statements += 1;
            if audit::insert_at_tip(Conn::Lite(tx), (at.seq, at.chain), &numbered.entries).await? {
                audit_tree::write(Conn::Lite(tx), &numbered.hashes, false).await?;
                // Set before the unit commits, while it holds the write lock: if it rolls back
                // instead, the next append finds the log short of this tip and goes the
                // general way.
                tip.set(numbered.next);
                return Ok(statements + 1);
            }
            numbered.entries.into_iter().map(|e| e.record).collect()
        }
        None => records,
    };
    let prev = audit::head(Conn::Lite(tx)).await?;
    tip.set(crate::tip::write_after(Conn::Lite(tx), prev, records).await?);
    Ok(statements + 3)
}

/// Writes a batch of read units' `records`, in one short transaction on the writer connection.
async fn write_audit_entries(
    writer: &SqlitePool,
    tip: &TipCache,
    records: Vec<AuditRecord>,
) -> Result<(), StoreError> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(map_err)?;
    append_after_head(&mut tx, tip, records).await?;
    tx.commit().await.map_err(map_err)
}
