//! Routing and handlers: `/v2/`, manifests, blobs, tags list, catalog.
//!
//! The order of checks follows distribution's `App.dispatcher`: route, then
//! authorisation, then the handler (digest parsing, method, content).

use std::collections::HashSet;
use std::sync::Mutex;

use bytes::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{access_detail, Access, BearerController, Refusal};
use super::body::RegistryBody;
use super::content::{Repository, Store, OCI_INDEX, OCI_MANIFEST};
use super::errors::{go_json, ErrorCode, RegistryErrorEntry};
use super::names::{valid_tag, validate_digest, validate_name};
use super::openshift::{OpenShiftController, OpenShiftRefusal, TokenAnswer, TOKEN_PATH};
use super::{AuthorizationKind, RequestRecord};

/// distribution's `blobCacheControlMaxAge`: 365 days.
const BLOB_CACHE_CONTROL: &str = "max-age=31536000";
/// Catalog page size when `n` is absent, and the largest allowed.
const CATALOG_DEFAULT_ENTRIES: usize = 100;
const CATALOG_MAX_ENTRIES: usize = 1000;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) bearer: Option<BearerController>,
    pub(crate) openshift: Option<OpenShiftController>,
    pub(crate) unauthorized_message: Option<String>,
    pub(crate) denied: HashSet<String>,
    pub(crate) blob_redirect: Option<String>,
    pub(crate) records: Mutex<Vec<RequestRecord>>,
}

/// How a manifest reference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference<'a> {
    Tag(&'a str),
    Digest(&'a str),
    /// Looks like a digest (has a `:`) but is not one: go-digest's complaint.
    BadDigest(&'static str),
}

impl<'a> Reference<'a> {
    /// `None` when the reference is neither a tag nor digest-like.
    fn parse(reference: &'a str) -> Option<Self> {
        if valid_tag(reference) {
            Some(Self::Tag(reference))
        } else if reference.contains(':') {
            Some(match validate_digest(reference) {
                Ok(()) => Self::Digest(reference),
                Err(e) => Self::BadDigest(e),
            })
        } else {
            None
        }
    }
}

/// A parsed API path.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    /// `/v2` → redirected to `/v2/` (gorilla's StrictSlash).
    BaseNoSlash,
    Base,
    Catalog,
    Tags(&'a str),
    Manifest(&'a str, Reference<'a>),
    Blob(&'a str, &'a str),
    BlobUpload(&'a str),
    NotFound,
}

fn parse_route(path: &str) -> Route<'_> {
    if path == "/v2" {
        return Route::BaseNoSlash;
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Route::NotFound;
    };
    if rest.is_empty() {
        return Route::Base;
    }
    if rest == "_catalog" {
        return Route::Catalog;
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Route::Tags(name);
    }
    if let Some(name) = rest.strip_suffix("/blobs/uploads") {
        return Route::BlobUpload(name);
    }
    if let Some((name, uuid)) = rest.rsplit_once("/blobs/uploads/") {
        if !uuid.contains('/') {
            return Route::BlobUpload(name);
        }
    }
    if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        if !reference.contains('/') {
            // A malformed tag does not match distribution's route: plain 404.
            return match Reference::parse(reference) {
                Some(reference) => Route::Manifest(name, reference),
                None => Route::NotFound,
            };
        }
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        if !digest.is_empty() && !digest.contains('/') {
            return Route::Blob(name, digest);
        }
    }
    Route::NotFound
}

/// A response under construction; `finish` adds the common headers.
struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    /// Whether to send `Content-Length` (not on 304).
    content_length: bool,
}

impl Reply {
    fn new(status: StatusCode, body: Bytes) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
            content_length: true,
        }
    }

    fn header(mut self, name: HeaderName, value: &str) -> Self {
        // `from_bytes` only rejects control characters, which none of our values hold.
        let value = HeaderValue::from_bytes(value.as_bytes())
            .unwrap_or_else(|_| HeaderValue::from_static("invalid"));
        self.headers.push((name, value));
        self
    }

    fn json(status: StatusCode, body: Bytes) -> Self {
        Self::new(status, body).header(header::CONTENT_TYPE, "application/json")
    }

    fn error(entry: RegistryErrorEntry) -> Self {
        Self::json(entry.status(), entry.body())
    }

    /// Go's `http.Error`: plain text with a newline.
    fn text(status: StatusCode, message: &str) -> Self {
        Self::new(status, Bytes::from(format!("{message}\n")))
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
    }

    fn not_found() -> Self {
        Self::text(StatusCode::NOT_FOUND, "404 page not found")
    }

    fn not_modified() -> Self {
        let mut r = Self::new(StatusCode::NOT_MODIFIED, Bytes::new());
        r.content_length = false;
        r
    }

    fn unsupported(allow: &str) -> Self {
        Self::error(RegistryErrorEntry::new(ErrorCode::Unsupported)).header(header::ALLOW, allow)
    }

    fn finish(self, head: bool) -> Response<RegistryBody> {
        let mut response = Response::new(if head || self.body.is_empty() {
            RegistryBody::empty()
        } else {
            RegistryBody::new(self.body.clone())
        });
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            HeaderName::from_static("docker-distribution-api-version"),
            HeaderValue::from_static("registry/2.0"),
        );
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        if self.content_length {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        response
    }
}

/// Answers one request and records it.
pub(crate) fn handle<B>(shared: &Shared, req: &Request<B>) -> Response<RegistryBody> {
    let head = req.method() == Method::HEAD;
    let response = route(shared, req).finish(head);
    let record = RequestRecord {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        host: request_host(req),
        status: response.status().as_u16(),
        authorization: authorization_kind(req.headers()),
    };
    tracing::debug!(
        method = %record.method,
        path = %record.path,
        status = record.status,
        "registry request"
    );
    shared
        .records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
    response
}

/// The `Host` header, or the HTTP/2 authority: the virtual host the client asked for.
fn request_host<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

fn authorization_kind(headers: &HeaderMap) -> AuthorizationKind {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return AuthorizationKind::None;
    };
    let value = String::from_utf8_lossy(value.as_bytes());
    let scheme = value.split(' ').next().unwrap_or_default();
    if scheme.eq_ignore_ascii_case("basic") {
        AuthorizationKind::Basic
    } else if scheme.eq_ignore_ascii_case("bearer") {
        AuthorizationKind::Bearer
    } else {
        AuthorizationKind::Other
    }
}

fn route<B>(shared: &Shared, req: &Request<B>) -> Reply {
    // gorilla/mux matches the decoded path.
    let Ok(path) = percent_decode_str(req.uri().path()).decode_utf8() else {
        return Reply::not_found();
    };
    let method = req.method();
    if let Some(openshift) = &shared.openshift {
        // gorilla's `PathPrefix`, registered for GET only.
        if path.starts_with(TOKEN_PATH) {
            if method != Method::GET {
                return Reply::new(StatusCode::METHOD_NOT_ALLOWED, Bytes::new());
            }
            return openshift_token(openshift, req);
        }
    }
    let route = parse_route(&path);

    // Syntax checks that come before authorisation.
    let name = match route {
        Route::NotFound => return Reply::not_found(),
        Route::BaseNoSlash => {
            return Reply::new(StatusCode::MOVED_PERMANENTLY, Bytes::new())
                .header(header::LOCATION, "/v2/");
        }
        Route::Base | Route::Catalog => None,
        Route::Tags(name)
        | Route::BlobUpload(name)
        | Route::Blob(name, _)
        | Route::Manifest(name, _) => Some(name),
    };
    if let Some(name) = name {
        if let Err(reason) = validate_name(name) {
            return Reply::error(
                RegistryErrorEntry::new(ErrorCode::NameInvalid)
                    .detail(json!(format!("repository name {name:?} invalid: {reason}"))),
            );
        }
    }

    // Authorisation.
    let access = match (&route, name) {
        (Route::Catalog, _) => Access::catalog(),
        (_, Some(name)) => Access::for_method(method, name),
        _ => Vec::new(),
    };
    if let Some(bearer) = &shared.bearer {
        if let Err(refusal) = bearer.authorize(req.headers(), &access) {
            return unauthorized(shared, bearer, &access, &refusal);
        }
    }
    if let Some(openshift) = &shared.openshift {
        match openshift.authorize(req.headers(), &access) {
            Ok(subject) => {
                tracing::debug!(
                    subject = subject.as_deref().unwrap_or("anonymous"),
                    "registry authorised"
                );
            }
            Err(refusal) => {
                let host = request_host(req);
                return openshift_refused(shared, openshift, host.as_deref(), &access, &refusal);
            }
        }
    }
    if let Some(name) = name {
        if shared.denied.contains(name) {
            return Reply::error(RegistryErrorEntry::new(ErrorCode::Denied));
        }
    }

    let repo = name.and_then(|n| shared.store.repositories.get(n));
    match route {
        // distribution's apiBase answers any method.
        Route::Base => Reply::json(StatusCode::OK, Bytes::from_static(b"{}")),
        Route::Catalog => {
            if method != Method::GET {
                return Reply::unsupported("GET");
            }
            catalog(shared, req)
        }
        Route::Tags(name) => {
            if method != Method::GET {
                return Reply::unsupported("GET");
            }
            tags(repo, name, req)
        }
        // Read-only: uploads cannot start, so none is ever known.
        Route::BlobUpload(_) => {
            if method == Method::GET || method == Method::HEAD {
                Reply::error(
                    RegistryErrorEntry::new(ErrorCode::BlobUploadUnknown)
                        .detail(json!("blob upload unknown")),
                )
            } else {
                Reply::unsupported("GET, HEAD")
            }
        }
        Route::Blob(name, digest) => {
            if let Err(e) = validate_digest(digest) {
                return Reply::error(
                    RegistryErrorEntry::new(ErrorCode::DigestInvalid).detail(json!(e)),
                );
            }
            if method != Method::GET && method != Method::HEAD {
                return Reply::unsupported("GET, HEAD");
            }
            blob(shared, repo, name, digest, req.headers())
        }
        Route::Manifest(name, reference) => {
            if method != Method::GET && method != Method::HEAD {
                return Reply::unsupported("GET, HEAD");
            }
            manifest(repo, name, reference, req.headers())
        }
        Route::BaseNoSlash | Route::NotFound => Reply::not_found(),
    }
}

fn unauthorized(
    shared: &Shared,
    bearer: &BearerController,
    access: &[Access],
    refusal: &Refusal,
) -> Reply {
    if let Refusal::InvalidToken(reason) = refusal {
        tracing::debug!(%reason, "registry refused a token");
    }
    let mut entry = RegistryErrorEntry::new(ErrorCode::Unauthorized).detail(access_detail(access));
    if let Some(message) = &shared.unauthorized_message {
        entry = entry.message(message.clone());
    }
    Reply::error(entry).header(header::WWW_AUTHENTICATE, &bearer.challenge(access, refusal))
}

/// distribution's `App.authorized` for the OpenShift access controller: a challenge
/// gives `401 UNAUTHORIZED`, anything else a bare 400.
fn openshift_refused(
    shared: &Shared,
    openshift: &OpenShiftController,
    host: Option<&str>,
    access: &[Access],
    refusal: &OpenShiftRefusal,
) -> Reply {
    let Some(challenge) = openshift.challenge(host, refusal) else {
        if let OpenShiftRefusal::BadRequest(reason) = refusal {
            tracing::debug!(%reason, "registry refused a request");
        }
        return Reply::new(StatusCode::BAD_REQUEST, Bytes::new());
    };
    let mut entry = RegistryErrorEntry::new(ErrorCode::Unauthorized).detail(access_detail(access));
    if let Some(message) = &shared.unauthorized_message {
        entry = entry.message(message.clone());
    }
    Reply::error(entry).header(header::WWW_AUTHENTICATE, &challenge)
}

/// OpenShift's `/openshift/token` (`tokenHandler`): the OpenShift token itself, once
/// it authenticates.
fn openshift_token<B>(openshift: &OpenShiftController, req: &Request<B>) -> Reply {
    match openshift.token(req.headers(), req.uri().query()) {
        TokenAnswer::Token(token) => Reply::json(
            StatusCode::OK,
            go_json(&json!({ "access_token": token, "token": token })),
        ),
        TokenAnswer::Unauthorized => Reply::new(StatusCode::UNAUTHORIZED, Bytes::new())
            .header(header::CONTENT_TYPE, "application/json"),
        TokenAnswer::Error(details) => Reply::json(
            StatusCode::UNAUTHORIZED,
            go_json(&json!({ "details": details })),
        ),
    }
}

/// Media types the `Accept` headers name (parameters and `q` ignored, like distribution).
fn accepted_types(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|t| {
                    t.split(';')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_ascii_lowercase()
                })
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether any `If-None-Match` value equals the digest, quoted or not (`etagMatch`).
fn etag_match(headers: &HeaderMap, digest: &str) -> bool {
    let quoted = format!("\"{digest}\"");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|v| v.as_bytes() == digest.as_bytes() || v.as_bytes() == quoted.as_bytes())
}

fn manifest(
    repo: Option<&Repository>,
    name: &str,
    reference: Reference<'_>,
    headers: &HeaderMap,
) -> Reply {
    let digest = match reference {
        Reference::Tag(tag) => match repo.and_then(|r| r.tags.get(tag)) {
            Some(d) => d.as_str(),
            None => {
                return Reply::error(
                    RegistryErrorEntry::new(ErrorCode::ManifestUnknown)
                        .detail(json!(format!("unknown tag={tag}"))),
                );
            }
        },
        Reference::Digest(d) => d,
        Reference::BadDigest(e) => {
            return Reply::error(
                RegistryErrorEntry::new(ErrorCode::DigestInvalid).detail(json!(e)),
            );
        }
    };
    if etag_match(headers, digest) {
        return Reply::not_modified();
    }
    let Some(stored) = repo.and_then(|r| r.manifests.get(digest)) else {
        return Reply::error(
            RegistryErrorEntry::new(ErrorCode::ManifestUnknown).detail(json!(format!(
                "unknown manifest name={name} revision={digest}"
            ))),
        );
    };
    let accepted = accepted_types(headers);
    let accepts = |t: &str| accepted.iter().any(|a| a == t);
    if stored.media_type == OCI_MANIFEST && !accepts(OCI_MANIFEST) {
        return Reply::error(
            RegistryErrorEntry::new(ErrorCode::ManifestUnknown)
                .message("OCI manifest found, but accept header does not support OCI manifests"),
        );
    }
    if stored.media_type == OCI_INDEX && !accepts(OCI_INDEX) {
        return Reply::error(
            RegistryErrorEntry::new(ErrorCode::ManifestUnknown)
                .message("OCI index found, but accept header does not support OCI indexes"),
        );
    }
    Reply::new(StatusCode::OK, stored.bytes.clone())
        .header(header::CONTENT_TYPE, stored.media_type)
        .header(HeaderName::from_static("docker-content-digest"), digest)
        .header(header::ETAG, &format!("\"{digest}\""))
}

fn blob(
    shared: &Shared,
    repo: Option<&Repository>,
    name: &str,
    digest: &str,
    headers: &HeaderMap,
) -> Reply {
    let Some(bytes) = repo.and_then(|r| r.blobs.get(digest)) else {
        return Reply::error(RegistryErrorEntry::new(ErrorCode::BlobUnknown).detail(json!(digest)));
    };
    if let Some(base) = &shared.blob_redirect {
        let location = format!("{base}/v2/{name}/blobs/{digest}");
        let body = format!("<a href=\"{location}\">Temporary Redirect</a>.\n\n");
        return Reply::new(StatusCode::TEMPORARY_REDIRECT, Bytes::from(body))
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::LOCATION, &location);
    }
    let etag = format!("\"{digest}\"");
    let common = |r: Reply| {
        r.header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, BLOB_CACHE_CONTROL)
            .header(HeaderName::from_static("docker-content-digest"), digest)
    };
    if if_none_match(headers, &etag) {
        return common(Reply::not_modified());
    }
    let size = bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .map(|r| parse_range(&String::from_utf8_lossy(r.as_bytes()), size));
    match range {
        Some(Err(message)) => Reply::text(StatusCode::RANGE_NOT_SATISFIABLE, message)
            .header(header::CONTENT_RANGE, &format!("bytes */{size}")),
        Some(Ok(Some((start, end)))) => common(
            Reply::new(
                StatusCode::PARTIAL_CONTENT,
                bytes.slice(start as usize..=end as usize),
            )
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::ACCEPT_RANGES, "bytes")
            .header(
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{size}"),
            ),
        ),
        None | Some(Ok(None)) => common(
            Reply::new(StatusCode::OK, bytes.clone())
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::ACCEPT_RANGES, "bytes"),
        ),
    }
}

/// `If-None-Match` as Go's `ServeContent` checks it: `*` or a weakly equal tag.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        String::from_utf8_lossy(v.as_bytes()).split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        })
    })
}

/// A single `bytes=` range, resolved against `size` to inclusive offsets.
/// `Ok(None)`: serve the whole blob (several ranges). `Err`: Go's 416 message.
fn parse_range(spec: &str, size: u64) -> Result<Option<(u64, u64)>, &'static str> {
    const INVALID: &str = "invalid range";
    const NO_OVERLAP: &str = "invalid range: failed to overlap";
    let Some(spec) = spec.trim().strip_prefix("bytes=") else {
        return Err(INVALID);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Err(INVALID);
    };
    let (start, end) = (start.trim(), end.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if start.is_empty() {
        // Suffix range: the last N bytes.
        if !digits(end) {
            return Err(INVALID);
        }
        let n: u64 = end.parse().map_err(|_| INVALID)?;
        if n == 0 || size == 0 {
            return Err(NO_OVERLAP);
        }
        return Ok(Some((size - n.min(size), size - 1)));
    }
    if !digits(start) {
        return Err(INVALID);
    }
    let start: u64 = start.parse().map_err(|_| INVALID)?;
    if start >= size {
        return Err(NO_OVERLAP);
    }
    let end = if end.is_empty() {
        size - 1
    } else {
        if !digits(end) {
            return Err(INVALID);
        }
        let end: u64 = end.parse().map_err(|_| INVALID)?;
        if start > end {
            return Err(INVALID);
        }
        end.min(size - 1)
    };
    Ok(Some((start, end)))
}

/// Query parameters, first value wins (Go's `Values.Get`).
fn query_param(req_query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req_query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// distribution's `createLinkEntry`: the request path with `last` and `n` (sorted).
fn link(path: &str, n: usize, last: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("last", last)
        .append_pair("n", &n.to_string())
        .finish();
    format!("<{path}?{query}>; rel=\"next\"")
}

fn tags<B>(repo: Option<&Repository>, name: &str, req: &Request<B>) -> Reply {
    let query = req.uri().query();
    let last = query_param(query, "last").unwrap_or_default();
    let mut limit: Option<usize> = None;
    if let Some(n) = query_param(query, "n").filter(|n| !n.is_empty()) {
        match n.parse::<i64>() {
            Ok(v) if v >= 0 => limit = Some(usize::try_from(v).unwrap_or(usize::MAX)),
            Ok(v) => return pagination_invalid(json!({ "n": v })),
            Err(_) => return pagination_invalid(json!({ "n": 0 })),
        }
    }
    let mut filled: Vec<&str> = Vec::new();
    let mut more = false;
    if limit != Some(0) {
        let Some(repo) = repo else {
            return Reply::error(
                RegistryErrorEntry::new(ErrorCode::NameUnknown).detail(json!({ "name": name })),
            );
        };
        let after = repo.tags.keys().filter(|t| t.as_str() > last.as_str());
        filled = match limit {
            Some(n) => after.take(n).map(String::as_str).collect(),
            None => after.map(String::as_str).collect(),
        };
        // distribution sets a Link whenever the page is full.
        more = limit.is_some_and(|n| filled.len() == n);
    }
    let body = go_json(&json!({ "name": name, "tags": filled }));
    let mut reply = Reply::json(StatusCode::OK, body);
    if more {
        let n = limit.unwrap_or_default();
        let last = filled.last().copied().unwrap_or_default();
        reply = reply.header(header::LINK, &link(req.uri().path(), n, last));
    }
    reply
}

fn pagination_invalid(detail: Value) -> Reply {
    Reply::error(RegistryErrorEntry::new(ErrorCode::PaginationNumberInvalid).detail(detail))
}

fn catalog<B>(shared: &Shared, req: &Request<B>) -> Reply {
    let query = req.uri().query();
    let last = query_param(query, "last").unwrap_or_default();
    let mut entries = CATALOG_DEFAULT_ENTRIES;
    if let Some(n) = query_param(query, "n").filter(|n| !n.is_empty()) {
        match n.parse::<i64>() {
            Ok(v) if v < 0 => return pagination_invalid(json!({ "n": n })),
            Err(_) => return pagination_invalid(json!({ "n": n })),
            Ok(v) if v as u64 > CATALOG_MAX_ENTRIES as u64 => {
                return pagination_invalid(json!({ "n": v }));
            }
            Ok(v) => entries = v as usize,
        }
    }
    let filled: Vec<&str> = shared
        .store
        .repositories
        .keys()
        .filter(|r| r.as_str() > last.as_str())
        .take(entries)
        .map(String::as_str)
        .collect();
    let more = entries > 0 && filled.len() == entries;
    let body = go_json(&json!({ "repositories": filled }));
    let mut reply = Reply::json(StatusCode::OK, body);
    if more {
        let last = filled.last().copied().unwrap_or_default();
        reply = reply.header(header::LINK, &link(req.uri().path(), entries, last));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(parse_route("/v2/"), Route::Base);
        assert_eq!(parse_route("/v2"), Route::BaseNoSlash);
        assert_eq!(parse_route("/v2/_catalog"), Route::Catalog);
        assert_eq!(
            parse_route("/v2/rhel8/pcp/tags/list"),
            Route::Tags("rhel8/pcp")
        );
        assert_eq!(
            parse_route("/v2/rhel8/pcp/manifests/latest"),
            Route::Manifest("rhel8/pcp", Reference::Tag("latest"))
        );
        assert_eq!(
            parse_route("/v2/a/manifests/b/blobs/sha256:x"),
            Route::Blob("a/manifests/b", "sha256:x")
        );
        assert_eq!(parse_route("/v2/a/blobs/uploads/"), Route::BlobUpload("a"));
        assert_eq!(
            parse_route("/v2/a/blobs/uploads/123"),
            Route::BlobUpload("a")
        );
        assert_eq!(parse_route("/v2/a/manifests/"), Route::NotFound);
        assert_eq!(parse_route("/v2/a/manifests/.x"), Route::NotFound);
        assert_eq!(
            parse_route("/v2/a/manifests/sha256:12"),
            Route::Manifest("a", Reference::BadDigest("invalid checksum digest length"))
        );
        assert_eq!(parse_route("/v1/x"), Route::NotFound);
        assert_eq!(parse_route("/v2/a"), Route::NotFound);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-1000", 100), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=50-1000", 100), Ok(Some((50, 99))));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(
            parse_range("bytes=100-", 100),
            Err("invalid range: failed to overlap")
        );
        assert_eq!(parse_range("bytes=5-1", 100), Err("invalid range"));
        assert_eq!(parse_range("items=0-1", 100), Err("invalid range"));
        assert_eq!(parse_range("bytes=a-b", 100), Err("invalid range"));
    }

    #[test]
    fn link_header_is_distributions() {
        assert_eq!(
            link("/v2/test/tags/list", 2, "asj9e"),
            "</v2/test/tags/list?last=asj9e&n=2>; rel=\"next\""
        );
    }
}
