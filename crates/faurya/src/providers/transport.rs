//! Sending requests to a provider API: timeouts, retries with back-off that honour
//! `Retry-After`, and network failures turned into messages that name the host.
//!
//! Retries are only safe where a repeat cannot do harm. A create (POST) that timed out or got a
//! 5xx may have happened at the provider, so it is retried only on 429 (refused before doing
//! anything) and on connection failures (never sent). Reads, updates and deletes are idempotent
//! and are retried on 429, 5xx and timeouts.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use super::{ProviderError, ProviderErrorKind};
use crate::secrets::Secret;

/// One provider's API: where it is, the key that authenticates as a bearer token, headers it
/// wants on every call (Whop's version date), and how hard to retry. Both provider clients
/// send through this, so auth, JSON and retries are written once.
pub struct Api {
    name: &'static str,
    http: reqwest::Client,
    base: String,
    key: Secret,
    retry: RetryPolicy,
    headers: &'static [(&'static str, &'static str)],
}

impl Api {
    pub fn new(
        name: &'static str,
        http: reqwest::Client,
        base: impl Into<String>,
        key: Secret,
        retry: RetryPolicy,
        headers: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { name, http, base: base.into().trim_end_matches('/').to_string(), key, retry, headers }
    }

    /// Sends `method` to `path` (which may carry its own query) plus `query`, with an optional
    /// JSON body, and returns the final answer for the provider module to interpret.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Sent, ProviderError> {
        let mut url = Url::parse(&format!("{}{}", self.base, path)).map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Unreachable,
                format!("The {} API address {} is not valid: {e}", self.name, self.base),
            )
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        send(self.name, &method, &url, &self.retry, || {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(self.key.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            for (name, value) in self.headers {
                request = request.header(*name, *value);
            }
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
    }
}

/// How hard to try. The defaults suit a person waiting on a button; tests shorten them.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// First back-off; doubled each retry.
    pub base_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the user gets the error instead.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 4, base_delay: Duration::from_millis(500), max_wait: Duration::from_secs(20) }
    }
}

/// The answer that ended the attempts: a response (any status), or a network failure already
/// turned into a [`ProviderError`].
pub struct Sent {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: axum::body::Bytes,
}

/// Sends the request `build` makes (called again for each attempt) and returns the final
/// answer. `name` is the provider's name for messages ("Whop").
pub async fn send(
    name: &str,
    method: &Method,
    url: &Url,
    policy: &RetryPolicy,
    build: impl Fn() -> RequestBuilder,
) -> Result<Sent, ProviderError> {
    let idempotent = method != Method::POST;
    let host = url.host_str().unwrap_or("the provider").to_string();
    let mut attempt = 1;
    loop {
        let outcome = build().send().await;
        let retry_in = match &outcome {
            Ok(response) => retry_delay(response, idempotent, attempt, policy),
            Err(e) if e.is_connect() => Some(backoff(attempt, policy)),
            Err(e) if e.is_timeout() && idempotent => Some(backoff(attempt, policy)),
            Err(_) => None,
        };
        match retry_in {
            Some(wait) if attempt < policy.attempts && wait <= policy.max_wait => {
                tracing::debug!(provider = name, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            _ => return finish(name, &host, outcome).await,
        }
    }
}

fn retry_delay(response: &Response, idempotent: bool, attempt: u32, policy: &RetryPolicy) -> Option<Duration> {
    let status = response.status();
    let retryable = status == StatusCode::TOO_MANY_REQUESTS || (idempotent && status.is_server_error());
    if !retryable {
        return None;
    }
    Some(retry_after(response).unwrap_or_else(|| backoff(attempt, policy)))
}

fn backoff(attempt: u32, policy: &RetryPolicy) -> Duration {
    policy.base_delay.saturating_mul(1 << (attempt - 1).min(10))
}

/// `Retry-After` in seconds (the form providers use); an HTTP date is treated as absent.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

async fn finish(name: &str, host: &str, outcome: reqwest::Result<Response>) -> Result<Sent, ProviderError> {
    let response = outcome.map_err(|e| network_error(name, host, &e))?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response.bytes().await.map_err(|e| network_error(name, host, &e))?;
    Ok(Sent { status, retry_after, body })
}

fn network_error(name: &str, host: &str, error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::new(
            ProviderErrorKind::Timeout,
            format!(
                "{name} ({host}) did not answer in time. Try again; if it keeps happening, check this machine's internet connection."
            ),
        )
    } else {
        let cause = describe_send_error(error);
        ProviderError::new(
            ProviderErrorKind::Unreachable,
            format!("Could not reach {name} at {host}: {cause}. Check the internet connection, proxy or firewall."),
        )
    }
}

/// Why a request got no answer, in the words of its innermost cause ("Connection refused",
/// "dns error: …"): the outer layers only say "error sending request".
pub fn describe_send_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer in time".to_string();
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Percent-encodes an id for use as one path segment. Provider ids are tame (`hook_…`,
/// `ntfset_…`), but a stored value is never trusted to be.
pub fn path_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
