//! The self-signed certificate `--https` uses: generated for `localhost`,
//! `127.0.0.1`, `::1` and this machine's name, valid for a year, kept in the
//! user's cache folder (`$XDG_CACHE_HOME/devserve`, else `~/.cache/devserve`)
//! with the key readable by the user only, and renewed when fewer than 30
//! days remain or the machine's name changed. Never inside the served folder.

use super::TlsError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CERT_FILE: &str = "localhost-cert.pem";
const KEY_FILE: &str = "localhost-key.pem";
const META_FILE: &str = "localhost-cert.json";
const VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

/// What devserve remembers of the certificate it generated.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Meta {
    names: Vec<String>,
    not_after: u64,
}

/// The generated certificate's files.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// The certificate (what users trust in their browser or system store).
    pub cert_path: PathBuf,
    /// Its private key (mode 0600).
    pub key_path: PathBuf,
    /// Whether this call generated it.
    pub generated: bool,
}

/// `$XDG_CACHE_HOME/devserve`, else `$HOME/.cache/devserve`, else a folder
/// in the system's temporary folder.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("devserve")
}

impl SelfSigned {
    /// Reuse the certificate in `dir` while it is valid for this machine,
    /// else generate a new one there.
    pub fn load_or_create(dir: &Path) -> Result<SelfSigned, TlsError> {
        let names = subject_names();
        let now = unix_now();
        let existing = SelfSigned {
            cert_path: dir.join(CERT_FILE),
            key_path: dir.join(KEY_FILE),
            generated: false,
        };
        if let Some(meta) = read_meta(dir) {
            let fresh = meta.not_after > now + RENEW_BEFORE.as_secs();
            if fresh
                && meta.names == names
                && existing.cert_path.is_file()
                && existing.key_path.is_file()
            {
                return Ok(existing);
            }
        }
        generate(dir, names, now)
    }
}

fn read_meta(dir: &Path) -> Option<Meta> {
    let text = std::fs::read_to_string(dir.join(META_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The names the certificate covers.
fn subject_names() -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Some(host) = machine_name() {
        names.push(host);
    }
    names
}

/// This machine's host name, where the system tells it.
fn machine_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let name = name.trim().to_ascii_lowercase();
    let plausible = !name.is_empty()
        && name != "localhost"
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    plausible.then_some(name)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn generate(dir: &Path, names: Vec<String>, now: u64) -> Result<SelfSigned, TlsError> {
    let failed = |e: rcgen::Error| TlsError::new("cannot generate a certificate", e);
    let mut params = rcgen::CertificateParams::new(names.clone()).map_err(failed)?;
    let not_after = now + VALIDITY.as_secs();
    params.not_before = timestamp(now.saturating_sub(24 * 3600))?;
    params.not_after = timestamp(not_after)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "devserve localhost");
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;

    create_private_dir(dir)?;
    let pair = SelfSigned {
        cert_path: dir.join(CERT_FILE),
        key_path: dir.join(KEY_FILE),
        generated: true,
    };
    write_file(&pair.key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(&pair.cert_path, cert.pem().as_bytes(), false)?;
    let meta = serde_json::to_vec(&Meta { names, not_after }).unwrap_or_default();
    write_file(&dir.join(META_FILE), &meta, false)?;
    Ok(pair)
}

fn timestamp(secs: u64) -> Result<time::OffsetDateTime, TlsError> {
    let secs = i64::try_from(secs).map_err(|e| TlsError::new("certificate dates", e))?;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| TlsError::new("certificate dates", e))
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| TlsError::new(format!("cannot create {}", dir.display()), e))
}

/// Write `bytes` to `path` through a temporary file and a rename, so a
/// reader never sees half a key; `private` files get mode 0600.
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    use std::io::Write as _;
    let fail = |e: std::io::Error| TlsError::new(format!("cannot write {}", path.display()), e);
    let temp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let mut file = options.open(&temp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&temp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_generated_once_then_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = SelfSigned::load_or_create(dir.path()).expect("generated");
        assert!(first.generated);
        let pem = std::fs::read_to_string(&first.cert_path).expect("cert");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let again = SelfSigned::load_or_create(dir.path()).expect("reused");
        assert!(!again.generated);
        assert_eq!(
            std::fs::read_to_string(&again.cert_path).expect("cert"),
            pem
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&first.key_path)
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_certificate_near_its_end_is_renewed() {
        let dir = tempfile::tempdir().expect("temp dir");
        SelfSigned::load_or_create(dir.path()).expect("generated");
        let soon = Meta {
            names: subject_names(),
            not_after: unix_now() + 24 * 3600,
        };
        std::fs::write(
            dir.path().join(META_FILE),
            serde_json::to_vec(&soon).expect("json"),
        )
        .expect("meta");
        assert!(
            SelfSigned::load_or_create(dir.path())
                .expect("renewed")
                .generated
        );
        let read = read_meta(dir.path()).expect("meta");
        assert!(read.not_after > unix_now() + 300 * 24 * 3600);
    }

    #[test]
    fn the_names_cover_loopback() {
        let names = subject_names();
        for name in ["localhost", "127.0.0.1", "::1"] {
            assert!(names.iter().any(|n| n == name), "{name}");
        }
    }
}
