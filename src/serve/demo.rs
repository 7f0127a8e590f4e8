//! The demo world `regharness serve` starts without a scenario: what a new user tries
//! first. sso.redhat.com, registry.redhat.io (bearer), registry.access.redhat.com
//! (anonymous), the images `rhel8/pcp:latest` and `ubi8/ubi-minimal:latest` (multi-arch)
//! on both, and one registry service account whose credentials are fixed and not
//! secret (they exist only in this local world).

use std::path::Path;

use crate::scenario::{load_str, LoadError, Scenario};

/// The name printed for the demo world.
pub const NAME: &str = "demo";
/// The demo service account's username (`<account number>|<name>`, as the Customer
/// Portal names registry service accounts).
pub const USERNAME: &str = "7654321|regharness-demo";
/// The demo service account's token. Not a secret: it is printed and written to
/// `DIR/env` as `REGHARNESS_DEMO_PASSWORD`.
pub const PASSWORD: &str = "regharness-demo-token-not-secret";

/// The demo world as a scenario (its one step is never run by `serve`).
pub const SCENARIO: &str = r#"
description: >-
  The demo world of `regharness serve`: sso.redhat.com, registry.redhat.io (bearer),
  registry.access.redhat.com (anonymous) and a demo registry service account.
world:
  sso:
    accounts:
      - service_account: "7654321|regharness-demo"
        password: regharness-demo-token-not-secret
  registries:
    - host: registry.redhat.io
      auth: bearer
      images: ["rhel8/pcp:latest", {ref: "ubi8/ubi-minimal:latest", format: multi-arch}]
    - host: registry.access.redhat.com
      auth: anonymous
      images: ["rhel8/pcp:latest", {ref: "ubi8/ubi-minimal:latest", format: multi-arch}]
steps:
  - token: {credentials: {account: "7654321|regharness-demo"}}
"#;

/// The demo world, loaded like a scenario file.
pub fn scenario() -> Result<Scenario, LoadError> {
    load_str(SCENARIO, Path::new("<demo>"), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_loads_with_its_account_and_registries() {
        let s = scenario().expect("demo scenario");
        let accounts = &s.spec.world.sso.accounts;
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].value.service_account.as_deref(), Some(USERNAME));
        assert_eq!(accounts[0].value.password.as_deref(), Some(PASSWORD));
        let hosts: Vec<&str> = s
            .spec
            .world
            .registries
            .as_ref()
            .expect("registries")
            .iter()
            .map(|r| r.value.host.as_str())
            .collect();
        assert_eq!(hosts, ["registry.redhat.io", "registry.access.redhat.com"]);
    }
}
