//! `policy.json` (containers-policy.json(5)) read as containers/image v5.23 `signature`
//! reads it, and the verdict for the `docker` transport:
//!
//! - parsing is paranoid: unknown or duplicate keys, a missing `default`, an empty
//!   requirement list or an unknown requirement `type` are errors (c/image's texts, after
//!   `invalid policy in "<file>": `); `insecureAcceptAnything` and `reject` take no other
//!   field; `atomic` scopes must look like `host/namespace/stream:tag` (else `Unknown key`);
//!   `signedBy`, `signedBaseLayer` and `sigstoreSigned` are accepted without checking their
//!   fields (they are reported as unsupported, never evaluated);
//! - scope lookup (`requirementsForImageRef` with the docker transport's
//!   `PolicyConfigurationIdentity` / `PolicyConfigurationNamespaces`): `host/repo:tag` (or
//!   `@digest`), then `host/repo`, each parent namespace, the host (with port), then `*.domain`
//!   wildcards of the host without its port (v5.23 has them), then the transport's `""`
//!   scope, then `default`;
//! - requirements are evaluated in order and the first that does not accept decides.
//!
//! Syntax errors carry serde_json's text, not Go's `encoding/json` one.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::docker_ref::Named;

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `insecureAcceptAnything`.
    InsecureAcceptAnything,
    /// `reject`.
    Reject,
    /// `signedBy`, `signedBaseLayer`, `sigstoreSigned`: needs signatures (not evaluated).
    Signature(String),
}

/// The scopes of one transport: scope → requirements, in file order.
pub type TransportScopes = Vec<(String, Vec<Requirement>)>;

/// The parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `default`.
    pub default: Vec<Requirement>,
    /// `transports`: transport → scope → requirements (in file order).
    pub transports: Vec<(String, TransportScopes)>,
}

/// Where the verdict came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A `transports.docker` key (identity, namespace, host or `*.domain`).
    Docker(String),
    /// `transports.docker[""]`.
    TransportDefault,
    /// `default`.
    Default,
}

/// The policy's verdict for pulling a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Every requirement of the scope accepts (`insecureAcceptAnything`).
    Accept {
        /// The matching scope ("" for the transport's `""` scope or `default`).
        scope: String,
    },
    /// A `reject` requirement decides.
    Reject {
        /// The matching scope ("" for the transport's `""` scope or `default`).
        scope: String,
    },
    /// A signature requirement decides first; the harness does not verify signatures.
    Unsupported {
        /// The matching scope.
        scope: String,
        /// Its `type` (`signedBy`, `sigstoreSigned`, `signedBaseLayer`).
        requirement: String,
    },
}

/// The pull refused by the policy; `Display` is what podman / skopeo copy print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Source image rejected: Running image docker://{familiar} is rejected by policy.")]
pub struct PolicyRejected {
    /// The reference in Docker's familiar form (`busybox:latest` for Docker Hub images).
    pub familiar: String,
}

impl PolicyRejected {
    /// The rejection of `reference`.
    pub fn new(reference: &Named) -> Self {
        Self {
            familiar: reference.familiar(),
        }
    }
}

/// `NewPolicyFromBytes`; the error is c/image's text (without the file name).
pub fn parse(text: &str) -> Result<Policy, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut default = None;
    let mut transports = Vec::new();
    for (key, value) in object(&json)? {
        match key.as_str() {
            "default" => default = Some(requirements(value)?),
            "transports" => {
                for (transport, scopes) in object(value)? {
                    let mut parsed = Vec::new();
                    for (scope, reqs) in object(scopes)? {
                        if transport == "atomic" && !scope.is_empty() && !atomic_scope_ok(scope) {
                            return Err(format!("Unknown key {scope:?}"));
                        }
                        parsed.push((scope.clone(), requirements(reqs)?));
                    }
                    transports.push((transport.clone(), parsed));
                }
            }
            _ => return Err(format!("Unknown key {key:?}")),
        }
    }
    Ok(Policy {
        default: default.ok_or("Default policy is missing")?,
        transports,
    })
}

/// The openshift (`atomic`) transport's scope syntax: `^[^/]*(/[^:/]*(/[^:/]*(:[^:/]*)?)?)?$`.
fn atomic_scope_ok(scope: &str) -> bool {
    let mut parts = scope.splitn(3, '/');
    let _host = parts.next();
    let namespace = parts.next();
    let stream = parts.next();
    namespace.is_none_or(|n| !n.contains(':'))
        && stream.is_none_or(|s| !s.contains('/') && s.matches(':').count() <= 1)
}

/// The object's members, refusing duplicates (`Duplicate key`).
fn object(json: &Json) -> Result<&[(String, Json)], String> {
    let Json::Object(members) = json else {
        return Err(format!("JSON object expected, got \"{}\"", json.token()));
    };
    for (i, (key, _)) in members.iter().enumerate() {
        if members[..i].iter().any(|(k, _)| k == key) {
            return Err(format!("Duplicate key {key:?}"));
        }
    }
    Ok(members)
}

fn requirements(json: &Json) -> Result<Vec<Requirement>, String> {
    let items: &[Json] = match json {
        Json::Array(items) => items,
        Json::Null => &[],
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type []json.RawMessage",
                other.kind()
            ))
        }
    };
    if items.is_empty() {
        return Err("List of verification policy requirements must not be empty".into());
    }
    items.iter().map(requirement).collect()
}

fn requirement(json: &Json) -> Result<Requirement, String> {
    if !matches!(json, Json::Object(_)) {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type signature.prCommon",
            json.kind()
        ));
    }
    let members = object(json)?;
    let kind = members
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| match v {
            Json::String(s) => Ok(s.as_str()),
            other => Err(format!(
                "json: cannot unmarshal {} into Go struct field prCommon.type of type signature.prTypeIdentifier",
                other.kind()
            )),
        })
        .transpose()?
        .unwrap_or("");
    let exact_type_only = |req: Requirement| match members.iter().find(|(k, _)| k != "type") {
        Some((k, _)) => Err(format!("Unknown key {k:?}")),
        None => Ok(req),
    };
    match kind {
        "insecureAcceptAnything" => exact_type_only(Requirement::InsecureAcceptAnything),
        "reject" => exact_type_only(Requirement::Reject),
        "signedBy" | "signedBaseLayer" | "sigstoreSigned" => {
            Ok(Requirement::Signature(kind.to_string()))
        }
        other => Err(format!("Unknown policy requirement type {other:?}")),
    }
}

/// `DockerReferenceNamespaces`: repository, parent namespaces, host, then `*.domain`s.
pub fn docker_namespaces(reference: &Named) -> Vec<String> {
    let mut out = Vec::new();
    let mut name = reference.name();
    loop {
        out.push(name.clone());
        match name.rfind('/') {
            Some(i) => name.truncate(i),
            None => break,
        }
    }
    if let Some(i) = name.find(':') {
        name.truncate(i);
    }
    while let Some(i) = name.find('.') {
        name = name[i + 1..].to_string();
        out.push(format!("*.{name}"));
    }
    out
}

impl Policy {
    /// The requirements for a `docker` reference and the scope they came from.
    pub fn docker_requirements(&self, reference: &Named) -> (Scope, &[Requirement]) {
        if let Some((_, scopes)) = self.transports.iter().find(|(t, _)| t == "docker") {
            let lookup = |key: &str| scopes.iter().find(|(s, _)| s == key).map(|(_, r)| r);
            let identity = reference.full();
            for key in std::iter::once(identity).chain(docker_namespaces(reference)) {
                if let Some(reqs) = lookup(&key) {
                    return (Scope::Docker(key), reqs);
                }
            }
            if let Some(reqs) = lookup("") {
                return (Scope::TransportDefault, reqs);
            }
        }
        (Scope::Default, &self.default)
    }

    /// `IsRunningImageAllowed` for the docker transport, as far as it can be decided
    /// without signatures.
    pub fn decide(&self, reference: &Named) -> PolicyDecision {
        let (scope, reqs) = self.docker_requirements(reference);
        let scope = match scope {
            Scope::Docker(s) => s,
            Scope::TransportDefault | Scope::Default => String::new(),
        };
        for req in reqs {
            match req {
                Requirement::InsecureAcceptAnything => continue,
                Requirement::Reject => return PolicyDecision::Reject { scope },
                Requirement::Signature(kind) => {
                    return PolicyDecision::Unsupported {
                        scope,
                        requirement: kind.clone(),
                    }
                }
            }
        }
        PolicyDecision::Accept { scope }
    }
}

/// JSON that keeps every object member, duplicates included, in file order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool,
    Number,
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// How Go prints the first token of a value that should have been an object.
    fn token(&self) -> String {
        match self {
            Json::Array(_) => "[".into(),
            Json::String(s) => s.clone(),
            other => other.kind().into(),
        }
    }

    /// Go's name for the JSON type in unmarshal errors.
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "bool",
            Json::Number => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Bool)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Json, E> {
                Ok(Json::Number)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Json, E> {
                Ok(Json::Number)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Number)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
                Ok(Json::String(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Json, E> {
                Ok(Json::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    members.push((k, v));
                }
                Ok(Json::Object(members))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_config::enforce::docker_ref::parse_normalized_named;
    use rstest::rstest;

    fn named(s: &str) -> Named {
        parse_normalized_named(s).unwrap()
    }

    /// Seed 004's policy for `allowedRegistries` (example 9.1), docker part, plus the
    /// repository-scoped `reg1.io/myrepo/myapp:latest`.
    const OPENSHIFT: &str = r#"{ "default":[ { "type":"reject" } ], "transports":{ "atomic":{ "example.com":[ { "type":"insecureAcceptAnything" } ], "image-registry.openshift-image-registry.svc:5000":[ { "type":"insecureAcceptAnything" } ], "reg4.io/myrepo/myapp:latest":[ { "type":"insecureAcceptAnything" } ] }, "docker":{ "example.com":[ { "type":"insecureAcceptAnything" } ], "image-registry.openshift-image-registry.svc:5000":[ { "type":"insecureAcceptAnything" } ], "quay.io":[ { "type":"insecureAcceptAnything" } ], "reg1.io/myrepo/myapp:latest":[ { "type":"insecureAcceptAnything" } ], "registry.redhat.io":[ { "type":"insecureAcceptAnything" } ] }, "docker-daemon":{ "":[ { "type":"insecureAcceptAnything" } ] } } }"#;

    #[rstest]
    #[case("registry.redhat.io/rhel8/pcp:latest", Some("registry.redhat.io"))]
    #[case("reg1.io/myrepo/myapp:latest", Some("reg1.io/myrepo/myapp:latest"))]
    #[case(
        "image-registry.openshift-image-registry.svc:5000/ns/app:1",
        Some("image-registry.openshift-image-registry.svc:5000")
    )]
    #[case("quay.io/openshift-payload/release@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Some("quay.io"))]
    #[case("reg1.io/myrepo/myapp:v2", None)]
    #[case("reg1.io/myrepo/other:latest", None)]
    #[case("docker.io/library/busybox:latest", None)]
    #[case("sub.registry.redhat.io/x:1", None)]
    fn openshift_allowed_registries(#[case] reference: &str, #[case] accepted_by: Option<&str>) {
        let policy = parse(OPENSHIFT).unwrap();
        let want = match accepted_by {
            Some(scope) => PolicyDecision::Accept {
                scope: scope.into(),
            },
            None => PolicyDecision::Reject { scope: "".into() },
        };
        assert_eq!(policy.decide(&named(reference)), want);
    }

    /// TestPolicyContextRequirementsForImageRef (docker transport).
    #[rstest]
    #[case("deep.com/n1/n2/n3/repo:tag2", Scope::Docker("deep.com/n1/n2/n3/repo:tag2".into()))]
    #[case("deep.com/n1/n2/n3/repo:nottag2", Scope::Docker("deep.com/n1/n2/n3/repo".into()))]
    #[case("deep.com/n1/n2/n3/notrepo:tag2", Scope::Docker("deep.com/n1/n2/n3".into()))]
    #[case("deep.com/n1/n2/notn3/repo:tag2", Scope::Docker("deep.com/n1/n2".into()))]
    #[case("deep.com/n1/notn2/n3/repo:tag2", Scope::Docker("deep.com/n1".into()))]
    #[case("deep.com/notn1/n2/n3/repo:tag2", Scope::Docker("deep.com".into()))]
    #[case("very.deep.com/n1/n2/n3/repo:tag2", Scope::Docker("*.deep.com".into()))]
    #[case("not.very.deep.com/n1/n2/n3/repo:tag2", Scope::Docker("*.very.deep.com".into()))]
    #[case("this.does-not/match:anything", Scope::TransportDefault)]
    fn scope_lookup_like_c_image(#[case] reference: &str, #[case] want: Scope) {
        let scopes = [
            "",
            "unmatched",
            "deep.com",
            "*.very.deep.com",
            "*.deep.com",
            "deep.com/n1",
            "deep.com/n1/n2",
            "deep.com/n1/n2/n3",
            "deep.com/n1/n2/n3/repo",
            "deep.com/n1/n2/n3/repo:tag2",
        ];
        let members: Vec<String> = scopes
            .iter()
            .map(|s| format!("{s:?}: [{{\"type\": \"reject\"}}]"))
            .collect();
        let text = format!(
            "{{\"default\": [{{\"type\": \"reject\"}}], \"transports\": {{\"docker\": {{{}}}, \"atomic\": {{\"unmatched\": [{{\"type\": \"reject\"}}]}}}}}}",
            members.join(", ")
        );
        let policy = parse(&text).unwrap();
        assert_eq!(policy.docker_requirements(&named(reference)).0, want);
    }

    #[test]
    fn without_docker_scopes_the_default_applies() {
        let policy = parse(r#"{"default": [{"type": "insecureAcceptAnything"}], "transports": {"atomic": {"x.io": [{"type": "reject"}]}}}"#).unwrap();
        assert_eq!(
            policy.docker_requirements(&named("x.io/a:1")).0,
            Scope::Default
        );
        assert_eq!(
            policy.decide(&named("x.io/a:1")),
            PolicyDecision::Accept { scope: "".into() }
        );
    }

    #[rstest]
    #[case("docker.io/library/busybox", &["docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"])]
    #[case("example.com:8443/ns/repo", &["example.com:8443/ns/repo", "example.com:8443/ns", "example.com:8443", "*.com"])]
    #[case("a.b.example.com/r", &["a.b.example.com/r", "a.b.example.com", "*.b.example.com", "*.example.com", "*.com"])]
    #[case("localhost/r", &["localhost/r", "localhost"])]
    fn namespaces_like_c_image(#[case] reference: &str, #[case] want: &[&str]) {
        assert_eq!(docker_namespaces(&named(reference)), want);
    }

    #[rstest]
    #[case(&["insecureAcceptAnything", "reject"], "reject")]
    #[case(&["reject", "signedBy"], "reject")]
    #[case(&["insecureAcceptAnything", "sigstoreSigned"], "sigstoreSigned")]
    #[case(&["insecureAcceptAnything"], "accept")]
    fn first_refusing_requirement_decides(#[case] types: &[&str], #[case] want: &str) {
        let reqs: Vec<String> = types
            .iter()
            .map(|t| {
                if *t == "signedBy" || *t == "sigstoreSigned" {
                    format!("{{\"type\": \"{t}\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k\"}}")
                } else {
                    format!("{{\"type\": \"{t}\"}}")
                }
            })
            .collect();
        let policy = parse(&format!("{{\"default\": [{}]}}", reqs.join(", "))).unwrap();
        let got = match policy.decide(&named("quay.io/a:1")) {
            PolicyDecision::Accept { .. } => "accept".to_string(),
            PolicyDecision::Reject { .. } => "reject".to_string(),
            PolicyDecision::Unsupported { requirement, .. } => requirement,
        };
        assert_eq!(got, want);
    }

    #[rstest]
    #[case(r#"{}"#, "Default policy is missing")]
    #[case(
        r#"{"default": []}"#,
        "List of verification policy requirements must not be empty"
    )]
    #[case(
        r#"{"default": null}"#,
        "List of verification policy requirements must not be empty"
    )]
    #[case(
        r#"{"default": [{"type": "reject"}], "extra": 1}"#,
        "Unknown key \"extra\""
    )]
    #[case(
        r#"{"default": [{"type": "reject"}], "default": [{"type": "reject"}]}"#,
        "Duplicate key \"default\""
    )]
    #[case(
        r#"{"default": [{"type": "bogus"}]}"#,
        "Unknown policy requirement type \"bogus\""
    )]
    #[case(
        r#"{"default": [{"type": "reject", "keyType": "x"}]}"#,
        "Unknown key \"keyType\""
    )]
    #[case(r#"{"default": [{"type": "reject"}], "transports": {"docker": {"a": [{"type": "reject"}], "a": [{"type": "reject"}]}}}"#, "Duplicate key \"a\"")]
    #[case(r#"{"default": [{"type": "reject"}], "transports": {"atomic": {"a/b/c/d": [{"type": "reject"}]}}}"#, "Unknown key \"a/b/c/d\"")]
    #[case(r#"[]"#, "JSON object expected, got \"[\"")]
    #[case(
        r#"{"default": ["reject"]}"#,
        "json: cannot unmarshal string into Go value of type signature.prCommon"
    )]
    fn refuses_like_c_image(#[case] text: &str, #[case] message: &str) {
        assert_eq!(parse(text), Err(message.to_string()));
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(parse("{\"default\": [").unwrap_err().contains("line 1"));
    }

    #[test]
    fn rejection_text_uses_the_familiar_name() {
        assert_eq!(
            PolicyRejected::new(&named("busybox")).to_string(),
            "Source image rejected: Running image docker://busybox is rejected by policy."
        );
        assert_eq!(
            PolicyRejected::new(&named("quay.io/a/b:1")).to_string(),
            "Source image rejected: Running image docker://quay.io/a/b:1 is rejected by policy."
        );
    }
}
