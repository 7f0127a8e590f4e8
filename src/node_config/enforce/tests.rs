//! [`NodeRules`] over the files the Machine Config Operator writes for seed 004.

use rstest::rstest;

use super::*;

const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// `/etc/containers/registries.conf` for seed 004: blocked `untrusted.com`, insecure
/// `insecure.com` and `reg4.io/myrepo/myapp`, the ICSP mirror of `quay.io/openshift-payload`.
const REGISTRIES: &str = r#"unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]
short-name-mode = "enforcing"

[[registry]]
  prefix = ""
  location = "untrusted.com"
  blocked = true

[[registry]]
  prefix = ""
  location = "insecure.com"
  insecure = true

[[registry]]
  prefix = ""
  location = "reg4.io/myrepo/myapp"
  insecure = true

[[registry]]
  prefix = ""
  location = "quay.io/openshift-payload"
  mirror-by-digest-only = true

  [[registry.mirror]]
    location = "internal-mirror.io/openshift-payload"
"#;

const SEARCH: &str = "unqualified-search-registries = ['reg1.io', 'reg2.io', 'reg3.io']\n";

const POLICY: &str = r#"{"default": [{"type": "reject"}],
 "transports": {"docker": {"registry.redhat.io": [{"type": "insecureAcceptAnything"}],
                           "reg1.io/myrepo/myapp:latest": [{"type": "insecureAcceptAnything"}]},
                "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}}}"#;

fn rules() -> NodeRules {
    NodeRules::parse(
        Some(REGISTRIES),
        &[("01-image-searchRegistries.conf", SEARCH)],
        Some(POLICY),
        &[(
            "registry-with-port.example.com:5000",
            "-----BEGIN CERTIFICATE-----\n",
        )],
    )
    .unwrap()
}

fn r(s: &str) -> ImageReference {
    ImageReference::parse(s).unwrap()
}

#[test]
fn short_names_are_ambiguous_under_enforcing_without_a_tty() {
    let rules = rules();
    assert_eq!(rules.short_name_mode(), ShortNameMode::Enforcing);
    let e = rules.resolve_name("rhel8/pcp:latest").unwrap_err();
    assert_eq!(
        e.to_string(),
        "short-name resolution enforced but cannot prompt without a TTY"
    );
    let ResolveError::Ambiguous { candidates, .. } = e else {
        panic!("{e:?}")
    };
    let got: Vec<String> = candidates.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "reg1.io/rhel8/pcp:latest",
            "reg2.io/rhel8/pcp:latest",
            "reg3.io/rhel8/pcp:latest"
        ]
    );
}

#[test]
fn permissive_tries_every_search_registry() {
    let permissive = REGISTRIES.replace("enforcing", "permissive");
    let rules = NodeRules::parse(
        Some(&permissive),
        &[("01-image-searchRegistries.conf", SEARCH)],
        Some(POLICY),
        &[],
    )
    .unwrap();
    let resolved = rules.resolve_name("ubi8/ubi-minimal").unwrap();
    assert_eq!(resolved.candidates().len(), 3);
    assert_eq!(resolved.description(), "Resolving \"ubi8/ubi-minimal\" using unqualified-search registries (/etc/containers/registries.conf.d/01-image-searchRegistries.conf)");
    // Fully qualified names are not searched.
    assert_eq!(
        rules.resolve_name("registry.redhat.io/rhel8/pcp").unwrap(),
        NameResolution::Qualified(r("registry.redhat.io/rhel8/pcp:latest"))
    );
}

#[rstest]
#[case("registry.redhat.io/rhel8/pcp:latest", PolicyDecision::Accept { scope: "registry.redhat.io".into() })]
#[case("reg1.io/myrepo/myapp:latest", PolicyDecision::Accept { scope: "reg1.io/myrepo/myapp:latest".into() })]
#[case("reg1.io/myrepo/myapp:1.0", PolicyDecision::Reject { scope: "".into() })]
#[case("quay.io/openshift-payload/release:4.14", PolicyDecision::Reject { scope: "".into() })]
fn policy_decisions(#[case] reference: &str, #[case] want: PolicyDecision) {
    assert_eq!(rules().policy_decision(&r(reference)), want);
}

#[test]
fn policy_rejection_text() {
    let rules = rules();
    assert_eq!(
        rules.policy_scope(&r("docker.io/library/busybox:latest")),
        Scope::Default
    );
    assert_eq!(
        rules
            .policy_rejection(&r("docker.io/library/busybox:latest"))
            .map(|e| e.to_string()),
        Some(
            "Source image rejected: Running image docker://busybox:latest is rejected by policy."
                .into()
        )
    );
    assert_eq!(
        rules.policy_rejection(&r("registry.redhat.io/ubi8:latest")),
        None
    );
}

#[test]
fn pull_plans() {
    let rules = rules();
    assert!(matches!(
        rules.pull_plan(&r("untrusted.com/app:1")),
        Err(Refusal::Blocked { prefix, .. }) if prefix == "untrusted.com"
    ));
    let insecure = rules.pull_plan(&r("insecure.com/app:1")).unwrap();
    assert!(insecure.sources[0].insecure);
    let tag = rules
        .pull_plan(&r("quay.io/openshift-payload/release:4.14"))
        .unwrap();
    assert_eq!(tag.sources.len(), 1);
    assert!(!tag.sources[0].mirror);
    let digest = rules
        .pull_plan(&r(&format!("quay.io/openshift-payload/release@{DIGEST}")))
        .unwrap();
    assert_eq!(
        digest.sources[0].reference.to_string(),
        format!("internal-mirror.io/openshift-payload/release@{DIGEST}")
    );
    assert!(digest.sources[0].mirror && !digest.sources[1].mirror);
}

#[test]
fn message_paths_can_be_skopeos() {
    let rules = rules().with_message_paths(REGISTRIES_CONF, pull_plan::SKOPEO_ROOT_DROP_IN_DIR);
    // The text skopeo 1.9.3 prints as root (checked against the installed skopeo).
    assert_eq!(
        rules.pull_plan(&r("untrusted.com/foo:latest")).unwrap_err().to_string(),
        "registry untrusted.com is blocked in /etc/containers/registries.conf or /root/.config/containers/registries.conf.d"
    );
}

#[test]
fn certificates_per_host_and_port() {
    let rules = rules();
    assert_eq!(rules.ca_for("registry-with-port.example.com:5000").len(), 1);
    assert!(rules.ca_for("registry-with-port.example.com").is_empty());
}

#[test]
fn drop_ins_apply_in_name_order_and_only_conf_files() {
    let rules = NodeRules::parse(
        Some(REGISTRIES),
        &[
            (
                "99-last.conf",
                "unqualified-search-registries = ['last.io']\n",
            ),
            (
                "01-first.conf",
                "unqualified-search-registries = ['first.io']\n",
            ),
            (
                "50-ignored.conf.bak",
                "unqualified-search-registries = ['bak.io']\n",
            ),
        ],
        Some(POLICY),
        &[],
    )
    .unwrap();
    assert_eq!(
        rules.registries().unqualified_search_registries,
        ["last.io"]
    );
}

#[rstest]
#[case::toml(Some("[[registry]]\nlocation = \"a.com\"\nblocked = \"yes\"\n"), &[], Some(POLICY), "loading registries configuration \"/etc/containers/registries.conf\": toml: line 3, column 11: ")]
#[case::drop_in(Some(REGISTRIES), &[("02-bad.conf", "[registries.search]\nregistries = ['a.io']\n")], Some(POLICY), "loading drop-in registries configuration \"/etc/containers/registries.conf.d/02-bad.conf\": registry must be in v2 format but is in v1")]
#[case::policy(Some(REGISTRIES), &[], Some(r#"{"default": []}"#), "invalid policy in \"/etc/containers/policy.json\": List of verification policy requirements must not be empty")]
#[case::no_policy(Some(REGISTRIES), &[], None, "open /etc/containers/policy.json: no such file or directory")]
fn unusable_files_are_reported_with_their_name(
    #[case] main: Option<&str>,
    #[case] drop_ins: &[(&str, &str)],
    #[case] policy: Option<&str>,
    #[case] starts: &str,
) {
    let e = NodeRules::parse(main, drop_ins, policy, &[]).unwrap_err();
    assert!(e.to_string().starts_with(starts), "{e}");
}

#[test]
fn load_reads_a_node_root() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/containers");
    std::fs::create_dir_all(etc.join("registries.conf.d")).unwrap();
    std::fs::write(etc.join("registries.conf"), REGISTRIES).unwrap();
    std::fs::write(
        etc.join("registries.conf.d/01-image-searchRegistries.conf"),
        SEARCH,
    )
    .unwrap();
    std::fs::write(etc.join("registries.conf.d/README"), "not toml [").unwrap();
    std::fs::write(etc.join("policy.json"), POLICY).unwrap();
    let certs = root.path().join("etc/docker/certs.d/reg1.io");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::write(certs.join("ca.crt"), "PEM").unwrap();

    let rules = NodeRules::load(root.path()).unwrap();
    assert_eq!(
        rules.registries().unqualified_search_registries,
        ["reg1.io", "reg2.io", "reg3.io"]
    );
    assert_eq!(rules.ca_for("reg1.io"), ["PEM"]);
    assert!(rules.pull_plan(&r("untrusted.com/x:1")).is_err());

    std::fs::remove_file(etc.join("policy.json")).unwrap();
    assert!(matches!(
        NodeRules::load(root.path()),
        Err(RulesError::PolicyMissing { .. })
    ));
    std::fs::remove_file(etc.join("registries.conf")).unwrap();
    std::fs::write(etc.join("policy.json"), POLICY).unwrap();
    let bare = NodeRules::load(root.path()).unwrap();
    assert_eq!(bare.short_name_mode(), ShortNameMode::Permissive);
    assert!(bare.pull_plan(&r("untrusted.com/x:1")).is_ok());
}
