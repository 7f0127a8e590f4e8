//! A certificate authority per world, and server identities issued by it.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Errors while generating certificates or TLS configurations.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen could not generate a key or certificate.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the generated material.
    #[error("TLS configuration failed: {0}")]
    Config(#[from] rustls::Error),
}

/// A throw-away certificate authority: each world gets its own, so a client that
/// trusts one world's CA does not trust another's.
///
/// ```
/// use regharness_mocks::CertificateAuthority;
/// let ca = CertificateAuthority::generate("regharness test CA").unwrap();
/// let id = ca.issue(&["registry.redhat.io"]).unwrap();
/// assert!(ca.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(id.certificate_pem().contains("BEGIN CERTIFICATE"));
/// ```
pub struct CertificateAuthority {
    common_name: String,
    certificate_pem: String,
    certificate_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("common_name", &self.common_name)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Generates a new CA (ECDSA P-256) with the given common name. Give every CA a
    /// distinct name: two CAs with the same subject make verifiers report a bad
    /// signature instead of an unknown issuer.
    pub fn generate(common_name: &str) -> Result<Self, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "regharness");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        Ok(Self {
            common_name: common_name.to_string(),
            certificate_pem: cert.pem(),
            certificate_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's common name (what a client reports as the unknown issuer).
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// The CA certificate in PEM, for a client's trust store.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The CA certificate in DER.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.certificate_der
    }

    /// Issues a server certificate for `hostnames` (DNS names or IP literals).
    pub fn issue(&self, hostnames: &[&str]) -> Result<ServerIdentity, TlsError> {
        let key = KeyPair::generate()?;
        let names: Vec<String> = hostnames.iter().map(|h| h.to_string()).collect();
        let mut params = CertificateParams::new(names)?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            hostnames.first().copied().unwrap_or("localhost"),
        );
        params.distinguished_name = dn;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(ServerIdentity {
            chain: vec![cert.der().clone(), self.certificate_der.clone()],
            certificate_pem: cert.pem(),
            key_pkcs8: key.serialize_der(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// A server certificate chain and its private key.
#[derive(Clone)]
pub struct ServerIdentity {
    chain: Vec<CertificateDer<'static>>,
    certificate_pem: String,
    key_pkcs8: Vec<u8>,
    key_pem: String,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// The leaf certificate in PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The private key in PKCS#8 PEM (for real servers such as distribution).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A rustls server configuration (aws-lc-rs provider, TLS 1.2 and 1.3, HTTP/1.1).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
