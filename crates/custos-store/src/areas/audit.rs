//! The audit log: appending (per backend: how entries get their number differs), the head, and
//! reading entries back. The shared statements are here; `sqlite.rs` and `postgres.rs` number
//! the entries.

use crate::StoreError;
use crate::rows::AuditFilter;
use crate::sql::exec::{Conn, Q, q};
use crate::sql::{SqlRow, audit_entry};
use async_trait::async_trait;
use custos_audit::{AuditEntry, AuditRecord, Outcome};

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

/// `records` numbered and chained after `prev` (`None`: the log is empty), in order; the last
/// one is the log's new head.
pub(crate) fn number_after(
    mut prev: Option<(u64, [u8; 32])>,
    records: Vec<AuditRecord>,
) -> Vec<AuditEntry> {
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        let entry = next_entry(prev, record);
        prev = Some((entry.seq, entry.chain_hash));
        entries.push(entry);
    }
    entries
}

/// Up to eight entries in one statement, then `$condition`: unused places are bound to NULL
/// and skipped.
macro_rules! insert_eight {
    ($condition:literal) => {
        concat!(
            "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, \
            resource, outcome, reasons, detail, leaf_hash, chain_hash) \
            SELECT column1, column2, column3, column4, column5, column6, column7, column8, \
            column9, column10, column11 FROM (VALUES \
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11), \
            ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22), \
            ($23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33), \
            ($34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44), \
            ($45, $46, $47, $48, $49, $50, $51, $52, $53, $54, $55), \
            ($56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66), \
            ($67, $68, $69, $70, $71, $72, $73, $74, $75, $76, $77), \
            ($78, $79, $80, $81, $82, $83, $84, $85, $86, $87, $88)) AS v \
            WHERE column1 IS NOT NULL",
            $condition
        )
    };
}

/// Eight places.
const INSERT_EIGHT: &str = insert_eight!("");

/// Eight places, written only if the log's last entry is the given tip: sequence number `$89`
/// (0: the log is empty) with chain hash `$90` (NULL for 0). SQLite evaluates these
/// uncorrelated subqueries once, before it inserts (a statement that reads the table it
/// writes has its rows computed first), and [`insert_at_tip`] refuses a partial insert anyway.
const INSERT_EIGHT_AT_TIP: &str = insert_eight!(
    " AND NOT EXISTS (SELECT 1 FROM audit_log WHERE seq > $89) \
    AND (SELECT chain_hash FROM audit_log WHERE seq = $89) IS $90"
);

/// One entry.
const INSERT_ONE: &str = "INSERT INTO audit_log (seq, at_ms, request_id, actor_id, action, \
    resource, outcome, reasons, detail, leaf_hash, chain_hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Writes numbered entries in the unit's transaction, eight to a statement (a batch of the group commit costs one round trip per
/// eight entries on PostgreSQL, not one per entry).
pub(crate) async fn insert_many(
    mut conn: Conn<'_>,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(8) {
        let statement = if chunk.len() == 1 {
            bind(q(INSERT_ONE), chunk, 1)?
        } else {
            bind(q(INSERT_EIGHT), chunk, 8)?
        };
        statement.run(conn.reborrow()).await?;
    }
    Ok(())
}

/// SQLite: writes entries numbered after the tip `(seq, chain)`, in a unit holding the write
/// lock, only if the log's last entry is still that tip. `Ok(false)`: it is not (another
/// process appended, or the unit that made the tip rolled back) and nothing was written.
pub(crate) async fn insert_at_tip(
    mut conn: Conn<'_>,
    (seq, chain): (u64, [u8; 32]),
    entries: &[AuditEntry],
) -> Result<bool, StoreError> {
    let (first, rest) = entries.split_at(entries.len().min(8));
    let seq = i64::try_from(seq).map_err(|_| StoreError::Corrupt("seq".into()))?;
    let written = bind(q(INSERT_EIGHT_AT_TIP), first, 8)?
        .bind(seq)
        .bind((seq > 0).then(|| chain.to_vec()))
        .run(conn.reborrow())
        .await?;
    match usize::try_from(written) {
        Ok(0) => Ok(false),
        Ok(n) if n == first.len() => {
            insert_many(conn, rest).await?;
            Ok(true)
        }
        _ => Err(StoreError::Database(
            "an append at the tip wrote part of its entries".into(),
        )),
    }
}

/// Binds `chunk` to a statement's first `places` places, padding with NULLs.
fn bind(mut statement: Q, chunk: &[AuditEntry], places: usize) -> Result<Q, StoreError> {
    for place in 0..places {
        statement = match chunk.get(place).map(Columns::of).transpose()? {
            Some(c) => statement
                .bind(Some(c.seq))
                .bind(Some(c.at_ms))
                .bind(Some(c.request_id))
                .bind(c.actor_id)
                .bind(Some(c.action))
                .bind(Some(c.resource))
                .bind(Some(c.outcome))
                .bind(Some(c.reasons))
                .bind(Some(c.detail))
                .bind(Some(c.leaf_hash))
                .bind(Some(c.chain_hash)),
            None => statement
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<&'static str>)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<Vec<u8>>)
                .bind(None::<Vec<u8>>),
        };
    }
    Ok(statement)
}

/// An entry's `audit_log` columns, as every backend stores them (`detail` in canonical form,
/// so that `audit verify` can hash it as stored).
pub(crate) struct Columns {
    pub seq: i64,
    pub at_ms: i64,
    pub request_id: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub resource: String,
    pub outcome: &'static str,
    pub reasons: String,
    pub detail: String,
    pub leaf_hash: Vec<u8>,
    pub chain_hash: Vec<u8>,
}

impl Columns {
    pub(crate) fn of(entry: &AuditEntry) -> Result<Self, StoreError> {
        let record = &entry.record;
        Ok(Columns {
            seq: i64::try_from(entry.seq).map_err(|_| StoreError::Corrupt("seq".into()))?,
            at_ms: record.at_ms,
            request_id: record.request_id.to_string(),
            actor_id: record.actor.map(|a| a.to_string()),
            action: record.action.clone(),
            resource: record.resource.clone(),
            outcome: record.outcome.as_str(),
            reasons: serde_json::to_string(&record.reasons)
                .map_err(|e| StoreError::Database(e.to_string()))?,
            detail: custos_audit::canonical_json(&record.detail),
            leaf_hash: entry.leaf_hash.to_vec(),
            chain_hash: entry.chain_hash.to_vec(),
        })
    }
}

/// Committed entries matching `filter`, in sequence order after `after`; or, when the filter
/// asks for the newest first, in reverse order before `after` (0: from the end).
///
/// The statement names only the filters given (`actor_id = $2`, not `($2 IS NULL OR
/// actor_id = $2)`, which hides the column from the planner), so a person's trail or a
/// resource's history walks its index (`audit_actor`, `audit_resource`: the column, then
/// `seq`) from the cursor and stops after one page, whatever the log's size. The text is made
/// of fixed fragments only (values are always bound), once per combination of filters.
pub(crate) async fn select(
    conn: Conn<'_>,
    filter: &AuditFilter,
    after: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut statement = q(select_text(filter, after));
    if after > 0 {
        statement = statement.bind(i64::try_from(after).unwrap_or(i64::MAX));
    }
    if let Some(actor) = filter.actor {
        statement = statement.bind(actor.to_string());
    }
    if let Some(resource) = &filter.resource {
        statement = statement.bind(resource.clone());
    }
    if let Some(request) = filter.request_id {
        statement = statement.bind(request.to_string());
    }
    if let Some(action) = &filter.action {
        statement = statement.bind(action.clone());
    }
    if let Some(from) = filter.from_ms {
        statement = statement.bind(from);
    }
    if let Some(until) = filter.until_ms {
        statement = statement.bind(until);
    }
    statement
        .bind(i64::from(limit))
        .list(conn, audit_entry)
        .await
}

/// The statement for the filters present in `filter` (and a cursor or none), its parameters
/// numbered in the order [`select`] binds them. Built from fixed fragments, once per
/// combination (at most 1,024 texts), and kept for the process's life.
fn select_text(filter: &AuditFilter, after: u64) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TEXTS: OnceLock<Mutex<HashMap<u16, &'static str>>> = OnceLock::new();
    let conditions: [(bool, &str); 9] = [
        (
            after > 0,
            if filter.newest_first {
                "seq < "
            } else {
                "seq > "
            },
        ),
        (filter.actor.is_some(), "actor_id = "),
        (filter.resource.is_some(), "resource = "),
        (filter.request_id.is_some(), "request_id = "),
        // The outcome is written into the text (one of two fixed words, never input), so that
        // the partial index of denials (`audit_denials`) applies to "this person's denials".
        (filter.outcome == Some(Outcome::Deny), "outcome = 'deny'"),
        (filter.outcome == Some(Outcome::Allow), "outcome = 'allow'"),
        (filter.action.is_some(), "action = "),
        (filter.from_ms.is_some(), "at_ms >= "),
        (filter.until_ms.is_some(), "at_ms < "),
    ];
    let mut key = u16::from(filter.newest_first) << 9;
    for (bit, (present, _)) in conditions.iter().enumerate() {
        if *present {
            key |= 1 << bit;
        }
    }
    let texts = TEXTS.get_or_init(Mutex::default);
    let mut texts = texts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    texts.entry(key).or_insert_with(|| {
        let mut sql = String::from("SELECT * FROM audit_log WHERE TRUE");
        let mut n = 0;
        for (_, condition) in conditions.iter().filter(|(present, _)| *present) {
            if condition.ends_with(' ') {
                n += 1;
                sql.push_str(&format!(" AND {condition}${n}"));
            } else {
                sql.push_str(&format!(" AND {condition}"));
            }
        }
        let order = if filter.newest_first { "DESC" } else { "ASC" };
        sql.push_str(&format!(" ORDER BY seq {order} LIMIT ${}", n + 1));
        Box::leak(sql.into_boxed_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_domain::PersonId;

    /// The query plans SQLite picks for the trail and history queries: the filtered column's
    /// index, walked in sequence order (no scan of the log, no sort).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn trails_and_histories_walk_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.db");
        crate::SqliteStore::open(&path, true)
            .await
            .unwrap()
            .close()
            .await;
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let actor = AuditFilter {
            actor: Some(PersonId::new()),
            ..AuditFilter::default()
        };
        let cases = [
            (actor.clone(), 0, "audit_actor"),
            (actor.clone(), 500, "audit_actor"),
            (
                AuditFilter {
                    newest_first: true,
                    action: Some("document.read".into()),
                    outcome: Some(custos_audit::Outcome::Allow),
                    ..actor
                },
                0,
                "audit_actor",
            ),
            (
                AuditFilter {
                    outcome: Some(custos_audit::Outcome::Deny),
                    newest_first: true,
                    ..AuditFilter {
                        actor: Some(PersonId::new()),
                        ..AuditFilter::default()
                    }
                },
                0,
                "audit_denials",
            ),
            (
                AuditFilter {
                    resource: Some("document:x".into()),
                    from_ms: Some(1),
                    until_ms: Some(2),
                    ..AuditFilter::default()
                },
                7,
                "audit_resource",
            ),
        ];
        for (filter, after, index) in cases {
            let text = select_text(&filter, after);
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(
                format!("EXPLAIN QUERY PLAN {text}"),
            ));
            for _ in 0..text.matches('$').count() {
                query = query.bind(1_i64);
            }
            let plan: Vec<String> = query
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.3)
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains(index), "{text}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{text} sorts: {plan}");
        }
        // Parameters are numbered in the order `select` binds them.
        assert_eq!(
            select_text(&AuditFilter::default(), 0),
            "SELECT * FROM audit_log WHERE TRUE ORDER BY seq ASC LIMIT $1"
        );
    }
}
