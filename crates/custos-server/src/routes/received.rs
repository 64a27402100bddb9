//! What an outside recipient with their own account receives (R11, R12), and the officer's
//! record that a client was informed of a disclosure without consent (R13).

use crate::auth::{Authed, ClientAddr};
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path},
};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use custos_app::{ReceivedView, TransferView};
use custos_domain::{DocumentId, TransferId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(received))
        .routes(routes!(receive_document))
        .routes(routes!(client_informed))
        .routes(routes!(my_mail_address, set_my_mail_address))
}

/// The caller's address for notices.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailAddress {
    /// Where notices go (transfers waiting for one's approval; one's own request refused,
    /// voided or released); empty or absent: none are sent. Notices never hold client
    /// information.
    #[serde(default)]
    email: Option<String>,
}

/// The caller's own address for notices.
#[utoipa::path(get, path = "/api/me/mail-address", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = MailAddress), (status = 401, body = ErrorBody)))]
async fn my_mail_address(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<MailAddress>, ApiError> {
    Ok(axum::Json(MailAddress {
        email: state.app.my_mail_address(&caller).await?,
    }))
}

/// Set (or, empty, remove) the caller's own address for notices.
#[utoipa::path(put, path = "/api/me/mail-address", tag = "account", security(("bearer" = [])),
    request_body = MailAddress,
    responses((status = 200, body = MailAddress), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody)))]
async fn set_my_mail_address(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<MailAddress>,
) -> Result<axum::Json<MailAddress>, ApiError> {
    let email = state
        .app
        .set_my_mail_address(&caller, body.email.as_deref().unwrap_or_default())
        .await?;
    Ok(axum::Json(MailAddress { email }))
}

/// The transfers released to the caller's own account (`external` role) whose link still
/// opens.
#[utoipa::path(get, path = "/api/received", tag = "transfers", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReceivedView>), (status = 403, body = ErrorBody)))]
async fn received(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<Vec<ReceivedView>>, ApiError> {
    Ok(axum::Json(state.app.received(&caller).await?))
}

/// One document released to the caller's own account; decided again, counted and logged
/// before any byte leaves, like a release link's download.
#[utoipa::path(get, path = "/api/received/{transfer}/documents/{document}", tag = "transfers",
    security(("bearer" = [])),
    params(("transfer" = String, Path, format = Uuid), ("document" = String, Path, format = Uuid)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn receive_document(
    State(state): State<AppState>,
    Authed(caller): Authed,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    Path((transfer, document)): Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<Response, ApiError> {
    let address = super::transfers::request_address(&state, client, &headers);
    let download = state
        .app
        .receive_document(&caller, TransferId(transfer), DocumentId(document), address)
        .await?;
    Ok(super::transfers::released_content(download))
}

/// Record that the client was informed of a disclosure without consent (the officer; refused
/// while the order forbids it).
#[utoipa::path(post, path = "/api/transfers/{id}/client-informed", tag = "transfers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = TransferView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn client_informed(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<TransferView>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .mark_client_informed(&caller, TransferId(id))
            .await?,
    ))
}
