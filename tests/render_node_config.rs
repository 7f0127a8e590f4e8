//! `render node-config`: every example of seed 004 rendered to the node files the Machine
//! Config Operator writes, compared with what the seed prints (parsed back, so formatting
//! does not matter), snapshotted whole, and the command line around it.

use std::path::Path;

use assert_cmd::Command;
use regharness::node_config::input::{
    self, ConfigMap, ImageConfig, ImageContentSourcePolicy, CONFIGMAP_KIND, ICSP_KIND, IMAGE_KIND,
};
use regharness::node_config::render::policy::Policy;
use regharness::node_config::render::registries_conf::{RegistriesConf, Registry};
use regharness::node_config::render::{
    node_actions, overall, render, NodeAction, NodeFiles, POLICY_JSON, REGISTRIES_CONF,
    SEARCH_REGISTRIES_CONF,
};
use serde_json::Value;

const SEED: &str = "tests/fixtures/image-config/seed";

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SEED).join(name)
}

fn image(name: &str) -> ImageConfig {
    input::read(&fixture(name), IMAGE_KIND).unwrap()
}

fn icsp(name: &str) -> ImageContentSourcePolicy {
    input::read(&fixture(name), ICSP_KIND).unwrap()
}

fn configmap(name: &str) -> ConfigMap {
    input::read(&fixture(name), CONFIGMAP_KIND).unwrap()
}

/// The files concatenated with `--- path ---` headers, for snapshots.
fn snapshot_text(files: &NodeFiles) -> String {
    files
        .iter()
        .map(|(path, content)| format!("--- {path} ---\n{content}\n"))
        .collect()
}

fn registries(files: &NodeFiles) -> RegistriesConf {
    RegistriesConf::parse(files.get(REGISTRIES_CONF).unwrap()).unwrap()
}

fn policy(files: &NodeFiles) -> Policy {
    Policy::parse(files.get(POLICY_JSON).unwrap()).unwrap()
}

/// The registries.conf seed 004 prints, one line per key (the seed runs them together).
fn seed_registries(text: &str) -> RegistriesConf {
    RegistriesConf::parse(text).unwrap()
}

/// Sorted scopes of a transport with their requirement types.
fn scopes(policy: &Policy, transport: &str) -> Vec<(String, String)> {
    policy.transports[transport]
        .iter()
        .map(|(scope, reqs)| (scope.clone(), reqs[0].kind.clone()))
        .collect()
}

fn accepted(list: &[&str]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|s| (s.to_string(), "insecureAcceptAnything".to_string()))
        .collect();
    v.sort();
    v
}

fn entry<'a>(conf: &'a RegistriesConf, location: &str) -> &'a Registry {
    conf.registries
        .iter()
        .find(|r| r.endpoint.location == location)
        .unwrap_or_else(|| panic!("no [[registry]] for {location} in {conf:?}"))
}

fn action_of(files: &NodeFiles, path: &str) -> Option<NodeAction> {
    node_actions(&NodeFiles::defaults(), files)
        .into_iter()
        .find(|c| c.path == path)
        .map(|c| c.action)
}

#[test]
fn seed_9_2_the_example_resource() {
    let files = render(&image("01-image-config.yaml"), &[], None).unwrap();
    let p = policy(&files);
    assert_eq!(p.default[0].kind, "reject");
    let allowed = accepted(&[
        "example.com",
        "quay.io",
        "registry.redhat.io",
        "image-registry.openshift-image-registry.svc:5000",
        "reg1.io/myrepo/myapp:latest",
    ]);
    assert_eq!(scopes(&p, "docker"), allowed);
    assert_eq!(scopes(&p, "atomic"), allowed);
    assert!(entry(&registries(&files), "insecure.com").endpoint.insecure);
    // additionalTrustedCA names a ConfigMap that was not given: no CA file.
    assert!(files.ca_certificates().is_empty());
    insta::assert_snapshot!("seed-9.2-image-config", snapshot_text(&files));
}

#[test]
fn seed_9_2_1_allowed_registries_only_change_policy_json() {
    let files = render(&image("02-allowed-registries.yaml"), &[], None).unwrap();
    let p = policy(&files);
    assert_eq!(p.default[0].kind, "reject");
    assert_eq!(
        scopes(&p, "docker"),
        accepted(&[
            "example.com",
            "quay.io",
            "registry.redhat.io",
            "reg1.io/myrepo/myapp:latest",
            "image-registry.openshift-image-registry.svc:5000",
        ])
    );
    assert_eq!(
        scopes(&p, "docker-daemon"),
        accepted(&[""]),
        "docker-daemon stays as the template has it"
    );
    assert_eq!(
        files.get(REGISTRIES_CONF),
        NodeFiles::defaults().get(REGISTRIES_CONF)
    );
    // "Changes to /etc/containers/policy.json do not need the node drained."
    let changes = node_actions(&NodeFiles::defaults(), &files);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].path, POLICY_JSON);
    assert_eq!(overall(&changes), NodeAction::ReloadCrio);
    assert!(!overall(&changes).drains());
    insta::assert_snapshot!("seed-9.2.1-allowed-registries", snapshot_text(&files));
}

#[test]
fn seed_9_2_1_an_insecure_registry_in_the_allow_list() {
    let files = render(&image("02-insecure-allowed.yaml"), &[], None).unwrap();
    assert!(scopes(&policy(&files), "docker").contains(&(
        "insecure.com".to_string(),
        "insecureAcceptAnything".to_string()
    )));
    let conf = registries(&files);
    assert_eq!(conf.registries.len(), 1);
    assert!(entry(&conf, "insecure.com").endpoint.insecure);
    insta::assert_snapshot!("seed-9.2.1-insecure-allowed", snapshot_text(&files));
}

#[test]
fn seed_9_2_2_blocked_registries() {
    let files = render(&image("03-blocked-registries.yaml"), &[], None).unwrap();
    let seed = seed_registries(
        r#"unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]
[[registry]]
prefix = ""
location = "untrusted.com"
blocked = true
"#,
    );
    let conf = registries(&files);
    assert_eq!(
        conf.unqualified_search_registries,
        seed.unqualified_search_registries
    );
    assert_eq!(entry(&conf, "untrusted.com"), &seed.registries[0]);
    // The seed shows one entry; MCO writes one per blocked scope, the repository as given.
    assert!(entry(&conf, "reg1.io/myrepo/myapp:latest").blocked);
    assert_eq!(conf.registries.len(), 2);
    // Current MCO also rejects them in policy.json.
    let p = policy(&files);
    assert_eq!(p.default[0].kind, "insecureAcceptAnything");
    assert_eq!(
        scopes(&p, "docker"),
        vec![
            (
                "reg1.io/myrepo/myapp:latest".to_string(),
                "reject".to_string()
            ),
            ("untrusted.com".to_string(), "reject".to_string()),
        ]
    );
    // "MCO drains the node, applies the change and uncordons it."
    assert_eq!(
        action_of(&files, REGISTRIES_CONF),
        Some(NodeAction::DrainAndRestartCrio)
    );
    insta::assert_snapshot!("seed-9.2.2-blocked-registries", snapshot_text(&files));
}

/// The rendered entry is the seed's: `mirror-by-digest-only = true` on the registry (the
/// form every containers/image version honours), mirrors without `pull-from-mirror`.
fn assert_digest_only_mirror(registry: &Registry, seed: &Registry) {
    assert_eq!(registry.prefix, seed.prefix);
    assert_eq!(registry.endpoint.location, seed.endpoint.location);
    assert_eq!(registry.blocked, seed.blocked);
    let locations =
        |r: &Registry| -> Vec<String> { r.mirrors.iter().map(|m| m.location.clone()).collect() };
    assert_eq!(locations(registry), locations(seed));
    assert!(seed.mirror_by_digest_only);
    assert!(registry.mirror_by_digest_only);
    assert!(registry
        .mirrors
        .iter()
        .all(|m| m.pull_from_mirror.is_empty()));
}

#[test]
fn seed_9_2_2_1_an_icsp_mirrors_the_payload_without_a_drain() {
    let files = render(
        &image("04-no-registry-sources.yaml"),
        &[icsp("04-icsp.yaml")],
        None,
    )
    .unwrap();
    let seed = seed_registries(
        r#"[[registry]]
prefix = ""
location = "quay.io/openshift-payload"
mirror-by-digest-only = true
[[registry.mirror]]
location = "internal-mirror.io/openshift-payload"
"#,
    );
    let conf = registries(&files);
    assert_eq!(conf.registries.len(), 1);
    assert_digest_only_mirror(&conf.registries[0], &seed.registries[0]);
    assert_eq!(
        files.get(POLICY_JSON),
        NodeFiles::defaults().get(POLICY_JSON)
    );
    // Adding digest-only mirrors is one of the changes MCO applies without a drain.
    assert_eq!(
        action_of(&files, REGISTRIES_CONF),
        Some(NodeAction::ReloadCrio)
    );
    insta::assert_snapshot!("seed-9.2.2.1-icsp", snapshot_text(&files));
}

#[test]
fn seed_9_2_2_1_blocking_the_mirrored_payload_registry() {
    let before = render(
        &image("04-no-registry-sources.yaml"),
        &[icsp("04-icsp.yaml")],
        None,
    )
    .unwrap();
    let files = render(
        &image("04-blocked-payload.yaml"),
        &[icsp("04-icsp.yaml")],
        None,
    )
    .unwrap();
    let seed = seed_registries(
        r#"[[registry]]
prefix = ""
location = "quay.io/openshift-payload"
blocked = true
mirror-by-digest-only = true
[[registry.mirror]]
location = "internal-mirror.io/openshift-payload"
"#,
    );
    let conf = registries(&files);
    assert_eq!(
        conf.registries.len(),
        1,
        "the blocked source merges into its mirror entry"
    );
    assert_digest_only_mirror(&conf.registries[0], &seed.registries[0]);
    // Blocking a registry that was not blocked is not a safe change: drain.
    let changes = node_actions(&before, &files);
    let paths: Vec<(&str, NodeAction)> = changes
        .iter()
        .map(|c| (c.path.as_str(), c.action))
        .collect();
    assert_eq!(
        paths,
        vec![
            (POLICY_JSON, NodeAction::ReloadCrio),
            (REGISTRIES_CONF, NodeAction::DrainAndRestartCrio),
        ]
    );
    insta::assert_snapshot!("seed-9.2.2.1-blocked-payload", snapshot_text(&files));
}

#[test]
fn seed_9_2_3_insecure_registries_and_example_9_1_policy() {
    let files = render(&image("05-insecure-registries.yaml"), &[], None).unwrap();
    // Example 9.1, as the seed prints it.
    let seed_policy: Value = serde_json::from_str(
        r#"{ "default":[ { "type":"reject" } ], "transports":{ "atomic":{ "example.com":[ { "type":"insecureAcceptAnything" } ], "image-registry.openshift-image-registry.svc:5000":[ { "type":"insecureAcceptAnything" } ], "insecure.com":[ { "type":"insecureAcceptAnything" } ], "quay.io":[ { "type":"insecureAcceptAnything" } ], "reg4.io/myrepo/myapp:latest":[ { "type":"insecureAcceptAnything" } ], "registry.redhat.io":[ { "type":"insecureAcceptAnything" } ] }, "docker":{ "example.com":[ { "type":"insecureAcceptAnything" } ], "image-registry.openshift-image-registry.svc:5000":[ { "type":"insecureAcceptAnything" } ], "insecure.com":[ { "type":"insecureAcceptAnything" } ], "quay.io":[ { "type":"insecureAcceptAnything" } ], "reg4.io/myrepo/myapp:latest":[ { "type":"insecureAcceptAnything" } ], "registry.redhat.io":[ { "type":"insecureAcceptAnything" } ] }, "docker-daemon":{ "":[ { "type":"insecureAcceptAnything" } ] } } }"#,
    )
    .unwrap();
    let ours: Value = serde_json::from_str(files.get(POLICY_JSON).unwrap()).unwrap();
    assert_eq!(ours, seed_policy);
    let seed = seed_registries(
        r#"unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]
[[registry]]
prefix = ""
location = "insecure.com"
insecure = true
"#,
    );
    let conf = registries(&files);
    assert_eq!(
        conf.unqualified_search_registries,
        seed.unqualified_search_registries
    );
    assert_eq!(entry(&conf, "insecure.com"), &seed.registries[0]);
    // The repository entry is written as given, tag included.
    let reg4 = entry(&conf, "reg4.io/myrepo/myapp:latest");
    assert!(reg4.endpoint.insecure && reg4.prefix.is_empty());
    assert_eq!(
        action_of(&files, REGISTRIES_CONF),
        Some(NodeAction::DrainAndRestartCrio)
    );
    insta::assert_snapshot!("seed-9.2.3-insecure-registries", snapshot_text(&files));
}

#[test]
fn seed_9_2_4_search_registries_drop_in() {
    let files = render(&image("06-search-registries.yaml"), &[], None).unwrap();
    let seed =
        RegistriesConf::parse("unqualified-search-registries = ['reg1.io', 'reg2.io', 'reg3.io']")
            .unwrap();
    let drop_in = RegistriesConf::parse(files.get(SEARCH_REGISTRIES_CONF).unwrap()).unwrap();
    assert_eq!(drop_in, seed);
    // The drop-in replaces the search list; registries.conf itself is untouched.
    assert_eq!(
        files.get(REGISTRIES_CONF),
        NodeFiles::defaults().get(REGISTRIES_CONF)
    );
    // No node disruption policy covers the drop-in, so current MCO reboots (the seed says
    // drain only).
    assert_eq!(
        action_of(&files, SEARCH_REGISTRIES_CONF),
        Some(NodeAction::DrainAndReboot)
    );
    insta::assert_snapshot!("seed-9.2.4-search-registries", snapshot_text(&files));
}

#[test]
fn seed_9_2_5_the_ca_configmap_becomes_certs_d_files() {
    let files = render(
        &image("07-additional-trusted-ca.yaml"),
        &[],
        Some(&configmap("07-registry-config.yaml")),
    )
    .unwrap();
    let cas = files.ca_certificates();
    assert_eq!(cas.len(), 1);
    assert_eq!(cas[0].0, "registry-with-port.example.com:5000");
    assert!(cas[0].1.starts_with("-----BEGIN CERTIFICATE-----\nMIIB"));
    assert_eq!(
        files.get("etc/docker/certs.d/registry-with-port.example.com:5000/ca.crt"),
        Some(cas[0].1.as_str())
    );
    // Written live: no drain, no restart.
    let changes = node_actions(&NodeFiles::defaults(), &files);
    assert_eq!(overall(&changes), NodeAction::None);
    insta::assert_snapshot!("seed-9.2.5-additional-trusted-ca", snapshot_text(&files));
}

#[test]
fn seed_9_2_5_the_example_configmap_with_an_image_naming_it() {
    let image: ImageConfig = input::parse(
        "image.yaml",
        "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  additionalTrustedCA: {name: my-registry-ca}\n",
        IMAGE_KIND,
    )
    .unwrap();
    let files = render(&image, &[], Some(&configmap("07-my-registry-ca.yaml"))).unwrap();
    let hosts: Vec<String> = files
        .ca_certificates()
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        hosts,
        vec![
            "registry-with-port.example.com:5000",
            "registry.example.com"
        ]
    );
    insta::assert_snapshot!("seed-9.2.5-my-registry-ca", snapshot_text(&files));
}

#[test]
fn seed_9_2_5_a_configmap_the_image_does_not_name_is_refused() {
    let err = render(
        &image("07-additional-trusted-ca.yaml"),
        &[],
        Some(&configmap("07-my-registry-ca.yaml")),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "spec.additionalTrustedCA.name: names \"registry-config\"; the ConfigMap given is \"my-registry-ca\""
    );
}

// The command line.

fn cli(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("regharness")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["render", "node-config"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_writes_the_files_at_their_node_paths() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, stdout, stderr) = cli(&[
        "--image-config",
        &format!("{SEED}/06-search-registries.yaml"),
        "--icsp",
        &format!("{SEED}/04-icsp.yaml"),
        "--out",
        dir,
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let expected = render(
        &image("06-search-registries.yaml"),
        &[icsp("04-icsp.yaml")],
        None,
    )
    .unwrap();
    for (path, content) in expected.iter() {
        assert_eq!(
            std::fs::read_to_string(out.path().join(path)).unwrap(),
            content,
            "{path}"
        );
    }
    assert!(out
        .path()
        .join("etc/containers/registries.conf.d/01-image-searchRegistries.conf")
        .is_file());
    assert!(
        stdout.starts_with(&format!(
            "wrote 3 files under {dir} (at their node paths):\n"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("/etc/containers/policy.json"), "{stdout}");
    assert!(
        stdout.contains("changed    reload CRI-O, no drain\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("node action: drain and reboot\n"),
        "{stdout}"
    );
}

#[test]
fn cli_json_report() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, stdout, stderr) = cli(&[
        "--image-config",
        &format!("{SEED}/07-additional-trusted-ca.yaml"),
        "--ca-configmap",
        &format!("{SEED}/07-registry-config.yaml"),
        "--out",
        dir,
        "--json",
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["out"], dir);
    assert_eq!(v["node_action"], "none");
    assert_eq!(v["notes"], serde_json::json!([]));
    let files = v["files"].as_array().unwrap();
    let rows: Vec<(&str, &str, &str)> = files
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["change"].as_str().unwrap(),
                f["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("etc/containers/policy.json", "unchanged", "none"),
            ("etc/containers/registries.conf", "unchanged", "none"),
            (
                "etc/docker/certs.d/registry-with-port.example.com:5000/ca.crt",
                "added",
                "none"
            ),
        ]
    );
    for f in files {
        let written = Path::new(f["written"].as_str().unwrap());
        assert_eq!(written, out.path().join(f["path"].as_str().unwrap()));
        assert!(written.is_file());
    }
}

#[test]
fn cli_release_image_skips_blocking_the_payload_with_a_note() {
    let out = tempfile::tempdir().unwrap();
    let image = out.path().join("image.yaml");
    std::fs::write(
        &image,
        "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources:\n    blockedRegistries: [quay.io, untrusted.com]\n",
    )
    .unwrap();
    let (code, stdout, stderr) = cli(&[
        "--image-config",
        image.to_str().unwrap(),
        "--release-image",
        "quay.io/openshift-release-dev/ocp-release@sha256:4207ba569ff014931f1b5d125fe3751936a768e119546683c899eb09f3cdceb0",
        "--out",
        out.path().join("node").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(r#"note: MCO logs: error adding ["quay.io"] to blocked registries, cannot block the repository being used by the payload"#),
        "{stdout}"
    );
    let conf = std::fs::read_to_string(out.path().join("node").join(REGISTRIES_CONF)).unwrap();
    assert!(!conf.contains("\"quay.io\""), "{conf}");
    assert!(conf.contains("\"untrusted.com\""), "{conf}");
}

#[test]
fn cli_exit_codes() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    // Unreadable input: 2 with file:line:col.
    let (code, stdout, stderr) = cli(&[
        "--image-config",
        "tests/fixtures/image-config/typo.yaml",
        "--out",
        dir,
    ]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("typo.yaml:7:"), "{stderr}");
    assert!(stderr.contains("allowedRegistry"), "{stderr}");
    let (code, _, stderr) = cli(&[
        "--image-config",
        &format!("{SEED}/01-image-config.yaml"),
        "--icsp",
        &format!("{SEED}/01-image-config.yaml"),
        "--out",
        dir,
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("01-image-config.yaml:14:3: unknown field `allowedRegistriesForImport`")
            && stderr
                .contains("expected a operator.openshift.io/v1alpha1 ImageContentSourcePolicy"),
        "{stderr}"
    );
    // A configuration MCO refuses: 1, nothing written.
    let (code, stdout, stderr) = cli(&[
        "--image-config",
        "tests/fixtures/image-config/broken.yaml",
        "--out",
        dir,
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("only one of AllowedRegistries or BlockedRegistries may be specified"),
        "{stderr}"
    );
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
}

#[test]
fn cli_help_names_the_options() {
    let out = Command::cargo_bin("regharness")
        .unwrap()
        .args(["render", "node-config", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--image-config <FILE>",
        "--icsp <FILE>",
        "--ca-configmap <FILE>",
        "--release-image <IMAGE>",
        "--out <DIR>",
        "--json",
        "Exit status: 0 written, 1",
    ] {
        assert!(help.contains(option), "{option} missing in {help}");
    }
}
