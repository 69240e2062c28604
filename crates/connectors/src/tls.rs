//! TLS for the pull connectors (COL-1) and the upper node (COL-7): which
//! certificate authorities a connection trusts, and telling a TLS failure apart
//! from a source that is down.
//!
//! A connection trusts the machine's certificate store (on Debian,
//! `/etc/ssl/certs`, extended with `update-ca-certificates`) and, beside it, the
//! authorities of the deployment's `ca_file`: government networks commonly issue
//! their service certificates from an internal CA that no system store holds.
use std::error::Error as StdError;
use std::path::Path;
use std::sync::Arc;

use reqwest::{Certificate, ClientBuilder};

/// Certificate authorities trusted beside the system's, as one PEM bundle.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedRoots {
    pem: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for TrustedRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedRoots")
            .field("extra_authorities", &self.certificates().len())
            .finish()
    }
}

impl TrustedRoots {
    /// Only the system's store.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's store and the authorities of a PEM bundle, which must hold at
    /// least one certificate.
    pub fn with_pem(pem: Vec<u8>) -> Result<Self, String> {
        let certificates = Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("不是 PEM 证书文件 / not a PEM certificate file: {e}"))?;
        if certificates.is_empty() {
            return Err("文件中没有证书 / the file holds no certificate".into());
        }
        let roots = Self {
            pem: Some(Arc::new(pem)),
        };
        // The PEM wrapping may be fine around a certificate that is not: TLS reads
        // it only when a client is built, so build one now.
        roots
            .client_builder()
            .build()
            .map_err(|e| format!("证书无法使用 / a certificate cannot be used: {e}"))?;
        Ok(roots)
    }

    /// Reads a PEM bundle from `path` (see [`TrustedRoots::with_pem`]).
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "读取 CA 证书文件 {} 失败 / cannot read the CA file: {e}",
                path.display()
            )
        })?;
        Self::with_pem(pem).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The extra authorities as PEM, for the database drivers, which take them as
    /// such beside the system's store.
    pub(crate) fn extra_pem(&self) -> Option<Vec<u8>> {
        self.pem.as_deref().cloned()
    }

    fn certificates(&self) -> Vec<Certificate> {
        self.pem
            .as_deref()
            .and_then(|pem| Certificate::from_pem_bundle(pem).ok())
            .unwrap_or_default()
    }

    /// A client builder that trusts these authorities.
    pub(crate) fn client_builder(&self) -> ClientBuilder {
        self.certificates().into_iter().fold(
            reqwest::Client::builder(),
            ClientBuilder::add_root_certificate,
        )
    }
}

/// What went wrong in a TLS handshake, if that is why `err` failed: a certificate
/// no trusted authority issued, one for another name, one expired, or a protocol
/// the two sides do not share.
pub(crate) fn tls_failure(err: &reqwest::Error) -> Option<String> {
    // Only while connecting: a connection that breaks later broke mid-exchange.
    if !err.is_connect() {
        return None;
    }
    StdError::source(err).and_then(rustls_error)
}

/// The rustls error in `err`'s chain. An `io::Error` may wrap another (the TLS
/// connector's error inside the client's), and its own `source` skips what it
/// wraps, so each one is looked into.
pub(crate) fn rustls_error(err: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls.to_string());
    }
    let wrapped = err
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        .and_then(|inner| rustls_error(inner));
    wrapped.or_else(|| err.source().and_then(rustls_error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn col_1_trusted_roots_refuse_a_file_without_certificates() {
        assert!(TrustedRoots::with_pem(b"not a certificate".to_vec()).is_err());
        assert!(TrustedRoots::with_pem(Vec::new()).is_err());
        let damaged = b"-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAAAAAA\n-----END CERTIFICATE-----\n";
        let err = TrustedRoots::with_pem(damaged.to_vec()).unwrap_err();
        assert!(err.contains("cannot be used"), "{err}");
        let shown = format!("{:?}", TrustedRoots::system());
        assert!(shown.contains("extra_authorities: 0"), "{shown}");
    }
}
