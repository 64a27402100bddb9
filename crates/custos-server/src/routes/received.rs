//! What an outside recipient with their own account receives (R11, R12), and the officer's
//! record that a client was informed of a disclosure without consent (R13).

use crate::auth::{Authed, ClientAddr};
use crate::error::{ApiError, ErrorBody, extract::Path};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use custos_app::{ReceivedView, TransferView};
use custos_domain::{DocumentId, TransferId};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(received))
        .routes(routes!(receive_document))
        .routes(routes!(client_informed))
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
