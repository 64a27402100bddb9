//! Authentication (R4, R20) against the use cases with a test clock: TOTP enrollment, replay
//! and drift, recovery codes, first login with a one-time password, password policy and change,
//! idle and absolute session expiry, suspension, API token expiry, brute-force throttling and
//! lockout, and login answers that do not tell unknown users from wrong passwords or codes.

mod factors;
mod resets;
mod sessions;
mod throttle;

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

pub(crate) struct Firm {
    app: App,
    store: Arc<SqliteStore>,
    clock: Arc<FixedClock>,
    firm: DemoFirm,
    officer: Caller,
    _dir: tempfile::TempDir,
}

pub(crate) async fn firm_with(settings: AppSettings) -> Firm {
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
        address: None,
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

pub(crate) async fn firm() -> Firm {
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

    /// Logs in with the demo password and the current TOTP code of `secret`.
    async fn login_now(
        &self,
        user: &str,
        secret: &[u8],
        source: &str,
    ) -> Result<custos_app::NewSession, AppError> {
        self.login(user, DEMO_PASSWORD, Some(self.code(secret, 0)), source)
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
