//! The OpenShift cluster of a world: namespaces with their service accounts, secrets,
//! role bindings and build configurations, the global pull secret, and the service
//! account tokens the internal registry authenticates.
//!
//! A namespace is created on first use the way `oc new-project` creates one: service
//! accounts `default`, `builder` and `deployer`, each with a token and an auto-generated
//! `<sa>-dockercfg-<suffix>` secret for the internal registry (linked for pulls and as
//! mountable), and the project's `system:image-pullers`, `system:image-builders` and
//! `system:deployers` role bindings. The first of those is why pulls within a project
//! need nothing extra, and `system:image-puller` bindings in another project are what
//! cross-project pulls need.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use regharness_mocks::PullAuthorizer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::cluster::docker_config::{self, DockerConfig};
use crate::cluster::keyring::{CredentialSource, DockerKeyring};
use crate::cluster::objects::{self, RoleSubject};
use crate::redact::SecretSet;

/// The internal registry's service name, as pods and pull secrets name it.
pub const INTERNAL_REGISTRY: &str = "image-registry.openshift-image-registry.svc:5000";
/// The internal registry's fully qualified service name (also in the SA dockercfg secrets).
pub const INTERNAL_REGISTRY_FQDN: &str =
    "image-registry.openshift-image-registry.svc.cluster.local:5000";
/// The service accounts every project gets.
pub const PROJECT_SERVICE_ACCOUNTS: &[&str] = &["builder", "default", "deployer"];
/// The namespace and name of the global pull secret.
pub const GLOBAL_PULL_SECRET: (&str, &str) = ("openshift-config", "pull-secret");
/// Cluster roles that include `get imagestreams/layers`, i.e. may pull from the
/// internal registry.
pub const PULLING_ROLES: &[&str] = &[
    "system:image-puller",
    "system:image-builder",
    "registry-viewer",
    "registry-editor",
    "registry-admin",
    "edit",
    "admin",
];

/// Errors of cluster operations, worded like the API server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// A named object does not exist.
    #[error("{kind} \"{name}\" not found in namespace {namespace:?}")]
    NotFound {
        /// `secrets`, `serviceaccounts`, `buildconfigs`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// An object with that name exists already.
    #[error("{kind} \"{name}\" already exists in namespace {namespace:?}")]
    AlreadyExists {
        /// `secrets`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// The object was refused (validation).
    #[error("{0}")]
    Invalid(String),
}

/// A project.
#[derive(Debug, Clone, Default)]
pub struct Namespace {
    /// Secrets by name.
    pub secrets: BTreeMap<String, Secret>,
    /// Service accounts by name.
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    /// Role bindings, in creation order.
    pub role_bindings: Vec<RoleBinding>,
    /// BuildConfig fragments by name (what `oc set build-secret` changes).
    pub build_configs: BTreeMap<String, Value>,
}

/// The mutable state behind a [`Cluster`].
#[derive(Debug, Default)]
pub struct ClusterState {
    /// Projects by name.
    pub namespaces: BTreeMap<String, Namespace>,
    /// `openshift-config/pull-secret`, if the world has one.
    pub global_pull_secret: Option<Secret>,
    tokens: HashMap<String, String>,
}

/// The cluster of a world: shared by the steps and the internal registry's authorizer.
#[derive(Debug, Clone)]
pub struct Cluster {
    state: Arc<Mutex<ClusterState>>,
    secrets: SecretSet,
    world_id: String,
}

impl Cluster {
    /// An empty cluster; `secrets` learns every token it issues. `world_id` makes the
    /// tokens of different worlds differ.
    pub fn new(secrets: SecretSet, world_id: &str) -> Self {
        Self {
            state: Arc::default(),
            secrets,
            world_id: world_id.to_string(),
        }
    }

    /// Locks the state (a poisoned lock is recovered: the state stays consistent
    /// because every change is a single insert).
    pub fn state(&self) -> MutexGuard<'_, ClusterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the global pull secret.
    pub fn set_global_pull_secret(&self, secret: Secret) {
        self.state().global_pull_secret = Some(secret);
    }

    /// Creates `name` like `oc new-project` when it does not exist yet.
    pub fn ensure_namespace(&self, name: &str) {
        let mut state = self.state();
        if state.namespaces.contains_key(name) {
            return;
        }
        let mut ns = Namespace::default();
        for sa_name in PROJECT_SERVICE_ACCOUNTS {
            let token = self.service_account_token(name, sa_name);
            self.secrets.add(token.clone());
            self.secrets.add_credentials("serviceaccount", &token);
            state.tokens.insert(
                token.clone(),
                format!("system:serviceaccount:{name}:{sa_name}"),
            );
            let secret_name = format!("{sa_name}-dockercfg-{}", name_suffix(name, sa_name));
            let mut entries = serde_json::Map::new();
            for host in [INTERNAL_REGISTRY, INTERNAL_REGISTRY_FQDN] {
                entries.insert(
                    host.to_string(),
                    json!({
                        "username": "serviceaccount",
                        "password": token,
                        "email": "serviceaccount@example.org",
                        "auth": base64::engine::general_purpose::STANDARD
                            .encode(format!("serviceaccount:{token}")),
                    }),
                );
            }
            let payload = Value::Object(entries).to_string().into_bytes();
            if let Ok(mut secret) = objects::create_secret_generic(
                &secret_name,
                Some(name),
                &[(objects::DOCKERCFG_KEY.to_string(), payload)],
                Some(objects::TYPE_DOCKERCFG),
            ) {
                let annotations = secret
                    .metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new);
                annotations.insert(
                    "kubernetes.io/service-account.name".into(),
                    sa_name.to_string(),
                );
                annotations.insert(
                    "openshift.io/token-secret.name".into(),
                    format!("{sa_name}-token-{}", name_suffix(name, sa_name)),
                );
                ns.secrets.insert(secret_name.clone(), secret);
            }
            let mut sa = objects::service_account(sa_name, name);
            objects::link_secret(&mut sa, &secret_name, objects::LinkFor::PullAndMount);
            ns.service_accounts.insert(sa_name.to_string(), sa);
        }
        let project_bindings = [
            (
                "system:image-puller",
                RoleSubject::Group(format!("system:serviceaccounts:{name}")),
                "system:image-pullers",
            ),
            (
                "system:image-builder",
                RoleSubject::ServiceAccount {
                    namespace: name.to_string(),
                    name: "builder".into(),
                },
                "system:image-builders",
            ),
            (
                "system:deployer",
                RoleSubject::ServiceAccount {
                    namespace: name.to_string(),
                    name: "deployer".into(),
                },
                "system:deployers",
            ),
        ];
        for (role, subject, binding_name) in project_bindings {
            let mut change = objects::add_role(&ns.role_bindings, name, role, subject);
            change.binding.metadata.name = Some(binding_name.to_string());
            ns.role_bindings.push(change.binding);
        }
        state.namespaces.insert(name.to_string(), ns);
    }

    /// Runs `f` on namespace `name` (created first if needed).
    pub fn with_namespace<R>(&self, name: &str, f: impl FnOnce(&mut Namespace) -> R) -> R {
        self.ensure_namespace(name);
        let mut state = self.state();
        let ns = state
            .namespaces
            .get_mut(name)
            .expect("ensure_namespace just created it");
        f(ns)
    }

    /// The subject an internal-registry token authenticates as.
    pub fn subject_of(&self, token: &str) -> Option<String> {
        self.state().tokens.get(token).cloned()
    }

    /// Whether service account `sa_namespace:sa_name` may pull image streams of
    /// `namespace` (a role binding there of one of [`PULLING_ROLES`]).
    pub fn may_pull(&self, sa_namespace: &str, sa_name: &str, namespace: &str) -> bool {
        let state = self.state();
        let Some(ns) = state.namespaces.get(namespace) else {
            return false;
        };
        ns.role_bindings.iter().any(|b| {
            PULLING_ROLES
                .iter()
                .any(|role| objects::binds_service_account(b, role, sa_namespace, sa_name))
        })
    }

    /// The keyring of the global pull secret (the node's `/var/lib/kubelet/config.json`).
    pub fn global_keyring(&self) -> DockerKeyring {
        let mut keyring = DockerKeyring::new();
        if let Some(secret) = &self.state().global_pull_secret {
            if let Some((config, secret_type)) = pull_secret_config(secret) {
                keyring.add(
                    &config,
                    CredentialSource {
                        secret: Some(format!("{}/{}", GLOBAL_PULL_SECRET.0, GLOBAL_PULL_SECRET.1)),
                        secret_type: Some(secret_type),
                        key: String::new(),
                    },
                );
            }
        }
        keyring
    }

    fn service_account_token(&self, namespace: &str, sa: &str) -> String {
        let digest = Sha256::digest(format!("{}/{namespace}/{sa}", self.world_id).as_bytes());
        format!(
            "sha256~{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
        )
    }
}

impl PullAuthorizer for Cluster {
    fn authenticate(&self, token: &str) -> Option<String> {
        self.subject_of(token)
    }

    fn may_pull(&self, subject: &str, namespace: &str) -> bool {
        match subject
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((sa_namespace, sa_name)) => {
                Cluster::may_pull(self, sa_namespace, sa_name, namespace)
            }
            None => false,
        }
    }
}

/// The docker config a pull secret holds and its type, when the kubelet would read it:
/// type `kubernetes.io/dockerconfigjson` with `.dockerconfigjson`, or
/// `kubernetes.io/dockercfg` with `.dockercfg` (kubernetes `MakeDockerKeyring`).
pub fn pull_secret_config(secret: &Secret) -> Option<(DockerConfig, String)> {
    let secret_type = secret
        .type_
        .clone()
        .unwrap_or_else(|| objects::TYPE_OPAQUE.into());
    let data = secret.data.as_ref()?;
    let (key, format) = match secret_type.as_str() {
        objects::TYPE_DOCKERCONFIGJSON => (
            objects::DOCKERCONFIGJSON_KEY,
            docker_config::ConfigFormat::DockerConfigJson,
        ),
        objects::TYPE_DOCKERCFG => (
            objects::DOCKERCFG_KEY,
            docker_config::ConfigFormat::Dockercfg,
        ),
        _ => return None,
    };
    let bytes = data.get(key)?;
    let text = std::str::from_utf8(&bytes.0).ok()?;
    let config = docker_config::parse(text, Some(format)).ok()?;
    Some((config, secret_type))
}

/// The docker config in any secret that holds one under a docker key, whatever its
/// type (to explain why the kubelet ignored it).
pub fn any_docker_config(secret: &Secret) -> Option<DockerConfig> {
    let data = secret.data.as_ref()?;
    [
        (
            objects::DOCKERCONFIGJSON_KEY,
            docker_config::ConfigFormat::DockerConfigJson,
        ),
        (
            objects::DOCKERCFG_KEY,
            docker_config::ConfigFormat::Dockercfg,
        ),
    ]
    .into_iter()
    .find_map(|(key, format)| {
        let text = std::str::from_utf8(&data.get(key)?.0).ok()?.to_string();
        docker_config::parse(&text, Some(format))
            .or_else(|_| docker_config::parse(&text, None))
            .ok()
    })
}

/// Five characters like Kubernetes' random suffixes, derived from the names so that
/// snapshots are stable.
fn name_suffix(namespace: &str, sa: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    Sha256::digest(format!("{namespace}/{sa}").as_bytes())
        .iter()
        .take(5)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_project_pulls_from_itself_and_not_from_others() {
        let cluster = Cluster::new(SecretSet::default(), "t");
        cluster.ensure_namespace("project-a");
        cluster.ensure_namespace("project-b");
        assert!(cluster.may_pull("project-a", "default", "project-a"));
        assert!(cluster.may_pull("project-a", "builder", "project-a"));
        assert!(!cluster.may_pull("project-a", "default", "project-b"));
    }

    #[test]
    fn a_new_project_has_linked_dockercfg_secrets_with_known_tokens() {
        let cluster = Cluster::new(SecretSet::default(), "t");
        cluster.ensure_namespace("p");
        let (sa, secret) = cluster.with_namespace("p", |ns| {
            let sa = ns.service_accounts["default"].clone();
            let name = sa.image_pull_secrets.as_ref().unwrap()[0].name.clone();
            (sa, ns.secrets[&name].clone())
        });
        assert_eq!(sa.secrets.as_ref().map(Vec::len), Some(1));
        let (config, kind) = pull_secret_config(&secret).expect("a kubelet-readable secret");
        assert_eq!(kind, objects::TYPE_DOCKERCFG);
        let entry = &config.entries[0];
        assert_eq!(entry.key, INTERNAL_REGISTRY);
        assert_eq!(
            cluster.subject_of(&entry.password).as_deref(),
            Some("system:serviceaccount:p:default")
        );
    }

    #[test]
    fn suffixes_are_stable_and_kubernetes_shaped() {
        let a = name_suffix("p", "default");
        assert_eq!(a, name_suffix("p", "default"));
        assert_eq!(a.len(), 5);
        assert_ne!(a, name_suffix("p", "builder"));
    }
}
