//! `regharness probe` against a real CNCF distribution registry (Debian's
//! `docker-registry`) with token auth trusting the mock SSO: seed 003's procedure works on
//! real servers, not only on the mocks. Without the program the trials are reported as
//! ignored with the reason; `REGHARNESS_REQUIRE_EXTERNAL=1` makes that a failure.

use assert_cmd::Command;
use libtest_mimic::{Arguments, Failed, Trial};
use regharness_mocks::distribution::{Distribution, PROGRAM};
use regharness_mocks::{Account, TokenService};
use serde_json::Value;

const USER: &str = "1234567|ci-puller";
const SECRET: &str = "canary-probe-distribution-secret";

fn main() {
    let args = Arguments::from_args();
    let required = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
    let program = Distribution::find_program();
    if program.is_none() && !required {
        eprintln!(
            "{PROGRAM} not installed: apt-get install docker-registry (probe trials ignored)"
        );
    }
    let cases: [(&str, Option<&str>, u8, &str); 3] = [
        ("probe/distribution/good-credentials", Some(SECRET), 0, "ok"),
        (
            "probe/distribution/wrong-password",
            Some("canary-wrong-probe-pw"),
            1,
            "credentials-rejected",
        ),
        (
            "probe/distribution/anonymous",
            None,
            1,
            "authentication-required",
        ),
    ];
    let trials = cases
        .into_iter()
        .map(|(name, password, code, class)| {
            let program = program.clone();
            let ignored = program.is_none() && !required;
            Trial::test(name, move || match program {
                Some(program) => run(&program, password, code, class),
                None => {
                    Err(format!("{PROGRAM} not installed (REGHARNESS_REQUIRE_EXTERNAL=1)").into())
                }
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run(
    program: &std::path::Path,
    password: Option<&str>,
    code: u8,
    class: &str,
) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (sso, registry) = runtime.block_on(async {
        let sso = TokenService::builder()
            .account(Account::service_account("1234567", "ci-puller", SECRET).entitled_to(["rhel"]))
            .start()
            .await
            .map_err(|e| e.to_string())?;
        let registry = Distribution::start(program, &sso)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((sso, registry))
    })?;
    let mut cmd = Command::cargo_bin("regharness")?;
    cmd.args(["probe", "--json", "--timeout", "10", "--registry"])
        .arg(format!("http://{}", registry.addr()))
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY");
    if let Some(p) = password {
        cmd.args(["--username", USER, "--password-env", "PROBE_PASSWORD"])
            .env("PROBE_PASSWORD", p);
    }
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let context = format!(
        "stdout:\n{stdout}\nstderr:\n{stderr}\nregistry log:\n{}",
        registry.log_tail()
    );
    if out.status.code() != Some(i32::from(code)) {
        return Err(format!("exit {:?}, expected {code}\n{context}", out.status.code()).into());
    }
    let report: Value = serde_json::from_str(&stdout).map_err(|e| format!("{e}\n{context}"))?;
    if report["diagnosis"] != class {
        return Err(format!(
            "diagnosis {}, expected {class}\n{context}",
            report["diagnosis"]
        )
        .into());
    }
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .ok_or("no stages")?
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let expected: &[&str] = if code == 0 {
        &["reach-registry", "challenge", "token", "bearer-ping"]
    } else {
        &["reach-registry", "challenge", "token"]
    };
    if stages != expected {
        return Err(format!("stages {stages:?}, expected {expected:?}\n{context}").into());
    }
    if stdout.contains("canary-") || stderr.contains("canary-") {
        return Err(format!("a password leaked\n{context}").into());
    }
    drop(sso);
    Ok(())
}
