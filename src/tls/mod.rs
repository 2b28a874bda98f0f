//! HTTPS: a rustls acceptor from the user's certificate and key, or from a
//! self-signed certificate for this machine that devserve generates once and
//! keeps in the user's cache folder (see [`SelfSigned`]). ALPN offers HTTP/2
//! and HTTP/1.1.

mod self_signed;

pub use self_signed::{default_cache_dir, SelfSigned};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsConfig {
    /// A self-signed certificate for `localhost`, the loopback addresses and
    /// this machine's name, generated into `cache_dir` and reused until it
    /// nears its end.
    SelfSigned {
        /// The folder that keeps it. Default [`default_cache_dir`].
        cache_dir: PathBuf,
    },
    /// The user's own PEM files (read, never copied).
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

impl TlsConfig {
    /// A self-signed certificate kept in the default cache folder.
    pub fn self_signed() -> TlsConfig {
        TlsConfig::SelfSigned {
            cache_dir: default_cache_dir(),
        }
    }
}

/// A TLS setup that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {reason}")]
pub struct TlsError {
    context: String,
    reason: String,
}

impl TlsError {
    pub(crate) fn new(context: impl Into<String>, reason: impl ToString) -> TlsError {
        TlsError {
            context: context.into(),
            reason: reason.to_string(),
        }
    }
}

/// The acceptor, and the certificate file in use (to tell the user where it is).
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) cert_path: PathBuf,
    /// Whether this run generated it (rather than reusing one).
    pub(crate) generated: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Load or generate the certificate and build the acceptor.
    pub(crate) fn new(config: &TlsConfig) -> Result<Tls, TlsError> {
        let (cert, key, generated) = match config {
            TlsConfig::SelfSigned { cache_dir } => {
                let pair = SelfSigned::load_or_create(cache_dir)?;
                (pair.cert_path, pair.key_path, pair.generated)
            }
            TlsConfig::Files { cert, key } => (cert.clone(), key.clone(), false),
        };
        let server = server_config(&cert, &key)?;
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            cert_path: cert,
            generated,
        })
    }
}

/// A rustls server configuration for the PEM files `cert` and `key`.
fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::new(format!("cannot read {}", cert.display()), e))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::new(format!("{} is not a PEM certificate", cert.display()), e))?;
    if chain.is_empty() {
        return Err(TlsError::new(
            cert.display().to_string(),
            "holds no certificate",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        TlsError::new(
            format!("cannot read a private key from {}", key.display()),
            e,
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new("TLS", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::new("the certificate and key do not fit together", e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
