//! A real CNCF distribution registry (Debian's `docker-registry`, `serve CONFIG`) with
//! token auth whose `rootcertbundle` is the mock SSO's signing certificate accepts the
//! SSO's tokens and refuses the others.
//!
//! Every trial starts its own SSO and registry (127.0.0.1, free ports, a temporary
//! directory) and kills the registry when it ends, however it ends. Every wait is
//! bounded. Without the program the trials are reported as ignored, the reason on
//! stderr; with `REGHARNESS_REQUIRE_EXTERNAL=1` a missing program fails them.
//! `REGHARNESS_DOCKER_REGISTRY=/path/to/registry` picks another binary.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use regharness_mocks::distribution::{Distribution, PROGRAM, SERVICE};
use regharness_mocks::{Account, Clock, ResourceActions, SigningKey, TokenClaims, TokenService};
use serde_json::{json, Value};

const USER: &str = "1234567|ci-puller";
const SECRET: &str = "canary-distribution-secret";
/// Any one HTTP exchange.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole trial, start-up included.
const TRIAL_TIMEOUT: Duration = Duration::from_secs(60);

type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
type Check = for<'a> fn(&'a Fixture) -> CheckFuture<'a>;

fn checks() -> Vec<(&'static str, Check)> {
    vec![
        ("distribution/challenge_names_the_sso", |f| {
            Box::pin(challenge_names_the_sso(f))
        }),
        ("distribution/accepts_sso_token", |f| {
            Box::pin(accepts_sso_token(f))
        }),
        ("distribution/rejects_untrusted_key", |f| {
            Box::pin(rejects_untrusted_key(f))
        }),
        ("distribution/accepts_kid_only_and_jwk_only_headers", |f| {
            Box::pin(accepts_kid_only_and_jwk_only_headers(f))
        }),
        ("distribution/rejects_jwk_with_foreign_kid", |f| {
            Box::pin(rejects_jwk_with_foreign_kid(f))
        }),
        ("distribution/rejects_expired_token", |f| {
            Box::pin(rejects_expired_token(f))
        }),
    ]
}

fn main() {
    let args = Arguments::from_args();
    let required = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
    let program = Distribution::find_program();
    if program.is_none() && !required {
        eprintln!("{PROGRAM} not installed: apt-get install docker-registry (distribution trials ignored)");
    }
    let trials = checks()
        .into_iter()
        .map(|(name, check)| {
            let program = program.clone();
            let ignored = program.is_none() && !required;
            let trial = Trial::test(name, move || match program {
                Some(program) => run_trial(&program, check),
                None => Err(format!(
                    "{PROGRAM} not installed: apt-get install docker-registry \
                     (required: REGHARNESS_REQUIRE_EXTERNAL=1)"
                )
                .into()),
            });
            trial.with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_trial(program: &Path, check: Check) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let fixture = Fixture::start(program).await?;
        let outcome = tokio::time::timeout(TRIAL_TIMEOUT, check(&fixture))
            .await
            .unwrap_or_else(|_| Err(format!("the trial took longer than {TRIAL_TIMEOUT:?}")));
        outcome.map_err(|e| Failed::from(fixture.with_log(&e)))
    })
}

/// One world: the mock SSO, a registry trusting it, an HTTP client.
struct Fixture {
    sso: TokenService,
    sso_clock: Clock,
    addr: SocketAddr,
    http: reqwest::Client,
    registry: Distribution,
}

/// What a GET answered.
struct Answer {
    status: u16,
    challenge: Option<String>,
    body: String,
}

impl Fixture {
    async fn start(program: &Path) -> Result<Self, String> {
        let sso_clock = Clock::new();
        let sso = TokenService::builder()
            .clock(sso_clock.clone())
            .account(Account::service_account("1234567", "ci-puller", SECRET).entitled_to(["rhel"]))
            .start()
            .await
            .map_err(|e| format!("mock SSO: {e}"))?;
        let registry = Distribution::start(program, &sso)
            .await
            .map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            sso,
            sso_clock,
            addr: registry.addr(),
            http,
            registry,
        })
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<Answer, String> {
        let mut req = self.http.get(format!("http://{}{path}", self.addr));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = r.status().as_u16();
        let challenge = r
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = r.text().await.map_err(|e| format!("GET {path}: {e}"))?;
        Ok(Answer {
            status,
            challenge,
            body,
        })
    }

    /// A token from `realm` (the URL a challenge named) for `service` and `scope`.
    async fn token(&self, realm: &str, service: &str, scope: &str) -> Result<String, String> {
        let mut url = url::Url::parse(realm).map_err(|e| format!("realm {realm:?}: {e}"))?;
        url.query_pairs_mut()
            .append_pair("service", service)
            .append_pair("client_id", "regharness")
            .append_pair("scope", scope)
            .append_pair("account", USER);
        let r = self
            .http
            .get(url)
            .basic_auth(USER, Some(SECRET))
            .send()
            .await
            .map_err(|e| format!("token request: {e}"))?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.map_err(|e| format!("token response: {e}"))?;
        match body["access_token"].as_str() {
            Some(token) if status == 200 => Ok(token.to_string()),
            _ => Err(format!("token request answered {status} {body}")),
        }
    }

    async fn sso_token(&self) -> Result<String, String> {
        self.token(&self.sso.local_realm_url(), SERVICE, "repository:rhel:pull")
            .await
    }

    /// Claims the SSO would issue for `repository:rhel:pull`.
    fn claims(&self) -> TokenClaims {
        let now = Clock::new().now_unix();
        TokenClaims {
            jti: uuid::Uuid::new_v4().to_string(),
            exp: now + 300,
            nbf: now,
            iat: now,
            iss: self.sso.issuer(),
            aud: SERVICE.into(),
            sub: USER.into(),
            typ: "Bearer".into(),
            azp: "regharness".into(),
            access: vec![ResourceActions::pull("rhel")],
        }
    }

    fn with_log(&self, message: &str) -> String {
        format!(
            "{message}\nregistry log (tail):\n{}",
            self.registry.log_tail()
        )
    }
}

/// The parameters of a `Bearer k="v",k="v"` challenge.
fn challenge_params(challenge: &str) -> Result<Vec<(String, String)>, String> {
    let rest = challenge
        .strip_prefix("Bearer ")
        .ok_or_else(|| format!("not a Bearer challenge: {challenge:?}"))?;
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            // Skip to the next ','.
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.push((key.trim().to_string(), value));
    }
    Ok(params)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn expect_status(what: &str, answer: &Answer, status: u16) -> Result<(), String> {
    if answer.status == status {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {status}, got {} (challenge {:?}, body {})",
            answer.status, answer.challenge, answer.body
        ))
    }
}

/// A refused token: 401 with `error="invalid_token"`.
fn expect_invalid_token(what: &str, answer: &Answer) -> Result<(), String> {
    expect_status(what, answer, 401)?;
    let params = challenge_params(answer.challenge.as_deref().unwrap_or_default())?;
    match param(&params, "error") {
        Some("invalid_token") => Ok(()),
        other => Err(format!(
            "{what}: expected error=\"invalid_token\", got {other:?}"
        )),
    }
}

async fn challenge_names_the_sso(f: &Fixture) -> Result<(), String> {
    let answer = f.get("/v2/", None).await?;
    expect_status("GET /v2/ without a token", &answer, 401)?;
    let challenge = answer
        .challenge
        .as_deref()
        .ok_or("GET /v2/ without a token: no WWW-Authenticate")?;
    let params = challenge_params(challenge)?;
    let realm = f.sso.local_realm_url();
    if param(&params, "realm") != Some(realm.as_str()) || param(&params, "service") != Some(SERVICE)
    {
        return Err(format!(
            "challenge {challenge:?} does not name realm {realm:?} and service {SERVICE:?}"
        ));
    }
    if !answer.body.contains("UNAUTHORIZED") {
        return Err(format!("401 body without UNAUTHORIZED: {}", answer.body));
    }
    Ok(())
}

async fn accepts_sso_token(f: &Fixture) -> Result<(), String> {
    // Follow the challenge of a repository request, as a client does.
    let answer = f.get("/v2/rhel/tags/list", None).await?;
    expect_status("GET /v2/rhel/tags/list without a token", &answer, 401)?;
    let params = challenge_params(answer.challenge.as_deref().unwrap_or_default())?;
    let (Some(realm), Some(service), Some(scope)) = (
        param(&params, "realm"),
        param(&params, "service"),
        param(&params, "scope"),
    ) else {
        return Err(format!("incomplete challenge {:?}", answer.challenge));
    };
    if scope != "repository:rhel:pull" {
        return Err(format!("challenge scope {scope:?}"));
    }
    let token = f.token(realm, service, scope).await?;

    let answer = f.get("/v2/", Some(&token)).await?;
    expect_status("GET /v2/ with the SSO's token", &answer, 200)?;
    let body: Value = serde_json::from_str(&answer.body)
        .map_err(|e| format!("GET /v2/ body {:?}: {e}", answer.body))?;
    if body != json!({}) {
        return Err(format!("GET /v2/ answered {body}, expected {{}}"));
    }
    // Authorised for rhel (the repository does not exist: 404 NAME_UNKNOWN).
    let answer = f.get("/v2/rhel/tags/list", Some(&token)).await?;
    expect_status("GET /v2/rhel/tags/list with a rhel token", &answer, 404)?;
    if !answer.body.contains("NAME_UNKNOWN") {
        return Err(format!("expected NAME_UNKNOWN, got {}", answer.body));
    }
    // Not for another repository.
    let answer = f.get("/v2/ubi8/ubi/tags/list", Some(&token)).await?;
    expect_status("GET /v2/ubi8/ubi/tags/list with a rhel token", &answer, 401)?;
    let params = challenge_params(answer.challenge.as_deref().unwrap_or_default())?;
    if param(&params, "error") != Some("insufficient_scope") {
        return Err(format!(
            "expected insufficient_scope, got {:?}",
            answer.challenge
        ));
    }
    Ok(())
}

async fn rejects_untrusted_key(f: &Fixture) -> Result<(), String> {
    let stranger = SigningKey::generate("regharness untrusted signer (distribution test)")
        .map_err(|e| e.to_string())?;
    let forged = stranger.sign(&f.claims()).map_err(|e| e.to_string())?;
    let answer = f.get("/v2/", Some(&forged)).await?;
    expect_invalid_token("a token of an untrusted key (kid + jwk)", &answer)?;
    // Control: the SSO's own key, same claims.
    let genuine = f
        .sso
        .signing_key()
        .sign(&f.claims())
        .map_err(|e| e.to_string())?;
    expect_status(
        "the same claims signed by the SSO",
        &f.get("/v2/", Some(&genuine)).await?,
        200,
    )
}

async fn accepts_kid_only_and_jwk_only_headers(f: &Fixture) -> Result<(), String> {
    let key = f.sso.signing_key();
    let kid_only = json!({"alg": "RS256", "typ": "JWT", "kid": key.key_id()});
    let token = key
        .sign_with_header(&kid_only, &f.claims())
        .map_err(|e| e.to_string())?;
    expect_status(
        "a kid-only token (kid = libtrust ID of the bundle's key)",
        &f.get("/v2/", Some(&token)).await?,
        200,
    )?;
    let jwk_only = json!({"alg": "RS256", "typ": "JWT", "jwk": key.public_jwk()});
    let token = key
        .sign_with_header(&jwk_only, &f.claims())
        .map_err(|e| e.to_string())?;
    expect_status("a jwk-only token", &f.get("/v2/", Some(&token)).await?, 200)
}

async fn rejects_jwk_with_foreign_kid(f: &Fixture) -> Result<(), String> {
    let key = f.sso.signing_key();
    let other = SigningKey::generate("regharness other signer (distribution test)")
        .map_err(|e| e.to_string())?;
    // Control: the genuine jwk header.
    let genuine = key.sign(&f.claims()).map_err(|e| e.to_string())?;
    expect_status(
        "the SSO's kid + jwk header",
        &f.get("/v2/", Some(&genuine)).await?,
        200,
    )?;
    let mut jwk = key.public_jwk();
    jwk["kid"] = json!(other.key_id());
    let header = json!({"alg": "RS256", "typ": "JWT", "jwk": jwk});
    let token = key
        .sign_with_header(&header, &f.claims())
        .map_err(|e| e.to_string())?;
    expect_invalid_token(
        "a jwk whose kid is not its key's libtrust ID",
        &f.get("/v2/", Some(&token)).await?,
    )
}

async fn rejects_expired_token(f: &Fixture) -> Result<(), String> {
    // Control: a fresh token.
    let fresh = f.sso_token().await?;
    expect_status("a fresh token", &f.get("/v2/", Some(&fresh)).await?, 200)?;
    // Issued two hours ago by the SSO's clock; distribution allows 60 s of skew.
    f.sso_clock.advance(-7200);
    let expired = f.sso_token().await;
    f.sso_clock.advance(7200);
    let answer = f.get("/v2/", Some(&expired?)).await?;
    expect_invalid_token("an expired token", &answer)
}
