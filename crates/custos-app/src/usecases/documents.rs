//! Documents: upload (streamed, encrypted chunk by chunk), metadata, listing and download
//! (streamed, each chunk authenticated before it is released).

use super::media_type::parse_media_type;
use crate::facts::document_facts;
use crate::listing::filtered_page;
use crate::{App, AppError, Caller, DocumentView, Page, PageRequest};
use bytes::Bytes;
use custos_crypto::{
    BlobOpener, BlobSealer, CHUNK_SIZE, ChunkLayout, DataKey, HEADER_LEN, TAG_LEN, WrappedKey,
};
use custos_domain::{Classification, Document, DocumentId, MatterId, Provenance, ProvenanceInput};
use custos_policy::{Action, DocumentFacts, KeyScope, Permit, Resource, Scope};
use custos_store::{DocumentRow, MatterRow};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};

/// A document to upload: its metadata; the content comes as a stream.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// Title.
    pub title: String,
    /// Classification.
    pub classification: Classification,
    /// Provenance (R7); every field is required.
    pub provenance: ProvenanceInput,
    /// Media type of the content.
    pub media_type: String,
}

/// A document being downloaded: its metadata, and its content as authenticated chunks. A chunk
/// that fails its check ends the stream with [`AppError::Integrity`]; nothing after it is sent.
pub struct DocumentDownload {
    /// Metadata.
    pub document: DocumentView,
    /// Plaintext chunks.
    pub content: BoxStream<'static, Result<Bytes, AppError>>,
}

impl std::fmt::Debug for DocumentDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentDownload")
            .field("document", &self.document.id)
            .finish()
    }
}

/// A document's title, opened with its matter's key.
pub(crate) fn open_title(key: &DataKey, id: DocumentId, sealed: &[u8]) -> Result<String, AppError> {
    Ok(key.open_field(&title_field(id), sealed)?)
}

fn title_field(id: DocumentId) -> String {
    format!("document.title:{id}")
}

fn provenance_field(id: DocumentId) -> String {
    format!("document.provenance:{id}")
}

impl App {
    /// Adds a document to a matter. Input is checked first; the content is encrypted as it
    /// arrives; the blob is durable before the metadata row is committed, and the decision is
    /// taken again in that final transaction (a wall raised meanwhile stops the upload).
    pub async fn upload_document<S, E>(
        &self,
        caller: &Caller,
        matter: MatterId,
        new: NewDocument,
        body: S,
    ) -> Result<DocumentView, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let title = Document::parse_title(&new.title)?;
        let provenance = Provenance::parse(&new.provenance)?;
        let media_type = parse_media_type(&new.media_type)?;
        let id = DocumentId::new();

        let (tx, permit, matter_row) = self
            .gated_upload(caller, matter, id, new.classification)
            .await?;
        tx.commit().await?;
        let key = self.matter_key(&permit, &matter_row)?;
        let size = match self.write_blob(&key, id, body).await {
            Ok(size) => size,
            Err(e) => {
                // The allow above names a document that will never exist: say so in the log.
                self.record_abandoned_upload(caller, id, &e).await;
                return Err(e);
            }
        };

        let result = async {
            let (mut tx, _permit, _row) = self
                .gated_upload(caller, matter, id, new.classification)
                .await?;
            let provenance_json = serde_json::to_string(&provenance)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let row = DocumentRow {
                id,
                matter,
                classification: new.classification,
                sealed_title: key.seal_field(&title_field(id), &title)?,
                sealed_provenance: key.seal_field(&provenance_field(id), &provenance_json)?,
                media_type: media_type.clone(),
                size,
                created_by: caller.person,
                created_at: self.now(),
            };
            tx.insert_document(&row).await?;
            tx.commit().await?;
            Ok::<DocumentRow, AppError>(row)
        }
        .await;
        match result {
            Ok(row) => Ok(DocumentView {
                id,
                matter,
                classification: row.classification,
                title: Some(title),
                provenance: Some(provenance),
                size,
                media_type,
                created_by: caller.person,
                created_at: row.created_at,
            }),
            Err(e) => {
                if let Err(cleanup) = self.blobs.delete(id.0).await {
                    tracing::warn!(document = %id, error = %cleanup, "orphan blob left behind");
                }
                Err(e)
            }
        }
    }

    /// Audits that an upload allowed earlier stored nothing (interrupted, too large, storage
    /// error). Best effort: the caller's error is what matters; a failure here is logged.
    async fn record_abandoned_upload(&self, caller: &Caller, id: DocumentId, why: &AppError) {
        let outcome = async {
            let mut tx = self.store.begin().await?;
            self.audit_event(
                &mut *tx,
                crate::AuditEvent {
                    request_id: caller.request_id,
                    actor: Some(caller.person),
                    action: Action::UploadDocument.as_str(),
                    resource: format!("document:{id}"),
                    outcome: custos_audit::Outcome::Deny,
                    rule: crate::vocabulary::RULE_UPLOAD_INCOMPLETE,
                    message: format!("the upload did not complete ({why}); nothing was stored"),
                    detail: serde_json::Value::Null,
                },
            )
            .await?;
            tx.commit().await?;
            Ok::<(), AppError>(())
        }
        .await;
        if let Err(e) = outcome {
            tracing::warn!(document = %id, error = %e, "abandoned upload not audited");
        }
    }

    /// Encrypts the body into a new blob named after the document; returns the plaintext size.
    async fn write_blob<S, E>(
        &self,
        key: &DataKey,
        id: DocumentId,
        mut body: S,
    ) -> Result<u64, AppError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let mut sealer = BlobSealer::new(key, id.0)?;
        let mut writer = self.blobs.writer().await?;
        writer.write(sealer.header()).await?;
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_SIZE + TAG_LEN);
        let mut total: u64 = 0;
        while let Some(piece) = body.next().await {
            let piece =
                piece.map_err(|e| AppError::BadInput(format!("upload interrupted: {e}")))?;
            total += piece.len() as u64;
            if total > self.settings.max_upload_bytes {
                return Err(AppError::TooLarge(self.settings.max_upload_bytes));
            }
            let mut rest = &piece[..];
            while !rest.is_empty() {
                if buf.len() == CHUNK_SIZE {
                    // More data follows, so this full chunk is not the final one.
                    sealer.seal_chunk(&mut buf, false)?;
                    writer.write(&buf).await?;
                    buf.clear();
                }
                let take = (CHUNK_SIZE - buf.len()).min(rest.len());
                buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
        }
        sealer.seal_chunk(&mut buf, true)?;
        writer.write(&buf).await?;
        writer.finish(id.0).await?;
        Ok(total)
    }

    async fn gated_upload(
        &self,
        caller: &Caller,
        matter: MatterId,
        id: DocumentId,
        classification: Classification,
    ) -> Result<(crate::Tx, Permit, MatterRow), AppError> {
        let mut tx = self.store.begin().await?;
        let loaded = tx.matter(matter).await?;
        let (tx, row) = self
            .found(
                tx,
                caller,
                Action::UploadDocument,
                || format!("matter:{matter}"),
                loaded,
            )
            .await?;
        let facts = DocumentFacts {
            id,
            matter: crate::facts::matter_facts(&row),
            classification,
        };
        let (tx, permit) = self
            .gate(
                tx,
                caller,
                Action::UploadDocument,
                &Resource::Document(facts),
            )
            .await?;
        Ok((tx, permit, row))
    }

    /// A document's metadata, as far as the caller may see it.
    pub async fn get_document(
        &self,
        caller: &Caller,
        id: DocumentId,
    ) -> Result<DocumentView, AppError> {
        let (tx, permit, doc, matter) = self
            .gated_document(caller, id, Action::ViewDocument)
            .await?;
        tx.commit().await?;
        self.document_view(&permit, doc, &matter)
    }

    /// The documents of a matter the caller may see.
    pub async fn list_documents(
        &self,
        caller: &Caller,
        matter: MatterId,
        page: &PageRequest,
    ) -> Result<Page<DocumentView>, AppError> {
        let (mut tx, _permit, matter_row, (principal, ctx)) = self
            .gated_matter_with_facts(caller, matter, Action::ViewMatter)
            .await?;
        let listing = filtered_page(
            &mut *tx,
            page,
            &mut |tx, after, limit| {
                Box::pin(async move {
                    Ok(tx
                        .list_documents(matter, after.map(DocumentId), limit)
                        .await?)
                })
            },
            |d| d.id.0,
            |row| {
                let resource = Resource::Document(document_facts(&row, &matter_row));
                let decision = Self::decide(&principal, Action::ViewDocument, &resource, &ctx);
                decision
                    .permit()
                    .map(|p| self.document_view(p, row, &matter_row))
                    .transpose()
            },
        )
        .await?;
        self.finish_listing(
            tx,
            caller,
            crate::vocabulary::ACTION_DOCUMENT_LIST,
            format!("matter:{matter}"),
            listing,
        )
        .await
    }

    /// Streams a document's content. The first chunk is checked before this returns, so a
    /// damaged small document fails with a clean error.
    pub async fn download_document(
        &self,
        caller: &Caller,
        id: DocumentId,
    ) -> Result<DocumentDownload, AppError> {
        let (tx, permit, doc, matter) = self
            .gated_document(caller, id, Action::ReadDocumentContent)
            .await?;
        tx.commit().await?;
        self.stream_document(&permit, doc, &matter).await
    }

    /// Streams the content of `doc` with the key `permit` unlocks (a person's download, or a
    /// release link's).
    pub(crate) async fn stream_document(
        &self,
        permit: &Permit,
        doc: DocumentRow,
        matter: &MatterRow,
    ) -> Result<DocumentDownload, AppError> {
        let id = doc.id;
        // Content needs the full scope, so the key opens the metadata too: unwrapped once.
        let key = self.matter_key(permit, matter)?;
        let size = doc.size;
        let document = Self::open_document_view(Some(&key), doc)?;
        let blob = self.blobs.reader(id.0).await.map_err(|e| {
            tracing::error!(document = %id, error = %e, "document blob missing");
            AppError::Integrity
        })?;
        let layout = ChunkLayout::for_stored_len(blob.len)?;
        if layout.plaintext_len != size {
            tracing::error!(document = %id, "document blob has the wrong length");
            return Err(AppError::Integrity);
        }
        let mut reader = blob.reader;
        let mut header = [0u8; HEADER_LEN];
        reader
            .read_exact(&mut header)
            .await
            .map_err(|_| AppError::Integrity)?;
        let opener = BlobOpener::new(&key, id.0, &header)?;
        let mut state = ChunkReader {
            reader,
            opener,
            layout,
            next: 0,
            document: id,
        };
        let first = state.next_chunk().await.ok_or(AppError::Integrity)??;
        let rest = stream::unfold(state, |mut s| async move {
            let item = s.next_chunk().await?;
            Some((item, s))
        });
        Ok(DocumentDownload {
            document,
            content: stream::once(async { Ok(first) }).chain(rest).boxed(),
        })
    }

    async fn gated_document(
        &self,
        caller: &Caller,
        id: DocumentId,
        action: Action,
    ) -> Result<(crate::Tx, Permit, DocumentRow, MatterRow), AppError> {
        let mut tx = self.begin_for(action).await?;
        // Two statements of facts per decision: the document with its matter, then the caller.
        let loaded = tx.document_with_matter(id).await?;
        let (tx, (doc, matter)) = self
            .found(tx, caller, action, || format!("document:{id}"), loaded)
            .await?;
        let resource = Resource::Document(document_facts(&doc, &matter));
        let (tx, permit) = self.gate(tx, caller, action, &resource).await?;
        Ok((tx, permit, doc, matter))
    }

    pub(crate) fn matter_key(
        &self,
        permit: &Permit,
        matter: &MatterRow,
    ) -> Result<DataKey, AppError> {
        Ok(self.kek.unwrap_data_key(
            permit,
            KeyScope::Matter(matter.id),
            &WrappedKey(matter.wrapped_key.clone()),
        )?)
    }

    fn document_view(
        &self,
        permit: &Permit,
        row: DocumentRow,
        matter: &MatterRow,
    ) -> Result<DocumentView, AppError> {
        let key = if permit.scope() == Scope::Full {
            Some(self.matter_key(permit, matter)?)
        } else {
            None
        };
        Self::open_document_view(key.as_ref(), row)
    }

    /// A document's view, its sealed fields opened with the matter's key (`None`: metadata
    /// only).
    fn open_document_view(
        key: Option<&DataKey>,
        row: DocumentRow,
    ) -> Result<DocumentView, AppError> {
        let (title, provenance) = if let Some(key) = key {
            let title = key.open_field(&title_field(row.id), &row.sealed_title)?;
            let json = key.open_field(&provenance_field(row.id), &row.sealed_provenance)?;
            let provenance: Provenance =
                serde_json::from_str(&json).map_err(|_| AppError::Integrity)?;
            (Some(title), Some(provenance))
        } else {
            (None, None)
        };
        Ok(DocumentView {
            id: row.id,
            matter: row.matter,
            classification: row.classification,
            title,
            provenance,
            size: row.size,
            media_type: row.media_type,
            created_by: row.created_by,
            created_at: row.created_at,
        })
    }
}

/// Reads and opens a blob's chunks in order.
struct ChunkReader {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    opener: BlobOpener,
    layout: ChunkLayout,
    next: u64,
    document: DocumentId,
}

impl ChunkReader {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, AppError>> {
        if self.next >= self.layout.chunks {
            return None;
        }
        let index = self.next;
        // Once a chunk failed, the stream ends after reporting it.
        self.next = self.layout.chunks;
        let mut buf = vec![0u8; self.layout.chunk_len(index)];
        if self.reader.read_exact(&mut buf).await.is_err() {
            return Some(Err(AppError::Integrity));
        }
        let last = index + 1 == self.layout.chunks;
        match self.opener.open_chunk(&mut buf, last) {
            Ok(plain) => {
                let len = plain.len();
                buf.truncate(len);
                self.next = index + 1;
                Some(Ok(Bytes::from(buf)))
            }
            Err(_) => {
                tracing::error!(document = %self.document, chunk = index, "document failed its integrity check");
                Some(Err(AppError::Integrity))
            }
        }
    }
}
