//! Registry bearer tokens: the claims the SSO issues and the checks a registry makes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::{Clock, ResourceActions};

/// The claims of a docker-v2 token, in the order Red Hat's SSO writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Unique token ID (UUID).
    #[serde(default)]
    pub jti: String,
    /// Expiry, Unix seconds.
    #[serde(default)]
    pub exp: i64,
    /// Not before, Unix seconds.
    #[serde(default)]
    pub nbf: i64,
    /// Issued at, Unix seconds.
    #[serde(default)]
    pub iat: i64,
    /// Issuer: the realm URL.
    #[serde(default)]
    pub iss: String,
    /// Audience: the `service` of the token request.
    #[serde(default)]
    pub aud: String,
    /// Subject: the username.
    #[serde(default)]
    pub sub: String,
    /// `Bearer`.
    #[serde(default)]
    pub typ: String,
    /// Authorised party: the `client_id`.
    #[serde(default)]
    pub azp: String,
    /// Granted scopes.
    #[serde(default)]
    pub access: Vec<ResourceActions>,
}

/// A public key a verifier trusts, named by its libtrust key ID.
#[derive(Clone)]
pub struct VerificationKey {
    kid: String,
    decoding: DecodingKey,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// A key from RSA modulus and exponent (big-endian bytes).
    pub fn from_rsa_components(kid: String, modulus: &[u8], exponent: &[u8]) -> Self {
        Self {
            kid,
            decoding: DecodingKey::from_rsa_raw_components(modulus, exponent),
        }
    }

    /// Its key ID.
    pub fn key_id(&self) -> &str {
        &self.kid
    }
}

/// Why a token was refused. Messages never include the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS, or its parts are not JSON.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Signed with something else than RS256.
    #[error("unsupported signing algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The key named by `kid` (or the embedded `jwk`) is not trusted.
    #[error("token signed by untrusted key with ID: {kid:?}")]
    UntrustedKey {
        /// The key ID the token named.
        kid: String,
    },
    /// The signature does not verify.
    #[error("invalid token signature")]
    BadSignature,
    /// Past `exp`.
    #[error("token has expired (exp {exp}, now {now})")]
    Expired {
        /// Expiry.
        exp: i64,
        /// Verifier's time.
        now: i64,
    },
    /// Before `nbf`.
    #[error("token is not yet valid (nbf {nbf}, now {now})")]
    NotYetValid {
        /// Not before.
        nbf: i64,
        /// Verifier's time.
        now: i64,
    },
    /// Another issuer.
    #[error("token from untrusted issuer: {found:?} (expected {expected:?})")]
    WrongIssuer {
        /// What the verifier wants.
        expected: String,
        /// What the token says.
        found: String,
    },
    /// Another audience.
    #[error("token intended for another audience: {found:?} (expected {expected:?})")]
    WrongAudience {
        /// What the verifier wants.
        expected: String,
        /// What the token says.
        found: String,
    },
}

/// Checks tokens the way CNCF distribution's token access controller does: trusted key
/// (by `kid`, or the `kid` of an embedded `jwk`; the embedded key itself is never
/// trusted), RS256 signature, `exp`/`nbf` against the [`Clock`], `iss` and `aud`.
///
/// ```
/// use regharness_mocks::{Clock, SigningKey, TokenClaims, TokenVerifier};
/// let key = SigningKey::generate("doc").unwrap();
/// let clock = Clock::new();
/// let now = clock.now_unix();
/// let claims = TokenClaims { jti: "1".into(), exp: now + 300, nbf: now, iat: now,
///     iss: "https://sso.redhat.com/auth/realms/rhcc".into(), aud: "docker-registry".into(),
///     sub: "u".into(), typ: "Bearer".into(), azp: "curl".into(), access: vec![] };
/// let token = key.sign(&claims).unwrap();
/// let verifier = TokenVerifier::new("https://sso.redhat.com/auth/realms/rhcc", "docker-registry", clock.clone())
///     .trust(key.verification_key());
/// assert_eq!(verifier.verify(&token).unwrap(), claims);
/// clock.advance(301);
/// assert!(verifier.verify(&token).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    issuer: String,
    service: String,
    clock: Clock,
    keys: Vec<VerificationKey>,
    leeway: i64,
}

impl TokenVerifier {
    /// A verifier for tokens of `issuer` meant for `service`.
    pub fn new(issuer: impl Into<String>, service: impl Into<String>, clock: Clock) -> Self {
        Self {
            issuer: issuer.into(),
            service: service.into(),
            clock,
            keys: Vec::new(),
            leeway: 0,
        }
    }

    /// Trusts `key`.
    pub fn trust(mut self, key: VerificationKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Seconds of clock skew tolerated on `exp`/`nbf` (default 0; distribution uses 60).
    pub fn leeway(mut self, secs: i64) -> Self {
        self.leeway = secs;
        self
    }

    /// Verifies `token` and returns its claims.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| malformed(&e))?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::UnsupportedAlgorithm(format!(
                "{:?}",
                header.alg
            )));
        }
        let kid = header
            .kid
            .clone()
            .or_else(|| header.jwk.as_ref().and_then(|j| j.common.key_id.clone()))
            .unwrap_or_default();
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenError::UntrustedKey { kid })?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<TokenClaims>(token, &key.decoding, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm => TokenError::UnsupportedAlgorithm("mismatch".into()),
                _ => malformed(&e),
            },
        )?;
        let claims = data.claims;
        let now = self.clock.now_unix();
        if now > claims.exp + self.leeway {
            return Err(TokenError::Expired {
                exp: claims.exp,
                now,
            });
        }
        if now + self.leeway < claims.nbf {
            return Err(TokenError::NotYetValid {
                nbf: claims.nbf,
                now,
            });
        }
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer {
                expected: self.issuer.clone(),
                found: claims.iss,
            });
        }
        if claims.aud != self.service {
            return Err(TokenError::WrongAudience {
                expected: self.service.clone(),
                found: claims.aud,
            });
        }
        Ok(claims)
    }
}

fn malformed(e: &jsonwebtoken::errors::Error) -> TokenError {
    TokenError::Malformed(e.to_string())
}

/// Reads a token's claims without verifying anything (for a client's diagnosis).
pub fn decode_unverified(token: &str) -> Result<TokenClaims, TokenError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| TokenError::Malformed("expected three dot-separated parts".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed(format!("payload is not base64url: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| TokenError::Malformed(format!("payload is not a claims object: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    const ISS: &str = "https://sso.redhat.com/auth/realms/rhcc";

    fn claims(clock: &Clock) -> TokenClaims {
        let now = clock.now_unix();
        TokenClaims {
            jti: "id".into(),
            exp: now + 300,
            nbf: now,
            iat: now,
            iss: ISS.into(),
            aud: "docker-registry".into(),
            sub: "1234567|ci-puller".into(),
            typ: "Bearer".into(),
            azp: "curl".into(),
            access: vec![ResourceActions::pull("rhel")],
        }
    }

    #[test]
    fn rejects_tampering_other_keys_expiry_issuer_and_audience() {
        let key = SigningKey::generate("t1").unwrap();
        let other = SigningKey::generate("t2").unwrap();
        let clock = Clock::new();
        let verifier =
            TokenVerifier::new(ISS, "docker-registry", clock.clone()).trust(key.verification_key());
        let token = key.sign(&claims(&clock)).unwrap();
        assert!(verifier.verify(&token).is_ok());

        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut c = claims(&clock);
        c.access = vec![ResourceActions::pull("everything")];
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        assert_eq!(
            verifier.verify(&parts.join(".")),
            Err(TokenError::BadSignature)
        );

        let foreign = other.sign(&claims(&clock)).unwrap();
        assert!(matches!(
            verifier.verify(&foreign),
            Err(TokenError::UntrustedKey { .. })
        ));

        let mut c = claims(&clock);
        c.iss = "https://evil".into();
        assert!(matches!(
            verifier.verify(&key.sign(&c).unwrap()),
            Err(TokenError::WrongIssuer { .. })
        ));
        let mut c = claims(&clock);
        c.aud = "other".into();
        assert!(matches!(
            verifier.verify(&key.sign(&c).unwrap()),
            Err(TokenError::WrongAudience { .. })
        ));
        let mut c = claims(&clock);
        c.nbf += 100;
        assert!(matches!(
            verifier.verify(&key.sign(&c).unwrap()),
            Err(TokenError::NotYetValid { .. })
        ));

        clock.advance(301);
        assert!(matches!(
            verifier.verify(&token),
            Err(TokenError::Expired { .. })
        ));
        assert!(verifier.clone().leeway(60).verify(&token).is_ok());
        assert!(matches!(
            verifier.verify("garbage"),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn header_carries_jwk_and_libtrust_kid() {
        let key = SigningKey::generate("t3").unwrap();
        let token = key.sign(&claims(&Clock::new())).unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], key.key_id());
        assert_eq!(header["jwk"]["kty"], "RSA");
        assert_eq!(header["jwk"]["e"], "AQAB");
        assert_eq!(header["jwk"]["kid"], key.key_id());
        assert_eq!(decode_unverified(&token).unwrap().sub, "1234567|ci-puller");
    }
}
