//! Logging in and out, and turning a session token back into a caller.

use crate::{App, AppError, AuditEvent};
use custos_audit::Outcome;
use custos_domain::{Person, PersonId, PersonStatus, RequestId, UserName};
use custos_store::SessionRow;
use zeroize::Zeroizing;

/// Who is calling, for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated person.
    pub person: PersonId,
    /// The request, for logs and audit entries.
    pub request_id: RequestId,
}

/// A session just opened; the token is shown once and stored only as a hash.
#[derive(Debug)]
pub struct NewSession {
    /// Bearer token (256 bits, hex).
    pub token: Zeroizing<String>,
    /// Absolute expiry.
    pub expires_at: time::OffsetDateTime,
    /// Who logged in.
    pub person: Person,
}

impl App {
    /// Checks a user name and password and opens a session. Unknown user, wrong password and
    /// an account without access give the same error after the same work.
    pub async fn login(
        &self,
        request_id: RequestId,
        user_name: &str,
        password: Zeroizing<String>,
    ) -> Result<NewSession, AppError> {
        let name = UserName::parse(user_name).ok();
        let row = match &name {
            Some(n) => {
                let mut tx = self.store.begin().await?;
                let row = tx.person_by_user_name(n.as_str()).await?;
                tx.commit().await?;
                row
            }
            None => None,
        };
        let password_ok = self
            .passwords
            .verify(password, row.as_ref().map(|r| r.password_hash.clone()))
            .await?;
        let mut tx = self.store.begin().await?;
        let active = row
            .as_ref()
            .is_some_and(|r| r.person.status == PersonStatus::Active);
        // An unknown user name is not recorded: people type passwords into that field.
        let attempted = match &row {
            Some(r) => format!("person:{}", r.person.id),
            None => "person:unknown".to_owned(),
        };
        let Some(row) = row.filter(|_| password_ok && active) else {
            let (message, rule) = if password_ok && !active {
                ("account is suspended or departed".to_owned(), "R4.status")
            } else {
                ("wrong user name or password".to_owned(), "auth.password")
            };
            self.audit_event(
                &mut *tx,
                AuditEvent {
                    request_id,
                    actor: None,
                    action: "auth.login",
                    resource: attempted,
                    outcome: Outcome::Deny,
                    rule,
                    message,
                    detail: serde_json::Value::Null,
                },
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::BadCredentials);
        };
        let token = custos_crypto::random_token()?;
        let now = self.now();
        let expires_at = now + self.settings.session_lifetime;
        tx.insert_session(&SessionRow {
            token_hash: custos_crypto::token_hash(&token),
            person: row.person.id,
            created_at: now,
            expires_at,
        })
        .await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id,
                actor: Some(row.person.id),
                action: "auth.login",
                resource: format!("person:{}", row.person.id),
                outcome: Outcome::Allow,
                rule: "auth.password",
                message: "password verified; session opened".to_owned(),
                detail: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            expires_at,
            person: row.person,
        })
    }

    /// The caller behind a session token; expired sessions and people without access are refused.
    pub async fn authenticate(
        &self,
        request_id: RequestId,
        token: &str,
    ) -> Result<Caller, AppError> {
        let hash = custos_crypto::token_hash(token);
        let found = self.store.session_and_status(&hash).await?;
        let Some((session, status)) = found else {
            return Err(AppError::Unauthenticated);
        };
        if session.expires_at <= self.now() || status != PersonStatus::Active {
            return Err(AppError::Unauthenticated);
        }
        Ok(Caller {
            person: session.person,
            request_id,
        })
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, caller: &Caller, token: &str) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        tx.delete_session(&custos_crypto::token_hash(token)).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: "auth.logout",
                resource: format!("person:{}", caller.person),
                outcome: Outcome::Allow,
                rule: "self_service",
                message: "session ended".to_owned(),
                detail: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl App {
    /// Changes the caller's own password; needs the current one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<(), AppError> {
        if new.chars().count() < 12 {
            return Err(AppError::BadInput(
                "the new password must have at least 12 characters".to_owned(),
            ));
        }
        let mut tx = self.store.begin().await?;
        let row = tx
            .person(caller.person)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        tx.commit().await?;
        if !self
            .passwords
            .verify(current, Some(row.password_hash))
            .await?
        {
            return Err(AppError::BadCredentials);
        }
        let hash = self.passwords.hash(new).await?;
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(caller.person, &hash).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: "auth.password_change",
                resource: format!("person:{}", caller.person),
                outcome: Outcome::Allow,
                rule: "self_service",
                message: "password changed".to_owned(),
                detail: serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
