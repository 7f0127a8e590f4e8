//! The differential check of issue 5: for every scenario of `scenarios/image-config/`
//! that pulls, the real skopeo (containers/image) runs each pull against the same world
//! with `--registries-conf` and `--policy` pointing at the files the harness rendered,
//! and must allow and refuse exactly what the builtin client did, for the same reason.
//! This is what proves the rendering and the enforcement right.
//!
//! skopeo resolves no short names (`docker://` normalises to docker.io), so short-name
//! pulls are not compared here; every other pull is. Without skopeo every trial is
//! reported as ignored with the reason, unless `REGHARNESS_REQUIRE_EXTERNAL=1`, which
//! makes them fail.

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
    let scenario = load_file(file, Some(&manifest.join("scenarios"))).map_err(|e| e.to_string())?;
    // The builtin client, through the runner (the scenario's own expectations hold).
    let report = run_scenario(&scenario).await;
    if report.status != ScenarioStatus::Passed {
        return Err(format!("the scenario itself fails: {:?}", report.reason).into());
    }
    // skopeo, against a world started from the same description.
    let world = World::start(&scenario.spec.world, SecretSet::default())
        .await
        .map_err(|e| format!("world: {e}"))?;
    let node = world
        .node()
        .ok_or("the scenario has no image_config")?
        .rendered
        .as_ref()
        .map_err(|e| e.clone())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().join("node");
    node.files.write_to(&root).map_err(|e| e.to_string())?;
    let exposure = WorldExposure::start(&world, &dir.path().join("exposure"))
        .await
        .map_err(|e| format!("exposure: {e}"))?;
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
