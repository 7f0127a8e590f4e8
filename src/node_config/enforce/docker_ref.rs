//! Image names as containers/image's `docker/reference` package reads them (the grammar of
//! distribution's `reference` regexps, v5.23): `Parse` (no normalisation),
//! `ParseNormalizedNamed` (`busybox` → `docker.io/library/busybox`) and `ParseNamed` (the
//! input must already be canonical). Written as a scanner rather than regexps; the error
//! texts are the package's own.
//!
//! Newer c/image (after v5.23) also accepts bracketed IPv6 hosts (`[::1]:5000/repo`); this
//! grammar, like v5.23, does not.

use crate::client::reference::ImageReference;

/// Docker Hub's canonical host.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's legacy host name, rewritten to [`DOCKER_HUB`].
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
const OFFICIAL_NAMESPACE: &str = "library";
/// The longest name (host and path) the grammar allows.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an image name; `Display` is c/image's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// Empty input.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// Does not match the grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// Would match if it were lowercase.
    #[error("invalid reference format: repository name must be lowercase")]
    ContainsUppercase,
    /// Host and path longer than 255 characters.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// `ParseNamed` of a name that normalisation changes.
    #[error("repository name must be canonical")]
    NotCanonical,
    /// A 64-hex-digit string (an image ID, not a name).
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    Identifier(String),
    /// `algorithm:hex` malformed.
    #[error("invalid checksum digest format")]
    DigestFormat,
    /// Hex part of the wrong length for the algorithm.
    #[error("invalid checksum digest length")]
    DigestLength,
    /// Not sha256 / sha384 / sha512.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
}

/// A parsed name: `domain/path[:tag][@digest]`. `domain` is empty only for names from
/// [`parse`] that have no host part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Host[:port], or "".
    pub domain: String,
    /// Repository path.
    pub path: String,
    /// Tag, if any.
    pub tag: Option<String>,
    /// Digest (`sha256:...`), if any.
    pub digest: Option<String>,
}

impl Named {
    /// `Named.Name()`: host and path, no tag or digest.
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// `String()`: the name with tag and digest.
    pub fn full(&self) -> String {
        let mut s = self.name();
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest);
        }
        s
    }

    /// `FamiliarString`: Docker Hub names without `docker.io/` (and `library/`).
    pub fn familiar(&self) -> String {
        let mut short = self.clone();
        if short.domain == DOCKER_HUB {
            short.domain.clear();
            if let Some(rest) = short.path.strip_prefix("library/") {
                if !rest.contains('/') {
                    short.path = rest.to_string();
                }
            }
        }
        short.full()
    }

    /// `TrimNamed`: without tag and digest.
    pub fn trimmed(&self) -> Named {
        Named {
            tag: None,
            digest: None,
            ..self.clone()
        }
    }

    /// `TagNameOnly`: adds `:latest` when there is neither tag nor digest.
    pub fn tag_name_only(mut self) -> Named {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".into());
        }
        self
    }

    /// The harness's reference type. Fails (with c/image's docker-transport text) for a
    /// tag together with a digest, and for digests other than sha256, which
    /// [`ImageReference`] cannot carry.
    pub fn to_image_reference(&self) -> Result<ImageReference, String> {
        let reference = match (&self.tag, &self.digest) {
            (Some(_), Some(_)) => {
                return Err(
                    "Docker references with both a tag and digest are currently not supported"
                        .into(),
                )
            }
            (_, Some(d)) if !d.starts_with("sha256:") => {
                return Err(format!(
                    "digest {d}: only sha256 digests are supported by the harness"
                ))
            }
            (_, Some(d)) => d.clone(),
            (Some(t), None) => t.clone(),
            (None, None) => "latest".into(),
        };
        Ok(ImageReference {
            registry: self.domain.clone(),
            repository: self.path.clone(),
            reference,
        })
    }
}

/// `ParseNormalizedNamed` of an [`ImageReference`] (so `docker.io/busybox` becomes
/// `docker.io/library/busybox`).
pub fn from_image_reference(reference: &ImageReference) -> Result<Named, RefError> {
    parse_normalized_named(&reference.to_string())
}

/// `reference.Parse`, for inputs that name a repository.
pub fn parse(s: &str) -> Result<Named, RefError> {
    match match_reference(s) {
        Some(m) => {
            if m.name_len > NAME_TOTAL_LENGTH_MAX {
                return Err(RefError::NameTooLong);
            }
            if let Some(d) = &m.named.digest {
                validate_digest(d)?;
            }
            Ok(m.named)
        }
        None if s.is_empty() => Err(RefError::NameEmpty),
        None if match_reference(&s.to_lowercase()).is_some() => Err(RefError::ContainsUppercase),
        None => Err(RefError::InvalidFormat),
    }
}

/// `reference.ParseNormalizedNamed`: adds `docker.io` (and `library/`) to familiar names.
pub fn parse_normalized_named(s: &str) -> Result<Named, RefError> {
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(RefError::Identifier(s.to_string()));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote_name = remainder.split(':').next().unwrap_or("");
    if remote_name.to_lowercase() != remote_name {
        return Err(RefError::ContainsUppercase);
    }
    parse(&format!("{domain}/{remainder}"))
}

/// `reference.ParseNamed`: the input must be canonical (what normalisation returns).
pub fn parse_named(s: &str) -> Result<Named, RefError> {
    let named = parse_normalized_named(s)?;
    if named.full() != s {
        return Err(RefError::NotCanonical);
    }
    Ok(named)
}

/// Whether `domain` is a registry host by c/image's rule (a `.` or `:`, or `localhost`).
pub fn looks_like_host(domain: &str) -> bool {
    domain.contains(['.', ':']) || domain == "localhost"
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest)) if looks_like_host(first) => (first.to_string(), rest.to_string()),
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    if domain == LEGACY_DOCKER_HUB {
        domain = DOCKER_HUB.to_string();
    }
    if domain == DOCKER_HUB && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_NAMESPACE}/{remainder}");
    }
    (domain, remainder)
}

struct Matched {
    named: Named,
    name_len: usize,
}

/// `ReferenceRegexp` with the submatches `anchoredNameRegexp` gives.
fn match_reference(s: &str) -> Option<Matched> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => {
            if !is_digest_syntax(digest) {
                return None;
            }
            (rest, Some(digest.to_string()))
        }
        None => (s, None),
    };
    // A ':' after the last '/' (or a ':' in a string without '/') can only start a tag:
    // the name allows ':' solely for a port in its host part, which a '/' must follow.
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(tag) = tag {
        if !is_tag(tag) {
            return None;
        }
    }
    let (domain, path) = split_name(name)?;
    Some(Matched {
        named: Named {
            domain: domain.to_string(),
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
        },
        name_len: name.len(),
    })
}

/// `anchoredNameRegexp`: the optional host part is taken whenever it can be.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/') {
        if is_domain(first) && is_path(rest) {
            return Some((first, rest));
        }
    }
    is_path(name).then_some(("", name))
}

fn is_path(path: &str) -> bool {
    path.split('/').all(is_path_component)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
pub(crate) fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `DomainRegexp`: dot-separated labels, then an optional `:port`.
pub fn is_domain(d: &str) -> bool {
    let (host, port) = match d.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|x| x.is_ascii_digit()) {
            return false;
        }
    }
    host.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
    })
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest_syntax(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|x| x.is_ascii_hexdigit())
}

/// go-digest's `Digest.Validate`.
fn validate_digest(d: &str) -> Result<(), RefError> {
    let (alg, hex) = d.split_once(':').ok_or(RefError::DigestFormat)?;
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(RefError::DigestUnsupported),
    };
    if hex.len() != len {
        return Err(RefError::DigestLength);
    }
    if !hex.bytes().all(|x| matches!(x, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(RefError::DigestFormat);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const D: &str = "sha256:d366a4665ab44f0648d7a00ae3fae139d55e32f9712c67accd604bb55df9d05a";

    #[rstest]
    #[case("fedora", "", "fedora", None, false)]
    #[case("library/fedora:latest", "library", "fedora", Some("latest"), false)]
    #[case("ubi8/ubi-minimal", "ubi8", "ubi-minimal", None, false)]
    #[case(
        "localhost:5000/fedora:latest",
        "localhost:5000",
        "fedora",
        Some("latest"),
        false
    )]
    #[case("localhost:5000", "", "localhost", Some("5000"), false)]
    #[case(
        "example.com:5000/a/b__c-d.e",
        "example.com:5000",
        "a/b__c-d.e",
        None,
        false
    )]
    #[case("Example.COM/a", "Example.COM", "a", None, false)]
    #[case(
        "busybox@sha256:d366a4665ab44f0648d7a00ae3fae139d55e32f9712c67accd604bb55df9d05a",
        "",
        "busybox",
        None,
        true
    )]
    fn parses_like_reference_parse(
        #[case] input: &str,
        #[case] domain: &str,
        #[case] path: &str,
        #[case] tag: Option<&str>,
        #[case] digested: bool,
    ) {
        let n = parse(input).unwrap();
        assert_eq!(n.domain, domain);
        assert_eq!(n.path, path);
        assert_eq!(n.tag.as_deref(), tag);
        assert_eq!(n.digest.is_some(), digested);
        assert_eq!(n.full(), input);
    }

    #[rstest]
    #[case("", RefError::NameEmpty)]
    #[case("$$$", RefError::InvalidFormat)]
    #[case("::", RefError::InvalidFormat)]
    #[case(" ", RefError::InvalidFormat)]
    #[case("docker://quay.io/library/foo:bar", RefError::InvalidFormat)]
    #[case("Invalid#$", RefError::InvalidFormat)]
    #[case("quay.io/Fedora", RefError::ContainsUppercase)]
    #[case("a/b___c", RefError::InvalidFormat)]
    #[case("a/b-.c", RefError::InvalidFormat)]
    #[case("a/b:", RefError::InvalidFormat)]
    #[case("a@sha256:abc", RefError::InvalidFormat)]
    #[case("a@sha256:0123456789abcdef0123456789abcdef", RefError::DigestLength)]
    #[case("a@md5:0123456789abcdef0123456789abcdef", RefError::DigestUnsupported)]
    fn rejects_like_reference_parse(#[case] input: &str, #[case] want: RefError) {
        assert_eq!(parse(input), Err(want));
    }

    #[test]
    fn name_length_is_limited() {
        let long = format!("example.com/{}", "a".repeat(250));
        assert_eq!(parse(&long), Err(RefError::NameTooLong));
    }

    #[rstest]
    #[case("busybox", "docker.io/library/busybox")]
    #[case("busybox:1", "docker.io/library/busybox:1")]
    #[case("ubi8/ubi-minimal", "docker.io/ubi8/ubi-minimal")]
    #[case("docker.io/fedora", "docker.io/library/fedora")]
    #[case("index.docker.io/fedora", "docker.io/library/fedora")]
    #[case("localhost/fedora", "localhost/fedora")]
    #[case("quay.io/fedora", "quay.io/fedora")]
    fn normalises_like_parse_normalized_named(#[case] input: &str, #[case] want: &str) {
        assert_eq!(parse_normalized_named(input).unwrap().full(), want);
    }

    #[test]
    fn normalisation_errors() {
        assert_eq!(
            parse_normalized_named("Foo/bar"),
            Err(RefError::ContainsUppercase)
        );
        let id = "0".repeat(64);
        assert_eq!(
            parse_normalized_named(&id),
            Err(RefError::Identifier(id.clone()))
        );
        assert_eq!(
            parse_named("docker.io/busybox:1"),
            Err(RefError::NotCanonical)
        );
        assert!(parse_named("docker.io/library/busybox:1").is_ok());
    }

    #[test]
    fn familiar_strips_docker_hub() {
        let f = |s: &str| parse_normalized_named(s).unwrap().familiar();
        assert_eq!(f("busybox:latest"), "busybox:latest");
        assert_eq!(f("docker.io/foo/bar:1"), "foo/bar:1");
        assert_eq!(f("docker.io/library/a/b"), "library/a/b");
        assert_eq!(f("quay.io/library/a"), "quay.io/library/a");
    }

    #[test]
    fn converts_to_image_reference() {
        let r = parse_normalized_named(&format!("busybox@{D}"))
            .unwrap()
            .to_image_reference()
            .unwrap();
        assert_eq!(r.to_string(), format!("docker.io/library/busybox@{D}"));
        let both = parse_normalized_named(&format!("busybox:1@{D}")).unwrap();
        assert!(both.to_image_reference().is_err());
    }
}
