//! Chunked streaming AEAD for document blobs (the STREAM construction over AES-256-GCM).
//!
//! Layout: `header || chunk_0 || ... || chunk_n`, header = `b"CSTB" || version || blob id (16) ||
//! salt (32)`. Each chunk is 64 KiB of plaintext (the final one 0..=64 KiB) followed by a 16-byte
//! tag. The per-blob key is HKDF-SHA256(data key, salt, "custos-blob-v1" || blob id); the nonce is
//! `0^3 || counter (u64 BE) || final flag`; the header is the associated data of every chunk.

use crate::{CryptoError, DataKey};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use uuid::Uuid;

/// Plaintext bytes per chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Authentication tag bytes per chunk.
pub const TAG_LEN: usize = 16;
const MAGIC: &[u8; 4] = b"CSTB";
const VERSION: u8 = 1;
const SALT_LEN: usize = 32;
/// Bytes of the blob header.
pub const HEADER_LEN: usize = 4 + 1 + 16 + SALT_LEN;

fn blob_key(data_key: &DataKey, blob_id: Uuid, salt: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let info: [&[u8]; 2] = [b"custos-blob-v1", blob_id.as_bytes()];
    let prk = Salt::new(HKDF_SHA256, salt).extract(data_key.raw());
    let okm = prk.expand(&info, &AES_256_GCM)?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

/// Seals a blob chunk by chunk. Feed exactly [`CHUNK_SIZE`] bytes per non-final chunk.
pub struct BlobSealer {
    key: LessSafeKey,
    header: Vec<u8>,
    counter: u64,
    finished: bool,
}

impl std::fmt::Debug for BlobSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobSealer(chunk {})", self.counter)
    }
}

impl BlobSealer {
    /// Starts a new blob with a fresh random salt.
    pub fn new(data_key: &DataKey, blob_id: Uuid) -> Result<Self, CryptoError> {
        let salt = crate::random_bytes::<SALT_LEN>()?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(blob_id.as_bytes());
        header.extend_from_slice(&salt);
        Ok(BlobSealer {
            key: blob_key(data_key, blob_id, &salt)?,
            header,
            counter: 0,
            finished: false,
        })
    }

    /// The header, to be written before the first chunk.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Encrypts `buf` in place and appends the tag. A non-final chunk must be exactly
    /// [`CHUNK_SIZE`] bytes; the final one at most that.
    pub fn seal_chunk(&mut self, buf: &mut Vec<u8>, last: bool) -> Result<(), CryptoError> {
        if self.finished {
            return Err(CryptoError::Malformed("chunk after the final chunk"));
        }
        if buf.len() > CHUNK_SIZE || (!last && buf.len() != CHUNK_SIZE) {
            return Err(CryptoError::Malformed("wrong chunk size"));
        }
        self.key.seal_in_place_append_tag(
            chunk_nonce(self.counter, last),
            Aad::from(&self.header),
            buf,
        )?;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(CryptoError::Malformed("too many chunks"))?;
        self.finished = last;
        Ok(())
    }
}

/// How a stored blob of a given length is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLayout {
    /// Number of chunks (at least one).
    pub chunks: u64,
    /// Ciphertext bytes of the final chunk, tag included.
    pub last_len: usize,
    /// Plaintext bytes of the whole blob.
    pub plaintext_len: u64,
}

impl ChunkLayout {
    /// The layout of a stored blob of `stored_len` bytes, header included; refuses lengths that
    /// no sealer could have produced (a truncated blob).
    pub fn for_stored_len(stored_len: u64) -> Result<Self, CryptoError> {
        let full = (CHUNK_SIZE + TAG_LEN) as u64;
        let body = stored_len
            .checked_sub(HEADER_LEN as u64)
            .filter(|b| *b >= TAG_LEN as u64)
            .ok_or(CryptoError::Integrity)?;
        let rem = body % full;
        let (chunks, last_len) = match rem {
            0 => (body / full, full),
            r if r >= TAG_LEN as u64 => (body / full + 1, r),
            _ => return Err(CryptoError::Integrity),
        };
        let last_len = usize::try_from(last_len).map_err(|_| CryptoError::Integrity)?;
        Ok(ChunkLayout {
            chunks,
            last_len,
            plaintext_len: body - chunks * TAG_LEN as u64,
        })
    }

    /// Ciphertext bytes of chunk `index`, tag included.
    pub fn chunk_len(&self, index: u64) -> usize {
        if index + 1 == self.chunks {
            self.last_len
        } else {
            CHUNK_SIZE + TAG_LEN
        }
    }
}

/// Opens a blob chunk by chunk, in order.
pub struct BlobOpener {
    key: LessSafeKey,
    header: Vec<u8>,
    counter: u64,
}

impl std::fmt::Debug for BlobOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobOpener(chunk {})", self.counter)
    }
}

impl BlobOpener {
    /// Checks the header of the blob stored for `blob_id` and prepares to open its chunks.
    pub fn new(data_key: &DataKey, blob_id: Uuid, header: &[u8]) -> Result<Self, CryptoError> {
        if header.len() != HEADER_LEN
            || &header[..4] != MAGIC
            || header[4] != VERSION
            || &header[5..21] != blob_id.as_bytes()
        {
            return Err(CryptoError::Integrity);
        }
        Ok(BlobOpener {
            key: blob_key(data_key, blob_id, &header[21..])?,
            header: header.to_vec(),
            counter: 0,
        })
    }

    /// Decrypts the next chunk in place and returns its plaintext.
    pub fn open_chunk<'a>(
        &mut self,
        buf: &'a mut [u8],
        last: bool,
    ) -> Result<&'a mut [u8], CryptoError> {
        let plain = self
            .key
            .open_in_place(
                chunk_nonce(self.counter, last),
                Aad::from(&self.header),
                buf,
            )
            .map_err(|_| CryptoError::Integrity)?;
        self.counter += 1;
        Ok(plain)
    }
}
