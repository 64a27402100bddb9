//! Authentication (R4, R20) against the use cases with a test clock: TOTP enrollment, replay
//! and drift, recovery codes, first login with a one-time password, password policy and change,
//! idle and absolute session expiry, suspension, API token expiry, brute-force throttling and
//! lockout, and login answers that do not tell unknown users from wrong passwords or codes.

use custos_app::{
    App, AppError, AppSettings, Caller, DEMO_PASSWORD, DemoFirm, LoginRequest, NewApiToken,
    NewPerson, SessionKind, SessionStage, ThrottlePolicy, Via, seed_demo_firm,
};
use custos_crypto::totp;
use custos_domain::{FixedClock, PersonStatus, RequestId, Role};
use custos_store::{AuditFilter, LocalBlobStore, SqliteStore, Store};
use std::sync::Arc;
use std::time::Instant;
use time::Duration;
use zeroize::Zeroizing;

struct Firm {
    app: App,
    store: Arc<SqliteStore>,
    clock: Arc<FixedClock>,
    firm: DemoFirm,
    officer: Caller,
    _dir: tempfile::TempDir,
}

async fn firm_with(settings: AppSettings) -> Firm {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("c.db"), true)
            .await
            .unwrap(),
    );
    let blobs = Arc::new(LocalBlobStore::open(&dir.path().join("blobs")).unwrap());
    // A time in the middle of a TOTP step.
    let clock = Arc::new(FixedClock::new(
        time::OffsetDateTime::from_unix_timestamp(1_800_000_015).unwrap(),
    ));
    let app = App::new(
        store.clone(),
        blobs,
        custos_crypto::Kek::generate().unwrap(),
        clock.clone(),
        settings,
    )
    .unwrap();
    let (officer, otp) = app
        .bootstrap_officer("olivia.officer", "Olivia Officer")
        .await
        .unwrap();
    let firm = seed_demo_firm(&app, officer.id, otp).await.unwrap();
    let officer = Caller {
        person: officer.id,
        request_id: RequestId::new(),
        via: Via::Internal,
    };
    Firm {
        app,
        store,
        clock,
        firm,
        officer,
        _dir: dir,
    }
}

async fn firm() -> Firm {
    firm_with(AppSettings {
        firm_name: "Hartmann & Vogel".to_owned(),
        ..AppSettings::default()
    })
    .await
}

impl Firm {
    fn unix(&self) -> u64 {
        use custos_domain::Clock;
        u64::try_from(self.clock.now().unix_timestamp()).unwrap()
    }

    fn code(&self, secret: &[u8], steps_from_now: i64) -> String {
        let step = totp::step_of(self.unix()) as i64 + steps_from_now;
        totp::code_at(secret, u64::try_from(step).unwrap() * 30, 6)
    }

    async fn login(
        &self,
        user: &str,
        password: &str,
        code: Option<String>,
        source: &str,
    ) -> Result<custos_app::NewSession, AppError> {
        self.app
            .login(
                RequestId::new(),
                LoginRequest {
                    user_name: user.to_owned(),
                    password: Zeroizing::new(password.to_owned()),
                    code: code.map(Zeroizing::new),
                    source: source.to_owned(),
                    kind: SessionKind::Bearer,
                },
            )
            .await
    }

    async fn caller(&self, token: &str) -> Result<Caller, AppError> {
        self.app
            .authenticate(RequestId::new(), token, SessionKind::Bearer)
            .await
    }

    /// First login and TOTP enrollment of a demo person; returns the secret and the session.
    async fn enroll(&self, user: &str) -> (Vec<u8>, String, Vec<String>) {
        let s = self
            .login(user, DEMO_PASSWORD, None, "198.51.100.1")
            .await
            .unwrap();
        assert_eq!(s.stage, SessionStage::Setup);
        assert_eq!(s.required, vec!["totp_enrollment"]);
        let caller = self.caller(&s.token).await.unwrap();
        let e = self.app.start_totp_enrollment(&caller).await.unwrap();
        assert!(e.qr_svg.starts_with("<?xml") && e.qr_svg.contains("<svg"));
        assert!(
            e.otpauth_uri
                .contains(&format!("secret={}", e.secret.as_str()))
        );
        let secret = totp::from_base32(&e.secret).unwrap().to_vec();
        let codes = self
            .app
            .confirm_totp(&caller, &self.code(&secret, 0))
            .await
            .unwrap();
        assert_eq!(codes.len(), 10);
        (
            secret,
            s.token.to_string(),
            codes.iter().map(|c| c.to_string()).collect(),
        )
    }

    async fn audit_actions(&self) -> Vec<(String, String, serde_json::Value)> {
        let mut tx = self.store.begin().await.unwrap();
        let entries = tx
            .audit_entries(&AuditFilter::default(), 0, 100_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        entries
            .into_iter()
            .map(|e| {
                let rule = e
                    .record
                    .reasons
                    .first()
                    .map(|r| r.rule.clone())
                    .unwrap_or_default();
                (e.record.action, rule, e.record.detail)
            })
            .collect()
    }
}

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
    let replay = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
        .await;
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

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let f = firm().await;
    let (secret, first, _) = f.enroll("lena.lawyer").await;
    f.clock.advance(Duration::seconds(30));
    let second = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.2",
        )
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
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
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
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(30));
    let b = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
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
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&totp_secret, 0)),
            "198.51.100.1",
        )
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

#[tokio::test]
async fn brute_force_is_throttled_and_the_owner_gets_back_in() {
    let f = firm().await;
    let (secret, _, _) = f.enroll("lena.lawyer").await;
    let (mut checked, mut throttled) = (0, 0);
    for i in 0..1000 {
        match f
            .login(
                "lena.lawyer",
                &format!("guess number {i}"),
                Some("123456".into()),
                "203.0.113.66",
            )
            .await
        {
            Err(AppError::BadCredentials) => checked += 1,
            Err(AppError::Throttled { retry_after_secs }) => {
                assert!(retry_after_secs >= 1);
                throttled += 1;
            }
            other => panic!("attempt {i}: {other:?}"),
        }
    }
    // Five guesses were checked; the account is then locked and the rest refused unchecked.
    assert_eq!((checked, throttled), (5, 995));
    let locked = f.app.lockouts(&f.officer).await.unwrap();
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0].user_name, "lena.lawyer");

    // The owner, from another address, waits out the lock (30 s after 5 failures).
    f.clock.advance(Duration::seconds(10));
    let early = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
        .await;
    assert!(
        matches!(early, Err(AppError::Throttled { .. })),
        "{early:?}"
    );
    f.clock.advance(Duration::seconds(21));
    f.login(
        "lena.lawyer",
        DEMO_PASSWORD,
        Some(f.code(&secret, 0)),
        "198.51.100.1",
    )
    .await
    .unwrap();
    assert!(
        f.app.lockouts(&f.officer).await.unwrap().is_empty(),
        "a success clears the lock"
    );

    // Each further failure doubles the lock; the officer can unlock at once.
    for _ in 0..7 {
        let _ = f
            .login("lena.lawyer", "wrong again", None, "203.0.113.66")
            .await;
        f.clock.advance(Duration::minutes(16));
    }
    for _ in 0..6 {
        let _ = f
            .login("lena.lawyer", "wrong again", None, "203.0.113.67")
            .await;
    }
    let lock = f.app.lockouts(&f.officer).await.unwrap();
    assert_eq!(lock.len(), 1);
    f.app
        .unlock(&f.officer, f.firm.people["lena.lawyer"])
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(30));
    f.login(
        "lena.lawyer",
        DEMO_PASSWORD,
        Some(f.code(&secret, 0)),
        "198.51.100.1",
    )
    .await
    .unwrap();

    // An address spraying many names is throttled on its own (20 failures).
    let mut spray_throttled = false;
    for i in 0..40 {
        if let Err(AppError::Throttled { .. }) = f
            .login(&format!("nobody.{i}"), "whatever", None, "203.0.113.99")
            .await
        {
            spray_throttled = true;
            assert!(i >= 20, "throttled after {i} names");
            break;
        }
    }
    assert!(spray_throttled);
    let actions = f.audit_actions().await;
    assert!(actions.iter().any(|(a, _, _)| a == "auth.lockout"));
    assert!(actions.iter().any(|(a, _, _)| a == "auth.unlock"));
    let all = serde_json::to_string(&actions).unwrap();
    assert!(
        !all.contains("guess number") && !all.contains("nobody."),
        "secrets or typed names in the audit log"
    );
}

/// Median of the durations, in microseconds.
fn median(mut v: Vec<u128>) -> u128 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_wrong_password_and_wrong_code_look_the_same() {
    let f = firm_with(AppSettings {
        throttle: ThrottlePolicy {
            account_free: 10_000,
            address_free: 10_000,
            ..ThrottlePolicy::default()
        },
        ..AppSettings::default()
    })
    .await;
    let (secret, _, _) = f.enroll("lena.lawyer").await;
    let wrong_code = {
        let good: Vec<String> = (-1..=1).map(|o| f.code(&secret, o)).collect();
        (0..1000)
            .map(|n| format!("{n:06}"))
            .find(|c| !good.contains(c))
            .unwrap()
    };
    let cases: [(&str, &str, Option<String>); 3] = [
        ("nobody.here", DEMO_PASSWORD, Some(wrong_code.clone())),
        (
            "lena.lawyer",
            "a wrong password entirely",
            Some(wrong_code.clone()),
        ),
        ("lena.lawyer", DEMO_PASSWORD, Some(wrong_code.clone())),
    ];
    let mut times: [Vec<u128>; 3] = Default::default();
    // Interleaved rounds, so drift in machine load hits every case alike.
    for round in 0..25 {
        for (i, (user, pw, code)) in cases.iter().enumerate() {
            let t = Instant::now();
            let r = f
                .login(user, pw, code.clone(), &format!("192.0.2.{}", round % 200))
                .await;
            let took = t.elapsed().as_micros();
            assert!(
                matches!(r, Err(AppError::BadCredentials)),
                "case {i}: {r:?}"
            );
            if round >= 3 {
                times[i].push(took);
            }
        }
    }
    let medians: Vec<u128> = times.iter().cloned().map(median).collect();
    eprintln!("median login times (unknown user, wrong password, wrong code): {medians:?} µs");
    let (lo, hi) = (
        *medians.iter().min().unwrap(),
        *medians.iter().max().unwrap(),
    );
    // Each answer costs one Argon2id verification; the rest is small beside it. Generous margin.
    assert!(
        hi * 100 <= lo * 150,
        "median login times differ too much: {medians:?} µs"
    );
}

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
    let old = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            "198.51.100.1",
        )
        .await;
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
    let s = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            source,
        )
        .await
        .unwrap();
    assert_eq!((s.stage, s.required.len()), (SessionStage::Full, 0));

    // Day 91: the right password and code open only a setup session that must change it.
    f.clock.advance(Duration::days(2));
    let s = f
        .login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            source,
        )
        .await
        .unwrap();
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
        f.login(
            "lena.lawyer",
            DEMO_PASSWORD,
            Some(f.code(&secret, 0)),
            source
        )
        .await,
        Err(AppError::BadCredentials)
    ));
}

/// Security review item 7: the per-address throttle used to count every failure for ever, so
/// that from the 20th typo in the life of the database one office behind one address was locked
/// out. Counters now decay, a success from an address counts for it, and the officer sees and
/// clears address locks.
#[tokio::test]
async fn address_locks_decay_forgive_successes_and_the_officer_clears_them() {
    let f = firm_with(AppSettings {
        throttle: ThrottlePolicy {
            address_free: 3,
            ..ThrottlePolicy::default()
        },
        ..AppSettings::default()
    })
    .await;
    let (secret, _, _) = f.enroll("lena.lawyer").await;
    let office = "192.0.2.77";
    let typo = |user: &'static str| {
        let f = &f;
        async move { f.login(user, "not the password", None, office).await }
    };
    // Two typos a day for months never lock the office: each day starts again.
    for _ in 0..30 {
        for user in ["omar.lawyer", "sam.screened"] {
            assert!(matches!(typo(user).await, Err(AppError::BadCredentials)));
        }
        f.clock.advance(Duration::hours(2));
    }
    // A colleague's success counts for the address.
    for user in ["omar.lawyer", "sam.screened"] {
        assert!(matches!(typo(user).await, Err(AppError::BadCredentials)));
    }
    f.login(
        "lena.lawyer",
        DEMO_PASSWORD,
        Some(f.code(&secret, 0)),
        office,
    )
    .await
    .unwrap();
    for user in ["omar.lawyer", "sam.screened"] {
        assert!(matches!(typo(user).await, Err(AppError::BadCredentials)));
    }
    // A real burst still locks the address, and the officer sees and clears it.
    assert!(matches!(
        typo("ivan.intern").await,
        Err(AppError::BadCredentials)
    ));
    assert!(matches!(
        typo("ivan.intern").await,
        Err(AppError::Throttled { .. })
    ));
    let locks = f.app.address_locks(&f.officer).await.unwrap();
    assert_eq!(locks.len(), 1);
    assert_eq!((locks[0].address.as_str(), locks[0].failures), (office, 3));
    assert!(f.app.unlock_address(&f.officer, office).await.unwrap());
    assert!(f.app.address_locks(&f.officer).await.unwrap().is_empty());
    assert!(matches!(
        typo("ivan.intern").await,
        Err(AppError::BadCredentials)
    ));
    // Only the officer.
    let (_, token, _) = f.enroll("lisa.litlead").await;
    let lisa = f.caller(&token).await.unwrap();
    assert!(f.app.address_locks(&lisa).await.is_err());
    assert!(f.app.unlock_address(&lisa, office).await.is_err());
}
