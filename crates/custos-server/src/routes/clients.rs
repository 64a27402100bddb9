//! Clients.

use super::PageQuery;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{ClientView, Page};
use custos_domain::ClientId;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client))
        .routes(routes!(client_access))
}

/// A client to take on; name and contact are encrypted at rest.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    name: String,
    #[serde(default)]
    contact: String,
}

/// The clients the caller may see.
#[utoipa::path(get, path = "/api/clients", tag = "clients", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<ClientView>), (status = 401, body = ErrorBody)))]
async fn list_clients(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<ClientView>>, ApiError> {
    Ok(axum::Json(
        state.app.list_clients(&caller, &page.into()).await?,
    ))
}

/// Take on a client (partners and team leads); the caller becomes responsible for it.
#[utoipa::path(post, path = "/api/clients", tag = "clients", security(("bearer" = [])), request_body = CreateClient,
    responses((status = 201, body = ClientView), (status = 403, body = ErrorBody)))]
async fn create_client(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<CreateClient>,
) -> Result<(StatusCode, axum::Json<ClientView>), ApiError> {
    let client = state
        .app
        .create_client(&caller, &body.name, &body.contact)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(client)))
}

/// One client.
#[utoipa::path(get, path = "/api/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ClientView), (status = 404, body = ErrorBody)))]
async fn get_client(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<ClientView>, ApiError> {
    Ok(axum::Json(
        state.app.get_client(&caller, ClientId(id)).await?,
    ))
}

/// Who can access a client, and why (the officer and the partner responsible for it): each
/// person with the rule that lets them in, people screened out with the wall, people held back
/// by a missing agreement or training or by a firm policy; others counted.
#[utoipa::path(get, path = "/api/clients/{id}/access", tag = "clients", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = custos_app::ClientAccess), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn client_access(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<custos_app::ClientAccess>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .who_can_access_client(&caller, ClientId(id))
            .await?,
    ))
}
