//! Periodic jobs: their state, for the confidentiality officer and IT.

use crate::auth::Authed;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use custos_app::JobState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_jobs))
}

/// Every periodic job: interval, last run, next run, last error, the node running it now
/// (confidentiality officer and admin/IT).
#[utoipa::path(get, path = "/api/jobs", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, body = Vec<JobState>), (status = 403, body = ErrorBody)))]
async fn list_jobs(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<Vec<JobState>>, ApiError> {
    Ok(axum::Json(state.app.jobs(&caller).await?))
}
