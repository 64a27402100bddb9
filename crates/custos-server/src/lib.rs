//! The HTTPS adapter of Custos: an axum router with the JSON API and its OpenAPI document,
//! served over rustls (TLS 1.2 and 1.3 only, aws-lc-rs cipher suites).
//!
//! **Architecture Invariant:** only this crate knows HTTP and JSON. Handlers parse input, call
//! one use case of `custos-app`, and render the result; no confidentiality rule lives here.

mod auth;
mod client_addr;
mod early;
mod error;
pub mod pages;
mod routes;
mod state;
mod tls;
pub mod web;
pub mod witness;

#[cfg(test)]
mod sign_in_tests;

pub use auth::{AuthFailure, PageRejection, SETUP_PAGE, SIGN_IN_PAGE, SignedIn, SigningIn};
pub use error::{ApiError, ErrorBody};
pub use state::{TARPIT, TARPIT_SLOTS};
pub use tls::load_tls_config;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use custos_app::App;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// The OpenAPI document of the API, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::api().1
}

/// The whole HTTP application: API, pages, OpenAPI document, fallbacks and security headers.
pub fn router(app: App) -> Router {
    let (api, openapi) = routes::api();
    let openapi_json = routes::OpenApiJson(routes::served_document(&openapi).into());
    let routes = api
        .layer(axum::Extension(openapi_json))
        .merge(web::routes())
        .fallback(routes::no_such_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(AppState::new(app));
    secured(routes)
}

/// The layers every answer passes through: the CSRF form field, request ids and the access
/// log, security headers (a page's own CSP is kept; everything else gets the API's), and a
/// panic turned into a 500.
fn secured(routes: Router) -> Router {
    let security_headers = [
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut router = routes
        .layer(axum::middleware::from_fn(auth::csrf_form_field))
        .layer(axum::middleware::from_fn(early::drain_refused_bodies))
        .layer(axum::middleware::from_fn(auth::request_id))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(pages::API_CSP),
        ));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::clone(&name),
            HeaderValue::from_static(value),
        ));
    }
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
        .into_response()
    }))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept this method",
    )
}

/// Binds the listening socket, with a clear error when the port is taken.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

/// Serves `router` over TLS on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Responses are written in several small TLS records; without TCP_NODELAY, Nagle's
        // algorithm holds the last one until the client's delayed ACK (~40 ms per request).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let client = auth::ClientAddr(peer.ip());
        let service = TowerToHyperService::new(tower::util::MapRequest::new(
            router.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(client);
                req
            },
        ));
        tokio::spawn(async move {
            let tls_stream = match tokio::time::timeout(
                Duration::from_secs(10),
                acceptor.accept(stream),
            )
            .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            // A client that trickles its headers is cut off (slowloris).
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30));
            // Bounded flow-control windows: large enough that uploads are not throttled by
            // window updates, small enough that a slow consumer cannot make the server buffer
            // much (each stream may hold at most 2 MiB, each connection 4 MiB). Idle HTTP/2
            // connections are probed and dropped when the peer is gone.
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(Duration::from_secs(60))
                .initial_stream_window_size(2 * 1024 * 1024)
                .initial_connection_window_size(4 * 1024 * 1024);
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(tls_stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
