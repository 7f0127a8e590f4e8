//! Finding a client program and running it bounded (the child is killed at its deadline,
//! see [`crate::client::skopeo::process`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::client::skopeo::process::{self, Finished};
use crate::scenario::model::ClientKind;

/// A client program found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Its path.
    pub path: PathBuf,
}

/// `REGHARNESS_CURL`, `REGHARNESS_SKOPEO`, `REGHARNESS_PODMAN` (when it names a file), else
/// the program on `PATH`. The error is the skip reason: `podman is not installed (not on
/// PATH; set REGHARNESS_PODMAN)`.
pub fn find_program(client: ClientKind) -> Result<Program, String> {
    let name = client.as_str();
    let variable = format!("REGHARNESS_{}", name.to_ascii_uppercase());
    if let Some(path) = std::env::var_os(&variable) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(Program { path })
        } else {
            Err(format!("{variable}={} is not a file", path.display()))
        };
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .map(|path| Program { path })
        .ok_or_else(|| format!("{name} is not installed (not on PATH; set {variable})"))
}

impl Program {
    /// Runs the program with exactly `env` in `cwd`, killed after `timeout`, on a
    /// blocking thread.
    pub(crate) async fn run(
        &self,
        args: Vec<String>,
        env: Vec<(String, String)>,
        cwd: &Path,
        timeout: Duration,
    ) -> Finished {
        let program = self.path.clone();
        let cwd = cwd.to_path_buf();
        tokio::task::spawn_blocking(move || {
            process::run_bounded(&program, &args, &env, &cwd, timeout)
        })
        .await
        .unwrap_or_else(|e| Finished::not_started(format!("the runner failed: {e}")))
    }
}
