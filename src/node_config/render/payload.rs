//! Which blocked and allowed scopes reach registries.conf and policy.json, given the
//! cluster's release image (`getValidBlockedAndAllowedRegistries` and
//! `payloadRepoHasUnblockedMirror` in MCO's container-runtime-config helpers).
//!
//! MCO never lets `blockedRegistries` cut a node off its release payload: a blocked scope
//! that contains the payload repository is
//! - dropped (from both files, with an error MCO only logs) when no unblocked mirror serves
//!   the payload, or
//! - kept in registries.conf when one does, kept in policy.json only if it is broader than
//!   the payload repository, and the payload repository itself is added to the allowed
//!   scopes so its mirrors can be used.
//!
//! Mirrors are found as c/image does for a pull of the release image: the longest matching
//! `[[registry]]` prefix of a configuration built from the insecure and blocked scopes and
//! the ICSPs, whose digest-only mirrors count only for a release image pulled by digest.

use super::mirrors::MirrorSet;
use super::registries_conf::{RegistriesConf, DIGEST_ONLY};
use super::scope::{is_nested, matching_prefix_len};
use super::RenderError;
use crate::client::reference::ImageReference;

/// The scopes MCO writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    /// Blocked in registries.conf.
    pub registries_blocked: Vec<String>,
    /// Rejected in policy.json.
    pub policy_blocked: Vec<String>,
    /// Accepted in policy.json (the payload repository first, when added).
    pub allowed: Vec<String>,
    /// What MCO only logs: blocked scopes dropped because they would block the payload.
    pub notes: Vec<String>,
    /// The release payload repository (`host/path`), when the release image is known.
    pub payload_repo: Option<String>,
}

impl Scopes {
    /// Whether policy.json may have both lists: MCO accepts that only when the allowed
    /// list is exactly the payload repository.
    pub fn allowed_and_blocked_conflict(&self) -> bool {
        if self.allowed.is_empty() || self.policy_blocked.is_empty() {
            return false;
        }
        let only_payload =
            self.allowed.len() == 1 && self.payload_repo.as_ref() == Some(&self.allowed[0]);
        !only_payload
    }
}

/// The scopes for `blocked` and `allowed` given `release_image` (`None`: not known, so
/// every blocked scope is kept, as MCO does for one not containing the payload).
pub fn scopes(
    release_image: Option<&str>,
    blocked: &[String],
    allowed: &[String],
    insecure: &[String],
    mirror_sets: &[MirrorSet],
) -> Result<Scopes, RenderError> {
    let mut out = Scopes::default();
    let Some(release_image) = release_image else {
        out.registries_blocked = blocked.to_vec();
        out.policy_blocked = blocked.to_vec();
        out.allowed = allowed.to_vec();
        return Ok(out);
    };
    let release = payload_reference(release_image)?;
    let payload_repo = format!("{}/{}", release.registry, release.repository);
    out.payload_repo = Some(payload_repo.clone());
    let mut refused = Vec::new();
    for scope in blocked {
        if !is_nested(&payload_repo, scope) {
            out.registries_blocked.push(scope.clone());
            out.policy_blocked.push(scope.clone());
            continue;
        }
        match has_unblocked_mirror(&release, blocked, insecure, mirror_sets) {
            Ok(true) => {
                out.registries_blocked.push(scope.clone());
                if *scope != payload_repo {
                    out.policy_blocked.push(scope.clone());
                }
                out.allowed.push(payload_repo.clone());
            }
            Ok(false) => refused.push(scope.clone()),
            Err(e) => {
                // MCO logs the error and goes on with no blocked or allowed scope at all.
                out = Scopes::default();
                out.notes.push(format!("{e}, skipping...."));
                return Ok(out);
            }
        }
    }
    if !refused.is_empty() {
        let quoted: Vec<String> = refused.iter().map(|s| format!("{s:?}")).collect();
        out.notes.push(format!(
            "error adding [{}] to blocked registries, cannot block the repository being used by the payload, skipping....",
            quoted.join(" ")
        ));
    }
    out.allowed.extend(allowed.iter().cloned());
    Ok(out)
}

/// The release image as `reference.ParseNamed` needs it: fully qualified.
fn payload_reference(release_image: &str) -> Result<ImageReference, RenderError> {
    ImageReference::parse(release_image).map_err(|_| RenderError::ReleaseImage {
        image: release_image.to_string(),
    })
}

/// Whether pulling the release image can use a source no blocked scope covers.
fn has_unblocked_mirror(
    release: &ImageReference,
    blocked: &[String],
    insecure: &[String],
    mirror_sets: &[MirrorSet],
) -> Result<bool, RenderError> {
    let mut conf = RegistriesConf::default();
    conf.edit(insecure, blocked, mirror_sets)?;
    let name = format!("{}/{}", release.registry, release.repository);
    let reference = release.to_string();
    // The longest matching prefix wins; an unset prefix is the location (trailing `/` trimmed).
    let registry = conf
        .registries
        .iter()
        .map(|r| {
            let location = r.endpoint.location.trim_end_matches('/').to_string();
            let prefix = if r.prefix.is_empty() {
                location.clone()
            } else {
                r.prefix.trim_end_matches('/').to_string()
            };
            (r, prefix, location)
        })
        .filter(|(_, prefix, _)| matching_prefix_len(&name, prefix).is_some())
        .max_by_key(|(_, prefix, _)| prefix.len());
    let Some((registry, prefix, location)) = registry else {
        return Ok(false);
    };
    let mut locations: Vec<String> = Vec::new();
    let digested = release.is_digest();
    if registry.mirror_by_digest_only {
        if digested {
            locations.extend(registry.mirrors.iter().map(|m| m.location.clone()));
        }
    } else {
        for mirror in &registry.mirrors {
            let usable = match mirror.pull_from_mirror.as_str() {
                DIGEST_ONLY => digested,
                "tag-only" => !digested,
                _ => true,
            };
            if usable {
                locations.push(mirror.location.clone());
            }
        }
    }
    locations.push(location);
    let Some(prefix_len) = matching_prefix_len(&reference, &prefix) else {
        return Ok(false);
    };
    for location in locations {
        // An empty location (a `*.` prefix) pulls the reference as it is.
        let rewritten = if location.is_empty() {
            reference.clone()
        } else {
            format!("{location}{}", &reference[prefix_len..])
        };
        let source = ImageReference::parse(&rewritten).map_err(|_| RenderError::ReleaseImage {
            image: rewritten.clone(),
        })?;
        let source_name = format!("{}/{}", source.registry, source.repository);
        if !blocked.iter().any(|b| is_nested(&source_name, b)) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_config::render::mirrors::merge;

    const DIGEST: &str = "@sha256:4207ba569ff014931f1b5d125fe3751936a768e119546683c899eb09f3cdceb0";

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn run(release: &str, blocked: &[&str], mirrors: &[(&str, &[&str])]) -> Scopes {
        let owned: Vec<(String, Vec<String>)> = mirrors
            .iter()
            .map(|(s, m)| (s.to_string(), strings(m)))
            .collect();
        let sets = merge(owned.iter().map(|(s, m)| (s.as_str(), m.as_slice()))).unwrap();
        scopes(
            Some(&format!("{release}{DIGEST}")),
            &strings(blocked),
            &[],
            &[],
            &sets,
        )
        .unwrap()
    }

    fn check(got: Scopes, registries: &[&str], policy: &[&str], allowed: &[&str], refused: bool) {
        assert_eq!(got.registries_blocked, strings(registries));
        assert_eq!(got.policy_blocked, strings(policy));
        assert_eq!(got.allowed, strings(allowed));
        assert_eq!(!got.notes.is_empty(), refused, "{:?}", got.notes);
    }

    /// MCO `TestGetValidBlockAndAllowedRegistries`, every case.
    #[test]
    fn regular_blocked_list_with_no_mirror_rules() {
        let got = run(
            "payload-reg.io/release-image",
            &["block.io", "block-2.io"],
            &[],
        );
        check(
            got,
            &["block.io", "block-2.io"],
            &["block.io", "block-2.io"],
            &[],
            false,
        );
    }

    #[test]
    fn regular_blocked_list_with_unrelated_mirror_rules() {
        let got = run(
            "payload-reg.io/release-image",
            &["block.io", "block-2.io"],
            &[(
                "src.io/payload",
                &["mirror-1.io/payload", "mirror-2.io/payload"],
            )],
        );
        check(
            got,
            &["block.io", "block-2.io"],
            &["block.io", "block-2.io"],
            &[],
            false,
        );
    }

    #[test]
    fn payload_registry_without_mirror_is_dropped_from_the_blocked_list() {
        let got = run(
            "payload-reg.io/release-image",
            &["block.io", "payload-reg.io", "block-2.io"],
            &[(
                "src.io/payload",
                &["mirror-1.io/payload", "mirror-2.io/payload"],
            )],
        );
        assert_eq!(
            got.notes,
            vec![
                r#"error adding ["payload-reg.io"] to blocked registries, cannot block the repository being used by the payload, skipping...."#
            ]
        );
        check(
            got,
            &["block.io", "block-2.io"],
            &["block.io", "block-2.io"],
            &[],
            true,
        );
    }

    #[test]
    fn payload_registry_with_a_mirror_stays_blocked_and_the_payload_is_allowed() {
        let got = run(
            "payload-reg.io/release-image",
            &["block.io", "payload-reg.io", "block-2.io"],
            &[(
                "payload-reg.io/release-image",
                &["mirror-1.io/payload", "mirror-2.io/payload"],
            )],
        );
        check(
            got,
            &["block.io", "payload-reg.io", "block-2.io"],
            &["block.io", "payload-reg.io", "block-2.io"],
            &["payload-reg.io/release-image"],
            false,
        );
    }

    #[test]
    fn payload_blocked_and_its_only_mirror_blocked_too() {
        let got = run(
            "quay.io/openshift-release-dev",
            &["quay.io", "block.io/openshift-release-dev"],
            &[("quay.io", &["block.io"])],
        );
        check(
            got,
            &["block.io/openshift-release-dev"],
            &["block.io/openshift-release-dev"],
            &[],
            true,
        );
    }

    #[test]
    fn payload_blocked_and_the_parent_of_its_mirror_blocked() {
        let got = run(
            "quay.io/openshift-release-dev",
            &["quay.io", "block.io"],
            &[(
                "quay.io/openshift-release-dev",
                &["block.io/openshift-release-dev"],
            )],
        );
        check(got, &["block.io"], &["block.io"], &[], true);
    }

    #[test]
    fn the_exact_payload_repository_is_not_rejected_in_policy_json() {
        let got = run(
            "quay.io/openshift-release-dev/ocp-release",
            &["quay.io/openshift-release-dev/ocp-release"],
            &[(
                "quay.io/openshift-release-dev/ocp-release",
                &["mirror.example.com/ocp/release"],
            )],
        );
        check(
            got,
            &["quay.io/openshift-release-dev/ocp-release"],
            &[],
            &["quay.io/openshift-release-dev/ocp-release"],
            false,
        );
    }

    #[test]
    fn a_tag_release_image_cannot_use_digest_only_mirrors() {
        let owned = [(
            "payload-reg.io/release-image".to_string(),
            strings(&["mirror-1.io/payload"]),
        )];
        let sets = merge(owned.iter().map(|(s, m)| (s.as_str(), m.as_slice()))).unwrap();
        let got = scopes(
            Some("payload-reg.io/release-image:4.18"),
            &strings(&["payload-reg.io"]),
            &[],
            &[],
            &sets,
        )
        .unwrap();
        check(got, &[], &[], &[], true);
    }

    /// `updatePolicyJSON` accepts both lists only when the allowed one is exactly the payload
    /// repository (MCO `TestUpdatePolicyJSON` "blocked list and allowed list is set but
    /// allowed list doesn't contain the payload repo" is the refused case).
    #[test]
    fn both_lists_only_with_the_payload_repository_allowed() {
        let release = format!("release-reg.io/image/release{DIGEST}");
        let with = |allowed: &[&str]| {
            scopes(
                Some(&release),
                &strings(&["block.com"]),
                &strings(allowed),
                &[],
                &[],
            )
            .unwrap()
        };
        assert!(!with(&["release-reg.io/image/release"]).allowed_and_blocked_conflict());
        assert!(with(&["allow.io"]).allowed_and_blocked_conflict());
        assert!(with(&["release-reg.io/image/release", "allow.io"]).allowed_and_blocked_conflict());
        assert!(!with(&[]).allowed_and_blocked_conflict());
        let unknown = scopes(
            None,
            &strings(&["block.com"]),
            &strings(&["release-reg.io/image/release"]),
            &[],
            &[],
        )
        .unwrap();
        assert!(unknown.allowed_and_blocked_conflict());
    }

    #[test]
    fn without_a_release_image_every_scope_is_kept() {
        let got = scopes(None, &strings(&["quay.io"]), &strings(&["a.io"]), &[], &[]).unwrap();
        check(got, &["quay.io"], &["quay.io"], &["a.io"], false);
    }

    #[test]
    fn a_short_release_image_is_refused() {
        let err = scopes(Some("ocp-release"), &[], &[], &[], &[]).unwrap_err();
        assert!(err
            .to_string()
            .contains("error parsing reference of release image"));
    }
}
