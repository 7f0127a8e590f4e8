//! The kubelet's credential keyring: which pull-secret entries an image pull uses.
//!
//! A faithful port of kubernetes `pkg/credentialprovider/keyring.go`
//! (`BasicDockerKeyring.Add` / `Lookup`, `URLsMatch`, `isDefaultRegistryMatch`,
//! `UnionDockerKeyring`):
//! - an entry key without `http://` / `https://` gets `https://` in front and is parsed as a
//!   URL (Go's `net/url` rules; a key that fails to parse is skipped); its index key is
//!   host (with port) + path, a path starting `/v1/` or `/v2/` losing those three
//!   characters and a path of `/` dropped (`https://index.docker.io/v1/` → `index.docker.io`);
//!   any other trailing `/` stays;
//! - the index is de-duplicated and sorted in reverse byte order, so `quay.io/coreos` is
//!   tried before `quay.io`; lookup returns the credentials of every matching index key in
//!   that order (the kubelet tries them one after another until a pull succeeds);
//! - an index key matches an image when the ports are equal, the hosts have the same
//!   number of dot-separated labels, each label matches as a Go `filepath.Match` glob
//!   (`*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`),
//!   and the key's path is a *string* prefix of the image's path (`bar.example.com/pong`
//!   matches `bar.example.com/pongz`: Kubernetes does not cut at `/`);
//! - hosts compare case-sensitively (Go does not lower-case them);
//! - when nothing matches and the image goes to Docker Hub (`foo`, `foo/bar`,
//!   `docker.io/...`, `index.docker.io/...`), the credentials of the index key
//!   `index.docker.io` are used.
//!
//! Images are looked up as the kubelet looks them up: the normalised repository name
//! without tag or digest (`registry.redhat.io/rhel8/pcp`, `docker.io/library/nginx`).

use std::collections::BTreeMap;
use std::fmt;

use super::docker_config::DockerConfig;

/// Where a credential comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CredentialSource {
    /// The Secret (`namespace/name`), or a label such as `global pull secret`.
    pub secret: Option<String>,
    /// The Secret's type.
    pub secret_type: Option<String>,
    /// The entry's key as written in the payload.
    pub key: String,
}

/// One credential the keyring hands out.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyringCredential {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Where it comes from.
    pub source: CredentialSource,
}

impl fmt::Debug for KeyringCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringCredential")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("source", &self.source)
            .finish()
    }
}

/// kubernetes `BasicDockerKeyring`: credentials indexed by registry location.
///
/// ```
/// use regharness::cluster::docker_config::parse;
/// use regharness::cluster::keyring::{CredentialSource, DockerKeyring};
/// let config = parse(
///     r#"{"auths":{"registry.redhat.io":{"auth":"YTpi"},"https://registry.redhat.io/rhel8":{"auth":"Yzpk"}}}"#,
///     None,
/// ).unwrap();
/// let mut keyring = DockerKeyring::new();
/// keyring.add(&config, CredentialSource { secret: Some("ns/pull".into()), secret_type: None, key: String::new() });
/// // Most specific key first, every match returned: the kubelet tries them in order.
/// let users: Vec<String> = keyring.lookup("registry.redhat.io/rhel8/pcp").into_iter().map(|c| c.username).collect();
/// assert_eq!(users, ["c", "a"]);
/// assert!(keyring.lookup("quay.io/rhel8/pcp").is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct DockerKeyring {
    /// Index keys, unique, in reverse byte order (most specific first).
    index: Vec<String>,
    /// Credentials per index key, in the order they were added.
    creds: BTreeMap<String, Vec<KeyringCredential>>,
}

/// kubernetes `defaultRegistryHost`: the index key of `https://index.docker.io/v1/`.
const DEFAULT_REGISTRY_HOST: &str = "index.docker.io";

impl DockerKeyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every entry of `config`. `source.key` is ignored: each credential gets its own
    /// entry's key. Entries are taken in file order (Go iterates its map in random order,
    /// so the order of two entries with the same index key is unspecified there).
    pub fn add(&mut self, config: &DockerConfig, source: CredentialSource) {
        for entry in &config.entries {
            let Some(key) = index_key(&entry.key) else {
                continue;
            };
            self.creds
                .entry(key.clone())
                .or_default()
                .push(KeyringCredential {
                    username: entry.username.clone(),
                    password: entry.password.clone(),
                    source: CredentialSource {
                        key: entry.key.clone(),
                        ..source.clone()
                    },
                });
            self.index.push(key);
        }
        self.index.sort_unstable_by(|a, b| b.cmp(a));
        self.index.dedup();
    }

    /// The credentials the kubelet tries for `image` (a repository name without tag or
    /// digest), in order.
    pub fn lookup(&self, image: &str) -> Vec<KeyringCredential> {
        let found: Vec<KeyringCredential> = self
            .index
            .iter()
            .filter(|k| urls_match(k, image))
            .flat_map(|k| self.creds[k.as_str()].iter().cloned())
            .collect();
        if !found.is_empty() {
            return found;
        }
        if is_default_registry_match(image) {
            if let Some(creds) = self.creds.get(DEFAULT_REGISTRY_HOST) {
                return creds.clone();
            }
        }
        Vec::new()
    }

    /// The index keys, most specific first.
    pub fn index(&self) -> &[String] {
        &self.index
    }
}

/// kubernetes `UnionDockerKeyring`: the pod's pull secrets first, then the node's (the
/// global pull secret); every match of every keyring, in that order.
#[derive(Debug, Clone, Default)]
pub struct UnionKeyring(pub Vec<DockerKeyring>);

impl UnionKeyring {
    /// The credentials of every keyring for `image`, in keyring order.
    pub fn lookup(&self, image: &str) -> Vec<KeyringCredential> {
        self.0.iter().flat_map(|k| k.lookup(image)).collect()
    }
}

/// The index key the kubelet files an entry key under, or `None` when Go's `url.Parse`
/// rejects it (the kubelet logs and skips the entry).
pub fn index_key(key: &str) -> Option<String> {
    let value = if key.starts_with("https://") || key.starts_with("http://") {
        key.to_string()
    } else {
        format!("https://{key}")
    };
    let url = GoUrl::parse(&value).ok()?;
    let path = if url.path.starts_with("/v2/") || url.path.starts_with("/v1/") {
        &url.path[3..]
    } else {
        url.path.as_str()
    };
    Some(if !path.is_empty() && path != "/" {
        format!("{}{path}", url.host)
    } else {
        url.host
    })
}

/// kubernetes `URLsMatchStr`: whether the index key `glob` matches `target` (both without
/// scheme). Unparseable URLs and malformed glob patterns do not match.
pub fn urls_match(glob: &str, target: &str) -> bool {
    let (Ok(glob), Ok(target)) = (
        GoUrl::parse(&format!("https://{glob}")),
        GoUrl::parse(&format!("https://{target}")),
    ) else {
        return false;
    };
    let (glob_labels, glob_port) = split_url(&glob.host);
    let (target_labels, target_port) = split_url(&target.host);
    glob_port == target_port
        && glob_labels.len() == target_labels.len()
        && target.path.starts_with(&glob.path)
        && glob_labels
            .iter()
            .zip(&target_labels)
            .all(|(g, t)| go_match(g.as_bytes(), t.as_bytes()) == Ok(true))
}

/// kubernetes `isDefaultRegistryMatch`: whether `image` is pulled from Docker Hub.
pub fn is_default_registry_match(image: &str) -> bool {
    let first = image.split('/').next().unwrap_or("");
    if first.is_empty() {
        return false;
    }
    if !image.contains('/') {
        return true;
    }
    if first == "docker.io" || first == "index.docker.io" {
        return true;
    }
    !first.contains(['.', ':'])
}

/// kubernetes `SplitURL`: the host's dot-separated labels and the port (Go's
/// `net.SplitHostPort`, falling back to the whole host and no port).
fn split_url(host: &str) -> (Vec<String>, String) {
    let (host, port) = split_host_port(host).unwrap_or((host, ""));
    (host.split('.').map(str::to_string).collect(), port.into())
}

/// Go's `net.SplitHostPort`; `None` where Go returns an error.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some((host, &hostport[i + 1..]))
}

/// The parts of Go's `url.URL` the keyring uses: the host (with port, unescaped) and the
/// unescaped path.
#[derive(Debug, PartialEq, Eq)]
struct GoUrl {
    host: String,
    path: String,
}

impl GoUrl {
    /// Go's `url.Parse` for `scheme://authority/path?query#fragment`, with its errors.
    fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("invalid control character in URL");
        }
        let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
        unescape(fragment, Mode::Other)?;
        let (scheme, rest) = rest.split_once(':').ok_or("missing protocol scheme")?;
        let valid_scheme = scheme.bytes().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || (i > 0 && (c.is_ascii_digit() || b"+-.".contains(&c)))
        });
        if scheme.is_empty() || !valid_scheme {
            return Err("invalid scheme");
        }
        let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
            &rest[..rest.len() - 1]
        } else {
            rest.split_once('?').map_or(rest, |(r, _)| r)
        };
        let Some(rest) = rest.strip_prefix("//") else {
            return Ok(GoUrl {
                host: String::new(),
                path: unescape(rest, Mode::Other)?,
            });
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let host = match authority.rfind('@') {
            Some(i) => {
                let userinfo = &authority[..i];
                if !userinfo.bytes().all(valid_userinfo_byte) {
                    return Err("invalid userinfo");
                }
                unescape(userinfo, Mode::Other)?;
                &authority[i + 1..]
            }
            None => authority,
        };
        Ok(GoUrl {
            host: parse_host(host)?,
            path: unescape(path, Mode::Other)?,
        })
    }
}

/// Go's `parseHost`: the port must be digits, the host's characters must be allowed.
fn parse_host(host: &str) -> Result<String, &'static str> {
    let port_ok = |p: &str| {
        p.is_empty()
            || p.strip_prefix(':')
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    if host.starts_with('[') {
        let i = host.rfind(']').ok_or("missing ']' in host")?;
        if !port_ok(&host[i + 1..]) {
            return Err("invalid port after host");
        }
    } else if let Some(i) = host.rfind(':') {
        if !port_ok(&host[i..]) {
            return Err("invalid port after host");
        }
    }
    unescape(host, Mode::Host)
}

fn valid_userinfo_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Host,
    Other,
}

/// Go's `unescape`: `%XX` decoding; in a host only non-ASCII escapes and `%25` are allowed
/// and characters outside Go's host set are errors.
fn unescape(s: &str, mode: Mode) -> Result<String, &'static str> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                let (Some(hi), Some(lo)) = (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err("invalid URL escape");
                };
                if mode == Mode::Host && hi < 8 && &b[i..i + 3] != b"%25" {
                    return Err("invalid URL escape");
                }
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            c => {
                if mode == Mode::Host && c < 0x80 && !host_byte_allowed(c) {
                    return Err("invalid character in host name");
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `shouldEscape(c, encodeHost) == false`.
fn host_byte_allowed(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&c)
}

/// The pattern is malformed (Go's `filepath.ErrBadPattern`).
#[derive(Debug, PartialEq, Eq)]
struct BadPattern;

/// Go's `filepath.Match` on Unix (`*`, `?`, `[...]`, `\` escapes; `/` is the separator).
fn go_match(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, BadPattern> {
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok, err) = match_chunk(chunk, name);
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if let Some(e) = err {
            return Err(e);
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok, err) = match_chunk(chunk, &name[i + 1..]);
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                if let Some(e) = err {
                    return Err(e);
                }
                i += 1;
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            if let (_, _, Some(e)) = match_chunk(chunk, b"") {
                return Err(e);
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Go's `scanChunk`: leading stars, then everything up to the next star outside `[...]`.
fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Decodes one UTF-8 character of `s` (Go's `utf8.DecodeRune`: an invalid byte is U+FFFD
/// of width 1).
fn decode_rune(s: &[u8]) -> (char, usize) {
    let width = match s.first() {
        None => return (char::REPLACEMENT_CHARACTER, 0),
        Some(b) if *b < 0x80 => 1,
        Some(b) if *b >= 0xf0 => 4,
        Some(b) if *b >= 0xe0 => 3,
        Some(_) => 2,
    };
    match s.get(..width).and_then(|w| std::str::from_utf8(w).ok()) {
        Some(c) => (
            c.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER),
            width,
        ),
        None => (char::REPLACEMENT_CHARACTER, 1),
    }
}

/// Go's `matchChunk`: whether `chunk` matches the start of `s`; the rest of `s`.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> (&'a [u8], bool, Option<BadPattern>) {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = '\0';
                if !failed {
                    let (c, n) = decode_rune(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let lo = match get_esc(chunk) {
                        Ok((c, rest)) => {
                            chunk = rest;
                            c
                        }
                        Err(e) => return (b"", false, Some(e)),
                    };
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        match get_esc(&chunk[1..]) {
                            Ok((c, rest)) => {
                                chunk = rest;
                                hi = c;
                            }
                            Err(e) => return (b"", false, Some(e)),
                        }
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let literal = if c == b'\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(l) => *l,
                        None => return (b"", false, Some(BadPattern)),
                    }
                } else {
                    c
                };
                if !failed {
                    if literal != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        (b"", false, None)
    } else {
        (s, true, None)
    }
}

/// Go's `getEsc`: one possibly escaped character of a range; the chunk must go on.
fn get_esc(mut chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BadPattern);
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode_rune(chunk);
    if r == char::REPLACEMENT_CHARACTER && n == 1 {
        return Err(BadPattern);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::docker_config::parse;
    use rstest::rstest;

    fn source() -> CredentialSource {
        CredentialSource {
            secret: Some("ns/pull".into()),
            secret_type: Some("kubernetes.io/dockerconfigjson".into()),
            key: String::new(),
        }
    }

    /// A keyring of one `.dockercfg` whose entries are `(key, username, password)`.
    fn keyring(entries: &[(&str, &str, &str)]) -> DockerKeyring {
        let mut obj = serde_json::Map::new();
        for (key, username, password) in entries {
            obj.insert(
                key.to_string(),
                serde_json::json!({"username": username, "password": password, "email": "foo@bar.baz"}),
            );
        }
        let config = parse(&serde_json::Value::Object(obj).to_string(), None).unwrap();
        let mut k = DockerKeyring::new();
        k.add(&config, source());
        k
    }

    fn users(creds: &[KeyringCredential]) -> Vec<&str> {
        creds.iter().map(|c| c.username.as_str()).collect()
    }

    // keyring_test.go TestURLsMatch.
    #[rstest]
    #[case("*.kubernetes.io", "prefix.kubernetes.io", true)]
    #[case("prefix.*.io", "prefix.kubernetes.io", true)]
    #[case("prefix.kubernetes.*", "prefix.kubernetes.io", true)]
    #[case("*-good.kubernetes.io", "prefix-good.kubernetes.io", true)]
    #[case("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true)]
    #[case("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true)]
    #[case("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true)]
    #[case("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true)]
    #[case("*.kubernetes.io", "kubernetes.io", false)]
    #[case("*.*.kubernetes.io", "prefix.kubernetes.io", false)]
    #[case("*.*.kubernetes.io", "kubernetes.io", false)]
    #[case("*kubernetes.io", "a.kubernetes.io", false)]
    #[case("*kubernetes.io", "kubernetes.io", true)]
    #[case("*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true)]
    #[case("kubernetes.io", "kubernetes.com", false)]
    #[case("k*.io", "quay.io", false)]
    #[case("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false)]
    #[case("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false)]
    // Beyond the table: hosts are case-sensitive, paths are string prefixes, bad globs fail.
    #[case("Registry.io", "registry.io", false)]
    #[case("r.io/pong", "r.io/pongz/x", true)]
    #[case("[a.io", "[a.io", false)]
    #[case("r[a-c].io", "rb.io", true)]
    #[case("r[^a-c].io", "rb.io", false)]
    // `?` starts the URL's query and `\` is not allowed in a Go host: neither is a glob.
    #[case("r?.io", "rx.io", false)]
    #[case("r\\*.io", "r*.io", false)]
    #[case("r.io:bad", "r.io:bad", false)]
    fn urls_match_table(#[case] glob: &str, #[case] target: &str, #[case] want: bool) {
        assert_eq!(urls_match(glob, target), want, "{glob} vs {target}");
    }

    // keyring_test.go TestDockerKeyringForGlob: each key finds `target/foo/bar`.
    #[rstest]
    #[case("https://hello.kubernetes.io", "hello.kubernetes.io")]
    #[case("https://*.docker.io", "prefix.docker.io")]
    #[case("https://prefix.*.io", "prefix.docker.io")]
    #[case("https://prefix.docker.*", "prefix.docker.io")]
    #[case("https://*.docker.io/path", "prefix.docker.io/path")]
    #[case("https://prefix.*.io/path", "prefix.docker.io/path/subpath")]
    #[case("https://prefix.docker.*/path", "prefix.docker.io/path")]
    #[case("https://*.docker.io:8888", "prefix.docker.io:8888")]
    #[case("https://prefix.*.io:8888", "prefix.docker.io:8888")]
    #[case("https://prefix.docker.*:8888", "prefix.docker.io:8888")]
    #[case("https://*.docker.io/path:1111", "prefix.docker.io/path:1111")]
    #[case("https://*.docker.io/v1/", "prefix.docker.io/path:1111")]
    #[case("https://*.docker.io/v2/", "prefix.docker.io/path:1111")]
    #[case("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111")]
    #[case("prefix.docker.io:1111", "prefix.docker.io:1111/path")]
    #[case("*.docker.io:1111", "prefix.docker.io:1111/path")]
    fn keyring_for_glob(#[case] key: &str, #[case] target: &str) {
        let k = keyring(&[(key, "foo", "bar")]);
        let creds = k.lookup(&format!("{target}/foo/bar"));
        assert_eq!(users(&creds), ["foo"], "{key} -> {target}");
        assert_eq!(creds[0].password, "bar");
        assert_eq!(creds[0].source.key, key);
        assert_eq!(creds[0].source.secret.as_deref(), Some("ns/pull"));
    }

    // keyring_test.go TestKeyringMiss.
    #[rstest]
    #[case("https://hello.kubernetes.io", "world.mesos.org/foo/bar")]
    #[case("https://*.docker.com", "prefix.docker.io")]
    #[case("https://suffix.*.io", "prefix.docker.io")]
    #[case("https://prefix.docker.c*", "prefix.docker.io")]
    #[case("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111")]
    #[case("suffix.*.io", "prefix.docker.io")]
    fn keyring_miss(#[case] key: &str, #[case] target: &str) {
        let k = keyring(&[(key, "foo", "bar")]);
        assert!(k.lookup(&format!("{target}/foo/bar")).is_empty(), "{key}");
    }

    // TestKeyringMissWithDockerHubCredentials and the three TestKeyringHitWith*DockerHub.
    #[rstest]
    #[case("world.mesos.org/foo/bar", false)]
    #[case("google/docker-registry", true)]
    #[case("jenkins", true)]
    #[case("index.docker.io/v1//google/docker-registry", true)]
    #[case("docker.io/library/nginx", true)]
    fn docker_hub_credentials(#[case] image: &str, #[case] hit: bool) {
        let k = keyring(&[("https://index.docker.io/v1/", "foo", "bar")]);
        assert_eq!(k.index(), ["index.docker.io"]);
        let creds = k.lookup(image);
        assert_eq!(creds.len(), usize::from(hit), "{image}");
    }

    // TestIsDefaultRegistryMatch.
    #[rstest]
    #[case("foo/bar", true)]
    #[case("docker.io/foo/bar", true)]
    #[case("index.docker.io/foo/bar", true)]
    #[case("foo", true)]
    #[case("", false)]
    #[case("registry.tld/foo/bar", false)]
    #[case("registry:5000/foo/bar", false)]
    #[case("myhostdocker.io/foo/bar", false)]
    fn default_registry_match(#[case] image: &str, #[case] want: bool) {
        assert_eq!(is_default_registry_match(image), want, "{image}");
    }

    // TestDockerKeyringLookup.
    #[rstest]
    #[case("bar.example.com", &["ada"])]
    #[case("bar.example.com/pong", &["grace", "ada"])]
    #[case("bar.example.com/ping", &["ada"])]
    #[case("bar.example.com/pongz", &["grace", "ada"])]
    #[case("bar.example.com/pong/pang", &["grace", "ada"])]
    #[case("example.com", &[])]
    #[case("foo.example.com", &[])]
    fn most_specific_first(#[case] image: &str, #[case] want: &[&str]) {
        let k = keyring(&[
            ("bar.example.com/pong", "grace", "squash"),
            ("bar.example.com", "ada", "smash"),
        ]);
        assert_eq!(users(&k.lookup(image)), want, "{image}");
    }

    // TestIssue3797: a key with a scheme and `/v1/` matches by host.
    #[rstest]
    #[case("quay.io")]
    #[case("quay.io/foo")]
    #[case("quay.io/foo/bar")]
    fn scheme_and_v1_path_match_the_host(#[case] image: &str) {
        let k = keyring(&[("https://quay.io/v1/", "rex", "tiny arms")]);
        assert_eq!(users(&k.lookup(image)), ["rex"]);
    }

    #[rstest]
    #[case("registry.redhat.io", Some("registry.redhat.io"))]
    #[case("https://registry.redhat.io/", Some("registry.redhat.io"))]
    #[case("http://r.io:5000/v2/ns/", Some("r.io:5000/ns/"))]
    #[case("r.io/v1", Some("r.io/v1"))]
    #[case("r.io/a%2Fb?x#y", Some("r.io/a/b"))]
    #[case("user:pw@r.io", Some("r.io"))]
    #[case("r.io:https", None)]
    #[case("r io", None)]
    #[case("r.io/%zz", None)]
    #[case("r.io\n", None)]
    fn index_keys(#[case] key: &str, #[case] want: Option<&str>) {
        assert_eq!(index_key(key).as_deref(), want, "{key}");
    }

    #[test]
    fn keys_with_the_same_index_key_keep_file_order_and_bad_keys_are_skipped() {
        let k = keyring(&[
            ("https://r.io", "first", "p"),
            ("r.io:bad", "skipped", "p"),
            ("r.io/", "second", "p"),
        ]);
        assert_eq!(k.index(), ["r.io"]);
        let creds = k.lookup("r.io/ns/img");
        assert_eq!(users(&creds), ["first", "second"]);
        assert_eq!(creds[1].source.key, "r.io/");
    }

    #[test]
    fn union_puts_pod_secrets_before_the_node() {
        let pod = keyring(&[("r.io", "pod", "p")]);
        let mut node = DockerKeyring::new();
        let config = parse(r#"{"auths":{"r.io/ns":{"auth":"bm9kZTpw"}}}"#, None).unwrap();
        node.add(
            &config,
            CredentialSource {
                secret: Some("global pull secret".into()),
                secret_type: None,
                key: String::new(),
            },
        );
        let union = UnionKeyring(vec![pod, node]);
        let creds = union.lookup("r.io/ns/img");
        assert_eq!(users(&creds), ["pod", "node"]);
        assert_eq!(
            creds[1].source.secret.as_deref(),
            Some("global pull secret")
        );
        assert!(!format!("{creds:?}").contains("\"p\""));
    }

    #[rstest]
    #[case(b"a*", b"abc", Ok(true))]
    #[case(b"a*/b", b"abc/b", Ok(true))]
    #[case(b"a*b*c*d*e*/f", b"axbxcxdxe/f", Ok(true))]
    #[case(b"a*b?c*x", b"abxbbxdbxebxczzx", Ok(true))]
    #[case(b"ab[c]", b"abc", Ok(true))]
    #[case(b"ab[b-d]", b"abc", Ok(true))]
    #[case(b"ab[e-g]", b"abc", Ok(false))]
    #[case(b"ab[^c]", b"abc", Ok(false))]
    #[case(b"a\\*b", b"a*b", Ok(true))]
    #[case(b"a\\*b", b"ab", Ok(false))]
    #[case(b"a?b", b"a/b", Ok(false))]
    #[case(b"a*b", b"a/b", Ok(false))]
    #[case(b"[\\]a]", b"]", Ok(true))]
    #[case(b"[", b"a", Err(BadPattern))]
    #[case(b"[^", b"a", Err(BadPattern))]
    #[case(b"[a-", b"a", Err(BadPattern))]
    #[case(b"a[", b"x", Err(BadPattern))]
    #[case(b"*x", b"xxx", Ok(true))]
    fn go_filepath_match(
        #[case] pattern: &[u8],
        #[case] name: &[u8],
        #[case] want: Result<bool, BadPattern>,
    ) {
        assert_eq!(go_match(pattern, name), want);
    }
}
