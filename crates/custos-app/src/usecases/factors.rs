//! Second factors: TOTP enrollment (QR code and secret, active only once a code from it is
//! verified), recovery codes (10, single use, stored as hashes), and the officer's reset when a
//! phone is lost. The secret is sealed under the KEK, bound to its factor id.
//!
//! Factors are rows of a kind (`totp` today): a WebAuthn credential would be another kind with
//! its public key and sign counter, checked in the same login step.

use crate::{App, AppError, AuditEvent};
use crate::{Caller, Via};
use custos_audit::Outcome;
use custos_domain::PersonId;
use custos_domain::SessionStage;
use custos_store::FactorRow;
use zeroize::Zeroizing;

/// How many recovery codes a person gets.
pub const RECOVERY_CODES: usize = 10;

/// A TOTP enrollment in progress: shown once, to the person enrolling.
pub struct TotpEnrollment {
    /// The pending factor.
    pub factor_id: uuid::Uuid,
    /// The secret in base32, to type into an authenticator app.
    pub secret: Zeroizing<String>,
    /// The `otpauth://` URI the QR code holds.
    pub otpauth_uri: Zeroizing<String>,
    /// The QR code as an SVG image.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("factor_id", &self.factor_id)
            .finish_non_exhaustive()
    }
}

/// The stored hash of a recovery code (case, spaces and dashes do not matter).
pub(crate) fn recovery_code_hash(code: &str) -> [u8; 32] {
    let canonical: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    custos_crypto::token_hash(&format!("custos-recovery-code:{canonical}"))
}

/// Ten fresh recovery codes (80 random bits each, `xxxx-xxxx-xxxx-xxxx` in base32 letters).
fn new_recovery_codes() -> Result<Vec<Zeroizing<String>>, AppError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let bytes = Zeroizing::new(custos_crypto::random_bytes::<16>()?);
        let mut code = Zeroizing::new(String::with_capacity(19));
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                code.push('-');
            }
            code.push(char::from(ALPHABET[usize::from(b & 31)]));
        }
        codes.push(code);
    }
    Ok(codes)
}

fn session_of(caller: &Caller) -> Result<(uuid::Uuid, SessionStage), AppError> {
    match caller.via {
        Via::Session { id, stage, .. } => Ok((id, stage)),
        _ => Err(AppError::Forbidden {
            rule: "auth.interactive".to_owned(),
            message: "second factors are managed from a login session, not an API token".to_owned(),
        }),
    }
}

impl App {
    /// Starts TOTP enrollment for the caller: a new secret, pending until confirmed.
    pub async fn start_totp_enrollment(&self, caller: &Caller) -> Result<TotpEnrollment, AppError> {
        session_of(caller)?;
        let mut tx = self.store.begin().await?;
        let person = tx
            .person(caller.person)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if tx.factors_of(caller.person).await?.iter().any(|f| f.active) {
            return Err(AppError::Conflict(
                "a second factor is already active; the confidentiality officer can reset it"
                    .to_owned(),
            ));
        }
        tx.delete_factors_of(caller.person, custos_store::FactorSelection::PendingOnly)
            .await?;
        let secret = custos_crypto::totp::new_secret()?;
        let id = uuid::Uuid::new_v4();
        tx.insert_factor(&FactorRow {
            id,
            person: caller.person,
            kind: "totp".to_owned(),
            sealed_secret: self
                .kek
                .seal_account_secret(&format!("totp:{id}"), &secret)?,
            active: false,
            last_step: 0,
            created_at: self.now(),
        })
        .await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_TOTP_ENROLL_START,
                "TOTP enrollment started; pending until a code is verified",
                serde_json::json!({ "factor": id }),
            ),
        )
        .await?;
        tx.commit().await?;
        let issuer = if self.settings.firm_name.trim().is_empty() {
            "Custos".to_owned()
        } else {
            format!("Custos {}", self.settings.firm_name.trim())
        };
        let uri =
            custos_crypto::totp::otpauth_uri(&secret, &issuer, person.person.user_name.as_str());
        let qr = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build();
        Ok(TotpEnrollment {
            factor_id: id,
            secret: custos_crypto::totp::base32(&secret),
            otpauth_uri: uri,
            qr_svg,
        })
    }

    /// Confirms the pending TOTP factor with a code from it; returns the recovery codes (shown
    /// once). A setup session whose password is settled becomes a full session.
    pub async fn confirm_totp(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<Vec<Zeroizing<String>>, AppError> {
        let (session, stage) = session_of(caller)?;
        let mut tx = self.store.begin().await?;
        let person = tx
            .person(caller.person)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let factors = tx.factors_of(caller.person).await?;
        if factors.iter().any(|f| f.active) {
            return Err(AppError::Conflict(
                "a second factor is already active".to_owned(),
            ));
        }
        let Some(pending) = factors.iter().rev().find(|f| !f.active) else {
            return Err(AppError::BadInput(
                "no enrollment in progress: start one first".to_owned(),
            ));
        };
        let secret = self
            .kek
            .open_account_secret(&format!("totp:{}", pending.id), &pending.sealed_secret)?;
        let unix = u64::try_from(self.now().unix_timestamp()).unwrap_or(0);
        let step = custos_crypto::totp::matching_step(&secret, code, unix)
            .and_then(|s| i64::try_from(s).ok());
        let Some(step) = step else {
            self.audit_event(
                &mut *tx,
                AuditEvent {
                    request_id: caller.request_id,
                    actor: Some(caller.person),
                    action: crate::vocabulary::ACTION_AUTH_TOTP_ENROLL,
                    resource: format!("person:{}", caller.person),
                    outcome: Outcome::Deny,
                    rule: crate::vocabulary::RULE_AUTH_SECOND_FACTOR,
                    message: "enrollment code did not match".to_owned(),
                    detail: serde_json::json!({ "factor": pending.id }),
                },
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::BadInput(
                "the code does not match: check that the phone's clock is right and type the \
                 code currently shown"
                    .to_owned(),
            ));
        };
        tx.advance_factor_step(pending.id, step).await?;
        tx.activate_factor(pending.id).await?;
        let codes = new_recovery_codes()?;
        let hashes: Vec<[u8; 32]> = codes.iter().map(|c| recovery_code_hash(c)).collect();
        tx.replace_recovery_codes(caller.person, &hashes).await?;
        let upgraded = stage == SessionStage::Setup && !person.must_change_password;
        if upgraded {
            self.upgrade_session(&mut tx, caller.person, session)
                .await?;
        }
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_TOTP_ENROLL,
                "TOTP factor active; recovery codes issued",
                serde_json::json!({
                    "factor": pending.id,
                    "recovery_codes": RECOVERY_CODES,
                    "session_now_full": upgraded,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Replaces the caller's recovery codes (the old ones stop working).
    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
    ) -> Result<Vec<Zeroizing<String>>, AppError> {
        let (_, stage) = session_of(caller)?;
        if stage != SessionStage::Full {
            return Err(AppError::SetupRequired(
                "enroll the second factor first".to_owned(),
            ));
        }
        let codes = new_recovery_codes()?;
        let hashes: Vec<[u8; 32]> = codes.iter().map(|c| recovery_code_hash(c)).collect();
        let mut tx = self.store.begin().await?;
        tx.replace_recovery_codes(caller.person, &hashes).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_RECOVERY_CODES,
                "recovery codes replaced",
                serde_json::json!({ "recovery_codes": RECOVERY_CODES }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Removes a person's second factors and recovery codes, ends their sessions and revokes
    /// their API tokens (lost phone): they enroll again at their next login, with the password
    /// they know. Refused while their password is a one-time password not yet changed (whoever
    /// holds it could enroll their own factor): two-person account recovery is for that.
    /// Officer, or admin/IT for accounts that read no client content.
    pub async fn reset_second_factor(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> Result<(), AppError> {
        let (mut tx, row) = self
            .gated_person(caller, person, custos_policy::Action::ResetCredentials)
            .await?;
        if row.must_change_password {
            let err = AppError::Conflict(format!(
                "person `{person}` still has a one-time password: with the second factor reset \
                 too it would be a working login for whoever holds it; use two-person account \
                 recovery"
            ));
            return Err(crate::reject(tx, err).await);
        }
        let removed = tx
            .delete_factors_of(person, custos_store::FactorSelection::All)
            .await?;
        tx.replace_recovery_codes(person, &[]).await?;
        let mut detail = self.end_access(&mut tx, person).await?;
        detail["factors_removed"] = removed.into();
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_SECOND_FACTOR_RESET,
                person,
                "second factor reset; enrollment required at next login",
                detail,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the key-encryption key opens the firm's sealed account secrets (the first
    /// second factor found): a restore with another firm's key file is refused before anyone
    /// serves it. `true` when no factor exists yet (nothing to tell by).
    pub async fn key_opens_account_secrets(&self) -> Result<bool, AppError> {
        let mut tx = self.store.begin_read().await?;
        let people = tx.list_people(None, 200).await?;
        let mut verdict = true;
        for p in people {
            if let Some(f) = tx.factors_of(p.person.id).await?.into_iter().next() {
                verdict = self
                    .kek
                    .open_account_secret(&format!("totp:{}", f.id), &f.sealed_secret)
                    .is_ok();
                break;
            }
        }
        tx.commit().await?;
        Ok(verdict)
    }
}
