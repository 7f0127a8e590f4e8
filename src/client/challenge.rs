//! `WWW-Authenticate` challenges (RFC 7235 auth-params, Docker token auth).

use std::collections::BTreeMap;

/// A parsed challenge: scheme and parameters (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `Bearer` or `Basic`, as sent.
    pub scheme: String,
    /// `realm`, `service`, `scope`, `error`, ...
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parses the first challenge of a header value.
    ///
    /// ```
    /// use regharness::client::challenge::Challenge;
    /// let c = Challenge::parse(r#"Bearer realm="https://sso.redhat.com/auth/realms/rhcc/protocol/redhat-docker-v2/auth",service="docker-registry",scope="repository:rhel:pull""#).unwrap();
    /// assert!(c.is_bearer());
    /// assert_eq!(c.param("service"), Some("docker-registry"));
    /// assert_eq!(c.param("scope"), Some("repository:rhel:pull"));
    /// ```
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let (scheme, rest) = match header.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r),
            None => (header, ""),
        };
        if scheme.is_empty() {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        loop {
            while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
                chars.next();
            }
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c == ',' || c.is_whitespace() {
                    break;
                }
                name.push(c);
                chars.next();
            }
            if name.is_empty() {
                break;
            }
            if chars.peek() != Some(&'=') {
                break;
            }
            chars.next();
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                value = value.trim().to_string();
            }
            params.insert(name.to_ascii_lowercase(), value);
        }
        Some(Self {
            scheme: scheme.to_string(),
            params,
        })
    }

    /// A parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Whether this is a Bearer challenge.
    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_and_escaped_quotes() {
        let c = Challenge::parse(
            r#"Bearer realm="r",service="s",scope="repository:a:pull",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(c.param("error"), Some("insufficient_scope"));
        let c = Challenge::parse(r#"Basic realm="a \"q\" b""#).unwrap();
        assert!(!c.is_bearer());
        assert_eq!(c.param("realm"), Some(r#"a "q" b"#));
    }

    #[test]
    fn garbage_yields_no_params() {
        let c = Challenge::parse("Bearer ,,, =x").unwrap();
        assert!(c.params.is_empty());
        assert!(Challenge::parse("   ").is_none());
    }
}
