//! Break-glass (R6) and "who can access this matter, and why": the emergency access form, one's
//! own emergency accesses, the officer's review queue, and the panel on the matter page.

use super::{Chrome, Viewer, error_page, role_name, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{BreakGlassList, BreakGlassView, PageRequest};
use custos_domain::{BreakGlassId, MatterId, Role};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/break-glass", get(break_glass).post(open_break_glass))
        .route("/break-glass/{id}/review", post(review))
        .route("/break-glass/{id}/end", post(end))
}

pub(super) struct EmergencyRow {
    id: String,
    /// "Lena Li on M-0042".
    heading: String,
    person: String,
    matter: String,
    /// A link to the matter while the access is open (for its holder).
    matter_href: Option<String>,
    justification: String,
    opened: String,
    until: String,
    active: bool,
    /// The verdict and comment, once reviewed.
    review: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "break_glass.html")]
struct BreakGlassPage {
    c: Chrome,
    /// The viewer may open emergency access (partners, team leads, lawyers).
    may_open: bool,
    hours: i64,
    mine: Vec<EmergencyRow>,
    /// The officer's queue (`None` for everyone else).
    queue: Option<Vec<EmergencyRow>>,
    /// Reviewed ones (the officer).
    closed: Vec<EmergencyRow>,
    notice: Option<String>,
    matter: String,
}

#[derive(Deserialize)]
struct BreakGlassQuery {
    #[serde(default)]
    done: Option<String>,
    /// A matter number to prefill (from a refusal page).
    #[serde(default)]
    matter: String,
}

fn row(c: &Chrome, b: BreakGlassView, mine: bool) -> EmergencyRow {
    let review = b.verdict.map(|v| {
        c.t.with_all(
            "break-glass-reviewed-line",
            &[
                ("verdict", c.t.get(&format!("break-glass-verdict-{v}"))),
                ("comment", b.review_comment.clone().unwrap_or_default()),
            ],
        )
    });
    EmergencyRow {
        heading: c.t.with_all(
            "break-glass-who-what",
            &[
                ("name", b.person_name.clone()),
                ("matter", b.matter_number.to_string()),
            ],
        ),
        id: b.id.0.to_string(),
        person: b.person_name,
        matter: b.matter_number.to_string(),
        matter_href: (mine && b.active).then(|| format!("/matters/{}", b.matter.0)),
        justification: b.justification,
        opened: c.when(&b.opened_at),
        until: c.when(&b.expires_at),
        active: b.active,
        review,
    }
}

async fn break_glass(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<BreakGlassQuery>,
) -> Response {
    let app = &state.app;
    let first = PageRequest {
        cursor: None,
        limit: Some(50),
    };
    let c = &v.chrome;
    let mine = match app
        .list_break_glass(&v.caller, BreakGlassList::Mine, &first)
        .await
    {
        Ok(page) => page.items.into_iter().map(|b| row(c, b, true)).collect(),
        Err(e) => return error_page(c, e),
    };
    let officer = v.person.role == Role::Officer;
    let (queue, closed) = if officer {
        let queue = app
            .list_break_glass(&v.caller, BreakGlassList::AwaitingReview, &first)
            .await
            .map(|p| p.items.into_iter().map(|b| row(c, b, false)).collect())
            .ok();
        let closed = app
            .list_break_glass(&v.caller, BreakGlassList::All, &first)
            .await
            .map(|p| {
                p.items
                    .into_iter()
                    .filter(|b| b.verdict.is_some())
                    .map(|b| row(c, b, false))
                    .collect()
            })
            .unwrap_or_default();
        (queue, closed)
    } else {
        (None, Vec::new())
    };
    BreakGlassPage {
        may_open: custos_app::may_break_glass(v.person.role),
        hours: app.break_glass_hours(),
        mine,
        queue,
        closed,
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        matter: q.matter,
        c: v.chrome.clone(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct OpenForm {
    #[serde(default)]
    matter: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    hours: String,
}

async fn open_break_glass(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<OpenForm>,
) -> Response {
    let hours = match form.hours.trim() {
        "" => None,
        h => match h.parse::<u32>() {
            Ok(h) => Some(h),
            Err(_) => {
                return super::bad_request(&v.chrome, v.chrome.t.get("break-glass-hours-bad"));
            }
        },
    };
    let matter = match state.app.matter_id_by_number(&form.matter).await {
        Ok(Some(id)) => id,
        Ok(None) => return super::not_found(&v.chrome),
        Err(e) => return error_page(&v.chrome, e),
    };
    match state
        .app
        .break_glass(&v.caller, matter, &form.justification, hours)
        .await
    {
        Ok(b) => see_other(&format!("/matters/{}?done=break-glass-opened", b.matter.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    comment: String,
}

async fn review(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Response {
    let Some(id) = super::record_id(&id).map(BreakGlassId) else {
        return super::not_found(&v.chrome);
    };
    let justified = match form.verdict.as_str() {
        "justified" => true,
        "unjustified" => false,
        _ => return super::bad_request(&v.chrome, v.chrome.t.get("break-glass-verdict-bad")),
    };
    match state
        .app
        .review_break_glass(&v.caller, id, justified, &form.comment)
        .await
    {
        Ok(_) => see_other("/break-glass?done=break-glass-reviewed"),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn end(State(state): State<AppState>, v: Viewer, Path(id): Path<String>) -> Response {
    let Some(id) = super::record_id(&id).map(BreakGlassId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.end_break_glass(&v.caller, id).await {
        Ok(_) => see_other("/break-glass?done=break-glass-ended"),
        Err(e) => error_page(&v.chrome, e),
    }
}

/// One line of the "who has access and why" panel.
pub(super) struct AccessLine {
    pub(super) name: String,
    pub(super) role: String,
    pub(super) why: String,
    /// Metadata only (the officer's oversight, IT).
    pub(super) metadata_only: bool,
    pub(super) break_glass: bool,
}

/// The "who has access and why" panel of a matter page.
pub(super) struct AccessPanel {
    pub(super) allowed: Vec<AccessLine>,
    pub(super) screened: Vec<AccessLine>,
    pub(super) held_back: Vec<AccessLine>,
    pub(super) others: u32,
}

/// What a "who has access" panel is about.
pub(super) enum AccessOf {
    Matter(MatterId),
    Document(custos_domain::DocumentId),
    Client(custos_domain::ClientId),
}

/// A decision's rule in the viewer's words; for R4, what is missing (the policy's sentence
/// before its colon names no id, only what and since when).
pub(super) fn why(c: &Chrome, rule: &str, message: &str) -> String {
    let words =
        c.t.try_get(&format!("access-why-{}", rule.replace(['.', '_'], "-")))
            .unwrap_or_else(|| rule.to_owned());
    if rule == custos_app::PolicyRule::Precondition.code() {
        let what = message.split(':').next().unwrap_or_default();
        format!("{words}: {what}")
    } else {
        words
    }
}

/// The panel, for those who may see it (the officer, the matter lead, the team lead).
pub(super) async fn access_panel(
    state: &AppState,
    v: &Viewer,
    of: AccessOf,
) -> Option<AccessPanel> {
    let groups = |a: custos_app::MatterAccess| (a.allowed, a.screened, a.held_back, a.others);
    let (allowed, screened, held_back, others) = match of {
        AccessOf::Matter(id) => state
            .app
            .who_can_access_matter(&v.caller, id)
            .await
            .map(groups),
        AccessOf::Document(id) => state
            .app
            .who_can_access_document(&v.caller, id)
            .await
            .map(groups),
        AccessOf::Client(id) => state
            .app
            .who_can_access_client(&v.caller, id)
            .await
            .map(|a| (a.allowed, a.screened, a.held_back, a.others)),
    }
    .ok()?;
    let c = &v.chrome;
    // The rule in the viewer's words; for R4, what is missing (the policy's sentence before
    // its colon names no id, only what and since when).
    let line = |e: custos_app::AccessEntry| AccessLine {
        why: why(c, e.rule, &e.message),
        metadata_only: e.scope == Some(custos_app::Scope::MetadataOnly),
        break_glass: e.rule == custos_app::PolicyRule::BreakGlass.code(),
        role: role_name(c.t, e.role),
        name: e.name,
    };
    Some(AccessPanel {
        allowed: allowed.into_iter().map(line).collect(),
        screened: screened.into_iter().map(line).collect(),
        held_back: held_back.into_iter().map(line).collect(),
        others,
    })
}
