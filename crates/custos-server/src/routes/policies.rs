//! Firm policies in Cedar (the confidentiality officer).

use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path},
};
use crate::state::AppState;
use axum::extract::State;
use custos_app::FirmPolicyView;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, save_policies))
        .routes(routes!(restore_policies))
        .routes(routes!(policy_schema))
        .routes(routes!(preview_policies))
}

/// A proposed policy set and the records to try it on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewPolicies {
    /// The proposed Cedar text (checked as saving would check it).
    text: String,
    /// Matter and client numbers (`M-0042, C-0007`), 1 to 20.
    records: String,
}

/// What a proposed firm policy set would change, before it is saved ("what if"): each named
/// matter and each of its documents decided for everyone of its audience under the set in
/// force and under the proposed one; the records where someone would gain or lose access.
/// Nothing is saved (the question is audited).
#[utoipa::path(post, path = "/api/policies/preview", tag = "policies", security(("bearer" = [])),
    request_body = PreviewPolicies,
    responses((status = 200, body = custos_app::PolicyPreview), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn preview_policies(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<PreviewPolicies>,
) -> Result<axum::Json<custos_app::PolicyPreview>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .preview_firm_policies(&caller, &body.text, &body.records)
            .await?,
    ))
}

/// A firm policy set in Cedar: `forbid` policies only, checked against the schema
/// (`GET /api/policies/schema`) before it takes effect.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePolicies {
    /// The Cedar text (at most 64 KiB).
    text: String,
}

/// Every saved version, newest first (the highest is in force).
#[utoipa::path(get, path = "/api/policies", tag = "policies", security(("bearer" = [])),
    responses((status = 200, body = Vec<FirmPolicyView>), (status = 403, body = ErrorBody)))]
async fn list_policies(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<Vec<FirmPolicyView>>, ApiError> {
    Ok(axum::Json(state.app.list_firm_policies(&caller).await?))
}

/// Save the firm's policies as a new version, in force from the next request; a set that does
/// not check is refused with the checker's message (400).
#[utoipa::path(put, path = "/api/policies", tag = "policies", security(("bearer" = [])),
    request_body = SavePolicies,
    responses((status = 200, body = FirmPolicyView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn save_policies(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<SavePolicies>,
) -> Result<axum::Json<FirmPolicyView>, ApiError> {
    Ok(axum::Json(
        state.app.save_firm_policies(&caller, &body.text).await?,
    ))
}

/// Restore an earlier version (saved again as the newest).
#[utoipa::path(post, path = "/api/policies/{version}/restore", tag = "policies", security(("bearer" = [])),
    params(("version" = i64, Path, minimum = 1)),
    responses((status = 200, body = FirmPolicyView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn restore_policies(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(version): Path<i64>,
) -> Result<axum::Json<FirmPolicyView>, ApiError> {
    Ok(axum::Json(
        state.app.restore_firm_policies(&caller, version).await?,
    ))
}

/// The Cedar schema firm policies are checked against.
#[utoipa::path(get, path = "/api/policies/schema", tag = "policies", security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/plain")))]
async fn policy_schema(Authed(_caller): Authed) -> &'static str {
    custos_app::firm_policy_schema()
}
