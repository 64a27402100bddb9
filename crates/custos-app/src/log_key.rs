//! The audit log's signing key (issue 15): an Ed25519 key in the C2SP signed-note format,
//! generated at `init` and kept like the key-encryption key, in a file of the data directory
//! (mode 0600, never in the database, never in a backup). Its verifier key is written beside
//! it (`<key file>.pub`, mode 0644) and printed at `init` for the firm to publish: anyone who
//! holds it checks Custos' checkpoints and proofs offline. The key's name is the log's origin.

use crate::AppError;
use crate::config::{io_error, write_file};
use custos_audit::checkpoint::{self, Checkpoint, LogSigner};
use std::path::{Path, PathBuf};

/// The log's signing key and its published verifier key.
pub struct LogKey {
    signer: LogSigner,
    verifier: String,
    origin: String,
    /// Verifier keys this log was signed with before (`<key file>.former`, one per line):
    /// a firm restored without its key file keeps its earlier checkpoints verifiable.
    former: Vec<String>,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("origin", &self.origin)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

/// Where the verifier key of the key file `key` is kept.
pub fn verifier_path(key: &Path) -> PathBuf {
    beside(key, ".pub")
}

/// Where the verifier keys the log had before the key file `key` are kept (public, like the
/// verifier key: whoever may write the data directory may replace the key file itself).
pub fn former_verifiers_path(key: &Path) -> PathBuf {
    beside(key, ".former")
}

fn beside(key: &Path, suffix: &str) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The verifier keys of a `.former` file (none when it does not exist); each must be a
/// verifier key.
pub fn read_former_verifiers(path: &Path) -> Result<Vec<String>, AppError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("read", path, e)),
    };
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for key in &keys {
        checkpoint::verifier_key_name(key)
            .map_err(|_| key_error(path, format!("`{key}` is not a verifier key")))?;
    }
    Ok(keys)
}

fn key_error(path: &Path, why: impl std::fmt::Display) -> AppError {
    AppError::BadInput(format!("audit log key `{}`: {why}", path.display()))
}

/// A new log name: `<host>/custos-audit/<8 hex digits>`, unique enough that two firms (or a
/// demo and a real firm) never share an origin a witness would mix up.
pub fn new_origin() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_ascii_lowercase())
        .ok()
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}/custos-audit/{}", &unique[..8])
}

impl LogKey {
    /// Writes a new key pair for the log `origin` to `key` (0600) and its verifier key beside
    /// it (0644); refuses to overwrite either. Returns the verifier key.
    pub fn create(key: &Path, origin: &str) -> Result<String, AppError> {
        let (signer, verifier) = checkpoint::generate_key(origin).map_err(|e| key_error(key, e))?;
        write_file(key, format!("{signer}\n").as_bytes(), 0o600)?;
        write_file(
            &verifier_path(key),
            format!("{verifier}\n").as_bytes(),
            0o644,
        )?;
        Ok(verifier)
    }

    /// Loads the key file `key` (which must be mode 0600) and its verifier key, and checks
    /// that they are one pair (a checkpoint signed with the one verifies with the other).
    pub fn load(key: &Path) -> Result<LogKey, AppError> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(key).map_err(|e| io_error("read", key, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(key_error(
                key,
                format!("mode {mode:04o}; it must be 0600 (run `chmod 600` on it)"),
            ));
        }
        let signer_text = zeroize::Zeroizing::new(
            std::fs::read_to_string(key).map_err(|e| io_error("read", key, e))?,
        );
        let signer = LogSigner::new(&signer_text).map_err(|e| key_error(key, e))?;
        let pub_path = verifier_path(key);
        let verifier = std::fs::read_to_string(&pub_path)
            .map_err(|e| io_error("read", &pub_path, e))?
            .trim()
            .to_owned();
        let origin = verifier.split('+').next().unwrap_or_default().to_owned();
        let probe = Checkpoint::new(&origin, 0, &custos_audit::merkle::EMPTY_ROOT)
            .map_err(|e| key_error(key, e))?;
        let signed = signer.sign(&probe).map_err(|e| key_error(key, e))?;
        checkpoint::verify(&signed, &verifier).map_err(|_| {
            key_error(
                key,
                format!("`{}` is not its verifier key", pub_path.display()),
            )
        })?;
        let former = read_former_verifiers(&former_verifiers_path(key))?;
        Ok(LogKey {
            signer,
            verifier,
            origin,
            former,
        })
    }

    /// The verifier keys to check this log's checkpoints with: this key's, then the former.
    pub fn verifiers(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.verifier.as_str()).chain(self.former.iter().map(String::as_str))
    }

    /// The published verifier key (`<origin>+<key id>+<base64 key>`).
    pub fn verifier_key(&self) -> &str {
        &self.verifier
    }

    /// The log's origin (the key's name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Signs a checkpoint of `size` entries with root `root`: the signed note.
    pub fn sign(&self, size: u64, root: &custos_audit::merkle::Hash) -> Result<String, AppError> {
        let body = Checkpoint::new(&self.origin, size, root)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let note = self
            .signer
            .sign(&body)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        String::from_utf8(note).map_err(|e| AppError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Former verifier keys are checked as verifier keys: base64 holding `+` (the reason a
    /// split on `+` was wrong) is accepted, anything else refused with the file named.
    #[test]
    fn former_verifier_keys_are_read_and_checked() -> Result<(), Box<dyn std::error::Error>> {
        let path = std::env::temp_dir().join(format!("custos-former-{}", uuid::Uuid::new_v4()));
        assert!(read_former_verifiers(&path)?.is_empty(), "no file: none");
        let mut keys = Vec::new();
        while !keys.iter().any(|k: &String| k.matches('+').count() > 2) {
            keys.push(checkpoint::generate_key("example.com/log")?.1);
        }
        std::fs::write(&path, format!("# earlier keys\n\n{}\n", keys.join("\n")))?;
        assert_eq!(read_former_verifiers(&path)?, keys);
        std::fs::write(&path, "example.com/log+0123abcd+not-base64\n")?;
        let refused = read_former_verifiers(&path).map(|_| ()).unwrap_err();
        assert!(
            refused.to_string().contains("is not a verifier key"),
            "{refused}"
        );
        std::fs::remove_file(&path)?;
        Ok(())
    }
}
