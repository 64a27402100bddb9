//! What HTML pages share with the API and where they differ: pages sign in with the same
//! sessions (the cookie kind, CSRF token as a form field), answer an authentication failure
//! with a redirect ([`crate::auth::SignedIn`]), and carry their own Content Security Policy:
//! scripts, styles, images and fonts from this server only, no inline script or style, forms
//! posting only here. The API keeps `default-src 'none'`.

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The API's policy: nothing may load, nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The pages' policy.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Page routes: `pages` with the pages' security policy on every answer. The web interface
/// wraps its routes with this and merges them into [`crate::router`].
pub fn with_page_policy(pages: Router<AppState>) -> Router<AppState> {
    pages.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    ))
}

/// Whether the client asked for a page rather than JSON (a browser navigating).
pub(crate) fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
