//! One client connection: requests read in a loop (squid keeps a connection open
//! after a 403 or 407, and curl retries on it), each checked, then tunnelled,
//! intercepted, forwarded or refused.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::head::{
    read_head, split_authority, AbsoluteUrl, Head, HeadError, RequestLine, TargetError,
};
use super::intercept::{describe, Interceptor};
use super::io::{Counted, Counters, Rewind};
use super::page::{
    error_response, http_date, reason, Page, PageContext, Style, DEFAULT_REALM, SQUID,
};
use super::{ProxyEvent, Shared, TunnelFailure};

/// Relay buffer per direction: large enough that a bulk transfer costs few syscalls.
const RELAY_BUFFER: usize = 64 * 1024;
/// How long a TLS handshake may take under interception.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection keeps reading (and discarding) what the client still
/// sends, so that closing does not reset the connection before the answer is read.
const LINGER: Duration = Duration::from_secs(2);
/// What squid's resolver reports for a name that does not exist.
const NXDOMAIN: &str = "Name Error: The domain name does not exist.";

/// Serves one accepted connection until it closes.
pub(super) async fn serve(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    // Without TCP_NODELAY, small request/response pairs relayed through two sockets
    // wait on delayed ACKs.
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        client: stream,
        buf: Vec::new(),
        client_ip: peer.ip().to_string(),
        shared,
    };
    loop {
        let head = match read_head(&mut conn.client, &mut conn.buf).await {
            Ok(Some(head)) => head,
            Ok(None) | Err(HeadError::Closed) => return,
            Err(HeadError::Malformed) => {
                let event = conn.event_base("", None);
                conn.refuse(
                    event,
                    400,
                    Page::InvalidRequest,
                    Style::Refused,
                    false,
                    None,
                    "",
                    "",
                )
                .await;
                return;
            }
        };
        if let Next::Close = conn.handle(head).await {
            return;
        }
    }
}

/// What to do with the connection after a request.
enum Next {
    KeepAlive,
    Close,
}

/// The two kinds of request a forward proxy serves.
enum Kind {
    Connect,
    Forward(AbsoluteUrl),
}

/// An event before its outcome is known.
struct EventBase {
    client: String,
    request: String,
    proxy_authorization: Option<String>,
}

impl EventBase {
    fn finish(self, status: u16, reason: &str) -> ProxyEvent {
        ProxyEvent {
            client: self.client,
            request: self.request,
            proxy_authorization: self.proxy_authorization,
            status,
            reason: reason.to_string(),
            bytes_up: 0,
            bytes_down: 0,
        }
    }
}

struct Conn {
    client: TcpStream,
    /// Bytes read from the client past the last head.
    buf: Vec<u8>,
    client_ip: String,
    shared: Arc<Shared>,
}

impl Conn {
    fn event_base(&self, request: &str, proxy_authorization: Option<&str>) -> EventBase {
        EventBase {
            client: self.client_ip.clone(),
            request: request.to_string(),
            proxy_authorization: proxy_authorization.map(redact),
        }
    }

    async fn handle(&mut self, head: Head) -> Next {
        let event = self.event_base(&head.start_line, head.get("proxy-authorization"));
        let Some(line) = RequestLine::parse(&head.start_line) else {
            let request = head.start_line.clone();
            self.refuse(
                event,
                400,
                Page::InvalidRequest,
                Style::Refused,
                false,
                None,
                "",
                &request,
            )
            .await;
            return Next::Close;
        };
        let keep_alive = client_keeps_alive(&head, line.version) && !head.has_body();

        let (kind, host, port, url) = if line.method.eq_ignore_ascii_case("CONNECT") {
            match split_authority(line.target, 443) {
                Some((host, port)) => {
                    let url = connect_url(&host, port);
                    (Kind::Connect, host, port, url)
                }
                None => {
                    // squid closes the connection after a request it cannot parse.
                    let target = line.target.to_string();
                    let page = Page::InvalidUrl;
                    return self
                        .refuse(event, 400, page, Style::Refused, false, None, &target, "")
                        .await;
                }
            }
        } else {
            match AbsoluteUrl::parse(line.target) {
                Ok(url) => {
                    let (host, port) = (url.host.clone(), url.port);
                    (Kind::Forward(url), host, port, line.target.to_string())
                }
                Err(e) => {
                    let (status, page) = match e {
                        TargetError::UnsupportedScheme => (501, Page::UnsupportedRequest),
                        TargetError::NotAbsolute | TargetError::BadAuthority => {
                            (400, Page::InvalidUrl)
                        }
                    };
                    let target = line.target.to_string();
                    return self
                        .refuse(
                            event,
                            status,
                            page,
                            Style::Refused,
                            false,
                            None,
                            &target,
                            "",
                        )
                        .await;
                }
            }
        };
        let is_connect = matches!(kind, Kind::Connect);

        if let Some((user, password)) = &self.shared.auth {
            if !credentials_match(head.get("proxy-authorization"), user, password) {
                let page = Page::CacheAccessDenied;
                let realm = Some(DEFAULT_REALM);
                return self
                    .refuse(
                        event,
                        407,
                        page,
                        Style::Refused,
                        keep_alive,
                        realm,
                        &url,
                        &host,
                    )
                    .await;
            }
        }
        if !self.shared.allowed(&host) {
            return self
                .refuse(
                    event,
                    403,
                    Page::AccessDenied,
                    Style::Refused,
                    keep_alive,
                    None,
                    &url,
                    &host,
                )
                .await;
        }
        if let Some(failure) = self.shared.failure(&host).cloned() {
            return self
                .fail(event, failure, is_connect, keep_alive, &url, &host)
                .await;
        }

        let connecting = self.shared.upstream.connect(&host, port);
        let connected = match tokio::time::timeout(self.shared.timeout, connecting).await {
            Ok(result) => result,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        };
        let upstream = match connected {
            Ok(upstream) => upstream,
            Err(e) => {
                let (status, page) = self.connect_failure(&e, is_connect);
                let style = if is_connect {
                    Style::Tunnel
                } else {
                    Style::Forward
                };
                let keep_alive = keep_alive && !is_connect;
                return self
                    .refuse(event, status, page, style, keep_alive, None, &url, &host)
                    .await;
            }
        };
        let _ = upstream.set_nodelay(true);

        match kind {
            Kind::Connect => {
                let counters = Arc::new(Counters::default());
                if self
                    .client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return Next::Close;
                }
                self.shared
                    .record(event.finish(200, reason(200)), counters.clone());
                let early = std::mem::take(&mut self.buf);
                let shared = self.shared.clone();
                match &shared.interceptor {
                    Some(interceptor) => {
                        self.intercept(interceptor, upstream, early, &host, port, counters)
                            .await
                    }
                    None => self.tunnel(upstream, early, counters).await,
                }
                Next::Close
            }
            Kind::Forward(url) => {
                self.forward(event, &head, &line, &url, upstream).await;
                Next::Close
            }
        }
    }

    /// Answers with squid's error page and records the event.
    #[allow(clippy::too_many_arguments)]
    async fn refuse(
        &mut self,
        event: EventBase,
        status: u16,
        page: Page,
        style: Style,
        keep_alive: bool,
        realm: Option<&str>,
        url: &str,
        host: &str,
    ) -> Next {
        let date = http_date();
        let request_line = event.request.clone();
        let ctx = PageContext {
            url,
            host,
            request_line: &request_line,
            date: &date,
            hostname: &self.shared.hostname,
            port: self.shared.port,
        };
        let answer = error_response(status, &page, style, keep_alive, realm, &ctx);
        self.shared
            .record(event.finish(status, reason(status)), Arc::default());
        if self.client.write_all(&answer).await.is_err() {
            return Next::Close;
        }
        if keep_alive {
            Next::KeepAlive
        } else {
            linger_close(&mut self.client).await;
            Next::Close
        }
    }

    /// Plays an injected failure.
    async fn fail(
        &mut self,
        event: EventBase,
        failure: TunnelFailure,
        is_connect: bool,
        keep_alive: bool,
        url: &str,
        host: &str,
    ) -> Next {
        let status = match failure {
            TunnelFailure::Status(status) => status,
            TunnelFailure::CloseAfterAccept => {
                self.shared
                    .record(event.finish(0, "closed without answering"), Arc::default());
                let _ = self.client.shutdown().await;
                return Next::Close;
            }
            TunnelFailure::Stall => {
                self.shared
                    .record(event.finish(0, "stalled without answering"), Arc::default());
                let mut sink = vec![0u8; 4096];
                while let Ok(n) = self.client.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
                return Next::Close;
            }
        };
        let forward_style = if is_connect {
            Style::Tunnel
        } else {
            Style::Forward
        };
        let (page, style, realm) = match status {
            403 => (Page::AccessDenied, Style::Refused, None),
            407 => (Page::CacheAccessDenied, Style::Refused, Some(DEFAULT_REALM)),
            502 => (Page::ReadError, forward_style, None),
            504 => (Page::ReadTimeout, forward_style, None),
            _ => (Page::CannotForward, forward_style, None),
        };
        let keep_alive = keep_alive && style != Style::Tunnel;
        self.refuse(event, status, page, style, keep_alive, realm, url, host)
            .await
    }

    /// squid's status and page for a failed upstream connection.
    fn connect_failure(&self, e: &io::Error, is_connect: bool) -> (u16, Page) {
        if e.kind() == io::ErrorKind::NotFound {
            return match (self.shared.squid5_dns_errors, is_connect) {
                (true, true) => (500, Page::CannotForward),
                (true, false) => (502, Page::ReadError),
                (false, _) => (
                    503,
                    Page::DnsFail {
                        message: NXDOMAIN.to_string(),
                    },
                ),
            };
        }
        let (errno, text) = errno_of(e);
        (503, Page::ConnectFail { errno, text })
    }

    /// Relays a plain tunnel until either side closes.
    async fn tunnel(&mut self, upstream: TcpStream, early: Vec<u8>, counters: Arc<Counters>) {
        let mut upstream = Counted::new(upstream, counters);
        if !early.is_empty() && upstream.write_all(&early).await.is_err() {
            return;
        }
        relay(&mut self.client, &mut upstream, "proxy tunnel ended").await;
    }

    /// Terminates the client's TLS with a leaf from the interception CA, opens TLS to
    /// the origin, and relays the plaintext.
    async fn intercept(
        &mut self,
        interceptor: &Interceptor,
        upstream: TcpStream,
        early: Vec<u8>,
        host: &str,
        port: u16,
        counters: Arc<Counters>,
    ) {
        let server_config = match interceptor.leaf(host) {
            Ok(config) => config,
            Err(e) => {
                tracing::warn!(error = %e, host, "cannot issue an interception certificate");
                return;
            }
        };
        let Ok(name) = ServerName::try_from(host.to_string()) else {
            return;
        };
        let client = Rewind::new(early, &mut self.client);
        let accepting = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            TlsAcceptor::from(server_config).accept(client),
        );
        let connecting = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            TlsConnector::from(interceptor.client_config()).connect(name, upstream),
        );
        let (accepted, connected) = tokio::join!(accepting, connecting);
        let Ok(Ok(mut client)) = accepted else {
            // The client gave up, typically on an issuer it does not trust.
            return;
        };
        let origin = match connected {
            Ok(Ok(origin)) => origin,
            Ok(Err(e)) => {
                let (tls_code, detail) = describe(&e);
                let page = Page::SecureConnectFail { tls_code, detail };
                secure_connect_failure(
                    &self.shared,
                    &self.client_ip,
                    &mut client,
                    page,
                    host,
                    port,
                )
                .await;
                return;
            }
            Err(_) => {
                let page = Page::SecureConnectFail {
                    tls_code: "[Unknown]".to_string(),
                    detail: "TLS handshake with the origin timed out".to_string(),
                };
                secure_connect_failure(
                    &self.shared,
                    &self.client_ip,
                    &mut client,
                    page,
                    host,
                    port,
                )
                .await;
                return;
            }
        };
        let mut origin = Counted::new(origin, counters);
        relay(&mut client, &mut origin, "intercepted tunnel ended").await;
    }

    /// Forwards a plain-HTTP request in origin form and relays the response with
    /// `Connection: close`.
    async fn forward(
        &mut self,
        event: EventBase,
        head: &Head,
        line: &RequestLine<'_>,
        url: &AbsoluteUrl,
        upstream: TcpStream,
    ) {
        let Conn {
            client,
            buf,
            client_ip,
            shared,
        } = self;
        let counters = Arc::new(Counters::default());
        let mut upstream = Counted::new(upstream, counters.clone());
        let request = forwarded_request(head, line, url, client_ip, &shared.hostname);
        let sent = async {
            upstream.write_all(request.as_bytes()).await?;
            upstream.write_all(buf).await
        }
        .await;
        buf.clear();
        let mut event = Some(event);
        let downloaded = {
            let (mut from_client, mut to_client) = client.split();
            let (mut from_origin, mut to_origin) = tokio::io::split(upstream);

            let download = async {
                if sent.is_err() {
                    return Err(None);
                }
                let mut rbuf = Vec::new();
                // 1xx answers (100 Continue) pass through as they are.
                let response = loop {
                    match read_head(&mut from_origin, &mut rbuf).await {
                        Ok(Some(response)) if is_informational(&response) => {
                            let raw = format!(
                                "{}\r\n{}\r\n",
                                response.start_line,
                                header_lines(&response.headers)
                            );
                            to_client
                                .write_all(raw.as_bytes())
                                .await
                                .map_err(|_| None)?;
                        }
                        Ok(Some(response)) => break response,
                        Ok(None) | Err(_) => return Err(None),
                    }
                };
                let (status, phrase) = status_of(&response);
                if let Some(event) = event.take() {
                    shared.record(event.finish(status, &phrase), counters.clone());
                }
                let relayed = relayed_response(&response, &shared.hostname, shared.port);
                to_client
                    .write_all(relayed.as_bytes())
                    .await
                    .map_err(|_| None)?;
                to_client.write_all(&rbuf).await.map_err(|_| None)?;
                tokio::io::copy(&mut from_origin, &mut to_client)
                    .await
                    .map_err(Some)?;
                to_client.shutdown().await.map_err(Some)
            };
            let upload = tokio::io::copy(&mut from_client, &mut to_origin);
            tokio::pin!(download, upload);
            let mut uploading = true;
            loop {
                tokio::select! {
                    done = &mut download => break done,
                    _ = &mut upload, if uploading => uploading = false,
                }
            }
        };
        // The origin closed, or answered nothing: squid's ERR_ZERO_SIZE_OBJECT.
        if let (Err(None), Some(event)) = (downloaded, event.take()) {
            let date = http_date();
            let ctx = PageContext {
                url: line.target,
                host: &url.host,
                request_line: &head.start_line,
                date: &date,
                hostname: &shared.hostname,
                port: shared.port,
            };
            let answer = error_response(
                502,
                &Page::ZeroSizeObject,
                Style::Forward,
                false,
                None,
                &ctx,
            );
            shared.record(event.finish(502, reason(502)), counters);
            let _ = client.write_all(&answer).await;
            linger_close(client).await;
        }
    }
}

/// After an interception's origin handshake failed: reads the client's request
/// inside the TLS session and answers squid's ERR_SECURE_CONNECT_FAIL.
async fn secure_connect_failure<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    client_ip: &str,
    client: &mut S,
    page: Page,
    host: &str,
    port: u16,
) {
    let mut buf = Vec::new();
    let Ok(Some(inner)) = read_head(client, &mut buf).await else {
        return;
    };
    let authority = if port == 443 {
        bracket(host)
    } else {
        format!("{}:{port}", bracket(host))
    };
    let (request, url) = match RequestLine::parse(&inner.start_line) {
        Some(l) => {
            let url = format!("https://{authority}{}", l.target);
            (format!("{} {url} {}", l.method, l.version), url)
        }
        None => (inner.start_line.clone(), format!("https://{authority}/")),
    };
    let date = http_date();
    let ctx = PageContext {
        url: &url,
        host,
        request_line: &request,
        date: &date,
        hostname: &shared.hostname,
        port: shared.port,
    };
    let answer = error_response(503, &page, Style::Forward, false, None, &ctx);
    shared.record(
        ProxyEvent {
            client: client_ip.to_string(),
            request,
            proxy_authorization: None,
            status: 503,
            reason: reason(503).to_string(),
            bytes_up: 0,
            bytes_down: 0,
        },
        Arc::default(),
    );
    let _ = client.write_all(&answer).await;
    let _ = client.shutdown().await;
}

/// Shuts the write side, then discards what the client still sends for a moment so
/// that closing does not reset the connection under an unread answer.
async fn linger_close(client: &mut TcpStream) {
    let _ = client.shutdown().await;
    let mut sink = vec![0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = client.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Whether the client wants the connection kept after this request.
fn client_keeps_alive(head: &Head, version: &str) -> bool {
    if head.has_token("connection", "close") || head.has_token("proxy-connection", "close") {
        return false;
    }
    version != "HTTP/1.0"
        || head.has_token("connection", "keep-alive")
        || head.has_token("proxy-connection", "keep-alive")
}

/// `Basic dXNlcjpwYXNz` → `Basic [redacted]`.
fn redact(value: &str) -> String {
    match value.split_whitespace().next() {
        Some(scheme) => format!("{scheme} [redacted]"),
        None => "[redacted]".to_string(),
    }
}

/// Whether a `Proxy-Authorization` value carries these Basic credentials.
fn credentials_match(value: Option<&str>, user: &str, password: &str) -> bool {
    let Some((scheme, token)) = value.and_then(|v| v.trim().split_once(' ')) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
        return false;
    };
    decoded == format!("{user}:{password}").as_bytes()
}

/// How squid prints a CONNECT target in its pages.
fn connect_url(host: &str, port: u16) -> String {
    if port == 443 {
        format!("https://{}/*", bracket(host))
    } else {
        format!("{}:{port}", bracket(host))
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// errno and `strerror` text for a failed connection.
fn errno_of(e: &io::Error) -> (i32, String) {
    let known = match e.kind() {
        io::ErrorKind::ConnectionRefused => Some((111, "Connection refused")),
        io::ErrorKind::TimedOut => Some((110, "Connection timed out")),
        io::ErrorKind::HostUnreachable => Some((113, "No route to host")),
        io::ErrorKind::NetworkUnreachable => Some((101, "Network is unreachable")),
        io::ErrorKind::ConnectionReset => Some((104, "Connection reset by peer")),
        io::ErrorKind::ConnectionAborted => Some((103, "Software caused connection abort")),
        io::ErrorKind::AddrNotAvailable => Some((99, "Cannot assign requested address")),
        io::ErrorKind::PermissionDenied => Some((13, "Permission denied")),
        _ => None,
    };
    if let Some((errno, text)) = known {
        return (errno, text.to_string());
    }
    match e.raw_os_error() {
        Some(errno) => {
            let text = io::Error::from_raw_os_error(errno).to_string();
            let text = text.split(" (os error").next().unwrap_or_default();
            (errno, text.to_string())
        }
        None => (0, e.to_string()),
    }
}

/// The request as sent to the origin: origin form, hop-by-hop headers (and the proxy
/// credentials) removed, squid's `Via` and `X-Forwarded-For` added.
fn forwarded_request(
    head: &Head,
    line: &RequestLine<'_>,
    url: &AbsoluteUrl,
    client_ip: &str,
    hostname: &str,
) -> String {
    let mut out = format!("{} {} {}\r\n", line.method, url.origin_form, line.version);
    let mut forwarded_for = None;
    for (name, value) in head.end_to_end_headers() {
        if name.eq_ignore_ascii_case("x-forwarded-for") {
            forwarded_for = Some(value.as_str());
            continue;
        }
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if head.get("host").is_none() {
        out.push_str(&format!("Host: {}\r\n", url.authority));
    }
    out.push_str(&format!("Via: 1.1 {hostname} ({SQUID})\r\n"));
    match forwarded_for {
        Some(previous) => out.push_str(&format!("X-Forwarded-For: {previous}, {client_ip}\r\n")),
        None => out.push_str(&format!("X-Forwarded-For: {client_ip}\r\n")),
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

/// The origin's response head as relayed: squid speaks HTTP/1.1 to its clients
/// whatever the origin spoke, and replaces the hop-by-hop headers with its own.
fn relayed_response(response: &Head, hostname: &str, port: u16) -> String {
    let kept: Vec<(String, String)> = response.end_to_end_headers().cloned().collect();
    let status_line = match response.start_line.split_once(' ') {
        Some((version, rest)) if version.starts_with("HTTP/1.") => format!("HTTP/1.1 {rest}"),
        _ => response.start_line.clone(),
    };
    format!(
        "{status_line}\r\n{}X-Cache: MISS from {hostname}\r\n\
         X-Cache-Lookup: MISS from {hostname}:{port}\r\nVia: 1.1 {hostname} ({SQUID})\r\n\
         Connection: close\r\n\r\n",
        header_lines(&kept)
    )
}

fn header_lines(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect()
}

fn is_informational(response: &Head) -> bool {
    let (status, _) = status_of(response);
    (100..200).contains(&status) && status != 101
}

/// Status code and reason phrase of a status line (`HTTP/1.1 404 Not Found`).
fn status_of(response: &Head) -> (u16, String) {
    let mut parts = response.start_line.splitn(3, ' ');
    let _version = parts.next();
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let phrase = parts.next().unwrap_or_default().to_string();
    (status, phrase)
}

/// Copies both ways until both sides are done; an error only ends the tunnel (logged).
async fn relay<A, B>(a: &mut A, b: &mut B, what: &str)
where
    A: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + ?Sized,
    B: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + ?Sized,
{
    let relayed = tokio::io::copy_bidirectional_with_sizes(a, b, RELAY_BUFFER, RELAY_BUFFER).await;
    if let Err(e) = relayed {
        tracing::debug!(error = %e, "{what}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials() {
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
        );
        assert!(credentials_match(Some(&good), "alice", "s3cret"));
        assert!(credentials_match(
            Some(&good.replace("Basic", "basic")),
            "alice",
            "s3cret"
        ));
        assert!(!credentials_match(Some(&good), "alice", "wrong"));
        assert!(!credentials_match(Some("Bearer abc"), "alice", "s3cret"));
        assert!(!credentials_match(Some("Basic !!!"), "alice", "s3cret"));
        assert!(!credentials_match(None, "alice", "s3cret"));
        assert_eq!(redact(&good), "Basic [redacted]");
    }

    #[test]
    fn connect_urls_like_squid() {
        assert_eq!(connect_url("quay.io", 443), "https://quay.io/*");
        assert_eq!(connect_url("quay.io", 8081), "quay.io:8081");
        assert_eq!(connect_url("::1", 5000), "[::1]:5000");
    }

    #[test]
    fn errnos() {
        assert_eq!(
            errno_of(&io::ErrorKind::ConnectionRefused.into()),
            (111, "Connection refused".to_string())
        );
        assert_eq!(errno_of(&io::Error::from_raw_os_error(113)).0, 113);
        assert_eq!(errno_of(&io::Error::other("boom")), (0, "boom".to_string()));
    }

    #[test]
    fn request_rewrite() {
        let head = Head {
            start_line: "GET http://insecure.example:5000/v2/?n=1 HTTP/1.1".into(),
            headers: vec![
                ("Host".into(), "insecure.example:5000".into()),
                ("Proxy-Authorization".into(), "Basic YTpi".into()),
                ("Proxy-Connection".into(), "Keep-Alive".into()),
                ("X-Forwarded-For".into(), "10.0.0.1".into()),
                ("Accept".into(), "*/*".into()),
            ],
        };
        let line = RequestLine::parse(&head.start_line).unwrap();
        let url = AbsoluteUrl::parse(line.target).unwrap();
        assert_eq!(
            forwarded_request(&head, &line, &url, "127.0.0.1", "proxy.example.com"),
            "GET /v2/?n=1 HTTP/1.1\r\nHost: insecure.example:5000\r\nAccept: */*\r\n\
             Via: 1.1 proxy.example.com (squid/5.7)\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n\
             Connection: close\r\n\r\n"
        );
    }

    #[test]
    fn response_rewrite() {
        let response = Head {
            start_line: "HTTP/1.0 200 OK".into(),
            headers: vec![
                ("Content-Length".into(), "2".into()),
                ("Connection".into(), "keep-alive".into()),
                ("Keep-Alive".into(), "timeout=5".into()),
            ],
        };
        assert_eq!(
            relayed_response(&response, "vm", 3128),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Cache: MISS from vm\r\n\
             X-Cache-Lookup: MISS from vm:3128\r\nVia: 1.1 vm (squid/5.7)\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(status_of(&response), (200, "OK".to_string()));
    }
}
