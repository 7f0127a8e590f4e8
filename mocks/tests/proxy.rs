//! End-to-end tests of the mock squid proxy: real sockets, reqwest through
//! `Proxy::all`, a TLS front for `registry.redhat.io`, and raw HTTP where the exact
//! bytes matter.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use regharness_mocks::{
    CertificateAuthority, MockProxy, MockProxyBuilder, ProxyEvent, RunningProxy, TlsFront,
    TunnelFailure, Upstream,
};
use reqwest::{Certificate, Client, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-proxy-password";

/// The world as the proxy host sees it: names to addresses, names whose connection
/// never completes, and every name that does not resolve.
struct World {
    hosts: HashMap<String, SocketAddr>,
    blackholes: HashSet<String>,
    connects: Mutex<Vec<(String, u16)>>,
}

impl Upstream for World {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<TcpStream>> + Send>> {
        self.connects.lock().unwrap().push((host.to_string(), port));
        if self.blackholes.contains(host) {
            return Box::pin(std::future::pending());
        }
        let found = self.hosts.get(host).copied();
        Box::pin(async move {
            match found {
                Some(addr) => TcpStream::connect(addr).await,
                None => Err(std::io::ErrorKind::NotFound.into()),
            }
        })
    }
}

/// A world with `registry.redhat.io` and `sso.redhat.com` behind TLS fronts (world
/// CA), `insecure.example` as plain HTTP, `refused.redhat.com` with nothing listening
/// and `blackhole.redhat.com` never answering.
struct Fixture {
    world: Arc<World>,
    world_ca: CertificateAuthority,
    _fronts: Vec<TlsFront>,
}

impl Fixture {
    async fn new() -> Self {
        let backend = echo_backend().await;
        let world_ca = CertificateAuthority::generate("regharness world CA (proxy tests)").unwrap();
        let registry = TlsFront::start(&world_ca.issue(&["registry.redhat.io"]).unwrap(), backend)
            .await
            .unwrap();
        let sso = TlsFront::start(&world_ca.issue(&["sso.redhat.com"]).unwrap(), backend)
            .await
            .unwrap();
        let closed = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let hosts = HashMap::from([
            ("registry.redhat.io".to_string(), registry.addr()),
            ("sso.redhat.com".to_string(), sso.addr()),
            ("insecure.example".to_string(), backend),
            ("refused.redhat.com".to_string(), closed),
        ]);
        Self {
            world: Arc::new(World {
                hosts,
                blackholes: HashSet::from(["blackhole.redhat.com".to_string()]),
                connects: Mutex::new(Vec::new()),
            }),
            world_ca,
            _fronts: vec![registry, sso],
        }
    }

    fn proxy(&self) -> MockProxyBuilder {
        MockProxy::builder(self.world.clone())
    }

    /// A client that trusts `ca` and goes through `proxy` (with credentials if given).
    fn client(
        &self,
        proxy: &RunningProxy,
        ca: &CertificateAuthority,
        auth: Option<(&str, &str)>,
    ) -> Client {
        let mut p = Proxy::all(proxy.url()).unwrap();
        if let Some((user, password)) = auth {
            p = p.basic_auth(user, password);
        }
        Client::builder()
            .proxy(p)
            .tls_certs_only([Certificate::from_pem(ca.certificate_pem().as_bytes()).unwrap()])
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }
}

/// A plain HTTP/1.1 server that answers every request with its request line and
/// headers (text/plain), as it received them.
async fn echo_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = service_fn(|req: Request<Incoming>| async move {
                    let mut text = format!("{} {} {:?}\n", req.method(), req.uri(), req.version());
                    for (name, value) in req.headers() {
                        text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
                    }
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "text/plain")
                            .header("x-backend", "echo")
                            .body(Full::new(Bytes::from(text)))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A response read off a raw socket.
#[derive(Debug)]
struct Answer {
    status_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// Sends `request` and reads one answer (its body by Content-Length).
async fn exchange(stream: &mut TcpStream, request: &str) -> Answer {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_answer(stream).await
}

async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("answer in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(raw[..head_end].to_vec()).unwrap();
    let mut body = raw[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap().to_string();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let answer = Answer {
        status_line,
        headers,
        body: String::new(),
    };
    let length: usize = answer
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "body cut short");
        body.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(body.len(), length, "nothing past the body");
    Answer {
        body: String::from_utf8(body).unwrap(),
        ..answer
    }
}

/// Whether the proxy closes the connection (EOF within a second).
async fn closes(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn connect_request(authority: &str, extra: &str) -> String {
    format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n{extra}\r\n")
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Proxy-Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The full error chain of a reqwest error, for matching.
fn chain(e: &reqwest::Error) -> String {
    let mut text = format!("{e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" / {s}"));
        source = s.source();
    }
    text
}

/// Opens a tunnel to `host:443` through `proxy`, completes a TLS handshake trusting
/// `ca_pem`, and returns the leaf certificate (DER) the client was shown.
async fn leaf_through(proxy: &RunningProxy, host: &str, ca_pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    raw.write_all(connect_request(&format!("{host}:443"), "").as_bytes())
        .await
        .unwrap();
    let mut ok = [0u8; 39];
    raw.read_exact(&mut ok).await.unwrap();
    assert_eq!(&ok, b"HTTP/1.1 200 Connection established\r\n\r\n");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, raw)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// Squid's error answer: status line, squid's header order, the page and its name.
fn assert_squid_error(answer: &Answer, status_line: &str, squid_error: &str) {
    assert_eq!(answer.status_line, status_line, "{answer:?}");
    assert_eq!(answer.header("server"), Some("squid/5.7"));
    assert_eq!(answer.header("mime-version"), Some("1.0"));
    assert_eq!(
        answer.header("content-type"),
        Some("text/html;charset=utf-8")
    );
    assert_eq!(answer.header("x-squid-error"), Some(squid_error));
    assert_eq!(answer.header("vary"), Some("Accept-Language"));
    assert_eq!(answer.header("content-language"), Some("en"));
    assert_eq!(
        answer.header("content-length"),
        Some(answer.body.len().to_string().as_str())
    );
    let code = squid_error.split(' ').next().unwrap();
    assert!(answer.body.starts_with("<!DOCTYPE "), "{}", answer.body);
    assert!(
        answer.body.contains(&format!("</head><body id={code}>")),
        "{}",
        answer.body
    );
    assert!(answer
        .body
        .ends_with(&format!("<!-- {code} -->\n</div>\n</body></html>\n")));
    assert!(answer.body.contains("by proxy.example.com (squid/5.7)</p>"));
}

fn event(request: &str, status: u16, reason: &str) -> ProxyEvent {
    ProxyEvent {
        client: "127.0.0.1".into(),
        request: request.into(),
        proxy_authorization: None,
        status,
        reason: reason.into(),
        bytes_up: 0,
        bytes_down: 0,
    }
}

#[tokio::test]
async fn allowed_connect_answers_like_squid_and_tunnels_tls() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .allow("registry.redhat.io")
        .allow(".redhat.com")
        .start()
        .await
        .unwrap();
    assert_eq!(
        proxy.url(),
        format!("http://127.0.0.1:{}", proxy.addr().port())
    );

    // The exact bytes: a status line and an empty line, nothing else.
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    raw.write_all(connect_request("registry.redhat.io:443", "").as_bytes())
        .await
        .unwrap();
    let expected = b"HTTP/1.1 200 Connection established\r\n\r\n";
    let mut got = vec![0u8; expected.len()];
    raw.read_exact(&mut got).await.unwrap();
    assert_eq!(got, expected);
    let mut more = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(200), raw.read(&mut more))
            .await
            .is_err(),
        "nothing follows the 200 until the origin speaks"
    );
    drop(raw);

    // Real TLS through the tunnel, verified against the world's CA.
    let client = fx.client(&proxy, &fx.world_ca, None);
    let resp = client
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-backend"], "echo");
    let body = resp.text().await.unwrap();
    assert!(body.starts_with("GET /v2/ HTTP/1.1\n"), "{body}");
    assert!(body.contains("host: registry.redhat.io\n"), "{body}");
    let sso = client
        .get("https://sso.redhat.com/auth")
        .send()
        .await
        .unwrap();
    assert_eq!(sso.status(), 200);
    drop(client);

    let events = proxy.events();
    assert_eq!(events.len(), 3, "{events:#?}");
    for (e, host) in
        events
            .iter()
            .zip(["registry.redhat.io", "registry.redhat.io", "sso.redhat.com"])
    {
        assert_eq!(e.request, format!("CONNECT {host}:443 HTTP/1.1"));
        assert_eq!(
            (e.status, e.reason.as_str()),
            (200, "Connection established")
        );
        assert_eq!(e.client, "127.0.0.1");
        assert_eq!(e.proxy_authorization, None);
    }
    assert_eq!((events[0].bytes_up, events[0].bytes_down), (0, 0));
    // A TLS handshake and one request each way went through the tunnels.
    assert!(
        events[1].bytes_up > 300 && events[1].bytes_down > 500,
        "{events:#?}"
    );
    assert_eq!(
        fx.world.connects.lock().unwrap().as_slice(),
        [
            ("registry.redhat.io".to_string(), 443),
            ("registry.redhat.io".to_string(), 443),
            ("sso.redhat.com".to_string(), 443)
        ]
    );
}

#[tokio::test]
async fn denied_host_gets_403_and_the_connection_stays_usable() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .allow("registry.redhat.io")
        .allow(".redhat.com")
        .start()
        .await
        .unwrap();
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let denied = exchange(&mut raw, &connect_request("quay.io:443", "")).await;
    assert_squid_error(&denied, "HTTP/1.1 403 Forbidden", "ERR_ACCESS_DENIED 0");
    assert_eq!(
        denied.names(),
        [
            "Server",
            "Mime-Version",
            "Date",
            "Content-Type",
            "Content-Length",
            "X-Squid-Error",
            "Vary",
            "Content-Language",
            "X-Cache",
            "X-Cache-Lookup",
            "Via",
            "Connection"
        ]
    );
    assert_eq!(
        denied.header("x-cache"),
        Some("MISS from proxy.example.com")
    );
    assert_eq!(
        denied.header("x-cache-lookup"),
        Some(format!("NONE from proxy.example.com:{}", proxy.addr().port()).as_str())
    );
    assert_eq!(
        denied.header("via"),
        Some("1.1 proxy.example.com (squid/5.7)")
    );
    assert_eq!(denied.header("connection"), Some("keep-alive"));
    assert!(denied.body.contains(
        "<p>The following error was encountered while trying to retrieve the URL: <a href=\"https://quay.io/*\">https://quay.io/*</a></p>"
    ));
    assert!(denied.body.contains("<p><b>Access Denied.</b></p>"));

    // `registry.redhat.io` is exact: a subdomain is denied; `.redhat.com` covers the
    // domain itself. squid prints a non-443 CONNECT target as host:port.
    let sub = exchange(
        &mut raw,
        &connect_request("cdn.registry.redhat.io:8443", ""),
    )
    .await;
    assert_eq!(sub.status_line, "HTTP/1.1 403 Forbidden");
    assert!(sub
        .body
        .contains("<a href=\"cdn.registry.redhat.io:8443\">cdn.registry.redhat.io:8443</a>"));

    // Same connection, allowed host: tunnel.
    raw.write_all(connect_request("registry.redhat.io:443", "").as_bytes())
        .await
        .unwrap();
    let mut got = [0u8; 39];
    raw.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"HTTP/1.1 200 Connection established\r\n\r\n");

    // reqwest reports the refused tunnel.
    let client = fx.client(&proxy, &fx.world_ca, None);
    let err = client.get("https://quay.io/v2/").send().await.unwrap_err();
    assert!(
        chain(&err).to_lowercase().contains("tunnel"),
        "{}",
        chain(&err)
    );

    let events = proxy.events();
    assert_eq!(
        events
            .iter()
            .map(|e| (e.request.as_str(), e.status))
            .collect::<Vec<_>>(),
        [
            ("CONNECT quay.io:443 HTTP/1.1", 403),
            ("CONNECT cdn.registry.redhat.io:8443 HTTP/1.1", 403),
            ("CONNECT registry.redhat.io:443 HTTP/1.1", 200),
            ("CONNECT quay.io:443 HTTP/1.1", 403),
        ]
    );
    assert_eq!(
        events[0],
        event("CONNECT quay.io:443 HTTP/1.1", 403, "Forbidden")
    );
    assert_eq!(
        fx.world.connects.lock().unwrap().len(),
        1,
        "denied hosts are never connected to"
    );
}

#[tokio::test]
async fn proxy_authentication_missing_wrong_and_right() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .allow("registry.redhat.io")
        .basic_auth(USER, PASSWORD)
        .start()
        .await
        .unwrap();
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();

    let missing = exchange(&mut raw, &connect_request("registry.redhat.io:443", "")).await;
    assert_squid_error(
        &missing,
        "HTTP/1.1 407 Proxy Authentication Required",
        "ERR_CACHE_ACCESS_DENIED 0",
    );
    assert_eq!(
        missing.header("proxy-authenticate"),
        Some("Basic realm=\"Squid proxy-caching web server\"")
    );
    assert_eq!(
        missing.names()[8],
        "Proxy-Authenticate",
        "after Content-Language"
    );
    assert!(missing
        .body
        .contains("<title>ERROR: Cache Access Denied</title>"));
    assert!(missing.body.contains("<p>Sorry, you are not currently allowed to request https://registry.redhat.io/* from this cache until you have authenticated yourself.</p>"));

    // Wrong password, then a non-Basic scheme, on the same connection.
    let wrong = exchange(
        &mut raw,
        &connect_request("registry.redhat.io:443", &basic(USER, "wrong")),
    )
    .await;
    assert_eq!(
        wrong.status_line,
        "HTTP/1.1 407 Proxy Authentication Required"
    );
    let bearer = exchange(
        &mut raw,
        &connect_request(
            "registry.redhat.io:443",
            "Proxy-Authorization: Bearer abc\r\n",
        ),
    )
    .await;
    assert_eq!(
        bearer.status_line,
        "HTTP/1.1 407 Proxy Authentication Required"
    );

    // Authentication comes before the allow-list, like `http_access deny !auth` first.
    let unauthenticated_denied = exchange(&mut raw, &connect_request("quay.io:443", "")).await;
    assert_eq!(
        unauthenticated_denied.status_line,
        "HTTP/1.1 407 Proxy Authentication Required"
    );
    let authenticated_denied = exchange(
        &mut raw,
        &connect_request("quay.io:443", &basic(USER, PASSWORD)),
    )
    .await;
    assert_eq!(authenticated_denied.status_line, "HTTP/1.1 403 Forbidden");

    // reqwest: without credentials the tunnel fails, with them TLS works.
    let anonymous = fx.client(&proxy, &fx.world_ca, None);
    let err = anonymous
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .unwrap_err();
    assert!(
        chain(&err).to_lowercase().contains("auth"),
        "{}",
        chain(&err)
    );
    let wrong = fx.client(&proxy, &fx.world_ca, Some((USER, "nope")));
    assert!(wrong
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .is_err());
    let right = fx.client(&proxy, &fx.world_ca, Some((USER, PASSWORD)));
    let resp = right
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(
        !body.to_lowercase().contains("proxy-authorization"),
        "{body}"
    );

    let events = proxy.events();
    let summary: Vec<(u16, Option<&str>)> = events
        .iter()
        .map(|e| (e.status, e.proxy_authorization.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (407, None),
            (407, Some("Basic [redacted]")),
            (407, Some("Bearer [redacted]")),
            (407, None),
            (403, Some("Basic [redacted]")),
            (407, None),
            (407, Some("Basic [redacted]")),
            (200, Some("Basic [redacted]")),
        ]
    );
    assert_eq!(events[0].reason, "Proxy Authentication Required");
    // No credential leaks into the transcript, raw or encoded.
    let json = serde_json::to_string(&events).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert!(!json.contains(PASSWORD) && !json.contains(&encoded) && !json.contains("abc"));
}

#[tokio::test]
async fn injected_status_failures() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .fail_tunnel("*", TunnelFailure::Status(503))
        .fail_tunnel("registry.redhat.io", TunnelFailure::Status(502))
        .start()
        .await
        .unwrap();

    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let bad_gateway = exchange(&mut raw, &connect_request("registry.redhat.io:443", "")).await;
    assert_squid_error(&bad_gateway, "HTTP/1.1 502 Bad Gateway", "ERR_READ_ERROR 0");
    assert!(bad_gateway.body.contains("<p><b>Read Error</b></p>"));
    assert!(bad_gateway
        .body
        .contains("The system returned: <i>[No Error]</i>"));
    // A failed CONNECT carries no cache headers, and squid closes the connection.
    assert_eq!(bad_gateway.header("via"), None);
    assert_eq!(bad_gateway.header("connection"), None);
    assert!(closes(&mut raw).await);

    // The wildcard covers every other host.
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let unavailable = exchange(&mut raw, &connect_request("sso.redhat.com:443", "")).await;
    assert_squid_error(
        &unavailable,
        "HTTP/1.1 503 Service Unavailable",
        "ERR_CANNOT_FORWARD 0",
    );
    assert!(unavailable.body.starts_with("<!DOCTYPE HTML PUBLIC"));
    assert!(unavailable
        .body
        .contains("<p><b>Unable to forward this request at this time.</b></p>"));

    let client = fx.client(&proxy, &fx.world_ca, None);
    assert!(client
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .is_err());
    assert!(
        fx.world.connects.lock().unwrap().is_empty(),
        "an injected failure replaces the upstream connection"
    );
    assert_eq!(
        proxy.events()[..2],
        [
            event(
                "CONNECT registry.redhat.io:443 HTTP/1.1",
                502,
                "Bad Gateway"
            ),
            event(
                "CONNECT sso.redhat.com:443 HTTP/1.1",
                503,
                "Service Unavailable"
            ),
        ]
    );
}

#[tokio::test]
async fn injected_close_and_stall() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .fail_tunnel("registry.redhat.io", TunnelFailure::CloseAfterAccept)
        .fail_tunnel("sso.redhat.com", TunnelFailure::Stall)
        .start()
        .await
        .unwrap();

    // Close: the request is read, then EOF without a byte.
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    raw.write_all(connect_request("registry.redhat.io:443", "").as_bytes())
        .await
        .unwrap();
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut rest))
        .await
        .expect("closed")
        .unwrap_or(0);
    assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&rest));

    // Stall: no answer, the connection stays open.
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    raw.write_all(connect_request("sso.redhat.com:443", "").as_bytes())
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), raw.read(&mut byte))
            .await
            .is_err(),
        "a stalled proxy says nothing"
    );

    // Clients see a dropped connection and a timeout.
    let client = fx.client(&proxy, &fx.world_ca, None);
    let closed = client
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .unwrap_err();
    assert!(!closed.is_timeout(), "{}", chain(&closed));
    let impatient = Client::builder()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let started = Instant::now();
    let stalled = impatient
        .get("https://sso.redhat.com/auth")
        .send()
        .await
        .unwrap_err();
    assert!(stalled.is_timeout(), "{}", chain(&stalled));
    assert!(started.elapsed() >= Duration::from_millis(400));

    let events = proxy.events();
    assert_eq!(
        events[0],
        event(
            "CONNECT registry.redhat.io:443 HTTP/1.1",
            0,
            "closed without answering"
        )
    );
    assert_eq!(
        events[1],
        event(
            "CONNECT sso.redhat.com:443 HTTP/1.1",
            0,
            "stalled without answering"
        )
    );
    assert!(fx.world.connects.lock().unwrap().is_empty());
}

#[tokio::test]
async fn upstream_dns_failure_refusal_and_timeout() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .allow(".redhat.com")
        .timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();

    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let dns = exchange(&mut raw, &connect_request("nosuch.redhat.com:443", "")).await;
    assert_squid_error(&dns, "HTTP/1.1 503 Service Unavailable", "ERR_DNS_FAIL 0");
    assert!(dns.body.contains(
        "<p><b>Unable to determine IP address from host name <q>nosuch.redhat.com</q></b></p>"
    ));
    assert!(dns.body.contains(
        "<p>The DNS server returned:</p>\n<blockquote id=\"data\">\n<pre>Name Error: The domain name does not exist.</pre>"
    ));
    assert!(closes(&mut raw).await);

    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let refused = exchange(&mut raw, &connect_request("refused.redhat.com:8443", "")).await;
    assert_squid_error(
        &refused,
        "HTTP/1.1 503 Service Unavailable",
        "ERR_CONNECT_FAIL 111",
    );
    assert!(refused
        .body
        .contains("<p><b>Connection to refused.redhat.com failed.</b></p>"));
    assert!(refused
        .body
        .contains("<p id=\"sysmsg\">The system returned: <i>(111) Connection refused</i></p>"));
    assert!(refused
        .body
        .contains("<a href=\"refused.redhat.com:8443\">"));
    assert!(closes(&mut raw).await);

    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let started = Instant::now();
    let timed_out = exchange(&mut raw, &connect_request("blackhole.redhat.com:443", "")).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_squid_error(
        &timed_out,
        "HTTP/1.1 503 Service Unavailable",
        "ERR_CONNECT_FAIL 110",
    );
    assert!(timed_out
        .body
        .contains("The system returned: <i>(110) Connection timed out</i>"));

    // A plain-HTTP request that fails upstream keeps the client connection (squid).
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let get = exchange(
        &mut raw,
        "GET http://refused.redhat.com:8080/v2/ HTTP/1.1\r\nHost: refused.redhat.com:8080\r\n\r\n",
    )
    .await;
    assert_squid_error(
        &get,
        "HTTP/1.1 503 Service Unavailable",
        "ERR_CONNECT_FAIL 111",
    );
    assert_eq!(
        get.header("x-cache-lookup"),
        Some(format!("MISS from proxy.example.com:{}", proxy.addr().port()).as_str())
    );
    assert_eq!(get.header("connection"), Some("keep-alive"));
    assert!(get.body.contains(
        "<a href=\"http://refused.redhat.com:8080/v2/\">http://refused.redhat.com:8080/v2/</a>"
    ));
    let again = exchange(
        &mut raw,
        "GET http://nosuch.redhat.com/v2/ HTTP/1.1\r\nHost: nosuch.redhat.com\r\n\r\n",
    )
    .await;
    assert_eq!(again.header("x-squid-error"), Some("ERR_DNS_FAIL 0"));

    let statuses: Vec<(u16, String)> = proxy
        .events()
        .into_iter()
        .map(|e| (e.status, e.reason))
        .collect();
    assert_eq!(statuses, vec![(503, "Service Unavailable".to_string()); 5]);
}

#[tokio::test]
async fn squid5_answers_unresolvable_names_with_its_bug() {
    let fx = Fixture::new().await;
    let proxy = fx.proxy().squid5_dns_errors().start().await.unwrap();
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let connect = exchange(&mut raw, &connect_request("nosuch.redhat.com:443", "")).await;
    assert_squid_error(
        &connect,
        "HTTP/1.1 500 Internal Server Error",
        "ERR_CANNOT_FORWARD 0",
    );
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let get = exchange(
        &mut raw,
        "GET http://nosuch.redhat.com/v2/ HTTP/1.1\r\nHost: nosuch.redhat.com\r\n\r\n",
    )
    .await;
    assert_squid_error(&get, "HTTP/1.1 502 Bad Gateway", "ERR_READ_ERROR 0");
    assert!(get.body.contains("The system returned: <i>[No Error]</i>"));
}

#[tokio::test]
async fn interception_reissues_certificates_from_its_own_ca() {
    let fx = Fixture::new().await;
    let corporate = CertificateAuthority::generate("Example Corp TLS inspection CA").unwrap();
    let corporate_pem = corporate.certificate_pem().to_string();
    let proxy = fx
        .proxy()
        .allow(".redhat.com")
        .allow("registry.redhat.io")
        .intercept(corporate, fx.world_ca.certificate_pem())
        .start()
        .await
        .unwrap();
    let corporate = Certificate::from_pem(corporate_pem.as_bytes()).unwrap();
    let trusting = Client::builder()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .tls_certs_only([corporate])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    for _ in 0..2 {
        let resp = trusting
            .get("https://registry.redhat.io/v2/")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.text().await.unwrap();
        assert!(body.starts_with("GET /v2/ HTTP/1.1\n"), "{body}");
    }

    // The leaf the client gets names the host and comes from the interception CA.
    let leaf = leaf_through(&proxy, "registry.redhat.io", &corporate_pem).await;
    let contains = |name: &str| leaf.windows(name.len()).any(|w| w == name.as_bytes());
    assert!(contains("Example Corp TLS inspection CA"));
    assert!(contains("registry.redhat.io"));
    assert!(!contains("regharness world CA (proxy tests)"));
    // Issued once per host, then reused.
    assert_eq!(
        leaf_through(&proxy, "registry.redhat.io", &corporate_pem).await,
        leaf
    );
    let sso_leaf = leaf_through(&proxy, "sso.redhat.com", &corporate_pem).await;
    assert_ne!(sso_leaf, leaf);

    // A client that trusts only the world's CA sees the interception.
    let world_only = fx.client(&proxy, &fx.world_ca, None);
    let err = world_only
        .get("https://registry.redhat.io/v2/")
        .send()
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(text.contains("UnknownIssuer"), "{text}");

    // reqwest reuses the first tunnel for the second request.
    let events = proxy.events();
    let requests: Vec<(&str, u16)> = events
        .iter()
        .map(|e| (e.request.as_str(), e.status))
        .collect();
    assert_eq!(
        requests,
        [
            ("CONNECT registry.redhat.io:443 HTTP/1.1", 200),
            ("CONNECT registry.redhat.io:443 HTTP/1.1", 200),
            ("CONNECT registry.redhat.io:443 HTTP/1.1", 200),
            ("CONNECT sso.redhat.com:443 HTTP/1.1", 200),
            ("CONNECT registry.redhat.io:443 HTTP/1.1", 200),
        ]
    );
    assert!(events[0].bytes_up > 0 && events[0].bytes_down > 0);
}

#[tokio::test]
async fn interception_answers_503_when_the_origin_is_not_trusted() {
    let fx = Fixture::new().await;
    let corporate = CertificateAuthority::generate("Example Corp inspection CA 2").unwrap();
    let other = CertificateAuthority::generate("some other root").unwrap();
    let corporate_client_ca = corporate.certificate_pem().to_string();
    let proxy = fx
        .proxy()
        .intercept(corporate, other.certificate_pem())
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .tls_certs_only([Certificate::from_pem(corporate_client_ca.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let resp = client
        .get("https://registry.redhat.io/v2/?x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.headers()["x-squid-error"],
        "ERR_SECURE_CONNECT_FAIL 71"
    );
    let body = resp.text().await.unwrap();
    assert!(body
        .contains("<p><b>Failed to establish a secure connection to registry.redhat.io</b></p>"));
    assert!(
        body.contains("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
        "{body}"
    );

    let events = proxy.events();
    assert_eq!(events[0].status, 200);
    assert_eq!(
        events[1],
        event(
            "GET https://registry.redhat.io/v2/?x=1 HTTP/1.1",
            503,
            "Service Unavailable"
        )
    );
}

#[tokio::test]
async fn intercept_rejects_roots_without_certificates() {
    let fx = Fixture::new().await;
    let ca = CertificateAuthority::generate("unused inspection CA").unwrap();
    let err = fx
        .proxy()
        .intercept(ca, "not a pem")
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("upstream roots"), "{err}");
}

#[tokio::test]
async fn plain_http_is_forwarded_in_origin_form() {
    let fx = Fixture::new().await;
    let proxy = fx
        .proxy()
        .allow("insecure.example")
        .basic_auth(USER, PASSWORD)
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .proxy(Proxy::http(proxy.url()).unwrap().basic_auth(USER, PASSWORD))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let resp = client
        .get("http://insecure.example:5000/v2/library/app/manifests/latest?n=1")
        .header("x-forwarded-for", "10.1.2.3")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-backend"], "echo");
    assert_eq!(resp.headers()["via"], "1.1 proxy.example.com (squid/5.7)");
    assert_eq!(resp.headers()["x-cache"], "MISS from proxy.example.com");
    assert_eq!(resp.headers()["connection"], "close");
    let body = resp.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("GET /v2/library/app/manifests/latest?n=1 HTTP/1.1")
    );
    let headers: Vec<&str> = lines.collect();
    assert!(headers.contains(&"host: insecure.example:5000"), "{body}");
    assert!(
        headers.contains(&"via: 1.1 proxy.example.com (squid/5.7)"),
        "{body}"
    );
    assert!(
        headers.contains(&"x-forwarded-for: 10.1.2.3, 127.0.0.1"),
        "{body}"
    );
    assert!(headers.contains(&"connection: close"), "{body}");
    assert!(
        !body.to_lowercase().contains("proxy-"),
        "proxy headers are not forwarded: {body}"
    );

    // Raw: HTTP/1.0-style absolute URL without Host, default port 80 mapping.
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let answer = exchange(
        &mut raw,
        &format!(
            "GET http://insecure.example/v2/ HTTP/1.1\r\n{}\r\n",
            basic(USER, PASSWORD)
        ),
    )
    .await;
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
    let names = answer.names();
    assert_eq!(
        names[names.len() - 4..],
        ["X-Cache", "X-Cache-Lookup", "Via", "Connection"],
        "squid's headers close the relayed head"
    );
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(
        answer
            .body
            .starts_with("GET /v2/ HTTP/1.1\nhost: insecure.example\n"),
        "{}",
        answer.body
    );
    assert!(closes(&mut raw).await);

    // The allow-list and authentication apply to plain HTTP too.
    let mut raw = TcpStream::connect(proxy.addr()).await.unwrap();
    let denied = exchange(
        &mut raw,
        &format!(
            "GET http://registry.redhat.io/v2/ HTTP/1.1\r\nHost: registry.redhat.io\r\n{}\r\n",
            basic(USER, PASSWORD)
        ),
    )
    .await;
    assert_squid_error(&denied, "HTTP/1.1 403 Forbidden", "ERR_ACCESS_DENIED 0");
    assert!(denied
        .body
        .contains("<a href=\"http://registry.redhat.io/v2/\">"));
    let unauthenticated = exchange(
        &mut raw,
        "GET http://insecure.example:5000/v2/ HTTP/1.1\r\nHost: insecure.example:5000\r\n\r\n",
    )
    .await;
    assert_eq!(
        unauthenticated.status_line,
        "HTTP/1.1 407 Proxy Authentication Required"
    );
    // Not a proxy request: squid's 400 ERR_INVALID_URL.
    let origin_form = exchange(&mut raw, "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_squid_error(
        &origin_form,
        "HTTP/1.1 400 Bad Request",
        "ERR_INVALID_URL 0",
    );
    // ... and closes the connection.
    assert_eq!(origin_form.header("connection"), Some("close"));
    assert!(closes(&mut raw).await);

    let events = proxy.events();
    assert_eq!(
        events[0].request,
        "GET http://insecure.example:5000/v2/library/app/manifests/latest?n=1 HTTP/1.1"
    );
    assert_eq!((events[0].status, events[0].reason.as_str()), (200, "OK"));
    assert_eq!(
        events[0].proxy_authorization.as_deref(),
        Some("Basic [redacted]")
    );
    assert!(
        events[0].bytes_up > 100 && events[0].bytes_down > 200,
        "{events:#?}"
    );
    assert_eq!(
        events[1..]
            .iter()
            .map(|e| (e.status, e.request.as_str()))
            .collect::<Vec<_>>(),
        [
            (200, "GET http://insecure.example/v2/ HTTP/1.1"),
            (403, "GET http://registry.redhat.io/v2/ HTTP/1.1"),
            (407, "GET http://insecure.example:5000/v2/ HTTP/1.1"),
            (400, "GET /v2/ HTTP/1.1"),
        ]
    );
    let json = serde_json::to_string(&events).unwrap();
    assert!(!json.contains(PASSWORD));
}

#[tokio::test]
async fn dropping_the_proxy_closes_listener_and_tunnels() {
    let fx = Fixture::new().await;
    let proxy = fx.proxy().start().await.unwrap();
    let addr = proxy.addr();
    let mut tunnel = TcpStream::connect(addr).await.unwrap();
    tunnel
        .write_all(connect_request("insecure.example:80", "").as_bytes())
        .await
        .unwrap();
    let mut got = [0u8; 39];
    tunnel.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"HTTP/1.1 200 Connection established\r\n\r\n");

    drop(proxy);
    assert!(closes(&mut tunnel).await, "the open tunnel is closed");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}

/// Bulk throughput through a CONNECT tunnel (both directions), reported in MB/s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored"]
async fn tunnel_throughput() {
    const TOTAL: usize = 1 << 30;
    // An origin that sends TOTAL bytes, then counts what it receives.
    let origin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin_addr = origin.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = origin.accept().await.unwrap();
        let chunk = vec![0x5a_u8; 256 * 1024];
        let mut sent = 0;
        while sent < TOTAL {
            s.write_all(&chunk).await.unwrap();
            sent += chunk.len();
        }
        let mut sink = vec![0u8; 256 * 1024];
        let mut received = 0;
        while received < TOTAL {
            let n = s.read(&mut sink).await.unwrap();
            assert!(n > 0);
            received += n;
        }
        s.write_all(b"done").await.unwrap();
    });
    let upstream = regharness_mocks::StaticUpstream::new().host("bulk.example", origin_addr);
    let proxy = MockProxy::builder(Arc::new(upstream))
        .start()
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client
        .write_all(connect_request("bulk.example:443", "").as_bytes())
        .await
        .unwrap();
    let mut ok = [0u8; 39];
    client.read_exact(&mut ok).await.unwrap();

    let started = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let mut received = 0;
    while received < TOTAL {
        let n = client.read(&mut buf).await.unwrap();
        assert!(n > 0);
        received += n;
    }
    let down = started.elapsed();
    let started = Instant::now();
    let chunk = vec![0xa5_u8; 256 * 1024];
    let mut sent = 0;
    while sent < TOTAL {
        client.write_all(&chunk).await.unwrap();
        sent += chunk.len();
    }
    let mut done = [0u8; 4];
    client.read_exact(&mut done).await.unwrap();
    let up = started.elapsed();
    let mb = TOTAL as f64 / 1e6;
    println!(
        "tunnel throughput: down {:.0} MB/s, up {:.0} MB/s",
        mb / down.as_secs_f64(),
        mb / up.as_secs_f64()
    );
    let event = &proxy.events()[0];
    assert_eq!(event.bytes_down, TOTAL as u64 + 4);
    assert_eq!(event.bytes_up, TOTAL as u64);
}
