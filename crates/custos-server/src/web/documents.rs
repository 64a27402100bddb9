//! Documents: the upload form with its provenance (R7: every field required, checked on the
//! server, errors next to each field), streamed into the same use case as the API's upload;
//! a document's page (metadata, provenance, its own access history for those allowed); the
//! download, streamed.

use super::audit::{EntryRow, entry_rows};
use super::matters::{name_of, names};
use super::{Chrome, Viewer, error_page, human_size, see_other};
use crate::auth::CsrfPending;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_app::{AuditFilter, NewDocument};
use custos_domain::{Classification, Document, DocumentId, MatterId, Provenance, ProvenanceInput};
use futures_util::TryStreamExt;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/matters/{id}/upload",
            get(upload_form)
                .post(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/documents/{id}", get(document))
        .route("/documents/{id}/download", get(download))
}

/// One field of the upload form.
pub(super) struct Field {
    name: &'static str,
    label: String,
    hint: Option<String>,
    kind: &'static str,
    value: String,
    error: Option<String>,
}

/// The upload form's fields, in order (the multipart body sends them before the file).
const FIELDS: [(&str, &str); 8] = [
    ("title", "text"),
    ("classification", "select"),
    ("source", "text"),
    ("content_description", "textarea"),
    ("purpose", "text"),
    ("legal_basis", "text"),
    ("collected_by", "text"),
    ("collected_at", "datetime-local"),
];

#[derive(Template, WebTemplate)]
#[template(path = "upload.html")]
struct UploadPage {
    c: Chrome,
    matter_id: String,
    matter_title: String,
    fields: Vec<Field>,
    classes: Vec<(&'static str, String)>,
    errors: Vec<(&'static str, String)>,
}

impl UploadPage {
    fn new(c: Chrome, matter: MatterId, matter_title: String, values: &[(String, String)]) -> Self {
        let value = |name: &str| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let fields = FIELDS
            .iter()
            .map(|(name, kind)| Field {
                name,
                label: c.t.get(&format!("field-{name}")),
                hint: c.t.try_get(&format!("field-{name}-hint")),
                kind,
                value: match (*name, value(name)) {
                    ("classification", v) if v.is_empty() => "confidential".to_owned(),
                    (_, v) => v,
                },
                error: None,
            })
            .collect();
        let classes = Classification::ALL
            .iter()
            .map(|k| (k.as_str(), c.t.get(&format!("class-{}", k.as_str()))))
            .collect();
        UploadPage {
            c,
            matter_id: matter.0.to_string(),
            matter_title,
            fields,
            classes,
            errors: Vec::new(),
        }
    }

    fn fail(&mut self, field: &str, message: String) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == field) {
            if f.error.is_none() {
                self.errors.push((f.name, message.clone()));
            }
            f.error.get_or_insert(message);
        }
    }
}

async fn upload_form(State(state): State<AppState>, v: Viewer, Path(id): Path<String>) -> Response {
    let Some(id) = super::record_id(&id).map(MatterId) else {
        return super::not_found(&v.chrome);
    };
    // The matter must be one the viewer may see (else: not found, like everywhere).
    let matter = match state.app.get_matter(&v.caller, id).await {
        Ok(m) => m,
        Err(e) => return error_page(&v.chrome, e),
    };
    let title = matter
        .title
        .unwrap_or_else(|| v.chrome.t.get("metadata-only"));
    UploadPage::new(v.chrome, id, title, &[]).into_response()
}

/// Most bytes of one text field of the form.
const TEXT_LIMIT: usize = 8 * 1024;

async fn read_text(field: &mut axum::extract::multipart::Field<'_>) -> Result<String, ()> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| ())? {
        if bytes.len() + chunk.len() > TEXT_LIMIT {
            return Err(());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ())
}

/// A `datetime-local` value (`2026-11-25T14:30`, in the firm's time zone) or an RFC 3339
/// time, as RFC 3339.
fn collected_at(c: &Chrome, raw: &str) -> Option<String> {
    let raw = raw.trim();
    if time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).is_ok() {
        return Some(raw.to_owned());
    }
    let civil: jiff::civil::DateTime = raw.parse().ok()?;
    let millis = c.unix_ms(civil)?;
    let at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

async fn upload(
    State(state): State<AppState>,
    pending: CsrfPending,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let mut c = Chrome::anonymous(&state, &headers, &format!("/matters/{id}/upload"));
    let Some(id) = super::record_id(&id).map(MatterId) else {
        return super::not_found(&c);
    };
    let Ok(mut form) = form else {
        return super::bad_request(&c, c.t.get("upload-malformed"));
    };
    // The first part must be the CSRF token; nothing else is read before it matches.
    let mut first = match form.next_field().await {
        Ok(Some(field)) if field.name() == Some("csrf_token") => field,
        _ => return csrf_refused(&c),
    };
    let sent = read_text(&mut first).await.unwrap_or_default();
    drop(first);
    let caller = match pending.verify(&state, &sent) {
        Ok(caller) => caller,
        Err(_) => return csrf_refused(&c),
    };
    let v = match super::viewer_of(&state, &headers, c.clone(), caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    c = v.chrome.clone();
    let mut values: Vec<(String, String)> = Vec::new();
    let content = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("content") => break Some(field),
            Ok(Some(mut field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                match read_text(&mut field).await {
                    Ok(text) if FIELDS.iter().any(|(n, _)| *n == name) => {
                        values.push((name, text));
                    }
                    Ok(_) => {}
                    Err(()) => return super::bad_request(&c, c.t.get("upload-malformed")),
                }
            }
            Ok(None) => break None,
            Err(_) => return super::bad_request(&c, c.t.get("upload-malformed")),
        }
    };
    let value = |name: &str| {
        values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let matter_title = match state.app.get_matter(&v.caller, id).await {
        Ok(m) => m.title.unwrap_or_else(|| c.t.get("metadata-only")),
        Err(e) => return error_page(&c, e),
    };
    let mut page = UploadPage::new(c.clone(), id, matter_title, &values);
    for (name, _) in FIELDS {
        if value(name).is_none_or(|v| v.trim().is_empty()) {
            page.fail(name, c.t.get(&format!("field-{name}-missing")));
        }
    }
    let when = value("collected_at").and_then(|raw| collected_at(&c, &raw));
    if value("collected_at").is_some_and(|raw| !raw.trim().is_empty()) && when.is_none() {
        page.fail("collected_at", c.t.get("field-collected_at-bad"));
    }
    let classification = value("classification").and_then(|k| Classification::parse(&k).ok());
    if classification.is_none() {
        page.fail("classification", c.t.get("field-classification-missing"));
    }
    let input = ProvenanceInput {
        source: value("source"),
        content_description: value("content_description"),
        purpose: value("purpose"),
        legal_basis: value("legal_basis"),
        collected_by: value("collected_by"),
        collected_at: when,
    };
    if page.errors.is_empty() {
        if let Err(e) = Document::parse_title(&value("title").unwrap_or_default()) {
            page.fail("title", e.to_string());
        }
        if let Err(custos_domain::DomainError::Invalid { field, message }) =
            Provenance::parse(&input)
        {
            page.fail(field, message);
        }
    }
    if content.is_none() {
        page.fail_file(&c);
    }
    let (Some(content), Some(classification), true) =
        (content, classification, page.errors.is_empty())
    else {
        return (StatusCode::BAD_REQUEST, page).into_response();
    };
    let media_type = content
        .content_type()
        .map(str::to_owned)
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let new = NewDocument {
        title: value("title").unwrap_or_default(),
        classification,
        provenance: input,
        media_type,
    };
    let body = content.map_err(|e| e.body_text());
    match state.app.upload_document(&v.caller, id, new, body).await {
        Ok(doc) => see_other(&format!("/documents/{}?done=uploaded", doc.id.0)),
        Err(e) => error_page(&c, e),
    }
}

impl UploadPage {
    fn fail_file(&mut self, c: &Chrome) {
        self.errors
            .push(("content", c.t.get("upload-file-missing")));
    }
}

fn csrf_refused(c: &Chrome) -> Response {
    let page = super::ProblemPage {
        c,
        heading: c.t.get("csrf-heading"),
        sentence: c.t.get("csrf-text"),
        detail: None,
    };
    let mut response = (StatusCode::FORBIDDEN, page).into_response();
    response.extensions_mut().insert(crate::error::ErrorLog {
        code: "csrf",
        detail: None,
    });
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "document.html")]
struct DocumentPage {
    c: Chrome,
    id: String,
    matter_id: String,
    title: String,
    /// The content is offered only to those who see the document in full (its title opened);
    /// a metadata-only viewer (the officer, IT) is not shown a button that would be refused.
    may_download: bool,
    notice: Option<String>,
    class_code: &'static str,
    class_name: String,
    size: String,
    media_type: String,
    uploaded_by: String,
    uploaded: String,
    provenance: Vec<(String, String)>,
    history: Option<Vec<EntryRow>>,
    /// Who can access the document, and why (the officer, the matter lead, the team lead).
    access: Option<super::emergency::AccessPanel>,
}

#[derive(Debug, Deserialize)]
struct DocumentQuery {
    done: Option<String>,
}

async fn document(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DocumentQuery>,
) -> Response {
    let Some(id) = super::record_id(&id).map(DocumentId) else {
        return super::not_found(&v.chrome);
    };
    let doc = match state.app.get_document(&v.caller, id).await {
        Ok(doc) => doc,
        Err(e) => return error_page(&v.chrome, e),
    };
    // A document's own access history: the officer's audit query, narrowed to it. Asked only
    // by the officer's role (the use case decides; this spares others a refused request).
    let history = if v.person.role == custos_domain::Role::Officer {
        let filter = AuditFilter {
            resource: Some(format!("document:{}", id.0)),
            ..AuditFilter::default()
        };
        match state.app.query_audit(&v.caller, &filter, 0, 200).await {
            Ok(page) => Some(page.items),
            Err(_) => None,
        }
    } else {
        None
    };
    // Asked only of those who may ask (a question, not logged); the use case decides again.
    let see_access = state
        .app
        .matter_rights(&v.caller, doc.matter)
        .await
        .is_ok_and(|r| r.see_access);
    let access = if see_access {
        super::emergency::access_panel(&state, &v, super::emergency::AccessOf::Document(id)).await
    } else {
        None
    };
    let mut people = vec![doc.created_by];
    if let Some(h) = &history {
        people.extend(h.iter().filter_map(|e| e.record.actor));
    }
    let names = names(&state, &v, &people).await;
    let c = &v.chrome;
    let provenance = doc
        .provenance
        .as_ref()
        .map(|p| {
            vec![
                (c.t.get("field-source"), p.source.clone()),
                (
                    c.t.get("field-content_description"),
                    p.content_description.clone(),
                ),
                (c.t.get("field-purpose"), p.purpose.clone()),
                (c.t.get("field-legal_basis"), p.legal_basis.clone()),
                (c.t.get("field-collected_by"), p.collected_by.clone()),
                (c.t.get("field-collected_at"), c.when(&p.collected_at)),
            ]
        })
        .unwrap_or_default();
    let page = DocumentPage {
        id: id.0.to_string(),
        matter_id: doc.matter.0.to_string(),
        may_download: doc.title.is_some(),
        title: doc
            .title
            .clone()
            .unwrap_or_else(|| c.t.get("metadata-only")),
        notice: q.done.and_then(|d| c.t.try_get(&format!("done-{d}"))),
        class_code: doc.classification.as_str(),
        class_name: c.t.get(&format!("class-{}", doc.classification.as_str())),
        size: human_size(doc.size),
        media_type: doc.media_type.clone(),
        uploaded_by: name_of(c, &names, doc.created_by),
        uploaded: c.when(&doc.created_at),
        provenance,
        history: history.map(|h| entry_rows(c, h, &names)),
        access,
        c: v.chrome.clone(),
    };
    page.into_response()
}

async fn download(State(state): State<AppState>, v: Viewer, Path(id): Path<String>) -> Response {
    let Some(id) = super::record_id(&id).map(DocumentId) else {
        return super::not_found(&v.chrome);
    };
    let download = match state.app.download_document(&v.caller, id).await {
        Ok(d) => d,
        Err(e) => return error_page(&v.chrome, e),
    };
    let size = download.document.size;
    let media_type = HeaderValue::from_str(&download.document.media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"document-{}\"", id.0))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let body = Body::from_stream(download.content.map_err(std::io::Error::other));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, media_type);
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    response
}
