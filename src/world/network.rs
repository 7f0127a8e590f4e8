//! The world's network: its name service (virtual hosts through the firewall), the
//! customer's proxy, and the client settings a step runs with.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use regharness_mocks::firewall::{Firewall, RouteError};
use regharness_mocks::proxy::{MockProxy, RunningProxy, TunnelFailure, Upstream};
use regharness_mocks::squid::{Squid, SquidConfig};
use regharness_mocks::CertificateAuthority;

use crate::client::http::HttpClient;
use crate::client::proxy_env::{ProxyConvention, ProxySettings};
use crate::client::transport::{ConnectError, IoKind, NameService, TransportConfig};
use crate::scenario::model::{
    ClientSpec, FirewallRuleSpec, FirewallSide, ProxyImplementation, ProxySpec, TunnelFailureKind,
};

use super::{HostMap, WorldError};

/// Virtual host names resolved through the firewall: what the client and the proxy see.
#[derive(Clone)]
pub struct WorldNames {
    hosts: HostMap,
    firewall: Firewall,
}

impl WorldNames {
    /// Names of `hosts` as `side` sees them, filtered by the rules for that side.
    pub fn new(hosts: HostMap, rules: &[FirewallRuleSpec], side: FirewallSide) -> Self {
        let mut firewall = Firewall::new();
        for rule in rules
            .iter()
            .filter(|r| r.from == FirewallSide::Both || r.from == side)
        {
            firewall = firewall.rule(&rule.host, rule.port, rule.verdict.clone());
        }
        Self { hosts, firewall }
    }

    async fn route(&self, host: &str, port: u16) -> Result<SocketAddr, ConnectError> {
        let Some(real) = self.hosts.get(host) else {
            return Err(ConnectError::Dns {
                host: host.to_string(),
            });
        };
        match self.firewall.route(host, port, real).await {
            Ok(addr) => Ok(addr),
            Err(RouteError::DnsFailure { .. }) => Err(ConnectError::Dns {
                host: host.to_string(),
            }),
            Err(e) => Err(ConnectError::Io {
                target: format!("{host}:{port}"),
                kind: IoKind::Other,
                message: e.to_string(),
            }),
        }
    }
}

impl NameService for WorldNames {
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = Result<SocketAddr, ConnectError>> + Send>> {
        let names = self.clone();
        let host = host.to_string();
        Box::pin(async move { names.route(&host, port).await })
    }
}

impl Upstream for WorldNames {
    fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<tokio::net::TcpStream>> + Send>> {
        let names = self.clone();
        let host = host.to_string();
        Box::pin(async move {
            let addr = names.route(&host, port).await.map_err(|e| match e {
                ConnectError::Dns { .. } => {
                    std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
                }
                other => std::io::Error::other(other.to_string()),
            })?;
            tokio::net::TcpStream::connect(addr).await
        })
    }
}

/// The customer's proxy as the world runs it.
pub struct WorldProxy {
    /// The running mock (absent when the scenario says the proxy is down).
    pub running: Option<RunningProxy>,
    /// `host:port` clients are configured with (`${PROXY}`).
    pub address: String,
    /// The intercepting CA's certificate (PEM), when it intercepts.
    pub interception_ca: Option<String>,
    /// The real squid clients talk to (`implementation: squid`); `running` is then
    /// its allow-all parent, which reaches the world's names.
    pub native: Option<Squid>,
}

impl WorldProxy {
    /// Starts the proxy a scenario describes, its upstream going through `names`.
    pub async fn start(
        spec: &ProxySpec,
        names: WorldNames,
        world_ca_pem: &str,
        timeout: Duration,
    ) -> Result<Self, WorldError> {
        if spec.down {
            // A port nothing listens on: connections are refused.
            let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
                .map_err(|e| WorldError::Invalid(format!("proxy: {e}")))?;
            let addr = listener
                .local_addr()
                .map_err(|e| WorldError::Invalid(format!("proxy: {e}")))?;
            drop(listener);
            return Ok(Self {
                running: None,
                address: addr.to_string(),
                interception_ca: None,
                native: None,
            });
        }
        if spec.implementation == ProxyImplementation::Squid {
            return Self::start_squid(spec, names, timeout).await;
        }
        let mut builder = MockProxy::builder(Arc::new(names)).timeout(timeout);
        for domain in spec.allow.iter().flatten() {
            builder = builder.allow(domain);
        }
        if let Some(auth) = &spec.auth {
            builder = builder.basic_auth(&auth.username, &auth.password);
        }
        for failure in &spec.fail {
            let f = match failure.with {
                TunnelFailureKind::Status(s) => TunnelFailure::Status(s),
                TunnelFailureKind::Close => TunnelFailure::CloseAfterAccept,
                TunnelFailureKind::Stall => TunnelFailure::Stall,
            };
            builder = builder.fail_tunnel(&failure.host, f);
        }
        let interception_ca = if spec.intercept {
            let ca = CertificateAuthority::generate("Example Corp Proxy CA")?;
            let pem = ca.certificate_pem().to_string();
            builder = builder.intercept(ca, world_ca_pem);
            Some(pem)
        } else {
            None
        };
        let running = builder
            .start()
            .await
            .map_err(|e| WorldError::Invalid(format!("proxy: {e}")))?;
        Ok(Self {
            address: running.addr().to_string(),
            running: Some(running),
            interception_ca,
            native: None,
        })
    }

    /// A real squid deciding `allow` and `auth`, its parent an allow-all mock proxy
    /// whose upstream goes through `names` (squid cannot resolve the world's names, and
    /// the world serves them on 127.0.0.1:PORT, not port 443).
    async fn start_squid(
        spec: &ProxySpec,
        names: WorldNames,
        timeout: Duration,
    ) -> Result<Self, WorldError> {
        let program = Squid::find_program().ok_or_else(|| {
            WorldError::MissingProgram(format!(
                "proxy: implementation: squid needs `{}` (apt-get install squid)",
                regharness_mocks::squid::PROGRAM
            ))
        })?;
        let parent = MockProxy::builder(Arc::new(names))
            .timeout(timeout)
            .start()
            .await
            .map_err(|e| WorldError::Invalid(format!("proxy: {e}")))?;
        let config = SquidConfig {
            allow: spec.allow.clone(),
            auth: spec
                .auth
                .as_ref()
                .map(|a| (a.username.clone(), a.password.clone())),
            parent: parent.addr(),
        };
        let squid = Squid::start(&program, &config)
            .await
            .map_err(|e| WorldError::Native(format!("proxy: {e}")))?;
        Ok(Self {
            address: squid.addr().to_string(),
            running: Some(parent),
            interception_ca: None,
            native: Some(squid),
        })
    }
}

/// How a step's tool is configured.
#[derive(Debug, Clone)]
pub struct StepNetwork {
    /// Whose proxy-variable rules apply.
    pub convention: ProxyConvention,
    /// Overrides of the world's environment (`None` unsets).
    pub env: BTreeMap<String, Option<String>>,
    /// curl's `--proxy`.
    pub explicit_proxy: Option<String>,
    /// TLS settings per `host:port` (a cluster node's CA files and insecure registries).
    pub host_tls: BTreeMap<String, crate::client::transport::HostTls>,
}

impl StepNetwork {
    /// A tool of `convention` with the world's settings.
    pub fn plain(convention: ProxyConvention) -> Self {
        Self {
            convention,
            env: BTreeMap::new(),
            explicit_proxy: None,
            host_tls: BTreeMap::new(),
        }
    }
}

/// Builds the HTTP client of a step.
pub fn client_for(
    names: &WorldNames,
    spec: &ClientSpec,
    proxy: Option<&WorldProxy>,
    world_ca_pem: &str,
    step: &StepNetwork,
    timeout: Duration,
) -> Result<HttpClient, WorldError> {
    let expand = |v: &str| match proxy {
        Some(p) => v.replace("${PROXY}", &p.address),
        None => v.to_string(),
    };
    let mut env: BTreeMap<String, String> = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), expand(v)))
        .collect();
    for (k, v) in &step.env {
        match v {
            Some(v) => {
                env.insert(k.clone(), expand(v));
            }
            None => {
                env.remove(k);
            }
        }
    }
    let settings = match &step.explicit_proxy {
        Some(p) => ProxySettings::explicit(&expand(p), &env),
        None => ProxySettings::from_env(&env, step.convention),
    }
    .map_err(WorldError::Invalid)?;
    let mut roots = rustls::RootCertStore::empty();
    add_pem(&mut roots, world_ca_pem)?;
    if spec.trust_proxy_ca {
        if let Some(ca) = proxy.and_then(|p| p.interception_ca.as_ref()) {
            add_pem(&mut roots, ca)?;
        }
    }
    let transport = TransportConfig {
        names: Arc::new(names.clone()),
        proxy: settings,
        roots: Arc::new(roots),
        insecure: false,
        host_tls: step.host_tls.clone(),
        connect_timeout: timeout,
    };
    HttpClient::new(transport, timeout).map_err(|e| WorldError::Invalid(format!("TLS: {e}")))
}

fn add_pem(roots: &mut rustls::RootCertStore, pem: &str) -> Result<(), WorldError> {
    use rustls::pki_types::pem::PemObject;
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| WorldError::Invalid(format!("CA certificate: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| WorldError::Invalid(format!("CA certificate: {e}")))?;
    }
    Ok(())
}
