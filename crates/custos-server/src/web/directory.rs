//! Teams and walls, for the officer, admin/IT and team leads within their duties: teams and
//! their members; walls (create, see what they screen, by number and, where the viewer may
//! read it, by name). Every action is the API's use case; refusals are pages.

use super::matters::{MemberRow, Paging, name_of, names};
use super::people::PeopleQuery;
use super::{Chrome, Viewer, error_page, labelled, role_name, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{Membership, PageRequest};
use custos_domain::{ClientId, MatterId, PersonId, TeamId, WallObject, WallSubject};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams", get(teams).post(create_team))
        .route("/teams/{id}", get(team))
        .route("/teams/{id}/members/add", post(add_team_member))
        .route("/teams/{id}/members/remove", post(remove_team_member))
        .route("/walls", get(walls).post(create_wall))
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
async fn directory_choices(state: &AppState, v: &Viewer) -> Vec<MemberRow> {
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
    match state
        .app
        .change_team_member(&v.caller, team, person, change)
        .await
    {
        Ok(()) => see_other(&format!("/teams/{}?done=member-changed", team.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

pub(super) struct WallRow {
    subject: String,
    object: String,
    reason: String,
    raised: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "walls.html")]
struct WallsPage {
    c: Chrome,
    rows: Vec<WallRow>,
    next: Option<String>,
    people: Vec<MemberRow>,
    clients: Vec<(String, String)>,
    matters: Vec<(String, String)>,
    notice: Option<String>,
}

async fn walls(State(state): State<AppState>, v: Viewer, Query(q): Query<PeopleQuery>) -> Response {
    let paging = Paging::from_cursor(q.cursor);
    let page = match state.app.list_walls(&v.caller, &paging.request(50)).await {
        Ok(page) => page,
        Err(e) => return error_page(&v.chrome, e),
    };
    let subjects: Vec<PersonId> = page
        .items
        .iter()
        .filter_map(|w| match w.subject {
            WallSubject::Person(p) => Some(p),
            WallSubject::Team(_) => None,
        })
        .collect();
    let names = names(&state, &v, &subjects).await;
    let c = &v.chrome;
    let first = PageRequest {
        cursor: None,
        limit: Some(200),
    };
    let teams: HashMap<TeamId, String> = state
        .app
        .list_teams(&v.caller, &first)
        .await
        .map(|p| p.items.into_iter().map(|t| (t.id, t.name)).collect())
        .unwrap_or_default();
    // The form's choices also label the walls' objects: one listing each instead of a
    // lookup (and an audited read) per wall; a record beyond them is looked up on its own.
    let clients: Vec<(String, String)> = state
        .app
        .list_clients(&v.caller, &first)
        .await
        .map(|p| {
            p.items
                .into_iter()
                .map(|cl| (cl.id.0.to_string(), labelled(cl.number, cl.name)))
                .collect()
        })
        .unwrap_or_default();
    let matters: Vec<(String, String)> = state
        .app
        .list_matters(&v.caller, &first)
        .await
        .map(|p| {
            p.items
                .into_iter()
                .map(|m| (m.id.0.to_string(), labelled(m.number, m.title)))
                .collect()
        })
        .unwrap_or_default();
    let listed = |choices: &[(String, String)], id: uuid::Uuid| {
        let id = id.to_string();
        choices
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, l)| l.clone())
    };
    let mut rows = Vec::new();
    for w in page.items {
        let subject = match w.subject {
            WallSubject::Person(p) => name_of(c, &names, p),
            WallSubject::Team(t) => c.t.with(
                "wall-team",
                "id",
                teams.get(&t).cloned().unwrap_or_else(|| t.0.to_string()),
            ),
        };
        // A record by its number, and by its name or title when the viewer may read it.
        let object = match w.object {
            WallObject::Client(cl) => {
                let label = match listed(&clients, cl.0) {
                    Some(label) => label,
                    None => match state.app.get_client(&v.caller, cl).await {
                        Ok(client) => labelled(client.number, client.name),
                        Err(_) => cl.0.to_string(),
                    },
                };
                c.t.with("wall-client", "name", label)
            }
            WallObject::Matter(m) => {
                let label = match listed(&matters, m.0) {
                    Some(label) => label,
                    None => match state.app.get_matter(&v.caller, m).await {
                        Ok(matter) => labelled(matter.number, matter.title),
                        Err(_) => m.0.to_string(),
                    },
                };
                c.t.with("wall-matter", "id", label)
            }
        };
        rows.push(WallRow {
            subject,
            object,
            reason: w.reason,
            raised: c.when(&w.created_at),
        });
    }
    let people = directory_choices(&state, &v).await;
    WallsPage {
        rows,
        next: page.next_cursor,
        people,
        clients,
        matters,
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct NewWallForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    reason: String,
}

async fn create_wall(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<NewWallForm>,
) -> Response {
    let Some(person) = super::record_id(&form.person).map(PersonId) else {
        return super::not_found(&v.chrome);
    };
    let object = match (form.client.trim(), form.matter.trim()) {
        (client, "") if !client.is_empty() => match super::record_id(client) {
            Some(id) => WallObject::Client(ClientId(id)),
            None => return super::not_found(&v.chrome),
        },
        ("", matter) if !matter.is_empty() => match super::record_id(matter) {
            Some(id) => WallObject::Matter(MatterId(id)),
            None => return super::not_found(&v.chrome),
        },
        _ => return super::bad_request(&v.chrome, v.chrome.t.get("wall-one-object")),
    };
    match state
        .app
        .create_wall(&v.caller, WallSubject::Person(person), object, &form.reason)
        .await
    {
        Ok(_) => see_other("/walls?done=wall-raised"),
        Err(e) => error_page(&v.chrome, e),
    }
}
