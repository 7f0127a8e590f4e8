//! What `regharness serve` prints once the world is ready: where things are, the
//! environment of `DIR/env`, and sample commands (seed 003's curl token test, `skopeo
//! inspect`, `podman login`) written against that environment.

use std::fmt::Write as _;

use super::env::{ENV_FILE, ENV_SH_FILE};
use super::{demo, Served};

/// Images a sample command names, in order of preference.
const SAMPLE_IMAGES: [(&str, &str); 3] = [
    ("rhel8/pcp", "latest"),
    ("ubi8/ubi-minimal", "latest"),
    ("rhel", "latest"),
];

/// The shell words for the sample commands' credentials.
struct SampleCredentials {
    username: String,
    password: String,
    note: Option<String>,
}

fn credentials(served: &Served) -> Option<SampleCredentials> {
    if served.is_demo() {
        return Some(SampleCredentials {
            username: "$REGHARNESS_DEMO_USERNAME".into(),
            password: "$REGHARNESS_DEMO_PASSWORD".into(),
            note: None,
        });
    }
    let account = served.accounts().first()?;
    let username = format!("${}_USERNAME", account.prefix);
    if account.password_written {
        return Some(SampleCredentials {
            username,
            password: format!("${}_PASSWORD", account.prefix),
            note: None,
        });
    }
    Some(SampleCredentials {
        username,
        password: "PASSWORD".into(),
        note: Some(format!(
            "PASSWORD: the password of {:?}; `serve --show-secrets` writes it to {ENV_FILE} as {}_PASSWORD",
            account.username, account.prefix
        )),
    })
}

/// `registry/repository:tag` for the samples: an image of registry.redhat.io, else of
/// the first bearer registry, else of the first registry.
fn sample_image(served: &Served) -> Option<String> {
    use crate::scenario::model::AuthModeSpec;
    let registries = served.world().registries();
    let registry = registries
        .iter()
        .find(|r| r.host == "registry.redhat.io")
        .or_else(|| registries.iter().find(|r| r.auth == AuthModeSpec::Bearer))
        .or_else(|| registries.first())?;
    let (repository, tag) = SAMPLE_IMAGES
        .iter()
        .find(|(repo, tag)| registry.registry.manifest_digest(repo, tag).is_some())
        .copied()
        .unwrap_or(("REPOSITORY", "TAG"));
    Some(format!("{}/{repository}:{tag}", registry.host))
}

/// The banner text.
pub fn render(served: &Served) -> String {
    let dir = served.state_dir().display();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "regharness serve: the world of {} is ready",
        served.name()
    );
    let _ = writeln!(
        out,
        "state folder: {dir} ({ENV_FILE} and {ENV_SH_FILE} are removed when serve stops; the rest is kept)"
    );
    let _ = writeln!(
        out,
        "proxy: {} (reaches {})",
        served.exposure().proxy_url(),
        served.world().hosts().names().join(", ")
    );
    if served.is_demo() {
        let _ = writeln!(
            out,
            "demo account: {} / {} (not a secret: it exists only in this world)",
            demo::USERNAME,
            demo::PASSWORD
        );
    }
    for account in served.accounts() {
        if !served.is_demo() {
            let _ = writeln!(
                out,
                "account: {} ({}_USERNAME{})",
                account.username,
                account.prefix,
                if account.password_written {
                    format!(", {}_PASSWORD", account.prefix)
                } else {
                    ", password not shown: --show-secrets".to_string()
                }
            );
        }
    }
    let _ = writeln!(out, "\nEnvironment ({dir}/{ENV_FILE}):");
    for (k, v) in served.env().iter() {
        let _ = writeln!(out, "  {k}={v}");
    }
    let _ = writeln!(out, "\nIn another shell:\n  . {dir}/{ENV_SH_FILE}");
    let creds = credentials(served);
    let token_url = format!(
        "{}?service=docker-registry&client_id=curl&scope=repository:rhel:pull",
        served.world().sso().realm_url()
    );
    let _ = writeln!(
        out,
        "  # seed 003's token test: 200 and the token JSON for good credentials, 401 for wrong ones"
    );
    let user = creds
        .as_ref()
        .map(|c| format!(" -u \"{}:{}\"", c.username, c.password))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  curl --cacert \"$REGHARNESS_CA_FILE\"{user} \"{token_url}\""
    );
    if let Some(image) = sample_image(served) {
        let skopeo_creds = creds
            .as_ref()
            .map(|c| format!(" --creds \"{}:{}\"", c.username, c.password))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  skopeo inspect --cert-dir \"$REGHARNESS_CERT_DIR\"{skopeo_creds} docker://{image}"
        );
        if let Some(c) = &creds {
            let host = image.split('/').next().unwrap_or_default();
            let _ = writeln!(
                out,
                "  podman login --cert-dir \"$REGHARNESS_CERT_DIR\" -u \"{}\" -p \"{}\" {host}",
                c.username, c.password
            );
        }
    }
    if let Some(note) = creds.and_then(|c| c.note) {
        let _ = writeln!(out, "  # {note}");
    }
    let _ = write!(
        out,
        "\nRequests through the proxy are printed below. Stop with Ctrl-C or SIGTERM."
    );
    out
}
