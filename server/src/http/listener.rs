//! Serving the router on a TCP listener with the limits `axum::serve` does not set, so a slow or
//! greedy client cannot hold the server: request headers must arrive within
//! `http_header_timeout_seconds` (also the longest a kept-alive connection may sit idle), a body
//! that stops arriving for `http_body_timeout_seconds` ends its request, an answer the client
//! stops reading for `http_write_timeout_seconds` ends its connection, at most
//! `http_max_connections` are open at once (one more is told 503 and closed) and, when clients
//! connect directly (no `client_address_header`), at most `http_max_connections_per_client` per
//! client address (an IPv6 /64 counts as one).
//!
//! HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a reverse proxy in front ends, and
//! cleartext HTTP/2 would need timers of its own (its connection preface and idle streams are not
//! covered by HTTP/1's header timeout).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use crate::config::Config;
use crate::connections::PerClient;

/// How long the answer to a connection over a limit may take to write.
const REFUSAL_WRITE: Duration = Duration::from_secs(5);
/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(30);

/// The limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    /// How long a write may wait for a client that does not read its answer.
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// `None` behind a reverse proxy, where every connection comes from the proxy.
    pub max_per_client: Option<usize>,
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(config.http_header_timeout_seconds),
            write_timeout: Duration::from_secs(config.http_write_timeout_seconds),
            max_connections: config.http_max_connections,
            max_per_client: config
                .client_address_header
                .is_none()
                .then_some(config.http_max_connections_per_client),
        }
    }
}

/// Answer a connection that cannot be served now, and close it.
async fn refuse(mut stream: TcpStream, why: &str) {
    let body =
        format!("{{\"code\":\"server_busy\",\"message\":\"{why} Try again in a few seconds.\"}}");
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Serve `app` on `listener` until `shutdown` completes, then let in-flight requests finish (for
/// at most 30 seconds).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = limits.max_per_client.map(PerClient::new);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "an HTTP connection could not be accepted");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!("the HTTP listener is full; a connection was refused");
            tokio::spawn(refuse(stream, "The server is busy."));
            continue;
        };
        let slot = match &per_client {
            Some(per_client) => match per_client.take(peer.ip()) {
                Some(slot) => Some(slot),
                None => {
                    tracing::info!(client = %peer.ip(), "an HTTP client over its connection limit was refused");
                    tokio::spawn(refuse(stream, "Too many connections from your address."));
                    continue;
                }
            },
            None => None,
        };
        let header_timeout = limits.header_timeout;
        let write_timeout = limits.write_timeout;
        let service = app
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper's header timer starts with the first byte; a client that connects and says
            // nothing gets the same time.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(header_timeout, stream.peek(&mut first)).await,
                Ok(Ok(1))
            ) {
                drop((permit, slot));
                return;
            }
            // Answers go out as they are written: with Nagle's algorithm, a body written after
            // its headers waits for the client's delayed ACK (40 ms a request, measured on the
            // portal's 1 MiB range reads).
            let _ = stream.set_nodelay(true);
            // A client that stops reading its answer holds a write; after `write_timeout` of no
            // progress the connection ends (a slow but steady reader is not cut off).
            let mut stream = TimeoutStream::new(stream);
            stream.set_write_timeout(Some(write_timeout));
            let connection = builder.serve_connection(
                TokioIo::new(Box::pin(stream)),
                TowerToHyperService::new(service),
            );
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(client = %peer.ip(), error = %e, "an HTTP connection ended with an error");
            }
            drop(permit);
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some HTTP requests were still running when the server stopped");
    }
}

/// Where a test server listens and how to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop and wait until every connection has ended.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.done.await;
    }
}

/// Serve `app` on a free loopback port in this process (for tests of the limits).
pub async fn spawn(app: Router, limits: Limits) -> std::io::Result<Running> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let done = tokio::spawn(serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    Ok(Running { addr, stop, done })
}
