//! A child process in a process group of its own, killed with its whole group when
//! dropped: real servers (`docker-registry`, `squid` and the helpers squid forks) never
//! outlive the test or world that started them, also when it panics.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};

/// A running child leading its own process group.
#[derive(Debug)]
pub struct GroupChild {
    child: Child,
    reaped: bool,
}

impl GroupChild {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(command: &mut Command) -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        Ok(Self {
            child: command.spawn()?,
            reaped: false,
        })
    }

    /// Its process ID (also its process group ID).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited, without waiting.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Kills the whole group (SIGKILL) and reaps the leader; later calls do nothing
    /// (the ID may belong to another process by then).
    pub fn kill(&mut self) {
        if std::mem::replace(&mut self.reaped, true) {
            return;
        }
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(target_os = "linux")]
fn kill_group(pid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group only.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn kill_group(_pid: u32) {}

/// Where an external program is: the path in `variable` when that is set (a path that is
/// not a file means "absent": tests use it to force a skip), else the first of `defaults`
/// that exists, else `name` on `PATH`.
///
/// ```
/// use regharness_mocks::child::find_program;
/// assert!(find_program("REGHARNESS_NO_SUCH_PROGRAM", "no-such-program-x", &[]).is_none());
/// ```
pub fn find_program(variable: &str, name: &str, defaults: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    defaults
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}
