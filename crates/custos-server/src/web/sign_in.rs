//! Signing in and out, account setup (the one-time password's change, the authenticator's
//! enrollment with a QR code, the recovery codes shown once), and the language switch.

use super::i18n::{LANG_COOKIE, Lang};
use super::{Chrome, SetupViewer, cross_site, error_page, local_path, see_other};
use crate::auth::{ClientAddr, client_address, session_cookie};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use custos_app::{AppError, LoginRequest, SessionKind, SessionStage, SetupSteps};
use custos_domain::RequestId;
use serde::Deserialize;
use zeroize::Zeroizing;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/account/setup", get(setup_page))
        .route("/account/setup/password", post(setup_password))
        .route("/account/setup/totp", post(start_totp))
        .route("/account/setup/totp/confirm", post(confirm_totp))
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    c: Chrome,
    next: String,
    user_name: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SignInQuery {
    next: Option<String>,
    ended: Option<String>,
    out: Option<String>,
}

async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let c = Chrome::anonymous(&state, &headers, "/sign-in");
    let notice = if q.ended.is_some() {
        Some(c.t.get("session-ended"))
    } else if q.out.is_some() {
        Some(c.t.get("signed-out"))
    } else {
        None
    };
    let next = local_path(q.next.as_deref());
    let mut c = c;
    c.here = format!(
        "/sign-in?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    SignInPage {
        c,
        next,
        user_name: String::new(),
        notice,
        error: None,
    }
    .into_response()
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let mut c = Chrome::anonymous(&state, &headers, "/sign-in");
    let next = local_path(Some(&form.next));
    if cross_site(&headers) {
        return super::bad_request(&c, c.t.get("cross-site-text"));
    }
    let password = Zeroizing::new(form.password);
    let code = Some(form.code.trim().to_owned())
        .filter(|code| !code.is_empty())
        .map(Zeroizing::new);
    let attempt = state
        .app
        .login(
            request_id,
            LoginRequest {
                user_name: form.user_name.clone(),
                password,
                code,
                source: client_address(
                    client.map(|Extension(a)| a),
                    &headers,
                    state.app.trusted_proxies(),
                ),
                kind: SessionKind::Cookie,
            },
        )
        .await;
    let session = match attempt {
        Ok(session) => session,
        Err(e) => {
            let (status, error) = match e {
                AppError::BadCredentials => (StatusCode::UNAUTHORIZED, c.t.get("sign-in-wrong")),
                AppError::Throttled { retry_after_secs } => {
                    state.tarpit(retry_after_secs).await;
                    // Shown to the minute, so rounded up: "after 08:40" must not be early.
                    let until = time::OffsetDateTime::now_utc()
                        + time::Duration::seconds(
                            i64::try_from(retry_after_secs)
                                .unwrap_or(0)
                                .saturating_add(59),
                        );
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        c.t.with_all(
                            "sign-in-throttled",
                            &[
                                ("minutes", retry_after_secs.div_ceil(60).to_string()),
                                ("at", c.when(&until)),
                            ],
                        ),
                    )
                }
                other => return error_page(&c, other),
            };
            c.here = "/sign-in".to_owned();
            let mut response = (
                status,
                SignInPage {
                    c,
                    next,
                    user_name: form.user_name,
                    notice: None,
                    error: Some(error),
                },
            )
                .into_response();
            response.extensions_mut().insert(crate::error::ErrorLog {
                code: if status == StatusCode::UNAUTHORIZED {
                    "bad_credentials"
                } else {
                    "too_many_attempts"
                },
                detail: None,
            });
            return response;
        }
    };
    let lifetime = (session.expires_at - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(0);
    let to = match session.stage {
        SessionStage::Full => next,
        SessionStage::Setup => crate::auth::SETUP_PAGE.to_owned(),
    };
    let mut response = see_other(&to);
    match session_cookie(&session.token, lifetime) {
        Ok(cookie) => {
            response.headers_mut().insert(SET_COOKIE, cookie);
        }
        Err(e) => return e.into_response(),
    }
    response
}

async fn sign_out(State(state): State<AppState>, viewer: SetupViewer) -> Response {
    if let Err(e) = state.app.logout(&viewer.caller).await {
        return error_page(&viewer.chrome, e);
    }
    let mut response = see_other("/sign-in?out=1");
    if let Ok(cookie) = session_cookie("", 0) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Chrome,
    steps: SetupSteps,
    error: Option<String>,
}

async fn setup_page(State(state): State<AppState>, viewer: SetupViewer) -> Response {
    setup_with(&state, viewer, None).await
}

async fn setup_with(state: &AppState, viewer: SetupViewer, error: Option<String>) -> Response {
    let steps = match state.app.setup_steps(&viewer.caller).await {
        Ok(steps) => steps,
        Err(e) => return error_page(&viewer.chrome, e),
    };
    if !steps.password_change && !steps.totp_enrollment {
        return see_other("/");
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        SetupPage {
            c: viewer.chrome,
            steps,
            error,
        },
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

impl PasswordForm {
    /// Current, new, and the new one again.
    pub(super) fn into_parts(self) -> (String, String, String) {
        (self.current, self.new, self.confirm)
    }
}

/// What a password change's refusal says, in the viewer's language where it is one of ours.
pub(super) fn password_problem(c: &Chrome, e: &AppError) -> Option<String> {
    match e {
        AppError::BadCredentials => Some(c.t.get("current-password-wrong")),
        AppError::Invalid(_) | AppError::BadInput(_) => {
            Some(c.t.with("password-refused", "reason", e.to_string()))
        }
        _ => None,
    }
}

async fn setup_password(
    State(state): State<AppState>,
    viewer: SetupViewer,
    Form(form): Form<PasswordForm>,
) -> Response {
    if form.new != form.confirm {
        let error = viewer.chrome.t.get("passwords-differ");
        return setup_with(&state, viewer, Some(error)).await;
    }
    match state
        .app
        .change_password(
            &viewer.caller,
            Zeroizing::new(form.current),
            Zeroizing::new(form.new),
        )
        .await
    {
        Ok(()) => see_other(crate::auth::SETUP_PAGE),
        Err(e) => match password_problem(&viewer.chrome, &e) {
            Some(problem) => setup_with(&state, viewer, Some(problem)).await,
            None => error_page(&viewer.chrome, e),
        },
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "totp.html")]
struct TotpPage {
    c: Chrome,
    qr_svg: String,
    secret: String,
    error: Option<String>,
}

async fn start_totp(State(state): State<AppState>, viewer: SetupViewer) -> Response {
    match state.app.start_totp_enrollment(&viewer.caller).await {
        Ok(enrollment) => TotpPage {
            c: viewer.chrome,
            qr_svg: enrollment.qr_svg,
            secret: enrollment.secret.to_string(),
            error: None,
        }
        .into_response(),
        Err(e) => error_page(&viewer.chrome, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "recovery_codes.html")]
pub(super) struct RecoveryCodesPage {
    pub(super) c: Chrome,
    pub(super) codes: Vec<String>,
    pub(super) next: String,
}

#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    secret_shown: String,
}

async fn confirm_totp(
    State(state): State<AppState>,
    viewer: SetupViewer,
    Form(form): Form<ConfirmForm>,
) -> Response {
    match state
        .app
        .confirm_totp(&viewer.caller, form.code.trim())
        .await
    {
        Ok(codes) => RecoveryCodesPage {
            c: viewer.chrome,
            codes: codes.iter().map(|code| code.to_string()).collect(),
            next: "/".to_owned(),
        }
        .into_response(),
        Err(AppError::BadCredentials | AppError::BadInput(_) | AppError::Invalid(_)) => {
            // The pending secret stays; the page shows it again as text (the QR code was
            // shown with the first attempt), so a mistyped code costs no rescan.
            let error = viewer.chrome.t.get("totp-wrong");
            (
                StatusCode::BAD_REQUEST,
                TotpPage {
                    c: viewer.chrome,
                    qr_svg: String::new(),
                    secret: form
                        .secret_shown
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .take(64)
                        .collect(),
                    error: Some(error),
                },
            )
                .into_response()
        }
        Err(e) => error_page(&viewer.chrome, e),
    }
}

#[derive(Deserialize)]
pub(super) struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

/// Remembers the chosen language (a year) and returns to the page.
pub(super) async fn switch_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LanguageForm>,
) -> Response {
    let c = Chrome::anonymous(&state, &headers, "/");
    if cross_site(&headers) {
        return super::bad_request(&c, c.t.get("cross-site-text"));
    }
    let lang = Lang::from_tag(&form.lang).unwrap_or(c.lang);
    let mut response = see_other(&local_path(Some(&form.next)));
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Secure; SameSite=Lax; Max-Age=31536000",
        lang.tag()
    )) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}
