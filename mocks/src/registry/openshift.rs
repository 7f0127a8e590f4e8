//! Authorisation like OpenShift's integrated image registry
//! (openshift/image-registry, `pkg/dockerregistry/server/auth.go` `AccessController`
//! and `token.go` `tokenHandler`), with the cluster replaced by a [`PullAuthorizer`].
//!
//! - Credentials (`getOpenShiftAPIToken`): the `Authorization` header is split at its
//!   first space. `Bearer X` uses `X` as the OpenShift token (`anonymous`, the token
//!   the token endpoint hands out without credentials, means no token); `Basic` uses
//!   the password, and an undecodable header or an empty password gives
//!   `ErrTokenInvalid`; no header or another scheme gives `ErrTokenRequired`.
//! - A non-empty token must authenticate (`verifyOpenShiftUser`, a SelfSubjectReview),
//!   else `ErrOpenShiftAccessDenied`, even on `/v2/`.
//! - `repository` records need a `<project>/<name>` name (`getNamespaceName`); `pull`
//!   needs `get` on `imagestreams/layers` in the project (a SelfSubjectAccessReview,
//!   here [`PullAuthorizer::may_pull`]; with no token the subject is
//!   `system:anonymous`, as `verifyWithAnonSAR` asks). Push, delete and the catalog
//!   need rights this mock never grants.
//! - `ErrTokenRequired` challenges `Bearer realm="<scheme>://<host>/openshift/token"`
//!   (no `service`); `ErrTokenInvalid` and `ErrOpenShiftAccessDenied` challenge
//!   `Basic realm=openshift,error="..."` (the realm unquoted, as `authChallenge`
//!   writes it; `openshift` is `openshift.auth.realm` in the image's `config.yml`).
//!   distribution's `App.authorized` answers every challenge with
//!   `401 UNAUTHORIZED` "authentication required" and the access records as detail.
//! - Other failures (a name without a project, an unsupported action or resource) are
//!   no challenge: distribution answers a bare `400` without a body.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hyper::HeaderMap;

use super::auth::{go_quote, Access};
use super::PullAuthorizer;

/// The token endpoint's path (`defaultTokenPath`), matched as a prefix like gorilla's
/// `PathPrefix`.
pub(crate) const TOKEN_PATH: &str = "/openshift/token";
/// `openshift.auth.realm` of the registry image's `/config.yml`.
const BASIC_REALM: &str = "openshift";
/// The token `tokenHandler` issues to requests without credentials (`anonymousToken`).
const ANONYMOUS_TOKEN: &str = "anonymous";
/// Whom the registry asks about when there is no token (`verifyWithAnonSAR`).
pub(crate) const ANONYMOUS_SUBJECT: &str = "system:anonymous";

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenShiftRefusal {
    /// `ErrTokenRequired`: the bearer challenge pointing at the token endpoint.
    TokenRequired,
    /// `ErrTokenInvalid` ("failed to decode credentials"): a Basic challenge.
    TokenInvalid,
    /// `ErrOpenShiftAccessDenied` ("access denied"): a Basic challenge.
    AccessDenied,
    /// A non-challenging error: distribution answers a bare 400.
    BadRequest(String),
}

/// What the token endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenAnswer {
    /// `200 {"access_token":..,"token":..}`.
    Token(String),
    /// `401` with an empty body (`writeUnauthorized`).
    Unauthorized,
    /// `401 {"details":..}` (`writeError`).
    Error(String),
}

/// The access controller and token handler of an OpenShift registry.
#[derive(Clone)]
pub(crate) struct OpenShiftController {
    /// The registry's public `host[:port]`, for the realm when a request names none.
    pub(crate) host: String,
    pub(crate) authorizer: Arc<dyn PullAuthorizer>,
}

impl OpenShiftController {
    /// Checks the request's credentials against `access`; the subject on success
    /// (`None`: anonymous).
    pub(crate) fn authorize(
        &self,
        headers: &HeaderMap,
        access: &[Access],
    ) -> Result<Option<String>, OpenShiftRefusal> {
        let header = authorization(headers);
        let token = match header.split_once(' ') {
            None => return Err(OpenShiftRefusal::TokenRequired),
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "bearer" if rest == ANONYMOUS_TOKEN => String::new(),
                "bearer" => rest.to_string(),
                "basic" => match basic_auth(&header) {
                    Some((_, password)) if !password.is_empty() => password,
                    _ => return Err(OpenShiftRefusal::TokenInvalid),
                },
                _ => return Err(OpenShiftRefusal::TokenRequired),
            },
        };
        let subject = if token.is_empty() {
            None
        } else {
            match self.authorizer.authenticate(&token) {
                Some(subject) => Some(subject),
                None => return Err(OpenShiftRefusal::AccessDenied),
            }
        };
        let who = subject.as_deref().unwrap_or(ANONYMOUS_SUBJECT);
        // A refused pull is deferred (it may be the source of a cross-repository
        // mount); without a push in the same request it is returned after the loop.
        let mut pull_refused = false;
        for a in access {
            match a.resource_type {
                "repository" => {
                    let (namespace, _) =
                        namespace_name(&a.name).map_err(OpenShiftRefusal::BadRequest)?;
                    match a.action {
                        "pull" => {
                            if !self.authorizer.may_pull(who, namespace) {
                                pull_refused = true;
                            }
                        }
                        // `update` on imagestreams/layers, or prune rights (`delete`
                        // on images): never granted by this mock.
                        "push" | "delete" => return Err(OpenShiftRefusal::AccessDenied),
                        _ => return Err(OpenShiftRefusal::BadRequest("unsupported action".into())),
                    }
                }
                // `list` on imagestreams cluster-wide: never granted by this mock.
                "registry" if a.name == "catalog" && a.action == "*" => {
                    return Err(OpenShiftRefusal::AccessDenied);
                }
                "registry" if a.name == "catalog" => {
                    return Err(OpenShiftRefusal::BadRequest("unsupported action".into()));
                }
                _ => return Err(OpenShiftRefusal::BadRequest("unsupported resource".into())),
            }
        }
        if pull_refused {
            return Err(OpenShiftRefusal::AccessDenied);
        }
        Ok(subject)
    }

    /// The `WWW-Authenticate` value for a refusal; `host` is the host the request
    /// named (`Host` or HTTP/2 authority), if any.
    pub(crate) fn challenge(
        &self,
        host: Option<&str>,
        refusal: &OpenShiftRefusal,
    ) -> Option<String> {
        let basic = |error: &str| format!("Basic realm={BASIC_REALM},error={}", go_quote(error));
        match refusal {
            OpenShiftRefusal::TokenRequired => {
                Some(format!("Bearer realm={}", go_quote(&self.realm(host))))
            }
            OpenShiftRefusal::TokenInvalid => Some(basic("failed to decode credentials")),
            OpenShiftRefusal::AccessDenied => Some(basic("access denied")),
            OpenShiftRefusal::BadRequest(_) => None,
        }
    }

    /// `https://<host>/openshift/token`. The registry auto-detects scheme and host
    /// from the request (`httprequest.SchemeHost`): the scheme is `https` because
    /// this mock is reached through a TLS front; the host is the one the request
    /// named, else the registry's own.
    pub(crate) fn realm(&self, host: Option<&str>) -> String {
        let host = host.filter(|h| !h.is_empty()).unwrap_or(&self.host);
        format!("https://{host}{TOKEN_PATH}")
    }

    /// `tokenHandler.ServeHTTP` for a GET.
    pub(crate) fn token(&self, headers: &HeaderMap, query: Option<&str>) -> TokenAnswer {
        let scopes: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .collect();
        // Go checks `params.Get("scope")`, the first value, before resolving them all.
        if scopes.first().is_some_and(|s| !s.is_empty()) {
            for spec in &scopes {
                let parts: Vec<&str> = spec.splitn(4, ':').collect();
                if parts.len() != 3 {
                    continue;
                }
                if matches!(resource_type(parts[0]), Some("repository" | "signature")) {
                    if let Err(e) = namespace_name(parts[1]) {
                        return TokenAnswer::Error(e);
                    }
                }
            }
        }
        let header = authorization(headers);
        if header.is_empty() {
            return TokenAnswer::Token(ANONYMOUS_TOKEN.into());
        }
        let Some((_, token)) = basic_auth(&header) else {
            return TokenAnswer::Unauthorized;
        };
        // An empty password is no OpenShift token; the API server would refuse it.
        if token.is_empty() || self.authorizer.authenticate(&token).is_none() {
            return TokenAnswer::Unauthorized;
        }
        TokenAnswer::Token(token)
    }
}

/// The first `Authorization` value (Go's `Header.Get`), or empty.
fn authorization(headers: &HeaderMap) -> String {
    headers
        .get(hyper::header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// Go's `parseBasicAuth`: a case-insensitive `Basic ` prefix, standard base64, and
/// user and password split at the first `:`.
fn basic_auth(header: &str) -> Option<(String, String)> {
    const PREFIX: &str = "Basic ";
    let prefix = header.get(..PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let decoded = STANDARD.decode(&header[PREFIX.len()..]).ok()?;
    let decoded = String::from_utf8_lossy(&decoded);
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// `getNamespaceName`: exactly `<project>/<name>`, both non-empty.
fn namespace_name(name: &str) -> Result<(&str, &str), String> {
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() != 2 {
        return Err(format!(
            "repository name {} invalid: it must be of the format <project>/<name>",
            go_quote(name)
        ));
    }
    if parts[0].is_empty() || parts[1].is_empty() {
        return Err("repository namespace required".into());
    }
    Ok((parts[0], parts[1]))
}

/// The resource type of a scope's first part, `^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$`
/// (`splitResourceClass`).
fn resource_type(t: &str) -> Option<&str> {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let (ty, rest) = match t.find('(') {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if !word(ty) {
        return None;
    }
    match rest {
        None => Some(ty),
        Some(rest) => match rest.strip_suffix(')') {
            Some(class) if word(class) => Some(ty),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names_are_project_and_name() {
        assert_eq!(namespace_name("project-b/app"), Ok(("project-b", "app")));
        assert_eq!(
            namespace_name("app").unwrap_err(),
            r#"repository name "app" invalid: it must be of the format <project>/<name>"#
        );
        assert!(namespace_name("a/b/c").is_err());
        assert_eq!(
            namespace_name("/app").unwrap_err(),
            "repository namespace required"
        );
    }

    #[test]
    fn basic_auth_is_gos() {
        // "user:pa:ss"
        assert_eq!(
            basic_auth("basic dXNlcjpwYTpzcw=="),
            Some(("user".into(), "pa:ss".into()))
        );
        assert_eq!(basic_auth("Basic dXNlcg=="), None); // no colon
        assert_eq!(basic_auth("Basic !!"), None);
        assert_eq!(basic_auth("Bearer x"), None);
        assert_eq!(basic_auth("Basi"), None);
    }

    #[test]
    fn scope_types_follow_the_regexp() {
        assert_eq!(resource_type("repository"), Some("repository"));
        assert_eq!(resource_type("repository(plugin)"), Some("repository"));
        assert_eq!(resource_type("Repository"), None);
        assert_eq!(resource_type("repository()"), None);
        assert_eq!(resource_type("repository(x"), None);
    }
}
