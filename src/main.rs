//! The `regharness` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use regharness::report;
use regharness::runner::{self, ScenarioStatus};
use regharness::scenario::{discover, load_file, LoadError, Scenario};

/// End-to-end conformance harness for container-registry authentication.
///
/// Starts in-process mocks of Red Hat's SSO and registries, drives login, token and
/// pull flows against them, and checks each step's expected outcome and diagnosis.
#[derive(Parser)]
#[command(name = "regharness", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (default: the built-in catalogue in scenarios/).
    ///
    /// Exit status: 0 all passed, 1 any failed, 2 bad input or usage.
    Run {
        /// Scenario files or folders (searched recursively for *.yaml).
        paths: Vec<PathBuf>,
        /// Only scenarios whose name contains TEXT.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Scenarios run at once, each in its own world.
        #[arg(long, value_name = "N", default_value_t = 8)]
        jobs: usize,
        /// Write the JSON report to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Print every step, not only those of failed scenarios.
        #[arg(long, short)]
        verbose: bool,
    },
    /// List scenarios: name and description.
    List {
        /// Scenario files or folders.
        paths: Vec<PathBuf>,
    },
    /// Check a file without running scenarios.
    Check {
        #[command(subcommand)]
        what: CheckCommand,
    },
}

/// What `regharness check` checks.
#[derive(Subcommand)]
enum CheckCommand {
    /// Check a pull secret: a Kubernetes Secret (YAML or JSON), .dockercfg, config.json or
    /// auth.json, as the API server and the kubelet read it. Prints no secret value.
    ///
    /// Exit status: 0 no findings, 1 findings, 2 unreadable input.
    PullSecret {
        /// The file to check.
        file: PathBuf,
        /// Show which entry the kubelet would use for IMAGE (repeatable).
        #[arg(long = "image", value_name = "IMAGE")]
        images: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REGHARNESS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            paths,
            filter,
            jobs,
            json,
            junit,
            verbose,
        } => run(paths, filter, jobs, json, junit, verbose),
        Command::List { paths } => match load_all(&paths) {
            Ok(scenarios) => {
                for s in scenarios {
                    println!("{}\n    {}", s.name, s.spec.description.trim());
                }
                ExitCode::SUCCESS
            }
            Err(e) => usage_error(&e),
        },
        Command::Check { what } => check(what),
    }
}

/// `regharness check ...`.
fn check(what: CheckCommand) -> ExitCode {
    use regharness::cluster::check::{check_pull_secret, read_input};
    match what {
        CheckCommand::PullSecret { file, images, json } => {
            let name = file.display().to_string();
            match read_input(&file).and_then(|text| check_pull_secret(&name, &text, &images)) {
                Ok(report) => {
                    if json {
                        println!("{}", report.to_json());
                    } else {
                        print!("{}", report.to_human());
                    }
                    ExitCode::from(report.exit_code())
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn run(
    paths: Vec<PathBuf>,
    filter: Option<String>,
    jobs: usize,
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    verbose: bool,
) -> ExitCode {
    if jobs == 0 {
        eprintln!("error: --jobs must be at least 1");
        return ExitCode::from(2);
    }
    let mut scenarios = match load_all(&paths) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    if let Some(f) = &filter {
        scenarios.retain(|s| s.name.contains(f.as_str()));
    }
    if scenarios.is_empty() {
        eprintln!("error: no scenario to run");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let reports = runtime.block_on(runner::run_all(scenarios, jobs));
    let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    for r in &reports {
        println!("{}", report::human::scenario_line(r, verbose));
    }
    println!("{}", report::human::summary_line(&reports, wall_ms));
    if let Some(path) = json {
        if let Err(e) = std::fs::write(&path, report::json::render(&reports, wall_ms)) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = junit {
        let xml = match report::junit::render(&reports) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: rendering JUnit XML: {e}");
                return ExitCode::from(2);
            }
        };
        if let Err(e) = std::fs::write(&path, xml) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if reports.iter().any(|r| r.status == ScenarioStatus::Failed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The catalogue folder: `./scenarios`, else the one beside the sources.
fn default_paths() -> Vec<PathBuf> {
    let local = PathBuf::from("scenarios");
    if local.is_dir() {
        return vec![local];
    }
    vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")]
}

/// Loads every scenario; all load errors are reported, not only the first.
fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let paths = if paths.is_empty() {
        default_paths()
    } else {
        paths.to_vec()
    };
    let files = discover(&paths).map_err(|e| vec![e])?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for (file, root) in files {
        match load_file(&file, Some(&root)) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

fn usage_error(errors: &[LoadError]) -> ExitCode {
    for e in errors {
        eprintln!("error: {e}");
    }
    ExitCode::from(2)
}
