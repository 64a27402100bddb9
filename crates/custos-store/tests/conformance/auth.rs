//! Sign-in records: sessions, factors, recovery codes, throttles, tokens.

use crate::*;
use std::sync::Arc;

/// Sessions with stages and idle time, second factors with atomic replay protection,
/// single-use recovery codes, failure counters, API tokens.
pub(crate) async fn auth_records([a, b]: [Arc<dyn Store>; 2]) -> TestResult {
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
