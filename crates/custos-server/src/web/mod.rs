//! The web interface: server-rendered pages (askama templates checked at compile time, Fluent
//! catalogues in English and Simplified Chinese, one stylesheet and one small script embedded
//! in the binary), served on the API's port under the pages' own CSP.
//!
//! **Architecture Invariant:** a page handler calls the same use cases as the API and renders
//! what they return; no confidentiality rule lives here. A denial is shown as the rule's
//! sentence; a record the viewer may not know of gets the same "not found" page as one that
//! does not exist. Every state change is a POST carrying the session's CSRF token.

mod account;
mod assets;
mod audit;
mod clients;
mod directory;
mod documents;
mod emergency;
mod home;
pub(crate) mod i18n;
mod matters;
mod people;
mod policies;
mod received;
mod recipients;
mod register;
mod release;
mod sign_in;
#[cfg(test)]
mod tests;
mod transfer_form;
mod transfers;
mod transparency;
mod walls;
mod what_if;

use crate::auth::{SignedIn, SigningIn, cookie_token};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use custos_app::{AppError, Caller};
use custos_domain::{Person, Role};
use i18n::{Lang, Tr};

/// The page routes, under the pages' CSP.
pub(crate) fn routes() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/language", post(sign_in::switch_language))
        .merge(sign_in::routes())
        .merge(matters::routes())
        .merge(clients::routes())
        .merge(documents::routes())
        .merge(audit::routes())
        .merge(transparency::routes())
        .merge(account::routes())
        .merge(people::routes())
        .merge(directory::routes())
        .merge(walls::routes())
        .merge(emergency::routes())
        .merge(policies::routes())
        .merge(transfers::routes())
        .merge(transfer_form::routes())
        .merge(recipients::routes())
        .merge(register::routes())
        .merge(received::routes())
        .merge(release::routes());
    crate::pages::with_page_policy(pages).merge(assets::routes())
}

/// What every page shows around its content: the language, who is signed in, the navigation,
/// the CSRF token for its forms, and the page's own address (for the language switch).
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    /// The strings.
    pub t: Tr,
    /// The language.
    pub lang: Lang,
    /// The signed-in person, if any.
    pub me: Option<Me>,
    /// The CSRF token forms carry.
    pub csrf: String,
    /// The page's path and query.
    pub here: String,
    /// Whether the session is a full one (the navigation is shown), not account setup.
    pub full: bool,
    /// The firm's time zone.
    pub zone: jiff::tz::TimeZone,
}

impl Chrome {
    /// The chrome of a page seen by someone not signed in.
    pub(crate) fn anonymous(state: &AppState, headers: &HeaderMap, here: &str) -> Chrome {
        let lang = Lang::of_request(headers);
        Chrome {
            t: Tr(lang),
            lang,
            me: None,
            csrf: String::new(),
            here: here.to_owned(),
            full: false,
            zone: state.zone.clone(),
        }
    }

    /// The languages the switch offers.
    pub(crate) fn languages(&self) -> [Lang; 2] {
        Lang::ALL
    }

    /// A date and time as the viewer reads it.
    pub(crate) fn when(&self, at: &time::OffsetDateTime) -> String {
        self.t.when(&self.zone, at)
    }

    /// A civil date and time typed into a form, read in the firm's time zone, as Unix
    /// milliseconds.
    pub(crate) fn unix_ms(&self, civil: jiff::civil::DateTime) -> Option<i64> {
        i18n::local_to_unix_ms(&self.zone, civil)
    }
}

/// The signed-in person, as the header and navigation show them. The navigation only saves
/// clicks: each page asks the use cases, which decide.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

impl Me {
    /// Whether the navigation offers the directory (people, teams, walls).
    pub(crate) fn sees_directory(&self) -> bool {
        matches!(
            self.role,
            Role::Officer | Role::Admin | Role::Partner | Role::TeamLead
        )
    }

    /// Whether the navigation offers emergency access (those who may open it, and the officer
    /// who reviews it).
    pub(crate) fn sees_break_glass(&self) -> bool {
        custos_app::may_break_glass(self.role) || self.role == Role::Officer
    }

    /// Whether the navigation offers transfers outside the firm (those who ask for or approve
    /// them).
    pub(crate) fn sees_transfers(&self) -> bool {
        matches!(
            self.role,
            Role::Officer | Role::Partner | Role::TeamLead | Role::Lawyer | Role::Paralegal
        )
    }

    /// Whether this is an outside recipient's account: the navigation offers only what was
    /// released to them.
    pub(crate) fn is_external(&self) -> bool {
        self.role == Role::External
    }

    /// Whether the navigation offers the audit explorer.
    pub(crate) fn sees_audit(&self) -> bool {
        self.role == Role::Officer
    }
}

/// A signed-in viewer of a page: the caller the use cases are asked for, and the chrome.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    /// Who asks.
    pub caller: Caller,
    /// The page's frame.
    pub chrome: Chrome,
    /// The person.
    pub person: Person,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let chrome = Chrome::anonymous(state, &parts.headers, &here(parts));
        let caller = match SignedIn::from_request_parts(parts, state).await {
            Ok(SignedIn(caller)) => caller,
            Err(rejection) => return Err(rejection.into_page(&chrome)),
        };
        viewer_of(state, &parts.headers, chrome, caller).await
    }
}

/// A viewer of the account setup pages: any login session, setup included.
#[derive(Debug, Clone)]
pub(crate) struct SetupViewer {
    /// Who asks.
    pub caller: Caller,
    /// The page's frame.
    pub chrome: Chrome,
}

impl FromRequestParts<AppState> for SetupViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let chrome = Chrome::anonymous(state, &parts.headers, &here(parts));
        let caller = match SigningIn::from_request_parts(parts, state).await {
            Ok(SigningIn(caller)) => caller,
            Err(rejection) => return Err(rejection.into_page(&chrome)),
        };
        let v = viewer_of(state, &parts.headers, chrome, caller).await?;
        Ok(SetupViewer {
            caller: v.caller,
            chrome: v.chrome,
        })
    }
}

/// The viewer behind an authenticated caller: their directory entry and the page's frame.
pub(crate) async fn viewer_of(
    state: &AppState,
    headers: &HeaderMap,
    mut chrome: Chrome,
    caller: Caller,
) -> Result<Viewer, Response> {
    let person = state
        .app
        .who_am_i(&caller)
        .await
        .map_err(|e| error_page(&chrome, e))?;
    chrome.csrf = state
        .app
        .csrf_token(cookie_token(headers).unwrap_or_default());
    chrome.me = Some(Me {
        name: person.display_name.clone(),
        role: person.role,
    });
    chrome.full = matches!(
        caller.via,
        custos_app::Via::Session {
            stage: custos_app::SessionStage::Full,
            ..
        }
    );
    Ok(Viewer {
        caller,
        chrome,
        person,
    })
}

/// The path and query of a request.
pub(crate) fn here(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// A local path to return to after signing in or switching language: only a path on this
/// site (no scheme, no `//host`, no backslash), else the home page.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A page telling the viewer why something could not be done.
#[derive(Template, WebTemplate)]
#[template(path = "problem.html")]
pub(crate) struct ProblemPage<'a> {
    pub c: &'a Chrome,
    pub heading: String,
    pub sentence: String,
    pub detail: Option<String>,
}

/// A record id from a path or a form: anything that is not one gets the same "not found" as a
/// missing record.
pub(crate) fn record_id(raw: &str) -> Option<uuid::Uuid> {
    raw.trim().parse().ok()
}

/// The "not found" page.
pub(crate) fn not_found(c: &Chrome) -> Response {
    error_page(c, AppError::NotFound)
}

/// A 303 to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The page for a use case's refusal: not found is the same whether the record is missing or
/// hidden; a denial names its rule in words; an expired session goes back to sign-in.
pub(crate) fn error_page(c: &Chrome, e: AppError) -> Response {
    let t = c.t;
    let (heading, sentence, detail) = match &e {
        AppError::Unauthenticated => {
            let next: String = form_urlencoded::byte_serialize(c.here.as_bytes()).collect();
            return see_other(&format!("/sign-in?next={next}&ended=1"));
        }
        AppError::SetupRequired(_) => return see_other(crate::auth::SETUP_PAGE),
        AppError::NotFound | AppError::UnknownReference(_) => {
            (t.get("not-found-heading"), t.get("not-found-text"), None)
        }
        AppError::Forbidden { rule, message } => (
            t.get("denied-heading"),
            rule_sentence(t, rule),
            Some(format!("{} ({rule})", message)),
        ),
        AppError::InsufficientScope(_) => (t.get("denied-heading"), t.get("denied-text"), None),
        AppError::Screened(message) => (
            t.get("denied-heading"),
            t.get("screened-text"),
            Some(message.clone()),
        ),
        AppError::Throttled { retry_after_secs } => (
            t.get("throttled-heading"),
            t.with("throttled-text", "minutes", retry_after_secs.div_ceil(60)),
            None,
        ),
        AppError::WrongCode => (t.get("invalid-heading"), t.get("release-code-wrong"), None),
        AppError::Invalid(_) | AppError::BadInput(_) | AppError::Conflict(_) => (
            t.get("invalid-heading"),
            t.get("invalid-text"),
            Some(e.to_string()),
        ),
        AppError::TooLarge(limit) => (
            t.get("invalid-heading"),
            t.with("too-large-text", "size", human_size(*limit)),
            None,
        ),
        AppError::Integrity => (t.get("integrity-heading"), t.get("integrity-text"), None),
        AppError::Unavailable => (
            t.get("unavailable-heading"),
            t.get("unavailable-text"),
            None,
        ),
        AppError::AuditTampered(_) | AppError::Internal(_) | AppError::BadCredentials => {
            (t.get("internal-heading"), t.get("internal-text"), None)
        }
    };
    let api = ApiError::from(e);
    let page = ProblemPage {
        c,
        heading,
        sentence,
        detail,
    };
    let mut response = (api.status, page).into_response();
    response.extensions_mut().insert(crate::error::ErrorLog {
        code: api.code,
        detail: api.detail,
    });
    response
}

/// The sentence for a rule that denied, in the viewer's language.
pub(crate) fn rule_sentence(t: Tr, rule: &str) -> String {
    t.try_get(&format!("rule-{}", rule.replace('.', "-")))
        .unwrap_or_else(|| t.get("denied-text"))
}

/// A page answer for an input problem the form cannot show next to a field.
pub(crate) fn bad_request(c: &Chrome, sentence: String) -> Response {
    let page = ProblemPage {
        c,
        heading: c.t.get("invalid-heading"),
        sentence,
        detail: None,
    };
    (StatusCode::BAD_REQUEST, page).into_response()
}

/// A byte count for people.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The role's name in the viewer's language.
pub(crate) fn role_name(t: Tr, role: Role) -> String {
    t.get(&format!("role-{}", role.as_str().replace('_', "-")))
}

/// Whether a state-changing request came from another site (its `Origin` or `Sec-Fetch-Site`
/// says so). The forms that need no session (sign-in, language) refuse those, so another site
/// cannot sign a browser into an account of its choosing.
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_none_or(|(_, authority)| authority != host),
        _ => false,
    }
}

/// A record by its number, followed by its name or title when the viewer may read it.
pub(crate) fn labelled(number: impl std::fmt::Display, name: Option<String>) -> String {
    match name {
        Some(name) => format!("{number} · {name}"),
        None => number.to_string(),
    }
}
