//! Authorisation like distribution's token access controller
//! (`registry/auth/token/accesscontroller.go`) and `App.authorized`.
//!
//! - The `Authorization` header is split at its first space; the scheme must be
//!   `bearer` (any case) and the token non-empty, else the token is "required" and the
//!   challenge carries no `error`.
//! - A token that cannot be parsed, is signed by an untrusted key, or has the wrong
//!   issuer, audience or validity window gives `error="invalid_token"`.
//! - A token whose signature does not verify against a trusted key fails in
//!   distribution with go-jose's own error, which is neither `ErrInvalidToken` nor
//!   `ErrMalformedToken`, so that challenge has no `error` parameter either.
//! - A valid token whose `access` lacks one of the requested actions gives
//!   `error="insufficient_scope"`.
//!
//! Every refusal is a 401 whose body is `UNAUTHORIZED` with the requested access
//! records as `detail` (`null` for the base route), and whose challenge is
//! `Bearer realm="..",service=".."[,scope=".."][,error=".."]`.

use hyper::HeaderMap;
use serde_json::{json, Value};

use crate::token::{TokenError, TokenVerifier};

/// One access record: `repository:rhel8/pcp` + `pull`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) resource_type: &'static str,
    pub(crate) name: String,
    pub(crate) action: &'static str,
}

impl Access {
    /// The access records distribution requests for `method` on a repository
    /// (`appendAccessRecords`).
    pub(crate) fn for_method(method: &hyper::Method, repository: &str) -> Vec<Access> {
        let record = |action| Access {
            resource_type: "repository",
            name: repository.to_string(),
            action,
        };
        match *method {
            hyper::Method::GET | hyper::Method::HEAD => vec![record("pull")],
            hyper::Method::POST | hyper::Method::PUT | hyper::Method::PATCH => {
                vec![record("pull"), record("push")]
            }
            hyper::Method::DELETE => vec![record("delete")],
            _ => Vec::new(),
        }
    }

    /// The catalog's access record (`appendCatalogAccessRecord`).
    pub(crate) fn catalog() -> Vec<Access> {
        vec![Access {
            resource_type: "registry",
            name: "catalog".into(),
            action: "*",
        }]
    }

    /// The record as Go's `json.Marshal(auth.Access)` writes it (no JSON tags, the
    /// embedded `Resource` flattened): `{"Type":..,"Class":"","Name":..,"Action":..}`.
    fn detail(&self) -> Value {
        json!({
            "Type": self.resource_type,
            "Class": "",
            "Name": self.name,
            "Action": self.action,
        })
    }
}

/// The `detail` of an `UNAUTHORIZED` body: the access records, or `null` when none
/// were requested (distribution passes a nil slice).
pub(crate) fn access_detail(access: &[Access]) -> Value {
    if access.is_empty() {
        Value::Null
    } else {
        Value::Array(access.iter().map(Access::detail).collect())
    }
}

/// Why a request was refused; decides the challenge's `error` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No usable bearer token (none, Basic, empty).
    TokenRequired,
    /// `error="invalid_token"`.
    InvalidToken(String),
    /// The signature did not verify: distribution adds no `error` parameter.
    BadSignature,
    /// `error="insufficient_scope"`.
    InsufficientScope,
}

impl Refusal {
    fn error_param(&self) -> Option<&'static str> {
        match self {
            Self::TokenRequired | Self::BadSignature => None,
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope => Some("insufficient_scope"),
        }
    }
}

/// A bearer-token access controller.
#[derive(Clone)]
pub(crate) struct BearerController {
    pub(crate) realm: String,
    pub(crate) service: String,
    pub(crate) verifier: TokenVerifier,
}

impl BearerController {
    /// Checks the request's token against `access`.
    pub(crate) fn authorize(&self, headers: &HeaderMap, access: &[Access]) -> Result<(), Refusal> {
        let header = headers
            .get(hyper::header::AUTHORIZATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let raw = match header.split_once(' ') {
            Some((scheme, raw)) if scheme.eq_ignore_ascii_case("bearer") && !raw.is_empty() => raw,
            _ => return Err(Refusal::TokenRequired),
        };
        let claims = self.verifier.verify(raw).map_err(|e| match e {
            TokenError::BadSignature => Refusal::BadSignature,
            other => Refusal::InvalidToken(other.to_string()),
        })?;
        for a in access {
            if !claims
                .access
                .iter()
                .any(|granted| granted.grants(a.resource_type, &a.name, a.action))
            {
                return Err(Refusal::InsufficientScope);
            }
        }
        Ok(())
    }

    /// The `WWW-Authenticate` value for a refusal.
    pub(crate) fn challenge(&self, access: &[Access], refusal: &Refusal) -> String {
        let mut s = format!(
            "Bearer realm={},service={}",
            go_quote(&self.realm),
            go_quote(&self.service)
        );
        let scope = scope_param(access);
        if !scope.is_empty() {
            s.push_str(&format!(",scope={}", go_quote(&scope)));
        }
        if let Some(error) = refusal.error_param() {
            s.push_str(&format!(",error={}", go_quote(error)));
        }
        s
    }
}

/// `type:name:action[,action]` per resource, resources separated by spaces, in the
/// order first requested (distribution iterates a map, so its order is unspecified).
fn scope_param(access: &[Access]) -> String {
    let mut resources: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for a in access {
        match resources
            .iter_mut()
            .find(|(t, n, _)| *t == a.resource_type && *n == a.name)
        {
            Some((_, _, actions)) => {
                if !actions.contains(&a.action) {
                    actions.push(a.action);
                }
            }
            None => resources.push((a.resource_type, &a.name, vec![a.action])),
        }
    }
    resources
        .iter()
        .map(|(t, n, actions)| format!("{t}:{n}:{}", actions.join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Go's `%q` for the strings a challenge holds: double quotes, with `"` and `\`
/// escaped and control characters written as escapes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_groups_actions_per_resource() {
        let access = Access::for_method(&hyper::Method::PUT, "rhel8/pcp");
        assert_eq!(scope_param(&access), "repository:rhel8/pcp:pull,push");
        assert_eq!(scope_param(&[]), "");
        assert_eq!(scope_param(&Access::catalog()), "registry:catalog:*");
    }

    #[test]
    fn detail_is_go_access_records() {
        let access = Access::for_method(&hyper::Method::GET, "rhel");
        assert_eq!(
            access_detail(&access).to_string(),
            r#"[{"Type":"repository","Class":"","Name":"rhel","Action":"pull"}]"#
        );
        assert_eq!(access_detail(&[]), Value::Null);
    }

    #[test]
    fn quoting_escapes_quotes() {
        assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
