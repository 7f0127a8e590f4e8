//! Credential files as podman, skopeo and docker write and read them.
//!
//! Lookup follows containers/image: `REGISTRY_AUTH_FILE` alone when set, else
//! `${XDG_RUNTIME_DIR}/containers/auth.json`, `~/.docker/config.json`, `~/.dockercfg`;
//! in a file, the most specific key wins (`host/ns/repo`, `host/ns`, `host`), then keys
//! normalised by dropping `http(s)://` and any path.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Map, Value};

use crate::scenario::model::AuthFileKind;

/// The home and runtime folders of one scenario run (a temp folder).
#[derive(Debug)]
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A fresh sandbox.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            dir: tempfile::Builder::new().prefix("regharness-").tempdir()?,
        })
    }

    /// The sandbox root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where `kind`'s file lives in the sandbox.
    pub fn path_of(&self, kind: AuthFileKind) -> PathBuf {
        let root = self.dir.path();
        match kind {
            AuthFileKind::Podman => root.join("run/containers/auth.json"),
            AuthFileKind::Docker => root.join("home/.docker/config.json"),
            AuthFileKind::Dockercfg => root.join("home/.dockercfg"),
        }
    }
}

/// How a file is named in reports and snapshots (independent of the temp folder).
pub fn display_path(kind: AuthFileKind) -> &'static str {
    match kind {
        AuthFileKind::Podman => "${XDG_RUNTIME_DIR}/containers/auth.json",
        AuthFileKind::Docker => "~/.docker/config.json",
        AuthFileKind::Dockercfg => "~/.dockercfg",
    }
}

/// The search order of containers/image (without `REGISTRY_AUTH_FILE`).
pub const LOOKUP_ORDER: &[AuthFileKind] = &[
    AuthFileKind::Podman,
    AuthFileKind::Docker,
    AuthFileKind::Dockercfg,
];

/// Problems with an auth file. Messages never contain the credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthFileError {
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// Display path.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid JSON (containers/image reports `unexpected end of JSON input` for an
    /// empty file).
    #[error("{file}:{line}:{column}: invalid JSON: {message}")]
    Json {
        /// Display path.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The JSON is not shaped like an auth file.
    #[error("{file}: {message}")]
    Shape {
        /// Display path.
        file: String,
        /// What was expected.
        message: String,
    },
    /// An `auth` field that is not base64.
    #[error("{file}: entry {key:?}: the \"auth\" field is not valid base64 ({message}); expected base64(\"username:password\")")]
    Base64 {
        /// Display path.
        file: String,
        /// The entry's key.
        key: String,
        /// Decoder message.
        message: String,
    },
}

/// Credentials found for a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundCredentials {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// The file they came from (display path).
    pub file: String,
    /// The key of the entry.
    pub key: String,
}

/// Writes (merging into an existing file) the entry `key` = base64(user:pass) into
/// `kind`'s file, the way `podman login` / `docker login` do. Returns the text written.
pub fn write_login(
    sandbox: &Sandbox,
    kind: AuthFileKind,
    key: &str,
    username: &str,
    password: &str,
) -> Result<String, AuthFileError> {
    let path = sandbox.path_of(kind);
    let file = display_path(kind).to_string();
    let mut root = if path.exists() {
        read_json(&path, &file)?
    } else {
        Value::Object(Map::new())
    };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut entry = Map::new();
    entry.insert("auth".into(), Value::String(auth));
    let obj = root.as_object_mut().ok_or_else(|| AuthFileError::Shape {
        file: file.clone(),
        message: "expected a JSON object at the top level".into(),
    })?;
    let container = match kind {
        AuthFileKind::Dockercfg => obj,
        _ => obj
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| AuthFileError::Shape {
                file: file.clone(),
                message: "\"auths\" must be an object".into(),
            })?,
    };
    container.insert(key.to_string(), Value::Object(entry));
    let text = serde_json::to_string_pretty(&root).unwrap_or_default() + "\n";
    write_text(sandbox, kind, &text)?;
    Ok(text)
}

/// Writes `text` as `kind`'s file, creating folders (mode 0700 like podman's runtime dir).
pub fn write_text(sandbox: &Sandbox, kind: AuthFileKind, text: &str) -> Result<(), AuthFileError> {
    let path = sandbox.path_of(kind);
    let io = |source| AuthFileError::Io {
        file: display_path(kind).to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(&path, text).map_err(io)
}

/// Looks up credentials for `registry`/`repository` in the sandbox's files, the way
/// containers/image does. `only` restricts the search to one file
/// (`REGISTRY_AUTH_FILE`). `Ok(None)`: no entry anywhere (an anonymous pull).
pub fn lookup(
    sandbox: &Sandbox,
    only: Option<AuthFileKind>,
    registry: &str,
    repository: &str,
) -> Result<Option<FoundCredentials>, AuthFileError> {
    let kinds: Vec<AuthFileKind> = match only {
        Some(k) => vec![k],
        None => LOOKUP_ORDER.to_vec(),
    };
    for kind in kinds {
        let path = sandbox.path_of(kind);
        if !path.exists() {
            continue;
        }
        let file = display_path(kind).to_string();
        let root = read_json(&path, &file)?;
        let entries = entries_of(&root, kind, &file)?;
        if let Some(found) = find_in(entries, registry, repository, &file)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn read_json(path: &Path, file: &str) -> Result<Value, AuthFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuthFileError::Io {
        file: file.to_string(),
        source,
    })?;
    if text.trim().is_empty() {
        return Err(AuthFileError::Json {
            file: file.to_string(),
            line: 1,
            column: 1,
            message: "unexpected end of JSON input".into(),
        });
    }
    serde_json::from_str(&text).map_err(|e| AuthFileError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn entries_of<'a>(
    root: &'a Value,
    kind: AuthFileKind,
    file: &str,
) -> Result<&'a Map<String, Value>, AuthFileError> {
    let obj = root.as_object().ok_or_else(|| AuthFileError::Shape {
        file: file.to_string(),
        message: "expected a JSON object at the top level".into(),
    })?;
    if kind == AuthFileKind::Dockercfg {
        return Ok(obj);
    }
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match obj.get("auths") {
        None => Ok(EMPTY.get_or_init(Map::new)),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(AuthFileError::Shape {
            file: file.to_string(),
            message: "\"auths\" must be an object of registry entries".into(),
        }),
    }
}

/// Keys to try, most specific first: `host/a/b`, `host/a`, `host`.
fn candidate_keys(registry: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut path = format!("{registry}/{repository}");
    loop {
        keys.push(path.clone());
        match path.rsplit_once('/') {
            Some((parent, _)) => path = parent.to_string(),
            None => break,
        }
    }
    keys
}

/// `https://registry.redhat.io/v1/` → `registry.redhat.io`.
pub fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn find_in(
    entries: &Map<String, Value>,
    registry: &str,
    repository: &str,
    file: &str,
) -> Result<Option<FoundCredentials>, AuthFileError> {
    for key in candidate_keys(registry, repository) {
        if let Some(entry) = entries.get(&key) {
            return decode_entry(file, &key, entry);
        }
    }
    let mut keys: Vec<&String> = entries.keys().collect();
    keys.sort();
    for key in keys {
        if normalize_key(key).eq_ignore_ascii_case(registry) {
            return decode_entry(file, key, &entries[key]);
        }
    }
    Ok(None)
}

fn decode_entry(
    file: &str,
    key: &str,
    entry: &Value,
) -> Result<Option<FoundCredentials>, AuthFileError> {
    let auth = entry.get("auth").and_then(Value::as_str).unwrap_or("");
    if auth.is_empty() {
        // An entry without `auth` (e.g. written for a credential helper): no credentials.
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .map_err(|e| AuthFileError::Base64 {
            file: file.to_string(),
            key: key.to_string(),
            message: e.to_string(),
        })?;
    let decoded = String::from_utf8_lossy(&decoded);
    match decoded.split_once(':') {
        Some((username, password)) => Ok(Some(FoundCredentials {
            username: username.to_string(),
            password: password.to_string(),
            file: file.to_string(),
            key: key.to_string(),
        })),
        // containers/image warns and goes on anonymously, like docker.
        None => {
            tracing::info!(
                file,
                key,
                "the \"auth\" field has no ':' between username and password; pulling anonymously"
            );
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox_with(kind: AuthFileKind, text: &str) -> Sandbox {
        let s = Sandbox::new().unwrap();
        write_text(&s, kind, text).unwrap();
        s
    }

    #[test]
    fn https_key_of_docker_login_is_found_by_normalisation() {
        let s = sandbox_with(
            AuthFileKind::Docker,
            r#"{"auths":{"https://registry.redhat.io":{"auth":"dTpw"}}}"#,
        );
        let c = lookup(&s, None, "registry.redhat.io", "rhel8/pcp")
            .unwrap()
            .unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p"));
        assert_eq!(c.key, "https://registry.redhat.io");
    }

    #[test]
    fn repository_key_beats_host_key_and_podman_file_beats_docker() {
        let s = sandbox_with(
            AuthFileKind::Podman,
            r#"{"auths":{"registry.redhat.io":{"auth":"YTpi"},"registry.redhat.io/rhel8":{"auth":"Yzpk"}}}"#,
        );
        write_text(
            &s,
            AuthFileKind::Docker,
            r#"{"auths":{"registry.redhat.io":{"auth":"ZTpm"}}}"#,
        )
        .unwrap();
        let c = lookup(&s, None, "registry.redhat.io", "rhel8/pcp")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "c");
        let c = lookup(&s, None, "registry.redhat.io", "ubi8/ubi")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "a");
        let c = lookup(&s, Some(AuthFileKind::Docker), "registry.redhat.io", "x")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "e");
    }

    #[test]
    fn malformed_files_give_located_errors() {
        let s = sandbox_with(
            AuthFileKind::Podman,
            "{\"auths\": {\n  \"r.io\": {\"auth\": \"%%%\"}}}",
        );
        let e = lookup(&s, None, "r.io", "a").unwrap_err().to_string();
        assert!(e.contains("not valid base64"), "{e}");
        assert!(e.contains("\"r.io\""), "{e}");
        let s = sandbox_with(AuthFileKind::Podman, "{\"auths\": \n");
        let e = lookup(&s, None, "r.io", "a").unwrap_err().to_string();
        assert!(e.contains("auth.json:2:"), "{e}");
        let s = sandbox_with(AuthFileKind::Podman, "");
        let e = lookup(&s, None, "r.io", "a").unwrap_err().to_string();
        assert!(e.contains("unexpected end of JSON input"), "{e}");
    }

    #[test]
    fn dockercfg_has_no_auths_wrapper_and_missing_colon_is_anonymous() {
        let s = sandbox_with(
            AuthFileKind::Dockercfg,
            r#"{"registry.redhat.io":{"auth":"dTpw","email":"x@y"}}"#,
        );
        assert!(lookup(&s, None, "registry.redhat.io", "a")
            .unwrap()
            .is_some());
        let s = sandbox_with(
            AuthFileKind::Podman,
            r#"{"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}}"#,
        );
        assert!(lookup(&s, None, "r.io", "a").unwrap().is_none());
    }

    #[test]
    fn login_merges_entries() {
        let s = Sandbox::new().unwrap();
        write_login(&s, AuthFileKind::Podman, "a.io", "u", "p").unwrap();
        let text = write_login(&s, AuthFileKind::Podman, "b.io", "u", "p").unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["auths"].as_object().unwrap().len(), 2);
        let text = write_login(&s, AuthFileKind::Dockercfg, "https://c.io", "u", "p").unwrap();
        assert!(text.contains("\"https://c.io\""));
        assert!(!text.contains("auths"));
    }
}
