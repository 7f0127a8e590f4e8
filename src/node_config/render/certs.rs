//! `/etc/docker/certs.d/<host[:port]>/ca.crt` from the `additionalTrustedCA` ConfigMap.
//!
//! Two writers put them on nodes, outside any MachineConfig (so no drain, no restart):
//! the machine-config-daemon's certificate writer (`pkg/daemon/certificate_writer.go`, from
//! the ControllerConfig's `imageRegistryBundleUserData`, which `pkg/operator/sync.go` fills
//! from the ConfigMap) and the image-registry operator's node-ca daemon
//! (`pkg/nodeca/nodeca.go`). We follow MCO: every `..` in the key becomes `:` (node-ca
//! replaces only the last one; the two agree on any real `host..port` key). A value that
//! is valid standard base64 (Go's decoder, which skips `\r` and `\n`) is written decoded,
//! as MCO does; a PEM never is. `binaryData` and the internal registry's service CA (which
//! the operators add themselves) are not modelled.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use super::RenderError;
use crate::node_config::input::ConfigMap;

/// Where the CA files go, relative to `/`.
pub const CERTS_DIR: &str = "etc/docker/certs.d";

/// Go's `base64.StdEncoding`: padded, lenient about trailing bits.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The directory name for a ConfigMap key: `registry.example.com..5000` →
/// `registry.example.com:5000`.
pub fn host_dir(key: &str) -> String {
    key.replace("..", ":")
}

/// `(node path, content)` of every CA file for `ca`.
pub fn ca_files(ca: &ConfigMap) -> Result<Vec<(String, String)>, RenderError> {
    ca.data
        .iter()
        .map(|(key, value)| {
            check_key(key)?;
            let content =
                decoded(value).map_err(|_| RenderError::CaNotText { key: key.clone() })?;
            Ok((format!("{CERTS_DIR}/{}/ca.crt", host_dir(key)), content))
        })
        .collect()
}

/// A ConfigMap key the API server accepts (`[-._a-zA-Z0-9]+`, not `.`, `..` or `..*`), so
/// that it names exactly one directory.
fn check_key(key: &str) -> Result<(), RenderError> {
    let reason = if key.is_empty() {
        Some("it is empty")
    } else if key == "." || key.starts_with("..") {
        Some("it is `.` or starts with `..`")
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    {
        Some(
            "a ConfigMap key has only letters, digits, `-`, `.` and `_` (write a port as `..5000`)",
        )
    } else {
        None
    };
    match reason {
        Some(reason) => Err(RenderError::CaKey {
            key: key.to_string(),
            reason: reason.to_string(),
        }),
        None => Ok(()),
    }
}

/// The value MCO writes: base64-decoded when it decodes, else as it is.
fn decoded(value: &str) -> Result<String, std::string::FromUtf8Error> {
    let compact: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    match GO_STD.decode(compact.as_bytes()) {
        Ok(bytes) => String::from_utf8(bytes),
        Err(_) => Ok(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("registry.example.com", "registry.example.com")]
    #[case(
        "registry-with-port.example.com..5000",
        "registry-with-port.example.com:5000"
    )]
    #[case(
        "image-registry.openshift-image-registry.svc..5000",
        "image-registry.openshift-image-registry.svc:5000"
    )]
    #[case("a..b..5000", "a:b:5000")]
    fn keys_become_host_port_directories(#[case] key: &str, #[case] dir: &str) {
        assert_eq!(host_dir(key), dir);
    }

    #[rstest]
    #[case("")]
    #[case(".")]
    #[case("..")]
    #[case("..5000")]
    #[case("registry.example.com:5000")]
    #[case("a/b")]
    fn keys_that_cannot_name_a_directory_are_refused(#[case] key: &str) {
        assert!(check_key(key).is_err(), "{key:?}");
    }

    #[test]
    fn pem_is_written_as_it_is_and_base64_decoded() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(decoded(pem).unwrap(), pem);
        let encoded = GO_STD.encode(pem);
        let wrapped = format!("{}\n{}\n", &encoded[..20], &encoded[20..]);
        assert_eq!(decoded(&wrapped).unwrap(), pem);
    }
}
