//! A TLS terminator in front of a plain-HTTP mock: the virtual host's HTTPS endpoint.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::tls::{ServerIdentity, TlsError};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors starting a [`TlsFront`].
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The listener could not be bound.
    #[error("cannot bind a TLS front on loopback: {0}")]
    Bind(#[source] io::Error),
}

/// Listens on 127.0.0.1 (random port), terminates TLS with a certificate for the
/// virtual host, and pipes the decrypted bytes to a backend address.
///
/// Stops accepting and closes its connections when dropped.
///
/// ```no_run
/// # async fn demo(backend: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
/// use regharness_mocks::{CertificateAuthority, TlsFront};
/// let ca = CertificateAuthority::generate("demo CA")?;
/// let front = TlsFront::start(&ca.issue(&["registry.redhat.io"])?, backend).await?;
/// println!("https://registry.redhat.io is served at {}", front.addr());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TlsFront {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsFront {
    /// Starts the front for `identity`, forwarding to `backend`.
    pub async fn start(identity: &ServerIdentity, backend: SocketAddr) -> Result<Self, FrontError> {
        Self::start_on(identity, SocketAddr::from(([127, 0, 0, 1], 0)), backend).await
    }

    /// Starts the front on `bind` (e.g. a free loopback address and the fixed port a
    /// virtual `host:port` such as `image-registry.openshift-image-registry.svc:5000`
    /// names, since clients connect to the port of the URL), forwarding to `backend`.
    pub async fn start_on(
        identity: &ServerIdentity,
        bind: SocketAddr,
        backend: SocketAddr,
    ) -> Result<Self, FrontError> {
        let acceptor = TlsAcceptor::from(identity.server_config()?);
        let listener = TcpListener::bind(bind).await.map_err(FrontError::Bind)?;
        let addr = listener.local_addr().map_err(FrontError::Bind)?;
        let task = tokio::spawn(accept_loop(listener, acceptor, backend));
        Ok(Self { addr, task })
    }

    /// The loopback address the front listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, backend: SocketAddr) {
    // Connections live in the set, so aborting this task closes them all.
    let mut connections = JoinSet::new();
    let acceptor = Arc::new(acceptor);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    if let Err(e) = relay(stream, &acceptor, backend).await {
                        tracing::debug!(error = %e, "TLS front connection ended");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn relay(stream: TcpStream, acceptor: &TlsAcceptor, backend: SocketAddr) -> io::Result<()> {
    // Without TCP_NODELAY, small request/response pairs relayed through two sockets
    // wait on delayed ACKs (~40 ms each way).
    stream.set_nodelay(true)?;
    let mut tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    let mut upstream = TcpStream::connect(backend).await?;
    upstream.set_nodelay(true)?;
    tokio::io::copy_bidirectional(&mut tls, &mut upstream).await?;
    Ok(())
}
