//! `regharness check image-config`: the rules of seed 004 (SPEC.md §6), as errors (the
//! configuration is wrong) and warnings (it is legal but will hurt).

use serde::Serialize;

use super::input::{ConfigMap, ImageConfig, ImageContentSourcePolicy};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration is invalid or will not work.
    Error,
    /// Legal, but it will hurt (payload pods failing, credentials exposed).
    Warning,
}

/// One finding, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// error / warning.
    pub severity: Severity,
    /// A stable code, e.g. `allowed-and-blocked`.
    pub code: &'static str,
    /// The field, e.g. `spec.registrySources.allowedRegistries`.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The result of a check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageConfigReport {
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
}

impl ImageConfigReport {
    /// 0 clean, 1 errors (or warnings when `strict`).
    pub fn exit_code(&self, strict: bool) -> u8 {
        let fails = self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error || strict);
        u8::from(fails)
    }

    /// One line per finding.
    pub fn to_human(&self) -> String {
        if self.findings.is_empty() {
            return "no findings\n".into();
        }
        self.findings
            .iter()
            .map(|f| {
                let severity = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                format!("{severity}: {}: {}: {}\n", f.path, f.code, f.message)
            })
            .collect()
    }
}

/// The registries every cluster's payload pulls from.
pub const PAYLOAD_REGISTRIES: &[&str] = &["registry.redhat.io", "quay.io"];
/// The internal registry's default hostname.
pub const INTERNAL_REGISTRY: &str = "image-registry.openshift-image-registry.svc:5000";
/// Registries anyone can push to: search lists must not send the pull secret to them.
pub const PUBLIC_REGISTRIES: &[&str] = &[
    "docker.io",
    "quay.io",
    "registry-1.docker.io",
    "ghcr.io",
    "gcr.io",
];

/// The registry host of an entry that may name a repository (`reg1.io/myrepo/myapp:latest`).
fn host_of(entry: &str) -> &str {
    entry.split('/').next().unwrap_or(entry)
}

/// Whether `list` covers `image` (`host`, or `host/repo...` that `image` starts with).
fn covers(list: &[String], image: &str) -> bool {
    list.iter().any(|e| {
        let e = e.trim_end_matches('/');
        image == e || image.starts_with(&format!("{e}/")) || host_of(image) == e
    })
}

/// Checks the `Image` resource with its ICSPs and CA ConfigMap.
///
/// ```
/// use regharness::node_config::input::{parse, IMAGE_KIND, ImageConfig};
/// use regharness::node_config::validate::{check, Severity};
/// let image: ImageConfig = parse("image.yaml", "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources:\n    allowedRegistries: [quay.io]\n    blockedRegistries: [untrusted.com]\n", IMAGE_KIND).unwrap();
/// let report = check(&image, &[], None);
/// assert!(report.findings.iter().any(|f| f.code == "allowed-and-blocked" && f.severity == Severity::Error));
/// ```
pub fn check(
    image: &ImageConfig,
    icsps: &[ImageContentSourcePolicy],
    ca: Option<&ConfigMap>,
) -> ImageConfigReport {
    let mut findings = Vec::new();
    let mut add = |severity, code, path: &str, message: String| {
        findings.push(Finding {
            severity,
            code,
            path: path.to_string(),
            message,
        })
    };
    use Severity::{Error, Warning};
    const SOURCES: &str = "spec.registrySources";
    if image.metadata.name.as_deref() != Some("cluster") {
        add(
            Error,
            "name-not-cluster",
            "metadata.name",
            format!(
                "is {:?}; the only Image configuration the cluster reads is named `cluster`",
                image.metadata.name.as_deref().unwrap_or("")
            ),
        );
    }
    let sources = &image.spec.registry_sources;
    if let (Some(_), Some(_)) = (&sources.allowed_registries, &sources.blocked_registries) {
        add(
            Error,
            "allowed-and-blocked",
            SOURCES,
            "sets both allowedRegistries and blockedRegistries; set one or the other".into(),
        );
    }
    let internal = image
        .status
        .internal_registry_hostname
        .clone()
        .unwrap_or_else(|| INTERNAL_REGISTRY.to_string());
    if let Some(allowed) = sources
        .allowed_registries
        .as_ref()
        .filter(|a| !a.is_empty())
    {
        for (i, insecure) in sources.insecure_registries.iter().enumerate() {
            if !covers(allowed, insecure) {
                add(
                    Error,
                    "insecure-not-allowed",
                    &format!("{SOURCES}.insecureRegistries[{i}]"),
                    format!("{insecure} is insecure but not in allowedRegistries, so it is blocked; add it there too"),
                );
            }
        }
        for required in PAYLOAD_REGISTRIES
            .iter()
            .copied()
            .chain([internal.as_str()])
        {
            if !covers(allowed, required) {
                add(
                    Warning,
                    "payload-registry-not-allowed",
                    &format!("{SOURCES}.allowedRegistries"),
                    format!("does not list {required}: every registry not listed is blocked, and payload pods pulling from it will fail"),
                );
            }
        }
        for (i, icsp) in icsps.iter().enumerate() {
            for (j, m) in icsp.spec.repository_digest_mirrors.iter().enumerate() {
                for (k, mirror) in m.mirrors.iter().enumerate() {
                    if !covers(allowed, mirror) {
                        add(
                            Warning,
                            "mirror-not-allowed",
                            &format!("icsp[{i}] {}: spec.repositoryDigestMirrors[{j}].mirrors[{k}]", icsp.metadata.name.as_deref().unwrap_or("")),
                            format!("the mirror {mirror} is not in allowedRegistries: a disconnected cluster cannot pull its payload from it"),
                        );
                    }
                }
            }
        }
    }
    for (i, blocked) in sources.blocked_registries.iter().flatten().enumerate() {
        // Blocking a repository (seed 004 blocks quay.io/openshift-payload once it is
        // mirrored) is fine; blocking the whole registry breaks payload pods.
        if PAYLOAD_REGISTRIES.contains(&blocked.as_str()) {
            add(
                Warning,
                "payload-registry-blocked",
                &format!("{SOURCES}.blockedRegistries[{i}]"),
                format!("blocks {blocked}: payload images come from there; never block registry.redhat.io or quay.io"),
            );
        }
    }
    for (i, search) in sources
        .container_runtime_search_registries
        .iter()
        .enumerate()
    {
        if PUBLIC_REGISTRIES.contains(&host_of(search)) {
            add(
                Warning,
                "public-search-registry",
                &format!("{SOURCES}.containerRuntimeSearchRegistries[{i}]"),
                format!("{search} is public: short-name pulls send the global pull secret's credentials to every search registry"),
            );
        }
    }
    for (i, insecure) in sources.insecure_registries.iter().enumerate() {
        if has_tag_or_digest(insecure) {
            add(
                Warning,
                "insecure-scope-with-tag",
                &format!("{SOURCES}.insecureRegistries[{i}]"),
                format!("{insecure} names a tag or digest: the node's registries.conf gets it as a `location`, and containers/image matches registries.conf entries against names without tag or digest, so this entry never applies; list the repository ({}) instead", strip_tag(insecure)),
            );
        }
        let host = host_of(insecure);
        let internal_host = host == internal
            || host.ends_with(".svc")
            || host.contains(".svc:")
            || host.ends_with(".cluster.local");
        if !internal_host && !host.starts_with("localhost") && !host.starts_with("127.") {
            add(
                Warning,
                "insecure-external-registry",
                &format!("{SOURCES}.insecureRegistries[{i}]"),
                format!("{insecure} is an external registry marked insecure: its traffic can be read or altered; give it a certificate and trust its CA through additionalTrustedCA instead"),
            );
        }
    }
    if let Some(ca) = ca {
        for (key, value) in &ca.data {
            let path = format!(
                "configmap {}: data[{key:?}]",
                ca.metadata.name.as_deref().unwrap_or("")
            );
            if key.contains(':') {
                add(
                    Error,
                    "ca-key-with-colon",
                    &path,
                    format!(
                        "a port is written with `..`, not `:` (`{}`)",
                        key.replace(':', "..")
                    ),
                );
            }
            let pem_ok = is_pem_certificates(value);
            if !pem_ok {
                add(
                    Error,
                    "ca-not-pem",
                    &path,
                    "is not a PEM certificate (expected -----BEGIN CERTIFICATE----- ...)".into(),
                );
            }
        }
        if let Some(reference) = &image.spec.additional_trusted_ca {
            if ca.metadata.name.as_deref() != Some(reference.name.as_str()) {
                add(
                    Error,
                    "ca-configmap-not-referenced",
                    "spec.additionalTrustedCA.name",
                    format!(
                        "names {:?} but the ConfigMap given is {:?}",
                        reference.name,
                        ca.metadata.name.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
    findings.sort_by_key(|f| f.severity == Warning);
    ImageConfigReport { findings }
}

/// Whether `value` is one or more PEM blocks, each an X.509 certificate.
fn is_pem_certificates(value: &str) -> bool {
    let mut count = 0;
    for block in x509_parser::pem::Pem::iter_from_buffer(value.as_bytes()) {
        match block {
            Ok(pem) if pem.label == "CERTIFICATE" && pem.parse_x509().is_ok() => count += 1,
            _ => return false,
        }
    }
    count > 0
}

/// Whether a scope such as `reg4.io/myrepo/myapp:latest` names a tag or a digest (a
/// colon after the last `/`, or an `@`).
fn has_tag_or_digest(scope: &str) -> bool {
    scope.contains('@')
        || scope
            .rsplit_once('/')
            .is_some_and(|(_, last)| last.contains(':'))
}

/// The scope without its tag or digest.
fn strip_tag(scope: &str) -> &str {
    let scope = scope.split('@').next().unwrap_or(scope);
    match scope.rsplit_once('/') {
        Some((_, last)) => match last.find(':') {
            Some(at) => &scope[..scope.len() - last.len() + at],
            None => scope,
        },
        None => scope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("reg4.io/myrepo/myapp:latest", true, "reg4.io/myrepo/myapp")]
    #[case("reg4.io/myrepo/myapp@sha256:abc", true, "reg4.io/myrepo/myapp")]
    #[case(
        "registry.example.com:5000/team/app",
        false,
        "registry.example.com:5000/team/app"
    )]
    #[case("registry.example.com:5000", false, "registry.example.com:5000")]
    #[case("insecure.com", false, "insecure.com")]
    fn tags_and_digests_in_scopes(#[case] scope: &str, #[case] tagged: bool, #[case] bare: &str) {
        assert_eq!(has_tag_or_digest(scope), tagged);
        assert_eq!(strip_tag(scope), bare);
    }
}
