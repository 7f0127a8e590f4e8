//! Registry bearer tokens: the claims the SSO issues and the checks a registry makes.
//!
//! [`TokenVerifier`] follows CNCF distribution's token access controller
//! (`registry/auth/token`): the signing key must be a trusted one, named by the header's
//! `jwk` (its libtrust key ID) or else by its `kid`; an embedded `jwk` is only a name,
//! never a key to trust. Then the RS256 signature, `exp`/`nbf` against the shared
//! [`Clock`], `iss` and `aud`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::signing::libtrust_rsa_key_id;
use crate::{Clock, ResourceActions};

/// The claims of a docker-v2 token, in the order Red Hat's SSO writes them:
/// `jti, exp, nbf, iat, iss, aud, sub, typ, azp, access`.
///
/// Missing claims read as empty / zero, so [`decode_unverified`] can show any token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Unique token ID (a UUID).
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
    /// Issuer: the realm URL (`https://sso.redhat.com/auth/realms/rhcc`).
    #[serde(default)]
    pub iss: String,
    /// Audience: the `service` of the token request (`docker-registry`).
    #[serde(default)]
    pub aud: String,
    /// Subject: the username.
    #[serde(default)]
    pub sub: String,
    /// Token type: `Bearer`.
    #[serde(default)]
    pub typ: String,
    /// Authorised party.
    #[serde(default)]
    pub azp: String,
    /// Granted scopes (may be empty).
    #[serde(default)]
    pub access: Vec<ResourceActions>,
}

impl TokenClaims {
    /// Whether the `access` claim grants `action` on `resource_type:name`.
    pub fn grants(&self, resource_type: &str, name: &str, action: &str) -> bool {
        self.access
            .iter()
            .any(|a| a.grants(resource_type, name, action))
    }
}

/// A public RSA key a verifier trusts, named by its libtrust key ID.
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
    /// A key from its RSA modulus and public exponent (big-endian bytes); its key ID
    /// is computed (libtrust), so it cannot disagree with the key.
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Self {
        Self {
            kid: libtrust_rsa_key_id(modulus, exponent),
            decoding: DecodingKey::from_rsa_raw_components(modulus, exponent),
        }
    }

    /// The libtrust key ID.
    pub fn key_id(&self) -> &str {
        &self.kid
    }
}

/// Why a token was refused. Messages never include the token itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS of three base64url parts, or its parts are not JSON objects.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header names another algorithm than RS256.
    #[error("unsupported signing algorithm {0:?} (only RS256 is accepted)")]
    UnsupportedAlgorithm(String),
    /// The key the header names (by `jwk` or `kid`) is not one the verifier trusts.
    #[error("token signed by untrusted key with ID {kid:?}")]
    UntrustedKey {
        /// The libtrust key ID the token named.
        kid: String,
    },
    /// The signature does not verify with the trusted key.
    #[error("invalid token signature")]
    BadSignature,
    /// The token expired.
    #[error("token expired {} s ago (exp {exp}, now {now})", now - exp)]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The token is not valid yet.
    #[error("token not valid for another {} s (nbf {nbf}, now {now})", nbf - now)]
    NotYetValid {
        /// The `nbf` claim.
        nbf: i64,
        /// The verifier's time.
        now: i64,
    },
    /// Issued by another issuer.
    #[error("token from issuer {found:?}, expected {expected:?}")]
    WrongIssuer {
        /// What the verifier accepts.
        expected: String,
        /// What the token says.
        found: String,
    },
    /// Meant for another service.
    #[error("token for audience {found:?}, expected {expected:?}")]
    WrongAudience {
        /// What the verifier accepts.
        expected: String,
        /// What the token says.
        found: String,
    },
}

/// Checks tokens the way CNCF distribution's token access controller does.
///
/// In order: three-part structure, `alg` RS256, a trusted key named by the header
/// (an embedded `jwk` names the key by its libtrust ID and must carry no `kid` other
/// than that ID; without `jwk`, `kid` names it; the embedded key itself is never
/// trusted), the signature, `exp` and `nbf` against the [`Clock`] with the leeway,
/// `iss`, `aud`.
///
/// ```
/// use regharness_mocks::{Clock, SigningKey, TokenClaims, TokenError, TokenVerifier};
/// let key = SigningKey::generate("regharness doc signer (verifier)").unwrap();
/// let clock = Clock::new();
/// let now = clock.now_unix();
/// let claims = TokenClaims { jti: "1".into(), exp: now + 300, nbf: now, iat: now,
///     iss: "https://sso.redhat.com/auth/realms/rhcc".into(), aud: "docker-registry".into(),
///     sub: "u".into(), typ: "Bearer".into(), azp: "curl".into(), access: vec![] };
/// let token = key.sign(&claims).unwrap();
/// let verifier = TokenVerifier::new("https://sso.redhat.com/auth/realms/rhcc",
///     "docker-registry", clock.clone()).trust(key.verification_key());
/// assert_eq!(verifier.verify(&token).unwrap(), claims);
/// clock.advance(301);
/// assert!(matches!(verifier.verify(&token), Err(TokenError::Expired { .. })));
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
    /// A verifier for tokens of `issuer` (the `iss` claim) meant for `service` (the
    /// `aud` claim), dated by `clock`. It trusts no key until [`TokenVerifier::trust`].
    pub fn new(issuer: impl Into<String>, service: impl Into<String>, clock: Clock) -> Self {
        Self {
            issuer: issuer.into(),
            service: service.into(),
            clock,
            keys: Vec::new(),
            leeway: 0,
        }
    }

    /// Trusts `key` (like a certificate in distribution's `rootcertbundle`).
    pub fn trust(mut self, key: VerificationKey) -> Self {
        if !self.keys.iter().any(|k| k.kid == key.kid) {
            self.keys.push(key);
        }
        self
    }

    /// Seconds of clock skew tolerated on `exp` and `nbf`. The default is 0; CNCF
    /// distribution uses 60 (a token is refused only when `now > exp + 60`).
    pub fn leeway(mut self, secs: i64) -> Self {
        self.leeway = secs;
        self
    }

    /// The `iss` this verifier accepts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` this verifier accepts.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Verifies `token` and returns its claims.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let parts = JwsParts::split(token)?;
        let header = parts.header()?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| TokenError::Malformed("the header has no \"alg\"".into()))?;
        if alg != "RS256" {
            return Err(TokenError::UnsupportedAlgorithm(alg.to_string()));
        }
        let key = self.signing_key(&header)?;
        match jsonwebtoken::crypto::verify(
            parts.signature,
            parts.signing_input().as_bytes(),
            &key.decoding,
            Algorithm::RS256,
        ) {
            Ok(true) => {}
            Ok(false) => return Err(TokenError::BadSignature),
            Err(e) => match e.kind() {
                jsonwebtoken::errors::ErrorKind::Base64(_) => {
                    return Err(TokenError::Malformed(
                        "the signature is not base64url".into(),
                    ))
                }
                _ => return Err(TokenError::BadSignature),
            },
        }
        let claims = parts.claims()?;
        let now = self.clock.now_unix();
        if now > claims.exp.saturating_add(self.leeway) {
            return Err(TokenError::Expired {
                exp: claims.exp,
                now,
            });
        }
        if now < claims.nbf.saturating_sub(self.leeway) {
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

    /// The trusted key the header names: by `jwk` (its libtrust ID) when present,
    /// else by `kid`.
    fn signing_key(&self, header: &Map<String, Value>) -> Result<&VerificationKey, TokenError> {
        let named = match (header.get("jwk"), header.get("kid")) {
            (Some(jwk), _) => jwk_key_id(jwk)?,
            (None, Some(Value::String(kid))) => kid.clone(),
            (None, Some(_)) => {
                return Err(TokenError::Malformed(
                    "the header's \"kid\" is not a string".into(),
                ))
            }
            (None, None) => {
                return Err(TokenError::Malformed(
                    "the header names no signing key (neither \"jwk\" nor \"kid\")".into(),
                ))
            }
        };
        self.keys
            .iter()
            .find(|k| k.kid == named)
            .ok_or(TokenError::UntrustedKey { kid: named })
    }
}

/// The libtrust key ID of a header's `jwk`, checked the way libtrust unmarshals it.
fn jwk_key_id(jwk: &Value) -> Result<String, TokenError> {
    let bad = |why: &str| TokenError::Malformed(format!("the header's \"jwk\" {why}"));
    let jwk = jwk.as_object().ok_or_else(|| bad("is not an object"))?;
    let field = |name: &str| -> Result<Vec<u8>, TokenError> {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("has no string \"{name}\"")))?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| bad(&format!("has a \"{name}\" that is not base64url")))
    };
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => {}
        Some(other) => return Err(bad(&format!("is a {other:?} key, not RSA"))),
        None => return Err(bad("has no \"kty\"")),
    }
    let computed = libtrust_rsa_key_id(&field("n")?, &field("e")?);
    match jwk.get("kid") {
        None => Ok(computed),
        Some(Value::String(kid)) if *kid == computed => Ok(computed),
        Some(Value::String(kid)) => Err(bad(&format!(
            "has \"kid\" {kid:?} but its key's libtrust ID is {computed:?}"
        ))),
        Some(_) => Err(bad("has a \"kid\" that is not a string")),
    }
}

/// The three parts of a compact JWS.
struct JwsParts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> JwsParts<'a> {
    fn split(token: &'a str) -> Result<Self, TokenError> {
        let mut it = token.trim().split('.');
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(header), Some(payload), Some(signature), None)
                if !header.is_empty() && !payload.is_empty() && !signature.is_empty() =>
            {
                Ok(Self {
                    header,
                    payload,
                    signature,
                })
            }
            _ => Err(TokenError::Malformed(
                "expected three non-empty dot-separated base64url parts".into(),
            )),
        }
    }

    fn signing_input(&self) -> String {
        format!("{}.{}", self.header, self.payload)
    }

    fn header(&self) -> Result<Map<String, Value>, TokenError> {
        let bytes = decode_part(self.header, "header")?;
        serde_json::from_slice(&bytes)
            .map_err(|e| TokenError::Malformed(format!("the header is not a JSON object: {e}")))
    }

    fn claims(&self) -> Result<TokenClaims, TokenError> {
        let bytes = decode_part(self.payload, "payload")?;
        serde_json::from_slice(&bytes)
            .map_err(|e| TokenError::Malformed(format!("the payload is not a claims object: {e}")))
    }
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed(format!("the {what} is not base64url")))
}

/// Reads a token's claims without verifying anything: for a client that wants to show
/// what it was given (subject, audience, granted scopes, expiry).
///
/// ```
/// use regharness_mocks::token::decode_unverified;
/// // The payload of the sample token in seed 003.
/// let token = "e30.eyJqdGkiOiJkNTc1MWE1NC02MTFkLTQyYzYtODIzNi03NzQ5NjE3ZjU1NTciLCJleHAiOjE1MzQxOTMwOTEsIm5iZiI6MTUzNDE5Mjc5MSwiaWF0IjoxNTM0MTkyNzkxLCJpc3MiOiJodHRwczovL3Nzby5zdGFnZS5yZWRoYXQuY29tL2F1dGgvcmVhbG1zL3JoY2MiLCJhdWQiOiJkb2NrZXItcmVnaXN0cnkiLCJzdWIiOiJ0ZXN0dXNlciIsInR5cCI6IkJlYXJlciIsImF6cCI6ImRvY2tlci1yZWdpc3RyeSIsImFjY2VzcyI6W119.c2ln";
/// let claims = decode_unverified(token).unwrap();
/// assert_eq!(claims.aud, "docker-registry");
/// assert_eq!(claims.exp - claims.iat, 300);
/// assert!(claims.access.is_empty());
/// ```
pub fn decode_unverified(token: &str) -> Result<TokenClaims, TokenError> {
    JwsParts::split(token)?.claims()
}

/// Reads a token's JOSE header without verifying anything (`alg`, `kid`, `jwk`).
pub fn decode_header_unverified(token: &str) -> Result<Map<String, Value>, TokenError> {
    JwsParts::split(token)?.header()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;
    use serde_json::json;
    use std::sync::OnceLock;

    const ISS: &str = "https://sso.redhat.com/auth/realms/rhcc";
    const AUD: &str = "docker-registry";

    fn key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate("regharness token test signer").unwrap())
    }

    fn other_key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate("regharness token test stranger").unwrap())
    }

    fn claims(clock: &Clock) -> TokenClaims {
        let now = clock.now_unix();
        TokenClaims {
            jti: "2b3f3a4e-0000-4000-8000-000000000000".into(),
            exp: now + 300,
            nbf: now,
            iat: now,
            iss: ISS.into(),
            aud: AUD.into(),
            sub: "1234567|ci-puller".into(),
            typ: "Bearer".into(),
            azp: "curl".into(),
            access: vec![ResourceActions::pull("rhel")],
        }
    }

    fn verifier(clock: &Clock) -> TokenVerifier {
        TokenVerifier::new(ISS, AUD, clock.clone()).trust(key().verification_key())
    }

    fn b64json(v: &impl Serialize) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn round_trip_keeps_every_claim_in_order() {
        let clock = Clock::new();
        let token = key().sign(&claims(&clock)).unwrap();
        let got = verifier(&clock).verify(&token).unwrap();
        assert_eq!(got, claims(&clock));
        assert!(got.grants("repository", "rhel", "pull"));
        assert!(!got.grants("repository", "rhel", "push"));
        let payload: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        let keys: Vec<&String> = payload.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["jti", "exp", "nbf", "iat", "iss", "aud", "sub", "typ", "azp", "access"]
        );
        assert_eq!(
            payload["access"],
            json!([{"type": "repository", "name": "rhel", "actions": ["pull"]}])
        );
    }

    #[test]
    fn tampered_payload_is_a_bad_signature() {
        let clock = Clock::new();
        let token = key().sign(&claims(&clock)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut c = claims(&clock);
        c.access = vec![ResourceActions::pull("everything")];
        parts[1] = b64json(&c);
        assert_eq!(
            verifier(&clock).verify(&parts.join(".")),
            Err(TokenError::BadSignature)
        );
        // A signature of another token.
        let other = key().sign(&c).unwrap();
        parts[1] = b64json(&claims(&clock));
        parts[2] = other.split('.').nth(2).unwrap().to_string();
        assert_eq!(
            verifier(&clock).verify(&parts.join(".")),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn another_keys_token_is_untrusted_even_with_its_jwk_embedded() {
        let clock = Clock::new();
        let foreign = other_key().sign(&claims(&clock)).unwrap();
        assert_eq!(
            verifier(&clock).verify(&foreign),
            Err(TokenError::UntrustedKey {
                kid: other_key().key_id().to_string()
            })
        );
        // Trusting it makes it good.
        let both = verifier(&clock).trust(other_key().verification_key());
        assert!(both.verify(&foreign).is_ok());
    }

    #[test]
    fn a_jwk_decides_over_kid_and_cannot_borrow_a_trusted_kid() {
        let clock = Clock::new();
        let c = claims(&clock);
        // The stranger's own jwk, but the trusted key's kid: the jwk names the key.
        let header =
            json!({"alg": "RS256", "kid": key().key_id(), "jwk": other_key().public_jwk()});
        let token = other_key().sign_with_header(&header, &c).unwrap();
        assert!(matches!(
            verifier(&clock).verify(&token),
            Err(TokenError::UntrustedKey { .. })
        ));
        // The stranger's key material under the trusted key's kid inside the jwk.
        let mut jwk = other_key().public_jwk();
        jwk["kid"] = json!(key().key_id());
        let header = json!({"alg": "RS256", "jwk": jwk});
        let token = other_key().sign_with_header(&header, &c).unwrap();
        assert!(matches!(
            verifier(&clock).verify(&token),
            Err(TokenError::Malformed(m)) if m.contains("libtrust ID")
        ));
        // The trusted key's jwk, but the stranger signed: the signature fails.
        let header = json!({"alg": "RS256", "jwk": key().public_jwk()});
        let token = other_key().sign_with_header(&header, &c).unwrap();
        assert_eq!(
            verifier(&clock).verify(&token),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn header_shapes_kid_only_jwk_only_and_neither() {
        let clock = Clock::new();
        let c = claims(&clock);
        let kid_only = json!({"alg": "RS256", "typ": "JWT", "kid": key().key_id()});
        assert!(verifier(&clock)
            .verify(&key().sign_with_header(&kid_only, &c).unwrap())
            .is_ok());
        // Like the seed's sample: a jwk without kid.
        let mut jwk = key().public_jwk();
        jwk.as_object_mut().unwrap().remove("kid");
        let jwk_only = json!({"alg": "RS256", "typ": "JWT", "jwk": jwk});
        assert!(verifier(&clock)
            .verify(&key().sign_with_header(&jwk_only, &c).unwrap())
            .is_ok());
        let neither = json!({"alg": "RS256", "typ": "JWT"});
        assert!(matches!(
            verifier(&clock).verify(&key().sign_with_header(&neither, &c).unwrap()),
            Err(TokenError::Malformed(m)) if m.contains("names no signing key")
        ));
        let ec = json!({"alg": "RS256", "jwk": {"kty": "EC", "crv": "P-256"}});
        assert!(matches!(
            verifier(&clock).verify(&key().sign_with_header(&ec, &c).unwrap()),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn only_rs256_is_accepted() {
        let clock = Clock::new();
        let c = claims(&clock);
        for alg in ["none", "HS256", "RS512", "ES256"] {
            let header = json!({"alg": alg, "kid": key().key_id()});
            let token = key().sign_with_header(&header, &c).unwrap();
            assert_eq!(
                verifier(&clock).verify(&token),
                Err(TokenError::UnsupportedAlgorithm(alg.into()))
            );
        }
        // An unsigned token.
        let token = format!("{}.{}.", b64json(&json!({"alg": "none"})), b64json(&c));
        assert!(matches!(
            verifier(&clock).verify(&token),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn expiry_and_not_before_follow_the_clock_and_leeway() {
        let clock = Clock::new();
        let token = key().sign(&claims(&clock)).unwrap();
        clock.advance(300);
        assert!(verifier(&clock).verify(&token).is_ok());
        clock.advance(2);
        let err = verifier(&clock).verify(&token).unwrap_err();
        assert!(matches!(err, TokenError::Expired { .. }));
        assert!(err.to_string().starts_with("token expired "), "{err}");
        assert!(verifier(&clock).leeway(60).verify(&token).is_ok());
        clock.advance(60);
        assert!(verifier(&clock).leeway(60).verify(&token).is_err());

        let clock = Clock::new();
        let mut c = claims(&clock);
        c.nbf += 100;
        let token = key().sign(&c).unwrap();
        assert!(matches!(
            verifier(&clock).verify(&token),
            Err(TokenError::NotYetValid { .. })
        ));
        clock.advance(100);
        assert!(verifier(&clock).verify(&token).is_ok());
    }

    #[test]
    fn wrong_issuer_and_audience() {
        let clock = Clock::new();
        let mut c = claims(&clock);
        c.iss = "https://sso.stage.redhat.com/auth/realms/rhcc".into();
        assert_eq!(
            verifier(&clock).verify(&key().sign(&c).unwrap()),
            Err(TokenError::WrongIssuer {
                expected: ISS.into(),
                found: c.iss.clone()
            })
        );
        let mut c = claims(&clock);
        c.aud = "registry.redhat.io".into();
        let err = verifier(&clock)
            .verify(&key().sign(&c).unwrap())
            .unwrap_err();
        assert_eq!(
            err,
            TokenError::WrongAudience {
                expected: AUD.into(),
                found: "registry.redhat.io".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "token for audience \"registry.redhat.io\", expected \"docker-registry\""
        );
    }

    #[test]
    fn garbage_is_malformed_and_messages_never_echo_the_token() {
        let clock = Clock::new();
        let secretish = "c2VjcmV0LXNlY3JldA";
        for token in [
            String::new(),
            "garbage".to_string(),
            format!("{secretish}.{secretish}"),
            format!("{secretish}!.{secretish}.{secretish}"),
            format!(
                "{}.{secretish}.{secretish}",
                b64json(&json!(["not", "object"]))
            ),
            format!("{secretish}.{secretish}.{secretish}.{secretish}"),
        ] {
            let err = verifier(&clock).verify(&token).unwrap_err();
            assert!(matches!(err, TokenError::Malformed(_)), "{err:?}");
            assert!(!err.to_string().contains(secretish), "{err}");
        }
        let token = key().sign(&claims(&clock)).unwrap();
        let (head, _) = token.rsplit_once('.').unwrap();
        let err = verifier(&clock)
            .verify(&format!("{head}.not*base64"))
            .unwrap_err();
        assert!(matches!(err, TokenError::Malformed(_)), "{err:?}");
    }

    #[test]
    fn unverified_readers() {
        let clock = Clock::new();
        let token = other_key().sign(&claims(&clock)).unwrap();
        assert_eq!(decode_unverified(&token).unwrap(), claims(&clock));
        let header = decode_header_unverified(&token).unwrap();
        assert_eq!(header["kid"], other_key().key_id());
        assert_eq!(header["jwk"]["kid"], other_key().key_id());
        assert!(decode_unverified("a.b").is_err());
        // Missing claims read as defaults.
        let sparse = format!("e30.{}.c2ln", b64json(&json!({"sub": "x"})));
        let c = decode_unverified(&sparse).unwrap();
        assert_eq!((c.sub.as_str(), c.exp, c.access.len()), ("x", 0, 0));
    }
}
