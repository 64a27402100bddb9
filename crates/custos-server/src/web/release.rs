//! The recipient's page of a release link (R12): no account; a one-time code mailed to the
//! verified address (and the passphrase, when one was agreed) opens a short session, then the
//! documents download one by one, each decided, counted and logged.

use super::{Chrome, cross_site, error_page, human_size, see_other};
use crate::routes::{clean_token as clean, release_cookie, release_session_cookies};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_domain::RequestId;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/release/{token}", get(release_page))
        .route("/release/{token}/code", post(send_code))
        .route("/release/{token}/open", post(open))
}

pub(super) struct ReleasedLine {
    name: String,
    size: String,
    href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "release.html")]
struct ReleasePage {
    c: Chrome,
    token: String,
    firm: String,
    until: String,
    left: u32,
    passphrase: bool,
    documents: Vec<ReleasedLine>,
    /// How many documents the link releases (all that is said before the code).
    count: usize,
    /// The session is open: downloads are offered.
    open: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ReleaseQuery {
    #[serde(default)]
    sent: Option<String>,
    #[serde(default)]
    open: Option<String>,
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    open: bool,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let token = clean(token);
    let c = Chrome::anonymous(state, headers, &format!("/release/{token}"));
    let session = release_cookie(headers);
    let info = match state.app.release_info(&token, session.as_deref()).await {
        Ok(info) => info,
        Err(e) => return error_page(&c, e),
    };
    // The documents are listed (and offered) only to the session that proved the code.
    let open = open && !info.documents.is_empty();
    let count = info.document_count;
    let documents = info
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| ReleasedLine {
            name: c.t.with("release-document-n", "n", i + 1),
            size: format!("{} · {}", human_size(d.size), d.media_type),
            href: format!("/api/release/{token}/documents/{}", d.id),
        })
        .collect();
    let mut page = ReleasePage {
        until: c.when(&info.expires_at),
        firm: if info.firm.is_empty() {
            c.t.get("release-the-firm")
        } else {
            info.firm
        },
        left: info.downloads_left,
        passphrase: info.passphrase,
        documents,
        count,
        open,
        notice,
        error: error.clone(),
        token,
        c,
    };
    page.c.here = format!("/release/{}", page.token);
    let mut response = page.into_response();
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn release_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<ReleaseQuery>,
) -> Response {
    let c = Chrome::anonymous(&state, &headers, "/");
    let notice = q.sent.map(|_| c.t.get("release-code-sent"));
    render(&state, &headers, &token, q.open.is_some(), notice, None).await
}

async fn send_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(request_id): Extension<RequestId>,
    Path(token): Path<String>,
) -> Response {
    let c = Chrome::anonymous(&state, &headers, "/");
    if cross_site(&headers) {
        return super::bad_request(&c, c.t.get("cross-site-text"));
    }
    let token = clean(&token);
    match state.app.release_send_code(&token, request_id).await {
        Ok(()) => see_other(&format!("/release/{token}?sent=1")),
        Err(e) => error_page(&c, e),
    }
}

#[derive(Deserialize)]
struct OpenForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    passphrase: String,
}

async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(request_id): Extension<RequestId>,
    Path(token): Path<String>,
    Form(form): Form<OpenForm>,
) -> Response {
    let c = Chrome::anonymous(&state, &headers, "/");
    if cross_site(&headers) {
        return super::bad_request(&c, c.t.get("cross-site-text"));
    }
    let token = clean(&token);
    let phrase = Some(form.passphrase.as_str()).filter(|p| !p.is_empty());
    match state
        .app
        .release_open(&token, &form.code, phrase, request_id)
        .await
    {
        Ok(session) => {
            let mut response = see_other(&format!("/release/{token}?open=1"));
            for cookie in release_session_cookies(&token, &session) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(custos_app::AppError::WrongCode) => {
            let error = Some(c.t.get("release-code-wrong"));
            render(&state, &headers, &token, false, None, error).await
        }
        Err(e) => error_page(&c, e),
    }
}
