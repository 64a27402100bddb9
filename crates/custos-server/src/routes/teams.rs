//! Practice teams and their members.

use super::PageQuery;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{Membership, Page, StaffingPlace, StaffingPreview};
use custos_domain::{PersonId, Team, TeamId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(team_members, add_team_member))
        .routes(routes!(preview_team_member))
        .routes(routes!(remove_team_member))
}

/// A team to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    name: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    lead: Option<PersonId>,
}

/// A staffing change to try before making it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffingChange {
    #[schema(value_type = String, format = Uuid)]
    pub(super) person: PersonId,
    /// `add` or `remove`.
    pub(super) change: ChangeKind,
}

/// Adding or removing.
#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Add the person.
    Add,
    /// Remove the person.
    Remove,
}

impl From<ChangeKind> for Membership {
    fn from(c: ChangeKind) -> Self {
        match c {
            ChangeKind::Add => Membership::Add,
            ChangeKind::Remove => Membership::Remove,
        }
    }
}

/// What adding or removing a person would change about the matters they can see, before it
/// is done ("what if"): one line per matter of the team, their access now and after, and the
/// rule that would decide. Nothing is saved (the question is audited).
#[utoipa::path(post, path = "/api/teams/{id}/members/preview", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = StaffingChange,
    responses((status = 200, body = StaffingPreview), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn preview_team_member(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<StaffingChange>,
) -> Result<axum::Json<StaffingPreview>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .preview_staffing(
                &caller,
                StaffingPlace::Team(TeamId(id)),
                body.person,
                body.change.into(),
            )
            .await?,
    ))
}

/// A person to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRef {
    #[schema(value_type = String, format = Uuid)]
    pub(super) person: PersonId,
}

/// The practice teams.
#[utoipa::path(get, path = "/api/teams", tag = "teams", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Team>), (status = 401, body = ErrorBody)))]
async fn list_teams(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Team>>, ApiError> {
    Ok(axum::Json(
        state.app.list_teams(&caller, &page.into()).await?,
    ))
}

/// Create a team.
#[utoipa::path(post, path = "/api/teams", tag = "teams", security(("bearer" = [])), request_body = CreateTeam,
    responses((status = 201, body = Team), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_team(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<CreateTeam>,
) -> Result<(StatusCode, axum::Json<Team>), ApiError> {
    let team = state
        .app
        .create_team(&caller, &body.name, body.lead)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(team)))
}

/// Members of a team.
#[utoipa::path(get, path = "/api/teams/{id}/members", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<String>), (status = 404, body = ErrorBody)))]
async fn team_members(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<Vec<PersonId>>, ApiError> {
    Ok(axum::Json(
        state.app.team_members(&caller, TeamId(id)).await?,
    ))
}

/// Add a member to a team.
#[utoipa::path(post, path = "/api/teams/{id}/members", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = MemberRef,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_team_member(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<MemberRef>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_team_member(&caller, TeamId(id), body.person, Membership::Add)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member from a team.
#[utoipa::path(delete, path = "/api/teams/{id}/members/{person}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("person" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_team_member(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path((id, person)): Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .change_team_member(&caller, TeamId(id), PersonId(person), Membership::Remove)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
