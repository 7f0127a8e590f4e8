//! Real clients as step drivers: `client: curl | skopeo | podman` on a step (or
//! `regharness run --client NAME` for a whole run) runs the step's `login`, `token`,
//! `ping` or `pull` with the real program against the world, and maps its exit code and
//! output to the same outcome and diagnosis classes as the builtin client.
//!
//! Each program reaches the world through one [`WorldExposure`] per scenario (started
//! lazily by the first step that needs it), trusts the world's CA, runs with a cleared
//! environment whose `HOME`, `XDG_RUNTIME_DIR` and `REGISTRY_AUTH_FILE` are the run's
//! [`Sandbox`](crate::client::auth_file::Sandbox) (so `podman login` writes the file
//! the builtin client's `login` would, and later steps read it), and is killed after the
//! world's timeout. A step a driver cannot run (an action it does not support, a program
//! that is not installed, podman unable to run here) is [`Outcome::Skipped`] with the
//! reason.
//!
//! What the drivers do not apply: a step's `env`/`proxy` and the world's proxy, firewall
//! and proxy variables (the program always talks to the exposure's proxy), and a node's
//! files (`world.cluster.image_config`); such steps are skipped. skopeo and podman print no HTTP status, so their steps carry none.

pub mod containers;
pub mod curl;
mod program;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::diagnosis::Diagnosis;
use crate::scenario::model::{ClientKind, Outcome, StepAction, StepSpec};
use crate::world::exposure::WorldExposure;

use super::{FlowContext, StepResult};

pub use program::{find_program, Program};

/// The lazily started exposure and per-scenario state of the drivers. Dropping it stops
/// the exposure's proxy and removes its folder.
pub struct Drivers {
    dir: Option<tempfile::TempDir>,
    exposure: OnceCell<Result<WorldExposure, String>>,
    podman_usable: OnceCell<Result<(), String>>,
}

impl Default for Drivers {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Drivers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drivers")
            .field("exposure", &self.exposure.get())
            .finish_non_exhaustive()
    }
}

impl Drivers {
    /// No exposure yet; nothing is started until a driver step runs.
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("regharness-exposure-")
                .tempdir()
                .ok(),
            exposure: OnceCell::new(),
            podman_usable: OnceCell::new(),
        }
    }

    /// The world's exposure, started on first use.
    pub async fn exposure(&self, ctx: &FlowContext<'_>) -> Result<&WorldExposure, String> {
        let result = self
            .exposure
            .get_or_init(|| async {
                let dir = self
                    .dir
                    .as_ref()
                    .ok_or("cannot create the exposure's temp folder")?;
                WorldExposure::start(ctx.world, dir.path())
                    .await
                    .map_err(|e| format!("cannot expose the world to real clients: {e}"))
            })
            .await;
        result.as_ref().map_err(Clone::clone)
    }

    /// Whether podman can run here (`podman info` with the sandbox's storage), checked
    /// once; the error is podman's own text.
    async fn podman_usable(&self, podman: &Program, sandbox_root: &Path) -> Result<(), String> {
        self.podman_usable
            .get_or_init(|| async {
                let args = containers::podman_storage_args(sandbox_root)
                    .into_iter()
                    .chain(["info".to_string()])
                    .collect::<Vec<_>>();
                let env = containers::base_env(sandbox_root, None);
                let run = podman
                    .run(args, env, sandbox_root, Duration::from_secs(60))
                    .await;
                if run.exit_code == Some(0) {
                    Ok(())
                } else {
                    Err(format!(
                        "podman cannot run on this machine: {}",
                        first_line(&run.stderr)
                    ))
                }
            })
            .await
            .clone()
    }
}

/// Whether `action` is one a client runs (`login`, `token`, `ping`, `pull`); every other
/// step changes the world or the cluster and runs the same whatever the client.
pub fn is_client_action(action: &StepAction) -> bool {
    matches!(
        action,
        StepAction::Login(_) | StepAction::Token(_) | StepAction::Ping(_) | StepAction::Pull(_)
    )
}

/// Why `client` cannot run `action` (`None`: it can, or the action is not a client
/// action). The loader refuses a step that names such a client; `--client` makes it
/// skipped.
pub fn unsupported(client: ClientKind, action: &StepAction) -> Option<String> {
    if client == ClientKind::Builtin || !is_client_action(action) {
        return None;
    }
    let supported: &[&str] = match client {
        ClientKind::Builtin => return None,
        ClientKind::Curl => &["token", "ping"],
        ClientKind::Skopeo | ClientKind::Podman => &["login", "pull"],
    };
    let kind = crate::runner::kind_of(action);
    if supported.contains(&kind) {
        return None;
    }
    Some(format!(
        "{client} does not run `{kind}` steps (it runs {})",
        supported.join(" and ")
    ))
}

/// Runs `step` with `client`: `None` when the builtin flow should run it (the builtin
/// client, or an action that is not a client action).
pub async fn run(
    ctx: &FlowContext<'_>,
    drivers: &Drivers,
    client: ClientKind,
    step: &StepSpec,
) -> Option<StepResult> {
    if client == ClientKind::Builtin || !is_client_action(&step.action) {
        return None;
    }
    if let Some(why) = unsupported(client, &step.action) {
        return Some(StepResult::skipped(why));
    }
    if !step.env.is_empty() || step.proxy.is_some() {
        return Some(StepResult::skipped(format!(
            "{client} runs through the world's exposure proxy: the step's `env`/`proxy` are not applied to real clients"
        )));
    }
    if ctx.world.shapes_network() {
        return Some(StepResult::skipped(format!(
            "{client} reaches the world through regharness' own proxy: the scenario's proxy, firewall and proxy variables are not reproduced for real clients yet"
        )));
    }
    if ctx.world.node().is_some() && matches!(step.action, StepAction::Pull(_)) {
        return Some(StepResult::skipped(format!(
            "{client} does not get the node's files (world.cluster.image_config): see tests/node_config_skopeo.rs"
        )));
    }
    let program = match find_program(client) {
        Ok(p) => p,
        Err(why) => return Some(StepResult::skipped(why)),
    };
    if client == ClientKind::Podman {
        if let Err(why) = drivers.podman_usable(&program, ctx.sandbox.root()).await {
            return Some(StepResult::skipped(why));
        }
    }
    let exposure = match drivers.exposure(ctx).await {
        Ok(e) => e,
        Err(why) => {
            return Some(StepResult::failed(
                Diagnosis::new(crate::diagnosis::DiagnosisClass::UnexpectedResponse, &why),
                why,
            ))
        }
    };
    let timeout = ctx.world.timeout() * 3;
    Some(match (&step.action, client) {
        (StepAction::Token(spec), _) => curl::token(ctx, &program, exposure, spec, timeout).await,
        (StepAction::Ping(spec), _) => curl::ping(ctx, &program, exposure, spec, timeout).await,
        (StepAction::Login(spec), tool) => {
            containers::login(ctx, &program, tool, exposure, spec, timeout).await
        }
        (StepAction::Pull(spec), tool) => {
            containers::pull(ctx, &program, tool, exposure, spec, timeout).await
        }
        _ => StepResult::skipped(format!("{client} cannot run this step")),
    })
}

impl StepResult {
    /// A step that did not run; `reason` says why (also its message).
    pub fn skipped(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self {
            outcome: Outcome::Skipped,
            diagnosis: Diagnosis::new(crate::diagnosis::DiagnosisClass::Ok, reason.clone()),
            ..Self::ok(format!("skipped: {reason}"))
        }
    }
}

/// The first non-empty line of `text`, trimmed.
fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)")
}

/// A fresh folder for one run's scratch files below `root`.
fn scratch(root: &Path, what: &str) -> std::io::Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{what}-"))
        .tempdir_in(root)?;
    Ok(dir.keep())
}
