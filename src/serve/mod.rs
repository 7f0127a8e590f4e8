//! `regharness serve`: a scenario's world kept running for manual reproduction with
//! real programs (curl, skopeo, podman) in another shell.
//!
//! [`Served::start`] loads the scenario (or the embedded [demo world](demo)), starts the
//! world, exposes it with a [`WorldExposure`] in the state folder (`ca.pem`, `certs.d/`),
//! writes the SSO's token signing certificate (`sso-signing-cert.pem`) and then, last,
//! `env` and `env.sh` ([`env`]): `DIR/env` appearing means the world is ready.
//! [`Served::stop`] removes `env` and `env.sh` (they name a proxy that no longer
//! exists, and scripts wait for `env` to appear) and keeps everything else: the CA, the
//! certificates and any `auth.json` a `podman login` wrote there stay for inspection.

pub mod banner;
pub mod demo;
pub mod env;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::redact::SecretSet;
use crate::scenario::{load_file, LoadError, Scenario};
use crate::world::exposure::WorldExposure;
use crate::world::{World, WorldError};

pub use env::{EnvFileError, EnvVars};

/// The SSO's token signing certificate, in the state folder.
pub const SSO_SIGNING_CERT_FILE: &str = "sso-signing-cert.pem";
/// The auth file `REGISTRY_AUTH_FILE` points podman and skopeo at, in the state folder.
pub const AUTH_FILE: &str = "auth.json";

/// Errors of `regharness serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The scenario could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The world could not start.
    #[error("starting the world: {0}")]
    World(#[from] WorldError),
    /// A file of the state folder could not be written.
    #[error("state folder {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The env files could not be written or removed.
    #[error("state folder: {0}")]
    Env(#[from] EnvFileError),
    /// The signal handlers could not be installed.
    #[error("cannot listen for Ctrl-C/SIGTERM: {0}")]
    Signal(std::io::Error),
}

/// What to serve.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// A scenario file; `None`: the demo world.
    pub scenario: Option<PathBuf>,
    /// The state folder (created if missing); `None`: a new temporary folder, kept.
    pub state_dir: Option<PathBuf>,
    /// Write and print the accounts' passwords (never needed for the demo account).
    pub show_secrets: bool,
}

/// One account of the served world, as `DIR/env` names it.
#[derive(Debug, Clone)]
pub struct ServedAccount {
    /// `REGHARNESS_ACCOUNT_<n>` (1-based, in the scenario's order).
    pub prefix: String,
    /// The username (not a secret).
    pub username: String,
    /// Whether `<prefix>_PASSWORD` was written.
    pub password_written: bool,
}

/// A running world with its exposure and state folder.
pub struct Served {
    // Field order is drop order: the proxy goes before the world it forwards to.
    exposure: WorldExposure,
    world: World,
    name: String,
    demo: bool,
    state_dir: PathBuf,
    env: EnvVars,
    accounts: Vec<ServedAccount>,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("name", &self.name)
            .field("state_dir", &self.state_dir)
            .field("proxy", &self.exposure.proxy_url())
            .finish_non_exhaustive()
    }
}

impl Served {
    /// Starts the world and writes the state folder; `DIR/env` is written last.
    pub async fn start(options: &ServeOptions) -> Result<Self, ServeError> {
        let (scenario, demo) = match &options.scenario {
            Some(path) => (load_file(path, None)?, false),
            None => (demo::scenario()?, true),
        };
        let state_dir = match &options.state_dir {
            Some(dir) => dir.clone(),
            None => new_temp_dir()?,
        };
        std::fs::create_dir_all(&state_dir).map_err(|source| ServeError::Io {
            path: state_dir.clone(),
            source,
        })?;
        // A stale env of an earlier run must not look like this run being ready.
        env::remove(&state_dir)?;
        Self::start_world(scenario, demo, state_dir, options.show_secrets).await
    }

    async fn start_world(
        scenario: Scenario,
        demo: bool,
        state_dir: PathBuf,
        show_secrets: bool,
    ) -> Result<Self, ServeError> {
        let world = World::start(&scenario.spec.world, SecretSet::default()).await?;
        let exposure = WorldExposure::start(&world, &state_dir).await?;
        let signing_cert = state_dir.join(SSO_SIGNING_CERT_FILE);
        std::fs::write(&signing_cert, world.sso().signing_certificate_pem()).map_err(|source| {
            ServeError::Io {
                path: signing_cert.clone(),
                source,
            }
        })?;

        let mut vars = EnvVars::new();
        for (k, v) in exposure.go_env() {
            vars.set(k, v);
        }
        vars.set(
            "REGISTRY_AUTH_FILE",
            state_dir.join(AUTH_FILE).display().to_string(),
        );
        vars.set("REGHARNESS_PROXY", exposure.proxy_url());
        vars.set(
            "REGHARNESS_CA_FILE",
            exposure.ca_file().display().to_string(),
        );
        vars.set(
            "REGHARNESS_CERT_DIR",
            exposure.cert_dir().display().to_string(),
        );
        vars.set(
            "REGHARNESS_SSO_SIGNING_CERT",
            signing_cert.display().to_string(),
        );
        vars.set("REGHARNESS_SSO_TOKEN_URL", world.sso().realm_url());
        let registries: Vec<&str> = world.registries().iter().map(|r| r.host.as_str()).collect();
        vars.set("REGHARNESS_REGISTRIES", registries.join(","));
        let mut accounts = Vec::new();
        for (i, account) in world.accounts().all().iter().enumerate() {
            let prefix = format!("REGHARNESS_ACCOUNT_{}", i + 1);
            vars.set(format!("{prefix}_USERNAME"), &account.username);
            if show_secrets {
                vars.set(format!("{prefix}_PASSWORD"), account.current_secret());
            }
            accounts.push(ServedAccount {
                prefix,
                username: account.username.clone(),
                password_written: show_secrets,
            });
        }
        if demo {
            vars.set("REGHARNESS_DEMO_USERNAME", demo::USERNAME);
            vars.set("REGHARNESS_DEMO_PASSWORD", demo::PASSWORD);
        }
        vars.write(&state_dir)?;
        Ok(Self {
            exposure,
            world,
            name: if demo {
                demo::NAME.to_string()
            } else {
                scenario.name
            },
            demo,
            state_dir,
            env: vars,
            accounts,
        })
    }

    /// The scenario's name (`demo` for the demo world).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is the demo world.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The state folder.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// What `DIR/env` holds.
    pub fn env(&self) -> &EnvVars {
        &self.env
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The exposure (proxy, CA files).
    pub fn exposure(&self) -> &WorldExposure {
        &self.exposure
    }

    /// The accounts as `DIR/env` names them.
    pub fn accounts(&self) -> &[ServedAccount] {
        &self.accounts
    }

    /// What to print once ready: the environment and sample commands.
    pub fn banner(&self) -> String {
        banner::render(self)
    }

    /// Stops the proxy and the world and removes `DIR/env` and `DIR/env.sh`; the rest
    /// of the state folder is kept.
    pub fn stop(self) -> Result<PathBuf, ServeError> {
        env::remove(&self.state_dir)?;
        let Self {
            exposure,
            world,
            state_dir,
            ..
        } = self;
        drop(exposure);
        drop(world);
        Ok(state_dir)
    }
}

/// `regharness-serve-XXXXXX` under the system's temporary folder, kept after exit.
fn new_temp_dir() -> Result<PathBuf, ServeError> {
    tempfile::Builder::new()
        .prefix("regharness-serve-")
        .tempdir()
        .map(|d| d.keep())
        .map_err(|source| ServeError::Io {
            path: std::env::temp_dir(),
            source,
        })
}

/// Which signal ended [`wait_for_shutdown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Ctrl-C.
    Interrupt,
    /// `kill` / `systemctl stop`.
    Terminate,
}

/// Ctrl-C (SIGINT) and SIGTERM handlers, installed by [`Signals::install`] (from then
/// on the signals no longer kill the process) and awaited with [`Signals::recv`].
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; must run inside a tokio runtime.
    pub fn install() -> Result<Self, ServeError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                term: signal(SignalKind::terminate()).map_err(ServeError::Signal)?,
                int: signal(SignalKind::interrupt()).map_err(ServeError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the first of the two signals.
    pub async fn recv(&mut self) -> Result<Shutdown, ServeError> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => Ok(Shutdown::Interrupt),
                _ = self.term.recv() => Ok(Shutdown::Terminate),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.map_err(ServeError::Signal)?;
            Ok(Shutdown::Interrupt)
        }
    }
}

/// The whole command: start, print the banner, print each proxied request as it
/// happens, stop on Ctrl-C/SIGTERM. Lines go to `out` (stdout for the CLI).
pub async fn serve(
    options: &ServeOptions,
    out: &mut (dyn std::io::Write + Send),
) -> Result<Shutdown, ServeError> {
    // Signal handlers first: a SIGTERM right after `DIR/env` appears must stop cleanly.
    let mut signals = Signals::install()?;
    let served = Served::start(options).await?;
    let _ = writeln!(out, "{}", served.banner());
    let _ = out.flush();
    let mut seen = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let signal = loop {
        tokio::select! {
            signal = signals.recv() => break signal,
            _ = tick.tick() => {
                let events = served.exposure().proxy_events();
                for e in events.iter().skip(seen) {
                    let _ = writeln!(out, "proxy: {} -> {} {}", e.request, e.status, e.reason);
                }
                seen = seen.max(events.len());
                let _ = out.flush();
            }
        }
    };
    let dir = served.stop()?;
    let _ = writeln!(
        out,
        "stopped ({}); removed env and env.sh, kept {}",
        match signal {
            Ok(Shutdown::Interrupt) => "Ctrl-C",
            Ok(Shutdown::Terminate) => "SIGTERM",
            Err(_) => "signal handling failed",
        },
        dir.display()
    );
    signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_state_folder_env_and_stop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).expect("state");
        std::fs::write(state.join("env"), "STALE=1\n").expect("stale env");
        let options = ServeOptions {
            state_dir: Some(state.clone()),
            ..ServeOptions::default()
        };
        let served = Served::start(&options).await.expect("serve");
        assert!(served.is_demo());
        let written = EnvVars::parse(&std::fs::read_to_string(state.join("env")).expect("env"));
        assert_eq!(&written, served.env());
        assert_eq!(written.get("STALE"), None);
        assert_eq!(
            written.get("REGHARNESS_SSO_SIGNING_CERT"),
            Some(
                state
                    .join(SSO_SIGNING_CERT_FILE)
                    .display()
                    .to_string()
                    .as_str()
            )
        );
        assert_eq!(
            std::fs::read_to_string(state.join(SSO_SIGNING_CERT_FILE)).expect("cert"),
            served.world().sso().signing_certificate_pem()
        );
        assert_eq!(
            written.get("REGHARNESS_DEMO_USERNAME"),
            Some(demo::USERNAME)
        );
        assert_eq!(
            written.get("REGHARNESS_DEMO_PASSWORD"),
            Some(demo::PASSWORD)
        );
        let banner = served.banner();
        assert!(
            banner.contains("docker://registry.redhat.io/rhel8/pcp:latest"),
            "{banner}"
        );
        assert!(banner.contains("scope=repository:rhel:pull\""), "{banner}");
        let kept = served.stop().expect("stop");
        assert_eq!(kept, state);
        assert!(!state.join("env").exists());
        assert!(!state.join("env.sh").exists());
        assert!(state.join("ca.pem").is_file());
        assert!(state.join("certs.d/registry.redhat.io/ca.crt").is_file());
    }
}
