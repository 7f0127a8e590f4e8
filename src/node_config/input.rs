//! The inputs as `oc get -o yaml` prints them: the `image.config.openshift.io/cluster`
//! resource, `ImageContentSourcePolicy` objects and the additional-trusted-CA ConfigMap.
//! Unknown fields in `spec` are errors (a misspelt `allowedRegistry` would otherwise be
//! ignored silently, as the API server prunes it); `metadata` and `status` accept what
//! the server adds.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// `config.openshift.io/v1` `Image`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageConfig {
    /// `config.openshift.io/v1`.
    pub api_version: String,
    /// `Image`.
    pub kind: String,
    /// Only `name` matters (it must be `cluster`).
    #[serde(default)]
    pub metadata: Metadata,
    /// The configuration.
    #[serde(default)]
    pub spec: ImageSpec,
    /// What the cluster reports.
    #[serde(default)]
    pub status: ImageStatus,
}

/// Object metadata (other fields the server adds are accepted and ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The namespace.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `spec` of the `Image` resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    /// Registries normal users may import images from.
    #[serde(default)]
    pub allowed_registries_for_import: Vec<RegistryLocation>,
    /// Hostnames the image registry is reachable at from outside.
    #[serde(default)]
    pub external_registry_hostnames: Vec<String>,
    /// The ConfigMap (in `openshift-config`) of additional trusted CAs.
    #[serde(default, rename = "additionalTrustedCA")]
    pub additional_trusted_ca: Option<ConfigMapReference>,
    /// What container runtimes may pull.
    #[serde(default)]
    pub registry_sources: RegistrySources,
}

/// `allowedRegistriesForImport` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryLocation {
    /// The registry's domain.
    pub domain_name: String,
    /// Insecure (HTTP or unverified TLS).
    #[serde(default)]
    pub insecure: bool,
}

/// A ConfigMap by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigMapReference {
    /// Its name.
    pub name: String,
}

/// `spec.registrySources`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrySources {
    /// Only these may be pulled from (everything else is blocked).
    #[serde(default)]
    pub allowed_registries: Option<Vec<String>>,
    /// These may not be pulled from.
    #[serde(default)]
    pub blocked_registries: Option<Vec<String>>,
    /// Registries without HTTPS or a valid certificate.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// Registries searched for short names.
    #[serde(default)]
    pub container_runtime_search_registries: Vec<String>,
}

/// `status` of the `Image` resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStatus {
    /// `image-registry.openshift-image-registry.svc:5000`.
    #[serde(default)]
    pub internal_registry_hostname: Option<String>,
}

/// `operator.openshift.io/v1alpha1` `ImageContentSourcePolicy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageContentSourcePolicy {
    /// `operator.openshift.io/v1alpha1`.
    pub api_version: String,
    /// `ImageContentSourcePolicy`.
    pub kind: String,
    /// Its name.
    #[serde(default)]
    pub metadata: Metadata,
    /// The mirrors.
    pub spec: IcspSpec,
}

/// `spec` of an ICSP.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IcspSpec {
    /// Sources and their mirrors.
    #[serde(default)]
    pub repository_digest_mirrors: Vec<RepositoryDigestMirrors>,
}

/// One source and its mirrors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryDigestMirrors {
    /// `quay.io/openshift-release-dev/ocp-release`.
    pub source: String,
    /// `mirror.example.com/ocp/release`.
    #[serde(default)]
    pub mirrors: Vec<String>,
}

/// `v1` `ConfigMap` (the additional trusted CAs).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    /// `v1`.
    pub api_version: String,
    /// `ConfigMap`.
    pub kind: String,
    /// Name and namespace.
    #[serde(default)]
    pub metadata: Metadata,
    /// Registry host (`..` for `:`) → PEM.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

/// An input file that could not be read, with where and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Reading failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not the expected object.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What was expected.
        message: String,
    },
}

/// Reads `path` as a `T` whose `apiVersion`/`kind` must be `expected`.
pub fn read<T: for<'de> Deserialize<'de> + HasKind>(
    path: &Path,
    expected: (&str, &str),
) -> Result<T, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text, expected)
}

/// Parses `text` (named `file` in errors).
pub fn parse<T: for<'de> Deserialize<'de> + HasKind>(
    file: &str,
    text: &str,
    expected: (&str, &str),
) -> Result<T, InputError> {
    let value: T = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let message = crate::scenario::load::first_line(&e.to_string());
        InputError::Invalid {
            file: file.to_string(),
            line,
            column,
            message: format!(
                "{message} (expected a {} {} as `oc get -o yaml` prints it)",
                expected.0, expected.1
            ),
        }
    })?;
    let (api_version, kind) = value.kind();
    if kind != expected.1 || !api_version.starts_with(expected.0.split('/').next().unwrap_or("")) {
        return Err(InputError::Invalid {
            file: file.to_string(),
            line: 1,
            column: 1,
            message: format!(
                "this is a {api_version} {kind}; expected a {} {}",
                expected.0, expected.1
            ),
        });
    }
    Ok(value)
}

/// Objects that know their `apiVersion` and `kind`.
pub trait HasKind {
    /// `(apiVersion, kind)`.
    fn kind(&self) -> (&str, &str);
}

impl HasKind for ImageConfig {
    fn kind(&self) -> (&str, &str) {
        (&self.api_version, &self.kind)
    }
}

impl HasKind for ImageContentSourcePolicy {
    fn kind(&self) -> (&str, &str) {
        (&self.api_version, &self.kind)
    }
}

impl HasKind for ConfigMap {
    fn kind(&self) -> (&str, &str) {
        (&self.api_version, &self.kind)
    }
}

/// `config.openshift.io/v1` `Image`.
pub const IMAGE_KIND: (&str, &str) = ("config.openshift.io/v1", "Image");
/// `operator.openshift.io/v1alpha1` `ImageContentSourcePolicy`.
pub const ICSP_KIND: (&str, &str) = ("operator.openshift.io/v1alpha1", "ImageContentSourcePolicy");
/// `v1` `ConfigMap`.
pub const CONFIGMAP_KIND: (&str, &str) = ("v1", "ConfigMap");
