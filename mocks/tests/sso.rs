//! The mock SSO's token endpoint: seed 003's exact bodies, scopes, accounts.

use regharness_mocks::token::decode_unverified;
use regharness_mocks::{Account, Clock, TokenService, TokenVerifier};

async fn sso() -> TokenService {
    TokenService::builder()
        .account(Account::person("myrhusername", "canary-pw"))
        .account(Account::service_account(
            "1234567",
            "ci-puller",
            "canary-sa-token",
        ))
        .account(Account::person("limited", "canary-limited").entitled_to(["rhel8/*"]))
        .start()
        .await
        .unwrap()
}

async fn get(
    sso: &TokenService,
    query: &str,
    user: Option<(&str, &str)>,
) -> (u16, String, Option<String>) {
    let url = format!("{}{}?{query}", sso.uri(), sso.token_path());
    let mut req = reqwest::Client::new().get(url);
    if let Some((u, p)) = user {
        req = req.basic_auth(u, Some(p));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.text().await.unwrap(), ct)
}

const SEED_QUERY: &str = "service=docker-registry&client_id=curl&scope=repository:rhel:pull";

#[tokio::test]
async fn wrong_password_gets_seed_003s_exact_body() {
    let sso = sso().await;
    let (status, body, ct) = get(&sso, SEED_QUERY, Some(("myrhusername", "wrong"))).await;
    assert_eq!(status, 401);
    assert_eq!(ct.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password","detail":[{"type":"repository","name":"rhel","actions":["pull"]}]}]}"#
    );
}

#[tokio::test]
async fn detail_echoes_every_scope_in_order() {
    let sso = sso().await;
    let q = "service=docker-registry&scope=repository:b/c:pull&scope=repository:a:pull,push";
    let (status, body, _) = get(&sso, q, Some(("nobody", "x"))).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"Invalid username or password","detail":[{"type":"repository","name":"b/c","actions":["pull"]},{"type":"repository","name":"a","actions":["pull","push"]}]}]}"#
    );
}

#[tokio::test]
async fn success_has_seed_003s_keys_and_a_verifiable_token() {
    let sso = sso().await;
    let q = format!("{SEED_QUERY}&account=1234567%7Cci-puller");
    let (status, body, _) = get(&sso, &q, Some(("1234567|ci-puller", "canary-sa-token"))).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["token", "access_token", "expires_in", "issued_at"]);
    assert_eq!(v["token"], v["access_token"]);
    assert_eq!(v["expires_in"], 300);
    let issued = v["issued_at"].as_str().unwrap();
    assert!(issued.ends_with('Z') && issued.len() == 20, "{issued}");

    let token = v["access_token"].as_str().unwrap();
    let verifier = TokenVerifier::new(sso.issuer(), "docker-registry", Clock::new())
        .trust(sso.verification_key());
    let claims = verifier.verify(token).unwrap();
    assert_eq!(claims.iss, "https://sso.redhat.com/auth/realms/rhcc");
    assert_eq!(claims.aud, "docker-registry");
    assert_eq!(claims.sub, "1234567|ci-puller");
    assert_eq!(claims.typ, "Bearer");
    assert_eq!(claims.azp, "docker-registry");
    assert_eq!(claims.exp, claims.iat + 300);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.access.len(), 1);
    assert!(claims.access[0].grants("repository", "rhel", "pull"));
    assert_eq!(claims.jti.len(), 36);
}

#[tokio::test]
async fn entitlements_filter_access_and_push_is_never_granted() {
    let sso = sso().await;
    let q = "service=docker-registry&scope=repository:rhel8/pcp:pull,push&scope=repository:ubi8/ubi:pull";
    let (status, body, _) = get(&sso, q, Some(("limited", "canary-limited"))).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let claims = decode_unverified(v["token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.access.len(), 1);
    assert_eq!(claims.access[0].name, "rhel8/pcp");
    assert_eq!(claims.access[0].actions, vec!["pull"]);
}

#[tokio::test]
async fn regeneration_and_deletion_make_old_credentials_fail() {
    let sso = sso().await;
    let user = "1234567|ci-puller";
    let new_secret = sso.regenerate_secret(user).unwrap();
    assert!(new_secret.len() >= 1000);
    assert_eq!(
        get(&sso, SEED_QUERY, Some((user, "canary-sa-token")))
            .await
            .0,
        401
    );
    assert_eq!(
        get(&sso, SEED_QUERY, Some((user, &new_secret))).await.0,
        200
    );
    sso.delete_account(user).unwrap();
    assert_eq!(
        get(&sso, SEED_QUERY, Some((user, &new_secret))).await.0,
        401
    );
    assert!(sso.delete_account(user).is_err());
}

#[tokio::test]
async fn anonymous_missing_service_and_wrong_method() {
    let sso = sso().await;
    let (status, body, _) = get(&sso, SEED_QUERY, None).await;
    assert_eq!(status, 401);
    assert!(
        body.contains("Please login to the Red Hat Registry"),
        "{body}"
    );
    let (status, body, _) = get(
        &sso,
        "scope=repository:rhel:pull",
        Some(("myrhusername", "canary-pw")),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("service"), "{body}");
    let url = format!("{}{}?{SEED_QUERY}", sso.uri(), sso.token_path());
    let r = reqwest::Client::new().post(url).send().await.unwrap();
    assert_eq!(r.status(), 405);
}
