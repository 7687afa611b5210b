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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Header lines per request; more get 431 (hyper's default, said here so it is a decision).
const MAX_HEADERS: usize = 100;

/// What one listener tolerates from its clients.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The whole request head (request line and headers) must arrive within this, and an idle
    /// keep-alive connection is closed after it.
    pub header_timeout: Duration,
    /// Request heads above this size get 431.
    pub max_header_bytes: usize,
    /// Connections open at once; a connection over the cap is closed as soon as it is accepted.
    pub max_connections: usize,
    /// How long a clean stop waits for requests in progress before dropping them.
    pub shutdown_deadline: Duration,
}

impl Limits {
    /// The public listener faces the internet through the tunnel.
    pub const PUBLIC: Limits = Limits {
        header_timeout: Duration::from_secs(10),
        max_header_bytes: 64 * 1024,
        max_connections: 4096,
        shutdown_deadline: Duration::from_secs(10),
    };
    /// The admin listener serves the founder's own browser (and keeps SSE streams open).
    pub const ADMIN: Limits = Limits {
        header_timeout: Duration::from_secs(30),
        max_header_bytes: 64 * 1024,
        max_connections: 512,
        shutdown_deadline: Duration::from_secs(5),
    };
}

/// Serves `router` on `listener` until `cancel` fires, then stops within the shutdown deadline.
/// Each request carries `ConnectInfo<SocketAddr>` like `into_make_service_with_connect_info`.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, cancel: CancellationToken, name: &str) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut refused: u64 = 0;

    loop {
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
        let Ok(permit) = open.clone().try_acquire_owned() else {
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
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's (reset, bad request line, timeout): hyper has already
            // answered what can be answered.
            let _ = connection.await;
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
