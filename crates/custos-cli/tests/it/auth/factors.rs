//! TOTP enrollment, replay and drift, recovery codes, first login with a one-time password.

use super::*;

#[tokio::test]
async fn setup_session_reaches_nothing_until_enrolled_then_totp_is_required() {
    let f = firm().await;
    let s = f
        .login("lena.lawyer", DEMO_PASSWORD, None, "198.51.100.1")
        .await
        .unwrap();
    assert_eq!(s.stage, SessionStage::Setup);
    let setup = f.caller(&s.token).await.unwrap();
    let m1 = f.firm.matters["M1"];
    let refused = f.app.get_matter(&setup, m1).await;
    assert!(
        matches!(refused, Err(AppError::SetupRequired(_))),
        "{refused:?}"
    );
    assert!(matches!(
        f.app
            .create_api_token(
                &setup,
                NewApiToken {
                    name: "x".into(),
                    scopes: vec!["read".into()],
                    days: 1
                }
            )
            .await,
        Err(AppError::SetupRequired(_))
    ));

    // A wrong enrollment code leaves the factor pending and the session in setup.
    let e = f.app.start_totp_enrollment(&setup).await.unwrap();
    let secret = totp::from_base32(&e.secret).unwrap();
    let wrong = f.app.confirm_totp(&setup, "000000").await;
    let right_code = f.code(&secret, 0);
    if right_code != "000000" {
        assert!(matches!(wrong, Err(AppError::BadInput(_))), "{wrong:?}");
    }
    f.app.confirm_totp(&setup, &right_code).await.unwrap();
    let full = f.caller(&s.token).await.unwrap();
    assert!(matches!(
        full.via,
        Via::Session {
            stage: SessionStage::Full,
            ..
        }
    ));
    f.app.get_matter(&full, m1).await.unwrap();

    // Enrolled: the password alone no longer logs in, nor does a second enrollment start.
    let no_code = f
        .login("lena.lawyer", DEMO_PASSWORD, None, "198.51.100.1")
        .await;
    assert!(
        matches!(no_code, Err(AppError::BadCredentials)),
        "{no_code:?}"
    );
    assert!(matches!(
        f.app.start_totp_enrollment(&full).await,
        Err(AppError::Conflict(_))
    ));

    // The secret is stored sealed: its bytes are not in the database.
    let db = std::fs::read(f._dir.path().join("c.db")).unwrap();
    let wal = std::fs::read(f._dir.path().join("c.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == &secret[..]),
            "TOTP secret in clear"
        );
        assert!(
            !bytes
                .windows(e.secret.len())
                .any(|w| w == e.secret.as_bytes())
        );
    }
}

#[tokio::test]
async fn totp_codes_work_once_with_one_step_of_drift() {
    let f = firm().await;
    let (secret, _, _) = f.enroll("lena.lawyer").await;
    // The enrollment used this step's code: the same code again is a replay.
    let replay = f.login_now("lena.lawyer", &secret, "198.51.100.1").await;
    assert!(
        matches!(replay, Err(AppError::BadCredentials)),
        "{replay:?}"
    );

    f.clock.advance(Duration::seconds(30));
    let code = f.code(&secret, 0);
    let ok = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(code.clone()),
            "198.51.100.1",
        )
        .await
        .unwrap();
    assert_eq!(ok.stage, SessionStage::Full);
    let again = f
        .login("lena.lawyer", DEMO_PASSWORD, Some(code), "198.51.100.1")
        .await;
    assert!(
        matches!(again, Err(AppError::BadCredentials)),
        "replay within the window: {again:?}"
    );

    // One step behind (a slow phone) and one ahead (a fast one) are accepted.
    f.clock.advance(Duration::seconds(90));
    f.login(
        "lena.lawyer",
        DEMO_PASSWORD,
        Some(f.code(&secret, -1)),
        "198.51.100.1",
    )
    .await
    .unwrap();
    f.clock.advance(Duration::seconds(90));
    f.login(
        "lena.lawyer",
        DEMO_PASSWORD,
        Some(f.code(&secret, 1)),
        "198.51.100.1",
    )
    .await
    .unwrap();
    // Two steps either way are refused.
    f.clock.advance(Duration::seconds(300));
    for off in [-2, 2] {
        let c = f.code(&secret, off);
        if (-1..=1).all(|near| f.code(&secret, near) != c) {
            let far = f
                .login("lena.lawyer", DEMO_PASSWORD, Some(c), "198.51.100.1")
                .await;
            assert!(
                matches!(far, Err(AppError::BadCredentials)),
                "drift {off}: {far:?}"
            );
        }
    }
    let actions = f.audit_actions().await;
    assert!(
        actions
            .iter()
            .any(|(a, r, _)| a == "auth.login" && r == "auth.totp_replay")
    );
    assert!(actions.iter().any(|(a, _, _)| a == "auth.totp_enroll"));
    // No password in the audit log.
    let all = serde_json::to_string(&actions).unwrap();
    assert!(!all.contains(DEMO_PASSWORD));
}

#[tokio::test]
async fn recovery_codes_log_in_once_each() {
    let f = firm().await;
    let (_, _, codes) = f.enroll("lena.lawyer").await;
    let s = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(codes[3].to_uppercase()),
            "198.51.100.1",
        )
        .await
        .unwrap();
    assert_eq!(s.recovery_codes_left, Some(9));
    let reused = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(codes[3].clone()),
            "198.51.100.1",
        )
        .await;
    assert!(
        matches!(reused, Err(AppError::BadCredentials)),
        "{reused:?}"
    );
    // Another person's code does not work for lena.
    let (_, _, other_codes) = f.enroll("lisa.litlead").await;
    let foreign = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(other_codes[0].clone()),
            "198.51.100.1",
        )
        .await;
    assert!(matches!(foreign, Err(AppError::BadCredentials)));
    let actions = f.audit_actions().await;
    assert!(
        actions
            .iter()
            .any(|(a, _, d)| a == "auth.login" && d["second_factor"] == "recovery_code")
    );
    let all = serde_json::to_string(&actions).unwrap();
    assert!(!all.contains(&codes[3]), "a recovery code in the audit log");
}

#[tokio::test]
async fn one_time_password_forces_change_and_enrollment() {
    let f = firm().await;
    let (person, otp) = f
        .app
        .create_person(
            &f.officer,
            NewPerson {
                user_name: "nina.new".into(),
                display_name: "Nina New".into(),
                role: Role::Lawyer,
            },
        )
        .await
        .unwrap();
    let s = f
        .login("nina.new", &otp, None, "198.51.100.7")
        .await
        .unwrap();
    assert_eq!(
        (s.stage, s.required.clone()),
        (
            SessionStage::Setup,
            vec!["password_change", "totp_enrollment"]
        )
    );
    let setup = f.caller(&s.token).await.unwrap();
    let e = f.app.start_totp_enrollment(&setup).await.unwrap();
    let secret = totp::from_base32(&e.secret).unwrap();
    f.app
        .confirm_totp(&setup, &f.code(&secret, 0))
        .await
        .unwrap();
    // Still setup: the one-time password is not changed yet.
    let still = f.caller(&s.token).await.unwrap();
    assert!(matches!(
        still.via,
        Via::Session {
            stage: SessionStage::Setup,
            ..
        }
    ));

    // The policy refuses weak, common, padded-common and name-bearing passwords with a reason.
    for (weak, why) in [
        ("short", "at least 12"),
        ("password1234", "commonly used"),
        ("Summer2024!!", "commonly used"),
        ("P@ssw0rd2024!", ""),
        ("nina.new-is-my-name", "user name"),
        ("hartmann & vogel rocks", "firm"),
        ("abcabcabcabcabc", "too easy"),
    ] {
        let r = f
            .app
            .change_password(&still, otp.clone(), Zeroizing::new(weak.into()))
            .await;
        match r {
            Err(AppError::BadInput(m)) => assert!(m.contains(why), "{weak}: {m}"),
            other => panic!("{weak} accepted: {other:?}"),
        }
    }
    // The old one is needed.
    let strong = "🦊 狐狸跳过了懒狗 Kaffee am Flussufer 🍵";
    let r = f
        .app
        .change_password(
            &still,
            Zeroizing::new("not-the-otp".into()),
            Zeroizing::new(strong.into()),
        )
        .await;
    assert!(matches!(r, Err(AppError::BadCredentials)), "{r:?}");
    f.app
        .change_password(&still, otp.clone(), Zeroizing::new(strong.into()))
        .await
        .unwrap();
    let full = f.caller(&s.token).await.unwrap();
    assert!(matches!(
        full.via,
        Via::Session {
            stage: SessionStage::Full,
            ..
        }
    ));
    assert_eq!(
        f.app.get_person(&full, person.id).await.unwrap().id,
        person.id
    );

    // The new passphrase logs in as typed in another Unicode form (NFKC): full-width Latin.
    f.clock.advance(Duration::seconds(30));
    let wide = strong.replace("Kaffee", "Ｋａｆｆｅｅ");
    f.login("nina.new", &wide, Some(f.code(&secret, 0)), "198.51.100.7")
        .await
        .unwrap();
    let old = f
        .login("nina.new", &otp, Some(f.code(&secret, 1)), "198.51.100.7")
        .await;
    assert!(matches!(old, Err(AppError::BadCredentials)));
}
