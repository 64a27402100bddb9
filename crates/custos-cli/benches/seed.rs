//! Seeding shared by the benchmarks (included with `#[path]`): many small documents added
//! through the application, so that their metadata is sealed and their blobs written as in use.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark code: a failed seed ends the run"
)]

use bytes::Bytes;
use custos_app::{Caller, NewDocument};
use custos_domain::{Classification, ProvenanceInput, RequestId};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Adds `n` small documents to `matter` as `lead`, eight uploads at a time.
pub async fn seed_documents(
    app: &custos_app::App,
    lead: Caller,
    matter: custos_domain::MatterId,
    n: usize,
) {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, next) = (app.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    break;
                }
                let new = NewDocument {
                    title: format!("Bench document {i}"),
                    classification: Classification::Confidential,
                    provenance: ProvenanceInput {
                        source: Some("bench".into()),
                        content_description: Some("bench".into()),
                        purpose: Some("bench".into()),
                        legal_basis: Some("bench".into()),
                        collected_by: Some("bench".into()),
                        collected_at: Some("2026-11-02T09:30:00Z".into()),
                    },
                    media_type: "text/plain".into(),
                };
                let body = futures_util::stream::iter([Ok::<Bytes, std::convert::Infallible>(
                    Bytes::from_static(b"bench"),
                )]);
                let caller = Caller {
                    person: lead.person,
                    request_id: RequestId::new(),
                    via: custos_app::Via::Internal,
                    address: None,
                };
                app.upload_document(&caller, matter, new, body)
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
