//! Registry scopes as the Machine Config Operator compares and validates them: a scope is
//! `host[:port][/namespace...[/repo]]` or a wildcard `*.example.com`.
//!
//! Ported from `openshift/runtime-utils` `pkg/registries/registries.go` at 7bdb5b9c (the
//! version MCO vendors): `ScopeIsNestedInsideScope`, `IsValidRegistriesConfScope`; from
//! MCO's `pkg/controller/container-runtime-config/helpers.go`: the `sourceRegex` /
//! `mirrorRegex` checks of ICSP entries; and from containers/image v5.35
//! `pkg/sysregistriesv2`: `refMatchingPrefix`.

/// Whether `sub` is `sup` or inside it: a namespace/repository of a non-wildcard `sup`, or a
/// host (or `*.`-scope) below a `*.domain` `sup` (`ScopeIsNestedInsideScope`).
pub fn is_nested(sub: &str, sup: &str) -> bool {
    if sub == sup {
        return true;
    }
    if sub.len() > sup.len() && sub.starts_with(sup) && sub.as_bytes()[sup.len()] == b'/' {
        return true;
    }
    if let Some(domain) = sup.strip_prefix('*') {
        if !domain.starts_with('.') {
            return false;
        }
        // The first `:`-separated part when there is a port, else the first `/` part.
        return match sub.split_once(':') {
            Some((host, _)) => host.ends_with(domain) && !host.contains('/'),
            None => sub.split('/').next().unwrap_or(sub).ends_with(domain),
        };
    }
    false
}

/// Whether `scope` may be a `prefix` in registries.conf (`IsValidRegistriesConfScope`): not
/// empty, and a `*` only as a leading `*.` followed by no `/`, `@`, `:` or `*`. Anything
/// else (including a tag, `reg1.io/myrepo/myapp:latest`) is accepted.
pub fn is_valid_registries_conf_scope(scope: &str) -> bool {
    if scope.is_empty() {
        return false;
    }
    if !scope.contains('*') {
        return true;
    }
    scope
        .strip_prefix("*.")
        .is_some_and(|rest| !rest.contains(['/', '@', ':', '*']))
}

/// A DNS label as MCO's regexes write it: `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// `host[:port]`: dot-separated labels and an optional numeric port.
fn is_host_port(host_port: &str) -> bool {
    let (host, port) = match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    host.split('.').all(is_label)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A path component: lowercase alphanumeric runs joined by `.`, `_`, `__` or any run of `-`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_lowercase() && !bytes[0].is_ascii_digit() {
        return false;
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator, which must be followed by an alphanumeric.
        let start = i;
        if bytes[i] == b'-' {
            while i < bytes.len() && bytes[i] == b'-' {
                i += 1;
            }
        } else if bytes[i] == b'_' && bytes.get(i + 1) == Some(&b'_') {
            i += 2;
        } else if bytes[i] == b'.' || bytes[i] == b'_' {
            i += 1;
        } else {
            return false;
        }
        if i == start || !bytes.get(i).copied().is_some_and(alnum) {
            return false;
        }
    }
    true
}

/// MCO's `mirrorRegex`: `host[:port]` followed by any number of `/component`s.
pub fn is_valid_mirror(mirror: &str) -> bool {
    let (host_port, path) = match mirror.split_once('/') {
        Some((host, path)) => (host, Some(path)),
        None => (mirror, None),
    };
    is_host_port(host_port) && path.is_none_or(|p| p.split('/').all(is_path_component))
}

/// MCO's `sourceRegex`: a mirror-like scope, or a wildcard `*.label[.label...]`.
pub fn is_valid_source(source: &str) -> bool {
    if let Some(domain) = source.strip_prefix("*.") {
        return domain.split('.').all(is_label);
    }
    is_valid_mirror(source)
}

/// How much of `reference` the `[[registry]]` `prefix` matches, or `None`
/// (`refMatchingPrefix`): the prefix must be followed by `:`, `/`, `@` or the end; a
/// `*.domain` prefix matches a host ending in `.domain`.
pub fn matching_prefix_len(reference: &str, prefix: &str) -> Option<usize> {
    if let Some(domain) = prefix.strip_prefix('*') {
        let index = reference.find(domain)?;
        if reference[..index].contains('/') {
            return None;
        }
        let end = index + domain.len();
        return match reference.as_bytes().get(end) {
            None | Some(b':' | b'/' | b'@') => Some(end),
            Some(_) => None,
        };
    }
    if !reference.starts_with(prefix) {
        return None;
    }
    match reference.as_bytes().get(prefix.len()) {
        None | Some(b':' | b'/' | b'@') => Some(prefix.len()),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// runtime-utils `TestScopeIsNestedInsideScope`, every row.
    #[rstest]
    #[case("quay.io", "example.com", false)]
    #[case("quay.io", "quay.io", true)]
    #[case("quay.io:443", "quay.io", false)]
    #[case("quay.io:443", "quay.io:444", false)]
    #[case("quay.io.example.com", "quay.io", false)]
    #[case("quay.io2", "quay.io", false)]
    #[case("quay.io/ns1", "quay.io", true)]
    #[case("quay.io/ns1/ns2/ns3", "quay.io", true)]
    #[case("quay.io/ns1/ns2/ns3", "not-quay.io", false)]
    #[case("bar/example.foo", "*.foo", false)]
    #[case("example/bar.foo/quay.io", "*.foo", false)]
    #[case("example/bar.foo:400", "*.foo", false)]
    #[case("foo.example.com", "*.example.com", true)]
    #[case("*.foo.example.com", "*.example.com", true)]
    #[case("foo.example.com/bar", "*.example.com", true)]
    #[case("foo.registry.com", "*.example.com", false)]
    #[case("foo.example.com", "**.example.com", false)]
    #[case("foo.example.com", "example.*.com", false)]
    #[case("foo.example.com", "*.example.com/foo/bar", false)]
    #[case("foo.example.com:443/bar/baz", "*.example.com", true)]
    #[case("foo.example.com:443/bar/baz", "*.example.com/bar/baz", false)]
    #[case("foo.example.com", "*example.com", false)]
    #[case("foo.example.com", "*/example.com", false)]
    fn nested_scopes(#[case] sub: &str, #[case] sup: &str, #[case] expected: bool) {
        assert_eq!(is_nested(sub, sup), expected, "{sub:?} in {sup:?}");
    }

    /// runtime-utils `TestIsValidRegistriesConfScope`, every row, plus seed 004's
    /// repository-with-tag entry, which MCO accepts as it is.
    #[rstest]
    #[case("example.com", true)]
    #[case("*.example.com", true)]
    #[case("**.example.com", false)]
    #[case("example.*.com", false)]
    #[case("*.example.com/foo/bar", false)]
    #[case("*.example.com:foo", false)]
    #[case("*.example.com/foo:sha@bar", false)]
    #[case("*.example.com.*.bar.com", false)]
    #[case("*example.com", false)]
    #[case("*/example.com", false)]
    #[case("*.*example.com", false)]
    #[case("", false)]
    #[case("reg4.io/myrepo/myapp:latest", true)]
    fn registries_conf_scopes(#[case] scope: &str, #[case] expected: bool) {
        assert_eq!(is_valid_registries_conf_scope(scope), expected, "{scope:?}");
    }

    /// MCO `TestValidateRegistriesConfScopes`'s source/mirror rows, and more shapes.
    #[rstest]
    #[case("insecure.com/ns-i1", true)]
    #[case("*.insecure.com", true)]
    #[case("quay.io/openshift-release-dev/ocp-release", true)]
    #[case("registry.example.com:5000/a__b/c-d--e/f.g_h", true)]
    #[case("localhost", true)]
    #[case("", false)]
    #[case("*.insecure.com/ns-i1", false)]
    #[case("insecure.com/ns-i1 ", false)]
    #[case("insecure.com/NS", false)]
    #[case("insecure.com/ns/", false)]
    #[case("insecure.com/a..b", false)]
    #[case("insecure.com/a___b", false)]
    #[case("-bad.com/ns", false)]
    #[case("reg.io:port/ns", false)]
    #[case("reg4.io/myrepo/myapp:latest", false)]
    fn sources(#[case] source: &str, #[case] expected: bool) {
        assert_eq!(is_valid_source(source), expected, "{source:?}");
    }

    #[rstest]
    #[case("other.com/ns-o1", true)]
    #[case("internal-mirror.io/openshift-payload", true)]
    #[case("", false)]
    #[case("*.other.com/ns-o1", false)]
    #[case("*.other.com", false)]
    #[case("other.com/ns-o1  ", false)]
    fn mirrors(#[case] mirror: &str, #[case] expected: bool) {
        assert_eq!(is_valid_mirror(mirror), expected, "{mirror:?}");
    }

    #[rstest]
    #[case("quay.io/ns/repo@sha256:0", "quay.io", Some(7))]
    #[case("quay.io/ns/repo", "quay.io/ns", Some(10))]
    #[case("quay.io/ns/repo", "quay.io/ns/repo", Some(15))]
    #[case("quay.io/nsx/repo", "quay.io/ns", None)]
    #[case("quay.io:5000/ns", "quay.io", Some(7))]
    #[case("a.example.com/ns", "*.example.com", Some(13))]
    #[case("example.com/ns", "*.example.com", None)]
    #[case("x/a.example.com", "*.example.com", None)]
    #[case("a.example.community/ns", "*.example.com", None)]
    fn prefixes(#[case] reference: &str, #[case] prefix: &str, #[case] expected: Option<usize>) {
        assert_eq!(matching_prefix_len(reference, prefix), expected);
    }
}
