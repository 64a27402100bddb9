//! `init`: a new, working data directory (configuration, key file, TLS identity, database,
//! the first confidentiality officer).

use crate::config::{
    CONFIG_FILE, Config, DataDir, config_error, io_error, write_file, write_tls_identity,
};
use crate::{App, AppError};
use custos_crypto::Kek;
use custos_domain::Person;
use custos_store::redact_url;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What `init` created.
#[derive(Debug)]
pub struct InitOutcome {
    /// The opened data directory.
    pub data_dir: DataDir,
    /// The application, ready to serve.
    pub app: App,
    /// The first confidentiality officer.
    pub officer: Person,
    /// Their one-time password, to be shown once.
    pub officer_password: Zeroizing<String>,
    /// The audit log's verifier key, to publish (checkpoints and proofs verify with it).
    pub log_verifier_key: String,
}

/// Choices made at `init` beyond the defaults.
#[derive(Clone, Default)]
pub struct InitOptions {
    /// PostgreSQL URL, written to the configuration (else SQLite, or `CUSTOS_DATABASE_URL`).
    pub database_url: Option<String>,
    /// Blob folder (e.g. a shared one for several nodes), written to the configuration.
    pub blobs: Option<PathBuf>,
}

impl std::fmt::Debug for InitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitOptions")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("blobs", &self.blobs)
            .finish()
    }
}

/// Creates a new data directory (mode 0700) with a configuration, a key file, a self-signed TLS
/// certificate, the database and the first confidentiality officer. Refuses an existing,
/// non-empty directory, and a database that already holds a firm (a second node copies the
/// first node's data directory instead: a new key could not read the firm's data).
pub async fn init_data_dir(
    root: &Path,
    officer_user_name: &str,
    options: &InitOptions,
) -> Result<InitOutcome, AppError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::read_dir(root) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(config_error(format!(
                    "`{}` already exists and is not empty: refusing to overwrite a data directory",
                    root.display()
                )));
            }
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io_error("secure", root, e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(root)
                .map_err(|e| io_error("create", root, e))?;
        }
        Err(e) => return Err(io_error("read", root, e)),
    }
    let outcome = populate(root, officer_user_name, options).await;
    if outcome.is_err() {
        // A failed init leaves nothing behind: not a key for a firm that does not exist, nor a
        // configuration that points at another firm's database.
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
    outcome
}

async fn populate(
    root: &Path,
    officer_user_name: &str,
    options: &InitOptions,
) -> Result<InitOutcome, AppError> {
    let mut config = Config::default();
    config.database.url.clone_from(&options.database_url);
    if let Some(blobs) = &options.blobs {
        config.blobs.clone_from(blobs);
    }
    let text = toml::to_string(&config).map_err(|e| AppError::Internal(e.to_string()))?;
    let header = "# Custos configuration. Relative paths are relative to this directory.\n\
                  # Keep the key file out of backups of this directory: see docs/OPERATIONS.md.\n";
    write_file(
        &root.join(CONFIG_FILE),
        format!("{header}{text}").as_bytes(),
        0o600,
    )?;

    Kek::generate()
        .and_then(|kek| kek.write_new_key_file(&root.join(&config.key_file)))
        .map_err(|e| config_error(e.to_string()))?;

    let log_verifier =
        crate::LogKey::create(&root.join(&config.log_key_file), &crate::new_origin())?;

    write_tls_identity(root, &config)?;

    let data_dir = DataDir::open(root)?;
    let app = data_dir.assemble_app(data_dir.open_store(true, true).await?)?;
    let (officer, officer_password) = app
        .bootstrap_officer(officer_user_name, "Confidentiality Officer")
        .await
        .map_err(|e| match e {
            AppError::Conflict(_) => config_error(
                "the database already holds a Custos firm: to add a node, copy an existing \
                 node's data directory (configuration, key file, TLS files) instead of running \
                 init (see docs/OPERATIONS.md)"
                    .to_owned(),
            ),
            other => other,
        })?;
    Ok(InitOutcome {
        data_dir,
        app,
        officer,
        officer_password,
        log_verifier_key: log_verifier,
    })
}
