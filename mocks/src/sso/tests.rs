//! The token endpoint over HTTP, with reqwest.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::*;
use crate::token::{decode_header_unverified, decode_unverified};
use crate::{ResourceActions, TokenVerifier};

const SEED_QUERY: &str = "service=docker-registry&client_id=curl&scope=repository:rhel:pull";
const SEED_401: &str = r#"{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password","detail":[{"type":"repository","name":"rhel","actions":["pull"]}]}]}"#;
const SA: &str = "1234567|ci-puller";
const SA_SECRET: &str = "canary-sa-secret";

struct Reply {
    status: u16,
    body: String,
    content_type: Option<String>,
    www_authenticate: Option<String>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn sso_with(builder: TokenServiceBuilder) -> TokenService {
    builder
        .account(Account::person("jdoe", "canary-pw:with:colons"))
        .account(Account::service_account("1234567", "ci-puller", SA_SECRET))
        .account(Account::person("limited", "canary-limited").entitled_to(["rhel8/*", "ubi9"]))
        .start()
        .await
        .unwrap()
}

async fn sso() -> TokenService {
    sso_with(TokenService::builder()).await
}

async fn send(sso: &TokenService, method: &str, query: &str, user: Option<(&str, &str)>) -> Reply {
    let url = format!("{}?{query}", sso.local_realm_url());
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut req = client.request(method.parse().unwrap(), url);
    if let Some((u, p)) = user {
        req = req.basic_auth(u, Some(p));
    }
    let r = req.send().await.unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let content_type = header("content-type");
    let www_authenticate = header("www-authenticate");
    Reply {
        status: r.status().as_u16(),
        content_type,
        www_authenticate,
        body: r.text().await.unwrap(),
    }
}

async fn get(sso: &TokenService, query: &str, user: Option<(&str, &str)>) -> Reply {
    send(sso, "GET", query, user).await
}

#[tokio::test]
async fn wrong_password_gets_seed_003s_exact_body_and_no_challenge() {
    let sso = sso().await;
    let r = get(&sso, SEED_QUERY, Some(("jdoe", "wrong"))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, SEED_401);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(r.www_authenticate, None);
    // Unknown user: the same answer.
    let r = get(&sso, SEED_QUERY, Some(("nobody", "x"))).await;
    assert_eq!((r.status, r.body.as_str()), (401, SEED_401));
    // Undecodable Basic credentials: the same answer.
    let url = format!("{}?{SEED_QUERY}", sso.local_realm_url());
    let r = reqwest::Client::new()
        .get(url)
        .header("authorization", "Basic !!!not-base64")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), SEED_401);
}

#[tokio::test]
async fn detail_echoes_every_scope_in_request_order_or_nothing() {
    let sso = sso().await;
    let q = "service=docker-registry&scope=repository:b/c:pull&scope=repository:a:pull,push%20registry:catalog:*";
    let r = get(&sso, q, Some(("nobody", "x"))).await;
    assert_eq!(
        r.body,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password","detail":[{"type":"repository","name":"b/c","actions":["pull"]},{"type":"repository","name":"a","actions":["pull","push"]},{"type":"registry","name":"catalog","actions":["*"]}]}]}"#
    );
    let r = get(&sso, "service=docker-registry", Some(("nobody", "x"))).await;
    assert_eq!(
        r.body,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password","detail":[]}]}"#
    );
}

#[tokio::test]
async fn no_credentials_get_the_red_hat_login_message() {
    let sso = sso().await;
    let r = get(&sso, SEED_QUERY, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"errors": [{"code": "UNAUTHORIZED", "message": REDHAT_LOGIN_MESSAGE,
            "detail": [{"type": "repository", "name": "rhel", "actions": ["pull"]}]}]})
    );
    assert_eq!(r.www_authenticate, None);
    // A bearer header is no credentials for the token endpoint.
    let url = format!("{}?{SEED_QUERY}", sso.local_realm_url());
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth("something")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Please login"));
    let log = sso.requests();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|r| r.credentials == Credentials::None && r.outcome == TokenOutcome::NoCredentials));
}

#[tokio::test]
async fn success_body_keys_claims_and_header() {
    let clock = Clock::new();
    let sso = sso_with(TokenService::builder().clock(clock.clone())).await;
    let q = format!("{SEED_QUERY}&account=1234567%7Cci-puller");
    let r = get(&sso, &q, Some((SA, SA_SECRET))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let v = r.json();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["token", "access_token", "expires_in", "issued_at"]);
    assert!(r.body.starts_with(r#"{"token":""#), "compact JSON");
    assert_eq!(v["token"], v["access_token"]);
    assert_eq!(v["expires_in"], 300);
    let token = v["access_token"].as_str().unwrap();

    let claims = TokenVerifier::new(sso.issuer(), "docker-registry", clock.clone())
        .trust(sso.verification_key())
        .verify(token)
        .unwrap();
    assert_eq!(claims.iss, "https://sso.redhat.com/auth/realms/rhcc");
    assert_eq!(claims.aud, "docker-registry");
    assert_eq!(claims.sub, SA);
    assert_eq!(claims.typ, "Bearer");
    assert_eq!(claims.azp, "docker-registry");
    assert_eq!((claims.nbf, claims.exp), (claims.iat, claims.iat + 300));
    assert!((claims.iat - clock.now_unix()).abs() <= 2);
    assert_eq!(claims.access, vec![ResourceActions::pull("rhel")]);
    assert_eq!(
        uuid::Uuid::parse_str(&claims.jti)
            .unwrap()
            .get_version_num(),
        4
    );
    assert_eq!(v["issued_at"], endpoint_issued_at(claims.iat));

    let header = decode_header_unverified(token).unwrap();
    let keys: Vec<&String> = header.keys().collect();
    assert_eq!(keys, ["alg", "typ", "kid", "jwk"]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], sso.key_id());
    assert_eq!(header["jwk"], sso.signing_key().public_jwk());

    // The `account` parameter was URL-decoded; no password was recorded.
    let log = sso.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].account.as_deref(), Some(SA));
    assert_eq!(log[0].credentials.username(), Some(SA));
    assert_eq!(log[0].client_id.as_deref(), Some("curl"));
    assert_eq!(log[0].scopes, ["repository:rhel:pull"]);
    assert_eq!(log[0].outcome.status(), 200);
    assert!(!format!("{log:?}").contains(SA_SECRET));
}

fn endpoint_issued_at(iat: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(iat).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[tokio::test]
async fn clock_lifetime_azp_default_and_colons_in_passwords() {
    let clock = Clock::new();
    let sso = sso_with(
        TokenService::builder()
            .clock(clock.clone())
            .token_lifetime(60),
    )
    .await;
    clock.advance(-86_400);
    let r = get(
        &sso,
        "service=registry.example.com&scope=repository:ubi9/ubi:pull",
        Some(("jdoe", "canary-pw:with:colons")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["expires_in"], 60);
    let claims = decode_unverified(r.json()["token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.aud, "registry.example.com");
    assert_eq!(claims.azp, "registry.example.com");
    assert_eq!(claims.exp - claims.iat, 60);
    assert!((claims.iat - (clock.now_unix())).abs() <= 2);
    assert!(claims.iat < Clock::new().now_unix() - 86_000);
}

#[tokio::test]
async fn entitlements_filter_access_and_push_is_never_granted() {
    let sso = sso().await;
    let q = "service=docker-registry&scope=repository:rhel8/pcp:pull,push&scope=repository:ubi8/ubi:pull&scope=repository:ubi9:push";
    let r = get(&sso, q, Some(("limited", "canary-limited"))).await;
    assert_eq!(r.status, 200);
    let claims = decode_unverified(r.json()["token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.access, vec![ResourceActions::pull("rhel8/pcp")]);
    // Nothing entitled: a token with an empty access list, like the seed's sample.
    let r = get(&sso, SEED_QUERY, Some(("limited", "canary-limited"))).await;
    assert_eq!(r.status, 200);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let payload = token.split('.').nth(1).unwrap();
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(payload["access"], json!([]));
    match &sso.requests()[1].outcome {
        TokenOutcome::Issued { access, .. } => assert!(access.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn regeneration_and_deletion_make_old_credentials_fail() {
    let sso = sso().await;
    assert_eq!(
        get(&sso, SEED_QUERY, Some((SA, SA_SECRET))).await.status,
        200
    );
    let new_secret = sso.regenerate_secret(SA).unwrap();
    assert!(new_secret.len() >= 1000);
    assert_eq!(sso.account_secret(SA).as_deref(), Some(new_secret.as_str()));
    let r = get(&sso, SEED_QUERY, Some((SA, SA_SECRET))).await;
    assert_eq!((r.status, r.body.as_str()), (401, SEED_401));
    assert_eq!(
        get(&sso, SEED_QUERY, Some((SA, &new_secret))).await.status,
        200
    );
    sso.delete_account(SA).unwrap();
    let r = get(&sso, SEED_QUERY, Some((SA, &new_secret))).await;
    assert_eq!((r.status, r.body.as_str()), (401, SEED_401));
    assert!(matches!(
        sso.delete_account(SA),
        Err(SsoError::UnknownAccount(_))
    ));
    assert!(matches!(
        sso.regenerate_secret(SA),
        Err(SsoError::UnknownAccount(_))
    ));
    assert_eq!(sso.account_secret(SA), None);
    // Re-created with a generated token.
    let again = Account::service_account_generated("1234567", "ci-puller");
    let secret = again.secret().to_string();
    sso.add_account(again).unwrap();
    assert!(matches!(
        sso.add_account(Account::person(SA, "x")),
        Err(SsoError::DuplicateAccount(_))
    ));
    assert_eq!(get(&sso, SEED_QUERY, Some((SA, &secret))).await.status, 200);
    let statuses: Vec<u16> = sso.requests().iter().map(|r| r.outcome.status()).collect();
    assert_eq!(statuses, [200, 401, 200, 401, 200]);
}

#[tokio::test]
async fn bad_requests_and_methods() {
    let sso = sso_with(TokenService::builder().services(["docker-registry"])).await;
    let r = get(&sso, "scope=repository:rhel:pull", Some(("jdoe", "x"))).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"error":"invalid_request","error_description":"service parameter must be provided"}"#
    );
    let r = get(&sso, "service=&scope=repository:rhel:pull", None).await;
    assert_eq!(r.status, 400);
    let r = get(&sso, "service=quay.io&scope=repository:rhel:pull", None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_client");
    let r = get(&sso, "service=docker-registry&scope=rhel", None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_scope");
    let r = send(&sso, "POST", SEED_QUERY, Some((SA, SA_SECRET))).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let r = send(&sso, "HEAD", SEED_QUERY, Some((SA, SA_SECRET))).await;
    assert_eq!(r.status, 200);
    let outcomes: Vec<u16> = sso.requests().iter().map(|r| r.outcome.status()).collect();
    assert_eq!(outcomes, [400, 400, 400, 400, 405, 200]);
    // Other paths are not the endpoint.
    let url = format!(
        "{}/auth/realms/other/protocol/redhat-docker-v2/auth",
        sso.uri()
    );
    assert_eq!(reqwest::get(url).await.unwrap().status(), 404);
}

#[tokio::test]
async fn custom_realm_base_and_key() {
    let key = SigningKey::generate("regharness injected signer").unwrap();
    let kid = key.key_id().to_string();
    let sso = TokenService::builder()
        .realm("stage")
        .public_base_url("https://sso.stage.redhat.com/")
        .signing_key(key)
        .account(Account::person("u", "p"))
        .start()
        .await
        .unwrap();
    assert_eq!(sso.realm(), "stage");
    assert_eq!(
        sso.issuer(),
        "https://sso.stage.redhat.com/auth/realms/stage"
    );
    assert_eq!(
        sso.token_path(),
        "/auth/realms/stage/protocol/redhat-docker-v2/auth"
    );
    assert_eq!(
        sso.realm_url(),
        "https://sso.stage.redhat.com/auth/realms/stage/protocol/redhat-docker-v2/auth"
    );
    assert_eq!(sso.key_id(), kid);
    assert_eq!(sso.verification_key().key_id(), kid);
    assert!(sso.signing_certificate_pem().contains("BEGIN CERTIFICATE"));
    assert_eq!(sso.addr().ip().to_string(), "127.0.0.1");
    let r = get(&sso, SEED_QUERY, Some(("u", "p"))).await;
    assert_eq!(r.status, 200);
    let claims = decode_unverified(r.json()["token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.iss, sso.issuer());
    assert!(matches!(
        TokenService::builder()
            .account(Account::person("u", "a"))
            .account(Account::person("u", "b"))
            .start()
            .await,
        Err(SsoError::DuplicateAccount(u)) if u == "u"
    ));
}

#[tokio::test]
async fn fault_stubs_mounted_over_the_endpoint_win() {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    let sso = sso().await;
    Mock::given(path(sso.token_path()))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
        .with_priority(ENDPOINT_PRIORITY - 1)
        .up_to_n_times(1)
        .mount(sso.mock_server())
        .await;
    let r = get(&sso, SEED_QUERY, Some((SA, SA_SECRET))).await;
    assert_eq!((r.status, r.body.as_str()), (503, "<html>down</html>"));
    assert_eq!(
        get(&sso, SEED_QUERY, Some((SA, SA_SECRET))).await.status,
        200
    );
    assert_eq!(sso.requests().len(), 1);
}
