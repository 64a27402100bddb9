//! Request ids, and who is calling: a bearer token (session or personal API token) or a browser
//! session in a `__Host-` cookie, whose state-changing requests must carry the CSRF token.
//!
//! Three extractors say what an API route accepts:
//! - [`Authed`]: a full session, or an API token (the app checks its scopes against the action
//!   each decision is about: reading needs `read`, changing `write`, the audit log `audit`);
//! - [`Interactive`]: a full login session only (managing sessions and API tokens);
//! - [`AccountSetup`]: any login session, setup included (password change, enrollment, logout).
//!
//! They share one check, which fails with a neutral [`AuthFailure`]; the API turns it into a
//! JSON error, pages ([`SignedIn`], [`SigningIn`]) into a redirect to the sign-in or setup page.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use custos_app::{AppError, Caller, SessionKind, SessionStage, Via};
use custos_domain::RequestId;

/// Name of the browser session cookie. The `__Host-` prefix makes browsers refuse it unless it
/// is Secure, has `Path=/` and no `Domain`: no subdomain can set or read it.
pub const SESSION_COOKIE: &str = "__Host-custos_session";
/// Header carrying the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub use crate::client_addr::{ClientAddr, client_address};

/// The `Set-Cookie` value of a browser session (`max_age` 0 clears it): `__Host-`, Secure,
/// HttpOnly, SameSite=Strict.
pub(crate) fn session_cookie(value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cookie"))
}

/// Gives every request an id, carried into logs, audit entries and the `x-request-id` header,
/// and writes one access-log line per request: method, the matched route (never the raw path
/// or its query string, which may carry ids or search terms), status, latency, request id.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = RequestId::new();
    req.extensions_mut().insert(id);
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<no route>".to_owned());
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let started = std::time::Instant::now();
    let mut response = tracing::Instrument::instrument(next.run(req), span).await;
    let error = response.extensions_mut().remove::<crate::error::ErrorLog>();
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match error {
        Some(crate::error::ErrorLog {
            code,
            detail: Some(detail),
        }) => tracing::error!(
            request_id = %id, %method, route = %route, status, latency_ms, error = code,
            detail = %detail, "request failed"
        ),
        Some(e) => tracing::info!(
            request_id = %id, %method, route = %route, status, latency_ms, error = e.code,
            "request"
        ),
        None => tracing::info!(
            request_id = %id, %method, route = %route, status, latency_ms, "request"
        ),
    }
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

/// Why a request's credential was not accepted, before it is turned into an answer: the JSON
/// API answers with an error body ([`ApiError`]), a page with a redirect to the sign-in page
/// ([`PageRejection`]).
#[derive(Debug)]
pub enum AuthFailure {
    /// No credential, or one that is unknown, expired or ended.
    Unauthenticated,
    /// A setup session (one-time password, no second factor yet) asked for something else.
    SetupRequired,
    /// An API token asked for something only a login session may do.
    LoginSessionOnly,
    /// A cookie session's state change without its CSRF token.
    Csrf,
    /// Anything else the app refused (throttled, unavailable...).
    Refused(AppError),
}

impl From<AppError> for AuthFailure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => AuthFailure::Unauthenticated,
            other => AuthFailure::Refused(other),
        }
    }
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "log in first: send `Authorization: Bearer <token>` from POST /api/session, or \
                 the session cookie",
            ),
            AuthFailure::SetupRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                "setup_required",
                "finish account setup first: change the one-time password (PUT /api/me/password) \
                 and enroll the second factor (POST /api/me/totp)",
            ),
            AuthFailure::LoginSessionOnly => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs a login session; API tokens cannot manage credentials",
            ),
            AuthFailure::Csrf => ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or wrong CSRF token: send the `x-csrf-token` header given at login, or \
                 the `csrf_token` field of a form",
            ),
            AuthFailure::Refused(e) => e.into(),
        }
    }
}

/// The sign-in page of the web interface.
pub const SIGN_IN_PAGE: &str = "/sign-in";
/// The account setup page (password change, enrollment).
pub const SETUP_PAGE: &str = "/account/setup";

/// A page's answer to an [`AuthFailure`]: back to the sign-in page, which returns to the page
/// asked for afterwards (`next`: a path on this site only), or on to account setup.
#[derive(Debug)]
pub struct PageRejection {
    failure: AuthFailure,
    /// The path and query asked for.
    asked: String,
    /// Whether the request carried a session cookie (then its session has ended: idle,
    /// expired, or signed out elsewhere, and the sign-in page says so).
    had_cookie: bool,
}

impl PageRejection {
    /// Where the browser is sent, if anywhere.
    pub fn location(&self) -> Option<String> {
        match self.failure {
            AuthFailure::Unauthenticated => {
                let next: String = form_urlencoded::byte_serialize(self.asked.as_bytes()).collect();
                let ended = if self.had_cookie { "&ended=1" } else { "" };
                Some(format!("{SIGN_IN_PAGE}?next={next}{ended}"))
            }
            AuthFailure::SetupRequired => Some(SETUP_PAGE.to_owned()),
            _ => None,
        }
    }

    /// The answer as a page of the web interface: a redirect, or the refusal in words.
    pub(crate) fn into_page(self, c: &crate::web::Chrome) -> Response {
        if let Some(to) = self.location() {
            return axum::response::Redirect::to(&to).into_response();
        }
        match self.failure {
            AuthFailure::Csrf => {
                let page = crate::web::ProblemPage {
                    c,
                    heading: c.t.get("csrf-heading"),
                    sentence: c.t.get("csrf-text"),
                    detail: None,
                };
                let mut response = (StatusCode::FORBIDDEN, page).into_response();
                response.extensions_mut().insert(crate::error::ErrorLog {
                    code: "csrf",
                    detail: None,
                });
                response
            }
            AuthFailure::Refused(e) => crate::web::error_page(c, e),
            _ => crate::web::error_page(c, AppError::Unauthenticated),
        }
    }
}

impl axum::response::IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self.location() {
            Some(to) => axum::response::Redirect::to(&to).into_response(),
            // Pages show these in words with the web interface; until then, the API's answer.
            None => ApiError::from(self.failure).into_response(),
        }
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF token a form sent in its `csrf_token` field (an HTML form cannot send a header).
#[derive(Debug, Clone)]
struct CsrfFormToken(String);

/// Largest form body read to find its CSRF token.
const FORM_LIMIT: usize = 64 * 1024;

/// For a state-changing request with a URL-encoded form body (an HTML form) and no CSRF
/// header: reads the body (at most 64 KiB), takes its `csrf_token` field for the credential
/// check, and passes the body on unchanged.
pub async fn csrf_form_field(req: Request, next: Next) -> Response {
    let is_form = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_safe(req.method()) || !is_form || req.headers().contains_key(CSRF_HEADER) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "a form may be at most 64 KiB",
        ));
    };
    if let Some((_, token)) = form_urlencoded::parse(&bytes).find(|(name, _)| name == "csrf_token")
    {
        parts.extensions.insert(CsrfFormToken(token.into_owned()));
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Authenticates the request's credential (bearer header first, then cookie + CSRF check: the
/// `x-csrf-token` header, or a form's `csrf_token` field).
async fn caller_of(parts: &Parts, state: &AppState) -> Result<Caller, AuthFailure> {
    let request_id = request_id_of(parts);
    // Where the request came from, for firm policies on the network (`context.address`).
    let address = client_address(
        parts.extensions.get::<ClientAddr>().copied(),
        &parts.headers,
        state.app.trusted_proxies(),
    )
    .parse()
    .ok();
    if let Some(token) = bearer_token(&parts.headers) {
        let caller = state
            .app
            .authenticate(request_id, token, SessionKind::Bearer)
            .await?;
        return Ok(Caller { address, ..caller });
    }
    let token = cookie_token(&parts.headers).ok_or(AuthFailure::Unauthenticated)?;
    let caller = state
        .app
        .authenticate(request_id, token, SessionKind::Cookie)
        .await?;
    let caller = Caller { address, ..caller };
    if !is_safe(&parts.method) {
        let sent = match parts.headers.get(CSRF_HEADER) {
            Some(header) => header.to_str().unwrap_or_default(),
            None => parts
                .extensions
                .get::<CsrfFormToken>()
                .map_or("", |f| f.0.as_str()),
        };
        if !state.app.csrf_matches(token, sent) {
            return Err(AuthFailure::Csrf);
        }
    }
    Ok(caller)
}

/// A full session, or an API token (whose scopes the app checks against each action).
async fn full_or_token(parts: &Parts, state: &AppState) -> Result<Caller, AuthFailure> {
    let caller = caller_of(parts, state).await?;
    match caller.via {
        Via::Session {
            stage: SessionStage::Setup,
            ..
        } => Err(AuthFailure::SetupRequired),
        // An API token's scopes are checked by the app against the action being decided
        // (`App::facts`), not here by URL: a new route cannot forget them.
        _ => Ok(caller),
    }
}

/// A full login session (no API token).
async fn full_session(parts: &Parts, state: &AppState) -> Result<Caller, AuthFailure> {
    let caller = caller_of(parts, state).await?;
    match caller.via {
        Via::Session {
            stage: SessionStage::Full,
            ..
        } => Ok(caller),
        Via::Session { .. } => Err(AuthFailure::SetupRequired),
        _ => Err(AuthFailure::LoginSessionOnly),
    }
}

/// Any login session, setup included (no API token).
async fn any_session(parts: &Parts, state: &AppState) -> Result<Caller, AuthFailure> {
    let caller = caller_of(parts, state).await?;
    match caller.via {
        Via::Session { .. } => Ok(caller),
        _ => Err(AuthFailure::LoginSessionOnly),
    }
}

/// API: a caller with a full session, or an API token.
#[derive(Debug, Clone, Copy)]
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Authed(full_or_token(parts, state).await?))
    }
}

/// API: a caller with a full login session (no API token).
#[derive(Debug, Clone, Copy)]
pub struct Interactive(pub Caller);

impl FromRequestParts<AppState> for Interactive {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Interactive(full_session(parts, state).await?))
    }
}

/// API: a caller with any login session, setup included (no API token).
#[derive(Debug, Clone, Copy)]
pub struct AccountSetup(pub Caller);

impl FromRequestParts<AppState> for AccountSetup {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(AccountSetup(any_session(parts, state).await?))
    }
}

fn asked(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// Pages: a caller with a full login session; otherwise the browser goes to the sign-in page
/// (and back here afterwards), or to account setup.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub Caller);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PageRejection> {
        full_session(parts, state)
            .await
            .map(SignedIn)
            .map_err(|failure| PageRejection {
                failure,
                asked: asked(parts),
                had_cookie: cookie_token(&parts.headers).is_some(),
            })
    }
}

/// Pages: a caller with any login session, setup included (the setup pages).
#[derive(Debug, Clone, Copy)]
pub struct SigningIn(pub Caller);

impl FromRequestParts<AppState> for SigningIn {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PageRejection> {
        any_session(parts, state)
            .await
            .map(SigningIn)
            .map_err(|failure| PageRejection {
                failure,
                asked: asked(parts),
                had_cookie: cookie_token(&parts.headers).is_some(),
            })
    }
}

/// Pages: a full cookie session whose CSRF token travels inside a multipart body (an upload
/// form cannot send a header, and [`csrf_form_field`] reads URL-encoded forms only). The
/// handler reaches the caller only through [`CsrfPending::verify`], with the token the form
/// sent as its first part, before it reads anything else.
#[derive(Debug)]
pub struct CsrfPending {
    caller: Caller,
    session_token: String,
}

impl CsrfPending {
    /// The caller, once the form's CSRF token matches the session's.
    pub fn verify(self, state: &AppState, sent: &str) -> Result<Caller, AuthFailure> {
        if state.app.csrf_matches(&self.session_token, sent) {
            Ok(self.caller)
        } else {
            Err(AuthFailure::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for CsrfPending {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PageRejection> {
        let reject = |failure| PageRejection {
            failure,
            asked: asked(parts),
            had_cookie: cookie_token(&parts.headers).is_some(),
        };
        let token =
            cookie_token(&parts.headers).ok_or_else(|| reject(AuthFailure::Unauthenticated))?;
        let caller = state
            .app
            .authenticate(request_id_of(parts), token, SessionKind::Cookie)
            .await
            .map_err(|e| reject(e.into()))?;
        match caller.via {
            Via::Session {
                stage: SessionStage::Full,
                ..
            } => Ok(CsrfPending {
                caller,
                session_token: token.to_owned(),
            }),
            _ => Err(reject(AuthFailure::SetupRequired)),
        }
    }
}
