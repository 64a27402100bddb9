//! The officer's (and, for accounts that read no client content, admin/IT's) actions on other
//! people's accounts: sessions, API tokens, credential resets, two-person recovery, lockouts.

use crate::auth::Interactive;
use crate::error::{ApiError, ErrorBody, extract::Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{AddressLock, ApiTokenView, Lockout, SessionView};
use custos_domain::PersonId;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(person_sessions, revoke_person_sessions))
        .routes(routes!(person_tokens))
        .routes(routes!(revoke_person_token))
        .routes(routes!(reset_second_factor))
        .routes(routes!(reset_password))
        .routes(routes!(start_recovery))
        .routes(routes!(complete_recovery))
        .routes(routes!(lockouts))
        .routes(routes!(unlock))
        .routes(routes!(address_locks))
        .routes(routes!(unlock_address))
}

/// A person's sessions (officer; admin for ordinary accounts).
#[utoipa::path(get, path = "/api/people/{id}/sessions", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 200, body = Vec<SessionView>), (status = 403, body = ErrorBody)))]
async fn person_sessions(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<axum::Json<Vec<SessionView>>, ApiError> {
    Ok(axum::Json(state.app.sessions_of_person(&caller, id).await?))
}

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub struct Ended {
    sessions_ended: u64,
}

/// End every session of a person and revoke every API token of theirs.
#[utoipa::path(delete, path = "/api/people/{id}/sessions", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 200, body = Ended), (status = 403, body = ErrorBody)))]
async fn revoke_person_sessions(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<axum::Json<Ended>, ApiError> {
    let n = state.app.revoke_sessions_of_person(&caller, id).await?;
    Ok(axum::Json(Ended { sessions_ended: n }))
}

/// Reset a person's second factor (lost phone): factors, recovery codes, sessions and API
/// tokens go; they enroll again at their next login. Refused (409) while their password is a
/// one-time password not yet changed: use two-person recovery.
#[utoipa::path(delete, path = "/api/people/{id}/second-factor", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reset_second_factor(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<StatusCode, ApiError> {
    state.app.reset_second_factor(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new one-time password (shown once).
#[derive(Serialize, ToSchema)]
pub struct OneTimePassword {
    one_time_password: String,
}

/// Reset a person's password (forgotten, or suspected compromise): a one-time password that
/// must be changed at next login; the person's sessions and API tokens end. The second factor
/// stays, so the password alone is no login; refused (409) when the person has no second
/// factor enrolled: use two-person recovery.
#[utoipa::path(post, path = "/api/people/{id}/password-reset", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 200, body = OneTimePassword), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<axum::Json<OneTimePassword>, ApiError> {
    let password = state.app.reset_password(&caller, id).await?;
    Ok(axum::Json(OneTimePassword {
        one_time_password: password.to_string(),
    }))
}

/// Accounts locked after failed logins (officer).
#[utoipa::path(get, path = "/api/lockouts", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Vec<Lockout>), (status = 403, body = ErrorBody)))]
async fn lockouts(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
) -> Result<axum::Json<Vec<Lockout>>, ApiError> {
    Ok(axum::Json(state.app.lockouts(&caller).await?))
}

/// Unlock an account now.
#[utoipa::path(delete, path = "/api/lockouts/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 204), (status = 403, body = ErrorBody)))]
async fn unlock(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<StatusCode, ApiError> {
    state.app.unlock(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's API tokens (never the secrets).
#[utoipa::path(get, path = "/api/people/{id}/tokens", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 200, body = Vec<ApiTokenView>), (status = 403, body = ErrorBody)))]
async fn person_tokens(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<axum::Json<Vec<ApiTokenView>>, ApiError> {
    Ok(axum::Json(
        state.app.api_tokens_of_person(&caller, id).await?,
    ))
}

/// Revoke one API token of a person.
#[utoipa::path(delete, path = "/api/people/{id}/tokens/{token}", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path), ("token" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_person_token(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path((id, token)): Path<(PersonId, uuid::Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .revoke_api_token_of_person(&caller, id, token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One half of a one-time password of a two-person account recovery (shown once).
#[derive(Serialize, ToSchema)]
pub struct RecoveryHalf {
    /// Give it to the person in person; they type both halves, first then second, as one
    /// password.
    half: String,
    /// `first` or `second`.
    which: &'static str,
}

/// Start a two-person recovery of an account whose owner lost both password and second factor
/// (officer): answers the first half of the new one-time password.
#[utoipa::path(post, path = "/api/people/{id}/recovery", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 200, body = RecoveryHalf), (status = 403, body = ErrorBody)))]
async fn start_recovery(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<axum::Json<RecoveryHalf>, ApiError> {
    let half = state.app.start_account_recovery(&caller, id).await?;
    Ok(axum::Json(RecoveryHalf {
        half: half.to_string(),
        which: "first",
    }))
}

/// Complete a recovery started by someone else (another officer, a partner or admin/IT):
/// answers the second half; the person's factors, sessions and tokens end.
#[utoipa::path(post, path = "/api/people/{id}/recovery/confirm", tag = "people", security(("bearer" = [])),
    params(("id" = PersonId, Path)), responses((status = 200, body = RecoveryHalf), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn complete_recovery(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<PersonId>,
) -> Result<axum::Json<RecoveryHalf>, ApiError> {
    let half = state.app.complete_account_recovery(&caller, id).await?;
    Ok(axum::Json(RecoveryHalf {
        half: half.to_string(),
        which: "second",
    }))
}

/// Source addresses locked after failed logins (officer).
#[utoipa::path(get, path = "/api/lockouts/addresses", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Vec<AddressLock>), (status = 403, body = ErrorBody)))]
async fn address_locks(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
) -> Result<axum::Json<Vec<AddressLock>>, ApiError> {
    Ok(axum::Json(state.app.address_locks(&caller).await?))
}

/// Unlock a source address now (officer).
#[utoipa::path(delete, path = "/api/lockouts/addresses/{address}", tag = "people", security(("bearer" = [])),
    params(("address" = String, Path, description = "the client address, e.g. 192.0.2.7")),
    responses((status = 204), (status = 403, body = ErrorBody)))]
async fn unlock_address(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(address): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.unlock_address(&caller, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}
