//! One test per scenario file of the catalogue, named after its path
//! (`token/wrong-password-401`), filterable with `cargo test --test scenarios -- NAME`
//! and under `cargo nextest`. Each scenario's redacted transcript and generated files
//! are compared with its insta snapshot in `tests/snapshots/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use regharness::report::human;
use regharness::runner::{run_scenario, ScenarioStatus};
use regharness::scenario::{discover, load_file};

fn main() {
    let args = Arguments::from_args();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let catalogue = manifest.join("scenarios");
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let files = match discover(std::slice::from_ref(&catalogue)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot read the catalogue: {e}");
            std::process::exit(2);
        }
    };
    let trials: Vec<Trial> = files
        .into_iter()
        .map(|(file, root)| {
            let name = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            let runtime = runtime.clone();
            let snapshots = manifest.join("tests/snapshots");
            Trial::test(name.clone(), move || {
                run_one(&runtime, &file, &root, &name, &snapshots)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_one(
    runtime: &tokio::runtime::Runtime,
    file: &Path,
    root: &Path,
    name: &str,
    snapshots: &Path,
) -> Result<(), Failed> {
    let scenario = load_file(file, Some(root)).map_err(|e| e.to_string())?;
    let report = runtime.block_on(run_scenario(&scenario));
    if report.status != ScenarioStatus::Passed {
        return Err(human::scenario_line(&report, true).into());
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshots);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("scenarios/{name}.yaml"));
    let snapshot_name = name.replace('/', "__");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_yaml_snapshot!(snapshot_name, report.snapshot));
    }));
    outcome.map_err(|p| {
        let text = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "snapshot assertion failed".into());
        Failed::from(format!("snapshot of {name} does not match: {text}"))
    })
}
