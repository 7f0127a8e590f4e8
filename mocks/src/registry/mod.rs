//! A mock OCI distribution registry (pull side), faithful to CNCF distribution.
//!
//! Plain HTTP/1.1 and h2c on 127.0.0.1 (a [`TlsFront`](crate::TlsFront) adds TLS).
//! It serves `/v2/`, manifests by tag and digest, blobs, tags lists and the catalog,
//! GET and HEAD, with distribution's headers, error codes and bodies, and bearer
//! token authorisation like distribution's token access controller (or like
//! OpenShift's integrated registry, [`AuthMode::OpenShift`]). Content is real
//! and deterministic: gzip'd tar layers, image configs whose `diff_ids` match, Docker
//! schema 2 or OCI manifests, and OCI indexes for multi-arch images.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use regharness_mocks::{AuthMode, ImageSpec, MockRegistry};
//! let registry = MockRegistry::builder("registry.access.redhat.com")
//!     .auth(AuthMode::Anonymous)
//!     .image(ImageSpec::docker("rhel8/pcp", "latest"))
//!     .image(ImageSpec::multi_arch("ubi8/ubi-minimal", "latest", &["amd64", "arm64"]))
//!     .start()
//!     .await?;
//! println!("{} serves rhel8/pcp:latest as {:?}", registry.uri(),
//!          registry.manifest_digest("rhel8/pcp", "latest"));
//! # Ok(()) }
//! ```
//!
//! Where this mock knowingly differs from distribution v3, it is to be more useful as a
//! test double; the differences are listed on [`MockRegistry`].

mod auth;
mod body;
mod content;
mod errors;
mod names;
mod openshift;
mod routes;

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::token::TokenVerifier;

pub use content::{
    export as export_content, ExportedRepository, ImageSpec, DOCKER_CONFIG, DOCKER_LAYER,
    DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST,
};

use auth::BearerController;
use content::Store;
use openshift::OpenShiftController;

/// Who a token belongs to, as the authorizer decides.
///
/// [`AuthMode::OpenShift`] asks it what OpenShift's registry asks the API server: a
/// SelfSubjectReview for the token, then a SubjectAccessReview for `get` on
/// `imagestreams/layers` in the repository's project. Requests without a token (or
/// with the token endpoint's `anonymous` token) are asked about as
/// `system:anonymous`.
///
/// ```
/// use regharness_mocks::PullAuthorizer;
///
/// /// One service account per project, each pulling only from its own project.
/// struct OwnProjectOnly;
///
/// impl PullAuthorizer for OwnProjectOnly {
///     fn authenticate(&self, token: &str) -> Option<String> {
///         let project = token.strip_prefix("sha256~token-of-")?;
///         Some(format!("system:serviceaccount:{project}:default"))
///     }
///
///     fn may_pull(&self, subject: &str, namespace: &str) -> bool {
///         subject.strip_prefix("system:serviceaccount:")
///             .and_then(|rest| rest.split_once(':'))
///             .is_some_and(|(project, _)| project == namespace)
///     }
/// }
///
/// let authorizer = OwnProjectOnly;
/// let subject = authorizer.authenticate("sha256~token-of-project-a").unwrap();
/// assert!(authorizer.may_pull(&subject, "project-a"));
/// assert!(!authorizer.may_pull(&subject, "project-b"));
/// ```
pub trait PullAuthorizer: Send + Sync + 'static {
    /// The subject (e.g. `system:serviceaccount:project-a:default`) an OpenShift token authenticates as, or None when the token is unknown.
    fn authenticate(&self, token: &str) -> Option<String>;
    /// Whether `subject` may pull from `namespace` (the first path component of the repository, e.g. `project-b` of `project-b/app`).
    fn may_pull(&self, subject: &str, namespace: &str) -> bool;
}

/// How the registry decides who may read.
#[derive(Clone)]
pub enum AuthMode {
    /// Everything is readable without credentials (registry.access.redhat.com).
    Anonymous,
    /// Docker registry token authentication (registry.redhat.io): requests need a
    /// bearer token from `realm` that `verifier` accepts and whose `access` covers the
    /// repository and action.
    Bearer {
        /// Token endpoint URL put in the challenge, e.g.
        /// `https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth`.
        realm: String,
        /// The `service` of the challenge, and the audience tokens must carry.
        service: String,
        /// Checks signature, issuer, audience and validity window.
        verifier: TokenVerifier,
    },
    /// OpenShift's integrated registry
    /// (`image-registry.openshift-image-registry.svc:5000`): OpenShift tokens, as the
    /// bearer token or the Basic password, checked against the cluster's RBAC.
    ///
    /// - No credentials: `401 UNAUTHORIZED` "authentication required", challenged
    ///   with `Bearer realm="https://HOST/openshift/token"` (no `service`), where HOST
    ///   is the `Host` the request named (else the builder's host, which may carry a
    ///   port).
    /// - `GET /openshift/token` (any path under it): with Basic credentials whose
    ///   password `authenticate`s, `200 {"access_token":T,"token":T}` with T that
    ///   password; without an `Authorization` header, the token `anonymous`; with
    ///   other credentials, `401` and an empty body.
    /// - A token that does not authenticate (even on `/v2/`), or a pull `may_pull`
    ///   refuses: `401 UNAUTHORIZED` "authentication required" with the access
    ///   records as detail, challenged with `Basic realm=openshift,error="access
    ///   denied"`; clients report `unauthorized: authentication required`.
    /// - A Basic header that does not decode, or an empty password:
    ///   `Basic realm=openshift,error="failed to decode credentials"`.
    /// - A repository name that is not `<project>/<name>`, for a caller whose token
    ///   is good: a bare `400`. Push, delete and the catalog are refused (`access
    ///   denied`): the mock grants no such rights.
    ///
    /// Differences: the registry does not advertise
    /// `X-Registry-Supports-Signatures` (the signature extension API is not served),
    /// and there is no pull-through.
    ///
    /// ```no_run
    /// # async fn demo(authorizer: std::sync::Arc<dyn regharness_mocks::PullAuthorizer>)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// use regharness_mocks::{AuthMode, ImageSpec, MockRegistry};
    /// let registry = MockRegistry::builder("image-registry.openshift-image-registry.svc:5000")
    ///     .auth(AuthMode::OpenShift { authorizer })
    ///     .image(ImageSpec::docker("project-b/app", "latest"))
    ///     .start()
    ///     .await?;
    /// # drop(registry); Ok(()) }
    /// ```
    OpenShift {
        /// Authenticates tokens and decides pulls.
        authorizer: Arc<dyn PullAuthorizer>,
    },
}

impl fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Bearer { realm, service, .. } => f
                .debug_struct("Bearer")
                .field("realm", realm)
                .field("service", service)
                .finish_non_exhaustive(),
            Self::OpenShift { .. } => f.debug_struct("OpenShift").finish_non_exhaustive(),
        }
    }
}

/// Which `Authorization` scheme a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorizationKind {
    /// No `Authorization` header.
    None,
    /// `Basic ...`.
    Basic,
    /// `Bearer ...`.
    Bearer,
    /// Some other scheme.
    Other,
}

/// One request the registry answered, for assertions and transcripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request path as sent (not percent-decoded), e.g. `/v2/rhel8/pcp/manifests/latest`.
    pub path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// The `Host` header (or HTTP/2 authority): the virtual host the client asked for.
    pub host: Option<String>,
    /// The response status.
    pub status: u16,
    /// The scheme of the `Authorization` header.
    pub authorization: AuthorizationKind,
}

/// Why a registry could not start.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An image or denied repository name is not a valid repository name.
    #[error("invalid repository name {name:?}: {reason}")]
    InvalidRepository {
        /// The rejected name.
        name: String,
        /// distribution's reason.
        reason: String,
    },
    /// A tag does not match `[\w][\w.-]{0,127}`.
    #[error("invalid tag {tag:?}: a tag matches [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")]
    InvalidTag {
        /// The rejected tag.
        tag: String,
    },
    /// Two images were given for the same repository and tag.
    #[error("{repository}:{tag} is defined twice")]
    DuplicateTag {
        /// The repository.
        repository: String,
        /// The tag.
        tag: String,
    },
    /// A multi-arch image without platforms.
    #[error("multi-arch image {repository}:{tag} lists no platforms")]
    NoPlatforms {
        /// The repository.
        repository: String,
        /// The tag.
        tag: String,
    },
    /// A platform is not `ARCH` or `OS/ARCH[/VARIANT]`, or is listed twice.
    #[error("invalid platform {platform:?}: expected ARCH or OS/ARCH[/VARIANT], such as amd64 or linux/arm64/v8")]
    InvalidPlatform {
        /// The rejected platform.
        platform: String,
    },
    /// The blob redirect base is not an absolute http(s) URL.
    #[error("invalid blob redirect base {url:?}: expected an absolute http or https URL")]
    InvalidRedirect {
        /// The rejected URL.
        url: String,
    },
    /// Generating the image content failed.
    #[error("generating image content failed: {0}")]
    Content(String),
    /// The listener could not be bound.
    #[error("cannot bind the registry on 127.0.0.1: {0}")]
    Bind(#[source] io::Error),
}

/// A mock registry being configured; [`MockRegistry::start`] serves it.
///
/// Behaviour follows CNCF distribution v3 (`registry/handlers`, `registry/auth/token`),
/// read-only, with these deliberate differences:
/// - An unsupported method on a known route answers `405` with an `UNSUPPORTED` JSON
///   body and an `Allow` header (distribution's router answers a plain-text 405).
/// - A malformed digest in a blob or manifest reference answers `400 DIGEST_INVALID`
///   with go-digest's message as `detail`, even where distribution's router would not
///   match the route (plain-text 404); a malformed repository name answers
///   `400 NAME_INVALID` before authorisation. A malformed tag, or a path outside the
///   API, gets distribution's plain-text `404 page not found`.
/// - Repository names are path components only (no registry-host component).
/// - A multi-range `Range` header is ignored (the whole blob is served).
#[derive(Debug, Clone)]
pub struct MockRegistry {
    host: String,
    auth: AuthMode,
    unauthenticated_message: Option<String>,
    images: Vec<ImageSpec>,
    denied: Vec<String>,
    blob_redirect: Option<String>,
}

impl MockRegistry {
    /// Starts configuring a registry for the virtual host `host` (e.g.
    /// `registry.redhat.io`). Anonymous by default, with no images.
    pub fn builder(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            auth: AuthMode::Anonymous,
            unauthenticated_message: None,
            images: Vec::new(),
            denied: Vec::new(),
            blob_redirect: None,
        }
    }

    /// Sets the authorisation mode.
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// Replaces the `message` of every `UNAUTHORIZED` body (distribution's default is
    /// `authentication required`), e.g. registry.redhat.io's "Please login to the Red
    /// Hat Registry using your Customer Portal credentials. ...".
    pub fn unauthenticated_message(mut self, message: impl Into<String>) -> Self {
        self.unauthenticated_message = Some(message.into());
        self
    }

    /// Adds an image. Calls accumulate: a repository may get several tags, and the
    /// same tag may exist in several repositories; the same repository and tag twice
    /// is an error at [`start`](Self::start).
    pub fn image(mut self, image: ImageSpec) -> Self {
        self.images.push(image);
        self
    }

    /// Adds several images.
    pub fn images(mut self, images: impl IntoIterator<Item = ImageSpec>) -> Self {
        self.images.extend(images);
        self
    }

    /// Refuses every request for `repository` that passes authorisation with
    /// `403 DENIED` ("requested access to the resource is denied"), e.g. content the
    /// account is not entitled to.
    pub fn deny(mut self, repository: impl Into<String>) -> Self {
        self.denied.push(repository.into());
        self
    }

    /// Answers blob GET/HEAD with `307 Temporary Redirect` to
    /// `{base}/v2/{name}/blobs/{digest}`, as registries fronted by a CDN do
    /// (`https://cdn01.quay.io`). Serve the CDN host with another registry built from
    /// the same images (anonymous): the content is deterministic, so digests match.
    pub fn blob_redirect(mut self, base: impl Into<String>) -> Self {
        self.blob_redirect = Some(base.into());
        self
    }

    /// Generates the content and starts serving on 127.0.0.1 (random port).
    pub async fn start(self) -> Result<RunningRegistry, RegistryError> {
        let mut denied = HashSet::new();
        for name in self.denied {
            names::validate_name(&name).map_err(|reason| RegistryError::InvalidRepository {
                name: name.clone(),
                reason: reason.to_string(),
            })?;
            denied.insert(name);
        }
        let blob_redirect = match self.blob_redirect {
            None => None,
            Some(base) => match url::Url::parse(&base) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    Some(base.trim_end_matches('/').to_string())
                }
                _ => return Err(RegistryError::InvalidRedirect { url: base }),
            },
        };
        let images = self.images;
        let store = tokio::task::spawn_blocking(move || Store::build(&images))
            .await
            .map_err(|e| RegistryError::Content(e.to_string()))??;
        let (bearer, openshift) = match self.auth {
            AuthMode::Anonymous => (None, None),
            AuthMode::Bearer {
                realm,
                service,
                verifier,
            } => (
                Some(BearerController {
                    realm,
                    service,
                    verifier,
                }),
                None,
            ),
            AuthMode::OpenShift { authorizer } => (
                None,
                Some(OpenShiftController {
                    host: self.host.clone(),
                    authorizer,
                }),
            ),
        };
        let shared = Arc::new(routes::Shared {
            store,
            bearer,
            openshift,
            unauthorized_message: self.unauthenticated_message,
            denied,
            blob_redirect,
            records: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(RegistryError::Bind)?;
        let addr = listener.local_addr().map_err(RegistryError::Bind)?;
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(RunningRegistry {
            addr,
            host: self.host,
            shared,
            task: Some(task),
        })
    }
}

/// A registry being served. Dropping it (or [`shutdown`](Self::shutdown)) stops the
/// listener and closes every connection.
pub struct RunningRegistry {
    addr: SocketAddr,
    host: String,
    shared: Arc<routes::Shared>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningRegistry")
            .field("addr", &self.addr)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl RunningRegistry {
    /// The loopback address the registry listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL to reach it directly.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The virtual host it stands for, e.g. `registry.redhat.io`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The digest of the manifest `repository:tag` points at (the index for a
    /// multi-arch image), `sha256:...`.
    pub fn manifest_digest(&self, repository: &str, tag: &str) -> Option<String> {
        self.shared
            .store
            .repositories
            .get(repository)?
            .tags
            .get(tag)
            .cloned()
    }

    /// The digest of one platform's image manifest inside a multi-arch image;
    /// `platform` is written as for [`ImageSpec::multi_arch`] (`arm64`,
    /// `linux/arm64/v8`).
    pub fn platform_manifest_digest(
        &self,
        repository: &str,
        tag: &str,
        platform: &str,
    ) -> Option<String> {
        let repo = self.shared.store.repositories.get(repository)?;
        repo.platforms
            .get(tag)?
            .iter()
            .find(|(p, _)| {
                let full = p.to_string();
                full == platform
                    || (p.os == "linux" && p.variant.is_none() && p.architecture == platform)
            })
            .map(|(_, d)| d.clone())
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Stops serving and waits until the listener and all connections are closed.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for RunningRegistry {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<routes::Shared>) {
    // Connections live in the set, so aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let response = routes::handle(&shared, &req);
                        std::future::ready(Ok::<_, Infallible>(response))
                    });
                    let builder = auto::Builder::new(TokioExecutor::new());
                    if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                        tracing::debug!(error = %e, "registry connection ended");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
