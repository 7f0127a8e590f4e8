//! The firewall with real sockets: each verdict as a client sees it, rule matching, and
//! the sockets' lifetime.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regharness_mocks::firewall::{Firewall, RouteError, Verdict};
use regharness_mocks::{CertificateAuthority, TlsFront};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// A server that sends `blob` to every client, then closes the connection.
async fn blob_server(blob: Arc<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let blob = blob.clone();
            tokio::spawn(async move {
                let _ = stream.write_all(&blob).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// A server that echoes what it reads.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

/// `len` bytes that differ from one position to the next.
fn blob(len: usize) -> Arc<Vec<u8>> {
    Arc::new((0..len).map(|i| (i % 251) as u8).collect())
}

/// Reads until end of stream or error: the bytes read and how reading ended.
async fn read_all<R: AsyncRead + Unpin>(reader: &mut R) -> (Vec<u8>, std::io::Result<()>) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e)),
        }
    }
}

/// Retries `connect` until it is refused (a socket closing is asynchronous).
async fn eventually_refused(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match timeout(Duration::from_millis(500), TcpStream::connect(addr)).await {
            Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => return,
            other => assert!(Instant::now() < deadline, "{addr} still answers: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn first_matching_rule_wins() {
    let firewall = Firewall::new()
        .rule("sso.redhat.com", Some(443), Verdict::Reject)
        .rule("*.redhat.io", Some(443), Verdict::Drop)
        .rule("registry.redhat.io", None, Verdict::DnsFailure)
        .rule("cdn.quay.io", None, Verdict::Reset { after_bytes: 10 })
        .rule("*.quay.io", None, Verdict::Allow)
        .rule("quay.io", Some(443), Verdict::Reject)
        .rule("*", Some(5000), Verdict::DnsFailure);

    // Exact names, on the rule's port only.
    assert_eq!(firewall.verdict("sso.redhat.com", 443), Verdict::Reject);
    assert_eq!(firewall.verdict("sso.redhat.com", 80), Verdict::Allow);
    // Case and a trailing dot do not matter.
    assert_eq!(firewall.verdict("SSO.RedHat.com.", 443), Verdict::Reject);

    // `*.redhat.io` comes first and shadows the exact rule on port 443 only.
    assert_eq!(firewall.verdict("registry.redhat.io", 443), Verdict::Drop);
    assert_eq!(
        firewall.verdict("registry.redhat.io", 80),
        Verdict::DnsFailure
    );
    // Subdomains at any depth, not the domain itself nor a name that merely ends alike.
    assert_eq!(firewall.verdict("a.b.redhat.io", 443), Verdict::Drop);
    assert_eq!(firewall.verdict("redhat.io", 443), Verdict::Allow);
    assert_eq!(firewall.verdict("notredhat.io", 443), Verdict::Allow);

    // The exact rule comes before the wildcard that would allow it.
    assert_eq!(
        firewall.verdict("cdn.quay.io", 443),
        Verdict::Reset { after_bytes: 10 }
    );
    assert_eq!(firewall.verdict("www.quay.io", 443), Verdict::Allow);
    assert_eq!(firewall.verdict("quay.io", 443), Verdict::Reject);

    // `*` on a port; earlier rules still win on it.
    assert_eq!(firewall.verdict("example.org", 5000), Verdict::DnsFailure);
    assert_eq!(firewall.verdict("www.quay.io", 5000), Verdict::Allow);
    assert_eq!(firewall.verdict("example.org", 5001), Verdict::Allow);

    // Without rules, everything is allowed.
    assert_eq!(Firewall::new().verdict("example.org", 443), Verdict::Allow);
}

#[test]
fn malformed_wildcards_only_match_literally() {
    let firewall = Firewall::new()
        .rule("*example.com", None, Verdict::Reject)
        .rule("registry.*", None, Verdict::Drop);
    assert_eq!(firewall.verdict("www.example.com", 443), Verdict::Allow);
    assert_eq!(firewall.verdict("badexample.com", 443), Verdict::Allow);
    assert_eq!(firewall.verdict("*example.com", 443), Verdict::Reject);
    assert_eq!(firewall.verdict("registry.example", 443), Verdict::Allow);
    assert_eq!(firewall.verdict("registry.*", 443), Verdict::Drop);
}

#[test]
fn verdicts_in_kebab_case() {
    let all = [
        (Verdict::Allow, r#""allow""#),
        (Verdict::Reject, r#""reject""#),
        (Verdict::Drop, r#""drop""#),
        (
            Verdict::Reset {
                after_bytes: 1048576,
            },
            r#"{"reset":{"after_bytes":1048576}}"#,
        ),
        (Verdict::DnsFailure, r#""dns-failure""#),
    ];
    for (verdict, json) in all {
        assert_eq!(serde_json::to_string(&verdict).unwrap(), json);
        assert_eq!(serde_json::from_str::<Verdict>(json).unwrap(), verdict);
    }
    assert!(serde_json::from_str::<Verdict>(r#""dns_failure""#).is_err());
}

#[test]
fn a_rule_added_to_a_cloned_firewall_leaves_the_clone_alone() {
    let first = Firewall::new().rule("a.example", None, Verdict::Reject);
    let clone = first.clone();
    let second = first.rule("b.example", None, Verdict::Drop);
    assert_eq!(clone.verdict("b.example", 443), Verdict::Allow);
    assert_eq!(second.verdict("a.example", 443), Verdict::Reject);
    assert_eq!(second.verdict("b.example", 443), Verdict::Drop);
}

#[tokio::test]
async fn allow_routes_to_the_server() {
    let real = echo_server().await;
    let firewall = Firewall::new().rule("blocked.example", None, Verdict::Reject);
    for (host, port) in [("registry.example", 443), ("blocked.example.net", 443)] {
        assert_eq!(firewall.route(host, port, real).await.unwrap(), real);
    }
    let firewall = firewall.rule("allowed.example", None, Verdict::Allow);
    let addr = firewall.route("allowed.example", 443, real).await.unwrap();
    assert_eq!(addr, real);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
}

#[tokio::test]
async fn dns_failure_does_not_resolve() {
    let real = echo_server().await;
    let firewall = Firewall::new().rule("*.internal.example", None, Verdict::DnsFailure);
    let err = firewall
        .route("Mirror.Internal.Example", 443, real)
        .await
        .unwrap_err();
    match &err {
        RouteError::DnsFailure { host } => assert_eq!(host, "Mirror.Internal.Example"),
        other => panic!("expected a DNS failure, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "lookup Mirror.Internal.Example: no such host"
    );
    // Other names still resolve.
    assert_eq!(
        firewall.route("internal.example", 443, real).await.unwrap(),
        real
    );
}

#[tokio::test]
async fn reject_refuses_at_once_on_a_reserved_port() {
    let real = blob_server(blob(100)).await;
    let firewall = Firewall::new().rule("sso.example", Some(443), Verdict::Reject);
    let closed = firewall.route("sso.example", 443, real).await.unwrap();
    assert_ne!(closed, real);
    assert!(closed.ip().is_loopback());
    // The same socket for every route through the rule.
    assert_eq!(
        firewall.route("SSO.example", 443, real).await.unwrap(),
        closed
    );

    for _ in 0..3 {
        let started = Instant::now();
        let err = timeout(Duration::from_secs(5), TcpStream::connect(closed))
            .await
            .expect("a rejected connect must not hang")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    // The port stays reserved while the firewall lives: nobody else can listen there.
    let err = TcpListener::bind(closed).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    // The allowed port of the same host reaches the server.
    assert_eq!(firewall.route("sso.example", 80, real).await.unwrap(), real);

    drop(firewall);
    TcpListener::bind(closed)
        .await
        .expect("the port is released with the firewall");
}

#[tokio::test]
async fn drop_blackholes_until_the_client_times_out() {
    let real = blob_server(blob(100)).await;
    let firewall = Firewall::new().rule("*.example", None, Verdict::Drop);
    let hole = firewall.route("registry.example", 443, real).await.unwrap();
    assert_ne!(hole, real);
    // One blackhole per rule, whatever the host and port.
    assert_eq!(
        firewall.route("sso.example", 8443, real).await.unwrap(),
        hole
    );

    // Consecutive connections all hang until the client's timeout: never refused,
    // never accepted.
    for attempt in 0..3 {
        let started = Instant::now();
        let result = timeout(Duration::from_secs(1), TcpStream::connect(hole)).await;
        assert!(
            result.is_err(),
            "attempt {attempt}: connect to the blackhole ended with {result:?}"
        );
        assert!(started.elapsed() >= Duration::from_millis(990));
    }

    // So do concurrent ones.
    let attempts: Vec<_> = (0..4)
        .map(|_| tokio::spawn(timeout(Duration::from_secs(1), TcpStream::connect(hole))))
        .collect();
    for attempt in attempts {
        let result = attempt.await.unwrap();
        assert!(result.is_err(), "concurrent connect ended with {result:?}");
    }

    drop(firewall);
    eventually_refused(hole).await;
}

#[tokio::test]
async fn reset_after_bytes_in_the_middle_of_a_blob() {
    let payload = blob(1 << 20);
    let real = blob_server(payload.clone()).await;
    let firewall = Firewall::new().rule(
        "cdn.example",
        None,
        Verdict::Reset {
            after_bytes: 300_000,
        },
    );
    let relay = firewall.route("cdn.example", 443, real).await.unwrap();
    assert_ne!(relay, real);
    assert_eq!(
        firewall.route("cdn.example", 443, real).await.unwrap(),
        relay
    );

    // A prompt reader and a late one (the relay must wait for the client's kernel to
    // take all the bytes before it resets, or the RST would discard some).
    for delay in [Duration::ZERO, Duration::from_millis(300)] {
        let mut stream = TcpStream::connect(relay).await.unwrap();
        tokio::time::sleep(delay).await;
        let (got, end) = timeout(Duration::from_secs(10), read_all(&mut stream))
            .await
            .unwrap();
        let err = end.expect_err("the connection must be reset");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        assert_eq!(
            got.len(),
            300_000,
            "bytes before the reset (delay {delay:?})"
        );
        assert_eq!(got[..], payload[..300_000]);
    }
}

#[tokio::test]
async fn reset_spares_a_server_that_sends_less() {
    let payload = blob(50_000);
    let real = blob_server(payload.clone()).await;
    let firewall = Firewall::new().rule(
        "cdn.example",
        None,
        Verdict::Reset {
            after_bytes: 50_000,
        },
    );
    let relay = firewall.route("cdn.example", 443, real).await.unwrap();
    let mut stream = TcpStream::connect(relay).await.unwrap();
    let (got, end) = read_all(&mut stream).await;
    end.expect("a server within the limit ends the connection normally");
    assert_eq!(got, *payload);
}

#[tokio::test]
async fn reset_counts_only_server_bytes() {
    let real = echo_server().await;
    let firewall = Firewall::new().rule("echo.example", None, Verdict::Reset { after_bytes: 10 });
    let relay = firewall.route("echo.example", 7, real).await.unwrap();
    let mut stream = TcpStream::connect(relay).await.unwrap();

    // The client's bytes pass freely; the server's first 10 bytes come back.
    stream.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");
    stream.write_all(b"world!").await.unwrap();
    let (got, end) = timeout(Duration::from_secs(5), read_all(&mut stream))
        .await
        .unwrap();
    assert_eq!(got, b"world");
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ConnectionReset);

    // Each connection has its own count.
    let mut stream = TcpStream::connect(relay).await.unwrap();
    stream.write_all(b"0123456789").await.unwrap();
    let mut buf = [0u8; 10];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"0123456789");
}

#[tokio::test]
async fn reset_with_zero_bytes_resets_on_the_first_server_byte() {
    let real = blob_server(blob(10)).await;
    let firewall = Firewall::new().rule("cdn.example", None, Verdict::Reset { after_bytes: 0 });
    let relay = firewall.route("cdn.example", 443, real).await.unwrap();
    let mut stream = TcpStream::connect(relay).await.unwrap();
    let (got, end) = read_all(&mut stream).await;
    assert!(got.is_empty());
    assert_eq!(end.unwrap_err().kind(), ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn reset_relays_one_per_server() {
    let (a, b) = (echo_server().await, echo_server().await);
    let firewall = Firewall::new()
        .rule("*.example", None, Verdict::Reset { after_bytes: 1 })
        .rule("*.example.org", None, Verdict::Reset { after_bytes: 1 });
    let relay_a = firewall.route("a.example", 443, a).await.unwrap();
    let relay_b = firewall.route("b.example", 443, b).await.unwrap();
    let relay_a_other_rule = firewall.route("a.example.org", 443, a).await.unwrap();
    assert_ne!(relay_a, relay_b);
    assert_ne!(relay_a, relay_a_other_rule);
    assert_eq!(firewall.route("c.example", 80, a).await.unwrap(), relay_a);
}

/// A TLS client that trusts `ca`, connected to `addr` for `host`.
async fn tls_connect(
    ca: &CertificateAuthority,
    host: &str,
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.certificate_der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await?;
    connector
        .connect(ServerName::try_from(host.to_string()).unwrap(), tcp)
        .await
}

#[tokio::test]
async fn reset_relays_tls_byte_for_byte() {
    let payload = blob(400_000);
    let backend = blob_server(payload.clone()).await;
    let ca = CertificateAuthority::generate("firewall test CA").unwrap();
    let front = TlsFront::start(&ca.issue(&["cdn.example"]).unwrap(), backend)
        .await
        .unwrap();
    let firewall = Firewall::new()
        .rule(
            "cdn.example",
            Some(443),
            Verdict::Reset {
                after_bytes: 100_000,
            },
        )
        .rule(
            "cdn.example",
            Some(8443),
            Verdict::Reset {
                after_bytes: 10_000_000,
            },
        );

    // Under the limit, the TLS session is untouched: handshake, all the data, close.
    let relay = firewall
        .route("cdn.example", 8443, front.addr())
        .await
        .unwrap();
    let mut tls = tls_connect(&ca, "cdn.example", relay).await.unwrap();
    let (got, end) = timeout(Duration::from_secs(10), read_all(&mut tls))
        .await
        .unwrap();
    end.unwrap();
    assert_eq!(got, *payload);

    // Over it, the handshake works and the download is cut by an RST.
    let relay = firewall
        .route("cdn.example", 443, front.addr())
        .await
        .unwrap();
    let mut tls = tls_connect(&ca, "cdn.example", relay).await.unwrap();
    let (got, end) = timeout(Duration::from_secs(10), read_all(&mut tls))
        .await
        .unwrap();
    let err = end.expect_err("the download must be cut");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    // The client gets the records that arrived whole: most of 100,000 bytes, minus the
    // handshake and the records' overhead.
    assert!(
        (80_000..100_000).contains(&got.len()),
        "{} bytes before the reset",
        got.len()
    );
    assert_eq!(got[..], payload[..got.len()]);
}

#[tokio::test]
async fn sockets_close_with_the_last_clone() {
    let real = echo_server().await;
    let firewall = Firewall::new()
        .rule("hole.example", None, Verdict::Drop)
        .rule("cut.example", None, Verdict::Reset { after_bytes: 100 });
    let hole = firewall.route("hole.example", 443, real).await.unwrap();
    let relay = firewall.route("cut.example", 443, real).await.unwrap();
    let clone = firewall.clone();
    drop(firewall);

    // The clone keeps them.
    assert_eq!(clone.route("hole.example", 443, real).await.unwrap(), hole);
    assert!(
        timeout(Duration::from_millis(300), TcpStream::connect(hole))
            .await
            .is_err()
    );
    let mut stream = TcpStream::connect(relay).await.unwrap();
    stream.write_all(b"still there").await.unwrap();
    let mut buf = [0u8; 11];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"still there");

    drop(clone);
    eventually_refused(hole).await;
    eventually_refused(relay).await;
    // The relay's open connection is closed too.
    let (_, end) = timeout(Duration::from_secs(2), read_all(&mut stream))
        .await
        .unwrap();
    end.unwrap();
}
