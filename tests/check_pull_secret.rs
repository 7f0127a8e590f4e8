//! `regharness check pull-secret`: exit codes, the JSON report, located errors, and no
//! secret in any output.

use std::path::PathBuf;

use assert_cmd::Command;

/// The password every fixture uses; it must never be printed.
const CANARY: &str = "canary-pull-secret-password";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pull-secrets")
        .join(name)
}

/// Runs `regharness check pull-secret ARGS...`: exit code, stdout, stderr.
fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("regharness")
        .unwrap()
        .args(["check", "pull-secret"])
        .args(args)
        .env("REGHARNESS_LOG", "trace")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for text in [&stdout, &stderr] {
        assert!(!text.contains(CANARY), "a secret was printed:\n{text}");
        assert!(!text.contains("canary"), "a secret was printed:\n{text}");
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn path_of(name: &str) -> String {
    fixture(name).display().to_string()
}

#[test]
fn a_good_secret_exits_0_and_shows_the_entry_per_image() {
    let file = path_of("good-secret.yaml");
    let (code, stdout, stderr) = check(&[
        &file,
        "--image",
        "registry.redhat.io/rhel8/pcp:latest",
        "--image",
        "quay.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "--image",
        "docker.io/library/nginx",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "no findings\n\
         registry.redhat.io/rhel8/pcp:latest -> key \"registry.redhat.io\" (username 1234567|ci-puller)\n\
         quay.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef -> key \"quay.io/acme\" (username acme+robot)\n\
         docker.io/library/nginx -> no credentials: no key matches docker.io/library/nginx: the kubelet has no credentials for it here and pulls anonymously, unless another pull secret or the node's global pull secret matches\n"
    );
}

#[test]
fn json_and_bare_files_are_checked_too() {
    for (name, input) in [("secret.json", "secret"), ("auth.json", "auth.json")] {
        let file = path_of(name);
        let (code, stdout, stderr) =
            check(&[&file, "--json", "--image", "registry.redhat.io/ubi9/ubi"]);
        assert_eq!(code, 0, "{name}: {stdout}\n{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["input"], input, "{name}");
        let entry = report["matches"][0]["entry"].as_str().unwrap();
        assert!(entry.ends_with("registry.redhat.io"), "{name}: {entry}");
        assert_eq!(report["matches"][0]["username"], "1234567|ci-puller");
    }
}

#[test]
fn a_broken_secret_exits_1_with_every_finding() {
    let file = path_of("broken-secret.yaml");
    let (code, stdout, stderr) = check(&[&file, "--image", "registry.redhat.io/rhel8/pcp"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let expected = [
        r#"data[".dockerconfigjson"]: ignored-by-kubelet: "#,
        r#"data[".dockercfg"]: ignored-by-kubelet: "#,
        r#"data[".dockerconfigjson"]: wrong-key-for-type: "#,
        r#"data[".dockerconfigjson"]["registry.redhat.io"].username: service-account-prefix-missing: "#,
        r#"data[".dockerconfigjson"]["quay.io"].auth: auth-mismatch: "#,
        r#"data[".dockerconfigjson"]["r1.example.com"].auth: auth-without-colon: "#,
        r#"data[".dockerconfigjson"]["r2.example.com"].auth: invalid-base64: "#,
        r#"data[".dockerconfigjson"]["r3.example.com"].auth: password-trailing-newline: "#,
        r#"data[".dockerconfigjson"]["r4.example.com"]: empty-credentials: "#,
        r#"data[".dockercfg"]: invalid-json: "#,
    ];
    assert_eq!(lines.len(), expected.len() + 1, "{stdout}");
    for (line, prefix) in lines.iter().zip(expected) {
        assert!(line.starts_with(prefix), "{line}\nexpected {prefix}");
    }
    assert!(
        lines[expected.len()].starts_with("registry.redhat.io/rhel8/pcp -> no credentials: "),
        "{stdout}"
    );

    let (code, stdout, _) = check(&[&file, "--json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        codes,
        [
            "auth-mismatch",
            "auth-without-colon",
            "empty-credentials",
            "ignored-by-kubelet",
            "invalid-base64",
            "invalid-json",
            "password-trailing-newline",
            "service-account-prefix-missing",
            "wrong-key-for-type",
        ]
    );
}

#[test]
fn the_json_report_has_a_stable_shape() {
    let file = path_of("good-secret.yaml");
    let (code, stdout, _) = check(&[
        &file,
        "--json",
        "--image",
        "quay.io/acme/app",
        "--image",
        "Bad/Name",
    ]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({
            "input": "secret",
            "findings": [],
            "matches": [
                {
                    "image": "quay.io/acme/app",
                    "repository": "quay.io/acme/app",
                    "entry": "quay.io/acme",
                    "username": "acme+robot",
                    "candidates": ["quay.io/acme"],
                    "note": null
                },
                {
                    "image": "Bad/Name",
                    "repository": null,
                    "entry": null,
                    "username": null,
                    "candidates": [],
                    "note": "the kubelet cannot parse this image name: invalid reference format: repository name (Name) must be lowercase"
                }
            ]
        })
    );
}

#[test]
fn unreadable_input_exits_2_with_a_location() {
    let cases = [
        (
            "configmap.yaml",
            ":2:7: kind: expected Secret, found \"ConfigMap\"",
        ),
        (
            "truncated.json",
            ":3:0: invalid JSON: EOF while parsing an object",
        ),
        ("missing.yaml", ": cannot read: "),
    ];
    for (name, needle) in cases {
        let file = path_of(name);
        let (code, stdout, stderr) = check(&[&file]);
        assert_eq!(code, 2, "{name}: {stdout}\n{stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.starts_with(&format!("error: {file}{needle}")),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("expected") || name == "missing.yaml",
            "{stderr}"
        );
    }
}
