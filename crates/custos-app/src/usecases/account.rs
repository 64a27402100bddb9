//! A person's own account: who they are (for the pages' header), what their account setup still
//! needs, and changing the password (the current one needed, the policy applied, every other
//! session ended).

use crate::passwords::policy;
use crate::usecases::login::{account_key, throttled};
use crate::{App, AppError, AuditEvent, Caller, Via};
use custos_domain::{Person, SessionStage};
use zeroize::Zeroizing;

/// What a person's account setup still needs before their sessions become full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupSteps {
    /// The password is a one-time password, or older than the firm allows.
    pub password_change: bool,
    /// No second factor is active yet.
    pub totp_enrollment: bool,
}

impl App {
    /// The caller's own directory entry, for a page's header. Not a decision and not audited:
    /// the session check has just read the same row, and it holds no client data.
    pub async fn who_am_i(&self, caller: &Caller) -> Result<Person, AppError> {
        let mut tx = self.store.begin_read().await?;
        let row = tx
            .person(caller.person)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        tx.commit().await?;
        Ok(row.person)
    }

    /// What the caller's account setup still needs (the same test as at login).
    pub async fn setup_steps(&self, caller: &Caller) -> Result<SetupSteps, AppError> {
        let mut tx = self.store.begin_read().await?;
        let row = tx
            .person(caller.person)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let enrolled = tx.factors_of(caller.person).await?.iter().any(|f| f.active);
        tx.commit().await?;
        let expired = self
            .settings
            .password_max_age
            .is_some_and(|max| row.password_changed_at + max <= self.now());
        Ok(SetupSteps {
            password_change: row.must_change_password || expired,
            totp_enrollment: !enrolled,
        })
    }

    /// Changes the caller's own password; needs the current one, checks the new one against
    /// the policy, and ends every other session of the person.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<(), AppError> {
        let session = match caller.via {
            Via::Session { id, stage, .. } => Some((id, stage)),
            Via::Internal => None,
            Via::ApiToken { .. } => {
                return Err(AppError::Forbidden {
                    rule: "auth.interactive".to_owned(),
                    message: "an API token cannot change a password; log in".to_owned(),
                });
            }
        };
        let mut tx = self.store.begin().await?;
        let row = tx
            .person(caller.person)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let acct = account_key(Some(&row), "");
        if let Some(t) = tx.throttle(&acct).await?
            && t.locked_until > self.now()
        {
            return Err(throttled(t.locked_until, self.now()));
        }
        tx.commit().await?;
        if !self
            .passwords
            .verify(current, Some(row.password_hash.clone()))
            .await?
        {
            let mut tx = self.store.begin().await?;
            let attempted = format!("person:{}", row.person.id);
            self.record_failure(
                &mut tx,
                caller.request_id,
                &acct,
                None,
                "session",
                attempted,
                crate::vocabulary::RULE_AUTH_PASSWORD,
                "password change: current password wrong",
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::BadCredentials);
        }
        let normalized = policy::normalize(&new);
        let user_name = row.person.user_name.as_str().to_owned();
        let firm = self.settings.firm_name.clone();
        let checked = normalized.clone();
        tokio::task::spawn_blocking(move || policy::check(&checked, &user_name, &firm))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        if self
            .passwords
            .verify(normalized.clone(), Some(row.password_hash.clone()))
            .await?
        {
            return Err(AppError::BadInput(
                "the new password must differ from the current one".to_owned(),
            ));
        }
        let hash = self.passwords.hash(normalized).await?;
        let mut tx = self.store.begin().await?;
        let now = self.now();
        // The password proved above must still be the one in force: a reset, a recovery or a
        // recipient's account being linked (which mails a new one) in the meantime wins.
        if !tx
            .replace_password(caller.person, &row.password_hash, &hash, now)
            .await?
        {
            drop(tx);
            return Err(AppError::Conflict(
                "your password was replaced while this change was checked; sign in again"
                    .to_owned(),
            ));
        }
        let mut ended = 0;
        let mut upgraded = false;
        if let Some((id, stage)) = session {
            ended = tx.delete_other_sessions(caller.person, id).await?;
            if stage == SessionStage::Setup
                && tx.factors_of(caller.person).await?.iter().any(|f| f.active)
            {
                self.upgrade_session(&mut tx, caller.person, id).await?;
                upgraded = true;
            }
        }
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_PASSWORD_CHANGE,
                "password changed; other sessions ended",
                serde_json::json!({ "other_sessions_ended": ended, "session_now_full": upgraded }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
