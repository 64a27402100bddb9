//! Properties of the blob format over random lengths and random damage: every sealed blob opens
//! to its plaintext, and no single flipped byte, anywhere, ever opens.

use custos_crypto::{
    BlobOpener, BlobSealer, CHUNK_SIZE, ChunkLayout, CryptoError, DataKey, HEADER_LEN, Kek,
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
