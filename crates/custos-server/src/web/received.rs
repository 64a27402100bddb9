//! An outside recipient's own page (`external` role): the transfers released to them whose
//! link still opens, with each document to download (decided, counted and logged like a
//! release link's download). Nothing else of the firm is shown to them.

use super::{Chrome, Viewer, error_page, human_size};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/received", get(received_page))
}

pub(super) struct ReceivedDoc {
    name: String,
    size: String,
    href: String,
}

pub(super) struct ReceivedCard {
    id: String,
    purpose: String,
    until: String,
    left: u32,
    documents: Vec<ReceivedDoc>,
}

#[derive(Template, WebTemplate)]
#[template(path = "received.html")]
struct ReceivedPage {
    c: Chrome,
    transfers: Vec<ReceivedCard>,
}

async fn received_page(State(state): State<AppState>, v: Viewer) -> Response {
    let c = &v.chrome;
    let list = match state.app.received(&v.caller).await {
        Ok(list) => list,
        Err(e) => return error_page(c, e),
    };
    let transfers = list
        .into_iter()
        .map(|t| ReceivedCard {
            id: t.transfer.0.to_string(),
            purpose: t.purpose,
            until: c.when(&t.expires_at),
            left: t.downloads_left,
            documents: t
                .documents
                .iter()
                .enumerate()
                .map(|(i, d)| ReceivedDoc {
                    name: c.t.with("release-document-n", "n", i + 1),
                    size: format!("{} · {}", human_size(d.size), d.media_type),
                    href: format!("/api/received/{}/documents/{}", t.transfer.0, d.id),
                })
                .collect(),
        })
        .collect();
    ReceivedPage {
        transfers,
        c: v.chrome.clone(),
    }
    .into_response()
}
