//! A real CNCF distribution registry (Debian's `docker-registry`) configured with token
//! auth and the mock SSO's exported signing certificate accepts the SSO's tokens, and
//! refuses tokens of another key, expired tokens and tokens for another repository.
//!
//! Without the program the test is reported as ignored (with the reason on stderr);
//! with `REGHARNESS_REQUIRE_EXTERNAL=1` (CI) a missing program is a failure.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use regharness_mocks::{Account, Clock, SigningKey, TokenClaims, TokenService};

const PROGRAM: &str = "docker-registry";
const SERVICE: &str = "docker-registry";

fn main() {
    let args = Arguments::from_args();
    let program = find_program(PROGRAM);
    let required = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
    let trial = match program {
        Some(path) => Trial::test("distribution_accepts_mock_sso_tokens", move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(run(&path))
        }),
        None if required => Trial::test("distribution_accepts_mock_sso_tokens", || {
            Err(format!("{PROGRAM} is not installed and REGHARNESS_REQUIRE_EXTERNAL=1: apt-get install docker-registry").into())
        }),
        None => {
            eprintln!("skipped: distribution_accepts_mock_sso_tokens: {PROGRAM} not installed (apt-get install docker-registry)");
            Trial::test("distribution_accepts_mock_sso_tokens", || Ok(())).with_ignored_flag(true)
        }
    };
    libtest_mimic::run(&args, vec![trial]).exit();
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Kills the registry when the test ends, however it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, Failed> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

async fn run(program: &Path) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sso_clock = Clock::new();
    let sso = TokenService::builder()
        .clock(sso_clock.clone())
        .account(
            Account::service_account("1234567", "ci-puller", "canary-distribution-token")
                .entitled_to(["rhel"]),
        )
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let bundle = dir.path().join("sso-signing.pem");
    std::fs::write(&bundle, sso.signing_certificate_pem()).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: {addr}\n  secret: regharness-test\nauth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {issuer}\n    rootcertbundle: {bundle}\n",
            root = dir.path().join("data").display(),
            realm = sso.realm_url(),
            issuer = sso.issuer(),
            bundle = bundle.display(),
        ),
    )
    .map_err(|e| e.to_string())?;
    let log = dir.path().join("registry.log");
    let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let child = Command::new(program)
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::from(
            log_file.try_clone().map_err(|e| e.to_string())?,
        ))
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let mut guard = ChildGuard(child);

    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = guard.0.try_wait() {
            return Err(format!("{PROGRAM} exited with {status}:\n{}", log_tail(&log)).into());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{PROGRAM} did not listen on {addr} within 15 s:\n{}",
                log_tail(&log)
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let token_for = |scope: &'static str| {
        let http = http.clone();
        let url = format!(
            "{}{}?service={SERVICE}&client_id=curl&scope={scope}",
            sso.uri(),
            sso.token_path()
        );
        async move {
            let r = http
                .get(url)
                .basic_auth("1234567|ci-puller", Some("canary-distribution-token"))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
            body["access_token"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("no token in {body}"))
        }
    };
    let base = format!("http://{addr}");
    // GET `path`, expect `status` and a challenge containing `challenge_has`.
    let expect = |what: &'static str,
                  path: &'static str,
                  token: Option<String>,
                  status: u16,
                  challenge_has: String| {
        let req = http.get(format!("{base}{path}"));
        let req = match &token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let log = log.clone();
        async move {
            let r = req.send().await.map_err(|e| e.to_string())?;
            let challenge = r
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if r.status() != status || !challenge.contains(&challenge_has) {
                return Err(Failed::from(format!(
                    "{what}: expected {status} with a challenge containing {challenge_has:?}, got {} {challenge:?}\nregistry log:\n{}",
                    r.status(),
                    log_tail(&log)
                )));
            }
            Ok(())
        }
    };

    expect(
        "no token: a challenge naming the mock SSO",
        "/v2/",
        None,
        401,
        sso.realm_url(),
    )
    .await?;
    let token = token_for("repository:rhel:pull").await?;
    expect(
        "the mock SSO's token",
        "/v2/",
        Some(token.clone()),
        200,
        String::new(),
    )
    .await?;
    // 404 NAME_UNKNOWN: no such repository yet, but the access claim authorised it.
    expect(
        "rhel with a rhel token",
        "/v2/rhel/tags/list",
        Some(token.clone()),
        404,
        String::new(),
    )
    .await?;
    expect(
        "another repository",
        "/v2/ubi8/ubi/tags/list",
        Some(token),
        401,
        "insufficient_scope".into(),
    )
    .await?;

    // A token signed by another key is refused.
    let now = Clock::new().now_unix();
    let stranger =
        SigningKey::generate("regharness untrusted signer").map_err(|e| e.to_string())?;
    let forged = stranger
        .sign(&TokenClaims {
            jti: "forged".into(),
            exp: now + 300,
            nbf: now,
            iat: now,
            iss: sso.issuer(),
            aud: SERVICE.into(),
            sub: "1234567|ci-puller".into(),
            typ: "Bearer".into(),
            azp: "curl".into(),
            access: vec![regharness_mocks::ResourceActions::pull("rhel")],
        })
        .map_err(|e| e.to_string())?;
    expect(
        "a token of an untrusted key",
        "/v2/",
        Some(forged),
        401,
        String::new(),
    )
    .await?;

    // An expired token: issued while the SSO's clock was two hours behind.
    sso_clock.advance(-7200);
    let expired = token_for("repository:rhel:pull").await?;
    sso_clock.advance(7200);
    expect(
        "an expired token",
        "/v2/",
        Some(expired),
        401,
        String::new(),
    )
    .await?;
    drop(guard);
    Ok(())
}
