//! Fake Whop and Paddle APIs, for tests only. They speak the documented request and response
//! shapes (shared/providers/*.md, Paddle's OpenAPI spec), check the bearer key and its
//! permissions, validate request bodies, and answer the documented errors. Tests can script
//! failures (any status, `Retry-After`, or a hang) and read back every request received.
//!
//! One server serves both: Whop under `/whop/api/v1`, Paddle under `/paddle`. A control API
//! under `/__fake` lets out-of-process tests (Playwright) do what Rust tests do with methods.

// Handlers answer a ready `Response` as their error (the documented error body); boxing it would
// only add noise to test code.
#![allow(clippy::result_large_err)]

mod control;
mod paddle;
mod send;
mod whop;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A request as the fake received it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub api_version_date: Option<String>,
    pub body: Option<Value>,
}

/// A scripted failure: the next `times` requests matching `method` and `path_contains` get it
/// instead of the normal answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Failure {
    #[serde(default)]
    pub method: Option<String>,
    pub path_contains: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Never answer (until the client gives up).
    #[serde(default)]
    pub hang: bool,
    #[serde(default)]
    pub body: Option<Value>,
    /// Do the work first, then answer with the failure (the "it happened, but the answer was
    /// lost" case).
    #[serde(default)]
    pub after_processing: bool,
}

fn one() -> u32 {
    1
}

impl Failure {
    pub fn status(method: &str, path_contains: &str, status: u16) -> Self {
        Self {
            method: Some(method.to_string()),
            path_contains: path_contains.to_string(),
            status,
            times: 1,
            retry_after: None,
            hang: false,
            body: None,
            after_processing: false,
        }
    }

    /// The request is carried out, then answered with this failure.
    pub fn after_processing(mut self) -> Self {
        self.after_processing = true;
        self
    }

    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn hang(method: &str, path_contains: &str) -> Self {
        Self { hang: true, ..Self::status(method, path_contains, 200) }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct WhopKey {
    pub key: String,
    pub company_id: String,
    /// `developer:manage_webhook` (or the Admin role).
    #[serde(default = "yes")]
    pub can_manage_webhooks: bool,
    /// `payment:basic:read` (listing payments, for backfill).
    #[serde(default = "yes")]
    pub can_read_payments: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PaddleKey {
    pub key: String,
    /// `notification_setting.read`
    #[serde(default = "yes")]
    pub can_read: bool,
    /// `notification_setting.write`
    #[serde(default = "yes")]
    pub can_write: bool,
    /// `transaction.read` (listing transactions, for backfill).
    #[serde(default = "yes")]
    pub can_read_transactions: bool,
    /// `notification_simulation.write` (the webhook simulator, for test payments).
    #[serde(default = "yes")]
    pub can_simulate: bool,
}

fn yes() -> bool {
    true
}

#[derive(Default)]
pub(crate) struct FakeState {
    pub requests: Vec<RecordedRequest>,
    pub failures: Vec<Failure>,
    pub whop: whop::WhopState,
    pub paddle: paddle::PaddleState,
    pub next_id: u64,
}

impl FakeState {
    pub fn new_id(&mut self, prefix: &str, len: usize) -> String {
        self.next_id += 1;
        let mut bytes = vec![0u8; len / 2 + 1];
        getrandom::fill(&mut bytes).expect("random");
        let random = hex::encode(bytes);
        format!("{prefix}{:04}{}", self.next_id, &random[..len.saturating_sub(4)])
    }
}

#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<FakeState>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running fake. Dropping it stops it.
pub struct FakeProviders {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProviders {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeProviders {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("address")).await.expect("bind the fake providers")
    }

    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let shared = Shared(Arc::new(Mutex::new(FakeState::default())));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    pub fn whop_base(&self) -> String {
        format!("http://{}/whop/api/v1", self.addr)
    }

    pub fn paddle_base(&self) -> String {
        format!("http://{}/paddle", self.addr)
    }

    pub fn add_whop_key(&self, key: &str, company_id: &str, can_manage_webhooks: bool) {
        self.shared.lock().whop.keys.push(WhopKey {
            key: key.into(),
            company_id: company_id.into(),
            can_manage_webhooks,
            can_read_payments: true,
        });
    }

    /// A key with every permission named (e.g. one that may manage webhooks but not read payments).
    pub fn add_whop_key_with(&self, key: WhopKey) {
        self.shared.lock().whop.keys.push(key);
    }

    /// A payment Whop holds for `company_id`, as `GET /payments` lists it (the object as the
    /// API returns it: `id`, `status`, `substatus`, `total`, `currency`, `created_at`, `paid_at`,
    /// `metadata`, `plan`, `user`, ...).
    pub fn seed_whop_payment(&self, company_id: &str, payment: serde_json::Value) {
        self.shared.lock().whop.payments.push((company_id.to_string(), payment));
    }

    pub fn add_paddle_key(&self, key: &str, can_read: bool, can_write: bool) {
        self.shared.lock().paddle.keys.push(PaddleKey {
            key: key.into(),
            can_read,
            can_write,
            can_read_transactions: true,
            can_simulate: true,
        });
    }

    /// A key with every permission named.
    pub fn add_paddle_key_with(&self, key: PaddleKey) {
        self.shared.lock().paddle.keys.push(key);
    }

    /// A transaction Paddle holds, as `GET /transactions` lists it (the spec's transaction entity:
    /// `id`, `status`, `currency_code`, `details.totals.total`, `custom_data`, `billed_at`,
    /// `created_at`, `updated_at`, ...).
    pub fn seed_paddle_transaction(&self, transaction: serde_json::Value) {
        self.shared.lock().paddle.transactions.push(transaction);
    }

    pub fn fail(&self, failure: Failure) {
        self.shared.lock().failures.push(failure);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Requests with this method whose path contains `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.requests().iter().filter(|r| r.method == method && r.path.contains(path_contains)).count()
    }

    pub fn whop_webhooks(&self) -> Vec<Value> {
        self.shared.lock().whop.webhooks.iter().map(|w| w.public(false)).collect()
    }

    /// The signing secrets handed out so far (tests check they never leak).
    pub fn secrets(&self) -> Vec<String> {
        let state = self.shared.lock();
        let whop = state.whop.webhooks.iter().map(|w| w.secret.clone());
        whop.chain(state.paddle.settings.iter().map(|s| s.secret.clone())).collect()
    }

    pub fn paddle_destinations(&self) -> Vec<Value> {
        self.shared.lock().paddle.settings.iter().map(|s| s.public()).collect()
    }

    /// Puts a destination in place as if made earlier (by hand, or by an old connection).
    pub fn seed_paddle_destination(&self, destination: &str) -> Value {
        let mut state = self.shared.lock();
        let created = paddle::create_setting(&mut state, destination);
        created.public()
    }
}

fn router(shared: Shared) -> Router {
    Router::new()
        .nest("/whop/api/v1", whop::router())
        .nest("/paddle", paddle::router())
        .nest("/__fake", control::router())
        .layer(axum::middleware::from_fn_with_state(shared.clone(), record_and_fail))
        .with_state(shared)
}

/// Records every provider request, then applies a scripted failure if one matches.
async fn record_and_fail(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/__fake") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    let failure = {
        let mut state = shared.lock();
        state.requests.push(RecordedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_string),
            authorization: header(&parts.headers, "authorization"),
            api_version_date: header(&parts.headers, "api-version-date"),
            body: serde_json::from_slice(&bytes).ok(),
        });
        take_failure(&mut state.failures, &parts.method, &path)
    };
    if let Some(failure) = failure {
        if failure.after_processing {
            let _ = next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await;
            return failure_response(&path, &failure);
        }
        if failure.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        return failure_response(&path, &failure);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

fn failure_response(path: &str, failure: &Failure) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = failure.body.clone().unwrap_or_else(|| default_error(path, status));
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = failure.retry_after {
        response.headers_mut().insert("retry-after", secs.to_string().parse().expect("header"));
    }
    response
}

fn take_failure(failures: &mut Vec<Failure>, method: &Method, path: &str) -> Option<Failure> {
    let index = failures.iter().position(|f| {
        f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str())) && path.contains(&f.path_contains)
    })?;
    let failure = failures[index].clone();
    if failures[index].times <= 1 {
        failures.remove(index);
    } else {
        failures[index].times -= 1;
    }
    Some(failure)
}

/// The provider's own error shape for a scripted status.
fn default_error(path: &str, status: StatusCode) -> Value {
    let message = status.canonical_reason().unwrap_or("error");
    if path.starts_with("/paddle") {
        let code = match status.as_u16() {
            403 => "forbidden",
            404 => "not_found",
            409 => "conflict",
            429 => "too_many_requests",
            _ => "internal_error",
        };
        json!({"error": {"type": if status.is_server_error() { "api_error" } else { "request_error" },
               "code": code, "detail": message,
               "documentation_url": format!("https://developer.paddle.com/errors/shared/{code}")},
               "meta": {"request_id": "fake-request"}})
    } else {
        let kind = match status.as_u16() {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            429 => "rate_limit_exceeded",
            _ => "server_error",
        };
        json!({"error": {"type": kind, "message": message}})
    }
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
}
