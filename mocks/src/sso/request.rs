//! What a docker-v2 token request carries, and the record the SSO keeps of it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use wiremock::Request;

use crate::ResourceActions;

/// One token request as the endpoint understood it, and how it was answered.
/// Passwords are never recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// HTTP method.
    pub method: String,
    /// The `service` parameter.
    pub service: Option<String>,
    /// The `client_id` parameter.
    pub client_id: Option<String>,
    /// The `account` parameter, URL-decoded (`account=1234567%7Cci-puller` reads
    /// `1234567|ci-puller`). Like Keycloak, the endpoint does not use it: the Basic
    /// username decides.
    pub account: Option<String>,
    /// Every `scope` parameter, in request order (one parameter may hold several,
    /// space-separated).
    pub scopes: Vec<String>,
    /// What the `Authorization` header held.
    pub credentials: Credentials,
    /// The answer.
    pub outcome: TokenOutcome,
}

/// The credentials of a token request (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header, or one of another scheme than Basic.
    None,
    /// A Basic header that does not decode to `username:password`.
    Undecodable,
    /// Basic credentials for this username.
    Basic {
        /// The username (may contain `|`).
        username: String,
    },
}

impl Credentials {
    /// The Basic username, if any.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Basic { username } => Some(username),
            _ => None,
        }
    }
}

/// How the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOutcome {
    /// 200 with a token.
    Issued {
        /// The token's `jti`.
        jti: String,
        /// What the token grants.
        access: Vec<ResourceActions>,
    },
    /// 401: no credentials.
    NoCredentials,
    /// 401: wrong, unknown, deleted or regenerated credentials.
    InvalidCredentials,
    /// 400: a missing or unknown parameter, or a malformed scope.
    BadRequest {
        /// The OAuth error code (`invalid_request`, `invalid_client`, `invalid_scope`).
        error: String,
    },
    /// 405: not a GET.
    MethodNotAllowed,
    /// 500: the token could not be signed.
    ServerError,
}

impl TokenOutcome {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Self::Issued { .. } => 200,
            Self::NoCredentials | Self::InvalidCredentials => 401,
            Self::BadRequest { .. } => 400,
            Self::MethodNotAllowed => 405,
            Self::ServerError => 500,
        }
    }
}

/// The parsed query and credentials of a request.
pub(crate) struct Parsed {
    pub service: Option<String>,
    pub client_id: Option<String>,
    pub account: Option<String>,
    /// Raw scope strings, split on spaces.
    pub scopes: Vec<String>,
    pub credentials: Credentials,
    /// The password of Basic credentials; never stored.
    pub password: Option<String>,
}

impl Parsed {
    pub fn from_request(request: &Request) -> Self {
        let mut parsed = Self {
            service: None,
            client_id: None,
            account: None,
            scopes: Vec::new(),
            credentials: Credentials::None,
            password: None,
        };
        // query_pairs() percent-decodes (and reads '+' as a space, as Java does).
        for (key, value) in request.url.query_pairs() {
            match key.as_ref() {
                // Keycloak reads the first of repeated parameters.
                "service" if parsed.service.is_none() => parsed.service = Some(value.into()),
                "client_id" if parsed.client_id.is_none() => parsed.client_id = Some(value.into()),
                "account" if parsed.account.is_none() => parsed.account = Some(value.into()),
                "scope" => parsed.scopes.extend(
                    value
                        .split(' ')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                _ => {}
            }
        }
        match basic_credentials(request) {
            BasicHeader::Absent => {}
            BasicHeader::Undecodable => parsed.credentials = Credentials::Undecodable,
            BasicHeader::Present(username, password) => {
                parsed.credentials = Credentials::Basic { username };
                parsed.password = Some(password);
            }
        }
        parsed
    }

    pub fn record(&self, method: &str, outcome: TokenOutcome) -> TokenRequest {
        TokenRequest {
            method: method.to_string(),
            service: self.service.clone(),
            client_id: self.client_id.clone(),
            account: self.account.clone(),
            scopes: self.scopes.clone(),
            credentials: self.credentials.clone(),
            outcome,
        }
    }
}

enum BasicHeader {
    Absent,
    Undecodable,
    Present(String, String),
}

/// HTTP Basic credentials: base64 of `username:password`, split at the first `:` (the
/// username may contain `|`, the password `:`).
fn basic_credentials(request: &Request) -> BasicHeader {
    let Some(value) = request.headers.get("authorization") else {
        return BasicHeader::Absent;
    };
    let value = String::from_utf8_lossy(value.as_bytes());
    let (scheme, encoded) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return BasicHeader::Absent;
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((user, pass)) => BasicHeader::Present(user.to_string(), pass.to_string()),
        None => BasicHeader::Undecodable,
    }
}

/// Parses the scope strings; the first malformed one is the error.
pub(crate) fn parse_scopes(scopes: &[String]) -> Result<Vec<ResourceActions>, String> {
    scopes
        .iter()
        .map(|s| s.parse::<ResourceActions>().map_err(|_| s.clone()))
        .collect()
}
