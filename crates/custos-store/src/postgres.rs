//! The PostgreSQL implementation of the store traits: the scale-out backend, shared by several
//! stateless app nodes. Same tables and SQL as SQLite; differs in two places only:
//!
//! - units of work run at READ COMMITTED and take no lock up front, so nodes work in parallel;
//! - the audit sequencer is one row (`audit_head`). A unit's audit entries wait in the unit
//!   until it commits (or reads the log); then it locks the row, numbers and chains its entries,
//!   and commits, releasing the lock. The log has one total order across nodes, in commit order,
//!   with no gap, and the lock is held only for the last few statements and the commit.
//!   Units that only read end their snapshot first and hand their entries to the node's group
//!   commit: the entries of every read unit waiting at that moment are numbered and written in
//!   one transaction, taking the lock once for all of them.

use crate::areas::{AuditTx, audit};
use crate::group_commit::{AuditBatches, GroupCommit};
use crate::pg_append;
use crate::rows::{ApiTokenRow, AuditFilter, SessionRow};
use crate::sql::exec::{Conn, SqlTx, q};
use crate::sql::{
    API_TOKEN_AND_STATUS, SESSION_AND_STATUS, TOUCH_SESSION, api_token_and_status_row, map_err, ms,
    session_and_status_row,
};
use crate::tip::TipCache;
use crate::{Store, StoreError, StoreTx};
use async_trait::async_trait;
use custos_audit::{AuditEntry, AuditRecord};
use custos_domain::PersonStatus;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The scale-out store: a pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Read units' audit entries waiting for a writer on this node.
    group: Arc<GroupCommit>,
    /// The log's tip as this node last committed it (`pg_append`).
    tip: TipCache,
}

/// A pooled connection idle this long is pinged before use (a server restart may have ended it).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// For this long after a connection was found lost, every pooled connection is pinged before
/// use: the others were likely ended by the same restart.
const SUSPECT_FOR: Duration = Duration::from_secs(5);

/// When a connection was last found lost, in ms since the Unix epoch (0: never).
static LOST_AT_MS: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Notes that a connection was found lost (`sql::map_err`, for an I/O, TLS or protocol error or
/// a PostgreSQL "connection exception", "insufficient resources" or "operator intervention"
/// code: classes 08, 53, 57).
pub(crate) fn connection_lost() {
    LOST_AT_MS.store(now_ms(), Ordering::Relaxed);
}

/// Whether a connection was found lost within [`SUSPECT_FOR`] (or the clock went back since).
fn connections_suspect() -> bool {
    let lost = LOST_AT_MS.load(Ordering::Relaxed);
    lost != 0 && u128::from(now_ms().saturating_sub(lost)) < SUSPECT_FOR.as_millis()
}

/// The URL without its password (nor its query, which may hold one), for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<database url>".to_owned();
    };
    let rest = rest.split('?').next().unwrap_or_default();
    match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        }
        None => format!("{scheme}://{rest}"),
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db[?options]`). With
    /// `migrate`, runs pending migrations (under PostgreSQL's advisory lock, so nodes starting
    /// together migrate once); without, only checks that the schema is this binary's (an app
    /// role without DDL rights). Either way a schema newer than the binary is refused.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        migrate: bool,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|_| {
            StoreError::Database(format!(
                "`{}` is not a valid PostgreSQL URL",
                redact_url(url)
            ))
        })?;
        // Named in pg_stat_activity, unless the URL names the connections itself.
        let options = if url.contains("application_name=") {
            options
        } else {
            options.application_name("custos")
        };
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            // A connection killed by a server restart is found and replaced before use: it is
            // pinged if it sat idle a while, or if a connection was lost lately (not on every
            // use: that was one more round trip per unit of work under load).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_CHECK || connections_suspect() {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot connect to {}: {e}", redact_url(url)))
            })?;
        if migrate {
            MIGRATOR.run(&pool).await.map_err(crate::sql::migrate_err)?;
        } else {
            check_schema(&pool).await?;
        }
        Ok(PgStore {
            pool,
            group: Arc::default(),
            tip: TipCache::default(),
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Refuses a schema that is not exactly the one this binary's migrations make.
async fn check_schema(pool: &PgPool) -> Result<(), StoreError> {
    let applied: Vec<i64> = sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Database(m) => StoreError::Database(format!(
            "cannot read the schema version ({m}): run `custos db migrate` as the schema owner"
        )),
        other => other,
    })?;
    if let Some(v) = applied
        .iter()
        .find(|v| MIGRATOR.iter().all(|m| m.version != **v))
    {
        return Err(crate::sql::migrate_err(
            sqlx::migrate::MigrateError::VersionMissing(*v),
        ));
    }
    if let Some(m) = MIGRATOR.iter().find(|m| !applied.contains(&m.version)) {
        return Err(StoreError::Database(format!(
            "the database schema is older than this binary (migration {} is missing): run \
             `custos db migrate` as the schema owner",
            m.version
        )));
    }
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        Ok(Box::new(
            PgTx::open(&self.pool, "BEGIN", None, self.tip.clone()).await?,
        ))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTx>, StoreError> {
        let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
        let group = Some((Arc::clone(&self.group), self.pool.clone()));
        Ok(Box::new(
            PgTx::open(&self.pool, begin, group, self.tip.clone()).await?,
        ))
    }

    async fn session_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(SessionRow, PersonStatus)>, StoreError> {
        sqlx::query(SESSION_AND_STATUS)
            .bind(&token_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
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

    async fn snapshot_into(&self, _to: &std::path::Path) -> Result<(), StoreError> {
        Err(StoreError::Database(
            "the database is PostgreSQL: back it up with `pg_dump --format=custom` as its \
             owner (docs/OPERATIONS.md)"
                .to_owned(),
        ))
    }

    async fn close(&self) {
        PgStore::close(self).await;
    }

    async fn missing_audit_guards(&self) -> Result<Vec<&'static str>, StoreError> {
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT tgname::text FROM pg_trigger
             WHERE tgrelid IN ('audit_log'::regclass, 'audit_tree'::regclass,
                              'audit_checkpoints'::regclass, 'audit_cosignatures'::regclass)
               AND NOT tgisinternal AND tgenabled <> 'D'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(crate::sql::missing_guards(
            &[
                "audit_log_no_update_delete",
                "audit_log_no_truncate",
                "audit_tree_no_update_delete",
                "audit_tree_no_truncate",
                "audit_checkpoints_no_update_delete",
                "audit_checkpoints_no_truncate",
                "audit_cosignatures_no_update_delete",
                "audit_cosignatures_no_truncate",
            ],
            &present,
        ))
    }

    async fn api_token_and_status(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(ApiTokenRow, PersonStatus)>, StoreError> {
        sqlx::query(API_TOKEN_AND_STATUS)
            .bind(&token_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
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
        // Read from threads outside the runtime, which wait on it for each stretch; without
        // a runtime to wait on, the log is read through read units.
        Ok(tokio::runtime::Handle::try_current().ok().map(|runtime| {
            Box::new(crate::audit_scan::PgRowReader {
                pool: self.pool.clone(),
                runtime,
            }) as Box<dyn crate::AuditRowReader>
        }))
    }
}

/// A unit of work on one pooled connection, held from `BEGIN` to `COMMIT` (statements written
/// out: the transaction control is one simple-protocol round trip each).
struct PgTx {
    conn: PoolConnection<Postgres>,
    /// A transaction is open: dropped so, the connection is closed (the server rolls back)
    /// rather than returned to the pool mid-transaction.
    open: bool,
    /// Audit entries of this unit not yet numbered.
    pending: Vec<AuditRecord>,
    /// One REPEATABLE READ READ ONLY snapshot: its audit entries are numbered after it ends,
    /// by the node's group commit (with the pool it writes through).
    read_only: Option<(Arc<GroupCommit>, PgPool)>,
    /// Statements run through [`SqlTx::conn`] (each one round trip to the server).
    statements: u64,
    /// The node's tip (`pg_append`).
    tip: TipCache,
}

impl PgTx {
    async fn open(
        pool: &PgPool,
        begin: &'static str,
        read_only: Option<(Arc<GroupCommit>, PgPool)>,
        tip: TipCache,
    ) -> Result<Self, StoreError> {
        let conn = pool.acquire().await.map_err(map_err)?;
        let mut tx = PgTx {
            conn,
            open: true,
            pending: Vec::new(),
            read_only,
            statements: 0,
            tip,
        };
        tx.simple(begin).await?;
        Ok(tx)
    }

    /// Runs fixed transaction-control statements (simple protocol, one round trip).
    async fn simple(&mut self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql)
            .execute(&mut *self.conn)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// Numbers and writes the pending audit entries: in one statement at the node's tip if it
    /// still holds (`pg_append`), the general way if not. Either way the sequencer row stays
    /// locked until the unit ends: the next entry of any node follows these.
    async fn sequence_pending(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let head = q("SELECT seq, chain_hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .one(self.conn())
            .await?;
        let prev = audit::head_of(&head)?;
        // The row is locked: if it holds the node's tip, one statement writes everything.
        if let Some(tip) = self.tip.peek().filter(|t| (t.seq, t.chain) == prev) {
            let records = std::mem::take(&mut self.pending);
            self.statements += 1;
            match pg_append::append_at_tip(&mut *self.conn, &tip, records).await? {
                Ok(next) => {
                    self.tip.publish(next);
                    return Ok(());
                }
                Err(records) => self.pending = records,
            }
        }
        let records = std::mem::take(&mut self.pending);
        // Two store calls (the entries, the tree), counted as the unit's own calls are.
        self.statements += 1;
        let next = crate::tip::write_after(self.conn(), Some(prev), records).await?;
        q("UPDATE audit_head SET seq = $1, chain_hash = $2 WHERE id = 1")
            .bind(i64::try_from(next.seq).map_err(|_| StoreError::Corrupt("seq".into()))?)
            .bind(&next.chain[..])
            .run(self.conn())
            .await?;
        self.tip.publish(next);
        Ok(())
    }

    /// Commits the unit.
    async fn finish(&mut self) -> Result<(), StoreError> {
        self.simple("COMMIT").await?;
        self.open = false;
        Ok(())
    }
}

/// Numbers and writes a batch of read units' entries in one short transaction of its own: one
/// statement at the node's tip if it still holds, the general way if not.
async fn write_batch(
    pool: &PgPool,
    tip: TipCache,
    records: Vec<AuditRecord>,
) -> Result<(), StoreError> {
    let records = match tip.peek() {
        Some(at) => match pg_append::append_at_tip(pool, &at, records).await? {
            Ok(next) => {
                tip.publish(next);
                return Ok(());
            }
            Err(records) => records,
        },
        None => records,
    };
    let mut tx = PgTx::open(pool, "BEGIN", None, tip).await?;
    tx.pending = records;
    tx.sequence_pending().await?;
    tx.finish().await
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if self.open {
            self.conn.close_on_drop();
        }
    }
}

impl SqlTx for PgTx {
    fn conn(&mut self) -> Conn<'_> {
        self.statements += 1;
        Conn::Pg(&mut self.conn)
    }
}

#[async_trait]
impl StoreTx for PgTx {
    fn statements_run(&self) -> u64 {
        self.statements
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        match self.read_only.take() {
            Some((group, pool)) if !self.pending.is_empty() => {
                // The snapshot ends and its connection goes back to the pool; the entries are
                // written with those of the other read units committing now.
                self.simple("COMMIT").await?;
                self.open = false;
                let pending = std::mem::take(&mut self.pending);
                let tip = self.tip.clone();
                drop(self);
                let write = Box::new(move |records| {
                    Box::pin(async move { write_batch(&pool, tip, records).await }) as _
                });
                group.submit(pending, write).await
            }
            _ => {
                self.sequence_pending().await?;
                self.finish().await
            }
        }
    }
}

#[async_trait]
impl AuditTx for PgTx {
    async fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError> {
        self.pending.push(record.clone());
        Ok(())
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
        // A unit that writes sees its own entries, as on SQLite; a read-only unit sees the
        // committed ones (its own are written when it commits).
        if self.read_only.is_none() {
            self.sequence_pending().await?;
        }
        audit::select(self.conn(), filter, after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_survive_redaction() {
        for (url, shown) in [
            (
                "postgres://app:pw@db:5432/custos",
                "postgres://app@db:5432/custos",
            ),
            (
                "postgres://app:p@ss/w@rd@db/custos",
                "postgres://app@db/custos",
            ),
            (
                "postgres://db/custos?password=pw&sslmode=require",
                "postgres://db/custos",
            ),
            ("postgres://app@db/custos", "postgres://app@db/custos"),
            ("not a url pw", "<database url>"),
        ] {
            assert_eq!(redact_url(url), shown);
            assert!(!redact_url(url).contains("pw"));
        }
    }
}
