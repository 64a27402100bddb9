//! The transfer request form (R12, R13): recipient, purpose, the consent or a legal exception
//! with its order, documents, link days, download limit and passphrase; "Check" shows every
//! check before anyone is asked to approve, "Ask for approval" submits.

use super::transfers::{CheckLine, Choice, checks};
use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_app::{NewException, NewTransfer, PageRequest};
use custos_domain::{ConsentId, DocumentId, MatterId, ThirdPartyId};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/transfers/new", get(new_page).post(new_submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "transfer_new.html")]
struct NewTransferPage {
    c: Chrome,
    matter: String,
    matter_number: String,
    recipients: Vec<Choice>,
    consents: Vec<Choice>,
    documents: Vec<Choice>,
    purpose: String,
    /// Legal bases (R13) and the one chosen.
    bases: Vec<Choice>,
    basis: String,
    reference: String,
    /// The matter's documents that may be the order.
    orders: Vec<Choice>,
    inform: String,
    forbidden_until: String,
    link_days: String,
    download_limit: String,
    checks: Option<Vec<CheckLine>>,
    passed: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    matter: String,
}

/// The request form as typed (documents are repeated fields).
#[derive(Default)]
struct Typed {
    matter: String,
    recipient: String,
    consent: String,
    purpose: String,
    documents: Vec<String>,
    passphrase: String,
    act: String,
    basis: String,
    reference: String,
    order: String,
    inform: String,
    forbidden_until: String,
    link_days: String,
    download_limit: String,
}

fn typed(body: &[u8]) -> Typed {
    let mut t = Typed::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match &*k {
            "matter" => t.matter = v,
            "recipient" => t.recipient = v,
            "consent" => t.consent = v,
            "purpose" => t.purpose = v,
            "document" => t.documents.push(v),
            "passphrase" => t.passphrase = v,
            "act" => t.act = v,
            "basis" => t.basis = v,
            "reference" => t.reference = v,
            "order" => t.order = v,
            "inform" => t.inform = v,
            "forbidden_until" => t.forbidden_until = v,
            "link_days" => t.link_days = v,
            "download_limit" => t.download_limit = v,
            _ => {}
        }
    }
    t
}

async fn form_page(state: &AppState, v: &Viewer, t: &Typed) -> Result<NewTransferPage, Response> {
    let c = &v.chrome;
    let Some(matter) = super::record_id(&t.matter).map(MatterId) else {
        return Err(super::not_found(c));
    };
    let app = &state.app;
    let m = app
        .get_matter(&v.caller, matter)
        .await
        .map_err(|e| error_page(c, e))?;
    let recipients = app
        .list_third_parties(&v.caller)
        .await
        .map_err(|e| error_page(c, e))?
        .into_iter()
        .map(|r| Choice {
            selected: r.id.0.to_string() == t.recipient,
            value: r.id.0.to_string(),
            label: format!("{} ({})", r.name, r.organisation),
        })
        .collect();
    let consents = app
        .list_consents(&v.caller, m.client)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|k| k.in_force)
        .map(|k| Choice {
            selected: k.id.0.to_string() == t.consent,
            value: k.id.0.to_string(),
            label: c.t.with_all(
                "consent-choice",
                &[
                    ("purposes", k.purposes.join(", ")),
                    ("given", custos_domain::iso(k.given_on)),
                ],
            ),
        })
        .collect();
    let page = PageRequest {
        cursor: None,
        limit: Some(200),
    };
    let listed = app
        .list_documents(&v.caller, matter, &page)
        .await
        .map_err(|e| error_page(c, e))?
        .items;
    let choices = |chosen: &dyn Fn(&str) -> bool| -> Vec<Choice> {
        listed
            .iter()
            .map(|d| Choice {
                selected: chosen(&d.id.0.to_string()),
                value: d.id.0.to_string(),
                label: d.title.clone().unwrap_or_else(|| d.id.0.to_string()),
            })
            .collect()
    };
    let documents = choices(&|id| t.documents.iter().any(|d| d == id));
    let orders = choices(&|id| t.order == id);
    let bases = custos_domain::LegalBasis::ALL
        .iter()
        .map(|b| Choice {
            value: b.as_str().to_owned(),
            label: c
                .t
                .get(&format!("legal-basis-{}", b.as_str().replace('_', "-"))),
            selected: t.basis == b.as_str(),
        })
        .collect();
    Ok(NewTransferPage {
        matter: matter.0.to_string(),
        matter_number: m.number.to_string(),
        recipients,
        consents,
        documents,
        purpose: t.purpose.clone(),
        bases,
        basis: t.basis.clone(),
        reference: t.reference.clone(),
        orders,
        inform: t.inform.clone(),
        forbidden_until: t.forbidden_until.clone(),
        link_days: if t.link_days.is_empty() {
            "7".to_owned()
        } else {
            t.link_days.clone()
        },
        download_limit: if t.download_limit.is_empty() {
            "3".to_owned()
        } else {
            t.download_limit.clone()
        },
        checks: None,
        passed: false,
        error: None,
        c: c.clone(),
    })
}

async fn new_page(State(state): State<AppState>, v: Viewer, Query(q): Query<NewQuery>) -> Response {
    let t = Typed {
        matter: q.matter,
        ..Typed::default()
    };
    match form_page(&state, &v, &t).await {
        Ok(p) => p.into_response(),
        Err(r) => r,
    }
}

async fn new_submit(State(state): State<AppState>, v: Viewer, body: Bytes) -> Response {
    let t = typed(&body);
    let mut page = match form_page(&state, &v, &t).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let c = &v.chrome;
    let ids = |raw: &[String]| -> Option<Vec<DocumentId>> {
        raw.iter()
            .map(|d| super::record_id(d).map(DocumentId))
            .collect()
    };
    let (Some(matter), Some(recipient), Some(documents)) = (
        super::record_id(&t.matter).map(MatterId),
        super::record_id(&t.recipient).map(ThirdPartyId),
        ids(&t.documents),
    ) else {
        return super::bad_request(c, c.t.get("transfer-form-incomplete"));
    };
    let exception = match custos_domain::LegalBasis::parse(&t.basis) {
        Err(_) => None,
        Ok(basis) => {
            let Ok(forbidden_until) = super::recipients::opt_date(&t.forbidden_until) else {
                return super::bad_request(c, c.t.get("date-bad"));
            };
            Some(NewException {
                basis,
                reference: t.reference.clone(),
                order: super::record_id(&t.order).map(DocumentId),
                inform_client: t.inform != "forbidden",
                forbidden_until,
            })
        }
    };
    let number = |raw: &str| raw.trim().parse::<u32>().ok();
    let input = NewTransfer {
        matter,
        recipient,
        purpose: t.purpose.clone(),
        documents,
        consent: super::record_id(&t.consent).map(ConsentId),
        exception,
        link_days: number(&t.link_days),
        download_limit: number(&t.download_limit),
        passphrase: Some(t.passphrase.clone()).filter(|p| !p.trim().is_empty()),
    };
    if t.act == "submit" {
        return match state.app.request_transfer(&v.caller, input).await {
            Ok(_) => see_other("/transfers?done=transfer-requested"),
            Err(e) => error_page(c, e),
        };
    }
    match state.app.check_transfer(&v.caller, input).await {
        Ok(check) => {
            page.passed = check.passed();
            let id = recipient.0.to_string();
            let name = page
                .recipients
                .iter()
                .find(|r| r.value == id)
                .map(|r| r.label.clone());
            let named = name.as_deref().map(|n| (id.as_str(), n));
            page.checks = Some(checks(c, &check.checks, named));
            page.into_response()
        }
        Err(custos_app::AppError::BadInput(m)) | Err(custos_app::AppError::UnknownReference(m)) => {
            page.error = Some(m);
            page.into_response()
        }
        Err(e) => error_page(c, e),
    }
}
