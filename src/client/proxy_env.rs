//! Proxy settings as a user sets them: `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (either
//! case) or curl's `--proxy`, read with the precedence of the tool that reads them.
//!
//! - Go programs (podman, skopeo, buildah, docker, CRI-O; `golang.org/x/net/http/httpproxy`)
//!   read `HTTPS_PROXY` then `https_proxy`, `HTTP_PROXY` then `http_proxy`, `NO_PROXY`
//!   then `no_proxy`; a value without a scheme means `http://`; `localhost` and loopback
//!   addresses are never proxied; a `NO_PROXY` name matches itself and its subdomains, a
//!   leading `.` only subdomains, `*` everything, and `host:port` only that port.
//! - curl reads the lowercase name first (`https_proxy`, then `HTTPS_PROXY`), and
//!   `http_proxy` **only** in lowercase; `--proxy` replaces both; `no_proxy`/`NO_PROXY`
//!   still apply; a `NO_PROXY` entry matches the name and its subdomains.

use std::collections::BTreeMap;

use url::Url;

/// Whose rules to read the variables with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyConvention {
    /// Go's `httpproxy.FromEnvironment` (podman, skopeo, docker, CRI-O).
    Go,
    /// curl.
    Curl,
}

/// The proxy to use for each kind of URL, and the exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    https: Option<Url>,
    http: Option<Url>,
    no_proxy: Vec<String>,
    convention: Option<ProxyConvention>,
}

impl ProxySettings {
    /// No proxy at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// From environment variables, read as `convention` reads them.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use regharness::client::proxy_env::{ProxyConvention, ProxySettings};
    /// let env = BTreeMap::from([
    ///     ("HTTPS_PROXY".to_string(), "proxy.corp:3128".to_string()),
    ///     ("NO_PROXY".to_string(), ".corp,registry.redhat.io".to_string()),
    /// ]);
    /// let go = ProxySettings::from_env(&env, ProxyConvention::Go).unwrap();
    /// assert_eq!(go.for_target(true, "sso.redhat.com", 443).unwrap().as_str(), "http://proxy.corp:3128/");
    /// assert!(go.for_target(true, "registry.redhat.io", 443).is_none());
    /// assert!(go.for_target(true, "cdn.registry.redhat.io", 443).is_none());
    /// ```
    pub fn from_env(
        env: &BTreeMap<String, String>,
        convention: ProxyConvention,
    ) -> Result<Self, String> {
        let get = |names: &[&str]| -> Option<String> {
            names
                .iter()
                .find_map(|n| env.get(*n).filter(|v| !v.is_empty()).cloned())
        };
        let (https, http, no_proxy) = match convention {
            ProxyConvention::Go => (
                get(&["HTTPS_PROXY", "https_proxy"]),
                get(&["HTTP_PROXY", "http_proxy"]),
                get(&["NO_PROXY", "no_proxy"]),
            ),
            ProxyConvention::Curl => (
                get(&["https_proxy", "HTTPS_PROXY"]),
                get(&["http_proxy"]),
                get(&["no_proxy", "NO_PROXY"]),
            ),
        };
        Ok(Self {
            https: https.map(|v| parse_proxy(&v)).transpose()?,
            http: http.map(|v| parse_proxy(&v)).transpose()?,
            no_proxy: split_no_proxy(no_proxy.as_deref()),
            convention: Some(convention),
        })
    }

    /// curl's `--proxy URL`: every URL goes through it, except `NO_PROXY` matches.
    pub fn explicit(proxy: &str, env: &BTreeMap<String, String>) -> Result<Self, String> {
        let url = parse_proxy(proxy)?;
        let no_proxy = env
            .get("no_proxy")
            .or_else(|| env.get("NO_PROXY"))
            .map(String::as_str);
        Ok(Self {
            https: Some(url.clone()),
            http: Some(url),
            no_proxy: split_no_proxy(no_proxy),
            convention: Some(ProxyConvention::Curl),
        })
    }

    /// Whether any proxy is configured.
    pub fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }

    /// The proxy for a request to `host:port` (`https` or plain), or `None` for a direct
    /// connection.
    pub fn for_target(&self, https: bool, host: &str, port: u16) -> Option<&Url> {
        let proxy = if https {
            self.https.as_ref()
        } else {
            self.http.as_ref()
        }?;
        if self.convention == Some(ProxyConvention::Go) && is_loopback(host) {
            return None;
        }
        if self
            .no_proxy
            .iter()
            .any(|entry| no_proxy_matches(entry, host, port))
        {
            return None;
        }
        Some(proxy)
    }
}

/// A proxy URL as the tools accept it (`host:port` means `http://host:port`).
fn parse_proxy(value: &str) -> Result<Url, String> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| format!("invalid proxy URL {:?}: {e}", redact_userinfo(value)))?;
    match url.scheme() {
        "http" => Ok(url),
        other => Err(format!(
            "proxy URL {:?}: scheme {other:?} is not supported here (only http:// proxies)",
            redact_userinfo(value)
        )),
    }
}

/// The proxy URL with any password replaced, for messages.
pub fn redact_userinfo(value: &str) -> String {
    match (value.find("://"), value.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &value[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!(
                "{}{user}:[redacted]{}",
                &value[..scheme_end + 3],
                &value[at..]
            )
        }
        (None, Some(at)) => {
            let user = value[..at].split(':').next().unwrap_or("");
            format!("{user}:[redacted]{}", &value[at..])
        }
        _ => value.to_string(),
    }
}

fn split_no_proxy(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn no_proxy_matches(entry: &str, host: &str, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let host = host.to_ascii_lowercase();
    let (name, entry_port) = match entry.rsplit_once(':') {
        Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) && !n.contains(':') => {
            (n, p.parse::<u16>().ok())
        }
        _ => (entry, None),
    };
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    if let Some(suffix) = name.strip_prefix('.') {
        return host.ends_with(&format!(".{suffix}")) || host == suffix;
    }
    if let Some(suffix) = name.strip_prefix("*.") {
        return host.ends_with(&format!(".{suffix}"));
    }
    host == name || host.ends_with(&format!(".{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[rstest]
    #[case::go_upper_first(ProxyConvention::Go, "http://upper:1/")]
    #[case::curl_lower_first(ProxyConvention::Curl, "http://lower:2/")]
    fn precedence_of_the_two_cases(#[case] convention: ProxyConvention, #[case] wanted: &str) {
        let e = env(&[("HTTPS_PROXY", "upper:1"), ("https_proxy", "lower:2")]);
        let s = ProxySettings::from_env(&e, convention).unwrap();
        assert_eq!(
            s.for_target(true, "registry.redhat.io", 443)
                .unwrap()
                .as_str(),
            wanted
        );
    }

    #[test]
    fn curl_ignores_uppercase_http_proxy() {
        let e = env(&[("HTTP_PROXY", "p:3128")]);
        let curl = ProxySettings::from_env(&e, ProxyConvention::Curl).unwrap();
        assert!(curl.for_target(false, "insecure.example.com", 80).is_none());
        let go = ProxySettings::from_env(&e, ProxyConvention::Go).unwrap();
        assert!(go.for_target(false, "insecure.example.com", 80).is_some());
    }

    #[rstest]
    #[case("registry.redhat.io", "registry.redhat.io", 443, true)]
    #[case("redhat.io", "registry.redhat.io", 443, true)]
    #[case(".redhat.io", "registry.redhat.io", 443, true)]
    #[case("registry.redhat.io:5000", "registry.redhat.io", 443, false)]
    #[case("registry.redhat.io:443", "registry.redhat.io", 443, true)]
    #[case("*", "anything", 443, true)]
    #[case("sso.redhat.com", "registry.redhat.io", 443, false)]
    #[case("hat.io", "registry.redhat.io", 443, false)]
    fn no_proxy_entries(
        #[case] entry: &str,
        #[case] host: &str,
        #[case] port: u16,
        #[case] bypass: bool,
    ) {
        assert_eq!(no_proxy_matches(entry, host, port), bypass);
    }

    #[test]
    fn explicit_proxy_and_credentials_in_the_url() {
        let s = ProxySettings::explicit("http://u:canary-proxy-pw@p:3128", &env(&[])).unwrap();
        let url = s.for_target(true, "sso.redhat.com", 443).unwrap();
        assert_eq!(url.username(), "u");
        assert_eq!(
            redact_userinfo("http://u:canary-proxy-pw@p:3128"),
            "http://u:[redacted]@p:3128"
        );
        let e = ProxySettings::explicit("socks5://p:1080", &env(&[])).unwrap_err();
        assert!(e.contains("only http://"), "{e}");
    }

    #[test]
    fn go_never_proxies_loopback() {
        let s =
            ProxySettings::from_env(&env(&[("HTTPS_PROXY", "p:1")]), ProxyConvention::Go).unwrap();
        assert!(s.for_target(true, "127.0.0.1", 443).is_none());
        assert!(s.for_target(true, "localhost", 443).is_none());
    }
}
