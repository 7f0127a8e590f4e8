//! `podman pull` / `skopeo copy`: challenge → token → manifest (→ platform manifest) →
//! config and layers, every digest and size verified.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::client::auth_file;
use crate::client::http::{Auth, HttpResponse, HttpSession};
use crate::client::reference::ImageReference;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::scenario::model::PullSpec;

use super::registry_auth::{self, Credentials, PingResult};
use super::{FlowContext, FlowFailure, StepResult};

/// Manifest media types the client accepts, like containers/image.
pub const MANIFEST_ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

const MAX_REDIRECTS: usize = 5;

/// Runs a `pull` step.
pub async fn run(ctx: &FlowContext<'_>, spec: &PullSpec) -> StepResult {
    if let Some(node) = ctx.world.node() {
        return super::node_pull::run(ctx, spec, node).await;
    }
    let image = match ImageReference::parse(&spec.image) {
        Ok(i) => i,
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.clone()),
                e,
            )
        }
    };
    let credentials = match auth_file_credentials(ctx, spec.auth_file, &image) {
        Ok(c) => c,
        Err(f) => return f.into_result(Default::default()),
    };
    let mut http = match ctx.session(crate::client::proxy_env::ProxyConvention::Go) {
        Ok(h) => h,
        Err(f) => return f.into_result(Default::default()),
    };
    let platform = spec.platform.as_deref().unwrap_or("linux/amd64");
    match pull(&mut http, &image, credentials.as_ref(), None, platform).await {
        Ok(summary) => pulled(&image.to_string(), summary, http),
        Err(mut failure) => {
            failure.message = format!("pulling {image}: {}", failure.message);
            failure.into_result(http.into_transcript())
        }
    }
}

/// The credentials the auth files hold for `image` (`auth_file`: only that file), as
/// containers/image looks them up; both are registered for redaction.
pub(crate) fn auth_file_credentials(
    ctx: &FlowContext<'_>,
    auth_file: Option<crate::scenario::model::AuthFileKind>,
    image: &ImageReference,
) -> Result<Option<Credentials>, FlowFailure> {
    match auth_file::lookup(ctx.sandbox, auth_file, &image.registry, &image.repository) {
        Ok(found) => Ok(found.map(|f| {
            ctx.world
                .secrets()
                .add_credentials(&f.username, &f.password);
            Credentials {
                username: f.username,
                password: f.password,
            }
        })),
        Err(e) => Err(FlowFailure::new(
            DiagnosisClass::AuthFileInvalid,
            e.to_string(),
            format!("reading credentials for {}: {e}", image.registry),
        )),
    }
}

/// The successful step of a pull of `what` (`IMAGE`, or `IMAGE from SOURCE`).
pub(crate) fn pulled(what: &str, summary: Value, http: HttpSession) -> StepResult {
    let message = format!(
        "pulled {what}: {} ({} layer(s), {} bytes)",
        summary["digest"].as_str().unwrap_or(""),
        summary["layers"],
        summary["bytes"]
    );
    let mut result = StepResult::ok(message)
        .with_status(Some(200))
        .with_transcript(http.into_transcript());
    result.body = Some(summary);
    result
}

/// How a node's configuration changes one pull.
#[derive(Debug, Clone, Default)]
pub(crate) struct PullOptions {
    /// The registry is insecure (registries.conf): plain HTTP when HTTPS fails.
    pub insecure: bool,
    /// The signature policy rejects the image: containers/image reads the top-level
    /// manifest (its `newImageSource` loads it from the first working source), then
    /// refuses before reading anything else.
    pub rejection: Option<FlowFailure>,
}

/// Pulls `image` with `credentials` for the registry; the token realm gets
/// `token_credentials` when given (a delegated registry's auth-host entry), else the
/// registry's credentials, as containers/image sends them. Returns the summary
/// `{digest, index, layers, bytes}`.
pub(crate) async fn pull(
    http: &mut HttpSession,
    image: &ImageReference,
    credentials: Option<&Credentials>,
    token_credentials: Option<Option<&Credentials>>,
    platform: &str,
) -> Result<Value, FlowFailure> {
    pull_with(
        http,
        image,
        credentials,
        token_credentials,
        platform,
        &PullOptions::default(),
    )
    .await
}

/// [`pull`] with a node's options.
pub(crate) async fn pull_with(
    http: &mut HttpSession,
    image: &ImageReference,
    credentials: Option<&Credentials>,
    token_credentials: Option<Option<&Credentials>>,
    platform: &str,
    options: &PullOptions,
) -> Result<Value, FlowFailure> {
    let token_credentials = token_credentials.unwrap_or(credentials);
    let (scheme, ping) =
        registry_auth::ping_endpoint(http, &image.registry, options.insecure).await?;
    let base = format!("{scheme}://{}/v2/{}", image.registry, image.repository);
    let scope = format!("repository:{}:pull", image.repository);
    let auth = match ping {
        PingResult::Open => Auth::None,
        PingResult::Bearer(challenge) => Auth::Bearer(
            registry_auth::fetch_token(http, &challenge, Some(&scope), token_credentials).await?,
        ),
        PingResult::Basic => match credentials {
            Some(c) => Auth::Basic {
                username: c.username.clone(),
                password: c.password.clone(),
            },
            None => Auth::None,
        },
    };
    let ctx = PullContext {
        image,
        credentials_sent: token_credentials.is_some() || credentials.is_some(),
        auth: &auth,
    };

    let url = format!("{base}/manifests/{}", image.reference);
    let top = ctx.fetch(http, &url, MANIFEST_ACCEPT, "manifest").await?;
    let top_digest = verify_digest(
        &top,
        image.is_digest().then_some(image.reference.as_str()),
        "manifest",
    )?;
    if let Some(rejection) = &options.rejection {
        return Err(rejection.clone());
    }
    let mut manifest = parse_json(&top, "manifest")?;
    let mut digest = top_digest.clone();
    if is_index(&top, &manifest) {
        let chosen = select_platform(&manifest, platform).ok_or_else(|| {
            FlowFailure::new(
                DiagnosisClass::NotFound,
                format!("the image index has no manifest for {platform}"),
                format!("choosing an image from manifest list: no image found in manifest list for platform {platform}"),
            )
        })?;
        let url = format!("{base}/manifests/{chosen}");
        let platform_manifest = ctx.fetch(http, &url, MANIFEST_ACCEPT, "manifest").await?;
        digest = verify_digest(&platform_manifest, Some(&chosen), "manifest")?;
        manifest = parse_json(&platform_manifest, "manifest")?;
    }

    let mut blobs: Vec<(String, u64)> = Vec::new();
    let config = manifest
        .get("config")
        .ok_or_else(|| bad_manifest("no config descriptor"))?;
    blobs.push(descriptor(config)?);
    for layer in manifest
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_manifest("no layers array"))?
    {
        blobs.push(descriptor(layer)?);
    }
    let mut bytes = 0u64;
    for (blob_digest, size) in &blobs {
        let url = format!("{base}/blobs/{blob_digest}");
        let blob = ctx.fetch_following(http, &url).await?;
        verify_digest(&blob, Some(blob_digest), "blob")?;
        if blob.body.len() as u64 != *size {
            return Err(FlowFailure::new(
                DiagnosisClass::ContentInvalid,
                format!(
                    "blob {blob_digest} has {} bytes, the manifest says {size}",
                    blob.body.len()
                ),
                format!("reading blob {blob_digest}: size mismatch"),
            ));
        }
        bytes += size;
    }
    Ok(json!({
        "digest": digest,
        "index": (digest != top_digest).then_some(top_digest),
        "layers": blobs.len() - 1,
        "bytes": bytes,
    }))
}

struct PullContext<'a> {
    image: &'a ImageReference,
    credentials_sent: bool,
    auth: &'a Auth,
}

impl PullContext<'_> {
    async fn fetch(
        &self,
        http: &mut HttpSession,
        url: &str,
        accept: &[&str],
        what: &str,
    ) -> Result<HttpResponse, FlowFailure> {
        let response = http.get(url, self.auth, accept).await?;
        if response.status == 200 {
            Ok(response)
        } else {
            Err(self.classify(&response, what))
        }
    }

    /// GET a blob, following redirects (to a CDN host, without credentials).
    async fn fetch_following(
        &self,
        http: &mut HttpSession,
        url: &str,
    ) -> Result<HttpResponse, FlowFailure> {
        let mut response = http.get(url, self.auth, &[]).await?;
        let mut current = url.to_string();
        for _ in 0..MAX_REDIRECTS {
            if !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
                break;
            }
            let location = response.header("location").unwrap_or_default().to_string();
            let next = url::Url::parse(&current)
                .and_then(|u| u.join(&location))
                .map_err(|e| bad_manifest(&format!("bad redirect Location {location:?}: {e}")))?;
            let same_host = url::Url::parse(&current)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                == next.host_str().map(str::to_string);
            let auth = if same_host {
                self.auth.clone()
            } else {
                Auth::None
            };
            current = next.to_string();
            response = http.get(&current, &auth, &[]).await?;
        }
        if response.status == 200 {
            Ok(response)
        } else {
            Err(self.classify(&response, "blob"))
        }
    }

    fn classify(&self, response: &HttpResponse, what: &str) -> FlowFailure {
        let status = response.status;
        let (code, text) = response
            .registry_error()
            .unwrap_or_else(|| (String::new(), String::new()));
        let registry_text = if code.is_empty() {
            format!("StatusCode: {status}")
        } else {
            format!("{}: {text}", code.to_ascii_lowercase())
        };
        let (class, detail) = match (status, self.auth) {
            (401, Auth::Bearer(token)) => {
                if registry_auth::grants_pull(token, &self.image.repository) {
                    (
                        DiagnosisClass::TokenRejectedByRegistry,
                        "the registry refused a token that grants pull on the repository"
                            .to_string(),
                    )
                } else if self.credentials_sent {
                    (
                        DiagnosisClass::SubscriptionRequired,
                        format!(
                            "the SSO accepted the credentials but the token grants no pull on {}",
                            self.image.repository
                        ),
                    )
                } else {
                    (
                        DiagnosisClass::AuthenticationRequired,
                        "no credentials were found for the registry; the anonymous token grants nothing".to_string(),
                    )
                }
            }
            (401, _) => (
                DiagnosisClass::AuthenticationRequired,
                "the registry answered 401 and no credentials were available".to_string(),
            ),
            (404, _) => (
                DiagnosisClass::NotFound,
                format!("the registry answered 404 {code} for the {what}"),
            ),
            (other, _) => (
                DiagnosisClass::UnexpectedResponse,
                format!("the registry answered HTTP {other} for the {what}"),
            ),
        };
        FlowFailure {
            diagnosis: Diagnosis::new(class, detail),
            status: Some(status),
            body: response.json().map(Box::new),
            message: format!("reading {what}: {registry_text}"),
        }
    }
}

fn parse_json(response: &HttpResponse, what: &str) -> Result<Value, FlowFailure> {
    response
        .json()
        .ok_or_else(|| bad_manifest(&format!("the {what} is not JSON")))
}

fn is_index(response: &HttpResponse, manifest: &Value) -> bool {
    let media = manifest
        .get("mediaType")
        .and_then(Value::as_str)
        .or_else(|| response.header("content-type"))
        .unwrap_or("");
    media.contains("image.index")
        || media.contains("manifest.list")
        || manifest.get("manifests").is_some()
}

fn select_platform(index: &Value, platform: &str) -> Option<String> {
    let (os, arch) = platform.split_once('/').unwrap_or(("linux", platform));
    index.get("manifests")?.as_array()?.iter().find_map(|m| {
        let p = m.get("platform")?;
        (p.get("os")?.as_str()? == os && p.get("architecture")?.as_str()? == arch)
            .then(|| m.get("digest")?.as_str().map(str::to_string))
            .flatten()
    })
}

fn descriptor(d: &Value) -> Result<(String, u64), FlowFailure> {
    let digest = d
        .get("digest")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_manifest("a descriptor has no digest"))?;
    let size = d
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad_manifest("a descriptor has no size"))?;
    Ok((digest.to_string(), size))
}

/// Checks sha256(body) against the expected digest and the `Docker-Content-Digest`
/// header; returns the body's digest.
fn verify_digest(
    response: &HttpResponse,
    expected: Option<&str>,
    what: &str,
) -> Result<String, FlowFailure> {
    let actual = format!("sha256:{}", hex::encode(Sha256::digest(&response.body)));
    for claimed in [expected, response.header("docker-content-digest")]
        .into_iter()
        .flatten()
    {
        if claimed != actual {
            return Err(FlowFailure::new(
                DiagnosisClass::ContentInvalid,
                format!("the {what} hashes to {actual}, expected {claimed}"),
                format!("Digest did not match, expected {claimed}, got {actual}"),
            ));
        }
    }
    Ok(actual)
}

fn bad_manifest(detail: &str) -> FlowFailure {
    FlowFailure::new(
        DiagnosisClass::ContentInvalid,
        detail,
        format!("invalid manifest: {detail}"),
    )
}
