//! The pages' assets, embedded in the binary: one stylesheet, one small script (progressive
//! enhancement only: the upload's progress bar), one icon. Nothing is fetched from elsewhere;
//! fonts are the system's.

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const CSS: &str = include_str!("../../assets/custos.css");
const JS: &str = include_str!("../../assets/custos.js");
const ICON: &str = include_str!("../../assets/favicon.svg");

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/assets/custos.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/assets/custos.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/favicon.svg",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
        .route(
            "/favicon.ico",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
}

fn asset(body: &'static str, media_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}
