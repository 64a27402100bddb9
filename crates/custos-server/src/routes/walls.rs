//! Ethical walls.

use super::PageQuery;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::Page;
use custos_domain::{Wall, WallObject, WallSubject};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_walls, create_wall))
}

/// A wall to raise. `reason` is stored as written: do not put client content in it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWall {
    subject: WallSubject,
    object: WallObject,
    reason: String,
}

/// Every wall (confidentiality officer).
#[utoipa::path(get, path = "/api/walls", tag = "walls", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Wall>), (status = 403, body = ErrorBody)))]
async fn list_walls(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Wall>>, ApiError> {
    Ok(axum::Json(
        state.app.list_walls(&caller, &page.into()).await?,
    ))
}

/// Raise a wall (confidentiality officer); enforced from the next request on.
#[utoipa::path(post, path = "/api/walls", tag = "walls", security(("bearer" = [])), request_body = CreateWall,
    responses((status = 201, body = Wall), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_wall(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<CreateWall>,
) -> Result<(StatusCode, axum::Json<Wall>), ApiError> {
    let wall = state
        .app
        .create_wall(&caller, body.subject, body.object, &body.reason)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(wall)))
}
