//! The node files the cluster writes from the image configuration (issue 5, item 3):
//! `/etc/containers/policy.json`, `/etc/containers/registries.conf`, the search-registries
//! drop-in and the `/etc/docker/certs.d` CA files, as the Machine Config Operator
//! (openshift/machine-config-operator main, Aug 2026, vendoring runtime-utils 7bdb5b9c,
//! containers/image v5.35.0 and BurntSushi/toml v1.5.0) renders them, and what each change
//! needs on a node.
//!
//! One module per concept: [`scope`] (matching and validating scopes), [`mirrors`] (ICSP
//! mirror merging), [`registries_conf`], [`policy`], [`payload`] (the release payload
//! must stay pullable), [`certs`], [`actions`] (drain or not) and [`report`] (the CLI's
//! output).
//!
//! ICSP mirrors are written as seed 004 prints them, `mirror-by-digest-only = true` on
//! the registry (MCO up to OpenShift 4.13), not as current MCO writes them
//! (`pull-from-mirror = "digest-only"` per mirror), because containers/image before 5.25
//! (skopeo 1.9.3 among them) ignores `pull-from-mirror`; see [`registries_conf`].
//! Elsewhere, where MCO's current code and seed 004 disagree we follow MCO:
//! - registries.conf, once edited, has `short-name-mode = ""` and
//!   `additional-layer-store-auth-helper = ""` after the search list, which the seed omits.
//! - The search drop-in is written with double quotes and the same two keys; the seed
//!   prints `['reg1.io', 'reg2.io', 'reg3.io']` alone.
//! - A changed search drop-in reboots the node (no node disruption policy covers it); the
//!   seed says drain without reboot.
//! - policy.json changes reload CRI-O (the seed: no drain needed, which is also true).
//! - The seed's registries.conf examples show only the entry being discussed; MCO writes
//!   one `[[registry]]` per blocked and insecure scope.
//!
//! Not modelled: ImageDigestMirrorSet / ImageTagMirrorSet and ClusterImagePolicy objects,
//! the CA `binaryData`, the internal registry's service CA, and MCO's distinction between
//! an absent list and an empty one (`insecureRegistries: []` makes MCO re-encode
//! registries.conf, `containerRuntimeSearchRegistries: []` writes an empty drop-in; here an
//! empty list is an absent one, as the input model reads them).

pub mod actions;
pub mod certs;
pub mod mirrors;
pub mod payload;
pub mod policy;
pub mod registries_conf;
pub mod report;
pub mod scope;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

pub use actions::{node_actions, overall, ChangeKind, FileChange, NodeAction};

use super::input::{ConfigMap, ImageConfig, ImageContentSourcePolicy};
use registries_conf::RegistriesConf;

/// The signature policy.
pub const POLICY_JSON: &str = "etc/containers/policy.json";
/// Registries: blocked, insecure, mirrors.
pub const REGISTRIES_CONF: &str = "etc/containers/registries.conf";
/// `containerRuntimeSearchRegistries`.
pub const SEARCH_REGISTRIES_CONF: &str =
    "etc/containers/registries.conf.d/01-image-searchRegistries.conf";

/// Node files, keyed by node path without the leading `/` (e.g.
/// `etc/docker/certs.d/reg.example.com:5000/ca.crt`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeFiles {
    files: BTreeMap<String, String>,
}

impl NodeFiles {
    /// What a node has before any image configuration: RHCOS's default policy.json
    /// (default `insecureAcceptAnything`, `docker-daemon` accepted) and MCO's template
    /// registries.conf (`unqualified-search-registries = ['registry.access.redhat.com',
    /// 'docker.io']`), both verbatim as MCO's templates write them.
    pub fn defaults() -> Self {
        let mut files = Self::default();
        files.insert(POLICY_JSON, policy::TEMPLATE);
        files.insert(REGISTRIES_CONF, registries_conf::TEMPLATE);
        files
    }

    /// The content of the file at `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// `(path, content)` in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(p, c)| (p.as_str(), c.as_str()))
    }

    /// Adds or replaces a file (for callers building a node's state by hand).
    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<String>) {
        self.files.insert(path.into(), content.into());
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// No file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `(host[:port], pem)` of every CA file under `etc/docker/certs.d`.
    pub fn ca_certificates(&self) -> Vec<(String, String)> {
        self.iter()
            .filter_map(|(path, content)| {
                let host = path
                    .strip_prefix(certs::CERTS_DIR)?
                    .strip_prefix('/')?
                    .strip_suffix("/ca.crt")?;
                (!host.contains('/')).then(|| (host.to_string(), content.to_string()))
            })
            .collect()
    }

    /// Writes each file under `dir` (creating directories); returns the paths written.
    /// A path that is absolute or has `..` components is refused (`InvalidInput`).
    pub fn write_to(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut written = Vec::with_capacity(self.files.len());
        for (path, content) in &self.files {
            let relative = Path::new(path);
            if !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{path:?} is not a relative node path"),
                ));
            }
            let target = dir.join(relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, content)?;
            written.push(target);
        }
        Ok(written)
    }
}

/// Rendering options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// The cluster's release image (`oc get clusterversion version -o
    /// jsonpath='{.status.desired.image}'`). When given, blocked scopes that would cut nodes
    /// off the release payload are handled as MCO does (see [`payload`]); when not, every
    /// blocked scope is kept.
    pub release_image: Option<String>,
}

/// A rendering and what MCO would only log about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendering {
    /// The node files.
    pub files: NodeFiles,
    /// MCO's log lines for entries it skipped (e.g. a blocked payload registry).
    pub notes: Vec<String>,
}

/// Why MCO (or the node-side CA writer) would refuse the configuration. Each names the
/// field and quotes MCO's own message where it has one.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A scope MCO's `IsValidRegistriesConfScope` refuses (empty, or a misplaced `*`).
    #[error("{field}: invalid entry for {list} registries {value:?}")]
    InvalidScope {
        /// e.g. `spec.registrySources.blockedRegistries[1]`.
        field: String,
        /// `insecure`, `blocked` or `allowed`.
        list: &'static str,
        /// The entry.
        value: String,
    },
    /// An ICSP source MCO's `sourceRegex` refuses.
    #[error("{field}: invalid format for source {value:?}")]
    InvalidSource {
        /// e.g. `icsp[0] my-icsp: spec.repositoryDigestMirrors[0].source`.
        field: String,
        /// The source.
        value: String,
    },
    /// An ICSP mirror MCO's `mirrorRegex` refuses.
    #[error("{field}: invalid format for mirror {value:?}")]
    InvalidMirror {
        /// e.g. `icsp[0] my-icsp: spec.repositoryDigestMirrors[0].mirrors[1]`.
        field: String,
        /// The mirror.
        value: String,
    },
    /// Both lists set.
    #[error("spec.registrySources: invalid images config: only one of AllowedRegistries or BlockedRegistries may be specified")]
    AllowedAndBlocked,
    /// The release image is not a fully qualified reference.
    #[error("--release-image {image:?}: error parsing reference of release image")]
    ReleaseImage {
        /// What was given.
        image: String,
    },
    /// An ICSP with a `*.` source and a nested scope (runtime-utils refuses to copy
    /// wildcard mirrors).
    #[error("ICSP source {source_scope:?} with nested scope {nested:?}: internal error: mirrorsAdjustedForNestedScope for a wildcard scope")]
    WildcardMirrorScope {
        /// The wildcard source.
        source_scope: String,
        /// The scope inside it.
        nested: String,
    },
    /// The mirror ordering failed (cannot happen for a well-formed graph).
    #[error("internal error ordering mirrors: node {node:?} already used")]
    MirrorOrder {
        /// The node.
        node: String,
    },
    /// A ConfigMap was given that `spec.additionalTrustedCA` does not name.
    #[error("spec.additionalTrustedCA.name: {}; the ConfigMap given is {given:?}", match referenced { Some(r) => format!("names {r:?}"), None => "is not set".to_string() })]
    CaConfigMapNotReferenced {
        /// What the Image resource names.
        referenced: Option<String>,
        /// The ConfigMap's `metadata.name`.
        given: String,
    },
    /// A CA key that cannot name a directory.
    #[error("configmap data[{key:?}]: {reason}")]
    CaKey {
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A base64 value that decodes to something other than text (MCO would write the bytes).
    #[error(
        "configmap data[{key:?}]: the value is base64 of binary data (DER?); give the PEM text"
    )]
    CaNotText {
        /// The key.
        key: String,
    },
}

/// Renders the node files for `image`, its ICSPs and its CA ConfigMap, as MCO would with
/// no release image known (see [`render_with`]).
///
/// ```
/// use regharness::node_config::input::{parse, ImageConfig, IMAGE_KIND};
/// use regharness::node_config::render::{node_actions, render, NodeAction, NodeFiles, POLICY_JSON, REGISTRIES_CONF};
/// let image: ImageConfig = parse("image.yaml", "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources:\n    blockedRegistries: [untrusted.com]\n", IMAGE_KIND).unwrap();
/// let files = render(&image, &[], None).unwrap();
/// assert!(files.get(REGISTRIES_CONF).unwrap().contains("location = \"untrusted.com\"\n  blocked = true\n"));
/// assert!(files.get(POLICY_JSON).unwrap().contains("\"untrusted.com\": [\n        {\n          \"type\": \"reject\""));
/// let changes = node_actions(&NodeFiles::defaults(), &files);
/// assert!(changes.iter().any(|c| c.path == REGISTRIES_CONF && c.action == NodeAction::DrainAndRestartCrio));
/// ```
pub fn render(
    image: &ImageConfig,
    icsps: &[ImageContentSourcePolicy],
    ca: Option<&ConfigMap>,
) -> Result<NodeFiles, RenderError> {
    render_with(image, icsps, ca, &RenderOptions::default()).map(|r| r.files)
}

/// [`render`] with options; also returns what MCO would only log.
pub fn render_with(
    image: &ImageConfig,
    icsps: &[ImageContentSourcePolicy],
    ca: Option<&ConfigMap>,
    options: &RenderOptions,
) -> Result<Rendering, RenderError> {
    const SOURCES: &str = "spec.registrySources";
    let sources = &image.spec.registry_sources;
    let insecure = &sources.insecure_registries;
    let blocked = sources.blocked_registries.clone().unwrap_or_default();
    let allowed = sources.allowed_registries.clone().unwrap_or_default();

    let entries: Vec<(&str, &[String])> = icsps
        .iter()
        .flat_map(|icsp| icsp.spec.repository_digest_mirrors.iter())
        .map(|m| (m.source.as_str(), m.mirrors.as_slice()))
        .collect();
    let mirror_sets = mirrors::merge(entries.iter().copied())?;
    let scopes = payload::scopes(
        options.release_image.as_deref(),
        &blocked,
        &allowed,
        insecure,
        &mirror_sets,
    )?;

    let mut files = NodeFiles::defaults();
    // registries.conf: edited only when something applies to it.
    if !insecure.is_empty() || !scopes.registries_blocked.is_empty() || !icsps.is_empty() {
        check_scopes(
            &format!("{SOURCES}.insecureRegistries"),
            "insecure",
            insecure,
        )?;
        check_scopes(
            &format!("{SOURCES}.blockedRegistries"),
            "blocked",
            &scopes.registries_blocked,
        )?;
        check_icsps(icsps)?;
        let mut conf = RegistriesConf::template();
        conf.edit(insecure, &scopes.registries_blocked, &mirror_sets)?;
        files.insert(REGISTRIES_CONF, registries_conf::encode(&conf));
    }
    // policy.json: both lists only when the allowed one is just the payload repository.
    if scopes.allowed_and_blocked_conflict() {
        return Err(RenderError::AllowedAndBlocked);
    }
    check_scopes(
        &format!("{SOURCES}.blockedRegistries"),
        "blocked",
        &scopes.policy_blocked,
    )?;
    check_scopes(
        &format!("{SOURCES}.allowedRegistries"),
        "allowed",
        &scopes.allowed,
    )?;
    if let Some(policy) = policy::updated(&scopes.allowed, &scopes.policy_blocked) {
        files.insert(POLICY_JSON, policy::encode(&policy));
    }
    let search = &sources.container_runtime_search_registries;
    if !search.is_empty() {
        files.insert(
            SEARCH_REGISTRIES_CONF,
            registries_conf::search_drop_in(search),
        );
    }
    if let Some(ca) = ca {
        let given = ca.metadata.name.clone().unwrap_or_default();
        let referenced = image
            .spec
            .additional_trusted_ca
            .as_ref()
            .map(|r| r.name.clone());
        if referenced.as_deref() != Some(given.as_str()) {
            return Err(RenderError::CaConfigMapNotReferenced { referenced, given });
        }
        for (path, content) in certs::ca_files(ca)? {
            files.insert(path, content);
        }
    }
    Ok(Rendering {
        files,
        notes: scopes.notes,
    })
}

/// `validateRegistriesConfScopes` for one list; `field` names it.
fn check_scopes(field: &str, list: &'static str, scopes: &[String]) -> Result<(), RenderError> {
    match scopes
        .iter()
        .position(|s| !scope::is_valid_registries_conf_scope(s))
    {
        Some(i) => Err(RenderError::InvalidScope {
            field: format!("{field}[{i}]"),
            list,
            value: scopes[i].clone(),
        }),
        None => Ok(()),
    }
}

/// `validateRegistriesConfScopes` for ICSP sources and mirrors.
fn check_icsps(icsps: &[ImageContentSourcePolicy]) -> Result<(), RenderError> {
    for (i, icsp) in icsps.iter().enumerate() {
        let name = icsp.metadata.name.as_deref().unwrap_or("");
        for (j, set) in icsp.spec.repository_digest_mirrors.iter().enumerate() {
            let field = format!("icsp[{i}] {name}: spec.repositoryDigestMirrors[{j}]");
            if !scope::is_valid_source(&set.source) {
                return Err(RenderError::InvalidSource {
                    field: format!("{field}.source"),
                    value: set.source.clone(),
                });
            }
            if let Some(k) = set.mirrors.iter().position(|m| !scope::is_valid_mirror(m)) {
                return Err(RenderError::InvalidMirror {
                    field: format!("{field}.mirrors[{k}]"),
                    value: set.mirrors[k].clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_config::input::{parse, CONFIGMAP_KIND, ICSP_KIND, IMAGE_KIND};

    fn image(spec: &str) -> ImageConfig {
        let text = format!("apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {{name: cluster}}\nspec:\n{spec}");
        parse("image.yaml", &text, IMAGE_KIND).unwrap()
    }

    fn icsp(source: &str, mirrors: &[&str]) -> ImageContentSourcePolicy {
        let text = format!(
            "apiVersion: operator.openshift.io/v1alpha1\nkind: ImageContentSourcePolicy\nmetadata: {{name: my-icsp}}\nspec:\n  repositoryDigestMirrors:\n  - source: {source:?}\n    mirrors: {mirrors:?}\n"
        );
        parse("icsp.yaml", &text, ICSP_KIND).unwrap()
    }

    fn configmap(name: &str, key: &str) -> ConfigMap {
        let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata:\n  {key}: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----\n");
        parse("cm.yaml", &text, CONFIGMAP_KIND).unwrap()
    }

    #[test]
    fn an_empty_configuration_leaves_the_defaults() {
        assert_eq!(
            render(&image("  {}\n"), &[], None).unwrap(),
            NodeFiles::defaults()
        );
    }

    #[test]
    fn allowed_registries_touch_policy_json_only() {
        let files = render(
            &image("  registrySources:\n    allowedRegistries: [quay.io]\n"),
            &[],
            None,
        )
        .unwrap();
        assert_eq!(files.get(REGISTRIES_CONF), Some(registries_conf::TEMPLATE));
        let policy = policy::Policy::parse(files.get(POLICY_JSON).unwrap()).unwrap();
        assert_eq!(policy.default, vec![policy::Requirement::reject()]);
    }

    #[test]
    fn both_lists_are_refused_as_mco_does() {
        let err = render(
            &image("  registrySources:\n    allowedRegistries: [a.io]\n    blockedRegistries: [b.io]\n"),
            &[],
            None,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "spec.registrySources: invalid images config: only one of AllowedRegistries or BlockedRegistries may be specified");
    }

    #[rstest::rstest]
    #[case(
        "    insecureRegistries: [a.io, '']\n",
        "spec.registrySources.insecureRegistries[1]: invalid entry for insecure registries \"\""
    )]
    #[case(
        "    blockedRegistries: ['*a.io']\n",
        "spec.registrySources.blockedRegistries[0]: invalid entry for blocked registries \"*a.io\""
    )]
    #[case("    allowedRegistries: [a.io, '*.b.io/x']\n", "spec.registrySources.allowedRegistries[1]: invalid entry for allowed registries \"*.b.io/x\"")]
    fn invalid_scopes_name_their_field(#[case] spec: &str, #[case] message: &str) {
        let err = render(&image(&format!("  registrySources:\n{spec}")), &[], None).unwrap_err();
        assert_eq!(err.to_string(), message);
    }

    #[test]
    fn invalid_icsp_entries_name_their_field() {
        let err = render(&image("  {}\n"), &[icsp("*.a.io/ns", &["m.io"])], None).unwrap_err();
        assert_eq!(err.to_string(), "icsp[0] my-icsp: spec.repositoryDigestMirrors[0].source: invalid format for source \"*.a.io/ns\"");
        let err = render(
            &image("  {}\n"),
            &[icsp("a.io/ns", &["m.io", "M.io/x "])],
            None,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "icsp[0] my-icsp: spec.repositoryDigestMirrors[0].mirrors[1]: invalid format for mirror \"M.io/x \"");
    }

    #[test]
    fn ca_files_need_the_configmap_the_image_names() {
        let referencing = image("  additionalTrustedCA: {name: registry-config}\n");
        let files = render(
            &referencing,
            &[],
            Some(&configmap("registry-config", "registry.example.com..5000")),
        )
        .unwrap();
        assert_eq!(
            files.ca_certificates(),
            vec![(
                "registry.example.com:5000".to_string(),
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_string()
            )]
        );
        let err = render(&referencing, &[], Some(&configmap("other", "a.io"))).unwrap_err();
        assert_eq!(err.to_string(), "spec.additionalTrustedCA.name: names \"registry-config\"; the ConfigMap given is \"other\"");
        let err = render(&image("  {}\n"), &[], Some(&configmap("other", "a.io"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "spec.additionalTrustedCA.name: is not set; the ConfigMap given is \"other\""
        );
    }

    #[test]
    fn a_blocked_payload_registry_without_mirror_is_skipped_with_a_note() {
        let options = RenderOptions {
            release_image: Some("quay.io/openshift-release-dev/ocp-release@sha256:4207ba569ff014931f1b5d125fe3751936a768e119546683c899eb09f3cdceb0".into()),
        };
        let rendering = render_with(
            &image("  registrySources:\n    blockedRegistries: [quay.io, untrusted.com]\n"),
            &[],
            None,
            &options,
        )
        .unwrap();
        assert_eq!(rendering.notes.len(), 1, "{:?}", rendering.notes);
        let conf = RegistriesConf::parse(rendering.files.get(REGISTRIES_CONF).unwrap()).unwrap();
        let locations: Vec<&str> = conf
            .registries
            .iter()
            .map(|r| r.endpoint.location.as_str())
            .collect();
        assert_eq!(locations, vec!["untrusted.com"]);
        assert!(!rendering
            .files
            .get(POLICY_JSON)
            .unwrap()
            .contains("\"quay.io\""));
    }

    #[test]
    fn write_to_puts_files_at_their_node_paths_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let written = NodeFiles::defaults().write_to(dir.path()).unwrap();
        assert_eq!(
            written,
            vec![
                dir.path().join(POLICY_JSON),
                dir.path().join(REGISTRIES_CONF)
            ]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(REGISTRIES_CONF)).unwrap(),
            registries_conf::TEMPLATE
        );
        let mut bad = NodeFiles::default();
        bad.insert("etc/../../x", "");
        assert_eq!(
            bad.write_to(dir.path()).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
        let mut bad = NodeFiles::default();
        bad.insert("/etc/x", "");
        assert!(bad.write_to(dir.path()).is_err());
    }
}
