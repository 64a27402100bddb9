//! Transfers (issue 16): two approvals of one transfer given at the same moment on two nodes
//! serialise on the transfer's row, so the second sees the first (and releases); a revocation
//! voids a transfer whether it is still pending or already released; one person approves once.

use crate::*;
use std::sync::Arc;

pub(crate) async fn approvals_of_one_transfer_serialize([a, b]: [Arc<dyn Store>; 2]) -> TestResult {
    let lead = person("xfer.lead", Role::TeamLead);
    let officer = person("xfer.officer", Role::Officer);
    let requester = person("xfer.lawyer", Role::Lawyer);
    let team = Team {
        id: TeamId::new(),
        name: "Transfers".to_owned(),
        lead: Some(lead.person.id),
    };
    let c = client(lead.person.id);
    let m = matter(c.id, team.id, lead.person.id);
    let recipient = ThirdPartyRow {
        id: ThirdPartyId::new(),
        name: "Registrar".to_owned(),
        organisation: "Court".to_owned(),
        category: RecipientCategory::Authority,
        email: format!("registry-{}@court.example", fresh_number()),
        email_key: None,
        verified: None,
        agreement_signed_on: None,
        agreement_expires_on: None,
        agreement_sha256: None,
        agreement_document: None,
        person: None,
        created_by: officer.person.id,
        created_at: now(),
    };
    let t = TransferRow {
        id: TransferId::new(),
        matter: m.id,
        client: c.id,
        requester: requester.person.id,
        recipient: recipient.id,
        purpose: "court_production".to_owned(),
        consent: None,
        exception: Some(ExceptionRow {
            basis: LegalBasis::CourtOrder,
            reference: "HC-1".to_owned(),
            order: None,
            inform_client: true,
            forbidden_until: None,
            informed: None,
        }),
        status: TransferStatus::Pending,
        status_reason: None,
        link_days: 7,
        download_limit: 3,
        passphrase_hash: None,
        requested_at: now(),
        closed_at: None,
    };
    let mut tx = a.begin().await?;
    for p in [&lead, &officer, &requester] {
        tx.insert_person(p).await?;
    }
    tx.insert_team(&team).await?;
    tx.insert_client(&c).await?;
    tx.insert_matter(&m).await?;
    tx.insert_third_party(&recipient).await?;
    tx.insert_transfer(&t, &[]).await?;
    tx.commit().await?;
    let approval = |p: &PersonRow, slot: &str| ApprovalRow {
        person: p.person.id,
        slot: slot.to_owned(),
        fingerprint: "f".to_owned(),
        at: now(),
    };

    // The lead approves on node a and has not committed yet when the officer approves on b.
    let mut first = a.begin().await?;
    assert!(first.lock_pending_transfer(t.id).await?);
    first
        .insert_approval(t.id, &approval(&lead, "lead"))
        .await?;
    let id = t.id;
    let officer_row = approval(&officer, "officer");
    let second = tokio::spawn(async move {
        let mut tx = b.begin().await?;
        if !tx.lock_pending_transfer(id).await? {
            return Err("the transfer is no longer pending".into());
        }
        let seen = tx.approvals(id).await?.len();
        tx.insert_approval(id, &officer_row).await?;
        if seen == 1 {
            tx.close_transfer(
                id,
                TransferStatus::Pending,
                TransferStatus::Released,
                None,
                now(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<usize, Box<dyn std::error::Error + Send + Sync>>(seen)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await?;
    let seen = second.await?.map_err(|e| e.to_string())?;
    assert_eq!(seen, 1, "the second approval saw the first");
    let mut read = a.begin_read().await?;
    assert_eq!(read.approvals(t.id).await?.len(), 2);
    let stored = read.transfer(t.id).await?.ok_or("no transfer")?;
    read.commit().await?;
    assert_eq!(stored.status, TransferStatus::Released);

    // One person approves once (the table's key), whatever the slot.
    let mut tx = a.begin().await?;
    let again = tx.insert_approval(t.id, &approval(&lead, "officer")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    // The register's filters (client, recipient, range, clients still to be told) and the
    // recipient's own list, on every backend.
    let register = |client, uninformed| TransferFilter::Register {
        client,
        recipient: Some(recipient.id),
        from: Some(now() - time::Duration::days(1)),
        until: None,
        uninformed,
    };
    let mut read = a.begin_read().await?;
    let n = |v: Vec<TransferRow>| v.len();
    assert_eq!(
        n(read
            .list_transfers(register(Some(c.id), true), None, 10)
            .await?),
        1
    );
    assert_eq!(
        n(read
            .list_transfers(register(Some(ClientId::new()), false), None, 10)
            .await?),
        0
    );
    assert_eq!(
        n(read
            .list_transfers(TransferFilter::ReleasedTo(recipient.id), None, 10)
            .await?),
        1
    );
    read.commit().await?;
    let mut tx = a.begin().await?;
    assert!(
        tx.set_client_informed(t.id, officer.person.id, now())
            .await?
    );
    assert!(
        !tx.set_client_informed(t.id, officer.person.id, now())
            .await?
    );
    tx.commit().await?;
    let mut read = a.begin_read().await?;
    assert_eq!(
        n(read
            .list_transfers(register(Some(c.id), true), None, 10)
            .await?),
        0
    );
    assert_eq!(
        n(read.list_transfers(register(None, false), None, 10).await?),
        1
    );
    read.commit().await?;

    // A released transfer is voided by a revocation, once; it is then no longer pending.
    let mut tx = a.begin().await?;
    assert!(tx.void_transfer(t.id, "consent revoked", now()).await?);
    assert!(!tx.void_transfer(t.id, "again", now()).await?);
    assert!(!tx.lock_pending_transfer(t.id).await?);
    tx.commit().await?;
    Ok(())
}
