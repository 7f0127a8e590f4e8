//! A child process with a deadline: its output collected, killed when time runs out.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often the deadline is checked while the child runs.
const POLL: Duration = Duration::from_millis(10);

/// What a bounded run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finished {
    /// The exit code; `None` when killed by a signal (the timeout) or never started.
    pub exit_code: Option<i32>,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8); why the program did not start, if it did not.
    pub stderr: String,
    /// The deadline passed and the child was killed.
    pub timed_out: bool,
}

impl Finished {
    /// A run that never started.
    pub fn not_started(message: String) -> Self {
        Self {
            exit_code: None,
            stdout: String::new(),
            stderr: message,
            timed_out: false,
        }
    }
}

/// Runs `program` with exactly `env` (the parent's environment is cleared), no stdin,
/// in `cwd`; kills it (SIGKILL) if it has not exited after `timeout`. Blocking: call
/// it from a blocking thread.
pub(crate) fn run_bounded(
    program: &Path,
    args: &[String],
    env: &[(String, String)],
    cwd: &Path,
    timeout: Duration,
) -> Finished {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Finished::not_started(format!("cannot start {}: {e}", program.display())),
    };
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => {
                let _ = child.kill();
                break child.wait().ok();
            }
        }
    };
    let collect = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Finished {
        exit_code: status.and_then(|s| s.code()),
        stdout: collect(stdout),
        stderr: collect(stderr),
        timed_out,
    }
}

/// Reads a pipe to its end on its own thread (so that a full pipe never blocks the
/// child while the other one is being waited on).
fn reader<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Finished {
        let env = vec![("PATH".to_string(), "/usr/bin:/bin".to_string())];
        run_bounded(
            Path::new("/bin/sh"),
            &["-c".to_string(), script.to_string()],
            &env,
            Path::new("/"),
            timeout,
        )
    }

    #[test]
    fn collects_output_and_exit_code() {
        let run = sh("echo out; echo err >&2; exit 3", Duration::from_secs(10));
        assert_eq!(run.exit_code, Some(3));
        assert_eq!(run.stdout, "out\n");
        assert_eq!(run.stderr, "err\n");
        assert!(!run.timed_out);
    }

    #[test]
    fn environment_is_exactly_the_one_given() {
        if std::env::var_os("HOME").is_none() {
            return; // nothing could leak
        }
        let run = sh("echo \"[$HOME]\"", Duration::from_secs(10));
        assert_eq!(run.stdout, "[]\n");
    }

    #[test]
    fn a_child_past_its_deadline_is_killed() {
        let started = Instant::now();
        let run = sh("echo before; exec sleep 30", Duration::from_millis(300));
        assert!(run.timed_out);
        assert_eq!(run.exit_code, None);
        assert_eq!(run.stdout, "before\n");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_is_reported() {
        let run = run_bounded(
            Path::new("/nonexistent/skopeo"),
            &[],
            &[],
            Path::new("/"),
            Duration::from_secs(1),
        );
        assert_eq!(run.exit_code, None);
        assert!(!run.timed_out);
        assert!(
            run.stderr.starts_with("cannot start /nonexistent/skopeo: "),
            "{}",
            run.stderr
        );
    }
}
