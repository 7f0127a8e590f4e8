//! skopeo and podman (containers/image) as step drivers:
//!
//! - `login`: `skopeo login --username U --password P --authfile FILE REGISTRY`, `podman
//!   [STORAGE] login ...` (the same flags), FILE being the sandbox's podman file (or
//!   `~/.docker/config.json` for `tool: docker`);
//! - `pull`: `skopeo copy [--src-authfile FILE] [--override-os OS --override-arch ARCH]
//!   docker://IMAGE dir:TMP`, `podman [STORAGE] pull [--authfile FILE] [--platform P] IMAGE`.
//!
//! STORAGE is `--root SANDBOX/podman/root --runroot SANDBOX/podman/runroot
//! --storage-driver vfs`: podman's images go into the run's sandbox, never the host's
//! store. Failures are classified from the program's error text by
//! [`crate::client::skopeo::classify`] (podman prints the same containers/image texts,
//! as `Error: ...` rather than logrus' `level=fatal msg="..."`).

use std::path::Path;
use std::time::Duration;

use crate::client::auth_file::{self, display_path};
use crate::client::reference::ImageReference;
use crate::client::skopeo::classify::classify;
use crate::diagnosis::{Diagnosis, DiagnosisClass};
use crate::flow::GeneratedFile;
use crate::scenario::model::{AuthFileKind, ClientKind, LoginSpec, PullSpec};
use crate::world::exposure::WorldExposure;

use super::{first_line, scratch, FlowContext, Program, StepResult};

/// podman's storage flags for a sandbox rooted at `root`.
pub fn podman_storage_args(root: &Path) -> Vec<String> {
    vec![
        "--root".into(),
        root.join("podman/root").display().to_string(),
        "--runroot".into(),
        root.join("podman/runroot").display().to_string(),
        "--storage-driver".into(),
        "vfs".into(),
    ]
}

/// The cleared environment of a run in the sandbox at `root`: `PATH`, `HOME`,
/// `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`, `TMPDIR` (created), and `REGISTRY_AUTH_FILE`
/// when given (unset, containers/image searches the sandbox's files as the builtin
/// client does).
pub fn base_env(root: &Path, auth_file: Option<&Path>) -> Vec<(String, String)> {
    for sub in ["home", "run", "config", "tmp"] {
        let _ = std::fs::create_dir_all(root.join(sub));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(root.join("run"), std::fs::Permissions::from_mode(0o700));
    }
    let mut env = vec![
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        ),
        ("HOME".into(), root.join("home").display().to_string()),
        (
            "XDG_RUNTIME_DIR".into(),
            root.join("run").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME".into(),
            root.join("config").display().to_string(),
        ),
        ("TMPDIR".into(), root.join("tmp").display().to_string()),
    ];
    if let Some(file) = auth_file {
        env.push(("REGISTRY_AUTH_FILE".into(), file.display().to_string()));
    }
    env
}

/// The program's leading arguments: podman's storage flags, nothing for skopeo.
fn leading_args(tool: ClientKind, root: &Path) -> Vec<String> {
    if tool == ClientKind::Podman {
        podman_storage_args(root)
    } else {
        Vec::new()
    }
}

/// Runs a `login` step with skopeo or podman.
pub async fn login(
    ctx: &FlowContext<'_>,
    program: &Program,
    tool: ClientKind,
    exposure: &WorldExposure,
    spec: &LoginSpec,
    timeout: Duration,
) -> StepResult {
    if spec.tool == AuthFileKind::Dockercfg {
        return StepResult::skipped(format!(
            "{tool} login does not write the legacy ~/.dockercfg"
        ));
    }
    // `tool: docker` is `docker login https://HOST`, whose `https://` key is docker's own;
    // skopeo and podman key the entry by the bare host even in ~/.docker/config.json.
    if spec.tool == AuthFileKind::Docker {
        return StepResult::skipped(format!(
            "the step is `docker login` (an `https://` key in ~/.docker/config.json), which {tool} login does not reproduce"
        ));
    }
    if spec.server.as_ref().is_some_and(|s| s != &spec.registry) {
        return StepResult::skipped(format!(
            "{tool} login keys the entry by the registry name; `server` is not reproduced"
        ));
    }
    let (username, password) = match ctx.resolve_credentials(&spec.credentials) {
        Ok(c) => c,
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.clone()),
                e,
            )
        }
    };
    ctx.world.secrets().add(password.clone());
    let root = ctx.sandbox.root();
    let file = ctx.sandbox.path_of(spec.tool);
    let mut args = leading_args(tool, root);
    args.extend([
        "login".to_string(),
        "--username".into(),
        username,
        "--password".into(),
        password,
        "--authfile".into(),
        file.display().to_string(),
        spec.registry.clone(),
    ]);
    let mut env = base_env(root, Some(&file));
    env.extend(exposure.go_env());
    let run = program.run(args, env, root, timeout).await;
    let stderr = ctx.world.secrets().redact(&run.stderr);
    if run.exit_code == Some(0) && !run.timed_out {
        let mut result = StepResult::ok(first_line(&run.stdout).to_string());
        match std::fs::read_to_string(&file) {
            Ok(content) => result.files.push(GeneratedFile {
                path: display_path(spec.tool).to_string(),
                content,
            }),
            Err(e) => {
                let why = format!(
                    "{tool} login succeeded but {} is unreadable: {e}",
                    display_path(spec.tool)
                );
                return StepResult::failed(
                    Diagnosis::new(DiagnosisClass::AuthFileInvalid, why.clone()),
                    why,
                );
            }
        }
        return result;
    }
    failure(&stderr, true, run.timed_out)
}

/// Runs a `pull` step with skopeo or podman.
pub async fn pull(
    ctx: &FlowContext<'_>,
    program: &Program,
    tool: ClientKind,
    exposure: &WorldExposure,
    spec: &PullSpec,
    timeout: Duration,
) -> StepResult {
    let reference = match ImageReference::parse(&spec.image) {
        Ok(r) => r,
        Err(e) => {
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, e.clone()),
                e,
            )
        }
    };
    // As containers/image: credentials when the files hold an entry for the image.
    let credentials_sent = matches!(
        auth_file::lookup(
            ctx.sandbox,
            spec.auth_file,
            &reference.registry,
            &reference.repository
        ),
        Ok(Some(_))
    );
    let root = ctx.sandbox.root();
    let auth_path = spec.auth_file.map(|k| ctx.sandbox.path_of(k));
    let platform = spec.platform.as_deref().map(|p| {
        let mut parts = p.splitn(3, '/');
        (
            parts.next().unwrap_or("linux").to_string(),
            parts.next().unwrap_or("amd64").to_string(),
            parts.next().map(str::to_string),
        )
    });
    let destination = match scratch(root, "image") {
        Ok(d) => d,
        Err(e) => {
            let why = format!("cannot create the image folder: {e}");
            return StepResult::failed(
                Diagnosis::new(DiagnosisClass::UnexpectedResponse, why.clone()),
                why,
            );
        }
    };
    let mut args = leading_args(tool, root);
    match tool {
        ClientKind::Podman => {
            args.push("pull".into());
            if let Some(path) = &auth_path {
                args.extend(["--authfile".to_string(), path.display().to_string()]);
            }
            if let Some(p) = &spec.platform {
                args.extend(["--platform".to_string(), p.clone()]);
            }
            args.push(spec.image.clone());
        }
        _ => {
            args.push("copy".into());
            if let Some(path) = &auth_path {
                args.extend(["--src-authfile".to_string(), path.display().to_string()]);
            }
            if let Some((os, arch, variant)) = &platform {
                args.extend([
                    "--override-os".to_string(),
                    os.clone(),
                    "--override-arch".into(),
                    arch.clone(),
                ]);
                if let Some(v) = variant {
                    args.extend(["--override-variant".to_string(), v.clone()]);
                }
            }
            args.push(format!("docker://{}", spec.image));
            args.push(format!("dir:{}", destination.display()));
        }
    }
    let mut env = base_env(root, None);
    env.extend(exposure.go_env());
    let run = program.run(args, env, root, timeout).await;
    let _ = std::fs::remove_dir_all(&destination);
    let stderr = ctx.world.secrets().redact(&run.stderr);
    if run.exit_code == Some(0) && !run.timed_out {
        let last = run
            .stdout
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        return StepResult::ok(format!("{tool} pulled {}: {last}", spec.image));
    }
    failure(&stderr, credentials_sent, run.timed_out)
}

/// A failed run: classified from its standard error.
fn failure(stderr: &str, credentials_sent: bool, timed_out: bool) -> StepResult {
    let failure = classify(stderr, credentials_sent, timed_out);
    // The detail keeps the program's text verbatim; the message is its one-line form.
    let message = failure
        .message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    StepResult::failed(Diagnosis::new(failure.class, failure.message), message)
}
