//! Bulk fact queries and read-only units.

use crate::audit::record;
use crate::*;
use custos_audit::{GENESIS, Outcome, verify_chain};
use std::sync::Arc;

/// The bulk fact queries (groundwork issue) answer what the single queries do.
pub(crate) async fn bulk_facts_match_the_single_queries(
    [a, _b]: [Arc<dyn Store>; 2],
) -> TestResult {
    let lead = person("bulk.lead", Role::TeamLead);
    let member = person("bulk.member", Role::Lawyer);
    let mut tx = a.begin().await?;
    tx.insert_person(&lead).await?;
    tx.insert_person(&member).await?;
    let teams: Vec<Team> = (0..3)
        .map(|i| Team {
            id: TeamId::new(),
            name: format!("Bulk team {i}"),
            lead: (i == 0).then_some(lead.person.id),
        })
        .collect();
    for t in &teams {
        tx.insert_team(t).await?;
        tx.add_team_member(t.id, member.person.id).await?;
    }
    let clients: Vec<ClientRow> = (0..3).map(|_| client(lead.person.id)).collect();
    let mut matters = Vec::new();
    for c in &clients {
        tx.insert_client(c).await?;
        for t in &teams[..2] {
            let m = matter(c.id, t.id, lead.person.id);
            tx.insert_matter(&m).await?;
            matters.push(m);
        }
    }
    tx.add_matter_member(matters[0].id, member.person.id)
        .await?;
    let doc = DocumentRow {
        id: DocumentId::new(),
        matter: matters[1].id,
        classification: Classification::Privileged,
        sealed_title: vec![1, 2, 3],
        sealed_provenance: vec![4, 5],
        media_type: "application/pdf".to_owned(),
        size: 42,
        created_by: lead.person.id,
        created_at: now(),
    };
    tx.insert_document(&doc).await?;
    let version = tx
        .insert_firm_policy("// none yet", "bulk", lead.person.id, now())
        .await?;
    tx.add_matter_member(matters[3].id, member.person.id)
        .await?;
    let walls = [
        WallSubject::Person(member.person.id),
        WallSubject::Team(teams[1].id),
        WallSubject::Team(TeamId::new()),
    ]
    .map(|subject| Wall {
        id: WallId::new(),
        subject,
        object: WallObject::Client(clients[2].id),
        reason: "bulk".to_owned(),
        created_by: lead.person.id,
        created_at: now(),
        kind: WallKind::Exclusionary,
        lifted: None,
    });
    for w in &walls {
        tx.insert_wall(w).await?;
    }
    tx.commit().await?;

    let mut read = a.begin_read().await?;
    // One statement for all of a decision's facts about the person (one round trip on
    // PostgreSQL), and one for a document with its matter: two per decision on a document.
    let before = read.statements_run();
    let p = read
        .principal(member.person.id, now())
        .await?
        .ok_or("no principal")?;
    assert_eq!(read.statements_run() - before, 1, "the principal's facts");
    assert_eq!(
        (p.role, p.status, p.firm_policy_version),
        (Role::Lawyer, PersonStatus::Active, version)
    );
    assert_eq!(p.compliance, member.person.compliance);
    let before = read.statements_run();
    let both = read.document_with_matter(doc.id).await?;
    assert_eq!(
        read.statements_run() - before,
        1,
        "a document with its matter"
    );
    assert_eq!(both, Some((doc.clone(), matters[1].clone())));
    assert_eq!(read.document_with_matter(DocumentId::new()).await?, None);
    let mut team_ids = read.teams_of(member.person.id).await?;
    team_ids.sort_by_key(|t| t.0);
    assert_eq!(p.teams, team_ids);
    assert_eq!(p.led_teams, read.teams_led_by(member.person.id).await?);
    let mut staffed = read.staffed_matters(member.person.id).await?;
    staffed.sort_by_key(|m| m.0);
    assert_eq!(p.staffed_matters, staffed);
    assert_eq!(
        p.walls,
        read.walls_screening(member.person.id, &team_ids).await?
    );
    assert_eq!(
        p.walls.len(),
        2,
        "the person's wall and their team's, not the stranger team's"
    );
    let l = read
        .principal(lead.person.id, now())
        .await?
        .ok_or("no lead")?;
    assert_eq!(l.led_teams, vec![teams[0].id]);
    assert!(read.principal(PersonId::new(), now()).await?.is_none());

    let mut ids: Vec<ClientId> = clients.iter().map(|c| c.id).collect();
    ids.sort_by_key(|c| c.0);
    let between = read.matters_of_clients_between(ids[0], ids[1]).await?;
    let mut single = read.matters_of_client(ids[0]).await?;
    single.extend(read.matters_of_client(ids[1]).await?);
    assert_eq!(between, single);
    read.commit().await?;
    Ok(())
}

/// Read-only units (groundwork issue): one snapshot; a writer commits while a long read is
/// open (on SQLite every unit used to take the write lock, so the write waited); the read
/// unit's audit entries are written at its commit, in the log's one gapless order; changing a
/// record in a read unit fails.
pub(crate) async fn read_units_see_a_snapshot_block_no_writer_and_audit_at_commit(
    [a, b]: [Arc<dyn Store>; 2],
) -> TestResult {
    let p = person("read.unit", Role::Lawyer);
    let mut tx = a.begin().await?;
    tx.insert_person(&p).await?;
    tx.commit().await?;

    let mut read = a.begin_read().await?;
    assert_eq!(
        read.person(p.person.id).await?.map(|r| r.person.status),
        Some(PersonStatus::Active)
    );
    read.append_audit(&record(
        "person.view".into(),
        "read".into(),
        None,
        Outcome::Allow,
    ))
    .await?;
    // A writer on the other handle completes while the read is open.
    let write = async {
        let mut w = b.begin().await?;
        w.set_person_status(p.person.id, PersonStatus::Suspended)
            .await?;
        w.append_audit(&record(
            "person.manage".into(),
            "write".into(),
            None,
            Outcome::Allow,
        ))
        .await?;
        w.commit().await
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), write)
        .await
        .map_err(|_| "the write waited for the open read unit")??;
    // The read unit still sees its snapshot, and only committed entries.
    assert_eq!(
        read.person(p.person.id).await?.map(|r| r.person.status),
        Some(PersonStatus::Active),
        "one snapshot for the whole read unit"
    );
    let seen = read.audit_entries(&AuditFilter::default(), 0, 100).await?;
    assert!(seen.iter().all(|e| e.record.resource != "read"));
    assert!(
        read.insert_person(&person("not.in.a.read", Role::Lawyer))
            .await
            .is_err(),
        "a read unit changes nothing"
    );
    read.commit().await?;

    let mut check = b.begin_read().await?;
    assert_eq!(
        check.person(p.person.id).await?.map(|r| r.person.status),
        Some(PersonStatus::Suspended)
    );
    let entries = check.audit_entries(&AuditFilter::default(), 0, 100).await?;
    check.commit().await?;
    let order: Vec<&str> = entries.iter().map(|e| e.record.resource.as_str()).collect();
    assert_eq!(order, ["write", "read"], "ordered at commit");
    verify_chain(0, GENESIS, &entries)?;
    assert!(entries.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert!(
        b.begin_read()
            .await?
            .person_by_user_name("not.in.a.read")
            .await?
            .is_none()
    );
    Ok(())
}
