//! The world of a scenario: CA, SSO, registries, TLS fronts and the host map, all
//! in-process on 127.0.0.1 random ports (the embedded backend).

pub mod accounts;
pub mod cluster;
pub mod exposure;
pub mod network;
pub mod node;

pub use node::ca_placeholders;
pub mod resolver;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use regharness_mocks::distribution::Distribution;
use regharness_mocks::front::FrontError;
use regharness_mocks::registry::RegistryError;
use regharness_mocks::sso::SsoError;
use regharness_mocks::tls::TlsError;
use regharness_mocks::{
    Account, AuthMode, CertificateAuthority, Clock, ImageSpec, MockRegistry, RunningRegistry,
    TlsFront, TokenService, TokenVerifier,
};

use crate::catalogue;
use crate::redact::SecretSet;
use crate::scenario::model::{
    AuthModeSpec, CredentialsSpec, DockerRegistrySpec, ImageEntrySpec, ImageFormat,
    RegistryImplementation, SecretChoice, WorldSpec,
};
pub use accounts::{AccountBook, WorldAccount};
pub use cluster::Cluster;
pub use network::{StepNetwork, WorldNames, WorldProxy};
pub use resolver::HostMap;

/// Default bound of every network step.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors starting a world.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// Certificates could not be generated.
    #[error("world CA: {0}")]
    Tls(#[from] TlsError),
    /// A TLS front could not start.
    #[error("TLS front: {0}")]
    Front(#[from] FrontError),
    /// The SSO could not start.
    #[error("SSO: {0}")]
    Sso(#[from] SsoError),
    /// A registry could not start.
    #[error("registry {host}: {source}")]
    Registry {
        /// The registry's host.
        host: String,
        /// Why.
        source: RegistryError,
    },
    /// The scenario describes something the world cannot be.
    #[error("{0}")]
    Invalid(String),
    /// A real server (`implementation: distribution | squid`) could not start.
    #[error("{0}")]
    Native(String),
    /// A real server's program is not installed (the scenario is skipped).
    #[error("{0}")]
    MissingProgram(String),
}

/// A registry of the world and its HTTPS endpoint.
pub struct WorldRegistry {
    /// The virtual host.
    pub host: String,
    /// Its auth mode.
    pub auth: AuthModeSpec,
    /// The mock.
    pub registry: RunningRegistry,
    /// Its TLS front.
    pub front: TlsFront,
    /// For a delegated registry, the auth server's host.
    pub auth_host: Option<String>,
    /// Pull-secret types whose credentials it refuses (BZ#1476330).
    pub rejects_secret_types: Vec<String>,
    /// The real distribution registry serving this host (`implementation:
    /// distribution`); the front forwards to it and `registry` stays idle.
    pub native: Option<Distribution>,
}

/// A running world. Dropping it stops every mock.
pub struct World {
    ca: CertificateAuthority,
    clock: Clock,
    secrets: SecretSet,
    sso_host: String,
    sso: TokenService,
    _sso_front: TlsFront,
    registries: Vec<WorldRegistry>,
    hosts: HostMap,
    accounts: AccountBook,
    timeout: Duration,
    cluster: Cluster,
    internal_registry: Option<WorldRegistry>,
    names: WorldNames,
    proxy: Option<WorldProxy>,
    client: crate::scenario::model::ClientSpec,
    /// CDN hosts serving redirected blobs (kept running).
    _cdns: Vec<(RunningRegistry, TlsFront)>,
    /// The node pulls run on, when the cluster has an image configuration.
    node: Option<node::NodeState>,
    /// The scenario shapes the client host's network: a proxy, firewall rules or proxy
    /// variables.
    shaped_network: bool,
}

impl World {
    /// Starts the world a scenario describes. Secrets of its accounts are registered
    /// in `secrets` before anything runs.
    pub async fn start(spec: &WorldSpec, secrets: SecretSet) -> Result<Self, WorldError> {
        let ca =
            CertificateAuthority::generate(&format!("regharness world CA {}", unique_suffix()))?;
        let clock = Clock::new();
        let accounts = AccountBook::from_spec(&spec.sso.accounts)?;
        for account in accounts.all() {
            secrets.add_credentials(&account.username, account.current_secret());
        }

        let public_base = format!("https://{}", spec.sso.host);
        let mut builder = TokenService::builder()
            .realm(&spec.sso.realm)
            .public_base_url(&public_base)
            .token_lifetime(spec.sso.token_lifetime)
            .clock(clock.clone());
        for account in accounts.all() {
            let mock = if account.service_account {
                let (prefix, name) = account
                    .username
                    .split_once('|')
                    .unwrap_or(("", account.username.as_str()));
                Account::service_account(prefix, name, account.current_secret())
            } else {
                Account::person(&account.username, account.current_secret())
            };
            builder = builder.account(mock.entitled_to(account.entitled.clone()));
        }
        let sso = builder.start().await?;
        let plan = registry_plan(spec)?;
        // Delegated registries' auth hosts are served by the SSO under their own names.
        let mut sso_names = vec![spec.sso.host.clone()];
        for entry in &plan {
            if let Some(h) = &entry.auth_host {
                if !sso_names.iter().any(|n| n.eq_ignore_ascii_case(h)) {
                    sso_names.push(h.clone());
                }
            }
        }
        let sso_name_refs: Vec<&str> = sso_names.iter().map(String::as_str).collect();
        let sso_front = TlsFront::start(&ca.issue(&sso_name_refs)?, sso.addr()).await?;

        let mut hosts = HashMap::new();
        for name in &sso_names {
            hosts.insert(name.to_ascii_lowercase(), sso_front.addr());
        }

        let world_id = unique_suffix();
        let cluster = Cluster::new(secrets.clone(), &world_id);

        let mut registries = Vec::new();
        let mut cdns = Vec::new();
        let mut own_cas: std::collections::BTreeMap<String, String> = Default::default();
        for RegistryPlan {
            host,
            auth,
            images,
            message,
            auth_host,
            rejects_secret_types,
            plain_http,
            own_ca,
            blob_cdn,
            implementation,
        } in plan
        {
            // distribution tolerates 60 s of clock skew on exp/nbf; so does the mock.
            let verifier = TokenVerifier::new(sso.issuer(), "docker-registry", clock.clone())
                .trust(sso.verification_key())
                .leeway(60);
            let mode = match auth {
                AuthModeSpec::Anonymous => AuthMode::Anonymous,
                AuthModeSpec::Bearer => AuthMode::Bearer {
                    realm: sso.realm_url(),
                    service: "docker-registry".into(),
                    verifier,
                },
                AuthModeSpec::Delegated => AuthMode::Bearer {
                    realm: format!(
                        "https://{}{}",
                        auth_host.as_deref().unwrap_or(&spec.sso.host),
                        sso.token_path()
                    ),
                    service: "docker-registry".into(),
                    verifier,
                },
            };
            let mut rb = MockRegistry::builder(&host).auth(mode);
            if let Some(message) = message {
                rb = rb.unauthenticated_message(message);
            }
            for image in &images {
                rb = rb.image(image_spec(image).map_err(WorldError::Invalid)?);
            }
            if let Some(cdn) = &blob_cdn {
                rb = rb.blob_redirect(format!("https://{cdn}"));
                // The CDN serves the same (deterministic) content, anonymously.
                let mut cdn_builder = MockRegistry::builder(cdn);
                for image in &images {
                    cdn_builder =
                        cdn_builder.image(image_spec(image).map_err(WorldError::Invalid)?);
                }
                let cdn_registry =
                    cdn_builder
                        .start()
                        .await
                        .map_err(|source| WorldError::Registry {
                            host: cdn.clone(),
                            source,
                        })?;
                let cdn_front = TlsFront::start(&ca.issue(&[cdn])?, cdn_registry.addr()).await?;
                hosts.insert(cdn.to_ascii_lowercase(), cdn_front.addr());
                cdns.push((cdn_registry, cdn_front));
            }
            let registry = rb.start().await.map_err(|source| WorldError::Registry {
                host: host.clone(),
                source,
            })?;
            let native = match implementation {
                RegistryImplementation::Mock => None,
                RegistryImplementation::Distribution => {
                    Some(start_distribution(&host, auth, &sso, &images).await?)
                }
            };
            let backend = native
                .as_ref()
                .map(Distribution::addr)
                .unwrap_or(registry.addr());
            let certificate = if own_ca {
                let own = CertificateAuthority::generate(&format!("{host} CA"))?;
                let certificate = own.issue(&[&host])?;
                own_cas.insert(host.to_ascii_lowercase(), own.certificate_pem().to_string());
                certificate
            } else {
                ca.issue(&[&host])?
            };
            let front = TlsFront::start(&certificate, backend).await?;
            // An insecure registry answers plain HTTP where clients expect TLS.
            let served_at = if plain_http { backend } else { front.addr() };
            hosts.insert(host.to_ascii_lowercase(), served_at);
            registries.push(WorldRegistry {
                host,
                auth,
                registry,
                front,
                auth_host,
                rejects_secret_types,
                native,
            });
        }

        let internal_registry = match &spec.cluster.internal_registry {
            Some(internal) => {
                let registry =
                    start_internal_registry(&ca, &cluster, &internal.value.images).await?;
                for name in [cluster::INTERNAL_REGISTRY, cluster::INTERNAL_REGISTRY_FQDN] {
                    let host = name.split(':').next().unwrap_or(name);
                    hosts.insert(host.to_string(), registry.front.addr());
                }
                Some(registry)
            }
            None => None,
        };

        let hosts = HostMap::new(hosts);
        let rules: Vec<_> = spec.firewall.iter().map(|r| r.value.clone()).collect();
        let names = WorldNames::new(
            hosts.clone(),
            &rules,
            crate::scenario::model::FirewallSide::Client,
        );
        let proxy_names = WorldNames::new(
            hosts.clone(),
            &rules,
            crate::scenario::model::FirewallSide::Proxy,
        );
        let timeout = spec
            .timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TIMEOUT);
        let proxy = match &spec.proxy {
            Some(p) => {
                Some(WorldProxy::start(&p.value, proxy_names, ca.certificate_pem(), timeout).await?)
            }
            None => None,
        };
        let world = Self {
            ca,
            clock,
            secrets,
            sso_host: spec.sso.host.clone(),
            sso,
            _sso_front: sso_front,
            registries,
            hosts,
            accounts,
            timeout: spec
                .timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_TIMEOUT),
            cluster,
            internal_registry,
            names,
            proxy,
            client: spec.client.clone(),
            _cdns: cdns,
            node: node::NodeState::from_cluster(&spec.cluster, &own_cas),
            shaped_network: spec.proxy.is_some()
                || !spec.firewall.is_empty()
                || !spec.client.env.is_empty(),
        };
        if !spec.cluster.global_pull_secret.is_empty() {
            let entries: Vec<&DockerRegistrySpec> = spec
                .cluster
                .global_pull_secret
                .iter()
                .map(|e| &e.value)
                .collect();
            let secret = world.global_pull_secret(&entries)?;
            world.cluster.set_global_pull_secret(secret);
        }
        Ok(world)
    }

    /// `openshift-config/pull-secret` as the installer writes it: one
    /// `kubernetes.io/dockerconfigjson` secret whose entries hold `auth` and `email`.
    fn global_pull_secret(
        &self,
        entries: &[&DockerRegistrySpec],
    ) -> Result<k8s_openapi::api::core::v1::Secret, WorldError> {
        use base64::Engine;
        let mut auths = serde_json::Map::new();
        for entry in entries {
            let (username, password) =
                self.resolve_credentials(&entry.credentials).map_err(|e| {
                    WorldError::Invalid(format!("global_pull_secret {}: {e}", entry.server))
                })?;
            let mut value = serde_json::Map::new();
            value.insert(
                "auth".into(),
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"))
                    .into(),
            );
            if let Some(email) = &entry.email {
                value.insert("email".into(), email.clone().into());
            }
            auths.insert(entry.server.clone(), serde_json::Value::Object(value));
        }
        let payload = serde_json::json!({ "auths": auths })
            .to_string()
            .into_bytes();
        crate::cluster::objects::create_secret_generic(
            cluster::GLOBAL_PULL_SECRET.1,
            Some(cluster::GLOBAL_PULL_SECRET.0),
            &[(
                crate::cluster::objects::DOCKERCONFIGJSON_KEY.to_string(),
                payload,
            )],
            Some(crate::cluster::objects::TYPE_DOCKERCONFIGJSON),
        )
        .map_err(|e| WorldError::Invalid(format!("global_pull_secret: {e}")))
    }

    /// Username and password a scenario's credentials stand for (the account's secret
    /// history included); both are registered for redaction.
    pub fn resolve_credentials(&self, spec: &CredentialsSpec) -> Result<(String, String), String> {
        let account = match &spec.account {
            Some(name) => Some(
                self.accounts
                    .find(name)
                    .ok_or_else(|| format!("no account {name:?} in this world"))?,
            ),
            None => None,
        };
        let username = spec
            .username
            .clone()
            .or_else(|| account.as_ref().map(|a| a.username.clone()))
            .ok_or("credentials need `account` or `username`")?;
        let password = match (&spec.password, &account) {
            (Some(p), _) => p.clone(),
            (None, Some(a)) => match spec.secret.unwrap_or(SecretChoice::Current) {
                SecretChoice::Current => a.current_secret().to_string(),
                SecretChoice::Previous => a
                    .previous_secret()
                    .ok_or_else(|| {
                        format!(
                            "account {:?} has no previous secret: regenerate its token first",
                            a.username
                        )
                    })?
                    .to_string(),
            },
            (None, None) => return Err("credentials need `password` or `account`".into()),
        };
        self.secrets.add_credentials(&username, &password);
        Ok((username, password))
    }

    /// The cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The tails of the logs of the world's real servers (`implementation:
    /// distribution | squid`), as `(name, tail)`, e.g. `("squid", ...)`.
    pub fn native_logs(&self) -> Vec<(String, String)> {
        let mut logs: Vec<(String, String)> = self
            .registries
            .iter()
            .filter_map(|r| {
                let d = r.native.as_ref()?;
                Some((format!("distribution {}", r.host), d.log_tail()))
            })
            .collect();
        if let Some(squid) = self.proxy.as_ref().and_then(|p| p.native.as_ref()) {
            logs.push(("squid".into(), squid.log_tail()));
        }
        logs
    }

    /// The internal registry, when the scenario has one.
    pub fn internal_registry(&self) -> Option<&WorldRegistry> {
        self.internal_registry.as_ref()
    }

    /// The HTTP client of a step: the world's names (through the firewall), the
    /// client host's proxy settings as the step's tool reads them, trust in the world's
    /// CA (and the intercepting proxy's when the host trusts it); follows no redirect by
    /// itself and gives up after the world's timeout.
    pub fn http_client(
        &self,
        step: &StepNetwork,
    ) -> Result<crate::client::http::HttpClient, WorldError> {
        network::client_for(
            &self.names,
            &self.client,
            self.proxy.as_ref(),
            self.ca.certificate_pem(),
            step,
            self.timeout,
        )
    }

    /// The node pulls run on: the files rendered from the cluster's image configuration
    /// and the rules read back from them (or why they could not be made).
    pub fn node(&self) -> Option<&node::NodeState> {
        self.node.as_ref()
    }

    /// The world's names as the client host sees them (through the client side of the
    /// firewall), for programs that reach the world through `exposure::WorldExposure`.
    pub fn names(&self) -> &WorldNames {
        &self.names
    }

    /// Whether the scenario shapes the client host's network (a proxy, firewall rules or
    /// proxy variables), which programs reached through an exposure proxy do not see.
    pub fn shapes_network(&self) -> bool {
        self.shaped_network
    }

    /// The customer's proxy, when the scenario has one.
    pub fn proxy(&self) -> Option<&WorldProxy> {
        self.proxy.as_ref()
    }

    /// The world's CA certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        self.ca.certificate_pem()
    }

    /// The shared clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The run's secrets.
    pub fn secrets(&self) -> &SecretSet {
        &self.secrets
    }

    /// The SSO token service.
    pub fn sso(&self) -> &TokenService {
        &self.sso
    }

    /// The SSO's virtual host name.
    pub fn sso_host(&self) -> &str {
        &self.sso_host
    }

    /// The registries.
    pub fn registries(&self) -> &[WorldRegistry] {
        &self.registries
    }

    /// The registry serving `host` (the internal registry included).
    pub fn registry(&self, host: &str) -> Option<&WorldRegistry> {
        self.registries
            .iter()
            .chain(self.internal_registry.iter())
            .find(|r| r.host.eq_ignore_ascii_case(host))
    }

    /// The host map.
    pub fn hosts(&self) -> &HostMap {
        &self.hosts
    }

    /// Where a virtual host is served.
    pub fn addr_of(&self, host: &str) -> Option<SocketAddr> {
        self.hosts.get(host)
    }

    /// The accounts and their secret history.
    pub fn accounts(&self) -> &AccountBook {
        &self.accounts
    }

    /// The per-step network timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// "Regenerate token": a new secret for the account, the old one stops working.
    pub fn regenerate_secret(&self, account: &str) -> Result<(), WorldError> {
        let entry = self
            .accounts
            .find(account)
            .ok_or_else(|| WorldError::Invalid(format!("no account {account:?} in this world")))?;
        let new_secret = self.sso.regenerate_secret(&entry.username)?;
        self.secrets.add_credentials(&entry.username, &new_secret);
        self.accounts.push_secret(&entry.username, new_secret);
        Ok(())
    }

    /// "Delete account": the username stops working.
    pub fn delete_account(&self, account: &str) -> Result<(), WorldError> {
        let entry = self
            .accounts
            .find(account)
            .ok_or_else(|| WorldError::Invalid(format!("no account {account:?} in this world")))?;
        self.sso.delete_account(&entry.username)?;
        Ok(())
    }
}

/// A registry to start, catalogue defaults filled in.
struct RegistryPlan {
    implementation: RegistryImplementation,
    plain_http: bool,
    own_ca: bool,
    blob_cdn: Option<String>,
    host: String,
    auth: AuthModeSpec,
    images: Vec<ImageEntrySpec>,
    message: Option<&'static str>,
    auth_host: Option<String>,
    rejects_secret_types: Vec<String>,
}

/// Starts the internal registry on a free loopback address at port 5000 (clients
/// connect to the port the image reference names), authorising with the cluster.
async fn start_internal_registry(
    ca: &CertificateAuthority,
    cluster: &Cluster,
    images: &[crate::scenario::model::ImageEntry],
) -> Result<WorldRegistry, WorldError> {
    let host = cluster::INTERNAL_REGISTRY.to_string();
    let mut builder = MockRegistry::builder(&host).auth(AuthMode::OpenShift {
        authorizer: std::sync::Arc::new(cluster.clone()),
    });
    for image in images {
        let spec = image_spec(&image.0).map_err(WorldError::Invalid)?;
        if let Some(project) = image.0.reference.split('/').next() {
            cluster.ensure_namespace(project);
        }
        builder = builder.image(spec);
    }
    let registry = builder
        .start()
        .await
        .map_err(|source| WorldError::Registry {
            host: host.clone(),
            source,
        })?;
    let names: Vec<&str> = [cluster::INTERNAL_REGISTRY, cluster::INTERNAL_REGISTRY_FQDN]
        .iter()
        .map(|n| n.split(':').next().unwrap_or(n))
        .collect();
    let identity = ca.issue(&names)?;
    let mut last_error = None;
    for attempt in 0..32u32 {
        let ip = loopback_for(attempt);
        match TlsFront::start_on(&identity, SocketAddr::from((ip, 5000)), registry.addr()).await {
            Ok(front) => {
                return Ok(WorldRegistry {
                    host,
                    auth: AuthModeSpec::Bearer,
                    registry,
                    front,
                    auth_host: None,
                    rejects_secret_types: Vec::new(),
                    native: None,
                })
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error
        .map(WorldError::Front)
        .unwrap_or_else(|| WorldError::Invalid("no free loopback address for port 5000".into())))
}

/// Starts Debian's `docker-registry` for `host` trusting `sso` (realm: the SSO's public
/// URL, as the mock registries name it; none for an anonymous registry) and pushes
/// `images` into it.
async fn start_distribution(
    host: &str,
    auth: AuthModeSpec,
    sso: &TokenService,
    images: &[ImageEntrySpec],
) -> Result<Distribution, WorldError> {
    let program = Distribution::find_program().ok_or_else(|| {
        WorldError::MissingProgram(format!(
            "registry {host}: implementation: distribution needs `{}` (apt-get install docker-registry)",
            regharness_mocks::distribution::PROGRAM
        ))
    })?;
    let realm = match auth {
        AuthModeSpec::Anonymous => None,
        AuthModeSpec::Bearer | AuthModeSpec::Delegated => Some(sso.realm_url()),
    };
    let registry = Distribution::start_with(&program, sso, realm.as_deref())
        .await
        .map_err(|e| WorldError::Native(format!("registry {host}: {e}")))?;
    let specs = images
        .iter()
        .map(image_spec)
        .collect::<Result<Vec<_>, _>>()
        .map_err(WorldError::Invalid)?;
    registry.push_images(sso, &specs).await.map_err(|e| {
        WorldError::Native(format!(
            "registry {host}: pushing its images: {e}\nregistry log (tail):\n{}",
            registry.log_tail()
        ))
    })?;
    Ok(registry)
}

/// A loopback address (127.x.y.z, never 127.0.0.1) for the internal registry's port 5000,
/// different for each world of this process and each retry.
fn loopback_for(attempt: u32) -> [u8; 4] {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(std::process::id().wrapping_mul(7919))
        .wrapping_add(attempt.wrapping_mul(104_729));
    let [_, b, c, d] = n.to_be_bytes();
    [127, b.max(1) % 255, c, d.clamp(1, 254)]
}

/// Which registries to start, with catalogue defaults filled in.
fn registry_plan(spec: &WorldSpec) -> Result<Vec<RegistryPlan>, WorldError> {
    let mut plan = Vec::new();
    match &spec.registries {
        None => {
            for host in catalogue::DEFAULT_REGISTRIES {
                let d = catalogue::defaults_for(host)
                    .ok_or_else(|| WorldError::Invalid(format!("no defaults for {host}")))?;
                plan.push(RegistryPlan {
                    host: host.to_string(),
                    auth: d.auth,
                    images: d.images,
                    message: d.unauthenticated_message,
                    auth_host: None,
                    rejects_secret_types: d.rejects_secret_types,
                    plain_http: false,
                    own_ca: false,
                    blob_cdn: None,
                    implementation: RegistryImplementation::Mock,
                });
            }
        }
        Some(registries) => {
            for r in registries.iter().map(|r| &r.value) {
                let d = catalogue::defaults_for(&r.host);
                let auth = r
                    .auth
                    .or(d.as_ref().map(|d| d.auth))
                    .unwrap_or(AuthModeSpec::Bearer);
                let images = match (&r.images, &d) {
                    (Some(images), _) => images.iter().map(|i| i.0.clone()).collect(),
                    (None, Some(d)) => d.images.clone(),
                    (None, None) => Vec::new(),
                };
                let message = d.as_ref().and_then(|d| d.unauthenticated_message);
                let auth_host = match auth {
                    AuthModeSpec::Delegated => {
                        Some(r.auth_host.clone().unwrap_or_else(|| spec.sso.host.clone()))
                    }
                    _ => None,
                };
                let rejects_secret_types = r
                    .rejects_secret_types
                    .clone()
                    .or_else(|| d.as_ref().map(|d| d.rejects_secret_types.clone()))
                    .unwrap_or_default();
                plan.push(RegistryPlan {
                    host: r.host.clone(),
                    auth,
                    images,
                    message,
                    auth_host,
                    rejects_secret_types,
                    plain_http: r.plain_http,
                    own_ca: r.own_ca,
                    blob_cdn: r.blob_cdn.clone(),
                    implementation: r.implementation,
                });
            }
        }
    }
    Ok(plan)
}

/// The mock's image spec for a scenario's image entry.
pub fn image_spec(entry: &ImageEntrySpec) -> Result<ImageSpec, String> {
    let (repository, tag) = entry.reference.rsplit_once(':').ok_or_else(|| {
        format!(
            "image {:?}: expected repository:tag such as rhel8/pcp:latest",
            entry.reference
        )
    })?;
    if repository.is_empty() || tag.is_empty() || tag.contains('/') {
        return Err(format!(
            "image {:?}: expected repository:tag such as rhel8/pcp:latest",
            entry.reference
        ));
    }
    Ok(match entry.format {
        ImageFormat::Docker => ImageSpec::docker(repository, tag),
        ImageFormat::Oci => ImageSpec::oci(repository, tag),
        ImageFormat::MultiArch => {
            let default = ["amd64", "arm64", "ppc64le", "s390x"];
            let platforms: Vec<&str> = match &entry.platforms {
                Some(p) => p.iter().map(String::as_str).collect(),
                None => default.to_vec(),
            };
            ImageSpec::multi_arch(repository, tag, &platforms)
        }
    })
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{n}-{nanos}", std::process::id())
}
