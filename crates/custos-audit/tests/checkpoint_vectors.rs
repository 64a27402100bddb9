//! Signed checkpoints against published vectors: Go's `sumdb/note` sign test (the exact
//! signature line from the published signer key), the C2SP signed-note example, and the
//! transparency-dev checkpoint bodies; then Custos' own checkpoints verified by the same
//! Go-compatible verifier, and refused when altered or signed by another key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use custos_audit::checkpoint::{Checkpoint, CheckpointError, LogSigner, generate_key, verify};
use custos_audit::merkle::{MemoryTree, leaf_hash};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/notes.json")).unwrap()
}

#[test]
fn go_sumdb_note_sign_vector_gives_the_published_signature() {
    let v = &vectors()["go_sumdb_note_TestSign"];
    let text = v["text"].as_str().unwrap();
    let mut note = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
    let signer = signed_note::StandardSigner::new(v["signer_key"].as_str().unwrap()).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let want = format!("{text}\n{}\n", v["signature_line"].as_str().unwrap());
    assert_eq!(String::from_utf8(note.to_bytes()).unwrap(), want);
    // And the published verifier key verifies it.
    let verifier = signed_note::StandardVerifier::new(v["verifier_key"].as_str().unwrap()).unwrap();
    let parsed = signed_note::Note::from_bytes(want.as_bytes()).unwrap();
    assert!(
        parsed
            .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
            .is_ok()
    );
}

#[test]
fn c2sp_signed_note_example_verifies_and_an_altered_one_does_not() {
    let v = &vectors()["c2sp_signed_note_example"];
    let text = v["text"].as_str().unwrap();
    let sig = v["signature_line"].as_str().unwrap();
    let key = v["verifier_key"].as_str().unwrap();
    let check = |msg: String| {
        let verifier = signed_note::StandardVerifier::new(key).unwrap();
        signed_note::Note::from_bytes(msg.as_bytes())
            .ok()
            .is_some_and(|n| {
                n.verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
                    .is_ok()
            })
    };
    assert!(check(format!("{text}\n{sig}\n")));
    assert!(!check(format!(
        "{}\n{sig}\n",
        text.replace("example", "exemple")
    )));
}

#[test]
fn checkpoint_bodies_of_transparency_dev() {
    let v = &vectors()["checkpoint_bodies"];
    let valid = v["valid"][0].as_str().unwrap();
    let c = Checkpoint::parse(valid.as_bytes()).unwrap();
    assert_eq!(
        (c.origin.as_str(), c.size, c.root.as_slice()),
        ("Log", 123, &b"bananas"[..])
    );
    assert_eq!(c.to_bytes(), valid.as_bytes());
    // One body per invalid reason the vectors list.
    let reasons: Vec<&str> = v["invalid_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for (reason, body) in [
        ("negative size", "Log\n-123\nYmFuYW5hcw==\n"),
        (
            "size that overflows uint64",
            "Log\n18446744073709551616\nYmFuYW5hcw==\n",
        ),
        ("root hash not base64", "Log\n123\nThisIsn'tBase64\n"),
        ("missing final newline", "Log\n123\nYmFuYW5hcw=="),
        ("empty origin", "\n123\nYmFuYW5hcw==\n"),
    ] {
        assert!(reasons.contains(&reason), "{reason}");
        assert!(
            Checkpoint::parse(body.as_bytes()).is_err(),
            "{reason} accepted"
        );
    }
    assert!(
        Checkpoint::parse(b"Log\n0123\nYmFuYW5hcw==\n").is_err(),
        "leading zero"
    );
    assert!(
        Checkpoint::parse(b"Log\n123\nYmFuYW5hcw==\n\n").is_err(),
        "empty extension line"
    );
}

#[test]
fn custos_checkpoints_verify_with_the_go_compatible_verifier_and_refuse_tampering() {
    let origin = "custos.example-firm.com/audit";
    let (skey, vkey) = generate_key(origin).unwrap();
    assert!(skey.starts_with(&format!("PRIVATE+KEY+{origin}+")));
    assert!(vkey.starts_with(&format!("{origin}+")));
    let mut tree = MemoryTree::default();
    for i in 0..10u8 {
        tree.push(leaf_hash(&[i])).unwrap();
    }
    let root = tree.root_at(10).unwrap();
    let signer = LogSigner::new(&skey).unwrap();
    let note = signer
        .sign(&Checkpoint::new(origin, 10, &root).unwrap())
        .unwrap();
    // The note as Go's sumdb/note writes it: body, blank line, one signature line.
    let text = String::from_utf8(note.clone()).unwrap();
    assert!(text.starts_with(&format!("{origin}\n10\n")), "{text}");
    assert!(text.contains(&format!("\n\n\u{2014} {origin} ")), "{text}");
    let got = verify(&note, &vkey).unwrap();
    assert_eq!((got.size, got.root().unwrap()), (10, root));
    // The same note through signed_note's verifier directly (what a Go verifier does).
    let verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
    assert!(
        signed_note::Note::from_bytes(&note)
            .unwrap()
            .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
            .is_ok()
    );

    // A changed size, a changed root, another key: refused.
    let bigger = text.replacen("\n10\n", "\n11\n", 1);
    assert_eq!(
        verify(bigger.as_bytes(), &vkey),
        Err(CheckpointError::Unverified)
    );
    let other_root = tree.root_at(9).unwrap();
    let forged = signer
        .sign(&Checkpoint::new(origin, 10, &other_root).unwrap())
        .unwrap();
    let spliced = format!(
        "{}{}",
        String::from_utf8(forged.clone())
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap(),
        &text[text.find("\n\n").unwrap()..]
    );
    assert_eq!(
        verify(spliced.as_bytes(), &vkey),
        Err(CheckpointError::Unverified)
    );
    let (_, stranger) = generate_key(origin).unwrap();
    assert!(verify(&note, &stranger).is_err());
    // A key may sign only its own origin.
    assert!(
        signer
            .sign(&Checkpoint::new("other.log", 10, &root).unwrap())
            .is_err()
    );
    assert_eq!(
        LogSigner::new("PRIVATE+KEY+x").err(),
        Some(CheckpointError::Key)
    );
}
