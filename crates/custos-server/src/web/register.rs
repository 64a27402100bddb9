//! The transfer register (R12, R13) for the officer and partners: every transfer with its
//! content (document ids, titles as the viewer may see them, SHA-256 of the released bytes),
//! recipient, purpose, consent or legal basis, approvers, times, channel and downloads;
//! filterable by client, recipient and dates; exported as CSV here and as JSON by the API.
//! Disclosures without consent are flagged, and the officer records when the client was told.

use super::audit::{cell, is_number};
use super::transfers::Choice;
use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{PageRequest, RegisterFilter, TransferList, TransferView};
use custos_domain::{ClientId, PersonId, Role, ThirdPartyId, TransferId, iso, parse_date};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers/register", get(register_page))
        .route("/transfers/register.csv", get(export))
        .route("/transfers/{id}/client-informed", post(client_informed))
}

/// The register's filters as typed.
#[derive(Deserialize, Default, Clone)]
struct Filters {
    #[serde(default)]
    client: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    inform_due: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

impl Filters {
    /// The use case's filter, or the sentence key of the field that is wrong.
    async fn filter(&self, state: &AppState) -> Result<RegisterFilter, &'static str> {
        let client = match self.client.trim() {
            "" => None,
            raw if is_number(raw) => match state.app.client_id_by_number(raw).await {
                Ok(Some(id)) => Some(id),
                _ => return Err("register-bad-client"),
            },
            raw => Some(
                super::record_id(raw)
                    .map(ClientId)
                    .ok_or("register-bad-client")?,
            ),
        };
        let date = |raw: &str| match raw.trim() {
            "" => Ok(None),
            d => parse_date("date", d).map(Some).map_err(|_| "date-bad"),
        };
        Ok(RegisterFilter {
            client,
            recipient: super::record_id(&self.recipient).map(ThirdPartyId),
            from: date(&self.from)?,
            until: date(&self.until)?,
            inform_due: self.inform_due.is_some(),
        })
    }
}

/// The API query of the same filter (its JSON export).
fn api_query(f: &RegisterFilter) -> String {
    let mut q = String::from("/api/transfers?which=register&limit=200");
    if let Some(c) = f.client {
        q.push_str(&format!("&client={}", c.0));
    }
    if let Some(r) = f.recipient {
        q.push_str(&format!("&recipient={}", r.0));
    }
    if let Some(d) = f.from {
        q.push_str(&format!("&from={}", iso(d)));
    }
    if let Some(d) = f.until {
        q.push_str(&format!("&until={}", iso(d)));
    }
    if f.inform_due {
        q.push_str("&inform_due=true");
    }
    q
}

pub(super) struct RegisterDoc {
    id: String,
    title: String,
    sha: Option<String>,
}

pub(super) struct RegisterRow {
    id: String,
    heading: String,
    purpose: String,
    basis: String,
    legal: bool,
    inform: Option<String>,
    inform_due: bool,
    requester: String,
    approvals: String,
    requested: String,
    status: String,
    documents: Vec<RegisterDoc>,
    downloads: String,
}

/// One transfer as the register shows it (and as its CSV row says it).
fn row(c: &Chrome, t: &TransferView, names: &HashMap<PersonId, String>) -> RegisterRow {
    let name = |p: &PersonId| names.get(p).cloned().unwrap_or_else(|| p.0.to_string());
    let basis = super::transfers::basis_words(c, t, true);
    let inform = t
        .legal_basis
        .map(|_| match (t.client_informed_at, t.inform_client) {
            (Some(at), _) => c.t.with("register-informed-at", "at", c.when(&at)),
            (None, Some(false)) => match t.forbidden_until {
                Some(u) => c.t.with("register-inform-forbidden-until", "until", iso(u)),
                None => c.t.get("register-inform-forbidden"),
            },
            (None, _) => c.t.get("register-inform-pending"),
        });
    RegisterRow {
        id: t.id.0.to_string(),
        heading: super::transfers::heading(c, t),
        purpose: t.purpose.clone(),
        basis,
        legal: t.legal_basis.is_some(),
        inform,
        inform_due: t.inform_due,
        requester: name(&t.requester),
        approvals: t
            .approvals
            .iter()
            .map(|a| {
                format!(
                    "{} ({}, {})",
                    name(&a.person),
                    c.t.get(&format!("transfer-slot-{}", a.slot)),
                    c.when(&a.at)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        requested: c.when(&t.requested_at),
        status: c.t.get(&format!("transfer-status-{}", t.status)),
        documents: t
            .documents
            .iter()
            .map(|d| RegisterDoc {
                id: d.id.0.to_string(),
                title: d
                    .title
                    .clone()
                    .unwrap_or_else(|| c.t.get("register-title-hidden")),
                sha: d.released_sha256.clone(),
            })
            .collect(),
        downloads: t
            .downloads
            .iter()
            .map(|d| {
                format!(
                    "{} {}{}",
                    c.when(&d.at),
                    d.document.0,
                    d.address
                        .as_ref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Every transfer the filter keeps (all pages), with the names of those who took part.
async fn gather(
    state: &AppState,
    v: &Viewer,
    filter: RegisterFilter,
) -> Result<(Vec<TransferView>, HashMap<PersonId, String>), custos_app::AppError> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = state
            .app
            .list_transfers(
                &v.caller,
                TransferList::Register(filter),
                &PageRequest {
                    cursor,
                    limit: Some(200),
                },
            )
            .await?;
        all.extend(page.items);
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut ids: Vec<PersonId> = all
        .iter()
        .flat_map(|t| std::iter::once(t.requester).chain(t.approvals.iter().map(|a| a.person)))
        .collect();
    ids.sort_by_key(|p| p.0);
    ids.dedup();
    let mut names = HashMap::new();
    for chunk in ids.chunks(200) {
        for p in state
            .app
            .people_named(&v.caller, chunk)
            .await
            .unwrap_or_default()
        {
            names.insert(p.id, p.display_name);
        }
    }
    Ok((all, names))
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
struct RegisterPage {
    c: Chrome,
    rows: Vec<RegisterRow>,
    recipients: Vec<Choice>,
    client: String,
    from: String,
    until: String,
    inform_due: bool,
    csv: String,
    json: String,
    officer: bool,
    notice: Option<String>,
    problem: Option<String>,
}

async fn register_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(f): Query<Filters>,
) -> Response {
    let c = &v.chrome;
    let (filter, problem) = match f.filter(&state).await {
        Ok(filter) => (Some(filter), None),
        Err(key) => (None, Some(c.t.get(key))),
    };
    let (rows, json) = match filter {
        Some(filter) => match gather(&state, &v, filter).await {
            Ok((list, names)) => (
                list.iter().map(|t| row(c, t, &names)).collect(),
                api_query(&filter),
            ),
            Err(e) => return error_page(c, e),
        },
        None => (Vec::new(), String::new()),
    };
    let recipients = state
        .app
        .list_third_parties(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| Choice {
            selected: r.id.0.to_string() == f.recipient,
            value: r.id.0.to_string(),
            label: format!("{} ({})", r.name, r.organisation),
        })
        .collect();
    let query = c.here.split_once('?').map(|(_, q)| q).unwrap_or_default();
    RegisterPage {
        rows,
        recipients,
        client: f.client.clone(),
        from: f.from.clone(),
        until: f.until.clone(),
        inform_due: f.inform_due.is_some(),
        csv: format!("/transfers/register.csv?{query}"),
        json,
        officer: v.person.role == Role::Officer,
        notice: f.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        problem,
        c: v.chrome.clone(),
    }
    .into_response()
}

async fn export(State(state): State<AppState>, v: Viewer, Query(f): Query<Filters>) -> Response {
    let c = &v.chrome;
    let filter = match f.filter(&state).await {
        Ok(filter) => filter,
        Err(key) => return super::bad_request(c, c.t.get(key)),
    };
    let (list, names) = match gather(&state, &v, filter).await {
        Ok(found) => found,
        Err(e) => return error_page(c, e),
    };
    let header = [
        "id",
        "requested",
        "matter",
        "client",
        "recipient",
        "purpose",
        "basis",
        "status",
        "requester",
        "approvals",
        "channel",
        "documents",
        "downloads",
        "inform",
    ]
    .map(|k| cell(&c.t.get(&format!("register-csv-{k}"))))
    .join(",");
    let mut out = format!("\u{feff}{header}\r\n");
    for t in &list {
        let r = row(c, t, &names);
        let documents = r
            .documents
            .iter()
            .map(|d| {
                format!(
                    "{} {} sha256={}",
                    d.id,
                    d.title,
                    d.sha.as_deref().unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let fields = [
            r.id,
            r.requested,
            t.matter_number.to_string(),
            t.client.0.to_string(),
            t.recipient_name.clone(),
            r.purpose,
            r.basis,
            r.status,
            r.requester,
            r.approvals,
            t.channel.to_owned(),
            documents,
            r.downloads,
            r.inform.unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    super::audit::csv_response(
        axum::body::Body::from(out),
        "attachment; filename=\"custos-transfer-register.csv\"",
    )
}

async fn client_informed(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = super::record_id(&id).map(TransferId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.mark_client_informed(&v.caller, id).await {
        Ok(_) => see_other("/transfers/register?done=client-informed"),
        Err(e) => error_page(&v.chrome, e),
    }
}
