//! Pushing image content into a running [`Distribution`] through the registry HTTP API
//! (`POST /v2/NAME/blobs/uploads/`, `PUT ...&digest=`, `PUT /v2/NAME/manifests/REF`),
//! authorised by a token signed with the SSO's key granting `pull,push` on each
//! repository (the SSO's endpoint hands out pull-only tokens to its accounts).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;

use super::{Distribution, SERVICE};
use crate::registry::{export_content, ExportedRepository, ImageSpec, RegistryError};
use crate::scope::ResourceActions;
use crate::sso::TokenService;
use crate::token::TokenClaims;

/// Bound of each request of a push.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors pushing content.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The images could not be generated.
    #[error("image content: {0}")]
    Content(#[from] RegistryError),
    /// The push token could not be signed.
    #[error("signing the push token: {0}")]
    Token(String),
    /// A request failed or was refused.
    #[error("{request}: {message}")]
    Request {
        /// `METHOD path`.
        request: String,
        /// What went wrong (the status line and body, or the I/O error).
        message: String,
    },
}

impl Distribution {
    /// Pushes the content of `images` (the bytes a mock registry built from them would
    /// serve, so digests match) with a push token from `sso`.
    pub async fn push_images(
        &self,
        sso: &TokenService,
        images: &[ImageSpec],
    ) -> Result<(), PushError> {
        let repositories = export_content(images)?;
        self.push_content(sso, repositories).await
    }

    /// Pushes already generated content (what [`export_content`] returns), e.g. when
    /// the caller also needs the digests, or one big blob that should not be generated
    /// twice. Each request is bounded by 10 s of inactivity, not in total.
    pub async fn push_content(
        &self,
        sso: &TokenService,
        repositories: Vec<ExportedRepository>,
    ) -> Result<(), PushError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let claims = TokenClaims {
            jti: uuid::Uuid::new_v4().to_string(),
            exp: now + 600,
            nbf: now - 5,
            iat: now,
            iss: sso.issuer(),
            aud: SERVICE.to_string(),
            sub: "regharness-seeder".into(),
            typ: "Bearer".into(),
            azp: SERVICE.to_string(),
            access: repositories
                .iter()
                .map(|r| ResourceActions {
                    resource_type: "repository".into(),
                    name: r.name.clone(),
                    actions: vec!["pull".into(), "push".into()],
                })
                .collect(),
        };
        let token = sso
            .signing_key()
            .sign(&claims)
            .map_err(|e| PushError::Token(e.to_string()))?;
        let addr = self.addr();
        tokio::task::spawn_blocking(move || {
            for repository in &repositories {
                push_repository(addr, &token, repository)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| PushError::Request {
            request: "push".into(),
            message: e.to_string(),
        })?
    }
}

fn push_repository(
    addr: SocketAddr,
    token: &str,
    repo: &ExportedRepository,
) -> Result<(), PushError> {
    let name = &repo.name;
    for (digest, bytes) in &repo.blobs {
        let start = request(
            addr,
            token,
            "POST",
            &format!("/v2/{name}/blobs/uploads/"),
            None,
            &[202],
        )?;
        let location = start.location.ok_or_else(|| PushError::Request {
            request: format!("POST /v2/{name}/blobs/uploads/"),
            message: "202 without Location".into(),
        })?;
        let path = path_of(&location);
        let sep = if path.contains('?') { '&' } else { '?' };
        request(
            addr,
            token,
            "PUT",
            &format!("{path}{sep}digest={digest}"),
            Some(("application/octet-stream", bytes)),
            &[201],
        )?;
    }
    for (digest, media_type, bytes) in &repo.manifests {
        request(
            addr,
            token,
            "PUT",
            &format!("/v2/{name}/manifests/{digest}"),
            Some((media_type, bytes)),
            &[201],
        )?;
    }
    for (tag, digest) in &repo.tags {
        let Some((_, media_type, bytes)) = repo.manifests.iter().find(|(d, _, _)| d == digest)
        else {
            continue;
        };
        request(
            addr,
            token,
            "PUT",
            &format!("/v2/{name}/manifests/{tag}"),
            Some((media_type, bytes)),
            &[201],
        )?;
    }
    Ok(())
}

/// `/v2/...?query` of an absolute or relative `Location`.
fn path_of(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or_else(|| "/".into()),
        None => location.to_string(),
    }
}

struct Answer {
    location: Option<String>,
}

/// One HTTP/1.1 request (`Connection: close`), checked against `expect`ed statuses.
fn request(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &Bytes)>,
    expect: &[u16],
) -> Result<Answer, PushError> {
    let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
    let fail = |message: String| PushError::Request {
        request: what.clone(),
        message,
    };
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .map_err(|e| fail(format!("connecting to {addr}: {e}")))?;
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    let _ = stream.set_write_timeout(Some(REQUEST_TIMEOUT));
    let empty = Bytes::new();
    let (content_type, bytes) = body.unwrap_or(("application/octet-stream", &empty));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(bytes))
        .map_err(|e| fail(e.to_string()))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !expect.contains(&status) {
        let body: String = rest.chars().take(400).collect();
        return Err(fail(format!("{status_line}: {body}")));
    }
    let location = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("location")
            .then(|| v.trim().to_string())
    });
    Ok(Answer { location })
}
