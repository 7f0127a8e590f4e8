//! `/etc/containers/registries.conf` (containers-registries.conf(5), v2) as MCO writes it.
//!
//! MCO (`updateRegistriesConfig`) decodes its template, edits it with runtime-utils'
//! `EditRegistriesConfig` and encodes it again with BurntSushi/toml v1.5: top-level keys
//! first (`unqualified-search-registries`, then `short-name-mode = ""` and
//! `additional-layer-store-auth-helper = ""`, which c/image v5.35's struct declares without
//! `omitempty`), then one `[[registry]]` table per entry, its keys indented by two spaces in
//! the order `prefix` (always, even empty), `location`, `insecure`, `pull-from-mirror`,
//! `blocked`, `mirror-by-digest-only` (each omitted when empty/false), then its
//! `[[registry.mirror]]` tables indented by four. [`encode`] writes exactly that layout.
//!
//! The entries come out in this order (not sorted): ICSP sources (sorted, with their
//! mirrors), then blocked scopes, then insecure scopes not already present, each in input
//! order. A scope is written as `location` (as given: a tag such as
//! `reg4.io/myrepo/myapp:latest` is kept), a `*.domain` wildcard as `prefix` with no
//! `location`.
//!
//! ICSP mirrors are digest-only. Current MCO says so per mirror (`pull-from-mirror =
//! "digest-only"`); MCO up to OpenShift 4.13 said it on the registry
//! (`mirror-by-digest-only = true`), which is what seed 004 prints. The second form is
//! rendered: every containers/image version honours it, while versions before 5.25 (such
//! as skopeo 1.9.3's 5.23) ignore `pull-from-mirror` and would also try the mirrors for
//! tag pulls. Both forms mean the same to current clients.

use serde::Deserialize;

use super::mirrors::MirrorSet;
use super::scope::is_nested;
use super::RenderError;

/// `pull-from-mirror` of ICSP (digest) mirrors.
pub const DIGEST_ONLY: &str = "digest-only";

/// One endpoint: a registry's own location or a mirror.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Endpoint {
    /// `location`.
    pub location: String,
    /// `insecure`.
    pub insecure: bool,
    /// `pull-from-mirror` (mirrors only): `digest-only`, `tag-only`, `all` or empty.
    pub pull_from_mirror: String,
}

/// A `[[registry]]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Registry {
    /// `prefix` (empty: the location is the prefix).
    pub prefix: String,
    /// `location`, `insecure`, `pull-from-mirror`.
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `[[registry.mirror]]`.
    #[serde(rename = "mirror")]
    pub mirrors: Vec<Endpoint>,
    /// `blocked`.
    pub blocked: bool,
    /// `mirror-by-digest-only`.
    pub mirror_by_digest_only: bool,
}

impl Registry {
    /// The scope the entry matches: its prefix, else its location (`registryScope`).
    pub fn scope(&self) -> &str {
        if self.prefix.is_empty() {
            &self.endpoint.location
        } else {
            &self.prefix
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct RegistriesConf {
    /// `unqualified-search-registries` (`None`: not written).
    pub unqualified_search_registries: Option<Vec<String>>,
    /// `short-name-mode`.
    pub short_name_mode: String,
    /// `[[registry]]` tables.
    #[serde(rename = "registry")]
    pub registries: Vec<Registry>,
}

/// The registries.conf of MCO's template
/// (`templates/*/01-*-container-runtime/_base/files/container-registries.yaml`), which a
/// node keeps verbatim while nothing edits it.
pub const TEMPLATE: &str =
    "unqualified-search-registries = ['registry.access.redhat.com', 'docker.io']\n";

impl RegistriesConf {
    /// [`TEMPLATE`] decoded.
    pub fn template() -> Self {
        Self {
            unqualified_search_registries: Some(vec![
                "registry.access.redhat.com".into(),
                "docker.io".into(),
            ]),
            ..Self::default()
        }
    }

    /// Parses a registries.conf (unknown keys ignored).
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The entry for `scope`, created (as `prefix` for a wildcard, else `location`) when
    /// missing (`getRegistryEntry`).
    fn entry(&mut self, scope: &str) -> usize {
        if let Some(i) = self.registries.iter().position(|r| r.scope() == scope) {
            return i;
        }
        let mut registry = Registry::default();
        if scope.starts_with("*.") {
            registry.prefix = scope.to_string();
        } else {
            registry.endpoint.location = scope.to_string();
        }
        self.registries.push(registry);
        self.registries.len() - 1
    }

    /// Applies insecure and blocked scopes and ICSP mirror sets (`EditRegistriesConfig`).
    ///
    /// Insecure and blocked flags spread to every entry nested in the scope (and `insecure`
    /// to mirrors located in it); a nested entry without mirrors inherits its parent
    /// source's mirrors with the sub-path appended.
    pub fn edit(
        &mut self,
        insecure: &[String],
        blocked: &[String],
        mirror_sets: &[MirrorSet],
    ) -> Result<(), RenderError> {
        for set in mirror_sets {
            let i = self.entry(&set.source);
            self.registries[i].mirror_by_digest_only = true;
            self.registries[i]
                .mirrors
                .extend(set.mirrors.iter().map(|location| Endpoint {
                    location: location.clone(),
                    insecure: false,
                    pull_from_mirror: String::new(),
                }));
        }
        for scope in blocked {
            self.entry(scope);
        }
        for scope in insecure {
            let i = self.entry(scope);
            self.registries[i].endpoint.insecure = true;
            for registry in &mut self.registries {
                if is_nested(registry.scope(), scope) {
                    registry.endpoint.insecure = true;
                }
                for mirror in &mut registry.mirrors {
                    if is_nested(&mirror.location, scope) {
                        mirror.insecure = true;
                    }
                }
            }
        }
        for scope in blocked {
            let i = self.entry(scope);
            self.registries[i].blocked = true;
            for registry in &mut self.registries {
                if is_nested(registry.scope(), scope) {
                    registry.blocked = true;
                }
            }
        }
        for set in mirror_sets {
            let parent = self.entry(&set.source);
            let parent_scope = self.registries[parent].scope().to_string();
            let parent_mirrors = self.registries[parent].mirrors.clone();
            for registry in &mut self.registries {
                let scope = registry.scope().to_string();
                if scope != parent_scope
                    && is_nested(&scope, &parent_scope)
                    && registry.mirrors.is_empty()
                {
                    registry.mirrors = adjusted_mirrors(&parent_scope, &scope, &parent_mirrors)?;
                    registry.mirror_by_digest_only = true;
                }
            }
        }
        Ok(())
    }
}

/// `mirrors` of `parent` moved to the nested `scope` (`mirrorsAdjustedForNestedScope`):
/// each location gets the sub-path of `scope` below `parent` appended.
fn adjusted_mirrors(
    parent: &str,
    scope: &str,
    mirrors: &[Endpoint],
) -> Result<Vec<Endpoint>, RenderError> {
    let suffix = scope
        .strip_prefix(parent)
        .filter(|_| !parent.starts_with("*."));
    let Some(suffix) = suffix else {
        return Err(RenderError::WildcardMirrorScope {
            source_scope: parent.to_string(),
            nested: scope.to_string(),
        });
    };
    Ok(mirrors
        .iter()
        .map(|m| Endpoint {
            location: format!("{}{suffix}", m.location),
            ..m.clone()
        })
        .collect())
}

/// A TOML basic string as BurntSushi writes it (`"`, `\`, control characters escaped).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `["a", "b"]`.
fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Writes `conf` in the layout BurntSushi/toml's encoder gives MCO's
/// `sysregistriesv2.V2RegistriesConf` (see the module documentation).
pub fn encode(conf: &RegistriesConf) -> String {
    let mut out = String::new();
    if let Some(search) = &conf.unqualified_search_registries {
        out.push_str(&format!(
            "unqualified-search-registries = {}\n",
            quote_list(search)
        ));
    }
    out.push_str(&format!(
        "short-name-mode = {}\n",
        quote(&conf.short_name_mode)
    ));
    out.push_str("additional-layer-store-auth-helper = \"\"\n");
    for registry in &conf.registries {
        out.push_str("\n[[registry]]\n");
        out.push_str(&format!("  prefix = {}\n", quote(&registry.prefix)));
        endpoint_keys(&mut out, "  ", &registry.endpoint);
        if registry.blocked {
            out.push_str("  blocked = true\n");
        }
        if registry.mirror_by_digest_only {
            out.push_str("  mirror-by-digest-only = true\n");
        }
        for mirror in &registry.mirrors {
            out.push_str("\n  [[registry.mirror]]\n");
            endpoint_keys(&mut out, "    ", mirror);
        }
    }
    out
}

fn endpoint_keys(out: &mut String, indent: &str, endpoint: &Endpoint) {
    if !endpoint.location.is_empty() {
        out.push_str(&format!(
            "{indent}location = {}\n",
            quote(&endpoint.location)
        ));
    }
    if endpoint.insecure {
        out.push_str(&format!("{indent}insecure = true\n"));
    }
    if !endpoint.pull_from_mirror.is_empty() {
        out.push_str(&format!(
            "{indent}pull-from-mirror = {}\n",
            quote(&endpoint.pull_from_mirror)
        ));
    }
}

/// The `registries.conf.d/01-image-searchRegistries.conf` drop-in for
/// `containerRuntimeSearchRegistries` (`updateSearchRegistriesConfig`): a
/// `V2RegistriesConf` with only the search list set, so BurntSushi writes the list with
/// double quotes followed by the two empty-string keys. Seed 004 prints the list alone,
/// with single quotes (equivalent TOML).
pub fn search_drop_in(search: &[String]) -> String {
    encode(&RegistriesConf {
        unqualified_search_registries: Some(search.to_vec()),
        ..RegistriesConf::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_config::render::mirrors::merge;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn reg(location: &str) -> Registry {
        Registry {
            endpoint: Endpoint {
                location: location.into(),
                ..Endpoint::default()
            },
            ..Registry::default()
        }
    }

    fn wildcard(prefix: &str) -> Registry {
        Registry {
            prefix: prefix.into(),
            ..Registry::default()
        }
    }

    fn mirror(location: &str, insecure: bool) -> Endpoint {
        Endpoint {
            location: location.into(),
            insecure,
            pull_from_mirror: String::new(),
        }
    }

    fn insecure(mut r: Registry) -> Registry {
        r.endpoint.insecure = true;
        r
    }

    fn blocked(mut r: Registry) -> Registry {
        r.blocked = true;
        r
    }

    /// ICSP (digest) mirrors: the registry is `mirror-by-digest-only`.
    fn with_mirrors(mut r: Registry, mirrors: Vec<Endpoint>) -> Registry {
        r.mirrors = mirrors;
        r.mirror_by_digest_only = true;
        r
    }

    fn edited(
        insecure_scopes: &[&str],
        blocked_scopes: &[&str],
        icsp: &[(&str, &[&str])],
    ) -> Result<RegistriesConf, RenderError> {
        let owned: Vec<(String, Vec<String>)> = icsp
            .iter()
            .map(|(s, m)| (s.to_string(), strings(m)))
            .collect();
        let sets = merge(owned.iter().map(|(s, m)| (s.as_str(), m.as_slice())))?;
        let mut conf = RegistriesConf::parse(TEMPLATE).unwrap();
        conf.edit(&strings(insecure_scopes), &strings(blocked_scopes), &sets)?;
        // What MCO writes must read back to the same configuration.
        assert_eq!(RegistriesConf::parse(&encode(&conf)).unwrap(), conf);
        Ok(conf)
    }

    #[test]
    fn the_template_parses_to_the_default_search_list() {
        assert_eq!(
            RegistriesConf::parse(TEMPLATE).unwrap(),
            RegistriesConf::template()
        );
    }

    /// MCO `TestUpdateRegistriesConfig` "unchanged".
    #[test]
    fn unchanged() {
        assert_eq!(edited(&[], &[], &[]).unwrap(), RegistriesConf::template());
    }

    /// MCO `TestUpdateRegistriesConfig` "insecure+blocked": blocked entries first, then the
    /// insecure ones not already there; a scope in both lists gets both flags.
    #[test]
    fn insecure_and_blocked() {
        let conf = edited(
            &["registry.access.redhat.com", "insecure.com", "common.com"],
            &["blocked.com", "common.com", "docker.io"],
            &[],
        )
        .unwrap();
        assert_eq!(
            conf.registries,
            vec![
                blocked(reg("blocked.com")),
                blocked(insecure(reg("common.com"))),
                blocked(reg("docker.io")),
                insecure(reg("registry.access.redhat.com")),
                insecure(reg("insecure.com")),
            ]
        );
    }

    /// MCO `TestUpdateRegistriesConfig` "imageContentSourcePolicy" (and runtime-utils'
    /// wildcard variant with the same expectations).
    #[test]
    fn icsp_with_insecure_and_blocked_wildcards() {
        let conf = edited(
            &[
                "insecure.com",
                "*.insecure-example.com",
                "*.insecure.blocked-example.com",
            ],
            &[
                "blocked.com",
                "*.blocked.insecure-example.com",
                "*.blocked-example.com",
            ],
            &[
                (
                    "insecure.com/ns-i1",
                    &["blocked.com/ns-b1", "other.com/ns-o1"],
                ),
                (
                    "blocked.com/ns-b/ns2-b",
                    &["other.com/ns-o2", "insecure.com/ns-i2"],
                ),
                (
                    "other.com/ns-o3",
                    &[
                        "insecure.com/ns-i2",
                        "blocked.com/ns-b/ns3-b",
                        "foo.insecure-example.com/bar",
                    ],
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            conf.registries,
            vec![
                with_mirrors(
                    blocked(reg("blocked.com/ns-b/ns2-b")),
                    vec![
                        mirror("other.com/ns-o2", false),
                        mirror("insecure.com/ns-i2", true)
                    ]
                ),
                with_mirrors(
                    insecure(reg("insecure.com/ns-i1")),
                    vec![
                        mirror("blocked.com/ns-b1", false),
                        mirror("other.com/ns-o1", false)
                    ]
                ),
                with_mirrors(
                    reg("other.com/ns-o3"),
                    vec![
                        mirror("insecure.com/ns-i2", true),
                        mirror("blocked.com/ns-b/ns3-b", false),
                        mirror("foo.insecure-example.com/bar", true),
                    ]
                ),
                blocked(reg("blocked.com")),
                blocked(insecure(wildcard("*.blocked.insecure-example.com"))),
                blocked(wildcard("*.blocked-example.com")),
                insecure(reg("insecure.com")),
                insecure(wildcard("*.insecure-example.com")),
                blocked(insecure(wildcard("*.insecure.blocked-example.com"))),
            ]
        );
    }

    /// runtime-utils `TestEditRegistriesConfig` "imageDigestMirrorSet + imageTagMirrorSet +
    /// imageContentSourcePolicy merging", digest (ICSP) part: one entry per source, mirrors
    /// merged without duplicates.
    #[test]
    fn icsp_sets_for_the_same_source_merge() {
        let conf = edited(
            &[],
            &[],
            &[
                (
                    "registry-a.com",
                    &[
                        "mirror-digest-1.registry-a.com",
                        "mirror-digest-2.registry-a.com",
                    ],
                ),
                (
                    "registry-a.com",
                    &[
                        "mirror-digest-1.registry-a.com",
                        "mirror-digest-2.registry-a.com",
                        "mirror-icsp-1.registry-a.com",
                    ],
                ),
                (
                    "registry-c.com",
                    &[
                        "mirror-icsp-1.registry-c.com",
                        "mirror-icsp-2.registry-c.com",
                    ],
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            conf.registries,
            vec![
                with_mirrors(
                    reg("registry-a.com"),
                    vec![
                        mirror("mirror-digest-1.registry-a.com", false),
                        mirror("mirror-digest-2.registry-a.com", false),
                        mirror("mirror-icsp-1.registry-a.com", false),
                    ]
                ),
                with_mirrors(
                    reg("registry-c.com"),
                    vec![
                        mirror("mirror-icsp-1.registry-c.com", false),
                        mirror("mirror-icsp-2.registry-c.com", false),
                    ]
                ),
            ]
        );
    }

    /// A blocked or insecure sub-scope of a mirrored source gets the source's mirrors with
    /// its sub-path appended (runtime-utils `TestMirrorsAdjustedForNestedScope` semantics),
    /// and a blocked source keeps its mirrors on the same entry (seed 004 §9.2.2.1).
    #[test]
    fn nested_scopes_inherit_mirrors_and_blocked_sources_keep_theirs() {
        let conf = edited(
            &["example.com/subscope"],
            &["quay.io/openshift-payload"],
            &[
                ("example.com", &["mirror-1.com", "mirror-2.com/nested"]),
                (
                    "quay.io/openshift-payload",
                    &["internal-mirror.io/openshift-payload"],
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            conf.registries,
            vec![
                with_mirrors(
                    reg("example.com"),
                    vec![
                        mirror("mirror-1.com", false),
                        mirror("mirror-2.com/nested", false)
                    ]
                ),
                with_mirrors(
                    blocked(reg("quay.io/openshift-payload")),
                    vec![mirror("internal-mirror.io/openshift-payload", false)]
                ),
                with_mirrors(
                    insecure(reg("example.com/subscope")),
                    vec![
                        mirror("mirror-1.com/subscope", false),
                        mirror("mirror-2.com/nested/subscope", false)
                    ]
                ),
            ]
        );
    }

    #[test]
    fn a_wildcard_source_with_a_nested_entry_is_refused_as_mco_does() {
        let err = edited(&["a.example.com"], &[], &[("*.example.com", &["m.io"])]).unwrap_err();
        assert!(
            err.to_string()
                .contains("mirrorsAdjustedForNestedScope for a wildcard scope"),
            "{err}"
        );
    }

    #[test]
    fn the_layout_is_burntsushis() {
        let conf = edited(
            &["insecure.com"],
            &["untrusted.com"],
            &[(
                "quay.io/openshift-payload",
                &["internal-mirror.io/openshift-payload"],
            )],
        )
        .unwrap();
        assert_eq!(
            encode(&conf),
            r#"unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]
short-name-mode = ""
additional-layer-store-auth-helper = ""

[[registry]]
  prefix = ""
  location = "quay.io/openshift-payload"
  mirror-by-digest-only = true

  [[registry.mirror]]
    location = "internal-mirror.io/openshift-payload"

[[registry]]
  prefix = ""
  location = "untrusted.com"
  blocked = true

[[registry]]
  prefix = ""
  location = "insecure.com"
  insecure = true
"#
        );
    }

    #[test]
    fn strings_are_escaped_as_burntsushi_does() {
        assert_eq!(quote("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn the_search_drop_in_is_an_otherwise_empty_configuration() {
        let text = search_drop_in(&strings(&["reg1.io", "reg2.io", "reg3.io"]));
        assert_eq!(
            text,
            "unqualified-search-registries = [\"reg1.io\", \"reg2.io\", \"reg3.io\"]\nshort-name-mode = \"\"\nadditional-layer-store-auth-helper = \"\"\n"
        );
        // Seed 004 prints it with single quotes: the same TOML.
        let seed = RegistriesConf::parse(
            "unqualified-search-registries = ['reg1.io', 'reg2.io', 'reg3.io']",
        )
        .unwrap();
        assert_eq!(RegistriesConf::parse(&text).unwrap(), seed);
    }
}
