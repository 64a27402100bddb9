//! Witnesses and cosignatures (C2SP tlog-cosignature v1): the specification's example line
//! parses to its key id and time; a witness cosigns a consistent checkpoint and refuses a
//! rollback, a fork (same size, other root; or a proof from another history), a checkpoint
//! its log did not sign and a log it does not follow, its state unchanged by a refusal.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use custos_audit::checkpoint::{Checkpoint, LogSigner, generate_key};
use custos_audit::merkle::{MemoryTree, leaf_hash};
use custos_audit::witness::{
    CosignerKey, WitnessError, WitnessState, parse_cosignature, verify_cosignature,
};

const ORIGIN: &str = "custos.example-firm.com/audit";

#[test]
fn the_specifications_example_cosignature_has_its_key_id_and_time() {
    let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
    let (name, id, time, sig) = parse_cosignature(line).unwrap();
    assert_eq!(name, "witness.example.com/w1");
    assert_eq!(id, 0x8d66_cf3f);
    assert_eq!(
        time, 1_679_315_147,
        "2023-03-20, when the example was written"
    );
    assert_eq!(sig.len(), 64);
}

#[test]
fn cosignatures_verify_and_refuse_another_body_or_key() {
    let key = CosignerKey::generate("auditor.example/w").unwrap();
    let body = b"custos.example-firm.com/audit\n3\nYmFuYW5hcw==\n";
    let line = key.cosign(body, 1_800_000_000);
    assert_eq!(
        verify_cosignature(&key.verifier_key(), body, &line),
        Ok(1_800_000_000)
    );
    let other = b"custos.example-firm.com/audit\n4\nYmFuYW5hcw==\n";
    assert_eq!(
        verify_cosignature(&key.verifier_key(), other, &line),
        Err(WitnessError::Invalid)
    );
    let stranger = CosignerKey::generate("auditor.example/w").unwrap();
    assert!(verify_cosignature(&stranger.verifier_key(), body, &line).is_err());
    // The time is signed: changing it breaks the signature.
    let later = key.cosign(body, 1_800_000_001);
    assert_ne!(later, line);
    let (.., sig) = parse_cosignature(&later).unwrap();
    let (.., old_sig) = parse_cosignature(&line).unwrap();
    assert_ne!(sig, old_sig);
    // Seeds round-trip.
    let again = CosignerKey::from_seed("auditor.example/w", &key.seed()).unwrap();
    assert_eq!(again.verifier_key(), key.verifier_key());
}

fn tree(leaves: &[&[u8]]) -> MemoryTree {
    let mut t = MemoryTree::default();
    for l in leaves {
        t.push(leaf_hash(l)).unwrap();
    }
    t
}

fn note(signer: &LogSigner, t: &MemoryTree, size: u64) -> Vec<u8> {
    signer
        .sign(&Checkpoint::new(ORIGIN, size, &t.root_at(size).unwrap()).unwrap())
        .unwrap()
}

#[test]
fn a_witness_cosigns_what_extends_and_refuses_rollback_and_forks() {
    let (skey, vkey) = generate_key(ORIGIN).unwrap();
    let log = LogSigner::new(&skey).unwrap();
    let witness = CosignerKey::generate("bar.example/witness").unwrap();
    let mut state = WitnessState::default();
    let leaves: Vec<Vec<u8>> = (0..12u8).map(|i| vec![i]).collect();
    let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
    let honest = tree(&refs);

    // A log it does not follow.
    let first = note(&log, &honest, 5);
    assert_eq!(
        state.cosign(&witness, &first, &[], 1),
        Err(WitnessError::UnknownLog(ORIGIN.to_owned()))
    );
    state.follow(ORIGIN, &vkey);
    let line = state.cosign(&witness, &first, &[], 1).unwrap();
    let body = Checkpoint::new(ORIGIN, 5, &honest.root_at(5).unwrap())
        .unwrap()
        .to_bytes();
    assert_eq!(
        verify_cosignature(&witness.verifier_key(), &body, &line),
        Ok(1)
    );

    // Growing to 9 with a consistency proof: cosigned.
    let proof = honest.prove_consistency(5, 9).unwrap();
    state
        .cosign(&witness, &note(&log, &honest, 9), &proof, 2)
        .unwrap();
    assert_eq!(state.logs[ORIGIN].size, 9);
    // The same checkpoint again: cosigned (nothing changed).
    state
        .cosign(&witness, &note(&log, &honest, 9), &[], 3)
        .unwrap();

    let before = state.clone();
    // Rollback: the log shows 5 entries again.
    assert_eq!(
        state.cosign(&witness, &note(&log, &honest, 5), &[], 4),
        Err(WitnessError::Rollback { had: 9, now: 5 })
    );
    // Fork: a history that rewrote entry 3, same size.
    let mut rewritten = refs.clone();
    rewritten[3] = b"rewritten";
    let forked = tree(&rewritten);
    assert_eq!(
        state.cosign(&witness, &note(&log, &forked, 9), &[], 5),
        Err(WitnessError::Fork { had: 9, now: 9 })
    );
    // Fork: the rewritten history grown to 12, with its own (valid for it) proof.
    let forked_proof = forked.prove_consistency(9, 12).unwrap();
    assert_eq!(
        state.cosign(&witness, &note(&log, &forked, 12), &forked_proof, 6),
        Err(WitnessError::Fork { had: 9, now: 12 })
    );
    // A checkpoint the log's key did not sign.
    let (other_skey, _) = generate_key(ORIGIN).unwrap();
    let impostor = LogSigner::new(&other_skey).unwrap();
    let proof = honest.prove_consistency(9, 12).unwrap();
    assert!(matches!(
        state.cosign(&witness, &note(&impostor, &honest, 12), &proof, 7),
        Err(WitnessError::Checkpoint(_))
    ));
    assert_eq!(state, before, "a refusal changes nothing");
    // The honest log at 12: cosigned; the state is plain data that round-trips.
    state
        .cosign(&witness, &note(&log, &honest, 12), &proof, 8)
        .unwrap();
    let saved = serde_json::to_string(&state).unwrap();
    let restored: WitnessState = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, state);
    assert_eq!(restored.logs[ORIGIN].size, 12);
}

/// A checkpoint served with its witnesses' cosignature lines still verifies with the log's
/// key alone (a verifier ignores signatures by keys it does not know), and a witness still
/// checks it: what `serve` records in `audit.checkpoint` and checks at every start.
#[test]
fn a_cosigned_checkpoint_still_verifies_with_the_logs_key() {
    let (signer, verifier) = generate_key(ORIGIN).unwrap();
    let signer = LogSigner::new(&signer).unwrap();
    let t = tree(&[b"a", b"b", b"c"]);
    let signed = String::from_utf8(note(&signer, &t, 3)).unwrap();
    let body = &signed[..signed.find("\n\n").unwrap() + 1];
    let witness = CosignerKey::generate("auditor.example/w").unwrap();
    let cosigned = format!("{signed}{}", witness.cosign(body.as_bytes(), 1_800_000_000));
    let checkpoint = custos_audit::checkpoint::verify(cosigned.as_bytes(), &verifier).unwrap();
    assert_eq!(checkpoint.size, 3);
    let line = cosigned.lines().last().unwrap();
    assert_eq!(
        verify_cosignature(&witness.verifier_key(), body.as_bytes(), line).unwrap(),
        1_800_000_000
    );
    let mut state = WitnessState::default();
    state.follow(ORIGIN, &verifier);
    let other = CosignerKey::generate("other.example/w").unwrap();
    assert!(state.cosign(&other, cosigned.as_bytes(), &[], 1).is_ok());
}
