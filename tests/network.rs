//! The network scenarios beyond their snapshots: `regharness probe` (seed 003's
//! procedure) reproduces each failure class in the matching scenario's world, and a
//! blackhole costs the configured timeout, not the operating system's.

use std::path::Path;
use std::time::Duration;

use regharness::client::proxy_env::ProxyConvention;
use regharness::diagnosis::DiagnosisClass;
use regharness::flow::registry_auth::Credentials;
use regharness::probe::{self, ProbeTarget};
use regharness::redact::SecretSet;
use regharness::runner::{run_scenario, ScenarioStatus};
use regharness::scenario::{load_file, load_str, Scenario};
use regharness::world::{StepNetwork, World};
use rstest::rstest;

fn scenario(name: &str) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    load_file(&root.join(format!("{name}.yaml")), Some(&root)).expect("a catalogue scenario")
}

async fn probe_world(
    scenario: &Scenario,
    registry: &str,
    with_credentials: bool,
) -> probe::ProbeReport {
    let world = World::start(&scenario.spec.world, SecretSet::default())
        .await
        .expect("the world starts");
    let client = world
        .http_client(&StepNetwork::plain(ProxyConvention::Curl))
        .expect("a client");
    let credentials = with_credentials.then(|| {
        let account = world
            .accounts()
            .all()
            .into_iter()
            .next()
            .expect("an account");
        Credentials {
            username: account.username.clone(),
            password: account.current_secret().to_string(),
        }
    });
    let target = ProbeTarget {
        registry: url::Url::parse(registry).unwrap(),
        sso_url: None,
        credentials,
        scope: "repository:rhel:pull".into(),
    };
    probe::run(client, &target).await
}

#[rstest]
#[case::allowed(
    "network/proxy-allows-both",
    "https://registry.redhat.io",
    DiagnosisClass::Ok,
    "bearer-ping"
)]
#[case::sso_not_allowed(
    "network/proxy-allows-only-registry",
    "https://registry.redhat.io",
    DiagnosisClass::ProxyDeniedHost,
    "token"
)]
#[case::registry_not_allowed(
    "network/proxy-allows-only-sso",
    "https://registry.redhat.io",
    DiagnosisClass::ProxyDeniedHost,
    "reach-registry"
)]
#[case::proxy_auth(
    "network/proxy-authentication",
    "https://registry.redhat.io",
    DiagnosisClass::ProxyAuthRequired,
    "reach-registry"
)]
#[case::proxy_down(
    "network/proxy-down",
    "https://registry.redhat.io",
    DiagnosisClass::ProxyUnreachable,
    "reach-registry"
)]
#[case::tunnel(
    "network/proxy-tunnel-refused",
    "https://registry.redhat.io",
    DiagnosisClass::ProxyTunnelFailed,
    "reach-registry"
)]
#[case::interception(
    "network/intercepting-proxy-untrusted",
    "https://registry.redhat.io",
    DiagnosisClass::TlsUnknownAuthority,
    "reach-registry"
)]
#[case::reject(
    "network/firewall-rejects-sso",
    "https://registry.redhat.io",
    DiagnosisClass::FirewallReject,
    "token"
)]
#[case::drop(
    "network/firewall-drops-sso",
    "https://registry.redhat.io",
    DiagnosisClass::FirewallTimeout,
    "token"
)]
#[case::dns(
    "network/dns-failure-sso",
    "https://registry.redhat.io",
    DiagnosisClass::DnsFailure,
    "token"
)]
#[case::plain_http(
    "network/http-only-registry-over-https",
    "https://insecure.example.com",
    DiagnosisClass::HttpResponseToHttpsClient,
    "reach-registry"
)]
#[tokio::test(flavor = "multi_thread")]
async fn probe_reproduces_the_scenario_class(
    #[case] name: &str,
    #[case] registry: &str,
    #[case] class: DiagnosisClass,
    #[case] failing_stage: &str,
) {
    let s = scenario(name);
    let with_credentials = !s.spec.world.sso.accounts.is_empty();
    let report = probe_world(&s, registry, with_credentials).await;
    assert_eq!(report.diagnosis, class, "{}", probe::to_human(&report));
    let last = report.stages.last().expect("a stage");
    assert_eq!(last.name, failing_stage, "{}", probe::to_human(&report));
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_reproduces_a_reset() {
    let s = load_str(
        "description: d\nworld:\n  firewall:\n    - {host: registry.access.redhat.com, verdict: {reset: {after_bytes: 0}}}\nsteps:\n  - ping: {registry: registry.access.redhat.com, bearer: none}\n",
        Path::new("inline.yaml"),
        None,
    )
    .unwrap();
    let report = probe_world(&s, "https://registry.access.redhat.com", false).await;
    assert_eq!(
        report.diagnosis,
        DiagnosisClass::ConnectionReset,
        "{}",
        probe::to_human(&report)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_of_an_anonymous_registry_passes_without_credentials() {
    let s = scenario("pull/anonymous-access-registry");
    let report = probe_world(&s, "https://registry.access.redhat.com", false).await;
    assert_eq!(
        report.diagnosis,
        DiagnosisClass::Ok,
        "{}",
        probe::to_human(&report)
    );
    assert_eq!(report.stages.len(), 2, "{}", probe::to_human(&report));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blackhole_costs_the_configured_timeout_not_the_os_one() {
    let s = scenario("network/firewall-drops-sso");
    let timeout = Duration::from_secs(s.spec.world.timeout_secs.expect("the scenario sets it"));
    let report = run_scenario(&s).await;
    assert_eq!(report.status, ScenarioStatus::Passed, "{:?}", report.reason);
    // The blackholed step alone (the world's start-up is not the network's doing).
    let took = Duration::from_millis(report.steps[0].duration_ms);
    assert!(
        took >= timeout,
        "the step ended before its timeout fired: {took:?}"
    );
    assert!(
        took <= timeout + Duration::from_secs(1),
        "the blackholed step took {took:?}, more than {timeout:?} + 1 s"
    );
}
