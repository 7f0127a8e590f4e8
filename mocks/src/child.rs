//! A child process in a process group of its own, killed with its whole group when
//! dropped: real servers (`docker-registry`, `squid` and the helpers squid forks) never
//! outlive the test or world that started them, also when it panics.

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
