//! `regharness bench --quick` as a smoke test: the output has every row, each measured
//! or skipped with its reason, and the ratio of each pair. Timings are printed, never
//! asserted.
//!
//! With `REGHARNESS_REQUIRE_EXTERNAL=1` a skipped row (docker-registry, squid or skopeo
//! missing) fails the test.

use std::time::Duration;

use assert_cmd::Command;

/// The rows, in order.
const ROWS: [&str; 6] = [
    "mock registry",
    "distribution",
    "mock proxy",
    "squid",
    "builtin client",
    "skopeo inspect",
];

/// Runs `regharness bench --quick` with `env`; its exit status and standard output.
fn bench(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::cargo_bin("regharness").expect("the regharness binary");
    cmd.args(["bench", "--quick", "--pull-timeout", "60"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .timeout(Duration::from_secs(180));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("regharness bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), stdout)
}

/// The line of row `name`.
fn row<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("  {name} ")))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"))
}

#[test]
fn quick_run_prints_every_row_measured_or_skipped_and_the_ratios() {
    let (code, stdout) = bench(&[]);
    assert_eq!(code, Some(0), "exit status");
    let required = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").as_deref() == Ok("1");
    for name in ROWS {
        let line = row(&stdout, name);
        let rest = line[2 + name.len()..].trim_start();
        if let Some(why) = rest.strip_prefix("skipped: ") {
            assert!(why.ends_with("not installed"), "{line}");
            assert!(!required, "{line} and REGHARNESS_REQUIRE_EXTERNAL=1");
        } else {
            assert!(rest.starts_with("median "), "{line}");
            assert!(rest.contains("(runs, ms: "), "{line}");
        }
    }
    for (a, b) in [
        ("mock registry", "distribution"),
        ("mock proxy", "squid"),
        ("builtin client", "skopeo inspect"),
    ] {
        let label = format!("  ratio {b} / {a}: ");
        assert!(
            stdout.lines().any(|l| l.starts_with(&label)),
            "no {label:?} line in:\n{stdout}"
        );
    }
    assert!(stdout.contains("a 1 MiB blob"), "{stdout}");
    assert!(
        !stdout.contains("canary-"),
        "a secret was printed:\n{stdout}"
    );
}

#[test]
fn missing_programs_skip_their_rows_and_the_rest_still_runs() {
    let (code, stdout) = bench(&[
        ("REGHARNESS_DOCKER_REGISTRY", "/nonexistent/docker-registry"),
        ("REGHARNESS_SQUID", "/nonexistent/squid"),
        ("REGHARNESS_SKOPEO", "/nonexistent/skopeo"),
    ]);
    assert_eq!(code, Some(0), "exit status");
    for (name, why) in [
        ("distribution", "docker-registry not installed"),
        ("squid", "squid not installed"),
        ("skopeo inspect", "skopeo not installed"),
    ] {
        assert!(
            row(&stdout, name).ends_with(&format!("skipped: {why}")),
            "{stdout}"
        );
    }
    for name in ["mock registry", "mock proxy", "builtin client"] {
        assert!(row(&stdout, name).contains(" median "), "{stdout}");
    }
    for label in [
        "  ratio distribution / mock registry: n/a",
        "  ratio squid / mock proxy: n/a",
        "  ratio skopeo inspect / builtin client: n/a",
    ] {
        assert!(stdout.contains(label), "{stdout}");
    }
}

#[test]
fn a_scenario_without_login_and_pull_is_a_usage_error() {
    let mut cmd = Command::cargo_bin("regharness").expect("the regharness binary");
    let out = cmd
        .args([
            "bench",
            "--quick",
            "--scenario",
            "scenarios/token/wrong-password-401.yaml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .timeout(Duration::from_secs(60))
        .output()
        .expect("regharness bench runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a login step and a pull step"));
}
