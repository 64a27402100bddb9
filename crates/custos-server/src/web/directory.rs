//! Teams, for the officer, admin/IT and team leads within their duties: teams and their
//! members (walls are in `walls.rs`). Every action is the API's use case; refusals are pages.

use super::matters::{MemberRow, Paging, name_of, names};
use super::people::PeopleQuery;
use super::{Chrome, Viewer, error_page, role_name, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{Membership, PageRequest};
use custos_domain::{PersonId, TeamId};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams", get(teams).post(create_team))
        .route("/teams/{id}", get(team))
        .route("/teams/{id}/members/add", post(add_team_member))
        .route("/teams/{id}/members/remove", post(remove_team_member))
}

pub(super) struct TeamRow {
    id: String,
    name: String,
    lead: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "teams.html")]
struct TeamsPage {
    c: Chrome,
    rows: Vec<TeamRow>,
    next: Option<String>,
    leads: Vec<MemberRow>,
}

async fn teams(State(state): State<AppState>, v: Viewer, Query(q): Query<Paging>) -> Response {
    let page = match state.app.list_teams(&v.caller, &q.request(50)).await {
        Ok(page) => page,
        Err(e) => return error_page(&v.chrome, e),
    };
    let leads: Vec<PersonId> = page.items.iter().filter_map(|t| t.lead).collect();
    let names = names(&state, &v, &leads).await;
    let c = &v.chrome;
    let candidates = directory_choices(&state, &v).await;
    TeamsPage {
        rows: page
            .items
            .into_iter()
            .map(|t| TeamRow {
                id: t.id.0.to_string(),
                name: t.name,
                lead: t.lead.map(|l| name_of(c, &names, l)).unwrap_or_default(),
            })
            .collect(),
        next: page.next_cursor,
        leads: candidates,
        c: v.chrome.clone(),
    }
    .into_response()
}

/// The first 200 people of the directory the viewer may see, for a form's list.
pub(super) async fn directory_choices(state: &AppState, v: &Viewer) -> Vec<MemberRow> {
    state
        .app
        .list_people(
            &v.caller,
            &PageRequest {
                cursor: None,
                limit: Some(200),
            },
        )
        .await
        .map(|page| {
            page.items
                .into_iter()
                .map(|p| MemberRow {
                    id: p.id.0.to_string(),
                    name: p.display_name,
                    role: role_name(v.chrome.t, p.role),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct NewTeamForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    lead: String,
}

async fn create_team(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<NewTeamForm>,
) -> Response {
    let lead = if form.lead.trim().is_empty() {
        None
    } else {
        match super::record_id(&form.lead) {
            Some(id) => Some(PersonId(id)),
            None => return super::not_found(&v.chrome),
        }
    };
    match state.app.create_team(&v.caller, &form.name, lead).await {
        Ok(team) => see_other(&format!("/teams/{}?done=team-created", team.id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "team.html")]
struct TeamPage {
    c: Chrome,
    id: String,
    members: Vec<MemberRow>,
    candidates: Vec<MemberRow>,
    notice: Option<String>,
}

async fn team(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PeopleQuery>,
) -> Response {
    let Some(id) = super::record_id(&id).map(TeamId) else {
        return super::not_found(&v.chrome);
    };
    let members = match state.app.team_members(&v.caller, id).await {
        Ok(m) => m,
        Err(e) => return error_page(&v.chrome, e),
    };
    let names = names(&state, &v, &members).await;
    let c = &v.chrome;
    let member_ids: Vec<String> = members.iter().map(|m| m.0.to_string()).collect();
    let candidates = directory_choices(&state, &v)
        .await
        .into_iter()
        .filter(|p| !member_ids.contains(&p.id))
        .collect();
    TeamPage {
        id: id.0.to_string(),
        members: members
            .iter()
            .map(|p| MemberRow {
                id: p.0.to_string(),
                name: name_of(c, &names, *p),
                role: names
                    .get(p)
                    .map(|(_, r)| role_name(c.t, *r))
                    .unwrap_or_default(),
            })
            .collect(),
        candidates,
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct MemberForm {
    #[serde(default)]
    person: String,
    /// Set by the "what would change" button: show the preview, change nothing.
    #[serde(default)]
    preview: String,
}

async fn add_team_member(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    change_team(state, v, id, form, Membership::Add).await
}

async fn remove_team_member(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    change_team(state, v, id, form, Membership::Remove).await
}

async fn change_team(
    state: AppState,
    v: Viewer,
    id: String,
    form: MemberForm,
    change: Membership,
) -> Response {
    let (Some(team), Some(person)) = (super::record_id(&id), super::record_id(&form.person)) else {
        return super::not_found(&v.chrome);
    };
    let (team, person) = (TeamId(team), PersonId(person));
    if !form.preview.is_empty() {
        let place = custos_app::StaffingPlace::Team(team);
        return super::what_if::staffing_page(&state, &v, place, person, change).await;
    }
    match state
        .app
        .change_team_member(&v.caller, team, person, change)
        .await
    {
        Ok(()) => see_other(&format!("/teams/{}?done=member-changed", team.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}
