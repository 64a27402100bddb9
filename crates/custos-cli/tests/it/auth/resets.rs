//! Officer resets and expired passwords.

use super::*;

#[tokio::test]
async fn officer_reset_forces_a_new_password_and_factor_reset_forces_enrollment() {
    let f = firm().await;
    let (secret, token, _) = f.enroll("lena.lawyer").await;
    let lena = f.firm.people["lena.lawyer"];
    // A lawyer may not reset a colleague.
    let (_, lisa_token, _) = f.enroll("lisa.litlead").await;
    let lisa = f.caller(&lisa_token).await.unwrap();
    assert!(f.app.reset_password(&lisa, lena).await.is_err());

    let otp = f.app.reset_password(&f.officer, lena).await.unwrap();
    assert!(
        matches!(f.caller(&token).await, Err(AppError::Unauthenticated)),
        "sessions end"
    );
    f.clock.advance(Duration::seconds(30));
    let old = f.login_now("lena.lawyer", &secret, "198.51.100.1").await;
    assert!(matches!(old, Err(AppError::BadCredentials)));
    // The factor stays: the one-time password alone is not enough.
    let s = f
        .login(
            "lena.lawyer",
            &otp,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
        .await
        .unwrap();
    assert_eq!(
        (s.stage, s.required.clone()),
        (SessionStage::Setup, vec!["password_change"])
    );
    let setup = f.caller(&s.token).await.unwrap();
    f.app
        .change_password(
            &setup,
            otp,
            Zeroizing::new("marble orchard 🎻 quiet lantern".into()),
        )
        .await
        .unwrap();
    assert!(matches!(
        f.caller(&s.token).await.unwrap().via,
        Via::Session {
            stage: SessionStage::Full,
            ..
        }
    ));

    // Lost phone: the officer resets the factor; the next login must enroll again.
    f.app.reset_second_factor(&f.officer, lena).await.unwrap();
    assert!(matches!(
        f.caller(&s.token).await,
        Err(AppError::Unauthenticated)
    ));
    let again = f
        .login(
            "lena.lawyer",
            "marble orchard 🎻 quiet lantern",
            None,
            "198.51.100.1",
        )
        .await
        .unwrap();
    assert_eq!(again.required, vec!["totp_enrollment"]);
    let actions = f.audit_actions().await;
    assert!(actions.iter().any(|(a, _, _)| a == "auth.password_reset"));
    assert!(
        actions
            .iter()
            .any(|(a, _, _)| a == "auth.second_factor_reset")
    );
}

#[tokio::test]
async fn an_expired_password_must_be_changed_before_anything_else() {
    let f = firm_with(AppSettings {
        password_max_age: Some(Duration::days(90)),
        ..AppSettings::default()
    })
    .await;
    let (secret, _, _) = f.enroll("lena.lawyer").await;
    let m1 = f.firm.matters["M1"];
    let source = "198.51.100.7";

    // Day 89: the password is still good.
    f.clock.advance(Duration::days(89));
    let s = f.login_now("lena.lawyer", &secret, source).await.unwrap();
    assert_eq!((s.stage, s.required.len()), (SessionStage::Full, 0));

    // Day 91: the right password and code open only a setup session that must change it.
    f.clock.advance(Duration::days(2));
    let s = f.login_now("lena.lawyer", &secret, source).await.unwrap();
    assert_eq!(s.stage, SessionStage::Setup);
    assert_eq!(s.required, vec!["password_change"]);
    let caller = f.caller(&s.token).await.unwrap();
    let refused = f.app.get_matter(&caller, m1).await;
    assert!(
        matches!(refused, Err(AppError::SetupRequired(_))),
        "{refused:?}"
    );
    // The same password again is refused; a new one makes the session full in place.
    assert!(
        f.app
            .change_password(
                &caller,
                Zeroizing::new(DEMO_PASSWORD.into()),
                Zeroizing::new(DEMO_PASSWORD.into()),
            )
            .await
            .is_err()
    );
    let new_password = "lantern 🌻 harbour violin tractor";
    f.app
        .change_password(
            &caller,
            Zeroizing::new(DEMO_PASSWORD.into()),
            Zeroizing::new(new_password.into()),
        )
        .await
        .unwrap();
    let caller = f.caller(&s.token).await.unwrap();
    assert!(!matches!(
        f.app.get_matter(&caller, m1).await,
        Err(AppError::SetupRequired(_))
    ));
    // The next login with the new password is full again; the old password is gone.
    f.clock.advance(Duration::seconds(30));
    let s = f
        .login(
            "lena.lawyer",
            new_password,
            Some(f.code(&secret, 0)),
            source,
        )
        .await
        .unwrap();
    assert_eq!((s.stage, s.required.len()), (SessionStage::Full, 0));
    f.clock.advance(Duration::seconds(30));
    assert!(matches!(
        f.login_now("lena.lawyer", &secret, source).await,
        Err(AppError::BadCredentials)
    ));
}
