//! Ethical walls.

use super::PageQuery;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{Page, WallPreview};
use custos_domain::{Wall, WallId, WallKind, WallObject, WallSubject};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_walls, create_wall))
        .routes(routes!(lift_wall))
        .routes(routes!(preview_wall))
}

/// What a wall would change, before it is raised ("what if"): for each matter it would cover,
/// the people who may see it now and would not. Nothing is saved (the question is audited).
#[utoipa::path(post, path = "/api/walls/preview", tag = "walls", security(("bearer" = [])),
    request_body = CreateWall,
    responses((status = 200, body = WallPreview), (status = 403, body = ErrorBody)))]
async fn preview_wall(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<CreateWall>,
) -> Result<axum::Json<WallPreview>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .preview_wall(&caller, body.kind, body.subject, body.object, &body.reason)
            .await?,
    ))
}

/// Why a wall is lifted (stored sealed; shown to the officer).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftWall {
    reason: String,
}

/// Lift a wall (confidentiality officer): it screens no one from the next request on, and
/// stays on record with who lifted it, when and why.
#[utoipa::path(post, path = "/api/walls/{id}/lift", tag = "walls", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = LiftWall,
    responses((status = 200, body = Wall), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn lift_wall(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<LiftWall>,
) -> Result<axum::Json<Wall>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .lift_wall(&caller, WallId(id), &body.reason)
            .await?,
    ))
}

/// A wall to raise. `reason` is stored as written: do not put client content in it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWall {
    /// `exclusionary` (default: the subject is kept out) or `inclusionary` (the subject is
    /// admitted; once a record has one, only its admitted people and teams may touch it).
    #[serde(default)]
    kind: WallKind,
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
        .create_wall(&caller, body.kind, body.subject, body.object, &body.reason)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(wall)))
}
