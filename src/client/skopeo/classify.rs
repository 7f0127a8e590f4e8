//! skopeo's failure texts and the harness's diagnosis classes.
//!
//! skopeo logs its final error with logrus: `time="..." level=fatal msg="..."`, the
//! message quoted Go-style (`\"` inside). The rules match the unquoted message, first
//! rule first. Every needle but one was observed from skopeo 1.9.3 against a world (see
//! `tests/skopeo_world.rs`), for example:
//!
//! - `registry registry.access.redhat.com is blocked in <conf> or <HOME>/.config/containers/registries.conf.d`
//! - `Source image rejected: Running image docker://<image> is rejected by policy.`
//! - `pinging container registry <host>: Get "https://<host>/v2/": proxyconnect tcp: dial tcp 127.0.0.1:<port>: connect: connection refused`
//! - `... Get "https://<host>/v2/": Forbidden` / `Proxy Authentication Required` / `Service Unavailable`
//! - `... Get "https://<host>/v2/": http: server gave HTTP response to HTTPS client`
//! - `... Get "https://<host>/v2/": x509: certificate signed by unknown authority`
//! - `unable to retrieve auth token: invalid username/password: unauthorized: <the SSO's text>`
//! - `reading manifest <tag> in <host>/<repo>: manifest unknown: manifest unknown`
//!
//! - `reading manifest 8.9 in registry.redhat.io/ubi8/ubi: errors:\ndenied: requested access to the resource is denied\nunauthorized: ...` (a token without access)
//! - `choosing an image from manifest list docker://<image>: no image found in image index for architecture riscv64, variant "", OS linux`
//!
//! podman 4.3.1 prints the same containers/image texts as `Error: <message>` (after
//! progress lines such as `Trying to pull <image>...`), e.g. `Error: logging into
//! "registry.redhat.io": invalid username/password` (skopeo login: the same, as
//! `level=fatal`).
//!
//! `name unknown` (distribution's `NAME_UNKNOWN` for a repository it does not have) is
//! not produced by the mock registries, which answer `MANIFEST_UNKNOWN` for both cases.

use crate::diagnosis::DiagnosisClass;

/// What the harness makes of a failed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkopeoFailure {
    /// The class.
    pub class: DiagnosisClass,
    /// The text that decided it (a rule's needle, `""` when none matched). A caller
    /// that tells "insecure registry not configured" from "HTTP response to HTTPS
    /// client" looks here ([`HTTP_TO_HTTPS`]).
    pub matched: &'static str,
    /// skopeo's error message (the last `level=fatal` message, unquoted), or the whole
    /// standard error when there is none.
    pub message: String,
}

/// Go's text when a TLS client gets a plain HTTP answer.
pub const HTTP_TO_HTTPS: &str = "http: server gave HTTP response to HTTPS client";

/// The needle of the rule for a token endpoint's 401 (containers/image's prefix).
pub const INVALID_CREDENTIALS: &str = "invalid username/password";

/// What a rule concludes.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    /// Always this class.
    Class(DiagnosisClass),
    /// containers/image says `invalid username/password` for every 401 of a token
    /// endpoint, even when no credentials were sent (FIDELITY.md).
    DependsOnCredentials,
    /// A registry's `denied: requested access to the resource is denied`: with
    /// credentials the token grants no access (no subscription), without them a login
    /// is needed.
    DeniedDependsOnCredentials,
}

/// The rules, in order; the first whose needle occurs in the message wins.
const RULES: &[(&str, Verdict)] = &[
    // An auth file containers/image cannot read: `getting username and password: 1 error
    // occurred: * reading JSON file "...": unmarshaling JSON at "...": unexpected end of
    // JSON input` (an empty file; a bad `auth` field gives the same prefix).
    (
        "getting username and password",
        Verdict::Class(DiagnosisClass::AuthFileInvalid),
    ),
    // registries.conf `blocked = true`: refused before any connection.
    (
        "is blocked in",
        Verdict::Class(DiagnosisClass::BlockedByRegistriesConf),
    ),
    // policy.json: `Source image rejected: Running image docker://... is rejected by policy.`
    (
        "is rejected by policy",
        Verdict::Class(DiagnosisClass::RejectedByPolicy),
    ),
    // The proxy itself cannot be reached.
    (
        "proxyconnect tcp",
        Verdict::Class(DiagnosisClass::ProxyUnreachable),
    ),
    // Go reports a refused CONNECT by its reason phrase only: `Get "https://h/v2/": Forbidden`.
    (
        "\": Proxy Authentication Required",
        Verdict::Class(DiagnosisClass::ProxyAuthRequired),
    ),
    (
        "\": Forbidden",
        Verdict::Class(DiagnosisClass::ProxyDeniedHost),
    ),
    (
        "\": Service Unavailable",
        Verdict::Class(DiagnosisClass::ProxyTunnelFailed),
    ),
    (
        "\": Bad Gateway",
        Verdict::Class(DiagnosisClass::ProxyTunnelFailed),
    ),
    (
        "\": Gateway Timeout",
        Verdict::Class(DiagnosisClass::ProxyTunnelFailed),
    ),
    (
        HTTP_TO_HTTPS,
        Verdict::Class(DiagnosisClass::InsecureRegistryNotConfigured),
    ),
    (
        "certificate signed by unknown authority",
        Verdict::Class(DiagnosisClass::UntrustedCa),
    ),
    (INVALID_CREDENTIALS, Verdict::DependsOnCredentials),
    (
        "requested access to the resource is denied",
        Verdict::DeniedDependsOnCredentials,
    ),
    ("manifest unknown", Verdict::Class(DiagnosisClass::NotFound)),
    (
        "no image found in image index for architecture",
        Verdict::Class(DiagnosisClass::NotFound),
    ),
    ("name unknown", Verdict::Class(DiagnosisClass::NotFound)),
];

/// Classifies a failed run's standard error. `credentials_sent`: whether skopeo had
/// credentials for the registry (`--src-creds`, or an auth file). A run that timed out
/// is `Network` whatever it printed; a text no rule knows is `UnexpectedResponse`.
///
/// ```
/// use regharness::client::skopeo::classify::classify;
/// use regharness::diagnosis::DiagnosisClass;
/// let stderr = "time=\"2026-01-01T00:00:00Z\" level=fatal msg=\"Source image rejected: \
///               Running image docker://reg1.io/team/app:1.0 is rejected by policy.\"\n";
/// let failure = classify(stderr, false, false);
/// assert_eq!(failure.class, DiagnosisClass::RejectedByPolicy);
/// assert!(failure.message.starts_with("Source image rejected: Running image docker://"));
/// ```
pub fn classify(stderr: &str, credentials_sent: bool, timed_out: bool) -> SkopeoFailure {
    let message = fatal_message(stderr)
        .or_else(|| podman_error(stderr))
        .unwrap_or_else(|| stderr.trim().to_string());
    if timed_out {
        return SkopeoFailure {
            class: DiagnosisClass::Network,
            matched: "",
            message,
        };
    }
    for (needle, verdict) in RULES {
        if message.contains(needle) {
            let class = match verdict {
                Verdict::Class(class) => *class,
                Verdict::DependsOnCredentials if credentials_sent => {
                    DiagnosisClass::CredentialsRejected
                }
                Verdict::DependsOnCredentials => DiagnosisClass::AuthenticationRequired,
                Verdict::DeniedDependsOnCredentials if credentials_sent => {
                    DiagnosisClass::SubscriptionRequired
                }
                Verdict::DeniedDependsOnCredentials => DiagnosisClass::AuthenticationRequired,
            };
            return SkopeoFailure {
                class,
                matched: needle,
                message,
            };
        }
    }
    SkopeoFailure {
        class: DiagnosisClass::UnexpectedResponse,
        matched: "",
        message,
    }
}

/// The message of the last `level=fatal` line, unquoted.
pub fn fatal_message(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .rev()
        .filter(|line| line.contains("level=fatal"))
        .find_map(|line| {
            let start = line.find(" msg=")? + " msg=".len();
            let rest = &line[start..];
            match rest.strip_prefix('"') {
                Some(quoted) => Some(unquote(quoted)),
                None => Some(rest.split(' ').next().unwrap_or_default().to_string()),
            }
        })
}

/// podman's final error: from its last line starting with `Error: ` to the end (the
/// message may span lines), without the prefix.
pub fn podman_error(stderr: &str) -> Option<String> {
    let start = stderr
        .match_indices("Error: ")
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || stderr.as_bytes()[i - 1] == b'\n')
        .last()?;
    Some(stderr[start + "Error: ".len()..].trim().to_string())
}

/// Undoes Go's `%q` quoting up to the closing quote (`\"`, `\\`, `\n`, `\t`; other
/// escapes are kept as written).
fn unquote(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fatal(msg: &str) -> String {
        let quoted = msg.replace('\\', "\\\\").replace('"', "\\\"");
        format!("time=\"2026-01-01T00:00:00Z\" level=fatal msg=\"{quoted}\"\n")
    }

    #[test]
    fn the_message_is_unquoted_from_the_last_fatal_line() {
        let stderr = format!(
            "time=\"t\" level=warning msg=\"first\"\n{}",
            fatal(r#"Get "https://reg1.io/v2/": Forbidden"#)
        );
        assert_eq!(
            fatal_message(&stderr).as_deref(),
            Some(r#"Get "https://reg1.io/v2/": Forbidden"#)
        );
        assert_eq!(fatal_message("no logrus here"), None);
    }

    #[test]
    fn credentials_decide_the_401_class() {
        let stderr = fatal(
            "initializing source docker://registry.redhat.io/rhel8/pcp:latest: unable to \
             retrieve auth token: invalid username/password: unauthorized: x",
        );
        assert_eq!(
            classify(&stderr, true, false).class,
            DiagnosisClass::CredentialsRejected
        );
        assert_eq!(
            classify(&stderr, false, false).class,
            DiagnosisClass::AuthenticationRequired
        );
    }

    #[test]
    fn a_registry_403_is_not_a_proxy_403() {
        // A registry's own 403 has a body; Go's CONNECT failure is the bare phrase
        // right after the quoted URL.
        let registry = fatal("reading manifest 1.0 in reg1.io/team/app: denied: Forbidden");
        assert_eq!(
            classify(&registry, false, false).class,
            DiagnosisClass::UnexpectedResponse
        );
        let proxy =
            fatal(r#"pinging container registry reg1.io: Get "https://reg1.io/v2/": Forbidden"#);
        assert_eq!(
            classify(&proxy, false, false).class,
            DiagnosisClass::ProxyDeniedHost
        );
    }

    #[test]
    fn podman_errors_are_read_after_its_progress_lines() {
        // podman 4.3.1, observed against a world.
        let stderr =
            "Trying to pull registry.redhat.io/ubi8/ubi:8.9...\nError: initializing source \
                      docker://registry.redhat.io/ubi8/ubi:8.9: reading manifest 8.9 in \
                      registry.redhat.io/ubi8/ubi: errors:\ndenied: requested access to the \
                      resource is denied\nunauthorized: Please login\n";
        let failure = classify(stderr, true, false);
        assert_eq!(failure.class, DiagnosisClass::SubscriptionRequired);
        assert!(failure.message.starts_with("initializing source"));
        assert_eq!(
            classify(stderr, false, false).class,
            DiagnosisClass::AuthenticationRequired
        );
        let login = "Error: logging into \"registry.redhat.io\": invalid username/password\n";
        assert_eq!(
            classify(login, true, false).class,
            DiagnosisClass::CredentialsRejected
        );
    }

    #[test]
    fn a_platform_missing_from_the_index_is_not_found() {
        let stderr = fatal(
            "choosing an image from manifest list docker://registry.access.redhat.com/ubi8/\
             ubi-minimal:latest: no image found in image index for architecture riscv64, \
             variant \"\", OS linux",
        );
        assert_eq!(
            classify(&stderr, false, false).class,
            DiagnosisClass::NotFound
        );
    }

    #[test]
    fn a_timeout_is_network_whatever_was_printed() {
        let failure = classify(&fatal("manifest unknown"), false, true);
        assert_eq!(failure.class, DiagnosisClass::Network);
        assert_eq!(failure.matched, "");
    }

    #[test]
    fn unknown_text_is_unexpected() {
        let failure = classify("something odd\n", false, false);
        assert_eq!(failure.class, DiagnosisClass::UnexpectedResponse);
        assert_eq!(failure.message, "something odd");
    }
}
