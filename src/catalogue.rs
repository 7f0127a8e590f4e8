//! The built-in catalogue: the Red Hat registries and the images they serve.
//!
//! Used when a scenario names a known registry without listing its images, or lists
//! no registries at all.

use crate::scenario::model::{AuthModeSpec, ImageEntrySpec, ImageFormat};

/// The message registry.redhat.io sends with a 401 (the SSO sends the same one).
pub use regharness_mocks::sso::REDHAT_LOGIN_MESSAGE;

/// An image of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueImage {
    /// `repository:tag`.
    pub reference: &'static str,
    /// Manifest format.
    pub format: ImageFormat,
    /// Only on registry.redhat.io (subscription content).
    pub subscription_only: bool,
}

const fn image(reference: &'static str, format: ImageFormat) -> CatalogueImage {
    CatalogueImage {
        reference,
        format,
        subscription_only: false,
    }
}

/// Red Hat product images: on registry.redhat.io, and (unless subscription-only) on
/// registry.access.redhat.com too.
pub const REDHAT_IMAGES: &[CatalogueImage] = &[
    image("rhel:latest", ImageFormat::Docker),
    image("rhel8/pcp:latest", ImageFormat::Docker),
    image("rhel8/rsyslog:latest", ImageFormat::Oci),
    image("ubi8/ubi:8.9", ImageFormat::Oci),
    image("ubi8/ubi-minimal:latest", ImageFormat::MultiArch),
    CatalogueImage {
        reference: "rhel9/rhel-bootc:latest",
        format: ImageFormat::Docker,
        subscription_only: true,
    },
];

/// Third-party images of registry.connect.redhat.com.
pub const CONNECT_IMAGES: &[CatalogueImage] = &[image("partner/example-app:1.0", ImageFormat::Oci)];

/// The default auth mode, images and 401 message of a known registry host.
pub fn defaults_for(host: &str) -> Option<RegistryDefaults> {
    let pick = |subscription: bool, images: &[CatalogueImage]| -> Vec<ImageEntrySpec> {
        images
            .iter()
            .filter(|i| subscription || !i.subscription_only)
            .map(|i| ImageEntrySpec {
                reference: i.reference.to_string(),
                format: i.format,
                platforms: None,
            })
            .collect()
    };
    match host {
        "registry.redhat.io" => Some(RegistryDefaults {
            auth: AuthModeSpec::Bearer,
            images: pick(true, REDHAT_IMAGES),
            unauthenticated_message: Some(REDHAT_LOGIN_MESSAGE),
            rejects_secret_types: Vec::new(),
        }),
        "registry.access.redhat.com" => Some(RegistryDefaults {
            auth: AuthModeSpec::Anonymous,
            images: pick(false, REDHAT_IMAGES),
            unauthenticated_message: None,
            rejects_secret_types: Vec::new(),
        }),
        // Seed 001: the Connect Partner Registry does not accept the auto-generated
        // dockercfg secret type (BZ#1476330).
        "registry.connect.redhat.com" => Some(RegistryDefaults {
            auth: AuthModeSpec::Bearer,
            images: pick(true, CONNECT_IMAGES),
            unauthenticated_message: Some(REDHAT_LOGIN_MESSAGE),
            rejects_secret_types: vec!["kubernetes.io/dockercfg".to_string()],
        }),
        _ => None,
    }
}

/// The registries of a world that names none.
pub const DEFAULT_REGISTRIES: &[&str] = &[
    "registry.redhat.io",
    "registry.access.redhat.com",
    "registry.connect.redhat.com",
];

/// Defaults of a known registry.
#[derive(Debug, Clone)]
pub struct RegistryDefaults {
    /// Auth mode.
    pub auth: AuthModeSpec,
    /// Images.
    pub images: Vec<ImageEntrySpec>,
    /// The message of a 401 without credentials.
    pub unauthenticated_message: Option<&'static str>,
    /// Pull-secret types whose credentials it refuses.
    pub rejects_secret_types: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_only_images_are_only_on_registry_redhat_io() {
        let io = defaults_for("registry.redhat.io").unwrap();
        let access = defaults_for("registry.access.redhat.com").unwrap();
        let has = |d: &RegistryDefaults, r: &str| d.images.iter().any(|i| i.reference == r);
        assert!(has(&io, "rhel9/rhel-bootc:latest"));
        assert!(!has(&access, "rhel9/rhel-bootc:latest"));
        assert!(has(&access, "rhel8/pcp:latest"));
        assert_eq!(access.auth, AuthModeSpec::Anonymous);
        assert!(defaults_for("quay.io").is_none());
    }
}
