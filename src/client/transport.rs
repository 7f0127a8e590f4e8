//! How the builtin client reaches a server, step by step, so that a failure says which
//! step failed: name resolution, TCP connect (to the server or to the proxy), the proxy's
//! `CONNECT` answer, and the TLS handshake (with the issuer of a certificate nobody
//! trusts). Real clients fail at the same steps; this is what lets the harness tell a
//! firewall from a proxy from an intercepting proxy.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::proxy_env::ProxySettings;

/// Resolves a host name to the address to connect to.
pub trait NameService: Send + Sync + 'static {
    /// The address of `host:port`, or why there is none.
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = Result<SocketAddr, ConnectError>> + Send>>;
}

/// The system resolver (for real endpoints).
#[derive(Debug, Clone, Default)]
pub struct SystemNameService;

impl NameService for SystemNameService {
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = Result<SocketAddr, ConnectError>> + Send>> {
        let host = host.to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), port)).await;
            match found.map(|mut addrs| addrs.next()) {
                Ok(Some(addr)) => Ok(addr),
                Ok(None) | Err(_) => Err(ConnectError::Dns { host }),
            }
        })
    }
}

/// Why a connection could not be made. Messages are worded like curl's and Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The name does not resolve.
    #[error("dial tcp: lookup {host}: no such host")]
    Dns {
        /// The name.
        host: String,
    },
    /// Nothing listens there, or a firewall rejects the connection.
    #[error("dial tcp {target}: connect: connection refused")]
    Refused {
        /// `host:port` (and the proxy's, when `via_proxy`).
        target: String,
        /// The refused connection was the one to the proxy.
        via_proxy: bool,
    },
    /// No answer to the connection attempt before the timeout (a blackhole).
    #[error("dial tcp {target}: i/o timeout (no answer within {timeout:?})")]
    ConnectTimeout {
        /// `host:port`.
        target: String,
        /// The connection was the one to the proxy.
        via_proxy: bool,
        /// The bound that fired.
        timeout: Duration,
    },
    /// The proxy answered `CONNECT` with something else than 200.
    #[error("proxyconnect tcp: CONNECT {target}: the proxy answered {status} {reason}")]
    ProxyStatus {
        /// `host:port` asked for.
        target: String,
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
        /// squid's `X-Squid-Error` header, if any.
        proxy_error: Option<String>,
    },
    /// The proxy closed the connection, or did not answer `CONNECT` in time.
    #[error("proxyconnect tcp: CONNECT {target}: {what}")]
    ProxyNoAnswer {
        /// `host:port` asked for.
        target: String,
        /// `EOF` or the timeout.
        what: String,
    },
    /// The TLS handshake failed.
    #[error("tls: {message}")]
    Tls {
        /// `host:port`.
        target: String,
        /// What kind of failure.
        kind: TlsFailure,
        /// rustls's message.
        message: String,
    },
    /// Any other I/O error.
    #[error("{target}: {message}")]
    Io {
        /// `host:port`.
        target: String,
        /// The error kind.
        kind: IoKind,
        /// The message.
        message: String,
    },
}

/// A TLS handshake failure, by cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The certificate chain ends at an issuer the client does not trust; the issuer
    /// seen is named (an intercepting proxy's CA is recognisable by it).
    UnknownAuthority {
        /// The issuer's distinguished name, e.g. `CN=Corp Proxy CA,O=Example`.
        issuer: String,
    },
    /// The server answered in plain HTTP (or anything not TLS).
    NotTls,
    /// Any other handshake failure (name mismatch, expired, protocol).
    Other,
}

/// I/O error kinds that matter for the diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoKind {
    /// `ECONNRESET`.
    Reset,
    /// Anything else.
    Other,
}

impl ConnectError {
    fn io(target: &str, e: &io::Error) -> Self {
        ConnectError::Io {
            target: target.to_string(),
            kind: if e.kind() == io::ErrorKind::ConnectionReset {
                IoKind::Reset
            } else {
                IoKind::Other
            },
            message: e.to_string(),
        }
    }
}

/// One step of a connection, for the transcript (like the `*` lines of `curl -v`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectEvent {
    /// E.g. `Connected to proxy 127.0.0.1:3128`, `CONNECT registry.redhat.io:443 HTTP/1.1`,
    /// `HTTP/1.1 200 Connection established`.
    pub line: String,
}

/// What a [`Connector`] needs.
#[derive(Clone)]
pub struct TransportConfig {
    /// Resolves names.
    pub names: Arc<dyn NameService>,
    /// Which proxy, if any, for each URL.
    pub proxy: ProxySettings,
    /// The trust roots.
    pub roots: Arc<rustls::RootCertStore>,
    /// Accept any certificate (an insecure registry).
    pub insecure: bool,
    /// Per `host:port` TLS settings (a node's `certs.d` CAs, its insecure registries).
    pub host_tls: std::collections::BTreeMap<String, HostTls>,
    /// Bound of every connect, proxy answer and handshake.
    pub connect_timeout: Duration,
}

/// TLS settings for one `host:port`, on top of the transport's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTls {
    /// More trusted CAs (PEM), as `/etc/docker/certs.d/HOST:PORT/ca.crt` adds them.
    pub extra_roots_pem: Vec<String>,
    /// Accept any certificate from this host (an insecure registry).
    pub insecure: bool,
}

/// One TLS client configuration and the verifier that remembers failed issuers.
#[derive(Clone)]
struct TlsSetup {
    config: Arc<rustls::ClientConfig>,
    verifier: Arc<RecordingVerifier>,
}

impl TlsSetup {
    fn new(roots: Arc<rustls::RootCertStore>, insecure: bool) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let verifier = Arc::new(RecordingVerifier {
            inner,
            insecure,
            last_issuer: Mutex::new(None),
        });
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            verifier,
        })
    }
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("proxy", &self.proxy)
            .field("insecure", &self.insecure)
            .field("host_tls", &self.host_tls)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// The hyper connector of the builtin client.
#[derive(Clone)]
pub struct Connector {
    config: Arc<TransportConfig>,
    tls: TlsSetup,
    host_tls: Arc<std::collections::HashMap<String, TlsSetup>>,
    events: Arc<Mutex<Vec<ConnectEvent>>>,
}

impl Connector {
    /// A connector for `config`.
    pub fn new(config: TransportConfig) -> Result<Self, rustls::Error> {
        use rustls::pki_types::pem::PemObject;
        let tls = TlsSetup::new(config.roots.clone(), config.insecure)?;
        let mut host_tls = std::collections::HashMap::new();
        for (target, settings) in &config.host_tls {
            let mut roots = (*config.roots).clone();
            for pem in &settings.extra_roots_pem {
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()).flatten() {
                    // A PEM block that is no usable CA adds nothing; `check
                    // image-config` reports it (ca-not-pem) and the handshake fails.
                    let _ = roots.add(cert);
                }
            }
            host_tls.insert(
                target.to_ascii_lowercase(),
                TlsSetup::new(Arc::new(roots), config.insecure || settings.insecure)?,
            );
        }
        Ok(Self {
            config: Arc::new(config),
            tls,
            host_tls: Arc::new(host_tls),
            events: Arc::default(),
        })
    }

    /// Takes the connection events recorded so far.
    pub fn take_events(&self) -> Vec<ConnectEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn event(&self, line: String) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ConnectEvent { line });
    }

    async fn connect(self, uri: Uri) -> Result<Stream, ConnectError> {
        let https = uri.scheme_str() == Some("https");
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let target = format!("{host}:{port}");
        let timeout = self.config.connect_timeout;
        let proxy = self.config.proxy.for_target(https, &host, port);
        let (tcp, proxied_plain) = match &proxy {
            Some(proxy) => {
                let proxy_port = proxy.port_or_known_default().unwrap_or(3128);
                let proxy_host = proxy
                    .host_str()
                    .unwrap_or("")
                    .trim_matches(['[', ']'])
                    .to_string();
                let proxy_target = format!("{proxy_host}:{proxy_port}");
                let addr = self.resolve(&proxy_host, proxy_port).await?;
                let tcp = self.tcp(addr, &proxy_target, true).await?;
                self.event(format!("Connected to proxy {proxy_target}"));
                if https {
                    let tcp = self.tunnel(tcp, &target, proxy).await?;
                    (tcp, false)
                } else {
                    (tcp, true)
                }
            }
            None => {
                let addr = self.resolve(&host, port).await?;
                let tcp = self.tcp(addr, &target, false).await?;
                (tcp, false)
            }
        };
        if !https {
            return Ok(Stream {
                io: TokioIo::new(Io::Plain(tcp)),
                proxied_plain,
            });
        }
        let name = ServerName::try_from(host.clone()).map_err(|e| ConnectError::Tls {
            target: target.clone(),
            kind: TlsFailure::Other,
            message: e.to_string(),
        })?;
        let setup = self
            .host_tls
            .get(&target.to_ascii_lowercase())
            .unwrap_or(&self.tls)
            .clone();
        let tls = tokio_rustls::TlsConnector::from(setup.config.clone());
        let handshake = tokio::time::timeout(timeout, tls.connect(name, tcp)).await;
        match handshake {
            Ok(Ok(stream)) => Ok(Stream {
                io: TokioIo::new(Io::Tls(Box::new(stream))),
                proxied_plain: false,
            }),
            Ok(Err(e)) => Err(self.tls_error(&target, &e, &setup.verifier)),
            Err(_) => Err(ConnectError::ConnectTimeout {
                target,
                via_proxy: proxy.is_some(),
                timeout,
            }),
        }
    }

    async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, ConnectError> {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        self.config.names.resolve(host, port).await
    }

    async fn tcp(
        &self,
        addr: SocketAddr,
        target: &str,
        via_proxy: bool,
    ) -> Result<TcpStream, ConnectError> {
        let timeout = self.config.connect_timeout;
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                Ok(tcp)
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Err(ConnectError::Refused {
                    target: target.to_string(),
                    via_proxy,
                })
            }
            Ok(Err(e)) => Err(ConnectError::io(target, &e)),
            Err(_) => Err(ConnectError::ConnectTimeout {
                target: target.to_string(),
                via_proxy,
                timeout,
            }),
        }
    }

    /// `CONNECT target HTTP/1.1` and the proxy's answer.
    async fn tunnel(
        &self,
        mut tcp: TcpStream,
        target: &str,
        proxy: &url::Url,
    ) -> Result<TcpStream, ConnectError> {
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        let mut shown = format!("CONNECT {target} HTTP/1.1");
        if !proxy.username().is_empty() {
            let user = percent_decode(proxy.username());
            let password = percent_decode(proxy.password().unwrap_or(""));
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
            shown.push_str(" (Proxy-Authorization: Basic [redacted])");
        }
        request.push_str("\r\n");
        self.event(shown);
        let timeout = self.config.connect_timeout;
        let answer = tokio::time::timeout(timeout, async {
            tcp.write_all(request.as_bytes()).await?;
            read_head(&mut tcp).await
        })
        .await;
        let head = match answer {
            Err(_) => {
                return Err(ConnectError::ProxyNoAnswer {
                    target: target.to_string(),
                    what: format!("no answer from the proxy within {timeout:?}"),
                })
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ConnectError::ProxyNoAnswer {
                    target: target.to_string(),
                    what: "the proxy closed the connection without answering (EOF)".into(),
                })
            }
            Ok(Err(e)) => return Err(ConnectError::io(target, &e)),
            Ok(Ok(head)) => head,
        };
        let status_line = head.lines().next().unwrap_or("").to_string();
        self.event(status_line.clone());
        let mut parts = status_line.splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let reason = parts.next().unwrap_or("").to_string();
        if status == 200 {
            return Ok(tcp);
        }
        let proxy_error = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("x-squid-error")
                .then(|| v.trim().to_string())
        });
        Err(ConnectError::ProxyStatus {
            target: target.to_string(),
            status,
            reason,
            proxy_error,
        })
    }

    fn tls_error(&self, target: &str, e: &io::Error, verifier: &RecordingVerifier) -> ConnectError {
        let message = e.to_string();
        let rustls_error = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let kind = match rustls_error {
            Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
                TlsFailure::UnknownAuthority {
                    issuer: verifier
                        .last_issuer
                        .lock()
                        .ok()
                        .and_then(|g| g.clone())
                        .unwrap_or_else(|| "an unknown issuer".into()),
                }
            }
            Some(rustls::Error::InvalidMessage(_))
            | Some(rustls::Error::InappropriateMessage { .. }) => TlsFailure::NotTls,
            _ if message.contains("InvalidContentType") || message.contains("corrupt message") => {
                TlsFailure::NotTls
            }
            _ if e.kind() == io::ErrorKind::ConnectionReset => {
                return ConnectError::io(target, e);
            }
            _ => TlsFailure::Other,
        };
        ConnectError::Tls {
            target: target.to_string(),
            kind,
            message,
        }
    }
}

/// Reads an HTTP response head (up to the empty line), at most 16 KiB.
async fn read_head(tcp: &mut TcpStream) -> io::Result<String> {
    let mut reader = BufReader::new(tcp);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF"));
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
        if head.len() > 16 * 1024 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the proxy's answer head is larger than 16 KiB",
            ));
        }
    }
    // After a 200 the tunnel starts: nothing may have been read beyond the head, or it
    // would be lost. (After an error answer the body is the proxy's error page.)
    let tunnel_data_read = !reader.buffer().is_empty();
    if tunnel_data_read && head.split(' ').nth(1) == Some("200") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the proxy sent data after its CONNECT answer",
        ));
    }
    Ok(head)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

/// A certificate verifier that remembers the issuer of a chain it could not trust.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    insecure: bool,
    last_issuer: Mutex<Option<String>>,
}

impl rustls::client::danger::ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if self.insecure {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if result.is_err() {
            let top = intermediates.last().unwrap_or(end_entity);
            if let Ok(mut slot) = self.last_issuer.lock() {
                *slot = issuer_of(top);
            }
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The issuer DN of a DER certificate, e.g. `CN=Corp Proxy CA, O=Example`.
fn issuer_of(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(parsed.issuer().to_string())
}

enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl tokio::io::AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connection made by the [`Connector`].
pub struct Stream {
    io: TokioIo<Io>,
    proxied_plain: bool,
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        // A plain-HTTP request through a proxy goes in absolute form.
        Connected::new().proxy(self.proxied_plain)
    }
}

impl Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
