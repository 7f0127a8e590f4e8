//! The objects `oc` creates and changes for pull secrets (SPEC.md §4), as k8s-openapi
//! types, built the way the commands build them:
//!
//! - `oc create secret generic|docker-registry` (kubectl's `create_secret.go`,
//!   `create_secret_docker.go`, vendored by oc);
//! - `oc secrets link|unlink` (openshift/oc `pkg/cli/secrets/link.go`, `unlink.go`);
//! - `oc policy add-role-to-user|add-role-to-group` (openshift/oc
//!   `pkg/cli/admin/policy/modify_roles.go`, `policy.go`);
//! - `oc set build-secret --pull` (the BuildConfig fragment it writes).
//!
//! Names are checked as the API server checks them (kubectl's `--dry-run=client` does
//! not), and errors read like the messages `oc` prints.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine;
use k8s_openapi::api::core::v1::{LocalObjectReference, ObjectReference, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;

use super::printer::go_json_string;

/// The data key of a `kubernetes.io/dockercfg` secret.
pub const DOCKERCFG_KEY: &str = ".dockercfg";
/// The data key of a `kubernetes.io/dockerconfigjson` secret.
pub const DOCKERCONFIGJSON_KEY: &str = ".dockerconfigjson";
/// The type of a secret holding a legacy `.dockercfg`.
pub const TYPE_DOCKERCFG: &str = "kubernetes.io/dockercfg";
/// The type of a secret holding a `config.json`.
pub const TYPE_DOCKERCONFIGJSON: &str = "kubernetes.io/dockerconfigjson";
/// The type the API server gives a secret created without one.
pub const TYPE_OPAQUE: &str = "Opaque";
/// The RBAC API group, as role references and user/group subjects name it.
pub const RBAC_API_GROUP: &str = "rbac.authorization.k8s.io";
/// The user-name prefix of service accounts (`system:serviceaccount:NS:NAME`).
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";
/// The group of every service account (`system:serviceaccounts:NS` holds those of one
/// namespace).
pub const SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// The group of every authenticated user, service accounts included.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

/// Something `oc` (or the API server behind it) refuses. Messages are the ones `oc`
/// prints after `error: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// The API server's validation failed (`The Secret "Bad_Name" is invalid: ...`).
    #[error("{}", invalid_message(kind, name, causes))]
    Invalid {
        /// The kind, as the API server names it (`Secret`).
        kind: &'static str,
        /// The object's name.
        name: String,
        /// One field error each (`metadata.name: Invalid value: "x": ...`).
        causes: Vec<String>,
    },
    /// A data key kubectl rejects (not `[-._a-zA-Z0-9]+`, longer than 253 characters,
    /// `.`, `..` or starting with `..`).
    #[error("{} is not valid key name for a Secret {}", go_quote(key), reasons.join(";"))]
    InvalidKey {
        /// The key.
        key: String,
        /// What is wrong with it, in kubectl's words.
        reasons: Vec<String>,
    },
    /// Two files for the same key.
    #[error("cannot add key {key}, another key by that name already exists")]
    DuplicateKey {
        /// The key given twice.
        key: String,
    },
    /// `create secret docker-registry` without a server, user name or password.
    #[error("either --from-file or the combination of --docker-username, --docker-password and --docker-server is required")]
    MissingDockerRegistryFlags,
    /// A user that starts with `system:serviceaccount:` but is not
    /// `system:serviceaccount:NAMESPACE:NAME` with valid names.
    #[error(
        "{}: Username must be in the form system:serviceaccount:namespace:name",
        go_quote(user)
    )]
    InvalidServiceAccountUser {
        /// The user as given.
        user: String,
    },
    /// An `oc secrets link --for` value other than `pull` and `mount`.
    #[error("unknown for: {0}")]
    UnknownLinkFor(String),
}

/// kubectl's rendering of an invalid-object status error (`MultilineError`).
fn invalid_message(kind: &str, name: &str, causes: &[String]) -> String {
    let prefix = format!("The {kind} {} is invalid: ", go_quote(name));
    match causes {
        [] => prefix.trim_end().to_string(),
        [one] => format!("{prefix}{one}"),
        many => {
            let mut text = format!("{prefix}\n");
            for cause in many {
                text.push_str(&format!("* {cause}\n"));
            }
            text.trim_end().to_string()
        }
    }
}

/// Go's `%q` (`strconv.Quote`) for the strings that appear in messages: `"` and `\`
/// escaped, control characters as `\n`, `\t`, ... or `\xNN`.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const DNS1123_LABEL_MAX: usize = 63;

/// apimachinery's `RegexError`.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut text = format!("{msg} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            text.push_str(" or ");
        }
        text.push_str(&format!("'{example}', "));
    }
    text.push_str(&format!("regex used for validation is '{fmt}')"));
    text
}

fn is_dns1123_label_text(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && alnum(&b[0])
        && alnum(&b[b.len() - 1])
        && b.iter().all(|c| alnum(c) || *c == b'-')
}

/// apimachinery's `IsDNS1123Subdomain`: what is wrong with `value` as the name of a
/// Secret, ServiceAccount, RoleBinding, ... (empty when nothing is).
pub fn dns1123_subdomain_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        problems.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
        ));
    }
    if !value.split('.').all(is_dns1123_label_text) {
        problems.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            &format!("{DNS1123_LABEL_FMT}(\\.{DNS1123_LABEL_FMT})*"),
            &["example.com"],
        ));
    }
    problems
}

/// apimachinery's `IsDNS1123Label`: what is wrong with `value` as a namespace name
/// (empty when nothing is).
pub fn dns1123_label_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        problems.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    if !is_dns1123_label_text(value) {
        problems.push(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    problems
}

/// apimachinery's `IsConfigMapKey` (also the rule for Secret keys): what is wrong with
/// `key` (empty when nothing is).
pub fn data_key_problems(key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if key.len() > DNS1123_SUBDOMAIN_MAX {
        problems.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
        ));
    }
    let valid_chars = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));
    if !valid_chars {
        problems.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if key == "." {
        problems.push("must not be '.'".to_string());
    } else if key == ".." {
        problems.push("must not be '..'".to_string());
    } else if key.starts_with("..") {
        problems.push("must not start with '..'".to_string());
    }
    problems
}

/// The API server's checks of a namespaced object's `metadata.name` (a DNS-1123
/// subdomain) and `metadata.namespace` (a DNS-1123 label), as the error `oc` prints.
pub fn validate_object_name(
    kind: &'static str,
    name: &str,
    namespace: Option<&str>,
) -> Result<(), ObjectError> {
    let mut causes = Vec::new();
    if name.is_empty() {
        causes.push("metadata.name: Required value: name or generateName is required".into());
    }
    for problem in if name.is_empty() {
        Vec::new()
    } else {
        dns1123_subdomain_problems(name)
    } {
        causes.push(format!(
            "metadata.name: Invalid value: {}: {problem}",
            go_quote(name)
        ));
    }
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        for problem in dns1123_label_problems(ns) {
            causes.push(format!(
                "metadata.namespace: Invalid value: {}: {problem}",
                go_quote(ns)
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ObjectError::Invalid {
            kind,
            name: name.to_string(),
            causes,
        })
    }
}

fn object_meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.filter(|ns| !ns.is_empty()).map(str::to_string),
        ..ObjectMeta::default()
    }
}

/// `oc create secret generic NAME --from-file=KEY=PATH... [--type=TYPE] [-n NS]`, with
/// each file's content already read. Without `--type` the secret has no `type` (as
/// kubectl sends it; the API server then stores [`TYPE_OPAQUE`]); without files it has
/// no `data`.
pub fn create_secret_generic(
    name: &str,
    namespace: Option<&str>,
    files: &[(String, Vec<u8>)],
    secret_type: Option<&str>,
) -> Result<Secret, ObjectError> {
    validate_object_name("Secret", name, namespace)?;
    let mut data = BTreeMap::new();
    for (key, content) in files {
        let reasons = data_key_problems(key);
        if !reasons.is_empty() {
            return Err(ObjectError::InvalidKey {
                key: key.clone(),
                reasons,
            });
        }
        if data.contains_key(key) {
            return Err(ObjectError::DuplicateKey { key: key.clone() });
        }
        data.insert(key.clone(), ByteString(content.clone()));
    }
    Ok(Secret {
        metadata: object_meta(name, namespace),
        data: (!data.is_empty()).then_some(data),
        type_: secret_type.filter(|t| !t.is_empty()).map(str::to_string),
        ..Secret::default()
    })
}

/// The `.dockerconfigjson` payload kubectl writes (`handleDockerCfgJSONContent`): Go's
/// compact `json.Marshal` of `{"auths":{SERVER:{"username","password","email","auth"}}}`,
/// `email` left out when empty, `auth` = base64(`USERNAME:PASSWORD`).
pub fn docker_config_json(
    server: &str,
    username: &str,
    password: &str,
    email: Option<&str>,
) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut entry = String::from("{");
    let mut fields = Vec::new();
    if !username.is_empty() {
        fields.push(format!("\"username\":{}", go_json_string(username)));
    }
    if !password.is_empty() {
        fields.push(format!("\"password\":{}", go_json_string(password)));
    }
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        fields.push(format!("\"email\":{}", go_json_string(email)));
    }
    fields.push(format!("\"auth\":{}", go_json_string(&auth)));
    entry.push_str(&fields.join(","));
    entry.push('}');
    format!("{{\"auths\":{{{}:{entry}}}}}", go_json_string(server))
}

/// `oc create secret docker-registry NAME --docker-server=SERVER
/// --docker-username=USER --docker-password=PASSWORD [--docker-email=EMAIL] [-n NS]`:
/// a `kubernetes.io/dockerconfigjson` secret whose payload is byte-identical to
/// kubectl's ([`docker_config_json`]).
///
/// ```
/// use regharness::cluster::objects::{create_secret_docker_registry, TYPE_DOCKERCONFIGJSON};
/// let secret = create_secret_docker_registry(
///     "rh-pull", Some("project-a"), "registry.redhat.io", "1234|a", "pw", Some("e@x"),
/// ).unwrap();
/// assert_eq!(secret.type_.as_deref(), Some(TYPE_DOCKERCONFIGJSON));
/// let payload = &secret.data.unwrap()[".dockerconfigjson"].0;
/// assert_eq!(
///     std::str::from_utf8(payload).unwrap(),
///     r#"{"auths":{"registry.redhat.io":{"username":"1234|a","password":"pw","email":"e@x","auth":"MTIzNHxhOnB3"}}}"#
/// );
/// ```
pub fn create_secret_docker_registry(
    name: &str,
    namespace: Option<&str>,
    server: &str,
    username: &str,
    password: &str,
    email: Option<&str>,
) -> Result<Secret, ObjectError> {
    if server.is_empty() || username.is_empty() || password.is_empty() {
        return Err(ObjectError::MissingDockerRegistryFlags);
    }
    validate_object_name("Secret", name, namespace)?;
    let payload = docker_config_json(server, username, password, email);
    Ok(Secret {
        metadata: object_meta(name, namespace),
        data: Some(BTreeMap::from([(
            DOCKERCONFIGJSON_KEY.to_string(),
            ByteString(payload.into_bytes()),
        )])),
        type_: Some(TYPE_DOCKERCONFIGJSON.to_string()),
        ..Secret::default()
    })
}

/// A fresh ServiceAccount, as `kubectl create serviceaccount NAME -n NS` sends it (the
/// cluster's token and dockercfg secrets are linked separately).
pub fn service_account(name: &str, namespace: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: object_meta(name, Some(namespace)),
        ..ServiceAccount::default()
    }
}

/// What `oc secrets link --for=...` links a secret for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkFor {
    /// `--for=pull`: `imagePullSecrets`, used to pull the pod's images.
    Pull,
    /// `--for=mount` (oc's default): `secrets`, mountable by pods and builds.
    #[default]
    Mount,
    /// `--for=pull,mount`: both.
    #[serde(alias = "pull,mount", alias = "mount,pull")]
    PullAndMount,
}

impl LinkFor {
    /// Whether the secret goes to `imagePullSecrets`.
    pub fn pull(self) -> bool {
        matches!(self, LinkFor::Pull | LinkFor::PullAndMount)
    }

    /// Whether the secret goes to `secrets`.
    pub fn mount(self) -> bool {
        matches!(self, LinkFor::Mount | LinkFor::PullAndMount)
    }
}

impl FromStr for LinkFor {
    type Err = ObjectError;

    /// oc's `--for` value: a comma-separated list of `pull` and `mount` (any case);
    /// empty means `mount`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mut pull, mut mount) = (false, false);
        for part in s.split(',').filter(|p| !p.is_empty()) {
            match part.to_lowercase().as_str() {
                "pull" => pull = true,
                "mount" => mount = true,
                _ => return Err(ObjectError::UnknownLinkFor(part.to_string())),
            }
        }
        Ok(match (pull, mount) {
            (true, true) => LinkFor::PullAndMount,
            (true, false) => LinkFor::Pull,
            _ => LinkFor::Mount,
        })
    }
}

impl fmt::Display for LinkFor {
    /// The `--for` value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkFor::Pull => "pull",
            LinkFor::Mount => "mount",
            LinkFor::PullAndMount => "pull,mount",
        })
    }
}

/// What `oc secrets link` changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkChange {
    /// The secret was added to `imagePullSecrets`.
    pub added_to_image_pull_secrets: bool,
    /// The secret was added to `secrets` (mountable).
    pub added_to_secrets: bool,
}

impl LinkChange {
    /// Whether the service account changed at all.
    pub fn changed(&self) -> bool {
        self.added_to_image_pull_secrets || self.added_to_secrets
    }
}

/// `oc secrets link SA SECRET [--for=...]`: appends `{name: SECRET}` to `secrets`
/// (mount) and/or `imagePullSecrets` (pull) unless a reference of that name is already
/// there. Idempotent: linking again changes nothing and says so.
pub fn link_secret(sa: &mut ServiceAccount, secret: &str, link_for: LinkFor) -> LinkChange {
    let mut change = LinkChange::default();
    if link_for.mount() {
        let secrets = sa.secrets.get_or_insert_with(Vec::new);
        if !secrets.iter().any(|r| r.name.as_deref() == Some(secret)) {
            secrets.push(ObjectReference {
                name: Some(secret.to_string()),
                ..ObjectReference::default()
            });
            change.added_to_secrets = true;
        }
    }
    if link_for.pull() {
        let pull = sa.image_pull_secrets.get_or_insert_with(Vec::new);
        if !pull.iter().any(|r| r.name == secret) {
            pull.push(LocalObjectReference {
                name: secret.to_string(),
            });
            change.added_to_image_pull_secrets = true;
        }
    }
    // Go's `omitempty`: an empty list is not written.
    if sa.secrets.as_ref().is_some_and(Vec::is_empty) {
        sa.secrets = None;
    }
    if sa.image_pull_secrets.as_ref().is_some_and(Vec::is_empty) {
        sa.image_pull_secrets = None;
    }
    change
}

/// `oc secrets unlink SA SECRET`: removes every reference to SECRET from `secrets` and
/// `imagePullSecrets`. `false` when there was none (oc then fails with "No valid secrets
/// found or secrets not linked to service account").
pub fn unlink_secret(sa: &mut ServiceAccount, secret: &str) -> bool {
    let mut removed = false;
    if let Some(secrets) = sa.secrets.as_mut() {
        let before = secrets.len();
        secrets.retain(|r| r.name.as_deref() != Some(secret));
        removed |= secrets.len() != before;
        if secrets.is_empty() {
            sa.secrets = None;
        }
    }
    if let Some(pull) = sa.image_pull_secrets.as_mut() {
        let before = pull.len();
        pull.retain(|r| r.name != secret);
        removed |= pull.len() != before;
        if pull.is_empty() {
            sa.image_pull_secrets = None;
        }
    }
    removed
}

/// Who `oc policy add-role-to-user|group` binds a role to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSubject {
    /// A user (`kind: User`).
    User(String),
    /// A service account (`kind: ServiceAccount`, no `apiGroup`).
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// A group (`kind: Group`).
    Group(String),
}

impl RoleSubject {
    /// The `add-role-to-user` argument: `system:serviceaccount:NS:NAME` is a service
    /// account, anything else a user. A `system:serviceaccount:` user without a valid
    /// namespace and name is an error (`oc` itself would bind a user of that name,
    /// which nothing can authenticate as).
    pub fn user(s: &str) -> Result<Self, ObjectError> {
        let Some(rest) = s.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX) else {
            return Ok(RoleSubject::User(s.to_string()));
        };
        let invalid = || ObjectError::InvalidServiceAccountUser {
            user: s.to_string(),
        };
        let (namespace, name) = rest.split_once(':').ok_or_else(invalid)?;
        if name.contains(':')
            || !dns1123_label_problems(namespace).is_empty()
            || !dns1123_subdomain_problems(name).is_empty()
        {
            return Err(invalid());
        }
        Ok(RoleSubject::ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The `add-role-to-group` argument.
    pub fn group(s: &str) -> Self {
        RoleSubject::Group(s.to_string())
    }

    /// A service account subject.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        RoleSubject::ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The RBAC subject, as oc builds it (`BuildRBACSubjects`): users and groups carry
    /// `apiGroup: rbac.authorization.k8s.io`, service accounts a namespace instead.
    pub fn to_subject(&self) -> Subject {
        match self {
            RoleSubject::User(name) => Subject {
                kind: "User".into(),
                api_group: Some(RBAC_API_GROUP.into()),
                name: name.clone(),
                namespace: None,
            },
            RoleSubject::ServiceAccount { namespace, name } => Subject {
                kind: "ServiceAccount".into(),
                api_group: None,
                name: name.clone(),
                namespace: Some(namespace.clone()),
            },
            RoleSubject::Group(name) => Subject {
                kind: "Group".into(),
                api_group: Some(RBAC_API_GROUP.into()),
                name: name.clone(),
                namespace: None,
            },
        }
    }
}

impl fmt::Display for RoleSubject {
    /// The subject as given on oc's command line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleSubject::User(name) | RoleSubject::Group(name) => f.write_str(name),
            RoleSubject::ServiceAccount { namespace, name } => {
                write!(f, "{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}")
            }
        }
    }
}

/// What `oc policy add-role-to-*` did.
#[derive(Debug, Clone)]
pub struct RoleBindingChange {
    /// The binding as it is now: a new one, an extended one, or (when
    /// [`RoleBindingChange::already_bound`]) the existing one, unchanged.
    pub binding: RoleBinding,
    /// The binding is new (its name was free in the namespace).
    pub created: bool,
    /// A binding of the role already had the subject: nothing changed.
    pub already_bound: bool,
}

/// Where `add-role-to-*` puts a subject the role is not bound to yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindingPolicy {
    /// oc 4 (`modify_roles.go` `AddRole` without `--rolebinding-name`): a new binding,
    /// named after the role, made unique with `-0`, `-1`, ... when taken.
    #[default]
    NewBinding,
    /// oc 3.x: the subject is added to the first binding of the role; a new binding only
    /// when there is none.
    ExtendFirst,
}

/// `oc policy add-role-to-user ROLE SUBJECT -n NS` / `add-role-to-group`, as oc 4 does
/// it ([`BindingPolicy::NewBinding`]): when a binding of cluster role ROLE in the
/// namespace already has the subject, nothing changes; otherwise a new RoleBinding
/// (`roleRef` `ClusterRole` ROLE) with just that subject, named ROLE, or ROLE-0,
/// ROLE-1, ... when the name is taken among `existing`.
pub fn add_role(
    existing: &[RoleBinding],
    namespace: &str,
    cluster_role: &str,
    subject: RoleSubject,
) -> RoleBindingChange {
    add_role_with(
        existing,
        namespace,
        cluster_role,
        subject,
        BindingPolicy::NewBinding,
    )
}

/// [`add_role`] with an explicit [`BindingPolicy`].
pub fn add_role_with(
    existing: &[RoleBinding],
    namespace: &str,
    cluster_role: &str,
    subject: RoleSubject,
    policy: BindingPolicy,
) -> RoleBindingChange {
    let wanted = subject.to_subject();
    let of_role: Vec<&RoleBinding> = existing
        .iter()
        .filter(|b| b.role_ref.kind == "ClusterRole" && b.role_ref.name == cluster_role)
        .collect();
    if let Some(bound) = of_role.iter().find(|b| {
        b.subjects
            .iter()
            .flatten()
            .any(|s| same_subject(s, &wanted))
    }) {
        return RoleBindingChange {
            binding: (*bound).clone(),
            created: false,
            already_bound: true,
        };
    }
    if policy == BindingPolicy::ExtendFirst {
        if let Some(first) = of_role.first() {
            let mut binding = (*first).clone();
            binding.subjects.get_or_insert_with(Vec::new).push(wanted);
            return RoleBindingChange {
                binding,
                created: false,
                already_bound: false,
            };
        }
    }
    let name = unique_binding_name(existing, cluster_role);
    RoleBindingChange {
        binding: RoleBinding {
            metadata: object_meta(&name, Some(namespace)),
            role_ref: RoleRef {
                api_group: RBAC_API_GROUP.into(),
                kind: "ClusterRole".into(),
                name: cluster_role.to_string(),
            },
            subjects: Some(vec![wanted]),
        },
        created: true,
        already_bound: false,
    }
}

/// oc's `addSubjects` equality: kind, name and namespace.
fn same_subject(a: &Subject, b: &Subject) -> bool {
    a.kind == b.kind
        && a.name == b.name
        && a.namespace.as_deref().unwrap_or("") == b.namespace.as_deref().unwrap_or("")
}

/// oc's `getUniqueName`: the role name, else `ROLE-0` ... `ROLE-99` (oc then falls back
/// to a random UUID; here the count goes on).
fn unique_binding_name(existing: &[RoleBinding], role: &str) -> String {
    let taken = |name: &str| {
        existing
            .iter()
            .any(|b| b.metadata.name.as_deref() == Some(name))
    };
    if !taken(role) {
        return role.to_string();
    }
    (0..)
        .map(|i| format!("{role}-{i}"))
        .find(|name| !taken(name))
        .unwrap_or_else(|| role.to_string())
}

/// Whether `binding` grants cluster role `cluster_role` to service account
/// `sa_namespace:sa_name`, as the RBAC authorizer matches subjects: the service account
/// itself (a subject without namespace means the binding's), the user
/// `system:serviceaccount:NS:NAME`, or one of its groups `system:serviceaccounts:NS`,
/// `system:serviceaccounts`, `system:authenticated`.
pub fn binds_service_account(
    binding: &RoleBinding,
    cluster_role: &str,
    sa_namespace: &str,
    sa_name: &str,
) -> bool {
    if binding.role_ref.kind != "ClusterRole" || binding.role_ref.name != cluster_role {
        return false;
    }
    let binding_namespace = binding.metadata.namespace.as_deref().unwrap_or("");
    let user = format!("{SERVICE_ACCOUNT_USER_PREFIX}{sa_namespace}:{sa_name}");
    let namespace_group = format!("{SERVICE_ACCOUNTS_GROUP}:{sa_namespace}");
    binding
        .subjects
        .iter()
        .flatten()
        .any(|s| match s.kind.as_str() {
            "ServiceAccount" => {
                let ns = s
                    .namespace
                    .as_deref()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(binding_namespace);
                s.name == sa_name && ns == sa_namespace
            }
            "User" => s.name == user,
            "Group" => {
                s.name == namespace_group
                    || s.name == SERVICE_ACCOUNTS_GROUP
                    || s.name == AUTHENTICATED_GROUP
            }
            _ => false,
        })
}

/// A BuildConfig's build strategy (`spec.strategy.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildStrategy {
    /// Source-to-image: `sourceStrategy`.
    Source,
    /// Dockerfile: `dockerStrategy`.
    Docker,
}

impl BuildStrategy {
    /// The `spec.strategy.type` value.
    pub fn type_name(self) -> &'static str {
        match self {
            BuildStrategy::Source => "Source",
            BuildStrategy::Docker => "Docker",
        }
    }

    /// The field under `spec.strategy` that holds the strategy's settings.
    pub fn field(self) -> &'static str {
        match self {
            BuildStrategy::Source => "sourceStrategy",
            BuildStrategy::Docker => "dockerStrategy",
        }
    }
}

/// The BuildConfig fragment `oc set build-secret --pull bc/NAME SECRET` writes: the
/// strategy's `pullSecret`, e.g. `{"apiVersion":"build.openshift.io/v1","kind":
/// "BuildConfig","metadata":{"name":..,"namespace":..},"spec":{"strategy":{"type":
/// "Source","sourceStrategy":{"pullSecret":{"name":..}}}}}`.
pub fn build_config_pull_secret(
    build_config: &str,
    namespace: &str,
    strategy: BuildStrategy,
    secret: &str,
) -> serde_json::Value {
    let mut strategy_value = serde_json::Map::new();
    strategy_value.insert("type".into(), strategy.type_name().into());
    strategy_value.insert(
        strategy.field().into(),
        serde_json::json!({ "pullSecret": { "name": secret } }),
    );
    serde_json::json!({
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": { "name": build_config, "namespace": namespace },
        "spec": { "strategy": strategy_value },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn data_b64(secret: &Secret, key: &str) -> String {
        b64(&secret.data.as_ref().unwrap()[key].0)
    }

    #[test]
    fn docker_registry_payload_is_kubectls() {
        // kubectl create secret docker-registry mysec --docker-server=registry.redhat.io
        //   --docker-username='1234|a' --docker-password=pw --docker-email=e@x
        let s = create_secret_docker_registry(
            "mysec",
            None,
            "registry.redhat.io",
            "1234|a",
            "pw",
            Some("e@x"),
        )
        .unwrap();
        assert_eq!(
            data_b64(&s, DOCKERCONFIGJSON_KEY),
            "eyJhdXRocyI6eyJyZWdpc3RyeS5yZWRoYXQuaW8iOnsidXNlcm5hbWUiOiIxMjM0fGEiLCJwYXNzd29yZCI6InB3IiwiZW1haWwiOiJlQHgiLCJhdXRoIjoiTVRJek5IeGhPbkIzIn19fQ=="
        );
        assert_eq!(s.type_.as_deref(), Some(TYPE_DOCKERCONFIGJSON));
        assert_eq!(s.metadata.name.as_deref(), Some("mysec"));
        assert_eq!(s.metadata.namespace, None);
        // Without email (and with an empty one): no email field.
        for email in [None, Some("")] {
            let s = create_secret_docker_registry(
                "m",
                Some("ns1"),
                "registry.redhat.io",
                "1234|a",
                "pw",
                email,
            )
            .unwrap();
            assert_eq!(
                data_b64(&s, DOCKERCONFIGJSON_KEY),
                "eyJhdXRocyI6eyJyZWdpc3RyeS5yZWRoYXQuaW8iOnsidXNlcm5hbWUiOiIxMjM0fGEiLCJwYXNzd29yZCI6InB3IiwiYXV0aCI6Ik1USXpOSHhoT25CMyJ9fX0="
            );
            assert_eq!(s.metadata.namespace.as_deref(), Some("ns1"));
        }
    }

    #[test]
    fn docker_registry_payload_escapes_like_go() {
        // Recorded from kubectl 1.32.
        assert_eq!(
            docker_config_json("r.io", "u<&>", "p\"\\é😀\u{1}\t\u{2028}", None),
            "{\"auths\":{\"r.io\":{\"username\":\"u\\u003c\\u0026\\u003e\",\"password\":\"p\\\"\\\\é😀\\u0001\\t\\u2028\",\"auth\":\"dTwmPjpwIlzDqfCfmIABCeKAqA==\"}}}"
        );
    }

    #[rstest]
    #[case("", "u", "p")]
    #[case("r.io", "", "p")]
    #[case("r.io", "u", "")]
    fn docker_registry_needs_server_user_and_password(
        #[case] server: &str,
        #[case] user: &str,
        #[case] password: &str,
    ) {
        let e = create_secret_docker_registry("s", None, server, user, password, None).unwrap_err();
        assert_eq!(e, ObjectError::MissingDockerRegistryFlags);
        assert_eq!(
            e.to_string(),
            "either --from-file or the combination of --docker-username, --docker-password and --docker-server is required"
        );
    }

    #[test]
    fn generic_secret_keeps_type_only_when_given() {
        let files = vec![(
            DOCKERCFG_KEY.to_string(),
            b"{\"r.io\":{\"auth\":\"eDp5\"}}".to_vec(),
        )];
        let s = create_secret_generic("g1", Some("ns1"), &files, None).unwrap();
        assert_eq!(s.type_, None);
        assert_eq!(
            data_b64(&s, DOCKERCFG_KEY),
            "eyJyLmlvIjp7ImF1dGgiOiJlRHA1In19"
        );
        let s = create_secret_generic("g1", None, &files, Some(TYPE_DOCKERCFG)).unwrap();
        assert_eq!(s.type_.as_deref(), Some(TYPE_DOCKERCFG));
        let s = create_secret_generic("g1", None, &files, Some("")).unwrap();
        assert_eq!(s.type_, None);
        let s = create_secret_generic("g1", None, &[], None).unwrap();
        assert_eq!(s.data, None);
    }

    #[rstest]
    #[case("a b", r#""a b" is not valid key name for a Secret a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"#)]
    #[case(
        "..x",
        r#""..x" is not valid key name for a Secret must not start with '..'"#
    )]
    #[case(".", r#""." is not valid key name for a Secret must not be '.'"#)]
    #[case("..", r#"".." is not valid key name for a Secret must not be '..'"#)]
    fn invalid_keys_read_like_kubectl(#[case] key: &str, #[case] message: &str) {
        let e = create_secret_generic("g", None, &[(key.to_string(), vec![])], None).unwrap_err();
        assert_eq!(e.to_string(), message);
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let files = vec![("a".to_string(), vec![1]), ("a".to_string(), vec![2])];
        let e = create_secret_generic("g", None, &files, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot add key a, another key by that name already exists"
        );
    }

    #[test]
    fn names_are_validated_like_the_api_server() {
        let e = create_secret_generic("Bad_Name", None, &[], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"The Secret "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        );
        let long = "a".repeat(254);
        let e = create_secret_docker_registry(&long, None, "r", "u", "p", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("The Secret \"{long}\" is invalid: metadata.name: Invalid value: \"{long}\": must be no more than 253 characters")
        );
        let e = create_secret_generic("x", Some("Project_A"), &[], None).unwrap_err();
        assert!(e.to_string().contains(
            "metadata.namespace: Invalid value: \"Project_A\": a lowercase RFC 1123 label"
        ));
        let e = create_secret_generic("-x", Some("-p"), &[], None).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("The Secret \"-x\" is invalid: \n* metadata.name: "));
        assert!(e.to_string().contains("\n* metadata.namespace: "));
        let e = create_secret_generic("", None, &[], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The Secret \"\" is invalid: metadata.name: Required value: name or generateName is required"
        );
        for good in ["a", "a.b-c", "0abc", "pull-secret.example.com"] {
            assert!(
                validate_object_name("Secret", good, Some("project-a")).is_ok(),
                "{good}"
            );
        }
    }

    fn names(sa: &ServiceAccount) -> (Vec<String>, Vec<String>) {
        (
            sa.secrets
                .iter()
                .flatten()
                .map(|r| r.name.clone().unwrap())
                .collect(),
            sa.image_pull_secrets
                .iter()
                .flatten()
                .map(|r| r.name.clone())
                .collect(),
        )
    }

    #[test]
    fn link_for_pull_mount_and_both() {
        let mut sa = service_account("default", "project-a");
        let change = link_secret(&mut sa, "p", LinkFor::Pull);
        assert_eq!(
            change,
            LinkChange {
                added_to_image_pull_secrets: true,
                added_to_secrets: false
            }
        );
        assert_eq!(names(&sa), (vec![], vec!["p".to_string()]));
        assert_eq!(sa.secrets, None);

        let change = link_secret(&mut sa, "m", LinkFor::Mount);
        assert_eq!(
            change,
            LinkChange {
                added_to_image_pull_secrets: false,
                added_to_secrets: true
            }
        );

        let change = link_secret(&mut sa, "b", LinkFor::PullAndMount);
        assert_eq!(
            change,
            LinkChange {
                added_to_image_pull_secrets: true,
                added_to_secrets: true
            }
        );
        assert_eq!(
            names(&sa),
            (vec!["m".into(), "b".into()], vec!["p".into(), "b".into()])
        );
        // A mount link of a pull-linked secret adds only the missing half.
        let change = link_secret(&mut sa, "p", LinkFor::PullAndMount);
        assert_eq!(
            change,
            LinkChange {
                added_to_image_pull_secrets: false,
                added_to_secrets: true
            }
        );
        // The secrets reference holds only a name.
        assert_eq!(
            sa.secrets.as_ref().unwrap()[0],
            ObjectReference {
                name: Some("m".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn relinking_changes_nothing() {
        let mut sa = service_account("builder", "p");
        assert!(link_secret(&mut sa, "s", LinkFor::PullAndMount).changed());
        let before = sa.clone();
        for link_for in [LinkFor::Pull, LinkFor::Mount, LinkFor::PullAndMount] {
            let change = link_secret(&mut sa, "s", link_for);
            assert!(!change.changed());
            assert_eq!(sa, before);
        }
    }

    #[test]
    fn unlink_removes_both_references() {
        let mut sa = service_account("default", "p");
        link_secret(&mut sa, "s", LinkFor::PullAndMount);
        link_secret(&mut sa, "t", LinkFor::Pull);
        assert!(unlink_secret(&mut sa, "s"));
        assert_eq!(names(&sa), (vec![], vec!["t".to_string()]));
        assert_eq!(sa.secrets, None);
        assert!(!unlink_secret(&mut sa, "s"));
        assert!(unlink_secret(&mut sa, "t"));
        assert_eq!(sa, service_account("default", "p"));
    }

    #[rstest]
    #[case("pull", LinkFor::Pull)]
    #[case("mount", LinkFor::Mount)]
    #[case("", LinkFor::Mount)]
    #[case("pull,mount", LinkFor::PullAndMount)]
    #[case("Mount,PULL", LinkFor::PullAndMount)]
    fn link_for_parses_ocs_flag(#[case] flag: &str, #[case] expected: LinkFor) {
        assert_eq!(flag.parse::<LinkFor>().unwrap(), expected);
    }

    #[test]
    fn link_for_serde_and_errors() {
        assert_eq!(
            "push".parse::<LinkFor>().unwrap_err().to_string(),
            "unknown for: push"
        );
        let v: Vec<LinkFor> =
            serde_json::from_str(r#"["pull","mount","pull-and-mount","pull,mount"]"#).unwrap();
        assert_eq!(
            v,
            [
                LinkFor::Pull,
                LinkFor::Mount,
                LinkFor::PullAndMount,
                LinkFor::PullAndMount
            ]
        );
        assert_eq!(LinkFor::PullAndMount.to_string(), "pull,mount");
        assert_eq!(LinkFor::default(), LinkFor::Mount);
    }

    #[rstest]
    #[case("alice", Some(RoleSubject::User("alice".into())))]
    #[case(
        "system:serviceaccount:project-a:default",
        Some(RoleSubject::service_account("project-a", "default"))
    )]
    #[case("system:serviceaccount", Some(RoleSubject::User("system:serviceaccount".into())))]
    #[case("system:serviceaccounts:project-a", Some(RoleSubject::User("system:serviceaccounts:project-a".into())))]
    #[case("system:serviceaccount:project-a", None)]
    #[case("system:serviceaccount:project-a:", None)]
    #[case("system:serviceaccount::default", None)]
    #[case("system:serviceaccount:a:b:c", None)]
    #[case("system:serviceaccount:Project:default", None)]
    fn role_subject_user(#[case] arg: &str, #[case] expected: Option<RoleSubject>) {
        match expected {
            Some(subject) => {
                assert_eq!(RoleSubject::user(arg).unwrap(), subject);
                assert_eq!(subject.to_string(), arg);
            }
            None => assert_eq!(
                RoleSubject::user(arg).unwrap_err().to_string(),
                format!(
                    "\"{arg}\": Username must be in the form system:serviceaccount:namespace:name"
                )
            ),
        }
    }

    #[test]
    fn subjects_are_shaped_like_kubectl_create_rolebinding() {
        let sa = RoleSubject::service_account("project-a", "default").to_subject();
        assert_eq!(
            (
                sa.kind.as_str(),
                sa.api_group.as_deref(),
                sa.namespace.as_deref()
            ),
            ("ServiceAccount", None, Some("project-a"))
        );
        let g = RoleSubject::group("system:serviceaccounts:project-a").to_subject();
        assert_eq!(
            (
                g.kind.as_str(),
                g.api_group.as_deref(),
                g.namespace.as_deref()
            ),
            ("Group", Some(RBAC_API_GROUP), None)
        );
        let u = RoleSubject::User("alice".into()).to_subject();
        assert_eq!(
            (u.kind.as_str(), u.api_group.as_deref()),
            ("User", Some(RBAC_API_GROUP))
        );
    }

    fn binding_names(bindings: &[RoleBinding]) -> Vec<String> {
        bindings
            .iter()
            .map(|b| b.metadata.name.clone().unwrap())
            .collect()
    }

    #[test]
    fn add_role_creates_a_binding_named_after_the_role() {
        let sa = RoleSubject::user("system:serviceaccount:project-a:default").unwrap();
        let change = add_role(&[], "project-b", "system:image-puller", sa.clone());
        assert!(change.created && !change.already_bound);
        let b = &change.binding;
        assert_eq!(b.metadata.name.as_deref(), Some("system:image-puller"));
        assert_eq!(b.metadata.namespace.as_deref(), Some("project-b"));
        assert_eq!(
            b.role_ref,
            RoleRef {
                api_group: RBAC_API_GROUP.into(),
                kind: "ClusterRole".into(),
                name: "system:image-puller".into()
            }
        );
        assert_eq!(b.subjects.as_deref(), Some(&[sa.to_subject()][..]));
        assert!(binds_service_account(
            b,
            "system:image-puller",
            "project-a",
            "default"
        ));
    }

    #[test]
    fn add_role_twice_is_already_bound_and_new_subjects_get_unique_names() {
        let mut bindings = Vec::new();
        let sa = RoleSubject::service_account("project-a", "default");
        let first = add_role(&bindings, "project-b", "system:image-puller", sa.clone());
        bindings.push(first.binding);

        let again = add_role(&bindings, "project-b", "system:image-puller", sa);
        assert!(again.already_bound && !again.created);
        assert_eq!(again.binding, bindings[0]);

        // oc 4: another subject gets another binding, ROLE-0, ROLE-1, ...
        for (group, expected) in [
            ("g1", "system:image-puller-0"),
            ("g2", "system:image-puller-1"),
        ] {
            let change = add_role(
                &bindings,
                "project-b",
                "system:image-puller",
                RoleSubject::group(group),
            );
            assert!(change.created);
            assert_eq!(change.binding.metadata.name.as_deref(), Some(expected));
            bindings.push(change.binding);
        }
        assert_eq!(
            binding_names(&bindings),
            [
                "system:image-puller",
                "system:image-puller-0",
                "system:image-puller-1"
            ]
        );
        // Already bound through any binding of the role.
        assert!(
            add_role(
                &bindings,
                "project-b",
                "system:image-puller",
                RoleSubject::group("g2")
            )
            .already_bound
        );
        // A binding of another role with the same subject does not count.
        assert!(add_role(&bindings, "project-b", "edit", RoleSubject::group("g2")).created);
    }

    #[test]
    fn add_role_extend_first_reuses_a_binding() {
        let existing = add_role(
            &[],
            "project-b",
            "system:image-puller",
            RoleSubject::group("system:serviceaccounts:project-b"),
        );
        let mut renamed = existing.binding;
        renamed.metadata.name = Some("system:image-pullers".into());
        let bindings = vec![renamed];
        let sa = RoleSubject::service_account("project-a", "default");
        let change = add_role_with(
            &bindings,
            "project-b",
            "system:image-puller",
            sa.clone(),
            BindingPolicy::ExtendFirst,
        );
        assert!(!change.created && !change.already_bound);
        assert_eq!(
            change.binding.metadata.name.as_deref(),
            Some("system:image-pullers")
        );
        assert_eq!(change.binding.subjects.as_ref().unwrap().len(), 2);
        assert_eq!(
            change.binding.subjects.as_ref().unwrap()[1],
            sa.to_subject()
        );
        // With no binding of the role, ExtendFirst creates one too.
        let change = add_role_with(
            &bindings,
            "project-b",
            "view",
            sa,
            BindingPolicy::ExtendFirst,
        );
        assert!(change.created);
        assert_eq!(change.binding.metadata.name.as_deref(), Some("view"));
    }

    #[rstest]
    #[case(RoleSubject::service_account("project-a", "default"), true)]
    #[case(RoleSubject::service_account("project-a", "builder"), false)]
    #[case(RoleSubject::service_account("project-c", "default"), false)]
    #[case(RoleSubject::group("system:serviceaccounts:project-a"), true)]
    #[case(RoleSubject::group("system:serviceaccounts:project-c"), false)]
    #[case(RoleSubject::group("system:serviceaccounts"), true)]
    #[case(RoleSubject::group("system:authenticated"), true)]
    #[case(RoleSubject::User("system:serviceaccount:project-a:default".into()), true)]
    #[case(RoleSubject::User("alice".into()), false)]
    fn binds_service_account_cases(#[case] subject: RoleSubject, #[case] binds: bool) {
        let b = add_role(&[], "project-b", "system:image-puller", subject).binding;
        assert_eq!(
            binds_service_account(&b, "system:image-puller", "project-a", "default"),
            binds
        );
        assert!(!binds_service_account(
            &b,
            "system:image-builder",
            "project-a",
            "default"
        ));
    }

    #[test]
    fn service_account_subject_without_namespace_means_the_bindings() {
        let mut b = add_role(
            &[],
            "project-a",
            "system:image-puller",
            RoleSubject::service_account("x", "default"),
        )
        .binding;
        b.subjects.as_mut().unwrap()[0].namespace = None;
        assert!(binds_service_account(
            &b,
            "system:image-puller",
            "project-a",
            "default"
        ));
        assert!(!binds_service_account(
            &b,
            "system:image-puller",
            "x",
            "default"
        ));
    }

    #[test]
    fn build_config_fragments() {
        assert_eq!(
            build_config_pull_secret("app", "p", BuildStrategy::Source, "s"),
            serde_json::json!({"apiVersion":"build.openshift.io/v1","kind":"BuildConfig",
                "metadata":{"name":"app","namespace":"p"},
                "spec":{"strategy":{"type":"Source","sourceStrategy":{"pullSecret":{"name":"s"}}}}})
        );
        assert_eq!(
            build_config_pull_secret("app", "p", BuildStrategy::Docker, "s").to_string(),
            r#"{"apiVersion":"build.openshift.io/v1","kind":"BuildConfig","metadata":{"name":"app","namespace":"p"},"spec":{"strategy":{"type":"Docker","dockerStrategy":{"pullSecret":{"name":"s"}}}}}"#
        );
        let s: BuildStrategy = serde_json::from_str("\"docker\"").unwrap();
        assert_eq!(s, BuildStrategy::Docker);
    }
}
