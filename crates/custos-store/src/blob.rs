//! Blob stores: where encrypted document content lives. The local folder is the embedded default;
//! the trait leaves room for shared folders and S3-compatible storage.

use crate::StoreError;
use async_trait::async_trait;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncWriteExt, BufWriter};
use uuid::Uuid;

/// Stores opaque (already encrypted) blobs by key.
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Starts writing a new blob; it becomes visible only on [`BlobWriter::finish`].
    async fn writer(&self) -> Result<Box<dyn BlobWriter>, StoreError>;
    /// Opens a stored blob for reading.
    async fn reader(&self, key: Uuid) -> Result<BlobReader, StoreError>;
    /// Deletes a stored blob (missing is not an error).
    async fn delete(&self, key: Uuid) -> Result<(), StoreError>;
    /// Stored blobs last written before `before` (candidates for the orphan sweep: a blob
    /// whose document row never committed, after a crash between the two).
    async fn finished_before(&self, before: std::time::SystemTime)
    -> Result<Vec<Uuid>, StoreError>;
}

/// A blob being written.
#[async_trait]
pub trait BlobWriter: Send {
    /// Appends bytes.
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError>;
    /// Makes the blob durable under `key`.
    async fn finish(self: Box<Self>, key: Uuid) -> Result<(), StoreError>;
}

/// A stored blob opened for reading.
pub struct BlobReader {
    /// Stored length in bytes.
    pub len: u64,
    /// The bytes.
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobReader({} bytes)", self.len)
    }
}

/// A partial blob untouched this long belongs to a write that will never finish: a write in
/// progress touches its file with every 64 KiB chunk, and an upload idle for an hour has long
/// been cut by the server's timeouts (issue 33: a day kept abandoned parts across restarts).
pub const STALE_PART: std::time::Duration = std::time::Duration::from_secs(3600);

/// Blobs as files in a local folder: `<root>/<2 hex>/<uuid>.blob`, written through `<root>/tmp`.
/// The shard is the id's last byte: ids are UUIDv7, whose first bytes are a timestamp (every
/// blob of a year would share one folder) and whose last bytes are random. Blobs written
/// before this layout (sharded by the first byte) are still found. Folders are 0700, files
/// 0600.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

fn io(context: &str, e: std::io::Error) -> StoreError {
    StoreError::Blob(format!("{context}: {e}"))
}

impl LocalBlobStore {
    /// Uses (and creates if needed) the folder `root`, which several nodes may share; clears
    /// unfinished writes left by a crash. A write in progress on another node keeps touching its
    /// file, so only parts untouched for [`STALE_PART`] are removed.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let tmp = root.join("tmp");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&tmp)
            .map_err(|e| io("cannot create blob folder", e))?;
        let now = std::time::SystemTime::now();
        for entry in std::fs::read_dir(&tmp).map_err(|e| io("cannot list blob tmp", e))? {
            let entry = entry.map_err(|e| io("cannot list blob tmp", e))?;
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| now.duration_since(modified).ok())
                .is_some_and(|age| age >= STALE_PART);
            if stale {
                // Leftovers of writes that never finished: encrypted, never referenced.
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(LocalBlobStore {
            root: root.to_path_buf(),
        })
    }

    /// Where the blob `key` is stored (tests use it to tamper with blobs): its own shard, or
    /// the first-byte shard of earlier versions if it is there.
    pub fn path_of(&self, key: Uuid) -> PathBuf {
        let name = key.simple().to_string();
        let path = self.root.join(&name[30..]).join(format!("{name}.blob"));
        let legacy = self.root.join(&name[..2]).join(format!("{name}.blob"));
        if !path.exists() && legacy.exists() {
            legacy
        } else {
            path
        }
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn writer(&self) -> Result<Box<dyn BlobWriter>, StoreError> {
        let tmp_path = self
            .root
            .join("tmp")
            .join(format!("{}.part", Uuid::new_v4().simple()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp_path)
            .await
            .map_err(|e| io("cannot create blob", e))?;
        Ok(Box::new(LocalBlobWriter {
            store: self.clone(),
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            tmp_path,
            finished: false,
        }))
    }

    async fn reader(&self, key: Uuid) -> Result<BlobReader, StoreError> {
        let file = tokio::fs::File::open(self.path_of(key))
            .await
            .map_err(|e| io("cannot open blob", e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| io("cannot stat blob", e))?
            .len();
        Ok(BlobReader {
            len,
            reader: Box::new(file),
        })
    }

    async fn finished_before(
        &self,
        before: std::time::SystemTime,
    ) -> Result<Vec<Uuid>, StoreError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for shard in std::fs::read_dir(&root).map_err(|e| io("cannot list blobs", e))? {
                let shard = shard.map_err(|e| io("cannot list blobs", e))?;
                if shard.file_name() == "tmp" || !shard.path().is_dir() {
                    continue;
                }
                for file in
                    std::fs::read_dir(shard.path()).map_err(|e| io("cannot list blobs", e))?
                {
                    let file = file.map_err(|e| io("cannot list blobs", e))?;
                    let old = file
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|modified| modified < before);
                    let id = file
                        .file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".blob"))
                        .and_then(|n| Uuid::try_parse(n).ok());
                    if let (true, Some(id)) = (old, id) {
                        out.push(id);
                    }
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Blob(format!("blob listing stopped: {e}")))?
    }

    async fn delete(&self, key: Uuid) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot delete blob", e)),
            _ => Ok(()),
        }
    }
}

struct LocalBlobWriter {
    store: LocalBlobStore,
    file: Option<BufWriter<tokio::fs::File>>,
    tmp_path: PathBuf,
    finished: bool,
}

#[async_trait]
impl BlobWriter for LocalBlobWriter {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| StoreError::Blob("writer closed".into()))?;
        file.write_all(bytes)
            .await
            .map_err(|e| io("cannot write blob", e))
    }

    async fn finish(mut self: Box<Self>, key: Uuid) -> Result<(), StoreError> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| StoreError::Blob("writer closed".into()))?;
        file.flush().await.map_err(|e| io("cannot write blob", e))?;
        file.get_mut()
            .sync_all()
            .await
            .map_err(|e| io("cannot sync blob", e))?;
        drop(file);
        let dest = self.store.path_of(key);
        let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        tokio::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .await
            .map_err(|e| io("cannot create blob folder", e))?;
        tokio::fs::rename(&self.tmp_path, &dest)
            .await
            .map_err(|e| io("cannot store blob", e))?;
        // The rename is durable only once the directory entry is.
        sync_dir(&dir)
            .await
            .map_err(|e| io("cannot sync blob folder", e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for LocalBlobWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}
