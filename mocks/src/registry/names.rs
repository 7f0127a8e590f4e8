//! Syntax of repository names, tags and digests, as the distribution reference and
//! go-digest packages define them (the error texts are theirs).

/// Longest repository name distribution accepts.
const NAME_TOTAL_MAX: usize = 255;
/// Longest tag: `[\w][\w.-]{0,127}`.
const TAG_MAX: usize = 128;

/// Checks a repository name (path components only, no registry host).
///
/// Each `/`-separated component matches `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
/// The error is the reason distribution reports.
pub(crate) fn validate_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("repository name must have at least one component");
    }
    if name.len() > NAME_TOTAL_MAX {
        return Err("repository name must not be more than 255 characters");
    }
    if name.split('/').all(valid_component) {
        return Ok(());
    }
    let lower = name.to_ascii_lowercase();
    if lower != name && lower.split('/').all(valid_component) {
        return Err("repository name must be lowercase");
    }
    Err("invalid reference format")
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Whether `tag` matches distribution's tag grammar `[\w][\w.-]{0,127}`.
pub(crate) fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= TAG_MAX
        && word(bytes[0])
        && bytes[1..]
            .iter()
            .all(|&b| word(b) || b == b'.' || b == b'-')
}

/// Validates a digest like go-digest's `Digest.Validate`; the error is its message.
///
/// Only `sha256` content exists here, but `sha384`/`sha512` digests are well formed
/// (and simply unknown).
pub(crate) fn validate_digest(digest: &str) -> Result<(), &'static str> {
    const FORMAT: &str = "invalid checksum digest format";
    let Some(i) = digest.find(':') else {
        return Err(FORMAT);
    };
    if i == 0 || i + 1 == digest.len() {
        return Err(FORMAT);
    }
    let (algorithm, encoded) = (&digest[..i], &digest[i + 1..]);
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return if well_formed_digest(algorithm, encoded) {
                Err("unsupported digest algorithm")
            } else {
                Err(FORMAT)
            };
        }
    };
    if encoded.len() != hex_len {
        return Err("invalid checksum digest length");
    }
    if !encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(FORMAT);
    }
    Ok(())
}

/// go-digest's `DigestRegexp`: `[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`.
fn well_formed_digest(algorithm: &str, encoded: &str) -> bool {
    let alg_ok = algorithm.split(['.', '+', '_', '-']).all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let enc_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
    alg_ok && enc_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in [
            "rhel",
            "rhel8/pcp",
            "ubi8/ubi-minimal",
            "a__b",
            "a.b_c---d/e0",
        ] {
            assert_eq!(validate_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            validate_name("RHEL"),
            Err("repository name must be lowercase")
        );
        for bad in [
            "-a", "a-", "a//b", "a/", "/a", "a___b", "a._b", "a b", "a:b",
        ] {
            assert_eq!(validate_name(bad), Err("invalid reference format"), "{bad}");
        }
        assert!(validate_name(&"a".repeat(256)).is_err());
        assert!(validate_name("").is_err());
    }

    #[test]
    fn tags() {
        assert!(valid_tag("latest"));
        assert!(valid_tag("8.9-1028"));
        assert!(valid_tag("_x"));
        assert!(!valid_tag(".x"));
        assert!(!valid_tag("-x"));
        assert!(!valid_tag("a:b"));
        assert!(!valid_tag(""));
        assert!(valid_tag(&"a".repeat(128)));
        assert!(!valid_tag(&"a".repeat(129)));
    }

    #[test]
    fn digests() {
        let hex = "a".repeat(64);
        assert_eq!(validate_digest(&format!("sha256:{hex}")), Ok(()));
        assert_eq!(
            validate_digest("sha256:abc"),
            Err("invalid checksum digest length")
        );
        assert_eq!(
            validate_digest(&format!("sha256:{}", "A".repeat(64))),
            Err("invalid checksum digest format")
        );
        assert_eq!(
            validate_digest("md5:abcdef"),
            Err("unsupported digest algorithm")
        );
        for bad in ["nocolon", ":abc", "sha256:", "Bad:abc"] {
            assert_eq!(
                validate_digest(bad),
                Err("invalid checksum digest format"),
                "{bad}"
            );
        }
    }
}
