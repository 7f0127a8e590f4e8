//! HTTP exchanges of the builtin client, each recorded in the step's transcript.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, HOST, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::transport::{ConnectError, Connector, IoKind, TransportConfig};
use crate::transcript::{Exchange, Transcript, SALIENT_HEADERS};

/// The request methods the client sends.
pub use hyper::Method;

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
    /// The connection step that failed, when it was one.
    pub connect: Option<ConnectError>,
    /// The connection was reset while the response was read.
    pub reset: bool,
}

/// The builtin client's HTTP/1.1 client: the [`Connector`] (names, proxy, TLS) plus
/// a bound on every request. Follows no redirect by itself.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, Empty<Bytes>>,
    connector: Connector,
    timeout: Duration,
    proxy_authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client over `transport`; `timeout` bounds the answer of each request after the
    /// connection is made (the connection steps have the transport's own bound), so a
    /// request takes at most `transport.connect_timeout + timeout`.
    pub fn new(transport: TransportConfig, timeout: Duration) -> Result<Self, rustls::Error> {
        let timeout = transport.connect_timeout + timeout;
        let proxy_authorization = transport
            .proxy
            .for_target(false, "", 0)
            .filter(|u| !u.username().is_empty())
            .and_then(|u| {
                let user = percent_encoding::percent_decode_str(u.username()).decode_utf8_lossy();
                let password = percent_encoding::percent_decode_str(u.password().unwrap_or(""))
                    .decode_utf8_lossy();
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                HeaderValue::from_str(&format!("Basic {token}")).ok()
            });
        let connector = Connector::new(transport)?;
        // One connection per request: whether a pooled connection is back in the pool
        // when the next request starts is a race, and the transcript (each new
        // connection's proxy lines) and the firewall's byte counts must not depend on it.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector.clone());
        Ok(Self {
            client,
            connector,
            timeout,
            proxy_authorization,
        })
    }
}

/// An HTTP session of one step: the client and the step's transcript.
#[derive(Debug)]
pub struct HttpSession {
    client: HttpClient,
    transcript: Transcript,
}

impl HttpSession {
    /// A session with `client` (built by the world).
    pub fn new(client: HttpClient) -> Self {
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
        self.send(Method::GET, url, auth, accept).await
    }

    /// Sends a request, buffers the answer, records the exchange.
    pub async fn send(
        &mut self,
        method: Method,
        url: &str,
        auth: &Auth,
        accept: &[&str],
    ) -> Result<HttpResponse, NetworkError> {
        let mut exchange = Exchange {
            request: format!("{method} {url}"),
            authorization: auth.scheme().map(|s| format!("{s} [redacted]")),
            status: None,
            headers: BTreeMap::new(),
            body: None,
            error: None,
            connection: Vec::new(),
        };
        let fail =
            |message: String, timed_out: bool, connect: Option<ConnectError>, reset: bool| {
                NetworkError {
                    method: method.to_string(),
                    url: url.to_string(),
                    message,
                    timed_out,
                    connect,
                    reset,
                }
            };
        let result = match self.request(&method, url, auth, accept) {
            Ok(request) => {
                let client = self.client.client.clone();
                let exchange_future = async move {
                    let response = client.request(request).await?;
                    let (parts, body) = response.into_parts();
                    let body = body.collect().await?.to_bytes();
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(HttpResponse {
                        status: parts.status.as_u16(),
                        headers: parts.headers,
                        body,
                    })
                };
                match tokio::time::timeout(self.client.timeout, exchange_future).await {
                    Ok(Ok(response)) => Ok(response),
                    Ok(Err(e)) => {
                        let connect = find_in_chain::<ConnectError>(e.as_ref()).cloned();
                        let reset = connect
                            .as_ref()
                            .map(|c| {
                                matches!(
                                    c,
                                    ConnectError::Io {
                                        kind: IoKind::Reset,
                                        ..
                                    }
                                )
                            })
                            .unwrap_or(false)
                            || find_in_chain::<std::io::Error>(e.as_ref())
                                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset);
                        let message = match &connect {
                            Some(c) => c.to_string(),
                            None => error_chain(e.as_ref()),
                        };
                        Err(fail(message, false, connect, reset))
                    }
                    Err(_) => Err(fail(
                        format!(
                            "timed out after {:?} (no complete answer)",
                            self.client.timeout
                        ),
                        true,
                        None,
                        false,
                    )),
                }
            }
            Err(message) => Err(fail(message, false, None, false)),
        };
        exchange.connection = self
            .client
            .connector
            .take_events()
            .into_iter()
            .map(|e| e.line)
            .collect();
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
            Err(error) => {
                exchange.error = Some(error.message.clone());
                self.transcript.push(exchange);
                Err(error)
            }
        }
    }

    fn request(
        &self,
        method: &Method,
        url: &str,
        auth: &Auth,
        accept: &[&str],
    ) -> Result<hyper::Request<Empty<Bytes>>, String> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
        let authority = uri
            .authority()
            .ok_or_else(|| format!("URL {url:?} has no host"))?
            .clone();
        let mut builder = hyper::Request::builder()
            .method(method.clone())
            .uri(uri.clone())
            .header(HOST, authority.as_str())
            .header(
                USER_AGENT,
                concat!("regharness/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(value) = auth.header_value() {
            builder = builder.header(AUTHORIZATION, value);
        }
        if !accept.is_empty() {
            builder = builder.header(ACCEPT, accept.join(", "));
        }
        if uri.scheme_str() == Some("http") {
            if let Some(value) = &self.client.proxy_authorization {
                builder = builder.header(hyper::header::PROXY_AUTHORIZATION, value.clone());
            }
        }
        builder
            .body(Empty::new())
            .map_err(|e| format!("invalid request for {url:?}: {e}"))
    }
}

/// The first error of type `T` in `error`'s source chain.
fn find_in_chain<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
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
