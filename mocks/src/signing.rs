//! The SSO's token-signing key: RSA-2048, a self-signed certificate for it (what a
//! registry is told to trust) and its libtrust key ID (what CNCF distribution matches a
//! token's `kid` on).
//!
//! # The libtrust key ID
//!
//! docker/libtrust's `keyIDFromCryptoKey`, which distribution uses to index the keys of
//! its `rootcertbundle`: SHA-256 of the DER `SubjectPublicKeyInfo` (Go's
//! `x509.MarshalPKIXPublicKey`: `rsaEncryption` with NULL parameters), first 30 bytes
//! (240 bits), base32 (RFC 4648 standard alphabet, 48 characters, no padding), in 12
//! groups of 4 joined by `:`. Keycloak's `DockerKeyIdentifier` computes the same.
//!
//! ```
//! use regharness_mocks::signing::libtrust_rsa_key_id;
//! let id = libtrust_rsa_key_id(&[0xc5, 0x01, 0x37], &[1, 0, 1]);
//! assert_eq!(id.len(), 48 + 11);
//! assert_eq!(id.split(':').count(), 12);
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use pkcs1::der::Decode;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, RsaKeySize, PKCS_RSA_SHA256};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::token::{TokenClaims, VerificationKey};

/// Why a key could not be created or a token not signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// RSA key or certificate generation failed.
    #[error("cannot generate the RSA signing key or its certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The generated public key could not be read back.
    #[error("cannot read the generated public key: {0}")]
    PublicKey(String),
    /// The signing primitive refused the key or the input.
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// The header or claims could not be serialised.
    #[error("cannot serialise the token header or claims: {0}")]
    Encode(#[from] serde_json::Error),
}

/// An RS256 signing key with its self-signed certificate and libtrust key ID.
///
/// ```
/// use regharness_mocks::SigningKey;
/// let key = SigningKey::generate("regharness doc signer").unwrap();
/// assert_eq!(key.key_id().split(':').count(), 12);
/// assert!(key.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert_eq!(key.public_jwk()["kid"], key.key_id());
/// assert_eq!(key.verification_key().key_id(), key.key_id());
/// ```
pub struct SigningKey {
    encoding: EncodingKey,
    certificate_pem: String,
    common_name: String,
    kid: String,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("common_name", &self.common_name)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates an RSA-2048 key and a self-signed certificate whose subject CN is
    /// `common_name`. Give every key a distinct name: certificate verifiers confuse
    /// issuers with identical names.
    pub fn generate(common_name: &str) -> Result<Self, SigningError> {
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
        // rcgen gives RSA public keys as PKCS#1 RSAPublicKey DER.
        let public = pkcs1::RsaPublicKey::from_der(key.public_key_raw())
            .map_err(|e| SigningError::PublicKey(e.to_string()))?;
        let modulus = public.modulus.as_bytes().to_vec();
        let exponent = public.public_exponent.as_bytes().to_vec();
        let kid = libtrust_rsa_key_id(&modulus, &exponent);

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
            common_name: common_name.to_string(),
            kid,
            modulus,
            exponent,
        })
    }

    /// The libtrust key ID of the public key (`ABCD:EFGH:...`, 12 groups of 4).
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The subject CN of the certificate.
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// The self-signed certificate (PEM), for distribution's `auth.token.rootcertbundle`.
    pub fn certificate_pem(&self) -> String {
        self.certificate_pem.clone()
    }

    /// The public key as a JWK:
    /// `{"kty":"RSA","alg":"RS256","use":"sig","kid":<libtrust id>,"n":..,"e":"AQAB"}`
    /// (`n` and `e` base64url without padding, big-endian without leading zeros).
    ///
    /// libtrust refuses a JWK whose `kid` is not the key's own libtrust ID, and
    /// distribution 3 looks the key up by that `kid`: it always is.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.modulus),
            "e": URL_SAFE_NO_PAD.encode(&self.exponent),
        })
    }

    /// The JOSE header [`SigningKey::sign`] uses:
    /// `{"alg":"RS256","typ":"JWT","kid":<libtrust id>,"jwk":<public_jwk>}`.
    pub fn default_header(&self) -> Value {
        json!({
            "alg": "RS256",
            "typ": "JWT",
            "kid": self.kid,
            "jwk": self.public_jwk(),
        })
    }

    /// Signs `claims` as a compact RS256 JWT with [`SigningKey::default_header`].
    pub fn sign(&self, claims: &TokenClaims) -> Result<String, SigningError> {
        self.sign_with_header(&self.default_header(), claims)
    }

    /// Signs `claims` with RS256 under an arbitrary JOSE `header`, written exactly as
    /// given. For tokens of other shapes: `kid` only, `jwk` only (like the seed's
    /// sample), or deliberately wrong ones (an `alg` that does not match the signature,
    /// a `jwk` whose `kid` lies).
    ///
    /// ```
    /// use regharness_mocks::{Clock, SigningKey, TokenClaims, TokenError, TokenVerifier};
    /// let key = SigningKey::generate("regharness doc signer (header)").unwrap();
    /// let now = Clock::new().now_unix();
    /// let claims = TokenClaims { exp: now + 60, nbf: now, iat: now, iss: "i".into(),
    ///     aud: "s".into(), ..TokenClaims::default() };
    /// let kid_only = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.key_id()});
    /// let token = key.sign_with_header(&kid_only, &claims).unwrap();
    /// let verifier = TokenVerifier::new("i", "s", Clock::new()).trust(key.verification_key());
    /// assert!(verifier.verify(&token).is_ok());
    /// let hs256 = serde_json::json!({"alg": "HS256", "kid": key.key_id()});
    /// let token = key.sign_with_header(&hs256, &claims).unwrap();
    /// assert_eq!(verifier.verify(&token), Err(TokenError::UnsupportedAlgorithm("HS256".into())));
    /// ```
    pub fn sign_with_header(
        &self,
        header: &Value,
        claims: &TokenClaims,
    ) -> Result<String, SigningError> {
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
        let message = format!("{header}.{payload}");
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, Algorithm::RS256)?;
        Ok(format!("{message}.{signature}"))
    }

    /// The public key, for a verifier to trust this key's tokens.
    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::from_rsa_components(&self.modulus, &self.exponent)
    }
}

/// libtrust key ID of an RSA public key given as big-endian modulus and exponent.
pub fn libtrust_rsa_key_id(modulus: &[u8], exponent: &[u8]) -> String {
    libtrust_key_id(&rsa_spki_der(modulus, exponent))
}

/// libtrust key ID of a DER `SubjectPublicKeyInfo`: SHA-256, first 240 bits, base32,
/// 12 groups of 4 joined by `:`.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    let digest = Sha256::digest(spki_der);
    // 30 bytes = 240 bits = exactly 48 base32 characters: no padding to strip.
    let encoded = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &digest[..30]);
    let groups: Vec<&str> = encoded
        .as_bytes()
        .chunks(4)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    groups.join(":")
}

/// The DER `SubjectPublicKeyInfo` of an RSA public key, byte for byte as Go's
/// `x509.MarshalPKIXPublicKey` writes it.
pub fn rsa_spki_der(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    // 1.2.840.113549.1.1.1 rsaEncryption
    const RSA_ENCRYPTION: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let rsa_public_key = der::tlv(
        der::SEQUENCE,
        &[
            der::unsigned_integer(modulus),
            der::unsigned_integer(exponent),
        ]
        .concat(),
    );
    let algorithm = der::tlv(
        der::SEQUENCE,
        &[
            der::tlv(der::OID, &RSA_ENCRYPTION),
            der::tlv(der::NULL, &[]),
        ]
        .concat(),
    );
    let bits = der::tlv(der::BIT_STRING, &[&[0u8][..], &rsa_public_key].concat());
    der::tlv(der::SEQUENCE, &[algorithm, bits].concat())
}

/// The few DER encodings a SubjectPublicKeyInfo needs.
mod der {
    pub const SEQUENCE: u8 = 0x30;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;

    /// Tag, definite length (short or long form), content.
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let first = bytes
                .iter()
                .position(|b| *b != 0)
                .unwrap_or(bytes.len() - 1);
            out.push(0x80 | (bytes.len() - first) as u8);
            out.extend_from_slice(&bytes[first..]);
        }
        out.extend_from_slice(content);
        out
    }

    /// A non-negative INTEGER: minimal big-endian, a leading zero when the top bit is set.
    pub fn unsigned_integer(value: &[u8]) -> Vec<u8> {
        let first = value.iter().position(|b| *b != 0).unwrap_or(value.len());
        let value = &value[first..];
        let mut content = Vec::with_capacity(value.len() + 1);
        if value.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(value);
        tlv(INTEGER, &content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::PublicKeyData;

    /// A 4096-bit RSA public key (JWK `n`, `e` = AQAB) and its libtrust ID, the fixture of
    /// a libtrust port's key test; cross-checked with Python `cryptography`'s
    /// SubjectPublicKeyInfo DER + SHA-256 + base32.
    const VECTOR_N: &str = "wq1mCmgn460MC6MnCqranQNTgmKuKPl7bNH7Qc6hBDGHlnIjU6q_h2KXF37TC5Y9tsKvQ4b8jd0Sf0dXFHml8qunSvNnqsSvoD8tSPUKqXS6jrlbGSQXhya7BL1RPGccD5K1xrV73QlI6uFPd3APRQYij5EOB8IOWEQujJk_8Mjc0EC9zvk5TUJb59hkOUPZ3CkvSBNLNS8wpQI98FRnIzHjuaNicqve8054oxmDKifHWy0nnF135cXW8zkH3Zto1q89zD2g-zcVxLcRP84Uhe0nSQyg7vEYl4Wl74Eo6_89qL2yE0mEiQN245ACA5B8WFV_t3j_OD3ydOCaAOg28vQtzcZ1gh2Ev4RxeR7bKq58g-R0-MMwl7nnW29mbCkcgdVVR4YPmglP7Vb6w7_NbqFhnxx4E3A05AeevHdMdYCrtgQwogvIhdOHLcVQxJgwy1d2Lg_mv9rovhCJ7d3XaNEYym6CplCHPMtfnU1LCVkA6b44pFaOVjsAQ8FviFtGXQAToRtwoszSarzslHKYdPoSGFOsgNJgW67iViOYqGPD97rgJA0VPm0POMNHGw_R6o-08KhDF_OI1EDckmjXhUggY_WCqWDxD77Ezd_wr9Zlbv_uSIEL9ifvBLq06lLcXMLrQbJrwMbDrngMZMAcUkTzThmtxNs4uwu45R-zfKc";
    const VECTOR_KID: &str = "IIYO:OWAZ:MBMG:2SIK:IK2I:OP5Z:H6QR:KN6Y:QUGO:BUWN:TYW3:JXVW";

    #[test]
    fn key_id_matches_a_known_libtrust_vector() {
        let n = URL_SAFE_NO_PAD.decode(VECTOR_N).unwrap();
        assert_eq!(n.len(), 512);
        assert_eq!(libtrust_rsa_key_id(&n, &[1, 0, 1]), VECTOR_KID);
        // Leading zeros in the inputs do not change the key.
        let padded: Vec<u8> = [&[0u8][..], &n].concat();
        assert_eq!(libtrust_rsa_key_id(&padded, &[0, 1, 0, 1]), VECTOR_KID);
    }

    #[test]
    fn spki_is_byte_identical_to_rcgens_encoding() {
        let pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
        let public = pkcs1::RsaPublicKey::from_der(pair.public_key_raw()).unwrap();
        assert_eq!(
            rsa_spki_der(public.modulus.as_bytes(), public.public_exponent.as_bytes()),
            pair.subject_public_key_info()
        );
    }

    #[test]
    fn key_id_shape() {
        let id = libtrust_key_id(b"anything");
        assert_eq!(id.len(), 48 + 11);
        assert!(id.split(':').all(|g| g.len() == 4
            && g.chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))));
    }

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(der::tlv(der::NULL, &[]), [0x05, 0x00]);
        assert_eq!(der::tlv(der::SEQUENCE, &[0; 0x80])[..3], [0x30, 0x81, 0x80]);
        assert_eq!(
            der::tlv(der::SEQUENCE, &[0; 0x1234])[..4],
            [0x30, 0x82, 0x12, 0x34]
        );
        assert_eq!(
            der::unsigned_integer(&[0x01, 0x00, 0x01]),
            [0x02, 0x03, 1, 0, 1]
        );
        assert_eq!(der::unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der::unsigned_integer(&[0, 0, 0x7f]), [0x02, 0x01, 0x7f]);
        assert_eq!(der::unsigned_integer(&[]), [0x02, 0x01, 0x00]);
    }

    #[test]
    fn keys_are_distinct_and_jwk_matches_the_header() {
        let a = SigningKey::generate("regharness test signer a").unwrap();
        let b = SigningKey::generate("regharness test signer b").unwrap();
        assert_ne!(a.key_id(), b.key_id());
        let jwk = a.public_jwk();
        let keys: Vec<&String> = jwk.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["kty", "alg", "use", "kid", "n", "e"]);
        assert_eq!(jwk["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_eq!(libtrust_rsa_key_id(&n, &[1, 0, 1]), a.key_id());
        let header = a.default_header();
        let keys: Vec<&String> = header.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["alg", "typ", "kid", "jwk"]);
        assert!(a.certificate_pem().contains("END CERTIFICATE"));
        assert_ne!(a.certificate_pem(), b.certificate_pem());
    }
}
