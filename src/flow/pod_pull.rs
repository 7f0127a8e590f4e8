//! `pod-pull`: a pod (or a build) pulls its image with the credentials the kubelet
//! picks, then a failure is explained in terms of the cluster's objects.
//!
//! The pod's pull secrets are its service account's `imagePullSecrets` (the service
//! account admission copies them into the pod); a build's are its BuildConfig's pull
//! secret, which the `builder` service account must be able to mount. The kubelet reads
//! only `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` secrets, builds a
//! keyring of them followed by the node's global pull secret, and tries every matching
//! credential, most specific key first, until one pulls (no match: an anonymous pull).

use serde_json::json;

use crate::client::reference::ImageReference;
use crate::cluster::keyring::{CredentialSource, DockerKeyring, KeyringCredential, UnionKeyring};
use crate::cluster::objects;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::PodPullSpec;
use crate::world::cluster::{self, Namespace};

use super::pull::pull;
use super::registry_auth::Credentials;
use super::{FlowContext, FlowFailure, StepResult};

/// The secrets a pod carries and why others were left out.
#[derive(Debug, Default)]
struct PodSecrets {
    service_account: String,
    /// Names in the order the kubelet reads them.
    names: Vec<String>,
    /// Secrets left out, with the reason (kubelet warnings, not errors).
    notes: Vec<String>,
}

/// Runs a `pod-pull` step.
pub async fn run(ctx: &FlowContext<'_>, spec: &PodPullSpec) -> StepResult {
    let image = match ImageReference::parse(&spec.image) {
        Ok(i) => i,
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.clone()),
                e,
            )
        }
    };
    let cluster = ctx.world.cluster();
    let pod = match cluster.with_namespace(&spec.namespace, |ns| pod_secrets(ns, spec)) {
        Ok(p) => p,
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::ClusterObjectInvalid, e.clone()),
                e,
            )
        }
    };
    let mut pod_keyring = DockerKeyring::new();
    // Secrets the kubelet skips because of their type: (name, type).
    let mut ignored: Vec<(String, String)> = Vec::new();
    cluster.with_namespace(&spec.namespace, |ns| {
        for name in &pod.names {
            let Some(secret) = ns.secrets.get(name) else {
                continue;
            };
            match cluster::pull_secret_config(secret) {
                Some((config, secret_type)) => pod_keyring.add(
                    &config,
                    CredentialSource {
                        secret: Some(format!("{}/{name}", spec.namespace)),
                        secret_type: Some(secret_type),
                        key: String::new(),
                    },
                ),
                None => ignored.push((
                    name.clone(),
                    secret
                        .type_
                        .clone()
                        .unwrap_or_else(|| objects::TYPE_OPAQUE.into()),
                )),
            }
        }
    });
    let keyring = UnionKeyring(vec![pod_keyring, cluster.global_keyring()]);
    let candidates = keyring.lookup(&format!("{}/{}", image.registry, image.repository));
    for c in &candidates {
        ctx.world
            .secrets()
            .add_credentials(&c.username, &c.password);
    }
    let registry = ctx.world.registry(&image.registry);
    let rejected_types: Vec<String> = registry
        .map(|r| r.rejects_secret_types.clone())
        .unwrap_or_default();
    let auth_host = registry.and_then(|r| r.auth_host.clone());
    let realm_credentials: Option<Option<Credentials>> = auth_host.as_ref().map(|host| {
        keyring
            .lookup(host)
            .into_iter()
            .next()
            .map(|c| credentials_of(&c))
    });

    // On a node with an image configuration, CRI-O applies the rendered files.
    let node = match ctx.world.node().map(super::node_pull::rendered).transpose() {
        Ok(n) => n,
        Err(f) => return f.into_result(Default::default()),
    };
    let session = match node {
        Some(n) => super::node_pull::node_session(ctx, n, std::slice::from_ref(&image)),
        None => ctx.session(crate::client::proxy_env::ProxyConvention::Go),
    };
    let mut http = match session {
        Ok(h) => h,
        Err(f) => return f.into_result(Default::default()),
    };
    let platform = spec.platform.as_deref().unwrap_or("linux/amd64");
    let mut failures: Vec<(Option<KeyringCredential>, bool, FlowFailure)> = Vec::new();
    let attempts: Vec<Option<KeyringCredential>> = if candidates.is_empty() {
        vec![None]
    } else {
        candidates.into_iter().map(Some).collect()
    };
    for attempt in attempts {
        // A registry that refuses the secret's type sees no usable credentials.
        let refused = attempt.as_ref().is_some_and(|c| {
            c.source
                .secret_type
                .as_ref()
                .is_some_and(|t| rejected_types.contains(t))
        });
        let presented = attempt.as_ref().filter(|_| !refused).map(credentials_of);
        let realm = realm_credentials.as_ref().map(|o| o.as_ref());
        let pulled = match node {
            // CRI-O presents the kubelet's credential to every source (mirrors too).
            Some(n) => {
                let for_source = |_: &ImageReference| Ok(presented.clone());
                super::node_pull::pull_on_node(&mut http, n, &image, &for_source, platform).await
            }
            None => pull(&mut http, &image, presented.as_ref(), realm, platform).await,
        };
        match pulled {
            Ok(mut summary) => {
                let from = match &attempt {
                    Some(c) => format!(
                        " with the entry {:?} of {}",
                        c.source.key,
                        c.source.secret.as_deref().unwrap_or("a pull secret")
                    ),
                    None => " anonymously (no pull secret matches)".to_string(),
                };
                if let Some(c) = &attempt {
                    summary["credentials"] = json!({
                        "secret": c.source.secret,
                        "type": c.source.secret_type,
                        "key": c.source.key,
                        "username": c.username,
                    });
                }
                let message = format!(
                    "Successfully pulled image {:?}{from}: {}",
                    spec.image,
                    summary["digest"].as_str().unwrap_or("")
                );
                let mut result = StepResult::ok(message)
                    .with_status(Some(200))
                    .with_transcript(http.into_transcript());
                result.body = Some(summary);
                return result;
            }
            Err(failure) => failures.push((attempt, refused, failure)),
        }
    }

    let node_refusal = failures.first().is_some_and(|(_, _, f)| {
        matches!(
            f.diagnosis.class,
            DiagnosisClass::BlockedByRegistriesConf
                | DiagnosisClass::RejectedByPolicy
                | DiagnosisClass::UntrustedCa
                | DiagnosisClass::InsecureRegistryNotConfigured
        )
    });
    let (class, detail) = if node_refusal {
        (None, String::new())
    } else {
        cluster.with_namespace(&spec.namespace, |ns| {
            explain(
                ns,
                spec,
                &pod,
                &image,
                &failures,
                &ignored,
                auth_host.as_deref(),
                realm_credentials.as_ref(),
            )
        })
    };
    let messages: Vec<String> = failures
        .iter()
        .map(|(attempt, _, f)| match attempt {
            Some(c) => format!(
                "{} ({}, {:?}): {}",
                c.source.secret.as_deref().unwrap_or("pull secret"),
                c.source.secret_type.as_deref().unwrap_or("?"),
                c.source.key,
                f.message
            ),
            None => f.message.clone(),
        })
        .collect();
    let (_, _, first) = failures.swap_remove(0);
    let mut failure = first;
    if let Some(class) = class {
        failure.diagnosis = Diagnosis::new(class, detail);
    }
    failure.message = format!(
        "Failed to pull image {:?}: {}",
        spec.image,
        messages.join("; ")
    );
    failure.into_result(http.into_transcript())
}

fn credentials_of(c: &KeyringCredential) -> Credentials {
    Credentials {
        username: c.username.clone(),
        password: c.password.clone(),
    }
}

/// Which secrets the pod (or build) carries.
fn pod_secrets(ns: &Namespace, spec: &PodPullSpec) -> Result<PodSecrets, String> {
    let sa_name = spec
        .service_account
        .clone()
        .unwrap_or_else(|| match spec.build_config {
            Some(_) => "builder".to_string(),
            None => "default".to_string(),
        });
    let sa = ns.service_accounts.get(&sa_name).ok_or_else(|| {
        format!(
            "pods \"{}\" is forbidden: error looking up service account {}/{sa_name}: serviceaccount \"{sa_name}\" not found",
            spec.build_config.as_deref().unwrap_or("pod"),
            spec.namespace
        )
    })?;
    let mut pod = PodSecrets {
        service_account: sa_name.clone(),
        ..Default::default()
    };
    let pull_secrets: Vec<String> = sa
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect();
    let mountable: Vec<String> = sa
        .secrets
        .iter()
        .flatten()
        .filter_map(|r| r.name.clone())
        .collect();
    match &spec.build_config {
        Some(bc_name) => {
            let bc = ns.build_configs.get(bc_name).ok_or_else(|| {
                format!("buildconfigs.build.openshift.io \"{bc_name}\" not found")
            })?;
            let strategy = &bc["spec"]["strategy"];
            let secret = ["sourceStrategy", "dockerStrategy"]
                .iter()
                .find_map(|s| strategy[s]["pullSecret"]["name"].as_str());
            match secret {
                Some(secret) if mountable.iter().any(|m| m == secret) => {
                    pod.names.push(secret.to_string())
                }
                Some(secret) => pod.notes.push(format!(
                    "the build's pull secret {secret:?} is not mountable by service account {sa_name:?}"
                )),
                None => pod.names = pull_secrets,
            }
        }
        None => pod.names = pull_secrets,
    }
    for name in &pod.names {
        if !ns.secrets.contains_key(name) {
            pod.notes.push(format!(
                "Unable to retrieve some image pull secrets ({name}); attempting to pull the image may not succeed."
            ));
        }
    }
    Ok(pod)
}

/// The cluster-level reason for a failed pod pull, when there is a more precise one
/// than the registry's answer.
#[allow(clippy::too_many_arguments)]
fn explain(
    ns: &Namespace,
    spec: &PodPullSpec,
    pod: &PodSecrets,
    image: &ImageReference,
    failures: &[(Option<KeyringCredential>, bool, FlowFailure)],
    ignored: &[(String, String)],
    auth_host: Option<&str>,
    realm_credentials: Option<&Option<Credentials>>,
) -> (Option<DiagnosisClass>, String) {
    let image_key = format!("{}/{}", image.registry, image.repository);
    let auth_failure = |f: &FlowFailure| {
        matches!(
            f.diagnosis.class,
            DiagnosisClass::AuthenticationRequired
                | DiagnosisClass::SubscriptionRequired
                | DiagnosisClass::CredentialsRejected
                | DiagnosisClass::TokenRejectedByRegistry
                | DiagnosisClass::UnexpectedResponse
        ) && matches!(f.status, Some(401 | 403))
    };
    if let Some((Some(c), _, _)) = failures.iter().find(|(_, refused, _)| *refused) {
        return (
            Some(DiagnosisClass::WrongSecretType),
            format!(
                "{} does not accept credentials from secret {} of type {} (BZ#1476330); \
                 create a generic kubernetes.io/dockerconfigjson secret from the config.json \
                 `docker login {}` writes",
                image.registry,
                c.source.secret.as_deref().unwrap_or("?"),
                c.source.secret_type.as_deref().unwrap_or("?"),
                image.registry
            ),
        );
    }
    let presented = failures.iter().any(|(a, _, _)| a.is_some());
    if let (Some(host), Some(None)) = (auth_host, realm_credentials) {
        if presented && failures.iter().any(|(_, _, f)| auth_failure(f)) {
            return (
                Some(DiagnosisClass::DelegatedAuthEntryMissing),
                format!(
                    "{} delegates authentication to {host}, and the pod's pull secrets have an \
                     entry for {} but none for {host}",
                    image.registry, image.registry
                ),
            );
        }
    }
    if image.registry == cluster::INTERNAL_REGISTRY
        || image.registry == cluster::INTERNAL_REGISTRY_FQDN
    {
        let project = image.repository.split('/').next().unwrap_or("");
        if presented
            && project != spec.namespace
            && failures.iter().any(|(_, _, f)| auth_failure(f))
        {
            return (
                Some(DiagnosisClass::ImagePullerRoleMissing),
                format!(
                    "service account {}:{} has no system:image-puller role in project {project}",
                    spec.namespace, pod.service_account
                ),
            );
        }
    }
    if presented || !failures.iter().any(|(_, _, f)| auth_failure(f)) {
        return (None, String::new());
    }
    // Nothing was presented: is there a secret in the namespace that would have worked?
    let matching: Vec<(String, Option<String>)> = ns
        .secrets
        .iter()
        .filter(|(name, _)| !is_service_account_dockercfg(ns, name))
        .filter_map(|(name, secret)| {
            let config = cluster::any_docker_config(secret)?;
            let mut keyring = DockerKeyring::new();
            keyring.add(
                &config,
                CredentialSource {
                    secret: Some(name.clone()),
                    secret_type: secret.type_.clone(),
                    key: String::new(),
                },
            );
            (!keyring.lookup(&image_key).is_empty()).then(|| (name.clone(), secret.type_.clone()))
        })
        .collect();
    if let Some((name, kind)) = matching
        .iter()
        .find(|(name, _)| ignored.iter().any(|(n, _)| n == name))
    {
        return (
            Some(DiagnosisClass::WrongSecretType),
            format!(
                "the pod carries secret {name:?}, but its type {} is not one the kubelet reads \
                 (kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg)",
                kind.as_deref().unwrap_or(objects::TYPE_OPAQUE)
            ),
        );
    }
    let Some((name, _)) = matching.first() else {
        return (None, pod.notes.first().cloned().unwrap_or_default());
    };
    if let Some(note) = pod.notes.iter().find(|n| n.contains(name.as_str())) {
        return (
            Some(DiagnosisClass::SecretNotLinked),
            format!("{note}: oc secrets link {} {name}", pod.service_account),
        );
    }
    let own = ns.service_accounts.get(&pod.service_account);
    let mountable_only = own.is_some_and(|sa| {
        sa.secrets
            .iter()
            .flatten()
            .any(|r| r.name.as_deref() == Some(name.as_str()))
    });
    if mountable_only {
        return (
            Some(DiagnosisClass::SecretNotLinked),
            format!(
                "secret {name:?} is linked to service account {:?} only as mountable (`oc secrets link` without --for=pull); the kubelet uses imagePullSecrets",
                pod.service_account
            ),
        );
    }
    let elsewhere = ns.service_accounts.iter().find(|(_, sa)| {
        sa.image_pull_secrets
            .iter()
            .flatten()
            .any(|r| r.name == *name)
            || sa
                .secrets
                .iter()
                .flatten()
                .any(|r| r.name.as_deref() == Some(name.as_str()))
    });
    match elsewhere {
        Some((other, _)) => (
            Some(DiagnosisClass::LinkedToWrongServiceAccount),
            format!(
                "secret {name:?} is linked to service account {other:?}, but the pod runs as {:?}",
                pod.service_account
            ),
        ),
        None => (
            Some(DiagnosisClass::SecretNotLinked),
            format!(
                "secret {name:?} has credentials for {}, but no service account links it",
                image.registry
            ),
        ),
    }
}

/// The `<sa>-dockercfg-xxxxx` secrets OpenShift generates for the internal registry.
fn is_service_account_dockercfg(ns: &Namespace, name: &str) -> bool {
    ns.secrets.get(name).is_some_and(|s| {
        s.metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("kubernetes.io/service-account.name"))
    })
}
