//! The audit log: one's own trail, and the officer's query.

use crate::auth::Authed;
use crate::error::{ApiError, ErrorBody, extract::Query};
use crate::state::AppState;
use axum::extract::State;
use custos_app::AuditFilter;
use custos_app::{AuditEntry, Outcome};
use custos_app::{
    AuditExport, CheckpointView, ConsistencyProof, ExportScope, InclusionProof, Page, TrailEntry,
};
use custos_domain::{PersonId, RequestId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_trail))
        .routes(routes!(query_audit))
        .routes(routes!(verifier_key))
        .routes(routes!(latest_checkpoint, sign_checkpoint))
        .routes(routes!(inclusion_proof))
        .routes(routes!(consistency_proof))
        .routes(routes!(export_with_proofs))
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
#[serde(deny_unknown_fields)]
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

/// The audit log's verifier key (C2SP signed-note format), without authentication: anyone
/// checks Custos' checkpoints and proofs with it (compare it with the key the firm published).
#[utoipa::path(get, path = "/api/audit/pubkey", tag = "audit",
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = ErrorBody)))]
async fn verifier_key(State(state): State<AppState>) -> Result<String, ApiError> {
    state
        .app
        .log_verifier_key()
        .map(|k| format!("{k}\n"))
        .ok_or_else(|| custos_app::AppError::NotFound.into())
}

/// The latest signed checkpoint of the audit log, with its witnesses' cosignatures.
#[utoipa::path(get, path = "/api/audit/checkpoint", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = CheckpointView), (status = 404, body = ErrorBody)))]
async fn latest_checkpoint(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<CheckpointView>, ApiError> {
    let view = state.app.latest_checkpoint(&caller).await?;
    Ok(axum::Json(view.ok_or(custos_app::AppError::NotFound)?))
}

/// Sign a checkpoint now (confidentiality officer); answers the latest.
#[utoipa::path(post, path = "/api/audit/checkpoint", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = CheckpointView), (status = 403, body = ErrorBody)))]
async fn sign_checkpoint(
    State(state): State<AppState>,
    Authed(caller): Authed,
) -> Result<axum::Json<CheckpointView>, ApiError> {
    Ok(axum::Json(state.app.request_checkpoint(&caller).await?))
}

/// Which entry to prove.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    /// The entry's sequence number.
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    #[serde(deserialize_with = "super::required_sequence_number")]
    seq: u64,
}

/// From which tree size.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FromQuery {
    /// The earlier tree's size (a checkpoint you kept).
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    #[serde(deserialize_with = "super::required_sequence_number")]
    from: u64,
}

/// Proof that an entry is in the latest signed checkpoint (one's own entries; the officer:
/// any). Verify it offline with `custos audit verify-proof` (docs/AUDIT-FORMAT.md).
#[utoipa::path(get, path = "/api/audit/proof/inclusion", tag = "audit", security(("bearer" = [])),
    params(EntryQuery),
    responses((status = 200, body = InclusionProof), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not yet in a signed checkpoint")))]
async fn inclusion_proof(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<EntryQuery>,
) -> Result<axum::Json<InclusionProof>, ApiError> {
    Ok(axum::Json(state.app.inclusion_proof(&caller, q.seq).await?))
}

/// Proof that the log of `from` entries is a prefix of the latest signed checkpoint.
#[utoipa::path(get, path = "/api/audit/proof/consistency", tag = "audit", security(("bearer" = [])),
    params(FromQuery),
    responses((status = 200, body = ConsistencyProof),
        (status = 409, body = ErrorBody, description = "beyond the latest signed checkpoint")))]
async fn consistency_proof(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<FromQuery>,
) -> Result<axum::Json<ConsistencyProof>, ApiError> {
    Ok(axum::Json(
        state.app.consistency_proof(&caller, q.from).await?,
    ))
}

/// What an export with proofs covers: exactly one of client, matter or person.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// A client: its record, its matters and their documents.
    client: Option<uuid::Uuid>,
    /// A matter and its documents.
    matter: Option<uuid::Uuid>,
    /// A person, as the actor.
    person: Option<uuid::Uuid>,
    /// Entries at or after this time (Unix milliseconds).
    from_ms: Option<i64>,
    /// Entries before this time (Unix milliseconds).
    until_ms: Option<i64>,
}

/// The audit entries about one client, matter or person, each with its inclusion proof, all
/// against the latest signed checkpoint (confidentiality officer). Verify the file offline with
/// `custos audit verify-proof` or a verifier written to docs/AUDIT-FORMAT.md.
#[utoipa::path(get, path = "/api/audit/export", tag = "audit", security(("bearer" = [])),
    params(ExportQuery),
    responses((status = 200, body = AuditExport), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "no checkpoint signed yet")))]
async fn export_with_proofs(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<ExportQuery>,
) -> Result<axum::Json<AuditExport>, ApiError> {
    use custos_domain::{ClientId, MatterId};
    let scope = match (q.client, q.matter, q.person) {
        (Some(c), None, None) => ExportScope::Client(ClientId(c)),
        (None, Some(m), None) => ExportScope::Matter(MatterId(m)),
        (None, None, Some(p)) => ExportScope::Person(PersonId(p)),
        _ => {
            return Err(custos_app::AppError::BadInput(
                "give exactly one of client, matter or person".into(),
            )
            .into());
        }
    };
    Ok(axum::Json(
        state
            .app
            .export_audit(&caller, scope, q.from_ms, q.until_ms)
            .await?,
    ))
}
