//! Documents: streamed upload (multipart: `metadata` JSON first, then `content`), metadata,
//! listing, and streamed download.

use super::PageQuery;
use crate::auth::Authed;
use crate::error::{
    ApiError, ErrorBody,
    extract::{Path, Query},
};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use custos_app::{DocumentView, MatterAccess, NewDocument, Page};
use custos_domain::{Classification, DocumentId, MatterId, ProvenanceInput};
use futures_util::TryStreamExt;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_documents))
        .routes(routes!(get_document))
        .routes(routes!(download_document))
        .routes(routes!(document_access))
}

/// Who can access a document, and why (the officer, the matter lead and the team lead, if
/// they may see the document): each person of its matter's audience decided on the document
/// itself, so role caps on its classification and firm policies count.
#[utoipa::path(get, path = "/api/documents/{id}/access", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MatterAccess), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn document_access(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<MatterAccess>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .who_can_access_document(&caller, DocumentId(id))
            .await?,
    ))
}

pub(super) fn upload_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_document))
}

/// The `metadata` part of an upload.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadMetadata {
    title: String,
    classification: Classification,
    /// Provenance (R7): source, content_description, purpose, legal_basis, collected_by,
    /// collected_at (RFC 3339); every field is required.
    provenance: ProvenanceInput,
    /// Media type of the content; defaults to the content part's type.
    media_type: Option<String>,
}

/// The multipart form of an upload (for the OpenAPI document).
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes the multipart body for the OpenAPI document only"
)]
pub struct UploadForm {
    /// JSON, see `UploadMetadata`; must come first.
    metadata: UploadMetadata,
    /// The document's bytes.
    #[schema(value_type = String, format = Binary)]
    content: Vec<u8>,
}

/// Reads the `metadata` part, refusing more than the JSON body limit.
async fn read_metadata(
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<UploadMetadata, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > super::JSON_BODY_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the metadata part is larger than {} bytes",
                    super::JSON_BODY_LIMIT
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_input(format!("metadata: {e}")))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::bad_input(format!("malformed multipart body: {}", e.body_text()))
}

/// Upload a document to a matter: multipart with a `metadata` part (JSON) then a `content` part.
#[utoipa::path(post, path = "/api/matters/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = DocumentView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn upload_document(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, axum::Json<DocumentView>), ApiError> {
    // A body that is not multipart answers in the API's JSON error format, like every error.
    let mut form = form.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!(
                "send multipart/form-data with a `metadata` part, then a `content` part ({})",
                e.body_text()
            ),
        )
    })?;
    let first = form
        .next_field()
        .await
        .map_err(multipart_error)?
        .ok_or_else(|| {
            ApiError::bad_input("empty form: send a `metadata` part, then a `content` part")
        })?;
    if first.name() != Some("metadata") {
        return Err(ApiError::bad_input(
            "the first part must be `metadata` (JSON)",
        ));
    }
    let meta: UploadMetadata = read_metadata(first).await?;
    let content = form
        .next_field()
        .await
        .map_err(multipart_error)?
        .ok_or_else(|| ApiError::bad_input("missing the `content` part"))?;
    if content.name() != Some("content") {
        return Err(ApiError::bad_input("the second part must be `content`"));
    }
    let media_type = meta
        .media_type
        .or_else(|| content.content_type().map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let new = NewDocument {
        title: meta.title,
        classification: meta.classification,
        provenance: meta.provenance,
        media_type,
    };
    let body = content.map_err(|e| e.body_text());
    let doc = state
        .app
        .upload_document(&caller, MatterId(id), new, body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(doc)))
}

/// The documents of a matter the caller may see.
#[utoipa::path(get, path = "/api/matters/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), PageQuery),
    responses((status = 200, body = Page<DocumentView>), (status = 404, body = ErrorBody)))]
async fn list_documents(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<DocumentView>>, ApiError> {
    Ok(axum::Json(
        state
            .app
            .list_documents(&caller, MatterId(id), &page.into())
            .await?,
    ))
}

/// A document's metadata.
#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)))]
async fn get_document(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::Json<DocumentView>, ApiError> {
    Ok(axum::Json(
        state.app.get_document(&caller, DocumentId(id)).await?,
    ))
}

/// A document's content, streamed. A chunk failing its integrity check aborts the transfer.
#[utoipa::path(get, path = "/api/documents/{id}/content", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)))]
async fn download_document(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, ApiError> {
    let download = state.app.download_document(&caller, DocumentId(id)).await?;
    Ok(content_response(download))
}

/// A document's content as an attachment, streamed (a person's download or a recipient's).
pub(super) fn content_response(download: custos_app::DocumentDownload) -> Response {
    let id = download.document.id;
    let size = download.document.size;
    let media_type = HeaderValue::from_str(&download.document.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"document-{id}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let body = Body::from_stream(download.content.map_err(std::io::Error::other));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, media_type);
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    response
}
