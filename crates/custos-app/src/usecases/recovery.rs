//! Two-person account recovery, for a person who lost both their password and their second
//! factor. A password reset alone keeps the second factor, and a second-factor reset alone
//! keeps the password the person knows, so neither hands the resetter a login; doing both would.
//! Recovery therefore needs two different people, and each sees only half of the new one-time
//! password: the officer starts it (first half), a second person (another officer, a partner
//! or admin/IT) completes it (second half). The person receives both halves, one from each, and
//! must change the password and enroll a new factor at the next login. Neither half alone, and
//! neither person alone, is a working login.

use crate::{App, AppError, AuditEvent, Caller, reject};
use custos_domain::PersonId;
use custos_policy::{Action, Resource};
use custos_store::RecoveryRow;
use zeroize::Zeroizing;

/// How long the first half waits for the second person.
const RECOVERY_TTL: time::Duration = time::Duration::hours(24);

/// One half of a one-time password: 72 random bits (two halves: 144).
fn half() -> Result<Zeroizing<String>, AppError> {
    let token = custos_crypto::random_token()?;
    Ok(Zeroizing::new(token[..18].to_owned()))
}

fn sealed_field(person: PersonId) -> String {
    format!("recovery:{person}")
}

impl App {
    /// Starts a recovery of `person` and returns the first half of their new one-time
    /// password. Their current credentials keep working (or not) until it is completed.
    pub async fn start_account_recovery(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> Result<Zeroizing<String>, AppError> {
        let (mut tx, _row) = self
            .gated_person(caller, person, Action::ResetCredentials)
            .await?;
        if caller.person == person {
            let err = AppError::BadInput("nobody recovers their own account".to_owned());
            return Err(reject(tx, err).await);
        }
        let first = half()?;
        let now = self.now();
        tx.upsert_recovery(&RecoveryRow {
            person,
            started_by: caller.person,
            sealed_half: self
                .kek
                .seal_account_secret(&sealed_field(person), first.as_bytes())?,
            created_at: now,
            expires_at: now + RECOVERY_TTL,
        })
        .await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_RECOVERY_START,
                person,
                "account recovery started; a second person must complete it",
                serde_json::Value::Null,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(first)
    }

    /// Completes a recovery started by someone else: the person's password becomes both halves
    /// (change forced), their factors, recovery codes, sessions and API tokens end. Returns
    /// the second half.
    pub async fn complete_account_recovery(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> Result<Zeroizing<String>, AppError> {
        let action = Action::ConfirmRecovery;
        let mut tx = self.store.begin().await?;
        let loaded = tx.person(person).await?;
        let (mut tx, row) = self
            .found(tx, caller, action, || format!("person:{person}"), loaded)
            .await?;
        let role = row.person.role;
        let pending = tx
            .recovery(person)
            .await?
            .filter(|r| r.expires_at > self.now());
        let Some(pending) = pending else {
            let (tx, _permit) = self
                .gate(tx, caller, action, &Resource::Person { id: person, role })
                .await?;
            let err = AppError::Conflict(format!(
                "no account recovery of `{person}` is waiting (none was started, or it expired)"
            ));
            return Err(reject(tx, err).await);
        };
        // The second person is the policy's rule (R2 two-person): the log says the refusal.
        let resource = Resource::Recovery {
            person,
            role,
            started_by: pending.started_by,
        };
        let (mut tx, _permit) = self.gate(tx, caller, action, &resource).await?;
        let first = self
            .kek
            .open_account_secret(&sealed_field(person), &pending.sealed_half)?;
        let second = half()?;
        let first = std::str::from_utf8(&first)
            .map_err(|_| AppError::Internal("recovery half is not text".to_owned()))?;
        let password = Zeroizing::new(format!("{first}{}", second.as_str()));
        // Hashing (~40 ms) inside the unit: a rare officer action, and the unit must not
        // lose the pending row to a concurrent completion.
        let hash = self.passwords.hash(password).await?;
        tx.set_password(person, &hash, true, self.now()).await?;
        let removed = tx
            .delete_factors_of(person, custos_store::FactorSelection::All)
            .await?;
        tx.replace_recovery_codes(person, &[]).await?;
        tx.delete_recovery(person).await?;
        let mut detail = self.end_access(&mut tx, person).await?;
        detail["factors_removed"] = removed.into();
        detail["started_by"] = pending.started_by.to_string().into();
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_RECOVERY_COMPLETE,
                person,
                "account recovered by two people; password change and enrollment at next login",
                detail,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(second)
    }
}
