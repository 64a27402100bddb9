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
    /// The records typed for a preview.
    records: String,
    /// The preview asked for: records checked and the lines that change.
    preview: Option<(usize, Vec<PreviewLine>)>,
}

/// One record whose audience the proposed policies would change.
pub(super) struct PreviewLine {
    record: String,
    loses: Vec<String>,
    gains: Vec<String>,
}

/// What the page shows besides the set in force: a draft (refused, or being tried) and its
/// preview.
#[derive(Default)]
struct Draft {
    text: Option<String>,
    refused: Option<String>,
    records: String,
    preview: Option<(usize, Vec<PreviewLine>)>,
}

#[derive(Deserialize)]
struct PoliciesQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn page(state: &AppState, v: &Viewer, draft: Draft, done: Option<String>) -> Response {
    let versions = match state.app.list_firm_policies(&v.caller).await {
        Ok(list) => list,
        Err(e) => return error_page(&v.chrome, e),
    };
    let c = &v.chrome;
    let current = versions.first().map(|p| (p.version, p.text.clone()));
    let version = current.as_ref().map_or(0, |(n, _)| *n);
    let text = match draft.text {
        Some(text) => text,
        None => current.map(|(_, t)| t).unwrap_or_default(),
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
        refused: draft.refused,
        records: draft.records,
        preview: draft.preview,
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
    page(&state, &v, Draft::default(), q.done).await
}

#[derive(Deserialize)]
struct SaveForm {
    #[serde(default)]
    text: String,
    /// Matter and client numbers to try the text on.
    #[serde(default)]
    records: String,
    /// Set by the "what would change" button: show the preview, save nothing.
    #[serde(default)]
    preview: String,
}

async fn save(State(state): State<AppState>, v: Viewer, Form(form): Form<SaveForm>) -> Response {
    if !form.preview.is_empty() {
        return try_out(&state, &v, form).await;
    }
    match state.app.save_firm_policies(&v.caller, &form.text).await {
        Ok(_) => see_other("/policies?done=policies-saved"),
        Err(AppError::BadInput(why)) => {
            let draft = Draft {
                text: Some(form.text),
                refused: Some(why),
                records: form.records,
                preview: None,
            };
            let mut response = page(&state, &v, draft, None).await;
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

/// The policies page again, with the typed text kept and what it would change on the records
/// named (or why it cannot be tried).
async fn try_out(state: &AppState, v: &Viewer, form: SaveForm) -> Response {
    let result = state
        .app
        .preview_firm_policies(&v.caller, &form.text, &form.records)
        .await;
    let c = &v.chrome;
    let mut draft = Draft {
        text: Some(form.text),
        records: form.records,
        ..Draft::default()
    };
    match result {
        Ok(p) => {
            let who = |e: custos_app::AccessEntry| {
                format!(
                    "{} ({}) — {}",
                    e.name,
                    super::role_name(c.t, e.role),
                    super::emergency::why(c, e.rule, &e.message)
                )
            };
            let lines = p
                .changes
                .into_iter()
                .map(|l| PreviewLine {
                    record: match (l.document, l.classification) {
                        (Some(d), Some(k)) => c.t.with_all(
                            "what-if-document",
                            &[
                                ("number", l.number.to_string()),
                                ("classification", c.t.get(&format!("class-{}", k.as_str()))),
                                ("id", d.0.to_string()[..8].to_owned()),
                            ],
                        ),
                        _ => l.number.to_string(),
                    },
                    loses: l.loses.into_iter().map(who).collect(),
                    gains: l.gains.into_iter().map(who).collect(),
                })
                .collect();
            draft.preview = Some((p.records_checked, lines));
            page(state, v, draft, None).await
        }
        Err(AppError::BadInput(why)) => {
            draft.refused = Some(why);
            let mut response = page(state, v, draft, None).await;
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            response
        }
        Err(e) => error_page(&v.chrome, e),
    }
}
