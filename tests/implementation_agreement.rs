//! The agreement suite's implementation half (issue 6 item 4): the catalogue's
//! login/token/pull/registry/auth-files/network/pull-secrets scenarios run once with the
//! mocks and once with their world rewritten to real servers — registries served by
//! Debian's `docker-registry` (`implementation: distribution`) or the proxy run by a real
//! `squid` (`implementation: squid`) — and every step must end with the same outcome and
//! diagnosis class.
//!
//! What a real server cannot be is decided by the rules of [`distribution_plan`] and
//! [`squid_plan`] (each prints its reason); nothing is exempted by name. In the
//! distribution run the `body` and `message_contains` expectations are not checked: the
//! real registry words its own answers (the mocks word registry.redhat.io's), and the
//! agreement is on outcome and diagnosis (and the HTTP status, still checked).
//!
//! A missing program makes its trials ignored with the reason, unless
//! `REGHARNESS_REQUIRE_EXTERNAL=1`, which makes them fail. Trials run 4 at a time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use regharness::catalogue;
use regharness::runner::{run_scenario, ScenarioStatus};
use regharness::scenario::model::{
    AuthModeSpec, ProxyImplementation, RegistryImplementation, RegistrySpec, StepAction,
};
use regharness::scenario::{discover, load_file, load_str, Scenario};
use regharness_mocks::distribution::Distribution;
use regharness_mocks::squid::{Squid, NCSA_HELPER};
use serde_saphyr::Spanned;

/// The catalogue folders the suite replays.
const FOLDERS: &[&str] = &[
    "login",
    "token",
    "pull",
    "registry",
    "auth-files",
    "network",
    "pull-secrets",
];

/// Steps compared over all trials.
static COMPARED: AtomicUsize = AtomicUsize::new(0);

/// A real implementation the world can be rewritten to.
#[derive(Debug, Clone, Copy)]
enum Implementation {
    /// The registries served by CNCF distribution.
    Distribution,
    /// The proxy run by squid.
    Squid,
}

impl Implementation {
    fn name(self) -> &'static str {
        match self {
            Implementation::Distribution => "distribution",
            Implementation::Squid => "squid",
        }
    }

    /// Why it cannot run on this machine, if it cannot.
    fn missing(self) -> Option<String> {
        match self {
            Implementation::Distribution => Distribution::find_program().is_none().then(|| {
                format!(
                    "`{}` not installed (apt-get install docker-registry)",
                    regharness_mocks::distribution::PROGRAM
                )
            }),
            Implementation::Squid => {
                if Squid::find_program().is_none() {
                    Some(format!(
                        "`{}` not installed (apt-get install squid)",
                        regharness_mocks::squid::PROGRAM
                    ))
                } else if !Path::new(NCSA_HELPER).is_file() {
                    Some(format!(
                        "{NCSA_HELPER} not installed (apt-get install squid)"
                    ))
                } else {
                    None
                }
            }
        }
    }

    /// The scenario rewritten to this implementation, or why it does not apply.
    fn plan(self, scenario: &Scenario) -> Result<Scenario, String> {
        match self {
            Implementation::Distribution => distribution_plan(scenario),
            Implementation::Squid => squid_plan(scenario),
        }
    }
}

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads.get_or_insert(4);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("scenarios");
    let require = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").as_deref() == Ok("1");
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let mut trials = Vec::new();
    let mut excluded = 0;
    for implementation in [Implementation::Distribution, Implementation::Squid] {
        let missing = implementation.missing();
        for folder in FOLDERS {
            let files = discover(&[root.join(folder)]).expect("the catalogue");
            for (file, _) in files {
                let scenario = load_file(&file, Some(&root)).expect("a catalogue scenario");
                let name = format!("{}_agrees/{}", implementation.name(), scenario.name);
                let rewritten = match implementation.plan(&scenario) {
                    Ok(rewritten) => rewritten,
                    Err(why) => {
                        eprintln!("EXCLUDED {name}: {why}");
                        excluded += 1;
                        continue;
                    }
                };
                let trial = match &missing {
                    None => {
                        let runtime = runtime.clone();
                        Trial::test(name, move || {
                            runtime.block_on(compare(implementation, &scenario, &rewritten))
                        })
                    }
                    Some(why) if require => {
                        let why = why.clone();
                        Trial::test(name, move || {
                            Err(format!("{why} and REGHARNESS_REQUIRE_EXTERNAL=1").into())
                        })
                    }
                    Some(why) => {
                        eprintln!("SKIPPED ({why}): {name}");
                        Trial::test(name, || Ok(())).with_ignored_flag(true)
                    }
                };
                trials.push(trial);
            }
        }
    }
    trials.push(Trial::test("agreement/rules", rules));
    let total = trials.len();
    let conclusion = libtest_mimic::run(&args, trials);
    eprintln!(
        "implementation agreement: {} steps compared in {} trials ({} scenario×implementation pairs excluded by rule)",
        COMPARED.load(Ordering::Relaxed),
        total,
        excluded
    );
    conclusion.exit();
}

/// Rewrites every registry distribution can be to `implementation: distribution`.
///
/// Rules: a scenario that moves the world's clock is excluded (distribution checks
/// token expiry against the real clock); a registry stays a mock when it delegates its
/// auth to another host (`auth: delegated`, `auth_host`), sends blobs to a CDN
/// (`blob_cdn`) or refuses pull-secret types (`rejects_secret_types`, a registry.connect
/// rule distribution has no setting for); the internal registry is the cluster's and
/// stays a mock. With no registry left to rewrite, or no login, ping or pull reaching
/// one (token-only scenarios), the scenario is excluded.
fn distribution_plan(scenario: &Scenario) -> Result<Scenario, String> {
    let spec = &scenario.spec;
    if spec
        .steps
        .iter()
        .any(|s| matches!(s.value.action, StepAction::AdvanceClock(_)))
    {
        return Err("it moves the world's clock (advance-clock); distribution checks token expiry against the real clock".into());
    }
    let mut rewritten = scenario.clone();
    let registries = match &spec.world.registries {
        Some(registries) => registries.clone(),
        // The catalogue's default registries, as host-only entries (defaults filled in
        // by the world as for an omitted list).
        None => {
            let yaml: String = catalogue::DEFAULT_REGISTRIES
                .iter()
                .map(|h| format!("- host: {h}\n"))
                .collect();
            serde_saphyr::from_str::<Vec<Spanned<RegistrySpec>>>(&yaml)
                .map_err(|e| format!("default registries: {e}"))?
        }
    };
    let mut kept = Vec::new();
    let mut changed = 0;
    let registries: Vec<Spanned<RegistrySpec>> = registries
        .into_iter()
        .map(|mut r| {
            match distribution_refuses(&r.value) {
                Some(why) => kept.push(format!("{} stays a mock ({why})", r.value.host)),
                None => {
                    r.value.implementation = RegistryImplementation::Distribution;
                    changed += 1;
                }
            }
            r
        })
        .collect();
    if changed == 0 {
        return Err(format!(
            "no registry distribution can serve: {}",
            kept.join("; ")
        ));
    }
    let served: Vec<String> = registries
        .iter()
        .filter(|r| r.value.implementation == RegistryImplementation::Distribution)
        .map(|r| r.value.host.to_ascii_lowercase())
        .collect();
    if !spec
        .steps
        .iter()
        .filter_map(|s| registry_of(&s.value.action))
        .any(|host| served.contains(&host))
    {
        return Err(format!(
            "no step logs in to, pings or pulls from a registry distribution serves ({})",
            served.join(", ")
        ));
    }
    rewritten.spec.world.registries = Some(registries);
    for step in &mut rewritten.spec.steps {
        step.value.expect.body = None;
        step.value.expect.message_contains = None;
    }
    Ok(rewritten)
}

/// The registry host a login, ping, pull or pod pull talks to (lower case, no scheme
/// or port); none for other steps.
fn registry_of(action: &StepAction) -> Option<String> {
    let target = match action {
        StepAction::Login(l) => &l.registry,
        StepAction::Ping(p) => &p.registry,
        StepAction::Pull(p) => &p.image,
        StepAction::PodPull(p) => &p.image,
        _ => return None,
    };
    let target = target
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("docker://");
    let host = target.split('/').next().unwrap_or(target);
    let host = host.split(':').next().unwrap_or(host);
    Some(host.to_ascii_lowercase())
}

/// Why distribution cannot serve this registry entry, if it cannot.
fn distribution_refuses(r: &RegistrySpec) -> Option<&'static str> {
    let defaults = catalogue::defaults_for(&r.host);
    let auth = r
        .auth
        .or(defaults.as_ref().map(|d| d.auth))
        .unwrap_or(AuthModeSpec::Bearer);
    let rejects = r
        .rejects_secret_types
        .clone()
        .or_else(|| defaults.as_ref().map(|d| d.rejects_secret_types.clone()))
        .unwrap_or_default();
    if r.implementation == RegistryImplementation::Distribution {
        Some("already distribution")
    } else if auth == AuthModeSpec::Delegated || r.auth_host.is_some() {
        Some("delegated auth: distribution trusts one token realm")
    } else if r.blob_cdn.is_some() {
        Some("blob_cdn: distribution has no blob redirect to a CDN")
    } else if !rejects.is_empty() {
        Some("rejects_secret_types: distribution cannot refuse pull-secret types")
    } else {
        None
    }
}

/// Rewrites the world's proxy to `implementation: squid`.
///
/// Rules: a scenario without a proxy is excluded; so is one whose proxy fails tunnels
/// (`fail`), intercepts TLS (`intercept`) or is not running (`down`), which squid is not
/// configured to do here.
fn squid_plan(scenario: &Scenario) -> Result<Scenario, String> {
    let Some(proxy) = &scenario.spec.world.proxy else {
        return Err("no proxy in its world".into());
    };
    let p = &proxy.value;
    if !p.fail.is_empty() {
        return Err("its proxy fails tunnels (`fail`), which squid is not made to do".into());
    }
    if p.intercept {
        return Err("its proxy intercepts TLS (`intercept`); squid runs without ssl-bump".into());
    }
    if p.down {
        return Err("its proxy is down (`down`): no proxy program runs at all".into());
    }
    let mut rewritten = scenario.clone();
    if let Some(proxy) = &mut rewritten.spec.world.proxy {
        proxy.value.implementation = ProxyImplementation::Squid;
    }
    Ok(rewritten)
}

/// Runs the scenario with the mocks and rewritten, and compares step by step.
async fn compare(
    implementation: Implementation,
    scenario: &Scenario,
    rewritten: &Scenario,
) -> Result<(), Failed> {
    let mock = run_scenario(scenario).await;
    if mock.status != ScenarioStatus::Passed {
        return Err(format!("the mock run failed: {:?}", mock.reason).into());
    }
    let real = run_scenario(rewritten).await;
    let name = implementation.name();
    let mut disagreements = Vec::new();
    for (index, expected) in mock.steps.iter().enumerate() {
        let Some(step) = real.steps.get(index) else {
            disagreements.push(format!(
                "step {} {:?}: did not run with {name}",
                index + 1,
                expected.name
            ));
            continue;
        };
        if (step.outcome, step.diagnosis, step.status)
            != (expected.outcome, expected.diagnosis, expected.status)
        {
            disagreements.push(format!(
                "step {} {:?}: {name} → {} [{}] {:?} ({}), mock → {} [{}] {:?} ({})",
                index + 1,
                step.name,
                step.outcome,
                step.diagnosis,
                step.status,
                step.message,
                expected.outcome,
                expected.diagnosis,
                expected.status,
                expected.message
            ));
        }
    }
    let compared = mock.steps.len().min(real.steps.len());
    COMPARED.fetch_add(compared, Ordering::Relaxed);
    if real.status != ScenarioStatus::Passed {
        disagreements.push(format!(
            "the {name} run {:?}: {}",
            real.status,
            real.reason.as_deref().unwrap_or("")
        ));
    }
    if !disagreements.is_empty() {
        return Err(disagreements.join("\n").into());
    }
    eprintln!("{name}_agrees/{}: {compared} steps agree", scenario.name);
    Ok(())
}

/// The exclusion rules and the rewrite, on small scenarios (no program needed).
fn rules() -> Result<(), Failed> {
    let load =
        |text: &str| load_str(text, Path::new("rules.yaml"), None).map_err(|e| e.to_string());
    // Omitted registries: the catalogue's three; registry.connect.redhat.com stays a mock.
    let pull = load("description: x\nsteps:\n  - pull: {image: registry.redhat.io/rhel8/pcp:latest}\n    expect: {outcome: failed, status: 401, body: {}}\n")?;
    let rewritten = distribution_plan(&pull)?;
    let kinds: Vec<_> = rewritten
        .spec
        .world
        .registries
        .iter()
        .flatten()
        .map(|r| (r.value.host.as_str(), r.value.implementation))
        .collect();
    let expected = [
        ("registry.redhat.io", RegistryImplementation::Distribution),
        (
            "registry.access.redhat.com",
            RegistryImplementation::Distribution,
        ),
        ("registry.connect.redhat.com", RegistryImplementation::Mock),
    ];
    if kinds != expected {
        return Err(format!("default registries rewritten to {kinds:?}").into());
    }
    if rewritten.spec.steps[0].value.expect.body.is_some() {
        return Err("the body expectation is still checked".into());
    }
    let cases = [
        (
            "description: x\nsteps:\n  - token: {}\n",
            Implementation::Distribution,
            "no step logs in to, pings or pulls",
        ),
        (
            "description: x\nsteps:\n  - advance-clock: {seconds: 600}\n  - pull: {image: registry.redhat.io/rhel8/pcp:latest}\n",
            Implementation::Distribution,
            "advance-clock",
        ),
        (
            "description: x\nworld:\n  registries:\n    - {host: r.example.com, auth: delegated}\nsteps:\n  - pull: {image: r.example.com/a:1}\n",
            Implementation::Distribution,
            "delegated auth",
        ),
        (
            "description: x\nsteps:\n  - token: {}\n",
            Implementation::Squid,
            "no proxy",
        ),
        (
            "description: x\nworld:\n  proxy: {intercept: true}\nsteps:\n  - token: {}\n",
            Implementation::Squid,
            "intercept",
        ),
    ];
    for (text, implementation, why) in cases {
        match implementation.plan(&load(text)?) {
            Ok(_) => return Err(format!("{} accepted:\n{text}", implementation.name()).into()),
            Err(e) if !e.contains(why) => return Err(format!("{e:?} should say {why:?}").into()),
            Err(_) => {}
        }
    }
    let proxied = load(
        "description: x\nworld:\n  proxy: {allow: [sso.redhat.com]}\nsteps:\n  - token: {}\n",
    )?;
    let squid = squid_plan(&proxied)?;
    match squid.spec.world.proxy.map(|p| p.value.implementation) {
        Some(ProxyImplementation::Squid) => Ok(()),
        other => Err(format!("proxy rewritten to {other:?}").into()),
    }
}
