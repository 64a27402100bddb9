//! `custos backup` and `custos restore`: a consistent online copy of a data directory's
//! database and blobs, never its key, and a restore onto a fresh data directory that verifies
//! the audit log before anyone serves it.
//!
//! Consistency: the database is copied first, from one snapshot (SQLite `VACUUM INTO`), then
//! the blobs. A blob is durable before the row that names it commits and is never changed
//! afterwards, so every document of the snapshot finds its blob; blobs of later uploads come
//! along unreferenced and harmless. The audit head of the snapshot is written beside it, and
//! the restore checks the restored log against it.

use crate::config::{AUDIT_HEAD_FILE, CONFIG_FILE, Config, DataDir, io_error, write_file};
use crate::{AppError, AuditHead};
use custos_crypto::Kek;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// The database file inside a backup.
const BACKUP_DB: &str = "custos.db";
/// The blob folder inside a backup.
const BACKUP_BLOBS: &str = "blobs";
/// The audit log's verifier key inside a backup (public), and the ones it had before.
const BACKUP_VERIFIER: &str = "audit-log.key.pub";
const BACKUP_FORMER_VERIFIERS: &str = "audit-log.key.former";

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Blobs copied.
    pub blobs: u64,
    /// The audit head of the database snapshot (`None`: PostgreSQL, not in the backup).
    pub audit_head: Option<AuditHead>,
    /// Whether the database is in the backup (SQLite) or must be dumped apart (PostgreSQL).
    pub database_included: bool,
}

/// What a restore found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreReport {
    /// Audit entries verified in the restored database.
    pub audit_entries: u64,
    /// Blobs restored.
    pub blobs: u64,
}

/// Creates `dir` with mode 0700, refusing one that exists and is not empty.
fn fresh_dir(dir: &Path, what: &str) -> Result<(), AppError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(AppError::BadInput(format!(
                    "{what} `{}` exists and is not empty",
                    dir.display()
                )));
            }
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io_error("secure", dir, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io_error("create", dir, e)),
        Err(e) => Err(io_error("read", dir, e)),
    }
}

/// Copies the finished blobs under `from` to `to` (folders 0700, files 0600), leaving out
/// writes in progress (`tmp/`); returns how many.
fn copy_blobs(from: &Path, to: &Path) -> Result<u64, AppError> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(to)
        .map_err(|e| io_error("create", to, e))?;
    let mut copied = 0;
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error("read", from, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error("read", from, e))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| io_error("read", &path, e))?;
        if kind.is_dir() {
            if entry.file_name() != "tmp" {
                copied += copy_blobs(&path, &target)?;
            }
        } else if kind.is_file() {
            std::fs::copy(&path, &target).map_err(|e| io_error("copy", &path, e))?;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| io_error("secure", &target, e))?;
            copied += 1;
        }
    }
    Ok(copied)
}

impl DataDir {
    /// Writes a backup of this data directory to the new folder `to`: the database snapshot
    /// (SQLite; on PostgreSQL the caller is told to run `pg_dump`), the finished blobs, the
    /// configuration, the snapshot's audit head and the audit log's verifier keys (public: the
    /// current one and any former ones). Never the key file, never the log's signing key,
    /// never the TLS key. Safe while the server runs.
    pub async fn backup(&self, to: &Path) -> Result<BackupReport, AppError> {
        fresh_dir(to, "backup folder")?;
        let store = self.open_store(false, false).await?;
        let database_included = self.config.database.url.is_none();
        let mut audit_head = None;
        if database_included {
            store.snapshot_into(&to.join(BACKUP_DB)).await?;
            std::fs::set_permissions(to.join(BACKUP_DB), std::fs::Permissions::from_mode(0o600))
                .map_err(|e| io_error("secure", &to.join(BACKUP_DB), e))?;
            let snapshot = custos_store::SqliteStore::open(&to.join(BACKUP_DB), false).await?;
            let mut tx = custos_store::Store::begin(&snapshot).await?;
            audit_head = tx
                .audit_head()
                .await?
                .map(|(seq, chain_hash)| AuditHead { seq, chain_hash });
            tx.commit().await?;
            snapshot.close().await;
            if let Some(head) = audit_head {
                write_file(
                    &to.join(AUDIT_HEAD_FILE),
                    format!("{}\n", head.to_line()).as_bytes(),
                    0o600,
                )?;
            }
        }
        store.close().await;
        let blobs = copy_blobs(&self.path(&self.config.blobs), &to.join(BACKUP_BLOBS))?;
        let config = std::fs::read(self.root().join(CONFIG_FILE))
            .map_err(|e| io_error("read", &self.root().join(CONFIG_FILE), e))?;
        write_file(&to.join(CONFIG_FILE), &config, 0o600)?;
        let log_key = self.path(&self.config.log_key_file);
        for (source, name) in [
            (crate::verifier_path(&log_key), BACKUP_VERIFIER),
            (
                crate::former_verifiers_path(&log_key),
                BACKUP_FORMER_VERIFIERS,
            ),
        ] {
            match std::fs::read(&source) {
                Ok(bytes) => write_file(&to.join(name), &bytes, 0o644)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("read", &source, e)),
            }
        }
        Ok(BackupReport {
            blobs,
            audit_head,
            database_included,
        })
    }
}

/// Restores the backup `from` onto the new data directory `to`, with the key file `key`
/// (kept apart from backups): database, blobs, configuration (paths made local: `blobs`,
/// `kek.key`, `custos.db`), a new self-signed TLS certificate; then verifies the whole audit
/// log against the backup's recorded head. The audit log's signing key `log_key` (kept apart
/// too, with its `.pub` beside it) carries the log's identity over; without it the restored
/// firm gets a new one at its first start, and the backup's verifier keys become its former
/// keys (`<key file>.former`), with which its earlier checkpoints still verify. Only SQLite
/// backups: a PostgreSQL database is restored with `pg_restore`
/// (docs/OPERATIONS.md).
pub async fn restore(
    from: &Path,
    to: &Path,
    key: &Path,
    log_key: Option<&Path>,
) -> Result<RestoreReport, AppError> {
    if !from.join(BACKUP_DB).is_file() {
        return Err(AppError::BadInput(format!(
            "`{}` holds no database snapshot (custos.db): a PostgreSQL firm is restored with \
             pg_restore, then its blobs are copied back (docs/OPERATIONS.md)",
            from.display()
        )));
    }
    let kek = Kek::load_key_file(key).map_err(|e| AppError::BadInput(e.to_string()))?;
    if let Some(log_key) = log_key {
        crate::LogKey::load(log_key)?;
    }
    fresh_dir(to, "data directory")?;
    let text = std::fs::read_to_string(from.join(CONFIG_FILE))
        .map_err(|e| io_error("read", &from.join(CONFIG_FILE), e))?;
    let mut config: Config = toml::from_str(&text)
        .map_err(|e| AppError::BadInput(format!("backup configuration: {}", e.message())))?;
    let defaults = Config::default();
    config.blobs = defaults.blobs;
    config.key_file = defaults.key_file;
    config.log_key_file = defaults.log_key_file;
    config.tls_cert = defaults.tls_cert;
    config.tls_key = defaults.tls_key;
    config.database = defaults.database;
    let rendered = toml::to_string(&config).map_err(|e| AppError::Internal(e.to_string()))?;
    write_file(&to.join(CONFIG_FILE), rendered.as_bytes(), 0o600)?;
    kek.write_new_key_file(&to.join(&config.key_file))
        .map_err(|e| AppError::BadInput(e.to_string()))?;
    if let Some(log_key) = log_key {
        for (source, target, mode) in [
            (log_key.to_path_buf(), to.join(&config.log_key_file), 0o600),
            (
                crate::verifier_path(log_key),
                crate::verifier_path(&to.join(&config.log_key_file)),
                0o644,
            ),
        ] {
            let bytes = std::fs::read(&source).map_err(|e| io_error("read", &source, e))?;
            write_file(&target, &bytes, mode)?;
        }
    }
    // The verifier keys the log had: the backup's former ones, and its current one unless
    // the same key comes back.
    let mut former = crate::read_former_verifiers(&from.join(BACKUP_FORMER_VERIFIERS))?;
    if log_key.is_none() {
        former.extend(crate::read_former_verifiers(&from.join(BACKUP_VERIFIER))?);
    }
    if !former.is_empty() {
        let path = crate::former_verifiers_path(&to.join(&config.log_key_file));
        write_file(&path, format!("{}\n", former.join("\n")).as_bytes(), 0o644)?;
    }
    let db = to.join(&config.database.path);
    std::fs::copy(from.join(BACKUP_DB), &db).map_err(|e| io_error("copy", &db, e))?;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io_error("secure", &db, e))?;
    let blobs = copy_blobs(&from.join(BACKUP_BLOBS), &to.join(&config.blobs))?;
    crate::config::write_tls_identity(to, &config)?;
    let dir = DataDir::open(to)?;
    let recorded = match std::fs::read_to_string(from.join(AUDIT_HEAD_FILE)) {
        Ok(text) => Some(AuditHead::parse(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error("read", &from.join(AUDIT_HEAD_FILE), e)),
    };
    let app = dir.open_app().await?;
    if !app.key_opens_account_secrets().await? {
        app.close().await;
        return Err(AppError::BadInput(format!(
            "the key file `{}` is not this firm's: it cannot open the firm's sealed secrets",
            key.display()
        )));
    }
    let verified = app
        .verify_audit_log_against(&recorded.into_iter().collect::<Vec<_>>())
        .await?;
    if let Some(head) = verified.head {
        dir.record_audit_head(head)?;
    }
    app.close().await;
    Ok(RestoreReport {
        audit_entries: verified.entries,
        blobs,
    })
}
