//! A driver for the real skopeo, run against a world through its
//! [`WorldExposure`].
//!
//! Each run is isolated: a cleared environment with `HOME`, `XDG_RUNTIME_DIR`,
//! `XDG_CONFIG_HOME` and `TMPDIR` in a fresh temp folder, `REGISTRY_AUTH_FILE` pointing at
//! the given auth file (or at an absent one), the exposure's proxy and CA variables, and
//! no `CONTAINERS_REGISTRIES_CONF`. Each run is bounded: past its timeout skopeo is
//! killed and the run says `timed_out`.
//!
//! What stays shared with the host: `--registries-conf` replaces
//! `/etc/containers/registries.conf`, but containers/image still merges the drop-ins of
//! `/etc/containers/registries.conf.d/*.conf` and of `$HOME/.config/containers/
//! registries.conf.d` (skopeo has no flag for the folders; the `$HOME` one is inside the
//! sandbox). Seen with `strace` on skopeo 1.9.3: it opens
//! `/etc/containers/registries.conf.d/shortnames.conf`. On Debian that file holds
//! `[aliases]` only (`"rhel" = "registry.access.redhat.com/rhel"`, `"ubi8/ubi" = ...`).
//! Aliases apply to short-name resolution, which skopeo's `docker://` transport never
//! does (it normalises `rhel8/pcp` to `docker.io/rhel8/pcp`), so with fully qualified
//! references they change nothing here; for podman (a later differential test) they
//! would bypass `unqualified-search-registries` and `short-name-mode` for the aliased
//! names. A drop-in with `[[registry]]` tables would change every run. skopeo's
//! `blocked` message names the per-user folder only: `registry X is blocked in <conf> or
//! <HOME>/.config/containers/registries.conf.d`.
//!
//! The signature policy is `/etc/containers/policy.json` (Debian:
//! `insecureAcceptAnything`) unless [`SkopeoCopy::policy`] is given; the system's
//! `/etc/containers/certs.d` and `/etc/docker/certs.d` are read unless
//! [`SkopeoCopy::cert_dir`] is given.

pub mod classify;
pub(crate) mod process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diagnosis::DiagnosisClass;
use crate::world::exposure::WorldExposure;

pub use classify::SkopeoFailure;

/// The program's name on `PATH`.
pub const PROGRAM: &str = "skopeo";
/// The variable that names the program explicitly.
pub const PROGRAM_ENV: &str = "REGHARNESS_SKOPEO";
/// The default bound of one run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// What replaces the password in a run's recorded arguments.
pub const REDACTED_PASSWORD: &str = "<redacted>";
/// The bound of `skopeo --version`.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The real skopeo program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skopeo {
    program: PathBuf,
}

impl Skopeo {
    /// `REGHARNESS_SKOPEO` (when it names a file) or `skopeo` on `PATH`; `None` when
    /// absent (callers report "skipped: skopeo not installed").
    pub fn find() -> Option<Self> {
        if let Some(path) = std::env::var_os(PROGRAM_ENV) {
            return Some(PathBuf::from(path))
                .filter(|p| p.is_file())
                .map(Self::at);
        }
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths)
            .map(|dir| dir.join(PROGRAM))
            .find(|p| p.is_file())
            .map(Self::at)
    }

    /// The program at `program` (not checked until it runs).
    pub fn at(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }

    /// The program's path.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The version `skopeo --version` reports (`1.9.3`), or `None` when it does not run.
    /// Blocks for as long as the program takes (bounded to 10 s).
    pub fn version(&self) -> Option<String> {
        let env: Vec<(String, String)> = std::env::var("PATH")
            .map(|p| vec![("PATH".to_string(), p)])
            .unwrap_or_default();
        let run = process::run_bounded(
            &self.program,
            &["--version".to_string()],
            &env,
            Path::new("/"),
            VERSION_TIMEOUT,
        );
        if run.exit_code != Some(0) {
            return None;
        }
        parse_version(&run.stdout)
    }

    /// `skopeo [--registries-conf F] [--policy P] copy [--src-creds U:P | --src-no-creds]
    /// [--src-cert-dir D] docker://IMAGE dir:TMP` (copy, not inspect: only copy
    /// evaluates the signature policy), isolated and bounded as the module describes.
    /// Never fails: a program that cannot start is a run without exit code whose
    /// `stderr` says why.
    ///
    /// ```no_run
    /// use regharness::client::skopeo::{Skopeo, SkopeoCopy};
    /// use regharness::redact::SecretSet;
    /// use regharness::scenario::model::WorldSpec;
    /// use regharness::world::{exposure::WorldExposure, World};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let Some(skopeo) = Skopeo::find() else {
    ///     println!("skipped: skopeo not installed");
    ///     return;
    /// };
    /// let world = World::start(&WorldSpec::default(), SecretSet::default()).await.unwrap();
    /// let dir = tempfile::tempdir().unwrap();
    /// let exposure = WorldExposure::start(&world, dir.path()).await.unwrap();
    /// let run = skopeo
    ///     .copy(&SkopeoCopy::new("registry.access.redhat.com/rhel8/pcp:latest", &exposure))
    ///     .await;
    /// assert!(run.succeeded(), "{}", run.stderr);
    /// assert_eq!(run.diagnosis_class(), None);
    /// # });
    /// ```
    pub async fn copy(&self, request: &SkopeoCopy<'_>) -> SkopeoRun {
        let credentials_sent = request.creds.is_some() || request.auth_file.is_some();
        let sandbox = match Sandbox::new() {
            Ok(s) => s,
            Err(e) => {
                return SkopeoRun::not_started(
                    request,
                    credentials_sent,
                    format!("cannot prepare the sandbox: {e}"),
                )
            }
        };
        let destination = sandbox.root().join("image");
        let args = request.arguments(&destination, false);
        let env = request.environment(&sandbox);
        let program = self.program.clone();
        let cwd = sandbox.root().to_path_buf();
        let timeout = request.timeout;
        let run_args = args.clone();
        let finished = tokio::task::spawn_blocking(move || {
            process::run_bounded(&program, &run_args, &env, &cwd, timeout)
        })
        .await
        .unwrap_or_else(|e| process::Finished::not_started(format!("skopeo's runner failed: {e}")));
        drop(sandbox);
        let redact = |text: String| match &request.creds {
            // As `SecretSet`: shorter values would redact ordinary text.
            Some((_, password)) if password.len() >= 4 => {
                text.replace(password.as_str(), REDACTED_PASSWORD)
            }
            _ => text,
        };
        SkopeoRun {
            args: request.arguments(&destination, true),
            exit_code: finished.exit_code,
            stdout: redact(finished.stdout),
            stderr: redact(finished.stderr),
            timed_out: finished.timed_out,
            credentials_sent,
        }
    }
}

/// `skopeo version 1.9.3` → `1.9.3`.
fn parse_version(stdout: &str) -> Option<String> {
    let line = stdout.lines().next()?.trim();
    let version = line.strip_prefix("skopeo version ").unwrap_or(line);
    version.split_whitespace().next().map(str::to_string)
}

/// One `skopeo copy` to run; see [`Skopeo::copy`].
#[derive(Clone)]
pub struct SkopeoCopy<'a> {
    image: String,
    exposure: &'a WorldExposure,
    registries_conf: Option<PathBuf>,
    policy: Option<PathBuf>,
    creds: Option<(String, String)>,
    auth_file: Option<PathBuf>,
    cert_dir: Option<PathBuf>,
    timeout: Duration,
    env: Vec<(String, String)>,
}

impl std::fmt::Debug for SkopeoCopy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkopeoCopy")
            .field("image", &self.image)
            .field("registries_conf", &self.registries_conf)
            .field("policy", &self.policy)
            .field("username", &self.creds.as_ref().map(|(u, _)| u))
            .field("auth_file", &self.auth_file)
            .field("cert_dir", &self.cert_dir)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<'a> SkopeoCopy<'a> {
    /// Copies `image` (`host/repository:tag`, without `docker://`) anonymously
    /// (`--src-no-creds`), through `exposure`, bounded by [`DEFAULT_TIMEOUT`].
    pub fn new(image: &str, exposure: &'a WorldExposure) -> Self {
        Self {
            image: image.to_string(),
            exposure,
            registries_conf: None,
            policy: None,
            creds: None,
            auth_file: None,
            cert_dir: None,
            timeout: DEFAULT_TIMEOUT,
            env: Vec::new(),
        }
    }

    /// `--registries-conf PATH` (instead of `/etc/containers/registries.conf`).
    pub fn registries_conf(mut self, path: impl Into<PathBuf>) -> Self {
        self.registries_conf = Some(path.into());
        self
    }

    /// `--policy PATH` (instead of `/etc/containers/policy.json`).
    pub fn policy(mut self, path: impl Into<PathBuf>) -> Self {
        self.policy = Some(path.into());
        self
    }

    /// `--src-creds USERNAME:PASSWORD` (recorded as `USERNAME:<redacted>`).
    pub fn creds(mut self, username: &str, password: &str) -> Self {
        self.creds = Some((username.to_string(), password.to_string()));
        self
    }

    /// `REGISTRY_AUTH_FILE=PATH` (without `--src-creds`, skopeo reads credentials there).
    pub fn auth_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.auth_file = Some(path.into());
        self
    }

    /// `--src-cert-dir PATH` (e.g. the exposure's [`cert_dir`](WorldExposure::cert_dir)).
    pub fn cert_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert_dir = Some(path.into());
        self
    }

    /// Kills skopeo after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets (or overrides) one variable of skopeo's environment, applied last: e.g.
    /// `HTTPS_PROXY` for the scenario's own proxy, `SSL_CERT_FILE` for another CA.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The command line, `redacted`: with the password replaced.
    fn arguments(&self, destination: &Path, redacted: bool) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(path) = &self.registries_conf {
            args.push("--registries-conf".to_string());
            args.push(path.display().to_string());
        }
        if let Some(path) = &self.policy {
            args.push("--policy".to_string());
            args.push(path.display().to_string());
        }
        args.push("copy".to_string());
        match (&self.creds, &self.auth_file) {
            (Some((username, password)), _) => {
                args.push("--src-creds".to_string());
                let password = if redacted {
                    REDACTED_PASSWORD
                } else {
                    password.as_str()
                };
                args.push(format!("{username}:{password}"));
            }
            (None, Some(_)) => {}
            (None, None) => args.push("--src-no-creds".to_string()),
        }
        if let Some(path) = &self.cert_dir {
            args.push("--src-cert-dir".to_string());
            args.push(path.display().to_string());
        }
        args.push(format!("docker://{}", self.image));
        args.push(format!("dir:{}", destination.display()));
        args
    }

    /// skopeo's whole environment in `sandbox`.
    fn environment(&self, sandbox: &Sandbox) -> Vec<(String, String)> {
        let root = sandbox.root();
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let auth_file = self
            .auth_file
            .clone()
            .unwrap_or_else(|| root.join("run/containers/auth.json"));
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
            ("REGISTRY_AUTH_FILE".into(), auth_file.display().to_string()),
        ];
        env.extend(self.exposure.go_env());
        for (name, value) in &self.env {
            env.retain(|(n, _)| n != name);
            env.push((name.clone(), value.clone()));
        }
        env
    }
}

/// The temp folder of one run (removed when dropped).
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("regharness-skopeo-")
            .tempdir()?;
        for sub in ["home", "run", "config", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("run"),
                std::fs::Permissions::from_mode(0o700),
            )?;
        }
        Ok(Self { dir })
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// What one skopeo run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkopeoRun {
    /// The arguments (after the program), the password replaced with `<redacted>`.
    pub args: Vec<String>,
    /// The exit code; `None` when killed (timeout) or never started.
    pub exit_code: Option<i32>,
    /// Standard output (the password, if it appeared, redacted).
    pub stdout: String,
    /// Standard error (the password, if it appeared, redacted).
    pub stderr: String,
    /// The run was killed after its timeout.
    pub timed_out: bool,
    /// skopeo had credentials: `--src-creds`, or an auth file (assumed to hold an entry
    /// for the registry).
    pub credentials_sent: bool,
}

impl SkopeoRun {
    fn not_started(request: &SkopeoCopy<'_>, credentials_sent: bool, message: String) -> Self {
        Self {
            args: request.arguments(Path::new("<not started>"), true),
            exit_code: None,
            stdout: String::new(),
            stderr: message,
            timed_out: false,
            credentials_sent,
        }
    }

    /// Exited with 0 in time.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// What the harness makes of the failure (None on success).
    pub fn failure(&self) -> Option<SkopeoFailure> {
        (!self.succeeded())
            .then(|| classify::classify(&self.stderr, self.credentials_sent, self.timed_out))
    }

    /// The harness's diagnosis class for skopeo's failure text (None on success).
    pub fn diagnosis_class(&self) -> Option<DiagnosisClass> {
        self.failure().map(|f| f.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::SecretSet;
    use crate::scenario::model::WorldSpec;
    use crate::world::World;

    async fn exposure() -> (World, tempfile::TempDir, WorldExposure) {
        let world = World::start(&WorldSpec::default(), SecretSet::default())
            .await
            .expect("world");
        let dir = tempfile::tempdir().expect("tempdir");
        let exposure = WorldExposure::start(&world, dir.path())
            .await
            .expect("exposure");
        (world, dir, exposure)
    }

    #[tokio::test]
    async fn command_line_and_redaction() {
        let (_world, _dir, exposure) = exposure().await;
        let copy = SkopeoCopy::new("registry.redhat.io/rhel8/pcp:latest", &exposure)
            .registries_conf("/x/registries.conf")
            .policy("/x/policy.json")
            .creds("1234567|puller", "canary-skopeo-pw")
            .cert_dir("/x/certs.d");
        let dest = Path::new("/t/image");
        assert_eq!(
            copy.arguments(dest, true),
            [
                "--registries-conf",
                "/x/registries.conf",
                "--policy",
                "/x/policy.json",
                "copy",
                "--src-creds",
                "1234567|puller:<redacted>",
                "--src-cert-dir",
                "/x/certs.d",
                "docker://registry.redhat.io/rhel8/pcp:latest",
                "dir:/t/image",
            ]
        );
        assert!(copy
            .arguments(dest, false)
            .contains(&"1234567|puller:canary-skopeo-pw".to_string()));
        assert!(!format!("{copy:?}").contains("canary-skopeo-pw"));

        let anonymous = SkopeoCopy::new("reg1.io/a:1", &exposure);
        assert_eq!(
            anonymous.arguments(dest, true),
            [
                "copy",
                "--src-no-creds",
                "docker://reg1.io/a:1",
                "dir:/t/image"
            ]
        );
        let with_file = SkopeoCopy::new("reg1.io/a:1", &exposure).auth_file("/x/auth.json");
        assert_eq!(
            with_file.arguments(dest, true),
            ["copy", "docker://reg1.io/a:1", "dir:/t/image"]
        );
    }

    #[tokio::test]
    async fn environment_is_isolated() {
        let (_world, _dir, exposure) = exposure().await;
        let sandbox = Sandbox::new().expect("sandbox");
        let root = sandbox.root().display().to_string();
        let env = SkopeoCopy::new("reg1.io/a:1", &exposure)
            .env("SSL_CERT_FILE", "/other/ca.pem")
            .environment(&sandbox);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("HOME"), Some(format!("{root}/home")));
        assert_eq!(get("XDG_RUNTIME_DIR"), Some(format!("{root}/run")));
        assert_eq!(get("XDG_CONFIG_HOME"), Some(format!("{root}/config")));
        assert_eq!(
            get("REGISTRY_AUTH_FILE"),
            Some(format!("{root}/run/containers/auth.json"))
        );
        assert!(!Path::new(&format!("{root}/run/containers/auth.json")).exists());
        assert_eq!(get("HTTPS_PROXY").as_deref(), Some(exposure.proxy_url()));
        assert_eq!(get("NO_PROXY").as_deref(), Some(""));
        // Overrides replace, they do not duplicate.
        assert_eq!(get("SSL_CERT_FILE").as_deref(), Some("/other/ca.pem"));
        assert_eq!(env.iter().filter(|(n, _)| n == "SSL_CERT_FILE").count(), 1);
        assert_eq!(get("CONTAINERS_REGISTRIES_CONF"), None);
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("skopeo version 1.9.3\n").as_deref(),
            Some("1.9.3")
        );
        assert_eq!(
            parse_version("skopeo version 1.14.2 commit: abc\n").as_deref(),
            Some("1.14.2")
        );
        assert_eq!(parse_version(""), None);
    }

    #[tokio::test]
    async fn a_program_that_does_not_exist_is_a_failed_run() {
        let (_world, _dir, exposure) = exposure().await;
        let run = Skopeo::at("/nonexistent/skopeo")
            .copy(&SkopeoCopy::new("reg1.io/a:1", &exposure).creds("u", "canary-pw-x"))
            .await;
        assert!(!run.succeeded());
        assert_eq!(run.exit_code, None);
        assert!(run.stderr.contains("cannot start /nonexistent/skopeo"));
        assert!(run.credentials_sent);
        assert!(run.args.contains(&"u:<redacted>".to_string()));
        assert_eq!(
            run.diagnosis_class(),
            Some(DiagnosisClass::UnexpectedResponse)
        );
    }
}
