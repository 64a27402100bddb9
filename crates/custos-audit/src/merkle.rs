//! The audit log as an RFC 6962 Merkle tree (SHA-256, leaf prefix `0x00`, node prefix `0x01`),
//! with inclusion proofs (an entry is in the log a checkpoint signs) and consistency proofs (a
//! later log extends an earlier one), verified without a database.
//!
//! Hashing and proofs are `tlog_tiles`' port of Go's `golang.org/x/mod/sumdb/tlog` (the
//! checksum database's tree, compatible with Certificate Transparency): its layout of *stored
//! hashes* — every complete subtree's hash under one index, about two per entry — lets a
//! store append and prove by reading at most `1 + log2 n` stored hashes, never the whole log.
//! Its functions read hashes through a synchronous callback, and a database is asynchronous,
//! so each operation here comes in two steps: `*_needs` says which stored hashes it reads
//! (computed by running the operation once with a recording reader), the caller fetches them
//! however it likes, and the second step runs the operation on exactly those hashes.
//!
//! [`Frontier`] computes a root in one pass over the leaves with `O(log n)` memory (for
//! verifying a whole log from its entries); [`MemoryTree`] keeps every stored hash in memory
//! (tests, and a verifier that wants to prove over entries it holds).

use std::cell::RefCell;
use tlog_tiles::{Hash as TlogHash, HashReader};

/// A SHA-256 hash of a leaf, a node or a tree.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub const EMPTY_ROOT: Hash = tlog_tiles::EMPTY_HASH.0;

/// Why a proof was refused or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof does not lead to the root it was checked against.
    #[error("the proof does not match the tree")]
    Mismatch,
    /// The sizes or the index cannot be asked about (an index outside the tree, an earlier
    /// tree larger than the later one, an empty earlier tree).
    #[error("{0}")]
    Input(String),
    /// The hashes supplied for the second step are not those its first step asked for.
    #[error("the stored hashes supplied do not answer the question")]
    Supplied,
}

fn input(why: &str) -> ProofError {
    ProofError::Input(why.to_owned())
}

fn tlog(e: tlog_tiles::Error) -> ProofError {
    match e {
        tlog_tiles::Error::InvalidProof => ProofError::Mismatch,
        tlog_tiles::Error::InvalidInput(why) => ProofError::Input(why),
        _ => ProofError::Supplied,
    }
}

fn ours(h: &[TlogHash]) -> Vec<Hash> {
    h.iter().map(|h| h.0).collect()
}

fn theirs(h: &[Hash]) -> Vec<TlogHash> {
    h.iter().map(|h| TlogHash(*h)).collect()
}

/// A leaf's hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    tlog_tiles::record_hash(data).0
}

/// An interior node's hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    tlog_tiles::node_hash(TlogHash(*left), TlogHash(*right)).0
}

/// The stored-hash index of the subtree at `level` numbered `n` (level 0: the leaves).
pub fn stored_index(level: u8, n: u64) -> u64 {
    tlog_tiles::stored_hash_index(level, n)
}

/// How many stored hashes a tree of `size` leaves has.
pub fn stored_count(size: u64) -> u64 {
    tlog_tiles::stored_hash_count(size)
}

/// A reader that only records what it was asked for (and answers zeros, which are thrown away).
struct Recorder(RefCell<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TlogHash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![TlogHash([0; 32]); indexes.len()])
    }
}

/// A reader that answers with the hashes supplied, if they are for the indexes asked.
struct Supplied<'a> {
    indexes: &'a [u64],
    hashes: &'a [Hash],
}

impl HashReader for Supplied<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TlogHash>, tlog_tiles::Error> {
        if indexes != self.indexes || self.hashes.len() != indexes.len() {
            return Err(tlog_tiles::Error::IndexesNotInTree);
        }
        Ok(theirs(self.hashes))
    }
}

/// Runs `op` with a recording reader: the stored hashes it reads.
fn needs<T>(
    op: impl FnOnce(&Recorder) -> Result<T, tlog_tiles::Error>,
) -> Result<Vec<u64>, ProofError> {
    let r = Recorder(RefCell::new(Vec::new()));
    op(&r).map_err(tlog)?;
    Ok(r.0.into_inner())
}

/// The stored hashes that appending leaf number `n` (from 0) reads.
pub fn append_needs(n: u64) -> Vec<u64> {
    needs(|r| tlog_tiles::stored_hashes_for_record_hash(n, TlogHash([0; 32]), r))
        .unwrap_or_default()
}

/// The stored hashes to write when leaf number `n` with hash `leaf` is appended, from index
/// `stored_index(0, n)` on, given the hashes [`append_needs`] named, in its order.
pub fn append(n: u64, leaf: &Hash, needed: &[Hash]) -> Result<Vec<(u64, Hash)>, ProofError> {
    let indexes = append_needs(n);
    let reader = Supplied {
        indexes: &indexes,
        hashes: needed,
    };
    let hashes =
        tlog_tiles::stored_hashes_for_record_hash(n, TlogHash(*leaf), &reader).map_err(tlog)?;
    let first = stored_index(0, n);
    Ok((first..).zip(ours(&hashes)).collect())
}

/// The stored hashes the root of a tree of `size` leaves reads.
pub fn root_needs(size: u64) -> Vec<u64> {
    needs(|r| tlog_tiles::tree_hash(size, r)).unwrap_or_default()
}

/// The root of a tree of `size` leaves, from the hashes [`root_needs`] named.
pub fn root(size: u64, needed: &[Hash]) -> Result<Hash, ProofError> {
    let indexes = root_needs(size);
    let reader = Supplied {
        indexes: &indexes,
        hashes: needed,
    };
    Ok(tlog_tiles::tree_hash(size, &reader).map_err(tlog)?.0)
}

/// The stored hashes proving that leaf `index` is in the tree of `size` leaves reads.
pub fn inclusion_needs(size: u64, index: u64) -> Result<Vec<u64>, ProofError> {
    if index >= size {
        return Err(input("the entry is not in a tree of that size"));
    }
    needs(|r| tlog_tiles::prove_record(size, index, r))
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 6962 audit path,
/// nearest sibling first), from the hashes [`inclusion_needs`] named.
pub fn inclusion_proof(size: u64, index: u64, needed: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    let indexes = inclusion_needs(size, index)?;
    let reader = Supplied {
        indexes: &indexes,
        hashes: needed,
    };
    Ok(ours(
        &tlog_tiles::prove_record(size, index, &reader).map_err(tlog)?,
    ))
}

/// The stored hashes proving that the tree of `old` leaves is a prefix of that of `new` reads.
pub fn consistency_needs(old: u64, new: u64) -> Result<Vec<u64>, ProofError> {
    if old == 0 || old > new {
        return Err(input(
            "a consistency proof goes from a non-empty tree to one as large",
        ));
    }
    needs(|r| tlog_tiles::prove_tree(new, old, r))
}

/// The consistency proof from the tree of `old` leaves to that of `new`, from the hashes
/// [`consistency_needs`] named.
pub fn consistency_proof(old: u64, new: u64, needed: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    let indexes = consistency_needs(old, new)?;
    let reader = Supplied {
        indexes: &indexes,
        hashes: needed,
    };
    Ok(ours(
        &tlog_tiles::prove_tree(new, old, &reader).map_err(tlog)?,
    ))
}

/// Checks that `proof` shows leaf `leaf` at `index` in the tree of `size` leaves whose root is
/// `root`. Needs nothing but its arguments.
pub fn verify_inclusion(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    leaf: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(input("the entry is not in a tree of that size"));
    }
    tlog_tiles::check_record(
        &theirs(proof),
        size,
        TlogHash(*root),
        index,
        TlogHash(*leaf),
    )
    .map_err(tlog)
}

/// Checks that `proof` shows the tree of `old` leaves with root `old_root` to be a prefix of
/// the tree of `new` leaves with root `new_root`. An empty earlier tree proves nothing and is
/// refused; equal sizes need an empty proof and equal roots.
pub fn verify_consistency(
    proof: &[Hash],
    old: u64,
    old_root: &Hash,
    new: u64,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(input(
            "a consistency proof goes from a non-empty tree to one as large",
        ));
    }
    tlog_tiles::check_tree(
        &theirs(proof),
        new,
        TlogHash(*new_root),
        old,
        TlogHash(*old_root),
    )
    .map_err(tlog)
}

/// The right edge of a tree as it grows: the roots of its complete subtrees, largest first.
/// Appending costs `O(1)` amortised and the root `O(log n)`, in `O(log n)` memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    /// Adds the next leaf (its leaf hash).
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        // Each trailing 1 bit of the old size completes a subtree with the new leaf.
        let mut n = self.size;
        while n & 1 == 1 {
            let Some(left) = self.peaks.pop() else { break };
            h = node_hash(&left, &h);
            n >>= 1;
        }
        self.peaks.push(h);
        self.size += 1;
    }

    /// Adds `2^height` leaves at once by the root of their subtree (computed elsewhere, e.g.
    /// by another thread), when the size is a multiple of `2^height` (the subtree is then one
    /// of the tree's own); otherwise answers false and adds nothing.
    pub fn push_subtree(&mut self, height: u32, root: Hash) -> bool {
        let Some(width) = 1u64.checked_shl(height) else {
            return false;
        };
        if !self.size.is_multiple_of(width) {
            return false;
        }
        let mut h = root;
        let mut n = self.size >> height;
        while n & 1 == 1 {
            let Some(left) = self.peaks.pop() else { break };
            h = node_hash(&left, &h);
            n >>= 1;
        }
        self.peaks.push(h);
        self.size += width;
        true
    }

    /// How many leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree's root (RFC 6962 MTH: the peaks folded from the right).
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else {
            return EMPTY_ROOT;
        };
        peaks.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// Every stored hash of a tree, in memory: appends, roots and proofs through the same two-step
/// functions a database-backed store uses.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    size: u64,
    stored: Vec<Hash>,
}

impl MemoryTree {
    fn read(&self, indexes: &[u64]) -> Result<Vec<Hash>, ProofError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.stored.get(i).copied())
                    .ok_or(ProofError::Supplied)
            })
            .collect()
    }

    /// Appends a leaf (its leaf hash).
    pub fn push(&mut self, leaf: Hash) -> Result<(), ProofError> {
        let needed = self.read(&append_needs(self.size))?;
        for (index, hash) in append(self.size, &leaf, &needed)? {
            if usize::try_from(index).ok() != Some(self.stored.len()) {
                return Err(ProofError::Supplied);
            }
            self.stored.push(hash);
        }
        self.size += 1;
        Ok(())
    }

    /// How many leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Every stored hash, by stored-hash index.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.stored
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size {
            return Err(input("the tree is not that large"));
        }
        root(size, &self.read(&root_needs(size))?)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn prove_inclusion(&self, size: u64, index: u64) -> Result<Vec<Hash>, ProofError> {
        if size > self.size {
            return Err(input("the tree is not that large"));
        }
        inclusion_proof(size, index, &self.read(&inclusion_needs(size, index)?)?)
    }

    /// The consistency proof from the first `old` leaves to the first `new`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        if new > self.size {
            return Err(input("the tree is not that large"));
        }
        consistency_proof(old, new, &self.read(&consistency_needs(old, new)?)?)
    }
}
