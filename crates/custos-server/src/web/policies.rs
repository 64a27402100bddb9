//! Firm policies (Cedar), for the officer: the set in force in an editor, the schema beside it,
//! every saved version with a restore button. A set that does not check is refused with the
//! checker's message, and the text typed is kept in the editor.

use super::{Chrome, Viewer, error_page, see_other};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_app::AppError;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies", get(policies).post(save))
        .route("/policies/{version}/restore", post(restore))
}

pub(super) struct VersionRow {
    version: i64,
    note: String,
    when: String,
    current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "policies.html")]
struct PoliciesPage {
    c: Chrome,
    text: String,
    version: i64,
    versions: Vec<VersionRow>,
    schema: &'static str,
    /// The checker's message when a save was refused.
    refused: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct PoliciesQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn page(
    state: &AppState,
    v: &Viewer,
    draft: Option<(String, String)>,
    done: Option<String>,
) -> Response {
    let versions = match state.app.list_firm_policies(&v.caller).await {
        Ok(list) => list,
        Err(e) => return error_page(&v.chrome, e),
    };
    let c = &v.chrome;
    let current = versions.first().map(|p| (p.version, p.text.clone()));
    let version = current.as_ref().map_or(0, |(n, _)| *n);
    let (text, refused) = match draft {
        Some((text, why)) => (text, Some(why)),
        None => (current.map(|(_, t)| t).unwrap_or_default(), None),
    };
    PoliciesPage {
        text,
        version,
        versions: versions
            .into_iter()
            .map(|p| VersionRow {
                current: p.version == version,
                version: p.version,
                note: p.note,
                when: c.when(&p.created_at),
            })
            .collect(),
        schema: custos_app::firm_policy_schema(),
        refused,
        notice: done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        c: v.chrome.clone(),
    }
    .into_response()
}

async fn policies(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<PoliciesQuery>,
) -> Response {
    page(&state, &v, None, q.done).await
}

#[derive(Deserialize)]
struct SaveForm {
    #[serde(default)]
    text: String,
}

async fn save(State(state): State<AppState>, v: Viewer, Form(form): Form<SaveForm>) -> Response {
    match state.app.save_firm_policies(&v.caller, &form.text).await {
        Ok(_) => see_other("/policies?done=policies-saved"),
        Err(AppError::BadInput(why)) => {
            let mut response = page(&state, &v, Some((form.text, why)), None).await;
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            response
        }
        Err(e) => error_page(&v.chrome, e),
    }
}

async fn restore(State(state): State<AppState>, v: Viewer, Path(version): Path<i64>) -> Response {
    match state.app.restore_firm_policies(&v.caller, version).await {
        Ok(_) => see_other("/policies?done=policies-restored"),
        Err(e) => error_page(&v.chrome, e),
    }
}
