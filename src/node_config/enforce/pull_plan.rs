//! Which `[[registry]]` applies to an image and where a pull goes, as containers/image v5.23
//! does it (`sysregistriesv2.FindRegistry` / `refMatchingPrefix` /
//! `Registry.PullSourcesFromReference`, the docker transport's `newImageSource` and
//! `newDockerClient`):
//!
//! - the entry with the longest prefix matching the image *name* (no tag or digest) wins; a
//!   prefix matches when the name equals it or continues it with `/`, `:` or `@` (so
//!   `example.com` also matches `example.com:5000/...`, a c/image quirk); a prefix with a
//!   tag or digest therefore never matches a pull; `*.example.com` matches any host that
//!   contains `.example.com` (first occurrence, before the first `/`) followed by the end,
//!   `:`, `/` or `@`;
//! - sources: the mirrors (all of them; none for tag references when
//!   `mirror-by-digest-only = true`; per mirror, `pull-from-mirror = digest-only / tag-only`),
//!   then the primary location, each reference rewritten by replacing the prefix with the
//!   endpoint's location; an endpoint's own `insecure` flag applies to it;
//! - `blocked` is checked for each source separately, by looking up the *rewritten* name
//!   again, just before connecting (no traffic for a blocked source). A blocked entry with
//!   mirrors therefore still pulls from its mirrors (the OpenShift "block the payload
//!   registry, use the mirror" setup), and a mirror that falls under another, blocked entry
//!   is skipped. This holds for v5.23 (skopeo 1.9.3) and for current main alike;
//! - when every source fails the error is the primary's, prefixed with
//!   `(Mirrors also failed: [ref: err]\n[ref: err]): primary-ref: ` when there were mirrors.

use crate::client::reference::ImageReference;

use super::docker_ref::{self, Named};
use super::registries_conf::{Endpoint, PullFromMirror, RegistriesConf, Registry};

/// The node paths c/image names in its "blocked" message: CRI-O's (both set explicitly).
/// skopeo or podman running as root without `--registries-conf` print
/// `/root/.config/containers/registries.conf.d` as the directory instead (see
/// [`SKOPEO_ROOT_DROP_IN_DIR`]).
pub const DEFAULT_CONFIG_PATH: &str = "/etc/containers/registries.conf";
/// See [`DEFAULT_CONFIG_PATH`].
pub const DEFAULT_DROP_IN_DIR: &str = "/etc/containers/registries.conf.d";
/// The directory skopeo 1.9.3 names when run as root with the default configuration
/// (c/image's `ConfigDirPath` prefers the per-user directory whenever it is in use).
pub const SKOPEO_ROOT_DROP_IN_DIR: &str = "/root/.config/containers/registries.conf.d";

/// The pull plan for one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullPlan {
    /// The matched `[[registry]]` prefix (`None`: no entry applies, the image is pulled
    /// from where it names).
    pub prefix: Option<String>,
    /// Where to try, in order: mirrors first, the primary location last.
    pub sources: Vec<PullSource>,
}

/// One place to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSource {
    /// The reference rewritten for this endpoint.
    pub reference: ImageReference,
    /// Skip TLS verification and fall back to plain HTTP.
    pub insecure: bool,
    /// A mirror (not the primary location).
    pub mirror: bool,
    /// When this source is refused without traffic: the refusal (its `Display` is the
    /// error c/image records for this attempt).
    pub blocked: Option<Refusal>,
}

/// Why a pull is refused before any request; `Display` is c/image's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The matching `[[registry]]` is `blocked = true`.
    #[error("registry {prefix} is blocked in {config_path} or {config_dir}")]
    Blocked {
        /// The blocking entry's prefix.
        prefix: String,
        /// The registries.conf path c/image names.
        config_path: String,
        /// The drop-in directory c/image names.
        config_dir: String,
    },
    /// Every source is blocked; the combined error c/image reports.
    #[error("{}", combine_errors(attempts))]
    AllBlocked {
        /// Each source and its refusal text, mirrors first.
        attempts: Vec<(String, String)>,
    },
    /// The reference cannot be parsed or rewritten (c/image's text).
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
}

/// c/image's error when every source failed: the only error, or the primary's (last) with
/// the mirrors' errors in front. `attempts` are `(reference, error text)`, in try order.
pub fn combine_errors(attempts: &[(String, String)]) -> String {
    match attempts {
        [] => "Internal error: newImageSource returned without trying any endpoint".into(),
        [(_, only)] => only.clone(),
        [mirrors @ .., (primary, error)] => {
            let extras: Vec<String> = mirrors
                .iter()
                .map(|(reference, e)| format!("[{reference}: {e}]"))
                .collect();
            format!(
                "(Mirrors also failed: {}): {primary}: {error}",
                extras.join("\n")
            )
        }
    }
}

/// `refMatchingPrefix`: the length of the match, or `None`.
pub fn ref_matching_prefix(reference: &str, prefix: &str) -> Option<usize> {
    if prefix.starts_with("*.") {
        return ref_matching_subdomain_prefix(reference, prefix);
    }
    let rest = reference.strip_prefix(prefix)?;
    match rest.chars().next() {
        None | Some(':' | '/' | '@') => Some(prefix.len()),
        Some(_) => None,
    }
}

/// `refMatchingSubdomainPrefix`: `prefix` is `*.domain`; returns where the host match ends.
fn ref_matching_subdomain_prefix(reference: &str, prefix: &str) -> Option<usize> {
    let suffix = &prefix[1..];
    let index = reference.find(suffix)?;
    if reference[..index].contains('/') {
        return None;
    }
    let end = index + suffix.len();
    match reference[end..].chars().next() {
        None | Some(':' | '/' | '@') => Some(end),
        Some(_) => None,
    }
}

/// `FindRegistry`: the entry with the longest prefix matching `reference` (a host, a
/// repository name, or a full reference); the first in prefix order on ties.
pub fn find_registry<'a>(conf: &'a RegistriesConf, reference: &str) -> Option<&'a Registry> {
    let mut best: Option<&Registry> = None;
    for r in &conf.registries {
        if ref_matching_prefix(reference, &r.prefix).is_some()
            && best.is_none_or(|b| r.prefix.len() > b.prefix.len())
        {
            best = Some(r);
        }
    }
    best
}

/// `Endpoint.rewriteReference`.
pub fn rewrite_reference(reference: &Named, prefix: &str, location: &str) -> Result<Named, String> {
    let full = reference.full();
    let Some(len) = ref_matching_prefix(&full, prefix) else {
        return Err(format!("invalid prefix '{prefix}' for reference '{full}'"));
    };
    if location.is_empty() {
        if !prefix.starts_with("*.") {
            return Err(format!(
                "invalid prefix '{prefix}' for empty location, should be in the format: *.example.com"
            ));
        }
        return Ok(reference.clone());
    }
    docker_ref::parse_named(&format!("{location}{}", &full[len..]))
        .map_err(|e| format!("rewriting reference: {e}"))
}

/// `PullSourcesFromReference`: the endpoints to try for `reference`, mirrors first.
pub fn pull_sources<'a>(registry: &'a Registry, reference: &Named) -> Vec<(&'a Endpoint, bool)> {
    let digested = reference.digest.is_some();
    let mut out: Vec<(&Endpoint, bool)> = Vec::new();
    if registry.mirror_by_digest_only {
        if digested {
            out.extend(registry.mirrors.iter().map(|m| (m, true)));
        }
    } else {
        out.extend(
            registry
                .mirrors
                .iter()
                .filter(|m| match m.pull_from_mirror {
                    Some(PullFromMirror::DigestOnly) => digested,
                    Some(PullFromMirror::TagOnly) => !digested,
                    Some(PullFromMirror::All) | None => true,
                })
                .map(|m| (m, true)),
        );
    }
    out.push((&registry.endpoint, false));
    out
}

/// The docker transport's plan for `reference`: sources in order, each with its blocked
/// state. `Err` when nothing can be tried at all.
pub fn plan(
    conf: &RegistriesConf,
    reference: &ImageReference,
    config_path: &str,
    config_dir: &str,
) -> Result<PullPlan, Refusal> {
    let invalid = |message: String| Refusal::Invalid { message };
    let named = docker_ref::from_image_reference(reference).map_err(|e| invalid(e.to_string()))?;
    let default_registry;
    let (registry, prefix) = match find_registry(conf, &named.name()) {
        Some(r) => (r, Some(r.prefix.clone())),
        None => {
            default_registry = Registry {
                prefix: named.full(),
                endpoint: Endpoint {
                    location: named.full(),
                    insecure: false,
                    pull_from_mirror: None,
                },
                mirrors: Vec::new(),
                blocked: false,
                mirror_by_digest_only: false,
            };
            (&default_registry, None)
        }
    };
    let mut sources = Vec::new();
    for (endpoint, mirror) in pull_sources(registry, &named) {
        let rewritten =
            rewrite_reference(&named, &registry.prefix, &endpoint.location).map_err(invalid)?;
        let blocked = find_registry(conf, &rewritten.name())
            .filter(|r| r.blocked)
            .map(|r| Refusal::Blocked {
                prefix: r.prefix.clone(),
                config_path: config_path.to_string(),
                config_dir: config_dir.to_string(),
            });
        sources.push(PullSource {
            reference: rewritten.to_image_reference().map_err(invalid)?,
            insecure: endpoint.insecure,
            mirror,
            blocked,
        });
    }
    if sources.iter().all(|s| s.blocked.is_some()) {
        let mut attempts: Vec<(String, Refusal)> = sources
            .into_iter()
            .filter_map(|s| s.blocked.map(|b| (s.reference.to_string(), b)))
            .collect();
        if attempts.len() == 1 {
            if let Some((_, only)) = attempts.pop() {
                return Err(only);
            }
        }
        return Err(Refusal::AllBlocked {
            attempts: attempts
                .into_iter()
                .map(|(r, b)| (r, b.to_string()))
                .collect(),
        });
    }
    Ok(PullPlan { prefix, sources })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn named(s: &str) -> Named {
        docker_ref::parse_normalized_named(s).unwrap()
    }

    fn conf(main: &str, drop_ins: &[(&str, &str)]) -> RegistriesConf {
        RegistriesConf::from_files(Some(("/etc/containers/registries.conf", main)), drop_ins)
            .unwrap()
    }

    /// TestRefMatchingPrefix and TestRefMatchingSubdomainPrefix.
    #[rstest]
    #[case("docker.io", "docker.io", Some(9))]
    #[case("docker.io", "example.com", None)]
    #[case("example.com:5000", "example.com:5000", Some(16))]
    #[case("example.com:50000", "example.com:5000", None)]
    #[case("example.com:5000", "example.com", Some(11))]
    #[case("example.com/foo/bar:baz", "example.com", Some(11))]
    #[case("docker.io", "docker.io/library", None)]
    #[case("docker.io/libraryy", "docker.io/library", None)]
    #[case("docker.io/library/busybox", "docker.io/library", Some(17))]
    #[case("example.com/foo", "example.com/foo:bar", None)]
    #[case("example.com/foo:bar", "example.com/foo:bar", Some(19))]
    #[case("example.com/foo:bar2", "example.com/foo:bar", None)]
    #[case("example.com/foo", "*", None)]
    #[case("docker.io", "*.io", Some(9))]
    #[case("docker.io/foo", "*.com", None)]
    #[case("example.com/foo", "*.co", None)]
    #[case("example.com/foo", "*.example.com", None)]
    #[case("example.com/foo:bar", "*.com", Some(11))]
    #[case("yet.another.example.com/foo", "**.example.com", None)]
    #[case("yet.another.example.com/foo/bar", "*.another.example.com", Some(23))]
    #[case(
        "another.example.com/namespace.com/foo/bar/bbq:baz",
        "*.example.com",
        Some(19)
    )]
    #[case("example.net/namespace-ends-in.com/foo/bar/bbq:baz", "*.com", None)]
    #[case(
        "another.example.com/namespace.com/foo/bar/bbq:baz",
        "*.namespace.com",
        None
    )]
    #[case(
        "another.sub.example.com/foo/bar/bbq:baz",
        "*.sub.example.com",
        Some(23)
    )]
    fn matches_prefixes_like_c_image(
        #[case] reference: &str,
        #[case] prefix: &str,
        #[case] want: Option<usize>,
    ) {
        assert_eq!(ref_matching_prefix(reference, prefix), want);
    }

    /// testdata/find-registry.conf plus registries.conf.d/subdomain-override-*.conf
    /// (TestFindRegistry).
    const FIND: &str = "[[registry]]\nlocation = \"registry.com:5000\"\nprefix = \"simple-prefix.com\"\n\n[[registry]]\nlocation = \"another-registry.com:5000\"\nprefix = \"complex-prefix.com:4000/with/path\"\n\n[[registry]]\nlocation = \"registry.com:5000\"\nprefix = \"another-registry.com\"\n\n[[registry]]\nlocation = \"no-prefix.com\"\n\n[[registry]]\nlocation = \"empty-prefix.com\"\nprefix = \"\"\n\n[[registry]]\nlocation = \"subdomain-prefix.com\"\nprefix = \"*.so.simple-prefix.com\"\n\n[[registry]]\nlocation = \"subdomain-prefix-2.com\"\nprefix = \"*.simple-prefix.com\"\n\n[[registry]]\nlocation = \"subdomain-prefix-1.com\"\nprefix = \"*.not.quite.simple-prefix.com\"\n\n[[registry]]\nlocation = \"subdomain-prefix-2.com\"\nprefix = \"*.docker.io\"\n\n[[registry]]\nlocation = \"subdomain-prefix-3.com\"\nprefix = \"*.bar.example.com\"\n\n[[registry]]\nlocation = \"subdomain-prefix-4.com\"\nprefix = \"*.bar.docker.io\"\n\n[[registry]]\nlocation = \"subdomain-prefix-5.com\"\nprefix = \"foo.bar.example.com:5000\"\n\n[[registry]]\nprefix=\"*.internal.registry.com\"\n\n[[registry]]\nprefix=\"*.com\"\n\n[[registry]]\nprefix=\"*.foobar.io\"\n";

    fn find_conf() -> RegistriesConf {
        conf(
            FIND,
            &[
                ("d/subdomain-override-1.conf", "[[registry]]\nlocation = \"subdomain-prefix-1-overridden-by-dropin-location.com\"\nprefix = \"*.not.quite.simple-prefix.com\"\n"),
                ("d/subdomain-override-2.conf", "[[registry]]\nlocation = \"subdomain-prefix-2-overridden-by-dropin-location.com\"\nprefix = \"*.docker.com\"\n"),
                ("d/subdomain-override-3.conf", "[[registry]]\nlocation = \"subdomain-prefix-3-overridden-by-dropin-location.com\"\nprefix = \"*.bar.example.com\"\n"),
            ],
        )
    }

    #[rstest]
    #[case("simple-prefix.com/foo/bar:latest", Some("registry.com:5000"))]
    #[case("simple-prefix.com/", Some("registry.com:5000"))]
    #[case("simple-prefix.com", Some("registry.com:5000"))]
    #[case("not.so.simple-prefix.com/", Some("subdomain-prefix.com"))]
    #[case("not.quite.simple-prefix.com/", Some("subdomain-prefix-2.com"))]
    #[case(
        "not.quite.simple-prefix.com:5000/with/path/and/beyond:tag",
        Some("subdomain-prefix-2.com")
    )]
    #[case(
        "really.not.quite.simple-prefix.com:5000/with/path/and/beyond:tag",
        Some("subdomain-prefix-1-overridden-by-dropin-location.com")
    )]
    #[case("foo.docker.io:5000/omg/wtf/bbq:foo", Some("subdomain-prefix-2.com"))]
    #[case("foo.bar.example.com:6000/omg/wtf/bbq@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Some("subdomain-prefix-3-overridden-by-dropin-location.com"))]
    #[case(
        "foo.bar.docker.io:5000/omg/wtf/bbq:foo",
        Some("subdomain-prefix-4.com")
    )]
    #[case(
        "foo.bar.example.com:5000/omg/wtf/bbq:foo",
        Some("subdomain-prefix-5.com")
    )]
    #[case("simple-prefix.comx", None)]
    #[case(
        "complex-prefix.com:4000/with/path/and/beyond:tag",
        Some("another-registry.com:5000")
    )]
    #[case("no-prefix.com/foo:tag", Some("no-prefix.com"))]
    #[case("empty-prefix.com/foo:tag", Some("empty-prefix.com"))]
    fn finds_registries_like_c_image(#[case] reference: &str, #[case] location: Option<&str>) {
        let c = find_conf();
        assert_eq!(c.registries.len(), 16);
        assert_eq!(
            find_registry(&c, reference).map(|r| r.endpoint.location.as_str()),
            location
        );
    }

    /// TestRewriteReferenceSuccess.
    #[rstest]
    #[case("example.com/image", "example.com", "example.com", "example.com/image")]
    #[case(
        "example.com:5000/image:latest",
        "example.com:5000",
        "example.com:5000",
        "example.com:5000/image:latest"
    )]
    #[case(&format!("example.com/foo@{A}"), "example.com", "example.com", &format!("example.com/foo@{A}"))]
    #[case(
        "example.com/foo/image:latest",
        "example.com/foo",
        "example.com/path",
        "example.com/path/image:latest"
    )]
    #[case(
        "docker.io/library/image",
        "docker.io/library",
        "example.com",
        "example.com/image"
    )]
    #[case(
        "docker.io/library/image",
        "docker.io",
        "example.com",
        "example.com/library/image"
    )]
    #[case(
        "docker.io/namespace/image",
        "*.io",
        "example.com",
        "example.com/namespace/image"
    )]
    #[case(
        "another.sub.example.io:5000/library/prefix/image:latest",
        "*.sub.example.io",
        "example.com",
        "example.com:5000/library/prefix/image:latest"
    )]
    #[case(
        "foo.bar.io/ns1/ns2/ns3/ns4",
        "*.bar.io",
        "omg.bbq.com/roflmao",
        "omg.bbq.com/roflmao/ns1/ns2/ns3/ns4"
    )]
    #[case(
        "abc.internal.registry.com/foo:bar",
        "*.internal.registry.com",
        "",
        "abc.internal.registry.com/foo:bar"
    )]
    #[case(
        "alien.vs.predator.foobar.io:5000/omg",
        "*.foobar.io",
        "",
        "alien.vs.predator.foobar.io:5000/omg"
    )]
    fn rewrites_like_c_image(
        #[case] input: &str,
        #[case] prefix: &str,
        #[case] location: &str,
        #[case] want: &str,
    ) {
        let out = rewrite_reference(&docker_ref::parse(input).unwrap(), prefix, location).unwrap();
        assert_eq!(out.full(), want);
    }

    /// TestRewriteReferenceFailedDuringParseNamed.
    #[rstest]
    #[case("example.com/foo/image:latest", "example.com/foo", "example.com/path/")]
    #[case(&format!("example.com/foo@{A}"), "example.com/foo", "example.com")]
    #[case("example.com:5000/image:latest", "example.com", "")]
    #[case("example.com:5000/image:latest", "example.com", "example.com:5000")]
    #[case("example.com/foo/image:latest", "example.com//foo", "example.com/path")]
    #[case("example.com/image:latest", "image", "anotherimage")]
    #[case("example.com/foo/image:latest", "example.com/foo/", "example.com")]
    #[case("example.com/foo/image", "example.com/fo", "example.com/foo")]
    #[case("docker.io/library/image", "example.com", "example.com")]
    #[case("docker.io/library/image", "*.com", "example.com")]
    #[case("foo.docker.io/library/image", "*.example.com", "example.com/image")]
    fn rewrite_failures_like_c_image(
        #[case] input: &str,
        #[case] prefix: &str,
        #[case] location: &str,
    ) {
        assert!(rewrite_reference(&docker_ref::parse(input).unwrap(), prefix, location).is_err());
    }

    /// testdata/pull-sources-mirror-reference.conf (TestPullSourcesMirrorFromReference).
    const MIRRORS: &str = "[[registry]]\nprefix = \"registry-a.com/foo\"\nlocation = \"registry-a.com/bar\"\n[[registry.mirror]]\nlocation = \"mirror-1.registry-a.com\"\n[[registry.mirror]]\nlocation = \"mirror-2.registry-a.com\"\ninsecure = true\n\n[[registry]]\nprefix = \"registry-b.com/foo\"\nlocation = \"registry-b.com/bar\"\n[[registry.mirror]]\npull-from-mirror = \"digest-only\"\nlocation = \"mirror-1.registry-b.com\"\n[[registry.mirror]]\npull-from-mirror = \"digest-only\"\nlocation = \"mirror-2.registry-b.com\"\n\n[[registry]]\nprefix = \"registry-c.com/foo\"\nlocation = \"registry-c.com/bar\"\n[[registry.mirror]]\nlocation = \"mirror-1.registry-c.com\"\n[[registry.mirror]]\npull-from-mirror = \"digest-only\"\nlocation = \"mirror-2.registry-c.com\"\n\n[[registry]]\nprefix = \"registry-d.com/foo\"\nlocation = \"registry-d.com/bar\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"mirror-1.registry-d.com\"\n[[registry.mirror]]\nlocation = \"mirror-2.registry-d.com\"\n\n[[registry]]\nprefix = \"registry-e.com/foo\"\nlocation = \"registry-e.com/bar\"\n[[registry.mirror]]\npull-from-mirror = \"tag-only\"\nlocation = \"mirror-1.registry-e.com\"\n[[registry.mirror]]\npull-from-mirror = \"tag-only\"\nlocation = \"mirror-2.registry-e.com\"\n\n[[registry]]\nprefix = \"registry-g.com/foo\"\nlocation = \"registry-g.com/bar\"\n[[registry.mirror]]\npull-from-mirror = \"digest-only\"\nlocation = \"mirror-1.registry-g.com\"\n[[registry.mirror]]\npull-from-mirror = \"tag-only\"\nlocation = \"mirror-2.registry-g.com\"\n[[registry.mirror]]\nlocation = \"mirror-3.registry-g.com\"\n[[registry.mirror]]\npull-from-mirror = \"all\"\nlocation = \"mirror-4.registry-g.com\"\n";

    #[rstest]
    #[case("registry-a.com", &["mirror-1.registry-a.com", "mirror-2.registry-a.com", "registry-a.com/bar"], &["mirror-1.registry-a.com", "mirror-2.registry-a.com", "registry-a.com/bar"])]
    #[case("registry-b.com", &["mirror-1.registry-b.com", "mirror-2.registry-b.com", "registry-b.com/bar"], &["registry-b.com/bar"])]
    #[case("registry-c.com", &["mirror-1.registry-c.com", "mirror-2.registry-c.com", "registry-c.com/bar"], &["mirror-1.registry-c.com", "registry-c.com/bar"])]
    #[case("registry-d.com", &["mirror-1.registry-d.com", "mirror-2.registry-d.com", "registry-d.com/bar"], &["registry-d.com/bar"])]
    #[case("registry-e.com", &["registry-e.com/bar"], &["mirror-1.registry-e.com", "mirror-2.registry-e.com", "registry-e.com/bar"])]
    #[case("registry-g.com", &["mirror-1.registry-g.com", "mirror-3.registry-g.com", "mirror-4.registry-g.com", "registry-g.com/bar"], &["mirror-2.registry-g.com", "mirror-3.registry-g.com", "mirror-4.registry-g.com", "registry-g.com/bar"])]
    fn mirror_selection_like_c_image(
        #[case] host: &str,
        #[case] digest_sources: &[&str],
        #[case] tag_sources: &[&str],
    ) {
        let c = conf(MIRRORS, &[]);
        for (suffix, want) in [
            (format!("@{A}"), digest_sources),
            (":aaa".into(), tag_sources),
        ] {
            let r = named(&format!("{host}/foo/image{suffix}"));
            let reg = find_registry(&c, &r.name()).unwrap();
            let got: Vec<&str> = pull_sources(reg, &r)
                .iter()
                .map(|(e, _)| e.location.as_str())
                .collect();
            assert_eq!(got, want, "{suffix}");
        }
    }

    fn plan_of(c: &RegistriesConf, reference: &str) -> Result<PullPlan, Refusal> {
        plan(
            c,
            &ImageReference::parse(reference).unwrap(),
            DEFAULT_CONFIG_PATH,
            DEFAULT_DROP_IN_DIR,
        )
    }

    fn summary(p: &PullPlan) -> Vec<(String, bool, bool, bool)> {
        p.sources
            .iter()
            .map(|s| {
                (
                    s.reference.to_string(),
                    s.insecure,
                    s.mirror,
                    s.blocked.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn pull_sources_rewrite_and_flag_insecure() {
        let c = conf(MIRRORS, &[]);
        let p = plan_of(&c, &format!("registry-a.com/foo/image@{A}")).unwrap();
        assert_eq!(p.prefix.as_deref(), Some("registry-a.com/foo"));
        assert_eq!(
            summary(&p),
            [
                (
                    format!("mirror-1.registry-a.com/image@{A}"),
                    false,
                    true,
                    false
                ),
                (
                    format!("mirror-2.registry-a.com/image@{A}"),
                    true,
                    true,
                    false
                ),
                (format!("registry-a.com/bar/image@{A}"), false, false, false),
            ]
        );
    }

    #[test]
    fn no_entry_means_the_reference_itself() {
        let c = conf("", &[]);
        let p = plan_of(&c, "docker.io/busybox:1").unwrap();
        assert_eq!(p.prefix, None);
        assert_eq!(
            summary(&p),
            [("docker.io/library/busybox:1".into(), false, false, false)]
        );
    }

    /// What the Machine Config Operator writes for seed 004's image configuration.
    const OPENSHIFT: &str = "unqualified-search-registries = [\"registry.access.redhat.com\", \"docker.io\"]\n\n[[registry]]\nprefix = \"\"\nlocation = \"untrusted.com\"\nblocked = true\n\n[[registry]]\nprefix = \"\"\nlocation = \"insecure.com\"\ninsecure = true\n\n[[registry]]\nprefix = \"\"\nlocation = \"reg4.io/myrepo/myapp\"\ninsecure = true\n\n[[registry]]\nprefix = \"\"\nlocation = \"quay.io/openshift-payload\"\nmirror-by-digest-only = true\n\n[[registry.mirror]]\nlocation = \"internal-mirror.io/openshift-payload\"\n";

    #[test]
    fn seed_004_blocked_registry_is_refused_with_c_image_text() {
        let c = conf(OPENSHIFT, &[]);
        let e = plan_of(&c, "untrusted.com/team/app:1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "registry untrusted.com is blocked in /etc/containers/registries.conf or /etc/containers/registries.conf.d"
        );
        assert!(matches!(e, Refusal::Blocked { ref prefix, .. } if prefix == "untrusted.com"));
        // A longer host that only starts with the prefix is not covered.
        assert!(plan_of(&c, "untrusted.company/app:1").is_ok());
    }

    #[rstest]
    #[case("insecure.com/app:1", true, Some("insecure.com"))]
    #[case("reg4.io/myrepo/myapp:latest", true, Some("reg4.io/myrepo/myapp"))]
    #[case("reg4.io/myrepo/other:latest", false, None)]
    #[case("reg4.io/myrepo/myapp/sub:1", true, Some("reg4.io/myrepo/myapp"))]
    fn seed_004_insecure_and_repository_scoped(
        #[case] reference: &str,
        #[case] insecure: bool,
        #[case] prefix: Option<&str>,
    ) {
        let c = conf(OPENSHIFT, &[]);
        let p = plan_of(&c, reference).unwrap();
        assert_eq!(p.prefix.as_deref(), prefix);
        assert_eq!(
            summary(&p),
            [(reference.to_string(), insecure, false, false)]
        );
    }

    #[test]
    fn seed_004_icsp_mirror_is_for_digests_only() {
        let c = conf(OPENSHIFT, &[]);
        let tag = plan_of(&c, "quay.io/openshift-payload/release:4.14").unwrap();
        assert_eq!(
            summary(&tag),
            [(
                "quay.io/openshift-payload/release:4.14".into(),
                false,
                false,
                false
            )]
        );
        let digest = plan_of(&c, &format!("quay.io/openshift-payload/release@{A}")).unwrap();
        assert_eq!(digest.prefix.as_deref(), Some("quay.io/openshift-payload"));
        assert_eq!(
            summary(&digest),
            [
                (
                    format!("internal-mirror.io/openshift-payload/release@{A}"),
                    false,
                    true,
                    false
                ),
                (
                    format!("quay.io/openshift-payload/release@{A}"),
                    false,
                    false,
                    false
                ),
            ]
        );
    }

    /// Seed 004 "block the payload registry": `blocked = true` on the ICSP entry. The
    /// mirror is still used for digests; tags (no mirror) are refused.
    #[test]
    fn blocked_source_with_mirror_keeps_the_mirror() {
        let blocked = OPENSHIFT.replace(
            "location = \"quay.io/openshift-payload\"\n",
            "location = \"quay.io/openshift-payload\"\nblocked = true\n",
        );
        let c = conf(&blocked, &[]);
        let digest = plan_of(&c, &format!("quay.io/openshift-payload/release@{A}")).unwrap();
        assert_eq!(
            summary(&digest),
            [
                (
                    format!("internal-mirror.io/openshift-payload/release@{A}"),
                    false,
                    true,
                    false
                ),
                (
                    format!("quay.io/openshift-payload/release@{A}"),
                    false,
                    false,
                    true
                ),
            ]
        );
        let tag = plan_of(&c, "quay.io/openshift-payload/release:4.14").unwrap_err();
        assert_eq!(tag.to_string(), "registry quay.io/openshift-payload is blocked in /etc/containers/registries.conf or /etc/containers/registries.conf.d");
        // skopeo's combined error when the mirror fails too (checked against skopeo 1.9.3).
        let mirror_error = "pinging container registry internal-mirror.io: connection refused";
        let attempts: Vec<(String, String)> = digest
            .sources
            .iter()
            .map(|s| {
                let e = s.blocked.as_ref().map(ToString::to_string);
                (
                    s.reference.to_string(),
                    e.unwrap_or_else(|| mirror_error.to_string()),
                )
            })
            .collect();
        assert_eq!(
            combine_errors(&attempts),
            format!("(Mirrors also failed: [internal-mirror.io/openshift-payload/release@{A}: {mirror_error}]): quay.io/openshift-payload/release@{A}: registry quay.io/openshift-payload is blocked in /etc/containers/registries.conf or /etc/containers/registries.conf.d")
        );
    }

    #[test]
    fn mirror_under_a_blocked_entry_is_blocked_too() {
        let c = conf("[[registry]]\nlocation = \"src.io/ns\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"bad.io/ns\"\n\n[[registry]]\nlocation = \"bad.io\"\nblocked = true\n", &[]);
        let p = plan_of(&c, &format!("src.io/ns/app@{A}")).unwrap();
        assert_eq!(
            summary(&p),
            [
                (format!("bad.io/ns/app@{A}"), false, true, true),
                (format!("src.io/ns/app@{A}"), false, false, false),
            ]
        );
        let all = conf("[[registry]]\nlocation = \"src.io/ns\"\nblocked = true\n[[registry.mirror]]\nlocation = \"bad.io/ns\"\n\n[[registry]]\nlocation = \"bad.io\"\nblocked = true\n", &[]);
        let e = plan_of(&all, &format!("src.io/ns/app@{A}")).unwrap_err();
        assert!(matches!(e, Refusal::AllBlocked { ref attempts } if attempts.len() == 2));
        assert!(e.to_string().starts_with(&format!(
            "(Mirrors also failed: [bad.io/ns/app@{A}: registry bad.io is blocked in"
        )));
    }

    /// Both checked against skopeo 1.9.3: a wildcard entry blocks every subdomain, and a
    /// host entry also covers that host with any port.
    #[rstest]
    #[case(
        "[[registry]]\nprefix = \"*.example.com\"\nblocked = true\n",
        "a.example.com/x:1",
        "*.example.com"
    )]
    #[case(
        "[[registry]]\nlocation = \"example.com\"\nblocked = true\n",
        "example.com:5000/x:1",
        "example.com"
    )]
    fn wildcard_and_port_quirk_blocks(
        #[case] text: &str,
        #[case] reference: &str,
        #[case] prefix: &str,
    ) {
        let e = plan_of(&conf(text, &[]), reference).unwrap_err();
        assert_eq!(e.to_string(), format!("registry {prefix} is blocked in /etc/containers/registries.conf or /etc/containers/registries.conf.d"));
    }

    #[test]
    fn prefix_with_a_tag_never_matches_a_pull() {
        let c = conf("[[registry]]\nprefix = \"reg1.io/myrepo/myapp:latest\"\nlocation = \"reg1.io/myrepo/myapp:latest\"\nblocked = true\n", &[]);
        let p = plan_of(&c, "reg1.io/myrepo/myapp:latest").unwrap();
        assert_eq!(p.prefix, None);
    }

    #[test]
    fn rewrite_to_a_non_canonical_name_is_an_error() {
        let c = conf(
            "[[registry]]\nprefix = \"example.com\"\nlocation = \"docker.io\"\n",
            &[],
        );
        let e = plan_of(&c, "example.com/busybox:1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "rewriting reference: repository name must be canonical"
        );
    }
}
