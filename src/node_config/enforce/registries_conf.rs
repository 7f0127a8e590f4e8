//! `registries.conf` and its `registries.conf.d/*.conf` drop-ins, read and merged as
//! containers/image v5.23 `pkg/sysregistriesv2` does (`loadConfigFile`,
//! `postProcessRegistries`, `updateWithConfigurationFrom`):
//!
//! - the main file may be in the v1 format (`[registries.search]`, `[registries.block]`,
//!   `[registries.insecure]`), converted to v2; drop-ins must be v2; mixing both is an error;
//! - `prefix` defaults to `location`; trailing `/` are trimmed; `http(s)://` is refused;
//!   `*.example.com` prefixes may have no location; entries with the same location must
//!   agree on `insecure` and `blocked`; a repeated prefix keeps its first entry (no error);
//!   the entries end up sorted by prefix;
//! - a drop-in replaces a whole `[[registry]]` with the same prefix, replaces
//!   `unqualified-search-registries` if it sets the key (even to `[]`), replaces
//!   `short-name-mode` if set, and adds to / overrides `[aliases]` one name at a time
//!   (`name = ""` cancels an earlier alias);
//! - unknown keys are ignored, as c/image ignores them (it only logs them at debug level).
//!
//! Not modelled: `credential-helpers` (parsed by c/image but irrelevant to pull plans);
//! BurntSushi/toml's case-insensitive key matching (`Location = ...` is read by c/image,
//! ignored here). c/image v5.23 validates a mirror's `location` after trimming trailing
//! `/` but keeps the untrimmed value (newer versions keep the trimmed one); this module
//! does the same as v5.23. No version checks that a `location` or `prefix` carries no tag.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::docker_ref::{self, Named};
use super::short_names::ShortNameMode;

/// Where mirrors may be used (`pull-from-mirror`, per mirror).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFromMirror {
    /// `all` (also the default when unset).
    All,
    /// `digest-only`.
    DigestOnly,
    /// `tag-only`.
    TagOnly,
}

/// A remote location: the registry's own or a mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port][/namespace]`, or "" for a wildcard prefix without location.
    pub location: String,
    /// Skip TLS verification and allow plain HTTP.
    pub insecure: bool,
    /// Mirrors only; `None` = unset.
    pub pull_from_mirror: Option<PullFromMirror>,
}

/// One `[[registry]]` after post-processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// The prefix matched against image names (never empty after post-processing).
    pub prefix: String,
    /// The primary location.
    pub endpoint: Endpoint,
    /// Mirrors, in configuration order.
    pub mirrors: Vec<Endpoint>,
    /// Pulls are refused.
    pub blocked: bool,
    /// Mirrors only for digest references.
    pub mirror_by_digest_only: bool,
}

/// A short-name alias and the file that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The fully qualified repository (`None` when cancelled with `name = ""`).
    pub value: Option<Named>,
    /// The file that set it.
    pub origin: String,
}

/// The merged configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistriesConf {
    /// `[[registry]]` entries, sorted by prefix, one per prefix.
    pub registries: Vec<Registry>,
    /// `unqualified-search-registries` (host[:port] each).
    pub unqualified_search_registries: Vec<String>,
    /// The file that set the search registries ("" when there was no file at all).
    pub search_registries_origin: String,
    /// `short-name-mode` (permissive unless set).
    pub short_name_mode: ShortNameMode,
    /// Short-name aliases by short name.
    pub aliases: BTreeMap<String, Alias>,
}

/// Why one file was refused (`Display` is c/image's text, or the TOML parser's with its
/// position).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    /// Not TOML, or a value of the wrong type.
    #[error("toml: line {line}, column {column}: {message}")]
    Toml {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// c/image's validation refused it.
    #[error("{0}")]
    Invalid(String),
}

/// One parsed file, before merging.
#[derive(Debug, Clone, Default)]
struct ParsedFile {
    registries: Vec<Registry>,
    search: Option<Vec<String>>,
    origin: String,
    mode: Option<ShortNameMode>,
    aliases: BTreeMap<String, Alias>,
}

impl RegistriesConf {
    /// Merges the main file (`None`: absent, treated as empty as c/image does for the
    /// default path) and the drop-ins `(path, content)` in the order given.
    /// Errors name the failing file's path and whether it is a drop-in.
    pub fn from_files(
        main: Option<(&str, &str)>,
        drop_ins: &[(&str, &str)],
    ) -> Result<Self, (String, bool, ConfError)> {
        let mut merged = match main {
            Some((path, text)) => {
                load_file(path, text, false).map_err(|e| (path.to_string(), false, e))?
            }
            None => ParsedFile::default(),
        };
        for (path, text) in drop_ins {
            let update = load_file(path, text, true).map_err(|e| (path.to_string(), true, e))?;
            merged.update_with(update);
        }
        Ok(RegistriesConf {
            registries: merged.registries,
            unqualified_search_registries: merged.search.unwrap_or_default(),
            search_registries_origin: merged.origin,
            short_name_mode: merged.mode.unwrap_or(ShortNameMode::Permissive),
            aliases: merged.aliases,
        })
    }
}

impl ParsedFile {
    fn update_with(&mut self, update: ParsedFile) {
        let mut by_prefix: BTreeMap<String, Registry> = std::mem::take(&mut self.registries)
            .into_iter()
            .map(|r| (r.prefix.clone(), r))
            .collect();
        for r in update.registries {
            by_prefix.insert(r.prefix.clone(), r);
        }
        self.registries = by_prefix.into_values().collect();
        if update.search.is_some() {
            self.search = update.search;
            self.origin = update.origin;
        }
        if update.mode.is_some() {
            self.mode = update.mode;
        }
        self.aliases.extend(update.aliases);
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawFile {
    registry: Option<Vec<RawRegistry>>,
    #[serde(rename = "unqualified-search-registries")]
    unqualified_search_registries: Option<Vec<String>>,
    #[serde(rename = "credential-helpers")]
    credential_helpers: Option<Vec<String>>,
    #[serde(rename = "short-name-mode")]
    short_name_mode: Option<String>,
    aliases: Option<BTreeMap<String, String>>,
    registries: Option<RawV1>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRegistry {
    prefix: Option<String>,
    location: Option<String>,
    insecure: Option<bool>,
    #[serde(rename = "pull-from-mirror")]
    pull_from_mirror: Option<String>,
    mirror: Option<Vec<RawEndpoint>>,
    blocked: Option<bool>,
    #[serde(rename = "mirror-by-digest-only")]
    mirror_by_digest_only: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct RawEndpoint {
    location: Option<String>,
    insecure: Option<bool>,
    #[serde(rename = "pull-from-mirror")]
    pull_from_mirror: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1 {
    search: Option<RawV1List>,
    insecure: Option<RawV1List>,
    block: Option<RawV1List>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1List {
    registries: Option<Vec<String>>,
}

/// A registry before validation (`pull-from-mirror` still a string).
#[derive(Debug, Clone, Default)]
struct PreRegistry {
    prefix: String,
    location: String,
    insecure: bool,
    pull_from_mirror: String,
    mirrors: Vec<(String, bool, String)>,
    blocked: bool,
    mirror_by_digest_only: bool,
}

fn non_empty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

impl RawFile {
    /// `V1RegistriesConf.Nonempty` (empty arrays count as unset).
    fn v1_nonempty(&self) -> bool {
        self.registries.as_ref().is_some_and(|v1| {
            [&v1.search, &v1.insecure, &v1.block]
                .iter()
                .any(|l| l.as_ref().is_some_and(|l| non_empty(&l.registries)))
        })
    }

    /// `V2RegistriesConf.Nonempty`.
    fn v2_nonempty(&self) -> bool {
        non_empty(&self.registry)
            || non_empty(&self.unqualified_search_registries)
            || non_empty(&self.credential_helpers)
            || self
                .short_name_mode
                .as_deref()
                .is_some_and(|m| !m.is_empty())
            || self.aliases.as_ref().is_some_and(|a| !a.is_empty())
    }
}

/// `loadConfigFile`: parses, converts v1, post-processes and validates one file.
fn load_file(path: &str, text: &str, force_v2: bool) -> Result<ParsedFile, ConfError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfError::Toml {
            line,
            column,
            message: e.message().trim_end().to_string(),
        }
    })?;
    let invalid = |s: &str| ConfError::Invalid(s.to_string());
    let (pre, search, aliases, mode) = if raw.v1_nonempty() {
        if force_v2 {
            return Err(invalid("registry must be in v2 format but is in v1"));
        }
        if raw.v2_nonempty() {
            return Err(invalid("mixing sysregistry v1/v2 is not supported"));
        }
        let (pre, search) = convert_v1(raw.registries.unwrap_or_default())?;
        (pre, search, BTreeMap::new(), None)
    } else {
        let pre = raw
            .registry
            .unwrap_or_default()
            .into_iter()
            .map(|r| PreRegistry {
                prefix: r.prefix.unwrap_or_default(),
                location: r.location.unwrap_or_default(),
                insecure: r.insecure.unwrap_or(false),
                pull_from_mirror: r.pull_from_mirror.unwrap_or_default(),
                mirrors: r
                    .mirror
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| {
                        (
                            m.location.unwrap_or_default(),
                            m.insecure.unwrap_or(false),
                            m.pull_from_mirror.unwrap_or_default(),
                        )
                    })
                    .collect(),
                blocked: r.blocked.unwrap_or(false),
                mirror_by_digest_only: r.mirror_by_digest_only.unwrap_or(false),
            })
            .collect();
        (
            pre,
            raw.unqualified_search_registries,
            raw.aliases.unwrap_or_default(),
            raw.short_name_mode,
        )
    };
    let registries = post_process(pre)?;
    let search = search
        .map(|list| {
            list.iter()
                .map(|entry| {
                    let host = parse_location(entry)?;
                    if !docker_ref::is_domain(&host) {
                        return Err(ConfError::Invalid(format!(
                            "Invalid unqualified-search-registries entry {host:?}"
                        )));
                    }
                    Ok(host)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let mode = match mode.as_deref() {
        None | Some("") => None,
        Some(m) => Some(ShortNameMode::parse(m).map_err(ConfError::Invalid)?),
    };
    for r in &registries {
        if r.prefix.starts_with("*.") && r.prefix.contains(['/', '@', ':']) {
            return Err(ConfError::Invalid(format!(
                "Wildcarded prefix should be in the format: *.example.com. Current prefix {:?} is incorrectly formatted",
                r.prefix
            )));
        }
    }
    let aliases = parse_aliases(path, &aliases)
        .map_err(|e| ConfError::Invalid(format!("validating short-name aliases: {e}")))?;
    Ok(ParsedFile {
        registries,
        search,
        origin: path.to_string(),
        mode,
        aliases,
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// `parseLocation`: trims trailing `/`, refuses URI schemes.
fn parse_location(input: &str) -> Result<String, ConfError> {
    let trimmed = input.trim_end_matches('/');
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Err(ConfError::Invalid(format!(
            "invalid location '{input}': URI schemes are not supported"
        )));
    }
    Ok(trimmed.to_string())
}

/// `ConvertToV2`: blocked entries first, then insecure ones, in first-seen order.
fn convert_v1(v1: RawV1) -> Result<(Vec<PreRegistry>, Option<Vec<String>>), ConfError> {
    let mut order: Vec<PreRegistry> = Vec::new();
    let lists = |l: Option<RawV1List>| l.and_then(|l| l.registries).unwrap_or_default();
    let mut entry = |location: &str| -> Result<usize, ConfError> {
        let location = parse_location(location)?;
        if let Some(i) = order.iter().position(|r| r.location == location) {
            return Ok(i);
        }
        order.push(PreRegistry {
            prefix: location.clone(),
            location,
            ..PreRegistry::default()
        });
        Ok(order.len() - 1)
    };
    let mut blocked = Vec::new();
    for b in lists(v1.block) {
        blocked.push(entry(&b)?);
    }
    let mut insecure = Vec::new();
    for i in lists(v1.insecure) {
        insecure.push(entry(&i)?);
    }
    for i in blocked {
        order[i].blocked = true;
    }
    for i in insecure {
        order[i].insecure = true;
    }
    let search = v1.search.and_then(|s| s.registries);
    Ok((order, search))
}

fn parse_pull_from_mirror(value: &str) -> Option<PullFromMirror> {
    match value {
        "all" => Some(PullFromMirror::All),
        "digest-only" => Some(PullFromMirror::DigestOnly),
        "tag-only" => Some(PullFromMirror::TagOnly),
        _ => None,
    }
}

/// `postProcessRegistries`.
fn post_process(mut pre: Vec<PreRegistry>) -> Result<Vec<Registry>, ConfError> {
    let invalid = |s: String| ConfError::Invalid(s);
    for reg in pre.iter_mut() {
        reg.location = parse_location(&reg.location)?;
        if reg.prefix.is_empty() {
            if reg.location.is_empty() {
                return Err(invalid(
                    "invalid condition: both location and prefix are unset".into(),
                ));
            }
            reg.prefix = reg.location.clone();
        } else {
            reg.prefix = parse_location(&reg.prefix)?;
            if !reg.prefix.starts_with("*.") && reg.location.is_empty() {
                return Err(invalid("invalid condition: location is unset and prefix is not in the format: *.example.com".into()));
            }
        }
        if !reg.pull_from_mirror.is_empty() {
            return Err(invalid(format!(
                "pull-from-mirror must not be set for a non-mirror registry {:?}",
                reg.prefix
            )));
        }
        for (location, _, pull_from) in &reg.mirrors {
            // v5.23 validates the trimmed value but keeps the original.
            if parse_location(location)?.is_empty() {
                return Err(invalid(
                    "invalid condition: mirror location is unset".into(),
                ));
            }
            if reg.mirror_by_digest_only && !pull_from.is_empty() {
                return Err(invalid(format!("cannot set mirror usage mirror-by-digest-only for the registry ({:?}) and pull-from-mirror for per-mirror ({:?}) at the same time", reg.prefix, location)));
            }
            if !pull_from.is_empty() && parse_pull_from_mirror(pull_from).is_none() {
                return Err(invalid(format!(
                    "unsupported pull-from-mirror value {pull_from:?} for mirror {location:?}"
                )));
            }
        }
    }
    let key = |r: &PreRegistry| {
        if r.location.is_empty() {
            r.prefix.clone()
        } else {
            r.location.clone()
        }
    };
    for reg in &pre {
        for other in pre.iter().filter(|o| key(o) == key(reg)) {
            if reg.insecure != other.insecure {
                return Err(invalid(format!(
                    "registry '{}' is defined multiple times with conflicting 'insecure' setting",
                    reg.location
                )));
            }
            if reg.blocked != other.blocked {
                return Err(invalid(format!(
                    "registry '{}' is defined multiple times with conflicting 'blocked' setting",
                    reg.location
                )));
            }
        }
    }
    let mut unique: BTreeMap<String, Registry> = BTreeMap::new();
    for reg in pre {
        if unique.contains_key(&reg.prefix) {
            continue;
        }
        let registry = Registry {
            prefix: reg.prefix.clone(),
            endpoint: Endpoint {
                location: reg.location,
                insecure: reg.insecure,
                pull_from_mirror: None,
            },
            mirrors: reg
                .mirrors
                .into_iter()
                .map(|(location, insecure, pull_from)| Endpoint {
                    location,
                    insecure,
                    pull_from_mirror: parse_pull_from_mirror(&pull_from),
                })
                .collect(),
            blocked: reg.blocked,
            mirror_by_digest_only: reg.mirror_by_digest_only,
        };
        unique.insert(reg.prefix, registry);
    }
    Ok(unique.into_values().collect())
}

/// `newShortNameAliasCache`: every name must be a short name, every value a fully
/// qualified repository without tag or digest; all problems are reported.
fn parse_aliases(
    path: &str,
    aliases: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Alias>, String> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in aliases {
        if let Err(e) = validate_short_name(name) {
            errors.push(e);
        }
        if value.is_empty() {
            out.insert(
                name.clone(),
                Alias {
                    value: None,
                    origin: path.to_string(),
                },
            );
            continue;
        }
        match parse_alias_value(value) {
            Ok(named) => {
                out.insert(
                    name.clone(),
                    Alias {
                        value: Some(named),
                        origin: path.to_string(),
                    },
                );
            }
            Err(e) => errors.push(e),
        }
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(out),
        Some(first) => Err(errors.fold(first, |acc, e| format!("{e}\n: {acc}"))),
    }
}

/// `validateShortName`.
pub fn validate_short_name(name: &str) -> Result<(), String> {
    let named =
        docker_ref::parse(name).map_err(|e| format!("cannot parse short name: {name:?}: {e}"))?;
    if named.digest.is_some() {
        return Err(format!(
            "invalid short name {name:?}: must not contain digest"
        ));
    }
    if named.tag.is_some() {
        return Err(format!("invalid short name {name:?}: must not contain tag"));
    }
    if docker_ref::looks_like_host(&named.domain) {
        return Err(format!(
            "invalid short name {name:?}: must not contain registry"
        ));
    }
    Ok(())
}

/// `parseShortNameValue`.
fn parse_alias_value(alias: &str) -> Result<Named, String> {
    let named = docker_ref::parse(alias).map_err(|e| format!("parsing alias {alias:?}: {e}"))?;
    if named.digest.is_some() {
        return Err(format!("invalid alias {alias:?}: must not contain digest"));
    }
    if named.tag.is_some() {
        return Err(format!("invalid alias {alias:?}: must not contain tag"));
    }
    if !docker_ref::looks_like_host(&named.domain) {
        return Err(format!(
            "invalid alias {alias:?}: must contain registry and repository"
        ));
    }
    docker_ref::parse_normalized_named(alias).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn one(text: &str) -> Result<RegistriesConf, ConfError> {
        RegistriesConf::from_files(Some(("/etc/containers/registries.conf", text)), &[])
            .map_err(|(_, _, e)| e)
    }

    fn locations(c: &RegistriesConf) -> Vec<&str> {
        c.registries
            .iter()
            .map(|r| r.endpoint.location.as_str())
            .collect()
    }

    #[test]
    fn prefix_defaults_to_location_and_entries_are_sorted() {
        let c = one("[[registry]]\nprefix = \"\"\nlocation = \"untrusted.com\"\nblocked = true\n\n[[registry]]\nlocation = \"a.com/\"\n").unwrap();
        assert_eq!(locations(&c), ["a.com", "untrusted.com"]);
        assert_eq!(c.registries[1].prefix, "untrusted.com");
        assert!(c.registries[1].blocked);
        assert_eq!(c.short_name_mode, ShortNameMode::Permissive);
    }

    #[test]
    fn repeated_prefix_keeps_the_first_entry() {
        let c = one("[[registry]]\nprefix = \"p.com\"\nlocation = \"one.com\"\n[[registry]]\nprefix = \"p.com\"\nlocation = \"two.com\"\n").unwrap();
        assert_eq!(locations(&c), ["one.com"]);
    }

    #[rstest]
    #[case::scheme("[[registry]]\nlocation = \"registry.com:5000\"\nprefix = \"http://schema-is-invalid.com\"\n", "invalid location 'http://schema-is-invalid.com': URI schemes are not supported")]
    #[case::nothing(
        "[[registry]]\ninsecure = true\n",
        "invalid condition: both location and prefix are unset"
    )]
    #[case::no_location(
        "[[registry]]\nprefix = \"example.com\"\n",
        "invalid condition: location is unset and prefix is not in the format: *.example.com"
    )]
    #[case::insecure_conflict("[[registry]]\nlocation = \"registry.com\"\n[[registry.mirror]]\nlocation = \"mirror-1.registry.com\"\n\n[[registry]]\nlocation = \"registry.com\"\ninsecure = true\n", "registry 'registry.com' is defined multiple times with conflicting 'insecure' setting")]
    #[case::blocked_conflict("[[registry]]\nlocation = \"registry.com\"\nprefix = \"a.com\"\n[[registry]]\nlocation = \"registry.com\"\nblocked = true\n", "registry 'registry.com' is defined multiple times with conflicting 'blocked' setting")]
    #[case::mirror_no_location(
        "[[registry]]\nlocation = \"r.com\"\n[[registry.mirror]]\nlocation = \"/\"\n",
        "invalid condition: mirror location is unset"
    )]
    #[case::pull_from_primary("[[registry]]\nprefix = \"registry-a.com/foo\"\nlocation = \"registry-a.com/bar\"\npull-from-mirror = \"digest-only\"\n", "pull-from-mirror must not be set for a non-mirror registry \"registry-a.com/foo\"")]
    #[case::pull_from_conflict("[[registry]]\nprefix = \"registry-a.com/foo\"\nlocation = \"registry-a.com/bar\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"mirror-1.registry-a.com\"\npull-from-mirror = \"digest-only\"\n", "cannot set mirror usage mirror-by-digest-only for the registry (\"registry-a.com/foo\") and pull-from-mirror for per-mirror (\"mirror-1.registry-a.com\") at the same time")]
    #[case::pull_from_value("[[registry]]\nprefix = \"registry-a.com/foo\"\nlocation = \"registry-a.com/bar\"\n[[registry.mirror]]\nlocation = \"mirror-1.registry-a.com\"\npull-from-mirror = \"notvalid\"\n", "unsupported pull-from-mirror value \"notvalid\" for mirror \"mirror-1.registry-a.com\"")]
    #[case::search_namespace(
        "unqualified-search-registries = [\"registry-a.com/namespace-is-forbidden\"]\n",
        "Invalid unqualified-search-registries entry \"registry-a.com/namespace-is-forbidden\""
    )]
    #[case::mode("short-name-mode = \"xxx\"\n", "invalid short-name mode: \"xxx\"")]
    #[case::wildcard("[[registry]]\nprefix = \"*.example.com/ns\"\nlocation = \"x.com\"\n", "Wildcarded prefix should be in the format: *.example.com. Current prefix \"*.example.com/ns\" is incorrectly formatted")]
    #[case::mixing("unqualified-search-registries = [\"registry-a.com\"]\n[registries.search]\nregistries = [\"registry-a.com\"]\n", "mixing sysregistry v1/v2 is not supported")]
    #[case::v1_block(
        "[registries.block]\nregistries = [\"registry-b.com\", \"http://schema-is-invalid.com\"]\n",
        "invalid location 'http://schema-is-invalid.com': URI schemes are not supported"
    )]
    #[case::alias_tag("[aliases]\nimage1=\"quay.io/repo/image:1\"\n", "validating short-name aliases: invalid alias \"quay.io/repo/image:1\": must not contain tag")]
    #[case::alias_host("[aliases]\nimage2=\"image\"\n", "validating short-name aliases: invalid alias \"image\": must contain registry and repository")]
    #[case::alias_name("[aliases]\n\"quay.io/x\"=\"quay.io/x\"\n", "validating short-name aliases: invalid short name \"quay.io/x\": must not contain registry")]
    fn refuses_what_sysregistriesv2_refuses(#[case] text: &str, #[case] message: &str) {
        assert_eq!(one(text), Err(ConfError::Invalid(message.to_string())));
    }

    #[test]
    fn several_alias_errors_are_all_reported() {
        let e =
            one("[aliases]\nimage1=\"quay.io/repo/image:1\"\nimage2=\"image:1\"\n").unwrap_err();
        let ConfError::Invalid(message) = e else {
            panic!("{e:?}")
        };
        assert!(
            message.contains("\"quay.io/repo/image:1\"") && message.contains("\"image:1\""),
            "{message}"
        );
    }

    #[test]
    fn toml_errors_carry_line_and_column() {
        let e = one("[[registry]]\nlocation = \"a.com\"\nblocked = \"yes\"\n").unwrap_err();
        let ConfError::Toml { line, column, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!((line, column), (3, 11));
        assert!(matches!(
            one("[[registry]\n"),
            Err(ConfError::Toml { line: 1, .. })
        ));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let c = one("foo = 1\n[[registry]]\nlocation = \"a.com\"\nbar = true\n").unwrap();
        assert_eq!(locations(&c), ["a.com"]);
    }

    #[test]
    fn v1_is_converted() {
        // testdata/v1-compatibility.conf
        let c = one("[registries.search]\nregistries = [\"registry-a.com////\", \"registry-c.com\", \"registry-d.com\"]\n\n[registries.block]\nregistries = [\"registry-b.com\"]\n\n[registries.insecure]\nregistries = [\"registry-b.com////\", \"registry-d.com\", \"registry-e.com\", \"registry-a.com\"]\n").unwrap();
        assert_eq!(c.registries.len(), 4);
        assert_eq!(
            c.unqualified_search_registries,
            ["registry-a.com", "registry-c.com", "registry-d.com"]
        );
        let b = &c.registries[1];
        assert_eq!(b.prefix, "registry-b.com");
        assert!(b.blocked && b.endpoint.insecure);
    }

    #[test]
    fn drop_ins_must_be_v2() {
        let e = RegistriesConf::from_files(
            None,
            &[(
                "/d/a.conf",
                "[registries.search]\nregistries = [\"a.com\"]\n",
            )],
        )
        .unwrap_err();
        assert_eq!(e.0, "/d/a.conf");
        assert!(e.1);
        assert_eq!(
            e.2,
            ConfError::Invalid("registry must be in v2 format but is in v1".into())
        );
    }

    /// c/image's testdata/base-for-registries.d.conf with registries.conf.d/config-{1,2,3}.conf
    /// and subdomain-override-{1,2,3}.conf (TestRegistriesConfDirectory).
    #[test]
    fn drop_ins_merge_like_registries_conf_d() {
        let base = "unqualified-search-registries = [\"example.com\"]\n\n[[registry]]\nlocation = \"base.com\"\ninsecure = true\n";
        let c1 = "unqualified-search-registries = [\"example-overwrite.com\"]\ncredential-helpers = [\"we\", \"will\", \"be\", \"overridden\", \"later\"]\n\n[[registry]]\nlocation = \"1.com\"\n\n[aliases]\ndocker=\"docker.io/library/config1\"\nconfig1=\"config1.com/image\"\nbarz=\"barz.com/image/config1\"\n";
        let c2 = "short-name-mode=\"permissive\"\n\ncredential-helpers=[\"dropin-1\", \"dropin-2\"]\n\n[[registry]]\nlocation = \"1.com\"\n\n[[registry]]\nlocation = \"2.com\"\n\n[[registry]]\nlocation = \"base.com\"\nblocked = true\n\n[aliases]\nconfig2=\"config2.com/image\"\nbarz=\"barz.com/config2\"\nadded3=\"xxx.com/image\"\nexample=\"\"\n";
        let s1 = "[[registry]]\nlocation = \"subdomain-prefix-1-overridden-by-dropin-location.com\"\nprefix = \"*.not.quite.simple-prefix.com\"\n";
        let s2 = "[[registry]]\nlocation = \"subdomain-prefix-2-overridden-by-dropin-location.com\"\nprefix = \"*.docker.com\"\n";
        let s3 = "[[registry]]\nlocation = \"subdomain-prefix-3-overridden-by-dropin-location.com\"\nprefix = \"*.bar.example.com\"\n";
        let c = RegistriesConf::from_files(
            Some(("base.conf", base)),
            &[
                ("d/config-1.conf", c1),
                ("d/config-2.conf", c2),
                ("d/config-3.conf", ""),
                ("d/subdomain-override-1.conf", s1),
                ("d/subdomain-override-2.conf", s2),
                ("d/subdomain-override-3.conf", s3),
            ],
        )
        .unwrap();
        assert_eq!(c.unqualified_search_registries, ["example-overwrite.com"]);
        assert_eq!(c.search_registries_origin, "d/config-1.conf");
        assert_eq!(
            locations(&c),
            [
                "subdomain-prefix-3-overridden-by-dropin-location.com",
                "subdomain-prefix-2-overridden-by-dropin-location.com",
                "subdomain-prefix-1-overridden-by-dropin-location.com",
                "1.com",
                "2.com",
                "base.com"
            ]
        );
        let base_com = c
            .registries
            .iter()
            .find(|r| r.prefix == "base.com")
            .unwrap();
        assert!(base_com.blocked && !base_com.endpoint.insecure);
        assert_eq!(
            c.aliases["barz"].value.as_ref().unwrap().full(),
            "barz.com/config2"
        );
        assert_eq!(c.aliases["barz"].origin, "d/config-2.conf");
        assert_eq!(c.aliases["example"].value, None);
    }

    #[test]
    fn empty_search_list_in_a_drop_in_replaces_the_main_one() {
        let main = (
            "m.conf",
            "unqualified-search-registries = [\"registry-a.com\"]\n",
        );
        let kept = RegistriesConf::from_files(Some(main), &[("d/no-usr.conf", "")]).unwrap();
        assert_eq!(kept.unqualified_search_registries, ["registry-a.com"]);
        assert_eq!(kept.search_registries_origin, "m.conf");
        let emptied = RegistriesConf::from_files(
            Some(main),
            &[("d/empty.conf", "unqualified-search-registries = []\n")],
        )
        .unwrap();
        assert!(emptied.unqualified_search_registries.is_empty());
        assert_eq!(emptied.search_registries_origin, "d/empty.conf");
    }

    #[test]
    fn absent_main_file_is_empty_with_no_origin() {
        let c = RegistriesConf::from_files(None, &[]).unwrap();
        assert!(c.registries.is_empty());
        assert_eq!(c.search_registries_origin, "");
    }

    #[rstest]
    #[case("library/fedora", true)]
    #[case("fedora", true)]
    #[case("1234567489", true)]
    #[case("docker.io/library/fedora:latest", false)]
    #[case("fedora:latest", false)]
    #[case("$$4455%%", false)]
    #[case("docker://foo", false)]
    #[case("", false)]
    fn validates_short_names(#[case] name: &str, #[case] valid: bool) {
        assert_eq!(validate_short_name(name).is_ok(), valid, "{name}");
    }

    #[rstest]
    #[case("docker.io/library/fedora", Some("docker.io/library/fedora"))]
    #[case("docker.io/fedora", Some("docker.io/library/fedora"))]
    #[case(
        "localhost:5000/namespace/fedora",
        Some("localhost:5000/namespace/fedora")
    )]
    #[case("docker.io/library/fedora:latest", None)]
    #[case("fedora", None)]
    #[case("library/fedora", None)]
    #[case("docker-archive://foo", None)]
    fn parses_alias_values(#[case] value: &str, #[case] want: Option<&str>) {
        assert_eq!(
            parse_alias_value(value).ok().map(|n| n.full()).as_deref(),
            want
        );
    }
}
