//! The store conformance suite: behaviour every backend must share (invariant 8), written
//! against the `Store` trait only. It runs on SQLite here; the PostgreSQL backend of the
//! scale-out issue runs the same cases.

use custos_domain::*;
use custos_store::*;
use std::sync::Arc;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn now() -> Timestamp {
    time::OffsetDateTime::from_unix_timestamp(1_700_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn person(name: &str, role: Role) -> PersonRow {
    PersonRow {
        person: Person {
            id: PersonId::new(),
            user_name: UserName::parse(name).unwrap_or_else(|e| unreachable!("{e}")),
            display_name: name.to_owned(),
            role,
            status: PersonStatus::Active,
            created_at: now(),
        },
        password_hash: "$argon2id$fake".to_owned(),
    }
}

fn client(responsible: PersonId) -> ClientRow {
    ClientRow {
        id: ClientId::new(),
        responsible,
        wrapped_key: vec![1, 2, 3],
        sealed_name: vec![4, 5],
        sealed_contact: vec![6],
        created_at: now(),
    }
}

fn matter(client: ClientId, team: TeamId, lead: PersonId) -> MatterRow {
    MatterRow {
        id: MatterId::new(),
        client,
        team,
        lead,
        wrapped_key: vec![7],
        sealed_title: vec![8, 9],
        created_at: now(),
    }
}

async fn sqlite() -> Result<(tempfile::TempDir, Arc<dyn Store>), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.to_string()))?;
    let store = SqliteStore::open(&dir.path().join("custos.db"), true).await?;
    Ok((dir, Arc::new(store)))
}

/// Every case, against one backend.
async fn conformance(store: Arc<dyn Store>) -> TestResult {
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
    let session = SessionRow {
        token_hash: [9u8; 32],
        person: lawyer.person.id,
        created_at: now(),
        expires_at: now(),
    };
    tx.insert_session(&session).await?;
    tx.insert_session(&SessionRow {
        token_hash: [8u8; 32],
        ..session.clone()
    })
    .await?;
    assert_eq!(tx.session(&[9u8; 32]).await?, Some(session.clone()));
    tx.commit().await?;
    assert_eq!(
        store.session_and_status(&[9u8; 32]).await?,
        Some((session.clone(), PersonStatus::Active))
    );
    assert_eq!(store.session_and_status(&[1u8; 32]).await?, None);
    let mut tx = store.begin().await?;
    assert!(tx.delete_session(&[9u8; 32]).await?);
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

    // Status changes stick.
    tx.set_person_status(lawyer.person.id, PersonStatus::Suspended)
        .await?;
    assert_eq!(
        tx.person(lawyer.person.id).await?.map(|p| p.person.status),
        Some(PersonStatus::Suspended)
    );
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn sqlite_conforms() -> TestResult {
    let (_dir, store) = sqlite().await?;
    conformance(store).await
}
