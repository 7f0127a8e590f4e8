//! A firewall between the world's clients and its servers.
//!
//! Every server of a world listens on 127.0.0.1 (random port) and clients reach it
//! through a name map. The firewall sits in that name map: for `host:port` it says where
//! the connection must go instead of the server's real address, so that the client sees
//! exactly what a real firewall would cause, with real sockets and real kernel errors:
//!
//! | [`Verdict`]  | where the connection goes              | what the client sees             |
//! |--------------|----------------------------------------|----------------------------------|
//! | `allow`      | the server                             | the server                       |
//! | `reject`     | a reserved port nothing listens on     | `ECONNREFUSED` at once (RST)     |
//! | `drop`       | a blackhole (full accept queue)        | its own connect timeout fires    |
//! | `reset`      | a relay to the server                  | `ECONNRESET` after N bytes       |
//! | `dns-failure`| nowhere: [`RouteError::DnsFailure`]    | `no such host`                   |
//!
//! ## The blackhole
//!
//! `drop` needs no privileges (no iptables, no network namespace): it is a listener with
//! a backlog of 1 whose accept queue is filled by connections it never accepts (Linux
//! queues `backlog + 1` connections). While the accept queue is full, Linux drops every
//! incoming SYN without an answer (`tcp_conn_request`, counted as `ListenOverflows`),
//! whatever `tcp_syncookies` and `tcp_abort_on_overflow` say, so a client's `connect`
//! retransmits its SYN until its own timeout fires (without one, after
//! `net.ipv4.tcp_syn_retries` retransmissions, about 127 s, with `ETIMEDOUT`). On Linux
//! the firewall checks with `TCP_INFO` that the queue is full before it hands out the
//! address (it opens fillers until the queue is full, so the count does not depend on
//! the kernel's sizing). A backlog of 0 would need a single filler on Linux 6.x, but a
//! kernel that counts its SYN queue as full at backlog 0 answers even the fillers with
//! SYN cookies, or not at all when cookies are off; 1 is safe.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The listen backlog of a blackhole; Linux queues one connection more than this.
const BLACKHOLE_BACKLOG: u32 = 1;
/// Connections a blackhole opens at most to fill its accept queue.
const MAX_FILLERS: usize = 8;
/// How long filling a blackhole may take.
const FILL_TIMEOUT: Duration = Duration::from_secs(2);

/// What the firewall does with a connection to `host:port`.
///
/// In YAML: `allow`, `reject`, `drop`, `dns-failure`, or `reset: {after_bytes: N}`.
///
/// ```
/// use regharness_mocks::firewall::Verdict;
/// let v: Verdict = serde_json::from_str(r#"{"reset": {"after_bytes": 1024}}"#).unwrap();
/// assert_eq!(v, Verdict::Reset { after_bytes: 1024 });
/// assert_eq!(serde_json::to_string(&Verdict::DnsFailure).unwrap(), r#""dns-failure""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", rename_all_fields = "snake_case")]
pub enum Verdict {
    /// The connection reaches the server.
    Allow,
    /// Connection refused: the SYN is answered with an RST (`ECONNREFUSED`).
    Reject,
    /// Blackhole: the SYN is never answered, so the client's connect timeout fires.
    Drop,
    /// The connection works, then is reset (RST) once the server has sent `after_bytes`
    /// bytes to the client and sends more, e.g. in the middle of a large blob. The
    /// client receives exactly `after_bytes` bytes, then reads `ECONNRESET`. Bytes are
    /// counted per TCP connection, across the requests it carries; a server that sends
    /// no more than that ends the connection normally.
    Reset {
        /// Bytes the client receives from the server before the reset.
        after_bytes: u64,
    },
    /// The name does not resolve.
    DnsFailure,
}

/// Why [`Firewall::route`] gives no address.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The firewall's verdict is [`Verdict::DnsFailure`]: the name does not resolve.
    #[error("lookup {host}: no such host")]
    DnsFailure {
        /// The name looked up.
        host: String,
    },
    /// The socket a verdict needs could not be set up.
    #[error("the firewall could not set up its sockets: {0}")]
    Io(#[from] io::Error),
}

/// Which hosts a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// `*`: every host.
    Any,
    /// `*.example.com`: the subdomains of `example.com` (held as `.example.com`), not
    /// `example.com` itself.
    Subdomains(String),
    /// One host.
    Exact(String),
}

impl HostPattern {
    fn parse(pattern: &str) -> Self {
        let pattern = normalize(pattern);
        if pattern == "*" {
            Self::Any
        } else if let Some(domain) = pattern.strip_prefix('*') {
            if domain.starts_with('.') && domain.len() > 1 {
                Self::Subdomains(domain.to_string())
            } else {
                Self::Exact(pattern)
            }
        } else {
            Self::Exact(pattern)
        }
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Subdomains(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
            Self::Exact(name) => host == name,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Subdomains(suffix) => write!(f, "*{suffix}"),
            Self::Exact(name) => f.write_str(name),
        }
    }
}

/// Host names compare case-insensitively, and `example.com.` is `example.com`.
fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[derive(Debug, Clone)]
struct Rule {
    host: HostPattern,
    port: Option<u16>,
    verdict: Verdict,
}

/// A firewall for a world of virtual hosts on loopback: rules of `(host pattern, port,
/// verdict)`, the first that matches wins, and connections no rule matches are
/// allowed.
///
/// Host patterns are a host name (`sso.redhat.com`), `*.example.com` (any subdomain of
/// `example.com`, not `example.com` itself) or `*` (every host); names compare
/// case-insensitively. A rule with port `None` applies to every port.
///
/// [`route`](Self::route) starts the sockets a verdict needs on first use and keeps them
/// (one per rule, and per server for [`Verdict::Reset`]); clones share them, and they
/// close when the last clone is dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::ErrorKind;
/// use regharness_mocks::firewall::{Firewall, Verdict};
///
/// let server = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let real = server.local_addr()?;
/// let firewall = Firewall::new()
///     .rule("sso.redhat.com", Some(443), Verdict::Reject)
///     .rule("*.redhat.io", None, Verdict::Allow)
///     .rule("*", None, Verdict::DnsFailure);
///
/// assert_eq!(firewall.route("registry.redhat.io", 443, real).await?, real);
/// let refused = firewall.route("sso.redhat.com", 443, real).await?;
/// let err = tokio::net::TcpStream::connect(refused).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
/// let err = firewall.route("quay.io", 443, real).await.unwrap_err();
/// assert_eq!(err.to_string(), "lookup quay.io: no such host");
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Firewall {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    rules: Vec<Rule>,
    /// Started sockets, by rule index (and server address for a reset relay).
    started: tokio::sync::Mutex<HashMap<(usize, Option<SocketAddr>), Started>>,
}

impl fmt::Debug for Firewall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<String> = self
            .inner
            .rules
            .iter()
            .map(|r| match r.port {
                Some(port) => format!("{}:{port} => {:?}", r.host, r.verdict),
                None => format!("{} => {:?}", r.host, r.verdict),
            })
            .collect();
        f.debug_struct("Firewall")
            .field("rules", &rules)
            .finish_non_exhaustive()
    }
}

impl Firewall {
    /// A firewall without rules: everything is allowed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule after the existing ones: connections to a host that `host_pattern`
    /// matches, on `port` (or any port if `None`), get `verdict` unless an earlier rule
    /// matched. On a firewall that has clones, the result is a new firewall that shares
    /// no sockets with them.
    pub fn rule(mut self, host_pattern: &str, port: Option<u16>, verdict: Verdict) -> Self {
        let rule = Rule {
            host: HostPattern::parse(host_pattern),
            port,
            verdict,
        };
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.rules.push(rule);
            return self;
        }
        let mut rules = self.inner.rules.clone();
        rules.push(rule);
        Self {
            inner: Arc::new(Inner {
                rules,
                started: Default::default(),
            }),
        }
    }

    /// The verdict for a connection to `host:port`: the first matching rule's, else
    /// [`Verdict::Allow`].
    ///
    /// ```
    /// use regharness_mocks::firewall::{Firewall, Verdict};
    /// let firewall = Firewall::new()
    ///     .rule("cdn.example.com", Some(443), Verdict::Reset { after_bytes: 4096 })
    ///     .rule("*.example.com", None, Verdict::Drop);
    /// assert_eq!(firewall.verdict("CDN.example.com", 443), Verdict::Reset { after_bytes: 4096 });
    /// assert_eq!(firewall.verdict("cdn.example.com", 80), Verdict::Drop);
    /// assert_eq!(firewall.verdict("example.com", 443), Verdict::Allow);
    /// ```
    pub fn verdict(&self, host: &str, port: u16) -> Verdict {
        self.matching(host, port)
            .map_or(Verdict::Allow, |(_, rule)| rule.verdict.clone())
    }

    fn matching(&self, host: &str, port: u16) -> Option<(usize, &Rule)> {
        let host = normalize(host);
        self.inner
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.port.is_none_or(|p| p == port) && r.host.matches(&host))
    }

    /// Where a connection to `host:port` must go instead of `real`, the address the
    /// server listens on: `real` itself when allowed, else a socket of the firewall,
    /// started on first use (a reserved closed port for [`Verdict::Reject`], a
    /// blackhole for [`Verdict::Drop`], a relay to `real` for [`Verdict::Reset`]).
    /// Fails with [`RouteError::DnsFailure`] for [`Verdict::DnsFailure`].
    pub async fn route(
        &self,
        host: &str,
        port: u16,
        real: SocketAddr,
    ) -> Result<SocketAddr, RouteError> {
        let Some((index, rule)) = self.matching(host, port) else {
            return Ok(real);
        };
        let target = match rule.verdict {
            Verdict::Allow => return Ok(real),
            Verdict::DnsFailure => {
                return Err(RouteError::DnsFailure {
                    host: host.to_string(),
                })
            }
            Verdict::Reset { .. } => Some(real),
            Verdict::Reject | Verdict::Drop => None,
        };
        let mut started = self.inner.started.lock().await;
        if let Some(existing) = started.get(&(index, target)) {
            return Ok(existing.addr());
        }
        let new = match rule.verdict {
            Verdict::Reject => Started::Closed(ClosedPort::reserve()?),
            Verdict::Drop => Started::Blackhole(Blackhole::start().await?),
            Verdict::Reset { after_bytes } => {
                Started::Relay(ResetRelay::start(real, after_bytes).await?)
            }
            Verdict::Allow | Verdict::DnsFailure => unreachable!("answered above"),
        };
        let addr = new.addr();
        tracing::debug!(host, port, rule = index, %addr, verdict = ?rule.verdict, "firewall socket started");
        started.insert((index, target), new);
        Ok(addr)
    }
}

/// A socket a verdict needs; closes when dropped.
enum Started {
    Closed(ClosedPort),
    Blackhole(Blackhole),
    Relay(ResetRelay),
}

impl Started {
    fn addr(&self) -> SocketAddr {
        match self {
            Self::Closed(c) => c.addr,
            Self::Blackhole(b) => b.addr,
            Self::Relay(r) => r.addr,
        }
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// A port that is bound but does not listen: the kernel answers SYNs with an RST, and
/// the binding keeps the port from being handed out to anything else (without
/// `SO_REUSEADDR`, no other socket may bind it, and `connect` never picks a bound port
/// as its source port).
struct ClosedPort {
    addr: SocketAddr,
    _socket: TcpSocket,
}

impl ClosedPort {
    fn reserve() -> io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(loopback())?;
        let addr = socket.local_addr()?;
        Ok(Self {
            addr,
            _socket: socket,
        })
    }
}

/// A listener whose accept queue is full and never drained: SYNs to it get no answer.
struct Blackhole {
    addr: SocketAddr,
    _listener: std::net::TcpListener,
    _fillers: Vec<std::net::TcpStream>,
}

impl Blackhole {
    async fn start() -> io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(loopback())?;
        let listener = socket.listen(BLACKHOLE_BACKLOG)?;
        let addr = listener.local_addr()?;
        let mut fillers = Vec::new();
        tokio::time::timeout(FILL_TIMEOUT, fill(&listener, addr, &mut fillers))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the blackhole's accept queue did not fill up",
                )
            })??;
        Ok(Self {
            addr,
            // Out of the runtime: nothing polls them, and they close without one.
            _listener: listener.into_std()?,
            _fillers: fillers
                .into_iter()
                .map(TcpStream::into_std)
                .collect::<io::Result<_>>()?,
        })
    }
}

/// Connects to `listener` until its accept queue is full.
async fn fill(
    listener: &TcpListener,
    addr: SocketAddr,
    fillers: &mut Vec<TcpStream>,
) -> io::Result<()> {
    loop {
        match sys::accept_queue(listener)? {
            Some((queued, max)) if queued > max => return Ok(()),
            Some((queued, _)) => {
                if fillers.len() >= MAX_FILLERS {
                    return Err(io::Error::other(
                        "the blackhole's accept queue does not fill",
                    ));
                }
                fillers.push(TcpStream::connect(addr).await?);
                // The filler's connect returns on the SYN-ACK; the listener queues the
                // connection when it sees the final ACK, a moment later.
                while sys::accept_queue(listener)?.is_some_and(|(now, _)| now == queued) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            None => {
                // No way to look at the queue: fill it as Linux sizes it.
                while fillers.len() <= BLACKHOLE_BACKLOG as usize {
                    fillers.push(TcpStream::connect(addr).await?);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Ok(());
            }
        }
    }
}

/// A relay to one server that resets the client's connection once the server has sent
/// `after_bytes` bytes and sends more.
struct ResetRelay {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for ResetRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ResetRelay {
    async fn start(real: SocketAddr, after_bytes: u64) -> io::Result<Self> {
        let listener = TcpListener::bind(loopback()).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(relay_accept_loop(listener, real, after_bytes));
        Ok(Self { addr, task })
    }
}

async fn relay_accept_loop(listener: TcpListener, real: SocketAddr, after_bytes: u64) {
    // Connections live in the set, so aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _peer)) = accepted else { continue };
                connections.spawn(async move {
                    if let Err(e) = relay(client, real, after_bytes).await {
                        tracing::debug!(error = %e, "firewall reset relay connection ended");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// How the server-to-client direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Downstream {
    /// The server closed its side within the limit.
    Ended,
    /// The server sent more than the limit.
    Cut,
}

async fn relay(client: TcpStream, real: SocketAddr, after_bytes: u64) -> io::Result<()> {
    client.set_nodelay(true)?;
    let mut upstream = match TcpStream::connect(real).await {
        Ok(upstream) => upstream,
        Err(e) => {
            // Too late to refuse the client's SYN: reset its connection instead.
            reset(client);
            return Err(e);
        }
    };
    upstream.set_nodelay(true)?;
    let mut client = client;
    let outcome = {
        let (mut client_read, mut client_write) = client.split();
        let (mut upstream_read, mut upstream_write) = upstream.split();
        let up = async {
            tokio::io::copy(&mut client_read, &mut upstream_write).await?;
            upstream_write.shutdown().await
        };
        let down = forward_limited(&mut upstream_read, &mut client_write, after_bytes);
        tokio::pin!(up, down);
        let mut up_done = false;
        loop {
            tokio::select! {
                r = &mut up, if !up_done => {
                    r?;
                    up_done = true;
                }
                r = &mut down => {
                    let outcome = r?;
                    if outcome == Downstream::Ended && !up_done {
                        (&mut up).await?;
                    }
                    break outcome;
                }
            }
        }
    };
    if outcome == Downstream::Cut {
        drop(upstream);
        // Reset only once the client has all the bytes: an RST discards what the
        // client's kernel has not acknowledged yet.
        sys::wait_acknowledged(&client).await;
        tracing::debug!(after_bytes, "firewall resets a connection");
        reset(client);
    }
    Ok(())
}

/// Copies `from` to `to` until `from` ends, or until it has more than `limit` bytes.
async fn forward_limited(
    from: &mut tokio::net::tcp::ReadHalf<'_>,
    to: &mut tokio::net::tcp::WriteHalf<'_>,
    limit: u64,
) -> io::Result<Downstream> {
    let mut remaining = limit;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(Downstream::Ended);
        }
        let allowed = usize::try_from(remaining).map_or(n, |r| r.min(n));
        to.write_all(&buf[..allowed]).await?;
        remaining -= allowed as u64;
        if allowed < n {
            return Ok(Downstream::Cut);
        }
    }
}

/// Closes `stream` with an RST (`SO_LINGER` 0).
fn reset(stream: TcpStream) {
    if let Err(e) = stream.set_zero_linger() {
        tracing::debug!(error = %e, "cannot set SO_LINGER 0; the connection ends with a FIN");
    }
    drop(stream);
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpStream};

    /// The length and maximum of a listener's accept queue (`TCP_INFO`: for a
    /// listening socket, `tcpi_unacked` is the accept queue's length and `tcpi_sacked`
    /// its backlog; the queue is full when the length exceeds the backlog).
    pub(super) fn accept_queue(listener: &TcpListener) -> io::Result<Option<(u32, u32)>> {
        // SAFETY: tcp_info is plain data, all zeroes is a valid value.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: the descriptor is open for the listener's lifetime; info and len
        // point to a tcp_info and its size.
        let rc = unsafe {
            libc::getsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&raw mut info).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Some((info.tcpi_unacked, info.tcpi_sacked)))
    }

    /// Bytes written to `stream` that the peer has not acknowledged (`SIOCOUTQ`).
    fn unacknowledged(stream: &TcpStream) -> io::Result<libc::c_int> {
        let mut queued: libc::c_int = 0;
        // SAFETY: the descriptor is open while `stream` lives; TIOCOUTQ writes an int.
        let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &raw mut queued) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(queued)
    }

    /// Waits until the peer has acknowledged everything written to `stream`, or the
    /// connection has failed (the peer reset it).
    pub(super) async fn wait_acknowledged(stream: &TcpStream) {
        let mut pause = Duration::from_micros(200);
        loop {
            if !matches!(stream.take_error(), Ok(None)) {
                return;
            }
            match unacknowledged(stream) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpStream};

    /// Unknown here.
    pub(super) fn accept_queue(_listener: &TcpListener) -> io::Result<Option<(u32, u32)>> {
        Ok(None)
    }

    /// Cannot be told here: give the peer a moment.
    pub(super) async fn wait_acknowledged(_stream: &TcpStream) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
