//! The scenario rows: a login + token + pull scenario run by the builtin client
//! ([`runner::run_scenario`], each run in a new world), against one `skopeo inspect
//! --creds U:P docker://IMAGE` process per run on a world started from the same
//! scenario, reached through a [`WorldExposure`] (its proxy and CA), with an isolated
//! `HOME`/`XDG_RUNTIME_DIR`/`REGISTRY_AUTH_FILE` like the skopeo driver's.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Measurement, Row, RowResult};
use crate::client::skopeo::{process, Skopeo, REDACTED_PASSWORD};
use crate::redact::SecretSet;
use crate::runner::{self, ScenarioStatus};
use crate::scenario::model::{CredentialsSpec, StepAction};
use crate::scenario::Scenario;
use crate::world::exposure::WorldExposure;
use crate::world::World;

/// Bound of one `skopeo inspect`.
pub const SKOPEO_TIMEOUT: Duration = Duration::from_secs(60);

/// The first login's credentials and the first pull's image: what skopeo is given.
pub fn login_and_image(scenario: &Scenario) -> Result<(CredentialsSpec, String), String> {
    let mut credentials = None;
    let mut image = None;
    for step in &scenario.spec.steps {
        match &step.value.action {
            StepAction::Login(login) if credentials.is_none() => {
                credentials = Some(login.credentials.clone())
            }
            StepAction::Pull(pull) if image.is_none() => image = Some(pull.image.clone()),
            _ => {}
        }
    }
    match (credentials, image) {
        (Some(c), Some(i)) => Ok((c, i)),
        _ => Err(format!(
            "scenario {} needs a login step and a pull step",
            scenario.name
        )),
    }
}

/// `runs` runs of the whole scenario with the builtin client. The measurement is the
/// time of its steps (login, token, pull: world start-up excluded); the note gives
/// the median whole run, world start-up included.
pub async fn builtin(scenario: &Scenario, runs: usize) -> Row {
    let mut steps = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let report = runner::run_scenario(scenario).await;
        whole.push(started.elapsed());
        if report.status != ScenarioStatus::Passed {
            let reason = report.reason.unwrap_or_default();
            return Row::new(
                "builtin client",
                "",
                RowResult::Failed(format!("{} {:?}: {reason}", scenario.name, report.status)),
            );
        }
        let ms: u64 = report.steps.iter().map(|s| s.duration_ms).sum();
        steps.push(Duration::from_millis(ms));
    }
    let whole = Measurement::new(whole, None).median();
    Row::new(
        "builtin client",
        &format!(
            "(steps only; whole run with world start-up: {:.0} ms)",
            whole.as_secs_f64() * 1000.0
        ),
        RowResult::Measured(Measurement::new(steps, None)),
    )
}

/// `runs` runs of `skopeo inspect` on one world of `scenario`: each a new process.
pub async fn skopeo(scenario: &Scenario, runs: usize) -> Row {
    let Some(skopeo) = Skopeo::find() else {
        return Row::new(
            "skopeo inspect",
            "",
            RowResult::Skipped("skopeo not installed".into()),
        );
    };
    let program = skopeo.program().to_path_buf();
    let version = tokio::task::spawn_blocking(move || skopeo.version())
        .await
        .ok()
        .flatten();
    let detail = match version {
        Some(v) => format!("(skopeo {v}, one process per run, world already up)"),
        None => "(one process per run, world already up)".into(),
    };
    let result = inspect_runs(&program, scenario, runs)
        .await
        .unwrap_or_else(RowResult::Failed);
    Row::new("skopeo inspect", &detail, result)
}

async fn inspect_runs(
    program: &Path,
    scenario: &Scenario,
    runs: usize,
) -> Result<RowResult, String> {
    let (credentials, image) = login_and_image(scenario)?;
    let secrets = SecretSet::default();
    let world = World::start(&scenario.spec.world, secrets.clone())
        .await
        .map_err(|e| format!("the world did not start: {e}"))?;
    let (username, password) = world.resolve_credentials(&credentials)?;
    let dir = tempfile::Builder::new()
        .prefix("regharness-bench-")
        .tempdir()
        .map_err(|e| format!("temporary folder: {e}"))?;
    let exposure = WorldExposure::start(&world, &dir.path().join("exposure"))
        .await
        .map_err(|e| format!("exposing the world: {e}"))?;
    let redact = |text: &str| {
        let text = if password.len() >= 4 {
            text.replace(password.as_str(), REDACTED_PASSWORD)
        } else {
            text.to_string()
        };
        secrets.redact(&text)
    };
    let mut times = Vec::new();
    for run in 0..runs.max(1) {
        let root = dir.path().join(format!("run-{run}"));
        for sub in ["home", "run", "config", "tmp"] {
            std::fs::create_dir_all(root.join(sub)).map_err(|e| format!("sandbox: {e}"))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.join("run"), std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("sandbox: {e}"))?;
        }
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), path),
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
            (
                "REGISTRY_AUTH_FILE".into(),
                root.join("run/containers/auth.json").display().to_string(),
            ),
        ];
        env.extend(exposure.go_env());
        let args = vec![
            "inspect".to_string(),
            "--creds".to_string(),
            format!("{username}:{password}"),
            format!("docker://{image}"),
        ];
        let program = program.to_path_buf();
        let started = Instant::now();
        let finished = tokio::task::spawn_blocking(move || {
            process::run_bounded(&program, &args, &env, &root, SKOPEO_TIMEOUT)
        })
        .await
        .map_err(|e| format!("skopeo's runner failed: {e}"))?;
        let elapsed = started.elapsed();
        if finished.exit_code != Some(0) {
            return Err(redact(&format!(
                "skopeo inspect --creds {username}:{REDACTED_PASSWORD} docker://{image}: exit {:?}{}: {}",
                finished.exit_code,
                if finished.timed_out { " (timed out)" } else { "" },
                finished.stderr.trim()
            )));
        }
        times.push(elapsed);
    }
    Ok(RowResult::Measured(Measurement::new(times, None)))
}
