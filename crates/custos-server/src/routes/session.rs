//! Logging in and out, and the caller's own account: password, second factor, recovery codes,
//! sessions and personal API tokens. The officer's actions on other people's accounts are in
//! `accounts.rs`.

use crate::auth::{AccountSetup, Authed, ClientAddr, Interactive, client_address, session_cookie};
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path},
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use custos_app::{
    ApiTokenView, AppError, LoginRequest as AppLogin, NewApiToken, SessionKind, SessionView,
};
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
        .routes(routes!(start_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(new_recovery_codes))
        .routes(routes!(my_sessions))
        .routes(routes!(revoke_my_session))
        .routes(routes!(my_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    user_name: String,
    password: String,
    /// Six-digit code of the authenticator app, or a recovery code; leave out on the first
    /// login, before a second factor is enrolled.
    #[serde(default)]
    code: Option<String>,
    /// `true` for a browser: the session goes into a `__Host-` cookie (HttpOnly, Secure,
    /// SameSite=Strict) and the answer carries the CSRF token instead of the session token.
    #[serde(default)]
    cookie: bool,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token; shown once (absent for cookie sessions).
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// CSRF token to send as `x-csrf-token` on every state change (cookie sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    /// Public id of the session.
    session_id: uuid::Uuid,
    /// `full`, or `setup`: only account setup is allowed until `required` is done.
    stage: &'static str,
    /// What remains: `password_change`, `totp_enrollment`.
    required: Vec<&'static str>,
    /// Recovery codes left, when one was used to log in.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes_left: Option<u64>,
    /// Absolute expiry.
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    expires_at: time::OffsetDateTime,
    /// Who logged in.
    person: Person,
}

/// Log in with user name, password and second-factor code. Unknown user, wrong password and
/// wrong code get the same answer; too many failures answer 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/session", tag = "session",
    request_body = LoginRequest,
    responses((status = 201, body = LoginResponse), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    headers: axum::http::HeaderMap,
    Json(body): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let kind = if body.cookie {
        SessionKind::Cookie
    } else {
        SessionKind::Bearer
    };
    let session = match state
        .app
        .login(
            request_id,
            AppLogin {
                user_name: body.user_name,
                password: Zeroizing::new(body.password),
                code: body.code.map(Zeroizing::new),
                source: client_address(
                    client.map(|Extension(a)| a),
                    &headers,
                    state.app.trusted_proxies(),
                ),
                kind,
            },
        )
        .await
    {
        Ok(session) => session,
        Err(e) => {
            if let AppError::Throttled { retry_after_secs } = e {
                state.tarpit(retry_after_secs).await;
            }
            return Err(e.into());
        }
    };
    let lifetime = (session.expires_at - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(0);
    let (token, csrf_token) = match kind {
        SessionKind::Bearer => (Some(session.token.to_string()), None),
        SessionKind::Cookie => (None, Some(state.app.csrf_token(&session.token))),
    };
    let body = LoginResponse {
        token,
        csrf_token,
        session_id: session.id,
        stage: session.stage.as_str(),
        required: session.required,
        recovery_codes_left: session.recovery_codes_left,
        expires_at: session.expires_at,
        person: session.person,
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if kind == SessionKind::Cookie {
        response
            .headers_mut()
            .insert(SET_COOKIE, session_cookie(&session.token, lifetime)?);
    }
    Ok(response)
}

/// End the current session (and clear the cookie).
#[utoipa::path(delete, path = "/api/session", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    AccountSetup(caller): AccountSetup,
) -> Result<Response, ApiError> {
    state.app.logout(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie("", 0)?);
    Ok(response)
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

/// Change the caller's password (needs the current one; ends every other session). The new
/// one: 12 to 256 characters of any kind, not common, not guessable, not the user or firm name.
#[utoipa::path(put, path = "/api/me/password", tag = "account", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    AccountSetup(caller): AccountSetup,
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

/// A TOTP enrollment: scan the QR code or type the secret, then confirm with a code.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrollmentBody {
    factor_id: uuid::Uuid,
    /// Base32 secret (shown once).
    secret: String,
    /// `otpauth://` URI.
    otpauth_uri: String,
    /// QR code (SVG).
    qr_svg: String,
}

/// Start enrolling an authenticator app (TOTP).
#[utoipa::path(post, path = "/api/me/totp", tag = "account", security(("bearer" = [])),
    responses((status = 201, body = TotpEnrollmentBody), (status = 409, body = ErrorBody)))]
async fn start_totp(
    State(state): State<AppState>,
    AccountSetup(caller): AccountSetup,
) -> Result<(StatusCode, axum::Json<TotpEnrollmentBody>), ApiError> {
    let e = state.app.start_totp_enrollment(&caller).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TotpEnrollmentBody {
            factor_id: e.factor_id,
            secret: e.secret.to_string(),
            otpauth_uri: e.otpauth_uri.to_string(),
            qr_svg: e.qr_svg.clone(),
        }),
    ))
}

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// Recovery codes (shown once; each works once).
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

/// Confirm the enrollment with a code; answers the recovery codes.
#[utoipa::path(post, path = "/api/me/totp/confirm", tag = "account", security(("bearer" = [])),
    request_body = CodeBody,
    responses((status = 200, body = RecoveryCodes), (status = 400, body = ErrorBody)))]
async fn confirm_totp(
    State(state): State<AppState>,
    AccountSetup(caller): AccountSetup,
    Json(body): Json<CodeBody>,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    let codes = state.app.confirm_totp(&caller, &body.code).await?;
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: codes.iter().map(|c| c.to_string()).collect(),
    }))
}

/// Replace the recovery codes.
#[utoipa::path(post, path = "/api/me/recovery-codes", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes)))]
async fn new_recovery_codes(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    let codes = state.app.regenerate_recovery_codes(&caller).await?;
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: codes.iter().map(|c| c.to_string()).collect(),
    }))
}

/// The caller's sessions.
#[utoipa::path(get, path = "/api/me/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>)))]
async fn my_sessions(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
) -> Result<axum::Json<Vec<SessionView>>, ApiError> {
    Ok(axum::Json(state.app.my_sessions(&caller).await?))
}

/// End one of the caller's sessions.
#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_my_session(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_my_session(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A personal API token to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    name: String,
    /// `read`, `write`, `audit` (at least one).
    #[schema(min_items = 1)]
    scopes: Vec<String>,
    /// Lifetime, 1 to 365 days.
    #[schema(minimum = 1, maximum = 365)]
    days: u32,
}

/// A created token: the secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    token: String,
    details: ApiTokenView,
}

/// The caller's personal API tokens.
#[utoipa::path(get, path = "/api/me/tokens", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<ApiTokenView>)))]
async fn my_tokens(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
) -> Result<axum::Json<Vec<ApiTokenView>>, ApiError> {
    Ok(axum::Json(state.app.my_api_tokens(&caller).await?))
}

/// Create a personal API token.
#[utoipa::path(post, path = "/api/me/tokens", tag = "account", security(("bearer" = [])),
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, axum::Json<CreatedToken>), ApiError> {
    let (details, token) = state
        .app
        .create_api_token(
            &caller,
            NewApiToken {
                name: body.name,
                scopes: body.scopes,
                days: body.days,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            token: token.to_string(),
            details,
        }),
    ))
}

/// Revoke a personal API token.
#[utoipa::path(delete, path = "/api/me/tokens/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    Interactive(caller): Interactive,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_api_token(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
