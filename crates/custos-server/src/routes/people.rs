//! The firm directory and account management.

use super::PageQuery;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{NewPerson, Page, PersonAccess};
use custos_domain::{Compliance, Person, PersonId, PersonStatus, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person))
        .routes(routes!(set_status))
        .routes(routes!(set_compliance))
        .routes(routes!(person_access))
}

/// What a person can access now, and why (the officer's access review, R20): every matter
/// their own grounds let them see, with the rule; an officer's or IT's oversight of every
/// matter is one flag. Matters the officer may not see herself are counted, not named.
#[utoipa::path(get, path = "/api/people/{id}/access", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = PersonAccess), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn person_access(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<PersonAccess>, ApiError> {
    Ok(axum::Json(
        state.app.person_access(&caller, PersonId(id)).await?,
    ))
}

/// Record a person's confidentiality agreement and training (R4): the officer for anyone
/// but herself, a partner for an officer. Dates are `YYYY-MM-DD` (the firm's calendar);
/// `null` clears one. Without both on file, the person reaches no client data.
#[utoipa::path(put, path = "/api/people/{id}/compliance", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = Compliance,
    responses((status = 200, body = Person), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_compliance(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<Compliance>,
) -> Result<axum::Json<Person>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .record_compliance(&caller, PersonId(id), body)
            .await?,
    ))
}

/// A person to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePerson {
    user_name: String,
    display_name: String,
    role: Role,
}

/// The created person and their one-time password (shown once).
#[derive(Serialize, ToSchema)]
pub struct CreatedPerson {
    person: Person,
    one_time_password: String,
}

/// A status change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: PersonStatus,
}

/// The firm directory.
#[utoipa::path(get, path = "/api/people", tag = "people", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Person>), (status = 401, body = ErrorBody)))]
async fn list_people(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Person>>, ApiError> {
    Ok(axum::Json(
        state.app.list_people(&caller, &page.into()).await?,
    ))
}

/// Create an account (officer; admin/IT for ordinary roles).
#[utoipa::path(post, path = "/api/people", tag = "people", security(("bearer" = [])),
    request_body = CreatePerson,
    responses((status = 201, body = CreatedPerson), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_person(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<CreatePerson>,
) -> Result<(StatusCode, axum::Json<CreatedPerson>), ApiError> {
    let new = NewPerson {
        user_name: body.user_name,
        display_name: body.display_name,
        role: body.role,
    };
    let (person, password) = state.app.create_person(&caller, new).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedPerson {
            person,
            one_time_password: password.to_string(),
        }),
    ))
}

/// One person.
#[utoipa::path(get, path = "/api/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Person), (status = 404, body = ErrorBody)))]
async fn get_person(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<Person>, ApiError> {
    Ok(axum::Json(
        state.app.get_person(&caller, PersonId(id)).await?,
    ))
}

/// Suspend, reactivate or mark departed; leaving active ends every session at once.
#[utoipa::path(put, path = "/api/people/{id}/status", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = StatusChange,
    responses((status = 200, body = Person), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_status(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<StatusChange>,
) -> Result<axum::Json<Person>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .set_person_status(&caller, PersonId(id), body.status)
            .await?,
    ))
}
