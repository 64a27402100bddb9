//! Request ids and bearer-token authentication.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use custos_app::Caller;
use custos_domain::RequestId;

/// Gives every request an id, carried into logs, audit entries and the `x-request-id` header.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = RequestId::new();
    req.extensions_mut().insert(id);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method());
    let mut response = tracing::Instrument::instrument(next.run(req), span).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The request id of the current request.
fn request_id_of(parts: &Parts) -> RequestId {
    parts
        .extensions
        .get::<RequestId>()
        .copied()
        .unwrap_or_default()
}

/// The bearer token of the request, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The authenticated caller; rejects the request with 401 when there is no valid session.
#[derive(Debug, Clone, Copy)]
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let request_id = request_id_of(parts);
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "log in first: send `Authorization: Bearer <token>` from POST /api/session",
            )
        })?;
        Ok(Authed(state.app.authenticate(request_id, token).await?))
    }
}
