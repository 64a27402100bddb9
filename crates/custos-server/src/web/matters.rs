//! Home and matters: lists filtered to what the viewer may see (the use cases decide), and a
//! matter's page with its documents, team and walls. Clients are in `clients.rs`.

use super::{Chrome, Viewer, error_page, human_size, role_name, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{Membership, PageRequest};
use custos_domain::{MatterId, PersonId, WallObject, WallSubject};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/matters", get(matters))
        .route("/matters/{id}", get(matter))
        .route("/matters/{id}/members/add", post(add_member))
        .route("/matters/{id}/members/remove", post(remove_member))
}

/// A cursor from a query string (anything unreadable starts from the beginning).
#[derive(Debug, Deserialize)]
pub(super) struct Paging {
    cursor: Option<String>,
    /// Words a title or name must contain.
    #[serde(default)]
    pub(super) q: String,
    /// A change just made, named for its confirmation.
    pub(super) done: Option<String>,
}

impl Paging {
    pub(super) fn from_cursor(cursor: Option<String>) -> Self {
        Paging {
            cursor,
            q: String::new(),
            done: None,
        }
    }

    /// The search, if any.
    pub(super) fn query(&self) -> Option<&str> {
        Some(self.q.trim()).filter(|q| !q.is_empty())
    }

    /// The query string for the next page (the search kept).
    pub(super) fn next(&self, cursor: Option<String>) -> Option<String> {
        let cursor = cursor?;
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(q) = self.query() {
            out.append_pair("q", q);
        }
        out.append_pair("cursor", &cursor);
        Some(out.finish())
    }

    pub(super) fn request(&self, limit: u32) -> PageRequest {
        PageRequest {
            cursor: self.cursor.as_deref().and_then(|c| c.parse().ok()),
            limit: Some(limit),
        }
    }
}

/// A line of a list: where it leads and what it says.
pub(super) struct Row {
    pub id: String,
    pub number: String,
    pub title: String,
    pub opened: String,
}

impl Row {
    /// A matter as a line of a list.
    pub(super) fn of(c: &Chrome, m: custos_app::MatterView) -> Row {
        Row {
            id: m.id.0.to_string(),
            number: m.number.to_string(),
            title: untitled(c, m.title),
            opened: c.when(&m.created_at),
        }
    }
}

pub(super) fn untitled(c: &Chrome, title: Option<String>) -> String {
    title.unwrap_or_else(|| c.t.get("metadata-only"))
}

#[derive(Template, WebTemplate)]
#[template(path = "matters.html")]
struct MattersPage {
    c: Chrome,
    rows: Vec<Row>,
    next: Option<String>,
    q: String,
}

async fn matters(State(state): State<AppState>, v: Viewer, Query(q): Query<Paging>) -> Response {
    match state
        .app
        .search_matters(&v.caller, &q.request(50), q.query())
        .await
    {
        Ok(page) => {
            let c = &v.chrome;
            let rows = page.items.into_iter().map(|m| Row::of(c, m)).collect();
            MattersPage {
                c: v.chrome,
                rows,
                next: q.next(page.next_cursor),
                q: q.q.clone(),
            }
            .into_response()
        }
        Err(e) => error_page(&v.chrome, e),
    }
}

/// Display names of people the viewer may see (others show as "someone you may not see").
pub(super) async fn names(
    state: &AppState,
    v: &Viewer,
    ids: &[PersonId],
) -> HashMap<PersonId, (String, custos_domain::Role)> {
    let mut unique: Vec<PersonId> = ids.to_vec();
    unique.sort_by_key(|p| p.0);
    unique.dedup();
    state
        .app
        .people_named(&v.caller, &unique)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.id, (p.display_name, p.role)))
        .collect()
}

pub(super) fn name_of(
    c: &Chrome,
    names: &HashMap<PersonId, (String, custos_domain::Role)>,
    id: PersonId,
) -> String {
    names
        .get(&id)
        .map_or_else(|| c.t.get("someone-hidden"), |(name, _)| name.clone())
}

pub(super) struct DocRow {
    pub id: String,
    pub title: String,
    pub class_code: &'static str,
    pub class_name: String,
    pub size: String,
    pub when: String,
}

pub(super) struct MemberRow {
    pub id: String,
    pub name: String,
    pub role: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "matter.html")]
struct MatterPage {
    c: Chrome,
    id: String,
    number: String,
    title: String,
    client: String,
    lead: String,
    opened: String,
    notice: Option<String>,
    documents: Vec<DocRow>,
    next_documents: Option<String>,
    members: Vec<MemberRow>,
    candidates: Vec<MemberRow>,
    walls: Option<Vec<String>>,
    may_upload: bool,
    may_staff: bool,
    access: Option<super::emergency::AccessPanel>,
}

#[derive(Debug, Deserialize)]
struct MatterQuery {
    cursor: Option<String>,
    done: Option<String>,
}

async fn matter(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<MatterQuery>,
) -> Response {
    let Some(id) = super::record_id(&id).map(MatterId) else {
        return super::not_found(&v.chrome);
    };
    let app = &state.app;
    let matter = match app.get_matter(&v.caller, id).await {
        Ok(m) => m,
        Err(e) => return error_page(&v.chrome, e),
    };
    let paging = Paging::from_cursor(q.cursor).request(50);
    let (documents, members) = match tokio::try_join!(
        app.list_documents(&v.caller, id, &paging),
        app.matter_members(&v.caller, id),
    ) {
        Ok(found) => found,
        Err(e) => return error_page(&v.chrome, e),
    };
    // The client by number, and by name when the viewer may read it.
    let client_name = app
        .get_client(&v.caller, matter.client)
        .await
        .ok()
        .map(|client| super::labelled(client.number, client.name));
    // The directory and the walls are offered to the roles whose duties include staffing and
    // screening; the use cases decide, this only spares the others a refused request.
    let manages = v.chrome.me.as_ref().is_some_and(super::Me::sees_directory);
    let rights = app.matter_rights(&v.caller, id).await.ok();
    let may_staff = rights.as_ref().is_some_and(|r| r.manage_staff);
    let may_upload = rights.as_ref().is_some_and(|r| !r.upload.is_empty());
    let access = if rights.as_ref().is_some_and(|r| r.see_access) {
        super::emergency::access_panel(&state, &v, super::emergency::AccessOf::Matter(id)).await
    } else {
        None
    };
    let first = PageRequest {
        cursor: None,
        limit: Some(200),
    };
    let walls: Option<Vec<custos_app::WallView>> = if manages {
        app.list_walls(&v.caller, &first).await.ok().map(|page| {
            page.items
                .into_iter()
                .filter(|w| match w.object {
                    WallObject::Matter(m) => m == id,
                    WallObject::Client(cl) => cl == matter.client,
                })
                .collect()
        })
    } else {
        None
    };
    let mut wanted = members.clone();
    wanted.push(matter.lead);
    wanted.extend(walls.iter().flatten().filter_map(|w| match w.subject {
        WallSubject::Person(p) => Some(p),
        WallSubject::Team(_) => None,
    }));
    let names = names(&state, &v, &wanted).await;
    let c = &v.chrome;
    let candidates = if may_staff {
        app.list_people(&v.caller, &first)
            .await
            .map(|page| {
                page.items
                    .into_iter()
                    .filter(|p| !members.contains(&p.id) && p.status.as_str() == "active")
                    .map(|p| MemberRow {
                        id: p.id.0.to_string(),
                        name: p.display_name,
                        role: role_name(c.t, p.role),
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let walls = walls.map(|ws| {
        ws.into_iter()
            .map(|w| {
                let subject = match w.subject {
                    WallSubject::Person(p) => name_of(c, &names, p),
                    WallSubject::Team(_) => c.t.get("a-team"),
                };
                c.t.with_all("wall-line", &[("subject", subject), ("reason", w.reason)])
            })
            .collect()
    });
    let page = MatterPage {
        may_upload,
        may_staff,
        id: id.0.to_string(),
        number: matter.number.to_string(),
        title: untitled(c, matter.title),
        client: untitled(c, client_name),
        lead: name_of(c, &names, matter.lead),
        opened: c.when(&matter.created_at),
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        documents: documents.items.into_iter().map(|d| doc_row(c, d)).collect(),
        next_documents: documents.next_cursor,
        members: members
            .iter()
            .map(|p| MemberRow {
                id: p.0.to_string(),
                name: name_of(c, &names, *p),
                role: names
                    .get(p)
                    .map(|(_, role)| role_name(c.t, *role))
                    .unwrap_or_default(),
            })
            .collect(),
        candidates,
        walls,
        access,
        c: v.chrome,
    };
    page.into_response()
}

pub(super) fn doc_row(c: &Chrome, d: custos_app::DocumentView) -> DocRow {
    DocRow {
        id: d.id.0.to_string(),
        title: untitled(c, d.title),
        class_code: d.classification.as_str(),
        class_name: c.t.get(&format!("class-{}", d.classification.as_str())),
        size: human_size(d.size),
        when: c.when(&d.created_at),
    }
}

#[derive(Deserialize)]
struct MemberForm {
    #[serde(default)]
    person: String,
    /// Set by the "what would change" button: show the preview, change nothing.
    #[serde(default)]
    preview: String,
}

async fn add_member(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    change_member(state, v, id, form, Membership::Add).await
}

async fn remove_member(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    change_member(state, v, id, form, Membership::Remove).await
}

async fn change_member(
    state: AppState,
    v: Viewer,
    id: String,
    form: MemberForm,
    change: Membership,
) -> Response {
    let (Some(matter), Some(person)) = (super::record_id(&id), super::record_id(&form.person))
    else {
        return super::not_found(&v.chrome);
    };
    let (matter, person) = (MatterId(matter), PersonId(person));
    if !form.preview.is_empty() {
        let place = custos_app::StaffingPlace::Matter(matter);
        return super::what_if::staffing_page(&state, &v, place, person, change).await;
    }
    match state
        .app
        .change_matter_member(&v.caller, matter, person, change)
        .await
    {
        Ok(()) => {
            let done = match change {
                Membership::Add => "member-added",
                Membership::Remove => "member-removed",
            };
            see_other(&format!("/matters/{}?done={done}", matter.0))
        }
        Err(e) => error_page(&v.chrome, e),
    }
}
