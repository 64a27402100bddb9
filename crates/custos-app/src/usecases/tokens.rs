//! Personal API tokens: for scripts and integrations, scoped, expiring, shown once, stored as a
//! hash, revocable by their owner. A token acts as its owner within its scopes, and never
//! manages credentials (passwords, factors, sessions, tokens): that needs a login session.

use crate::{App, AppError, AuditEvent};
use crate::{Caller, Via};
use custos_domain::SessionStage;
use custos_store::ApiTokenRow;
use serde::Serialize;
use zeroize::Zeroizing;

/// Every API token starts with this (so it is recognised, and found by secret scanners).
pub const TOKEN_PREFIX: &str = "cst_";
/// Longest lifetime of a token.
pub const MAX_DAYS: u32 = 365;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Read what the owner may read (GET), except the audit log.
    pub const READ: Scopes = Scopes(1);
    /// Change what the owner may change (upload, create, staff...).
    pub const WRITE: Scopes = Scopes(2);
    /// Query the audit log (still only what the owner's role allows).
    pub const AUDIT: Scopes = Scopes(4);
    const ALL: [(Scopes, &'static str); 3] = [
        (Scopes::READ, "read"),
        (Scopes::WRITE, "write"),
        (Scopes::AUDIT, "audit"),
    ];

    /// Whether every scope of `other` is in `self`.
    pub fn contains(self, other: Scopes) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Parses scope names; unknown names are refused.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, AppError> {
        let mut out = 0u8;
        for name in names {
            let Some((s, _)) = Self::ALL.iter().find(|(_, n)| *n == name.trim()) else {
                return Err(AppError::BadInput(format!(
                    "unknown scope `{}`: expected read, write or audit",
                    name.trim()
                )));
            };
            out |= s.0;
        }
        if out == 0 {
            return Err(AppError::BadInput("give at least one scope".to_owned()));
        }
        Ok(Scopes(out))
    }

    /// The scope an API token needs for `action`: the audit log needs `audit`, reading needs
    /// `read`, anything that changes records needs `write`.
    pub fn needed_for(action: custos_policy::Action) -> Scopes {
        use custos_policy::Action;
        match action {
            Action::QueryAudit | Action::ViewOwnAudit => Scopes::AUDIT,
            a if a.only_reads() => Scopes::READ,
            _ => Scopes::WRITE,
        }
    }

    /// Scope names.
    pub fn names(self) -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|(s, _)| self.contains(*s))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The owner's label ("document sync").
    pub name: String,
    /// Scope names.
    pub scopes: Vec<String>,
    /// Lifetime in days (1 to 365).
    pub days: u32,
}

/// A token as its owner sees it (never the secret).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenView {
    /// Id.
    pub id: uuid::Uuid,
    /// Label.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<&'static str>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: time::OffsetDateTime,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: time::OffsetDateTime,
    /// Revoked.
    pub revoked: bool,
}

fn view(row: ApiTokenRow) -> ApiTokenView {
    ApiTokenView {
        id: row.id,
        name: row.name,
        scopes: Scopes::parse(row.scopes.split(' '))
            .unwrap_or_default()
            .names(),
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked: row.revoked_at.is_some(),
    }
}

/// Refuses anything but a full login session (managing one's own API tokens).
pub(crate) fn full_session(caller: &Caller) -> Result<(), AppError> {
    match caller.via {
        Via::Session {
            stage: SessionStage::Full,
            ..
        } => Ok(()),
        Via::Session { .. } => Err(AppError::SetupRequired(
            "finish account setup first".to_owned(),
        )),
        _ => Err(AppError::Forbidden {
            rule: "auth.interactive".to_owned(),
            message: "this needs a login session, not an API token".to_owned(),
        }),
    }
}

impl App {
    /// Creates a personal API token; the secret is returned once.
    pub async fn create_api_token(
        &self,
        caller: &Caller,
        new: NewApiToken,
    ) -> Result<(ApiTokenView, Zeroizing<String>), AppError> {
        full_session(caller)?;
        let name = new.name.trim().to_owned();
        custos_domain::refuse_hidden_characters("name", &name)?;
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::BadInput("name: 1 to 100 characters".to_owned()));
        }
        if !(1..=MAX_DAYS).contains(&new.days) {
            return Err(AppError::BadInput(format!("days: 1 to {MAX_DAYS}")));
        }
        let scopes = Scopes::parse(new.scopes.iter().map(String::as_str))?;
        let secret = custos_crypto::random_token()?;
        let token = Zeroizing::new(format!("{TOKEN_PREFIX}{}", secret.as_str()));
        let now = self.now();
        let row = ApiTokenRow {
            id: uuid::Uuid::new_v4(),
            token_hash: custos_crypto::token_hash(&token),
            person: caller.person,
            name,
            scopes: scopes.names().join(" "),
            created_at: now,
            expires_at: now + time::Duration::days(i64::from(new.days)),
            revoked_at: None,
        };
        let mut tx = self.store.begin().await?;
        tx.insert_api_token(&row).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_TOKEN_CREATE,
                "personal API token created",
                serde_json::json!({
                    "token": row.id, "name": row.name, "scopes": scopes.names(),
                    "expires_at_ms": custos_audit::unix_ms(row.expires_at),
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((view(row), token))
    }

    /// The caller's tokens.
    pub async fn my_api_tokens(&self, caller: &Caller) -> Result<Vec<ApiTokenView>, AppError> {
        full_session(caller)?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.api_tokens_of(caller.person).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Revokes one of the caller's tokens.
    pub async fn revoke_api_token(&self, caller: &Caller, id: uuid::Uuid) -> Result<(), AppError> {
        full_session(caller)?;
        let mut tx = self.store.begin().await?;
        if !tx.revoke_api_token(caller.person, id, self.now()).await? {
            return Err(AppError::NotFound);
        }
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_TOKEN_REVOKE,
                "personal API token revoked",
                serde_json::json!({ "token": id }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Another person's tokens (officer, or admin/IT for ordinary accounts).
    pub async fn api_tokens_of_person(
        &self,
        caller: &Caller,
        person: custos_domain::PersonId,
    ) -> Result<Vec<ApiTokenView>, AppError> {
        full_session(caller)?;
        let (mut tx, _row) = self.manage_person(caller, person).await?;
        let rows = tx.api_tokens_of(person).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Revokes another person's token (incident response).
    pub async fn revoke_api_token_of_person(
        &self,
        caller: &Caller,
        person: custos_domain::PersonId,
        id: uuid::Uuid,
    ) -> Result<(), AppError> {
        full_session(caller)?;
        let (mut tx, _row) = self.manage_person(caller, person).await?;
        if !tx.revoke_api_token(person, id, self.now()).await? {
            return Err(crate::reject(tx, AppError::NotFound).await);
        }
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_TOKEN_REVOKE,
                person,
                "API token of the person revoked",
                serde_json::json!({ "token": id }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn authenticate_api_token(
        &self,
        request_id: custos_domain::RequestId,
        token: &str,
    ) -> Result<Caller, AppError> {
        let hash = custos_crypto::token_hash(token);
        let Some((row, status)) = self.store.api_token_and_status(&hash).await? else {
            return Err(AppError::Unauthenticated);
        };
        if row.revoked_at.is_some()
            || row.expires_at <= self.now()
            || !custos_policy::may_act(status)
        {
            return Err(AppError::Unauthenticated);
        }
        Ok(Caller {
            person: row.person,
            request_id,
            via: Via::ApiToken {
                id: row.id,
                scopes: Scopes::parse(row.scopes.split(' '))?,
            },
            address: None,
        })
    }
}
