//! Proof files: what Custos hands a client or an auditor, and what they check offline with
//! this module alone (no database, no network). Each file is one JSON object; its hashes are
//! lower-case hex; the tree's size and root come only from the signed checkpoint it carries,
//! which must verify with the log's published verifier key. `docs/AUDIT-FORMAT.md` gives the
//! format for anyone writing their own verifier.
//!
//! - Inclusion (`"type": "inclusion"`): one entry's canonical bytes (`canonical`, the JSON
//!   text whose SHA-256 with a leading `0x00` is its leaf hash), its sequence number `seq`
//!   (leaf index `seq - 1`), the audit path `proof` and the `checkpoint` it is proved against.
//! - Consistency (`"type": "consistency"`): the tree of `from` entries is a prefix of the tree
//!   of the `checkpoint`; the earlier root comes from a checkpoint the verifier kept, or else
//!   from `from_checkpoint` (the log's own signed checkpoint of that size, when it has one).

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::merkle::{self, Hash, ProofError};
use serde::{Deserialize, Serialize};

/// Why a proof file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFileError {
    /// A checkpoint in or beside the file is not the log's.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The proof does not hold.
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    /// The file is not in the format.
    #[error("not a proof file: {0}")]
    Format(String),
}

fn format(why: impl Into<String>) -> ProofFileError {
    ProofFileError::Format(why.into())
}

/// An entry's inclusion in a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    /// The entry's sequence number (its leaf index plus one).
    pub seq: u64,
    /// The entry's canonical bytes (UTF-8 JSON; see the crate documentation).
    pub canonical: String,
    /// The audit path, hex, from the leaf up.
    pub proof: Vec<String>,
    /// The signed checkpoint (a signed note) the path leads to.
    pub checkpoint: String,
}

/// The consistency of an earlier tree with a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProof {
    /// The earlier tree's size.
    pub from: u64,
    /// The proof's hashes, hex.
    pub proof: Vec<String>,
    /// The later tree's signed checkpoint.
    pub checkpoint: String,
    /// The log's own signed checkpoint of `from` entries, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_checkpoint: Option<String>,
}

/// One entry of an export: its canonical bytes and audit path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedEntry {
    /// The entry's sequence number.
    pub seq: u64,
    /// Its canonical bytes (UTF-8 JSON).
    pub canonical: String,
    /// Its audit path to the export's checkpoint, hex.
    pub proof: Vec<String>,
}

/// The audit entries about one client, matter or person (and a date range), each with its
/// inclusion proof, all against one signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditExport {
    /// What the export covers, e.g. `client:<id>`, and the dates, as asked.
    pub scope: String,
    /// The signed checkpoint every proof leads to.
    pub checkpoint: String,
    /// The entries in sequence order.
    pub entries: Vec<ExportedEntry>,
}

impl AuditExport {
    /// Checks the checkpoint with `verifier_key`, then every entry as an
    /// [`InclusionProof`] against it (in strictly increasing sequence order). Returns the
    /// checkpoint.
    pub fn verify(&self, verifier_key: &str) -> Result<Checkpoint, ProofFileError> {
        let checkpoint = checkpoint::verify(self.checkpoint.as_bytes(), verifier_key)?;
        let mut last = 0;
        for e in &self.entries {
            if e.seq <= last {
                return Err(format("the entries are not in strictly increasing order"));
            }
            last = e.seq;
            let proof = InclusionProof {
                seq: e.seq,
                canonical: e.canonical.clone(),
                proof: e.proof.clone(),
                checkpoint: String::new(),
            };
            proof
                .check_against(&checkpoint)
                .map_err(|err| format(format!("entry {}: {err}", e.seq)))?;
        }
        Ok(checkpoint)
    }
}

/// A proof file of either kind, as written to disk (`type` says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ProofFile {
    /// An entry's inclusion.
    Inclusion(InclusionProof),
    /// Two trees' consistency.
    Consistency(ConsistencyProof),
    /// An export of entries with their proofs.
    Export(AuditExport),
}

fn hashes(proof: &[String]) -> Result<Vec<Hash>, ProofFileError> {
    proof
        .iter()
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or_else(|| format("a proof hash is not 64 hex digits"))
        })
        .collect()
}

/// Hex of each hash (for writing proofs).
pub fn to_hex(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(hex::encode).collect()
}

impl InclusionProof {
    /// Checks the checkpoint's signature with `verifier_key`, that `canonical` is the entry
    /// numbered `seq`, and that the path leads from its leaf hash to the checkpoint's root.
    /// Returns the checkpoint.
    pub fn verify(&self, verifier_key: &str) -> Result<Checkpoint, ProofFileError> {
        let checkpoint = checkpoint::verify(self.checkpoint.as_bytes(), verifier_key)?;
        self.check_against(&checkpoint)?;
        Ok(checkpoint)
    }

    /// Checks the entry and its path against a checkpoint already verified.
    fn check_against(&self, checkpoint: &Checkpoint) -> Result<(), ProofFileError> {
        let entry: serde_json::Value =
            serde_json::from_str(&self.canonical).map_err(|_| format("the entry is not JSON"))?;
        if entry.get("seq").and_then(serde_json::Value::as_u64) != Some(self.seq) || self.seq == 0 {
            return Err(format("the entry's own seq is not the proof's"));
        }
        let leaf = merkle::leaf_hash(self.canonical.as_bytes());
        merkle::verify_inclusion(
            &hashes(&self.proof)?,
            checkpoint.size,
            &checkpoint.root()?,
            self.seq - 1,
            &leaf,
        )?;
        Ok(())
    }
}

impl ConsistencyProof {
    /// Checks the checkpoint's signature with `verifier_key` and that the tree of `from`
    /// entries is a prefix of it. The earlier root is `kept`'s (a signed checkpoint the
    /// verifier kept, of `from` entries), else `from_checkpoint`'s; both must verify with the
    /// same key. Returns (earlier, later) checkpoints.
    pub fn verify(
        &self,
        verifier_key: &str,
        kept: Option<&[u8]>,
    ) -> Result<(Checkpoint, Checkpoint), ProofFileError> {
        let new = checkpoint::verify(self.checkpoint.as_bytes(), verifier_key)?;
        let old_note = kept
            .or(self.from_checkpoint.as_deref().map(str::as_bytes))
            .ok_or_else(|| format("no checkpoint of the earlier tree to check against"))?;
        let old = checkpoint::verify(old_note, verifier_key)?;
        if old.size != self.from {
            return Err(format(format!(
                "the earlier checkpoint has {} entries, the proof starts from {}",
                old.size, self.from
            )));
        }
        merkle::verify_consistency(
            &hashes(&self.proof)?,
            old.size,
            &old.root()?,
            new.size,
            &new.root()?,
        )?;
        Ok((old, new))
    }
}
