//! Connecting and disconnecting provider accounts.
//!
//! Connect: validate → reserve the account locally (pending) → create the webhook at the
//! provider → seal and store its secret → active. Anything failing after the provider created
//! the webhook deletes it again, so no orphaned webhook keeps firing at a dead URL.
//!
//! Disconnect: delete the webhook at the provider first (404 = already gone), then the local
//! connection. If the provider call fails the connection stays, unless the user explicitly
//! removes it locally anyway.

use serde::Serialize;

use crate::app::{AppState, LiveEvent};
use crate::http::error::ApiError;
use crate::providers::paddle::client::PaddleClient;
use crate::providers::transport::RetryPolicy;
use crate::providers::whop::client::{self as whop, WhopClient};
use crate::providers::{Environment, Provider, ProviderError, ProviderErrorKind};
use crate::secrets::{Aad, Secret, mask_last4};
use crate::store::connections::{self as rows, ConnectionRow, NewConnection};
use crate::store::{StoreError, rfc3339};

/// What the UI and the API show of a connection. Never the key or the secret.
#[derive(Debug, Serialize)]
pub struct ConnectionView {
    pub id: String,
    pub provider: String,
    pub environment: String,
    pub account_id: Option<String>,
    pub masked_key: String,
    pub webhook_id: Option<String>,
    pub webhook_url: Option<String>,
    pub created_at: String,
    pub last_delivery_at: Option<String>,
    pub deliveries: i64,
    pub sync: SyncView,
    pub site_id: Option<String>,
    /// The last check for missed payments (none yet: null).
    pub backfill: Option<crate::backfill::BackfillState>,
    /// Where verified deliveries are also sent (the founder's own handler).
    pub forward_url: Option<String>,
    /// The latest "Send test payment" run.
    pub last_test: Option<crate::test_payment::TestRun>,
}

#[derive(Debug, Serialize)]
pub struct SyncView {
    pub state: String,
    pub error: Option<String>,
    pub updated_at: Option<String>,
}

impl From<ConnectionRow> for ConnectionView {
    fn from(row: ConnectionRow) -> Self {
        Self {
            account_id: (row.provider == "whop").then(|| row.account_id.clone()),
            masked_key: mask_last4(&row.key_last4),
            id: row.id,
            provider: row.provider,
            environment: row.environment,
            webhook_id: row.webhook_id,
            webhook_url: row.webhook_url,
            created_at: rfc3339(row.created_at),
            last_delivery_at: row.last_delivery_at.map(rfc3339),
            deliveries: row.deliveries,
            site_id: row.site_id,
            forward_url: row.forward_url,
            backfill: None,
            last_test: None,
            sync: SyncView {
                state: row.sync_state,
                error: row.sync_error,
                updated_at: row.sync_updated_at.map(rfc3339),
            },
        }
    }
}

/// A validated connect request.
pub struct ConnectRequest {
    pub provider: Provider,
    pub environment: Environment,
    pub api_key: Secret,
    /// The Whop Company ID; Paddle keys address one account, so there is none.
    pub account_id: Option<String>,
    /// The site whose payments these are.
    pub site_id: String,
}

/// Paddle has no account id to key uniqueness on: one Paddle connection per environment.
const PADDLE_ACCOUNT: &str = "default";

pub const API_KEY_PURPOSE: &str = "api_key";
pub const WEBHOOK_SECRET_PURPOSE: &str = "webhook_secret";

pub fn aad<'a>(connection_id: &'a str, purpose: &'a str) -> Aad<'a> {
    Aad { table: "connections", row: connection_id, purpose }
}

/// The provider API of one connection, whichever provider it is.
pub enum ProviderApi {
    Whop { client: WhopClient, company_id: String },
    Paddle(PaddleClient),
}

/// A webhook just created at a provider.
pub struct RemoteWebhook {
    pub id: String,
    pub secret: Secret,
}

impl ProviderApi {
    pub fn new(state: &AppState, provider: Provider, environment: Environment, key: Secret, account_id: &str) -> Self {
        let http = state.http.clone();
        let retry: RetryPolicy = state.config.provider_retry.clone();
        match provider {
            Provider::Whop => {
                let base = state.config.whop_api_base.clone().unwrap_or_else(|| {
                    match environment {
                        Environment::Production => whop::PRODUCTION_BASE,
                        Environment::Sandbox => whop::SANDBOX_BASE,
                    }
                    .to_string()
                });
                ProviderApi::Whop {
                    client: WhopClient::new(http, base, key, retry),
                    company_id: account_id.to_string(),
                }
            }
            Provider::Paddle => {
                let base = state
                    .config
                    .paddle_api_base
                    .clone()
                    .unwrap_or_else(|| crate::providers::paddle::client::default_base(environment).to_string());
                ProviderApi::Paddle(PaddleClient::new(http, base, key, retry))
            }
        }
    }

    pub async fn create_webhook(&self, url: &str) -> Result<RemoteWebhook, ProviderError> {
        match self {
            ProviderApi::Whop { client, company_id } => {
                let created = client.create_webhook(company_id, url).await?;
                Ok(RemoteWebhook { id: created.webhook.id, secret: created.secret })
            }
            ProviderApi::Paddle(client) => {
                let created = client.create_or_reuse_destination(url).await?;
                Ok(RemoteWebhook { id: created.id, secret: created.secret })
            }
        }
    }

    /// Deletes the webhook; `Ok(false)` when the provider says it was already gone.
    pub async fn delete_webhook(&self, id: &str) -> Result<bool, ProviderError> {
        let outcome = match self {
            ProviderApi::Whop { client, .. } => client.delete_webhook(id).await,
            ProviderApi::Paddle(client) => client.delete_destination(id).await,
        };
        match outcome {
            Ok(()) => Ok(true),
            Err(e) if e.kind == ProviderErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Points the existing webhook at a new URL (never creates a second one).
    pub async fn update_webhook_url(&self, id: &str, url: &str) -> Result<(), ProviderError> {
        match self {
            ProviderApi::Whop { client, .. } => client
                .update_webhook(id, &whop::UpdateWebhook { url: Some(url), ..Default::default() })
                .await
                .map(|_| ()),
            ProviderApi::Paddle(client) => client.update_destination_url(id, url).await,
        }
    }

    /// Deletes any webhook at the provider that points at this connection's path. Used when a
    /// create may or may not have happened (timeout, 5xx) and after a crash mid-connect. The
    /// connection id in the path is random, so a match is certainly ours.
    pub async fn delete_webhooks_for(&self, provider: Provider, connection_id: &str) -> Result<usize, ProviderError> {
        let suffix = webhook_path(provider, connection_id);
        let mut deleted = 0;
        match self {
            ProviderApi::Whop { client, company_id } => {
                for hook in client.list_webhooks(company_id).await? {
                    if hook.url.ends_with(&suffix) && self.delete_webhook(&hook.id).await? {
                        deleted += 1;
                    }
                }
            }
            ProviderApi::Paddle(client) => {
                for destination in client.list_destinations().await? {
                    if destination.destination.ends_with(&suffix) && self.delete_webhook(&destination.id).await? {
                        deleted += 1;
                    }
                }
            }
        }
        Ok(deleted)
    }
}

pub fn webhook_path(provider: Provider, connection_id: &str) -> String {
    format!("/webhooks/{}/{}", provider.as_str(), connection_id)
}

pub fn webhook_url(public_url: &str, provider: Provider, connection_id: &str) -> String {
    format!("{}{}", public_url.trim_end_matches('/'), webhook_path(provider, connection_id))
}

fn new_connection_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("random id: {e}")))?;
    Ok(format!("con_{}", hex::encode(bytes)))
}

/// Active connections, of one site when `site` is given.
pub async fn list(state: &AppState, site: Option<&str>) -> Result<Vec<ConnectionView>, ApiError> {
    let (rows, mut backfill, mut tests) = state
        .store
        .read(|conn| {
            Ok((rows::list_active(conn)?, crate::backfill::states(conn)?, crate::store::test_runs::latest(conn)?))
        })
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| site.is_none_or(|site| row.site_id.as_deref() == Some(site)))
        .map(|row| {
            let backfill = backfill.remove(&row.id);
            let last_test = tests.remove(&row.id).and_then(|json| serde_json::from_str(&json).ok());
            ConnectionView { backfill, last_test, ..ConnectionView::from(row) }
        })
        .collect())
}

pub async fn get_view(state: &AppState, id: &str) -> Result<ConnectionView, ApiError> {
    list(state, None)
        .await?
        .into_iter()
        .find(|view| view.id == id)
        .ok_or_else(|| ApiError::not_found("No such connection."))
}

/// Connects a provider account: see the module docs for the steps.
pub async fn connect(state: &AppState, request: ConnectRequest) -> Result<ConnectionView, ApiError> {
    let provider = request.provider;
    let name = provider.display_name();
    let public_url = state.public_url().await?.ok_or_else(|| {
        let status = state.tunnel.status();
        ApiError::PublicUrlMissing(crate::tunnel::missing_url_message(
            &status,
            state.addrs.public,
            &format!("Connecting {name}"),
        ))
    })?;

    let id = new_connection_id()?;
    let account_id = request.account_id.clone().unwrap_or_else(|| PADDLE_ACCOUNT.to_string());
    let sealed_key = state.sealer.seal_str(&request.api_key, aad(&id, API_KEY_PURPOSE))?;
    let already = match &request.account_id {
        Some(account) => format!(
            "{name} company {account} ({}) is already connected. Remove that connection first to connect it again.",
            request.environment.as_str()
        ),
        None => format!(
            "A {name} account ({}) is already connected. Remove it first to connect another key.",
            request.environment.as_str()
        ),
    };
    {
        let (id, account_id, key_last4, site_id) =
            (id.clone(), account_id.clone(), crate::secrets::last4(request.api_key.expose()), request.site_id.clone());
        let environment = request.environment.as_str();
        state
            .store
            .write(move |conn| {
                rows::insert_pending(
                    conn,
                    &NewConnection {
                        id: &id,
                        provider: provider.as_str(),
                        environment,
                        account_id: &account_id,
                        key_last4: &key_last4,
                        api_key_sealed: &sealed_key,
                        site_id: &site_id,
                    },
                    || already,
                )
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(message) => ApiError::Conflict { code: "already_connected", message },
                other => other.into(),
            })?;
    }

    let api = ProviderApi::new(state, provider, request.environment, request.api_key, &account_id);
    let url = webhook_url(&public_url, provider, &id);
    let created = match api.create_webhook(&url).await {
        Ok(created) => created,
        Err(error) => {
            // A timeout or a 5xx leaves it unknown whether the webhook exists: look and delete.
            if matches!(
                error.kind,
                ProviderErrorKind::Timeout | ProviderErrorKind::Upstream | ProviderErrorKind::Unreachable
            ) && let Err(cleanup) = api.delete_webhooks_for(provider, &id).await
            {
                tracing::warn!(connection = %id, error = %cleanup, "could not check for a half-created webhook");
            }
            forget_pending(state, &id).await;
            return Err(error.into());
        }
    };

    let finished = async {
        let sealed_secret = state.sealer.seal_str(&created.secret, aad(&id, WEBHOOK_SECRET_PURPOSE))?;
        let (id, hook_id, url) = (id.clone(), created.id.clone(), url.clone());
        state.store.write(move |conn| rows::activate(conn, &id, &hook_id, &url, &sealed_secret)).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(error) = finished {
        if let Err(cleanup) = api.delete_webhook(&created.id).await {
            tracing::error!(connection = %id, webhook = %created.id, error = %cleanup,
                "could not delete the webhook after a failed connect; delete it at the provider");
        }
        forget_pending(state, &id).await;
        return Err(error);
    }
    tracing::info!(connection = %id, provider = provider.as_str(), webhook = %created.id, "connected");
    state.publish(LiveEvent::Connection(id.clone()));
    // The public URL may have changed while the webhook was being made.
    state.webhook_sync.nudge();
    get_view(state, &id).await
}

async fn forget_pending(state: &AppState, id: &str) {
    let id = id.to_string();
    if let Err(e) = state.store.write(move |conn| rows::delete_pending(conn, &id)).await {
        tracing::error!(error = %e, "could not forget a pending connection");
    }
}

/// The outcome of a removal, as the API answers it.
#[derive(Debug, Serialize)]
pub struct Removed {
    pub removed: bool,
    pub webhook_deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Disconnects: remote webhook first, then the local connection. With `force`, a failing
/// provider does not stop the local removal (the answer says the webhook stays).
pub async fn remove(state: &AppState, id: &str, force: bool) -> Result<Removed, ApiError> {
    let row = load_active(state, id).await?;
    let provider =
        Provider::parse(&row.provider).ok_or_else(|| ApiError::Internal(format!("provider {}", row.provider)))?;
    let name = provider.display_name();
    let mut outcome = Removed { removed: true, webhook_deleted: false, warning: None };
    match (row.webhook_id.as_deref(), open_api(state, &row, provider)) {
        (Some(hook), Ok(api)) => match api.delete_webhook(hook).await {
            Ok(existed) => {
                outcome.webhook_deleted = true;
                if !existed {
                    tracing::info!(connection = %row.id, "the webhook was already gone at the provider");
                }
            }
            Err(error) if force => {
                outcome.warning = Some(format!(
                    "Removed locally. The webhook {hook} still exists at {name} and will keep trying to deliver: \
                     delete it in the {name} dashboard. ({error})"
                ));
            }
            Err(error) => {
                return Err(ApiError::Provider(ProviderError::new(
                    error.kind,
                    format!(
                        "{name} could not delete the webhook, so the connection was kept. {}. \
                         Try again, or use “Remove locally anyway” (the webhook then stays at {name}).",
                        error.message.trim_end_matches('.')
                    ),
                )));
            }
        },
        (None, _) => {}
        (Some(hook), Err(error)) if force => {
            outcome.warning = Some(format!(
                "Removed locally. The stored key could not be opened ({error}), so the webhook {hook} was not \
                 deleted at {name}: delete it in the {name} dashboard."
            ));
        }
        (Some(_), Err(error)) => return Err(error),
    }
    let id = row.id.clone();
    state
        .store
        .write(move |conn| {
            rows::mark_removed(conn, &id)?;
            crate::store::forwards::retarget(conn, &id, None).map(|_| ())
        })
        .await?;
    state.receivers.forget(&row.id);
    tracing::info!(connection = %row.id, webhook_deleted = outcome.webhook_deleted, "removed");
    state.publish(LiveEvent::Connection(row.id));
    Ok(outcome)
}

pub async fn load_active(state: &AppState, id: &str) -> Result<ConnectionRow, ApiError> {
    let wanted = id.to_string();
    match state.store.read(move |conn| rows::get(conn, &wanted)).await? {
        Some(row) if row.status == "active" => Ok(row),
        _ => Err(ApiError::not_found("No such connection (it may have been removed already).")),
    }
}

/// Opens the sealed key and builds the provider API client of a stored connection.
pub fn open_api(state: &AppState, row: &ConnectionRow, provider: Provider) -> Result<ProviderApi, ApiError> {
    let sealed = row.api_key_sealed.as_deref().ok_or_else(|| ApiError::Internal("connection without key".into()))?;
    let key = state.sealer.open_str(sealed, aad(&row.id, API_KEY_PURPOSE))?;
    let environment = Environment::parse(&row.environment).unwrap_or(Environment::Production);
    Ok(ProviderApi::new(state, provider, environment, key, &row.account_id))
}

/// After a crash in the middle of connecting, a reservation may remain, maybe with a webhook
/// at the provider. Delete such webhooks (best effort) and the reservation.
pub async fn recover_pending(state: &AppState) {
    let pending = match state.store.read(rows::list_pending).await {
        Ok(rows) => rows,
        Err(e) => return tracing::warn!(error = %e, "could not list pending connections"),
    };
    for row in pending {
        let Some(provider) = Provider::parse(&row.provider) else { continue };
        match open_api(state, &row, provider) {
            Ok(api) => match api.delete_webhooks_for(provider, &row.id).await {
                Ok(n) => tracing::info!(connection = %row.id, deleted = n, "cleaned up an interrupted connect"),
                Err(e) => tracing::warn!(connection = %row.id, error = %e,
                    "could not check the provider for a webhook left by an interrupted connect"),
            },
            Err(e) => tracing::warn!(connection = %row.id, error = %e, "interrupted connect with an unreadable key"),
        }
        forget_pending(state, &row.id).await;
    }
}
