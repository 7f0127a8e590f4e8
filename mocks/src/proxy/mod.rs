//! A mock corporate HTTP forward proxy that answers like squid.
//!
//! [`MockProxy`] listens on 127.0.0.1 (random port) and accepts what clients send a
//! proxy: `CONNECT host:port` tunnels (what curl, skopeo, podman and reqwest do for
//! `https://`) and plain `http://` requests in absolute form (`GET http://host/path`,
//! insecure registries). Every upstream connection goes through an [`Upstream`], which
//! is where the world resolves its virtual host names and applies its firewall.
//!
//! Its answers are squid's, byte for byte where it matters (checked against Debian's
//! squid 5.7 with `curl -v -x`): `HTTP/1.1 200 Connection established`, `403 Forbidden`
//! with `X-Squid-Error: ERR_ACCESS_DENIED 0` and squid's HTML page, `407 Proxy
//! Authentication Required` with `Proxy-Authenticate: Basic realm="Squid
//! proxy-caching web server"`, `503 Service Unavailable` with `ERR_CONNECT_FAIL 111`
//! (refused) or `ERR_CONNECT_FAIL 110` (timed out), `503` `ERR_DNS_FAIL 0` for a name that
//! does not resolve. The pages carry squid's text without its stylesheet.
//!
//! The order of checks is the usual squid configuration's: proxy authentication first
//! (`http_access deny !authenticated`), then the allow-list (`http_access allow
//! allowed`, `http_access deny all`), then any injected [`TunnelFailure`], then the
//! upstream connection.
//!
//! Known differences from squid: an error page names the origin's host where squid
//! names its address (`Connection to registry.redhat.io failed.`); a plain-HTTP response
//! is relayed with `Connection: close` (squid keeps the client connection); the pages
//! have no stylesheet; intercepted (bumped) connections are logged as their CONNECT only.

mod conn;
mod head;
mod intercept;
mod io;
mod page;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::tls::{CertificateAuthority, TlsError};

use intercept::Interceptor;
use io::Counters;

/// Where the proxy's upstream connections go: the world resolves virtual host names
/// (and applies its firewall) here.
pub trait Upstream: Send + Sync + 'static {
    /// Opens a TCP connection to `host:port` as the proxy host would. The error's kind
    /// decides the proxy's answer: `NotFound` is a DNS failure, `ConnectionRefused` a
    /// refused connection, `TimedOut` a connection that timed out; anything else is a
    /// failed connection with the error's OS errno (if any).
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<TcpStream>> + Send>>;
}

/// An [`Upstream`] with a fixed table: each host name (whatever the port) connects to
/// one address; other names fail like a name that does not resolve.
///
/// ```
/// use regharness_mocks::StaticUpstream;
/// let upstream = StaticUpstream::new().host("registry.redhat.io", "127.0.0.1:8443".parse().unwrap());
/// assert_eq!(upstream.get("Registry.RedHat.io"), Some("127.0.0.1:8443".parse().unwrap()));
/// assert_eq!(upstream.get("quay.io"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticUpstream {
    hosts: HashMap<String, SocketAddr>,
}

impl StaticUpstream {
    /// An empty table (every name fails to resolve).
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `name` (case-insensitive) to `addr`.
    pub fn host(mut self, name: &str, addr: SocketAddr) -> Self {
        self.hosts.insert(name.to_ascii_lowercase(), addr);
        self
    }

    /// The address of `name`, if mapped.
    pub fn get(&self, name: &str) -> Option<SocketAddr> {
        self.hosts.get(&name.to_ascii_lowercase()).copied()
    }
}

impl Upstream for StaticUpstream {
    fn connect(
        &self,
        host: &str,
        _port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<TcpStream>> + Send>> {
        let found = self.get(host);
        let host = host.to_string();
        Box::pin(async move {
            match found {
                Some(addr) => TcpStream::connect(addr).await,
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no such host {host:?}"),
                )),
            }
        })
    }
}

/// A failure injected in place of forwarding, for a host or for every host (`"*"`).
/// It applies after authentication and the allow-list, to CONNECT and plain-HTTP
/// requests alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelFailure {
    /// Answer with this status and squid's page for it: 403 `ERR_ACCESS_DENIED`, 407
    /// `ERR_CACHE_ACCESS_DENIED` (with `Proxy-Authenticate`), 502 `ERR_READ_ERROR`, 504
    /// `ERR_READ_TIMEOUT`, any other `ERR_CANNOT_FORWARD`.
    Status(u16),
    /// Read the request, then close the connection without answering.
    CloseAfterAccept,
    /// Read the request and never answer (until the client gives up).
    Stall,
}

/// One thing the proxy saw, for transcripts. It never holds credentials: a
/// `Proxy-Authorization` is recorded as its scheme and `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProxyEvent {
    /// The client's address (`127.0.0.1`).
    pub client: String,
    /// The request line as received: `CONNECT registry.redhat.io:443 HTTP/1.1` or
    /// `GET http://host/path HTTP/1.1`.
    pub request: String,
    /// `Basic [redacted]` when the request carried a `Proxy-Authorization`.
    pub proxy_authorization: Option<String>,
    /// The status the client got; 0 when it got no answer ([`TunnelFailure::Stall`],
    /// [`TunnelFailure::CloseAfterAccept`]). For a plain-HTTP request, the origin's.
    pub status: u16,
    /// The reason phrase (`Connection established`, `Forbidden`, ...), or what
    /// happened instead of an answer.
    pub reason: String,
    /// Bytes sent upstream for the client: the tunnel's payload, or the forwarded
    /// request. Counts live while a tunnel is open.
    pub bytes_up: u64,
    /// Bytes received from upstream for the client: the tunnel's payload, or the
    /// origin's response as sent.
    pub bytes_down: u64,
}

/// Errors starting a [`MockProxy`].
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listener could not be bound.
    #[error("cannot bind the proxy on loopback: {0}")]
    Bind(#[source] std::io::Error),
    /// The interception's upstream roots hold no usable certificate.
    #[error("TLS interception: no usable CA certificate in the upstream roots: {0}")]
    UpstreamRoots(String),
    /// A TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The mock proxy; see [`MockProxy::builder`].
#[derive(Debug)]
pub struct MockProxy;

impl MockProxy {
    /// A proxy whose upstream connections go through `upstream`, allowing every host,
    /// without authentication, failure or interception until told otherwise.
    pub fn builder(upstream: Arc<dyn Upstream>) -> MockProxyBuilder {
        MockProxyBuilder {
            upstream,
            allow: Vec::new(),
            auth: None,
            failures: HashMap::new(),
            intercept: None,
            timeout: Duration::from_secs(10),
            hostname: "proxy.example.com".to_string(),
            squid5_dns_errors: false,
        }
    }
}

/// Configures and starts a [`MockProxy`].
///
/// ```
/// use std::sync::Arc;
/// use regharness_mocks::{MockProxy, StaticUpstream};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let proxy = MockProxy::builder(Arc::new(StaticUpstream::new()))
///     .allow("registry.redhat.io")
///     .allow(".redhat.com")
///     .start()
///     .await
///     .unwrap();
///
/// let mut client = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
/// client.write_all(b"CONNECT quay.io:443 HTTP/1.1\r\nHost: quay.io:443\r\n\r\n").await.unwrap();
/// let mut answer = vec![0; 4096];
/// let n = client.read(&mut answer).await.unwrap();
/// let answer = String::from_utf8_lossy(&answer[..n]);
/// assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"));
/// assert!(answer.contains("\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n"));
///
/// let events = proxy.events();
/// assert_eq!(events[0].request, "CONNECT quay.io:443 HTTP/1.1");
/// assert_eq!((events[0].status, events[0].reason.as_str()), (403, "Forbidden"));
/// # });
/// ```
pub struct MockProxyBuilder {
    upstream: Arc<dyn Upstream>,
    allow: Vec<String>,
    auth: Option<(String, String)>,
    failures: HashMap<String, TunnelFailure>,
    intercept: Option<(CertificateAuthority, String)>,
    timeout: Duration,
    hostname: String,
    squid5_dns_errors: bool,
}

impl fmt::Debug for MockProxyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockProxyBuilder")
            .field("allow", &self.allow)
            .field("auth", &self.auth.as_ref().map(|(user, _)| user))
            .field("failures", &self.failures)
            .field("intercept", &self.intercept.is_some())
            .field("timeout", &self.timeout)
            .field("hostname", &self.hostname)
            .finish_non_exhaustive()
    }
}

impl MockProxyBuilder {
    /// Allows a destination, with squid's `dstdomain` semantics: `registry.redhat.io`
    /// is that host only, `.redhat.com` is `redhat.com` and all its subdomains
    /// (case-insensitive). Without any `allow`, every destination is allowed; with
    /// some, every other one is answered 403 (`ERR_ACCESS_DENIED`).
    pub fn allow(mut self, domain: &str) -> Self {
        self.allow
            .push(domain.trim().trim_end_matches('.').to_ascii_lowercase());
        self
    }

    /// Requires HTTP Basic proxy authentication with these credentials: a request
    /// without `Proxy-Authorization`, or with other credentials, is answered 407
    /// with `Proxy-Authenticate: Basic realm="Squid proxy-caching web server"`.
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.auth = Some((username.to_string(), password.to_string()));
        self
    }

    /// Injects `failure` for requests to `host` (`"*"`: every host; an exact host
    /// wins over `"*"`).
    pub fn fail_tunnel(mut self, host: &str, failure: TunnelFailure) -> Self {
        self.failures.insert(host.to_ascii_lowercase(), failure);
        self
    }

    /// Intercepts TLS like squid's ssl-bump: after `200 Connection established`, the
    /// proxy terminates the client's TLS with a certificate for the CONNECT host
    /// issued by `ca` (generated once per host), opens TLS to the origin trusting only
    /// `upstream_roots_pem` (one or more PEM certificates), and relays the plaintext.
    /// A client that does not trust `ca` fails with an unknown issuer; an origin the
    /// roots do not cover gets the client a `503` `ERR_SECURE_CONNECT_FAIL` page
    /// inside the TLS session.
    pub fn intercept(mut self, ca: CertificateAuthority, upstream_roots_pem: &str) -> Self {
        self.intercept = Some((ca, upstream_roots_pem.to_string()));
        self
    }

    /// Bounds each upstream connection attempt (default 10 s). When it runs out the
    /// client gets what squid sends at its `connect_timeout`: `503 Service
    /// Unavailable`, `X-Squid-Error: ERR_CONNECT_FAIL 110`, `(110) Connection timed out`.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// squid's `visible_hostname`, shown in `Via`, `X-Cache` and error pages
    /// (default `proxy.example.com`).
    pub fn visible_hostname(mut self, name: &str) -> Self {
        self.hostname = name.to_string();
        self
    }

    /// Answers names that do not resolve like squid 4.x to 6.2 do (squid bug 5294,
    /// verified with squid 5.7): a CONNECT gets `500 Internal Server Error` with
    /// `ERR_CANNOT_FORWARD 0`, a plain-HTTP request `502 Bad Gateway` with
    /// `ERR_READ_ERROR 0`. By default they get squid's intended (and since the fix,
    /// actual) `503 Service Unavailable` with `ERR_DNS_FAIL 0`.
    pub fn squid5_dns_errors(mut self) -> Self {
        self.squid5_dns_errors = true;
        self
    }

    /// Binds 127.0.0.1 on a random port and starts accepting connections.
    pub async fn start(self) -> Result<RunningProxy, ProxyError> {
        let interceptor = match self.intercept {
            Some((ca, roots)) => Some(Interceptor::new(ca, &roots)?),
            None => None,
        };
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(ProxyError::Bind)?;
        let addr = listener.local_addr().map_err(ProxyError::Bind)?;
        let shared = Arc::new(Shared {
            upstream: self.upstream,
            allow: self.allow,
            auth: self.auth,
            failures: self.failures,
            interceptor,
            timeout: self.timeout,
            hostname: self.hostname,
            port: addr.port(),
            squid5_dns_errors: self.squid5_dns_errors,
            events: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(RunningProxy { addr, shared, task })
    }
}

/// A started [`MockProxy`]. Dropping it stops the listener and closes every
/// connection, tunnels included.
pub struct RunningProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl fmt::Debug for RunningProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningProxy {
    /// The loopback address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy URL for clients (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the proxy saw so far, in order (byte counts of open tunnels are live).
    pub fn events(&self) -> Vec<ProxyEvent> {
        self.shared.snapshot()
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An event and its live byte counters.
#[derive(Debug)]
struct Record {
    event: ProxyEvent,
    counters: Arc<Counters>,
}

/// What every connection of one proxy shares.
struct Shared {
    upstream: Arc<dyn Upstream>,
    allow: Vec<String>,
    auth: Option<(String, String)>,
    failures: HashMap<String, TunnelFailure>,
    interceptor: Option<Interceptor>,
    timeout: Duration,
    hostname: String,
    port: u16,
    squid5_dns_errors: bool,
    events: Mutex<Vec<Record>>,
}

impl Shared {
    /// Whether `host` passes the allow-list (squid `dstdomain`).
    fn allowed(&self, host: &str) -> bool {
        self.allow.is_empty()
            || self.allow.iter().any(|rule| match rule.strip_prefix('.') {
                Some(domain) => {
                    host == domain
                        || host
                            .strip_suffix(domain)
                            .is_some_and(|sub| sub.ends_with('.'))
                }
                None => host == rule,
            })
    }

    /// The failure injected for `host`, if any.
    fn failure(&self, host: &str) -> Option<&TunnelFailure> {
        self.failures.get(host).or_else(|| self.failures.get("*"))
    }

    /// Records an event; its byte counts follow `counters`.
    fn record(&self, event: ProxyEvent, counters: Arc<Counters>) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Record { event, counters });
    }

    fn snapshot(&self) -> Vec<ProxyEvent> {
        let records = self.events.lock().unwrap_or_else(|e| e.into_inner());
        records
            .iter()
            .map(|r| ProxyEvent {
                bytes_up: r.counters.up.load(Ordering::Relaxed),
                bytes_down: r.counters.down.load(Ordering::Relaxed),
                ..r.event.clone()
            })
            .collect()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in the set, so aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                connections.spawn(conn::serve(stream, peer, shared.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(allow: &[&str]) -> Shared {
        let mut b = MockProxy::builder(Arc::new(StaticUpstream::new()));
        for a in allow {
            b = b.allow(a);
        }
        Shared {
            upstream: b.upstream,
            allow: b.allow,
            auth: None,
            failures: HashMap::from([
                ("*".to_string(), TunnelFailure::Stall),
                ("a.example".to_string(), TunnelFailure::Status(502)),
            ]),
            interceptor: None,
            timeout: b.timeout,
            hostname: b.hostname,
            port: 3128,
            squid5_dns_errors: false,
            events: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn dstdomain_semantics() {
        let s = shared(&["registry.redhat.io", ".RedHat.com."]);
        assert!(s.allowed("registry.redhat.io"));
        assert!(!s.allowed("cdn.registry.redhat.io"));
        assert!(s.allowed("redhat.com"));
        assert!(s.allowed("sso.redhat.com"));
        assert!(s.allowed("a.b.redhat.com"));
        assert!(!s.allowed("notredhat.com"));
        assert!(!s.allowed("quay.io"));
        assert!(shared(&[]).allowed("anything.example"));
    }

    #[test]
    fn exact_failure_wins_over_wildcard() {
        let s = shared(&[]);
        assert_eq!(s.failure("a.example"), Some(&TunnelFailure::Status(502)));
        assert_eq!(s.failure("b.example"), Some(&TunnelFailure::Stall));
    }
}
