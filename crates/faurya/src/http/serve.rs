//! The accept loop of both listeners. `axum::serve` sets no header deadline and waits forever
//! for open connections at shutdown; this loop gives every connection a header-read deadline,
//! caps how many are open at once, and bounds a clean stop, so a stalled or hostile sender can
//! neither hold memory nor keep Faurya from quitting.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Header lines per request; more get 431 (hyper's default, said here so it is a decision).
const MAX_HEADERS: usize = 100;

/// What a listener does with a connection over its cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// Close it as soon as it is accepted (the internet: a flood must not queue up).
    Close,
    /// Stop accepting until a slot frees; the kernel's backlog holds the rest (the founder's own
    /// browser and scripts, which should be slowed down, not cut off).
    Wait,
}

/// What one listener tolerates from its clients.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The whole request head (request line and headers) must arrive within this, and an idle
    /// keep-alive connection is closed after it.
    pub header_timeout: Duration,
    /// Request heads above this size get 431.
    pub max_header_bytes: usize,
    /// Connections open at once.
    pub max_connections: usize,
    /// What happens to connections over the cap.
    pub when_full: WhenFull,
    /// How long a clean stop waits for requests in progress before dropping them.
    pub shutdown_deadline: Duration,
}

impl Limits {
    /// The public listener faces the internet through the tunnel.
    pub const PUBLIC: Limits = Limits {
        header_timeout: Duration::from_secs(10),
        max_header_bytes: 64 * 1024,
        max_connections: 4096,
        when_full: WhenFull::Close,
        shutdown_deadline: Duration::from_secs(10),
    };
    /// The admin listener serves the founder's own browser (and keeps SSE streams open).
    pub const ADMIN: Limits = Limits {
        header_timeout: Duration::from_secs(30),
        max_header_bytes: 64 * 1024,
        max_connections: 512,
        when_full: WhenFull::Wait,
        shutdown_deadline: Duration::from_secs(5),
    };
}

/// Serves `router` on `listener` until `cancel` fires, then stops within the shutdown deadline.
/// Each request carries `ConnectInfo<SocketAddr>` like `into_make_service_with_connect_info`.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, cancel: CancellationToken, name: &str) {
    // HTTP/1.1 only: providers, tunnels and the founder's browser on loopback all speak it, and
    // HTTP/2 would bring its own idle and stream rules to harden.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_header_size(limits.max_header_bytes)
        .max_headers(MAX_HEADERS);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut refused: u64 = 0;

    loop {
        // A listener that waits when full takes its slot before accepting.
        let reserved = match limits.when_full {
            WhenFull::Wait => tokio::select! {
                _ = cancel.cancelled() => break,
                permit = open.clone().acquire_owned() => permit.ok(),
            },
            WhenFull::Close => None,
        };
        let (stream, peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(permit) = reserved.or_else(|| open.clone().try_acquire_owned().ok()) else {
            refused += 1;
            // Counted, and logged at powers of two only: a flood must not become a log flood.
            if refused.is_power_of_two() {
                tracing::warn!(listener = name, refused, "too many open connections; closing new ones");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move { Ok::<_, Infallible>(router.oneshot(request.map(Body::new)).await.unwrap_or_else(|e| match e {})) }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            // A connection that sends nothing at all is closed at the header deadline too (hyper's
            // timer only starts once it is asked to read a request).
            let mut first = [0u8; 1];
            match tokio::time::timeout(header_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return drop(permit),
            }
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            // Errors here are the client's (reset, bad request line, timeout): hyper has already
            // answered what can be answered.
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_deadline) => {
            tracing::warn!(listener = name, "requests still open at the shutdown deadline were dropped");
        }
    }
}
