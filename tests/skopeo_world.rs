//! The real skopeo against running worlds, through a `WorldExposure`: the groundwork of
//! a skopeo differential test. Each test starts a world from a small inline scenario
//! (the way the runner does: `load_str`, then `World::start`), runs `skopeo copy`, and
//! checks skopeo's outcome and the harness's class for skopeo's own failure text.
//!
//! Without skopeo each test prints `skipped: skopeo not installed` and passes, unless
//! `REGHARNESS_REQUIRE_EXTERNAL=1`, which makes it fail.

use std::path::{Path, PathBuf};
use std::time::Duration;

use regharness::client::skopeo::classify::HTTP_TO_HTTPS;
use regharness::client::skopeo::{Skopeo, SkopeoCopy, SkopeoRun};
use regharness::diagnosis::DiagnosisClass;
use regharness::redact::SecretSet;
use regharness::scenario::load_str;
use regharness::world::exposure::WorldExposure;
use regharness::world::World;

const ACCOUNT: &str = "1234567|ci-puller";
const WRONG_PASSWORD: &str = "canary-skopeo-wrong-pw-7d7d";

/// The Red Hat registries, one service account, and a plain-HTTP registry.
const REDHAT_WORLD: &str = r#"
description: skopeo against the Red Hat registries and an HTTP-only one
world:
  sso:
    accounts:
      - service_account: "1234567|ci-puller"
  registries:
    - host: registry.redhat.io
    - host: registry.access.redhat.com
    - host: insecure.example.com
      auth: anonymous
      images: ["team/app:1.0"]
      plain_http: true
steps:
  - ping: {registry: registry.access.redhat.com}
"#;

/// skopeo, or `None` after printing why the test is skipped.
fn skopeo() -> Option<Skopeo> {
    if let Some(skopeo) = Skopeo::find() {
        return Some(skopeo);
    }
    if std::env::var("REGHARNESS_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
        panic!("skopeo not installed and REGHARNESS_REQUIRE_EXTERNAL=1");
    }
    println!("skipped: skopeo not installed");
    None
}

/// A running world, its exposure, and a folder for the files a test writes.
struct Running {
    world: World,
    exposure: WorldExposure,
    dir: tempfile::TempDir,
}

impl Running {
    async fn start(scenario: &str) -> Self {
        let scenario = load_str(scenario, Path::new("skopeo_world.yaml"), None).expect("scenario");
        let world = World::start(&scenario.spec.world, SecretSet::default())
            .await
            .expect("world");
        let dir = tempfile::tempdir().expect("tempdir");
        let exposure = WorldExposure::start(&world, &dir.path().join("exposure"))
            .await
            .expect("exposure");
        Self {
            world,
            exposure,
            dir,
        }
    }

    fn copy(&self, image: &str) -> SkopeoCopy<'_> {
        SkopeoCopy::new(image, &self.exposure).timeout(Duration::from_secs(60))
    }

    /// Writes `text` as `name` in the test's folder.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn password(&self, account: &str) -> String {
        self.world
            .accounts()
            .find(account)
            .expect("account")
            .current_secret()
            .to_string()
    }

    /// The requests the exposure's proxy saw, as `request -> status`.
    fn proxied(&self) -> Vec<String> {
        self.exposure
            .proxy_events()
            .into_iter()
            .map(|e| format!("{} -> {}", e.request, e.status))
            .collect()
    }
}

/// Prints the run (visible with `--nocapture`) and returns skopeo's error message.
fn show(name: &str, run: &SkopeoRun) -> String {
    println!(
        "[{name}] skopeo {}\n  exit {:?}, timed out {}\n  stderr: {}",
        run.args.join(" "),
        run.exit_code,
        run.timed_out,
        run.stderr.trim()
    );
    run.failure().map(|f| f.message).unwrap_or_default()
}

fn assert_failed_as(run: &SkopeoRun, class: DiagnosisClass, message_contains: &str) {
    let failure = run.failure().expect("the copy should have failed");
    assert_eq!(failure.class, class, "{}", run.stderr);
    assert!(
        failure.message.contains(message_contains),
        "{:?} does not contain {message_contains:?}",
        failure.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_pull_from_registry_access_redhat_com() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let run = skopeo
        .copy(&w.copy("registry.access.redhat.com/rhel8/pcp:latest"))
        .await;
    show("anonymous", &run);
    assert!(run.succeeded(), "{}", run.stderr);
    assert_eq!(run.diagnosis_class(), None);
    assert!(run.args.contains(&"--src-no-creds".to_string()));
    // It went through the exposure, to the world's registry.
    assert!(w
        .proxied()
        .iter()
        .any(|r| r == "CONNECT registry.access.redhat.com:443 HTTP/1.1 -> 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_redhat_io_with_the_accounts_credentials() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let password = w.password(ACCOUNT);
    let run = skopeo
        .copy(
            &w.copy("registry.redhat.io/rhel8/pcp:latest")
                .creds(ACCOUNT, &password),
        )
        .await;
    show("creds", &run);
    assert!(run.succeeded(), "{}", run.stderr);
    assert!(run.args.contains(&format!("{ACCOUNT}:<redacted>")));
    assert!(!run.args.iter().any(|a| a.contains(&password)));
    // The token came from the world's SSO.
    assert!(w
        .proxied()
        .iter()
        .any(|r| r == &format!("CONNECT {}:443 HTTP/1.1 -> 200", w.world.sso_host())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_redhat_io_with_an_auth_file() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    use base64::Engine;
    let auth = |password: &str| {
        let pair = format!("{ACCOUNT}:{password}");
        let auth = base64::engine::general_purpose::STANDARD.encode(pair);
        format!(r#"{{"auths": {{"registry.redhat.io": {{"auth": "{auth}"}}}}}}"#)
    };
    let image = "registry.redhat.io/rhel8/pcp:latest";

    let good = w.file("good-auth.json", &auth(&w.password(ACCOUNT)));
    let run = skopeo.copy(&w.copy(image).auth_file(&good)).await;
    show("auth file", &run);
    assert!(run.succeeded(), "{}", run.stderr);
    assert!(!run.args.iter().any(|a| a.starts_with("--src-")));

    let bad = w.file("bad-auth.json", &auth(WRONG_PASSWORD));
    let run = skopeo.copy(&w.copy(image).auth_file(&bad)).await;
    show("auth file, wrong password", &run);
    assert!(run.credentials_sent);
    assert_failed_as(
        &run,
        DiagnosisClass::CredentialsRejected,
        "invalid username/password",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_redhat_io_with_a_wrong_password_is_credentials_rejected() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let run = skopeo
        .copy(
            &w.copy("registry.redhat.io/rhel8/pcp:latest")
                .creds(ACCOUNT, WRONG_PASSWORD),
        )
        .await;
    show("wrong password", &run);
    assert_failed_as(
        &run,
        DiagnosisClass::CredentialsRejected,
        "unable to retrieve auth token: invalid username/password: unauthorized",
    );
    assert!(!run.args.iter().any(|a| a.contains(WRONG_PASSWORD)));
    assert!(!run.stderr.contains(WRONG_PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_redhat_io_without_credentials_is_authentication_required() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let run = skopeo
        .copy(&w.copy("registry.redhat.io/rhel8/pcp:latest"))
        .await;
    show("no credentials", &run);
    assert_failed_as(
        &run,
        DiagnosisClass::AuthenticationRequired,
        "Please login to the Red Hat Registry",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tag_and_an_unknown_repository_are_not_found() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let tag = skopeo
        .copy(&w.copy("registry.access.redhat.com/rhel8/pcp:no-such-tag"))
        .await;
    show("unknown tag", &tag);
    assert_failed_as(&tag, DiagnosisClass::NotFound, "manifest unknown");
    let repo = skopeo
        .copy(&w.copy("registry.access.redhat.com/no/such-repo:latest"))
        .await;
    show("unknown repository", &repo);
    assert_eq!(
        repo.diagnosis_class(),
        Some(DiagnosisClass::NotFound),
        "{}",
        repo.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_registry_needs_insecure_in_registries_conf() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let image = "insecure.example.com/team/app:1.0";

    let secure = w.file("secure.conf", "unqualified-search-registries = []\n");
    let run = skopeo.copy(&w.copy(image).registries_conf(&secure)).await;
    show("plain http, not insecure", &run);
    assert_failed_as(
        &run,
        DiagnosisClass::InsecureRegistryNotConfigured,
        HTTP_TO_HTTPS,
    );
    assert_eq!(run.failure().map(|f| f.matched), Some(HTTP_TO_HTTPS));

    let insecure = w.file(
        "insecure.conf",
        "[[registry]]\nlocation = \"insecure.example.com\"\ninsecure = true\n",
    );
    let run = skopeo.copy(&w.copy(image).registries_conf(&insecure)).await;
    show("plain http, insecure", &run);
    assert!(run.succeeded(), "{}", run.stderr);
    // HTTPS first, then plain HTTP in absolute form through the proxy.
    let proxied = w.proxied();
    assert!(
        proxied
            .iter()
            .any(|r| r == "GET http://insecure.example.com/v2/ HTTP/1.1 -> 200"),
        "{proxied:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_with_default_reject_refuses_the_image() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let image = "registry.access.redhat.com/rhel8/pcp:latest";
    let reject = w.file("reject.json", r#"{"default": [{"type": "reject"}]}"#);
    let run = skopeo.copy(&w.copy(image).policy(&reject)).await;
    show("policy reject", &run);
    assert_failed_as(
        &run,
        DiagnosisClass::RejectedByPolicy,
        "Running image docker://registry.access.redhat.com/rhel8/pcp:latest is rejected by policy.",
    );

    // The same policy with the registry accepted: the file is what decides.
    let allowed = w.file(
        "allowed.json",
        r#"{"default": [{"type": "reject"}],
            "transports": {"docker": {"registry.access.redhat.com": [{"type": "insecureAcceptAnything"}]}}}"#,
    );
    let run = skopeo.copy(&w.copy(image).policy(&allowed)).await;
    show("policy allows the registry", &run);
    assert!(run.succeeded(), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_registry_is_refused_before_any_connection() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let blocked = w.file(
        "blocked.conf",
        "[[registry]]\nlocation = \"registry.access.redhat.com\"\nblocked = true\n",
    );
    let run = skopeo
        .copy(
            &w.copy("registry.access.redhat.com/rhel8/pcp:latest")
                .registries_conf(&blocked),
        )
        .await;
    show("blocked", &run);
    assert_failed_as(
        &run,
        DiagnosisClass::BlockedByRegistriesConf,
        "registry registry.access.redhat.com is blocked in",
    );
    assert_eq!(w.proxied(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_ca_fails_and_the_cert_dir_fixes_it() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(REDHAT_WORLD).await;
    let other = regharness_mocks::CertificateAuthority::generate("Some Other CA").expect("CA");
    let other_ca = w.file("other-ca.pem", other.certificate_pem());
    let image = "registry.access.redhat.com/rhel8/pcp:latest";
    let untrusted = || {
        w.copy(image)
            .env("SSL_CERT_FILE", &other_ca.display().to_string())
            // Only this CA: the system directories must not matter either.
            .env("SSL_CERT_DIR", &w.dir.path().display().to_string())
    };

    let run = skopeo.copy(&untrusted()).await;
    show("untrusted CA", &run);
    assert_failed_as(
        &run,
        DiagnosisClass::UntrustedCa,
        "x509: certificate signed by unknown authority",
    );

    let run = skopeo
        .copy(&untrusted().cert_dir(w.exposure.cert_dir().join("registry.access.redhat.com")))
        .await;
    show("CA in --src-cert-dir", &run);
    assert!(run.succeeded(), "{}", run.stderr);
}

/// A world whose customer proxy is described by `proxy` (YAML flow mapping).
fn proxy_world(proxy: &str) -> String {
    format!(
        r#"
description: skopeo through the customer's proxy
world:
  registries:
    - host: registry.access.redhat.com
  proxy: {proxy}
steps:
  - ping: {{registry: registry.access.redhat.com}}
"#
    )
}

/// Copies through the world's own proxy instead of the exposure's.
async fn through_customer_proxy(skopeo: &Skopeo, w: &Running, name: &str) -> SkopeoRun {
    let proxy = w.world.proxy().expect("the world has a proxy");
    let url = format!("http://{}", proxy.address);
    let run = skopeo
        .copy(
            &w.copy("registry.access.redhat.com/rhel8/pcp:latest")
                .env("HTTPS_PROXY", &url)
                .env("https_proxy", &url)
                .timeout(Duration::from_secs(30)),
        )
        .await;
    show(name, &run);
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_denies_the_host_is_proxy_denied_host() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(&proxy_world("{allow: [sso.redhat.com]}")).await;
    let run = through_customer_proxy(&skopeo, &w, "proxy 403").await;
    assert_failed_as(
        &run,
        DiagnosisClass::ProxyDeniedHost,
        "Get \"https://registry.access.redhat.com/v2/\": Forbidden",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_wants_credentials_is_proxy_auth_required() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(&proxy_world(
        "{auth: {username: proxyuser, password: canary-skopeo-proxy-pw-1b1b}}",
    ))
    .await;
    let run = through_customer_proxy(&skopeo, &w, "proxy 407").await;
    assert_failed_as(
        &run,
        DiagnosisClass::ProxyAuthRequired,
        "Proxy Authentication Required",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_is_down_is_proxy_unreachable() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(&proxy_world("{down: true}")).await;
    let run = through_customer_proxy(&skopeo, &w, "proxy down").await;
    assert_failed_as(
        &run,
        DiagnosisClass::ProxyUnreachable,
        "proxyconnect tcp: dial tcp 127.0.0.1:",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_cannot_open_the_tunnel_is_proxy_tunnel_failed() {
    let Some(skopeo) = skopeo() else { return };
    for (status, phrase) in [
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
    ] {
        let w = Running::start(&proxy_world(&format!(
            "{{fail: [{{host: registry.access.redhat.com, with: {status}}}]}}"
        )))
        .await;
        let run = through_customer_proxy(&skopeo, &w, &format!("proxy {status}")).await;
        assert_failed_as(
            &run,
            DiagnosisClass::ProxyTunnelFailed,
            &format!("Get \"https://registry.access.redhat.com/v2/\": {phrase}"),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_proxy_does_not_hang_the_run() {
    let Some(skopeo) = skopeo() else { return };
    let w = Running::start(&proxy_world("{fail: [{host: \"*\", with: stall}]}")).await;
    let proxy = w.world.proxy().expect("proxy");
    let url = format!("http://{}", proxy.address);
    let started = std::time::Instant::now();
    let run = skopeo
        .copy(
            &w.copy("registry.access.redhat.com/rhel8/pcp:latest")
                .env("HTTPS_PROXY", &url)
                .timeout(Duration::from_secs(2)),
        )
        .await;
    show("stalled proxy", &run);
    assert!(run.timed_out);
    assert_eq!(run.exit_code, None);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(run.diagnosis_class(), Some(DiagnosisClass::Network));
}
