//! TLS interception (squid's ssl-bump): a leaf per CONNECT host from the proxy's own
//! CA towards the client, and a verifying TLS client towards the origin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::tls::{CertificateAuthority, TlsError};

use super::ProxyError;

/// The interception CA, its leaves, and the origin-side TLS configuration.
pub(super) struct Interceptor {
    ca: CertificateAuthority,
    client_config: Arc<rustls::ClientConfig>,
    leaves: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
}

impl Interceptor {
    /// Trusts only the certificates in `upstream_roots_pem` towards origins.
    pub fn new(ca: CertificateAuthority, upstream_roots_pem: &str) -> Result<Self, ProxyError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(upstream_roots_pem.as_bytes()) {
            let cert = cert.map_err(|e| ProxyError::UpstreamRoots(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| ProxyError::UpstreamRoots(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(ProxyError::UpstreamRoots("no certificate found".into()));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::from)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // The relay passes HTTP/1.1 bytes through unchanged: both sides must speak it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca,
            client_config: Arc::new(config),
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The client configuration towards origins.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.client_config.clone()
    }

    /// The server configuration presenting a leaf for `host`, issued on first use.
    pub fn leaf(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = leaves.get(host) {
            return Ok(config.clone());
        }
        let config = self.ca.issue(&[host])?.server_config()?;
        leaves.insert(host.to_string(), config.clone());
        Ok(config)
    }
}

/// squid's (OpenSSL's) name for a failed origin handshake, and a one-line detail.
pub(super) fn describe(error: &std::io::Error) -> (String, String) {
    let rustls_error = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    let code = match rustls_error {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            rustls::CertificateError::UnknownIssuer => {
                "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
            }
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                "X509_V_ERR_CERT_HAS_EXPIRED"
            }
            rustls::CertificateError::NotValidYet
            | rustls::CertificateError::NotValidYetContext { .. } => {
                "X509_V_ERR_CERT_NOT_YET_VALID"
            }
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. } => {
                "SQUID_X509_V_ERR_DOMAIN_MISMATCH"
            }
            rustls::CertificateError::BadSignature => "X509_V_ERR_CERT_SIGNATURE_FAILURE",
            _ => "X509_V_ERR_UNSPECIFIED",
        },
        _ => "[Unknown]",
    };
    (code.to_string(), error.to_string())
}
