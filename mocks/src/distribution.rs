//! A real CNCF distribution registry (Debian's `docker-registry`) as a child process,
//! configured with token authentication against a [`TokenService`]: the proof that real
//! registries accept the mock SSO's tokens, and a real server for tools to probe.
//!
//! The process listens on a free 127.0.0.1 port, keeps its data and log in a temporary
//! folder, and is killed when the [`Distribution`] is dropped, however the test ends.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use regharness_mocks::distribution::Distribution;
//! use regharness_mocks::TokenService;
//! let sso = TokenService::builder().start().await?;
//! let Some(program) = Distribution::find_program() else { return Ok(()) };
//! let registry = Distribution::start(&program, &sso).await?;
//! println!("distribution at http://{}", registry.addr());
//! # Ok(()) }
//! ```

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::child::GroupChild;
use crate::sso::TokenService;

mod push;
pub use push::PushError;

/// The Debian program name.
pub const PROGRAM: &str = "docker-registry";
/// The `service` (token audience) the registry is configured with.
pub const SERVICE: &str = "docker-registry";
/// How long the registry may take to listen.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors starting the registry.
#[derive(Debug, thiserror::Error)]
pub enum DistributionError {
    /// A file or the process could not be created.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The process exited or did not listen in time.
    #[error("{message}\nregistry log (tail):\n{log}")]
    NotListening {
        /// What happened.
        message: String,
        /// The end of its log.
        log: String,
    },
}

/// A running `docker-registry serve` trusting a [`TokenService`].
pub struct Distribution {
    addr: SocketAddr,
    log: PathBuf,
    // Field order: the process group dies before its folder goes.
    child: GroupChild,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Distribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Distribution")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Distribution {
    /// The program: `REGHARNESS_DOCKER_REGISTRY` if set, else `/usr/bin/docker-registry`,
    /// else `docker-registry` on `PATH`.
    pub fn find_program() -> Option<PathBuf> {
        crate::child::find_program(
            "REGHARNESS_DOCKER_REGISTRY",
            PROGRAM,
            &["/usr/bin/docker-registry"],
        )
    }

    /// Starts `program` with token auth: realm `sso`'s local token URL, issuer `sso`'s,
    /// `rootcertbundle` its signing certificate. Retries on a port taken meanwhile.
    pub async fn start(program: &Path, sso: &TokenService) -> Result<Self, DistributionError> {
        Self::start_with(program, sso, Some(&sso.local_realm_url())).await
    }

    /// Starts `program` trusting `sso`'s tokens with `realm` in its challenges (the
    /// public realm URL a world resolves, e.g. `https://sso.redhat.com/...`); `None`:
    /// no `auth` section, anyone may pull and push (an anonymous registry).
    pub async fn start_with(
        program: &Path,
        sso: &TokenService,
        realm: Option<&str>,
    ) -> Result<Self, DistributionError> {
        let io = |what: String| move |source| DistributionError::Io { what, source };
        let dir = tempfile::tempdir().map_err(io("temporary directory".into()))?;
        let bundle = dir.path().join("sso-signing.pem");
        std::fs::write(&bundle, sso.signing_certificate_pem())
            .map_err(io(format!("writing {}", bundle.display())))?;
        let log = dir.path().join("registry.log");
        let mut last = None;
        for _ in 0..3 {
            let addr = free_port().map_err(io("probing a free port".into()))?;
            let config = dir.path().join("config.yml");
            std::fs::write(&config, config_yaml(dir.path(), addr, sso, realm, &bundle))
                .map_err(io(format!("writing {}", config.display())))?;
            match spawn(program, &config, &log, addr).await {
                Ok(child) => {
                    return Ok(Self {
                        addr,
                        log,
                        child,
                        _dir: dir,
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(DistributionError::NotListening {
            message: last.unwrap_or_default(),
            log: log_tail(&log),
        })
    }

    /// Where it listens (plain HTTP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last 30 lines of its log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// YAML with every string JSON-quoted (a JSON string is a YAML double-quoted scalar).
fn config_yaml(
    dir: &Path,
    addr: SocketAddr,
    sso: &TokenService,
    realm: Option<&str>,
    bundle: &Path,
) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let auth = match realm {
        Some(realm) => format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {bundle}\n",
            realm = q(realm),
            service = q(SERVICE),
            issuer = q(&sso.issuer()),
            bundle = q(&bundle.display().to_string()),
        ),
        None => String::new(),
    };
    format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {root}\n\
         http:\n  addr: {addr}\n  secret: {secret}\n{auth}",
        root = q(&dir.join("data").display().to_string()),
        addr = q(&addr.to_string()),
        secret = q("regharness-distribution"),
    )
}

async fn spawn(
    program: &Path,
    config: &Path,
    log: &Path,
    addr: SocketAddr,
) -> Result<GroupChild, String> {
    let log_file = std::fs::File::create(log).map_err(|e| format!("creating the log: {e}"))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| format!("creating the log: {e}"))?;
    let mut command = Command::new(program);
    command
        .arg("serve")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err));
    // REGISTRY_* variables override the configuration file.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("REGISTRY_") {
            command.env_remove(key);
        }
    }
    let mut child = GroupChild::spawn(&mut command)
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited with {status}", program.display()));
        }
        if Instant::now() > deadline {
            child.kill();
            return Err(format!(
                "{} did not listen on {addr} within {LISTEN_TIMEOUT:?}",
                program.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
