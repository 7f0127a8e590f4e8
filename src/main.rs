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
        /// Run every login, token, ping and pull step with this client: builtin, curl
        /// (token, ping), skopeo or podman (login, pull); the real program must be
        /// installed. Steps it cannot run are skipped, with the reason.
        #[arg(long, value_name = "NAME")]
        client: Option<regharness::scenario::model::ClientKind>,
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
    /// Render files a node gets from cluster configuration.
    Render {
        #[command(subcommand)]
        what: RenderCommand,
    },
    /// Seed 003's troubleshooting procedure against any registry: reach it (through the
    /// proxy), read its challenge, get a token (200 good credentials, 401 wrong
    /// credentials, anything else the network), bearer-ping /v2/.
    ///
    /// Without credentials it tests anonymous access. The proxy comes from --proxy, else
    /// from https_proxy/HTTPS_PROXY/http_proxy/NO_PROXY as curl reads them.
    ///
    /// Exit status: 0 every stage passed, 1 a stage failed, 2 usage.
    Probe(ProbeArgs),
    /// Start a scenario's world (default: a demo world) and keep it running for real
    /// programs (curl, skopeo, podman) in another shell.
    ///
    /// Writes the world's CA (ca.pem), a certs.d folder, the SSO's token signing
    /// certificate and, once the world is ready, DIR/env (KEY=VALUE lines: HTTPS_PROXY,
    /// HTTP_PROXY, REGHARNESS_CA_FILE, REGHARNESS_CERT_DIR, REGHARNESS_SSO_SIGNING_CERT,
    /// ...) and DIR/env.sh (the same as `export` lines). Prints them with sample
    /// commands, then every request through its proxy. Without a scenario, the demo
    /// world: registry.redhat.io (bearer), registry.access.redhat.com (anonymous) and a
    /// demo service account (REGHARNESS_DEMO_USERNAME/REGHARNESS_DEMO_PASSWORD).
    ///
    /// Ctrl-C or SIGTERM stops it: DIR/env and DIR/env.sh are removed, the rest of DIR
    /// is kept. Exit status: 0 stopped by a signal, 2 bad scenario or unusable DIR.
    Serve {
        /// A scenario file (default: the demo world).
        scenario: Option<PathBuf>,
        /// Where to write the files (created if missing; default: a new temporary
        /// folder, printed).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Also write the accounts' passwords to DIR/env (REGHARNESS_ACCOUNT_<N>_PASSWORD)
        /// and print them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Benchmark the mocks side by side with the real programs, with the same client:
    /// a blob from the mock registry and from distribution (docker-registry), through
    /// the mock proxy and through squid, and a login + token + pull scenario with the
    /// builtin client against `skopeo inspect`. Prints medians and ratios.
    ///
    /// A missing program makes its row "skipped: X not installed"; the other rows run.
    /// Exit status: 0 every row measured or skipped, 1 a row failed, 2 bad scenario.
    Bench(BenchArgs),
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Size of the blob's content in MiB (the gzip'd layer is a little larger).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    size_mib: usize,
    /// Pulls per blob row.
    #[arg(long, value_name = "N", default_value_t = 3)]
    iterations: usize,
    /// Runs per scenario row.
    #[arg(long, value_name = "N", default_value_t = 5)]
    scenario_runs: usize,
    /// The login + token + pull scenario (default:
    /// scenarios/pull/portal-user-login-then-pull.yaml).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// A smoke run: 1 MiB, one pull and one scenario run per row (overrides the sizes).
    #[arg(long)]
    quick: bool,
    /// Bound of one blob pull, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pull_timeout: u64,
}

#[derive(clap::Args)]
struct ProbeArgs {
    /// The registry's URL, e.g. https://registry.redhat.io (http:// for an insecure one).
    #[arg(long, value_name = "URL")]
    registry: String,
    /// The token endpoint (default: the realm of the registry's challenge).
    #[arg(long, value_name = "URL")]
    sso_url: Option<String>,
    /// Username for the token request.
    #[arg(long, value_name = "USER", requires = "password_source")]
    username: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", group = "password_source")]
    password_env: Option<String>,
    /// Read the password from standard input (one line).
    #[arg(long, group = "password_source")]
    password_stdin: bool,
    /// The scope to ask for.
    #[arg(long, value_name = "SCOPE", default_value = "repository:rhel:pull")]
    scope: String,
    /// Proxy URL (curl's --proxy), e.g. http://proxy.example.com:3128.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Bound of each connection and request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
    /// Print {"stages":[{"name","outcome","status","diagnosis","detail"}],"diagnosis",...}.
    #[arg(long)]
    json: bool,
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
    /// Check an `image.config.openshift.io/cluster` resource (as `oc get image.config.openshift.io/cluster
    /// -o yaml` prints it) with its ImageContentSourcePolicies and trusted-CA ConfigMap, by seed 004's
    /// rules.
    ///
    /// Exit status: 0 no errors (warnings allowed unless --strict), 1 errors, 2 unreadable input.
    ImageConfig {
        /// The Image resource (YAML).
        file: PathBuf,
        /// An ImageContentSourcePolicy (repeatable).
        #[arg(long = "icsp", value_name = "FILE")]
        icsps: Vec<PathBuf>,
        /// The additionalTrustedCA ConfigMap.
        #[arg(long, value_name = "FILE")]
        ca_configmap: Option<PathBuf>,
        /// Warnings fail too.
        #[arg(long)]
        strict: bool,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What `regharness render` renders.
#[derive(Subcommand)]
enum RenderCommand {
    /// Write the node files the Machine Config Operator renders from the cluster image
    /// configuration.
    ///
    /// From an `image.config.openshift.io/cluster` resource, its ImageContentSourcePolicies
    /// and its additionalTrustedCA ConfigMap: /etc/containers/policy.json,
    /// /etc/containers/registries.conf, registries.conf.d/01-image-searchRegistries.conf and
    /// /etc/docker/certs.d/HOST[:PORT]/ca.crt, written under --out at their node paths
    /// (other files already there are left alone). Prints each file with what applying it
    /// needs on a node (reload CRI-O, drain, reboot).
    ///
    /// Exit status: 0 written, 1 the Machine Config Operator would refuse the
    /// configuration, 2 unreadable input or an unwritable --out.
    NodeConfig(NodeConfigArgs),
}

#[derive(clap::Args)]
struct NodeConfigArgs {
    /// The Image resource (YAML, as `oc get image.config.openshift.io/cluster -o yaml` prints it).
    #[arg(long, value_name = "FILE")]
    image_config: PathBuf,
    /// An ImageContentSourcePolicy (repeatable).
    #[arg(long = "icsp", value_name = "FILE")]
    icsps: Vec<PathBuf>,
    /// The additionalTrustedCA ConfigMap (must be the one spec.additionalTrustedCA names).
    #[arg(long, value_name = "FILE")]
    ca_configmap: Option<PathBuf>,
    /// The cluster's release image (`oc get clusterversion version -o
    /// jsonpath='{.status.desired.image}'`): blocked registries that would cut nodes off the
    /// payload are then skipped as the Machine Config Operator does.
    #[arg(long, value_name = "IMAGE")]
    release_image: Option<String>,
    /// Directory to write the files under (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print {"out", "files": [{"path", "written", "change", "action"}], "node_action", "notes"}.
    #[arg(long)]
    json: bool,
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
            client,
        } => run(paths, filter, jobs, json, junit, verbose, client),
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
        Command::Render {
            what: RenderCommand::NodeConfig(args),
        } => render_node_config(&args),
        Command::Probe(args) => probe(args),
        Command::Serve {
            scenario,
            state_dir,
            show_secrets,
        } => serve(regharness::serve::ServeOptions {
            scenario,
            state_dir,
            show_secrets,
        }),
        Command::Bench(args) => bench(args),
    }
}

/// `regharness bench ...`.
fn bench(args: BenchArgs) -> ExitCode {
    use regharness::bench::{self, BenchOptions, RowResult};
    let path = args.scenario.unwrap_or_else(bench::default_scenario);
    let scenario = match load_file(&path, None) {
        Ok(s) => s,
        Err(e) => return usage_error(&[e]),
    };
    if let Err(e) = bench::scenario::login_and_image(&scenario) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let options = if args.quick {
        BenchOptions {
            size_mib: 1,
            iterations: 1,
            scenario_runs: 1,
            pull_timeout: std::time::Duration::from_secs(args.pull_timeout),
        }
    } else {
        BenchOptions {
            size_mib: args.size_mib,
            iterations: args.iterations,
            scenario_runs: args.scenario_runs,
            pull_timeout: std::time::Duration::from_secs(args.pull_timeout),
        }
    };
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let rows = runtime.block_on(bench::run(&options, &scenario, &mut |line| {
        println!("{line}")
    }));
    if rows
        .iter()
        .any(|r| matches!(r.result, RowResult::Failed(_)))
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `regharness serve ...`.
fn serve(options: regharness::serve::ServeOptions) -> ExitCode {
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(regharness::serve::serve(&options, &mut stdout)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `regharness probe ...`.
fn probe(args: ProbeArgs) -> ExitCode {
    use regharness::flow::registry_auth::Credentials;
    use regharness::probe::{self, ProbeTarget};
    let usage = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    };
    let parse_url = |what: &str, value: &str| -> Result<url::Url, String> {
        let url = url::Url::parse(value)
            .map_err(|e| format!("{what} {value:?}: {e}; expected https://host[:port]"))?;
        match url.scheme() {
            "https" | "http" => Ok(url),
            other => Err(format!(
                "{what} {value:?}: scheme {other:?}; expected https or http"
            )),
        }
    };
    let registry = match parse_url("--registry", &args.registry) {
        Ok(u) => u,
        Err(e) => return usage(e),
    };
    let sso_url = match args
        .sso_url
        .as_deref()
        .map(|u| parse_url("--sso-url", u))
        .transpose()
    {
        Ok(u) => u,
        Err(e) => return usage(e),
    };
    let password = if let Some(var) = &args.password_env {
        match std::env::var(var) {
            Ok(p) => Some(p),
            Err(_) => return usage(format!("--password-env {var}: the variable is not set")),
        }
    } else if args.password_stdin {
        let mut line = String::new();
        if let Err(e) = std::io::stdin().read_line(&mut line) {
            return usage(format!("--password-stdin: {e}"));
        }
        Some(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        None
    };
    let credentials = match (args.username, password) {
        (Some(username), Some(password)) => Some(Credentials { username, password }),
        (None, None) => None,
        (Some(_), None) => {
            return usage("--username needs --password-env or --password-stdin".into())
        }
        (None, Some(_)) => return usage("a password needs --username".into()),
    };
    let secrets = regharness::redact::SecretSet::default();
    if let Some(c) = &credentials {
        secrets.add_credentials(&c.username, &c.password);
    }
    let timeout = std::time::Duration::from_secs(args.timeout.max(1));
    let client = match probe::system_client(args.proxy.as_deref(), args.ca_file.as_deref(), timeout)
    {
        Ok(c) => c,
        Err(e) => return usage(secrets.redact(&e)),
    };
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let target = ProbeTarget {
        registry,
        sso_url,
        credentials,
        scope: args.scope,
    };
    let report = runtime.block_on(probe::run(client, &target));
    if args.json {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        println!("{}", secrets.redact(&text));
    } else {
        print!("{}", secrets.redact(&probe::to_human(&report)));
    }
    ExitCode::from(report.exit_code())
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
        CheckCommand::ImageConfig {
            file,
            icsps,
            ca_configmap,
            strict,
            json,
        } => check_image_config(&file, &icsps, ca_configmap.as_deref(), strict, json),
    }
}

/// `regharness check image-config ...`.
fn check_image_config(
    file: &std::path::Path,
    icsp_files: &[PathBuf],
    ca_file: Option<&std::path::Path>,
    strict: bool,
    json: bool,
) -> ExitCode {
    use regharness::node_config::input::{self, CONFIGMAP_KIND, ICSP_KIND, IMAGE_KIND};
    use regharness::node_config::validate;
    let loaded = (|| {
        let image: input::ImageConfig = input::read(file, IMAGE_KIND)?;
        let icsps = icsp_files
            .iter()
            .map(|f| input::read(f, ICSP_KIND))
            .collect::<Result<Vec<input::ImageContentSourcePolicy>, _>>()?;
        let ca: Option<input::ConfigMap> = ca_file
            .map(|f| input::read(f, CONFIGMAP_KIND))
            .transpose()?;
        Ok::<_, input::InputError>((image, icsps, ca))
    })();
    match loaded {
        Ok((image, icsps, ca)) => {
            let report = validate::check(&image, &icsps, ca.as_ref());
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", report.to_human());
            }
            ExitCode::from(report.exit_code(strict))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `regharness render node-config ...`.
fn render_node_config(args: &NodeConfigArgs) -> ExitCode {
    use regharness::node_config::input::{self, CONFIGMAP_KIND, ICSP_KIND, IMAGE_KIND};
    use regharness::node_config::render::{self, report, RenderOptions};
    let loaded = (|| {
        let image: input::ImageConfig = input::read(&args.image_config, IMAGE_KIND)?;
        let icsps = args
            .icsps
            .iter()
            .map(|f| input::read(f, ICSP_KIND))
            .collect::<Result<Vec<input::ImageContentSourcePolicy>, _>>()?;
        let ca: Option<input::ConfigMap> = args
            .ca_configmap
            .as_deref()
            .map(|f| input::read(f, CONFIGMAP_KIND))
            .transpose()?;
        Ok::<_, input::InputError>((image, icsps, ca))
    })();
    let (image, icsps, ca) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let options = RenderOptions {
        release_image: args.release_image.clone(),
    };
    let rendering = match render::render_with(&image, &icsps, ca.as_ref(), &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let written = match rendering.files.write_to(&args.out) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: writing under {}: {e}", args.out.display());
            return ExitCode::from(2);
        }
    };
    let report = report::report(&rendering, &args.out, &written);
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_human());
    }
    ExitCode::SUCCESS
}

fn run(
    paths: Vec<PathBuf>,
    filter: Option<String>,
    jobs: usize,
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    verbose: bool,
    client: Option<regharness::scenario::model::ClientKind>,
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
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let started = Instant::now();
    let reports = runtime.block_on(runner::run_all(
        scenarios,
        jobs,
        runner::RunOptions { client },
    ));
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

/// The multi-threaded runtime of a subcommand; exit status 2 when it cannot start.
fn async_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        })
}
