//! The command line: exit codes, reports, located errors, and no leaked secrets.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn regharness() -> Command {
    let mut cmd = Command::cargo_bin("regharness").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Every password written in a scenario file (the catalogue uses canary values).
fn scenario_secrets() -> Vec<String> {
    let mut secrets = Vec::new();
    for entry in walkdir::WalkDir::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")) {
        let entry = entry.unwrap();
        if entry.path().extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for line in text.lines() {
            let mut rest = line;
            while let Some(i) = rest.find("canary-") {
                let tail = &rest[i..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .unwrap_or(tail.len());
                secrets.push(tail[..end].to_string());
                rest = &tail[end..];
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    assert!(
        secrets.len() >= 5,
        "the catalogue should use canary passwords"
    );
    secrets
}

#[test]
fn run_writes_reports_of_the_whole_catalogue_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let json: PathBuf = dir.path().join("r.json");
    let junit: PathBuf = dir.path().join("r.xml");
    let out = regharness()
        .args(["run", "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .arg("--verbose")
        .arg("scenarios/")
        .env("REGHARNESS_LOG", "debug")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 15);
    assert_eq!(
        report["summary"]["passed"].as_u64().unwrap() as usize,
        scenarios.len()
    );
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["summary"]["skipped"], 0);
    for s in scenarios {
        for key in ["name", "file", "status", "steps"] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
        for step in s["steps"].as_array().unwrap() {
            for key in ["name", "kind", "outcome", "diagnosis", "duration_ms"] {
                assert!(step.get(key).is_some(), "{key} missing in {step}");
            }
        }
    }

    let all = [
        stdout,
        stderr,
        std::fs::read_to_string(&json).unwrap(),
        std::fs::read_to_string(&junit).unwrap(),
    ]
    .join("\n");
    for secret in scenario_secrets() {
        assert!(!all.contains(&secret), "secret {secret} leaked");
    }
    assert!(!all.contains("eyJhbGciOiJSUzI1NiIs"), "a token leaked");
}

#[test]
fn committed_snapshots_contain_no_secret() {
    let secrets = scenario_secrets();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "secret {s} in a snapshot");
        }
        assert!(
            !text.contains("eyJhbGciOiJSUzI1NiIs"),
            "a token in a snapshot"
        );
        checked += 1;
    }
    assert!(checked >= 15);
}

#[test]
fn a_broken_scenario_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(
        &file,
        "description: broken\nsteps:\n  - token: {credentials: {account: a}\n",
    )
    .unwrap();
    let out = regharness().arg("run").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{}:", file.display());
    assert!(stderr.contains(&expected), "{stderr}");
    let rest = &stderr[stderr.find(&expected).unwrap() + expected.len()..];
    let mut fields = rest.split(':');
    let located = fields.next().is_some_and(|n| n.parse::<u32>().is_ok())
        && fields.next().is_some_and(|n| n.parse::<u32>().is_ok());
    assert!(located, "no file:line:col in {stderr}");

    std::fs::write(
        &file,
        "description: d\nsteps:\n  - pul: {image: registry.redhat.io/rhel8/pcp}\n",
    )
    .unwrap();
    let out = regharness().arg("run").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.yaml:3:"), "{stderr}");
    assert!(stderr.contains("pul"), "{stderr}");
}

#[test]
fn a_failing_scenario_exits_1_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fails.yaml");
    std::fs::write(
        &file,
        "description: d\nsteps:\n  - token: {}\n    expect: {outcome: ok}\n",
    )
    .unwrap();
    let out = regharness().arg("run").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL  fails"), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed, 0 skipped"), "{stdout}");

    let out = regharness()
        .args(["run", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = regharness()
        .args(["run", "does/not/exist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = regharness()
        .args(["run", "--filter", "zzz-no-match"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_names_and_describes_the_catalogue() {
    let out = regharness().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("token/wrong-password-401\n"), "{stdout}");
    assert!(
        stdout.contains("Invalid username") || stdout.contains("401"),
        "{stdout}"
    );
}
