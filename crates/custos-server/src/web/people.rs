//! People, for the officer and admin/IT within their duties: create people (one-time
//! password shown once), change status, reset a second factor or a password, see and end
//! someone's sessions, unlock accounts. Every action is the API's use case; refusals are pages.

use super::matters::Paging;
use super::{Chrome, Viewer, error_page, role_name, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::NewPerson;
use custos_domain::{PersonId, PersonStatus, Role};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/people", get(people).post(create_person))
        .route("/people/{id}", get(person))
        .route("/people/{id}/status", post(set_status))
        .route("/people/{id}/second-factor", post(reset_factor))
        .route("/people/{id}/password", post(reset_password))
        .route("/people/{id}/sessions/end", post(end_sessions))
        .route("/people/{id}/unlock", post(unlock))
        .route("/people/{id}/compliance", post(record_compliance))
}

#[derive(Debug, Deserialize)]
/// A list page's query: where it continues, and a change just made (for its confirmation).
pub(super) struct PeopleQuery {
    pub(super) cursor: Option<String>,
    pub(super) done: Option<String>,
}

pub(super) struct PersonRow {
    id: String,
    name: String,
    user_name: String,
    role: String,
    status: String,
    locked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "people.html")]
struct PeoplePage {
    c: Chrome,
    rows: Vec<PersonRow>,
    next: Option<String>,
    roles: Vec<(&'static str, String)>,
    notice: Option<String>,
}

fn roles(c: &Chrome) -> Vec<(&'static str, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), role_name(c.t, *r)))
        .collect()
}

async fn people(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<PeopleQuery>,
) -> Response {
    let paging = Paging::from_cursor(q.cursor);
    let page = match state.app.list_people(&v.caller, &paging.request(50)).await {
        Ok(page) => page,
        Err(e) => return error_page(&v.chrome, e),
    };
    let locked: Vec<PersonId> = if v.person.role == Role::Officer {
        state
            .app
            .lockouts(&v.caller)
            .await
            .map(|l| l.into_iter().map(|l| l.person).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let c = &v.chrome;
    let rows = page
        .items
        .into_iter()
        .map(|p| PersonRow {
            id: p.id.0.to_string(),
            locked: locked.contains(&p.id),
            name: p.display_name,
            user_name: p.user_name.as_str().to_owned(),
            role: role_name(c.t, p.role),
            status: c.t.get(&format!("status-{}", p.status.as_str())),
        })
        .collect();
    PeoplePage {
        roles: roles(c),
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
        rows,
        next: page.next_cursor,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "secret_once.html")]
struct SecretOncePage {
    c: Chrome,
    heading: String,
    text: String,
    secret: String,
    back: String,
}

#[derive(Deserialize)]
struct NewPersonForm {
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

async fn create_person(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<NewPersonForm>,
) -> Response {
    let Ok(role) = Role::parse(&form.role) else {
        return super::bad_request(&v.chrome, v.chrome.t.get("role-unknown"));
    };
    let new = NewPerson {
        user_name: form.user_name,
        display_name: form.display_name,
        role,
    };
    match state.app.create_person(&v.caller, new).await {
        Ok((person, password)) => SecretOncePage {
            heading: v
                .chrome
                .t
                .with("person-created", "name", &person.display_name),
            text: v.chrome.t.get("one-time-password-text"),
            secret: password.to_string(),
            back: format!("/people/{}", person.id.0),
            c: v.chrome,
        }
        .into_response(),
        Err(e) => error_page(&v.chrome, e),
    }
}

pub(super) struct SessionLine {
    kind: String,
    source: String,
    last_seen: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "person.html")]
struct PersonPage {
    c: Chrome,
    id: String,
    name: String,
    user_name: String,
    role: String,
    status: String,
    status_code: &'static str,
    sessions: Option<Vec<SessionLine>>,
    lock: Option<String>,
    notice: Option<String>,
    /// The agreement's date, as the form's value (`YYYY-MM-DD` or empty).
    agreement: String,
    /// The training's last valid day, as the form's value.
    training: String,
    /// What keeps the person from client data today, in words (empty: nothing).
    missing: Vec<String>,
    /// Whether the viewer may record them (the officer for others, a partner for an officer).
    may_record: bool,
    /// Whether the viewer sees the dates at all (HR records: see `redact_compliance`).
    show_compliance: bool,
    /// What the person can access now (the officer's access review).
    reach: Option<ReachPanel>,
}

/// One matter a person can see, in the viewer's words.
struct ReachLine {
    id: String,
    number: String,
    why: String,
    metadata_only: bool,
    break_glass: bool,
}

/// "What can this person access": the officer's view on a person page.
struct ReachPanel {
    every: bool,
    lines: Vec<ReachLine>,
    hidden: u32,
}

/// The panel, for the officer (the use case decides; anyone else gets none).
async fn reach_panel(state: &AppState, v: &Viewer, id: PersonId) -> Option<ReachPanel> {
    if v.person.role != Role::Officer {
        return None;
    }
    let access = state.app.person_access(&v.caller, id).await.ok()?;
    let t = v.chrome.t;
    Some(ReachPanel {
        every: access.every_matter,
        hidden: access.hidden,
        lines: access
            .matters
            .into_iter()
            .map(|e| ReachLine {
                id: e.matter.0.to_string(),
                number: e.number.to_string(),
                why: t
                    .try_get(&format!("access-why-{}", e.rule.replace(['.', '_'], "-")))
                    .unwrap_or_else(|| e.rule.to_owned()),
                metadata_only: e.scope == custos_app::Scope::MetadataOnly,
                break_glass: e.rule == custos_app::PolicyRule::BreakGlass.code(),
            })
            .collect(),
    })
}

/// What is missing, in the viewer's language.
pub(super) fn missing_text(t: super::i18n::Tr, m: &custos_domain::Missing) -> String {
    match m {
        custos_domain::Missing::Agreement => t.get("precondition-agreement"),
        custos_domain::Missing::Training => t.get("precondition-training"),
        custos_domain::Missing::TrainingExpired(d) => t.with(
            "precondition-training-expired",
            "date",
            custos_domain::iso(*d),
        ),
    }
}

async fn person(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PeopleQuery>,
) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    let p = match state.app.get_person(&v.caller, id).await {
        Ok(p) => p,
        Err(e) => return error_page(&v.chrome, e),
    };
    let c = &v.chrome;
    // Sessions and locks are the officer's and IT's to see; the use cases decide.
    let manages = matches!(v.person.role, Role::Officer | Role::Admin);
    let sessions = if manages {
        state
            .app
            .sessions_of_person(&v.caller, id)
            .await
            .ok()
            .map(|s| {
                s.into_iter()
                    .map(|s| SessionLine {
                        kind: c.t.get(&format!("session-kind-{}", s.kind)),
                        source: s.source,
                        last_seen: c.when(&s.last_seen_at),
                    })
                    .collect()
            })
    } else {
        None
    };
    let lock = if v.person.role == Role::Officer {
        state
            .app
            .lockouts(&v.caller)
            .await
            .ok()
            .and_then(|l| l.into_iter().find(|l| l.person == id))
            .map(|l| c.t.with("locked-until", "at", c.when(&l.locked_until)))
    } else {
        None
    };
    let rights = state
        .app
        .compliance_rights(&v.caller, &p)
        .await
        .unwrap_or_default();
    let today = state.app.today(time::OffsetDateTime::now_utc());
    let compliance = p.compliance;
    let reach = reach_panel(&state, &v, id).await;
    let c = &v.chrome;
    PersonPage {
        reach,
        agreement: compliance
            .agreement_signed_on
            .map(custos_domain::iso)
            .unwrap_or_default(),
        training: compliance
            .training_valid_until
            .map(custos_domain::iso)
            .unwrap_or_default(),
        missing: compliance
            .missing(today)
            .iter()
            .map(|m| missing_text(c.t, m))
            .collect(),
        may_record: rights.may_record,
        show_compliance: rights.sees,
        id: p.id.0.to_string(),
        name: p.display_name,
        user_name: p.user_name.as_str().to_owned(),
        role: role_name(c.t, p.role),
        status: c.t.get(&format!("status-{}", p.status.as_str())),
        status_code: p.status.as_str(),
        sessions,
        lock,
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    let status = match form.status.as_str() {
        "active" => PersonStatus::Active,
        "suspended" => PersonStatus::Suspended,
        "departed" => PersonStatus::Departed,
        _ => return super::bad_request(&v.chrome, v.chrome.t.get("status-unknown")),
    };
    match state.app.set_person_status(&v.caller, id, status).await {
        Ok(_) => see_other(&format!("/people/{}?done=status-changed", id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn reset_factor(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.reset_second_factor(&v.caller, id).await {
        Ok(()) => see_other(&format!("/people/{}?done=factor-reset", id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn reset_password(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.reset_password(&v.caller, id).await {
        Ok(password) => SecretOncePage {
            heading: v.chrome.t.get("password-reset-done"),
            text: v.chrome.t.get("one-time-password-text"),
            secret: password.to_string(),
            back: format!("/people/{}", id.0),
            c: v.chrome,
        }
        .into_response(),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn end_sessions(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.revoke_sessions_of_person(&v.caller, id).await {
        Ok(_) => see_other(&format!("/people/{}?done=sessions-ended", id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn unlock(State(state): State<AppState>, v: Viewer, Path(id): Path<String>) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.unlock(&v.caller, id).await {
        Ok(_) => see_other(&format!("/people/{}?done=unlocked", id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct ComplianceForm {
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    training: String,
}

async fn record_compliance(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ComplianceForm>,
) -> Response {
    let Some(id) = super::record_id(&id).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    let date = |field: &'static str, raw: &str| {
        let raw = raw.trim();
        if raw.is_empty() {
            Ok(None)
        } else {
            custos_domain::parse_date(field, raw).map(Some)
        }
    };
    let compliance = match (
        date("agreement_signed_on", &form.agreement),
        date("training_valid_until", &form.training),
    ) {
        (Ok(agreement_signed_on), Ok(training_valid_until)) => custos_domain::Compliance {
            agreement_signed_on,
            training_valid_until,
        },
        (Err(e), _) | (_, Err(e)) => return error_page(&v.chrome, e.into()),
    };
    match state.app.record_compliance(&v.caller, id, compliance).await {
        Ok(_) => see_other(&format!("/people/{}?done=compliance-recorded", id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}
