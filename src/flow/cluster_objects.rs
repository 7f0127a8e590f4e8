//! The `oc` commands that create and link cluster objects: `create secret`, `secrets
//! link|unlink`, `policy add-role-to-user|group`, `set build-secret`. Each step changes
//! the world's cluster, validates like the API server, and reports the object it wrote
//! (as `NAMESPACE/KIND/NAME`, for snapshots).

use base64::Engine;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use serde::Serialize;
use serde_json::Value;

use crate::client::auth_file;
use crate::cluster::{objects, printer};
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::{
    AddRoleSpec, CreateSecretSpec, LinkSecretSpec, SetBuildSecretSpec, UnlinkSecretSpec,
};
use crate::world::cluster::{ClusterError, Namespace};

use super::{FlowContext, GeneratedFile, StepResult};

fn refused(message: impl Into<String>) -> StepResult {
    let message = message.into();
    StepResult::failed(
        Diagnosis::new(DiagnosisClass::ClusterObjectInvalid, message.clone()),
        message,
    )
}

/// `oc create secret docker-registry|generic`.
pub fn create_secret(ctx: &FlowContext<'_>, spec: &CreateSecretSpec) -> StepResult {
    let secret = match (&spec.docker_registry, &spec.generic) {
        (Some(d), None) => {
            let (username, password) = match ctx.resolve_credentials(&d.credentials) {
                Ok(c) => c,
                Err(e) => return refused(e),
            };
            objects::create_secret_docker_registry(
                &spec.name,
                Some(&spec.namespace),
                &d.server,
                &username,
                &password,
                d.email.as_deref(),
            )
        }
        (None, Some(g)) => {
            let mut files = Vec::new();
            for file in &g.from_file {
                let content = match (&file.auth_file, &file.content) {
                    (Some(kind), None) => {
                        let path = ctx.sandbox.path_of(*kind);
                        match std::fs::read(&path) {
                            Ok(bytes) => bytes,
                            Err(e) => {
                                return refused(format!(
                                    "error reading {}: {e}",
                                    auth_file::display_path(*kind)
                                ))
                            }
                        }
                    }
                    (None, Some(text)) => text.clone().into_bytes(),
                    _ => {
                        return refused(format!(
                            "from_file {:?}: give exactly one of `auth_file` or `content`",
                            file.key
                        ))
                    }
                };
                files.push((file.key.clone(), content));
            }
            objects::create_secret_generic(
                &spec.name,
                Some(&spec.namespace),
                &files,
                g.secret_type.as_deref(),
            )
        }
        _ => {
            return refused(
                "create-secret needs exactly one of `docker-registry` or `generic`".to_string(),
            )
        }
    };
    let secret = match secret {
        Ok(s) => s,
        Err(e) => return refused(format!("error: {e}")),
    };
    if let Err(e) = validate_secret(&secret) {
        return refused(e);
    }
    let exists = ctx.world.cluster().with_namespace(&spec.namespace, |ns| {
        if ns.secrets.contains_key(&spec.name) {
            return Err(ClusterError::AlreadyExists {
                kind: "secrets",
                name: spec.name.clone(),
                namespace: spec.namespace.clone(),
            });
        }
        ns.secrets.insert(spec.name.clone(), secret.clone());
        Ok(())
    });
    if let Err(e) = exists {
        return refused(format!("error: failed to create secret {e}"));
    }
    let mut result = StepResult::ok(format!("secret/{} created", spec.name));
    result
        .files
        .push(object_file(&spec.namespace, "secret", &spec.name, &secret));
    result
}

/// The API server's validation of docker pull secrets (`ValidateSecret`): the type's
/// key must be present and hold JSON.
pub fn validate_secret(secret: &Secret) -> Result<(), String> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let key = match secret.type_.as_deref() {
        Some(objects::TYPE_DOCKERCFG) => objects::DOCKERCFG_KEY,
        Some(objects::TYPE_DOCKERCONFIGJSON) => objects::DOCKERCONFIGJSON_KEY,
        _ => return Ok(()),
    };
    let value = secret.data.as_ref().and_then(|d| d.get(key));
    match value {
        None => Err(format!(
            "The Secret \"{name}\" is invalid: data[{key}]: Required value"
        )),
        Some(bytes) => match serde_json::from_slice::<Value>(&bytes.0) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "The Secret \"{name}\" is invalid: data[{key}]: Invalid value: \"<secret contents redacted>\": {e}"
            )),
        },
    }
}

/// `oc secrets link SA SECRET [--for=...]`.
pub fn link_secret(ctx: &FlowContext<'_>, spec: &LinkSecretSpec) -> StepResult {
    let link_for = spec.link_for.unwrap_or(objects::LinkFor::Mount);
    let outcome = ctx.world.cluster().with_namespace(&spec.namespace, |ns| {
        if !ns.secrets.contains_key(&spec.secret) {
            return Err(format!("error: secrets \"{}\" not found", spec.secret));
        }
        let sa = service_account_mut(ns, &spec.service_account)?;
        let change = objects::link_secret(sa, &spec.secret, link_for);
        Ok((change, sa.clone()))
    });
    match outcome {
        Ok((change, sa)) => {
            let what = match (change.added_to_image_pull_secrets, change.added_to_secrets) {
                (false, false) => "already linked; nothing changed".to_string(),
                (true, false) => "added to imagePullSecrets".to_string(),
                (false, true) => "added to secrets (mountable)".to_string(),
                (true, true) => "added to imagePullSecrets and secrets (mountable)".to_string(),
            };
            let message = format!(
                "serviceaccount/{} linked to secret/{}: {what}",
                spec.service_account, spec.secret
            );
            ok_with_service_account(message, &spec.namespace, &sa)
        }
        Err(e) => refused(e),
    }
}

/// A success that reports the updated service account.
fn ok_with_service_account(message: String, namespace: &str, sa: &ServiceAccount) -> StepResult {
    let name = sa.metadata.name.clone().unwrap_or_default();
    let mut result = StepResult::ok(message);
    result
        .files
        .push(object_file(namespace, "serviceaccount", &name, sa));
    result
}

/// The service account `name`, or `oc`'s not-found message.
fn service_account_mut<'a>(
    ns: &'a mut Namespace,
    name: &str,
) -> Result<&'a mut ServiceAccount, String> {
    ns.service_accounts
        .get_mut(name)
        .ok_or_else(|| format!("error: serviceaccounts \"{name}\" not found"))
}

/// `oc secrets unlink SA SECRET`.
pub fn unlink_secret(ctx: &FlowContext<'_>, spec: &UnlinkSecretSpec) -> StepResult {
    let outcome = ctx.world.cluster().with_namespace(&spec.namespace, |ns| {
        let sa = service_account_mut(ns, &spec.service_account)?;
        let removed = objects::unlink_secret(sa, &spec.secret);
        Ok::<_, String>((removed, sa.clone()))
    });
    match outcome {
        Ok((true, sa)) => {
            let message = format!(
                "secret/{} unlinked from serviceaccount/{}",
                spec.secret, spec.service_account
            );
            ok_with_service_account(message, &spec.namespace, &sa)
        }
        Ok((false, _)) => refused(format!(
            "error: No valid secrets found or secrets not linked to service account {}",
            spec.service_account
        )),
        Err(e) => refused(e),
    }
}

/// `oc policy add-role-to-user` (`group == false`) / `add-role-to-group`.
pub fn add_role(ctx: &FlowContext<'_>, spec: &AddRoleSpec, group: bool) -> StepResult {
    let (subject, printed) = match (group, &spec.user, &spec.group) {
        (false, Some(user), None) => match objects::RoleSubject::user(user) {
            Ok(s) => (s, user.clone()),
            Err(e) => return refused(format!("error: {e}")),
        },
        (true, None, Some(g)) => (objects::RoleSubject::group(g), g.clone()),
        (false, _, _) => return refused("add-role-to-user needs `user` (and no `group`)"),
        (true, _, _) => return refused("add-role-to-group needs `group` (and no `user`)"),
    };
    let change = ctx.world.cluster().with_namespace(&spec.namespace, |ns| {
        let change = objects::add_role(&ns.role_bindings, &spec.namespace, &spec.role, subject);
        let name = change.binding.metadata.name.clone();
        match ns
            .role_bindings
            .iter_mut()
            .find(|b| b.metadata.name == name)
        {
            Some(existing) => *existing = change.binding.clone(),
            None => ns.role_bindings.push(change.binding.clone()),
        }
        change
    });
    // oc's own wording.
    let message = if change.already_bound {
        format!(
            "Warning: {printed:?} is already bound to clusterrole {:?}; nothing changed",
            spec.role
        )
    } else {
        format!(
            "clusterrole.rbac.authorization.k8s.io/{} added: {printed:?}",
            spec.role
        )
    };
    let name = change.binding.metadata.name.clone().unwrap_or_default();
    let mut result = StepResult::ok(message);
    result.files.push(object_file(
        &spec.namespace,
        "rolebinding",
        &name,
        &change.binding,
    ));
    result
}

/// `oc set build-secret --pull bc/NAME SECRET` (the BuildConfig is created if the
/// scenario has none yet: only its pull-secret fragment matters here).
pub fn set_build_secret(ctx: &FlowContext<'_>, spec: &SetBuildSecretSpec) -> StepResult {
    let strategy = spec.strategy.unwrap_or(objects::BuildStrategy::Source);
    let fragment = objects::build_config_pull_secret(
        &spec.build_config,
        &spec.namespace,
        strategy,
        &spec.secret,
    );
    let missing = ctx.world.cluster().with_namespace(&spec.namespace, |ns| {
        if !ns.secrets.contains_key(&spec.secret) {
            return Some(format!("error: secrets \"{}\" not found", spec.secret));
        }
        ns.build_configs
            .insert(spec.build_config.clone(), fragment.clone());
        None
    });
    if let Some(e) = missing {
        return refused(e);
    }
    let mut result = StepResult::ok(format!(
        "buildconfig.build.openshift.io/{} updated",
        spec.build_config
    ));
    result.files.push(GeneratedFile {
        path: format!("{}/buildconfig/{}", spec.namespace, spec.build_config),
        content: serde_json::to_string_pretty(&fragment).unwrap_or_default(),
    });
    result
}

/// An object as a generated file: kubectl's JSON, with each secret `data` value
/// decoded (and parsed when it is JSON) so that the snapshot can show and redact it.
pub fn object_file<T: Serialize>(
    namespace: &str,
    kind: &str,
    name: &str,
    object: &T,
) -> GeneratedFile {
    let text = printer::to_kubectl_json(object).unwrap_or_default();
    let mut value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    decode_secret_data(&mut value);
    GeneratedFile {
        path: format!("{namespace}/{kind}/{name}"),
        content: serde_json::to_string_pretty(&value).unwrap_or_default(),
    }
}

/// Replaces `data.KEY: base64` with `data.KEY: {"base64 of": <decoded>}`.
pub fn decode_secret_data(object: &mut Value) {
    let Some(data) = object.get_mut("data").and_then(Value::as_object_mut) else {
        return;
    };
    for value in data.values_mut() {
        let Some(encoded) = value.as_str() else {
            continue;
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        *value = match decoded {
            Some(text) => {
                let inner = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
                serde_json::json!({ "base64 of": inner })
            }
            None => serde_json::json!({ "base64 of": "[not valid base64]" }),
        };
    }
}
