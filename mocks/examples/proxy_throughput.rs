//! Benchmark: bytes per second through the mock proxy's `CONNECT` tunnel, against the
//! same transfer without the proxy.
//!
//! ```sh
//! cargo run --release -p regharness-mocks --example proxy_throughput [MiB] [runs]
//! ```
//!
//! A loopback server sends MiB mebibytes (default 256) and closes; the client reads them
//! directly, then through `CONNECT bulk.example:443` on a [`MockProxy`]. Each path runs
//! `runs` times (default 5); the median is printed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regharness_mocks::proxy::{MockProxy, StaticUpstream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const MIB: usize = 1024 * 1024;

async fn source(total: usize) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let chunk = vec![0x5a_u8; MIB];
        while let Ok((mut socket, _)) = listener.accept().await {
            let chunk = chunk.clone();
            tokio::spawn(async move {
                let mut left = total;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if socket.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(addr)
}

async fn drain(stream: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<usize> {
    let mut buf = vec![0_u8; 256 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

async fn direct(addr: SocketAddr) -> std::io::Result<(usize, Duration)> {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await?;
    let n = drain(&mut s).await?;
    Ok((n, started.elapsed()))
}

async fn tunnelled(proxy: SocketAddr) -> std::io::Result<(usize, Duration)> {
    let started = Instant::now();
    let mut s = TcpStream::connect(proxy).await?;
    s.write_all(b"CONNECT bulk.example:443 HTTP/1.1\r\nHost: bulk.example:443\r\n\r\n")
        .await?;
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!(
            "the proxy answered {line:?}"
        )));
    }
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let buffered = reader.buffer().len();
    let mut s = reader.into_inner();
    let n = buffered + drain(&mut s).await?;
    Ok((n, started.elapsed()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(256);
    let runs: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5)
        .max(1);
    let total = mib * MIB;
    let addr = source(total).await?;
    let proxy = MockProxy::builder(Arc::new(StaticUpstream::new().host("bulk.example", addr)))
        .start()
        .await?;
    let rate = |n: usize, d: Duration| n as f64 / MIB as f64 / d.as_secs_f64();
    let (mut plain, mut proxied) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (n, d) = direct(addr).await?;
        assert_eq!(n, total, "direct transfer incomplete");
        plain.push(rate(n, d));
        let (n, d) = tunnelled(proxy.addr()).await?;
        assert_eq!(n, total, "tunnelled transfer incomplete");
        proxied.push(rate(n, d));
    }
    let (p, t) = (median(plain), median(proxied));
    println!("{mib} MiB, median of {runs} runs on loopback");
    println!("direct                      {p:>9.0} MiB/s");
    println!(
        "through MockProxy CONNECT   {t:>9.0} MiB/s  ({:.0}% of direct)",
        100.0 * t / p
    );
    Ok(())
}
