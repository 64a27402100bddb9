//! The data directory and its typed configuration (`custos.toml`, overridable by `CUSTOS_*`
//! environment variables), and `init`, which creates a working one.

use crate::{App, AppError, AppSettings, AuditHead};
use custos_crypto::Kek;
use custos_domain::SystemClock;
use custos_store::{LocalBlobStore, PgStore, SqliteStore, Store, redact_url};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the configuration file inside the data directory.
pub const CONFIG_FILE: &str = "custos.toml";

/// Name of the file, inside the data directory, that records the audit log's last head outside
/// the database (`<seq>:<chain hash hex>`), so that a cut tail or an emptied log is detected.
pub const AUDIT_HEAD_FILE: &str = "audit.head";
/// Beside the head: the size of the latest checkpoint this directory's node saw signed, so a
/// log whose checkpoints vanished from the database is refused (`App::check_signed_tail`).
pub const AUDIT_SIGNED_FILE: &str = "audit.signed";

/// Name of the file, inside the data directory, that keeps the latest signed checkpoint of the
/// audit log outside the database (a signed note), so that a log cut or rewritten after it
/// was signed is detected.
pub const AUDIT_CHECKPOINT_FILE: &str = "audit.checkpoint";

/// The configuration; relative paths are relative to the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to serve HTTPS on (`CUSTOS_LISTEN`).
    pub listen: SocketAddr,
    /// Folder of encrypted blobs; with several nodes, a folder they all share (absolute path).
    pub blobs: PathBuf,
    /// The key-encryption key file (must be mode 0600).
    pub key_file: PathBuf,
    /// The audit log's signing key (mode 0600; its verifier key beside it, `<file>.pub`).
    #[serde(default = "default_log_key_file")]
    pub log_key_file: PathBuf,
    /// Sign a checkpoint of the audit log once this many entries were added (default 1,000)...
    #[serde(default = "default_checkpoint_entries")]
    pub checkpoint_entries: u64,
    /// ...or this many seconds after the last one, if the log grew (default 60).
    #[serde(default = "default_checkpoint_seconds")]
    pub checkpoint_seconds: u32,
    /// TLS certificate chain (PEM).
    pub tls_cert: PathBuf,
    /// TLS private key (PEM).
    pub tls_key: PathBuf,
    /// Largest document accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Absolute session lifetime in hours (default 12).
    pub session_hours: u32,
    /// A session unused for this many minutes ends (default 30).
    #[serde(default = "default_idle_minutes")]
    pub session_idle_minutes: u32,
    /// Passwords older than this many days must be changed at next login. Off by default:
    /// forced periodic changes make passwords weaker (NIST SP 800-63B 5.1.1.2); set it only if
    /// the firm's policy demands "regular change" (see docs/SECURITY.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_max_age_days: Option<u32>,
    /// The firm's name (shown in authenticator apps, refused inside passwords).
    #[serde(default)]
    pub firm_name: String,
    /// The address recipients of release links reach Custos at, e.g.
    /// `https://custos.example.com` (written into the links mailed to them).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub public_url: String,
    /// The firm's time zone, an IANA name such as `Asia/Shanghai` or `Europe/Zurich`: pages
    /// show times in it, and dates typed into forms are read in it (default `UTC`).
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Addresses of the reverse proxies (load balancers) in front of Custos, e.g.
    /// `["10.0.0.5"]`: from these peers only, the client address is taken from
    /// `X-Forwarded-For` / `Forwarded` (login throttling and audit need the real client).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a break-glass (emergency) access lasts unless the person asks for less, in
    /// hours: 1 to 24 (default 4).
    #[serde(default = "default_break_glass_hours")]
    pub break_glass_hours: u32,
    /// Where the records live. The `database = "custos.db"` form of earlier versions is still
    /// read, as the SQLite path.
    #[serde(default, deserialize_with = "database_or_path")]
    pub database: DatabaseConfig,
    /// The firm's SMTP relay; absent: mail waits in the outbox for the officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<crate::MailConfig>,
    /// Witnesses asked to cosign each checkpoint (none by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<WitnessConfig>,
}

/// A witness the log asks to cosign its checkpoints (`[[witnesses]]` in `custos.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Where it listens, e.g. `https://witness.example-auditor.com` (its `add-checkpoint`
    /// is under this).
    pub url: String,
    /// Its verifier key (`<name>+<key id>+<base64>`): cosignatures are checked with it.
    pub key: String,
}

/// The database: the embedded SQLite file by default, or PostgreSQL when a URL is given.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL (`postgres://user@host:5432/db`; overridden by `CUSTOS_DATABASE_URL`).
    /// When set, the SQLite file is not used. Prefer a password in `~/.pgpass` or in the
    /// environment variable over one in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// SQLite database file (when there is no URL).
    #[serde(default = "default_sqlite_path")]
    pub path: PathBuf,
    /// Connections per node (PostgreSQL).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Migrate the schema at start (PostgreSQL). Off when the node connects as an application
    /// role without DDL rights: the owner then runs `custos db migrate`.
    #[serde(default = "default_migrate")]
    pub migrate: bool,
}

fn default_idle_minutes() -> u32 {
    30
}

fn default_log_key_file() -> PathBuf {
    "audit-log.key".into()
}

fn default_checkpoint_entries() -> u64 {
    1000
}

fn default_checkpoint_seconds() -> u32 {
    60
}

fn default_break_glass_hours() -> u32 {
    4
}

fn default_time_zone() -> String {
    "UTC".to_owned()
}

fn default_migrate() -> bool {
    true
}

fn database_or_path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DatabaseConfig, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Path(PathBuf),
        Table(DatabaseConfig),
    }
    Ok(match Either::deserialize(d)? {
        Either::Path(path) => DatabaseConfig {
            path,
            ..DatabaseConfig::default()
        },
        Either::Table(table) => table,
    })
}

fn default_sqlite_path() -> PathBuf {
    "custos.db".into()
}

fn default_max_connections() -> u32 {
    8
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            path: default_sqlite_path(),
            max_connections: default_max_connections(),
            migrate: default_migrate(),
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("path", &self.path)
            .field("max_connections", &self.max_connections)
            .field("migrate", &self.migrate)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            blobs: "blobs".into(),
            key_file: "kek.key".into(),
            log_key_file: default_log_key_file(),
            checkpoint_entries: default_checkpoint_entries(),
            checkpoint_seconds: default_checkpoint_seconds(),
            witnesses: Vec::new(),
            tls_cert: "tls/cert.pem".into(),
            tls_key: "tls/key.pem".into(),
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            session_hours: 12,
            session_idle_minutes: default_idle_minutes(),
            password_max_age_days: None,
            firm_name: String::new(),
            public_url: String::new(),
            time_zone: default_time_zone(),
            trusted_proxies: Vec::new(),
            break_glass_hours: default_break_glass_hours(),
            database: DatabaseConfig::default(),
            mail: None,
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

pub(crate) fn config_error(message: String) -> AppError {
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
        if let Ok(url) = std::env::var("CUSTOS_DATABASE_URL") {
            config.database.url = Some(url).filter(|u| !u.is_empty());
        }
        if let Some(url) = &config.database.url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(config_error(format!(
                "database url `{}`: only postgres:// URLs are supported (leave it unset for \
                 the embedded SQLite database)",
                redact_url(url)
            )));
        }
        if jiff::tz::TimeZone::get(&config.time_zone).is_err() {
            return Err(config_error(format!(
                "`{}`: time_zone `{}` is not a time zone name (an IANA name such as \
                 `Asia/Shanghai`, `Europe/Zurich` or `UTC`)",
                path.display(),
                config.time_zone
            )));
        }
        if !(1..=24).contains(&config.break_glass_hours) {
            return Err(config_error(format!(
                "`{}`: break_glass_hours must be 1 to 24 (emergency access is short by design)",
                path.display()
            )));
        }
        if config.session_hours == 0
            || config.max_upload_bytes == 0
            || config.session_idle_minutes == 0
            || config.password_max_age_days == Some(0)
            || config.checkpoint_entries == 0
            || config.checkpoint_seconds == 0
        {
            return Err(config_error(format!(
                "`{}`: session_hours, session_idle_minutes, password_max_age_days, \
                 checkpoint_entries, checkpoint_seconds and max_upload_bytes must be positive",
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

    /// The size of the latest signed checkpoint recorded in the data directory (0: none).
    pub fn recorded_signed_size(&self) -> Result<u64, AppError> {
        let path = self.root.join(AUDIT_SIGNED_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map_err(|_| {
                AppError::AuditTampered(format!(
                    "{} does not hold a checkpoint size",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error("read", &path, e)),
        }
    }

    /// Records that a checkpoint of `size` entries was signed (atomically, only forward).
    pub fn record_signed_size(&self, size: u64) -> Result<bool, AppError> {
        if self.recorded_signed_size()? >= size {
            return Ok(false);
        }
        let path = self.root.join(AUDIT_SIGNED_FILE);
        let temp = self.root.join(format!("{AUDIT_SIGNED_FILE}.tmp"));
        let _ = std::fs::remove_file(&temp);
        write_file(&temp, format!("{size}\n").as_bytes(), 0o600)?;
        std::fs::rename(&temp, &path).map_err(|e| io_error("replace", &path, e))?;
        std::fs::File::open(&self.root)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io_error("sync", &self.root, e))?;
        Ok(true)
    }

    /// The audit head recorded in the data directory, if any.
    pub fn recorded_audit_head(&self) -> Result<Option<AuditHead>, AppError> {
        let path = self.root.join(AUDIT_HEAD_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => AuditHead::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path, e)),
        }
    }

    /// Records `head` in the data directory (atomically: a temporary file, fsync, rename,
    /// fsync of the directory). The record only moves forward: a head older than the one
    /// recorded, or the same entry with another hash, is refused as tampering and the record
    /// is kept. Returns whether the file changed.
    pub fn record_audit_head(&self, head: AuditHead) -> Result<bool, AppError> {
        if let Some(recorded) = self.recorded_audit_head()? {
            if recorded == head {
                return Ok(false);
            }
            if recorded.seq >= head.seq {
                return Err(AppError::AuditTampered(format!(
                    "the audit log's head {} is not after the recorded head {}: entries were \
                     cut or rewritten",
                    head.to_line(),
                    recorded.to_line()
                )));
            }
        }
        let path = self.root.join(AUDIT_HEAD_FILE);
        let temp = self.root.join(format!("{AUDIT_HEAD_FILE}.tmp"));
        let _ = std::fs::remove_file(&temp);
        write_file(&temp, format!("{}\n", head.to_line()).as_bytes(), 0o600)?;
        std::fs::rename(&temp, &path).map_err(|e| io_error("replace", &path, e))?;
        std::fs::File::open(&self.root)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io_error("sync", &self.root, e))?;
        Ok(true)
    }

    /// The latest checkpoint recorded in the data directory (a signed note), if any.
    pub fn recorded_checkpoint(&self) -> Result<Option<String>, AppError> {
        let path = self.root.join(AUDIT_CHECKPOINT_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path, e)),
        }
    }

    /// Records the signed checkpoint `note` of `size` entries in the data directory
    /// (atomically, like the head), if it is larger than the one recorded. Returns whether
    /// the file changed.
    pub fn record_checkpoint(&self, size: u64, note: &str) -> Result<bool, AppError> {
        if let Some(recorded) = self.recorded_checkpoint()? {
            let recorded_size = recorded
                .lines()
                .nth(1)
                .and_then(|l| l.parse::<u64>().ok())
                .unwrap_or(0);
            if recorded_size >= size {
                return Ok(false);
            }
        }
        let path = self.root.join(AUDIT_CHECKPOINT_FILE);
        let temp = self.root.join(format!("{AUDIT_CHECKPOINT_FILE}.tmp"));
        let _ = std::fs::remove_file(&temp);
        write_file(&temp, note.as_bytes(), 0o600)?;
        std::fs::rename(&temp, &path).map_err(|e| io_error("replace", &path, e))?;
        std::fs::File::open(&self.root)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io_error("sync", &self.root, e))?;
        Ok(true)
    }

    /// Opens the configured database (creating the SQLite file if asked), migrating it unless
    /// configured not to (`force_migrate` migrates anyway: `custos db migrate`).
    pub async fn open_store(
        &self,
        create: bool,
        force_migrate: bool,
    ) -> Result<Arc<dyn Store>, AppError> {
        let db = &self.config.database;
        let store: Arc<dyn Store> = match &db.url {
            Some(url) => Arc::new(
                PgStore::connect(url, db.max_connections, db.migrate || force_migrate)
                    .await
                    .map_err(|e| config_error(format!("database: {e}")))?,
            ),
            None => Arc::new(
                SqliteStore::open(&self.path(&db.path), create)
                    .await
                    .map_err(|e| config_error(format!("database: {e}")))?,
            ),
        };
        Ok(store)
    }

    /// Refuses a data directory, database file or blob folder that group or others may read
    /// or write: they hold the firm's (encrypted) records, and a loose mode is the first sign
    /// of a copy gone wrong. The key file has its own, stricter check.
    pub fn check_private(&self) -> Result<(), AppError> {
        use std::os::unix::fs::PermissionsExt;
        let mut paths = vec![self.root.clone(), self.path(&self.config.blobs)];
        if self.config.database.url.is_none() {
            let db = self.path(&self.config.database.path);
            for suffix in ["", "-wal", "-shm"] {
                let mut name = db.clone().into_os_string();
                name.push(suffix);
                paths.push(name.into());
            }
        }
        for path in paths {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let want = if meta.is_dir() { "700" } else { "600" };
                return Err(config_error(format!(
                    "`{}` has mode {mode:o}: group or others may read it; run `chmod {want}` on \
                     it (data directory and blob folder 700, database files 600)",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// Opens the store, blob store and key file, and assembles the application; refuses a
    /// directory whose files are not private.
    pub async fn open_app(&self) -> Result<App, AppError> {
        self.check_private()?;
        let key = self.path(&self.config.log_key_file);
        if !key.exists() {
            // A data directory from before signed checkpoints gets its key on first start.
            let verifier = crate::LogKey::create(&key, &crate::new_origin())?;
            tracing::warn!(
                verifier_key = %verifier,
                file = %key.display(),
                "created the audit log's signing key: publish its verifier key, and back the \
                 key file up apart like the key-encryption key"
            );
        }
        let store = self.open_store(false, false).await?;
        self.assemble_app(store)
    }

    /// The application on an opened store, with this directory's blob store and key file.
    pub(crate) fn assemble_app(&self, store: Arc<dyn Store>) -> Result<App, AppError> {
        let kek = Kek::load_key_file(&self.path(&self.config.key_file))
            .map_err(|e| config_error(e.to_string()))?;
        let blobs = LocalBlobStore::open(&self.path(&self.config.blobs))
            .map_err(|e| config_error(e.to_string()))?;
        let log_key = crate::LogKey::load(&self.path(&self.config.log_key_file))?;
        let app = App::new(
            store,
            Arc::new(blobs),
            kek,
            Arc::new(SystemClock),
            AppSettings {
                max_upload_bytes: self.config.max_upload_bytes,
                session_lifetime: time::Duration::hours(i64::from(self.config.session_hours)),
                session_idle: time::Duration::minutes(i64::from(self.config.session_idle_minutes)),
                password_max_age: self
                    .config
                    .password_max_age_days
                    .map(|d| time::Duration::days(i64::from(d))),
                firm_name: self.config.firm_name.clone(),
                public_url: self.config.public_url.trim_end_matches('/').to_owned(),
                // Checked by `DataDir::open`.
                time_zone: jiff::tz::TimeZone::get(&self.config.time_zone)
                    .unwrap_or(jiff::tz::TimeZone::UTC),
                trusted_proxies: self.config.trusted_proxies.clone(),
                break_glass: time::Duration::hours(i64::from(self.config.break_glass_hours)),
                checkpoint_entries: self.config.checkpoint_entries,
                checkpoint_every: time::Duration::seconds(i64::from(
                    self.config.checkpoint_seconds,
                )),
                ..AppSettings::default()
            },
        )?;
        let app = app.with_log_key(log_key);
        Ok(match &self.config.mail {
            None => app,
            Some(mail) => app.with_mailer(self.mailer(mail)?),
        })
    }

    /// The mailer of `[mail]`, its password and CA read from their files.
    fn mailer(&self, mail: &crate::MailConfig) -> Result<crate::Mailer, AppError> {
        let read = |file: &str| {
            let path = self.path(std::path::Path::new(file));
            std::fs::read(&path).map_err(|e| io_error("read", &path, e))
        };
        let password = match &mail.password_file {
            Some(f) => Some(
                String::from_utf8(read(f)?)
                    .map_err(|_| config_error("the SMTP password file is not UTF-8".to_owned()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            None => None,
        };
        let ca = mail.ca_file.as_deref().map(read).transpose()?;
        crate::Mailer::new(mail, password, ca.as_deref())
    }
}

pub(crate) fn io_error(what: &str, path: &Path, e: std::io::Error) -> AppError {
    config_error(format!("cannot {what} `{}`: {e}", path.display()))
}

pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), AppError> {
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

/// Writes a new self-signed certificate and its key (0600) where `config` says, in `tls/`.
pub(crate) fn write_tls_identity(root: &Path, config: &Config) -> Result<(), AppError> {
    use std::os::unix::fs::DirBuilderExt;
    let tls_dir = root.join("tls");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&tls_dir)
        .map_err(|e| io_error("create", &tls_dir, e))?;
    // Named after this machine (clients reach it by that name), and localhost for a first look.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let host_ok = !host.is_empty()
        && host != "localhost"
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let mut names = Vec::new();
    if host_ok {
        names.push(host.as_str());
    }
    names.extend(["localhost", "127.0.0.1"]);
    let identity =
        custos_crypto::self_signed_tls(&names).map_err(|e| AppError::Internal(e.to_string()))?;
    write_file(
        &root.join(&config.tls_cert),
        identity.cert_pem.as_bytes(),
        0o644,
    )?;
    write_file(
        &root.join(&config.tls_key),
        identity.key_pem.as_bytes(),
        0o600,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_database_forms_and_never_shows_a_password() {
        let base = toml::to_string(&Config::default()).unwrap_or_default();
        let base = base.split("[database]").next().unwrap_or_default();
        let old: Config = toml::from_str(&format!("database = \"old.db\"\n{base}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.database.path, PathBuf::from("old.db"));
        assert_eq!(old.database.url, None);
        let new: Config = toml::from_str(&format!(
            "{base}\n[database]\nurl = \"postgres://app:hunter2-secret@db/custos\"\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.database.max_connections, 8);
        assert!(new.database.migrate);
        let shown = format!("{new:?}");
        assert!(
            shown.contains("db/custos") && !shown.contains("hunter2"),
            "{shown}"
        );
        let defaults: Config = toml::from_str(base).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(defaults.database, DatabaseConfig::default());
    }

    #[test]
    fn the_time_zone_must_be_a_zone_name() {
        let dir = std::env::temp_dir().join(format!("custos-tz-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let base = toml::to_string(&Config::default()).unwrap_or_default();
        let with = |zone: &str| {
            let text = base.replace("time_zone = \"UTC\"", &format!("time_zone = \"{zone}\""));
            std::fs::write(dir.join(CONFIG_FILE), text).unwrap_or_else(|e| panic!("{e}"));
            DataDir::open(&dir)
        };
        assert_eq!(
            with("Asia/Shanghai")
                .map(|d| d.config.time_zone)
                .ok()
                .as_deref(),
            Some("Asia/Shanghai")
        );
        let refused = with("Mars/Olympus_Mons")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains("time_zone `Mars/Olympus_Mons`"),
            "{refused}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
