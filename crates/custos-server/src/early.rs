//! Early answers over HTTP/2. A request refused before its body is read (401 without
//! credentials, 403, 404, 413...) ends, in HTTP/2, with the server resetting the stream after
//! the answer (RST_STREAM NO_ERROR, RFC 9113 §8.1). Clients that still send the body, curl
//! among them, then report a stream error instead of the JSON explanation. So the rest of a
//! refused request's body is read and discarded before the answer goes out, up to
//! [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`]: the client finishes sending, then reads the answer.
//! Larger bodies (a multi-GiB upload refused at once) still end with the reset: reading them
//! all to say "forbidden" would let anyone make the server read gigabytes.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::Version;
use axum::middleware::Next;
use axum::response::Response;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Most bytes read and discarded to deliver an early answer.
pub const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
/// Longest time spent doing so.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Where a body not read to its end is left when the handler drops it.
type Slot = Arc<Mutex<Option<Body>>>;

/// A request body that, dropped before its end, hands what is left to the middleware.
struct Reclaimable {
    inner: Option<Body>,
    slot: Slot,
}

impl HttpBody for Reclaimable {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        match self.inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_default()
    }
}

impl Drop for Reclaimable {
    fn drop(&mut self) {
        if let Some(body) = self.inner.take()
            && !body.is_end_stream()
        {
            let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            *slot = Some(body);
        }
    }
}

/// Reads and discards what is left of a refused HTTP/2 request's body (bounded), so that the
/// client receives the answer.
pub async fn drain_refused_bodies(req: Request, next: Next) -> Response {
    if req.version() != Version::HTTP_2 || req.body().is_end_stream() {
        return next.run(req).await;
    }
    let slot: Slot = Arc::new(Mutex::new(None));
    let (parts, body) = req.into_parts();
    let body = Body::new(Reclaimable {
        inner: Some(body),
        slot: slot.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    let rest = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(rest) = rest
        && !response.status().is_success()
    {
        let _ = tokio::time::timeout(DRAIN_TIME, discard(rest)).await;
    }
    response
}

async fn discard(mut body: Body) {
    let mut read = 0u64;
    while let Some(Ok(frame)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
    {
        read += frame.data_ref().map_or(0, |d| d.len() as u64);
        if read > DRAIN_LIMIT {
            break;
        }
    }
}
