//! The JSON API routes, one module per area, and the OpenAPI document built from them.

mod accounts;
mod audit;
mod clients;
mod documents;
mod matters;
mod people;
mod session;
mod teams;
mod walls;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use custos_app::PageRequest;
use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// Largest JSON body accepted (uploads have their own limit).
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Custos API",
        description = "Client-confidentiality enforcement for law firms. Every call is decided by \
                       need-to-know and audited. Log in with POST /api/session, then send \
                       `Authorization: Bearer <token>`."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Pagination by cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
    /// Items per page (1..=200, default 50).
    pub limit: Option<u32>,
}

impl From<PageQuery> for PageRequest {
    fn from(q: PageQuery) -> Self {
        PageRequest {
            cursor: q.cursor,
            limit: q.limit,
        }
    }
}

/// The API router (state still to be given) and its OpenAPI document.
pub fn api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let json_routes = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::routes())
        .merge(people::routes())
        .merge(accounts::routes())
        .merge(teams::routes())
        .merge(clients::routes())
        .merge(matters::routes())
        .merge(audit::routes())
        .merge(walls::routes())
        .merge(documents::routes())
        .routes(utoipa_axum::routes!(health))
        .routes(utoipa_axum::routes!(openapi_document))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    let upload_routes = documents::upload_routes().layer(DefaultBodyLimit::disable());
    json_routes.merge(upload_routes).split_for_parts()
}

/// Liveness, without authentication.
#[utoipa::path(get, path = "/api/health", tag = "meta", responses((status = 200, body = Object)))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The serialised OpenAPI document, shared by every request.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub std::sync::Arc<str>);

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, body = Object)))]
async fn openapi_document(
    axum::Extension(doc): axum::Extension<OpenApiJson>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.to_string(),
    )
}

/// Answer for paths that are not routes.
pub async fn no_such_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "there is no such API route",
    )
}
