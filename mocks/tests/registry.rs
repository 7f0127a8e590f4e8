//! End-to-end tests of the mock registry over real HTTP (reqwest and raw TCP).

mod common;

use std::io::Read;
use std::time::Duration;

use regharness_mocks::registry::{AuthorizationKind, OCI_INDEX, OCI_MANIFEST};
use regharness_mocks::{
    AuthMode, Clock, ImageSpec, MockRegistry, ResourceActions, RunningRegistry, SigningKey,
    TokenClaims, TokenVerifier,
};
use reqwest::header::ACCEPT;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{client, send, sha256, Got};

const ALL_MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
const REALM: &str = "https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth";
const SERVICE: &str = "docker-registry";
const ISSUER: &str = "https://sso.redhat.com/auth/realms/rhcc";
const RH_MESSAGE: &str = "Please login to the Red Hat Registry using your Customer Portal credentials. Further instructions can be found here: https://access.redhat.com/RegistryAuthentication";

async fn anonymous() -> RunningRegistry {
    MockRegistry::builder("registry.access.redhat.com")
        .image(ImageSpec::docker("rhel8/pcp", "latest").layers(2))
        .image(ImageSpec::oci("ubi8/ubi", "8.9"))
        .image(ImageSpec::multi_arch(
            "ubi8/ubi-minimal",
            "latest",
            &["amd64", "arm64", "ppc64le", "s390x"],
        ))
        .start()
        .await
        .unwrap()
}

async fn get(reg: &RunningRegistry, path: &str) -> Got {
    send(
        reg,
        Method::GET,
        path,
        &[(ACCEPT.as_str(), ALL_MANIFEST_TYPES)],
    )
    .await
}

fn assert_error(got: &Got, status: u16, code: &str, message: &str, detail: Option<Value>) {
    assert_eq!(
        got.status.as_u16(),
        status,
        "{}",
        String::from_utf8_lossy(&got.body)
    );
    assert_eq!(got.header("content-type"), "application/json");
    let body = got.json();
    let mut expected = json!({ "code": code, "message": message });
    if let Some(detail) = detail {
        expected["detail"] = detail;
    }
    assert_eq!(body, json!({ "errors": [expected] }));
    assert!(
        got.body.ends_with(b"}\n"),
        "Go's encoder ends with a newline"
    );
}

#[tokio::test]
async fn base_route_answers_empty_json() {
    let reg = anonymous().await;
    let got = send(&reg, Method::GET, "/v2/", &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"{}");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("content-length"), "2");

    let head = send(&reg, Method::HEAD, "/v2/", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), "2");

    let redirect = send(&reg, Method::GET, "/v2", &[]).await;
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), "/v2/");
}

/// Pulls `repo:tag` as a client would and checks every digest and size on the way.
async fn pull_and_verify(reg: &RunningRegistry, repo: &str, reference: &str) -> Value {
    let got = get(reg, &format!("/v2/{repo}/manifests/{reference}")).await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let digest = sha256(&got.body);
    assert_eq!(got.header("docker-content-digest"), digest);
    assert_eq!(got.header("etag"), format!("\"{digest}\""));
    assert_eq!(got.header("content-length"), got.body.len().to_string());
    let manifest = got.json();
    assert_eq!(got.header("content-type"), manifest["mediaType"]);

    if manifest["mediaType"] == OCI_INDEX {
        for child in manifest["manifests"].as_array().unwrap() {
            let d = child["digest"].as_str().unwrap();
            let m = get(reg, &format!("/v2/{repo}/manifests/{d}")).await;
            assert_eq!(m.status, 200);
            assert_eq!(sha256(&m.body), d);
            assert_eq!(child["size"], m.body.len());
            assert_eq!(child["mediaType"], OCI_MANIFEST);
            let image = Box::pin(pull_and_verify(reg, repo, d)).await;
            let config = blob(reg, repo, &image["config"]).await;
            let config: Value = serde_json::from_slice(&config).unwrap();
            assert_eq!(config["architecture"], child["platform"]["architecture"]);
            assert_eq!(config["os"], child["platform"]["os"]);
        }
        return manifest;
    }

    let config = blob(reg, repo, &manifest["config"]).await;
    let config: Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["rootfs"]["type"], "layers");
    let layers = manifest["layers"].as_array().unwrap();
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    assert_eq!(layers.len(), diff_ids.len());
    assert_eq!(config["history"].as_array().unwrap().len(), layers.len());
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        let gz = blob(reg, repo, layer).await;
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(diff_id.as_str().unwrap(), sha256(&tar));
        let mut archive = tar::Archive::new(tar.as_slice());
        let files = archive.entries().unwrap().count();
        assert!(files >= 2);
    }
    manifest
}

/// Fetches the blob a descriptor names and checks its digest and size.
async fn blob(reg: &RunningRegistry, repo: &str, descriptor: &Value) -> Vec<u8> {
    let digest = descriptor["digest"].as_str().unwrap();
    let got = get(reg, &format!("/v2/{repo}/blobs/{digest}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(sha256(&got.body), digest);
    assert_eq!(descriptor["size"], got.body.len());
    assert_eq!(got.header("docker-content-digest"), digest);
    assert_eq!(got.header("content-type"), "application/octet-stream");
    assert_eq!(got.header("etag"), format!("\"{digest}\""));
    assert_eq!(got.header("cache-control"), "max-age=31536000");
    got.body
}

#[tokio::test]
async fn content_verifies_for_every_kind() {
    let reg = anonymous().await;
    let docker = pull_and_verify(&reg, "rhel8/pcp", "latest").await;
    assert_eq!(
        docker["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        docker["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    assert_eq!(
        docker["layers"][0]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    assert_eq!(docker["layers"].as_array().unwrap().len(), 2);

    let oci = pull_and_verify(&reg, "ubi8/ubi", "8.9").await;
    assert_eq!(oci["mediaType"], OCI_MANIFEST);
    assert_eq!(
        oci["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(
        oci["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );

    let index = pull_and_verify(&reg, "ubi8/ubi-minimal", "latest").await;
    let arches: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64", "ppc64le", "s390x"]);
    assert_eq!(
        reg.platform_manifest_digest("ubi8/ubi-minimal", "latest", "arm64")
            .as_deref(),
        index["manifests"][1]["digest"].as_str()
    );

    // By digest, the same bytes as by tag.
    let digest = reg.manifest_digest("rhel8/pcp", "latest").unwrap();
    let by_digest = get(&reg, &format!("/v2/rhel8/pcp/manifests/{digest}")).await;
    assert_eq!(sha256(&by_digest.body), digest);
}

#[tokio::test]
async fn same_spec_gives_same_digests() {
    let a = anonymous().await;
    let b = anonymous().await;
    assert_ne!(a.addr(), b.addr());
    for (repo, tag) in [
        ("rhel8/pcp", "latest"),
        ("ubi8/ubi", "8.9"),
        ("ubi8/ubi-minimal", "latest"),
    ] {
        let da = a.manifest_digest(repo, tag).unwrap();
        assert!(da.starts_with("sha256:") && da.len() == 71);
        assert_eq!(Some(da), b.manifest_digest(repo, tag));
    }
    assert_eq!(a.manifest_digest("rhel8/pcp", "nope"), None);
    assert_eq!(a.manifest_digest("nope", "latest"), None);
}

#[tokio::test]
async fn oci_content_needs_a_matching_accept_header() {
    let reg = anonymous().await;
    let got = send(&reg, Method::GET, "/v2/ubi8/ubi/manifests/8.9", &[]).await;
    assert_error(
        &got,
        404,
        "MANIFEST_UNKNOWN",
        "OCI manifest found, but accept header does not support OCI manifests",
        None,
    );
    let got = send(
        &reg,
        Method::GET,
        "/v2/ubi8/ubi-minimal/manifests/latest",
        &[("accept", OCI_MANIFEST)],
    )
    .await;
    assert_error(
        &got,
        404,
        "MANIFEST_UNKNOWN",
        "OCI index found, but accept header does not support OCI indexes",
        None,
    );
    // Docker schema 2 is served whatever the Accept header says.
    let got = send(&reg, Method::GET, "/v2/rhel8/pcp/manifests/latest", &[]).await;
    assert_eq!(got.status, 200);
    // Parameters and case are ignored, several headers are merged.
    let got = send(
        &reg,
        Method::GET,
        "/v2/ubi8/ubi/manifests/8.9",
        &[
            ("accept", "text/plain"),
            (
                "accept",
                "Application/VND.oci.image.manifest.v1+json; q=0.5",
            ),
        ],
    )
    .await;
    assert_eq!(got.status, 200);
}

#[tokio::test]
async fn errors_use_distribution_codes() {
    let reg = MockRegistry::builder("registry.redhat.io")
        .image(ImageSpec::docker("rhel8/pcp", "latest"))
        .image(ImageSpec::docker("rhel8/secret", "latest"))
        .deny("rhel8/secret")
        .start()
        .await
        .unwrap();
    let missing = format!("sha256:{}", "0".repeat(64));

    let got = get(&reg, "/v2/rhel8/pcp/manifests/nope").await;
    assert_error(
        &got,
        404,
        "MANIFEST_UNKNOWN",
        "manifest unknown",
        Some(json!("unknown tag=nope")),
    );
    // distribution answers MANIFEST_UNKNOWN for a tag in an unknown repository too.
    let got = get(&reg, "/v2/nothere/manifests/latest").await;
    assert_error(
        &got,
        404,
        "MANIFEST_UNKNOWN",
        "manifest unknown",
        Some(json!("unknown tag=latest")),
    );
    let got = get(&reg, &format!("/v2/rhel8/pcp/manifests/{missing}")).await;
    assert_error(
        &got,
        404,
        "MANIFEST_UNKNOWN",
        "manifest unknown",
        Some(json!(format!(
            "unknown manifest name=rhel8/pcp revision={missing}"
        ))),
    );
    let got = get(&reg, &format!("/v2/rhel8/pcp/blobs/{missing}")).await;
    assert_error(
        &got,
        404,
        "BLOB_UNKNOWN",
        "blob unknown to registry",
        Some(json!(missing)),
    );
    // A blob of another repository is unknown here.
    let other = reg.manifest_digest("rhel8/secret", "latest").unwrap();
    let got = get(&reg, &format!("/v2/rhel8/pcp/blobs/{other}")).await;
    assert_eq!(got.status, 404);
    let got = get(&reg, "/v2/nothere/tags/list").await;
    assert_error(
        &got,
        404,
        "NAME_UNKNOWN",
        "repository name not known to registry",
        Some(json!({ "name": "nothere" })),
    );
    let got = get(&reg, "/v2/Rhel8/pcp/tags/list").await;
    assert_error(
        &got,
        400,
        "NAME_INVALID",
        "invalid repository name",
        Some(json!(
            "repository name \"Rhel8/pcp\" invalid: repository name must be lowercase"
        )),
    );
    let got = get(&reg, "/v2/rhel8/pcp/blobs/sha256:1234").await;
    assert_error(
        &got,
        400,
        "DIGEST_INVALID",
        "provided digest did not match uploaded content",
        Some(json!("invalid checksum digest length")),
    );
    let got = get(&reg, "/v2/rhel8/pcp/manifests/md5:1234").await;
    assert_error(
        &got,
        400,
        "DIGEST_INVALID",
        "provided digest did not match uploaded content",
        Some(json!("unsupported digest algorithm")),
    );
    let got = send(&reg, Method::PUT, "/v2/rhel8/pcp/manifests/latest", &[]).await;
    assert_error(
        &got,
        405,
        "UNSUPPORTED",
        "The operation is unsupported.",
        None,
    );
    assert_eq!(got.header("allow"), "GET, HEAD");
    let got = send(
        &reg,
        Method::DELETE,
        &format!("/v2/rhel8/pcp/blobs/{missing}"),
        &[],
    )
    .await;
    assert_eq!(got.status, 405);
    let got = send(&reg, Method::POST, "/v2/rhel8/pcp/blobs/uploads/", &[]).await;
    assert_error(
        &got,
        405,
        "UNSUPPORTED",
        "The operation is unsupported.",
        None,
    );
    let got = get(&reg, "/v2/rhel8/pcp/blobs/uploads/1234").await;
    assert_error(
        &got,
        404,
        "BLOB_UPLOAD_UNKNOWN",
        "blob upload unknown to registry",
        Some(json!("blob upload unknown")),
    );
    let got = get(&reg, "/v2/rhel8/secret/manifests/latest").await;
    assert_error(
        &got,
        403,
        "DENIED",
        "requested access to the resource is denied",
        None,
    );
    let got = get(&reg, "/v2/rhel8/pcp/tags/list?n=-1").await;
    assert_error(
        &got,
        400,
        "PAGINATION_NUMBER_INVALID",
        "invalid number of results requested",
        Some(json!({ "n": -1 })),
    );

    // Outside the API, or a malformed tag: the router's plain 404.
    for path in [
        "/",
        "/v1/",
        "/v2/rhel8/pcp/manifests/.bad",
        "/v2/rhel8/pcp",
        "/v2/%ff/tags/list",
    ] {
        let got = get(&reg, path).await;
        assert_eq!(got.status, 404, "{path}");
        assert_eq!(got.body, b"404 page not found\n");
        assert_eq!(got.header("content-type"), "text/plain; charset=utf-8");
    }
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let reg = anonymous().await;
    let digest = reg.manifest_digest("rhel8/pcp", "latest").unwrap();
    let get_m = get(&reg, "/v2/rhel8/pcp/manifests/latest").await;
    let head = send(
        &reg,
        Method::HEAD,
        "/v2/rhel8/pcp/manifests/latest",
        &[("accept", ALL_MANIFEST_TYPES)],
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("docker-content-digest"), digest);
    assert_eq!(head.header("content-length"), get_m.body.len().to_string());
    assert_eq!(head.header("content-type"), get_m.header("content-type"));
    assert_eq!(head.header("etag"), format!("\"{digest}\""));

    let manifest = get_m.json();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let head = send(
        &reg,
        Method::HEAD,
        &format!("/v2/rhel8/pcp/blobs/{layer}"),
        &[],
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("docker-content-digest"), layer);
    assert_eq!(
        head.header("content-length"),
        manifest["layers"][0]["size"].to_string()
    );

    let missing = send(&reg, Method::HEAD, "/v2/rhel8/pcp/manifests/nope", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn conditional_and_range_requests() {
    let reg = anonymous().await;
    let digest = reg.manifest_digest("rhel8/pcp", "latest").unwrap();
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel8/pcp/manifests/latest",
        &[("if-none-match", &format!("\"{digest}\""))],
    )
    .await;
    assert_eq!(got.status, 304);
    assert!(got.body.is_empty());

    let manifest = get(&reg, "/v2/rhel8/pcp/manifests/latest").await.json();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let size = manifest["layers"][0]["size"].as_u64().unwrap();
    let full = get(&reg, &format!("/v2/rhel8/pcp/blobs/{layer}"))
        .await
        .body;
    let part = send(
        &reg,
        Method::GET,
        &format!("/v2/rhel8/pcp/blobs/{layer}"),
        &[("range", "bytes=10-19")],
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &full[10..20]);
    assert_eq!(part.header("content-range"), format!("bytes 10-19/{size}"));
    let bad = send(
        &reg,
        Method::GET,
        &format!("/v2/rhel8/pcp/blobs/{layer}"),
        &[("range", &format!("bytes={size}-"))],
    )
    .await;
    assert_eq!(bad.status, 416);
    assert_eq!(bad.header("content-range"), format!("bytes */{size}"));
}

#[tokio::test]
async fn tags_list_paginates_like_distribution() {
    let mut builder = MockRegistry::builder("registry.redhat.io");
    for tag in ["sb71y", "2j2ar", "kb0j5", "asj9e", "jyi7b"] {
        builder = builder.image(ImageSpec::docker("test", tag));
    }
    let reg = builder.start().await.unwrap();

    let all = get(&reg, "/v2/test/tags/list").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.header("content-type"), "application/json");
    assert_eq!(
        all.body,
        b"{\"name\":\"test\",\"tags\":[\"2j2ar\",\"asj9e\",\"jyi7b\",\"kb0j5\",\"sb71y\"]}\n"
    );
    assert!(all.headers.get("link").is_none());

    let cases: &[(&str, &[&str], Option<&str>)] = &[
        (
            "n=2",
            &["2j2ar", "asj9e"],
            Some("</v2/test/tags/list?last=asj9e&n=2>; rel=\"next\""),
        ),
        (
            "last=asj9e&n=1",
            &["jyi7b"],
            Some("</v2/test/tags/list?last=jyi7b&n=1>; rel=\"next\""),
        ),
        ("last=jyi7b&n=3", &["kb0j5", "sb71y"], None),
        ("last=sb71y&n=1", &[], None),
        (
            "n=100",
            &["2j2ar", "asj9e", "jyi7b", "kb0j5", "sb71y"],
            None,
        ),
        ("last=jyi7b", &["kb0j5", "sb71y"], None),
        (
            "last=does-not-exist&n=3",
            &["jyi7b", "kb0j5", "sb71y"],
            Some("</v2/test/tags/list?last=sb71y&n=3>; rel=\"next\""),
        ),
        ("n=0", &[], None),
        ("n=", &["2j2ar", "asj9e", "jyi7b", "kb0j5", "sb71y"], None),
    ];
    for (query, tags, link) in cases {
        let got = get(&reg, &format!("/v2/test/tags/list?{query}")).await;
        assert_eq!(got.status, 200, "{query}");
        assert_eq!(
            got.json(),
            json!({ "name": "test", "tags": tags }),
            "{query}"
        );
        assert_eq!(
            got.headers.get("link").map(|v| v.to_str().unwrap()),
            *link,
            "{query}"
        );
    }
    let got = get(&reg, "/v2/test/tags/list?n=foo").await;
    assert_eq!(got.status, 400);

    // Following the links visits every tag once.
    let mut path = "/v2/test/tags/list?n=2".to_string();
    let mut seen = Vec::new();
    loop {
        let got = get(&reg, &path).await;
        for t in got.json()["tags"].as_array().unwrap() {
            seen.push(t.as_str().unwrap().to_string());
        }
        let Some(link) = got.headers.get("link") else {
            break;
        };
        let link = link.to_str().unwrap();
        path = link[1..link.find('>').unwrap()].to_string();
    }
    assert_eq!(seen, ["2j2ar", "asj9e", "jyi7b", "kb0j5", "sb71y"]);

    let catalog = get(&reg, "/v2/_catalog").await;
    assert_eq!(catalog.json(), json!({ "repositories": ["test"] }));
}

struct Bearer {
    reg: RunningRegistry,
    clock: Clock,
    key: SigningKey,
}

async fn bearer() -> Bearer {
    let clock = Clock::new();
    let key = SigningKey::generate("regharness test token signer").unwrap();
    let verifier = TokenVerifier::new(ISSUER, SERVICE, clock.clone()).trust(key.verification_key());
    let reg = MockRegistry::builder("registry.redhat.io")
        .auth(AuthMode::Bearer {
            realm: REALM.into(),
            service: SERVICE.into(),
            verifier,
        })
        .unauthenticated_message(RH_MESSAGE)
        .image(ImageSpec::docker("rhel8/pcp", "latest"))
        .image(ImageSpec::docker("rhel", "latest"))
        .start()
        .await
        .unwrap();
    Bearer { reg, clock, key }
}

fn token(key: &SigningKey, clock: &Clock, access: Vec<ResourceActions>) -> String {
    let now = clock.now_unix();
    key.sign(&TokenClaims {
        jti: "test-jti".into(),
        exp: now + 300,
        nbf: now,
        iat: now,
        iss: ISSUER.into(),
        aud: SERVICE.into(),
        sub: "1234567|ci-puller".into(),
        typ: "Bearer".into(),
        azp: "curl".into(),
        access,
    })
    .unwrap()
}

fn pull_detail(repo: &str) -> Value {
    json!([{ "Type": "repository", "Class": "", "Name": repo, "Action": "pull" }])
}

#[tokio::test]
async fn bearer_challenges_without_a_token() {
    let Bearer { reg, .. } = bearer().await;

    let got = send(&reg, Method::GET, "/v2/", &[]).await;
    assert_error(&got, 401, "UNAUTHORIZED", RH_MESSAGE, Some(Value::Null));
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"{REALM}\",service=\"{SERVICE}\"")
    );

    let got = get(&reg, "/v2/rhel8/pcp/manifests/latest").await;
    assert_error(
        &got,
        401,
        "UNAUTHORIZED",
        RH_MESSAGE,
        Some(pull_detail("rhel8/pcp")),
    );
    assert_eq!(
        got.header("www-authenticate"),
        format!(
            "Bearer realm=\"{REALM}\",service=\"{SERVICE}\",scope=\"repository:rhel8/pcp:pull\""
        )
    );

    // Unknown repositories are challenged too, not 404.
    let got = get(&reg, "/v2/does/not/exist/manifests/latest").await;
    assert_eq!(got.status, 401);
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"{REALM}\",service=\"{SERVICE}\",scope=\"repository:does/not/exist:pull\"")
    );

    // Basic credentials are no token.
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel/tags/list",
        &[("authorization", "Basic dXNlcjpwYXNz")],
    )
    .await;
    assert_error(
        &got,
        401,
        "UNAUTHORIZED",
        RH_MESSAGE,
        Some(pull_detail("rhel")),
    );
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"{REALM}\",service=\"{SERVICE}\",scope=\"repository:rhel:pull\"")
    );

    // A push asks for pull and push.
    let got = send(&reg, Method::PUT, "/v2/rhel/manifests/latest", &[]).await;
    assert_eq!(got.status, 401);
    assert!(got
        .header("www-authenticate")
        .ends_with(",scope=\"repository:rhel:pull,push\""));

    // HEAD: the challenge without a body.
    let got = send(&reg, Method::HEAD, "/v2/rhel/manifests/latest", &[]).await;
    assert_eq!(got.status, 401);
    assert!(got.body.is_empty());
    assert!(got.headers.contains_key("www-authenticate"));

    let kinds: Vec<AuthorizationKind> = reg.requests().iter().map(|r| r.authorization).collect();
    assert_eq!(kinds[3], AuthorizationKind::Basic);
    assert_eq!(kinds[0], AuthorizationKind::None);
    assert!(reg.requests().iter().all(|r| r.status == 401));
}

#[tokio::test]
async fn bearer_tokens_are_verified_and_scoped() {
    let Bearer { reg, clock, key } = bearer().await;
    let good = token(&key, &clock, vec![ResourceActions::pull("rhel8/pcp")]);
    let auth = format!("Bearer {good}");

    let got = send(&reg, Method::GET, "/v2/", &[("authorization", &auth)]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"{}");
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel8/pcp/manifests/latest",
        &[("authorization", &auth), ("accept", ALL_MANIFEST_TYPES)],
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(
        sha256(&got.body),
        reg.manifest_digest("rhel8/pcp", "latest").unwrap()
    );
    // The scheme is case-insensitive.
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel8/pcp/tags/list",
        &[("authorization", &format!("bearer {good}"))],
    )
    .await;
    assert_eq!(got.status, 200);

    // A token for another repository: insufficient scope.
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel/manifests/latest",
        &[("authorization", &auth)],
    )
    .await;
    assert_error(
        &got,
        401,
        "UNAUTHORIZED",
        RH_MESSAGE,
        Some(pull_detail("rhel")),
    );
    assert_eq!(
        got.header("www-authenticate"),
        format!(
            "Bearer realm=\"{REALM}\",service=\"{SERVICE}\",scope=\"repository:rhel:pull\",error=\"insufficient_scope\""
        )
    );
    // An empty access list grants nothing but /v2/.
    let empty = format!("Bearer {}", token(&key, &clock, vec![]));
    let got = send(&reg, Method::GET, "/v2/", &[("authorization", &empty)]).await;
    assert_eq!(got.status, 200);
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel/tags/list",
        &[("authorization", &empty)],
    )
    .await;
    assert!(got
        .header("www-authenticate")
        .ends_with("error=\"insufficient_scope\""));
    // A wildcard action covers pull.
    let star = format!(
        "Bearer {}",
        token(&key, &clock, vec!["repository:rhel:*".parse().unwrap()])
    );
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel/tags/list",
        &[("authorization", &star)],
    )
    .await;
    assert_eq!(got.status, 200);

    // Garbage: invalid_token.
    let got = send(
        &reg,
        Method::GET,
        "/v2/",
        &[("authorization", "Bearer not-a-jwt")],
    )
    .await;
    assert_eq!(got.status, 401);
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"{REALM}\",service=\"{SERVICE}\",error=\"invalid_token\"")
    );

    // Signed by a key the registry does not trust: invalid_token.
    let stranger = SigningKey::generate("someone else").unwrap();
    let foreign = format!(
        "Bearer {}",
        token(&stranger, &clock, vec![ResourceActions::pull("rhel8/pcp")])
    );
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel8/pcp/manifests/latest",
        &[("authorization", &foreign)],
    )
    .await;
    assert_error(
        &got,
        401,
        "UNAUTHORIZED",
        RH_MESSAGE,
        Some(pull_detail("rhel8/pcp")),
    );
    assert_eq!(
        got.header("www-authenticate"),
        format!(
            "Bearer realm=\"{REALM}\",service=\"{SERVICE}\",scope=\"repository:rhel8/pcp:pull\",error=\"invalid_token\""
        )
    );

    // A payload swapped under a trusted key's signature: distribution's signature
    // check fails with go-jose's own error, so its challenge names no error.
    let other = token(&key, &clock, vec![ResourceActions::pull("rhel")]);
    let (a, b): (Vec<&str>, Vec<&str>) = (good.split('.').collect(), other.split('.').collect());
    assert_eq!((a.len(), b.len()), (3, 3));
    let forged = format!("Bearer {}.{}.{}", a[0], b[1], a[2]);
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel/manifests/latest",
        &[("authorization", &forged)],
    )
    .await;
    assert_error(
        &got,
        401,
        "UNAUTHORIZED",
        RH_MESSAGE,
        Some(pull_detail("rhel")),
    );
    assert_eq!(
        got.header("www-authenticate"),
        format!("Bearer realm=\"{REALM}\",service=\"{SERVICE}\",scope=\"repository:rhel:pull\"")
    );

    // Expired once the shared clock moves past exp (and any leeway).
    clock.advance(3600);
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel8/pcp/manifests/latest",
        &[("authorization", &auth)],
    )
    .await;
    assert_eq!(got.status, 401);
    assert!(got
        .header("www-authenticate")
        .ends_with(",error=\"invalid_token\""));
    // A fresh token works again.
    let fresh = format!(
        "Bearer {}",
        token(&key, &clock, vec![ResourceActions::pull("rhel8/pcp")])
    );
    let got = send(
        &reg,
        Method::GET,
        "/v2/rhel8/pcp/tags/list",
        &[("authorization", &fresh)],
    )
    .await;
    assert_eq!(got.status, 200);

    let records = reg.requests();
    assert!(records
        .iter()
        .all(|r| r.authorization == AuthorizationKind::Bearer));
    assert!(records
        .iter()
        .all(|r| r.host.as_deref() == Some(&reg.addr().to_string()[..])));
    reg.clear_requests();
    assert!(reg.requests().is_empty());
}

#[tokio::test]
async fn blob_redirect_points_at_the_cdn() {
    let spec = ImageSpec::docker("rhel8/pcp", "latest");
    let cdn = MockRegistry::builder("cdn01.quay.io")
        .image(spec.clone())
        .start()
        .await
        .unwrap();
    let reg = MockRegistry::builder("registry.redhat.io")
        .image(spec)
        .blob_redirect(cdn.uri())
        .start()
        .await
        .unwrap();
    let manifest = get(&reg, "/v2/rhel8/pcp/manifests/latest").await.json();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let got = get(&reg, &format!("/v2/rhel8/pcp/blobs/{layer}")).await;
    assert_eq!(got.status, 307);
    let location = got.header("location").to_string();
    assert_eq!(
        location,
        format!("{}/v2/rhel8/pcp/blobs/{layer}", cdn.uri())
    );
    let body = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256(&body), layer);
}

#[tokio::test]
async fn concurrent_requests_do_not_serialise() {
    let reg = MockRegistry::builder("registry.redhat.io")
        .image(ImageSpec::docker("big", "latest").layer_size(2 * 1024 * 1024))
        .start()
        .await
        .unwrap();
    let manifest = get(&reg, "/v2/big/manifests/latest").await.json();
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();

    // A client that sends half a request and stalls must not hold anyone up.
    let mut stalled = tokio::net::TcpStream::connect(reg.addr()).await.unwrap();
    stalled
        .write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Nor must a client that starts a big download and stops reading.
    let mut slow_reader = tokio::net::TcpStream::connect(reg.addr()).await.unwrap();
    slow_reader
        .write_all(format!("GET /v2/big/blobs/{layer} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut first = [0u8; 12];
    slow_reader.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let url = if i % 2 == 0 {
            format!("{}/v2/big/blobs/{layer}", reg.uri())
        } else {
            format!("{}/v2/big/manifests/latest", reg.uri())
        };
        tasks.spawn(async move {
            // One client each: one connection each.
            let body = client()
                .get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            (i, body)
        });
    }
    let all = tokio::time::timeout(Duration::from_secs(60), async {
        let mut n = 0;
        while let Some(done) = tasks.join_next().await {
            let (i, body) = done.unwrap();
            if i % 2 == 0 {
                assert_eq!(sha256(&body), layer);
            }
            n += 1;
        }
        n
    })
    .await
    .expect("parallel requests finished");
    assert_eq!(all, 32);
    drop((stalled, slow_reader));
}

#[tokio::test]
async fn malformed_requests_get_an_answer_and_the_server_survives() {
    let reg = anonymous().await;
    for raw in [
        &b"NONSENSE\r\n\r\n"[..],
        b"GET /v2/\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    ] {
        let mut s = tokio::net::TcpStream::connect(reg.addr()).await.unwrap();
        s.write_all(raw).await.unwrap();
        let _ = s.shutdown().await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        assert!(
            out.starts_with(b"HTTP/1.1 400 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
    // HTTP/2 prior knowledge (h2c) is served as well.
    let h2 = Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = h2.get(format!("{}/v2/", reg.uri())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(send(&reg, Method::GET, "/v2/", &[]).await.status, 200);
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let reg = anonymous().await;
    let addr = reg.addr();
    reg.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn bad_builder_input_is_an_error() {
    let err = MockRegistry::builder("x")
        .image(ImageSpec::docker("rhel", "latest"))
        .image(ImageSpec::docker("rhel", "latest"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "rhel:latest is defined twice");
    assert!(MockRegistry::builder("x")
        .blob_redirect("not a url")
        .start()
        .await
        .is_err());
    assert!(MockRegistry::builder("x")
        .deny("UPPER")
        .start()
        .await
        .is_err());
}
