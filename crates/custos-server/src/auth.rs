//! Request ids, and who is calling: a bearer token (session or personal API token) or a browser
//! session in a `__Host-` cookie, whose state-changing requests must carry the CSRF token.
//!
//! Three extractors say what a route accepts:
//! - [`Authed`]: a full session, or an API token whose scopes cover the request
//!   (`GET`/`HEAD` need `read`, anything else `write`, `/api/audit` needs `audit`);
//! - [`Interactive`]: a full login session only (managing sessions and API tokens);
//! - [`AccountSetup`]: any login session, setup included (password change, enrollment, logout).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use custos_app::{Caller, Scopes, SessionKind, SessionStage, Via};
use custos_domain::RequestId;

/// Name of the browser session cookie. The `__Host-` prefix makes browsers refuse it unless it
/// is Secure, has `Path=/` and no `Domain`: no subdomain can set or read it.
pub const SESSION_COOKIE: &str = "__Host-custos_session";
/// Header carrying the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The client's address, put on every request by the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Gives every request an id, carried into logs, audit entries and the `x-request-id` header.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = RequestId::new();
    req.extensions_mut().insert(id);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method());
    let mut response = tracing::Instrument::instrument(next.run(req), span).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The request id of the current request.
fn request_id_of(parts: &Parts) -> RequestId {
    parts
        .extensions
        .get::<RequestId>()
        .copied()
        .unwrap_or_default()
}

/// The client address as text (`unknown` outside the server loop).
pub fn client_addr(addr: Option<ClientAddr>) -> String {
    addr.map(|a| a.0.to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The bearer token of the request, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The session cookie of the request, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "log in first: send `Authorization: Bearer <token>` from POST /api/session, or the \
         session cookie",
    )
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Authenticates the request's credential (bearer header first, then cookie + CSRF check).
async fn caller_of(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let request_id = request_id_of(parts);
    if let Some(token) = bearer_token(&parts.headers) {
        return Ok(state
            .app
            .authenticate(request_id, token, SessionKind::Bearer)
            .await?);
    }
    let token = cookie_token(&parts.headers).ok_or_else(unauthenticated)?;
    let caller = state
        .app
        .authenticate(request_id, token, SessionKind::Cookie)
        .await?;
    if !is_safe(&parts.method) {
        let expected = custos_crypto::csrf_token(token);
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !custos_crypto::secrets_equal(sent.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong CSRF token: send the `x-csrf-token` header given at login",
            ));
        }
    }
    Ok(caller)
}

fn scope_needed(parts: &Parts) -> Scopes {
    if parts.uri.path().starts_with("/api/audit") {
        Scopes::AUDIT
    } else if is_safe(&parts.method) {
        Scopes::READ
    } else {
        Scopes::WRITE
    }
}

fn setup_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "setup_required",
        "finish account setup first: change the one-time password (PUT /api/me/password) and \
         enroll the second factor (POST /api/me/totp)",
    )
}

fn interactive_only() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "this needs a login session; API tokens cannot manage credentials",
    )
}

/// A caller with a full session, or an API token whose scopes cover this request.
#[derive(Debug, Clone, Copy)]
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller_of(parts, state).await?;
        match caller.via {
            Via::Session {
                stage: SessionStage::Setup,
                ..
            } => Err(setup_required()),
            Via::ApiToken { scopes, .. } if !scopes.contains(scope_needed(parts)) => {
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!(
                        "this API token lacks the `{}` scope",
                        scope_needed(parts).names().join(" ")
                    ),
                ))
            }
            _ => Ok(Authed(caller)),
        }
    }
}

/// A caller with a full login session (no API token).
#[derive(Debug, Clone, Copy)]
pub struct Interactive(pub Caller);

impl FromRequestParts<AppState> for Interactive {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller_of(parts, state).await?;
        match caller.via {
            Via::Session {
                stage: SessionStage::Full,
                ..
            } => Ok(Interactive(caller)),
            Via::Session { .. } => Err(setup_required()),
            _ => Err(interactive_only()),
        }
    }
}

/// A caller with any login session, setup included (no API token).
#[derive(Debug, Clone, Copy)]
pub struct AccountSetup(pub Caller);

impl FromRequestParts<AppState> for AccountSetup {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller_of(parts, state).await?;
        match caller.via {
            Via::Session { .. } => Ok(AccountSetup(caller)),
            _ => Err(interactive_only()),
        }
    }
}
