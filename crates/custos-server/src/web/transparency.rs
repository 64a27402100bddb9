//! The transparency log on the pages (issue 15): the latest signed checkpoint and the log's
//! verifier key, shown with the audit explorer and one's own trail, and downloads of the
//! checkpoint and of an entry's inclusion proof, to keep and check offline
//! (`custos audit verify-proof`, docs/AUDIT-FORMAT.md).

use super::{Viewer, error_page, see_other};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit/checkpoint", get(checkpoint).post(sign_now))
        .route("/audit/proof/{seq}", get(proof))
        .route("/audit/export.json", get(export))
}

/// The latest checkpoint as a page shows it.
pub(super) struct CheckpointPanel {
    pub size: u64,
    pub signed_at: String,
    pub root: String,
    pub witnesses: String,
}

/// The panel's facts: the verifier key (none: this node signs nothing) and the latest
/// checkpoint. Both are public (a size and a root say nothing about any entry): read without
/// an audit entry of their own, on a page that is audited itself.
pub(super) async fn panel(
    state: &AppState,
    v: &Viewer,
) -> (Option<String>, Option<CheckpointPanel>) {
    let key = state.app.log_verifier_key().map(str::to_owned);
    let latest = state.app.checkpoint_console().await.ok().flatten();
    let panel = latest.map(|cp| CheckpointPanel {
        size: cp.size,
        signed_at: v.chrome.when(&cp.signed_at),
        root: cp.root,
        witnesses: cp.witnesses.join(", "),
    });
    (key, panel)
}

fn download(body: String, content_type: &'static str, name: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn checkpoint(State(state): State<AppState>, v: Viewer) -> Response {
    match state.app.latest_checkpoint(&v.caller).await {
        Ok(Some(cp)) => download(
            cp.note,
            "text/plain; charset=utf-8",
            format!("custos-audit-checkpoint-{}.txt", cp.size),
        ),
        Ok(None) => error_page(&v.chrome, custos_app::AppError::NotFound),
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn proof(State(state): State<AppState>, v: Viewer, Path(seq): Path<String>) -> Response {
    let Ok(seq) = seq.parse::<u64>() else {
        return error_page(&v.chrome, custos_app::AppError::NotFound);
    };
    match state.app.inclusion_proof(&v.caller, seq).await {
        Ok(proof) => {
            let file = custos_app::ProofFile::Inclusion(proof);
            match serde_json::to_string_pretty(&file) {
                Ok(json) => download(
                    json,
                    "application/json",
                    format!("custos-audit-proof-{seq}.json"),
                ),
                Err(e) => error_page(&v.chrome, custos_app::AppError::Internal(e.to_string())),
            }
        }
        Err(e) => error_page(&v.chrome, e),
    }
}

/// The officer signs a checkpoint now (the form carries the CSRF token, like every POST).
async fn sign_now(State(state): State<AppState>, v: Viewer) -> Response {
    match state.app.request_checkpoint(&v.caller).await {
        Ok(_) => see_other("/audit?done=checkpoint-signed#checkpoint"),
        Err(e) => error_page(&v.chrome, e),
    }
}

/// The explorer's filters as an export with proofs: a client, else a matter, else a person,
/// with the dates chosen.
async fn export(
    State(state): State<AppState>,
    v: Viewer,
    Query(mut f): Query<super::audit::Filters>,
) -> Response {
    let c = &v.chrome;
    super::audit::resolve_numbers(&state, &mut f).await;
    let (scope, from, until) = match f.export_scope(c) {
        Ok((Some(scope), from, until)) => (scope, from, until),
        Ok((None, _, _)) => {
            return error_page(
                c,
                custos_app::AppError::BadInput(c.t.get("audit-export-needs-scope")),
            );
        }
        Err(field) => {
            return error_page(
                c,
                custos_app::AppError::BadInput(c.t.get(&format!("audit-bad-{field}"))),
            );
        }
    };
    match state.app.export_audit(&v.caller, scope, from, until).await {
        Ok(export) => {
            let file = custos_app::ProofFile::Export(export);
            match serde_json::to_string_pretty(&file) {
                Ok(json) => download(
                    json,
                    "application/json",
                    "custos-audit-export.json".to_owned(),
                ),
                Err(e) => error_page(c, custos_app::AppError::Internal(e.to_string())),
            }
        }
        Err(e) => error_page(c, e),
    }
}
