//! HTTP exchanges of the builtin client, each recorded in the step's transcript.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION};

use crate::transcript::{Exchange, Transcript, SALIENT_HEADERS};

/// What a request authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No Authorization header.
    None,
    /// HTTP Basic.
    Basic {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// A bearer token.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scheme().unwrap_or("None"))
    }
}

impl Auth {
    fn scheme(&self) -> Option<&'static str> {
        match self {
            Auth::None => None,
            Auth::Basic { .. } => Some("Basic"),
            Auth::Bearer(_) => Some("Bearer"),
        }
    }

    fn header_value(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
        }
    }
}

/// A buffered response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `errors[0].code` and `.message` of a registry error body.
    pub fn registry_error(&self) -> Option<(String, String)> {
        let json = self.json()?;
        let first = json.get("errors")?.get(0)?;
        Some((
            first.get("code")?.as_str()?.to_string(),
            first.get("message")?.as_str().unwrap_or("").to_string(),
        ))
    }
}

/// Why no response arrived.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {url}: {message}")]
pub struct NetworkError {
    /// Request method.
    pub method: String,
    /// Virtual URL.
    pub url: String,
    /// What failed (the error chain, outermost first).
    pub message: String,
    /// The client gave up waiting.
    pub timed_out: bool,
}

/// An HTTP session of one step: the client and the step's transcript.
#[derive(Debug)]
pub struct HttpSession {
    client: reqwest::Client,
    transcript: Transcript,
}

impl HttpSession {
    /// A session with `client` (built by the world).
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            transcript: Transcript::default(),
        }
    }

    /// The exchanges so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Takes the transcript out of the session.
    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }

    /// GET `url`.
    pub async fn get(
        &mut self,
        url: &str,
        auth: &Auth,
        accept: &[&str],
    ) -> Result<HttpResponse, NetworkError> {
        self.send(reqwest::Method::GET, url, auth, accept).await
    }

    /// Sends a request, buffers the answer, records the exchange.
    pub async fn send(
        &mut self,
        method: reqwest::Method,
        url: &str,
        auth: &Auth,
        accept: &[&str],
    ) -> Result<HttpResponse, NetworkError> {
        let mut request = self.client.request(method.clone(), url);
        if let Some(value) = auth.header_value() {
            request = request.header(AUTHORIZATION, value);
        }
        if !accept.is_empty() {
            request = request.header(ACCEPT, accept.join(", "));
        }
        let mut exchange = Exchange {
            request: format!("{method} {url}"),
            authorization: auth.scheme().map(|s| format!("{s} [redacted]")),
            status: None,
            headers: BTreeMap::new(),
            body: None,
            error: None,
        };
        let result = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(HttpResponse {
                status,
                headers,
                body,
            })
        }
        .await;
        match result {
            Ok(response) => {
                exchange.status = Some(response.status);
                for name in SALIENT_HEADERS {
                    if let Some(v) = response.header(name) {
                        exchange.headers.insert(name.to_string(), v.to_string());
                    }
                }
                exchange.body = summarize_body(&response);
                self.transcript.push(exchange);
                Ok(response)
            }
            Err(e) => {
                let error = NetworkError {
                    method: method.to_string(),
                    url: url.to_string(),
                    message: error_chain(&e),
                    timed_out: e.is_timeout(),
                };
                exchange.error = Some(error.message.clone());
                self.transcript.push(exchange);
                Err(error)
            }
        }
    }
}

/// JSON for plain JSON answers and errors; a size and digest line for content.
fn summarize_body(response: &HttpResponse) -> Option<serde_json::Value> {
    if response.body.is_empty() {
        return None;
    }
    let content_type = response.header("content-type").unwrap_or("");
    let plain_json = content_type.starts_with("application/json");
    if plain_json || response.status >= 400 {
        if let Some(json) = response.json() {
            return Some(json);
        }
        if response.body.len() <= 512 {
            return Some(serde_json::Value::String(
                String::from_utf8_lossy(&response.body).into_owned(),
            ));
        }
    }
    use sha2::{Digest, Sha256};
    Some(serde_json::Value::String(format!(
        "<{} bytes, sha256:{}>",
        response.body.len(),
        hex::encode(Sha256::digest(&response.body))
    )))
}

/// The error and its causes, outermost first, without duplicates.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
