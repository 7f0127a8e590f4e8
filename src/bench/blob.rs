//! The blob rows: one big layer pulled with the builtin client ([`HttpSession`], the
//! client every scenario step uses: it buffers the body and hashes it for the
//! transcript) from the mock registry and from a real distribution (plain HTTP on
//! loopback), then through the mock proxy and through a real squid (`CONNECT` and TLS to
//! the mock registry's TLS front).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regharness_mocks::distribution::Distribution;
use regharness_mocks::proxy::{MockProxy, RunningProxy, StaticUpstream};
use regharness_mocks::registry::{export_content, ExportedRepository};
use regharness_mocks::squid::{Squid, SquidConfig};
use regharness_mocks::{
    AuthMode, CertificateAuthority, ImageSpec, MockRegistry, RunningRegistry, TlsFront,
    TokenService,
};

use super::{program_version, Measurement, Row, RowResult};
use crate::client::http::{Auth, HttpClient, HttpSession};
use crate::client::proxy_env::ProxySettings;
use crate::client::transport::{SystemNameService, TransportConfig};

/// The repository holding the blob.
pub const REPOSITORY: &str = "bench/blob";
/// The virtual host name of the mock registry's TLS front (reached through proxies).
pub const HOST: &str = "bench.example.com";
/// Bound of connecting (and of a proxy's answer, and of the TLS handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors setting up the blob rows (shared by all of them).
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content, the mock registry, its TLS front or the mock proxy did not start.
    #[error("{0}")]
    Setup(String),
}

/// The blob, the mock registry serving it, and the pieces in front of it.
pub struct BlobWorld {
    digest: String,
    size: usize,
    content: Vec<ExportedRepository>,
    registry: RunningRegistry,
    ca: CertificateAuthority,
    _front: TlsFront,
    proxy: RunningProxy,
    timeout: Duration,
}

impl BlobWorld {
    /// Generates an image whose one layer holds `size` pseudo-random bytes (the gzip'd
    /// layer is a little larger) and serves it from an anonymous mock registry, behind
    /// a TLS front for [`HOST`] and an allow-all mock proxy. `timeout` bounds each pull.
    pub async fn start(size: usize, timeout: Duration) -> Result<Self, BlobError> {
        let setup = |what: &str| {
            let what = what.to_string();
            move |e: String| BlobError::Setup(format!("{what}: {e}"))
        };
        let spec = ImageSpec::docker(REPOSITORY, "latest").layer_size(size);
        let specs = vec![spec.clone()];
        let content = tokio::task::spawn_blocking(move || export_content(&specs))
            .await
            .map_err(|e| BlobError::Setup(e.to_string()))?
            .map_err(|e| BlobError::Setup(format!("generating the blob: {e}")))?;
        let (digest, size) = content
            .iter()
            .flat_map(|r| r.blobs.iter())
            .max_by_key(|(_, bytes)| bytes.len())
            .map(|(d, b)| (d.clone(), b.len()))
            .ok_or_else(|| BlobError::Setup("the image has no blob".into()))?;
        let registry = MockRegistry::builder(HOST)
            .auth(AuthMode::Anonymous)
            .image(spec)
            .start()
            .await
            .map_err(|e| setup("mock registry")(e.to_string()))?;
        let ca = CertificateAuthority::generate("regharness bench CA")
            .map_err(|e| setup("CA")(e.to_string()))?;
        let identity = ca
            .issue(&[HOST])
            .map_err(|e| setup("certificate")(e.to_string()))?;
        let front = TlsFront::start(&identity, registry.addr())
            .await
            .map_err(|e| setup("TLS front")(e.to_string()))?;
        let proxy = MockProxy::builder(Arc::new(StaticUpstream::new().host(HOST, front.addr())))
            .start()
            .await
            .map_err(|e| setup("mock proxy")(e.to_string()))?;
        Ok(Self {
            digest,
            size,
            content,
            registry,
            ca,
            _front: front,
            proxy,
            timeout,
        })
    }

    /// The blob's size in bytes (the gzip'd layer).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The blob's digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Pulls from the mock registry directly (plain HTTP).
    pub async fn mock_registry(&self, iterations: usize) -> Row {
        let url = self.blob_url(&format!("http://{}", self.registry.addr()));
        let result = match self.client(None) {
            Ok(client) => self.pull_n(&client, &url, iterations).await,
            Err(e) => RowResult::Failed(e),
        };
        Row::new("mock registry", "(in-process, plain HTTP)", result)
    }

    /// Pulls from a real distribution (plain HTTP, anonymous) holding the same blob.
    pub async fn distribution(&self, iterations: usize) -> Row {
        let Some(program) = Distribution::find_program() else {
            return Row::new(
                "distribution",
                "",
                RowResult::Skipped(format!(
                    "{} not installed",
                    regharness_mocks::distribution::PROGRAM
                )),
            );
        };
        let detail = program_version(&program, "--version")
            .map(|v| format!("({v}, plain HTTP)"))
            .unwrap_or_else(|| "(plain HTTP)".into());
        let result = async {
            let sso = TokenService::builder()
                .start()
                .await
                .map_err(|e| format!("token service: {e}"))?;
            let registry = Distribution::start_with(&program, &sso, None)
                .await
                .map_err(|e| format!("starting distribution: {e}"))?;
            registry
                .push_content(&sso, self.content.clone())
                .await
                .map_err(|e| format!("pushing the blob: {e}\n{}", registry.log_tail()))?;
            let client = self.client(None)?;
            let url = self.blob_url(&format!("http://{}", registry.addr()));
            Ok::<_, String>(self.pull_n(&client, &url, iterations).await)
        }
        .await
        .unwrap_or_else(RowResult::Failed);
        Row::new("distribution", &detail, result)
    }

    /// Pulls `https://HOST/...` through the mock proxy (`CONNECT`, then TLS).
    pub async fn mock_proxy(&self, iterations: usize) -> Row {
        let url = self.blob_url(&format!("https://{HOST}"));
        let result = match self.client(Some(&self.proxy.url())) {
            Ok(client) => self.pull_n(&client, &url, iterations).await,
            Err(e) => RowResult::Failed(e),
        };
        Row::new("mock proxy", "(CONNECT, TLS to the front)", result)
    }

    /// Pulls `https://HOST/...` through a real squid whose parent is the mock proxy
    /// (squid cannot resolve [`HOST`]; see `regharness_mocks::squid`).
    pub async fn squid(&self, iterations: usize) -> Row {
        let Some(program) = Squid::find_program() else {
            return Row::new(
                "squid",
                "",
                RowResult::Skipped("squid not installed".into()),
            );
        };
        let detail = program_version(&program, "-v")
            .map(|v| format!("({v}, parent: the mock proxy)"))
            .unwrap_or_else(|| "(parent: the mock proxy)".into());
        let result = async {
            let config = SquidConfig {
                allow: None,
                auth: None,
                parent: self.proxy.addr(),
            };
            let squid = Squid::start(&program, &config)
                .await
                .map_err(|e| format!("starting squid: {e}"))?;
            let client = self.client(Some(&format!("http://{}", squid.addr())))?;
            let url = self.blob_url(&format!("https://{HOST}"));
            let result = self.pull_n(&client, &url, iterations).await;
            if let RowResult::Failed(e) = result {
                return Err(format!("{e}\nsquid log (tail):\n{}", squid.log_tail()));
            }
            Ok::<_, String>(result)
        }
        .await
        .unwrap_or_else(RowResult::Failed);
        Row::new("squid", &detail, result)
    }

    fn blob_url(&self, base: &str) -> String {
        format!("{base}/v2/{REPOSITORY}/blobs/{}", self.digest)
    }

    /// The builtin client trusting the bench CA, through `proxy` if given.
    fn client(&self, proxy: Option<&str>) -> Result<HttpClient, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca.certificate_der().clone())
            .map_err(|e| format!("trusting the bench CA: {e}"))?;
        let proxy = match proxy {
            Some(url) => ProxySettings::explicit(url, &BTreeMap::new())?,
            None => ProxySettings::none(),
        };
        let transport = TransportConfig {
            names: Arc::new(SystemNameService),
            proxy,
            roots: Arc::new(roots),
            insecure: false,
            host_tls: BTreeMap::new(),
            connect_timeout: CONNECT_TIMEOUT,
        };
        HttpClient::new(transport, self.timeout).map_err(|e| format!("HTTP client: {e}"))
    }

    /// `iterations` pulls of `url`, each checked (200, every byte).
    async fn pull_n(&self, client: &HttpClient, url: &str, iterations: usize) -> RowResult {
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations.max(1) {
            match pull(client, url, self.size).await {
                Ok(d) => times.push(d),
                Err(e) => return RowResult::Failed(e),
            }
        }
        RowResult::Measured(Measurement::new(times, Some(self.size as u64)))
    }
}

impl std::fmt::Debug for BlobWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWorld")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("registry", &self.registry.addr())
            .field("proxy", &self.proxy.addr())
            .finish_non_exhaustive()
    }
}

/// One GET of the blob; its wall time.
async fn pull(client: &HttpClient, url: &str, expected: usize) -> Result<Duration, String> {
    let mut session = HttpSession::new(client.clone());
    let started = Instant::now();
    let response = session
        .get(url, &Auth::None, &[])
        .await
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if response.status != 200 || response.body.len() != expected {
        return Err(format!(
            "GET {url}: {} with {} bytes (expected 200 with {expected})",
            response.status,
            response.body.len()
        ));
    }
    Ok(elapsed)
}
