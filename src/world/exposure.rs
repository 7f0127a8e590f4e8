//! The world made reachable for external programs (skopeo, podman, curl).
//!
//! A real program cannot use the world's name service: it resolves names with the
//! system resolver, where `registry.redhat.io` is the real one. So the world is exposed
//! through an allow-all forward proxy on 127.0.0.1 whose upstream connections go through
//! the world's names (the client side of the firewall, like the builtin client): the
//! program is told to use the proxy for `https://` (CONNECT tunnels) and `http://`
//! (absolute-form requests, for plain-HTTP registries), and to trust the world's CA.
//!
//! Ports: the world maps a NAME to the one address that serves it, whatever port a
//! client asks for (`network::WorldNames` passes the port to the firewall rules only).
//! So `CONNECT reg1.io:443` reaches the registry's TLS front, and `GET
//! http://insecure.com/v2/` (port 80) reaches a `plain_http` registry's own listener,
//! which is the address the world maps that name to. A TLS client that CONNECTs to a
//! plain-HTTP registry gets the plain HTTP answer, as on a real network.
//!
//! Limit: the program always talks to a proxy, so what the world's firewall does to
//! the client's direct connections (reject, drop, DNS failure) reaches it as the
//! proxy's answer (`503 Service Unavailable`, squid's `ERR_CONNECT_FAIL` or
//! `ERR_DNS_FAIL`) rather than as a refused or silent connection.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use regharness_mocks::proxy::{MockProxy, RunningProxy};

use super::{cluster, World, WorldError};

/// squid's `visible_hostname` of the exposure's proxy (shown in `Via` and error pages).
pub const PROXY_HOSTNAME: &str = "regharness-exposure";

/// The world made reachable for external programs: an allow-all forward proxy whose
/// upstream is the world's name service (virtual host names → loopback addresses; same
/// firewall side as the builtin client), plus the files a program needs.
///
/// ```
/// use regharness::redact::SecretSet;
/// use regharness::scenario::model::WorldSpec;
/// use regharness::world::{exposure::WorldExposure, World};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let world = World::start(&WorldSpec::default(), SecretSet::default()).await.unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let exposure = WorldExposure::start(&world, dir.path()).await.unwrap();
///
/// assert!(exposure.proxy_url().starts_with("http://127.0.0.1:"));
/// assert!(exposure.cert_dir().join("registry.redhat.io/ca.crt").is_file());
/// let env = exposure.go_env();
/// assert!(env.contains(&("HTTPS_PROXY".to_string(), exposure.proxy_url().to_string())));
/// # });
/// ```
pub struct WorldExposure {
    /// Kept for its lifetime: dropping it stops the listener and every tunnel.
    proxy: RunningProxy,
    proxy_url: String,
    ca_file: PathBuf,
    cert_dir: PathBuf,
}

impl std::fmt::Debug for WorldExposure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorldExposure")
            .field("proxy_url", &self.proxy_url)
            .field("ca_file", &self.ca_file)
            .field("cert_dir", &self.cert_dir)
            .finish_non_exhaustive()
    }
}

impl WorldExposure {
    /// Writes the world's CA into `dir` (created if missing) and starts the proxy. The
    /// proxy lives as long as the returned value; the world must outlive it.
    pub async fn start(world: &World, dir: &Path) -> Result<Self, WorldError> {
        let ca_file = dir.join("ca.pem");
        let cert_dir = dir.join("certs.d");
        write_file(&ca_file, world.ca_pem())?;
        for host in cert_dir_hosts(world) {
            write_file(&cert_dir.join(&host).join("ca.crt"), world.ca_pem())?;
        }
        let proxy = MockProxy::builder(Arc::new(world.names().clone()))
            .timeout(world.timeout())
            .visible_hostname(PROXY_HOSTNAME)
            .start()
            .await
            .map_err(|e| WorldError::Invalid(format!("exposure proxy: {e}")))?;
        Ok(Self {
            proxy_url: proxy.url(),
            proxy,
            ca_file,
            cert_dir,
        })
    }

    /// The proxy's URL: `http://127.0.0.1:PORT`.
    pub fn proxy_url(&self) -> &str {
        &self.proxy_url
    }

    /// `dir/ca.pem`: the world CA (a PEM bundle).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// `dir/certs.d`, with `<host>/ca.crt` for every virtual host of the world (and
    /// `<host>:5000/ca.crt` for the internal registry): the layout of
    /// `/etc/containers/certs.d`, for podman's and skopeo's `--cert-dir`.
    pub fn cert_dir(&self) -> &Path {
        &self.cert_dir
    }

    /// What the proxy saw so far (one event per CONNECT or plain-HTTP request).
    pub fn proxy_events(&self) -> Vec<regharness_mocks::proxy::ProxyEvent> {
        self.proxy.events()
    }

    /// Environment for a Go program (skopeo, podman): `HTTPS_PROXY` and `HTTP_PROXY`
    /// (plain-HTTP registries go through the proxy in absolute form), `NO_PROXY=""`, and
    /// `SSL_CERT_FILE` = [`ca_file`](Self::ca_file) (Go's x509 reads it on Linux for its
    /// system pool; the directories of `/etc/ssl/certs` still count too).
    ///
    /// Each proxy variable comes with its lower-case twin: Go prefers the upper-case
    /// name but treats an empty value as unset, so `NO_PROXY=""` alone would let an
    /// inherited `no_proxy` through. Callers should still start the program with a
    /// cleared environment.
    pub fn go_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for (name, value) in [
            ("HTTPS_PROXY", self.proxy_url.as_str()),
            ("HTTP_PROXY", self.proxy_url.as_str()),
            ("NO_PROXY", ""),
        ] {
            env.push((name.to_string(), value.to_string()));
            env.push((name.to_ascii_lowercase(), value.to_string()));
        }
        env.push((
            "SSL_CERT_FILE".to_string(),
            self.ca_file.display().to_string(),
        ));
        env
    }
}

/// The `certs.d` folder names: every name of the world, and the internal registry's
/// names with their port (containers/image looks up `certs.d/<host:port>` for a
/// reference that names a port).
fn cert_dir_hosts(world: &World) -> Vec<String> {
    let mut hosts = world.hosts().names();
    if world.internal_registry().is_some() {
        hosts.push(cluster::INTERNAL_REGISTRY.to_string());
        hosts.push(cluster::INTERNAL_REGISTRY_FQDN.to_string());
    }
    hosts.retain(|h| !h.is_empty() && !h.contains('/') && h != "." && h != "..");
    hosts
}

fn write_file(path: &Path, text: &str) -> Result<(), WorldError> {
    let fail =
        |e: std::io::Error| WorldError::Invalid(format!("exposure: {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::SecretSet;
    use crate::scenario::model::WorldSpec;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn world(yaml: &str) -> World {
        let spec: WorldSpec = serde_saphyr::from_str(yaml).expect("world spec");
        World::start(&spec, SecretSet::default())
            .await
            .expect("world")
    }

    const TWO_REGISTRIES: &str = "
registries:
  - {host: reg1.io, auth: anonymous, images: [\"team/app:1.0\"]}
  - {host: insecure.com, auth: anonymous, images: [\"team/app:1.0\"], plain_http: true}
";

    /// Reads until the end of the response head and returns its first line.
    async fn status_line<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&head)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[tokio::test]
    async fn files_and_environment() {
        let world = world(TWO_REGISTRIES).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let exposure = WorldExposure::start(&world, dir.path())
            .await
            .expect("exposure");
        assert_eq!(exposure.ca_file(), dir.path().join("ca.pem"));
        assert_eq!(
            std::fs::read_to_string(exposure.ca_file()).expect("ca.pem"),
            world.ca_pem()
        );
        let mut listed: Vec<String> = std::fs::read_dir(exposure.cert_dir())
            .expect("certs.d")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        listed.sort();
        // The SSO's name comes from the default world spec.
        assert_eq!(listed, vec!["insecure.com", "reg1.io", world.sso_host()]);
        for host in &listed {
            let crt = exposure.cert_dir().join(host).join("ca.crt");
            assert_eq!(
                std::fs::read_to_string(crt).expect("ca.crt"),
                world.ca_pem()
            );
        }
        let env = exposure.go_env();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let url = exposure.proxy_url();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert_eq!(get("HTTPS_PROXY"), Some(url));
        assert_eq!(get("https_proxy"), Some(url));
        assert_eq!(get("HTTP_PROXY"), Some(url));
        assert_eq!(get("NO_PROXY"), Some(""));
        assert_eq!(get("no_proxy"), Some(""));
        assert_eq!(
            get("SSL_CERT_FILE").map(PathBuf::from),
            Some(exposure.ca_file().to_path_buf())
        );
    }

    #[tokio::test]
    async fn tls_on_443_and_plain_http_on_80_reach_their_registries() {
        let world = world(TWO_REGISTRIES).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let exposure = WorldExposure::start(&world, dir.path())
            .await
            .expect("exposure");
        let proxy_addr = exposure
            .proxy_url()
            .trim_start_matches("http://")
            .to_string();

        // TLS on 443: CONNECT, then a handshake that verifies the world CA for reg1.io.
        let mut tcp = tokio::net::TcpStream::connect(&proxy_addr)
            .await
            .expect("proxy");
        tcp.write_all(b"CONNECT reg1.io:443 HTTP/1.1\r\nHost: reg1.io:443\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(
            status_line(&mut tcp).await,
            "HTTP/1.1 200 Connection established"
        );
        let mut roots = rustls::RootCertStore::empty();
        {
            use rustls::pki_types::pem::PemObject;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(world.ca_pem().as_bytes())
            {
                roots.add(cert.expect("pem")).expect("root");
            }
        }
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from("reg1.io").expect("name");
        let mut tls = connector.connect(name, tcp).await.expect("TLS to reg1.io");
        tls.write_all(b"GET /v2/ HTTP/1.1\r\nHost: reg1.io\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(status_line(&mut tls).await, "HTTP/1.1 200 OK");

        // Plain HTTP on 80, absolute form.
        let mut tcp = tokio::net::TcpStream::connect(&proxy_addr)
            .await
            .expect("proxy");
        tcp.write_all(
            b"GET http://insecure.com/v2/ HTTP/1.1\r\nHost: insecure.com\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("write");
        assert_eq!(status_line(&mut tcp).await, "HTTP/1.1 200 OK");

        let requests: Vec<String> = exposure
            .proxy_events()
            .into_iter()
            .map(|e| format!("{} -> {}", e.request, e.status))
            .collect();
        assert_eq!(
            requests,
            vec![
                "CONNECT reg1.io:443 HTTP/1.1 -> 200",
                "GET http://insecure.com/v2/ HTTP/1.1 -> 200",
            ]
        );
    }

    #[tokio::test]
    async fn names_outside_the_world_do_not_resolve() {
        let world = world(TWO_REGISTRIES).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let exposure = WorldExposure::start(&world, dir.path())
            .await
            .expect("exposure");
        let proxy_addr = exposure.proxy_url().trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(proxy_addr)
            .await
            .expect("proxy");
        tcp.write_all(b"CONNECT quay.io:443 HTTP/1.1\r\nHost: quay.io:443\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(
            status_line(&mut tcp).await,
            "HTTP/1.1 503 Service Unavailable"
        );
    }
}
