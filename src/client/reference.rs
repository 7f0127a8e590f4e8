//! Image references: `registry.redhat.io/rhel8/pcp:latest`, `host/repo@sha256:...`.

/// A fully qualified image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// Registry host (with port, if any).
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag or digest.
    pub reference: String,
}

impl ImageReference {
    /// Parses `host/repository[:tag|@digest]`; the tag defaults to `latest`.
    ///
    /// ```
    /// use regharness::client::reference::ImageReference;
    /// let r = ImageReference::parse("registry.redhat.io/rhel8/pcp").unwrap();
    /// assert_eq!((r.registry.as_str(), r.repository.as_str(), r.reference.as_str()),
    ///            ("registry.redhat.io", "rhel8/pcp", "latest"));
    /// assert!(ImageReference::parse("rhel8/pcp").is_err());
    /// ```
    pub fn parse(image: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("image {image:?}: {why}; expected HOST/REPOSITORY[:TAG|@DIGEST] such as registry.redhat.io/rhel8/pcp:latest")
        };
        let (host, rest) = image
            .split_once('/')
            .ok_or_else(|| bad("no registry host"))?;
        if !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(bad(
                "the first component is not a registry host (short names are not resolved here)",
            ));
        }
        let (repository, reference) = if let Some((repo, digest)) = rest.split_once('@') {
            if !digest.starts_with("sha256:") || digest.len() != 71 {
                return Err(bad("the digest is not sha256:<64 hex>"));
            }
            (repo, digest.to_string())
        } else {
            match rest.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, tag.to_string()),
                _ => (rest, "latest".to_string()),
            }
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.split('/').all(|c| {
                    !c.is_empty()
                        && c.chars().all(|ch| {
                            ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch)
                        })
                })
        };
        if !valid(repository) {
            return Err(bad("the repository must be lowercase path components"));
        }
        if reference.is_empty() {
            return Err(bad("empty tag"));
        }
        Ok(Self {
            registry: host.to_string(),
            repository: repository.to_string(),
            reference,
        })
    }

    /// Whether the reference is a digest.
    pub fn is_digest(&self) -> bool {
        self.reference.starts_with("sha256:")
    }
}

impl std::fmt::Display for ImageReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.is_digest() { '@' } else { ':' };
        write!(
            f,
            "{}/{}{}{}",
            self.registry, self.repository, sep, self.reference
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_digests_and_ports() {
        let r = ImageReference::parse("localhost:5000/a/b:1.0").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.reference, "1.0");
        let d = format!("r.io/a@sha256:{}", "0".repeat(64));
        assert!(ImageReference::parse(&d).unwrap().is_digest());
        assert!(ImageReference::parse("r.io/a@sha256:00").is_err());
        assert!(ImageReference::parse("r.io/A:1").is_err());
    }
}
