//! What a node does to apply changed files: the machine-config-daemon's default node
//! disruption policies (`defaultClusterPolicies` in MCO's `pkg/apihelpers/apihelpers.go`,
//! checked against `pkg/daemon/update.go` and `pkg/daemon/drain.go` at MCO main, Aug 2026):
//!
//! | file | action |
//! | --- | --- |
//! | `/etc/containers/policy.json` | reload CRI-O, no drain |
//! | `/etc/containers/registries.conf` | reload CRI-O; drain unless the change is "safe" |
//! | `/etc/containers/registries.d/*`, `/etc/crio/policies/*` | reload CRI-O, no drain |
//! | `/etc/docker/certs.d/*` | none (written live by the daemon's certificate writer) |
//! | anything else, including `registries.conf.d/01-image-searchRegistries.conf` | drain and reboot |
//!
//! A registries.conf change is safe (`isSafeContainerRegistryConfChanges`) when the
//! search list only grows at its end, no `[[registry]]` is removed, none changes its
//! prefix, location, `blocked` or `insecure`, no mirror is removed, changed mirrors do
//! not leave `pull-from-mirror = "digest-only"`, added mirrors are digest-only, and added
//! registries have only digest-only mirrors (one with no mirrors counts only when
//! `mirror-by-digest-only`). So an ICSP alone skips the drain; a blocked or insecure
//! registry does not.
//!
//! The search-registries drop-in has no default policy, so current MCO reboots the node
//! for it; seed 004 says the node is drained and not rebooted. We follow MCO. MCO reloads
//! (not restarts) CRI-O; [`NodeAction::DrainAndRestartCrio`] keeps the name issue 5 gives it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::registries_conf::{RegistriesConf, Registry, DIGEST_ONLY};
use super::{NodeFiles, POLICY_JSON, REGISTRIES_CONF};
use crate::node_config::render::certs::CERTS_DIR;

/// What applying a file needs, from least to most disruptive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeAction {
    /// Nothing: the file is written live (CA files).
    None,
    /// `systemctl reload crio`, no drain (policy.json; safe registries.conf changes).
    ReloadCrio,
    /// Cordon and drain, reload CRI-O, uncordon (other registries.conf changes).
    DrainAndRestartCrio,
    /// Cordon and drain, reboot (files with no node disruption policy).
    DrainAndReboot,
}

impl NodeAction {
    /// Whether the node is drained.
    pub fn drains(self) -> bool {
        self >= Self::DrainAndRestartCrio
    }

    /// One line for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::None => "none (written live, no drain)",
            Self::ReloadCrio => "reload CRI-O, no drain",
            Self::DrainAndRestartCrio => "drain, reload CRI-O, uncordon",
            Self::DrainAndReboot => "drain and reboot",
        }
    }
}

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// New on the node.
    Added,
    /// Different content.
    Changed,
    /// Gone from the node.
    Removed,
}

/// One changed file and what it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Node path without the leading `/`.
    pub path: String,
    /// Added, changed or removed.
    pub change: ChangeKind,
    /// What the node does for it.
    pub action: NodeAction,
}

/// Every file that differs between `before` and `after`, by path, with its action.
pub fn node_actions(before: &NodeFiles, after: &NodeFiles) -> Vec<FileChange> {
    let paths: BTreeSet<&str> = before.iter().chain(after.iter()).map(|(p, _)| p).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let change = match (before.get(path), after.get(path)) {
                (Some(a), Some(b)) if a == b => return None,
                (Some(_), Some(_)) => ChangeKind::Changed,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (None, None) => return None,
            };
            let action = action_for(
                path,
                before.get(path).unwrap_or(""),
                after.get(path).unwrap_or(""),
            );
            Some(FileChange {
                path: path.to_string(),
                change,
                action,
            })
        })
        .collect()
}

/// The node's action for a set of changes: the most disruptive one (`None` when empty).
pub fn overall(changes: &[FileChange]) -> NodeAction {
    changes
        .iter()
        .map(|c| c.action)
        .max()
        .unwrap_or(NodeAction::None)
}

/// The action for one path.
fn action_for(path: &str, before: &str, after: &str) -> NodeAction {
    let under = |dir: &str| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    if path == REGISTRIES_CONF {
        if is_safe_registries_change(before, after) {
            NodeAction::ReloadCrio
        } else {
            NodeAction::DrainAndRestartCrio
        }
    } else if path == POLICY_JSON
        || under("etc/containers/registries.d")
        || under("etc/crio/policies")
    {
        NodeAction::ReloadCrio
    } else if under(CERTS_DIR) {
        NodeAction::None
    } else {
        NodeAction::DrainAndReboot
    }
}

/// `isSafeContainerRegistryConfChanges` (see the module documentation); a file that does
/// not parse is not safe (MCO fails the update instead).
pub fn is_safe_registries_change(before: &str, after: &str) -> bool {
    let (Ok(old), Ok(new)) = (RegistriesConf::parse(before), RegistriesConf::parse(after)) else {
        return false;
    };
    let old_search = old
        .unqualified_search_registries
        .as_deref()
        .unwrap_or_default();
    let new_search = new
        .unqualified_search_registries
        .as_deref()
        .unwrap_or_default();
    if !new_search.starts_with(old_search) {
        return false;
    }
    let by_scope = |conf: &RegistriesConf| -> BTreeMap<String, Registry> {
        conf.registries
            .iter()
            .map(|r| (r.scope().to_string(), r.clone()))
            .collect()
    };
    let (old_regs, new_regs) = (by_scope(&old), by_scope(&new));
    if old_regs.keys().any(|scope| !new_regs.contains_key(scope)) {
        return false;
    }
    new_regs
        .iter()
        .all(|(scope, new_reg)| match old_regs.get(scope) {
            Some(old_reg) => old_reg == new_reg || is_safe_registry_change(old_reg, new_reg),
            None => all_digest_only(new_reg),
        })
}

/// A registry present before and after, with changes.
fn is_safe_registry_change(old: &Registry, new: &Registry) -> bool {
    let find = |location: &str, mirrors: &[super::registries_conf::Endpoint]| {
        mirrors.iter().find(|m| m.location == location).cloned()
    };
    if old.prefix != new.prefix
        || old.endpoint.location != new.endpoint.location
        || old.blocked != new.blocked
        || old.endpoint.insecure != new.endpoint.insecure
    {
        return false;
    }
    if old
        .mirrors
        .iter()
        .any(|m| find(&m.location, &new.mirrors).is_none())
    {
        return false;
    }
    new.mirrors
        .iter()
        .all(|m| match find(&m.location, &old.mirrors) {
            Some(old_mirror) => {
                m.pull_from_mirror == old_mirror.pull_from_mirror
                    || m.pull_from_mirror == DIGEST_ONLY
            }
            None => m.pull_from_mirror == DIGEST_ONLY || new.mirror_by_digest_only,
        })
}

/// A new registry is safe when all its mirrors are digest-only (`allDigestOnlyMirror`).
fn all_digest_only(registry: &Registry) -> bool {
    if registry.mirrors.is_empty() || registry.mirror_by_digest_only {
        return registry.mirror_by_digest_only;
    }
    registry
        .mirrors
        .iter()
        .all(|m| m.pull_from_mirror == DIGEST_ONLY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const BASE: &str = r#"unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]
[[registry]]
  prefix = ""
  location = "quay.io/openshift-payload"
  [[registry.mirror]]
    location = "internal-mirror.io/openshift-payload"
    pull-from-mirror = "digest-only"
"#;

    /// `isSafeContainerRegistryConfChanges`: each rule, from the template or from BASE.
    #[rstest]
    #[case::identical(BASE, BASE, true)]
    #[case::template_to_icsp(crate::node_config::render::registries_conf::TEMPLATE, BASE, true)]
    #[case::search_list_grows_at_the_end(BASE,
        &BASE.replace(r#""docker.io"]"#, r#""docker.io", "reg1.io"]"#), true)]
    #[case::search_list_reordered(BASE,
        &BASE.replace(r#"["registry.access.redhat.com", "docker.io"]"#, r#"["docker.io", "registry.access.redhat.com"]"#), false)]
    #[case::search_list_shrinks(BASE,
        &BASE.replace(r#", "docker.io""#, ""), false)]
    #[case::registry_removed(BASE, crate::node_config::render::registries_conf::TEMPLATE, false)]
    #[case::source_blocked(BASE,
        &BASE.replace(r#"location = "quay.io/openshift-payload""#, "location = \"quay.io/openshift-payload\"\n  blocked = true"), false)]
    #[case::source_insecure(BASE,
        &BASE.replace(r#"location = "quay.io/openshift-payload""#, "location = \"quay.io/openshift-payload\"\n  insecure = true"), false)]
    #[case::mirror_added_digest_only(BASE,
        &format!("{BASE}  [[registry.mirror]]\n    location = \"m2.io/p\"\n    pull-from-mirror = \"digest-only\"\n"), true)]
    #[case::mirror_added_for_tags_too(BASE,
        &format!("{BASE}  [[registry.mirror]]\n    location = \"m2.io/p\"\n"), false)]
    #[case::mirror_removed(&format!("{BASE}  [[registry.mirror]]\n    location = \"m2.io/p\"\n    pull-from-mirror = \"digest-only\"\n"), BASE, false)]
    #[case::mirror_leaves_digest_only(BASE, &BASE.replace("    pull-from-mirror = \"digest-only\"\n", "    pull-from-mirror = \"all\"\n"), false)]
    #[case::new_blocked_registry(BASE,
        &format!("{BASE}[[registry]]\n  prefix = \"\"\n  location = \"untrusted.com\"\n  blocked = true\n"), false)]
    #[case::new_registry_digest_only_by_flag(BASE,
        &format!("{BASE}[[registry]]\n  prefix = \"\"\n  location = \"a.io\"\n  mirror-by-digest-only = true\n"), true)]
    #[case::unparsable(BASE, "[[registry", false)]
    fn safe_registries_changes(#[case] before: &str, #[case] after: &str, #[case] safe: bool) {
        assert_eq!(is_safe_registries_change(before, after), safe);
    }

    fn files(entries: &[(&str, &str)]) -> NodeFiles {
        let mut files = NodeFiles::default();
        for (path, content) in entries {
            files.insert(*path, *content);
        }
        files
    }

    #[test]
    fn each_file_gets_its_policy_action() {
        let before = files(&[
            (POLICY_JSON, "{}"),
            (REGISTRIES_CONF, "unqualified-search-registries = []"),
            ("etc/docker/certs.d/old.io/ca.crt", "pem"),
        ]);
        let after = files(&[
            (POLICY_JSON, "{ }"),
            (
                REGISTRIES_CONF,
                "[[registry]]\nlocation = \"untrusted.com\"\nblocked = true\n",
            ),
            (super::super::SEARCH_REGISTRIES_CONF, "x"),
            ("etc/docker/certs.d/new.io:5000/ca.crt", "pem"),
        ]);
        let changes = node_actions(&before, &after);
        let got: Vec<(&str, ChangeKind, NodeAction)> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.change, c.action))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "etc/containers/policy.json",
                    ChangeKind::Changed,
                    NodeAction::ReloadCrio
                ),
                (
                    "etc/containers/registries.conf",
                    ChangeKind::Changed,
                    NodeAction::DrainAndRestartCrio
                ),
                (
                    "etc/containers/registries.conf.d/01-image-searchRegistries.conf",
                    ChangeKind::Added,
                    NodeAction::DrainAndReboot
                ),
                (
                    "etc/docker/certs.d/new.io:5000/ca.crt",
                    ChangeKind::Added,
                    NodeAction::None
                ),
                (
                    "etc/docker/certs.d/old.io/ca.crt",
                    ChangeKind::Removed,
                    NodeAction::None
                ),
            ]
        );
        assert_eq!(overall(&changes), NodeAction::DrainAndReboot);
        assert_eq!(overall(&[]), NodeAction::None);
        assert!(node_actions(&after, &after).is_empty());
    }

    #[test]
    fn actions_serialise_in_kebab_case() {
        assert_eq!(
            serde_json::to_string(&NodeAction::DrainAndRestartCrio).unwrap(),
            "\"drain-and-restart-crio\""
        );
        assert_eq!(
            serde_json::to_string(&ChangeKind::Removed).unwrap(),
            "\"removed\""
        );
        assert!(!NodeAction::ReloadCrio.drains() && NodeAction::DrainAndReboot.drains());
    }
}
