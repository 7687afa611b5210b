//! Client for Whop's webhook endpoints (`/webhooks`), pinned to one API version.
//!
//! Whop selects response and request shapes by the `Api-Version-Date` header; the shapes below
//! are the ones documented for [`API_VERSION_DATE`] (where the company is `company_id` /
//! `resource_id`). Changing the date means checking every shape here.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::providers::transport::{self, RetryPolicy, Sent};
use crate::providers::{ProviderError, ProviderErrorKind};
use crate::secrets::Secret;

pub const API_VERSION_DATE: &str = "2025-01-01";
pub const PRODUCTION_BASE: &str = "https://api.whop.com/api/v1";
pub const SANDBOX_BASE: &str = "https://sandbox-api.whop.com/api/v1";

/// The events Faurya subscribes to: money in, money back, disputes (kept for the record).
pub const EVENTS: &[&str] = &[
    "payment.succeeded",
    "payment.failed",
    "payment.pending",
    "refund.created",
    "refund.updated",
    "dispute.created",
    "dispute.updated",
];

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
}

/// The create answer: the webhook and its signing secret, which Whop shows only this once.
#[derive(Debug)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: Secret,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    url: &'a str,
    api_version: &'a str,
    events: &'a [&'a str],
    enabled: bool,
    resource_id: &'a str,
}

#[derive(Serialize, Default)]
pub struct UpdateWebhook<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Whop's account of a test delivery: whether the endpoint answered 2xx, its status and body.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookTest {
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body: Option<String>,
}

pub struct WhopClient {
    api: transport::Api,
}

impl WhopClient {
    pub fn new(http: reqwest::Client, base: impl Into<String>, key: Secret, retry: RetryPolicy) -> Self {
        Self { api: transport::Api::new("Whop", http, base, key, retry, &[("Api-Version-Date", API_VERSION_DATE)]) }
    }

    /// Creates a webhook for `company_id` delivering [`EVENTS`] to `url`.
    pub async fn create_webhook(&self, company_id: &str, url: &str) -> Result<CreatedWebhook, ProviderError> {
        let body = CreateBody { url, api_version: "v1", events: EVENTS, enabled: true, resource_id: company_id };
        let value = self
            .call(Method::POST, "/webhooks", &[], Some(serde_json::to_value(&body).expect("JSON")))
            .await
            .map_err(|e| self.explain(e, company_id))?;
        let secret = value.get("webhook_secret").and_then(Value::as_str).filter(|s| !s.is_empty()).map(Secret::new);
        let webhook: Webhook = parse_shape(value)?;
        let secret = secret.ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::Upstream,
                "Whop created the webhook but returned no webhook_secret, so its deliveries could not be verified.",
            )
        })?;
        Ok(CreatedWebhook { webhook, secret })
    }

    pub async fn retrieve_webhook(&self, id: &str) -> Result<Webhook, ProviderError> {
        parse_shape(self.call(Method::GET, &format!("/webhooks/{}", transport::path_segment(id)), &[], None).await?)
    }

    pub async fn update_webhook(&self, id: &str, update: &UpdateWebhook<'_>) -> Result<Webhook, ProviderError> {
        let body = serde_json::to_value(update).expect("JSON");
        parse_shape(
            self.call(Method::PATCH, &format!("/webhooks/{}", transport::path_segment(id)), &[], Some(body)).await?,
        )
    }

    /// Deletes a webhook. A 404 comes back as an error of kind `NotFound`: callers decide
    /// whether "already gone" is fine (it is, when disconnecting).
    pub async fn delete_webhook(&self, id: &str) -> Result<(), ProviderError> {
        self.call(Method::DELETE, &format!("/webhooks/{}", transport::path_segment(id)), &[], None).await.map(|_| ())
    }

    /// Every webhook of the company, following the cursor pages.
    pub async fn list_webhooks(&self, company_id: &str) -> Result<Vec<Webhook>, ProviderError> {
        self.list_all("/webhooks", vec![("company_id", company_id.to_string())]).await
    }

    /// Payments of `company_id` created after `since` (all of them without it), newest first, as
    /// the API lists them (for backfill). Needs `payment:basic:read`; a 403 says so.
    pub async fn list_payments(
        &self,
        company_id: &str,
        since: Option<jiff::Timestamp>,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut query = vec![("company_id", company_id.to_string())];
        if let Some(since) = since {
            query.push(("created_after", since.to_string()));
        }
        self.list_all("/payments", query).await.map_err(|error| match error.kind {
            ProviderErrorKind::Forbidden => ProviderError::new(
                ProviderErrorKind::Forbidden,
                format!(
                    "Whop refused to list payments: the key needs the payment:basic:read permission to check \
                     for missed payments. Deliveries keep arriving without it. ({})",
                    error.message
                ),
            ),
            _ => error,
        })
    }

    /// Asks Whop to send a test delivery of `event` to the webhook (`POST /webhooks/{id}/test`,
    /// permission `developer:manage_webhook`). Whop makes the call from its own servers and
    /// answers with what the endpoint answered.
    pub async fn test_webhook(&self, id: &str, event: &str) -> Result<WebhookTest, ProviderError> {
        let path = format!("/webhooks/{}/test", transport::path_segment(id));
        let value = self.call(Method::POST, &path, &[], Some(serde_json::json!({ "event": event }))).await.map_err(
            |error| match error.kind {
                ProviderErrorKind::Forbidden => ProviderError::new(
                    ProviderErrorKind::Forbidden,
                    format!(
                        "Whop refused to send a test: the key needs the developer:manage_webhook permission. ({})",
                        error.message
                    ),
                ),
                _ => error,
            },
        )?;
        parse_shape(value)
    }

    /// Every item of a list endpoint, 100 a page, following `page_info.end_cursor`. At most 100
    /// pages: a hard stop in case a provider bug returns the same cursor forever (a longer
    /// backfill gap is caught up by the next check).
    async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(&str, String)>,
    ) -> Result<Vec<T>, ProviderError> {
        #[derive(Deserialize)]
        struct Page<T> {
            data: Vec<T>,
            #[serde(default)]
            page_info: Option<PageInfo>,
        }
        #[derive(Deserialize)]
        struct PageInfo {
            end_cursor: Option<String>,
            #[serde(default)]
            has_next_page: Option<bool>,
        }
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..100 {
            let mut page_query = query.clone();
            page_query.push(("first", "100".to_string()));
            if let Some(cursor) = &after {
                page_query.push(("after", cursor.clone()));
            }
            let page: Page<T> = parse_shape(self.call(Method::GET, path, &page_query, None).await?)?;
            let count = page.data.len();
            all.extend(page.data);
            match page.page_info {
                Some(PageInfo { end_cursor: Some(cursor), has_next_page })
                    if count > 0 && has_next_page != Some(false) =>
                {
                    after = Some(cursor)
                }
                _ => break,
            }
        }
        Ok(all)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, ProviderError> {
        interpret(self.api.call(method, path, query, body.as_ref()).await?)
    }

    /// Adds what the founder should check, now that we know which company was asked for.
    fn explain(&self, error: ProviderError, company_id: &str) -> ProviderError {
        let message = match error.kind {
            ProviderErrorKind::Forbidden => format!(
                "Whop refused to create the webhook: the key needs the developer:manage_webhook permission \
                 (or the Admin role) and must belong to company {company_id}. ({})",
                error.message
            ),
            ProviderErrorKind::NotFound => format!(
                "Whop did not find the company {company_id} for this key: check the Company ID and that the key \
                 and company are from the same environment. ({})",
                error.message
            ),
            _ => return error,
        };
        ProviderError::new(error.kind, message)
    }
}

/// Maps a final answer to a value or an error. Whop errors look like
/// `{"error": {"type"?, "code"?, "message"}}`; only `message` is relied on.
fn interpret(sent: Sent) -> Result<Value, ProviderError> {
    if sent.status.is_success() {
        if sent.body.is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&sent.body).map_err(|e| {
            ProviderError::new(
                ProviderErrorKind::Upstream,
                format!("Whop answered {} with a body that is not JSON: {e}", sent.status),
            )
        });
    }
    let detail = serde_json::from_slice::<Value>(&sent.body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&sent.body).chars().take(300).collect());
    let status = sent.status.as_u16();
    let (kind, message) = match status {
        401 => (
            ProviderErrorKind::Unauthorized,
            format!(
                "Whop rejected the API key. Check that it is a Company API Key from the same environment you chose \
                 (sandbox keys only work with Sandbox, production keys with Production). ({detail})"
            ),
        ),
        403 => (ProviderErrorKind::Forbidden, format!("Whop refused: {detail}")),
        404 => (ProviderErrorKind::NotFound, format!("Whop found nothing there: {detail}")),
        409 => (ProviderErrorKind::Conflict, format!("Whop refused a duplicate: {detail}")),
        429 => {
            let wait = sent.retry_after.map(|d| format!(" Try again in {} s.", d.as_secs())).unwrap_or_default();
            (ProviderErrorKind::RateLimited, format!("Whop is rate-limiting this key.{wait} ({detail})"))
        }
        400 | 422 => (ProviderErrorKind::Invalid, format!("Whop rejected the request: {detail}")),
        500..=599 => (
            ProviderErrorKind::Upstream,
            format!(
                "Whop had a problem (HTTP {status}); nothing was changed on our side. Try again in a minute. ({detail})"
            ),
        ),
        _ => (ProviderErrorKind::Upstream, format!("Whop answered HTTP {status}: {detail}")),
    };
    Err(ProviderError::new(kind, message))
}

fn parse_shape<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ProviderError> {
    serde_json::from_value(value).map_err(|e| {
        ProviderError::new(ProviderErrorKind::Upstream, format!("Whop answered in a shape Faurya does not know: {e}"))
    })
}
