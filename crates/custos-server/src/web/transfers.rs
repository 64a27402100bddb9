//! Transfers outside the firm (R10-R13) for the firm's people: the approver's queue with
//! everything needed to decide on one screen, one's own requests, live links, the outbox and
//! the way to the register. The request form is in `transfer_form.rs`, recipients and consents
//! in `recipients.rs`, the register in `register.rs`.

use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{MailView, PageRequest, TransferList, TransferView};
use custos_domain::{Role, TransferId};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(transfers_page))
        .route("/transfers/{id}/approve", post(approve))
        .route("/transfers/{id}/refuse", post(refuse))
        .route("/transfers/{id}/revoke-link", post(revoke_link))
}

pub(super) struct CheckLine {
    pub(super) passed: bool,
    pub(super) rule: String,
    pub(super) message: String,
}

pub(super) struct TransferCard {
    id: String,
    heading: String,
    purpose: String,
    basis: String,
    status: String,
    status_reason: Option<String>,
    documents: String,
    /// Each document's title as the viewer may see it.
    titles: Vec<String>,
    checks: Vec<CheckLine>,
    approvals: String,
    link: Option<String>,
    link_live: bool,
    downloads: usize,
    legal: bool,
}

/// The checks in words; the recipient, named by its id in the policy's sentences, is shown by
/// its name (`recipient`: its id and its name, when known).
pub(super) fn checks(
    c: &Chrome,
    list: &[custos_app::TransferCheckLine],
    recipient: Option<(&str, &str)>,
) -> Vec<CheckLine> {
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
            message: match recipient {
                Some((id, name)) => k
                    .message
                    .replace(&format!("recipient {id}"), name)
                    .replace(id, name),
                None => k.message.clone(),
            },
        })
        .collect()
}

/// What a transfer rests on, in words: its legal basis and reference, or `consent` (the
/// client's consent, with its id when `consent` is given).
pub(super) fn basis_words(c: &Chrome, t: &TransferView, consent_id: bool) -> String {
    match (&t.legal_basis, &t.consent) {
        (Some(b), _) => c.t.with_all(
            "transfer-basis-legal",
            &[
                (
                    "basis",
                    c.t.get(&format!("legal-basis-{}", b.as_str().replace('_', "-"))),
                ),
                ("reference", t.legal_reference.clone().unwrap_or_default()),
            ],
        ),
        (None, Some(k)) if consent_id => c.t.with("register-consent", "id", k.0),
        (None, _) => c.t.get("transfer-basis-consent"),
    }
}

/// "M-0001 to Dr Erin Walsh (Walsh Forensics)".
pub(super) fn heading(c: &Chrome, t: &TransferView) -> String {
    c.t.with_all(
        "transfer-heading",
        &[
            ("matter", t.matter_number.to_string()),
            ("recipient", t.recipient_name.clone()),
        ],
    )
}

fn card(c: &Chrome, t: &TransferView) -> TransferCard {
    let basis = basis_words(c, t, false);
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
        heading: heading(c, t),
        purpose: t.purpose.clone(),
        basis,
        status: c.t.get(&format!("transfer-status-{}", t.status)),
        status_reason: t.status_reason.clone(),
        documents: c.t.with("transfer-documents-n", "n", t.documents.len()),
        titles: t
            .documents
            .iter()
            .map(|d| {
                d.title
                    .clone()
                    .unwrap_or_else(|| c.t.with("transfer-document-hidden", "id", d.id.0))
            })
            .collect(),
        checks: checks(
            c,
            &t.checks,
            Some((&t.recipient.0.to_string(), &t.recipient_name)),
        ),
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

pub(super) struct LiveLine {
    transfer: String,
    line: String,
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
    register: bool,
    /// Live links and their expiry (every one for the officer, one's own otherwise).
    links: Vec<LiveLine>,
    /// Disclosures without consent whose client is owed word now (the officer's reminder).
    inform_due: usize,
    outbox: Option<Vec<MailLine>>,
    /// A relay sends the outbox (else the officer passes each message on).
    relay: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    pub(super) done: Option<String>,
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
    let register = matches!(v.person.role, Role::Officer | Role::Partner);
    let links = app
        .live_links(&v.caller)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.live)
        .map(|l| LiveLine {
            transfer: l.transfer.0.to_string(),
            line: c.t.with_all(
                "transfer-link-line",
                &[
                    ("until", c.when(&l.expires_at)),
                    ("downloads", l.downloads.to_string()),
                    ("limit", l.download_limit.to_string()),
                ],
            ),
        })
        .collect();
    let inform_due = if v.person.role == Role::Officer {
        let due = custos_app::RegisterFilter {
            inform_due: true,
            ..Default::default()
        };
        let page = PageRequest {
            cursor: None,
            limit: Some(200),
        };
        app.list_transfers(&v.caller, TransferList::Register(due), &page)
            .await
            .map_or(0, |p| p.items.len())
    } else {
        0
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
        links,
        inform_due,
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
pub(super) struct ReasonForm {
    #[serde(default)]
    pub(super) reason: String,
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
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}
