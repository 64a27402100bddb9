//! Password change, session expiry and suspension, API tokens.

use super::*;

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let f = firm().await;
    let (secret, first, _) = f.enroll("lena.lawyer").await;
    f.clock.advance(Duration::seconds(30));
    let second = f
        .login_now("lena.lawyer", &secret, "198.51.100.2")
        .await
        .unwrap();
    let caller = f.caller(&second.token).await.unwrap();
    assert_eq!(f.app.my_sessions(&caller).await.unwrap().len(), 2);
    f.app
        .change_password(
            &caller,
            Zeroizing::new(DEMO_PASSWORD.into()),
            Zeroizing::new("violin tractor 🌻 harbour lantern".into()),
        )
        .await
        .unwrap();
    assert!(matches!(
        f.caller(&first).await,
        Err(AppError::Unauthenticated)
    ));
    f.caller(&second.token).await.unwrap();
    let actions = f.audit_actions().await;
    let change = actions
        .iter()
        .find(|(a, _, _)| a == "auth.password_change")
        .unwrap();
    assert_eq!(change.2["other_sessions_ended"], 1);
}

#[tokio::test]
async fn sessions_end_when_idle_or_old_and_on_suspension() {
    let f = firm().await;
    let (secret, token, _) = f.enroll("lena.lawyer").await;
    // Idle: used every 29 minutes it lives on; 30 minutes unused ends it.
    for _ in 0..3 {
        f.clock.advance(Duration::minutes(29));
        f.caller(&token).await.unwrap();
    }
    f.clock.advance(Duration::minutes(30));
    assert!(
        matches!(f.caller(&token).await, Err(AppError::Unauthenticated)),
        "idle timeout"
    );

    // Absolute: 12 hours after login even a busy session ends.
    let s = f
        .login_now("lena.lawyer", &secret, "198.51.100.1")
        .await
        .unwrap();
    for _ in 0..(12 * 60 / 20 - 1) {
        f.clock.advance(Duration::minutes(20));
        f.caller(&s.token).await.unwrap();
    }
    f.clock.advance(Duration::minutes(20));
    assert!(
        matches!(f.caller(&s.token).await, Err(AppError::Unauthenticated)),
        "absolute timeout"
    );

    // Revoked by the owner, then suspension ends every session and API token at once.
    let a = f
        .login_now("lena.lawyer", &secret, "198.51.100.1")
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(30));
    let b = f
        .login_now("lena.lawyer", &secret, "198.51.100.1")
        .await
        .unwrap();
    let ca = f.caller(&a.token).await.unwrap();
    f.app.revoke_my_session(&ca, b.id).await.unwrap();
    assert!(matches!(
        f.caller(&b.token).await,
        Err(AppError::Unauthenticated)
    ));
    let (_, api) = f
        .app
        .create_api_token(
            &ca,
            NewApiToken {
                name: "sync".into(),
                scopes: vec!["read".into()],
                days: 30,
            },
        )
        .await
        .unwrap();
    f.caller(&api).await.unwrap();
    let lena = f.firm.people["lena.lawyer"];
    f.app
        .set_person_status(&f.officer, lena, PersonStatus::Suspended)
        .await
        .unwrap();
    assert!(matches!(
        f.caller(&a.token).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(matches!(
        f.caller(&api).await,
        Err(AppError::Unauthenticated)
    ));
    f.app
        .set_person_status(&f.officer, lena, PersonStatus::Active)
        .await
        .unwrap();
    assert!(
        matches!(f.caller(&a.token).await, Err(AppError::Unauthenticated)),
        "sessions stay ended"
    );
}

#[tokio::test]
async fn api_tokens_expire_and_are_revocable() {
    let f = firm().await;
    let (totp_secret, token, _) = f.enroll("lena.lawyer").await;
    let c = f.caller(&token).await.unwrap();
    let bad = f
        .app
        .create_api_token(
            &c,
            NewApiToken {
                name: "x".into(),
                scopes: vec!["admin".into()],
                days: 1,
            },
        )
        .await;
    assert!(matches!(bad, Err(AppError::BadInput(_))));
    let too_long = f
        .app
        .create_api_token(
            &c,
            NewApiToken {
                name: "x".into(),
                scopes: vec!["read".into()],
                days: 366,
            },
        )
        .await;
    assert!(matches!(too_long, Err(AppError::BadInput(_))));
    let (view, secret) = f
        .app
        .create_api_token(
            &c,
            NewApiToken {
                name: "sync".into(),
                scopes: vec!["read".into(), "write".into()],
                days: 1,
            },
        )
        .await
        .unwrap();
    assert!(secret.starts_with("cst_"));
    let via_token = f.caller(&secret).await.unwrap();
    // Only as a bearer token; never from a cookie.
    assert!(
        f.app
            .authenticate(RequestId::new(), &secret, SessionKind::Cookie)
            .await
            .is_err()
    );
    // A token cannot mint tokens or change the password.
    assert!(matches!(
        f.app
            .create_api_token(
                &via_token,
                NewApiToken {
                    name: "y".into(),
                    scopes: vec!["read".into()],
                    days: 1
                }
            )
            .await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        f.app
            .change_password(
                &via_token,
                Zeroizing::new(DEMO_PASSWORD.into()),
                Zeroizing::new("x".into())
            )
            .await,
        Err(AppError::Forbidden { .. })
    ));
    f.clock.advance(Duration::days(1));
    assert!(
        matches!(f.caller(&secret).await, Err(AppError::Unauthenticated)),
        "expired"
    );
    // The day also ended the session: log in again to revoke a second token.
    let s = f
        .login_now("lena.lawyer", &totp_secret, "198.51.100.1")
        .await
        .unwrap();
    let owner = f.caller(&s.token).await.unwrap();
    let (view2, secret2) = f
        .app
        .create_api_token(
            &owner,
            NewApiToken {
                name: "two".into(),
                scopes: vec!["read".into()],
                days: 5,
            },
        )
        .await
        .unwrap();
    f.caller(&secret2).await.unwrap();
    f.app.revoke_api_token(&owner, view2.id).await.unwrap();
    assert!(
        matches!(f.caller(&secret2).await, Err(AppError::Unauthenticated)),
        "revoked"
    );
    let list = f.app.my_api_tokens(&owner).await.unwrap();
    assert!(list.iter().any(|t| t.id == view.id && !t.revoked));
    assert!(list.iter().any(|t| t.id == view2.id && t.revoked));
    let actions = f.audit_actions().await;
    assert!(actions.iter().any(|(a, _, _)| a == "auth.token_create"));
    assert!(
        !serde_json::to_string(&actions)
            .unwrap()
            .contains(secret.as_str())
    );
}
