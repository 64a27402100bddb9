//! PostgreSQL: a batch of audit entries in one statement, when this node knows the log's tip.
//!
//! The general way to append (`PgTx::sequence_pending`) locks the sequencer row, reads the
//! head and the tree's right edge, writes the entries, the tree's hashes and the new head, and
//! commits: seven or eight round trips, all of them under the row lock that every node's
//! appends wait for. But the node that wrote last already knows what it would read: the head
//! and right edge its own write left (the [`Tip`]). With it, the writes are one statement:
//!
//! - the sequencer row is updated to the batch's last entry only if it still holds the tip's
//!   sequence number and chain hash (the row lock is taken, and a concurrent append waited for,
//!   exactly as `SELECT ... FOR UPDATE` would);
//! - the entries and the tree's hashes are inserted only if that update happened.
//!
//! A batch of the group commit sends it as a transaction of its own: one round trip and one
//! commit in all. A unit that writes records locks the row first (it must hold it until it
//! commits anyway) and sends the statement if the row holds the tip: three round trips instead
//! of seven.
//!
//! If another node or unit appended since, the row no longer holds the tip, nothing is written,
//! and the batch goes the general way, which learns the tip again. A tip is only ever a guess:
//! the statement checks it against the row under the lock, and the chain hash it checks
//! commits to every entry before it (and so to the tree's edge), so a stale or wrong tip costs
//! a round trip, never an entry in the wrong place.

use crate::StoreError;
use crate::areas::audit::Columns;
use crate::sql::map_err;
use crate::tip::{Numbered, Tip, number};
use custos_audit::AuditRecord;
use sqlx::Postgres;

/// The sequencer row moves from the tip to the batch's last entry, or nothing is written.
const APPEND_AT_TIP: &str = "WITH head AS (
        UPDATE audit_head SET seq = $1, chain_hash = $2
        WHERE id = 1 AND seq = $3 AND chain_hash = $4
        RETURNING seq
    ), entries AS (
        INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, resource, outcome,
            reasons, detail, leaf_hash, chain_hash)
        SELECT * FROM unnest($5::BIGINT[], $6::BIGINT[], $7::TEXT[], $8::TEXT[], $9::TEXT[],
            $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::BYTEA[], $15::BYTEA[])
        WHERE EXISTS (SELECT 1 FROM head)
    ), tree AS (
        INSERT INTO audit_tree (idx, hash)
        SELECT * FROM unnest($16::BIGINT[], $17::BYTEA[])
        WHERE EXISTS (SELECT 1 FROM head)
    )
    SELECT count(*) FROM head";

/// Writes `records` after `tip` in one statement, through `executor`: a pool (the statement
/// is its own transaction, durable when it returns) or a unit's connection (the entries commit
/// with the unit). `Ok(Ok(tip))`: written, and the tip they make, to publish once committed.
/// `Ok(Err(records))`: the log has moved on from `tip`; nothing was written, and the records
/// go the general way.
pub(crate) async fn append_at_tip<'c, E>(
    executor: E,
    tip: &Tip,
    records: Vec<AuditRecord>,
) -> Result<Result<Tip, Vec<AuditRecord>>, StoreError>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let Numbered {
        entries,
        hashes,
        next,
    } = number(tip, records)?;
    let int = |n: u64| i64::try_from(n).map_err(|_| StoreError::Corrupt("seq".into()));
    let mut c = Vec::with_capacity(entries.len());
    for entry in &entries {
        c.push(Columns::of(entry)?);
    }
    let mut idx = Vec::with_capacity(hashes.len());
    for (i, _) in &hashes {
        idx.push(int(*i)?);
    }
    let written: i64 = sqlx::query_scalar(APPEND_AT_TIP)
        .bind(int(next.seq)?)
        .bind(&next.chain[..])
        .bind(int(tip.seq)?)
        .bind(&tip.chain[..])
        .bind(c.iter().map(|c| c.seq).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.at_ms).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.request_id.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.actor_id.as_deref()).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.action.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.resource.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.outcome).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.reasons.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.detail.as_str()).collect::<Vec<_>>())
        .bind(c.iter().map(|c| c.leaf_hash.as_slice()).collect::<Vec<_>>())
        .bind(
            c.iter()
                .map(|c| c.chain_hash.as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(idx)
        .bind(hashes.iter().map(|(_, h)| &h[..]).collect::<Vec<_>>())
        .fetch_one(executor)
        .await
        .map_err(map_err)?;
    if written == 1 {
        Ok(Ok(next))
    } else {
        Ok(Err(entries.into_iter().map(|e| e.record).collect()))
    }
}
