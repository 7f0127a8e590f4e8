//! The differential check of issue 5: for every scenario of `scenarios/image-config/`
//! that pulls, the real skopeo (containers/image) runs each pull against the same world
//! with `--registries-conf` and `--policy` pointing at the files the harness rendered,
//! and must allow and refuse exactly what the builtin client did, for the same reason.
//! This is what proves the rendering and the enforcement right.
//!
//! skopeo resolves no short names (`docker://` normalises to docker.io), so short-name
//! pulls are replayed with `podman pull` instead (`podman_agrees/...`): the rendered
//! registries.conf through `CONTAINERS_REGISTRIES_CONF`, its drop-ins in the isolated
//! `$HOME/.config/containers/registries.conf.d`, `--signature-policy`, storage in a temp
//! folder (`--storage-driver vfs`), no TTY. Without the program the trials are reported as
//! ignored with the reason, unless `REGHARNESS_REQUIRE_EXTERNAL=1`, which makes them fail.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use regharness::client::reference::ImageReference;
use regharness::client::skopeo::{Skopeo, SkopeoCopy};
use regharness::diagnosis::DiagnosisClass;
use regharness::redact::SecretSet;
use regharness::runner::{run_scenario, ScenarioStatus};
use regharness::scenario::model::{Outcome, StepAction};
use regharness::scenario::{discover, load_file};
use regharness::world::exposure::WorldExposure;
use regharness::world::World;

/// Classes whose meaning both clients must agree on exactly. Others (network failures)
/// are compared by outcome only: skopeo reaches the world through the exposure proxy,
/// so a refused connection shows up as a refused tunnel.
const COMPARED_CLASSES: &[DiagnosisClass] = &[
    DiagnosisClass::Ok,
    DiagnosisClass::BlockedByRegistriesConf,
    DiagnosisClass::RejectedByPolicy,
    DiagnosisClass::InsecureRegistryNotConfigured,
    DiagnosisClass::UntrustedCa,
    DiagnosisClass::NotFound,
];

fn main() {
    let args = Arguments::from_args();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let catalogue = manifest.join("scenarios/image-config");
    let files = discover(std::slice::from_ref(&catalogue)).expect("the image-config catalogue");
    let skopeo = Skopeo::find();
    let podman = find_program("podman");
    let require = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").as_deref() == Ok("1");
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let mut trials = Vec::new();
    for (file, _root) in files {
        let scenario = match load_file(&file, Some(&manifest.join("scenarios"))) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        if !short_name_pulls(&scenario.spec.steps).is_empty() {
            let name = format!("podman_agrees/{}", scenario.name);
            trials.push(match &podman {
                Some(podman) => {
                    let (podman, runtime, manifest, file) = (
                        podman.clone(),
                        runtime.clone(),
                        manifest.clone(),
                        file.clone(),
                    );
                    Trial::test(name, move || {
                        runtime.block_on(compare_podman(&podman, &file, &manifest))
                    })
                }
                None if require => Trial::test(name, || {
                    Err("podman not found and REGHARNESS_REQUIRE_EXTERNAL=1".into())
                }),
                None => {
                    eprintln!("SKIPPED (podman not installed): {name}");
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
            });
        }
        let pulls = comparable_pulls(&scenario.spec.steps);
        if pulls.is_empty() {
            continue;
        }
        let name = format!("skopeo_agrees/{}", scenario.name);
        let trial = match &skopeo {
            Some(skopeo) => {
                let skopeo = skopeo.clone();
                let runtime = runtime.clone();
                let manifest = manifest.clone();
                Trial::test(name, move || {
                    runtime.block_on(compare(&skopeo, &file, &manifest))
                })
            }
            None if require => Trial::test(name, || {
                Err("skopeo not found and REGHARNESS_REQUIRE_EXTERNAL=1".into())
            }),
            None => {
                eprintln!("SKIPPED (skopeo not installed): {name}");
                Trial::test(name, || Ok(())).with_ignored_flag(true)
            }
        };
        trials.push(trial);
    }
    assert!(
        trials.len() >= 8,
        "expected the image-config catalogue to have pull scenarios, found {}",
        trials.len()
    );
    libtest_mimic::run(&args, trials).exit();
}

/// Indices and images of the steps skopeo can replay: fully qualified pulls.
fn comparable_pulls(
    steps: &[serde_saphyr::Spanned<regharness::scenario::model::StepSpec>],
) -> Vec<(usize, String)> {
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.value.action {
            StepAction::Pull(p) => Some((i, p.image.clone())),
            StepAction::PodPull(p) => Some((i, p.image.clone())),
            _ => None,
        })
        .filter(|(_, image)| ImageReference::parse(image).is_ok())
        .collect()
}

async fn compare(skopeo: &Skopeo, file: &Path, manifest: &Path) -> Result<(), Failed> {
    let Replay {
        scenario,
        report,
        world: _world,
        dir: _dir,
        root,
        exposure,
    } = Replay::start(file, manifest).await?;
    let mut disagreements = Vec::new();
    for (index, image) in comparable_pulls(&scenario.spec.steps) {
        let builtin = &report.steps[index];
        let reference = ImageReference::parse(&image).map_err(|e| e.to_string())?;
        let mut request = SkopeoCopy::new(&image, &exposure)
            .registries_conf(root.join("etc/containers/registries.conf"))
            .policy(root.join("etc/containers/policy.json"))
            .timeout(Duration::from_secs(60));
        for certs in ["etc/docker/certs.d", "etc/containers/certs.d"] {
            let host_dir = root.join(certs).join(&reference.registry);
            if host_dir.is_dir() {
                request = request.cert_dir(&host_dir);
            }
        }
        let run = skopeo.copy(&request).await;
        let skopeo_class = run.diagnosis_class().unwrap_or(DiagnosisClass::Ok);
        let skopeo_outcome = if run.succeeded() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        let class_compared = COMPARED_CLASSES.contains(&builtin.diagnosis);
        if skopeo_outcome != builtin.outcome
            || (class_compared && skopeo_class != builtin.diagnosis)
        {
            disagreements.push(format!(
                "step {} pull {image}: builtin {:?}/{} but skopeo {:?}/{} (exit {:?}{}): {}",
                index + 1,
                builtin.outcome,
                builtin.diagnosis,
                skopeo_outcome,
                skopeo_class,
                run.exit_code,
                if run.timed_out { ", timed out" } else { "" },
                run.stderr.trim()
            ));
        }
    }
    if disagreements.is_empty() {
        Ok(())
    } else {
        Err(disagreements.join("\n").into())
    }
}

/// Steps that pull a short name (podman resolves them; skopeo does not).
fn short_name_pulls(
    steps: &[serde_saphyr::Spanned<regharness::scenario::model::StepSpec>],
) -> Vec<(usize, String)> {
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.value.action {
            StepAction::Pull(p) if ImageReference::parse(&p.image).is_err() => {
                Some((i, p.image.clone()))
            }
            _ => None,
        })
        .collect()
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// The text podman prints when enforcing short-name mode meets no TTY.
const NO_TTY: &str = "short-name resolution enforced but cannot prompt without a TTY";

async fn compare_podman(podman: &Path, file: &Path, manifest: &Path) -> Result<(), Failed> {
    let Replay {
        scenario,
        report,
        world: _world,
        dir,
        root,
        exposure,
    } = Replay::start(file, manifest).await?;
    let home = dir.path().join("home");
    let drop_ins = home.join(".config/containers/registries.conf.d");
    std::fs::create_dir_all(&drop_ins).map_err(|e| e.to_string())?;
    if let Ok(entries) = std::fs::read_dir(root.join("etc/containers/registries.conf.d")) {
        for entry in entries.flatten() {
            std::fs::copy(entry.path(), drop_ins.join(entry.file_name()))
                .map_err(|e| e.to_string())?;
        }
    }
    // podman insists that REGISTRY_AUTH_FILE exists: no credentials at all.
    std::fs::write(dir.path().join("auth.json"), "{\"auths\": {}}").map_err(|e| e.to_string())?;
    let runtime_dir = dir.path().join("run");
    std::fs::create_dir_all(&runtime_dir).map_err(|e| e.to_string())?;
    let mut env: Vec<(String, String)> = exposure.go_env();
    env.extend([
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        ),
        ("HOME".to_string(), home.display().to_string()),
        (
            "XDG_CONFIG_HOME".to_string(),
            home.join(".config").display().to_string(),
        ),
        (
            "XDG_RUNTIME_DIR".to_string(),
            runtime_dir.display().to_string(),
        ),
        (
            "REGISTRY_AUTH_FILE".to_string(),
            dir.path().join("auth.json").display().to_string(),
        ),
        (
            "CONTAINERS_REGISTRIES_CONF".to_string(),
            root.join("etc/containers/registries.conf")
                .display()
                .to_string(),
        ),
    ]);
    let mut disagreements = Vec::new();
    for (index, image) in short_name_pulls(&scenario.spec.steps) {
        let builtin = &report.steps[index];
        let args: Vec<String> = vec![
            "--root".into(),
            dir.path().join("storage").display().to_string(),
            "--runroot".into(),
            dir.path().join("runroot").display().to_string(),
            "--storage-driver".into(),
            "vfs".into(),
            "--events-backend".into(),
            "none".into(),
            "pull".into(),
            "--signature-policy".into(),
            root.join("etc/containers/policy.json")
                .display()
                .to_string(),
            image.clone(),
        ];
        let output = run_podman(podman, &args, &env, Duration::from_secs(120)).await?;
        let (ok, class) = if output.status.success() {
            (true, DiagnosisClass::Ok)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr).to_string();
            let class = if stderr.contains(NO_TTY) {
                DiagnosisClass::ShortNameAmbiguous
            } else {
                regharness::client::skopeo::classify::classify(&stderr, false, false).class
            };
            (false, class)
        };
        let outcome = if ok { Outcome::Ok } else { Outcome::Failed };
        if outcome != builtin.outcome || class != builtin.diagnosis {
            disagreements.push(format!(
                "step {} pull {image}: builtin {:?}/{} but podman {:?}/{}: {}{}",
                index + 1,
                builtin.outcome,
                builtin.diagnosis,
                outcome,
                class,
                String::from_utf8_lossy(&output.stdout).trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        // The same candidate must have served the pull.
        if ok {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let served = builtin
                .message
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches(':');
            if !stderr.contains(&format!("Trying to pull {served}...")) {
                disagreements.push(format!(
                    "step {} pull {image}: builtin pulled {served}, podman said: {}",
                    index + 1,
                    stderr.trim()
                ));
            }
        }
    }
    if disagreements.is_empty() {
        Ok(())
    } else {
        Err(disagreements.join("\n").into())
    }
}

/// Runs podman with exactly `env`, no stdin (no TTY), killed after `timeout`.
async fn run_podman(
    podman: &Path,
    args: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Result<std::process::Output, Failed> {
    let mut command = tokio::process::Command::new(podman);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(timeout, command.output()).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) => Err(format!("cannot run {}: {e}", podman.display()).into()),
        Err(_) => Err(format!(
            "podman {} did not finish within {timeout:?}",
            args.join(" ")
        )
        .into()),
    }
}

/// A scenario run with the builtin client (its own expectations must hold), and a fresh
/// world of the same description whose node files are written under `root` and which is
/// exposed to real programs.
struct Replay {
    scenario: regharness::scenario::Scenario,
    report: regharness::runner::ScenarioReport,
    world: World,
    dir: tempfile::TempDir,
    root: PathBuf,
    exposure: WorldExposure,
}

impl Replay {
    async fn start(file: &Path, manifest: &Path) -> Result<Self, Failed> {
        let scenario =
            load_file(file, Some(&manifest.join("scenarios"))).map_err(|e| e.to_string())?;
        let report = run_scenario(&scenario).await;
        if report.status != ScenarioStatus::Passed {
            return Err(format!("the scenario itself fails: {:?}", report.reason).into());
        }
        let world = World::start(&scenario.spec.world, SecretSet::default())
            .await
            .map_err(|e| format!("world: {e}"))?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = dir.path().join("node");
        world
            .node()
            .ok_or("the scenario has no image_config")?
            .rendered
            .as_ref()
            .map_err(|e| e.clone())?
            .files
            .write_to(&root)
            .map_err(|e| e.to_string())?;
        let exposure = WorldExposure::start(&world, &dir.path().join("exposure"))
            .await
            .map_err(|e| format!("exposure: {e}"))?;
        Ok(Self {
            scenario,
            report,
            world,
            dir,
            root,
            exposure,
        })
    }
}
