//! Sessions: turning a session token back into a caller (idle and absolute expiry), logging
//! out, and listing and ending sessions (one's own, or the officer's view of a person's).

use crate::{App, AppError, AuditEvent, Caller, Tx, Via};
use custos_domain::{PersonId, RequestId};
use custos_domain::{SessionKind, SessionStage};
use custos_store::{PersonRow, SessionRow};
use serde::Serialize;

/// A session as its owner or the officer sees it (never the token).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// Public id.
    pub id: uuid::Uuid,
    /// `setup` or `full`.
    pub stage: &'static str,
    /// `bearer` or `cookie`.
    pub kind: &'static str,
    /// Address at login.
    pub source: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: time::OffsetDateTime,
    /// Last activity (to the minute).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_seen_at: time::OffsetDateTime,
    /// Absolute end.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: time::OffsetDateTime,
    /// The session of this request.
    pub current: bool,
}

/// Activity is written at most once per this interval (idle timeout granularity), so most
/// requests only read.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

impl App {
    /// The CSRF token of a cookie session (derived from the session token; nothing stored):
    /// given at login, sent back with every state change as a header or a form field.
    pub fn csrf_token(&self, session_token: &str) -> String {
        custos_crypto::csrf_token(session_token)
    }

    /// Whether `sent` is the CSRF token of the cookie session `session_token` (compared in
    /// constant time).
    pub fn csrf_matches(&self, session_token: &str, sent: &str) -> bool {
        custos_crypto::secrets_equal(
            sent.as_bytes(),
            custos_crypto::csrf_token(session_token).as_bytes(),
        )
    }

    /// The caller behind a session or API token; expired, idle, revoked and suspended ones are
    /// refused. A session token is only accepted over the transport it was issued for.
    pub async fn authenticate(
        &self,
        request_id: RequestId,
        token: &str,
        transport: SessionKind,
    ) -> Result<Caller, AppError> {
        if token.starts_with(crate::usecases::tokens::TOKEN_PREFIX) {
            if transport != SessionKind::Bearer {
                return Err(AppError::Unauthenticated);
            }
            return self.authenticate_api_token(request_id, token).await;
        }
        let hash = custos_crypto::token_hash(token);
        let Some((session, status)) = self.store.session_and_status(&hash).await? else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.now();
        if session.expires_at <= now
            || session.last_seen_at + self.settings.session_idle <= now
            || !custos_policy::may_act(status)
            || session.kind != transport
        {
            return Err(AppError::Unauthenticated);
        }
        if session.last_seen_at + TOUCH_EVERY <= now {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Caller {
            person: session.person,
            request_id,
            via: Via::Session {
                id: session.id,
                stage: session.stage,
                kind: session.kind,
            },
            address: None,
        })
    }

    /// Ends the caller's session.
    pub async fn logout(&self, caller: &Caller) -> Result<(), AppError> {
        let Via::Session { id, .. } = caller.via else {
            return Err(AppError::BadInput("only a session can log out".to_owned()));
        };
        let mut tx = self.store.begin().await?;
        tx.delete_session_of(caller.person, id).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_LOGOUT,
                "session ended",
                serde_json::json!({ "session": id }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller's own sessions.
    pub async fn my_sessions(&self, caller: &Caller) -> Result<Vec<SessionView>, AppError> {
        let mut tx = self.store.begin_read().await?;
        let rows = tx.sessions_of(caller.person).await?;
        tx.commit().await?;
        Ok(self.session_views(caller, rows))
    }

    fn session_views(&self, caller: &Caller, rows: Vec<SessionRow>) -> Vec<SessionView> {
        let now = self.now();
        let current = match caller.via {
            Via::Session { id, .. } => Some(id),
            _ => None,
        };
        rows.into_iter()
            .filter(|s| s.expires_at > now && s.last_seen_at + self.settings.session_idle > now)
            .map(|s| SessionView {
                id: s.id,
                stage: s.stage.as_str(),
                kind: s.kind.as_str(),
                source: s.source,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                current: Some(s.id) == current,
            })
            .collect()
    }

    /// Ends one of the caller's own sessions.
    pub async fn revoke_my_session(&self, caller: &Caller, id: uuid::Uuid) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        if !tx.delete_session_of(caller.person, id).await? {
            return Err(AppError::NotFound);
        }
        self.audit_event(
            &mut *tx,
            AuditEvent::self_service(
                caller,
                crate::vocabulary::ACTION_AUTH_SESSION_REVOKE,
                "own session ended",
                serde_json::json!({ "session": id }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sessions of a person, for the officer (or admin, for ordinary accounts).
    pub async fn sessions_of_person(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> Result<Vec<SessionView>, AppError> {
        let (mut tx, _row) = self.manage_person(caller, person).await?;
        let rows = tx.sessions_of(person).await?;
        tx.commit().await?;
        Ok(self.session_views(caller, rows))
    }

    /// Ends every session of a person and revokes every API token (officer or admin);
    /// returns how many sessions ended.
    pub async fn revoke_sessions_of_person(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> Result<u64, AppError> {
        let (mut tx, _row) = self.manage_person(caller, person).await?;
        let ended = self.end_access(&mut tx, person).await?;
        self.audit_event(
            &mut *tx,
            AuditEvent::role_duty(
                caller,
                crate::vocabulary::ACTION_AUTH_SESSION_REVOKE,
                person,
                "all sessions and API tokens of the person ended",
                ended.clone(),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ended["sessions_ended"].as_u64().unwrap_or_default())
    }

    /// Makes a setup session full once setup is done; its absolute lifetime becomes the full
    /// one, counted from login.
    pub(crate) async fn upgrade_session(
        &self,
        tx: &mut Tx,
        person: PersonId,
        id: uuid::Uuid,
    ) -> Result<(), AppError> {
        let created = tx
            .sessions_of(person)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.created_at)
            .ok_or(AppError::Unauthenticated)?;
        tx.set_session_stage(
            id,
            SessionStage::Full,
            created + self.settings.session_lifetime,
        )
        .await?;
        Ok(())
    }

    /// Opens a unit, decides and audits ManagePeople on `person`, and returns the unit.
    pub(crate) async fn manage_person(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> Result<(Tx, PersonRow), AppError> {
        self.gated_person(caller, person, custos_policy::Action::ManagePeople)
            .await
    }
}
