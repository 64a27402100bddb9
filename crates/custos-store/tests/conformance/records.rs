//! Records: round trips, errors, conflicts.

use crate::*;
use std::sync::Arc;

/// Rows, conflicts, rollback, membership, walls, sessions, paging, updates.
pub(crate) async fn round_trips_and_errors([store, _]: [Arc<dyn Store>; 2]) -> TestResult {
    // Rows written and read back are equal; unknown ids are `None`.
    let lead = person("lead.one", Role::TeamLead);
    let lawyer = person("lawyer.one", Role::Lawyer);
    let team = Team {
        id: TeamId::new(),
        name: "Corporate".to_owned(),
        lead: Some(lead.person.id),
    };
    let c = client(lead.person.id);
    let m = matter(c.id, team.id, lead.person.id);
    let mut tx = store.begin().await?;
    tx.insert_person(&lead).await?;
    tx.insert_person(&lawyer).await?;
    tx.insert_team(&team).await?;
    tx.insert_client(&c).await?;
    tx.insert_matter(&m).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.person(lead.person.id).await?, Some(lead.clone()));
    assert_eq!(
        tx.person_by_user_name("lawyer.one").await?,
        Some(lawyer.clone())
    );
    assert_eq!(tx.team(team.id).await?, Some(team.clone()));
    assert_eq!(tx.client(c.id).await?, Some(c.clone()));
    assert_eq!(tx.matter(m.id).await?, Some(m.clone()));
    assert_eq!(tx.person(PersonId::new()).await?, None);
    assert_eq!(tx.matter(MatterId::new()).await?, None);
    assert_eq!(tx.document(DocumentId::new()).await?, None);
    assert_eq!(tx.session(&[0u8; 32]).await?, None);
    assert_eq!(tx.teams_led_by(lead.person.id).await?, vec![team.id]);
    tx.commit().await?;

    // A duplicate user name or a reference to nothing is a conflict, and leaves nothing behind.
    let mut tx = store.begin().await?;
    let dup = tx.insert_person(&person("lawyer.one", Role::Intern)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    drop(tx);
    let mut tx = store.begin().await?;
    let orphan = tx
        .insert_matter(&matter(ClientId::new(), team.id, lead.person.id))
        .await;
    assert!(matches!(orphan, Err(StoreError::Conflict(_))), "{orphan:?}");
    drop(tx);

    // A unit of work dropped without commit did not happen.
    let mut tx = store.begin().await?;
    let ghost = person("ghost.person", Role::Lawyer);
    tx.insert_person(&ghost).await?;
    drop(tx);
    let mut tx = store.begin().await?;
    assert_eq!(tx.person(ghost.person.id).await?, None);

    // Membership: idempotent adds, removals say whether there was something to remove.
    tx.add_matter_member(m.id, lawyer.person.id).await?;
    tx.add_matter_member(m.id, lawyer.person.id).await?;
    tx.add_team_member(team.id, lawyer.person.id).await?;
    assert_eq!(tx.matter_members(m.id).await?, vec![lawyer.person.id]);
    assert_eq!(tx.staffed_matters(lawyer.person.id).await?, vec![m.id]);
    assert_eq!(tx.teams_of(lawyer.person.id).await?, vec![team.id]);
    assert!(tx.remove_matter_member(m.id, lawyer.person.id).await?);
    assert!(!tx.remove_matter_member(m.id, lawyer.person.id).await?);

    // Walls are found through the person and through their teams.
    let by_person = Wall {
        id: WallId::new(),
        subject: WallSubject::Person(lawyer.person.id),
        object: WallObject::Matter(m.id),
        reason: "r".to_owned(),
        created_by: lead.person.id,
        created_at: now(),
        kind: WallKind::Exclusionary,
        lifted: None,
    };
    let by_team = Wall {
        id: WallId::new(),
        subject: WallSubject::Team(team.id),
        object: WallObject::Client(c.id),
        ..by_person.clone()
    };
    tx.insert_wall(&by_person).await?;
    tx.insert_wall(&by_team).await?;
    let found = tx.walls_screening(lawyer.person.id, &[team.id]).await?;
    assert_eq!(found.len(), 2);
    assert!(found.contains(&by_person) && found.contains(&by_team));
    assert!(tx.walls_screening(lead.person.id, &[]).await?.is_empty());

    // Sessions by token hash; ending all of a person's sessions.
    let session = session_row(lawyer.person.id, 9);
    tx.insert_session(&session).await?;
    tx.insert_session(&session_row(lawyer.person.id, 8)).await?;
    assert_eq!(tx.session(&[9u8; 32]).await?, Some(session.clone()));
    tx.commit().await?;
    assert_eq!(
        store.session_and_status(&[9u8; 32]).await?,
        Some((session.clone(), PersonStatus::Active))
    );
    assert_eq!(store.session_and_status(&[1u8; 32]).await?, None);
    // The credential check (its own connection on SQLite, already used above) sees a
    // revocation and a suspension as soon as they commit.
    let mut tx = store.begin().await?;
    assert!(tx.delete_session(&[9u8; 32]).await?);
    tx.set_person_status(lawyer.person.id, PersonStatus::Suspended)
        .await?;
    tx.commit().await?;
    assert_eq!(store.session_and_status(&[9u8; 32]).await?, None);
    assert_eq!(
        store
            .session_and_status(&[8u8; 32])
            .await?
            .map(|(_, status)| status),
        Some(PersonStatus::Suspended)
    );
    let mut tx = store.begin().await?;
    tx.set_person_status(lawyer.person.id, PersonStatus::Active)
        .await?;
    assert_eq!(tx.delete_sessions_of(lawyer.person.id).await?, 1);

    // Pages follow id order and the cursor.
    for i in 0..5 {
        tx.insert_person(&person(&format!("paged.{i}"), Role::Paralegal))
            .await?;
    }
    let all = tx.list_people(None, 100).await?;
    assert_eq!(all.len(), 7);
    assert!(all.windows(2).all(|w| w[0].person.id < w[1].person.id));
    let second = tx.list_people(Some(all[2].person.id), 2).await?;
    assert_eq!(second, all[3..5].to_vec());

    // Status and password changes stick; changing nobody is "not found".
    tx.set_person_status(lawyer.person.id, PersonStatus::Suspended)
        .await?;
    assert_eq!(
        tx.person(lawyer.person.id).await?.map(|p| p.person.status),
        Some(PersonStatus::Suspended)
    );
    tx.set_password(lawyer.person.id, "$argon2id$other", false, now())
        .await?;
    let changed = tx.person(lawyer.person.id).await?;
    assert_eq!(
        changed.map(|p| (p.password_hash, p.must_change_password)),
        Some(("$argon2id$other".to_owned(), false))
    );
    let nobody = tx
        .set_person_status(PersonId::new(), PersonStatus::Departed)
        .await;
    assert!(
        matches!(nobody, Err(StoreError::NotFound("person"))),
        "{nobody:?}"
    );
    let nobody = tx.set_password(PersonId::new(), "x", false, now()).await;
    assert!(
        matches!(nobody, Err(StoreError::NotFound("person"))),
        "{nobody:?}"
    );
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let back = tx.person(lawyer.person.id).await?;
    assert_eq!(
        back.map(|p| p.password_hash),
        Some("$argon2id$other".to_owned())
    );
    Ok(())
}

/// Two units of work (on two nodes) add the same user name at once: one commits, the other
/// gets a conflict, never two rows.
pub(crate) async fn concurrent_duplicates_conflict([a, b]: [Arc<dyn Store>; 2]) -> TestResult {
    for round in 0..5 {
        let name = format!("same.name{round}");
        let mut first = a.begin().await?;
        first.insert_person(&person(&name, Role::Lawyer)).await?;
        // The second waits for the first (SQLite: for the write lock; PostgreSQL: for the
        // unique index entry), so it runs in its own task.
        let second = tokio::spawn({
            let b = Arc::clone(&b);
            let name = name.clone();
            async move {
                let mut tx = b.begin().await?;
                tx.insert_person(&person(&name, Role::Intern)).await?;
                tx.commit().await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        first.commit().await?;
        let second = second.await?;
        assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
        let mut tx = a.begin().await?;
        let found = tx.person_by_user_name(&name).await?;
        assert_eq!(found.map(|p| p.person.role), Some(Role::Lawyer));
    }
    Ok(())
}

/// Client and matter numbers: concurrent writers on two handles (two pools on PostgreSQL, as
/// two nodes) never get the same number and leave no gap; a rolled-back unit gives its number
/// back; each kind counts on its own; a number is stored with its row.
pub(crate) async fn numbers_are_unique_gapless_and_returned_on_rollback(
    [a, b]: [Arc<dyn Store>; 2],
) -> TestResult {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await?;
            let n = tx.next_number(NumberKind::Matter).await?;
            tx.commit().await?;
            Ok::<i64, StoreError>(n)
        }));
    }
    let mut got = Vec::new();
    for task in tasks {
        got.push(task.await??);
    }
    got.sort_unstable();
    assert_eq!(got, (1..=16).collect::<Vec<i64>>());

    let mut abandoned = a.begin().await?;
    assert_eq!(abandoned.next_number(NumberKind::Matter).await?, 17);
    drop(abandoned);
    let mut tx = b.begin().await?;
    assert_eq!(tx.next_number(NumberKind::Matter).await?, 17);
    assert_eq!(tx.next_number(NumberKind::Client).await?, 1);
    let partner = person("numbers.partner", Role::Partner);
    tx.insert_person(&partner).await?;
    let mut row = client(partner.person.id);
    row.number = 1;
    tx.insert_client(&row).await?;
    tx.commit().await?;
    let mut tx = a.begin_read().await?;
    assert_eq!(tx.client(row.id).await?.map(|c| c.number), Some(1));
    Ok(())
}
