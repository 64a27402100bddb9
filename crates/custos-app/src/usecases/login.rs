//! Logging in: one answer checks the user name, the password and (once enrolled) the second
//! factor: unknown user, wrong password and wrong code give the same error after the same work
//! (one Argon2id verification). Failures are counted per account and per source address; a key
//! over its allowance is refused for an exponentially growing time (see [`ThrottlePolicy`]).
//! A person without an active second factor, or with a one-time or expired password, gets a
//! setup session that can only change the password and enroll a factor.
//!
//! [`ThrottlePolicy`]: crate::ThrottlePolicy

use crate::{App, AppError, AuditEvent, Tx};
use custos_audit::Outcome;
use custos_domain::{Person, PersonId, RequestId, UserName};
use custos_domain::{SessionKind, SessionStage};
use custos_store::{PersonRow, SessionRow};
use zeroize::Zeroizing;

/// What a login presents (its `Debug` shows only the source and kind).
pub struct LoginRequest {
    /// Login name as typed.
    pub user_name: String,
    /// Password as typed.
    pub password: Zeroizing<String>,
    /// Six-digit TOTP code or a recovery code (required once a factor is enrolled).
    pub code: Option<Zeroizing<String>>,
    /// Client address (throttling and audit).
    pub source: String,
    /// How the token will travel.
    pub kind: SessionKind,
}

/// A session just opened; the token is shown once and stored only as a hash (its `Debug`
/// leaves the token out).
pub struct NewSession {
    /// Token (256 bits, hex).
    pub token: Zeroizing<String>,
    /// Public id.
    pub id: uuid::Uuid,
    /// Absolute expiry.
    pub expires_at: time::OffsetDateTime,
    /// Who logged in.
    pub person: Person,
    /// Setup or full.
    pub stage: SessionStage,
    /// What remains to do before the session is full (`password_change`, `totp_enrollment`).
    pub required: Vec<&'static str>,
    /// Recovery codes left, when one was just used.
    pub recovery_codes_left: Option<u64>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The typed user name is left out too: people type passwords into that field.
        f.debug_struct("LoginRequest")
            .field("source", &self.source)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &self.id)
            .field("person", &self.person.id)
            .field("stage", &self.stage)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The throttle key of an account: existing people by id, other names by a hash (a name typed
/// by mistake may be a password; it is never stored). Both behave the same.
pub(crate) fn account_key(row: Option<&PersonRow>, typed: &str) -> String {
    match row {
        Some(r) => format!("person:{}", r.person.id),
        None => {
            let h =
                custos_crypto::token_hash(&format!("login-name:{}", typed.trim().to_lowercase()));
            format!("name:{}", hex::encode(&h[..16]))
        }
    }
}

fn address_key(source: &str) -> String {
    format!("addr:{source}")
}

pub(crate) fn throttled(until: time::OffsetDateTime, now: time::OffsetDateTime) -> AppError {
    AppError::Throttled {
        retry_after_secs: u64::try_from((until - now).whole_seconds().max(1)).unwrap_or(1),
    }
}

impl App {
    fn cached_address_lock(
        &self,
        addr: &str,
        now: time::OffsetDateTime,
    ) -> Option<time::OffsetDateTime> {
        let locks = self
            .address_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.get(addr).copied().filter(|until| *until > now)
    }

    pub(crate) fn forget_address_lock(&self, addr: &str) {
        self.address_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(addr);
    }

    fn cache_address_lock(&self, addr: &str, until: time::OffsetDateTime) {
        let now = self.now();
        let mut locks = self
            .address_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if locks.len() >= 10_000 {
            locks.retain(|_, u| *u > now);
        }
        if locks.len() < 10_000 {
            locks.insert(addr.to_owned(), until);
        }
    }
}

/// How the second factor was proven at login.
enum Proven {
    NotEnrolled,
    Totp,
    RecoveryCode(u64),
}

/// Why a login failed: the audited rule and message (never shown to the caller).
type Failure = (&'static str, &'static str);

const WRONG_PASSWORD: Failure = (
    crate::vocabulary::RULE_AUTH_PASSWORD,
    "wrong user name or password",
);
const WRONG_CODE: Failure = (
    crate::vocabulary::RULE_AUTH_SECOND_FACTOR,
    "wrong second-factor code",
);

impl App {
    /// Checks user name, password and second factor and opens a session.
    pub async fn login(
        &self,
        request_id: RequestId,
        req: LoginRequest,
    ) -> Result<NewSession, AppError> {
        let now = self.now();
        let addr = address_key(&req.source);
        if let Some(until) = self.cached_address_lock(&addr, now) {
            return Err(throttled(until, now));
        }
        let name = UserName::parse(&req.user_name).ok();
        let mut tx = self.store.begin().await?;
        let row = match &name {
            Some(n) => tx.person_by_user_name(n.as_str()).await?,
            None => None,
        };
        let acct = account_key(row.as_ref(), &req.user_name);
        let mut locked_until = None;
        for key in [&acct, &addr] {
            if let Some(t) = tx.throttle(key).await?
                && t.locked_until > now
            {
                locked_until = locked_until.max(Some(t.locked_until));
                if key == &addr {
                    self.cache_address_lock(&addr, t.locked_until);
                }
            }
        }
        tx.commit().await?;
        if let Some(until) = locked_until {
            tracing::warn!(source = %req.source, "login refused: throttled");
            return Err(throttled(until, now));
        }

        let password_ok = self
            .passwords
            .verify(req.password, row.as_ref().map(|r| r.password_hash.clone()))
            .await?;
        let mut tx = self.store.begin().await?;
        let active = row
            .as_ref()
            .is_some_and(|r| custos_policy::may_act(r.person.status));
        let outcome = match row {
            Some(r) if password_ok && active => {
                let code = req.code.as_ref().map(|c| c.as_str());
                match self.check_second_factor(&mut tx, r.person.id, code).await? {
                    Ok(proven) => Ok((r, proven)),
                    Err(failure) => Err((Some(r), failure)),
                }
            }
            Some(r) if password_ok => Err((
                Some(r),
                (
                    custos_policy::Rule::Status.code(),
                    "account is suspended or departed",
                ),
            )),
            other => Err((other, WRONG_PASSWORD)),
        };
        let (row, factor) = match outcome {
            Ok(ok) => ok,
            Err((row, (rule, message))) => {
                let attempted = match &row {
                    Some(r) => format!("person:{}", r.person.id),
                    None => "person:unknown".to_owned(),
                };
                self.record_failure(
                    &mut tx,
                    request_id,
                    &acct,
                    Some(&addr),
                    &req.source,
                    attempted,
                    rule,
                    message,
                )
                .await?;
                tx.commit().await?;
                return Err(AppError::BadCredentials);
            }
        };

        // A success counts for its address too: colleagues behind the same address are not
        // locked out by the typos of others (the account counters still bound guessing).
        tx.clear_throttle(&acct).await?;
        tx.clear_throttle(&addr).await?;
        let expired = self
            .settings
            .password_max_age
            .is_some_and(|max| row.password_changed_at + max <= now);
        let mut required = Vec::new();
        if row.must_change_password || expired {
            required.push("password_change");
        }
        if matches!(factor, Proven::NotEnrolled) {
            required.push("totp_enrollment");
        }
        let stage = if required.is_empty() {
            SessionStage::Full
        } else {
            SessionStage::Setup
        };
        let token = custos_crypto::random_token()?;
        let lifetime = match stage {
            SessionStage::Full => self.settings.session_lifetime,
            SessionStage::Setup => self.settings.setup_session_lifetime,
        };
        let session = SessionRow {
            id: uuid::Uuid::new_v4(),
            token_hash: custos_crypto::token_hash(&token),
            person: row.person.id,
            stage,
            kind: req.kind,
            source: req.source.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
        };
        tx.insert_session(&session).await?;
        let (method, left) = match factor {
            Proven::Totp => ("totp", None),
            Proven::RecoveryCode(left) => ("recovery_code", Some(left)),
            Proven::NotEnrolled => ("none_enrolled", None),
        };
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id,
                actor: Some(row.person.id),
                action: crate::vocabulary::ACTION_AUTH_LOGIN,
                resource: format!("person:{}", row.person.id),
                outcome: Outcome::Allow,
                rule: crate::vocabulary::RULE_AUTH_PASSWORD,
                message: format!(
                    "password and second factor verified; {} session opened",
                    stage.as_str()
                ),
                detail: serde_json::json!({
                    "session": session.id,
                    "second_factor": method,
                    "stage": stage.as_str(),
                    "kind": req.kind.as_str(),
                    "source": req.source,
                    "required": required,
                    "recovery_codes_left": left,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            id: session.id,
            expires_at: session.expires_at,
            person: row.person,
            stage,
            required,
            recovery_codes_left: left,
        })
    }

    /// Verifies the second factor of a person whose password was right. A used TOTP step (or
    /// any earlier one) is refused: a code works once.
    async fn check_second_factor(
        &self,
        tx: &mut Tx,
        person: PersonId,
        code: Option<&str>,
    ) -> Result<Result<Proven, Failure>, AppError> {
        let factors = tx.factors_of(person).await?;
        let Some(factor) = factors.iter().find(|f| f.active && f.kind == "totp") else {
            return Ok(Ok(Proven::NotEnrolled));
        };
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(Err((
                crate::vocabulary::RULE_AUTH_SECOND_FACTOR,
                "second factor missing",
            )));
        };
        if code.len() == custos_crypto::totp::DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            let secret = self
                .kek
                .open_account_secret(&format!("totp:{}", factor.id), &factor.sealed_secret)?;
            let unix = u64::try_from(self.now().unix_timestamp()).unwrap_or(0);
            let Some(step) = custos_crypto::totp::matching_step(&secret, code, unix) else {
                return Ok(Err(WRONG_CODE));
            };
            let step = i64::try_from(step).map_err(|e| AppError::Internal(e.to_string()))?;
            if !tx.advance_factor_step(factor.id, step).await? {
                return Ok(Err((
                    "auth.totp_replay",
                    "second-factor code already used (replay refused)",
                )));
            }
            return Ok(Ok(Proven::Totp));
        }
        let hash = crate::usecases::factors::recovery_code_hash(code);
        if tx.use_recovery_code(person, &hash, self.now()).await? {
            let left = tx.unused_recovery_codes(person).await?;
            return Ok(Ok(Proven::RecoveryCode(left)));
        }
        Ok(Err(WRONG_CODE))
    }

    /// Counts a failed login against the account and (for a login) the source address, locks
    /// them when over their allowance, and audits both (without the password or code).
    #[allow(
        clippy::too_many_arguments,
        reason = "the audited facts of one failed login; a struct would only rename them"
    )]
    pub(crate) async fn record_failure(
        &self,
        tx: &mut Tx,
        request_id: RequestId,
        acct: &str,
        addr: Option<&str>,
        source: &str,
        attempted: String,
        rule: &str,
        message: &str,
    ) -> Result<(), AppError> {
        let now = self.now();
        let p = self.settings.throttle;
        let mut locks = Vec::new();
        let keys = [
            Some((acct, p.account_free, p.account_base, p.account_max)),
            addr.map(|a| (a, p.address_free, p.address_base, p.address_max)),
        ];
        for (key, free, base, max) in keys.into_iter().flatten() {
            let failures = tx.add_failure(key, now, now - p.forget_after).await?;
            if failures >= free {
                let doublings = (failures - free).min(30);
                let lock = (base * 2f64.powi(i32::try_from(doublings).unwrap_or(30))).min(max);
                tx.lock_until(key, now + lock).await?;
                if key.starts_with("addr:") {
                    self.cache_address_lock(key, now + lock);
                }
                locks.push(serde_json::json!({
                    "key": if key.starts_with("addr:") { key.to_owned() } else { attempted.clone() },
                    "failures": failures,
                    "locked_seconds": lock.whole_seconds(),
                }));
            }
        }
        self.audit_event(
            &mut **tx,
            AuditEvent {
                request_id,
                actor: None,
                action: crate::vocabulary::ACTION_AUTH_LOGIN,
                resource: attempted.clone(),
                outcome: Outcome::Deny,
                rule,
                message: message.to_owned(),
                detail: serde_json::json!({ "source": source }),
            },
        )
        .await?;
        if !locks.is_empty() {
            self.audit_event(
                &mut **tx,
                AuditEvent {
                    request_id,
                    actor: None,
                    action: crate::vocabulary::ACTION_AUTH_LOCKOUT,
                    resource: attempted,
                    outcome: Outcome::Deny,
                    rule: crate::vocabulary::RULE_AUTH_THROTTLE,
                    message: "too many failed logins: locked for a while".to_owned(),
                    detail: serde_json::json!({ "locks": locks, "source": source }),
                },
            )
            .await?;
        }
        Ok(())
    }
}
