//! Logging in and out, and the caller's own account.

use crate::auth::{Authed, bearer_token};
use crate::error::{ApiError, ErrorBody, extract::Json};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use custos_domain::{Person, RequestId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use zeroize::Zeroizing;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    user_name: String,
    password: String,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token; shown once.
    token: String,
    /// Absolute expiry.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    expires_at: time::OffsetDateTime,
    /// Who logged in.
    person: Person,
}

/// Log in with user name and password.
#[utoipa::path(post, path = "/api/session", tag = "session",
    request_body = LoginRequest,
    responses((status = 201, body = LoginResponse), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Json(body): Json<LoginRequest>,
) -> Result<(StatusCode, axum::Json<LoginResponse>), ApiError> {
    let session = state
        .app
        .login(request_id, &body.user_name, Zeroizing::new(body.password))
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(LoginResponse {
            token: session.token.to_string(),
            expires_at: session.expires_at,
            person: session.person,
        }),
    ))
}

/// End the current session.
#[utoipa::path(delete, path = "/api/session", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = bearer_token(&headers).unwrap_or_default();
    state.app.logout(&caller, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/me", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = Person), (status = 401, body = ErrorBody)))]
async fn me(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<Person>, ApiError> {
    Ok(axum::Json(
        state.app.get_person(&caller, caller.person).await?,
    ))
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: String,
    new: String,
}

/// Change the caller's password.
#[utoipa::path(put, path = "/api/me/password", tag = "session", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_password(
            &caller,
            Zeroizing::new(body.current),
            Zeroizing::new(body.new),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
