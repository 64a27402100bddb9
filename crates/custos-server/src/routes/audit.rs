//! The audit log: one's own trail, and the officer's query.

use crate::auth::Authed;
use crate::error::{ApiError, ErrorBody, extract::Query};
use crate::state::AppState;
use axum::extract::State;
use custos_app::AuditFilter;
use custos_app::{AuditEntry, Outcome};
use custos_app::{Page, TrailEntry};
use custos_domain::{PersonId, RequestId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_trail))
        .routes(routes!(query_audit))
}

/// Position in the log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeqPage {
    /// Entries after this sequence number (the `next_cursor` of the previous page).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    #[serde(default, deserialize_with = "super::sequence_number")]
    cursor: Option<u64>,
    /// Entries per page (1..=500, default 100); anything else is refused.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "super::limit_up_to::<_, 500>")]
    limit: Option<u32>,
}

/// Filters of the officer's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this actor.
    actor: Option<uuid::Uuid>,
    /// Only this resource, e.g. `document:<uuid>`.
    resource: Option<String>,
    /// Only this request.
    request_id: Option<uuid::Uuid>,
    /// Only allows or denies.
    #[param(value_type = Option<String>, pattern = "^(allow|deny)$")]
    outcome: Option<Outcome>,
    /// Entries after this sequence number.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    #[serde(default, deserialize_with = "super::sequence_number")]
    cursor: Option<u64>,
    /// Entries per page (1..=500, default 100); anything else is refused.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "super::limit_up_to::<_, 500>")]
    limit: Option<u32>,
}

/// The caller's own audit trail.
#[utoipa::path(get, path = "/api/audit/mine", tag = "audit", security(("bearer" = [])), params(SeqPage),
    responses((status = 200, body = Page<TrailEntry>), (status = 401, body = ErrorBody)))]
async fn my_trail(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(page): Query<SeqPage>,
) -> Result<axum::Json<Page<TrailEntry>>, ApiError> {
    let page = state
        .app
        .my_audit_trail(&caller, page.cursor.unwrap_or(0), page.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(page))
}

/// Query the whole log (confidentiality officer).
#[utoipa::path(get, path = "/api/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = ErrorBody)))]
async fn query_audit(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<Page<AuditEntry>>, ApiError> {
    let filter = AuditFilter {
        actor: q.actor.map(PersonId),
        resource: q.resource,
        request_id: q.request_id.map(RequestId),
        outcome: q.outcome,
        ..AuditFilter::default()
    };
    let page = state
        .app
        .query_audit(
            &caller,
            &filter,
            q.cursor.unwrap_or(0),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(axum::Json(page))
}
