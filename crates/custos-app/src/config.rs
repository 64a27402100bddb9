//! The data directory and its typed configuration (`custos.toml`, overridable by `CUSTOS_*`
//! environment variables), and `init`, which creates a working one.

use crate::{App, AppError, AppSettings};
use custos_crypto::Kek;
use custos_domain::{Person, SystemClock};
use custos_store::{LocalBlobStore, SqliteStore};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Name of the configuration file inside the data directory.
pub const CONFIG_FILE: &str = "custos.toml";

/// The configuration; relative paths are relative to the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to serve HTTPS on (`CUSTOS_LISTEN`).
    pub listen: SocketAddr,
    /// SQLite database file.
    pub database: PathBuf,
    /// Folder of encrypted blobs.
    pub blobs: PathBuf,
    /// The key-encryption key file (must be mode 0600).
    pub key_file: PathBuf,
    /// TLS certificate chain (PEM).
    pub tls_cert: PathBuf,
    /// TLS private key (PEM).
    pub tls_key: PathBuf,
    /// Largest document accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Session lifetime in hours.
    pub session_hours: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            database: "custos.db".into(),
            blobs: "blobs".into(),
            key_file: "kek.key".into(),
            tls_cert: "tls/cert.pem".into(),
            tls_key: "tls/key.pem".into(),
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            session_hours: 12,
        }
    }
}

/// An opened data directory with its configuration.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    /// The configuration read from the directory (with environment overrides applied).
    pub config: Config,
}

fn config_error(message: String) -> AppError {
    AppError::BadInput(message)
}

impl DataDir {
    /// Opens an existing data directory and reads its configuration.
    pub fn open(root: &Path) -> Result<Self, AppError> {
        let path = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            config_error(format!(
                "cannot read `{}`: {e} (create a data directory with `custos init`)",
                path.display()
            ))
        })?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| config_error(format!("`{}`: {}", path.display(), e.message())))?;
        if let Ok(listen) = std::env::var("CUSTOS_LISTEN") {
            config.listen = listen
                .parse()
                .map_err(|_| config_error(format!("CUSTOS_LISTEN: `{listen}` is not host:port")))?;
        }
        if config.session_hours == 0 || config.max_upload_bytes == 0 {
            return Err(config_error(format!(
                "`{}`: session_hours and max_upload_bytes must be positive",
                path.display()
            )));
        }
        Ok(DataDir {
            root: root.to_path_buf(),
            config,
        })
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A configured path, resolved against the data directory.
    pub fn path(&self, configured: &Path) -> PathBuf {
        self.root.join(configured)
    }

    /// Opens the store, blob store and key file, and assembles the application.
    pub async fn open_app(&self) -> Result<App, AppError> {
        let kek = Kek::load_key_file(&self.path(&self.config.key_file))
            .map_err(|e| config_error(e.to_string()))?;
        let store = SqliteStore::open(&self.path(&self.config.database), false)
            .await
            .map_err(|e| config_error(format!("database: {e}")))?;
        let blobs = LocalBlobStore::open(&self.path(&self.config.blobs))
            .map_err(|e| config_error(e.to_string()))?;
        App::new(
            Arc::new(store),
            Arc::new(blobs),
            kek,
            Arc::new(SystemClock),
            AppSettings {
                max_upload_bytes: self.config.max_upload_bytes,
                session_lifetime: time::Duration::hours(i64::from(self.config.session_hours)),
            },
        )
    }
}

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
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> AppError {
    config_error(format!("cannot {what} `{}`: {e}", path.display()))
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), AppError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io_error("create", path, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("write", path, e))
}

/// Creates a new data directory (mode 0700) with a configuration, a key file, a self-signed TLS
/// certificate, the database and the first confidentiality officer. Refuses an existing,
/// non-empty directory.
pub async fn init_data_dir(root: &Path, officer_user_name: &str) -> Result<InitOutcome, AppError> {
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
    let config = Config::default();
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

    let tls_dir = root.join("tls");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&tls_dir)
        .map_err(|e| io_error("create", &tls_dir, e))?;
    let identity = custos_crypto::self_signed_tls(&["localhost", "127.0.0.1"])
        .map_err(|e| AppError::Internal(e.to_string()))?;
    write_file(
        &root.join(&config.tls_cert),
        identity.cert_pem.as_bytes(),
        0o644,
    )?;
    write_file(
        &root.join(&config.tls_key),
        identity.key_pem.as_bytes(),
        0o600,
    )?;

    SqliteStore::open(&root.join(&config.database), true)
        .await
        .map_err(|e| config_error(format!("database: {e}")))?
        .close()
        .await;

    let data_dir = DataDir::open(root)?;
    let app = data_dir.open_app().await?;
    let (officer, officer_password) = app
        .bootstrap_officer(officer_user_name, "Confidentiality Officer")
        .await?;
    Ok(InitOutcome {
        data_dir,
        app,
        officer,
        officer_password,
    })
}
