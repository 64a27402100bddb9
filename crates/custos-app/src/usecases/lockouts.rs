//! Locked accounts, for the confidentiality officer: who is locked, until when, and unlocking.

use crate::Caller;
use crate::{App, AppError, AuditEvent};
use custos_domain::PersonId;
use custos_policy::{Action, Resource};
use serde::Serialize;

/// A locked account.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Lockout {
    /// Who.
    pub person: PersonId,
    /// Their user name.
    pub user_name: String,
    /// Consecutive failures.
    pub failures: u32,
    /// Locked until (then unlocked by itself).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub locked_until: time::OffsetDateTime,
}

/// A source address refused after failed logins.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct AddressLock {
    /// The client address.
    pub address: String,
    /// Failures counted (they decay after an hour without one).
    pub failures: u32,
    /// Refused until (then accepted again by itself).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub locked_until: time::OffsetDateTime,
}

impl App {
    /// Source addresses locked now (the officer).
    pub async fn address_locks(&self, caller: &Caller) -> Result<Vec<AddressLock>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::QueryAudit, &Resource::Firm)
            .await?;
        let rows = tx.locked_throttles("addr:", self.now()).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(AddressLock {
                    address: r.key.strip_prefix("addr:")?.to_owned(),
                    failures: r.failures,
                    locked_until: r.locked_until,
                })
            })
            .collect())
    }

    /// Clears a source address's failures and lock now (the officer). Other nodes may keep
    /// refusing it from their cache until the lock would have ended (at most an hour).
    pub async fn unlock_address(&self, caller: &Caller, address: &str) -> Result<bool, AppError> {
        let bare = address.trim().trim_start_matches('[').trim_end_matches(']');
        if bare != "unknown" && bare.parse::<std::net::IpAddr>().is_err() {
            return Err(AppError::BadInput(format!(
                "`{}` is not an address (e.g. 192.0.2.7 or 2001:db8::7)",
                address.chars().take(64).collect::<String>()
            )));
        }
        let tx = self.store.begin().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::QueryAudit, &Resource::Firm)
            .await?;
        let key = format!("addr:{}", address.trim());
        let was = tx.clear_throttle(&key).await?;
        self.forget_address_lock(&key);
        self.audit_event(
            &mut *tx,
            AuditEvent {
                request_id: caller.request_id,
                actor: Some(caller.person),
                action: crate::vocabulary::ACTION_AUTH_UNLOCK_ADDRESS,
                resource: key,
                outcome: custos_audit::Outcome::Allow,
                rule: custos_policy::Rule::RoleDuty.code(),
                message: "source address unlocked".to_owned(),
                detail: serde_json::json!({ "was_throttled": was }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(was)
    }

    /// Accounts locked now (the officer: the same right as querying the audit log).
    pub async fn lockouts(&self, caller: &Caller) -> Result<Vec<Lockout>, AppError> {
        let tx = self.store.begin_read().await?;
        let (mut tx, _permit) = self
            .gate(tx, caller, Action::QueryAudit, &Resource::Firm)
            .await?;
        let rows = tx.locked_throttles("person:", self.now()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(id) = r
                .key
                .strip_prefix("person:")
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
            else {
                continue;
            };
            if let Some(p) = tx.person(PersonId(id)).await? {
                out.push(Lockout {
                    person: p.person.id,
                    user_name: p.person.user_name.as_str().to_owned(),
                    failures: r.failures,
                    locked_until: r.locked_until,
                });
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Unlocks an account now (officer, or admin for ordinary accounts).
    pub async fn unlock(&self, caller: &Caller, person: PersonId) -> Result<bool, AppError> {
        let (mut tx, _row) = self.manage_person(caller, person).await?;
        let was = tx.clear_throttle(&format!("person:{person}")).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_UNLOCK,
                person,
                "account unlocked",
                serde_json::json!({ "was_throttled": was }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(was)
    }
}
