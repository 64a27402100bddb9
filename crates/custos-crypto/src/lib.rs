//! Custos key hierarchy and encryption (R9).
//!
//! A key-encryption key (KEK, 256 bits from the OS RNG, kept in a 0600 key file) wraps one data
//! key per matter and one per client. Data keys seal sensitive fields (AES-256-GCM, random nonce,
//! the field's identity as associated data) and document blobs: chunked streaming AEAD in the
//! STREAM construction (64 KiB chunks, AES-256-GCM under a per-blob key derived with HKDF, nonce =
//! chunk counter + final flag, blob header as associated data), so chunks cannot be altered,
//! reordered, truncated, extended or moved to another blob without detection.
//!
//! **Architecture Invariant:** only this crate touches key material and the RNG. A data key is
//! only unwrapped against a [`custos_policy::Permit`] that unlocks it: decrypting client content
//! without an Allow decision does not compile. Keys are zeroized on drop and never printed.
//!
//! All primitives come from aws-lc-rs (TOTP from totp-rs); nothing here is home-made cryptography.

mod blob;
mod keys;
mod tls;
pub mod totp;

pub use blob::{BlobOpener, BlobSealer, CHUNK_SIZE, ChunkLayout, HEADER_LEN, TAG_LEN};
pub use keys::{
    ContentHash, DataKey, Kek, WrappedKey, csrf_token, random_bytes, random_token, secrets_equal,
    token_hash,
};
pub use tls::{TlsIdentity, self_signed_tls};

/// Errors of the crypto layer; none of them carries key material or plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Authentication failed: the ciphertext was altered, truncated, reordered or is not ours.
    #[error("integrity check failed: the stored data was altered or damaged")]
    Integrity,
    /// The permit presented does not unlock this key.
    #[error("the permit does not unlock this key")]
    NotPermitted,
    /// The key file could not be used.
    #[error("key file: {0}")]
    KeyFile(String),
    /// Input of the wrong shape (wrong length, bad header, misuse of the stream).
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// The operating system RNG or the crypto library failed.
    #[error("cryptographic library failure")]
    Library,
}

impl From<aws_lc_rs::error::Unspecified> for CryptoError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        CryptoError::Library
    }
}
