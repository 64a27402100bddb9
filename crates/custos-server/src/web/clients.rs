//! Clients: the list filtered to what the viewer may see (search by name or number), a
//! client's page, taking on a client and opening a matter for it. The use cases decide.

use super::matters::{MemberRow, Paging, name_of, names, untitled};
use super::{Chrome, Viewer, error_page, role_name, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::PageRequest;
use custos_domain::{ClientId, PersonId};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients", get(clients).post(create_client))
        .route("/clients/{id}", get(client))
        .route("/clients/{id}/matters", post(create_matter))
}

pub(super) struct ClientRow {
    id: String,
    number: String,
    name: String,
    since: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "clients.html")]
struct ClientsPage {
    c: Chrome,
    rows: Vec<ClientRow>,
    next: Option<String>,
    q: String,
    takes_on: bool,
}

/// Whether the forms to take on clients and open matters are offered (the roles whose duty it
/// is; the use cases decide).
fn takes_on(v: &Viewer) -> bool {
    matches!(
        v.person.role,
        custos_domain::Role::Partner | custos_domain::Role::TeamLead
    )
}

async fn clients(State(state): State<AppState>, v: Viewer, Query(q): Query<Paging>) -> Response {
    match state
        .app
        .search_clients(&v.caller, &q.request(50), q.query())
        .await
    {
        Ok(page) => {
            let c = &v.chrome;
            let rows = page
                .items
                .into_iter()
                .map(|client| ClientRow {
                    id: client.id.0.to_string(),
                    number: client.number.to_string(),
                    name: untitled(c, client.name),
                    since: c.when(&client.created_at),
                })
                .collect();
            ClientsPage {
                takes_on: takes_on(&v),
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

#[derive(Template, WebTemplate)]
#[template(path = "client.html")]
struct ClientPage {
    c: Chrome,
    id: String,
    number: String,
    name: String,
    contact: String,
    responsible: String,
    since: String,
    notice: Option<String>,
    teams: Vec<(String, String)>,
    leads: Vec<MemberRow>,
    /// "Who has access and why", for the officer and the responsible partner.
    access: Option<super::emergency::AccessPanel>,
}

async fn client(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<Paging>,
) -> Response {
    let Some(id) = super::record_id(&id).map(ClientId) else {
        return super::not_found(&v.chrome);
    };
    let client = match state.app.get_client(&v.caller, id).await {
        Ok(client) => client,
        Err(e) => return error_page(&v.chrome, e),
    };
    let names = names(&state, &v, &[client.responsible]).await;
    let c = &v.chrome;
    let first = PageRequest {
        cursor: None,
        limit: Some(200),
    };
    let (teams, leads) = if takes_on(&v) && client.name.is_some() {
        let teams = state
            .app
            .list_teams(&v.caller, &first)
            .await
            .map(|p| {
                p.items
                    .into_iter()
                    .map(|t| (t.id.0.to_string(), t.name))
                    .collect()
            })
            .unwrap_or_default();
        let leads = state
            .app
            .list_people(&v.caller, &first)
            .await
            .map(|p| {
                p.items
                    .into_iter()
                    .filter(|p| {
                        p.status.as_str() == "active"
                            && matches!(
                                p.role,
                                custos_domain::Role::Partner
                                    | custos_domain::Role::TeamLead
                                    | custos_domain::Role::Lawyer
                            )
                    })
                    .map(|p| MemberRow {
                        id: p.id.0.to_string(),
                        name: p.display_name,
                        role: role_name(c.t, p.role),
                    })
                    .collect()
            })
            .unwrap_or_default();
        (teams, leads)
    } else {
        (Vec::new(), Vec::new())
    };
    // The officer and the responsible partner are asked; the use case decides, this only
    // spares everyone else a refused (and audited) request.
    let asks = v.caller.person == client.responsible
        || v.chrome
            .me
            .as_ref()
            .is_some_and(|m| m.role == custos_domain::Role::Officer);
    let access = if asks {
        super::emergency::access_panel(&state, &v, super::emergency::AccessOf::Client(id)).await
    } else {
        None
    };
    ClientPage {
        access,
        id: id.0.to_string(),
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        teams,
        leads,
        number: client.number.to_string(),
        name: untitled(c, client.name),
        contact: client.contact.unwrap_or_default(),
        responsible: name_of(c, &names, client.responsible),
        since: c.when(&client.created_at),
        c: v.chrome,
    }
    .into_response()
}

#[derive(Deserialize)]
struct NewClientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact: String,
}

async fn create_client(
    State(state): State<AppState>,
    v: Viewer,
    Form(form): Form<NewClientForm>,
) -> Response {
    match state
        .app
        .create_client(&v.caller, &form.name, &form.contact)
        .await
    {
        Ok(client) => see_other(&format!("/clients/{}?done=client-created", client.id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct NewMatterForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    lead: String,
}

async fn create_matter(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<NewMatterForm>,
) -> Response {
    let (Some(client), Some(team), Some(lead)) = (
        super::record_id(&id),
        super::record_id(&form.team),
        super::record_id(&form.lead),
    ) else {
        return super::not_found(&v.chrome);
    };
    match state
        .app
        .create_matter(
            &v.caller,
            ClientId(client),
            custos_domain::TeamId(team),
            PersonId(lead),
            &form.title,
        )
        .await
    {
        Ok(matter) => see_other(&format!("/matters/{}?done=matter-created", matter.id.0)),
        Err(e) => error_page(&v.chrome, e),
    }
}
