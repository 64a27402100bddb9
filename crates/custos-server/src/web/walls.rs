//! Ethical walls (R3), for the officer: raise exclusionary and inclusionary walls, see what
//! each screens (by number and, where the viewer may read it, by name), and lift one with a
//! reason. Every action is the API's use case; refusals are pages.

use super::directory::directory_choices;
use super::matters::{MemberRow, Paging, name_of, names};
use super::people::PeopleQuery;
use super::{Chrome, Viewer, error_page, labelled, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::PageRequest;
use custos_domain::{
    ClientId, MatterId, PersonId, TeamId, WallId, WallKind, WallObject, WallSubject,
};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/walls", get(walls).post(create_wall))
        .route("/walls/{id}/lift", post(lift_wall))
}

pub(super) struct WallRow {
    id: String,
    inclusionary: bool,
    subject: String,
    object: String,
    reason: String,
    raised: String,
    /// "Lifted by X on DATE: reason", once lifted.
    lifted: Option<String>,
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
        .chain(
            page.items
                .iter()
                .filter_map(|w| w.lifted.as_ref().map(|l| l.by)),
        )
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
    // lookup (and an audited read) per wall.
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
    let mut matters: Vec<(String, String)> = state
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
    // Records the officer may not see (an inclusionary wall keeps her out too) are named by
    // their number, and offered in the form so she can admit another person to them.
    let numbers = state
        .app
        .wall_object_numbers(&v.caller, &page.items)
        .await
        .unwrap_or_default();
    let mut clients = clients;
    for w in &page.items {
        let (choices, id) = match w.object {
            WallObject::Client(cl) => (&mut clients, cl.0),
            WallObject::Matter(m) => (&mut matters, m.0),
        };
        let key = id.to_string();
        if let Some(number) = numbers.get(&id)
            && !choices.iter().any(|(k, _)| *k == key)
        {
            choices.push((key, number.clone()));
        }
    }
    let listed = |choices: &[(String, String)], id: uuid::Uuid| {
        let id = id.to_string();
        choices
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, l)| l.clone())
            .unwrap_or(id)
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
            WallObject::Client(cl) => c.t.with("wall-client", "name", listed(&clients, cl.0)),
            WallObject::Matter(m) => c.t.with("wall-matter", "id", listed(&matters, m.0)),
        };
        let lifted = w.lifted.map(|l| {
            c.t.with_all(
                "wall-lifted-line",
                &[
                    ("name", name_of(c, &names, l.by)),
                    ("when", c.when(&l.at)),
                    ("reason", l.reason),
                ],
            )
        });
        rows.push(WallRow {
            id: w.id.0.to_string(),
            inclusionary: w.kind == WallKind::Inclusionary,
            subject,
            object,
            reason: w.reason,
            raised: c.when(&w.created_at),
            lifted,
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
    #[serde(default)]
    kind: String,
    /// Set by the "what would change" button: show the preview, save nothing.
    #[serde(default)]
    preview: String,
}

pub(super) struct PreviewRow {
    number: String,
    loses: Vec<String>,
    keeps: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "wall_preview.html")]
struct WallPreviewPage {
    c: Chrome,
    rows: Vec<PreviewRow>,
    kind: String,
    person: String,
    client: String,
    matter: String,
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
    let kind = match WallKind::parse(form.kind.trim()) {
        Ok(kind) => kind,
        Err(e) => return error_page(&v.chrome, e.into()),
    };
    if !form.preview.is_empty() {
        let preview = state
            .app
            .preview_wall(
                &v.caller,
                kind,
                WallSubject::Person(person),
                object,
                &form.reason,
            )
            .await;
        return match preview {
            Ok(p) => {
                let c = &v.chrome;
                WallPreviewPage {
                    rows: p
                        .matters
                        .into_iter()
                        .map(|m| PreviewRow {
                            number: m.number.to_string(),
                            loses: m
                                .loses
                                .into_iter()
                                .map(|e| format!("{} ({})", e.name, super::role_name(c.t, e.role)))
                                .collect(),
                            keeps: m.keeps,
                        })
                        .collect(),
                    kind: kind.as_str().to_owned(),
                    person: form.person,
                    client: form.client,
                    matter: form.matter,
                    reason: form.reason,
                    c: v.chrome.clone(),
                }
                .into_response()
            }
            Err(e) => error_page(&v.chrome, e),
        };
    }
    match state
        .app
        .create_wall(
            &v.caller,
            kind,
            WallSubject::Person(person),
            object,
            &form.reason,
        )
        .await
    {
        Ok(_) => see_other("/walls?done=wall-raised"),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct LiftForm {
    #[serde(default)]
    reason: String,
}

async fn lift_wall(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<LiftForm>,
) -> Response {
    let Some(id) = super::record_id(&id).map(WallId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.lift_wall(&v.caller, id, &form.reason).await {
        Ok(_) => see_other("/walls?done=wall-lifted"),
        Err(e) => error_page(&v.chrome, e),
    }
}
