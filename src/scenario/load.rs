//! Loading scenario files with `file:line:col` errors, and finding them in folders.

use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::model::{CredentialsSpec, Outcome, ScenarioFile, StepAction, StepSpec};
use crate::client::reference::ImageReference;
use crate::diagnosis::DiagnosisClass;

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Display name (`login/portal-user-pull`).
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// Its content.
    pub spec: ScenarioFile,
}

/// Why a scenario could not be loaded. Every variant names the file, and where known
/// the line and column.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file or folder could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The path.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a valid scenario document (syntax, unknown key, wrong type).
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The path.
        file: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What was expected.
        message: String,
    },
    /// Well-formed, but inconsistent (a step names an account the world lacks, ...).
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The path.
        file: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// Loads one file. `root` (a catalogue folder) makes the default name relative.
pub fn load_file(path: &Path, root: Option<&Path>) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    load_str(&text, path, root)
}

/// Loads a scenario from text (for tests and stdin).
pub fn load_str(text: &str, path: &Path, root: Option<&Path>) -> Result<Scenario, LoadError> {
    let spec: ScenarioFile = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        LoadError::Syntax {
            file: path.to_path_buf(),
            line,
            column,
            message: first_line(&e.to_string()),
        }
    })?;
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| default_name(path, root));
    let scenario = Scenario {
        name,
        file: path.to_path_buf(),
        spec,
    };
    validate(&scenario)?;
    Ok(scenario)
}

/// serde-saphyr renders a snippet after the message; the report wants one line.
pub(crate) fn first_line(rendered: &str) -> String {
    let line = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(rendered);
    let line = line.trim().trim_start_matches("error: ");
    // Drop a leading "line N column M: ": the caller puts `file:line:col` in front.
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((position, message)) if position.contains(" column ") => message.to_string(),
        _ => line.to_string(),
    }
}

fn default_name(path: &Path, root: Option<&Path>) -> String {
    let rel = root
        .and_then(|r| path.strip_prefix(r).ok())
        .unwrap_or_else(|| path.file_name().map(Path::new).unwrap_or(path));
    let s = rel.with_extension("").to_string_lossy().replace('\\', "/");
    s.trim_start_matches("./").to_string()
}

fn validate(s: &Scenario) -> Result<(), LoadError> {
    let invalid = |step: &Spanned<StepSpec>, message: String| LoadError::Invalid {
        file: s.file.clone(),
        line: step.referenced.line(),
        column: step.referenced.column(),
        message,
    };
    let world = &s.spec.world;
    if s.spec.steps.is_empty() {
        return Err(LoadError::Invalid {
            file: s.file.clone(),
            line: 1,
            column: 1,
            message: "`steps` is empty: a scenario needs at least one step".into(),
        });
    }
    let at = |loc: &serde_saphyr::Location, message: String| LoadError::Invalid {
        file: s.file.clone(),
        line: loc.line(),
        column: loc.column(),
        message,
    };
    let mut usernames: Vec<String> = Vec::new();
    for spanned in &world.sso.accounts {
        let a = &spanned.value;
        let here = |m: String| at(&spanned.referenced, format!("world.sso.accounts: {m}"));
        let name = match (&a.person, &a.service_account) {
            (Some(p), None) => p.clone(),
            (None, Some(sa)) => {
                if !sa.contains('|') {
                    return Err(here(format!(
                        "service account {sa:?}: expected `<prefix>|<name>` such as 1234567|ci-puller"
                    )));
                }
                sa.clone()
            }
            _ => {
                return Err(here(
                    "an account needs exactly one of `person` or `service_account`".into(),
                ))
            }
        };
        if a.person.is_some() && a.password.is_none() {
            return Err(here(format!("person {name:?} needs a `password`")));
        }
        if usernames.contains(&name) {
            return Err(here(format!("account {name:?} is listed twice")));
        }
        usernames.push(name);
    }
    let known_account = |n: &str| {
        usernames
            .iter()
            .any(|u| u == n || u.split_once('|').map(|(_, x)| x) == Some(n))
    };
    let registry_hosts: Vec<String> = match &world.registries {
        Some(r) => r
            .iter()
            .map(|r| r.value.host.to_ascii_lowercase())
            .collect(),
        None => crate::catalogue::DEFAULT_REGISTRIES
            .iter()
            .map(|h| h.to_string())
            .collect(),
    };
    for (i, spanned) in world.registries.iter().flatten().enumerate() {
        let r = &spanned.value;
        let here = |m: String| at(&spanned.referenced, format!("world.registries: {m}"));
        let host = r.host.to_ascii_lowercase();
        if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
            return Err(here(format!(
                "host {:?}: expected a host name such as registry.example.com",
                r.host
            )));
        }
        if registry_hosts[..i].contains(&host) {
            return Err(here(format!("host {:?} is listed twice", r.host)));
        }
        if host == world.sso.host.to_ascii_lowercase() {
            return Err(here(format!("host {:?} is the SSO's host", r.host)));
        }
        for image in r.images.iter().flatten() {
            crate::world::image_spec(&image.0)
                .map_err(|e| here(format!("registry {}: {e}", r.host)))?;
        }
        if r.auth_host.is_some() && r.auth != Some(crate::scenario::model::AuthModeSpec::Delegated)
        {
            return Err(here(format!(
                "registry {}: `auth_host` needs `auth: delegated`",
                r.host
            )));
        }
        if let Some(h) = &r.auth_host {
            if registry_hosts.contains(&h.to_ascii_lowercase()) {
                return Err(here(format!(
                    "registry {}: auth_host {h:?} is a registry of this world; the auth host is served by the SSO",
                    r.host
                )));
            }
        }
    }
    let internal = world.cluster.internal_registry.as_ref();
    if let Some(internal) = internal {
        for image in &internal.value.images {
            let valid = crate::world::image_spec(&image.0).is_ok()
                && image.0.reference.split('/').count() == 2;
            if !valid {
                return Err(at(
                    &internal.referenced,
                    format!(
                        "world.cluster.internal_registry: image {:?}: expected PROJECT/STREAM:TAG such as project-b/app:latest",
                        image.0.reference
                    ),
                ));
            }
        }
    }
    let has_proxy = world.proxy.is_some();
    if !has_proxy && world.client.env.values().any(|v| v.contains("${PROXY}")) {
        return Err(LoadError::Invalid {
            file: s.file.clone(),
            line: 1,
            column: 1,
            message: "world.client.env uses ${PROXY} but the world has no `proxy`".into(),
        });
    }
    for rule in &world.firewall {
        if rule.value.host.is_empty() || rule.value.host.contains('/') {
            return Err(at(
                &rule.referenced,
                format!(
                    "world.firewall: host {:?}: expected a host name or *.domain",
                    rule.value.host
                ),
            ));
        }
    }
    if let Some(proxy) = &world.proxy {
        let p = &proxy.value;
        if p.implementation == crate::scenario::model::ProxyImplementation::Squid
            && (!p.fail.is_empty() || p.intercept || p.down)
        {
            return Err(at(
                &proxy.referenced,
                "world.proxy: implementation: squid supports `allow` and `auth` only (not `fail`, `intercept` or `down`)".into(),
            ));
        }
    }
    for spanned in world.registries.iter().flatten() {
        let r = &spanned.value;
        if r.implementation == crate::scenario::model::RegistryImplementation::Distribution {
            let unsupported = [
                (r.blob_cdn.is_some(), "blob_cdn"),
                (r.auth_host.is_some(), "auth_host"),
            ];
            if let Some((_, key)) = unsupported.iter().find(|(set, _)| *set) {
                return Err(at(
                    &spanned.referenced,
                    format!(
                        "world.registries: {}: implementation: distribution does not support `{key}`",
                        r.host
                    ),
                ));
            }
        }
        if let Some(cdn) = &spanned.value.blob_cdn {
            if registry_hosts.contains(&cdn.to_ascii_lowercase())
                || cdn.eq_ignore_ascii_case(&world.sso.host)
            {
                return Err(at(
                    &spanned.referenced,
                    format!("world.registries: blob_cdn {cdn:?} is already a host of this world"),
                ));
            }
        }
    }
    for entry in &world.cluster.global_pull_secret {
        let c = &entry.value.credentials;
        let problem = match &c.account {
            Some(a) if !known_account(a) => Some(format!("no account {a:?} in world.sso.accounts")),
            Some(_) => None,
            None if c.username.is_none() || c.password.is_none() => {
                Some("credentials need `account`, or both `username` and `password`".to_string())
            }
            None => None,
        };
        if let Some(p) = problem {
            return Err(at(
                &entry.referenced,
                format!(
                    "world.cluster.global_pull_secret {}: {p}",
                    entry.value.server
                ),
            ));
        }
    }
    check_cluster_image_config(world, s)?;
    let has_image_config = world.cluster.image_config.is_some();
    let known_registry = |h: &str| {
        registry_hosts.iter().any(|r| r.eq_ignore_ascii_case(h))
            || (internal.is_some()
                && (h == crate::world::cluster::INTERNAL_REGISTRY
                    || h == crate::world::cluster::INTERNAL_REGISTRY_FQDN))
    };
    for (i, step) in s.spec.steps.iter().enumerate() {
        let n = i + 1;
        let check_creds = |c: &CredentialsSpec| -> Result<(), LoadError> {
            if let Some(a) = &c.account {
                if !known_account(a) {
                    return Err(invalid(
                        step,
                        format!(
                            "step {n}: no account {a:?} in world.sso.accounts (known: {})",
                            usernames.join(", ")
                        ),
                    ));
                }
            } else if c.username.is_none() || c.password.is_none() {
                return Err(invalid(
                    step,
                    format!(
                        "step {n}: credentials need `account`, or both `username` and `password`"
                    ),
                ));
            }
            Ok(())
        };
        let check_registry = |h: &str| -> Result<(), LoadError> {
            if known_registry(h) {
                Ok(())
            } else {
                Err(invalid(
                    step,
                    format!(
                        "step {n}: registry {h:?} is not in the world (registries: {})",
                        registry_hosts.join(", ")
                    ),
                ))
            }
        };
        match &step.value.action {
            StepAction::Login(l) => {
                check_registry(&l.registry)?;
                check_creds(&l.credentials)?;
            }
            StepAction::Token(t) => {
                if let Some(c) = &t.credentials {
                    check_creds(c)?;
                }
                for scope in t.scope.iter().flatten() {
                    scope
                        .parse::<regharness_mocks::ResourceActions>()
                        .map_err(|e| invalid(step, format!("step {n}: {e}")))?;
                }
            }
            StepAction::Ping(p) => {
                check_registry(&p.registry)?;
                if let Some(path) = &p.path {
                    if !path.starts_with("/v2/") {
                        return Err(invalid(
                            step,
                            format!("step {n}: path {path:?} must start with /v2/"),
                        ));
                    }
                }
            }
            StepAction::Pull(p) if has_image_config => {
                // On a node, short names resolve through the search registries, and a
                // registry the node blocks need not exist.
                if p.image.trim().is_empty() {
                    return Err(invalid(step, format!("step {n}: `image` is empty")));
                }
            }
            StepAction::Pull(p) => {
                let r = ImageReference::parse(&p.image)
                    .map_err(|e| invalid(step, format!("step {n}: {e}")))?;
                check_registry(&r.registry)?;
            }
            StepAction::CheckImageConfig(_) | StepAction::RenderNodeConfig(_) => {
                if !has_image_config {
                    return Err(invalid(
                        step,
                        format!(
                            "step {n}: {} needs world.cluster.image_config",
                            crate::runner::kind_of(&step.value.action)
                        ),
                    ));
                }
            }
            StepAction::RegenerateToken(a) | StepAction::DeleteAccount(a) => {
                if !known_account(&a.account) {
                    return Err(invalid(
                        step,
                        format!("step {n}: no account {:?} in world.sso.accounts", a.account),
                    ));
                }
            }
            StepAction::CreateSecret(c) => match (&c.docker_registry, &c.generic) {
                (Some(d), None) => check_creds(&d.credentials)?,
                (None, Some(g)) => {
                    if g.from_file.is_empty() {
                        return Err(invalid(step, format!("step {n}: generic.from_file is empty")));
                    }
                    for f in &g.from_file {
                        if f.auth_file.is_some() == f.content.is_some() {
                            return Err(invalid(step, format!(
                                "step {n}: from_file {:?}: give exactly one of `auth_file` or `content`",
                                f.key
                            )));
                        }
                    }
                }
                _ => {
                    return Err(invalid(
                        step,
                        format!("step {n}: create-secret needs exactly one of `docker-registry` or `generic`"),
                    ))
                }
            },
            StepAction::AddRoleToUser(a) => {
                if a.user.is_none() || a.group.is_some() {
                    return Err(invalid(step, format!("step {n}: add-role-to-user needs `user` and no `group`")));
                }
            }
            StepAction::AddRoleToGroup(a) => {
                if a.group.is_none() || a.user.is_some() {
                    return Err(invalid(step, format!("step {n}: add-role-to-group needs `group` and no `user`")));
                }
            }
            StepAction::PodPull(p) => {
                let r = ImageReference::parse(&p.image)
                    .map_err(|e| invalid(step, format!("step {n}: {e}")))?;
                if !has_image_config {
                    check_registry(&r.registry)?;
                }
            }
            StepAction::CheckPullSecret(c) => {
                let sources = [c.secret.is_some(), c.auth_file.is_some(), c.content.is_some()];
                if sources.iter().filter(|x| **x).count() != 1 {
                    return Err(invalid(
                        step,
                        format!("step {n}: check-pull-secret needs exactly one of `secret`, `auth_file` or `content`"),
                    ));
                }
            }
            StepAction::WriteAuthFile(_)
            | StepAction::AdvanceClock(_)
            | StepAction::LinkSecret(_)
            | StepAction::UnlinkSecret(_)
            | StepAction::SetBuildSecret(_) => {}
        }
        let uses_proxy = step.value.proxy.iter().any(|p| p.contains("${PROXY}"))
            || step
                .value
                .env
                .values()
                .flatten()
                .any(|v| v.contains("${PROXY}"));
        if uses_proxy && !has_proxy {
            return Err(invalid(
                step,
                format!("step {n}: uses ${{PROXY}} but the world has no `proxy`"),
            ));
        }
        if step.value.expect.findings.is_some()
            && !matches!(
                step.value.action,
                StepAction::CheckPullSecret(_) | StepAction::CheckImageConfig(_)
            )
        {
            return Err(invalid(
                step,
                format!("step {n}: expect.findings is only for check-pull-secret and check-image-config steps"),
            ));
        }
        let e = &step.value.expect;
        if e.outcome == Outcome::Skipped {
            return Err(invalid(
                step,
                format!("step {n}: expect.outcome is ok or failed; `skipped` is what a run reports for a step its client cannot run"),
            ));
        }
        if let Some(client) = step.value.client {
            if let Some(why) = crate::flow::drivers::unsupported(client, &step.value.action) {
                return Err(invalid(step, format!("step {n}: client {client}: {why}")));
            }
        }
        if e.outcome == Outcome::Ok && e.diagnosis.is_some_and(|d| d != DiagnosisClass::Ok) {
            return Err(invalid(step, format!(
                "step {n}: expect.outcome is ok but expect.diagnosis is {}: a failing diagnosis needs `outcome: failed`",
                e.diagnosis.map(|d| d.as_str()).unwrap_or("")
            )));
        }
        if e.outcome == Outcome::Failed && e.diagnosis == Some(DiagnosisClass::Ok) {
            return Err(invalid(
                step,
                format!("step {n}: `outcome: failed` with `diagnosis: ok`"),
            ));
        }
    }
    Ok(())
}

/// Finds scenario files: files as given, folders searched recursively for `*.yaml` /
/// `*.yml`, sorted. Returns each file with the root to name it by.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, LoadError> {
    let mut found = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| LoadError::Io {
            file: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                let entry = entry.map_err(|e| LoadError::Io {
                    file: p.clone(),
                    source: e.into(),
                })?;
                let path = entry.path();
                let is_yaml = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml") | Some("yml")
                );
                if entry.file_type().is_file() && is_yaml {
                    files.push((path.to_path_buf(), p.clone()));
                }
            }
            found.extend(files);
        } else {
            let root = p.parent().map(Path::to_path_buf).unwrap_or_default();
            found.push((p.clone(), root));
        }
    }
    Ok(found)
}

/// `world.cluster.image_config`, `icsps` and `ca_configmap` must be the kinds they claim,
/// and `${CA:HOST}` must name a registry of the world with `own_ca: true`.
fn check_cluster_image_config(
    world: &crate::scenario::model::WorldSpec,
    s: &Scenario,
) -> Result<(), LoadError> {
    use crate::node_config::input::{HasKind, CONFIGMAP_KIND, ICSP_KIND, IMAGE_KIND};
    let at = |r: &serde_saphyr::Location, message: String| LoadError::Invalid {
        file: s.file.clone(),
        line: r.line(),
        column: r.column(),
        message,
    };
    let kind_error = |field: &str, (api, kind): (&str, &str), got: (&str, &str)| {
        format!(
            "world.cluster.{field}: expected apiVersion {api} and kind {kind}, got apiVersion {:?} and kind {:?}",
            got.0, got.1
        )
    };
    let cluster = &world.cluster;
    if cluster.image_config.is_none()
        && (!cluster.icsps.is_empty() || cluster.ca_configmap.is_some())
    {
        let message = "world.cluster: icsps and ca_configmap need world.cluster.image_config";
        let r = cluster
            .icsps
            .first()
            .map(|i| i.referenced)
            .or(cluster.ca_configmap.as_ref().map(|c| c.referenced));
        return Err(match r {
            Some(r) => at(&r, message.into()),
            None => LoadError::Invalid {
                file: s.file.clone(),
                line: 1,
                column: 1,
                message: message.into(),
            },
        });
    }
    for file in &cluster.node_files {
        let path = &file.value.path;
        if cluster.image_config.is_none() {
            return Err(at(
                &file.referenced,
                "world.cluster.node_files needs world.cluster.image_config".into(),
            ));
        }
        let valid = path.starts_with("/etc/")
            && !path.ends_with('/')
            && path
                .split('/')
                .skip(1)
                .all(|c| !c.is_empty() && c != "." && c != "..");
        if !valid {
            return Err(at(
                &file.referenced,
                format!("world.cluster.node_files: path {path:?}: expected an absolute path under /etc/ such as /etc/containers/registries.conf.d/99-local.conf"),
            ));
        }
    }
    if let Some(image) = &cluster.image_config {
        let v = &image.value;
        if v.kind() != IMAGE_KIND {
            return Err(at(
                &image.referenced,
                kind_error("image_config", IMAGE_KIND, (&v.api_version, &v.kind)),
            ));
        }
    }
    for icsp in &cluster.icsps {
        let v = &icsp.value;
        if v.kind() != ICSP_KIND {
            return Err(at(
                &icsp.referenced,
                kind_error("icsps", ICSP_KIND, (&v.api_version, &v.kind)),
            ));
        }
    }
    if let Some(cm) = &cluster.ca_configmap {
        let v = &cm.value;
        if v.kind() != CONFIGMAP_KIND {
            return Err(at(
                &cm.referenced,
                kind_error("ca_configmap", CONFIGMAP_KIND, (&v.api_version, &v.kind)),
            ));
        }
        let own_ca_hosts: Vec<&str> = world
            .registries
            .iter()
            .flatten()
            .filter(|r| r.value.own_ca)
            .map(|r| r.value.host.as_str())
            .collect();
        for (key, value) in &v.data {
            for host in crate::world::ca_placeholders(value) {
                if !own_ca_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                    return Err(at(
                        &cm.referenced,
                        format!(
                            "world.cluster.ca_configmap: data[{key}]: ${{CA:{host}}} names no registry of the world with `own_ca: true` (registries with own_ca: {})",
                            if own_ca_hosts.is_empty() { "none".to_string() } else { own_ca_hosts.join(", ") }
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Scenario, LoadError> {
        load_str(
            text,
            Path::new("scenarios/x.yaml"),
            Some(Path::new("scenarios")),
        )
    }

    #[test]
    fn unknown_keys_are_located() {
        let e = load("description: d\nsteps:\n  - token: {}\n    expct: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("scenarios/x.yaml:4:"), "{e}");
        assert!(e.contains("expct"), "{e}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = load("description: d\nsteps: [\n").unwrap_err().to_string();
        assert!(e.starts_with("scenarios/x.yaml:"), "{e}");
        let e = load("description: d\nsteps:\n  - token:\n      scope: 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("scenarios/x.yaml:4:"), "{e}");
    }

    #[rstest::rstest]
    #[case::both_secret_kinds(
        "  - token: {}\n  - create-secret: {name: s, generic: {from_file: [{key: .dockercfg, content: '{}'}]}, docker-registry: {server: r, credentials: {username: u, password: p}}}\n",
        4,
        "exactly one of `docker-registry` or `generic`"
    )]
    #[case::from_file_without_source(
        "  - create-secret: {name: s, generic: {from_file: [{key: .dockercfg}]}}\n",
        3,
        "exactly one of `auth_file` or `content`"
    )]
    #[case::role_to_user_with_group(
        "  - add-role-to-user: {role: system:image-puller, group: g, namespace: b}\n",
        3,
        "needs `user`"
    )]
    #[case::pod_pull_of_unknown_registry(
        "  - pod-pull: {image: image-registry.openshift-image-registry.svc:5000/b/app:latest}\n",
        3,
        "not in the world"
    )]
    #[case::check_with_two_sources(
        "  - check-pull-secret: {secret: s, content: x}\n",
        3,
        "exactly one of `secret`, `auth_file` or `content`"
    )]
    #[case::findings_on_another_step(
        "  - token: {}\n    expect: {findings: []}\n",
        3,
        "only for check-pull-secret"
    )]
    #[case::unknown_link_for(
        "  - link-secret: {service_account: default, secret: s, for: pulls}\n",
        3,
        "pulls"
    )]
    fn cluster_steps_are_validated_at_their_line(
        #[case] steps: &str,
        #[case] line: u32,
        #[case] wanted: &str,
    ) {
        let e = load(&format!("description: d\nsteps:\n{steps}"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("scenarios/x.yaml:{line}:")), "{e}");
        assert!(e.contains(wanted), "{e}");
    }

    #[test]
    fn the_internal_registry_needs_project_scoped_images() {
        let e = load(
            "description: d\nworld:\n  cluster:\n    internal_registry:\n      images: [app:latest]\nsteps:\n  - token: {}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("scenarios/x.yaml:5:"), "{e}");
        assert!(e.contains("PROJECT/STREAM:TAG"), "{e}");
    }

    #[test]
    fn semantic_errors_point_at_the_step() {
        let e =
            load("description: d\nsteps:\n  - token: {}\n  - pull: {image: nowhere.example/a:b}\n")
                .unwrap_err()
                .to_string();
        assert!(e.starts_with("scenarios/x.yaml:4:"), "{e}");
        assert!(e.contains("not in the world"), "{e}");
        let e = load("description: d\nsteps:\n  - token: {credentials: {account: ghost}}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no account \"ghost\""), "{e}");
    }

    #[test]
    fn world_errors_point_at_the_entry() {
        let e = load("description: d\nworld:\n  registries:\n    - host: a.example\n    - host: b.example\n      images: [noTag]\nsteps:\n  - token: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("scenarios/x.yaml:5:"), "{e}");
        assert!(e.contains("repository:tag"), "{e}");
        let e = load("description: d\nworld:\n  sso:\n    accounts:\n      - person: a\n        password: p\n      - service_account: nopipe\nsteps:\n  - token: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("scenarios/x.yaml:7:"), "{e}");
        assert!(e.contains("<prefix>|<name>"), "{e}");
        let e = load("description: d\nworld:\n  registries:\n    - host: a.example\n    - host: A.example\nsteps:\n  - token: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listed twice"), "{e}");
    }

    #[test]
    fn name_defaults_to_relative_path() {
        let s = load_str(
            "description: d\nsteps:\n  - token: {}\n",
            Path::new("scenarios/token/ok.yaml"),
            Some(Path::new("scenarios")),
        )
        .unwrap();
        assert_eq!(s.name, "token/ok");
    }

    #[test]
    fn a_step_needs_exactly_one_action() {
        let e = load("description: d\nsteps:\n  - name: x\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs one action"), "{e}");
        let e = load(
            "description: d\nsteps:\n  - token: {}\n    ping: {registry: registry.redhat.io}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exactly one action"), "{e}");
    }

    #[test]
    fn a_client_must_support_the_action_and_skipped_is_no_expectation() {
        let e = load("description: d\nsteps:\n  - token: {}\n    client: skopeo\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("client skopeo: skopeo does not run `token` steps"),
            "{e}"
        );
        let e = load("description: d\nsteps:\n  - token: {}\n    expect: {outcome: skipped}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`skipped` is what a run reports"), "{e}");
        assert!(load("description: d\nsteps:\n  - token: {}\n    client: curl\n").is_ok());
    }
}
