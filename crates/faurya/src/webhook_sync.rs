//! Keeps every provider webhook pointed at the current public URL.
//!
//! Whenever the effective public URL changes (a new quick-tunnel hostname, an edited manual URL,
//! a backend switch), each active connection whose webhook points elsewhere is updated in place:
//! Whop `PATCH /webhooks/{id}` with the new `url`, Paddle `PATCH /notification-settings/{id}`
//! with the new `destination`. Never re-created: the webhook id and its signing secret stay.
//!
//! Progress is recorded on the connection (`sync`: pending → ok, or failed with the error) and
//! announced as `LiveEvent::Connection`. Failures are retried with back-off; a URL that changes
//! again supersedes the one being retried. While there is no public URL (the tunnel is down),
//! webhooks keep their last URL: when the same URL comes back (a reserved ngrok domain, a bore
//! port) nothing needs to change.

use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::app::{AppState, LiveEvent};
use crate::connections::{open_api, webhook_url};
use crate::providers::{Provider, ProviderErrorKind};
use crate::store::connections as rows;
use crate::tunnel::TunnelStatus;

/// The sync task's doorbell, for changes it cannot see in the tunnel status (a connection just
/// made with a URL that was replaced meanwhile).
#[derive(Default)]
pub struct WebhookSync {
    nudge: Notify,
}

impl WebhookSync {
    /// Asks for a sync round now (a permit is kept if one is running).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }
}

/// The sync task: runs until the app shuts down.
pub async fn run(state: AppState) {
    let mut status = state.tunnel.subscribe();
    let backoff = state.config.tunnel.sync_backoff;
    let mut failures: u32 = 0;
    let mut last_url: Option<String> = None;
    loop {
        let url = state.effective_public_url();
        if url != last_url {
            failures = 0;
            last_url = url.clone();
        }
        let mut retry_in = None;
        if let Some(url) = &url {
            tokio::select! {
                failed = sync_all(&state, url) => {
                    if failed > 0 {
                        failures = failures.saturating_add(1);
                        let wait = backoff.delay(failures);
                        tracing::info!(failed, retry_in_ms = wait.as_millis() as u64, "webhook URL sync will retry");
                        retry_in = Some(wait);
                    } else {
                        failures = 0;
                    }
                }
                // Superseded: start over with the newer URL.
                _ = url_change(&mut status, &state, Some(url)) => continue,
                _ = state.shutdown.cancelled() => return,
            }
        }
        tokio::select! {
            _ = url_change(&mut status, &state, url.as_deref()) => {}
            _ = state.webhook_sync.nudge.notified() => {}
            _ = sleep_or_never(retry_in) => {}
            _ = state.shutdown.cancelled() => return,
        }
    }
}

/// Resolves once the effective public URL differs from `current`.
async fn url_change(status: &mut watch::Receiver<TunnelStatus>, state: &AppState, current: Option<&str>) {
    loop {
        if status.changed().await.is_err() {
            return std::future::pending().await;
        }
        if state.effective_public_url().as_deref() != current {
            return;
        }
    }
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// One round: updates every connection not yet pointed at `public_url`. Returns how many
/// failed.
async fn sync_all(state: &AppState, public_url: &str) -> usize {
    let connections = match state.store.read(rows::list_active).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "webhook URL sync could not list the connections");
            return 1;
        }
    };
    let mut failed = 0;
    for row in connections {
        let (Some(hook), Some(provider)) = (row.webhook_id.clone(), Provider::parse(&row.provider)) else { continue };
        let desired = webhook_url(public_url, provider, &row.id);
        if row.webhook_url.as_deref() == Some(desired.as_str()) && row.sync_state == "ok" {
            continue;
        }
        record(state, &row.id, "pending", None, None).await;
        let name = provider.display_name();
        let outcome = match open_api(state, &row, provider) {
            Ok(api) => api.update_webhook_url(&hook, &desired).await.map_err(|e| match e.kind {
                ProviderErrorKind::NotFound => format!(
                    "The webhook {hook} no longer exists at {name} (deleted in its dashboard?), so it cannot follow \
                     the new URL {desired}. Remove this connection and connect it again."
                ),
                _ => format!(
                    "Could not point the {name} webhook at the new URL {desired}: {}. Retrying automatically.",
                    e.message.trim_end_matches('.')
                ),
            }),
            Err(e) => Err(format!("Could not open this connection's stored key to update the webhook: {e}")),
        };
        match outcome {
            Ok(()) => {
                tracing::info!(connection = %row.id, provider = provider.as_str(), url = %desired, "webhook URL updated");
                record(state, &row.id, "ok", None, Some(&desired)).await;
            }
            Err(message) => {
                tracing::warn!(connection = %row.id, provider = provider.as_str(), error = %message, "webhook URL update failed");
                record(state, &row.id, "failed", Some(&message), None).await;
                failed += 1;
            }
        }
    }
    failed
}

async fn record(state: &AppState, id: &str, sync_state: &'static str, error: Option<&str>, url: Option<&str>) {
    let (id_owned, error, url) = (id.to_string(), error.map(str::to_string), url.map(str::to_string));
    let written = state
        .store
        .write(move |conn| rows::set_sync(conn, &id_owned, sync_state, error.as_deref(), url.as_deref()))
        .await;
    if let Err(e) = written {
        tracing::warn!(connection = %id, error = %e, "could not record the webhook sync state");
    }
    state.publish(LiveEvent::Connection(id.to_string()));
}
