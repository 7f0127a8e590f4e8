//! Docker registry token scopes: `repository:rhel8/pcp:pull,push`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One entry of a token's `access` claim, and one parsed `scope` parameter.
///
/// ```
/// use regharness_mocks::ResourceActions;
/// let s: ResourceActions = "repository:rhel8/pcp:pull".parse().unwrap();
/// assert_eq!(s.name, "rhel8/pcp");
/// assert_eq!(s.actions, vec!["pull".to_string()]);
/// assert_eq!(s.to_string(), "repository:rhel8/pcp:pull");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceActions {
    /// Resource type, normally `repository` (also `registry` for `registry:catalog:*`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Resource name: the repository path.
    pub name: String,
    /// Actions such as `pull`, `push`, `*`.
    pub actions: Vec<String>,
}

impl ResourceActions {
    /// A `repository:NAME:pull` scope.
    pub fn pull(repository: impl Into<String>) -> Self {
        Self {
            resource_type: "repository".into(),
            name: repository.into(),
            actions: vec!["pull".into()],
        }
    }

    /// Whether this entry grants `action` on `resource_type:name`.
    pub fn grants(&self, resource_type: &str, name: &str, action: &str) -> bool {
        self.resource_type == resource_type
            && self.name == name
            && self.actions.iter().any(|a| a == action || a == "*")
    }
}

/// Why a scope string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid scope {scope:?}: expected TYPE:NAME:ACTION[,ACTION...] such as repository:rhel:pull"
)]
pub struct ScopeParseError {
    /// The rejected input.
    pub scope: String,
}

impl std::str::FromStr for ResourceActions {
    type Err = ScopeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ScopeParseError {
            scope: s.to_string(),
        };
        // The name may contain ':' only in a registry host with a port; the type is the
        // first field and the actions the last.
        let (resource_type, rest) = s.split_once(':').ok_or_else(err)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(err)?;
        if resource_type.is_empty() || name.is_empty() {
            return Err(err());
        }
        let actions: Vec<String> = actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Self {
            resource_type: resource_type.to_string(),
            name: name.to_string(),
            actions,
        })
    }
}

impl fmt::Display for ResourceActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.resource_type,
            self.name,
            self.actions.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multiple_actions_and_rejects_garbage() {
        let s: ResourceActions = "repository:a/b:pull,push".parse().unwrap();
        assert_eq!(s.actions, vec!["pull", "push"]);
        assert!(s.grants("repository", "a/b", "push"));
        assert!(!s.grants("repository", "a/c", "pull"));
        assert!("repository".parse::<ResourceActions>().is_err());
        assert!("repository::pull".parse::<ResourceActions>().is_err());
    }

    #[test]
    fn empty_action_list_grants_nothing() {
        let s: ResourceActions = "repository:rhel:".parse().unwrap();
        assert!(s.actions.is_empty());
        assert!(!s.grants("repository", "rhel", "pull"));
    }
}
