//! `regharness check pull-secret`: what the API server and the kubelet make of a pull
//! secret (SPEC.md §4), without a cluster.
//!
//! The input is a Kubernetes Secret (YAML or JSON: `data` base64 values and/or
//! `stringData`) or a bare `.dockercfg` / `config.json` / `auth.json`. The check reports
//! [`Finding`]s, each at a key path such as
//! `data[".dockerconfigjson"].auths["registry.redhat.io"].auth`, and for each image the
//! entries the kubelet's keyring ([`super::keyring`]) would try.
//!
//! Facts it relies on (kubernetes sources):
//! - `pkg/credentialprovider/secrets/secrets.go` `secretsToTrackedDockerConfigs`: the
//!   kubelet reads `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret and
//!   `.dockercfg` of a `kubernetes.io/dockercfg` Secret (non-empty), nothing else; an
//!   unmarshal error there fails the pod's image pulls (`MakeDockerKeyring` returns it);
//! - `pkg/apis/core/validation` `ValidateSecret`: those two types require their key, and
//!   its value must be a JSON object; `data` values are padded standard base64 (Go's
//!   `encoding/json` for `[]byte`); `stringData` overrides `data` on write;
//! - the kubelet looks images up by their normalised repository name
//!   (`pkg/util/parsers.ParseImageName`: `nginx:1` → `docker.io/library/nginx`).
//!
//! Reports never carry a password, token or `auth` value: findings name fields and
//! usernames only.

use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::docker_config::{
    self, go_base64_decode, key_segment, reject_types, ConfigError, ConfigFormat, DockerConfig,
    EntryProblem, StringSeed,
};
use super::keyring::{CredentialSource, DockerKeyring};

const JSON_KEY: &str = ".dockerconfigjson";
const CFG_KEY: &str = ".dockercfg";
const JSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
const CFG_TYPE: &str = "kubernetes.io/dockercfg";
/// Keys people use by mistake for a pull secret's payload (`--from-file=config.json`).
const MISNAMED_KEYS: &[&str] = &[
    "config.json",
    "auth.json",
    "dockerconfigjson",
    "dockercfg",
    ".docker-config.json",
];
const EXPECTED_INPUT: &str =
    "a Kubernetes Secret (YAML or JSON) or a docker config JSON (.dockercfg, config.json, auth.json)";

/// What the checked file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum InputKind {
    /// A Kubernetes Secret.
    #[serde(rename = "secret")]
    Secret,
    /// A legacy `.dockercfg`.
    #[serde(rename = "dockercfg")]
    Dockercfg,
    /// A docker `config.json` (or a bare `.dockerconfigjson`).
    #[serde(rename = "config.json")]
    ConfigJson,
    /// A podman / skopeo `auth.json`.
    #[serde(rename = "auth.json")]
    AuthJson,
}

/// The kinds of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    /// A key that does not belong to the Secret's type, a type without its key, or a
    /// payload whose shape does not match its key.
    WrongKeyForType,
    /// A docker payload in a Secret the kubelet does not read as a pull secret.
    IgnoredByKubelet,
    /// A `data` value or an `auth` field that is not base64.
    InvalidBase64,
    /// `auth` disagrees with the `username` / `password` fields beside it.
    AuthMismatch,
    /// The decoded `auth` has no `:`.
    AuthWithoutColon,
    /// A Red Hat registry service-account token with a username lacking `prefix|`.
    ServiceAccountPrefixMissing,
    /// A password ending in a newline.
    PasswordTrailingNewline,
    /// An entry with no username, password or auth.
    EmptyCredentials,
    /// A payload that is not JSON (or not readable as the kubelet's Go types).
    InvalidJson,
}

impl FindingCode {
    /// The kebab-case name (`wrong-key-for-type`).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::WrongKeyForType => "wrong-key-for-type",
            FindingCode::IgnoredByKubelet => "ignored-by-kubelet",
            FindingCode::InvalidBase64 => "invalid-base64",
            FindingCode::AuthMismatch => "auth-mismatch",
            FindingCode::AuthWithoutColon => "auth-without-colon",
            FindingCode::ServiceAccountPrefixMissing => "service-account-prefix-missing",
            FindingCode::PasswordTrailingNewline => "password-trailing-newline",
            FindingCode::EmptyCredentials => "empty-credentials",
            FindingCode::InvalidJson => "invalid-json",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, at a key path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Key path, e.g. `data[".dockerconfigjson"].auths["registry.redhat.io"].auth`
    /// (`$` is the whole file).
    pub path: String,
    /// What kind of problem.
    pub code: FindingCode,
    /// What is wrong, what it causes and what to do; never a secret value.
    pub message: String,
}

/// Which entries the kubelet would try for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageMatch {
    /// The image as given.
    pub image: String,
    /// The repository the kubelet looks up (`docker.io/library/nginx` for `nginx:1`);
    /// `None` when the image name does not parse.
    pub repository: Option<String>,
    /// The key of the first entry the kubelet tries.
    pub entry: Option<String>,
    /// That entry's username.
    pub username: Option<String>,
    /// Every matching key, in the order the kubelet tries them.
    pub candidates: Vec<String>,
    /// Why there is no entry (no match, Secret ignored or rejected, bad image name).
    pub note: Option<String>,
}

/// The result of a check. Serialises to the `--json` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullSecretReport {
    /// What the file is.
    pub input: InputKind,
    /// Problems found, in document order.
    pub findings: Vec<Finding>,
    /// One per `--image`.
    pub matches: Vec<ImageMatch>,
}

impl PullSecretReport {
    /// CLI exit status: 0 without findings, 1 with.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.findings.is_empty())
    }

    /// The human report: `PATH: CODE: message` per finding, then
    /// `IMAGE -> key "KEY" (username U)` per image.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&format!("{}: {}: {}\n", f.path, f.code, f.message));
        }
        if self.findings.is_empty() {
            out.push_str("no findings\n");
        }
        for m in &self.matches {
            match (&m.entry, &m.username) {
                (Some(entry), Some(username)) => {
                    out.push_str(&format!(
                        "{} -> key {entry:?} (username {username})",
                        m.image
                    ));
                    let rest: Vec<String> = m
                        .candidates
                        .iter()
                        .skip(1)
                        .map(|k| format!("{k:?}"))
                        .collect();
                    if !rest.is_empty() {
                        out.push_str(&format!(", then {}", rest.join(", ")));
                    }
                    out.push('\n');
                }
                _ => out.push_str(&format!(
                    "{} -> no credentials: {}\n",
                    m.image,
                    m.note.as_deref().unwrap_or("no key matches")
                )),
            }
        }
        out
    }

    /// The JSON report (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Input that cannot be checked. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// Display path.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON or YAML, not a Secret, not a docker config.
    #[error("{file}:{line}:{column}: {message}")]
    Unreadable {
        /// Display path.
        file: String,
        /// 1-based line.
        line: u64,
        /// Column.
        column: u64,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// Reads the file to check.
pub fn read_input(path: &Path) -> Result<String, CheckError> {
    std::fs::read_to_string(path).map_err(|source| CheckError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// Checks a pull secret (`text`, named `display_name` in errors) and matches `images`
/// against it.
///
/// ```
/// use regharness::cluster::check::check_pull_secret;
/// let text = r#"{"auths":{"quay.io":{"username":"u","password":"canary-pw\n"}}}"#;
/// let report = check_pull_secret("auth.json", text, &["quay.io/team/app".into()]).unwrap();
/// assert_eq!(report.findings.len(), 1);
/// assert!(!report.to_human().contains("canary-pw"));
/// assert_eq!(report.exit_code(), 1);
/// ```
pub fn check_pull_secret(
    display_name: &str,
    text: &str,
    images: &[String],
) -> Result<PullSecretReport, CheckError> {
    let unreadable = |line: u64, column: u64, message: String| CheckError::Unreadable {
        file: display_name.to_string(),
        line,
        column,
        message,
    };
    let start = text.trim_start();
    if start.is_empty() {
        return Err(unreadable(
            1,
            1,
            format!("empty file: expected {EXPECTED_INPUT}"),
        ));
    }
    if start.starts_with('{') || start.starts_with('[') {
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                // A YAML flow mapping (`{kind: Secret, ...}`) is not JSON but is a Secret.
                if let Ok(
                    doc @ SecretDoc {
                        wrong_kind: None, ..
                    },
                ) = serde_saphyr::from_str::<SecretDoc>(text)
                {
                    return Ok(check_secret(doc, images));
                }
                return Err(unreadable(
                    e.line() as u64,
                    e.column() as u64,
                    format!(
                        "invalid JSON: {}; expected {EXPECTED_INPUT}",
                        docker_config::without_position(&e)
                    ),
                ));
            }
        };
        let is_object = value
            .as_object()
            .is_some_and(|o| o.contains_key("kind") || o.contains_key("apiVersion"));
        if !is_object {
            return check_file(display_name, text, images);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let doc = SecretDoc::deserialize(&mut de)
            .and_then(|doc| de.end().map(|()| doc))
            .map_err(|e| {
                unreadable(
                    e.line() as u64,
                    e.column() as u64,
                    docker_config::without_position(&e),
                )
            })?;
        return Ok(check_secret(doc, images));
    }
    let doc: SecretDoc = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let message = first_line(&e.to_string());
        let message = if message.contains("expected") {
            message
        } else {
            format!("{message}; expected {EXPECTED_INPUT}")
        };
        unreadable(line, column, message)
    })?;
    if let Some((line, column, message)) = doc.wrong_kind {
        return Err(unreadable(line, column, message));
    }
    Ok(check_secret(doc, images))
}

/// serde-saphyr renders a snippet of the source after its message (which could show a
/// secret): keep the first line only, without a leading `line N column M: `.
fn first_line(rendered: &str) -> String {
    let line = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(rendered)
        .trim()
        .trim_start_matches("error: ");
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((position, message)) if position.contains(" column ") => message.to_string(),
        _ => line.to_string(),
    }
}

/// What the kubelet makes of the input's credentials.
enum Verdict {
    /// It builds a keyring from them.
    Keyring(DockerKeyring),
    /// It uses nothing from the input (the reason).
    Ignored(String),
    /// The Secret is refused, or every pull using it fails (the reason).
    Fails(String),
}

fn matches(images: &[String], verdict: &Verdict) -> Vec<ImageMatch> {
    images
        .iter()
        .map(|image| {
            let mut m = ImageMatch {
                image: image.clone(),
                repository: None,
                entry: None,
                username: None,
                candidates: Vec::new(),
                note: None,
            };
            let repository = match repository_of(image) {
                Ok(r) => r,
                Err(e) => {
                    m.note = Some(format!("the kubelet cannot parse this image name: {e}"));
                    return m;
                }
            };
            m.repository = Some(repository.clone());
            match verdict {
                Verdict::Keyring(keyring) => {
                    let creds = keyring.lookup(&repository);
                    match creds.first() {
                        Some(first) => {
                            m.entry = Some(first.source.key.clone());
                            m.username = Some(shown_username(&first.username));
                            m.candidates = creds.iter().map(|c| c.source.key.clone()).collect();
                        }
                        None => {
                            m.note = Some(format!(
                                "no key matches {repository}: the kubelet has no credentials for it here and pulls anonymously, unless another pull secret or the node's global pull secret matches"
                            ))
                        }
                    }
                }
                Verdict::Ignored(why) | Verdict::Fails(why) => m.note = Some(why.clone()),
            }
            m
        })
        .collect()
}

/// A bare `.dockercfg` / `config.json` / `auth.json`.
fn check_file(
    display_name: &str,
    text: &str,
    images: &[String],
) -> Result<PullSecretReport, CheckError> {
    let detected = docker_config::parse(text, None).map_err(|e| CheckError::Unreadable {
        file: display_name.to_string(),
        line: e.line() as u64,
        column: e.column() as u64,
        message: e.what(),
    })?;
    let by_name = kind_by_name(display_name);
    let input = by_name.map_or(
        match detected.format {
            ConfigFormat::Dockercfg => InputKind::Dockercfg,
            ConfigFormat::DockerConfigJson => InputKind::ConfigJson,
        },
        |(kind, _)| kind,
    );
    let mut findings = Vec::new();
    if let Some((_, named_format)) = by_name {
        if let Some(message) = format_mismatch(&detected, named_format, "this file") {
            findings.push(Finding {
                path: "$".into(),
                code: FindingCode::WrongKeyForType,
                message,
            });
        }
    }
    entry_findings(&detected, "", &mut findings);
    let read_as = by_name.map_or(detected.format, |(_, f)| f);
    let verdict = match docker_config::parse(text, Some(read_as)) {
        Err(e) => Verdict::Fails(format!("the kubelet cannot read this file: {e}")),
        Ok(config) => keyring_verdict(
            &config,
            CredentialSource {
                secret: None,
                secret_type: None,
                key: String::new(),
            },
            "this file",
        ),
    };
    Ok(PullSecretReport {
        input,
        findings,
        matches: matches(images, &verdict),
    })
}

/// A keyring from a config the kubelet accepted, or why every pull using it fails.
fn keyring_verdict(config: &DockerConfig, source: CredentialSource, what: &str) -> Verdict {
    if let Some((entry, go_error)) = config.kubelet_error() {
        return Verdict::Fails(format!(
            "the kubelet cannot read {what} ({go_error}, at {}): every pull that uses it fails",
            entry.path
        ));
    }
    let mut keyring = DockerKeyring::new();
    keyring.add(config, source);
    Verdict::Keyring(keyring)
}

/// The input kind and format a file name announces.
fn kind_by_name(display_name: &str) -> Option<(InputKind, ConfigFormat)> {
    let name = display_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(display_name);
    if name.ends_with(".dockercfg") {
        Some((InputKind::Dockercfg, ConfigFormat::Dockercfg))
    } else if name.ends_with("auth.json") {
        Some((InputKind::AuthJson, ConfigFormat::DockerConfigJson))
    } else if name.ends_with("config.json") || name.ends_with(".dockerconfigjson") {
        Some((InputKind::ConfigJson, ConfigFormat::DockerConfigJson))
    } else {
        None
    }
}

/// The message when a payload's shape is not the one its key (or file name) calls for.
fn format_mismatch(detected: &DockerConfig, wanted: ConfigFormat, what: &str) -> Option<String> {
    match (wanted, detected.format) {
        (ConfigFormat::Dockercfg, ConfigFormat::DockerConfigJson) => Some(format!(
            "{what} must hold registry entries at the top level (.dockercfg format), but it has an \"auths\" wrapper (config.json format): read as .dockercfg it is one registry named \"auths\" with no credentials; store it as .dockerconfigjson with type {JSON_TYPE}, or drop the wrapper"
        )),
        (ConfigFormat::DockerConfigJson, ConfigFormat::Dockercfg) if !detected.entries.is_empty() => Some(format!(
            "{what} must hold registry entries under \"auths\" (config.json format), but they are at the top level (.dockercfg format): read as config.json it has no credentials at all; wrap them in {{\"auths\": ...}}, or store them as .dockercfg with type {CFG_TYPE}"
        )),
        _ => None,
    }
}

/// Findings about each registry entry of a payload whose path is `prefix`.
fn entry_findings(config: &DockerConfig, prefix: &str, findings: &mut Vec<Finding>) {
    for entry in &config.entries {
        let sep = if prefix.is_empty() || entry.path.starts_with('[') {
            ""
        } else {
            "."
        };
        let base = format!("{prefix}{sep}{}", entry.path);
        let at = |field: &str| format!("{base}.{field}");
        let mut push = |path: String, code: FindingCode, message: String| {
            findings.push(Finding {
                path,
                code,
                message,
            })
        };
        for problem in &entry.problems {
            match problem {
                EntryProblem::AuthNotBase64 { go_error } => push(
                    at("auth"),
                    FindingCode::InvalidBase64,
                    format!(
                        "\"auth\" is not valid base64 ({go_error}); expected base64(\"username:password\"): the kubelet cannot read the whole config and every pull that uses it fails with that error"
                    ),
                ),
                EntryProblem::AuthWithoutColon => push(
                    at("auth"),
                    FindingCode::AuthWithoutColon,
                    "\"auth\" decodes to text without ':'; expected base64(\"username:password\"): the kubelet cannot read the whole config (unable to parse auth field, must be formatted as base64(username:password)) and every pull that uses it fails; podman, skopeo and CRI-O skip the entry and pull anonymously".into(),
                ),
                EntryProblem::AuthMismatch {
                    username_differs,
                    password_differs,
                } => {
                    let mut what = Vec::new();
                    if *username_differs {
                        what.push(format!(
                            "the usernames differ: \"auth\" has {:?}, \"username\" has {:?}",
                            shown_username(&entry.username),
                            shown_username(entry.username_field.as_deref().unwrap_or(""))
                        ));
                    }
                    if *password_differs {
                        what.push("the passwords differ".to_string());
                    }
                    push(
                        at("auth"),
                        FindingCode::AuthMismatch,
                        format!(
                            "\"auth\" is not base64(username:password) of the \"username\" and \"password\" fields beside it ({}): the kubelet uses \"auth\" (username {:?}) and ignores those fields, and podman, skopeo and CRI-O read only \"auth\"",
                            what.join("; "),
                            shown_username(&entry.username)
                        ),
                    );
                }
            }
        }
        let blank = |v: &Option<String>| v.as_deref().unwrap_or("").is_empty();
        if blank(&entry.username_field) && blank(&entry.password_field) && blank(&entry.auth_field)
        {
            push(
                base.clone(),
                FindingCode::EmptyCredentials,
                "no username, password or auth: the kubelet sends empty credentials for this registry, so the pull is anonymous (it does not use identitytoken, credsStore or credHelpers)".into(),
            );
        }
        let from_auth = entry.credentials_from_auth();
        if entry.password.ends_with('\n') && (from_auth || entry.auth_field.is_none()) {
            let (path, origin) = if from_auth {
                (at("auth"), "the password decoded from \"auth\"")
            } else {
                (at("password"), "the password")
            };
            push(
                path,
                FindingCode::PasswordTrailingNewline,
                format!(
                    "{origin} ends with a newline: the registry gets a different password and answers 401; typical of `echo user:password | base64` or of a file written with echo (use `echo -n` or `printf %s`)"
                ),
            );
        }
        if is_red_hat_registry(&entry.key)
            && !entry.username.is_empty()
            && !entry.username.contains('|')
            && !looks_like_registry_token(&entry.username)
            && looks_like_registry_token(&entry.password)
        {
            push(
                at(if from_auth { "auth" } else { "username" }),
                FindingCode::ServiceAccountPrefixMissing,
                format!(
                    "username {:?} has no \"prefix|\" but its password is a registry service-account token: a service account's username is \"<prefix>|<name>\", e.g. \"1234567|{}\" (copy it whole from the Registry Service Accounts page); with the name alone the registry answers 401",
                    entry.username, entry.username
                ),
            );
        }
    }
}

/// Whether an entry key names a Red Hat host (`registry.redhat.io`,
/// `registry.connect.redhat.com`, `sso.redhat.com`): service-account tokens are theirs, and
/// other registries (Azure, Google) use long tokens with plain usernames.
fn is_red_hat_registry(key: &str) -> bool {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or(rest);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    ["redhat.io", "redhat.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A username as reports show it: one that looks like a token (fields swapped by mistake)
/// is not shown.
fn shown_username(username: &str) -> String {
    if looks_like_registry_token(username) {
        "[hidden: looks like a token]".into()
    } else {
        username.to_string()
    }
}

/// A registry service-account token: very long, or a JWT.
fn looks_like_registry_token(password: &str) -> bool {
    let p = password.trim_end();
    p.len() > 200 || (p.starts_with("eyJ") && p.matches('.').count() == 2)
}

/// One value of the Secret's `data` / `stringData`, decoded.
struct DataValue {
    key: String,
    path: String,
    bytes: Vec<u8>,
}

/// The format a key of a Secret calls for.
fn format_of_key(key: &str) -> Option<ConfigFormat> {
    match key {
        CFG_KEY | "dockercfg" => Some(ConfigFormat::Dockercfg),
        JSON_KEY | "dockerconfigjson" | "config.json" | "auth.json" | ".docker-config.json" => {
            Some(ConfigFormat::DockerConfigJson)
        }
        _ => None,
    }
}

fn type_for_key(key: &str) -> &'static str {
    if format_of_key(key) == Some(ConfigFormat::Dockercfg) {
        CFG_TYPE
    } else {
        JSON_TYPE
    }
}

fn check_secret(doc: SecretDoc, images: &[String]) -> PullSecretReport {
    let mut findings = Vec::new();
    let declared_type = doc.secret_type.clone().filter(|t| !t.is_empty());
    let secret_type = declared_type.clone().unwrap_or_else(|| "Opaque".into());
    // Why the API server refuses the Secret, if it does.
    let mut refused: Option<String> = None;
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut values: Vec<DataValue> = Vec::new();
    for (key, value) in &doc.data {
        let path = format!("data{}", key_segment(key));
        keys.push((key.clone(), path.clone()));
        let value = value.as_deref().unwrap_or("");
        match go_base64_decode(value.as_bytes(), true) {
            Ok(bytes) => values.push(DataValue {
                key: key.clone(),
                path,
                bytes,
            }),
            Err(at) => {
                let hint = if value.trim_start().starts_with('{') {
                    " (it looks like plain JSON: put it under stringData, or base64-encode it)"
                } else {
                    ""
                };
                findings.push(Finding {
                    path,
                    code: FindingCode::InvalidBase64,
                    message: format!(
                        "not valid base64 (illegal base64 data at input byte {at}); expected the base64 of the value{hint}: the API server rejects the Secret"
                    ),
                });
                refused.get_or_insert_with(|| {
                    format!(
                        "the API server rejects this Secret ({} is not base64)",
                        keys.last().map_or("", |k| k.1.as_str())
                    )
                });
            }
        }
    }
    for (key, value) in &doc.string_data {
        let path = format!("stringData{}", key_segment(key));
        values.retain(|v| &v.key != key);
        keys.retain(|(k, _)| k != key);
        keys.push((key.clone(), path.clone()));
        values.push(DataValue {
            key: key.clone(),
            path,
            bytes: value.clone().unwrap_or_default().into_bytes(),
        });
    }
    let path_of = |key: &str| keys.iter().find(|(k, _)| k == key).map(|(_, p)| p.clone());
    let misnamed: Vec<String> = keys
        .iter()
        .filter(|(k, _)| MISNAMED_KEYS.contains(&k.as_str()))
        .map(|(_, p)| p.clone())
        .collect();

    // The Secret's type against its keys.
    let read_key = match secret_type.as_str() {
        JSON_TYPE => Some((JSON_KEY, CFG_KEY)),
        CFG_TYPE => Some((CFG_KEY, JSON_KEY)),
        _ => None,
    };
    match read_key {
        Some((right, wrong)) => {
            let right_type = type_for_key(wrong);
            match (path_of(right), path_of(wrong)) {
                (Some(_), Some(wrong_path)) => findings.push(Finding {
                    path: wrong_path,
                    code: FindingCode::WrongKeyForType,
                    message: format!(
                        "{wrong} does not belong in a Secret of type {secret_type}: the kubelet reads only its {right} key and ignores this one ({wrong} goes with type {right_type})"
                    ),
                }),
                (None, wrong_path) => {
                    let path = wrong_path
                        .clone()
                        .or_else(|| misnamed.first().cloned())
                        .unwrap_or_else(|| "data".into());
                    let instead = if wrong_path.is_some() {
                        format!(" (this {wrong} key goes with type {right_type})")
                    } else if !misnamed.is_empty() {
                        format!(" (rename this key to {right}: `--from-file={right}=config.json`)")
                    } else {
                        String::new()
                    };
                    findings.push(Finding {
                        path,
                        code: FindingCode::WrongKeyForType,
                        message: format!(
                            "a Secret of type {secret_type} needs the key {right}{instead}: the API server rejects it (data[{right}]: Required value)"
                        ),
                    });
                    refused.get_or_insert_with(|| {
                        format!("the API server rejects this Secret (no {right} key)")
                    });
                }
                (Some(_), None) => {}
            }
        }
        None => {
            let shown_type = match &declared_type {
                Some(t) => format!("type {t}"),
                None => "no type (so Opaque)".into(),
            };
            let docker_keys: Vec<(String, String)> = keys
                .iter()
                .filter(|(k, _)| k == JSON_KEY || k == CFG_KEY)
                .cloned()
                .collect();
            for (key, path) in &docker_keys {
                findings.push(Finding {
                    path: path.clone(),
                    code: FindingCode::IgnoredByKubelet,
                    message: format!(
                        "the Secret has {shown_type}: the kubelet reads pull secrets only of type {JSON_TYPE} (key {JSON_KEY}) or {CFG_TYPE} (key {CFG_KEY}) and skips this one; set `type: {}`",
                        type_for_key(key)
                    ),
                });
            }
            if docker_keys.is_empty() {
                let path = misnamed.first().cloned().unwrap_or_else(|| "data".into());
                let message = if misnamed.is_empty() {
                    format!("no {JSON_KEY} or {CFG_KEY} key and {shown_type}: the kubelet finds no registry credentials in this Secret")
                } else {
                    format!("the kubelet reads registry credentials only from the key {JSON_KEY} of a Secret of type {JSON_TYPE} (or {CFG_KEY} of type {CFG_TYPE}): create it with `--from-file={JSON_KEY}=config.json --type={JSON_TYPE}`")
                };
                findings.push(Finding {
                    path,
                    code: FindingCode::IgnoredByKubelet,
                    message,
                });
            }
        }
    }

    // The payloads.
    for value in &values {
        let Some(key_format) = format_of_key(&value.key) else {
            continue;
        };
        let read_by_kubelet = read_key.is_some_and(|(right, _)| right == value.key);
        let text = String::from_utf8_lossy(&value.bytes);
        match docker_config::parse(&text, None) {
            Err(e) => {
                let rejected_by_api = read_by_kubelet
                    && match &e {
                        ConfigError::Syntax { .. } => true,
                        ConfigError::Shape { message, .. } => message.starts_with("top level:"),
                    };
                let consequence = if rejected_by_api {
                    refused.get_or_insert_with(|| {
                        format!(
                            "the API server rejects this Secret ({} is not a JSON object)",
                            value.path
                        )
                    });
                    format!(": the API server rejects a Secret of type {secret_type} whose {} is not a JSON object", value.key)
                } else if read_by_kubelet {
                    ": the kubelet cannot read it and every pull that uses this Secret fails".into()
                } else {
                    String::new()
                };
                findings.push(Finding {
                    path: value.path.clone(),
                    code: FindingCode::InvalidJson,
                    message: format!(
                        "at line {} column {} of the decoded value: {}{consequence}",
                        e.line(),
                        e.column(),
                        match &e {
                            ConfigError::Syntax { message, .. } => format!(
                                "invalid JSON: {message}; expected {}",
                                key_format.expected()
                            ),
                            ConfigError::Shape { .. } => e.what(),
                        }
                    ),
                });
            }
            Ok(detected) => {
                if let Some(message) =
                    format_mismatch(&detected, key_format, &format!("the key {}", value.key))
                {
                    findings.push(Finding {
                        path: value.path.clone(),
                        code: FindingCode::WrongKeyForType,
                        message,
                    });
                }
                entry_findings(&detected, &value.path, &mut findings);
            }
        }
    }

    // What the kubelet does with it (secrets.go).
    let label = match (&doc.namespace, &doc.name) {
        (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
        (None, Some(name)) => Some(name.clone()),
        _ => None,
    };
    let verdict = if let Some(why) = refused {
        Verdict::Fails(why)
    } else {
        let read = read_key.and_then(|(right, _)| {
            values
                .iter()
                .find(|v| v.key == right && !v.bytes.is_empty())
        });
        match read {
            None => Verdict::Ignored(format!(
                "the kubelet takes no credentials from this Secret (type {secret_type})"
            )),
            Some(value) => {
                let format = format_of_key(&value.key).unwrap_or(ConfigFormat::DockerConfigJson);
                match docker_config::parse(&String::from_utf8_lossy(&value.bytes), Some(format)) {
                    Err(e) => Verdict::Fails(format!(
                        "the kubelet cannot read {} ({e}): every pull that uses this Secret fails",
                        value.path
                    )),
                    Ok(config) => keyring_verdict(
                        &config,
                        CredentialSource {
                            secret: label,
                            secret_type: Some(secret_type.clone()),
                            key: String::new(),
                        },
                        &value.path,
                    ),
                }
            }
        }
    };
    PullSecretReport {
        input: InputKind::Secret,
        findings,
        matches: matches(images, &verdict),
    }
}

/// The repository name the kubelet looks up for an image (docker's
/// `ParseNormalizedNamed(image).Name()`): tag and digest dropped, Docker Hub names
/// completed (`nginx` → `docker.io/library/nginx`).
pub fn repository_of(image: &str) -> Result<String, String> {
    const INVALID: &str = "invalid reference format";
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let valid = d.split_once(':').is_some_and(|(alg, hex)| {
            !alg.is_empty() && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !valid {
            return Err(INVALID.into());
        }
    }
    let (name, tag) = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            return Err(INVALID.into());
        }
    }
    let (domain, remainder) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first, rest.to_string())
        }
        _ => ("docker.io", name.to_string()),
    };
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let remainder = if domain == "docker.io" && !remainder.contains('/') {
        format!("library/{remainder}")
    } else {
        remainder
    };
    if remainder.to_lowercase() != remainder {
        return Err(format!(
            "{INVALID}: repository name ({remainder}) must be lowercase"
        ));
    }
    if !valid_domain(domain) || !remainder.split('/').all(valid_path_component) {
        return Err(INVALID.into());
    }
    Ok(format!("{domain}/{remainder}"))
}

/// docker reference `domain`: dot-separated labels (or a bracketed IPv6 address) and an
/// optional numeric port.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => (h, Some(p)),
        _ => (domain, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// docker reference path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_path_component(component: &str) -> bool {
    crate::node_config::enforce::docker_ref::is_path_component(component)
}

/// The parts of a Secret the check reads (JSON or YAML). Deserialised by hand so that no
/// error message repeats a value.
struct SecretDoc {
    /// A `kind` other than Secret, with its YAML position.
    wrong_kind: Option<(u64, u64, String)>,
    name: Option<String>,
    namespace: Option<String>,
    secret_type: Option<String>,
    data: Vec<(String, Option<String>)>,
    string_data: Vec<(String, Option<String>)>,
}

impl<'de> Deserialize<'de> for SecretDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocVisitor)
    }
}

struct DocVisitor;

impl DocVisitor {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!("expected {EXPECTED_INPUT}, found {found}"))
    }
}

impl<'de> Visitor<'de> for DocVisitor {
    type Value = SecretDoc;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes Secret")
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<SecretDoc, E> {
        Err(self.wrong("an empty document"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretDoc, A::Error> {
        let mut kind = None;
        let mut doc = SecretDoc {
            wrong_kind: None,
            name: None,
            namespace: None,
            secret_type: None,
            data: Vec::new(),
            string_data: Vec::new(),
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "kind" => {
                    let value: Spanned<KindText> = map.next_value()?;
                    if let Some(k) = value.value.0.as_deref().filter(|k| *k != "Secret") {
                        let message = format!(
                            "kind: expected Secret, found {k:?}; expected {EXPECTED_INPUT}"
                        );
                        let at = &value.referenced;
                        if at.line() == 0 {
                            // JSON: serde_json puts the position on the error.
                            return Err(de::Error::custom(message));
                        }
                        // YAML: serde-saphyr leaves such errors without a position.
                        doc.wrong_kind = Some((at.line(), at.column(), message));
                    }
                    kind = value.value.0;
                }
                "type" => doc.secret_type = map.next_value_seed(StringSeed::new("type"))?,
                "metadata" => {
                    let (name, namespace) = map.next_value_seed(MetaSeed)?;
                    doc.name = name;
                    doc.namespace = namespace;
                }
                "data" => doc.data = map.next_value_seed(DataSeed { field: "data" })?,
                "stringData" => {
                    doc.string_data = map.next_value_seed(DataSeed {
                        field: "stringData",
                    })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if kind.is_none() {
            return Err(de::Error::custom(format!(
                "no `kind: Secret`; expected {EXPECTED_INPUT}"
            )));
        }
        Ok(doc)
    }
}

/// The value of `kind` (wrapped in [`Spanned`] for its YAML position).
struct KindText(Option<String>);

impl<'de> Deserialize<'de> for KindText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StringSeed::new("kind").deserialize(d).map(KindText)
    }
}

/// `metadata`: name and namespace.
struct MetaSeed;

impl MetaSeed {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!("metadata: expected an object, found {found}"))
    }
}

impl<'de> DeserializeSeed<'de> for MetaSeed {
    type Value = (Option<String>, Option<String>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MetaSeed {
    type Value = (Option<String>, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((None, None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut name, mut namespace) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = map.next_value_seed(StringSeed::new("metadata.name"))?,
                "namespace" => {
                    namespace = map.next_value_seed(StringSeed::new("metadata.namespace"))?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((name, namespace))
    }
}

/// `data` or `stringData`: string values in document order.
struct DataSeed {
    field: &'static str,
}

impl DataSeed {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "{}: expected an object of string values, found {found}",
            self.field
        ))
    }
}

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = Vec<(String, Option<String>)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed {
    type Value = Vec<(String, Option<String>)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of string values")
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}{}", self.field, key_segment(&key));
            let value = map.next_value_seed(StringSeed::with_hint(path, " (quote the value)"))?;
            out.retain(|(k, _)| k != &key);
            out.push((key, value));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use rstest::rstest;

    const CANARY: &str = "canary-pull-secret-password";

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    /// A YAML Secret with the given type and `data` entries (values base64-encoded here).
    fn secret(secret_type: &str, data: &[(&str, &str)]) -> String {
        let mut text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\n  namespace: ci\ntype: {secret_type}\ndata:\n"
        );
        for (key, value) in data {
            text.push_str(&format!("  {key}: {}\n", b64(value)));
        }
        text
    }

    fn auths(entries: &str) -> String {
        format!(r#"{{"auths":{{{entries}}}}}"#)
    }

    fn good_entry(key: &str) -> String {
        format!(
            r#""{key}":{{"auth":"{}"}}"#,
            b64(&format!("1234567|ci:{CANARY}"))
        )
    }

    fn check(text: &str, images: &[&str]) -> PullSecretReport {
        let images: Vec<String> = images.iter().map(|s| s.to_string()).collect();
        check_pull_secret("pull.yaml", text, &images).unwrap()
    }

    fn codes(report: &PullSecretReport) -> Vec<(String, FindingCode)> {
        report
            .findings
            .iter()
            .map(|f| (f.path.clone(), f.code))
            .collect()
    }

    fn assert_no_secret(report: &PullSecretReport) {
        for text in [report.to_json(), report.to_human(), format!("{report:?}")] {
            assert!(!text.contains(CANARY), "{text}");
            assert!(!text.contains("canary"), "{text}");
        }
    }

    #[test]
    fn a_good_secret_has_no_findings_and_matches_images() {
        let text = secret(
            JSON_TYPE,
            &[(JSON_KEY, &auths(&good_entry("registry.redhat.io")))],
        );
        let r = check(
            &text,
            &["registry.redhat.io/rhel8/pcp:latest", "quay.io/x/y"],
        );
        assert_eq!(r.input, InputKind::Secret);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.exit_code(), 0);
        let m = &r.matches[0];
        assert_eq!(
            m.repository.as_deref(),
            Some("registry.redhat.io/rhel8/pcp")
        );
        assert_eq!(m.entry.as_deref(), Some("registry.redhat.io"));
        assert_eq!(m.username.as_deref(), Some("1234567|ci"));
        assert!(r.matches[1].entry.is_none());
        assert!(r.matches[1]
            .note
            .as_deref()
            .unwrap()
            .contains("no key matches"));
        assert!(r.to_human().contains(
            "registry.redhat.io/rhel8/pcp:latest -> key \"registry.redhat.io\" (username 1234567|ci)"
        ));
        assert_no_secret(&r);
    }

    #[test]
    fn wrong_key_for_type_dockercfg_key_in_dockerconfigjson_secret() {
        let text = secret(
            JSON_TYPE,
            &[(CFG_KEY, &format!("{{{}}}", good_entry("r.io")))],
        );
        let r = check(&text, &["r.io/a/b"]);
        assert_eq!(
            codes(&r),
            [(r#"data[".dockercfg"]"#.into(), FindingCode::WrongKeyForType)]
        );
        assert!(r.findings[0].message.contains("Required value"));
        assert!(r.matches[0]
            .note
            .as_deref()
            .unwrap()
            .contains("API server rejects"));
    }

    #[test]
    fn wrong_key_for_type_dockerconfigjson_key_in_dockercfg_secret() {
        let text = secret(
            CFG_TYPE,
            &[
                (CFG_KEY, &format!("{{{}}}", good_entry("r.io"))),
                (JSON_KEY, &auths(&good_entry("r.io"))),
            ],
        );
        let r = check(&text, &["r.io/a/b"]);
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"]"#.into(),
                FindingCode::WrongKeyForType
            )]
        );
        assert!(r.findings[0].message.contains("ignores this one"));
        // The .dockercfg key is still read.
        assert_eq!(r.matches[0].entry.as_deref(), Some("r.io"));
    }

    #[test]
    fn wrong_key_for_type_payload_shapes() {
        let text = secret(
            JSON_TYPE,
            &[(JSON_KEY, &format!("{{{}}}", good_entry("r.io")))],
        );
        let r = check(&text, &["r.io/a"]);
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"]"#.into(),
                FindingCode::WrongKeyForType
            )]
        );
        assert!(r.matches[0]
            .note
            .as_deref()
            .unwrap()
            .contains("no key matches"));

        let text = secret(CFG_TYPE, &[(CFG_KEY, &auths(&good_entry("r.io")))]);
        let r = check(&text, &["r.io/a"]);
        assert_eq!(
            codes(&r),
            [(r#"data[".dockercfg"]"#.into(), FindingCode::WrongKeyForType)]
        );
        assert!(r.findings[0].message.contains("\"auths\" wrapper"));
        assert!(r.matches[0].entry.is_none());
    }

    #[rstest]
    #[case("Opaque", "type Opaque")]
    #[case("", "no type (so Opaque)")]
    #[case("kubernetes.io/basic-auth", "type kubernetes.io/basic-auth")]
    fn ignored_by_kubelet(#[case] secret_type: &str, #[case] shown: &str) {
        let text = secret(secret_type, &[(JSON_KEY, &auths(&good_entry("r.io")))]);
        let r = check(&text, &["r.io/a"]);
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"]"#.into(),
                FindingCode::IgnoredByKubelet
            )]
        );
        assert!(
            r.findings[0].message.contains(shown),
            "{}",
            r.findings[0].message
        );
        assert!(r.findings[0].message.contains(JSON_TYPE));
        assert!(r.matches[0].entry.is_none());
    }

    #[test]
    fn ignored_by_kubelet_config_json_key() {
        let text = secret("Opaque", &[("config.json", &auths(&good_entry("r.io")))]);
        let r = check(&text, &[]);
        assert_eq!(
            codes(&r),
            [(
                r#"data["config.json"]"#.into(),
                FindingCode::IgnoredByKubelet
            )]
        );
        assert!(r.findings[0]
            .message
            .contains("--from-file=.dockerconfigjson=config.json"));
    }

    #[test]
    fn invalid_base64_data_value() {
        let text =
            format!("kind: Secret\ntype: {JSON_TYPE}\ndata:\n  {JSON_KEY}: '{{\"auths\":{{}}}}'\n");
        let r = check(&text, &["r.io/a"]);
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"]"#.into(),
                FindingCode::InvalidBase64
            )]
        );
        assert!(r.findings[0].message.contains("input byte 0"));
        assert!(r.findings[0].message.contains("stringData"));
    }

    #[test]
    fn invalid_base64_auth_field() {
        let text = secret(
            JSON_TYPE,
            &[(JSON_KEY, &auths(r#""r.io":{"auth":"not base64!"}"#))],
        );
        let r = check(&text, &["r.io/a"]);
        let path = r#"data[".dockerconfigjson"].auths["r.io"].auth"#;
        assert_eq!(codes(&r), [(path.into(), FindingCode::InvalidBase64)]);
        assert!(r.findings[0]
            .message
            .contains("illegal base64 data at input byte 3"));
        assert!(r.matches[0].note.as_deref().unwrap().contains("every pull"));
    }

    #[test]
    fn auth_mismatch_names_the_winner() {
        let entry = format!(
            r#""registry.redhat.io":{{"auth":"{}","username":"1234567|old","password":"{CANARY}-x"}}"#,
            b64(&format!("1234567|ci:{CANARY}"))
        );
        let r = check(
            &secret(JSON_TYPE, &[(JSON_KEY, &auths(&entry))]),
            &["registry.redhat.io/a"],
        );
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"].auths["registry.redhat.io"].auth"#.into(),
                FindingCode::AuthMismatch
            )]
        );
        let m = &r.findings[0].message;
        assert!(m.contains("the kubelet uses \"auth\""), "{m}");
        assert!(
            m.contains("usernames differ") && m.contains("passwords differ"),
            "{m}"
        );
        assert_eq!(r.matches[0].username.as_deref(), Some("1234567|ci"));
        assert_no_secret(&r);
    }

    #[test]
    fn auth_without_colon() {
        let entry = format!(r#""r.io":{{"auth":"{}"}}"#, b64(CANARY));
        let r = check(
            &secret(JSON_TYPE, &[(JSON_KEY, &auths(&entry))]),
            &["r.io/a"],
        );
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"].auths["r.io"].auth"#.into(),
                FindingCode::AuthWithoutColon
            )]
        );
        assert!(r.matches[0].entry.is_none());
        assert_no_secret(&r);
    }

    #[rstest]
    #[case::long_token(&"x".repeat(300))]
    #[case::jwt("eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0.c2ln")]
    fn service_account_prefix_missing(#[case] token: &str) {
        let entry =
            format!(r#""registry.redhat.io":{{"username":"ci-puller","password":"{token}"}}"#);
        let r = check(&secret(JSON_TYPE, &[(JSON_KEY, &auths(&entry))]), &[]);
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"].auths["registry.redhat.io"].username"#.into(),
                FindingCode::ServiceAccountPrefixMissing
            )]
        );
        assert!(r.findings[0].message.contains("1234567|ci-puller"));
        // Other registries use long tokens with plain usernames.
        let entry = format!(r#""myacr.azurecr.io":{{"username":"00000000","password":"{token}"}}"#);
        assert!(
            check(&secret(JSON_TYPE, &[(JSON_KEY, &auths(&entry))]), &[])
                .findings
                .is_empty()
        );
    }

    #[rstest]
    #[case::auth_from_echo_pipe_base64(
        format!(r#""r.io":{{"auth":"{}"}}"#, b64("u:pass\n")),
        "auth"
    )]
    #[case::password_field_crlf(r#""r.io":{"username":"u","password":"pass\r\n"}"#.to_string(), "password")]
    fn password_trailing_newline(#[case] entry: String, #[case] field: &str) {
        let r = check(&secret(JSON_TYPE, &[(JSON_KEY, &auths(&entry))]), &[]);
        assert_eq!(
            codes(&r),
            [(
                format!(r#"data[".dockerconfigjson"].auths["r.io"].{field}"#),
                FindingCode::PasswordTrailingNewline
            )]
        );
    }

    #[test]
    fn empty_credentials() {
        let r = check(
            &secret(
                JSON_TYPE,
                &[(JSON_KEY, r#"{"auths":{"r.io":{}},"credsStore":"desktop"}"#)],
            ),
            &["r.io/a"],
        );
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"].auths["r.io"]"#.into(),
                FindingCode::EmptyCredentials
            )]
        );
        // The kubelet still files the entry: empty credentials.
        assert_eq!(r.matches[0].username.as_deref(), Some(""));
    }

    #[test]
    fn invalid_json_is_located_inside_the_payload() {
        let r = check(
            &secret(JSON_TYPE, &[(JSON_KEY, "{\"auths\": {\n  \"r.io\": }")]),
            &["r.io/a"],
        );
        assert_eq!(
            codes(&r),
            [(
                r#"data[".dockerconfigjson"]"#.into(),
                FindingCode::InvalidJson
            )]
        );
        let m = &r.findings[0].message;
        assert!(m.contains("line 2 column 11"), "{m}");
        assert!(m.contains("API server rejects"), "{m}");
    }

    #[test]
    fn a_yaml_flow_mapping_secret_is_read_as_yaml() {
        let text = format!(
            "{{kind: Secret, type: {JSON_TYPE}, stringData: {{{JSON_KEY}: '{}'}}}}",
            auths(&good_entry("r.io"))
        );
        let r = check(&text, &["r.io/a"]);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.matches[0].entry.as_deref(), Some("r.io"));
    }

    #[test]
    fn string_data_overrides_data() {
        let text = format!(
            "kind: Secret\ntype: {JSON_TYPE}\ndata:\n  {JSON_KEY}: {}\nstringData:\n  {JSON_KEY}: '{}'\n",
            b64("not json"),
            auths(&good_entry("r.io"))
        );
        let r = check(&text, &["r.io/a"]);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.matches[0].entry.as_deref(), Some("r.io"));
    }

    #[test]
    fn every_finding_at_once() {
        let long_token = format!("{CANARY}-{}", "t".repeat(250));
        let entries = format!(
            r#""registry.redhat.io":{{"username":"ci-puller","password":"{long_token}"}},
               "quay.io":{{"auth":"{}","username":"other"}},
               "r1.io":{{"auth":"{}"}},
               "r2.io":{{"auth":"%%%"}},
               "r3.io":{{"auth":"{}"}},
               "r4.io":{{"email":"x@y"}}"#,
            b64(&format!("u:{CANARY}")),
            b64(CANARY),
            b64(&format!("u:{CANARY}\n")),
        );
        // Opaque; .dockerconfigjson in .dockercfg shape; .dockercfg not JSON.
        let text = secret(
            "Opaque",
            &[
                (JSON_KEY, &format!("{{{entries}}}")),
                (CFG_KEY, "this is not json"),
            ],
        ) + "  broken: '%%%'\n";
        let r = check(&text, &["registry.redhat.io/rhel8/pcp"]);
        let mut seen: Vec<FindingCode> = r.findings.iter().map(|f| f.code).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9, "{}", r.to_human());
        assert_eq!(r.exit_code(), 1);
        let human = r.to_human();
        for code in [
            "wrong-key-for-type",
            "ignored-by-kubelet",
            "invalid-base64",
            "auth-mismatch",
            "auth-without-colon",
            "service-account-prefix-missing",
            "password-trailing-newline",
            "empty-credentials",
            "invalid-json",
        ] {
            assert!(human.contains(&format!(": {code}: ")), "{code}\n{human}");
        }
        assert!(human.contains(
            r#"data[".dockerconfigjson"]["registry.redhat.io"].username: service-account-prefix-missing"#
        ));
        assert_no_secret(&r);
    }

    #[test]
    fn bare_files() {
        let text = auths(&good_entry("registry.redhat.io"));
        let images = vec!["registry.redhat.io/ubi8".to_string()];
        let r = check_pull_secret("/run/containers/auth.json", &text, &images).unwrap();
        assert_eq!(r.input, InputKind::AuthJson);
        assert!(r.findings.is_empty());
        assert_eq!(r.matches[0].entry.as_deref(), Some("registry.redhat.io"));
        let r = check_pull_secret("x/config.json", &text, &images).unwrap();
        assert_eq!(r.input, InputKind::ConfigJson);
        let r = check_pull_secret("home/.dockercfg", &text, &images).unwrap();
        assert_eq!(r.input, InputKind::Dockercfg);
        assert_eq!(codes(&r), [("$".into(), FindingCode::WrongKeyForType)]);
        let cfg = format!("{{{}}}", good_entry("registry.redhat.io"));
        let r = check_pull_secret("creds", &cfg, &images).unwrap();
        assert_eq!(r.input, InputKind::Dockercfg);
        assert_eq!(r.matches[0].username.as_deref(), Some("1234567|ci"));
        assert!(r.findings.is_empty());
    }

    #[rstest]
    #[case::not_yaml("a: [", 1)]
    #[case::config_map("apiVersion: v1\nkind: ConfigMap\ndata: {}\n", 2)]
    #[case::no_kind("data:\n  x: eQ==\n", 1)]
    #[case::yaml_boolean_value("kind: Secret\ndata:\n  x: y\n", 3)]
    #[case::bad_json("{\"auths\": {\n  \"r.io\": {\"auth\": \"x\"", 2)]
    #[case::json_secret_bad_data("{\"kind\": \"Secret\",\n \"data\": {\"a\": 5}}", 2)]
    #[case::entry_not_object("{\n\"r.io\": \"canary-pull-secret-password\"}", 2)]
    #[case::empty("  \n", 1)]
    #[case::yaml_flow_not_a_secret("{kind: ConfigMap}", 1)]
    fn unreadable_input_is_located(#[case] text: &str, #[case] line: u64) {
        let e = check_pull_secret("f.yaml", text, &[]).unwrap_err();
        let CheckError::Unreadable {
            line: got, message, ..
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!(*got, line, "{e}");
        assert!(message.contains("expected"), "{e}");
        assert!(e.to_string().starts_with(&format!("f.yaml:{line}:")), "{e}");
        assert!(!e.to_string().contains("canary"), "{e}");
    }

    #[rstest]
    #[case("nginx", Ok("docker.io/library/nginx"))]
    #[case("nginx:1.25", Ok("docker.io/library/nginx"))]
    #[case("index.docker.io/foo/bar", Ok("docker.io/foo/bar"))]
    #[case("registry.redhat.io/rhel8/pcp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Ok("registry.redhat.io/rhel8/pcp"))]
    #[case("localhost/app", Ok("localhost/app"))]
    #[case("r.io:5000/a/b:v1", Ok("r.io:5000/a/b"))]
    #[case("Upper/app", Ok("Upper/app"))]
    #[case("r.io/App", Err(()))]
    #[case("r.io/a//b", Err(()))]
    #[case("r.io/a:", Err(()))]
    fn image_names(#[case] image: &str, #[case] want: Result<&str, ()>) {
        assert_eq!(
            repository_of(image).map_err(|_| ()).as_deref(),
            want.as_deref(),
            "{image}"
        );
    }
}
