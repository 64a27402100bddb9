//! Consents (R10), outside recipients (R11), transfers with two approvals (R12, R13), the
//! register, live links, the outbox; and the recipient's release routes, which need no
//! account (the link's token, a one-time code and a short session cookie).

use crate::auth::{Authed, ClientAddr, client_address};
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custos_app::{
    ConsentView, LinkView, MailView, NewConsent, NewThirdParty, NewTransfer, Page, PageRequest,
    RegisterFilter, ReleaseView, ThirdPartyUpdate, ThirdPartyView, TransferList, TransferView,
    WithReason,
};
use custos_domain::{ClientId, ConsentId, DocumentId, RequestId, ThirdPartyId, TransferId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The recipient's session cookie on one link.
const RELEASE_COOKIE: &str = "custos_release";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_consents, record_consent))
        .routes(routes!(revoke_consent))
        .routes(routes!(list_third_parties, create_third_party))
        .routes(routes!(update_third_party))
        .routes(routes!(check_transfer))
        .routes(routes!(list_transfers, request_transfer))
        .routes(routes!(live_links))
        .routes(routes!(get_transfer))
        .routes(routes!(approve_transfer))
        .routes(routes!(refuse_transfer))
        .routes(routes!(revoke_link))
        .routes(routes!(outbox))
        .routes(routes!(release_info))
        .routes(routes!(release_code))
        .routes(routes!(release_open))
        .routes(routes!(release_download))
}

/// The consents of a client (those acting for it, and the officer).
#[utoipa::path(get, path = "/api/clients/{id}/consents", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<ConsentView>), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_consents(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<Vec<ConsentView>>, ApiError> {
    Ok(axum::Json(
        state.app.list_consents(&caller, ClientId(id)).await?,
    ))
}

/// Record a client's consent (R10): purposes, recipient or category, matters, written (the
/// signed copy, a document of one of the client's matters) or electronic, expiry.
#[utoipa::path(post, path = "/api/clients/{id}/consents", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = NewConsent,
    responses((status = 201, body = ConsentView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn record_consent(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<NewConsent>,
) -> Result<(StatusCode, axum::Json<ConsentView>), ApiError> {
    let view = state
        .app
        .record_consent(&caller, ClientId(id), body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Revoke a consent, at once: the transfers resting on it are voided and their links stop.
#[utoipa::path(post, path = "/api/consents/{id}/revoke", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = WithReason,
    responses((status = 200, body = ConsentView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn revoke_consent(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<WithReason>,
) -> Result<axum::Json<ConsentView>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .revoke_consent(&caller, ConsentId(id), &body.reason)
            .await?,
    ))
}

/// Outside recipients.
#[utoipa::path(get, path = "/api/third-parties", tag = "transfers", security(("bearer" = [])),
    responses((status = 200, body = Vec<ThirdPartyView>), (status = 403, body = ErrorBody)))]
async fn list_third_parties(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<Vec<ThirdPartyView>>, ApiError> {
    Ok(axum::Json(state.app.list_third_parties(&caller).await?))
}

/// Register an outside recipient (officer, partners, team leads).
#[utoipa::path(post, path = "/api/third-parties", tag = "transfers", security(("bearer" = [])),
    request_body = NewThirdParty,
    responses((status = 201, body = ThirdPartyView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_third_party(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<NewThirdParty>,
) -> Result<(StatusCode, axum::Json<ThirdPartyView>), ApiError> {
    let view = state.app.create_third_party(&caller, body).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Record a recipient's agreement, or how their address was verified.
#[utoipa::path(patch, path = "/api/third-parties/{id}", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = ThirdPartyUpdate,
    responses((status = 200, body = ThirdPartyView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_third_party(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<ThirdPartyUpdate>,
) -> Result<axum::Json<ThirdPartyView>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .update_third_party(&caller, ThirdPartyId(id), body)
            .await?,
    ))
}

/// Run a transfer's checks without asking for it (what the request form shows).
#[utoipa::path(post, path = "/api/transfers/check", tag = "transfers", security(("bearer" = [])),
    request_body = NewTransfer,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn check_transfer(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<NewTransfer>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let check = state.app.check_transfer(&caller, body).await?;
    Ok(axum::Json(serde_json::json!({
        "passed": check.passed(),
        "checks": check.checks,
    })))
}

/// Ask for a transfer: refused unless every check holds; it then waits for two approvals.
#[utoipa::path(post, path = "/api/transfers", tag = "transfers", security(("bearer" = [])),
    request_body = NewTransfer,
    responses((status = 201, body = TransferView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn request_transfer(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<NewTransfer>,
) -> Result<(StatusCode, axum::Json<TransferView>), ApiError> {
    let view = state.app.request_transfer(&caller, body).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Which transfers to list.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum WhichTransfers {
    /// The register (officer, partners).
    Register,
    /// Waiting for an approval the caller may give.
    Queue,
    /// The caller's own requests.
    Mine,
}

/// Which transfers, paged.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransfersQuery {
    /// `register`, `queue` or `mine` (default).
    #[param(inline)]
    which: Option<WhichTransfers>,
    /// The `next_cursor` of the previous page.
    cursor: Option<uuid::Uuid>,
    /// Items per page (1..=200, default 50).
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "super::limit_up_to::<_, 200>")]
    limit: Option<u32>,
    /// Register only: one client's transfers.
    #[param(format = Uuid)]
    client: Option<uuid::Uuid>,
    /// Register only: one recipient's.
    #[param(format = Uuid)]
    recipient: Option<uuid::Uuid>,
    /// Register only: asked on or after this day (UTC, `YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "custos_domain::iso_date::option")]
    from: Option<custos_domain::Date>,
    /// Register only: asked on or before this day (UTC, `YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date)]
    #[serde(default, with = "custos_domain::iso_date::option")]
    until: Option<custos_domain::Date>,
    /// Register only: only disclosures without consent whose client is owed word of them now.
    #[serde(default)]
    inform_due: bool,
}

impl TransfersQuery {
    /// Which list, with the register's filters.
    pub(crate) fn list(&self) -> TransferList {
        match self.which.unwrap_or(WhichTransfers::Mine) {
            WhichTransfers::Register => TransferList::Register(RegisterFilter {
                client: self.client.map(ClientId),
                recipient: self.recipient.map(ThirdPartyId),
                from: self.from,
                until: self.until,
                inform_due: self.inform_due,
            }),
            WhichTransfers::Queue => TransferList::Queue,
            WhichTransfers::Mine => TransferList::Mine,
        }
    }
}

/// Transfers: the register (filterable; its JSON export), the caller's approval queue, or
/// their own requests.
#[utoipa::path(get, path = "/api/transfers", tag = "transfers", security(("bearer" = [])),
    params(TransfersQuery),
    responses((status = 200, body = Page<TransferView>), (status = 403, body = ErrorBody)))]
async fn list_transfers(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<TransfersQuery>,
) -> Result<axum::Json<Page<TransferView>>, ApiError> {
    let which = q.list();
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(axum::Json(
        state.app.list_transfers(&caller, which, &page).await?,
    ))
}

/// Live release links and their expiry (all for the officer, one's own otherwise).
#[utoipa::path(get, path = "/api/transfers/links", tag = "transfers", security(("bearer" = [])),
    responses((status = 200, body = Vec<LinkView>), (status = 403, body = ErrorBody)))]
async fn live_links(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<Vec<LinkView>>, ApiError> {
    Ok(axum::Json(state.app.live_links(&caller).await?))
}

/// One transfer, with the checks run now, its approvals, link and downloads.
#[utoipa::path(get, path = "/api/transfers/{id}", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = TransferView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn get_transfer(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<TransferView>, ApiError> {
    Ok(axum::Json(
        state.app.get_transfer(&caller, TransferId(id)).await?,
    ))
}

/// Approve a transfer (the matter's team lead or designated partner, and the officer; login
/// session only). The second approval releases it.
#[utoipa::path(post, path = "/api/transfers/{id}/approve", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = TransferView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve_transfer(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<TransferView>, ApiError> {
    Ok(axum::Json(
        state.app.approve_transfer(&caller, TransferId(id)).await?,
    ))
}

/// Refuse a transfer with a reason.
#[utoipa::path(post, path = "/api/transfers/{id}/refuse", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = WithReason,
    responses((status = 200, body = TransferView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn refuse_transfer(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<WithReason>,
) -> Result<axum::Json<TransferView>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .refuse_transfer(&caller, TransferId(id), &body.reason)
            .await?,
    ))
}

/// Revoke a transfer's link at once (the requester or the officer).
#[utoipa::path(post, path = "/api/transfers/{id}/revoke-link", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = WithReason,
    responses((status = 200, body = TransferView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn revoke_link(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<WithReason>,
) -> Result<axum::Json<TransferView>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .revoke_release(&caller, TransferId(id), &body.reason)
            .await?,
    ))
}

/// The mail outbox (confidentiality officer): one-time codes, links, notices.
#[utoipa::path(get, path = "/api/outbox", tag = "transfers", security(("bearer" = [])),
    params(super::PageQuery),
    responses((status = 200, body = Page<MailView>), (status = 403, body = ErrorBody)))]
async fn outbox(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<super::PageQuery>,
) -> Result<axum::Json<Page<MailView>>, ApiError> {
    Ok(axum::Json(state.app.outbox(&caller, &q.into()).await?))
}

/// What a release link holds (no account needed): how many documents; which ones (ids,
/// sizes, types) once the code was proved (the session cookie of `open`).
#[utoipa::path(get, path = "/api/release/{token}", tag = "release",
    params(("token" = String, Path)),
    responses((status = 200, body = ReleaseView), (status = 403, body = ErrorBody)))]
async fn release_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<axum::Json<ReleaseView>, ApiError> {
    let session = release_cookie(&headers);
    Ok(axum::Json(
        state.app.release_info(&token, session.as_deref()).await?,
    ))
}

/// Mail a one-time code to the recipient's verified address.
#[utoipa::path(post, path = "/api/release/{token}/code", tag = "release",
    params(("token" = String, Path)),
    responses((status = 202, body = Object), (status = 403, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn release_code(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(token): Path<String>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    state.app.release_send_code(&token, request_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "sent": true })),
    ))
}

/// The recipient's one-time code (and passphrase, when one was agreed).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRelease {
    /// The six-digit code mailed to the recipient.
    code: String,
    /// The passphrase agreed with the firm, when there is one.
    #[serde(default)]
    passphrase: Option<String>,
}

/// Prove control of the address: opens a 30-minute session (a cookie for this link's path).
#[utoipa::path(post, path = "/api/release/{token}/open", tag = "release",
    params(("token" = String, Path)), request_body = OpenRelease,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn release_open(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(token): Path<String>,
    Json(body): Json<OpenRelease>,
) -> Result<Response, ApiError> {
    let session = state
        .app
        .release_open(&token, &body.code, body.passphrase.as_deref(), request_id)
        .await?;
    let mut response = axum::Json(serde_json::json!({ "open": true })).into_response();
    for cookie in release_session_cookies(&token, &session) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A link token reduced to its own characters (it is hex): nothing else reaches a path or a
/// cookie.
pub(crate) fn clean_token(token: &str) -> String {
    token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(128)
        .collect()
}

/// The recipient's session cookies, for this link's paths only: its API (downloads) and its
/// page (which lists the documents once the code was proved).
pub(crate) fn release_session_cookies(token: &str, session: &str) -> Vec<HeaderValue> {
    let token = clean_token(token);
    [format!("/api/release/{token}"), format!("/release/{token}")]
        .iter()
        .filter_map(|path| {
            HeaderValue::from_str(&format!(
                "{RELEASE_COOKIE}={session}; Path={path}; Max-Age=1800; HttpOnly; Secure; \
                 SameSite=Strict"
            ))
            .ok()
        })
        .collect()
}

pub(crate) fn release_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == RELEASE_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// A released document's content, for the recipient's session (the cookie of `open`); each
/// download is decided again, counted and logged before any byte leaves.
#[utoipa::path(get, path = "/api/release/{token}/documents/{document}", tag = "release",
    params(("token" = String, Path), ("document" = String, Path, format = Uuid)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn release_download(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    Path((token, document)): Path<(String, uuid::Uuid)>,
) -> Result<Response, ApiError> {
    let address = request_address(&state, client, &headers);
    let session = release_cookie(&headers).unwrap_or_default();
    let download = state
        .app
        .release_download(&token, &session, DocumentId(document), address, request_id)
        .await?;
    Ok(released_content(download))
}

/// Where a request came from (for the download log).
pub(super) fn request_address(
    state: &AppState,
    client: Option<Extension<ClientAddr>>,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    client_address(
        client.map(|Extension(a)| a),
        headers,
        state.app.trusted_proxies(),
    )
    .parse()
    .ok()
}

/// A released document's bytes, never cached.
pub(super) fn released_content(download: custos_app::DocumentDownload) -> Response {
    let mut response = super::documents::content_response(download);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
