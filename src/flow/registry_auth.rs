//! The registry authentication handshake of containers/image: ping `/v2/`, read the
//! challenge, fetch a token from its realm for the needed scope.

use regharness_mocks::ResourceActions;

use crate::client::challenge::Challenge;
use crate::client::http::{Auth, HttpResponse, HttpSession};
use crate::diagnosis::{Diagnosis, DiagnosisClass};

use super::FlowFailure;

/// Credentials from an auth file or a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// How a registry wants to be talked to, from its `/v2/` answer.
#[derive(Debug, Clone)]
pub enum PingResult {
    /// `/v2/` answered 200 without credentials.
    Open,
    /// A Bearer challenge.
    Bearer(Challenge),
    /// A Basic challenge.
    Basic,
}

/// `GET https://HOST/v2/` without credentials.
pub async fn ping(http: &mut HttpSession, host: &str) -> Result<PingResult, FlowFailure> {
    ping_scheme(http, "https", host).await
}

/// Pings like containers/image's `detectProperties`: HTTPS first; for an insecure
/// registry (registries.conf `insecure = true`), plain HTTP when HTTPS fails. Returns
/// the scheme that answered.
pub async fn ping_endpoint(
    http: &mut HttpSession,
    host: &str,
    insecure: bool,
) -> Result<(&'static str, PingResult), FlowFailure> {
    match ping_scheme(http, "https", host).await {
        Ok(found) => Ok(("https", found)),
        Err(https_failure) if insecure && https_failure.status.is_none() => {
            match ping_scheme(http, "http", host).await {
                Ok(found) => Ok(("http", found)),
                Err(_) => Err(https_failure),
            }
        }
        Err(failure) => Err(failure),
    }
}

async fn ping_scheme(
    http: &mut HttpSession,
    scheme: &str,
    host: &str,
) -> Result<PingResult, FlowFailure> {
    let response = http
        .get(&format!("{scheme}://{host}/v2/"), &Auth::None, &[])
        .await?;
    match response.status {
        200..=299 => Ok(PingResult::Open),
        401 => match response
            .header("www-authenticate")
            .and_then(Challenge::parse)
        {
            Some(c) if c.is_bearer() => Ok(PingResult::Bearer(c)),
            Some(_) => Ok(PingResult::Basic),
            None => Err(unexpected(
                &response,
                "the registry answered 401 without a WWW-Authenticate challenge",
            )),
        },
        status => Err(FlowFailure {
            status: Some(status),
            body: response.json().map(Box::new),
            ..FlowFailure::new(
                DiagnosisClass::Network,
                format!("pinging the registry gave HTTP {status}"),
                format!("pinging container registry {host}: StatusCode: {status}"),
            )
        }),
    }
}

/// Fetches a token from the challenge's realm, like containers/image: `GET
/// realm?account=USER&scope=SCOPE&service=SERVICE` with HTTP Basic when there are
/// credentials, anonymously otherwise.
pub async fn fetch_token(
    http: &mut HttpSession,
    challenge: &Challenge,
    scope: Option<&str>,
    credentials: Option<&Credentials>,
) -> Result<String, FlowFailure> {
    let realm = challenge.param("realm").unwrap_or_default();
    let mut url = url::Url::parse(realm).map_err(|e| {
        FlowFailure::new(
            DiagnosisClass::UnexpectedResponse,
            format!("the challenge's realm {realm:?} is not a URL: {e}"),
            format!("invalid token realm {realm:?}"),
        )
    })?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(c) = credentials {
            q.append_pair("account", &c.username);
        }
        if let Some(s) = scope {
            q.append_pair("scope", s);
        }
        if let Some(service) = challenge.param("service").filter(|s| !s.is_empty()) {
            q.append_pair("service", service);
        }
    }
    let auth = match credentials {
        Some(c) => Auth::Basic {
            username: c.username.clone(),
            password: c.password.clone(),
        },
        None => Auth::None,
    };
    let response = http.get(url.as_str(), &auth, &[]).await?;
    if response.status == 200 {
        let token = response
            .json()
            .and_then(|b| {
                b.get("token")
                    .or_else(|| b.get("access_token"))
                    .and_then(|t| t.as_str())
                    .map(str::to_string)
            })
            .filter(|t| !t.is_empty());
        return token.ok_or_else(|| {
            unexpected(&response, "the token endpoint answered 200 without a token")
        });
    }
    let diagnosis = Diagnosis::token_endpoint(response.status, credentials.is_some());
    let text = response
        .registry_error()
        .map(|(code, msg)| format!("{}: {msg}", code.to_ascii_lowercase()))
        .unwrap_or_else(|| format!("StatusCode: {}", response.status));
    // containers/image words every 401 of a token endpoint this way, with or without
    // credentials (FIDELITY.md); the diagnosis tells the two apart.
    let message = if response.status == 401 {
        format!("unable to retrieve auth token: invalid username/password: {text}")
    } else {
        format!("unable to retrieve auth token: {text}")
    };
    Err(FlowFailure {
        diagnosis,
        status: Some(response.status),
        body: response.json().map(Box::new),
        message,
    })
}

/// The repositories a token grants `pull` on (decoded without verification).
pub fn grants_pull(token: &str, repository: &str) -> bool {
    regharness_mocks::token::decode_unverified(token)
        .map(|claims| {
            claims
                .access
                .iter()
                .any(|a: &ResourceActions| a.grants("repository", repository, "pull"))
        })
        .unwrap_or(false)
}

fn unexpected(response: &HttpResponse, detail: &str) -> FlowFailure {
    FlowFailure {
        status: Some(response.status),
        body: response.json().map(Box::new),
        ..FlowFailure::new(DiagnosisClass::UnexpectedResponse, detail, detail)
    }
}
