//! What one request on the public listener may cost: a size cap and a deadline on its body, a
//! share of a process-wide byte budget while the body is held, a cap on requests in progress,
//! and a deadline for the whole request. The internet reaches this listener through the tunnel;
//! without these, a thousand slow senders each holding a 1 MiB body would hold a gigabyte and
//! every worker.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;

/// A body must arrive within this once its headers have: a sender trickling bytes is cut off.
pub const BODY_DEADLINE: Duration = Duration::from_secs(15);
/// A whole request (body, verification, the fsynced write) must finish within this.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// Bytes of request bodies held at once across the public listener.
pub const BODY_BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// Requests in progress at once on the public listener; more are answered 503 at once.
pub const MAX_IN_FLIGHT: usize = 1024;
/// What a refused sender is told to wait before trying again.
const RETRY_AFTER_SECS: u64 = 5;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Over the endpoint's limit, with the size the sender declared (if it did).
    TooLarge { declared: Option<u64> },
    /// Not complete within [`BODY_DEADLINE`].
    TimedOut,
    /// The byte budget is spent by other requests: try again shortly.
    Busy,
    /// The connection broke or the framing was invalid.
    Broken,
}

impl BodyError {
    pub fn into_api_error(self, limit: usize) -> ApiError {
        match self {
            BodyError::TooLarge { .. } => ApiError::PayloadTooLarge { limit },
            BodyError::TimedOut => ApiError::RequestTimeout,
            BodyError::Busy => busy(),
            BodyError::Broken => ApiError::bad_request(
                "The request body could not be read (the connection broke or the framing was invalid).",
            ),
        }
    }
}

fn busy() -> ApiError {
    ApiError::Unavailable {
        message: "Faurya is busy with other requests; nothing was stored. Try again shortly.".into(),
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// The process-wide budget of body bytes, in KiB permits.
#[derive(Clone)]
pub struct BodyBudget(Arc<Semaphore>);

impl BodyBudget {
    pub fn new(bytes: usize) -> Self {
        Self(Arc::new(Semaphore::new(bytes.div_ceil(1024))))
    }

    /// KiB still free (for tests and health).
    pub fn available_kib(&self) -> usize {
        self.0.available_permits()
    }
}

impl Default for BodyBudget {
    fn default() -> Self {
        Self::new(BODY_BUDGET_BYTES)
    }
}

/// A body read within the limits. Its share of the budget is given back when this is dropped,
/// so a handler keeps it until it has answered.
#[derive(Debug)]
pub struct ReadBody {
    pub bytes: Bytes,
    _share: OwnedSemaphorePermit,
}

/// The Content-Length the sender declared, if it is a number.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

/// Reads `body` up to `limit` bytes within [`BODY_DEADLINE`], holding a share of `budget`.
/// A declared oversize body is refused before a byte of it is read; an undeclared (chunked) one
/// reserves the whole limit, since its size is unknown until it ends.
pub async fn read(body: Body, headers: &HeaderMap, limit: usize, budget: &BodyBudget) -> Result<ReadBody, BodyError> {
    read_within(body, headers, limit, budget, BODY_DEADLINE).await
}

async fn read_within(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    budget: &BodyBudget,
    deadline: Duration,
) -> Result<ReadBody, BodyError> {
    let declared = declared_length(headers);
    if declared.is_some_and(|size| size > limit as u64) {
        return Err(BodyError::TooLarge { declared });
    }
    let reserve = declared.map_or(limit, |size| size as usize);
    let kib = u32::try_from(reserve.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let share = budget.0.clone().try_acquire_many_owned(kib).map_err(|_| BodyError::Busy)?;
    match tokio::time::timeout(deadline, collect(body, limit, declared)).await {
        Err(_) => Err(BodyError::TimedOut),
        Ok(Ok(bytes)) => Ok(ReadBody { bytes, _share: share }),
        Ok(Err(error)) => Err(error),
    }
}

/// Frames (chunks) a body may come in. Providers and browsers send a few; a sender of a million
/// one-byte chunks would cost seconds of CPU for nothing.
pub const MAX_BODY_FRAMES: usize = 16 * 1024;

/// Collects the body into one buffer as it arrives (not a list of its frames, whose overhead
/// is per frame), up to `limit` bytes and [`MAX_BODY_FRAMES`] frames.
async fn collect(body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, BodyError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buffer = BytesMut::with_capacity(declared.map_or(8 * 1024, |size| size as usize).min(limit));
    let mut frames = 0;
    while let Some(frame) = stream.next().await {
        let chunk = frame.map_err(|_| BodyError::Broken)?;
        frames += 1;
        if buffer.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { declared });
        }
        if frames > MAX_BODY_FRAMES {
            return Err(BodyError::Broken);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

/// Middleware for the admin listener: a body declared over `limit` is refused from its headers,
/// before anyone waits for it to arrive.
pub async fn refuse_declared_oversize(request: Request, next: Next, limit: usize) -> Response {
    if declared_length(request.headers()).is_some_and(|size| size > limit as u64) {
        return ApiError::PayloadTooLarge { limit }.into_response();
    }
    next.run(request).await
}

/// The cap on requests in progress, shared by the public listener's routes.
#[derive(Clone)]
pub struct InFlight(Arc<Semaphore>);

impl InFlight {
    pub fn new(max: usize) -> Self {
        Self(Arc::new(Semaphore::new(max)))
    }
}

impl Default for InFlight {
    fn default() -> Self {
        Self::new(MAX_IN_FLIGHT)
    }
}

/// Middleware: refuse at once (503 + Retry-After) over the in-flight cap, and answer 408 to a
/// request not finished within [`REQUEST_DEADLINE`]. Dropping a late handler is safe: a write it
/// queued still commits or rolls back as a whole, and the sender retries after a non-2xx.
pub async fn guard(State(in_flight): State<InFlight>, request: Request, next: Next) -> Response {
    let Ok(_slot) = in_flight.0.clone().try_acquire_owned() else {
        return busy().into_response();
    };
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_length(length: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_str(length).unwrap());
        headers
    }

    #[tokio::test]
    async fn declared_oversize_is_refused_before_reading() {
        let budget = BodyBudget::new(1 << 20);
        let error = read(Body::from("x"), &with_length("2000"), 1000, &budget).await.unwrap_err();
        assert_eq!(error, BodyError::TooLarge { declared: Some(2000) });
        assert_eq!(budget.available_kib(), 1024);
    }

    #[tokio::test]
    async fn undeclared_oversize_is_cut_at_the_limit() {
        let budget = BodyBudget::new(1 << 20);
        let error = read(Body::from(vec![b'x'; 5000]), &HeaderMap::new(), 1000, &budget).await.unwrap_err();
        assert_eq!(error, BodyError::TooLarge { declared: None });
    }

    #[tokio::test]
    async fn the_share_is_held_while_the_body_is_and_given_back() {
        let budget = BodyBudget::new(8 * 1024);
        let read_body = read(Body::from(vec![b'x'; 3000]), &with_length("3000"), 4096, &budget).await.unwrap();
        assert_eq!(read_body.bytes.len(), 3000);
        assert_eq!(budget.available_kib(), 8 - 3);
        drop(read_body);
        assert_eq!(budget.available_kib(), 8);
    }

    #[tokio::test]
    async fn a_spent_budget_answers_busy() {
        let budget = BodyBudget::new(4 * 1024);
        let held = read(Body::from(vec![b'x'; 4096]), &with_length("4096"), 8192, &budget).await.unwrap();
        let error = read(Body::from("{}"), &with_length("2"), 8192, &budget).await.unwrap_err();
        assert_eq!(error, BodyError::Busy);
        drop(held);
        assert!(read(Body::from("{}"), &with_length("2"), 8192, &budget).await.is_ok());
    }

    #[tokio::test]
    async fn a_body_in_too_many_chunks_is_refused() {
        let chunks = futures_util::stream::iter(
            (0..MAX_BODY_FRAMES + 1).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(b"x"))),
        );
        let budget = BodyBudget::default();
        let error = read(Body::from_stream(chunks), &HeaderMap::new(), 1 << 20, &budget).await.unwrap_err();
        assert_eq!(error, BodyError::Broken);
        let few = futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(b"ab"))));
        let body = read(Body::from_stream(few), &HeaderMap::new(), 1 << 20, &budget).await.unwrap();
        assert_eq!(&body.bytes[..], b"abababababababababab");
    }

    #[tokio::test]
    async fn a_trickling_body_times_out() {
        let (mut sender, body) = {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
            let stream = tokio_stream_from(rx);
            (tx, Body::from_stream(stream))
        };
        sender.try_send(Ok(Bytes::from_static(b"{"))).unwrap();
        let budget = BodyBudget::default();
        let error = read_within(body, &with_length("10"), 1000, &budget, Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(error, BodyError::TimedOut);
        assert_eq!(budget.available_kib(), BODY_BUDGET_BYTES / 1024, "a timed-out read gives its share back");
        let _ = &mut sender;
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}
