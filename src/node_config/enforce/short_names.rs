//! Short-name resolution as containers/image v5.23 `pkg/shortnames.Resolve` does it when
//! neither stdin nor stdout is a terminal (CRI-O, scripts, CI): a fully qualified name is
//! used as is (with `:latest` added); a short name (`ubi8/ubi-minimal`, `rhel8/pcp:latest`)
//! uses its alias if one is configured, else one candidate per
//! `unqualified-search-registries` entry, in order. With several candidates, `enforcing`
//! fails (it would have to prompt) and `permissive` / `disabled` try them all.
//!
//! Not modelled: the machine-written alias file (`/var/cache/containers/short-name-aliases.conf`
//! for root), which c/image consults before the registries.conf aliases, and the prompt
//! itself. skopeo never resolves short names (`docker://busybox` is always Docker Hub);
//! podman and CRI-O do.

use crate::client::reference::ImageReference;

use super::docker_ref::{self, Named};
use super::registries_conf::RegistriesConf;

/// `short-name-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShortNameMode {
    /// Use every candidate, never prompt.
    Disabled,
    /// Prompt on a terminal, else use every candidate (c/image's default).
    #[default]
    Permissive,
    /// Prompt on a terminal, else fail when there is more than one candidate.
    Enforcing,
}

impl ShortNameMode {
    /// `parseShortNameMode`.
    pub fn parse(mode: &str) -> Result<Self, String> {
        match mode {
            "disabled" => Ok(Self::Disabled),
            "permissive" => Ok(Self::Permissive),
            "enforcing" => Ok(Self::Enforcing),
            _ => Err(format!("invalid short-name mode: {mode:?}")),
        }
    }
}

/// Where short-name candidates came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateSource {
    /// A `[aliases]` entry of the file `origin`.
    Alias {
        /// The file that set the alias.
        origin: String,
    },
    /// `unqualified-search-registries` of the file `origin`.
    SearchRegistries {
        /// The file that set the list.
        origin: String,
    },
}

/// What a name resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameResolution {
    /// The name was fully qualified.
    Qualified(ImageReference),
    /// Candidates in the order the client tries them, and where they came from.
    Candidates {
        /// The short name without tag or digest, as the user typed it (`ubi8/ubi-minimal`).
        short_name: String,
        /// Fully qualified candidates (tag or digest carried over, `latest` otherwise).
        candidates: Vec<ImageReference>,
        /// Alias or search registries.
        source: CandidateSource,
    },
}

impl NameResolution {
    /// The candidates to try, in order (one for a qualified name).
    pub fn candidates(&self) -> Vec<ImageReference> {
        match self {
            Self::Qualified(r) => vec![r.clone()],
            Self::Candidates { candidates, .. } => candidates.clone(),
        }
    }

    /// `Resolved.Description()`: the line podman prints before pulling ("" = none).
    pub fn description(&self) -> String {
        match self {
            Self::Qualified(_) => String::new(),
            Self::Candidates {
                short_name,
                source: CandidateSource::Alias { origin },
                ..
            } => format!("Resolved {short_name:?} as an alias ({origin})"),
            Self::Candidates {
                short_name,
                source: CandidateSource::SearchRegistries { origin },
                ..
            } => format!("Resolving {short_name:?} using unqualified-search registries ({origin})"),
        }
    }
}

/// Why a name could not be resolved; `Display` is c/image's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// `enforcing`, several candidates, and no terminal to prompt on.
    #[error("short-name resolution enforced but cannot prompt without a TTY")]
    Ambiguous {
        /// The short name (without tag or digest).
        short_name: String,
        /// The candidates a prompt would have offered.
        candidates: Vec<ImageReference>,
    },
    /// No alias and no search registries.
    #[error("{}", no_search_registries(name, origin))]
    NoSearchRegistries {
        /// The name as given.
        name: String,
        /// The file that (did not) set the list; `None` when there was no registries.conf.
        origin: Option<String>,
    },
    /// Not an image name (or one the harness cannot carry: tag and digest together,
    /// digests other than sha256).
    #[error("{message}")]
    Invalid {
        /// The name as given.
        name: String,
        /// c/image's message.
        message: String,
    },
}

fn no_search_registries(name: &str, origin: &Option<String>) -> String {
    match origin {
        Some(origin) => format!("short-name {name:?} did not resolve to an alias and no unqualified-search registries are defined in {origin:?}"),
        None => format!("short-name {name:?} did not resolve to an alias and no containers-registries.conf(5) was found"),
    }
}

/// `shortnames.Resolve` without a terminal.
pub fn resolve(conf: &RegistriesConf, name: &str) -> Result<NameResolution, ResolveError> {
    let invalid = |message: String| ResolveError::Invalid {
        name: name.to_string(),
        message,
    };
    let to_ref = |n: Named| n.tag_name_only().to_image_reference().map_err(invalid);
    let parsed = docker_ref::parse(name)
        .map_err(|e| invalid(format!("cannot parse input: {name:?}: {e}")))?;
    if docker_ref::looks_like_host(&parsed.domain) {
        let named = docker_ref::parse_normalized_named(name)
            .map_err(|e| invalid(format!("cannot normalize input: {name:?}: {e}")))?;
        return Ok(NameResolution::Qualified(to_ref(named)?));
    }
    let short_name = parsed.trimmed().full();
    if let Some(alias) = conf.aliases.get(&short_name) {
        if let Some(value) = &alias.value {
            let named = Named {
                tag: parsed.tag.clone(),
                digest: parsed.digest.clone(),
                ..value.clone()
            };
            return Ok(NameResolution::Candidates {
                short_name,
                candidates: vec![to_ref(named)?],
                source: CandidateSource::Alias {
                    origin: alias.origin.clone(),
                },
            });
        }
    }
    let origin = conf.search_registries_origin.clone();
    if conf.unqualified_search_registries.is_empty() {
        return Err(ResolveError::NoSearchRegistries {
            name: name.to_string(),
            origin: (!origin.is_empty()).then_some(origin),
        });
    }
    let candidates = conf
        .unqualified_search_registries
        .iter()
        .map(|registry| {
            let named =
                docker_ref::parse_normalized_named(&format!("{registry}/{name}")).map_err(|e| {
                    invalid(format!(
                        "creating reference with unqualified-search registry {registry:?}: {e}"
                    ))
                })?;
            to_ref(named)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if conf.short_name_mode == ShortNameMode::Enforcing && candidates.len() > 1 {
        return Err(ResolveError::Ambiguous {
            short_name,
            candidates,
        });
    }
    Ok(NameResolution::Candidates {
        short_name,
        candidates,
        source: CandidateSource::SearchRegistries { origin },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const D: &str = "@sha256:d366a4665ab44f0648d7a00ae3fae139d55e32f9712c67accd604bb55df9d05a";

    fn conf(main: &str, mode: Option<&str>) -> RegistriesConf {
        let mut c =
            RegistriesConf::from_files(Some(("/etc/containers/registries.conf", main)), &[])
                .unwrap();
        if let Some(m) = mode {
            c.short_name_mode = ShortNameMode::parse(m).unwrap();
        }
        c
    }

    fn strings(r: &NameResolution) -> Vec<String> {
        r.candidates().iter().map(ToString::to_string).collect()
    }

    /// pkg/shortnames/testdata/aliases.conf (TestResolve).
    const ALIASES: &str = "short-name-mode=\"enforcing\"\n\n[aliases]\ndocker=\"docker.io/library/foo\"\n\"quay/foo\"=\"quay.io/library/foo\"\nexample=\"example.com/library/foo\"\nempty=\"\"\n";

    #[rstest]
    #[case("docker", "docker.io/library/foo:latest")]
    #[case("docker:tag", "docker.io/library/foo:tag")]
    #[case(&format!("docker{D}"), &format!("docker.io/library/foo{D}"))]
    #[case("quay/foo", "quay.io/library/foo:latest")]
    #[case("quay/foo:tag", "quay.io/library/foo:tag")]
    #[case("example", "example.com/library/foo:latest")]
    #[case(&format!("example{D}"), &format!("example.com/library/foo{D}"))]
    #[case("registry.com/repo/image", "registry.com/repo/image:latest")]
    #[case("registry.com/repo/image:tag", "registry.com/repo/image:tag")]
    #[case(&format!("registry.com/repo/image{D}"), &format!("registry.com/repo/image{D}"))]
    #[case("localhost/repo/fedora:sometag", "localhost/repo/fedora:sometag")]
    #[case("docker.io/fedora", "docker.io/library/fedora:latest")]
    fn resolves_like_shortnames_resolve(#[case] input: &str, #[case] want: &str) {
        let r = resolve(&conf(ALIASES, None), input).unwrap();
        assert_eq!(strings(&r), [want]);
    }

    #[test]
    fn alias_resolution_names_its_origin() {
        let r = resolve(&conf(ALIASES, None), "quay/foo:tag").unwrap();
        assert_eq!(
            r.description(),
            "Resolved \"quay/foo\" as an alias (/etc/containers/registries.conf)"
        );
    }

    #[rstest]
    #[case("doesnotexist", "short-name \"doesnotexist\" did not resolve to an alias and no unqualified-search registries are defined in \"/etc/containers/registries.conf\"")]
    #[case("empty", "short-name \"empty\" did not resolve to an alias and no unqualified-search registries are defined in \"/etc/containers/registries.conf\"")]
    #[case(
        "",
        "cannot parse input: \"\": repository name must have at least one component"
    )]
    #[case(
        "Invalid#$",
        "cannot parse input: \"Invalid#$\": invalid reference format"
    )]
    #[case(&format!("docker:1{D}"), "Docker references with both a tag and digest are currently not supported")]
    fn fails_like_shortnames_resolve(#[case] input: &str, #[case] message: &str) {
        let e = resolve(&conf(ALIASES, None), input).unwrap_err();
        assert_eq!(e.to_string(), message);
    }

    #[test]
    fn without_any_registries_conf_the_error_says_so() {
        let c = RegistriesConf::from_files(None, &[]).unwrap();
        assert_eq!(
            resolve(&c, "busybox").unwrap_err().to_string(),
            "short-name \"busybox\" did not resolve to an alias and no containers-registries.conf(5) was found"
        );
    }

    const NO_REG: &str = "[aliases]\n\"repo/image\"=\"quay.io/repo/image\"\n";
    const ONE_REG: &str =
        "unqualified-search-registries=[\"quay.io\"]\n\n[aliases]\n\"repo/image\"=\"quay.io/repo/image\"\n";
    const TWO_REG: &str = "unqualified-search-registries=[\"quay.io\", \"registry.com\"]\n\n[aliases]\n\"repo/image\"=\"quay.io/repo/image\"\n";

    /// TestResolveWithVaryingShortNameModes (no TTY).
    #[rstest]
    #[case(NO_REG, "permissive", "repo/image", Some(1))]
    #[case(TWO_REG, "permissive", "repo/image", Some(1))]
    #[case(NO_REG, "permissive", "doesnotexist", None)]
    #[case(ONE_REG, "permissive", "doesnotexist", Some(1))]
    #[case(TWO_REG, "permissive", "doesnotexist", Some(2))]
    #[case(NO_REG, "disabled", "repo/image", Some(1))]
    #[case(NO_REG, "disabled", "doesnotexist", None)]
    #[case(ONE_REG, "disabled", "doesnotexist", Some(1))]
    #[case(TWO_REG, "disabled", "doesnotexist", Some(2))]
    #[case(TWO_REG, "enforcing", "repo/image", Some(1))]
    #[case(NO_REG, "enforcing", "doesnotexist", None)]
    #[case(ONE_REG, "enforcing", "doesnotexist", Some(1))]
    #[case(TWO_REG, "enforcing", "doesnotexist", None)]
    fn modes_without_a_tty(
        #[case] main: &str,
        #[case] mode: &str,
        #[case] name: &str,
        #[case] count: Option<usize>,
    ) {
        let r = resolve(&conf(main, Some(mode)), name);
        assert_eq!(
            r.as_ref().ok().map(|r| r.candidates().len()),
            count,
            "{r:?}"
        );
    }

    /// TestResolveAndRecord's candidate lists.
    #[rstest]
    #[case("foo", &["quay.io/foo:latest", "registry.com/foo:latest"])]
    #[case("foo:tag", &["quay.io/foo:tag", "registry.com/foo:tag"])]
    #[case(&format!("foo{D}"), &["quay.io/foo@sha256:d366a4665ab44f0648d7a00ae3fae139d55e32f9712c67accd604bb55df9d05a", "registry.com/foo@sha256:d366a4665ab44f0648d7a00ae3fae139d55e32f9712c67accd604bb55df9d05a"])]
    #[case("repo/foo", &["quay.io/repo/foo:latest", "registry.com/repo/foo:latest"])]
    #[case("repo/image:tag", &["quay.io/repo/image:tag"])]
    fn search_registries_in_order(#[case] name: &str, #[case] want: &[&str]) {
        let r = resolve(&conf(TWO_REG, None), name).unwrap();
        assert_eq!(strings(&r), want);
    }

    #[test]
    fn docker_io_search_registry_adds_library() {
        let c = conf(
            "unqualified-search-registries = [\"registry.access.redhat.com\", \"docker.io\"]\n",
            None,
        );
        let r = resolve(&c, "busybox").unwrap();
        assert_eq!(
            strings(&r),
            [
                "registry.access.redhat.com/busybox:latest",
                "docker.io/library/busybox:latest"
            ]
        );
        assert_eq!(
            r.description(),
            "Resolving \"busybox\" using unqualified-search registries (/etc/containers/registries.conf)"
        );
    }

    /// Seed 004: `containerRuntimeSearchRegistries: [reg1.io, reg2.io, reg3.io]` lands in a
    /// drop-in that replaces the default list.
    #[rstest]
    #[case(Some("enforcing"), None)]
    #[case(Some("permissive"), Some(3))]
    #[case(None, Some(3))]
    fn openshift_search_registries(#[case] mode: Option<&str>, #[case] count: Option<usize>) {
        let mode_line = mode
            .map(|m| format!("short-name-mode = \"{m}\"\n"))
            .unwrap_or_default();
        let main = format!("{mode_line}unqualified-search-registries = [\"registry.access.redhat.com\", \"docker.io\"]\n");
        let c = RegistriesConf::from_files(
            Some(("/etc/containers/registries.conf", &main)),
            &[(
                "/etc/containers/registries.conf.d/01-image-searchRegistries.conf",
                "unqualified-search-registries = ['reg1.io', 'reg2.io', 'reg3.io']\n",
            )],
        )
        .unwrap();
        match resolve(&c, "rhel8/pcp:latest") {
            Ok(r) => {
                assert_eq!(Some(r.candidates().len()), count);
                assert_eq!(strings(&r)[0], "reg1.io/rhel8/pcp:latest");
                assert!(
                    matches!(r, NameResolution::Candidates { source: CandidateSource::SearchRegistries { ref origin }, .. } if origin.ends_with("01-image-searchRegistries.conf"))
                );
            }
            Err(e) => {
                assert_eq!(count, None);
                assert_eq!(
                    e.to_string(),
                    "short-name resolution enforced but cannot prompt without a TTY"
                );
                let ResolveError::Ambiguous {
                    short_name,
                    candidates,
                } = e
                else {
                    panic!("{e:?}")
                };
                assert_eq!(short_name, "rhel8/pcp");
                assert_eq!(candidates.len(), 3);
            }
        }
    }
}
