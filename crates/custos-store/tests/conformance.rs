//! The store conformance suite: behaviour every backend must share (invariant 8), written
//! against the `Store` trait only. Every case runs on SQLite and on PostgreSQL (a scratch
//! schema per test, from `CUSTOS_TEST_POSTGRES_URL`; skipped loudly when unset). Cases get two
//! handles on the store: on PostgreSQL two separate pools, as two app nodes would have.

use custos_audit::{AuditRecord, GENESIS, Outcome, verify_chain};
use custos_domain::*;
use custos_store::testing::PgScratch;
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
        must_change_password: true,
        password_changed_at: now(),
    }
}

fn session_row(person: PersonId, hash: u8) -> SessionRow {
    SessionRow {
        id: uuid::Uuid::new_v4(),
        token_hash: [hash; 32],
        person,
        stage: SessionStage::Full,
        kind: SessionKind::Bearer,
        source: "192.0.2.1".to_owned(),
        created_at: now(),
        last_seen_at: now(),
        expires_at: now() + time::Duration::hours(12),
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

/// Runs a case on SQLite (one store, two handles) and on PostgreSQL (two pools).
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> super::TestResult {
                let (_dir, store) = super::sqlite().await?;
                super::$case([store.clone(), store]).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> super::TestResult {
                let Some(scratch) = super::PgScratch::create(stringify!($case)).await else {
                    return Ok(());
                };
                let scratch = scratch?;
                let a = super::PgStore::connect(&scratch.url, 4, true).await?;
                let b = super::PgStore::connect(&scratch.url, 4, true).await?;
                let outcome = super::$case([
                    std::sync::Arc::new(a.clone()) as std::sync::Arc<dyn super::Store>,
                    std::sync::Arc::new(b.clone()),
                ])
                .await;
                a.close().await;
                b.close().await;
                scratch.drop_schema().await;
                outcome
            }
        }
    )*};
}

on_every_backend!(
    round_trips_and_errors,
    concurrent_duplicates_conflict,
    audit_order_is_total_and_gapless,
    audit_filters,
    auth_records,
    read_units_see_a_snapshot_block_no_writer_and_audit_at_commit,
    bulk_facts_match_the_single_queries,
);

/// The bulk fact queries (groundwork issue) answer what the single queries do.
async fn bulk_facts_match_the_single_queries([a, _b]: [Arc<dyn Store>; 2]) -> TestResult {
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
    });
    for w in &walls {
        tx.insert_wall(w).await?;
    }
    tx.commit().await?;

    let mut read = a.begin_read().await?;
    let p = read
        .principal(member.person.id)
        .await?
        .ok_or("no principal")?;
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
    let l = read.principal(lead.person.id).await?.ok_or("no lead")?;
    assert_eq!(l.led_teams, vec![teams[0].id]);
    assert!(read.principal(PersonId::new()).await?.is_none());

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
async fn read_units_see_a_snapshot_block_no_writer_and_audit_at_commit(
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

/// Sessions with stages and idle time, second factors with atomic replay protection,
/// single-use recovery codes, failure counters, API tokens.
async fn auth_records([a, b]: [Arc<dyn Store>; 2]) -> TestResult {
    let p = person("auth.person", Role::Lawyer);
    let other = person("auth.other", Role::Lawyer);
    let mut tx = a.begin().await?;
    tx.insert_person(&p).await?;
    tx.insert_person(&other).await?;
    let s1 = SessionRow {
        stage: SessionStage::Setup,
        kind: SessionKind::Cookie,
        ..session_row(p.person.id, 1)
    };
    let s2 = session_row(p.person.id, 2);
    let s3 = session_row(other.person.id, 3);
    for s in [&s1, &s2, &s3] {
        tx.insert_session(s).await?;
    }
    tx.commit().await?;

    // Stage change and touch are seen by the other node; touch never moves time back.
    let mut tx = b.begin().await?;
    let until = now() + time::Duration::hours(1);
    tx.set_session_stage(s1.id, SessionStage::Full, until)
        .await?;
    tx.commit().await?;
    let later = now() + time::Duration::minutes(5);
    b.touch_session(&s1.token_hash, later).await?;
    b.touch_session(&s1.token_hash, now()).await?;
    let (seen, status) = a
        .session_and_status(&s1.token_hash)
        .await?
        .ok_or("session")?;
    assert_eq!(
        (
            seen.stage,
            seen.kind,
            seen.last_seen_at,
            seen.expires_at,
            status
        ),
        (
            SessionStage::Full,
            SessionKind::Cookie,
            later,
            until,
            PersonStatus::Active
        )
    );

    // Listing and revoking by public id, only the owner's; "all others" keeps one.
    let mut tx = a.begin().await?;
    assert_eq!(tx.sessions_of(p.person.id).await?.len(), 2);
    assert!(
        !tx.delete_session_of(other.person.id, s1.id).await?,
        "another person's session"
    );
    assert_eq!(tx.delete_other_sessions(p.person.id, s2.id).await?, 1);
    assert_eq!(tx.sessions_of(p.person.id).await?, vec![s2.clone()]);
    assert!(tx.delete_session_of(p.person.id, s2.id).await?);
    assert_eq!(tx.sessions_of(other.person.id).await?.len(), 1);

    // Factors: pending then active; a step is accepted once and only moving forward.
    let f = FactorRow {
        id: uuid::Uuid::new_v4(),
        person: p.person.id,
        kind: "totp".to_owned(),
        sealed_secret: vec![1, 2, 3],
        active: false,
        last_step: 0,
        created_at: now(),
    };
    tx.insert_factor(&f).await?;
    tx.activate_factor(f.id).await?;
    assert!(tx.advance_factor_step(f.id, 100).await?);
    assert!(!tx.advance_factor_step(f.id, 100).await?, "same step twice");
    assert!(!tx.advance_factor_step(f.id, 99).await?, "earlier step");
    assert!(tx.advance_factor_step(f.id, 101).await?);
    let got = tx.factors_of(p.person.id).await?;
    assert_eq!(got.len(), 1);
    assert!(got[0].active && got[0].last_step == 101 && got[0].sealed_secret == vec![1, 2, 3]);
    assert!(matches!(
        tx.activate_factor(uuid::Uuid::new_v4()).await,
        Err(StoreError::NotFound(_))
    ));

    // Recovery codes: each works once, only for its owner; replacing drops the old ones.
    tx.replace_recovery_codes(p.person.id, &[[1; 32], [2; 32]])
        .await?;
    assert!(
        !tx.use_recovery_code(other.person.id, &[1; 32], now())
            .await?
    );
    assert!(tx.use_recovery_code(p.person.id, &[1; 32], now()).await?);
    assert!(
        !tx.use_recovery_code(p.person.id, &[1; 32], now()).await?,
        "used twice"
    );
    assert_eq!(tx.unused_recovery_codes(p.person.id).await?, 1);
    tx.replace_recovery_codes(p.person.id, &[[3; 32]]).await?;
    assert!(
        !tx.use_recovery_code(p.person.id, &[2; 32], now()).await?,
        "replaced"
    );

    // Failure counters count atomically, lock and clear; lockouts are listed by prefix.
    let long_ago = now() - time::Duration::days(1);
    assert_eq!(tx.add_failure("person:x", now(), long_ago).await?, 1);
    assert_eq!(tx.add_failure("person:x", now(), long_ago).await?, 2);
    // A counter whose last failure is older than the window starts again.
    tx.add_failure("addr:198.51.100.4", now(), long_ago).await?;
    tx.add_failure("addr:198.51.100.4", now(), long_ago).await?;
    let hours_later = now() + time::Duration::hours(2);
    assert_eq!(
        tx.add_failure(
            "addr:198.51.100.4",
            hours_later,
            hours_later - time::Duration::hours(1)
        )
        .await?,
        1
    );
    tx.lock_until("person:x", later).await?;
    tx.add_failure("addr:192.0.2.9", now(), long_ago).await?;
    tx.lock_until("addr:192.0.2.9", later).await?;
    let locked = tx.locked_throttles("person:", now()).await?;
    assert_eq!(locked.len(), 1);
    assert_eq!((locked[0].failures, locked[0].locked_until), (2, later));
    assert!(
        tx.locked_throttles("person:", later).await?.is_empty(),
        "auto-unlock"
    );
    assert!(tx.clear_throttle("person:x").await?);
    assert_eq!(tx.throttle("person:x").await?, None);

    // API tokens: found by hash with the owner's status; revoked once.
    let t = ApiTokenRow {
        id: uuid::Uuid::new_v4(),
        token_hash: [7; 32],
        person: p.person.id,
        name: "sync".to_owned(),
        scopes: "read".to_owned(),
        created_at: now(),
        expires_at: later,
        revoked_at: None,
    };
    tx.insert_api_token(&t).await?;
    tx.commit().await?;
    assert_eq!(
        b.api_token_and_status(&[7; 32]).await?,
        Some((t.clone(), PersonStatus::Active))
    );
    let mut tx = b.begin().await?;
    assert!(
        !tx.revoke_api_token(other.person.id, t.id, now()).await?,
        "not the owner"
    );
    assert!(tx.revoke_api_token(p.person.id, t.id, now()).await?);
    assert!(!tx.revoke_api_token(p.person.id, t.id, now()).await?);
    assert_eq!(
        tx.api_tokens_of(p.person.id).await?[0].revoked_at,
        Some(now())
    );
    tx.commit().await?;
    Ok(())
}

/// Rows, conflicts, rollback, membership, walls, sessions, paging, updates.
async fn round_trips_and_errors([store, _]: [Arc<dyn Store>; 2]) -> TestResult {
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
async fn concurrent_duplicates_conflict([a, b]: [Arc<dyn Store>; 2]) -> TestResult {
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

fn record(
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
async fn audit_order_is_total_and_gapless(nodes: [Arc<dyn Store>; 2]) -> TestResult {
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

/// Optional filters select the same entries on every backend.
async fn audit_filters([store, _]: [Arc<dyn Store>; 2]) -> TestResult {
    let someone = PersonId::new();
    let mut tx = store.begin().await?;
    let mine = record("a".into(), "matter:1".into(), Some(someone), Outcome::Deny);
    tx.append_audit(&mine).await?;
    tx.append_audit(&record("b".into(), "matter:1".into(), None, Outcome::Allow))
        .await?;
    tx.append_audit(&record("c".into(), "matter:2".into(), None, Outcome::Allow))
        .await?;
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
