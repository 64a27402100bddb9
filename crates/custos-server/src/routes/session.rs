//! Logging in and out, and the caller's own account.

use crate::auth::{Authed, bearer_token, request_id_of};
use crate::error::{ApiError, ErrorBody, extract::Json};
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use custos_domain::Person;
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

/// The raw request parts, to read the request id and token without authenticating twice.
pub struct RawParts(Parts);

impl<S: Send + Sync> FromRequestParts<S> for RawParts {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RawParts(parts.clone()))
    }
}

/// Log in with user name and password.
#[utoipa::path(post, path = "/api/session", tag = "session",
    request_body = LoginRequest,
    responses((status = 201, body = LoginResponse), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    RawParts(parts): RawParts,
    Json(body): Json<LoginRequest>,
) -> Result<(StatusCode, axum::Json<LoginResponse>), ApiError> {
    let session = state
        .app
        .login(
            request_id_of(&parts),
            &body.user_name,
            Zeroizing::new(body.password),
        )
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
    RawParts(parts): RawParts,
) -> Result<StatusCode, ApiError> {
    let token = bearer_token(&parts).unwrap_or_default();
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
