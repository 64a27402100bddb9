//! Signed checkpoints: the log's size and Merkle root in the C2SP `tlog-checkpoint` format,
//! signed as a C2SP `signed-note` with Ed25519 (`signed_note`, byte-compatible with Go's
//! `golang.org/x/mod/sumdb/note`: its published vectors are this module's tests).
//!
//! A checkpoint body is three lines and optional extension lines, each ending in `\n`:
//!
//! ```text
//! <origin>              the log's name, e.g. custos.example-firm.com/audit
//! <size>                the number of entries, decimal, no sign or leading zero
//! <root>                the Merkle root of those entries, standard base64 (32 bytes)
//! ```
//!
//! then a blank line and one signature line per signer: `— <key name> <base64(key id ||
//! signature)>`, where the key id is the first 4 bytes of `SHA-256(name || 0x0A || 0x01 ||
//! public key)`. The verifier key is published as `<name>+<key id hex>+<base64(0x01 ||
//! public key)>`.

use crate::merkle::Hash;
use base64::prelude::*;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

/// Why a checkpoint or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The body is not a checkpoint.
    #[error("not a checkpoint: {0}")]
    Malformed(&'static str),
    /// The note is not signed by the key asked for, or a signature is wrong.
    #[error("the checkpoint is not signed by this log's key")]
    Unverified,
    /// A key is not in the signed-note key format (or its id does not match it).
    #[error("not a signed-note key")]
    Key,
}

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name.
    pub origin: String,
    /// The number of entries.
    pub size: u64,
    /// The Merkle root's bytes (32 for Custos' logs; see [`Checkpoint::root`]).
    pub root: Vec<u8>,
    /// Extension lines, each without its `\n`.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint of `size` entries with root `root`.
    pub fn new(origin: &str, size: u64, root: &Hash) -> Result<Self, CheckpointError> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(CheckpointError::Malformed(
                "empty origin or a newline in it",
            ));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root: root.to_vec(),
            extensions: vec![],
        })
    }

    /// The root as a 32-byte hash.
    pub fn root(&self) -> Result<Hash, CheckpointError> {
        self.root
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::Malformed("the root is not 32 bytes"))
    }

    /// The body's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64_STANDARD.encode(&self.root)
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Parses a body (the text of a note, ending in `\n`).
    pub fn parse(text: &[u8]) -> Result<Self, CheckpointError> {
        let text =
            std::str::from_utf8(text).map_err(|_| CheckpointError::Malformed("not UTF-8"))?;
        let Some(body) = text.strip_suffix('\n') else {
            return Err(CheckpointError::Malformed("missing final newline"));
        };
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(CheckpointError::Malformed("empty origin"));
        }
        let size_line = lines.next().unwrap_or_default();
        let size: u64 = size_line
            .parse()
            .map_err(|_| CheckpointError::Malformed("size is not a decimal number of 64 bits"))?;
        if size.to_string() != size_line {
            return Err(CheckpointError::Malformed("size is not in canonical form"));
        }
        let root = BASE64_STANDARD
            .decode(lines.next().unwrap_or_default())
            .map_err(|_| CheckpointError::Malformed("root hash is not base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed("an empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// The body of a signed note: its text up to and including the `\n` before the blank line
/// that starts its signatures (what the log and each witness sign). `None`: no blank line.
pub fn note_body(note: &[u8]) -> Option<&[u8]> {
    note.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| &note[..=i])
}

/// A log's signing key (kept like the key-encryption key, never in the database).
pub struct LogSigner {
    signer: StandardSigner,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogSigner(..)")
    }
}

/// A new Ed25519 key pair for the log named `name`: (signer key, verifier key), both in the
/// signed-note key format. The signer key is secret.
pub fn generate_key(name: &str) -> Result<(String, String), CheckpointError> {
    if !signed_note::is_key_name_valid(name) {
        return Err(CheckpointError::Key);
    }
    Ok(signed_note::generate_key(&mut rand_core::OsRng, name))
}

impl LogSigner {
    /// The signer of an encoded signer key (`PRIVATE+KEY+<name>+<id>+<key>`).
    pub fn new(signer_key: &str) -> Result<Self, CheckpointError> {
        Ok(LogSigner {
            signer: StandardSigner::new(signer_key.trim()).map_err(|_| CheckpointError::Key)?,
        })
    }

    /// Signs `checkpoint` (its origin must be the key's name): the signed note's bytes.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<Vec<u8>, CheckpointError> {
        if checkpoint.origin != signed_note::Signer::name(&self.signer) {
            return Err(CheckpointError::Malformed(
                "the origin is not the key's name",
            ));
        }
        let mut note = Note::new(&checkpoint.to_bytes(), &[])
            .map_err(|_| CheckpointError::Malformed("note"))?;
        note.add_sigs(&[&self.signer])
            .map_err(|_| CheckpointError::Key)?;
        Ok(note.to_bytes())
    }
}

/// Checks that `verifier_key` is a verifier key in the signed-note format (`<name>+<key id>+
/// <base64 key>`, whose base64 may itself hold `+`); returns its name.
pub fn verifier_key_name(verifier_key: &str) -> Result<String, CheckpointError> {
    let verifier = StandardVerifier::new(verifier_key.trim()).map_err(|_| CheckpointError::Key)?;
    Ok(signed_note::Verifier::name(&verifier).to_owned())
}

/// Verifies a signed checkpoint against the log's verifier key and returns its body. Other
/// signatures (witnesses' cosignatures) are allowed and not checked here.
pub fn verify(note: &[u8], verifier_key: &str) -> Result<Checkpoint, CheckpointError> {
    let verifier = StandardVerifier::new(verifier_key.trim()).map_err(|_| CheckpointError::Key)?;
    let name = signed_note::Verifier::name(&verifier).to_owned();
    let note =
        Note::from_bytes(note).map_err(|_| CheckpointError::Malformed("not a signed note"))?;
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|_| CheckpointError::Unverified)?;
    let checkpoint = Checkpoint::parse(note.text())?;
    if checkpoint.origin != name {
        return Err(CheckpointError::Malformed(
            "the origin is not the key's name",
        ));
    }
    Ok(checkpoint)
}
