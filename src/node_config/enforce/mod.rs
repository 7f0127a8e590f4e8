//! What a node does with its `registries.conf`, drop-ins, `policy.json` and `certs.d` when
//! asked to pull an image, as containers/image does it (v5.23.x, the version skopeo 1.9.3
//! vendors; differences from newer versions are noted where they exist). Pure logic: the
//! caller (the harness's pull flow) performs the requests.
//!
//! - [`NodeRules::resolve_name`]: short names through aliases and search registries
//!   ([`short_names`]);
//! - [`NodeRules::pull_plan`]: blocked / mirrors / insecure for a qualified reference
//!   ([`pull_plan`], [`registries_conf`]);
//! - [`NodeRules::policy_decision`]: the signature policy's verdict ([`policy`]);
//! - [`NodeRules::ca_for`]: extra CAs per registry ([`certs`]).
//!
//! Error texts name the files as the node sees them (`/etc/containers/...`), also when they
//! were read from a directory standing for the node's root.

pub mod certs;
pub mod docker_ref;
pub mod policy;
pub mod pull_plan;
pub mod registries_conf;
pub mod short_names;

#[cfg(test)]
mod tests;

use std::path::Path;

use crate::client::reference::ImageReference;

pub use certs::CertStore;
pub use policy::{PolicyDecision, PolicyRejected, Scope};
pub use pull_plan::{PullPlan, PullSource, Refusal};
pub use registries_conf::{ConfError, RegistriesConf};
pub use short_names::{CandidateSource, NameResolution, ResolveError, ShortNameMode};

/// `/etc/containers/registries.conf`.
pub const REGISTRIES_CONF: &str = "/etc/containers/registries.conf";
/// `/etc/containers/registries.conf.d`.
pub const REGISTRIES_CONF_D: &str = "/etc/containers/registries.conf.d";
/// `/etc/containers/policy.json`.
pub const POLICY_JSON: &str = "/etc/containers/policy.json";

/// A node's configuration files that could not be used; `Display` follows c/image's
/// wording (`loading registries configuration "...": ...`, `invalid policy in "...": ...`).
/// A pull through skopeo 1.9.3 prints a further `loading registries configuration: ` in
/// front of the registries.conf errors, and BurntSushi/toml's own syntax messages
/// (`toml: line 3 (last key "registry.blocked"): incompatible types: ...`) where this
/// module gives the `toml` crate's with line and column.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The main registries.conf is invalid (TOML errors carry line and column).
    #[error("loading registries configuration {file:?}: {source}")]
    RegistriesConf {
        /// The file (node path).
        file: String,
        /// What is wrong.
        source: ConfError,
    },
    /// A drop-in is invalid.
    #[error("loading drop-in registries configuration {file:?}: {source}")]
    DropIn {
        /// The file (node path).
        file: String,
        /// What is wrong.
        source: ConfError,
    },
    /// policy.json is invalid.
    #[error("invalid policy in {file:?}: {message}")]
    Policy {
        /// The file (node path).
        file: String,
        /// c/image's message (serde_json's for syntax errors).
        message: String,
    },
    /// There is no policy.json: c/image refuses every pull (skopeo prefixes this with
    /// `Error loading trust policy: `). Reported when the rules are built, since no pull
    /// can succeed on such a node.
    #[error("open {file}: no such file or directory")]
    PolicyMissing {
        /// The file (node path).
        file: String,
    },
    /// A file or directory could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The path read.
        file: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The pull rules of one node.
#[derive(Debug, Clone)]
pub struct NodeRules {
    registries: RegistriesConf,
    policy: policy::Policy,
    certs: CertStore,
    config_path: String,
    config_dir: String,
}

impl NodeRules {
    /// From file contents: the main registries.conf (`None` = absent, which c/image treats
    /// as empty), drop-ins `(file name, content)` (only `*.conf` names count, applied in
    /// lexical order of the name, as c/image does), policy.json (`None` = absent: an error,
    /// see [`RulesError::PolicyMissing`]) and CA certificates per `host[:port]`.
    ///
    /// ```
    /// use regharness::client::reference::ImageReference;
    /// use regharness::node_config::enforce::{NodeRules, PolicyDecision};
    ///
    /// let conf = "[[registry]]\nprefix = \"\"\nlocation = \"untrusted.com\"\nblocked = true\n";
    /// let drop_in = "unqualified-search-registries = ['reg1.io', 'reg2.io']\n";
    /// let policy = r#"{"default": [{"type": "reject"}],
    ///                  "transports": {"docker": {"quay.io": [{"type": "insecureAcceptAnything"}]}}}"#;
    /// let rules = NodeRules::parse(Some(conf), &[("01-search.conf", drop_in)], Some(policy), &[]).unwrap();
    ///
    /// let blocked = ImageReference::parse("untrusted.com/app:1").unwrap();
    /// assert_eq!(rules.pull_plan(&blocked).unwrap_err().to_string(),
    ///     "registry untrusted.com is blocked in /etc/containers/registries.conf or /etc/containers/registries.conf.d");
    ///
    /// let candidates = rules.resolve_name("ubi8/ubi-minimal").unwrap().candidates();
    /// assert_eq!(candidates[0].to_string(), "reg1.io/ubi8/ubi-minimal:latest");
    ///
    /// let quay = ImageReference::parse("quay.io/team/app:1").unwrap();
    /// assert_eq!(rules.policy_decision(&quay), PolicyDecision::Accept { scope: "quay.io".into() });
    /// ```
    pub fn parse(
        registries_conf: Option<&str>,
        drop_ins: &[(&str, &str)],
        policy_json: Option<&str>,
        certs: &[(&str, &str)],
    ) -> Result<Self, RulesError> {
        let mut named: Vec<(String, &str)> = drop_ins
            .iter()
            .filter(|(name, _)| name.ends_with(".conf"))
            .map(|(name, text)| (format!("{REGISTRIES_CONF_D}/{name}"), *text))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let drop_ins: Vec<(&str, &str)> = named.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        let registries =
            RegistriesConf::from_files(registries_conf.map(|t| (REGISTRIES_CONF, t)), &drop_ins)
                .map_err(|(file, drop_in, source)| {
                    if drop_in {
                        RulesError::DropIn { file, source }
                    } else {
                        RulesError::RegistriesConf { file, source }
                    }
                })?;
        let policy_text = policy_json.ok_or_else(|| RulesError::PolicyMissing {
            file: POLICY_JSON.into(),
        })?;
        let policy = policy::parse(policy_text).map_err(|message| RulesError::Policy {
            file: POLICY_JSON.into(),
            message,
        })?;
        Ok(Self {
            registries,
            policy,
            certs: CertStore::from_pairs(certs),
            config_path: pull_plan::DEFAULT_CONFIG_PATH.into(),
            config_dir: pull_plan::DEFAULT_DROP_IN_DIR.into(),
        })
    }

    /// Reads `root/etc/containers/registries.conf`, `root/etc/containers/registries.conf.d/*.conf`,
    /// `root/etc/containers/policy.json`, `root/etc/containers/certs.d/*/*.crt` and
    /// `root/etc/docker/certs.d/*/*.crt` (c/image's precedence between the two).
    pub fn load(root: &Path) -> Result<Self, RulesError> {
        let io = |file: &Path| {
            let file = file.display().to_string();
            move |source| RulesError::Io { file, source }
        };
        let read_optional = |path: &Path| match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(path)(e)),
        };
        let etc = root.join("etc/containers");
        let main = read_optional(&etc.join("registries.conf"))?;
        let dir = etc.join("registries.conf.d");
        let mut drop_ins = Vec::new();
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry.map_err(io(&dir))?.path();
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if name.ends_with(".conf") && !path.is_dir() {
                        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                        drop_ins.push((name.to_string(), text));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&dir)(e)),
        }
        let policy = read_optional(&etc.join("policy.json"))?;
        let certs =
            CertStore::load(root).map_err(|(file, source)| RulesError::Io { file, source })?;
        let drop_ins: Vec<(&str, &str)> = drop_ins
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let mut rules = Self::parse(main.as_deref(), &drop_ins, policy.as_deref(), &[])?;
        rules.certs = certs;
        Ok(rules)
    }

    /// Sets the paths the "blocked" refusal names (defaults: CRI-O's
    /// `/etc/containers/registries.conf` and `/etc/containers/registries.conf.d`; skopeo
    /// 1.9.3 as root names [`pull_plan::SKOPEO_ROOT_DROP_IN_DIR`], and a
    /// `--registries-conf` path replaces the first).
    pub fn with_message_paths(mut self, config_path: &str, config_dir: &str) -> Self {
        self.config_path = config_path.into();
        self.config_dir = config_dir.into();
        self
    }

    /// A name as a user types it: fully qualified, or a short name (`ubi8/ubi-minimal`,
    /// `rhel8/pcp:latest`) resolved through aliases and `unqualified-search-registries` the
    /// way c/image's `pkg/shortnames` `Resolve` does with no TTY. Docker Hub names are
    /// normalised (`library/`).
    pub fn resolve_name(&self, name: &str) -> Result<NameResolution, ResolveError> {
        short_names::resolve(&self.registries, name)
    }

    /// The pull plan for a fully qualified reference (the docker transport's
    /// `newImageSource`): mirrors then the primary location, each with its own `insecure`
    /// flag and blocked state. `Err` when no source may be tried (all blocked) or the
    /// reference cannot be rewritten. A source with `blocked: Some(..)` in an `Ok` plan must
    /// be skipped without traffic, its refusal text standing as that attempt's error (see
    /// [`pull_plan::combine_errors`]).
    pub fn pull_plan(&self, reference: &ImageReference) -> Result<PullPlan, Refusal> {
        pull_plan::plan(
            &self.registries,
            reference,
            &self.config_path,
            &self.config_dir,
        )
    }

    /// The signature policy's verdict for pulling `reference` over the `docker` transport
    /// (the reference the user asked for, not a mirror's). `scope` is the matching
    /// `transports.docker` key, or "" for the transport's `""` scope and for `default`
    /// ([`NodeRules::policy_scope`] tells them apart).
    pub fn policy_decision(&self, reference: &ImageReference) -> PolicyDecision {
        self.policy.decide(&named_of(reference))
    }

    /// Which policy scope applies to `reference`.
    pub fn policy_scope(&self, reference: &ImageReference) -> Scope {
        self.policy.docker_requirements(&named_of(reference)).0
    }

    /// The error a pull of `reference` fails with when the policy rejects it.
    pub fn policy_rejection(&self, reference: &ImageReference) -> Option<PolicyRejected> {
        let named = named_of(reference);
        matches!(self.policy.decide(&named), PolicyDecision::Reject { .. })
            .then(|| PolicyRejected::new(&named))
    }

    /// PEM CA certificates configured for `host[:port]` (certs.d), if any.
    pub fn ca_for(&self, host_port: &str) -> Vec<&str> {
        self.certs.ca_for(host_port)
    }

    /// `short-name-mode` in effect.
    pub fn short_name_mode(&self) -> ShortNameMode {
        self.registries.short_name_mode
    }

    /// The merged registries configuration.
    pub fn registries(&self) -> &RegistriesConf {
        &self.registries
    }
}

/// The normalised name of `reference`, or its fields as they are if it does not parse.
fn named_of(reference: &ImageReference) -> docker_ref::Named {
    docker_ref::from_image_reference(reference).unwrap_or_else(|_| {
        let (tag, digest) = if reference.is_digest() {
            (None, Some(reference.reference.clone()))
        } else {
            (Some(reference.reference.clone()), None)
        };
        docker_ref::Named {
            domain: reference.registry.clone(),
            path: reference.repository.clone(),
            tag,
            digest,
        }
    })
}
