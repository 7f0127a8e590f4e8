//! End-to-end tests of `AuthMode::OpenShift`: the integrated registry's token endpoint,
//! challenges and RBAC-decided pulls, over real HTTP (reqwest).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use regharness_mocks::registry::AuthorizationKind;
use regharness_mocks::{AuthMode, ImageSpec, MockRegistry, PullAuthorizer, RunningRegistry};
use reqwest::Method;
use serde_json::{json, Value};

use common::{sha256, Got};

const HOST: &str = "image-registry.openshift-image-registry.svc:5000";
const FQDN: &str = "image-registry.openshift-image-registry.svc.cluster.local:5000";
const REALM: &str = "https://image-registry.openshift-image-registry.svc:5000/openshift/token";
const TOKEN_A: &str = "sha256~project-a-default-token";
const TOKEN_B: &str = "sha256~project-b-default-token";
const SA_A: &str = "system:serviceaccount:project-a:default";
const SA_B: &str = "system:serviceaccount:project-b:default";
const ACCESS_DENIED: &str = "Basic realm=openshift,error=\"access denied\"";
const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.manifest.v1+json";

/// Two service-account tokens; a service account pulls from its own project, and from
/// any project a test binds it to (`system:image-puller` there).
#[derive(Default)]
struct Cluster {
    tokens: HashMap<&'static str, &'static str>,
    bindings: Mutex<HashSet<(String, String)>>,
    asked: Mutex<Vec<(String, String)>>,
}

impl Cluster {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            tokens: HashMap::from([(TOKEN_A, SA_A), (TOKEN_B, SA_B)]),
            ..Self::default()
        })
    }

    fn bind_image_puller(&self, subject: &str, namespace: &str) {
        self.bindings
            .lock()
            .unwrap()
            .insert((subject.into(), namespace.into()));
    }

    fn asked(&self) -> Vec<(String, String)> {
        self.asked.lock().unwrap().clone()
    }
}

impl PullAuthorizer for Cluster {
    fn authenticate(&self, token: &str) -> Option<String> {
        self.tokens.get(token).map(|s| s.to_string())
    }

    fn may_pull(&self, subject: &str, namespace: &str) -> bool {
        self.asked
            .lock()
            .unwrap()
            .push((subject.into(), namespace.into()));
        let own = subject
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(project, _)| project == namespace);
        own || self
            .bindings
            .lock()
            .unwrap()
            .contains(&(subject.to_string(), namespace.to_string()))
    }
}

async fn openshift(cluster: &Arc<Cluster>) -> RunningRegistry {
    MockRegistry::builder(HOST)
        .auth(AuthMode::OpenShift {
            authorizer: cluster.clone(),
        })
        .image(ImageSpec::docker("project-a/app", "latest"))
        .image(ImageSpec::docker("project-b/app", "latest").layers(2))
        .image(ImageSpec::docker("app", "latest"))
        .start()
        .await
        .unwrap()
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn pull_detail(repo: &str) -> Value {
    json!([{ "Type": "repository", "Class": "", "Name": repo, "Action": "pull" }])
}

/// What the OpenShift registry's refusals look like.
trait Refusal {
    fn assert_unauthorized(&self, detail: Value, challenge: &str);
}

impl Refusal for Got {
    fn assert_unauthorized(&self, detail: Value, challenge: &str) {
        assert_eq!(self.status, 401, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), "application/json");
        assert_eq!(
            self.json(),
            json!({ "errors": [{
                "code": "UNAUTHORIZED",
                "message": "authentication required",
                "detail": detail,
            }] })
        );
        assert_eq!(self.header("www-authenticate"), challenge);
    }
}

/// A request as a client that resolved the registry's name would send it: with
/// `Host: image-registry.openshift-image-registry.svc:5000`.
async fn send(
    reg: &RunningRegistry,
    method: Method,
    path: &str,
    authorization: Option<&str>,
) -> Got {
    send_as(reg, Some(HOST), method, path, authorization).await
}

async fn send_as(
    reg: &RunningRegistry,
    host: Option<&str>,
    method: Method,
    path: &str,
    authorization: Option<&str>,
) -> Got {
    let mut headers = vec![("accept", MANIFEST_TYPES)];
    if let Some(host) = host {
        headers.push(("host", host));
    }
    if let Some(authorization) = authorization {
        headers.push(("authorization", authorization));
    }
    common::send(reg, method, path, &headers).await
}

/// Pulls `repo:latest` (manifest, config and layers), checking every digest.
async fn pull(reg: &RunningRegistry, repo: &str, authorization: &str) {
    let got = send(
        reg,
        Method::GET,
        &format!("/v2/{repo}/manifests/latest"),
        Some(authorization),
    )
    .await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let digest = sha256(&got.body);
    assert_eq!(got.header("docker-content-digest"), digest);
    assert_eq!(Some(digest), reg.manifest_digest(repo, "latest"));
    let manifest = got.json();
    let layers = manifest["layers"].as_array().unwrap();
    assert!(!layers.is_empty());
    for descriptor in std::iter::once(&manifest["config"]).chain(layers) {
        let digest = descriptor["digest"].as_str().unwrap();
        let got = send(
            reg,
            Method::GET,
            &format!("/v2/{repo}/blobs/{digest}"),
            Some(authorization),
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(sha256(&got.body), digest);
        assert_eq!(descriptor["size"], got.body.len());
    }
}

#[tokio::test]
async fn requests_without_credentials_are_sent_to_the_token_endpoint() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;
    let challenge = format!("Bearer realm=\"{REALM}\"");

    let got = send(&reg, Method::GET, "/v2/", None).await;
    got.assert_unauthorized(Value::Null, &challenge);

    // No scope and no service in the challenge, unlike distribution's token auth.
    let got = send(
        &reg,
        Method::GET,
        "/v2/project-b/app/manifests/latest",
        None,
    )
    .await;
    got.assert_unauthorized(pull_detail("project-b/app"), &challenge);

    // A scheme that is neither Bearer nor Basic counts as no credentials.
    let got = send(
        &reg,
        Method::GET,
        "/v2/project-a/app/manifests/latest",
        Some("Negotiate abc"),
    )
    .await;
    got.assert_unauthorized(pull_detail("project-a/app"), &challenge);

    // The realm follows the host the request named, like the registry's
    // auto-detection (`httprequest.SchemeHost`).
    let got = send_as(&reg, Some(FQDN), Method::GET, "/v2/", None).await;
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"https://{FQDN}/openshift/token\"")
    );
    let got = send_as(&reg, None, Method::GET, "/v2/", None).await;
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"https://{}/openshift/token\"", reg.addr())
    );

    // HEAD: the challenge without a body.
    let got = send(
        &reg,
        Method::HEAD,
        "/v2/project-a/app/manifests/latest",
        None,
    )
    .await;
    assert_eq!(got.status, 401);
    assert!(got.body.is_empty());
    assert_eq!(got.header("www-authenticate"), challenge);

    assert!(
        cluster.asked().is_empty(),
        "no RBAC question without credentials"
    );
    assert!(reg.requests().iter().all(|r| r.status == 401));
}

#[tokio::test]
async fn token_endpoint_hands_back_the_openshift_token() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;
    let path = "/openshift/token?account=serviceaccount&scope=repository%3Aproject-a%2Fapp%3Apull";

    // Without credentials: the anonymous token, exactly as Go's encoder writes the map.
    let got = send(&reg, Method::GET, path, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.body,
        b"{\"access_token\":\"anonymous\",\"token\":\"anonymous\"}\n"
    );

    // Basic with the service account token as password: that token back.
    let got = send(
        &reg,
        Method::GET,
        path,
        Some(&basic("serviceaccount", TOKEN_A)),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.json(),
        json!({ "access_token": TOKEN_A, "token": TOKEN_A })
    );
    // The user name does not matter; no scope needed.
    let got = send(
        &reg,
        Method::GET,
        "/openshift/token",
        Some(&basic("<token>", TOKEN_B)),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["token"], TOKEN_B);

    // An unknown token, an empty password, or Bearer instead of Basic: 401, no body.
    for authorization in [
        basic("serviceaccount", "sha256~unknown"),
        basic("serviceaccount", ""),
        bearer(TOKEN_A),
    ] {
        let got = send(&reg, Method::GET, path, Some(&authorization)).await;
        assert_eq!(got.status, 401, "{authorization}");
        assert!(got.body.is_empty(), "{authorization}");
        assert_eq!(got.header("content-type"), "application/json");
        assert!(got.headers.get("www-authenticate").is_none());
    }

    // A repository outside any project is refused before credentials are looked at.
    let got = send(
        &reg,
        Method::GET,
        "/openshift/token?scope=repository%3Aapp%3Apull",
        Some(&basic("serviceaccount", TOKEN_A)),
    )
    .await;
    assert_eq!(got.status, 401);
    assert_eq!(
        got.body,
        b"{\"details\":\"repository name \\\"app\\\" invalid: it must be of the format \\u003cproject\\u003e/\\u003cname\\u003e\"}\n"
    );

    // GET only.
    let got = send(&reg, Method::POST, "/openshift/token", None).await;
    assert_eq!(got.status, 405);
    assert!(got.body.is_empty());

    // Recorded like any request, without the token in clear.
    let records = reg.requests();
    assert_eq!(records.len(), 8);
    assert_eq!(records[0].path, "/openshift/token");
    assert_eq!(
        records[0].query.as_deref(),
        Some("account=serviceaccount&scope=repository%3Aproject-a%2Fapp%3Apull")
    );
    assert_eq!(records[0].host.as_deref(), Some(HOST));
    assert_eq!(records[0].authorization, AuthorizationKind::None);
    assert_eq!(records[1].authorization, AuthorizationKind::Basic);
    assert_eq!(records[1].status, 200);
    assert_eq!(records[5].authorization, AuthorizationKind::Bearer);
    assert_eq!(records[5].status, 401);
    let transcript = format!("{records:?}");
    assert!(!transcript.contains(TOKEN_A) && !transcript.contains(TOKEN_B));
}

#[tokio::test]
async fn service_accounts_pull_from_their_own_project() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;

    // As a client does: the token endpoint, then the bearer token it returned.
    let got = send(
        &reg,
        Method::GET,
        "/openshift/token?account=serviceaccount&scope=repository%3Aproject-a%2Fapp%3Apull",
        Some(&basic("serviceaccount", TOKEN_A)),
    )
    .await;
    let token = got.json()["token"].as_str().unwrap().to_string();
    pull(&reg, "project-a/app", &bearer(&token)).await;
    pull(&reg, "project-b/app", &bearer(TOKEN_B)).await;
    // Basic straight on the registry works too: the password is the token.
    pull(&reg, "project-a/app", &basic("serviceaccount", TOKEN_A)).await;

    // `/v2/` only needs a token that authenticates.
    let got = send(&reg, Method::GET, "/v2/", Some(&bearer(TOKEN_A))).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"{}");

    let asked = cluster.asked();
    assert!(asked.contains(&(SA_A.into(), "project-a".into())));
    assert!(asked.contains(&(SA_B.into(), "project-b".into())));
    assert!(asked
        .iter()
        .all(|(subject, namespace)| { namespace == subject.split(':').nth(2).unwrap() }));
}

#[tokio::test]
async fn cross_project_pulls_need_a_binding() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;
    let token = bearer(TOKEN_A);
    let digest = reg.manifest_digest("project-b/app", "latest").unwrap();

    // OpenShift's refusal: a 401 with distribution's UNAUTHORIZED body and a Basic
    // challenge carrying the access controller's error; clients print
    // "unauthorized: authentication required".
    let got = send(
        &reg,
        Method::GET,
        "/v2/project-b/app/manifests/latest",
        Some(&token),
    )
    .await;
    got.assert_unauthorized(pull_detail("project-b/app"), ACCESS_DENIED);
    let got = send(
        &reg,
        Method::GET,
        &format!("/v2/project-b/app/blobs/{digest}"),
        Some(&token),
    )
    .await;
    got.assert_unauthorized(pull_detail("project-b/app"), ACCESS_DENIED);
    // The same through Basic.
    let got = send(
        &reg,
        Method::GET,
        "/v2/project-b/app/tags/list",
        Some(&basic("serviceaccount", TOKEN_A)),
    )
    .await;
    got.assert_unauthorized(pull_detail("project-b/app"), ACCESS_DENIED);
    assert_eq!(
        cluster.asked(),
        vec![(SA_A.to_string(), "project-b".to_string()); 3]
    );

    // `oc policy add-role-to-user system:image-puller system:serviceaccount:project-a:default -n project-b`
    cluster.bind_image_puller(SA_A, "project-b");
    pull(&reg, "project-b/app", &token).await;
    // The binding is one-way.
    let got = send(
        &reg,
        Method::GET,
        "/v2/project-a/app/manifests/latest",
        Some(&bearer(TOKEN_B)),
    )
    .await;
    got.assert_unauthorized(pull_detail("project-a/app"), ACCESS_DENIED);
}

#[tokio::test]
async fn unknown_tokens_are_refused_everywhere() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;

    for authorization in [
        bearer("sha256~unknown"),
        basic("serviceaccount", "sha256~unknown"),
    ] {
        let got = send(&reg, Method::GET, "/v2/", Some(&authorization)).await;
        got.assert_unauthorized(Value::Null, ACCESS_DENIED);
        let got = send(
            &reg,
            Method::GET,
            "/v2/project-a/app/manifests/latest",
            Some(&authorization),
        )
        .await;
        got.assert_unauthorized(pull_detail("project-a/app"), ACCESS_DENIED);
    }
    assert!(
        cluster.asked().is_empty(),
        "an unknown token never reaches authorisation"
    );

    // Basic that does not decode, or without a password: another Basic challenge.
    for authorization in ["Basic !!!".to_string(), basic("serviceaccount", "")] {
        let got = send(
            &reg,
            Method::GET,
            "/v2/project-a/app/manifests/latest",
            Some(&authorization),
        )
        .await;
        got.assert_unauthorized(
            pull_detail("project-a/app"),
            "Basic realm=openshift,error=\"failed to decode credentials\"",
        );
    }
}

#[tokio::test]
async fn anonymous_pulls_are_refused() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;

    // The token endpoint's anonymous token passes `/v2/` (there is nothing to
    // check) but is asked about as system:anonymous for a pull.
    let got = send(&reg, Method::GET, "/v2/", Some("Bearer anonymous")).await;
    assert_eq!(got.status, 200);
    let got = send(
        &reg,
        Method::GET,
        "/v2/project-b/app/manifests/latest",
        Some("Bearer anonymous"),
    )
    .await;
    got.assert_unauthorized(pull_detail("project-b/app"), ACCESS_DENIED);
    assert_eq!(
        cluster.asked(),
        vec![("system:anonymous".to_string(), "project-b".to_string())]
    );

    // Unless the project lets system:anonymous pull.
    cluster.bind_image_puller("system:anonymous", "project-b");
    pull(&reg, "project-b/app", "Bearer anonymous").await;
}

#[tokio::test]
async fn repositories_outside_a_project_and_writes() {
    let cluster = Cluster::new();
    let reg = openshift(&cluster).await;
    let token = bearer(TOKEN_A);

    // A one-component name is no image stream: a bare 400 for a good token...
    let got = send(&reg, Method::GET, "/v2/app/manifests/latest", Some(&token)).await;
    assert_eq!(got.status, 400);
    assert!(got.body.is_empty());
    assert!(got.headers.get("www-authenticate").is_none());
    // ...after the credentials are checked.
    let got = send(&reg, Method::GET, "/v2/app/manifests/latest", None).await;
    got.assert_unauthorized(pull_detail("app"), &format!("Bearer realm=\"{REALM}\""));

    // Pushing and listing the catalog need rights the mock never grants.
    let got = send(
        &reg,
        Method::PUT,
        "/v2/project-a/app/manifests/latest",
        Some(&token),
    )
    .await;
    assert_eq!(got.status, 401);
    assert_eq!(got.header("www-authenticate"), ACCESS_DENIED);
    let got = send(&reg, Method::GET, "/v2/_catalog", Some(&token)).await;
    got.assert_unauthorized(
        json!([{ "Type": "registry", "Class": "", "Name": "catalog", "Action": "*" }]),
        ACCESS_DENIED,
    );
}

#[test]
fn debug_hides_the_authorizer() {
    let mode = AuthMode::OpenShift {
        authorizer: Cluster::new(),
    };
    assert_eq!(format!("{mode:?}"), "OpenShift { .. }");
}
