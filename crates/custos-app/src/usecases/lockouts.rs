//! Locked accounts, for the confidentiality officer: who is locked, until when, and unlocking.

use crate::usecases::sessions::Caller;
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

impl App {
    /// Accounts locked now (the officer: the same right as querying the audit log).
    pub async fn lockouts(&self, caller: &Caller) -> Result<Vec<Lockout>, AppError> {
        let tx = self.store.begin().await?;
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
                "auth.unlock",
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
