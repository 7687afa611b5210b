//! Forwarding deliveries to the founder's own handler (e.g. `http://localhost:3000/api/webhooks/whop`).
//!
//! Each verified delivery of a connection with a target is sent there after it is stored, with
//! the exact body bytes and the original headers (signature headers included, so the founder's
//! code verifies it as if the provider had sent it). A separate task does the sending, so a slow
//! or down target never delays the provider's 200. Failures are retried with back-off; any
//! delivery can also be sent again by hand, to the same or another target.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::app::{AppState, LiveEvent};
use crate::http::error::ApiError;
use crate::store::forwards::{self, AttemptView, BODY_KEEP, Due, Sent};
use crate::store::{self, now_ms};

/// Waits before the 2nd, 3rd, … 8th attempt; after the 8th, forwarding gives up.
pub const BACKOFF: [Duration; 7] = [
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(10_800),
];
/// How long a target may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts sent at once.
const PARALLEL: usize = 4;
const MAX_URL_LEN: usize = 2048;

/// Headers that describe the hop the delivery came over, not the delivery: the new request
/// makes its own. Everything else is passed on as it arrived.
const HOP_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "proxy-authorization",
    "expect",
];

/// Whether a stored delivery may be forwarded: only what a provider sent, not what Faurya made
/// itself (a backfilled payment, a revenue API call), which has no signed original to pass on.
/// The inspector offers "Forward again" by the same rule.
pub fn forwardable(provider: &str, delivery_id: &str) -> bool {
    provider != "api" && !delivery_id.starts_with(crate::store::deliveries::BACKFILL_PREFIX)
}

/// Checks a target URL typed by the founder: http(s), a host, no credentials or fragment.
pub fn parse_target(text: &str) -> Result<Url, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Give a URL such as http://localhost:3000/api/webhooks/whop.".into());
    }
    if text.len() > MAX_URL_LEN {
        return Err(format!("That URL is longer than {MAX_URL_LEN} characters."));
    }
    let url = Url::parse(text)
        .map_err(|e| format!("That is not a URL ({e}); use e.g. http://localhost:3000/api/webhooks."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("Use an http:// or https:// URL, not {}://.", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The URL needs a host, such as localhost:3000.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave credentials out of the URL; Faurya passes the provider's signature headers instead.".into());
    }
    if url.fragment().is_some() {
        return Err("Leave the #fragment out: it is never sent to a server.".into());
    }
    Ok(url)
}

/// A client as forwarding uses it: no proxy (targets are usually on this machine), no redirects
/// followed (a 3xx is reported as the target's answer, as a provider would see it).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .build()
        .expect("an HTTP client")
}

/// Added to every forward, outside the provider's signature (which covers the body only):
/// Faurya's id of the delivery, for the handler's logs and dedupe.
pub const DELIVERY_HEADER: &str = "x-faurya-delivery";
/// Added when the delivery is a test payment's, so the handler need not count it as a sale.
pub const TEST_HEADER: &str = "x-faurya-test-payment";

/// Sends one delivery to `url`: the original headers (less the hop's own and any `x-faurya-*`
/// the sender put there), Faurya's own two, and the exact body.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    delivery: i64,
    is_test: bool,
    headers_json: &str,
    body: Vec<u8>,
) -> Sent {
    let mut headers = HeaderMap::new();
    let pairs: Vec<(String, String)> = serde_json::from_str(headers_json).unwrap_or_default();
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if HOP_HEADERS.contains(&lower.as_str()) || lower.starts_with("x-faurya-") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
            headers.append(name, value);
        }
    }
    headers.insert(DELIVERY_HEADER, HeaderValue::from_str(&format!("d_{delivery}")).expect("ASCII"));
    if is_test {
        headers.insert(TEST_HEADER, HeaderValue::from_static("true"));
    }
    let sent_at = now_ms();
    let started = Instant::now();
    let outcome = http.post(url).headers(headers).body(body).send().await;
    let mut sent = Sent { sent_at, ..Sent::default() };
    match outcome {
        Err(error) => {
            sent.error = Some(if error.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else {
                crate::providers::transport::describe_send_error(&error)
            });
        }
        Ok(mut response) => {
            sent.status_code = Some(response.status().as_u16());
            // Only the start of the answer is kept; the rest is read and dropped, within the timeout.
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = BODY_KEEP.saturating_sub(sent.response_body.len());
                        sent.response_body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if chunk.len() > room {
                            sent.response_truncated = true;
                        }
                        if sent.response_truncated && started.elapsed() > TIMEOUT {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        sent.error = Some(format!(
                            "the answer broke off: {}",
                            crate::providers::transport::describe_send_error(&error)
                        ));
                        break;
                    }
                }
            }
        }
    }
    sent.duration_ms = started.elapsed().as_millis() as i64;
    sent
}

/// The queue's worker: finds new deliveries to forward, sends what is due, records each
/// outcome, and sleeps until the next attempt is due or a delivery arrives. Runs until shutdown.
/// While no connection forwards and nothing is queued it does not touch the store at all, not
/// even for each delivery: most founders never forward, and their ingest must not pay for it
/// (setting a target catches the cursor up first, see [`set_target`]).
pub async fn run(state: AppState) {
    use tokio::sync::broadcast::error::RecvError;
    let http = shared_client();
    let mut live = state.live.subscribe();
    loop {
        let active = state.store.read(forwards::is_active).await.unwrap_or(true);
        if !active {
            // Idle until a connection changes (a target may have been set).
            loop {
                tokio::select! {
                    _ = state.shutdown.cancelled() => return,
                    event = live.recv() => match event {
                        Ok(LiveEvent::Connection(_)) | Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                        Ok(_) => {}
                    },
                }
            }
            continue;
        }
        let batch = state
            .store
            .write_background(|conn| {
                forwards::enqueue_new(conn)?;
                forwards::take_due(conn, PARALLEL * 4)
            })
            .await;
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "forwarding: could not read the queue");
                if sleep_or_stop(&state, Duration::from_secs(5)).await {
                    return;
                }
                continue;
            }
        };
        if !batch.is_empty() {
            send_batch(&state, &http, batch).await;
            continue;
        }
        let next = state.store.read(forwards::next_due_at).await.ok().flatten();
        let wait =
            next.map_or(Duration::from_secs(60), |at| Duration::from_millis((at - now_ms()).clamp(10, 60_000) as u64));
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            event = live.recv() => match event {
                Err(RecvError::Closed) => return,
                // A burst of deliveries is queued in one write, not one write each.
                Ok(LiveEvent::Delivery(_)) if sleep_or_stop(&state, COALESCE).await => return,
                _ => {}
            },
        }
    }
}

/// How long the worker lets deliveries gather after one arrives before it queues them.
const COALESCE: Duration = Duration::from_millis(25);

async fn sleep_or_stop(state: &AppState, wait: Duration) -> bool {
    tokio::select! {
        _ = state.shutdown.cancelled() => true,
        _ = tokio::time::sleep(wait) => false,
    }
}

async fn send_batch(state: &AppState, http: &reqwest::Client, batch: Vec<Due>) {
    let mut pending = batch.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < PARALLEL {
            let Some(due) = pending.next() else { break };
            let http = http.clone();
            running.spawn(async move {
                let sent = send(&http, &due.url, due.delivery, due.is_test, &due.headers_json, due.body).await;
                (due.id, due.delivery, due.attempt, sent)
            });
        }
        let Some(done) = running.join_next().await else { return };
        let Ok((id, delivery, attempt, sent)) = done else { continue };
        let retry_at = (!sent.ok())
            .then(|| BACKOFF.get(attempt as usize - 1))
            .flatten()
            .map(|wait| now_ms() + wait.as_millis() as i64);
        if !sent.ok() {
            tracing::info!(delivery, attempt, status = ?sent.status_code, error = ?sent.error, "forwarding failed");
        }
        let recorded = state.store.write_background(move |conn| forwards::record(conn, id, &sent, retry_at)).await;
        if let Err(e) = recorded {
            tracing::warn!(delivery, error = %e, "forwarding: could not record an attempt");
        }
        state.publish(LiveEvent::Delivery(delivery));
    }
}

/// "Forward again": sends a delivery now to its connection's target or to `url`, records it,
/// and answers the attempt. Only deliveries a provider sent can be forwarded.
pub async fn forward_now(state: &AppState, delivery: i64, url: Option<&str>) -> Result<AttemptView, ApiError> {
    let found = state
        .store
        .read(move |conn| {
            use rusqlite::OptionalExtension;
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT d.delivery_id, d.headers, d.body, c.forward_url, c.provider, {}
                         FROM deliveries d JOIN connections c ON c.id = d.connection_id WHERE d.id = ?1",
                        forwards::IS_TEST_SQL
                    ),
                    [delivery],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, bool>(5)?,
                        ))
                    },
                )
                .optional()?)
        })
        .await?;
    let Some((delivery_id, headers_json, body, target, provider, is_test)) = found else {
        return Err(ApiError::not_found("No such delivery."));
    };
    if !forwardable(&provider, &delivery_id) {
        return Err(ApiError::Conflict {
            code: "not_forwardable",
            message: "Only deliveries that came from the provider can be forwarded: this one was made by Faurya \
                      (a backfill or a revenue API call), so there is no signed original to pass on."
                .into(),
        });
    }
    let url = match url {
        Some(url) => parse_target(url).map_err(|message| ApiError::field("url", message))?.to_string(),
        None => target.ok_or_else(|| ApiError::Conflict {
            code: "no_target",
            message: "This connection forwards nowhere: set a forward URL on its card, or give one here.".into(),
        })?,
    };
    let sent = send(&shared_client(), &url, delivery, is_test, &headers_json, body).await;
    let id = state
        .store
        .write(move |conn| {
            let id = forwards::record_manual(conn, delivery, &url, &sent)?;
            let view = forwards::attempts_of(conn, delivery)?.into_iter().find(|a| a.id == id);
            Ok(view)
        })
        .await?;
    state.publish(LiveEvent::Delivery(delivery));
    id.ok_or_else(|| ApiError::Internal("the attempt just recorded is missing".into()))
}

/// One client (and connection pool) for every forward.
fn shared_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(client).clone()
}

/// Sets or clears a connection's target; the URL is checked first.
pub async fn set_target(state: &AppState, connection_id: &str, url: Option<&str>) -> Result<(), ApiError> {
    let url = match url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => Some(parse_target(url).map_err(|message| ApiError::field("forward_url", message))?.to_string()),
        None => None,
    };
    let id = connection_id.to_string();
    let change = move |conn: &rusqlite::Connection| {
        // Deliveries stored so far are not this target's: the cursor (idle while nothing
        // forwards) moves past them before the target is set, in the same transaction.
        forwards::catch_up(conn)?;
        store::connections::set_forward_url(conn, &id, url.as_deref())?;
        forwards::retarget(conn, &id, url.as_deref()).map(|_| ())
    };
    state.store.write(change).await.map_err(|e| match e {
        store::StoreError::NotFound => ApiError::not_found("No such connection (it may have been removed already)."),
        e => e.into(),
    })?;
    state.publish(LiveEvent::Connection(connection_id.to_string()));
    Ok(())
}
