//! Checking for missed payments ("backfill"). A laptop that slept or a tunnel that was down
//! longer than the provider retries loses deliveries for good; the provider still lists the
//! payments. So Faurya lists them (at start, when the tunnel comes back, every 30 minutes, and
//! on demand) and records each one it never received, as a delivery marked "backfilled" with
//! the provider's own data, processed like a webhook (attribution from its metadata included).
//! A webhook for the same payment arriving later counts once: payments are unique per
//! (provider, payment id).
//!
//! Whop: `GET /payments?company_id=…` (needs `payment:basic:read`), paid ones. Paddle:
//! `GET /transactions?status=paid,completed&updated_at[GT]=…` (needs `transaction.read`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Value, json};

use crate::app::{AppState, LiveEvent};
use crate::connections::{self, ProviderApi};
use crate::http::error::ApiError;
use crate::providers::Provider;
use crate::store::deliveries::{self, Inserted, NewDelivery};
use crate::store::{self, now_ms, settings};

/// How far back the first check looks, and how much each later check overlaps the previous one
/// (a payment created just before a check may be listed only after it).
const FIRST_LOOKBACK_MS: i64 = 30 * 86_400_000;
const OVERLAP_MS: i64 = 86_400_000;
/// Time between scheduled checks.
const EVERY: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// What the last check of a connection found (kept in settings as `backfill.<connection id>`).
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct BackfillState {
    /// Unix ms of the last check that reached the provider.
    pub checked_at: Option<i64>,
    /// Payments the last successful check recorded.
    pub recovered_last: i64,
    /// Payments all checks recorded so far.
    pub recovered_total: i64,
    /// Why the last attempt failed (a missing permission, an outage), if it did.
    pub error: Option<String>,
    /// Unix ms of the last attempt, successful or not.
    pub attempted_at: Option<i64>,
}

/// One check at a time per connection. A scheduled check (the tunnel came back) can meet one the
/// founder asked for: each reads the saved state, and the later save would drop what the other
/// recorded (both would also list and compare the same payments for nothing).
#[derive(Default)]
pub struct Checks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Checks {
    async fn one_at_a_time(&self, connection_id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self.0.lock().expect("backfill locks").entry(connection_id.to_string()).or_default().clone();
        lock.lock_owned().await
    }
}

fn settings_key(connection_id: &str) -> String {
    format!("backfill.{connection_id}")
}

/// The stored state of every connection's backfill, by connection id.
pub fn states(conn: &rusqlite::Connection) -> store::Result<std::collections::HashMap<String, BackfillState>> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM settings WHERE key LIKE 'backfill.%'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (key, value) = row?;
        if let (Some(id), Ok(state)) = (key.strip_prefix("backfill."), serde_json::from_str(&value)) {
            out.insert(id.to_string(), state);
        }
    }
    Ok(out)
}

/// Lists the provider's payments since the last check and records those never received.
/// A provider refusal (a key without the read permission, an outage) is kept on the connection
/// and returned in the state, not as an error: deliveries keep working without backfill.
pub async fn check(state: &AppState, connection_id: &str) -> Result<BackfillState, ApiError> {
    let _only = state.backfill.one_at_a_time(connection_id).await;
    let row = connections::load_active(state, connection_id).await?;
    let provider = Provider::parse(&row.provider).ok_or_else(|| ApiError::Internal("provider".into()))?;
    let id = row.id.clone();
    let previous: BackfillState = {
        let key = settings_key(&id);
        state
            .store
            .read(move |conn| settings::get(conn, &key))
            .await?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    };
    let attempted_at = now_ms();
    let mut next = BackfillState { attempted_at: Some(attempted_at), ..previous.clone() };

    let since = previous.checked_at.map(|t| t - OVERLAP_MS).unwrap_or(attempted_at - FIRST_LOOKBACK_MS);
    let since = jiff::Timestamp::from_millisecond(since).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    // Each paid payment the provider lists, as (its id, the webhook body it would have come in,
    // that webhook's event type): stored, parsed and shown like the delivery that was missed.
    let listed: Result<Vec<Missed>, _> = match connections::open_api(state, &row, provider)? {
        ProviderApi::Whop { client, company_id } => client.list_payments(&company_id, Some(since)).await.map(|items| {
            items
                .into_iter()
                .filter(|p| p["status"].as_str() == Some("paid"))
                .filter_map(|p| {
                    let id = p["id"].as_str()?.to_string();
                    let body = json!({"id": format!("backfill_{id}"), "type": "payment.succeeded", "data": p});
                    Some(Missed { id, body, event_type: "payment.succeeded".into(), source: "Whop GET /payments" })
                })
                .collect()
        }),
        ProviderApi::Paddle(client) => client.list_transactions(since).await.map(|items| {
            items
                .into_iter()
                .filter_map(|t| {
                    let id = t["id"].as_str()?.to_string();
                    let event_type = match t["status"].as_str()? {
                        "paid" => "transaction.paid",
                        "completed" => "transaction.completed",
                        _ => return None,
                    };
                    let body = json!({
                        "event_id": format!("backfill_{id}"), "event_type": event_type,
                        "occurred_at": t["updated_at"].clone(), "notification_id": null, "data": t,
                    });
                    Some(Missed { id, body, event_type: event_type.into(), source: "Paddle GET /transactions" })
                })
                .collect()
        }),
    };
    let listed = match listed {
        Ok(listed) => listed,
        Err(error) => {
            tracing::warn!(connection = %id, error = %error.message, "checking for missed payments failed");
            next.error = Some(error.message);
            save(state, &id, &next).await?;
            return Ok(next);
        }
    };

    let known: HashSet<String> = {
        let ids: Vec<String> = listed.iter().map(|m| m.id.clone()).collect();
        let provider_name = provider.as_str();
        state
            .store
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT 1 FROM payments WHERE provider = ?1 AND provider_payment_id = ?2
                     UNION ALL SELECT 1 FROM deliveries WHERE provider = ?1 AND delivery_id = ?3 || ?2
                     LIMIT 1",
                )?;
                let mut known = HashSet::new();
                for id in ids {
                    if stmt.exists(rusqlite::params![provider_name, &id, deliveries::BACKFILL_PREFIX])? {
                        known.insert(id);
                    }
                }
                Ok(known)
            })
            .await?
    };
    let missing: Vec<Missed> = listed.into_iter().filter(|m| !known.contains(&m.id)).collect();

    let keys = match &row.site_id {
        Some(site) => state.tracking.sites.keys(site).await?,
        None => None,
    };
    let mut recovered = Vec::new();
    for missed in missing {
        let Missed { id: payment_id, body, event_type, source } = missed;
        let body = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
        let parsed = crate::ingest::parse(provider, &body);
        let headers = json!([["x-faurya-backfill", source]]).to_string();
        let (connection, keys) = (id.clone(), keys.clone());
        let stored = state
            .store
            .write(move |conn| {
                let inserted = deliveries::insert(
                    conn,
                    &NewDelivery {
                        connection_id: &connection,
                        provider: provider.as_str(),
                        delivery_id: &format!("{}{payment_id}", deliveries::BACKFILL_PREFIX),
                        event_type: Some(&event_type),
                        received_at: now_ms(),
                        headers_json: &headers,
                        body: &body,
                    },
                )?;
                let Inserted::Original(delivery) = inserted else { return Ok(None) };
                deliveries::index_for_search(conn, delivery, &body)?;
                let processed =
                    crate::ingest::process(conn, provider.as_str(), &connection, delivery, &parsed, keys.as_deref())?;
                if let Some(payment) = processed.payment_id {
                    conn.prepare_cached("UPDATE payments SET origin = 'backfill' WHERE id = ?1 AND delivery_id = ?2")?
                        .execute(rusqlite::params![payment, delivery])?;
                }
                Ok(Some((delivery, processed.payment_changed)))
            })
            .await?;
        if let Some((delivery, payment)) = stored {
            recovered.push(delivery);
            state.publish(LiveEvent::Delivery(delivery));
            if let Some(payment) = payment {
                state.publish(LiveEvent::Payment(payment));
            }
        }
    }
    if !recovered.is_empty() {
        tracing::info!(connection = %id, recovered = recovered.len(), "recorded missed payments from the provider's list");
    }
    next.checked_at = Some(attempted_at);
    next.recovered_last = recovered.len() as i64;
    next.recovered_total = previous.recovered_total + recovered.len() as i64;
    next.error = None;
    save(state, &id, &next).await?;
    Ok(next)
}

/// A payment the provider lists, wrapped as the webhook that would have brought it.
struct Missed {
    id: String,
    body: Value,
    event_type: String,
    source: &'static str,
}

async fn save(state: &AppState, connection_id: &str, value: &BackfillState) -> Result<(), ApiError> {
    let (key, text) = (settings_key(connection_id), serde_json::to_string(value).expect("JSON"));
    state.store.write(move |conn| settings::set(conn, &key, &text)).await?;
    state.publish(LiveEvent::Connection(connection_id.to_string()));
    Ok(())
}

/// Checks every active connection: shortly after start, whenever the tunnel comes back up, and
/// every 30 minutes. Runs until shutdown.
pub async fn run(state: AppState) {
    let mut live = state.live.subscribe();
    let mut next = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(next) => {}
            event = live.recv() => match event {
                Ok(LiveEvent::Tunnel("up")) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                _ => continue,
            },
        }
        next = tokio::time::Instant::now() + EVERY;
        let ids: Vec<String> = match state.store.read(store::connections::list_active).await {
            Ok(rows) => rows.into_iter().filter(|r| r.status == "active").map(|r| r.id).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not list connections to check for missed payments");
                continue;
            }
        };
        for id in ids {
            if let Err(e) = check(&state, &id).await {
                tracing::warn!(connection = %id, error = %e, "checking for missed payments failed");
            }
        }
    }
}
