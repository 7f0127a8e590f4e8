//! The world of a scenario: CA, SSO, registries, TLS fronts and the host map, all
//! in-process on 127.0.0.1 random ports (the embedded backend).

pub mod accounts;
pub mod resolver;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

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
use crate::scenario::model::{AuthModeSpec, ImageEntrySpec, ImageFormat, WorldSpec};
pub use accounts::{AccountBook, WorldAccount};
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
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
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
        let sso_front = TlsFront::start(&ca.issue(&[&spec.sso.host])?, sso.addr()).await?;

        let mut hosts = HashMap::new();
        hosts.insert(spec.sso.host.to_ascii_lowercase(), sso_front.addr());

        let mut registries = Vec::new();
        for (host, auth, images, message) in registry_plan(spec)? {
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
            };
            let mut rb = MockRegistry::builder(&host).auth(mode);
            if let Some(message) = message {
                rb = rb.unauthenticated_message(message);
            }
            for image in &images {
                rb = rb.image(image_spec(image).map_err(WorldError::Invalid)?);
            }
            let registry = rb.start().await.map_err(|source| WorldError::Registry {
                host: host.clone(),
                source,
            })?;
            let front = TlsFront::start(&ca.issue(&[&host])?, registry.addr()).await?;
            hosts.insert(host.to_ascii_lowercase(), front.addr());
            registries.push(WorldRegistry {
                host,
                auth,
                registry,
                front,
            });
        }

        Ok(Self {
            ca,
            clock,
            secrets,
            sso_host: spec.sso.host.clone(),
            sso,
            _sso_front: sso_front,
            registries,
            hosts: HostMap::new(hosts),
            accounts,
            timeout: spec
                .timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    /// An HTTP client that resolves the world's names to its fronts, trusts only the
    /// world's CA, uses no proxy, follows no redirect by itself, and gives up after the
    /// world's timeout.
    pub fn http_client(&self) -> Result<reqwest::Client, WorldError> {
        let ca = reqwest::Certificate::from_pem(self.ca.certificate_pem().as_bytes())?;
        Ok(reqwest::Client::builder()
            .tls_certs_only([ca])
            .dns_resolver(self.hosts.clone())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .user_agent(concat!("regharness/", env!("CARGO_PKG_VERSION")))
            .build()?)
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

    /// The registry serving `host`.
    pub fn registry(&self, host: &str) -> Option<&WorldRegistry> {
        self.registries
            .iter()
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

type RegistryPlan = (
    String,
    AuthModeSpec,
    Vec<ImageEntrySpec>,
    Option<&'static str>,
);

/// Which registries to start, with catalogue defaults filled in.
fn registry_plan(spec: &WorldSpec) -> Result<Vec<RegistryPlan>, WorldError> {
    let mut plan = Vec::new();
    match &spec.registries {
        None => {
            for host in catalogue::DEFAULT_REGISTRIES {
                let d = catalogue::defaults_for(host)
                    .ok_or_else(|| WorldError::Invalid(format!("no defaults for {host}")))?;
                plan.push((
                    host.to_string(),
                    d.auth,
                    d.images,
                    d.unauthenticated_message,
                ));
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
                let message = d.and_then(|d| d.unauthenticated_message);
                plan.push((r.host.clone(), auth, images, message));
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
