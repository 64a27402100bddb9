//! The decision point's facts (issue 14): inclusionary walls and lifting, R4 dates, break-glass
//! and its review, and everyone's facts about one matter; written on one node, read on the other.

use crate::*;
use std::sync::Arc;

pub(crate) async fn walls_compliance_and_break_glass([a, b]: [Arc<dyn Store>; 2]) -> TestResult {
    let lead = person("dec.lead", Role::TeamLead);
    let lawyer = person("dec.lawyer", Role::Lawyer);
    let admitted = person("dec.admitted", Role::Lawyer);
    let team = Team {
        id: TeamId::new(),
        name: "Decisions".to_owned(),
        lead: Some(lead.person.id),
    };
    let mut dated = person("dec.dated", Role::Paralegal);
    dated.person.compliance = Compliance {
        agreement_signed_on: Some(time::macros::date!(2025 - 03 - 04)),
        training_valid_until: Some(time::macros::date!(2027 - 03 - 04)),
    };
    let mut tx = a.begin().await?;
    tx.insert_person(&dated).await?;
    for p in [&lead, &lawyer, &admitted] {
        tx.insert_person(p).await?;
    }
    tx.insert_team(&team).await?;
    tx.add_team_member(team.id, lawyer.person.id).await?;
    let c = client(lead.person.id);
    tx.insert_client(&c).await?;
    let m = matter(c.id, team.id, lead.person.id);
    tx.insert_matter(&m).await?;
    tx.add_matter_member(m.id, lawyer.person.id).await?;
    let exclusion = Wall {
        id: WallId::new(),
        kind: WallKind::Exclusionary,
        subject: WallSubject::Person(lawyer.person.id),
        object: WallObject::Matter(m.id),
        reason: "conflict".to_owned(),
        created_by: lead.person.id,
        created_at: now(),
        lifted: None,
    };
    let inclusion = Wall {
        id: WallId::new(),
        kind: WallKind::Inclusionary,
        subject: WallSubject::Person(admitted.person.id),
        ..exclusion.clone()
    };
    tx.insert_wall(&exclusion).await?;
    tx.insert_wall(&inclusion).await?;
    tx.commit().await?;

    // Facts read on the other node: the person's own exclusion and every inclusionary wall.
    let mut read = b.begin_read().await?;
    let p = read
        .principal(lawyer.person.id, now())
        .await?
        .ok_or("no lawyer")?;
    let mut both = vec![exclusion.clone(), inclusion.clone()];
    both.sort_by_key(|w| w.id.0);
    assert_eq!(
        p.walls, both,
        "the person's exclusion and the inclusionary wall"
    );
    let q = read
        .principal(lead.person.id, now())
        .await?
        .ok_or("no lead")?;
    assert_eq!(
        q.walls,
        vec![inclusion.clone()],
        "a stranger sees only inclusionary walls"
    );
    read.commit().await?;

    // Lifting: once only, recorded, and the wall stops applying at once.
    let lifted = Lifted {
        by: lead.person.id,
        at: now(),
        reason: "conflict ended".to_owned(),
    };
    let mut tx = a.begin().await?;
    assert!(tx.lift_wall(exclusion.id, &lifted).await?);
    assert!(!tx.lift_wall(exclusion.id, &lifted).await?, "lifting twice");
    assert!(!tx.lift_wall(WallId::new(), &lifted).await?, "no such wall");
    tx.commit().await?;
    let mut read = b.begin_read().await?;
    let p = read
        .principal(lawyer.person.id, now())
        .await?
        .ok_or("no lawyer")?;
    assert_eq!(p.walls, vec![inclusion.clone()]);
    let stored = read.wall(exclusion.id).await?.ok_or("lifted wall kept")?;
    assert_eq!(stored.lifted, Some(lifted));
    assert!(
        read.walls_screening(lawyer.person.id, &[])
            .await?
            .is_empty()
    );
    assert_eq!(read.active_walls().await?, vec![inclusion.clone()]);
    read.commit().await?;

    // R4 dates round-trip (also when a person is copied with them), and clear.
    let mut read = b.begin_read().await?;
    let copied = read.person(dated.person.id).await?.ok_or("no dated")?;
    assert_eq!(copied.person.compliance, dated.person.compliance);
    read.commit().await?;
    let dates = Compliance {
        agreement_signed_on: Some(time::macros::date!(2026 - 01 - 05)),
        training_valid_until: Some(time::macros::date!(2027 - 01 - 31)),
    };
    let mut tx = a.begin().await?;
    tx.set_compliance(lawyer.person.id, &dates).await?;
    assert!(tx.set_compliance(PersonId::new(), &dates).await.is_err());
    tx.commit().await?;
    let mut read = b.begin_read().await?;
    let row = read.person(lawyer.person.id).await?.ok_or("no lawyer")?;
    assert_eq!(row.person.compliance, dates);
    read.commit().await?;
    let mut tx = a.begin().await?;
    tx.set_compliance(lawyer.person.id, &Compliance::default())
        .await?;
    tx.commit().await?;
    let mut read = b.begin_read().await?;
    let row = read.person(lawyer.person.id).await?.ok_or("no lawyer")?;
    assert_eq!(row.person.compliance, Compliance::default());
    read.commit().await?;

    // Break-glass: only unexpired accesses are facts; the review closes once.
    let open = BreakGlassRow {
        id: BreakGlassId::new(),
        person: admitted.person.id,
        matter: m.id,
        justification: "sealed:v1:00".to_owned(),
        opened_at: now(),
        expires_at: now() + time::Duration::hours(4),
        review: None,
    };
    let expired = BreakGlassRow {
        id: BreakGlassId::new(),
        expires_at: now() - time::Duration::minutes(1),
        opened_at: now() - time::Duration::hours(5),
        ..open.clone()
    };
    let mut tx = a.begin().await?;
    tx.insert_break_glass(&open).await?;
    tx.insert_break_glass(&expired).await?;
    tx.commit().await?;
    let mut read = b.begin_read().await?;
    let p = read
        .principal(admitted.person.id, now())
        .await?
        .ok_or("no admitted")?;
    assert_eq!(
        p.emergency,
        vec![OpenBreakGlass {
            id: open.id,
            matter: open.matter,
            expires_at: open.expires_at,
        }]
    );
    assert_eq!(read.count_awaiting_review().await?, 2);
    let audience = read.matter_audience(m.id, now()).await?;
    assert_eq!(audience.emergency, vec![open.clone()]);
    assert_eq!(audience.staffed, vec![lawyer.person.id]);
    assert!(audience.members.contains(&(lawyer.person.id, team.id)));
    assert!(audience.leads.contains(&(lead.person.id, team.id)));
    assert!(
        audience
            .people
            .iter()
            .any(|r| r.person.id == admitted.person.id)
    );
    read.commit().await?;
    let review = BreakGlassReview {
        by: lead.person.id,
        at: now(),
        justified: false,
        comment: "sealed:v1:01".to_owned(),
    };
    let mut tx = a.begin().await?;
    assert!(tx.review_break_glass(expired.id, &review).await?);
    assert!(
        !tx.review_break_glass(expired.id, &review).await?,
        "reviewed twice"
    );
    tx.commit().await?;
    let mut read = b.begin_read().await?;
    assert_eq!(read.count_awaiting_review().await?, 1);
    let waiting = read
        .list_break_glass(BreakGlassFilter::AwaitingReview, None, 10)
        .await?;
    assert_eq!(waiting, vec![open.clone()]);
    let all = read
        .list_break_glass(BreakGlassFilter::All, None, 10)
        .await?;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, expired.id.max(open.id), "newest first");
    let page = read
        .list_break_glass(BreakGlassFilter::All, Some(all[0].id), 10)
        .await?;
    assert_eq!(page, all[1..].to_vec(), "the cursor pages on");
    let mine = read
        .list_break_glass(BreakGlassFilter::OpenedBy(lawyer.person.id), None, 10)
        .await?;
    assert!(mine.is_empty());
    let reviewed = read.break_glass(expired.id).await?.ok_or("kept")?;
    assert_eq!(reviewed.review, Some(review));
    read.commit().await?;
    Ok(())
}
