//! The audit log's Merkle tree in the database (issue 15): the stored hashes of
//! `custos_audit::merkle`, written with the entries by the sequencer (same transaction, same
//! lock), read for roots and proofs. Appending leaf `n` reads the few stored hashes
//! `merkle::append_needs(n)` names (or those this batch just computed) and writes about two
//! rows; nothing reads the whole log, except once: a log written before the tree existed gets
//! its tree rebuilt from its leaf hashes on its next append.

use crate::StoreError;
use crate::sql::SqlRow;
use crate::sql::exec::{Conn, q};
use custos_audit::merkle::{self, Hash, MemoryTree};
use std::collections::HashMap;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("audit tree: {what}"))
}

fn int(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| corrupt("index out of range"))
}

fn hash_of(row: &impl SqlRow) -> Result<Hash, StoreError> {
    row.bytes("hash")?
        .try_into()
        .map_err(|_| corrupt("a hash is not 32 bytes"))
}

/// One stored hash (`None`: not written).
async fn read_one(conn: Conn<'_>, idx: u64) -> Result<Option<Hash>, StoreError> {
    q("SELECT hash FROM audit_tree WHERE idx = $1")
        .bind(int(idx)?)
        .get(conn, hash_of)
        .await
}

/// The stored hashes at `indexes`, in that order; an index not written is corruption.
pub(crate) async fn read(mut conn: Conn<'_>, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
    let mut out = Vec::with_capacity(indexes.len());
    for &idx in indexes {
        out.push(
            read_one(conn.reborrow(), idx)
                .await?
                .ok_or_else(|| corrupt("a stored hash is missing"))?,
        );
    }
    Ok(out)
}

/// Writes stored hashes; a row already there is an error, unless `filling` (the rebuild of a
/// log from before the tree, which adds only what is missing).
async fn write(mut conn: Conn<'_>, rows: &[(u64, Hash)], filling: bool) -> Result<(), StoreError> {
    for (idx, hash) in rows {
        q(if filling {
            "INSERT INTO audit_tree (idx, hash) VALUES ($1, $2) ON CONFLICT (idx) DO NOTHING"
        } else {
            "INSERT INTO audit_tree (idx, hash) VALUES ($1, $2)"
        })
        .bind(int(*idx)?)
        .bind(&hash[..])
        .run(conn.reborrow())
        .await?;
    }
    Ok(())
}

/// Adds leaves `first`, `first + 1`, ... (their leaf hashes) to the tree, in the transaction
/// that writes their entries. If the tree lacks the leaves before `first` (a log from before
/// the tree existed), they are added first, from the log's leaf hashes.
pub(crate) async fn extend(
    mut conn: Conn<'_>,
    first: u64,
    leaves: &[Hash],
) -> Result<(), StoreError> {
    if leaves.is_empty() {
        return Ok(());
    }
    let base = merkle::stored_index(0, first);
    if first > 0 && read_one(conn.reborrow(), base - 1).await?.is_none() {
        rebuild(conn.reborrow(), first).await?;
    }
    // Hashes this batch computed (indexes from `base` on, in order) and those read below it.
    let mut new: Vec<(u64, Hash)> = Vec::new();
    let mut old: HashMap<u64, Hash> = HashMap::new();
    for (n, leaf) in (first..).zip(leaves) {
        let mut needed = Vec::new();
        for idx in merkle::append_needs(n) {
            let hash = if idx >= base {
                usize::try_from(idx - base)
                    .ok()
                    .and_then(|i| new.get(i))
                    .map(|(_, h)| *h)
                    .ok_or_else(|| corrupt("a hash of this batch is missing"))?
            } else if let Some(h) = old.get(&idx) {
                *h
            } else {
                let h = read_one(conn.reborrow(), idx)
                    .await?
                    .ok_or_else(|| corrupt("a stored hash is missing"))?;
                old.insert(idx, h);
                h
            };
            needed.push(hash);
        }
        new.extend(merkle::append(n, leaf, &needed).map_err(|e| corrupt(&e.to_string()))?);
    }
    write(conn, &new, false).await
}

/// Writes the stored hashes of leaves `0..upto` that are missing, from audit_log's leaf hashes
/// (once, for a log written before the tree existed).
async fn rebuild(mut conn: Conn<'_>, upto: u64) -> Result<(), StoreError> {
    let mut tree = MemoryTree::default();
    let mut after = 0_i64;
    while tree.size() < upto {
        let rows =
            q("SELECT seq, leaf_hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 10000")
                .bind(after)
                .all(conn.reborrow())
                .await?;
        if rows.is_empty() {
            return Err(corrupt("the log is shorter than its sequence"));
        }
        for row in &rows {
            let seq = row.int("seq")?;
            if seq != after + 1 {
                return Err(corrupt("a gap in the log's sequence"));
            }
            after = seq;
            if tree.size() < upto {
                let leaf: Hash = row
                    .bytes("leaf_hash")?
                    .try_into()
                    .map_err(|_| corrupt("a leaf hash is not 32 bytes"))?;
                tree.push(leaf).map_err(|e| corrupt(&e.to_string()))?;
            }
        }
    }
    let rows: Vec<(u64, Hash)> = (0..merkle::stored_count(upto))
        .zip(tree.stored_hashes())
        .map(|(i, h)| (i, *h))
        .collect();
    write(conn, &rows, true).await
}
