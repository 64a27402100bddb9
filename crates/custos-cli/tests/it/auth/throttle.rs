//! Throttling, lockout, and answers that do not tell unknown users from wrong secrets.

use super::*;

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
    let early = f.login_now("lena.lawyer", &secret, "198.51.100.1").await;
    assert!(
        matches!(early, Err(AppError::Throttled { .. })),
        "{early:?}"
    );
    f.clock.advance(Duration::seconds(21));
    f.login_now("lena.lawyer", &secret, "198.51.100.1")
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
    f.login_now("lena.lawyer", &secret, "198.51.100.1")
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
    f.login_now("lena.lawyer", &secret, office).await.unwrap();
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
