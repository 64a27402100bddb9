//! Outside recipients (R11) and a client's consents (R10): registered by those who may;
//! vetted (address, agreement, account) by the confidentiality officer only.

use super::transfers::{Choice, Done, ReasonForm};
use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::{NewConsent, NewThirdParty, ThirdPartyUpdate};
use custos_domain::{ClientId, ConsentId, RecipientCategory, Role, ThirdPartyId, parse_date};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
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

pub(super) struct RecipientLine {
    id: String,
    name: String,
    category: String,
    email: String,
    verified: bool,
    agreement: String,
    in_force: bool,
    /// The linked account's name.
    account: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "third_parties.html")]
struct ThirdPartiesPage {
    c: Chrome,
    recipients: Vec<RecipientLine>,
    may_manage: bool,
    /// The officer vets recipients (address, agreement, account).
    may_vet: bool,
    /// External accounts not yet linked to a recipient.
    accounts: Vec<Choice>,
    notice: Option<String>,
}

async fn third_parties_page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Done>,
) -> Response {
    let c = &v.chrome;
    let may_vet = v.person.role == Role::Officer;
    let externals: Vec<(String, String)> = if may_vet {
        let first = custos_app::PageRequest {
            cursor: None,
            limit: Some(200),
        };
        state
            .app
            .list_people(&v.caller, &first)
            .await
            .map(|p| {
                p.items
                    .into_iter()
                    .filter(|p| p.role == Role::External && p.status.as_str() == "active")
                    .map(|p| {
                        (
                            p.id.0.to_string(),
                            format!("{} ({})", p.display_name, p.user_name),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let listed = match state.app.list_third_parties(&v.caller).await {
        Ok(list) => list,
        Err(e) => return error_page(c, e),
    };
    let accounts = externals
        .iter()
        .filter(|(id, _)| {
            !listed
                .iter()
                .any(|r| r.account.is_some_and(|a| a.0.to_string() == *id))
        })
        .map(|(id, label)| Choice {
            value: id.clone(),
            label: label.clone(),
            selected: false,
        })
        .collect();
    let recipients = listed
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
            account: r.account.map(|a| {
                externals
                    .iter()
                    .find(|(id, _)| *id == a.0.to_string())
                    .map_or_else(|| a.0.to_string(), |(_, label)| label.clone())
            }),
        })
        .collect();
    ThirdPartiesPage {
        recipients,
        may_manage: matches!(
            v.person.role,
            Role::Officer | Role::Partner | Role::TeamLead
        ),
        may_vet,
        accounts,
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
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    agreement_document: String,
    #[serde(default)]
    account: String,
}

pub(super) fn opt_date(
    raw: &str,
) -> Result<Option<custos_domain::Date>, custos_domain::DomainError> {
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
        agreement_sha256: Some(f.sha256).filter(|h| !h.trim().is_empty()),
        agreement_document: super::record_id(&f.agreement_document).map(custos_domain::DocumentId),
        address_verified_how: Some(f.verified_how).filter(|h| !h.trim().is_empty()),
        account: super::record_id(&f.account).map(custos_domain::PersonId),
    };
    match state.app.update_third_party(&v.caller, id, input).await {
        Ok(_) => see_other("/third-parties?done=recipient-updated"),
        Err(e) => error_page(c, e),
    }
}

pub(super) struct ConsentLine {
    id: String,
    purposes: String,
    /// The matters it covers.
    scope: String,
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
    /// The client's matters the caller sees (a consent may cover only some).
    matters: Vec<Choice>,
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
    let first = custos_app::PageRequest {
        cursor: None,
        limit: Some(200),
    };
    let matters: Vec<Choice> = app
        .list_matters(&v.caller, &first)
        .await
        .map(|p| {
            p.items
                .into_iter()
                .filter(|m| m.client == client)
                .map(|m| Choice {
                    value: m.id.0.to_string(),
                    label: super::labelled(m.number, m.title.clone()),
                    selected: false,
                })
                .collect()
        })
        .unwrap_or_default();
    let consents = match app.list_consents(&v.caller, client).await {
        Ok(list) => list
            .into_iter()
            .map(|k| ConsentLine {
                id: k.id.0.to_string(),
                purposes: k.purposes.join(", "),
                scope: if k.matters.is_empty() {
                    c.t.get("consent-all-matters")
                } else {
                    k.matters
                        .iter()
                        .map(|id| {
                            matters
                                .iter()
                                .find(|m| m.value == id.0.to_string())
                                .map_or_else(|| id.0.to_string(), |m| m.label.clone())
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                },
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
        matters,
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

/// The consent form as typed (matters are repeated fields).
#[derive(Default)]
struct ConsentForm {
    purposes: String,
    recipient: String,
    category: String,
    given_on: String,
    expires_on: String,
    matters: Vec<String>,
    document: String,
}

fn consent_form(body: &[u8]) -> ConsentForm {
    let mut f = ConsentForm::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match &*k {
            "purposes" => f.purposes = v,
            "recipient" => f.recipient = v,
            "category" => f.category = v,
            "given_on" => f.given_on = v,
            "expires_on" => f.expires_on = v,
            "matter" => f.matters.push(v),
            "document" => f.document = v,
            _ => {}
        }
    }
    f
}

async fn record_consent(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = consent_form(&body);
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
        matters: f
            .matters
            .iter()
            .filter_map(|m| super::record_id(m).map(custos_domain::MatterId))
            .collect(),
        document: super::record_id(&f.document).map(custos_domain::DocumentId),
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
