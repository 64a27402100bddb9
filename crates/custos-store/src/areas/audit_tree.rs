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
use std::sync::LazyLock;

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

/// Places in one fetch statement: a tree's whole right edge (one hash per bit of its size) and
/// a proof's hashes fit in one round trip.
const FETCH_PLACES: usize = 64;

/// `SELECT ... WHERE idx IN ($1, ..., $64)`: unused places are bound to NULL.
static FETCH: LazyLock<String> = LazyLock::new(|| {
    let places: Vec<String> = (1..=FETCH_PLACES).map(|i| format!("${i}")).collect();
    format!(
        "SELECT idx, hash FROM audit_tree WHERE idx IN ({})",
        places.join(", ")
    )
});

/// The stored hashes at `indexes` that are written, 64 to a statement.
async fn fetch(mut conn: Conn<'_>, indexes: &[u64]) -> Result<HashMap<u64, Hash>, StoreError> {
    let mut out = HashMap::new();
    for chunk in indexes.chunks(FETCH_PLACES) {
        let mut statement = q(FETCH.as_str());
        for place in 0..FETCH_PLACES {
            statement = statement.bind(chunk.get(place).map(|i| int(*i)).transpose()?);
        }
        for row in statement.all(conn.reborrow()).await? {
            let idx = u64::try_from(row.int("idx")?).map_err(|_| corrupt("a negative index"))?;
            out.insert(idx, hash_of(&row)?);
        }
    }
    Ok(out)
}

/// The stored hashes at `indexes`, in that order; an index not written is corruption.
pub(crate) async fn read(conn: Conn<'_>, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
    let found = fetch(conn, indexes).await?;
    indexes
        .iter()
        .map(|i| {
            found
                .get(i)
                .copied()
                .ok_or_else(|| corrupt("a stored hash is missing"))
        })
        .collect()
}

/// Up to eight rows in one statement: unused places are bound to NULL and skipped.
macro_rules! insert_rows {
    ($conflict:literal) => {
        concat!(
            "INSERT INTO audit_tree (idx, hash) SELECT column1, column2 FROM (VALUES ",
            "($1, $2), ($3, $4), ($5, $6), ($7, $8), ($9, $10), ($11, $12), ($13, $14), ",
            "($15, $16)) AS v WHERE column1 IS NOT NULL",
            $conflict
        )
    };
}

/// Writes stored hashes, eight to a statement; a row already there is an error, unless
/// `filling` (the rebuild of a log from before the tree, which adds only what is missing).
pub(crate) async fn write(
    mut conn: Conn<'_>,
    rows: &[(u64, Hash)],
    filling: bool,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(8) {
        let mut statement = q(if filling {
            insert_rows!(" ON CONFLICT (idx) DO NOTHING")
        } else {
            insert_rows!("")
        });
        for place in 0..8 {
            statement = match chunk.get(place) {
                Some((idx, hash)) => statement.bind(int(*idx)?).bind(&hash[..]),
                None => statement.bind(None::<i64>).bind(None::<Vec<u8>>),
            };
        }
        statement.run(conn.reborrow()).await?;
    }
    Ok(())
}

/// The stored hashes a tree of `size` leaves keeps on its right edge: the roots of its
/// complete subtrees, the only hashes below leaf `size` that appending any later leaf reads.
pub(crate) fn edge_indexes(size: u64) -> Vec<u64> {
    (0..64u8)
        .rev()
        .filter(|level| (size >> level) & 1 == 1)
        .map(|level| merkle::stored_index(level, (size >> level) - 1))
        .collect()
}

/// The right edge of a tree of `size` leaves (see [`edge_indexes`]), by stored-hash index.
pub(crate) type Edge = HashMap<u64, Hash>;

/// The stored hashes that adding leaves `first`, `first + 1`, ... (their leaf hashes) writes,
/// given the stored hashes below them they read (at least the right edge of `first` leaves),
/// and the right edge of the tree after them.
pub(crate) fn plan(
    first: u64,
    leaves: &[Hash],
    old: &Edge,
) -> Result<(Vec<(u64, Hash)>, Edge), StoreError> {
    let base = merkle::stored_index(0, first);
    // The hash at `idx`: one this batch computed (indexes from `base` on, in order), or one
    // below it that was given.
    let at = |idx: u64, new: &[(u64, Hash)]| {
        let hash = match idx.checked_sub(base) {
            Some(i) => usize::try_from(i)
                .ok()
                .and_then(|i| new.get(i))
                .map(|(_, h)| *h),
            None => old.get(&idx).copied(),
        };
        hash.ok_or_else(|| corrupt("a stored hash is missing"))
    };
    let mut new: Vec<(u64, Hash)> = Vec::new();
    for (n, leaf) in (first..).zip(leaves) {
        let needed = merkle::append_needs(n)
            .into_iter()
            .map(|idx| at(idx, &new))
            .collect::<Result<Vec<_>, _>>()?;
        new.extend(merkle::append(n, leaf, &needed).map_err(|e| corrupt(&e.to_string()))?);
    }
    let edge = edge_indexes(first + leaves.len() as u64)
        .into_iter()
        .map(|idx| Ok((idx, at(idx, &new)?)))
        .collect::<Result<Edge, StoreError>>()?;
    Ok((new, edge))
}

/// Adds leaves `first`, `first + 1`, ... (their leaf hashes) to the tree, in the transaction
/// that writes their entries, and returns the tree's right edge after them. If the tree lacks
/// the leaves before `first` (a log from before the tree existed), they are added first, from
/// the log's leaf hashes.
pub(crate) async fn extend(
    mut conn: Conn<'_>,
    first: u64,
    leaves: &[Hash],
) -> Result<Edge, StoreError> {
    let base = merkle::stored_index(0, first);
    // The right edge below this batch, and the last stored hash of the previous leaf (present
    // unless the log predates the tree), fetched together.
    let mut wanted = edge_indexes(first);
    if first > 0 {
        wanted.push(base - 1);
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut old = fetch(conn.reborrow(), &wanted).await?;
    if first > 0 && !old.contains_key(&(base - 1)) {
        rebuild(conn.reborrow(), first).await?;
        old = fetch(conn.reborrow(), &wanted).await?;
    }
    let (new, edge) = plan(first, leaves, &old)?;
    write(conn, &new, false).await?;
    Ok(edge)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// For every size up to 600: the right edge holds every stored hash below the size that
    /// appending any of the next 70 leaves reads, and [`plan`] from the edge alone writes the
    /// same hashes as a tree built leaf by leaf, ending at that tree's edge.
    #[test]
    fn the_right_edge_is_all_that_appending_reads() {
        let leaf = |n: u64| merkle::leaf_hash(&n.to_be_bytes());
        let mut tree = MemoryTree::default();
        for n in 0..670u64 {
            tree.push(leaf(n)).unwrap_or_else(|e| unreachable!("{e}"));
        }
        let stored = tree.stored_hashes();
        let at = |idx: u64| stored[usize::try_from(idx).unwrap_or(usize::MAX)];
        for size in 0..600u64 {
            let edge_idx = edge_indexes(size);
            let base = merkle::stored_index(0, size);
            for later in size..size + 70 {
                for idx in merkle::append_needs(later) {
                    assert!(idx >= base || edge_idx.contains(&idx), "{size}, {later}");
                }
            }
            let edge: Edge = edge_idx.iter().map(|i| (*i, at(*i))).collect();
            let leaves: Vec<Hash> = (size..size + 9).map(leaf).collect();
            let (new, after) = plan(size, &leaves, &edge).unwrap_or_else(|e| unreachable!("{e}"));
            for (idx, hash) in &new {
                assert_eq!(*hash, at(*idx), "size {size}, index {idx}");
            }
            let expected: Edge = edge_indexes(size + 9)
                .into_iter()
                .map(|i| (i, at(i)))
                .collect();
            assert_eq!(after, expected, "edge after {size} + 9");
            // One hash short of the edge is refused, not guessed.
            if let Some(first) = edge_idx.first() {
                let mut short = edge.clone();
                short.remove(first);
                assert!(plan(size, &leaves, &short).is_err(), "size {size}");
            }
        }
    }
}
