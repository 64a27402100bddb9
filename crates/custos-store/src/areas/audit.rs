//! The audit log: appending (per backend: how entries get their number differs), the head, and
//! reading entries back. The shared statements are here; `sqlite.rs` and `postgres.rs` number
//! the entries.

use crate::StoreError;
use crate::rows::AuditFilter;
use crate::sql::exec::{Conn, q};
use crate::sql::{SqlRow, audit_entry};
use async_trait::async_trait;
use custos_audit::{AuditEntry, AuditRecord};

/// The audit log of a unit of work.
#[async_trait]
pub trait AuditTx: Send {
    /// Appends an audit entry; it gets the next sequence number and chain hash no later than
    /// the unit's commit (and before any [`AuditTx::audit_entries`] of the same unit), so the
    /// log has one gapless order in commit order. If the entry cannot be written, the commit
    /// fails: nothing of the unit happens.
    async fn append_audit(&mut self, record: &AuditRecord) -> Result<(), StoreError>;
    /// The sequence number and chain hash of the last committed entry (`None`: empty log).
    async fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>, StoreError>;
    /// The audit tree's stored hashes at `indexes` (`custos_audit::merkle`'s stored-hash
    /// indexes; the `*_needs` functions say which), in that order. An index not written yet is
    /// an error: ask only about committed entries.
    async fn audit_tree_hashes(&mut self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError>;
    /// Entries matching `filter`, in sequence order after sequence number `after`; or, when the
    /// filter asks for the newest first, in reverse order before `after` (0: from the end).
    async fn audit_entries(
        &mut self,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

/// The last entry's sequence number and chain hash.
const AUDIT_HEAD: &str = "SELECT seq, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/// The last entry of the log (`None`: empty).
pub(crate) async fn head(conn: Conn<'_>) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    q(AUDIT_HEAD).get(conn, head_of).await
}

/// The sequence number and chain hash of the last entry, read from a row with columns `seq`
/// and `chain_hash` (NULL chain before the first entry).
pub(crate) fn head_of(row: &impl SqlRow) -> Result<(u64, [u8; 32]), StoreError> {
    let seq = u64::try_from(row.int("seq")?).map_err(|_| StoreError::Corrupt("seq".into()))?;
    let chain = match row.opt_bytes("chain_hash")? {
        Some(bytes) => bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("chain hash length".into()))?,
        None if seq == 0 => custos_audit::GENESIS,
        None => return Err(StoreError::Corrupt("chain hash missing".into())),
    };
    Ok((seq, chain))
}

/// The entry that follows `prev` (`None`: the log is empty).
pub(crate) fn next_entry(prev: Option<(u64, [u8; 32])>, record: AuditRecord) -> AuditEntry {
    let (prev_seq, prev_chain) = prev.unwrap_or((0, custos_audit::GENESIS));
    let seq = prev_seq + 1;
    let leaf = custos_audit::leaf_hash(&record.canonical_bytes(seq));
    AuditEntry {
        seq,
        record,
        leaf_hash: leaf,
        chain_hash: custos_audit::chain_hash(&prev_chain, &leaf),
    }
}

/// Writes one numbered entry in the unit's transaction.
pub(crate) async fn insert(conn: Conn<'_>, entry: &AuditEntry) -> Result<(), StoreError> {
    let record = &entry.record;
    let reasons =
        serde_json::to_string(&record.reasons).map_err(|e| StoreError::Database(e.to_string()))?;
    q(
        "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, resource, outcome, \
       reasons, detail, leaf_hash, chain_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(i64::try_from(entry.seq).map_err(|_| StoreError::Corrupt("seq".into()))?)
    .bind(record.at_ms)
    .bind(record.request_id.to_string())
    .bind(record.actor.map(|a| a.to_string()))
    .bind(record.action.clone())
    .bind(record.resource.clone())
    .bind(record.outcome.as_str())
    .bind(reasons)
    .bind(record.detail.to_string())
    .bind(entry.leaf_hash.to_vec())
    .bind(entry.chain_hash.to_vec())
    .run(conn)
    .await?;
    Ok(())
}

/// Committed entries matching `filter`, in sequence order after `after`; or, when the filter
/// asks for the newest first, in reverse order before `after` (0: from the end).
pub(crate) async fn select(
    conn: Conn<'_>,
    filter: &AuditFilter,
    after: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    // Optional filters are written as `(CAST($n AS TEXT) IS NULL OR col = $n)`, so the SQL
    // text is fixed and the same on every backend.
    macro_rules! select {
        ($seq:literal, $order:literal) => {
            concat!(
                "SELECT * FROM audit_log WHERE ",
                $seq,
                " AND (CAST($2 AS TEXT) IS NULL OR actor_id = $2)
                  AND (CAST($3 AS TEXT) IS NULL OR resource = $3)
                  AND (CAST($4 AS TEXT) IS NULL OR request_id = $4)
                  AND (CAST($5 AS TEXT) IS NULL OR outcome = $5)
                  AND (CAST($6 AS TEXT) IS NULL OR action = $6)
                  AND (CAST($7 AS BIGINT) IS NULL OR at_ms >= $7)
                  AND (CAST($8 AS BIGINT) IS NULL OR at_ms < $8)
                ORDER BY seq ",
                $order,
                " LIMIT $9"
            )
        };
    }
    const OLDEST_FIRST: &str = select!("seq > $1", "ASC");
    const NEWEST_FIRST: &str = select!("($1 = 0 OR seq < $1)", "DESC");
    q(if filter.newest_first {
        NEWEST_FIRST
    } else {
        OLDEST_FIRST
    })
    .bind(i64::try_from(after).unwrap_or(i64::MAX))
    .bind(filter.actor.map(|a| a.to_string()))
    .bind(filter.resource.clone())
    .bind(filter.request_id.map(|r| r.to_string()))
    .bind(filter.outcome.map(|o| o.as_str()))
    .bind(filter.action.clone())
    .bind(filter.from_ms)
    .bind(filter.until_ms)
    .bind(i64::from(limit))
    .list(conn, audit_entry)
    .await
}
