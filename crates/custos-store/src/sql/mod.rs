//! What both SQL backends share: statements run on either ([`exec`]), one row decoder, one
//! error mapping, and the per-request statements. The operations themselves are in
//! `crate::areas`; only the unit-of-work boundaries and the audit sequencer differ per backend.

mod decode;
pub(crate) mod exec;
mod principal;

pub(crate) use principal::{PRINCIPAL_FACTS, principal_facts};

pub(crate) use decode::{
    api_token_row, audit_entry, break_glass_row, client_row, document_row, factor_row, matter_row,
    person_row, recovery_row, session_row, team, throttle_row, uuid_col, wall,
};

use crate::StoreError;

/// Column access shared by the backends' row types.
pub(crate) trait SqlRow {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
}

macro_rules! impl_sql_row {
    ($row:ty) => {
        impl SqlRow for $row {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                sqlx::Row::try_get(self, col).map_err(map_err)
            }
        }
    };
}

impl_sql_row!(sqlx::sqlite::SqliteRow);
impl_sql_row!(sqlx::postgres::PgRow);

/// The columns of a row whose names start with a prefix, under their names without it: one
/// decoder reads a record whether it came alone or beside another in a join (`m_id` as `id`).
pub(crate) struct Prefixed<'r, R>(pub &'r R, pub &'static str);

impl<R: SqlRow> SqlRow for Prefixed<'_, R> {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        self.0.text(&format!("{}{col}", self.1))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.0.opt_text(&format!("{}{col}", self.1))
    }
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
        self.0.bytes(&format!("{}{col}", self.1))
    }
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.opt_bytes(&format!("{}{col}", self.1))
    }
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.0.int(&format!("{}{col}", self.1))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.0.opt_int(&format!("{}{col}", self.1))
    }
}

/// PostgreSQL error classes that mean "the server went away or is refusing work for now":
/// connection exceptions (08), operator intervention (57: shutdown, termination), and
/// insufficient resources (53: too many connections).
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57") || code.starts_with("53")
}

/// Transaction rollbacks forced by concurrency (serialization failure, deadlock): the unit of
/// work did not happen and may be retried.
fn contention_code(code: &str) -> bool {
    code == "40001" || code == "40P01"
}

/// Maps a driver error to a store error, the same way for every backend.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if db.message().contains("append-only") {
                StoreError::AppendOnly
            } else if db.is_unique_violation() {
                StoreError::Conflict("already exists".to_owned())
            } else if db.is_foreign_key_violation() {
                StoreError::Conflict("refers to a record that does not exist".to_owned())
            } else if unavailable_code(&code) {
                crate::postgres::connection_lost();
                StoreError::Unavailable(db.message().to_owned())
            } else if contention_code(&code)
                || db.message().contains("locked")
                || db.message().contains("busy")
            {
                StoreError::Unavailable(db.message().to_owned())
            } else {
                StoreError::Database(db.message().to_owned())
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            crate::postgres::connection_lost();
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// A migration failure; a schema newer than this binary gets a message saying so.
pub(crate) fn migrate_err(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Database(format!(
            "the database has schema version {v}, which this binary does not know: \
             it was written by a newer Custos; upgrade this node"
        )),
        sqlx::migrate::MigrateError::Execute(e) => map_err(e),
        other => StoreError::Database(format!("migration failed: {other}")),
    }
}

pub(crate) fn ms(t: custos_domain::Timestamp) -> i64 {
    custos_audit::unix_ms(t)
}

/// The key after which a page starts: ids are stored as lower-case hyphenated text, so their
/// text order (byte order; `COLLATE "C"` on PostgreSQL) is their UUID order.
pub(crate) fn after_key(id: Option<uuid::Uuid>) -> String {
    id.map(|u| u.to_string()).unwrap_or_default()
}

pub(crate) fn ids<R: SqlRow, T>(
    rows: &[R],
    col: &str,
    wrap: impl Fn(uuid::Uuid) -> T,
) -> Result<Vec<T>, StoreError> {
    rows.iter()
        .map(|r| decode::uuid_col(r, col).map(&wrap))
        .collect()
}

/// An update that touched no row names what was missing.
pub(crate) fn found(rows_affected: u64, what: &'static str) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}

/// Which of `expected` are not among `present` (trigger names).
pub(crate) fn missing_guards(expected: &[&'static str], present: &[String]) -> Vec<&'static str> {
    expected
        .iter()
        .filter(|name| !present.iter().any(|p| p == *name))
        .copied()
        .collect()
}

/// The per-request session check: one statement, the same on both backends.
pub(crate) const SESSION_AND_STATUS: &str = "SELECT s.*, p.status
     FROM sessions s JOIN people p ON p.id = s.person_id
     WHERE s.token_hash = $1";

/// The per-request API token check.
pub(crate) const API_TOKEN_AND_STATUS: &str = "SELECT t.*, p.status
     FROM api_tokens t JOIN people p ON p.id = t.person_id
     WHERE t.token_hash = $1";

/// Moves a session's last-seen time forward (never back).
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2";

/// A row of [`API_TOKEN_AND_STATUS`].
pub(crate) fn api_token_and_status_row(
    row: &impl SqlRow,
) -> Result<(crate::ApiTokenRow, custos_domain::PersonStatus), StoreError> {
    let status = custos_domain::PersonStatus::parse(&row.text("status")?)
        .map_err(|_| StoreError::Corrupt("status".to_owned()))?;
    Ok((api_token_row(row)?, status))
}

/// A row of [`SESSION_AND_STATUS`].
pub(crate) fn session_and_status_row(
    row: &impl SqlRow,
) -> Result<(crate::SessionRow, custos_domain::PersonStatus), StoreError> {
    let status = custos_domain::PersonStatus::parse(&row.text("status")?)
        .map_err(|_| StoreError::Corrupt("status".to_owned()))?;
    Ok((session_row(row)?, status))
}
