//! The audit log's rows as stored, for `custos audit verify` (every entry, once), each column
//! borrowed from the database's row (no decoding into records, no allocation per column).
//!
//! SQLite: straight from the file, on read-only rusqlite connections of their own, one per
//! verifying thread (sqlx hands every row to the async side through its worker thread and
//! copies each value, which costs more than hashing the row: ~3-4.7 µs a row here).
//! PostgreSQL: a stretch of rows fetched through the store's pool, the thread waiting on the
//! runtime for it, then read in place.

use crate::StoreError;
use custos_audit::stored::StoredEntry;
use rusqlite::types::ValueRef;
use std::path::Path;

/// Reads stored audit rows by sequence number, on one connection (blocking calls: use it on
/// a thread of its own).
pub trait AuditRowReader: Send {
    /// The highest sequence number in the log (0 when it is empty).
    fn last_seq(&mut self) -> Result<u64, StoreError>;

    /// Calls `visit` with every row whose `seq` is in `first..=last`, in `seq` order; with
    /// `None` for a row whose columns are not of their stored types (the exact path names it).
    fn visit(
        &mut self,
        first: u64,
        last: u64,
        visit: &mut dyn FnMut(Option<StoredEntry<'_>>),
    ) -> Result<(), StoreError>;
}

/// [`AuditRowReader`] on a read-only SQLite connection.
pub(crate) struct SqliteRowReader {
    conn: rusqlite::Connection,
}

const ROWS: &str = "SELECT seq, at_ms, request_id, actor_id, action, resource, outcome, \
                    reasons, detail, leaf_hash, chain_hash FROM audit_log \
                    WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq";
/// The same in PostgreSQL's placeholders.
const PG_ROWS: &str = "SELECT seq, at_ms, request_id, actor_id, action, resource, outcome, \
                       reasons, detail, leaf_hash, chain_hash FROM audit_log \
                       WHERE seq BETWEEN $1 AND $2 ORDER BY seq";

/// The most of the database file mapped (address space, not memory; SQLite caps it at 2 GiB
/// unless built otherwise, and reads the rest of a larger file as before).
const MMAP_BYTES: i64 = 1 << 31;

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(format!("reading the audit log: {e}"))
}

impl SqliteRowReader {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        // Pages of the database file are read through a memory map instead of one read()
        // call (a system call and a copy) per 4 KiB page: the log is read once, end to end.
        // Nothing here shrinks the file while it is mapped (no VACUUM, no auto_vacuum).
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)
            .map_err(err)?;
        Ok(SqliteRowReader { conn })
    }
}

fn text(value: ValueRef<'_>) -> Option<&str> {
    match value {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

fn row_entry<'r>(row: &'r rusqlite::Row<'_>) -> Option<StoredEntry<'r>> {
    let get = |i: usize| row.get_ref(i).ok();
    let int = |i: usize| match get(i)? {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    };
    let blob = |i: usize| match get(i)? {
        ValueRef::Blob(bytes) => Some(bytes),
        _ => None,
    };
    Some(StoredEntry {
        seq: int(0)?,
        at_ms: int(1)?,
        request_id: text(get(2)?)?,
        actor: match get(3)? {
            ValueRef::Null => None,
            value => Some(text(value)?),
        },
        action: text(get(4)?)?,
        resource: text(get(5)?)?,
        outcome: text(get(6)?)?,
        reasons: text(get(7)?)?,
        detail: text(get(8)?)?,
        leaf_hash: blob(9)?,
        chain_hash: blob(10)?,
    })
}

/// A sequence number as the databases store it.
fn bound(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The last sequence number read (`max(seq)`: none in an empty log).
fn seq_of(last: Option<i64>) -> u64 {
    last.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

/// [`AuditRowReader`] through the PostgreSQL pool, from a thread outside the runtime.
pub(crate) struct PgRowReader {
    pub(crate) pool: sqlx::PgPool,
    pub(crate) runtime: tokio::runtime::Handle,
}

fn pg_entry(row: &sqlx::postgres::PgRow) -> Option<StoredEntry<'_>> {
    use sqlx::Row;
    Some(StoredEntry {
        seq: row.try_get(0).ok()?,
        at_ms: row.try_get(1).ok()?,
        request_id: row.try_get(2).ok()?,
        actor: row.try_get(3).ok()?,
        action: row.try_get(4).ok()?,
        resource: row.try_get(5).ok()?,
        outcome: row.try_get(6).ok()?,
        reasons: row.try_get(7).ok()?,
        detail: row.try_get(8).ok()?,
        leaf_hash: row.try_get(9).ok()?,
        chain_hash: row.try_get(10).ok()?,
    })
}

impl AuditRowReader for PgRowReader {
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        let last: Option<i64> = self
            .runtime
            .block_on(sqlx::query_scalar("SELECT max(seq) FROM audit_log").fetch_one(&self.pool))
            .map_err(crate::sql::map_err)?;
        Ok(seq_of(last))
    }

    fn visit(
        &mut self,
        first: u64,
        last: u64,
        visit: &mut dyn FnMut(Option<StoredEntry<'_>>),
    ) -> Result<(), StoreError> {
        let rows = self
            .runtime
            .block_on(
                sqlx::query(PG_ROWS)
                    .bind(bound(first))
                    .bind(bound(last))
                    .fetch_all(&self.pool),
            )
            .map_err(crate::sql::map_err)?;
        for row in &rows {
            visit(pg_entry(row));
        }
        Ok(())
    }
}

impl AuditRowReader for SqliteRowReader {
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM audit_log", [], |row| row.get(0))
            .map_err(err)?;
        Ok(seq_of(last))
    }

    fn visit(
        &mut self,
        first: u64,
        last: u64,
        visit: &mut dyn FnMut(Option<StoredEntry<'_>>),
    ) -> Result<(), StoreError> {
        let mut statement = self.conn.prepare_cached(ROWS).map_err(err)?;
        let mut rows = statement.query([bound(first), bound(last)]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            visit(row_entry(row));
        }
        Ok(())
    }
}
