//! The one error type of the HTTP adapter: every failure becomes JSON
//! `{"error": {"code", "message"}}` with a stable code (the request id is in the `x-request-id`
//! header of every answer); 5xx bodies say nothing
//! internal. An error is logged once, by the access-log middleware (`auth::request_id`), from
//! the [`ErrorLog`] its response carries: never as a side effect of converting it.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_app::AppError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`not_found`, `forbidden`, `invalid_input`...).
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
    /// What the log gets and the client does not (internal errors).
    pub(crate) detail: Option<String>,
}

/// What the access log writes about a failed request: its code and, for internal errors, the
/// detail the client was not shown. Carried as a response extension.
#[derive(Debug, Clone)]
pub struct ErrorLog {
    /// The error's code.
    pub code: &'static str,
    /// The detail kept from the client.
    pub detail: Option<String>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            detail: None,
        }
    }

    /// A 400 with code `invalid_input`.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            AppError::Unauthenticated => (S::UNAUTHORIZED, "unauthenticated"),
            AppError::BadCredentials => (S::UNAUTHORIZED, "bad_credentials"),
            AppError::WrongCode => (S::UNAUTHORIZED, "wrong_code"),
            AppError::NotFound => (S::NOT_FOUND, "not_found"),
            AppError::UnknownReference(_) => (S::NOT_FOUND, "unknown_reference"),
            AppError::Throttled { .. } => (S::TOO_MANY_REQUESTS, "too_many_attempts"),
            AppError::SetupRequired(_) => (S::FORBIDDEN, "setup_required"),
            AppError::Forbidden { .. } => (S::FORBIDDEN, "forbidden"),
            AppError::InsufficientScope(_) => (S::FORBIDDEN, "insufficient_scope"),
            AppError::Invalid(_) | AppError::BadInput(_) => (S::BAD_REQUEST, "invalid_input"),
            AppError::Conflict(_) => (S::CONFLICT, "conflict"),
            AppError::Screened(_) => (S::CONFLICT, "screened"),
            AppError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AppError::Integrity => (S::INTERNAL_SERVER_ERROR, "integrity_error"),
            AppError::AuditTampered(_) => (S::INTERNAL_SERVER_ERROR, "audit_tampered"),
            AppError::Unavailable => (S::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        let detail = match &e {
            AppError::Internal(detail) => Some(detail.clone()),
            _ => None,
        };
        let message = match &e {
            AppError::Internal(_) => {
                "internal error; the request id identifies it in the server log".to_owned()
            }
            AppError::Unavailable => "storage is unavailable; retry shortly".to_owned(),
            other => other.to_string(),
        };
        let retry_after = match &e {
            AppError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable => Some(2),
            _ => None,
        };
        ApiError {
            status,
            code,
            message,
            retry_after,
            detail,
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "invalid_json",
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_input(format!("bad path parameter: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_input(format!("bad query parameter: {}", r.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorLog {
            code: self.code,
            detail: self.detail,
        });
        // 503: the pool reconnects by itself; 429: the throttle says when.
        if let Some(secs) = self.retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// Extractors whose rejections use [`ApiError`]'s JSON format.
pub mod extract {
    use super::ApiError;
    use axum::extract::FromRequest;
    use axum::extract::FromRequestParts;

    /// JSON body.
    #[derive(Debug, FromRequest)]
    #[from_request(via(axum::Json), rejection(ApiError))]
    pub struct Json<T>(pub T);

    /// Path parameters.
    #[derive(Debug, FromRequestParts)]
    #[from_request(via(axum::extract::Path), rejection(ApiError))]
    pub struct Path<T>(pub T);

    /// Query parameters.
    #[derive(Debug, FromRequestParts)]
    #[from_request(via(axum::extract::Query), rejection(ApiError))]
    pub struct Query<T>(pub T);
}
