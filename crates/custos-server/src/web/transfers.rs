//! Transfers outside the firm (R10-R13) for the firm's people: the approver's queue with
//! everything needed to decide on one screen, one's own requests, the register, live links and
//! the outbox; the request form with its checks shown before submitting; outside recipients;
//! a client's consents.

use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{
    MailView, NewConsent, NewThirdParty, NewTransfer, PageRequest, ThirdPartyUpdate, TransferList,
    TransferView,
};
use custos_domain::{
    ClientId, ConsentId, DocumentId, MatterId, RecipientCategory, Role, ThirdPartyId, TransferId,
    parse_date,
};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(transfers_page))
        .route("/transfers/new", get(new_page).post(new_submit))
        .route("/transfers/{id}/approve", post(approve))
        .route("/transfers/{id}/refuse", post(refuse))
        .route("/transfers/{id}/revoke-link", post(revoke_link))
        .route(
            "/third-parties",
            get(third_parties_page).post(create_third_party),
        )
        .route("/third-parties/{id}", post(update_third_party))
        .route(
            "/clients/{id}/consents",
            get(consents_page).post(record_consent),
        )
        .route("/consents/{id}/revoke", post(revoke_consent))
}

pub(super) struct CheckLine {
    passed: bool,
    rule: String,
    message: String,
}

pub(super) struct TransferCard {
    id: String,
    heading: String,
    purpose: String,
    basis: String,
    status: String,
    status_reason: Option<String>,
    documents: String,
    checks: Vec<CheckLine>,
    approvals: String,
    link: Option<String>,
    link_live: bool,
    downloads: usize,
    legal: bool,
}

fn checks(c: &Chrome, list: &[custos_app::TransferCheckLine]) -> Vec<CheckLine> {
    list.iter()
        .map(|k| CheckLine {
            passed: k.passed,
            rule: c
                .t
                .try_get(&format!(
                    "rulename-{}",
                    k.rule.code().replace(['.', '_'], "-")
                ))
                .unwrap_or_else(|| k.rule.code().to_owned()),
            message: k.message.clone(),
        })
        .collect()
}

fn card(c: &Chrome, t: &TransferView) -> TransferCard {
    let basis = match (&t.legal_basis, &t.legal_reference) {
        (Some(b), reference) => c.t.with_all(
            "transfer-basis-legal",
            &[
                (
                    "basis",
                    c.t.get(&format!("legal-basis-{}", b.as_str().replace('_', "-"))),
                ),
                ("reference", reference.clone().unwrap_or_default()),
            ],
        ),
        (None, _) => c.t.get("transfer-basis-consent"),
    };
    let approvals = if t.approvals.is_empty() {
        c.t.get("transfer-no-approvals")
    } else {
        t.approvals
            .iter()
            .map(|a| c.t.get(&format!("transfer-slot-{}", a.slot)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    TransferCard {
        id: t.id.0.to_string(),
        heading: c.t.with_all(
            "transfer-heading",
            &[
                ("matter", t.matter_number.to_string()),
                ("recipient", t.recipient_name.clone()),
            ],
        ),
        purpose: t.purpose.clone(),
        basis,
        status: c.t.get(&format!("transfer-status-{}", t.status)),
        status_reason: t.status_reason.clone(),
        documents: c.t.with("transfer-documents-n", "n", t.documents.len()),
        checks: checks(c, &t.checks),
        approvals,
        link: t.link.as_ref().map(|l| {
            c.t.with_all(
                "transfer-link-line",
                &[
                    ("until", c.when(&l.expires_at)),
                    ("downloads", l.downloads.to_string()),
                    ("limit", l.download_limit.to_string()),
                ],
            )
        }),
        link_live: t.link.as_ref().is_some_and(|l| l.live),
        downloads: t.downloads.len(),
        legal: t.legal_basis.is_some(),
    }
}

pub(super) struct MailLine {
    to: String,
    subject: String,
    body: String,
    queued: String,
    sent: bool,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "transfers.html")]
struct TransfersPage {
    c: Chrome,
    queue: Vec<TransferCard>,
    mine: Vec<TransferCard>,
    register: Option<Vec<TransferCard>>,
    outbox: Option<Vec<MailLine>>,
    /// A relay sends the outbox (else the officer passes each message on).
    relay: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn transfers_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Done>,
) -> Response {
    let app = &state.app;
    let c = &v.chrome;
    let first = PageRequest {
        cursor: None,
        limit: Some(50),
    };
    let list = |which| app.list_transfers(&v.caller, which, &first);
    let queue = match list(TransferList::Queue).await {
        Ok(p) => p.items.iter().map(|t| card(c, t)).collect(),
        Err(e) => return error_page(c, e),
    };
    let mine = match list(TransferList::Mine).await {
        Ok(p) => p.items.iter().map(|t| card(c, t)).collect(),
        Err(e) => return error_page(c, e),
    };
    let register = if matches!(v.person.role, Role::Officer | Role::Partner) {
        list(TransferList::Register)
            .await
            .ok()
            .map(|p| p.items.iter().map(|t| card(c, t)).collect())
    } else {
        None
    };
    let outbox = if v.person.role == Role::Officer {
        app.outbox(&v.caller, &first).await.ok().map(|p| {
            p.items
                .into_iter()
                .map(|m: MailView| MailLine {
                    to: m.to,
                    subject: m.subject,
                    body: m.body,
                    queued: c.when(&m.queued_at),
                    sent: m.sent_at.is_some(),
                    error: m.last_error,
                })
                .collect()
        })
    } else {
        None
    };
    TransfersPage {
        queue,
        mine,
        register,
        outbox,
        relay: app.sends_mail(),
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

async fn approve(State(state): State<AppState>, v: Viewer, Path(id): Path<String>) -> Response {
    let Some(id) = super::record_id(&id).map(TransferId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.approve_transfer(&v.caller, id).await {
        Ok(t) if t.status == "released" => see_other("/transfers?done=transfer-released"),
        Ok(_) => see_other("/transfers?done=transfer-approved"),
        Err(e) => error_page(&v.chrome, e),
    }
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn refuse(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let Some(id) = super::record_id(&id).map(TransferId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.refuse_transfer(&v.caller, id, &form.reason).await {
        Ok(_) => see_other("/transfers?done=transfer-refused"),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn revoke_link(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let Some(id) = super::record_id(&id).map(TransferId) else {
        return super::not_found(&v.chrome);
    };
    match state.app.revoke_release(&v.caller, id, &form.reason).await {
        Ok(_) => see_other("/transfers?done=link-revoked"),
        Err(e) => error_page(&v.chrome, e),
    }
}

pub(super) struct Choice {
    value: String,
    label: String,
    selected: bool,
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
    let documents = app
        .list_documents(&v.caller, matter, &page)
        .await
        .map_err(|e| error_page(c, e))?
        .items
        .into_iter()
        .map(|d| Choice {
            selected: t.documents.contains(&d.id.0.to_string()),
            value: d.id.0.to_string(),
            label: d.title.unwrap_or_else(|| d.id.0.to_string()),
        })
        .collect();
    Ok(NewTransferPage {
        matter: matter.0.to_string(),
        matter_number: m.number.to_string(),
        recipients,
        consents,
        documents,
        purpose: t.purpose.clone(),
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
    let input = NewTransfer {
        matter,
        recipient,
        purpose: t.purpose.clone(),
        documents,
        consent: super::record_id(&t.consent).map(ConsentId),
        exception: None,
        link_days: None,
        download_limit: None,
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
            page.checks = Some(checks(c, &check.checks));
            page.into_response()
        }
        Err(custos_app::AppError::BadInput(m)) | Err(custos_app::AppError::UnknownReference(m)) => {
            page.error = Some(m);
            page.into_response()
        }
        Err(e) => error_page(c, e),
    }
}

pub(super) struct RecipientLine {
    id: String,
    name: String,
    category: String,
    email: String,
    verified: bool,
    agreement: String,
    in_force: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "third_parties.html")]
struct ThirdPartiesPage {
    c: Chrome,
    recipients: Vec<RecipientLine>,
    may_manage: bool,
    notice: Option<String>,
}

async fn third_parties_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Done>,
) -> Response {
    let c = &v.chrome;
    let recipients = match state.app.list_third_parties(&v.caller).await {
        Ok(list) => list
            .into_iter()
            .map(|r| RecipientLine {
                id: r.id.0.to_string(),
                name: format!("{} ({})", r.name, r.organisation),
                category: c.t.get(&format!(
                    "category-{}",
                    r.category.as_str().replace('_', "-")
                )),
                email: r.email,
                verified: r.address_verified,
                agreement: match (r.agreement_signed_on, r.agreement_expires_on) {
                    (None, _) => c.t.get("agreement-none"),
                    (Some(s), None) => custos_domain::iso(s),
                    (Some(s), Some(u)) => {
                        format!("{} – {}", custos_domain::iso(s), custos_domain::iso(u))
                    }
                },
                in_force: r.agreement_in_force,
            })
            .collect(),
        Err(e) => return error_page(c, e),
    };
    ThirdPartiesPage {
        recipients,
        may_manage: matches!(
            v.person.role,
            Role::Officer | Role::Partner | Role::TeamLead
        ),
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct RecipientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    email: String,
}

async fn create_third_party(
    State(state): State<AppState>,
    v: Viewer,
    Form(f): Form<RecipientForm>,
) -> Response {
    let c = &v.chrome;
    let Ok(category) = RecipientCategory::parse(&f.category) else {
        return super::bad_request(c, c.t.get("transfer-form-incomplete"));
    };
    let input = NewThirdParty {
        name: f.name,
        organisation: f.organisation,
        category,
        email: f.email,
    };
    match state.app.create_third_party(&v.caller, input).await {
        Ok(_) => see_other("/third-parties?done=recipient-registered"),
        Err(e) => error_page(c, e),
    }
}

#[derive(Deserialize)]
struct RecipientUpdateForm {
    #[serde(default)]
    signed_on: String,
    #[serde(default)]
    expires_on: String,
    #[serde(default)]
    verified_how: String,
}

fn opt_date(raw: &str) -> Result<Option<custos_domain::Date>, custos_domain::DomainError> {
    match raw.trim() {
        "" => Ok(None),
        d => parse_date("date", d).map(Some),
    }
}

async fn update_third_party(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<RecipientUpdateForm>,
) -> Response {
    let c = &v.chrome;
    let Some(id) = super::record_id(&id).map(ThirdPartyId) else {
        return super::not_found(c);
    };
    let (Ok(signed), Ok(expires)) = (opt_date(&f.signed_on), opt_date(&f.expires_on)) else {
        return super::bad_request(c, c.t.get("date-bad"));
    };
    let input = ThirdPartyUpdate {
        agreement_signed_on: signed,
        agreement_expires_on: expires,
        agreement_sha256: None,
        address_verified_how: Some(f.verified_how).filter(|h| !h.trim().is_empty()),
    };
    match state.app.update_third_party(&v.caller, id, input).await {
        Ok(_) => see_other("/third-parties?done=recipient-updated"),
        Err(e) => error_page(c, e),
    }
}

pub(super) struct ConsentLine {
    id: String,
    purposes: String,
    whom: String,
    form: String,
    given: String,
    until: String,
    in_force: bool,
    revoked: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "consents.html")]
struct ConsentsPage {
    c: Chrome,
    client: String,
    client_number: String,
    consents: Vec<ConsentLine>,
    recipients: Vec<Choice>,
    notice: Option<String>,
}

async fn consents_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Response {
    let c = &v.chrome;
    let Some(client) = super::record_id(&id).map(ClientId) else {
        return super::not_found(c);
    };
    let app = &state.app;
    let number = match app.get_client(&v.caller, client).await {
        Ok(view) => view.number.to_string(),
        Err(e) => return error_page(c, e),
    };
    let recipients: Vec<Choice> = app
        .list_third_parties(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| Choice {
            value: r.id.0.to_string(),
            label: format!("{} ({})", r.name, r.organisation),
            selected: false,
        })
        .collect();
    let consents = match app.list_consents(&v.caller, client).await {
        Ok(list) => list
            .into_iter()
            .map(|k| ConsentLine {
                id: k.id.0.to_string(),
                purposes: k.purposes.join(", "),
                whom: match (k.recipient, k.category) {
                    (Some(r), _) => recipients
                        .iter()
                        .find(|x| x.value == r.0.to_string())
                        .map_or_else(|| r.0.to_string(), |x| x.label.clone()),
                    (None, Some(cat)) => {
                        c.t.get(&format!("category-{}", cat.as_str().replace('_', "-")))
                    }
                    (None, None) => String::new(),
                },
                form: c.t.get(&format!("consent-form-{}", k.form)),
                given: custos_domain::iso(k.given_on),
                until: k.expires_on.map(custos_domain::iso).unwrap_or_default(),
                in_force: k.in_force,
                revoked: k.revoke_reason,
            })
            .collect(),
        Err(e) => return error_page(c, e),
    };
    ConsentsPage {
        client: client.0.to_string(),
        client_number: number,
        consents,
        recipients,
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(default)]
    purposes: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    given_on: String,
    #[serde(default)]
    expires_on: String,
}

async fn record_consent(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ConsentForm>,
) -> Response {
    let c = &v.chrome;
    let Some(client) = super::record_id(&id).map(ClientId) else {
        return super::not_found(c);
    };
    let (Ok(Some(given_on)), Ok(expires_on)) = (opt_date(&f.given_on), opt_date(&f.expires_on))
    else {
        return super::bad_request(c, c.t.get("date-bad"));
    };
    let input = NewConsent {
        purposes: f
            .purposes
            .split([',', ' '])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        recipient: super::record_id(&f.recipient).map(ThirdPartyId),
        category: RecipientCategory::parse(&f.category).ok(),
        matters: vec![],
        document: None,
        given_on,
        expires_on,
    };
    match state.app.record_consent(&v.caller, client, input).await {
        Ok(_) => see_other(&format!(
            "/clients/{}/consents?done=consent-recorded",
            client.0
        )),
        Err(e) => error_page(c, e),
    }
}

async fn revoke_consent(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let c = &v.chrome;
    let Some(id) = super::record_id(&id).map(ConsentId) else {
        return super::not_found(c);
    };
    match state.app.revoke_consent(&v.caller, id, &form.reason).await {
        Ok(k) => see_other(&format!(
            "/clients/{}/consents?done=consent-revoked",
            k.client.0
        )),
        Err(e) => error_page(c, e),
    }
}
