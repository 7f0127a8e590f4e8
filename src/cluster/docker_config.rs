//! The payload of a pull secret, read the way the kubelet reads it.
//!
//! Two shapes (SPEC.md §3, §4):
//! - the legacy `.dockercfg`: registry keys at the top level,
//!   `{"registry.redhat.io":{"auth":"..."}}`;
//! - `.dockerconfigjson`, docker's `config.json` and podman's `auth.json`: the same entries
//!   under `auths`, `{"auths":{"registry.redhat.io":{"auth":"..."}}}`, beside other keys
//!   (`credHelpers`, `credsStore`, `HttpHeaders`, ...) that the kubelet ignores.
//!
//! Parsing follows kubernetes `pkg/credentialprovider/config.go` (`DockerConfigJSON`,
//! `DockerConfig`, `DockerConfigEntry.UnmarshalJSON`, `decodeDockerConfigFieldAuth`) and Go's
//! `encoding/json` beneath it:
//! - a non-empty `auth` is decoded, as padded standard base64 when it ends in `=` and as
//!   unpadded base64 otherwise (Go's decoders skip `\r` and `\n`), split at the first `:`,
//!   and replaces the `username` / `password` fields; invalid base64 or no `:` makes the
//!   kubelet reject the whole config (here: an [`EntryProblem`], so a check can report it);
//! - field names match case-insensitively (`Auth`, `USERNAME`), unknown fields are ignored,
//!   `null` leaves a field empty, a field of the wrong type is an error ([`ConfigError`]);
//! - a repeated registry key keeps its last value.
//!
//! Nothing here prints a secret: [`ConfigEntry`]'s `Debug` hides the password and `auth`,
//! and errors name fields and JSON types, never values.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Which of the two shapes a payload has (or is read as).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigFormat {
    /// Registry entries at the top level (`.dockercfg`, Secret type `kubernetes.io/dockercfg`).
    Dockercfg,
    /// Registry entries under `auths` (`.dockerconfigjson`, `config.json`, `auth.json`;
    /// Secret type `kubernetes.io/dockerconfigjson`).
    DockerConfigJson,
}

impl ConfigFormat {
    /// What a payload of this format looks like, for "expected ..." messages.
    pub fn expected(self) -> &'static str {
        match self {
            ConfigFormat::Dockercfg => {
                "a .dockercfg JSON object with registry entries at the top level"
            }
            ConfigFormat::DockerConfigJson => {
                "a config.json JSON object with registry entries under \"auths\""
            }
        }
    }
}

/// A parsed payload: its format and its registry entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// The shape the entries were read from.
    pub format: ConfigFormat,
    /// One per registry key, in the order of the file (a repeated key keeps its first
    /// position and its last value, as Go's map would hold it).
    pub entries: Vec<ConfigEntry>,
}

impl DockerConfig {
    /// The error the kubelet's `json.Unmarshal` returns for this payload, if any entry has
    /// a problem that makes it reject the whole config: the entry and Go's message.
    pub fn kubelet_error(&self) -> Option<(&ConfigEntry, String)> {
        self.entries.iter().find_map(|entry| {
            entry
                .problems
                .iter()
                .find_map(EntryProblem::kubelet_error)
                .map(|message| (entry, message))
        })
    }
}

/// One registry entry.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// The registry key as written (`registry.redhat.io`, `https://index.docker.io/v1/`).
    pub key: String,
    /// Where the entry sits in the payload: `auths["registry.redhat.io"]` or
    /// `["registry.redhat.io"]`.
    pub path: String,
    /// The username the kubelet uses: from `auth` when it is present and valid, else the
    /// `username` field.
    pub username: String,
    /// The password the kubelet uses (same precedence).
    pub password: String,
    /// The `email` field.
    pub email: Option<String>,
    /// The `auth` field as written (base64 of `username:password`).
    pub auth_field: Option<String>,
    /// The `username` field as written.
    pub username_field: Option<String>,
    /// The `password` field as written.
    pub password_field: Option<String>,
    /// What is wrong with the entry.
    pub problems: Vec<EntryProblem>,
}

impl ConfigEntry {
    /// Whether the username and password come from a valid `auth` field.
    pub fn credentials_from_auth(&self) -> bool {
        self.auth_field.as_deref().is_some_and(|a| !a.is_empty())
            && !self.problems.iter().any(|p| p.kubelet_error().is_some())
    }
}

impl fmt::Debug for ConfigEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("ConfigEntry")
            .field("key", &self.key)
            .field("path", &self.path)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("email", &self.email)
            .field("auth_field", &hidden(&self.auth_field))
            .field("username_field", &self.username_field)
            .field("password_field", &hidden(&self.password_field))
            .field("problems", &self.problems)
            .finish()
    }
}

/// A problem with one entry that the kubelet (or a registry) trips over. No variant holds
/// a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    /// `auth` is not base64: the kubelet rejects the whole config.
    AuthNotBase64 {
        /// Go's error, e.g. `illegal base64 data at input byte 4`.
        go_error: String,
    },
    /// The decoded `auth` has no `:`: the kubelet rejects the whole config
    /// (`unable to parse auth field, must be formatted as base64(username:password)`).
    AuthWithoutColon,
    /// `auth` and the `username` / `password` fields beside it disagree; `auth` wins.
    AuthMismatch {
        /// The usernames differ (both are named in messages: usernames are not secret).
        username_differs: bool,
        /// The passwords differ.
        password_differs: bool,
    },
}

impl EntryProblem {
    /// The error the kubelet's `json.Unmarshal` of the whole config returns because of
    /// this problem, if it is one that makes it fail.
    pub fn kubelet_error(&self) -> Option<String> {
        match self {
            EntryProblem::AuthNotBase64 { go_error } => Some(go_error.clone()),
            EntryProblem::AuthWithoutColon => Some(
                "unable to parse auth field, must be formatted as base64(username:password)".into(),
            ),
            EntryProblem::AuthMismatch { .. } => None,
        }
    }
}

/// A payload the kubelet cannot read at all. Messages name JSON types and fields, never
/// values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON.
    #[error("line {line} column {column}: invalid JSON: {message}; expected {expected}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (0 at the very end of the text).
        column: usize,
        /// What the JSON parser expected.
        message: String,
        /// What the payload should be.
        expected: &'static str,
    },
    /// JSON, but not shaped as Go's types require (Go's `json.Unmarshal` fails).
    #[error("line {line} column {column}: {message}")]
    Shape {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key path, what was expected and what was found.
        message: String,
    },
}

impl ConfigError {
    /// 1-based line of the problem.
    pub fn line(&self) -> usize {
        match self {
            ConfigError::Syntax { line, .. } | ConfigError::Shape { line, .. } => *line,
        }
    }

    /// Column of the problem.
    pub fn column(&self) -> usize {
        match self {
            ConfigError::Syntax { column, .. } | ConfigError::Shape { column, .. } => *column,
        }
    }

    /// The message without its position.
    pub fn what(&self) -> String {
        match self {
            ConfigError::Syntax {
                message, expected, ..
            } => format!("invalid JSON: {message}; expected {expected}"),
            ConfigError::Shape { message, .. } => message.clone(),
        }
    }
}

/// Parses a payload. `expected`: read it as that format, the way the kubelet reads the
/// key of a Secret (a `.dockerconfigjson` without `auths` then has no entries, and a
/// `.dockercfg` with an `auths` wrapper has one entry named `auths`); `None`: detect the
/// format (an `auths` key, matched case-insensitively like Go, means
/// [`ConfigFormat::DockerConfigJson`]).
pub fn parse(text: &str, expected: Option<ConfigFormat>) -> Result<DockerConfig, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        // serde_json reports column 0 at the start of a line (e.g. at EOF); positions are
        // 1-based for people.
        let (line, column) = (e.line().max(1), e.column().max(1));
        ConfigError::Syntax {
            line,
            column,
            message: without_position(&e),
            expected: expected
                .unwrap_or(ConfigFormat::DockerConfigJson)
                .expected(),
        }
    })?;
    let format = expected.unwrap_or_else(|| detect(&value));
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = TopSeed { format }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw))
        .map_err(|e| ConfigError::Shape {
            line: e.line().max(1),
            column: e.column().max(1),
            message: without_position(&e),
        })?;
    Ok(DockerConfig {
        format,
        entries: raw.into_iter().map(RawEntry::into_entry).collect(),
    })
}

/// The format a JSON value has: `auths` at the top level (any case) or not.
fn detect(value: &serde_json::Value) -> ConfigFormat {
    match value.as_object() {
        Some(obj) if obj.keys().any(|k| go_field_eq(k, "auths")) => ConfigFormat::DockerConfigJson,
        _ => ConfigFormat::Dockercfg,
    }
}

/// serde_json's message without the ` at line L column C` it appends.
pub(crate) fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// Go's `encoding/json` field matching: exact, else case-insensitive with Unicode simple
/// folding (only `ſ` → `s` and the Kelvin sign → `k` fold onto ASCII letters).
fn go_field_eq(key: &str, field: &str) -> bool {
    let fold = |c: char| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    key.chars().map(fold).eq(field.chars().map(fold))
}

/// A JSON string as a key path segment: `["registry.redhat.io"]`.
pub fn key_segment(key: &str) -> String {
    format!(
        "[{}]",
        serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"))
    )
}

/// Go's `base64.StdEncoding` (`padded`) or `base64.RawStdEncoding` `DecodeString`:
/// non-strict (non-zero trailing bits are accepted), `\r` and `\n` are skipped anywhere.
/// `Err(offset)` is Go's `CorruptInputError`: `illegal base64 data at input byte OFFSET`.
pub fn go_base64_decode(src: &[u8], padded: bool) -> Result<Vec<u8>, usize> {
    fn symbol(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let skip_newlines = |mut si: usize| {
        while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
            si += 1;
        }
        si
    };
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    loop {
        let mut quantum = [0u8; 4];
        let mut j = 0;
        let mut len = 4;
        let mut last = false;
        let mut trailing = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                if j == 1 || padded {
                    return Err(si - j);
                }
                len = j;
                last = true;
                break;
            }
            let c = src[si];
            si += 1;
            if let Some(v) = symbol(c) {
                quantum[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if !padded || c != b'=' {
                return Err(si - 1);
            }
            // Padding: the end of the data.
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    si = skip_newlines(si);
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            si = skip_newlines(si);
            if si < src.len() {
                trailing = Some(si);
            }
            len = j;
            last = true;
            break;
        }
        let val = (u32::from(quantum[0]) << 18)
            | (u32::from(quantum[1]) << 12)
            | (u32::from(quantum[2]) << 6)
            | u32::from(quantum[3]);
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if let Some(at) = trailing {
            return Err(at);
        }
        if last {
            return Ok(out);
        }
    }
}

/// kubernetes `decodeDockerConfigFieldAuth`: padded decoding when the trimmed field ends
/// in `=`, unpadded otherwise; then a split at the first `:`.
fn decode_auth(field: &str) -> Result<(String, String), EntryProblem> {
    let padded = field.trim().ends_with('=');
    let decoded =
        go_base64_decode(field.as_bytes(), padded).map_err(|at| EntryProblem::AuthNotBase64 {
            go_error: format!("illegal base64 data at input byte {at}"),
        })?;
    let decoded = String::from_utf8_lossy(&decoded);
    decoded
        .split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .ok_or(EntryProblem::AuthWithoutColon)
}

/// An entry's fields as written.
#[derive(Default)]
struct RawEntry {
    key: String,
    path: String,
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    auth: Option<String>,
}

impl RawEntry {
    fn into_entry(self) -> ConfigEntry {
        let mut entry = ConfigEntry {
            key: self.key,
            path: self.path,
            username: self.username.clone().unwrap_or_default(),
            password: self.password.clone().unwrap_or_default(),
            email: self.email,
            auth_field: self.auth.clone(),
            username_field: self.username,
            password_field: self.password,
            problems: Vec::new(),
        };
        let Some(auth) = self.auth.filter(|a| !a.is_empty()) else {
            return entry;
        };
        match decode_auth(&auth) {
            Ok((username, password)) => {
                let differs = |field: &Option<String>, decoded: &str| {
                    field
                        .as_deref()
                        .is_some_and(|f| !f.is_empty() && f != decoded)
                };
                let username_differs = differs(&entry.username_field, &username);
                let password_differs = differs(&entry.password_field, &password);
                if username_differs || password_differs {
                    entry.problems.push(EntryProblem::AuthMismatch {
                        username_differs,
                        password_differs,
                    });
                }
                entry.username = username;
                entry.password = password;
            }
            Err(problem) => entry.problems.push(problem),
        }
        entry
    }
}

/// Adds or replaces (Go map semantics: last value, here first position) an entry.
fn upsert(entries: &mut Vec<RawEntry>, entry: RawEntry) {
    match entries.iter_mut().find(|e| e.key == entry.key) {
        Some(existing) => {
            let path = std::mem::take(&mut existing.path);
            *existing = RawEntry { path, ..entry };
        }
        None => entries.push(entry),
    }
}

/// Rejects every JSON type a visitor does not handle, naming the type and never the value.
macro_rules! reject_types {
    ($($kind:ident)*) => { $(reject_types!(@one $kind);)* };
    (@one bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(self.wrong("a boolean"))
        }
    };
    (@one number) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(self.wrong("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(self.wrong("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(self.wrong("a number"))
        }
    };
    (@one str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(self.wrong("a string"))
        }
    };
    (@one seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.wrong("an array"))
        }
    };
    (@one map) => {
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.wrong("an object"))
        }
    };
}
pub(crate) use reject_types;

/// The top level of a payload, read as `format`.
struct TopSeed {
    format: ConfigFormat,
}

impl TopSeed {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "top level: expected {}, found {found}",
            self.format.expected()
        ))
    }
}

impl<'de> DeserializeSeed<'de> for TopSeed {
    type Value = Vec<RawEntry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed {
    type Value = Vec<RawEntry>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.format.expected())
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.format {
                ConfigFormat::Dockercfg => {
                    let path = key_segment(&key);
                    let entry = map.next_value_seed(EntrySeed { key, path })?;
                    upsert(&mut entries, entry);
                }
                ConfigFormat::DockerConfigJson if go_field_eq(&key, "auths") => {
                    // Go reuses the map of an earlier `auths`: the entries merge.
                    for entry in map.next_value_seed(AuthsSeed { name: key })? {
                        upsert(&mut entries, entry);
                    }
                }
                ConfigFormat::DockerConfigJson if go_field_eq(&key, "httpheaders") => {
                    map.next_value_seed(HeadersSeed { name: key })?;
                }
                ConfigFormat::DockerConfigJson => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(entries)
    }
}

/// The `auths` object of a config.json.
struct AuthsSeed {
    name: String,
}

impl AuthsSeed {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "{:?}: expected an object of registry entries, found {found}",
            self.name
        ))
    }
}

impl<'de> DeserializeSeed<'de> for AuthsSeed {
    type Value = Vec<RawEntry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AuthsSeed {
    type Value = Vec<RawEntry>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of registry entries")
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}{}", self.name, key_segment(&key));
            let entry = map.next_value_seed(EntrySeed { key, path })?;
            upsert(&mut entries, entry);
        }
        Ok(entries)
    }
}

/// `HttpHeaders`: Go's `map[string]string`, checked and dropped.
struct HeadersSeed {
    name: String,
}

impl HeadersSeed {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "{:?}: expected an object of header strings, found {found}",
            self.name
        ))
    }
}

impl<'de> DeserializeSeed<'de> for HeadersSeed {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeadersSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of header strings")
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(header) = map.next_key::<String>()? {
            let path = format!("{:?}[{header:?}]", self.name);
            map.next_value_seed(StringSeed::new(path))?;
        }
        Ok(())
    }
}

/// One registry entry (an object, or `null`: an entry with nothing in it).
struct EntrySeed {
    key: String,
    path: String,
}

impl EntrySeed {
    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "{}: expected an object with \"auth\" (or \"username\" and \"password\"), found {found}",
            self.path
        ))
    }
}

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = RawEntry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawEntry, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed {
    type Value = RawEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a registry entry object")
    }

    reject_types!(bool number str seq);

    fn visit_unit<E: de::Error>(self) -> Result<RawEntry, E> {
        Ok(RawEntry {
            key: self.key,
            path: self.path,
            ..RawEntry::default()
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEntry, A::Error> {
        let mut raw = RawEntry {
            key: self.key,
            path: self.path,
            ..RawEntry::default()
        };
        while let Some(field) = map.next_key::<String>()? {
            let slot = if go_field_eq(&field, "username") {
                &mut raw.username
            } else if go_field_eq(&field, "password") {
                &mut raw.password
            } else if go_field_eq(&field, "email") {
                &mut raw.email
            } else if go_field_eq(&field, "auth") {
                &mut raw.auth
            } else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let path = format!("{}.{field}", raw.path);
            // Go: `null` leaves the field as it was.
            if let Some(value) = map.next_value_seed(StringSeed::new(path))? {
                *slot = Some(value);
            }
        }
        Ok(raw)
    }
}

/// A string field (or `null`), named by its key path in errors.
pub(crate) struct StringSeed {
    path: String,
    hint: &'static str,
}

impl StringSeed {
    /// A string at `path`.
    pub(crate) fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            hint: "",
        }
    }

    /// A string at `path`; `hint` is appended to the type error (e.g. " (quote the value)").
    pub(crate) fn with_hint(path: impl Into<String>, hint: &'static str) -> Self {
        Self {
            path: path.into(),
            hint,
        }
    }

    fn wrong<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "{}: expected a string, found {found}{}",
            self.path, self.hint
        ))
    }
}

impl<'de> DeserializeSeed<'de> for StringSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringSeed {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    reject_types!(bool number seq map);

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use rstest::rstest;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn dockerconfigjson_entries_keep_file_order_and_auth_wins() {
        let text = format!(
            r#"{{"auths":{{"z.io":{{"auth":"{}","username":"other","password":"p"}},
                "a.io":{{"username":"u2","password":"p2","email":"e@x"}}}},
              "credHelpers":{{"x.io":"helper"}},"HttpHeaders":{{"User-Agent":"x"}}}}"#,
            b64("u1:p1")
        );
        let c = parse(&text, None).unwrap();
        assert_eq!(c.format, ConfigFormat::DockerConfigJson);
        let keys: Vec<&str> = c.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["z.io", "a.io"]);
        let z = &c.entries[0];
        assert_eq!((z.username.as_str(), z.password.as_str()), ("u1", "p1"));
        assert_eq!(z.path, r#"auths["z.io"]"#);
        assert_eq!(
            z.problems,
            [EntryProblem::AuthMismatch {
                username_differs: true,
                password_differs: true
            }]
        );
        assert!(z.credentials_from_auth());
        let a = &c.entries[1];
        assert_eq!((a.username.as_str(), a.password.as_str()), ("u2", "p2"));
        assert_eq!(a.email.as_deref(), Some("e@x"));
        assert!(a.problems.is_empty());
        assert!(c.kubelet_error().is_none());
    }

    #[test]
    fn dockercfg_has_keys_at_the_top_level() {
        let text = format!(r#"{{"https://r.io/v1/":{{"auth":"{}"}}}}"#, b64("u:p:q"));
        let c = parse(&text, None).unwrap();
        assert_eq!(c.format, ConfigFormat::Dockercfg);
        assert_eq!(c.entries[0].path, r#"["https://r.io/v1/"]"#);
        // Split at the first colon only.
        assert_eq!(c.entries[0].password, "p:q");
    }

    #[test]
    fn the_expected_format_is_how_the_kubelet_reads_a_key() {
        let wrapped = r#"{"auths":{"r.io":{"username":"u","password":"p"}}}"#;
        let as_dockercfg = parse(wrapped, Some(ConfigFormat::Dockercfg)).unwrap();
        assert_eq!(as_dockercfg.entries.len(), 1);
        assert_eq!(as_dockercfg.entries[0].key, "auths");
        assert_eq!(as_dockercfg.entries[0].username, "");
        let bare = r#"{"r.io":{"username":"u","password":"p"}}"#;
        let as_json = parse(bare, Some(ConfigFormat::DockerConfigJson)).unwrap();
        assert!(as_json.entries.is_empty());
    }

    #[rstest]
    #[case::go_folds_field_names(r#"{"r.io":{"Auth":"dTpw","USERNAME":"x"}}"#, "u", "p")]
    #[case::long_s_folds_to_s(r#"{"r.io":{"uſername":"u","password":"p"}}"#, "u", "p")]
    #[case::null_leaves_a_field_alone(r#"{"r.io":{"username":"u","username":null}}"#, "u", "")]
    #[case::unknown_fields_ignored(r#"{"r.io":{"identitytoken":"t","x":[1]}}"#, "", "")]
    #[case::null_entry_is_empty(r#"{"r.io":null}"#, "", "")]
    #[case::unpadded_auth(r#"{"r.io":{"auth":"dTpwcQ"}}"#, "u", "pq")]
    #[case::newlines_skipped(r#"{"r.io":{"auth":"dTpw\ncQ=="}}"#, "u", "pq")]
    #[case::non_zero_trailing_bits_accepted(r#"{"r.io":{"auth":"dTpwcR=="}}"#, "u", "pq")]
    #[case::last_duplicate_wins(r#"{"r.io":{"auth":"YTpi"},"r.io":{"auth":"dTpw"}}"#, "u", "p")]
    fn go_json_semantics(#[case] text: &str, #[case] user: &str, #[case] pass: &str) {
        let c = parse(text, Some(ConfigFormat::Dockercfg)).unwrap();
        assert_eq!(c.entries.len(), 1, "{text}");
        assert_eq!(c.entries[0].username, user, "{text}");
        assert_eq!(c.entries[0].password, pass, "{text}");
        assert!(c.kubelet_error().is_none(), "{text}");
    }

    #[rstest]
    #[case::not_base64(
        r#"{"auths":{"r.io":{"auth":"%%%%"}}}"#,
        "illegal base64 data at input byte 0"
    )]
    #[case::padding_required_when_it_ends_in_eq(
        r#"{"auths":{"r.io":{"auth":"dTpw="}}}"#,
        "illegal base64 data at input byte 4"
    )]
    #[case::raw_rejects_one_leftover_symbol(
        r#"{"auths":{"r.io":{"auth":"dTpwc"}}}"#,
        "illegal base64 data at input byte 4"
    )]
    #[case::no_colon(
        r#"{"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}}"#,
        "unable to parse auth field"
    )]
    fn auth_problems_are_recorded_not_fatal(#[case] text: &str, #[case] go_error: &str) {
        let c = parse(text, None).unwrap();
        let (entry, message) = c.kubelet_error().unwrap();
        assert_eq!(entry.key, "r.io");
        assert!(message.starts_with(go_error), "{message}");
        assert!(!entry.credentials_from_auth());
    }

    #[test]
    fn auth_mismatch_only_for_fields_present() {
        let text = format!(r#"{{"r.io":{{"auth":"{}","username":"u"}}}}"#, b64("u:p"));
        assert!(parse(&text, None).unwrap().entries[0].problems.is_empty());
        let text = format!(r#"{{"r.io":{{"auth":"{}","password":"x"}}}}"#, b64("u:p"));
        assert_eq!(
            parse(&text, None).unwrap().entries[0].problems,
            [EntryProblem::AuthMismatch {
                username_differs: false,
                password_differs: true
            }]
        );
    }

    #[rstest]
    #[case::syntax("{\"auths\": {\n  \"r.io\": {\"auth\": \"x\"\n}", 3, "invalid JSON")]
    #[case::empty("", 1, "EOF while parsing")]
    #[case::string_entry(
        "{\n\"r.io\": \"canary-secret\"}",
        2,
        r#"["r.io"]: expected an object"#
    )]
    #[case::number_field(
        "{\"auths\":{\"r.io\":\n{\"auth\": 5}}}",
        2,
        r#"auths["r.io"].auth: expected a string, found a number"#
    )]
    #[case::auths_not_object(
        "{\"auths\": [\"canary-secret\"]}",
        1,
        r#""auths": expected an object of registry entries, found an array"#
    )]
    #[case::top_level_array("[1]", 1, "top level: expected")]
    #[case::bad_header(
        "{\"auths\":{},\"HttpHeaders\":{\"X\":1}}",
        1,
        "expected a string, found a number"
    )]
    fn errors_are_located_and_say_what_was_expected(
        #[case] text: &str,
        #[case] line: usize,
        #[case] needle: &str,
    ) {
        let e = parse(text, None).unwrap_err();
        assert_eq!(e.line(), line, "{e}");
        assert!(e.to_string().contains(needle), "{e}");
        assert!(!e.to_string().contains("canary"), "{e}");
    }

    #[test]
    fn null_payload_is_an_empty_config() {
        assert!(parse("null", None).unwrap().entries.is_empty());
    }

    #[test]
    fn debug_hides_secrets() {
        let text = format!(
            r#"{{"r.io":{{"auth":"{}","password":"canary-field"}}}}"#,
            b64("u:canary-auth")
        );
        let c = parse(&text, None).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("canary"), "{debug}");
        assert!(!debug.contains(&b64("u:canary-auth")), "{debug}");
        assert!(debug.contains("username: \"u\""), "{debug}");
    }

    #[rstest]
    #[case("", true, Ok(vec![]))]
    #[case("YQ==", true, Ok(b"a".to_vec()))]
    #[case("YWI=", true, Ok(b"ab".to_vec()))]
    #[case("YWJj", true, Ok(b"abc".to_vec()))]
    #[case("YQ", true, Err(0))]
    #[case("YQ=", true, Err(3))]
    #[case("YQ=x", true, Err(2))]
    #[case("YQ==YQ==", true, Err(4))]
    #[case("Y===", true, Err(1))]
    #[case("YQ\r\n==\n", true, Ok(b"a".to_vec()))]
    #[case("YQ", false, Ok(b"a".to_vec()))]
    #[case("YQ==", false, Err(2))]
    #[case("Y", false, Err(0))]
    #[case("YWJjZ", false, Err(4))]
    #[case("YW Jj", true, Err(2))]
    fn go_base64(#[case] input: &str, #[case] padded: bool, #[case] want: Result<Vec<u8>, usize>) {
        assert_eq!(go_base64_decode(input.as_bytes(), padded), want, "{input}");
    }
}
