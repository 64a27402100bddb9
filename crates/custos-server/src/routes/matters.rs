//! Matters and their staffing.

use super::PageQuery;
use super::teams::MemberRef;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{MatterAccess, MatterView, Membership, Page};
use custos_domain::{ClientId, MatterId, PersonId, TeamId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_matters, create_matter))
        .routes(routes!(get_matter))
        .routes(routes!(matter_members, add_matter_member))
        .routes(routes!(remove_matter_member))
        .routes(routes!(matter_access))
        .routes(routes!(preview_matter_member))
}

/// What staffing or unstaffing a person would change about their access to the matter,
/// before it is done ("what if"). Nothing is saved (the question is audited).
#[utoipa::path(post, path = "/api/matters/{id}/members/preview", tag = "matters", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = super::teams::StaffingChange,
    responses((status = 200, body = custos_app::StaffingPreview), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn preview_matter_member(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<super::teams::StaffingChange>,
) -> Result<axum::Json<custos_app::StaffingPreview>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .preview_staffing(
                &caller,
                custos_app::StaffingPlace::Matter(MatterId(id)),
                body.person,
                body.change.into(),
            )
            .await?,
    ))
}

/// A matter to open; the title is encrypted at rest.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMatter {
    #[schema(value_type = String, format = Uuid)]
    client: ClientId,
    #[schema(value_type = String, format = Uuid)]
    team: TeamId,
    #[schema(value_type = String, format = Uuid)]
    lead: PersonId,
    title: String,
}

/// The matters the caller may see.
#[utoipa::path(get, path = "/api/matters", tag = "matters", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<MatterView>), (status = 401, body = ErrorBody)))]
async fn list_matters(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<MatterView>>, ApiError> {
    Ok(axum::Json(
        state.app.list_matters(&caller, &page.into()).await?,
    ))
}

/// Open a matter (partners, or the lead of the owning team).
#[utoipa::path(post, path = "/api/matters", tag = "matters", security(("bearer" = [])), request_body = CreateMatter,
    responses((status = 201, body = MatterView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_matter(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<CreateMatter>,
) -> Result<(StatusCode, axum::Json<MatterView>), ApiError> {
    let matter = state
        .app
        .create_matter(&caller, body.client, body.team, body.lead, &body.title)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(matter)))
}

/// One matter.
#[utoipa::path(get, path = "/api/matters/{id}", tag = "matters", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MatterView), (status = 404, body = ErrorBody)))]
async fn get_matter(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<MatterView>, ApiError> {
    Ok(axum::Json(
        state.app.get_matter(&caller, MatterId(id)).await?,
    ))
}

/// Who is staffed on a matter.
#[utoipa::path(get, path = "/api/matters/{id}/members", tag = "matters", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<String>), (status = 404, body = ErrorBody)))]
async fn matter_members(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<Vec<PersonId>>, ApiError> {
    Ok(axum::Json(
        state.app.matter_members(&caller, MatterId(id)).await?,
    ))
}

/// Staff a person on a matter (matter lead or team lead); refused for a screened person.
#[utoipa::path(post, path = "/api/matters/{id}/members", tag = "matters", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = MemberRef,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn add_matter_member(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<MemberRef>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_matter_member(&caller, MatterId(id), body.person, Membership::Add)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a person from a matter.
#[utoipa::path(delete, path = "/api/matters/{id}/members/{person}", tag = "matters", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("person" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_matter_member(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path((id, person)): Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_matter_member(&caller, MatterId(id), PersonId(person), Membership::Remove)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who can access a matter, and why (the officer, the matter lead and the team lead): each
/// person with the rule that lets them in, people screened out with the wall, people held back
/// by a missing agreement or training.
#[utoipa::path(get, path = "/api/matters/{id}/access", tag = "matters", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MatterAccess), (status = 404, body = ErrorBody)))]
async fn matter_access(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<MatterAccess>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .who_can_access_matter(&caller, MatterId(id))
            .await?,
    ))
}
