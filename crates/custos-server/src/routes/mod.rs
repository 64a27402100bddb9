//! The JSON API routes, one module per area, and the OpenAPI document built from them.

mod accounts;
mod audit;
mod clients;
mod documents;
mod emergency;
mod jobs;
mod matters;
mod people;
mod policies;
mod received;
mod session;
mod teams;
mod transfers;

pub(crate) use transfers::{clean_token, release_cookie, release_session_cookies};
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
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
    /// Items per page (1..=200, default 50); anything else is refused.
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "limit_up_to::<_, 200>")]
    pub limit: Option<u32>,
}

/// A page size between 1 and `MAX`; out of range is refused (400), never silently clamped.
pub(crate) fn limit_up_to<'de, D: serde::Deserializer<'de>, const MAX: u32>(
    d: D,
) -> Result<Option<u32>, D::Error> {
    let limit = Option::<u32>::deserialize(d)?;
    match limit {
        Some(n) if !(1..=MAX).contains(&n) => Err(serde::de::Error::custom(format!(
            "limit: {n} is not between 1 and {MAX}"
        ))),
        other => Ok(other),
    }
}

/// Free-text fields of request bodies and their longest length (characters).
const TEXT_FIELDS: [(&str, &str, u32); 9] = [
    ("CreateClient", "name", 500),
    ("CreateMatter", "title", 500),
    ("CreatePerson", "display_name", 200),
    ("CreateTeam", "name", 200),
    ("CreateToken", "name", 100),
    ("CreateWall", "reason", 1000),
    ("LiftWall", "reason", 1000),
    ("ReviewBreakGlass", "comment", 2000),
    ("OpenBreakGlass", "justification", 2000),
];

/// Text with at least one visible character and no control (C0, DEL, C1) or bidirectional
/// control characters, as `custos_domain::refuse_hidden_characters` and `require_text` demand.
const TEXT_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*\
    [^\\s\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]\
    [^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$";

/// An audit sequence number: they are stored as signed 64-bit integers, so larger ones are
/// refused rather than silently read as the end of the log.
pub(crate) fn sequence_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<u64>, D::Error> {
    let seq = Option::<u64>::deserialize(d)?;
    match seq {
        Some(n) if i64::try_from(n).is_err() => Err(serde::de::Error::custom(format!(
            "cursor: {n} is larger than any sequence number"
        ))),
        other => Ok(other),
    }
}

/// A required sequence number or tree size: 1 up to the largest signed 64-bit number.
pub(crate) fn required_sequence_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<u64, D::Error> {
    let n = u64::deserialize(d)?;
    if n == 0 || i64::try_from(n).is_err() {
        return Err(serde::de::Error::custom(format!(
            "{n} is not a sequence number (1 to 9223372036854775807)"
        )));
    }
    Ok(n)
}

/// The served OpenAPI document: utoipa's, plus the error answers every operation can give
/// (a malformed parameter, no credentials, a denial, a hidden record, storage unavailable...)
/// where a route does not already describe them, so that the document names every status a
/// route returns (schemathesis checks this in `scripts/api-fuzz`).
pub fn served_document(doc: &utoipa::openapi::OpenApi) -> String {
    let Ok(mut value) = serde_json::to_value(doc) else {
        return doc.to_pretty_json().unwrap_or_default();
    };
    let error = |text: &str| {
        serde_json::json!({
            "description": text,
            "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
        })
    };
    // Free text refuses control and bidirectional characters and blank values (the domain's
    // `require_text`): said once here for every such field of a request body.
    for (schema, field, max) in TEXT_FIELDS {
        if let Some(prop) =
            value["components"]["schemas"][schema]["properties"][field].as_object_mut()
        {
            prop.insert("pattern".to_owned(), TEXT_PATTERN.into());
            prop.insert("minLength".to_owned(), 1.into());
            prop.insert("maxLength".to_owned(), max.into());
        }
    }
    if let Some(items) =
        value["components"]["schemas"]["CreateToken"]["properties"]["scopes"]["items"]
            .as_object_mut()
    {
        items.insert(
            "enum".to_owned(),
            serde_json::json!(["read", "write", "audit"]),
        );
    }
    if let Some(prop) =
        value["components"]["schemas"]["CreatePerson"]["properties"]["user_name"].as_object_mut()
    {
        prop.insert(
            "pattern".to_owned(),
            "^[A-Za-z][A-Za-z0-9._-]{1,63}$".into(),
        );
    }
    if let Some(paths) = value["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            if path == "/api/health" || path == "/api/openapi.json" {
                continue;
            }
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let has_body = op.get("requestBody").is_some();
                let Some(responses) = op["responses"].as_object_mut() else {
                    continue;
                };
                let mut add = |code: &str, text: &str| {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(text));
                };
                add(
                    "400",
                    "invalid input: a malformed parameter or field (`invalid_input`)",
                );
                add("401", "no valid session or token (`unauthenticated`)");
                add("403", "forbidden: the message names the rule that decided");
                add("404", "no such record, or one the caller may not know of");
                add("500", "internal error (the body gives only the request id)");
                add("503", "storage unavailable; retry later");
                if method != "get" {
                    add("409", "conflicts with the current state");
                }
                if has_body {
                    add("413", "body larger than the limit");
                    add("415", "wrong content type");
                    add(
                        "422",
                        "the JSON body does not match the schema (`invalid_json`)",
                    );
                }
                if path == "/api/session" && method == "post" {
                    add(
                        "429",
                        "too many failed attempts: retry after `Retry-After` seconds",
                    );
                }
            }
        }
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
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
        .merge(emergency::routes())
        .merge(policies::routes())
        .merge(jobs::routes())
        .merge(documents::routes())
        .merge(transfers::routes())
        .merge(received::routes())
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
pub async fn no_such_route(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    if crate::pages::wants_html(&headers) {
        // A browser that followed a stale link: a page, with the pages' policy.
        let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                    <title>Not found / 未找到</title></head><body><h1>Not found</h1>\
                    <p lang=\"zh\">未找到此页面。</p></body></html>";
        let mut response = (StatusCode::NOT_FOUND, axum::response::Html(page)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(crate::pages::PAGE_CSP),
        );
        return response;
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "there is no such API route",
    )
    .into_response()
}
