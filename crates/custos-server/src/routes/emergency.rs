//! Break-glass (R6): emergency access, and the officer's review queue.

use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Json, Path, Query},
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use custos_app::{BreakGlassList, BreakGlassView, Page, PageRequest};
use custos_domain::{BreakGlassId, MatterId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_break_glass, open_break_glass))
        .routes(routes!(review_break_glass))
        .routes(routes!(end_break_glass))
}

/// Emergency access to open. The justification is read by the officer: say what the
/// emergency is and why the matter team cannot be reached.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBreakGlass {
    #[schema(value_type = String, format = Uuid)]
    matter: uuid::Uuid,
    /// 20 to 2000 characters.
    justification: String,
    /// 1 up to the firm's limit (default and longest: `break_glass_hours`, 4 unless set).
    #[schema(minimum = 1, maximum = 24)]
    hours: Option<u32>,
}

/// The officer's verdict.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The emergency access was justified.
    Justified,
    /// It was not.
    Unjustified,
}

/// Closing the review of an emergency access.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBreakGlass {
    verdict: Verdict,
    comment: String,
}

/// Which emergency accesses to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassQuery {
    /// `awaiting_review` (the officer's queue, the default for the officer), `all` (the
    /// officer), or `mine`.
    #[param(inline)]
    which: Option<Which>,
    /// The `next_cursor` of the previous page.
    cursor: Option<uuid::Uuid>,
    /// Items per page (1..=200, default 50).
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "super::limit_up_to::<_, 200>")]
    limit: Option<u32>,
}

/// Which list.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// Waiting for the officer's review.
    AwaitingReview,
    /// Every one.
    All,
    /// The caller's own.
    Mine,
}

/// Open emergency access to a matter (partners, team leads, lawyers; login session only):
/// never through a wall; flagged in every audit entry; the officer is alerted at once.
#[utoipa::path(post, path = "/api/break-glass", tag = "break-glass", security(("bearer" = [])),
    request_body = OpenBreakGlass,
    responses((status = 201, body = BreakGlassView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn open_break_glass(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Json(body): Json<OpenBreakGlass>,
) -> Result<(StatusCode, axum::Json<BreakGlassView>), ApiError> {
    let view = state
        .app
        .break_glass(
            &caller,
            MatterId(body.matter),
            &body.justification,
            body.hours,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Emergency accesses: the officer's review queue (or all of them), or one's own.
#[utoipa::path(get, path = "/api/break-glass", tag = "break-glass", security(("bearer" = [])),
    params(BreakGlassQuery),
    responses((status = 200, body = Page<BreakGlassView>), (status = 403, body = ErrorBody)))]
async fn list_break_glass(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Query(q): Query<BreakGlassQuery>,
) -> Result<axum::Json<Page<BreakGlassView>>, ApiError> {
    let which = match q.which.unwrap_or(Which::Mine) {
        Which::AwaitingReview => BreakGlassList::AwaitingReview,
        Which::All => BreakGlassList::All,
        Which::Mine => BreakGlassList::Mine,
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(axum::Json(
        state.app.list_break_glass(&caller, which, &page).await?,
    ))
}

/// Close the review of an emergency access as justified or not (confidentiality officer).
#[utoipa::path(post, path = "/api/break-glass/{id}/review", tag = "break-glass", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = ReviewBreakGlass,
    responses((status = 200, body = BreakGlassView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn review_break_glass(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Json(body): Json<ReviewBreakGlass>,
) -> Result<axum::Json<BreakGlassView>, ApiError> {
    let justified = matches!(body.verdict, Verdict::Justified);
    Ok(axum::Json(
        state
            .app
            .review_break_glass(&caller, BreakGlassId(id), justified, &body.comment)
            .await?,
    ))
}

/// End an open emergency access at once (confidentiality officer): it opens nothing from the
/// next request on and stays in the review queue.
#[utoipa::path(post, path = "/api/break-glass/{id}/end", tag = "break-glass", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = BreakGlassView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn end_break_glass(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<BreakGlassView>, ApiError> {
    Ok(axum::Json(
        state.app.end_break_glass(&caller, BreakGlassId(id)).await?,
    ))
}
