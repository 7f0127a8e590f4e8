//! The client half of the agreement suite (issue 6 item 4): the catalogue's `token/` and
//! `registry/` scenarios run with `--client curl`, and its `login/`, `pull/` and
//! `auth-files/` scenarios with `--client skopeo` and `--client podman`; every step a real client ran must have the
//! same outcome and diagnosis class as with the builtin client, and the auth files
//! `skopeo login` / `podman login` write must hold the same entries as the builtin
//! client's. Steps a client cannot run are skipped and printed.
//!
//! A missing program (or a podman that cannot run here) makes its trials ignored with
//! the reason, unless `REGHARNESS_REQUIRE_EXTERNAL=1`, which makes them fail.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use regharness::flow::drivers::find_program;
use regharness::runner::{run_scenario, run_scenario_with, RunOptions, ScenarioStatus};
use regharness::scenario::model::{ClientKind, Outcome};
use regharness::scenario::{discover, load_file};

/// Catalogue folders and the clients they are replayed with.
const MATRIX: &[(&str, ClientKind)] = &[
    ("token", ClientKind::Curl),
    ("registry", ClientKind::Curl),
    ("login", ClientKind::Skopeo),
    ("pull", ClientKind::Skopeo),
    ("auth-files", ClientKind::Skopeo),
    ("login", ClientKind::Podman),
    ("pull", ClientKind::Podman),
    ("auth-files", ClientKind::Podman),
];

fn main() {
    let args = Arguments::from_args();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let require = std::env::var("REGHARNESS_REQUIRE_EXTERNAL").as_deref() == Ok("1");
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let mut trials = Vec::new();
    for (folder, client) in MATRIX {
        let files = discover(&[manifest.join("scenarios").join(folder)]).expect("the catalogue");
        assert!(!files.is_empty(), "scenarios/{folder} is empty");
        for (file, _) in files {
            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
            let name = format!("{client}_agrees/{folder}/{stem}");
            let trial = match find_program(*client) {
                Ok(_) => {
                    let runtime = runtime.clone();
                    let manifest = manifest.clone();
                    let client = *client;
                    Trial::test(name, move || {
                        runtime.block_on(compare(client, &file, &manifest, require))
                    })
                }
                Err(why) if require => Trial::test(name, move || {
                    Err(format!("{why} and REGHARNESS_REQUIRE_EXTERNAL=1").into())
                }),
                Err(why) => {
                    eprintln!("SKIPPED ({why}): {name}");
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
            };
            trials.push(trial);
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

async fn compare(
    client: ClientKind,
    file: &Path,
    manifest: &Path,
    require: bool,
) -> Result<(), Failed> {
    let scenario = load_file(file, Some(&manifest.join("scenarios"))).map_err(|e| e.to_string())?;
    let builtin = run_scenario(&scenario).await;
    if builtin.status != ScenarioStatus::Passed {
        return Err(format!("the builtin run failed: {:?}", builtin.reason).into());
    }
    let real = run_scenario_with(
        &scenario,
        RunOptions {
            client: Some(client),
        },
    )
    .await;
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for (index, step) in real.steps.iter().enumerate() {
        if step.outcome == Outcome::Skipped {
            eprintln!("SKIPPED step {}: {}", step.name, step.message);
            if require && step.message.contains("cannot run on this machine") {
                disagreements.push(format!("{}: {}", step.name, step.message));
            }
            continue;
        }
        let Some(expected) = builtin.steps.get(index) else {
            disagreements.push(format!("{}: the builtin run has no such step", step.name));
            continue;
        };
        if step.client == client {
            compared += 1;
        }
        if (step.outcome, step.diagnosis) != (expected.outcome, expected.diagnosis) {
            disagreements.push(format!(
                "{}: {client} → {} [{}] ({}), builtin → {} [{}] ({})",
                step.name,
                step.outcome,
                step.diagnosis,
                step.message,
                expected.outcome,
                expected.diagnosis,
                expected.message
            ));
        }
        // The files the step wrote (auth.json of a login), as the snapshot shows them.
        let files = |report: &regharness::runner::ScenarioReport| {
            report.snapshot["steps"][index]["files"].clone()
        };
        if files(&real) != files(&builtin) {
            disagreements.push(format!(
                "{}: {client} wrote {}, the builtin client {}",
                step.name,
                files(&real),
                files(&builtin)
            ));
        }
    }
    if real.status == ScenarioStatus::Failed {
        disagreements.push(format!("the {client} run failed: {:?}", real.reason));
    }
    if !disagreements.is_empty() {
        return Err(disagreements.join("\n").into());
    }
    if compared == 0 {
        // Nothing of this scenario applies to the client (e.g. `docker login`'s
        // `https://` key, the legacy ~/.dockercfg): said, not counted as agreement. A
        // missing or unusable program is caught above and fails under
        // REGHARNESS_REQUIRE_EXTERNAL=1.
        eprintln!(
            "NOT APPLICABLE ({client}, nothing compared): {}",
            real.reason.as_deref().unwrap_or("every step was skipped")
        );
    }
    Ok(())
}
