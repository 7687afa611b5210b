//! Client for Paddle Billing's notification settings (webhook destinations).
//!
//! Paddle allows only 10 active destinations and refuses an identical one (409), so Faurya
//! reuses a destination it made before instead of piling up new ones: on a duplicate it adopts
//! the existing one, and a stale Faurya destination under the same public URL is re-pointed.

use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::providers::transport::{self, RetryPolicy, Sent};
use crate::providers::{Environment, ProviderError, ProviderErrorKind};
use crate::secrets::Secret;

pub const LIVE_BASE: &str = "https://api.paddle.com";
pub const SANDBOX_BASE: &str = "https://sandbox-api.paddle.com";

pub const EVENTS: &[&str] = &["transaction.completed", "transaction.paid", "adjustment.created", "adjustment.updated"];

/// Shown in the Paddle dashboard next to the destination.
const DESCRIPTION: &str = "Faurya revenue attribution";

pub fn default_base(environment: Environment) -> &'static str {
    match environment {
        Environment::Production => LIVE_BASE,
        Environment::Sandbox => SANDBOX_BASE,
    }
}

/// A notification setting as Paddle returns it (the fields Faurya uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Destination {
    pub id: String,
    pub destination: String,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    endpoint_secret_key: Option<String>,
}

/// A destination ready to deliver to Faurya, with its signing secret.
#[derive(Debug)]
pub struct ReadyDestination {
    pub id: String,
    pub secret: Secret,
}

/// A simulation Paddle is running: its id and the run's.
#[derive(Debug, Clone)]
pub struct SimulationRun {
    pub simulation: String,
    pub run: String,
}

/// One notification of a simulation run: `status` (`pending`, `success`, `failed`, `aborted`)
/// and, once sent, the destination's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct SimulationEvent {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub response: Option<SimulationResponse>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimulationResponse {
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub status_code: Option<f64>,
}

pub struct PaddleClient {
    api: transport::Api,
}

impl PaddleClient {
    pub fn new(http: reqwest::Client, base: impl Into<String>, key: Secret, retry: RetryPolicy) -> Self {
        Self { api: transport::Api::new("Paddle", http, base, key, retry, &[]) }
    }

    /// Makes a destination delivering [`EVENTS`] to `url`: re-points a stale Faurya destination
    /// of the same public URL if there is one, adopts an identical one on 409, else creates one.
    pub async fn create_or_reuse_destination(&self, url: &str) -> Result<ReadyDestination, ProviderError> {
        // Listing needs notification_setting.read; without it, just create.
        if let Ok(existing) = self.list_destinations().await
            && let Some(stale) = existing.iter().find(|d| is_stale_faurya_destination(&d.destination, url))
        {
            let updated = self
                .patch(
                    &stale.id,
                    json!({
                        "destination": url, "subscribed_events": EVENTS, "active": true,
                        "description": DESCRIPTION, "api_version": 1, "traffic_source": "all",
                    }),
                )
                .await?;
            return ready(updated);
        }
        let body = json!({
            "description": DESCRIPTION,
            "type": "url",
            "destination": url,
            "subscribed_events": EVENTS,
            "api_version": 1,
            "traffic_source": "all",
        });
        match self.call(Method::POST, "/notification-settings", Some(body)).await {
            Ok(value) => ready(parse_data(value)?),
            Err(e) if e.kind == ProviderErrorKind::Conflict => {
                let same = self.list_destinations().await?.into_iter().find(|d| d.destination == url);
                match same {
                    Some(destination) => ready(destination),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub async fn update_destination_url(&self, id: &str, url: &str) -> Result<(), ProviderError> {
        self.patch(id, json!({ "destination": url })).await.map(|_| ())
    }

    /// Deletes a destination (permanent). 404 comes back as kind `NotFound`.
    pub async fn delete_destination(&self, id: &str) -> Result<(), ProviderError> {
        self.call(Method::DELETE, &format!("/notification-settings/{}", transport::path_segment(id)), None)
            .await
            .map(|_| ())
    }

    pub async fn get_destination(&self, id: &str) -> Result<Destination, ProviderError> {
        parse_data(
            self.call(Method::GET, &format!("/notification-settings/{}", transport::path_segment(id)), None).await?,
        )
    }

    /// Every destination, following `meta.pagination.next`.
    pub async fn list_destinations(&self) -> Result<Vec<Destination>, ProviderError> {
        let mut all = Vec::new();
        let mut path = "/notification-settings?per_page=200".to_string();
        for _ in 0..50 {
            let value = self.call(Method::GET, &path, None).await?;
            let page: Vec<Destination> = serde_json::from_value(value.get("data").cloned().unwrap_or(Value::Null))
                .map_err(|e| unexpected(format!("the list of notification settings: {e}")))?;
            all.extend(page);
            // Only `after` is taken from `next`: its host and path are Paddle's, not the base this
            // client was given (a proxy, the fakes).
            match next_after(&value) {
                Some(after) => path = format!("/notification-settings?per_page=200&after={after}"),
                None => break,
            }
        }
        Ok(all)
    }

    /// Paid and completed transactions updated after `since`, oldest first, as the API lists them
    /// (for backfill). Needs `transaction.read`; a 403 says so.
    pub async fn list_transactions(&self, since: jiff::Timestamp) -> Result<Vec<Value>, ProviderError> {
        let mut all = Vec::new();
        let base = format!(
            "/transactions?status=paid,completed&order_by=updated_at[ASC]&per_page=30&updated_at[GT]={}",
            transport::path_segment(&since.to_string())
        );
        let mut path = base.clone();
        // At most 100 pages of 30 per check; a longer gap is caught up by the next checks.
        for _ in 0..100 {
            let value = match self.call(Method::GET, &path, None).await {
                Ok(value) => value,
                Err(error) if error.kind == ProviderErrorKind::Forbidden => {
                    return Err(ProviderError::new(
                        ProviderErrorKind::Forbidden,
                        "Paddle refused to list transactions: give the API key the transaction.read permission \
                         (Paddle → Developer tools → Authentication) to check for missed payments. Deliveries keep \
                         arriving without it.",
                    ));
                }
                Err(error) => return Err(error),
            };
            match value.get("data") {
                Some(Value::Array(items)) => all.extend(items.iter().cloned()),
                _ => return Err(unexpected("the list of transactions has no `data` array".into())),
            }
            match next_after(&value) {
                Some(after) => path = format!("{base}&after={after}"),
                None => break,
            }
        }
        Ok(all)
    }

    /// Creates a single-event simulation of `event_type` with `payload` (the entity) for the
    /// destination, and runs it: Paddle's servers then send it like a real notification. Needs
    /// `notification_simulation.write`; the destination must accept simulation traffic
    /// (`traffic_source` `all` or `simulation`, which Faurya's destinations do).
    pub async fn run_simulation(
        &self,
        destination_id: &str,
        name: &str,
        event_type: &str,
        payload: Value,
    ) -> Result<SimulationRun, ProviderError> {
        let explain = |error: ProviderError| match error.kind {
            ProviderErrorKind::Forbidden => ProviderError::new(
                ProviderErrorKind::Forbidden,
                format!(
                    "Paddle refused to simulate a notification: give the API key the notification_simulation.write permission (Paddle → Developer tools → Authentication). ({})",
                    error.message
                ),
            ),
            _ => error,
        };
        let body = serde_json::json!({
            "notification_setting_id": destination_id, "name": name, "type": event_type, "payload": payload,
        });
        let created = self.call(Method::POST, "/simulations", Some(body)).await.map_err(explain)?;
        let simulation = created
            .pointer("/data/id")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("a simulation without an id".into()))?
            .to_string();
        let path = format!("/simulations/{}/runs", transport::path_segment(&simulation));
        let run = self.call(Method::POST, &path, None).await.map_err(explain)?;
        let run = run
            .pointer("/data/id")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected("a simulation run without an id".into()))?
            .to_string();
        Ok(SimulationRun { simulation, run })
    }

    /// The events of a simulation run with what the destination answered (once it has).
    pub async fn simulation_events(&self, run: &SimulationRun) -> Result<Vec<SimulationEvent>, ProviderError> {
        let path = format!(
            "/simulations/{}/runs/{}?include=events",
            transport::path_segment(&run.simulation),
            transport::path_segment(&run.run)
        );
        let value = self.call(Method::GET, &path, None).await?;
        let events = value.pointer("/data/events").cloned().unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(events).map_err(|e| unexpected(format!("a simulation run's events: {e}")))
    }

    async fn patch(&self, id: &str, body: Value) -> Result<Destination, ProviderError> {
        parse_data(
            self.call(Method::PATCH, &format!("/notification-settings/{}", transport::path_segment(id)), Some(body))
                .await?,
        )
    }

    async fn call(&self, method: Method, path_and_query: &str, body: Option<Value>) -> Result<Value, ProviderError> {
        interpret(self.api.call(method, path_and_query, &[], body.as_ref()).await?)
    }
}

/// The `after` cursor of the next page, when `meta.pagination.has_more` says there is one.
fn next_after(value: &Value) -> Option<String> {
    let pagination = value.pointer("/meta/pagination")?;
    if !pagination.get("has_more").and_then(Value::as_bool).unwrap_or(false) {
        return None;
    }
    let next = Url::parse(pagination.get("next")?.as_str()?).ok()?;
    next.query_pairs().find(|(k, _)| k == "after").map(|(_, v)| transport::path_segment(&v))
}

/// A destination Faurya made for an earlier connection under the same public URL: the path is
/// `/webhooks/paddle/<connection id>` and only the connection id differs.
fn is_stale_faurya_destination(existing: &str, wanted: &str) -> bool {
    let prefix = |url: &str| url.rsplit_once("/webhooks/paddle/").map(|(base, _)| base.to_string());
    existing != wanted && prefix(existing).is_some() && prefix(existing) == prefix(wanted)
}

fn ready(destination: Destination) -> Result<ReadyDestination, ProviderError> {
    let secret = destination.endpoint_secret_key.filter(|s| !s.is_empty()).ok_or_else(|| {
        unexpected("a notification setting without endpoint_secret_key, so deliveries could not be verified".into())
    })?;
    Ok(ReadyDestination { id: destination.id, secret: Secret::new(secret) })
}

fn parse_data(value: Value) -> Result<Destination, ProviderError> {
    serde_json::from_value(value.get("data").cloned().unwrap_or(Value::Null))
        .map_err(|e| unexpected(format!("a notification setting: {e}")))
}

fn unexpected(what: String) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Upstream, format!("Paddle answered with {what}"))
}

/// Paddle errors: `{"error": {"type", "code", "detail", "documentation_url", "errors"?}}`. All
/// authentication failures are 403; the `code` tells them apart.
fn interpret(sent: Sent) -> Result<Value, ProviderError> {
    if sent.status.is_success() {
        if sent.body.is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&sent.body)
            .map_err(|e| unexpected(format!("a body that is not JSON (HTTP {}): {e}", sent.status)));
    }
    let parsed: Value = serde_json::from_slice(&sent.body).unwrap_or(Value::Null);
    let code = parsed.pointer("/error/code").and_then(Value::as_str).unwrap_or("");
    let mut detail = parsed
        .pointer("/error/detail")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&sent.body).chars().take(300).collect());
    if let Some(fields) = parsed.pointer("/error/errors").and_then(Value::as_array) {
        for field in fields {
            let name = field.get("field").and_then(Value::as_str).unwrap_or("?");
            let message = field.get("message").and_then(Value::as_str).unwrap_or("");
            detail.push_str(&format!(" {name}: {message}."));
        }
    }
    let status = sent.status.as_u16();
    let (kind, message) = match (status, code) {
        (403, "forbidden") => (
            ProviderErrorKind::Forbidden,
            format!(
                "The Paddle API key may not manage webhooks: give it the notification_setting.write (and .read) \
                 permission in Paddle → Developer tools → Authentication. ({code}: {detail})"
            ),
        ),
        (403, "invalid_token") => (
            ProviderErrorKind::Unauthorized,
            format!(
                "Paddle rejected the API key: it is wrong, revoked, or from the other environment (a Sandbox key \
                 against Live or the reverse). ({code}: {detail})"
            ),
        ),
        (403, "authentication_missing" | "authentication_malformed") | (401, _) => (
            ProviderErrorKind::Unauthorized,
            format!("Paddle could not read the API key: paste the whole key again. ({code}: {detail})"),
        ),
        (403, _) => (ProviderErrorKind::Forbidden, format!("Paddle refused: {detail} ({code})")),
        (404, _) => (ProviderErrorKind::NotFound, format!("Paddle found nothing there: {detail} ({code})")),
        (409, _) => (ProviderErrorKind::Conflict, format!("Paddle refused a duplicate: {detail} ({code})")),
        (429, _) => {
            let wait = sent.retry_after.map(|d| format!(" Try again in {} s.", d.as_secs())).unwrap_or_default();
            (ProviderErrorKind::RateLimited, format!("Paddle is rate-limiting this key.{wait} ({detail})"))
        }
        (400 | 422, _) => (ProviderErrorKind::Invalid, format!("Paddle rejected the request: {detail} ({code})")),
        (500..=599, _) => (
            ProviderErrorKind::Upstream,
            format!("Paddle had a problem (HTTP {status}); try again in a minute. ({detail})"),
        ),
        _ => (ProviderErrorKind::Upstream, format!("Paddle answered HTTP {status}: {detail} ({code})")),
    };
    Err(ProviderError::new(kind, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_destinations_are_recognised() {
        let wanted = "https://a.example.com/webhooks/paddle/con_2";
        assert!(is_stale_faurya_destination("https://a.example.com/webhooks/paddle/con_1", wanted));
        assert!(!is_stale_faurya_destination(wanted, wanted), "the same URL is a duplicate, not stale");
        assert!(!is_stale_faurya_destination("https://b.example.com/webhooks/paddle/con_1", wanted));
        assert!(!is_stale_faurya_destination("https://hooks.slack.com/example", wanted));
    }
}
