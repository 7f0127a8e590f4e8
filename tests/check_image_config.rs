//! `regharness check image-config`: seed 004's rules as errors and warnings, exit codes,
//! located input errors.

use assert_cmd::Command;
use serde_json::Value;

fn check(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("regharness")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "image-config"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const DIR: &str = "tests/fixtures/image-config";

fn codes(json: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(json).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_good_configuration_as_oc_prints_it_is_clean() {
    let (code, stdout, stderr) = check(&[&format!("{DIR}/good.yaml")]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout, "no findings\n");
}

#[test]
fn every_rule_of_seed_004_is_reported_with_its_field() {
    let (code, stdout, stderr) = check(&[&format!("{DIR}/broken.yaml"), "--json"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let found = codes(&stdout);
    for (severity, code) in [
        ("error", "name-not-cluster"),
        ("error", "allowed-and-blocked"),
        ("error", "insecure-not-allowed"),
        ("warning", "payload-registry-not-allowed"),
        ("warning", "payload-registry-blocked"),
        ("warning", "public-search-registry"),
        ("warning", "insecure-external-registry"),
        ("warning", "insecure-scope-with-tag"),
    ] {
        assert!(
            found.contains(&(severity.to_string(), code.to_string())),
            "{severity} {code} missing in {found:?}"
        );
    }
    // registry.redhat.io, quay.io and the internal registry are each reported.
    assert_eq!(
        found
            .iter()
            .filter(|(_, c)| c == "payload-registry-not-allowed")
            .count(),
        3
    );
    let (_, human, _) = check(&[&format!("{DIR}/broken.yaml")]);
    assert!(
        human.contains("error: spec.registrySources: allowed-and-blocked:"),
        "{human}"
    );
    assert!(
        human.contains("spec.registrySources.insecureRegistries[0]: insecure-not-allowed"),
        "{human}"
    );
}

#[test]
fn warnings_pass_unless_strict() {
    let image = format!("{DIR}/good.yaml");
    let icsp = format!("{DIR}/icsp.yaml");
    let (code, stdout, _) = check(&[&image, "--icsp", &icsp]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("warning:") && stdout.contains("mirror-not-allowed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("internal-mirror.io/openshift-payload"),
        "{stdout}"
    );
    let (code, _, _) = check(&[&image, "--icsp", &icsp, "--strict"]);
    assert_eq!(code, Some(1));
}

#[test]
fn the_ca_configmap_keys_and_values_are_checked() {
    let (code, stdout, stderr) = check(&[
        &format!("{DIR}/good.yaml"),
        "--ca-configmap",
        &format!("{DIR}/ca-configmap.yaml"),
        "--json",
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let found = codes(&stdout);
    assert!(
        found.contains(&("error".into(), "ca-key-with-colon".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("error".into(), "ca-not-pem".into())),
        "{found:?}"
    );
    assert!(
        stdout.contains("registry-with-port.example.com..5000"),
        "{stdout}"
    );
}

#[test]
fn unknown_fields_and_wrong_files_exit_2_with_a_location() {
    let (code, stdout, stderr) = check(&[&format!("{DIR}/typo.yaml")]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("typo.yaml:7:"), "{stderr}");
    assert!(stderr.contains("allowedRegistry"), "{stderr}");
    let (code, _, stderr) = check(&[&format!("{DIR}/icsp.yaml")]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("expected a config.openshift.io/v1 Image"),
        "{stderr}"
    );
    let (code, _, stderr) = check(&[&format!("{DIR}/missing.yaml")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("missing.yaml"), "{stderr}");
}
