//! `/etc/containers/policy.json` (containers-policy.json(5)) as MCO writes it
//! (`updatePolicyJSON` in `pkg/controller/container-runtime-config/helpers.go`).
//!
//! - With `allowedRegistries`: `default` is `reject` and each allowed scope gets
//!   `insecureAcceptAnything`.
//! - With `blockedRegistries`: `default` stays `insecureAcceptAnything` and each blocked
//!   scope gets `reject` (current MCO; older versions left policy.json alone for blocked
//!   registries and relied on registries.conf only).
//! - The scopes go to the `docker` transport and, unless they have three or more `/`, to
//!   `atomic` too; `docker-daemon` keeps the template's `{"": [insecureAcceptAnything]}`.
//!   Entries are written as given (`reg1.io/myrepo/myapp:latest` stays a scope with its
//!   tag). Insecure registries do not appear here.
//! - Neither list: the template, verbatim.
//!
//! Formatting: Go's `json.MarshalIndent(policy, "", "  ")` of c/image's `signature.Policy`:
//! two-space indent, map keys sorted, no trailing newline. `serde_json`'s pretty printer
//! with sorted maps gives the same bytes for these values (Go would also escape `<`, `>`
//! and `&`, which registry names do not contain). ClusterImagePolicy (sigstore) scopes are
//! not modelled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The policy.json of MCO's template
/// (`templates/*/01-*-container-runtime/_base/files/policy.yaml`), which a node keeps
/// verbatim while neither allowed nor blocked registries are set (the YAML literal block
/// ends without a line break, so the file does too).
pub const TEMPLATE: &str = r#"{
    "default": [
        {
            "type": "insecureAcceptAnything"
        }
    ],
    "transports":
        {
            "docker-daemon":
                {
                    "": [{"type":"insecureAcceptAnything"}]
                }
        }
}"#;

/// A policy requirement (only the two kinds MCO writes from the Image resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// `insecureAcceptAnything` or `reject` (others are kept as they are).
    #[serde(rename = "type")]
    pub kind: String,
}

impl Requirement {
    /// `{"type":"insecureAcceptAnything"}`.
    pub fn accept() -> Self {
        Self {
            kind: "insecureAcceptAnything".into(),
        }
    }

    /// `{"type":"reject"}`.
    pub fn reject() -> Self {
        Self {
            kind: "reject".into(),
        }
    }
}

/// Scope → requirements, per transport.
pub type Transports = BTreeMap<String, BTreeMap<String, Vec<Requirement>>>;

/// The signature policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Requirements when no scope matches.
    pub default: Vec<Requirement>,
    /// Per-transport scopes.
    #[serde(default)]
    pub transports: Transports,
}

impl Policy {
    /// [`TEMPLATE`] decoded.
    pub fn template() -> Self {
        let daemon = BTreeMap::from([(String::new(), vec![Requirement::accept()])]);
        Self {
            default: vec![Requirement::accept()],
            transports: BTreeMap::from([("docker-daemon".to_string(), daemon)]),
        }
    }

    /// Parses a policy.json.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The policy for `allowed` and `blocked` scopes (already validated; MCO refuses both lists
/// at once except for the payload repository, see `payload`), or `None` when MCO keeps
/// the template.
pub fn updated(allowed: &[String], blocked: &[String]) -> Option<Policy> {
    if allowed.is_empty() && blocked.is_empty() {
        return None;
    }
    let mut policy = Policy::template();
    let mut scopes: BTreeMap<String, Vec<Requirement>> = BTreeMap::new();
    if !allowed.is_empty() {
        policy.default = vec![Requirement::reject()];
        for scope in allowed {
            scopes.insert(scope.clone(), vec![Requirement::accept()]);
        }
    }
    if !blocked.is_empty() {
        policy.default = vec![Requirement::accept()];
        for scope in blocked {
            scopes.insert(scope.clone(), vec![Requirement::reject()]);
        }
    }
    // `atomic` does not support scopes of three or more `/`-separated segments beyond the host.
    let atomic = scopes
        .iter()
        .filter(|(scope, _)| scope.matches('/').count() < 3)
        .map(|(scope, r)| (scope.clone(), r.clone()))
        .collect();
    policy.transports.insert("docker".into(), scopes);
    policy.transports.insert("atomic".into(), atomic);
    Some(policy)
}

/// `json.MarshalIndent(policy, "", "  ")`.
pub fn encode(policy: &Policy) -> String {
    // Serialising strings and maps of strings cannot fail.
    serde_json::to_string_pretty(policy).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn scopes(entries: &[(&str, Requirement)]) -> BTreeMap<String, Vec<Requirement>> {
        entries
            .iter()
            .map(|(s, r)| (s.to_string(), vec![r.clone()]))
            .collect()
    }

    #[test]
    fn the_template_parses_to_accept_anything() {
        assert_eq!(Policy::parse(TEMPLATE).unwrap(), Policy::template());
    }

    /// MCO `TestUpdatePolicyJSON`, the rows without a ClusterImagePolicy or an error:
    /// (allowed, blocked, default, docker scopes, atomic scopes).
    #[rstest]
    #[case::allowed(&["allow.io", "*.allowed-example.com"], &[], "reject",
        &["allow.io", "*.allowed-example.com"], &["allow.io", "*.allowed-example.com"])]
    #[case::blocked(&[], &["block.com", "*.blocked-example.com"], "insecureAcceptAnything",
        &["block.com", "*.blocked-example.com"], &["block.com", "*.blocked-example.com"])]
    #[case::block_payload_image(&["release-reg.io/image/release"], &["block.com"], "insecureAcceptAnything",
        &["block.com", "release-reg.io/image/release"], &["block.com", "release-reg.io/image/release"])]
    #[case::block_registry_of_payload(&["release-reg.io/image/release"], &["block.com", "release-reg.io"],
        "insecureAcceptAnything",
        &["block.com", "release-reg.io", "release-reg.io/image/release"],
        &["block.com", "release-reg.io", "release-reg.io/image/release"])]
    #[case::allowed_deep_namespaces(
        &["allow.io", "allow.io/namespace1/namespace2", "allowed-example.com/namespace1/namespace2/namespace3"], &[],
        "reject",
        &["allow.io", "allow.io/namespace1/namespace2", "allowed-example.com/namespace1/namespace2/namespace3"],
        &["allow.io", "allow.io/namespace1/namespace2"])]
    #[case::blocked_deep_namespaces(&[],
        &["block.com", "block.com/namespace1/namespace2", "blocked-example.com/namespace1/namespace2/namespace3"],
        "insecureAcceptAnything",
        &["block.com", "block.com/namespace1/namespace2", "blocked-example.com/namespace1/namespace2/namespace3"],
        &["block.com", "block.com/namespace1/namespace2"])]
    fn mco_update_policy_json(
        #[case] allowed: &[&str],
        #[case] blocked: &[&str],
        #[case] default: &str,
        #[case] docker: &[&str],
        #[case] atomic: &[&str],
    ) {
        let policy = updated(&strings(allowed), &strings(blocked)).unwrap();
        let requirement = |scope: &str| {
            if blocked.contains(&scope) {
                Requirement::reject()
            } else {
                Requirement::accept()
            }
        };
        let expect = |list: &[&str]| {
            scopes(
                &list
                    .iter()
                    .map(|s| (*s, requirement(s)))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(policy.default[0].kind, default);
        assert_eq!(policy.transports["docker"], expect(docker));
        assert_eq!(policy.transports["atomic"], expect(atomic));
        assert_eq!(
            policy.transports["docker-daemon"],
            scopes(&[("", Requirement::accept())])
        );
        // What MCO writes reads back to the same policy.
        assert_eq!(Policy::parse(&encode(&policy)).unwrap(), policy);
    }

    #[test]
    fn neither_list_keeps_the_template() {
        assert_eq!(updated(&[], &[]), None);
    }

    #[test]
    fn the_layout_is_go_marshal_indent() {
        let policy = updated(&strings(&["quay.io"]), &[]).unwrap();
        assert_eq!(
            encode(&policy),
            r#"{
  "default": [
    {
      "type": "reject"
    }
  ],
  "transports": {
    "atomic": {
      "quay.io": [
        {
          "type": "insecureAcceptAnything"
        }
      ]
    },
    "docker": {
      "quay.io": [
        {
          "type": "insecureAcceptAnything"
        }
      ]
    },
    "docker-daemon": {
      "": [
        {
          "type": "insecureAcceptAnything"
        }
      ]
    }
  }
}"#
        );
    }
}
