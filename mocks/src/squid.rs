//! A real squid (Debian's `/usr/sbin/squid`, 5.x) as the customer's forward proxy: its
//! own access decisions, error pages and headers (`X-Squid-Error: ERR_ACCESS_DENIED 0`,
//! `Proxy-Authenticate: Basic realm=...`).
//!
//! Squid cannot resolve the world's virtual host names, and the world serves them on
//! `127.x.y.z:PORT`, not on port 443. So squid sends every request it allows to a
//! **parent** (`cache_peer ... parent`, `never_direct allow all`): the caller's proxy (in
//! the world, the mock proxy allowing everything, which resolves names through the
//! world's firewall). Squid decides `http_access` (allow-list by `dstdomain`, `CONNECT`
//! only to port 443 like its default configuration, `basic_ncsa_auth` when credentials
//! are required) before it forwards, so what a client sees from the allow-list and the
//! authentication is squid's; the parent only carries the tunnel.
//!
//! The process runs in the foreground (`-N`) in a process group of its own, with its
//! configuration, password file, pid file and logs in a temporary folder, and is killed
//! with its helpers when the [`Squid`] is dropped.

pub mod crypt;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::GroupChild;

/// Where Debian installs squid.
pub const PROGRAM: &str = "/usr/sbin/squid";
/// Debian's NCSA basic authentication helper.
pub const NCSA_HELPER: &str = "/usr/lib/squid/basic_ncsa_auth";
/// The realm of squid's `Proxy-Authenticate` challenge.
pub const REALM: &str = "regharness proxy";
/// How long squid may take to listen.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(15);

/// Errors starting squid.
#[derive(Debug, thiserror::Error)]
pub enum SquidError {
    /// A file or the process could not be created.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A value cannot be written into squid's configuration.
    #[error("squid configuration: {0}")]
    Config(String),
    /// The process exited or did not listen in time.
    #[error("{message}\nsquid log (tail):\n{log}")]
    NotListening {
        /// What happened.
        message: String,
        /// The end of its logs.
        log: String,
    },
}

/// What the proxy allows.
#[derive(Debug, Clone)]
pub struct SquidConfig {
    /// `dstdomain` allow-list (`registry.redhat.io`, `.redhat.com`); `None`: every host.
    pub allow: Option<Vec<String>>,
    /// Basic proxy credentials required (`username`, `password`).
    pub auth: Option<(String, String)>,
    /// The parent proxy every allowed request goes through.
    pub parent: SocketAddr,
}

/// A running squid.
pub struct Squid {
    addr: SocketAddr,
    dir: PathBuf,
    // Field order: the process group dies before its folder goes.
    child: GroupChild,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Squid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Squid")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Squid {
    /// The program: `REGHARNESS_SQUID` if set, else `/usr/sbin/squid`, else `squid` on
    /// `PATH`; `None` when absent or when the NCSA helper is missing.
    pub fn find_program() -> Option<PathBuf> {
        crate::child::find_program("REGHARNESS_SQUID", "squid", &[PROGRAM])
    }

    /// Starts `program` with `config` on a free 127.0.0.1 port; retries on a port taken
    /// meanwhile. Waits until it accepts connections.
    pub async fn start(program: &Path, config: &SquidConfig) -> Result<Self, SquidError> {
        let io = |what: String| move |source| SquidError::Io { what, source };
        let dir = tempfile::tempdir().map_err(io("temporary directory".into()))?;
        // Started as root, squid drops to its `cache_effective_user` (`proxy`), which
        // must write the logs and read the password file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
                .map_err(io("making the squid folder writable".into()))?;
        }
        let passwd = match &config.auth {
            Some((user, password)) => {
                if user.is_empty() || user.contains([':', '\n', ' ']) {
                    return Err(SquidError::Config(format!(
                        "proxy username {user:?} cannot be written to a password file"
                    )));
                }
                let path = dir.path().join("passwd");
                let line = format!(
                    "{user}:{}\n",
                    crypt::sha256_crypt(password, &crypt::random_salt())
                );
                std::fs::write(&path, line).map_err(io(format!("writing {}", path.display())))?;
                Some(path)
            }
            None => None,
        };
        for domain in config.allow.iter().flatten() {
            if domain.is_empty() || domain.contains(|c: char| c.is_whitespace() || c == '"') {
                return Err(SquidError::Config(format!(
                    "allow-list entry {domain:?} is not a domain"
                )));
            }
        }
        let mut last = String::new();
        for _ in 0..3 {
            let addr = free_port().map_err(io("probing a free port".into()))?;
            let conf = dir.path().join("squid.conf");
            std::fs::write(
                &conf,
                config_text(dir.path(), addr, config, passwd.as_deref()),
            )
            .map_err(io(format!("writing {}", conf.display())))?;
            let _ = std::fs::remove_file(dir.path().join("squid.pid"));
            match spawn(program, &conf, dir.path(), addr).await {
                Ok(child) => {
                    return Ok(Self {
                        addr,
                        dir: dir.path().to_path_buf(),
                        child,
                        _dir: dir,
                    })
                }
                Err(e) => last = e,
            }
        }
        Err(SquidError::NotListening {
            message: last,
            log: log_tail_of(dir.path()),
        })
    }

    /// Where it listens (`http_port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of its `cache.log`, its `access.log` and its stderr.
    pub fn log_tail(&self) -> String {
        log_tail_of(&self.dir)
    }
}

fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// The `squid.conf` of a proxy at `addr` keeping its files in `dir`.
pub fn config_text(
    dir: &Path,
    addr: SocketAddr,
    config: &SquidConfig,
    passwd: Option<&Path>,
) -> String {
    let d = dir.display();
    let mut c = format!(
        "# regharness: a real squid, allowed requests forwarded to the world's proxy\n\
         http_port {addr}\n\
         pid_filename {d}/squid.pid\n\
         cache_log {d}/cache.log\n\
         access_log stdio:{d}/access.log\n\
         cache_store_log none\n\
         coredump_dir {d}\n\
         cache deny all\n\
         shutdown_lifetime 0 seconds\n\
         pinger_enable off\n\
         acl SSL_ports port 443\n\
         acl Safe_ports port 80 443\n\
         acl CONNECT method CONNECT\n\
         http_access deny !Safe_ports\n\
         http_access deny CONNECT !SSL_ports\n"
    );
    if let Some(passwd) = passwd {
        c.push_str(&format!(
            "auth_param basic program {NCSA_HELPER} {}\n\
             auth_param basic realm {REALM}\n\
             auth_param basic children 2\n\
             acl authenticated proxy_auth REQUIRED\n\
             http_access deny !authenticated\n",
            passwd.display()
        ));
    }
    match &config.allow {
        Some(domains) if !domains.is_empty() => {
            c.push_str(&format!("acl allowed dstdomain {}\n", domains.join(" ")));
            c.push_str("http_access allow allowed\n");
        }
        Some(_) => {}
        None => c.push_str("http_access allow all\n"),
    }
    c.push_str("http_access deny all\n");
    c.push_str(&format!(
        "cache_peer {} parent {} 0 no-query no-digest default\n\
         never_direct allow all\n",
        config.parent.ip(),
        config.parent.port()
    ));
    c
}

async fn spawn(
    program: &Path,
    conf: &Path,
    dir: &Path,
    addr: SocketAddr,
) -> Result<GroupChild, String> {
    let out = std::fs::File::create(dir.join("stderr.log"))
        .map_err(|e| format!("creating the log: {e}"))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("creating the log: {e}"))?;
    let mut command = Command::new(program);
    command
        .arg("-N")
        .arg("-f")
        .arg(conf)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let mut child = GroupChild::spawn(&mut command)
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            child.kill();
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

fn log_tail_of(dir: &Path) -> String {
    let mut out = String::new();
    for name in ["stderr.log", "cache.log", "access.log"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("== {name}\n"));
        out.push_str(&lines[lines.len().saturating_sub(15)..].join("\n"));
        out.push('\n');
    }
    out
}
