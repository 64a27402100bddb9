//! Witnesses (issue 15): a witness server (C2SP tlog-witness) cosigns the log's checkpoints
//! when each extends the last it cosigned, the log stores the cosignatures it can verify and
//! serves its checkpoints with them, and the witness refuses a fork, a rollback, a stale old
//! size, another key's checkpoint and an unknown log, remembering across a restart.

use crate::harness::{TestResult, spawn_demo_firm};
use custos_app::witness::{CosignerKey, add_checkpoint_request, verify_cosignature};
use custos_app::{Signing, WitnessConfig};
use custos_server::witness::{Witness, push_to_witnesses, witness_router};
use std::sync::Arc;

async fn serve_witness(witness: Arc<Witness>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, witness_router(witness)).await });
    format!("http://{addr}")
}

fn body_of(note: &str) -> &str {
    &note[..note.find("\n\n").map_or(0, |i| i + 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_what_extends_and_refuses_a_fork() -> TestResult {
    let t = spawn_demo_firm().await;
    let log_key = t.app.log_verifier_key().ok_or("no log key")?.to_owned();
    let tmp = tempfile::tempdir()?;
    let state_file = tmp.path().join("witness.json");
    let cosigner = CosignerKey::generate("auditor.example/witness")?;
    let seed = cosigner.seed();
    let witness_key = cosigner.verifier_key();
    let witness = Arc::new(Witness::open(
        cosigner,
        state_file.clone(),
        std::slice::from_ref(&log_key),
    )?);
    let url = serve_witness(witness).await;
    let config = [WitnessConfig {
        url: url.clone(),
        key: witness_key.clone(),
    }];
    let client = reqwest::Client::new();

    // First checkpoint: taken on trust, cosigned, stored, served with the cosignature.
    let first = t
        .app
        .sign_checkpoint(Signing::Now)
        .await?
        .ok_or("nothing signed 0")?;
    let pushed = push_to_witnesses(&t.app, &config, &client).await;
    assert_eq!(pushed, [Ok(Some(first.size))]);
    let served = t.app.checkpoint_console().await?.ok_or("no checkpoint")?;
    assert_eq!(served.witnesses, ["auditor.example/witness"]);
    let line = served.note.lines().last().unwrap_or_default();
    verify_cosignature(&witness_key, body_of(&served.note).as_bytes(), line)?;
    assert_eq!(
        push_to_witnesses(&t.app, &config, &client).await,
        [Ok(None)]
    );

    // More entries, a new checkpoint: cosigned with the consistency proof from the first.
    let lena = t.login("lena.lawyer").await;
    assert!(t.get(&lena, "/api/matters").await.status().is_success());
    let second = t
        .app
        .sign_checkpoint(Signing::Now)
        .await?
        .ok_or("nothing signed 1")?;
    assert!(second.size > first.size);
    assert_eq!(
        push_to_witnesses(&t.app, &config, &client).await,
        [Ok(Some(second.size))]
    );

    // A fork: the log's key signs another root at a larger size (a rogue node, or a database
    // rewritten by someone holding the key): the proof from what the witness saw fails.
    let key_file = t.data_dir.path(&t.data_dir.config.log_key_file);
    let signer = custos_app::LogKey::load(&key_file)?;
    let rogue = signer.sign(second.size + 5, &[9u8; 32])?;
    let post = |body: String| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client
                .post(format!("{url}/add-checkpoint"))
                .body(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    let proof = t.app.consistency_proof_console(first.size).await?;
    let fake_proof: Vec<[u8; 32]> = proof.proof.iter().map(|_| [1u8; 32]).collect();
    let (status, text) = post(add_checkpoint_request(second.size, &fake_proof, &rogue)).await;
    assert_eq!(status, 422, "a fork: {text}");
    assert!(text.contains("fork"), "{text}");
    // The same size with another root is a fork too.
    let same_size = signer.sign(second.size, &[8u8; 32])?;
    let (status, _) = post(add_checkpoint_request(second.size, &[], &same_size)).await;
    assert_eq!(status, 422);
    // A rollback to the first checkpoint.
    let (status, text) = post(add_checkpoint_request(second.size, &[], &first.note)).await;
    assert_eq!(status, 409, "a rollback: {text}");
    // A stale old size: 409 with the size the witness holds.
    let (status, text) = post(add_checkpoint_request(first.size, &[], &second.note)).await;
    assert_eq!(
        (status, text.trim()),
        (409, second.size.to_string().as_str())
    );
    // Another log's key; a log the witness does not follow; a malformed body.
    let (other_signer, other_key) = custos_audit::checkpoint::generate_key(signer.origin())?;
    let other = custos_audit::checkpoint::LogSigner::new(&other_signer)?;
    let forged = String::from_utf8(other.sign(&custos_audit::checkpoint::Checkpoint::new(
        signer.origin(),
        second.size + 1,
        &[7u8; 32],
    )?)?)?;
    let _ = other_key;
    let (status, _) = post(add_checkpoint_request(second.size, &[], &forged)).await;
    assert_eq!(status, 403, "not the log's signature");
    let (unknown_signer, _) = custos_audit::checkpoint::generate_key("elsewhere.example/log")?;
    let unknown = custos_audit::checkpoint::LogSigner::new(&unknown_signer)?;
    let unknown_note = String::from_utf8(unknown.sign(
        &custos_audit::checkpoint::Checkpoint::new("elsewhere.example/log", 3, &[7u8; 32])?,
    )?)?;
    let (status, _) = post(add_checkpoint_request(0, &[], &unknown_note)).await;
    assert_eq!(status, 404, "a log it does not follow");
    let (status, _) = post("old seven\n\nnonsense".to_owned()).await;
    assert_eq!(status, 400);

    // Restarted from its state file, the witness still holds the second checkpoint.
    let again = Arc::new(Witness::open(
        CosignerKey::from_seed("auditor.example/witness", &seed)?,
        state_file,
        &[log_key],
    )?);
    let (status, _, _) =
        again.add_checkpoint(&add_checkpoint_request(second.size, &fake_proof, &rogue));
    assert_eq!(status.as_u16(), 422);
    let (status, _, text) = again.add_checkpoint(&add_checkpoint_request(0, &[], &second.note));
    assert_eq!(
        (status.as_u16(), text.trim()),
        (409, second.size.to_string().as_str())
    );

    assert!(t.get(&lena, "/api/matters").await.status().is_success());
    // The log stores only cosignatures that verify with the witness's key.
    let impostor = CosignerKey::generate("auditor.example/witness")?;
    let third = t
        .app
        .sign_checkpoint(Signing::Now)
        .await?
        .ok_or("nothing signed 2")?;
    let line = impostor.cosign(body_of(&third.note).as_bytes(), 1_800_000_000);
    let refused = t
        .app
        .add_cosignature(&witness_key, third.size, &third.note, &line)
        .await;
    assert!(refused.is_err_and(|e| e.to_string().contains("cosignature refused")));
    // And the whole log, with its cosigned checkpoints, still verifies.
    t.app.verify_audit_log_with(&[], &[]).await?;
    Ok(())
}
