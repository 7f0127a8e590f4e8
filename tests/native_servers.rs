//! Real servers in the world (issue 6 item 3): a registry entry with `implementation:
//! distribution` (Debian's `docker-registry`, the entry's images pushed into it) and a
//! proxy with `implementation: squid` (a real squid with the allow-list and
//! `basic_ncsa_auth`). Each scenario of `tests/fixtures/native/` must pass, no secret may
//! appear in its report, and afterwards no `docker-registry`, `squid` or
//! `basic_ncsa_auth` process started by it may remain.
//!
//! Without a program its trials are reported as ignored with the reason;
//! `REGHARNESS_REQUIRE_EXTERNAL=1` makes that a failure. Trials run one at a time so
//! that the process check sees only the trial's own servers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use regharness::report::human;
use regharness::runner::{run_scenario, ScenarioStatus};
use regharness::scenario::{load_file, load_str};
use regharness_mocks::distribution::Distribution;
use regharness_mocks::squid::{Squid, NCSA_HELPER};

/// Process names (`/proc/PID/comm`) of the real servers and squid's helpers.
const SERVER_NAMES: [&str; 3] = ["docker-registry", "squid", "basic_ncsa_auth"];

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let required = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/native");
    let distribution = Distribution::find_program().map(|_| ());
    let squid = Squid::find_program()
        .filter(|_| Path::new(NCSA_HELPER).is_file())
        .map(|_| ());
    let cases = [
        ("distribution-login-pull", distribution, "docker-registry"),
        ("squid-allow-list", squid, "squid"),
        ("squid-authentication", squid, "squid and basic_ncsa_auth"),
    ];
    let mut trials = Vec::new();
    for (name, available, program) in cases {
        let ignored = available.is_none() && !required;
        if ignored {
            eprintln!("native/{name}: {program} not installed (apt-get install docker-registry squid): trial ignored");
        }
        let file = fixtures.join(format!("{name}.yaml"));
        let root = fixtures.clone();
        trials.push(
            Trial::test(format!("native/{name}"), move || match available {
                Some(()) => run(&file, &root),
                None => {
                    Err(format!("{program} not installed (REGHARNESS_REQUIRE_EXTERNAL=1)").into())
                }
            })
            .with_ignored_flag(ignored),
        );
    }
    trials.push(Trial::test(
        "native/loader-rejects-unsupported-keys",
        loader,
    ));
    libtest_mimic::run(&args, trials).exit();
}

fn run(file: &Path, root: &Path) -> Result<(), Failed> {
    let before = server_processes();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let scenario = load_file(file, Some(root)).map_err(|e| e.to_string())?;
    let report = runtime.block_on(run_scenario(&scenario));
    drop(runtime);
    if report.status != ScenarioStatus::Passed {
        return Err(human::scenario_line(&report, true).into());
    }
    let text = format!("{}\n{}", serde_json::to_string(&report)?, report.snapshot);
    let yaml = std::fs::read_to_string(file)?;
    for canary in yaml
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("canary-"))
    {
        if text.contains(canary) {
            return Err(format!("the report shows the secret {canary}").into());
        }
    }
    // Children are killed with SIGKILL; give the kernel a moment to take them away.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<_> = server_processes().difference(&before).cloned().collect();
        let children = children_of_this_process();
        if left.is_empty() && children.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "server processes remain: {left:?}; children of the test: {children:?}"
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `(pid, comm)` of every live (not zombie) server process on the machine.
fn server_processes() -> BTreeSet<(u32, String)> {
    processes()
        .into_iter()
        .filter(|p| p.state != 'Z' && SERVER_NAMES.contains(&p.comm.as_str()))
        .map(|p| (p.pid, p.comm))
        .collect()
}

/// Server processes whose parent is this test process (zombies included: an unreaped
/// child is a leak too).
fn children_of_this_process() -> Vec<(u32, String)> {
    let me = std::process::id();
    processes()
        .into_iter()
        .filter(|p| p.ppid == me && SERVER_NAMES.contains(&p.comm.as_str()))
        .map(|p| (p.pid, p.comm))
        .collect()
}

struct Proc {
    pid: u32,
    ppid: u32,
    state: char,
    comm: String,
}

fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid ...
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_string();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next()?.chars().next()?;
        let ppid = rest.next()?.parse().ok()?;
        Some(Proc {
            pid,
            ppid,
            state,
            comm,
        })
    })
    .collect()
}

/// The loader refuses what a real server cannot do, with the position.
fn loader() -> Result<(), Failed> {
    let cases = [
        (
            "description: x\nworld:\n  proxy:\n    implementation: squid\n    intercept: true\nsteps:\n  - token: {}\n",
            "implementation: squid supports `allow` and `auth` only",
        ),
        (
            "description: x\nworld:\n  registries:\n    - host: registry.example.com\n      implementation: distribution\n      blob_cdn: cdn.example.com\nsteps:\n  - token: {}\n",
            "implementation: distribution does not support `blob_cdn`",
        ),
        (
            "description: x\nworld:\n  proxy:\n    implementation: haproxy\nsteps:\n  - token: {}\n",
            "haproxy",
        ),
    ];
    for (text, expected) in cases {
        let error = match load_str(text, Path::new("native.yaml"), None) {
            Ok(_) => return Err(format!("accepted:\n{text}").into()),
            Err(e) => e.to_string(),
        };
        if !error.contains(expected) || !error.starts_with("native.yaml:") {
            return Err(
                format!("error {error:?} should name the position and {expected:?}").into(),
            );
        }
    }
    Ok(())
}
