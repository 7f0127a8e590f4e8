//! The SSO's token-signing key: RSA-2048, a self-signed certificate for it (what a
//! registry trusts), and its libtrust key ID (what CNCF distribution matches `kid` on).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, KeyAlgorithm, PublicKeyUse, RSAKeyParameters,
    RSAKeyType,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pkcs1::der::Decode;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData, RsaKeySize,
    PKCS_RSA_SHA256,
};
use sha2::{Digest, Sha256};

use crate::token::{TokenClaims, VerificationKey};

/// Errors creating a key or signing a token.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Key or certificate generation failed.
    #[error("key generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// The generated public key could not be parsed.
    #[error("public key: {0}")]
    PublicKey(String),
    /// jsonwebtoken refused the key or claims.
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// An RS256 signing key with its certificate and libtrust key ID.
///
/// ```
/// use regharness_mocks::SigningKey;
/// let key = SigningKey::generate("doc signer").unwrap();
/// assert_eq!(key.key_id().split(':').count(), 12);
/// assert!(key.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
pub struct SigningKey {
    encoding: EncodingKey,
    certificate_pem: String,
    kid: String,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a key and a self-signed certificate with `common_name` (give each a
    /// distinct name).
    pub fn generate(common_name: &str) -> Result<Self, SigningError> {
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
        let pkcs1_der = key.public_key_raw().to_vec();
        let public = pkcs1::RsaPublicKey::from_der(&pkcs1_der)
            .map_err(|e| SigningError::PublicKey(e.to_string()))?;
        let modulus = public.modulus.as_bytes().to_vec();
        let exponent = public.public_exponent.as_bytes().to_vec();
        // Go's x509.MarshalPKIXPublicKey: SubjectPublicKeyInfo with rsaEncryption + NULL.
        let kid = libtrust_key_id(&key.subject_public_key_info());

        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "regharness mock SSO");
        params.distinguished_name = dn;
        let cert = params.self_signed(&key)?;
        let encoding = EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes())?;
        Ok(Self {
            encoding,
            certificate_pem: cert.pem(),
            kid,
            modulus,
            exponent,
        })
    }

    /// The libtrust key ID of the public key (`ABCD:EFGH:...`, 12 groups).
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The self-signed certificate (PEM), for distribution's `auth.token.rootcertbundle`.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The public key as a JWK (`kty`, `alg`, `use`, `kid`, `n`, `e`).
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::to_value(self.jwk()).unwrap_or(serde_json::Value::Null)
    }

    fn jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::RS256),
                key_id: Some(self.kid.clone()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(&self.modulus),
                e: URL_SAFE_NO_PAD.encode(&self.exponent),
            }),
        }
    }

    /// Signs `claims` as a compact JWT with header `{"typ":"JWT","alg":"RS256","jwk":...,"kid":...}`.
    pub fn sign(&self, claims: &TokenClaims) -> Result<String, SigningError> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = Some(self.kid.clone());
        header.jwk = Some(self.jwk());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// The key a verifier trusts to accept this key's tokens.
    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::from_rsa_components(self.kid.clone(), &self.modulus, &self.exponent)
    }
}

/// docker/libtrust's key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits,
/// base32 (RFC 4648, no padding), in groups of four joined by `:`.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    let digest = Sha256::digest(spki_der);
    let encoded = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &digest[..30]);
    encoded
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_has_libtrust_shape() {
        let id = libtrust_key_id(b"anything");
        assert_eq!(id.len(), 48 + 11);
        assert!(id.split(':').all(|g| g.len() == 4
            && g.chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))));
    }

    #[test]
    fn spki_is_the_standard_rsa_encoding() {
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
        let spki = key.subject_public_key_info();
        // SEQUENCE { SEQUENCE { rsaEncryption OID, NULL }, BIT STRING } as Go marshals it.
        let alg = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
        ];
        assert!(spki.windows(alg.len()).any(|w| w == alg));
    }
}
