//! The audit log: one gapless order, filters.

use crate::*;
use custos_audit::{AuditEntry, AuditRecord, GENESIS, Outcome, merkle, verify_chain};
use std::sync::Arc;

pub(crate) fn record(
    action: String,
    resource: String,
    actor: Option<PersonId>,
    outcome: Outcome,
) -> AuditRecord {
    AuditRecord {
        at_ms: 1,
        request_id: RequestId::new(),
        actor,
        action,
        resource,
        outcome,
        reasons: vec![],
        detail: serde_json::json!({ "n": 1 }),
    }
}

/// Eight writers on two nodes append at once, every other unit rolled back: the committed
/// entries are numbered 1..n with no gap, in one chain that verifies.
pub(crate) async fn audit_order_is_total_and_gapless(nodes: [Arc<dyn Store>; 2]) -> TestResult {
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = Arc::clone(&nodes[task % 2]);
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = store.begin().await?;
                let r = record(
                    format!("test.{task}"),
                    format!("n:{i}"),
                    None,
                    Outcome::Allow,
                );
                tx.append_audit(&r).await?;
                tx.append_audit(&r).await?;
                // Every other unit of work is abandoned: its entries vanish without a gap.
                if i % 2 == 0 {
                    tx.commit().await?;
                }
            }
            Ok::<(), StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let mut tx = nodes[1].begin().await?;
    let entries = tx.audit_entries(&AuditFilter::default(), 0, 1000).await?;
    assert_eq!(entries.len(), 8 * 13 * 2);
    assert!(
        entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as u64 + 1)
    );
    assert!(verify_chain(0, GENESIS, &entries).is_ok());
    tree_matches_the_entries(&mut *tx, &entries).await?;
    // The next entry, on the other node, follows on; a unit sees its own entries.
    tx.append_audit(&record("after".into(), "x".into(), None, Outcome::Deny))
        .await?;
    let mine = tx
        .audit_entries(&AuditFilter::default(), entries.len() as u64, 10)
        .await?;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].seq, entries.len() as u64 + 1);
    assert_eq!(mine[0].record.action, "after");
    Ok(())
}

/// The Merkle tree written with the entries (issue 15): the root read from the stored hashes is
/// the root of the entries' leaf hashes, and inclusion and consistency proofs made from the
/// stored hashes verify, each reading at most 1 + log2 n of them.
async fn tree_matches_the_entries(tx: &mut dyn StoreTx, entries: &[AuditEntry]) -> TestResult {
    let n = entries.len() as u64;
    let mut frontier = merkle::Frontier::default();
    for e in entries {
        frontier.push(e.leaf_hash);
    }
    let root = merkle::root(n, &tx.audit_tree_hashes(&merkle::root_needs(n)).await?)?;
    assert_eq!(root, frontier.root());
    let bound = 1 + (64 - n.leading_zeros()) as usize;
    for i in [0, 1, n / 2, n - 1] {
        let needs = merkle::inclusion_needs(n, i)?;
        assert!(needs.len() <= bound, "{} hashes for one proof", needs.len());
        let proof = merkle::inclusion_proof(n, i, &tx.audit_tree_hashes(&needs).await?)?;
        let leaf = entries[usize::try_from(i)?].leaf_hash;
        merkle::verify_inclusion(&proof, n, &root, i, &leaf)?;
    }
    let old = n / 3;
    let old_root = merkle::root(old, &tx.audit_tree_hashes(&merkle::root_needs(old)).await?)?;
    let needs = merkle::consistency_needs(old, n)?;
    let proof = merkle::consistency_proof(old, n, &tx.audit_tree_hashes(&needs).await?)?;
    merkle::verify_consistency(&proof, old, &old_root, n, &root)?;
    Ok(())
}

/// Optional filters select the same entries on every backend.
pub(crate) async fn audit_filters([store, _]: [Arc<dyn Store>; 2]) -> TestResult {
    let someone = PersonId::new();
    let mut tx = store.begin().await?;
    let mine = AuditRecord {
        at_ms: 10,
        ..record("a".into(), "matter:1".into(), Some(someone), Outcome::Deny)
    };
    tx.append_audit(&mine).await?;
    let b = AuditRecord {
        at_ms: 20,
        ..record("b".into(), "matter:1".into(), None, Outcome::Allow)
    };
    tx.append_audit(&b).await?;
    let c = AuditRecord {
        at_ms: 30,
        ..record("c".into(), "matter:2".into(), None, Outcome::Allow)
    };
    tx.append_audit(&c).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let by_actor = AuditFilter {
        actor: Some(someone),
        ..AuditFilter::default()
    };
    let got = tx.audit_entries(&by_actor, 0, 10).await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].record, mine);
    let by_resource = AuditFilter {
        resource: Some("matter:1".into()),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&by_resource, 0, 10).await?.len(), 2);
    let denied = AuditFilter {
        outcome: Some(Outcome::Deny),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&denied, 0, 10).await?.len(), 1);
    let by_request = AuditFilter {
        request_id: Some(mine.request_id),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&by_request, 0, 10).await?.len(), 1);
    let by_action = AuditFilter {
        action: Some("b".into()),
        ..AuditFilter::default()
    };
    assert_eq!(tx.audit_entries(&by_action, 0, 10).await?.len(), 1);
    let actions = |entries: Vec<custos_audit::AuditEntry>| -> Vec<String> {
        entries.into_iter().map(|e| e.record.action).collect()
    };
    let window = AuditFilter {
        from_ms: Some(15),
        until_ms: Some(30),
        ..AuditFilter::default()
    };
    assert_eq!(actions(tx.audit_entries(&window, 0, 10).await?), ["b"]);
    let from = AuditFilter {
        from_ms: Some(20),
        ..AuditFilter::default()
    };
    assert_eq!(actions(tx.audit_entries(&from, 0, 10).await?), ["b", "c"]);
    let until = AuditFilter {
        until_ms: Some(20),
        ..AuditFilter::default()
    };
    assert_eq!(actions(tx.audit_entries(&until, 0, 10).await?), ["a"]);
    let newest = AuditFilter {
        newest_first: true,
        ..AuditFilter::default()
    };
    let first = tx.audit_entries(&newest, 0, 2).await?;
    let before = first.last().map(|e| e.seq).unwrap_or_default();
    assert_eq!(actions(first), ["c", "b"]);
    assert_eq!(actions(tx.audit_entries(&newest, before, 10).await?), ["a"]);
    let newest_allowed = AuditFilter {
        newest_first: true,
        outcome: Some(Outcome::Allow),
        ..AuditFilter::default()
    };
    assert_eq!(
        actions(tx.audit_entries(&newest_allowed, 0, 10).await?),
        ["c", "b"]
    );
    assert_eq!(
        tx.audit_entries(&AuditFilter::default(), 1, 10)
            .await?
            .len(),
        2
    );
    assert_eq!(
        tx.audit_entries(&AuditFilter::default(), 0, 2).await?.len(),
        2
    );
    Ok(())
}

/// Signed checkpoints and cosignatures are stored as given (the store never checks or makes a
/// signature), one per size, the latest by size, and both tables refuse a change of a row.
pub(crate) async fn checkpoints_and_cosignatures(nodes: [Arc<dyn Store>; 2]) -> TestResult {
    let mut tx = nodes[0].begin().await?;
    assert!(tx.latest_checkpoint().await?.is_none());
    assert!(
        tx.save_checkpoint(10, "origin\n10\nAAAA\n\n— sig\n", now())
            .await?
    );
    assert!(
        tx.save_checkpoint(30, "origin\n30\nBBBB\n\n— sig\n", now())
            .await?
    );
    assert!(
        tx.save_checkpoint(20, "origin\n20\nCCCC\n\n— sig\n", now())
            .await?
    );
    tx.commit().await?;
    let mut tx = nodes[1].begin().await?;
    assert!(
        !tx.save_checkpoint(20, "another\n", now()).await?,
        "a size signed already keeps its note"
    );
    assert!(
        tx.add_cosignature(20, "witness.example/a", "— witness.example/a X", now())
            .await?
    );
    assert!(
        tx.add_cosignature(20, "auditor.example/b", "— auditor.example/b Y", now())
            .await?
    );
    assert!(
        !tx.add_cosignature(20, "witness.example/a", "— again", now())
            .await?
    );
    tx.commit().await?;
    let mut tx = nodes[0].begin_read().await?;
    let latest = tx.latest_checkpoint().await?.ok_or("no checkpoint")?;
    assert_eq!(
        (latest.size, latest.note.as_str()),
        (30, "origin\n30\nBBBB\n\n— sig\n")
    );
    let sizes: Vec<u64> = tx
        .checkpoints_after(10, 5)
        .await?
        .iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(sizes, [20, 30]);
    assert_eq!(
        tx.checkpoints_after(0, 1).await?[0].note,
        "origin\n10\nAAAA\n\n— sig\n"
    );
    let cosigned: Vec<String> = tx
        .cosignatures(20)
        .await?
        .into_iter()
        .map(|c| c.line)
        .collect();
    assert_eq!(cosigned, ["— auditor.example/b Y", "— witness.example/a X"]);
    assert!(tx.cosignatures(30).await?.is_empty());
    assert_eq!(tx.latest_cosigned("witness.example/a").await?, 20);
    assert_eq!(tx.latest_cosigned("nobody").await?, 0);
    tx.commit().await?;
    let mut tx = nodes[0].begin().await?;
    assert!(
        tx.add_cosignature(99, "w", "— w Z", now()).await.is_err(),
        "a cosignature of no checkpoint"
    );
    drop(tx);
    assert!(nodes[0].missing_audit_guards().await?.is_empty());
    Ok(())
}
