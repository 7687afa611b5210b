//! Receiving a webhook: receive → verify → store raw → dedupe → parse → attribute.
//!
//! The order matters. Verification comes first and works on the exact bytes received. A
//! verified delivery is committed (fsynced) before the provider hears 2xx, even when its body
//! cannot be understood: the provider would not send it again, and a fix plus "Reprocess" can
//! still make use of it. Parsing is CPU work done before the write; applying the result to
//! payments happens in the same transaction as storing the delivery, so a delivery's status and
//! its payment never disagree.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::app::{AppState, LiveEvent};
use crate::attribution::link::{self, Carried, TokenKey};
use crate::connections::{WEBHOOK_SECRET_PURPOSE, aad};
use crate::http::error::ApiError;
use crate::http::limits::BodyError;
use crate::providers::event::{Effect, ParseError, Parsed, PaymentFact};
use crate::providers::{Provider, paddle, whop};
use crate::secrets::Secret;
use crate::store::deliveries::{self, Inserted, NewDelivery, NewRejection, Outcome};
use crate::store::payments::{self, Applied};
use crate::store::{self, StoreError, now_ms};
use crate::tracking::sites::SiteKeys;

/// A webhook request as it arrived.
pub struct Incoming {
    pub headers: HeaderMap,
    /// The body, or why it could not be read within the public listener's limits.
    pub body: Result<Bytes, BodyError>,
    pub remote: Option<SocketAddr>,
    pub received_at: i64,
}

/// The answer to a stored delivery.
#[derive(Debug, serde::Serialize)]
pub struct Receipt {
    pub ok: bool,
    pub id: String,
    pub status: String,
    pub duplicate: bool,
}

/// Verification state of a connection, kept in memory so the hot path does not decrypt or query
/// for every delivery. Removal forgets the entry.
#[derive(Clone)]
enum Receiver {
    Active { provider: Provider, secret: Arc<Secret>, site: Option<String> },
    Removed { provider: Provider },
}

#[derive(Default)]
pub struct Receivers {
    map: RwLock<HashMap<String, Receiver>>,
}

impl Receivers {
    pub fn forget(&self, connection_id: &str) {
        self.map.write().expect("receivers lock").remove(connection_id);
    }

    async fn lookup(&self, state: &AppState, connection_id: &str) -> Result<Option<Receiver>, ApiError> {
        if let Some(found) = self.map.read().expect("receivers lock").get(connection_id) {
            return Ok(Some(found.clone()));
        }
        let id = connection_id.to_string();
        let Some(row) = state.store.read(move |conn| store::connections::get(conn, &id)).await? else {
            // Unknown ids are not cached: random probes must not grow memory.
            return Ok(None);
        };
        let Some(provider) = Provider::parse(&row.provider) else { return Ok(None) };
        let receiver = match (row.status.as_str(), row.webhook_secret_sealed) {
            ("active", Some(sealed)) => {
                let secret = state.sealer.open_str(&sealed, aad(&row.id, WEBHOOK_SECRET_PURPOSE))?;
                Receiver::Active { provider, secret: Arc::new(secret), site: row.site_id.clone() }
            }
            ("removed", _) => Receiver::Removed { provider },
            // Pending: the webhook does not exist yet, nothing can be verified.
            _ => return Ok(None),
        };
        self.map.write().expect("receivers lock").insert(row.id, receiver.clone());
        Ok(Some(receiver))
    }
}

/// Whether `connection_id` is an active connection of `provider`: the public listener asks
/// before it reads a body, so probes of made-up URLs cost no memory.
pub async fn expects(state: &AppState, provider: Provider, connection_id: &str) -> bool {
    matches!(
        state.receivers.lookup(state, connection_id).await,
        Ok(Some(Receiver::Active { provider: p, .. })) if p == provider
    )
}

/// Settings the hot path reads on every delivery, mirrored from the store, and the state it
/// shares with the background processor.
pub struct IngestSettings {
    pub tolerance_secs: AtomicI64,
    /// Deliveries between verification and their answer right now.
    in_flight: AtomicUsize,
    /// When the last delivery was verified, in ms after `started` (a lull is a while without one).
    last_arrival_ms: AtomicU64,
    started: Instant,
    /// Wakes the background processor when a delivery was stored without being processed.
    wake: tokio::sync::Notify,
}

impl IngestSettings {
    /// Whether deliveries are arriving: one is in flight, or one arrived within [`LULL`].
    /// A verified delivery arrives: counted as unanswered until the guard drops.
    fn arrive(&self) -> Unanswered<'_> {
        self.last_arrival_ms.store(self.started.elapsed().as_millis() as u64, Ordering::Release);
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        Unanswered(&self.in_flight, before)
    }

    fn busy(&self) -> bool {
        let since_last =
            (self.started.elapsed().as_millis() as u64).saturating_sub(self.last_arrival_ms.load(Ordering::Acquire));
        self.in_flight.load(Ordering::Acquire) > 0 || since_last < LULL.as_millis() as u64
    }
}

/// A pause in deliveries this long is a lull. Between two waves of a burst, no delivery may be in
/// flight for a moment (all answered, the next not yet verified); that is not a lull.
const LULL: std::time::Duration = std::time::Duration::from_millis(50);

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            tolerance_secs: AtomicI64::new(store::settings::DEFAULT_SIGNATURE_TOLERANCE_SECS),
            in_flight: AtomicUsize::new(0),
            last_arrival_ms: AtomicU64::new(0),
            started: Instant::now(),
            wake: tokio::sync::Notify::new(),
        }
    }
}

/// Up to this many deliveries in flight, each is processed inside its acknowledged transaction
/// (its answer says "processed"). Beyond it (a burst, a retry storm), the acknowledged
/// transaction only stores the delivery, and processing follows in the background: the 2xx
/// then waits for one insert and the group's flush, not for payments, rollups and the index.
const PROCESS_INLINE_UP_TO: usize = 4;

/// A verified delivery not answered yet, counted in `in_flight` for as long as it lives; it knows
/// how many were ahead of it.
struct Unanswered<'a>(&'a AtomicUsize, usize);

impl Unanswered<'_> {
    fn inline(&self) -> bool {
        self.1 < PROCESS_INLINE_UP_TO
    }
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A flood of bad requests must not turn into a flood of database writes: at most this many
/// rejected attempts are stored and logged per second; the rest are answered and dropped.
const REJECTIONS_LOGGED_PER_SEC: u32 = 50;

#[derive(Default)]
pub struct RejectionBudget {
    window: Mutex<Option<(Instant, u32)>>,
}

impl RejectionBudget {
    fn allow(&self) -> bool {
        let mut window = self.window.lock().expect("budget lock");
        let now = Instant::now();
        match &mut *window {
            Some((start, used)) if now.duration_since(*start).as_secs() < 1 => {
                *used += 1;
                *used <= REJECTIONS_LOGGED_PER_SEC
            }
            _ => {
                *window = Some((now, 1));
                true
            }
        }
    }
}

/// Handles one webhook request for `provider`'s connection `connection_id`.
pub async fn receive(
    state: &AppState,
    provider: Provider,
    connection_id: &str,
    incoming: Incoming,
) -> Result<Receipt, ApiError> {
    let body = match &incoming.body {
        Ok(body) => body.clone(),
        // Busy: nothing is logged either, since logging is a write and the point is to shed load.
        Err(BodyError::Busy) => return Err(BodyError::Busy.into_api_error(crate::http::WEBHOOK_BODY_LIMIT)),
        Err(error) => {
            let limit = crate::http::WEBHOOK_BODY_LIMIT;
            let (status, code, message) = match error {
                BodyError::TooLarge { declared } => {
                    let told = declared.map(|s| format!(" ({s} bytes)")).unwrap_or_default();
                    (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("the body{told} is over the {limit}-byte limit for webhooks"),
                    )
                }
                BodyError::TimedOut => (
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!("the body did not arrive within {} s", crate::http::limits::BODY_DEADLINE.as_secs()),
                ),
                _ => (
                    StatusCode::BAD_REQUEST,
                    "body_unreadable",
                    "the body could not be read (the connection broke or the framing was invalid)".to_string(),
                ),
            };
            return Err(reject(state, provider, connection_id, &incoming, status, code, message, None).await);
        }
    };

    let (secret, site) = match state.receivers.lookup(state, connection_id).await? {
        Some(Receiver::Active { provider: p, secret, site }) if p == provider => (secret, site),
        Some(Receiver::Removed { provider: p }) if p == provider => {
            let message =
                "this connection was removed in Faurya; delete the webhook at the provider to stop these deliveries"
                    .to_string();
            return Err(reject(
                state,
                provider,
                connection_id,
                &incoming,
                StatusCode::GONE,
                "connection_removed",
                message,
                None,
            )
            .await);
        }
        _ => {
            let message = format!("no {} connection {connection_id} exists here", provider.display_name());
            return Err(reject(
                state,
                provider,
                connection_id,
                &incoming,
                StatusCode::NOT_FOUND,
                "unknown_connection",
                message,
                None,
            )
            .await);
        }
    };

    let now = incoming.received_at.div_euclid(1000);
    let tolerance = state.ingest.tolerance_secs.load(Ordering::Relaxed);
    let headers = &incoming.headers;
    // Each of these is one value (RFC 9110 §5.3); two of them means two senders' views of one
    // delivery, and which one a check reads must not be the sender's choice.
    let signed_by = match provider {
        Provider::Whop => {
            &[whop::signature::ID_HEADER, whop::signature::TIMESTAMP_HEADER, whop::signature::SIGNATURE_HEADER][..]
        }
        Provider::Paddle => &[paddle::signature::SIGNATURE_HEADER][..],
    };
    if let Some(name) = signed_by.iter().find(|name| headers.get_all(**name).iter().count() > 1) {
        let message = format!("the {name} header was sent more than once; send it once");
        return Err(reject(
            state,
            provider,
            connection_id,
            &incoming,
            StatusCode::BAD_REQUEST,
            "duplicate_header",
            message,
            None,
        )
        .await);
    }
    let verdict = match provider {
        Provider::Whop => whop::signature::verify(
            secret.expose(),
            header(headers, whop::signature::ID_HEADER),
            header(headers, whop::signature::TIMESTAMP_HEADER),
            header(headers, whop::signature::SIGNATURE_HEADER),
            &body,
            now,
            tolerance,
        ),
        Provider::Paddle => paddle::signature::verify(
            secret.expose(),
            header(headers, paddle::signature::SIGNATURE_HEADER),
            &body,
            now,
            tolerance,
        ),
    };
    if let Err(error) = verdict {
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let delivery_id = header(headers, whop::signature::ID_HEADER).map(str::to_string);
        return Err(reject(
            state,
            provider,
            connection_id,
            &incoming,
            status,
            error.code(),
            error.to_string(),
            delivery_id,
        )
        .await);
    }

    let load = state.ingest.arrive();
    let inline = load.inline();
    // Parsed here only when processed here; in a burst the background processor parses it.
    let parsed = inline.then(|| parse(provider, &body));
    // The site's token key, to check an attribution token the payment may carry.
    let token_key = match &site {
        Some(site) if inline => state.tracking.sites.keys(site).await?,
        _ => None,
    };
    let delivery_id = delivery_id(provider, headers, &body, parsed.as_ref().and_then(|p| p.as_ref().ok()));
    let event_type = event_type(parsed.as_ref(), &body);
    let headers_json = headers_json(headers);
    let (provider_name, connection) = (provider.as_str(), connection_id.to_string());
    let received_at = incoming.received_at;
    let (inserted, processed) = state
        .store
        .write(move |conn| {
            let inserted = deliveries::insert(
                conn,
                &NewDelivery {
                    connection_id: &connection,
                    provider: provider_name,
                    delivery_id: &delivery_id,
                    event_type: event_type.as_deref(),
                    received_at,
                    headers_json: &headers_json,
                    body: &body,
                },
            )?;
            let processed = match (&inserted, &parsed) {
                (Inserted::Original(id), Some(parsed)) if !deliveries::waiting_before(conn, *id)? => {
                    deliveries::index_for_search(conn, *id, &body)?;
                    Some(process(conn, provider_name, &connection, *id, parsed, token_key.as_deref())?)
                }
                _ => None,
            };
            Ok((inserted, processed))
        })
        .await?;
    drop(load);

    state.publish(LiveEvent::Delivery(inserted.id()));
    let status = match (&processed, &inserted) {
        (Some(done), _) => {
            if let Some(payment) = done.payment_changed {
                state.publish(LiveEvent::Payment(payment));
            }
            done.status.to_string()
        }
        (None, Inserted::Duplicate { .. }) => "duplicate".to_string(),
        (None, Inserted::Original(_)) => {
            state.ingest.wake.notify_one();
            "received".to_string()
        }
    };
    tracing::info!(provider = provider_name, delivery = inserted.id(), %status, "webhook stored");
    Ok(Receipt {
        ok: true,
        id: format!("d_{}", inserted.id()),
        duplicate: matches!(inserted, Inserted::Duplicate { .. }),
        status,
    })
}

/// The background processor: turns deliveries that were stored and acknowledged but not processed
/// (a burst answered before processing, or a crash between the two) into payments, oldest
/// first, in small background writes that never hold up an acknowledgement for long. Runs until
/// shutdown; at start it first catches up with whatever an earlier run left. A stop does not wait
/// for the backlog: what is left is processed at the next start.
pub async fn process_in_background(state: AppState) {
    // When the backlog being worked on was first seen; cleared once it is gone.
    let mut backlog_since: Option<tokio::time::Instant> = None;
    // Deliveries read per write: what the last write managed when the budget stopped it (rows
    // read beyond that were parsed for nothing, CPU a busy machine lacks), else growing.
    let mut batch = BACKGROUND_BATCH;
    loop {
        let since = *backlog_since.get_or_insert_with(tokio::time::Instant::now);
        wait_for_a_lull(&state, since).await;
        if state.shutdown.is_cancelled() {
            return;
        }
        match process_some(&state, batch).await {
            Ok(n) if n > 0 => {
                batch = if n < batch { n.max(2) } else { (batch * 2).min(MAX_BACKGROUND_BATCH) };
                continue;
            }
            Ok(_) => {
                backlog_since = None;
                batch = BACKGROUND_BATCH;
            }
            Err(e) => {
                tracing::warn!(error = %e, "processing stored deliveries failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = state.ingest.wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
    }
}

/// Lets a burst finish before catching up with it: processing competes with acknowledgements for
/// the CPU and the writer, so while deliveries are in flight it waits, but only until the backlog
/// is [`MAX_DEFERRAL`] old. After that it goes on in writes of [`BACKGROUND_BUDGET`] beside the
/// load until the backlog is gone: a load that never pauses must not grow it without end.
async fn wait_for_a_lull(state: &AppState, backlog_since: tokio::time::Instant) {
    while state.ingest.busy() && backlog_since.elapsed() < MAX_DEFERRAL && !state.shutdown.is_cancelled() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// How long a burst may go on before processing runs beside it. Processing beside the load costs
/// acknowledgements about a fifth of their rate and raises their p99 by a few ms (its pages ride
/// on their flushes; docs/BENCHMARKS.md), so it waits out any burst a provider plausibly sends
/// (a retry storm after an outage is seconds long); payments then show up seconds late.
const MAX_DEFERRAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The keys of the site a connection's payments belong to (to check attribution tokens).
pub async fn site_keys_of(state: &AppState, connection_id: &str) -> Result<Option<Arc<SiteKeys>>, ApiError> {
    let id = connection_id.to_string();
    let site = state.store.read(move |conn| store::connections::get(conn, &id)).await?.and_then(|c| c.site_id);
    match site {
        Some(site) => state.tracking.sites.keys(&site).await,
        None => Ok(None),
    }
}

/// Deliveries per background write at first, and at most.
const BACKGROUND_BATCH: usize = 16;
const MAX_BACKGROUND_BATCH: usize = 64;
/// The writer time one background write may take while deliveries are waiting for their answer:
/// it then stops after the delivery that passes it (the rest wait for the next write), so an
/// acknowledgement queued behind it waits at most about this long. Sixteen deliveries took 5 ms
/// on average, and up to 20 ms, in the ingest bench, where such a write during a burst set the
/// p99. With nobody waiting, the whole batch is processed.
const BACKGROUND_BUDGET: std::time::Duration = std::time::Duration::from_millis(2);

/// Processes up to `limit` stored, unprocessed deliveries (fewer when the writer-time budget runs
/// out); answers how many.
pub async fn process_some(state: &AppState, limit: usize) -> Result<usize, ApiError> {
    let rows = state.store.read(move |conn| deliveries::received(conn, limit)).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Each connection's site keys once per batch (to check attribution tokens).
    let mut keys: HashMap<String, Option<Arc<SiteKeys>>> = HashMap::new();
    let mut work = Vec::with_capacity(rows.len());
    for row in rows {
        if !keys.contains_key(&row.connection_id) {
            let found = site_keys_of(state, &row.connection_id).await?;
            keys.insert(row.connection_id.clone(), found);
        }
        let site_keys = keys.get(&row.connection_id).cloned().flatten();
        let parsed = Provider::parse(&row.provider).map(|p| parse(p, &row.body));
        work.push((row, parsed, site_keys));
    }
    let ingest = state.ingest.clone();
    let changed = state
        .store
        .write_background(move |conn| {
            let started = Instant::now();
            let mut changed = Vec::new();
            for (row, parsed, site_keys) in work {
                if !changed.is_empty()
                    && started.elapsed() >= BACKGROUND_BUDGET
                    && ingest.in_flight.load(Ordering::Acquire) > 0
                {
                    break;
                }
                store::run_cached(conn, "SAVEPOINT one")?;
                let done = (|| -> Result<Option<i64>, StoreError> {
                    deliveries::index_for_search(conn, row.id, &row.body)?;
                    match &parsed {
                        Some(parsed) => {
                            Ok(process(conn, &row.provider, &row.connection_id, row.id, parsed, site_keys.as_deref())?
                                .payment_changed)
                        }
                        None => Err(StoreError::Corrupt(format!("unknown provider {}", row.provider))),
                    }
                })();
                match done {
                    Ok(payment) => {
                        store::run_cached(conn, "RELEASE one")?;
                        changed.push((row.id, payment));
                    }
                    // One delivery that cannot be processed must not hold up the others: it is
                    // marked failed with the reason, and Reprocess can try it again.
                    Err(e) => {
                        store::run_cached(conn, "ROLLBACK TO one")?;
                        store::run_cached(conn, "RELEASE one")?;
                        let reason = format!("processing failed: {e}");
                        deliveries::set_outcome(
                            conn,
                            row.id,
                            &Outcome {
                                status: "failed",
                                event_type: None,
                                error: Some(&reason),
                                note: None,
                                payment_id: None,
                                amount_minor: None,
                                currency: None,
                                processed_at: now_ms(),
                            },
                        )?;
                        changed.push((row.id, None));
                    }
                }
            }
            Ok(changed)
        })
        .await?;
    let count = changed.len();
    for (delivery, payment) in changed {
        state.publish(LiveEvent::Delivery(delivery));
        if let Some(payment) = payment {
            state.publish(LiveEvent::Payment(payment));
        }
    }
    Ok(count)
}

/// Ties a payment to the visit its checkout named: the token checked with the site's key, else
/// the plain ids (see `attribution::link`).
fn attribute(conn: &Connection, payment: i64, fact: &PaymentFact, site: Option<&SiteKeys>) -> Result<(), StoreError> {
    let carried = Carried {
        token: fact.attribution_token.as_deref(),
        visitor_id: fact.visitor_id.as_deref(),
        session_id: fact.session_id.as_deref(),
    };
    let key = site.map(|s| TokenKey { site_id: &s.id, secret: s.token_secret.expose().as_bytes() });
    let resolved = link::resolve(&carried, key.as_ref(), now_ms() / 1000);
    store::attribution::assign(conn, payment, &resolved)
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn parse(provider: Provider, body: &[u8]) -> Result<Parsed, ParseError> {
    match provider {
        Provider::Whop => whop::payload::parse(body),
        Provider::Paddle => paddle::payload::parse(body),
    }
}

/// The provider's id of this delivery, for dedupe: Whop's `webhook-id` header (a replay keeps
/// it), Paddle's `event_id` (a retry or a second destination keeps it). A body without one is
/// keyed by its hash, so an identical repeat still dedupes.
fn delivery_id(provider: Provider, headers: &HeaderMap, body: &[u8], parsed: Option<&Parsed>) -> String {
    let found = match provider {
        Provider::Whop => header(headers, whop::signature::ID_HEADER).map(str::to_string),
        Provider::Paddle => parsed.and_then(|p| p.body_event_id.clone()).or_else(|| Envelope::of(body).event_id),
    };
    found.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(body))))
}

/// The event type, also for bodies that could not be fully parsed or were not parsed yet
/// (shown in the inspector).
fn event_type(parsed: Option<&Result<Parsed, ParseError>>, body: &[u8]) -> Option<String> {
    if let Some(Ok(parsed)) = parsed {
        return Some(parsed.event_type.clone());
    }
    let envelope = Envelope::of(body);
    envelope.kind.or(envelope.event_type)
}

/// The few top-level fields of a body that are read before it is processed, without building
/// the whole document (everything else is skipped unread). A field of another type (a number
/// where a string was expected) counts as absent.
#[derive(Default)]
struct Envelope {
    event_id: Option<String>,
    kind: Option<String>,
    event_type: Option<String>,
}

impl Envelope {
    fn of(body: &[u8]) -> Self {
        #[derive(Default, serde::Deserialize)]
        struct Raw {
            #[serde(default)]
            event_id: Option<serde_json::Value>,
            #[serde(default, rename = "type")]
            kind: Option<serde_json::Value>,
            #[serde(default)]
            event_type: Option<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_slice(body).unwrap_or_default();
        let text = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        Self { event_id: text(raw.event_id), kind: text(raw.kind), event_type: text(raw.event_type) }
    }
}

/// Every header as `[[name, value], ...]`; values that are not UTF-8 are kept lossily.
pub fn headers_json(headers: &HeaderMap) -> String {
    let pairs: Vec<(&str, String)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    serde_json::to_string(&pairs).expect("JSON")
}

/// What processing a delivery concluded.
pub struct Processed {
    pub status: &'static str,
    pub payment_id: Option<i64>,
    /// A payment that was created or changed (for live updates).
    pub payment_changed: Option<i64>,
}

/// Applies a parsed delivery to payments/refunds and records the outcome on the delivery. Runs
/// inside the writer's transaction; also used by Reprocess.
pub fn process(
    conn: &Connection,
    provider: &str,
    connection_id: &str,
    delivery: i64,
    parsed: &Result<Parsed, ParseError>,
    site: Option<&SiteKeys>,
) -> Result<Processed, StoreError> {
    let mut outcome = Outcome {
        status: "failed",
        event_type: None,
        error: None,
        note: None,
        payment_id: None,
        amount_minor: None,
        currency: None,
        processed_at: now_ms(),
    };
    let mut payment_changed = None;
    let status: &'static str;
    let note: String;
    match parsed {
        Err(error) => {
            let message = error.to_string();
            deliveries::set_outcome(conn, delivery, &Outcome { error: Some(&message), ..outcome })?;
            return Ok(Processed { status: "failed", payment_id: None, payment_changed: None });
        }
        Ok(parsed) => {
            outcome.event_type = Some(&parsed.event_type);
            match &parsed.effect {
                Effect::Ignored { reason } => {
                    status = "ignored";
                    note = reason.clone();
                }
                Effect::Payment(fact) => {
                    let applied = payments::apply_payment(conn, provider, connection_id, fact, delivery)?;
                    if let Applied::Created(id) = &applied {
                        crate::store::test_runs::mark_if_test(
                            conn,
                            connection_id,
                            &fact.provider_payment_id,
                            delivery,
                            *id,
                        )?;
                    }
                    attribute(conn, applied.id(), fact, site)?;
                    outcome.payment_id = Some(applied.id());
                    outcome.amount_minor = Some(fact.amount_minor);
                    outcome.currency = Some(&fact.currency);
                    (status, note) = match &applied {
                        Applied::Created(id) => {
                            payment_changed = Some(*id);
                            ("processed", format!("payment {} recorded", fact.provider_payment_id))
                        }
                        Applied::Updated { id, changes } => {
                            payment_changed = Some(*id);
                            (
                                "processed",
                                format!("payment {} updated: {}", fact.provider_payment_id, changes.join(", ")),
                            )
                        }
                        // Reprocessing the delivery that recorded it: still its delivery.
                        Applied::Unchanged { first_delivery: Some(d), .. } if *d == delivery => (
                            "processed",
                            format!(
                                "payment {} recorded by this delivery; reprocessed, nothing changed",
                                fact.provider_payment_id
                            ),
                        ),
                        Applied::Unchanged { first_delivery, .. } => (
                            "duplicate",
                            format!(
                                "payment {} was already recorded{}; not counted again",
                                fact.provider_payment_id,
                                first_delivery.map(|d| format!(" by d_{d}")).unwrap_or_default()
                            ),
                        ),
                    };
                }
                Effect::Refund(fact) => {
                    let applied = payments::apply_refund(conn, provider, fact, delivery)?;
                    let payment = payments::payment_id_of(conn, provider, &fact.provider_payment_id)?;
                    outcome.payment_id = payment;
                    outcome.amount_minor = Some(fact.amount_minor);
                    outcome.currency = Some(&fact.currency);
                    let counting = if fact.counts {
                        String::new()
                    } else {
                        format!(" (status {}: not deducted until it succeeds)", fact.status)
                    };
                    let waiting = if payment.is_none() {
                        format!(
                            "; payment {} has not arrived yet, the refund applies when it does",
                            fact.provider_payment_id
                        )
                    } else {
                        String::new()
                    };
                    (status, note) = match &applied {
                        Applied::Created(_) | Applied::Updated { .. } => {
                            payment_changed = payment;
                            ("processed", format!("refund {} recorded{counting}{waiting}", fact.provider_refund_id))
                        }
                        Applied::Unchanged { first_delivery: Some(d), .. } if *d == delivery => {
                            payment_changed = payment;
                            (
                                "processed",
                                format!(
                                    "refund {} recorded by this delivery; reprocessed, nothing changed{counting}{waiting}",
                                    fact.provider_refund_id
                                ),
                            )
                        }
                        Applied::Unchanged { first_delivery, .. } => (
                            "duplicate",
                            format!(
                                "refund {} was already recorded{}",
                                fact.provider_refund_id,
                                first_delivery.map(|d| format!(" by d_{d}")).unwrap_or_default()
                            ),
                        ),
                    };
                }
            }
        }
    }
    let payment_id = outcome.payment_id;
    deliveries::set_outcome(conn, delivery, &Outcome { status, note: Some(&note), ..outcome })?;
    Ok(Processed { status, payment_id, payment_changed })
}

/// Logs a rejected attempt (within the budget) and returns the error to answer.
#[allow(clippy::too_many_arguments)]
async fn reject(
    state: &AppState,
    provider: Provider,
    connection_id: &str,
    incoming: &Incoming,
    status: StatusCode,
    code: &'static str,
    message: String,
    delivery_id: Option<String>,
) -> ApiError {
    // Within the budget only (the rest are not stored or logged: a flood of bad requests must not
    // become a flood of writes or log lines), and with Debug formatting: the id and message echo
    // the sender's input, and a decoded `%0A` must not start a forged log line.
    if state.ingest_budget.allow() {
        tracing::warn!(
            provider = provider.as_str(),
            connection = ?capped(connection_id, 80),
            code,
            message = ?capped(&message, 300),
            "webhook rejected"
        );
        let (body, size) = match &incoming.body {
            Ok(body) => (body.clone(), body.len()),
            Err(BodyError::TooLarge { declared }) => (Bytes::new(), declared.unwrap_or(0) as usize),
            Err(_) => (Bytes::new(), 0),
        };
        let connection_id = capped(connection_id, MAX_ID_CHARS);
        let message = capped(&message, MAX_REASON_CHARS);
        let delivery_id = delivery_id.map(|id| capped(&id, MAX_ID_CHARS));
        let headers_json = capped_headers_json(&incoming.headers);
        let remote = incoming.remote.map(|r| r.to_string());
        let (connection, reason, received_at) = (connection_id, message.clone(), incoming.received_at);
        let stored = state
            .store
            .write(move |conn| {
                deliveries::insert_rejection(
                    conn,
                    &NewRejection {
                        provider: provider.as_str(),
                        connection_id: &connection,
                        received_at,
                        http_status: status.as_u16(),
                        reason_code: code,
                        reason: &reason,
                        delivery_id: delivery_id.as_deref(),
                        headers_json: &headers_json,
                        body: &body,
                        body_size: size,
                        remote_addr: remote.as_deref(),
                    },
                )
            })
            .await;
        match stored {
            Ok(id) => state.publish(LiveEvent::Rejected(id)),
            Err(e) => tracing::error!(error = %e, "could not log a rejected webhook"),
        }
    }
    ApiError::Rejected { status, code, message: capitalized(&capped(&message, MAX_REASON_CHARS)) }
}

/// Caps on what a rejected attempt stores of the sender's input besides its (already capped)
/// body: ids and reasons echo it, and headers are the sender's to write.
const MAX_ID_CHARS: usize = 200;
const MAX_REASON_CHARS: usize = 1000;
const MAX_HEADER_VALUE_CHARS: usize = 1000;
const MAX_HEADERS_KEPT: usize = 64;

/// `text` cut to at most `max` characters, marked with an ellipsis when cut.
fn capped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The headers of a rejected attempt as stored: at most [`MAX_HEADERS_KEPT`] of them, each value
/// cut to [`MAX_HEADER_VALUE_CHARS`].
fn capped_headers_json(headers: &HeaderMap) -> String {
    let pairs: Vec<(&str, String)> = headers
        .iter()
        .take(MAX_HEADERS_KEPT)
        .map(|(name, value)| {
            (name.as_str(), capped(&String::from_utf8_lossy(value.as_bytes()), MAX_HEADER_VALUE_CHARS))
        })
        .collect();
    serde_json::to_string(&pairs).expect("JSON")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
