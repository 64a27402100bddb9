//! A node's tip: the log's last entry and the tree's right edge, as this node's last append
//! left them, so that the next append need not read them (`pg_append` on PostgreSQL; the
//! writer connection's appends on SQLite, `sqlite.rs`).
//!
//! A tip is only ever a guess. Each backend checks it, under the write lock, against the log
//! itself (PostgreSQL: the sequencer row's sequence number and chain hash; SQLite: the last
//! entry's) before it writes anything at it, and the chain hash it checks commits to every
//! entry before it, and so to the tree's edge. A stale or wrong tip (another node or process
//! appended, or a unit that published it rolled back) therefore costs a round trip, never an
//! entry in the wrong place.

use crate::StoreError;
use crate::areas::audit;
use crate::areas::audit_tree::{self, Edge};
use crate::sql::exec::Conn;
use custos_audit::{AuditEntry, AuditRecord};
use std::sync::{Arc, Mutex};

/// The last entry's sequence number and chain hash, and the tree's right edge after it, as
/// written by this node's last append.
#[derive(Debug, Clone)]
pub(crate) struct Tip {
    pub seq: u64,
    pub chain: [u8; 32],
    pub edge: Edge,
}

/// This node's latest known tip (none: the next batch goes the general way).
#[derive(Debug, Clone, Default)]
pub(crate) struct TipCache(Arc<Mutex<Option<Tip>>>);

impl TipCache {
    /// The latest known tip. A failed write leaves it as it was: a failed statement writes
    /// nothing, and a write whose outcome is unknown only makes the tip stale.
    pub(crate) fn peek(&self) -> Option<Tip> {
        self.0.lock().ok().and_then(|tip| tip.clone())
    }

    /// Remembers the tip a write just made, unless a later one is known. A unit publishes
    /// before it commits, while it still holds the sequencer row, so that the unit waiting for
    /// the row finds it: if the commit then fails, the tip is wrong and the next write, finding
    /// the row elsewhere, goes the general way and publishes the right one (at the same
    /// sequence number, which therefore replaces it).
    pub(crate) fn publish(&self, tip: Tip) {
        if let Ok(mut known) = self.0.lock()
            && known.as_ref().is_none_or(|k| k.seq <= tip.seq)
        {
            *known = Some(tip);
        }
    }

    /// Remembers `tip` whatever was known: for a backend whose appends all take turns on one
    /// connection (SQLite's writer), which sets tips in the order the log got them.
    pub(crate) fn set(&self, tip: Tip) {
        if let Ok(mut known) = self.0.lock() {
            *known = Some(tip);
        }
    }
}

/// A batch numbered after a tip: its entries, the tree hashes they add, and the tip after them.
pub(crate) struct Numbered {
    pub entries: Vec<AuditEntry>,
    pub hashes: Vec<(u64, [u8; 32])>,
    pub next: Tip,
}

/// Numbers `records` after `tip`.
pub(crate) fn number(tip: &Tip, records: Vec<AuditRecord>) -> Result<Numbered, StoreError> {
    let entries = audit::number_after(Some((tip.seq, tip.chain)), records);
    let (seq, chain) = entries
        .last()
        .map_or((tip.seq, tip.chain), |e| (e.seq, e.chain_hash));
    let leaves: Vec<_> = entries.iter().map(|e| e.leaf_hash).collect();
    let (hashes, edge) = audit_tree::plan(tip.seq, &leaves, &tip.edge)?;
    let next = Tip { seq, chain, edge };
    Ok(Numbered {
        entries,
        hashes,
        next,
    })
}

/// The general way, in a unit holding the log's write lock: numbers `records` after the head
/// it read (`prev`; `None`: the log is empty), writes them and the tree's hashes (reading the
/// tree's right edge), and returns the tip they make. Two calls on `conn`.
pub(crate) async fn write_after(
    mut conn: Conn<'_>,
    prev: Option<(u64, [u8; 32])>,
    records: Vec<AuditRecord>,
) -> Result<Tip, StoreError> {
    let entries = audit::number_after(prev, records);
    let (seq, chain) = entries
        .last()
        .map(|e| (e.seq, e.chain_hash))
        .or(prev)
        .unwrap_or((0, custos_audit::GENESIS));
    audit::insert_many(conn.reborrow(), &entries).await?;
    let leaves: Vec<_> = entries.iter().map(|e| e.leaf_hash).collect();
    let first = prev.map_or(0, |(seq, _)| seq);
    let edge = audit_tree::extend(conn, first, &leaves).await?;
    Ok(Tip { seq, chain, edge })
}
