//! The blob format: round trips at the chunk boundaries, the named kinds of tampering (flip,
//! swap, truncation, a blob moved between documents), and properties over random lengths and
//! random damage: every sealed blob opens to its plaintext, and no damaged blob ever opens.

use custos_crypto::{
    BlobOpener, BlobSealer, CHUNK_SIZE, ChunkLayout, CryptoError, DataKey, HEADER_LEN, Kek, TAG_LEN,
};
use custos_domain::MatterId;
use custos_policy::KeyScope;
use proptest::prelude::*;
use uuid::Uuid;

fn key() -> DataKey {
    let kek = Kek::generate().unwrap_or_else(|e| unreachable!("{e}"));
    kek.new_data_key(KeyScope::Matter(MatterId::new()))
        .unwrap_or_else(|e| unreachable!("{e}"))
        .0
}

fn seal(key: &DataKey, id: Uuid, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut sealer = BlobSealer::new(key, id)?;
    let mut out = sealer.header().to_vec();
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(CHUNK_SIZE).collect()
    };
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut buf = c.to_vec();
        sealer.seal_chunk(&mut buf, i + 1 == n)?;
        out.extend_from_slice(&buf);
    }
    Ok(out)
}

fn open(key: &DataKey, id: Uuid, stored: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let layout = ChunkLayout::for_stored_len(stored.len() as u64)?;
    let mut opener = BlobOpener::new(
        key,
        id,
        stored.get(..HEADER_LEN).ok_or(CryptoError::Integrity)?,
    )?;
    let mut pos = HEADER_LEN;
    let mut out = Vec::new();
    for i in 0..layout.chunks {
        let len = layout.chunk_len(i);
        let mut buf = stored[pos..pos + len].to_vec();
        out.extend_from_slice(opener.open_chunk(&mut buf, i + 1 == layout.chunks)?);
        pos += len;
    }
    Ok(out)
}

#[test]
fn round_trips_at_chunk_boundaries() -> Result<(), CryptoError> {
    let key = key();
    for len in [
        0,
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        3 * CHUNK_SIZE,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let id = Uuid::new_v4();
        let stored = seal(&key, id, &data)?;
        assert_eq!(
            ChunkLayout::for_stored_len(stored.len() as u64)?.plaintext_len,
            len as u64
        );
        assert_eq!(open(&key, id, &stored)?, data, "len {len}");
    }
    Ok(())
}

#[test]
fn named_kinds_of_tampering_are_detected() -> Result<(), CryptoError> {
    let key = key();
    let id = Uuid::new_v4();
    let stored = seal(&key, id, &vec![7u8; 3 * CHUNK_SIZE + 100])?;
    let full = CHUNK_SIZE + TAG_LEN;

    let mut swapped = stored.clone();
    let (a, b) = (HEADER_LEN, HEADER_LEN + full);
    let first = stored[a..a + full].to_vec();
    swapped.copy_within(b..b + full, a);
    swapped[b..b + full].copy_from_slice(&first);
    assert_eq!(open(&key, id, &swapped), Err(CryptoError::Integrity));

    // Dropping the whole final chunk leaves a layout that looks valid: the final flag catches it.
    assert_eq!(
        open(&key, id, &stored[..HEADER_LEN + 3 * full]),
        Err(CryptoError::Integrity)
    );
    // The same bytes under another blob id (moved between documents) do not open.
    assert_eq!(
        open(&key, Uuid::new_v4(), &stored),
        Err(CryptoError::Integrity)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sealed_blobs_round_trip(len in 0usize..(3 * CHUNK_SIZE + 100), seed in any::<u8>()) {
        let key = key();
        let id = Uuid::new_v4();
        let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        let stored = seal(&key, id, &data).unwrap_or_default();
        prop_assert_eq!(ChunkLayout::for_stored_len(stored.len() as u64).map(|l| l.plaintext_len), Ok(len as u64));
        prop_assert_eq!(open(&key, id, &stored), Ok(data));
    }

    #[test]
    fn any_flipped_byte_is_caught(len in 1usize..(2 * CHUNK_SIZE + 100), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = key();
        let id = Uuid::new_v4();
        let data = vec![0x42u8; len];
        let mut stored = seal(&key, id, &data).unwrap_or_default();
        let i = at.index(stored.len());
        stored[i] ^= 1 << bit;
        prop_assert_eq!(open(&key, id, &stored), Err(CryptoError::Integrity));
    }

    #[test]
    fn any_cut_is_caught(len in 1usize..(2 * CHUNK_SIZE + 100), cut in any::<prop::sample::Index>()) {
        let key = key();
        let id = Uuid::new_v4();
        let stored = seal(&key, id, &vec![7u8; len]).unwrap_or_default();
        let keep = cut.index(stored.len());
        prop_assert!(open(&key, id, &stored[..keep]).is_err());
    }
}
