//! Witnesses: independent parties (a client, an auditor, the bar) that cosign a log's
//! checkpoint only after checking that it extends the last one they saw, so that a log cannot
//! show different histories to different people, nor take entries back, without a witness
//! refusing.
//!
//! Cosignatures follow C2SP `tlog-cosignature` (Ed25519, `cosignature/v1`): a note signature
//! line `— <witness name> base64(key id || timestamp || signature)`, where the key id is
//! `SHA-256(name || "\n" || 0x04 || public key)[:4]`, the timestamp is the cosigning time in
//! POSIX seconds as 8 big-endian bytes, and the Ed25519 signature is over
//! `"cosignature/v1\ntime <timestamp>\n" || checkpoint body`. Verifier keys are written
//! `<name>+<key id hex>+base64(0x04 || public key)`.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::merkle::{Hash, verify_consistency};
use base64::prelude::*;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use std::collections::BTreeMap;

/// The key type byte of Ed25519 cosignatures (`cosignature/v1`).
const COSIGNATURE_V1: u8 = 0x04;
/// The signature line's leading dash and space.
const DASH: &str = "\u{2014} ";

/// Why a witness refused, or a cosignature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The checkpoint is not signed by a log this witness follows.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// The log's origin is not one this witness follows.
    #[error("this witness does not follow the log `{0}`")]
    UnknownLog(String),
    /// A smaller tree than the one already cosigned: entries taken back.
    #[error("rollback: the log had {had} entries, this checkpoint has {now}")]
    Rollback {
        /// The size already cosigned.
        had: u64,
        /// The size offered.
        now: u64,
    },
    /// The checkpoint does not extend the one already cosigned: another history.
    #[error("fork: the checkpoint of {now} entries does not extend the one of {had} entries")]
    Fork {
        /// The size already cosigned.
        had: u64,
        /// The size offered.
        now: u64,
    },
    /// A key or a cosignature line is not in its format.
    #[error("not a cosigner key or cosignature")]
    Format,
    /// The cosignature does not verify.
    #[error("the cosignature does not verify")]
    Invalid,
}

/// A witness's signing key.
pub struct CosignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CosignerKey({})", self.name)
    }
}

fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    let encoded = [&[COSIGNATURE_V1][..], public.as_bytes()].concat();
    signed_note::key_id(name, &encoded)
}

impl CosignerKey {
    /// A new random key for the witness named `name`.
    pub fn generate(name: &str) -> Result<Self, WitnessError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(WitnessError::Format);
        }
        Ok(CosignerKey {
            name: name.to_owned(),
            key: SigningKey::generate(&mut rand_core::OsRng),
        })
    }

    /// The key from its secret seed (32 bytes) and name.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, WitnessError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(WitnessError::Format);
        }
        Ok(CosignerKey {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// The secret seed (to keep in the witness's key file).
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The verifier key to publish: `<name>+<key id>+base64(0x04 || public key)`.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key();
        let encoded = [&[COSIGNATURE_V1][..], public.as_bytes()].concat();
        format!(
            "{}+{:08x}+{}",
            self.name,
            key_id(&self.name, &public),
            BASE64_STANDARD.encode(encoded)
        )
    }

    /// The cosignature line of `body` at `time` (POSIX seconds).
    pub fn cosign(&self, body: &[u8], time: u64) -> String {
        let signature = self.key.sign(&signed_message(body, time));
        let id = key_id(&self.name, &self.key.verifying_key());
        let mut bytes = id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&time.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        format!("{DASH}{} {}\n", self.name, BASE64_STANDARD.encode(bytes))
    }
}

fn signed_message(body: &[u8], time: u64) -> Vec<u8> {
    let mut msg = format!("cosignature/v1\ntime {time}\n").into_bytes();
    msg.extend_from_slice(body);
    msg
}

/// A cosignature line's parts: the cosigner's name, key id, time and signature.
pub fn parse_cosignature(line: &str) -> Result<(String, u32, u64, Vec<u8>), WitnessError> {
    let rest = line
        .trim_end_matches('\n')
        .strip_prefix(DASH)
        .ok_or(WitnessError::Format)?;
    let (name, b64) = rest.split_once(' ').ok_or(WitnessError::Format)?;
    let bytes = BASE64_STANDARD
        .decode(b64)
        .map_err(|_| WitnessError::Format)?;
    if bytes.len() != 4 + 8 + 64 {
        return Err(WitnessError::Format);
    }
    let id = u32::from_be_bytes(bytes[..4].try_into().map_err(|_| WitnessError::Format)?);
    let time = u64::from_be_bytes(bytes[4..12].try_into().map_err(|_| WitnessError::Format)?);
    Ok((name.to_owned(), id, time, bytes[12..].to_vec()))
}

/// Verifies a cosignature line on `body` with a published cosigner key; the cosigning time.
pub fn verify_cosignature(
    verifier_key: &str,
    body: &[u8],
    line: &str,
) -> Result<u64, WitnessError> {
    let mut parts = verifier_key.trim().splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(WitnessError::Format);
    };
    let key = BASE64_STANDARD
        .decode(key_b64)
        .map_err(|_| WitnessError::Format)?;
    let (&[COSIGNATURE_V1], public) = key.split_at_checked(1).ok_or(WitnessError::Format)? else {
        return Err(WitnessError::Format);
    };
    let public: [u8; 32] = public.try_into().map_err(|_| WitnessError::Format)?;
    let public = VerifyingKey::from_bytes(&public).map_err(|_| WitnessError::Format)?;
    let id = u32::from_str_radix(id_hex, 16).map_err(|_| WitnessError::Format)?;
    if id != key_id(name, &public) {
        return Err(WitnessError::Format);
    }
    let (line_name, line_id, time, sig) = parse_cosignature(line)?;
    if line_name != name || line_id != id {
        return Err(WitnessError::Invalid);
    }
    let sig = ed25519_dalek::Signature::from_slice(&sig).map_err(|_| WitnessError::Format)?;
    public
        .verify_strict(&signed_message(body, time), &sig)
        .map_err(|_| WitnessError::Invalid)?;
    Ok(time)
}

/// What a witness remembers of one log: the last checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// The log's verifier key.
    pub log_key: String,
    /// The size last cosigned (0: none yet).
    pub size: u64,
    /// Its root, hex.
    pub root: String,
}

/// A witness: the logs it follows and the last checkpoint of each it cosigned. Its state is
/// plain data (serialise it to a file after each cosignature, before handing it out).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WitnessState {
    /// By log origin.
    pub logs: BTreeMap<String, Seen>,
}

impl WitnessState {
    /// Follows a log from now on (its origin and verifier key), having seen nothing of it.
    pub fn follow(&mut self, origin: &str, log_key: &str) {
        self.logs.entry(origin.to_owned()).or_insert(Seen {
            log_key: log_key.to_owned(),
            size: 0,
            root: String::new(),
        });
    }

    /// Checks a signed checkpoint against the last one cosigned for its log, with `proof`
    /// the consistency proof from that one to this one; on success remembers it and returns
    /// the cosignature line (at `time`, POSIX seconds). A smaller tree is a rollback, the same
    /// size with another root or a proof that does not hold is a fork: both refused, the
    /// state unchanged.
    pub fn cosign(
        &mut self,
        key: &CosignerKey,
        note: &[u8],
        proof: &[Hash],
        time: u64,
    ) -> Result<String, WitnessError> {
        let origin = Checkpoint::parse(note_text(note)?)?.origin;
        let seen = self
            .logs
            .get(&origin)
            .ok_or_else(|| WitnessError::UnknownLog(origin.clone()))?;
        let checkpoint = crate::checkpoint::verify(note, &seen.log_key)?;
        let root = checkpoint.root()?;
        let (had, now) = (seen.size, checkpoint.size);
        if now < had {
            return Err(WitnessError::Rollback { had, now });
        }
        if had > 0 {
            let old: Hash = hex::decode(&seen.root)
                .ok()
                .and_then(|r| r.try_into().ok())
                .ok_or(WitnessError::Format)?;
            let consistent = if now == had {
                old == root
            } else {
                verify_consistency(proof, had, &old, now, &root).is_ok()
            };
            if !consistent {
                return Err(WitnessError::Fork { had, now });
            }
        }
        let line = key.cosign(&checkpoint.to_bytes(), time);
        if let Some(seen) = self.logs.get_mut(&origin) {
            seen.size = now;
            seen.root = hex::encode(root);
        }
        Ok(line)
    }
}

/// The text of a signed note (see [`crate::checkpoint::note_body`]).
fn note_text(note: &[u8]) -> Result<&[u8], WitnessError> {
    crate::checkpoint::note_body(note).ok_or(WitnessError::Format)
}

/// The body of a C2SP `tlog-witness` `add-checkpoint` request: `old <size>`, the consistency
/// proof from that size (one standard base64 hash per line), a blank line, then the signed
/// checkpoint.
pub fn add_checkpoint_request(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&BASE64_STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Why an `add-checkpoint` request was refused, and the HTTP status C2SP `tlog-witness` gives
/// it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    /// The request is not in the format (400).
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// The request's old size is not the size this witness last cosigned for the log (409,
    /// with that size in the body, so the log can retry from it).
    #[error("this witness last cosigned {0} entries of the log")]
    Conflict(u64),
    /// Refused by the witness's rules (unknown log 404, not the log's signature 403, a fork
    /// or a bad proof 422, a rollback 409).
    #[error("{0}")]
    Refused(#[from] WitnessError),
}

impl AddError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            AddError::Malformed(_) => 400,
            AddError::Conflict(_) | AddError::Refused(WitnessError::Rollback { .. }) => 409,
            AddError::Refused(WitnessError::UnknownLog(_)) => 404,
            AddError::Refused(WitnessError::Checkpoint(_)) => 403,
            AddError::Refused(_) => 422,
        }
    }
}

impl WitnessState {
    /// Handles an `add-checkpoint` request body: the old size must be the size this witness
    /// last cosigned for the checkpoint's log, and the proof must lead from it to the new
    /// checkpoint (see [`WitnessState::cosign`]). Returns the cosignature line.
    pub fn add_checkpoint(
        &mut self,
        key: &CosignerKey,
        body: &str,
        time: u64,
    ) -> Result<String, AddError> {
        let (head, note) = body
            .split_once("\n\n")
            .ok_or(AddError::Malformed("no blank line before the checkpoint"))?;
        let mut lines = head.lines();
        let old: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(|n| n.parse().ok())
            .ok_or(AddError::Malformed("the first line is not `old <size>`"))?;
        let proof = lines
            .map(|l| {
                BASE64_STANDARD
                    .decode(l)
                    .ok()
                    .and_then(|b| Hash::try_from(b).ok())
                    .ok_or(AddError::Malformed("a proof line is not a base64 hash"))
            })
            .collect::<Result<Vec<Hash>, AddError>>()?;
        let origin = Checkpoint::parse(note_text(note.as_bytes())?)
            .map_err(WitnessError::from)?
            .origin;
        let seen = self
            .logs
            .get(&origin)
            .ok_or_else(|| WitnessError::UnknownLog(origin.clone()))?;
        if old != seen.size {
            return Err(AddError::Conflict(seen.size));
        }
        Ok(self.cosign(key, note.as_bytes(), &proof, time)?)
    }
}
