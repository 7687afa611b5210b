//! `/api/events`: the webhook inspector. Stored deliveries (`d_<id>`) and rejected attempts
//! (`r_<id>`) in one newest-first list.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::payments::PaymentView;
use crate::app::{AppState, LiveEvent};
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, PathParams, QueryParams};
use crate::ingest;
use crate::providers::Provider;
use crate::store::deliveries::{self, DeliveryRow, Filter, RejectionRow};
use crate::store::{self, StoreError, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", get(list))
        .route("/events/types", get(types))
        .route("/events/{id}", get(show))
        .route("/events/{id}/raw", get(raw))
        .route("/events/{id}/reprocess", post(reprocess))
        .route("/events/{id}/forward", post(forward))
}

const STATUSES: &[&str] = &["received", "processed", "duplicate", "ignored", "failed", "rejected"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    provider: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    site: Option<String>,
    /// RFC 3339; received at or after.
    from: Option<String>,
    /// RFC 3339; received before.
    to: Option<String>,
}

#[derive(Serialize)]
pub struct EventSummary {
    id: String,
    provider: String,
    connection_id: String,
    delivery_id: Option<String>,
    event_type: Option<String>,
    received_at: String,
    verdict: &'static str,
    status: String,
    error: Option<String>,
    note: Option<String>,
    amount_minor: Option<i64>,
    currency: Option<String>,
    payment_id: Option<i64>,
    duplicate_of: Option<String>,
    /// Rejected attempts: the status code they were answered with, and the reason's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_code: Option<String>,
    /// Forwarding to the founder's handler: null when never queued or sent.
    forward: Option<store::forwards::ForwardState>,
}

impl From<&DeliveryRow> for EventSummary {
    fn from(d: &DeliveryRow) -> Self {
        Self {
            id: format!("d_{}", d.id),
            provider: d.provider.clone(),
            connection_id: d.connection_id.clone(),
            delivery_id: Some(d.delivery_id.clone()),
            event_type: d.event_type.clone(),
            received_at: rfc3339(d.received_at),
            verdict: "verified",
            status: d.status.clone(),
            error: d.error.clone(),
            note: d.note.clone(),
            amount_minor: d.amount_minor,
            currency: d.currency.clone(),
            payment_id: d.payment_id,
            duplicate_of: d.duplicate_of.map(|id| format!("d_{id}")),
            http_status: None,
            reason_code: None,
            forward: None,
        }
    }
}

impl From<&RejectionRow> for EventSummary {
    fn from(r: &RejectionRow) -> Self {
        Self {
            id: format!("r_{}", r.id),
            provider: r.provider.clone(),
            connection_id: r.connection_id.clone(),
            delivery_id: r.delivery_id.clone(),
            event_type: None,
            received_at: rfc3339(r.received_at),
            verdict: "rejected",
            status: "rejected".into(),
            error: Some(r.reason.clone()),
            note: None,
            amount_minor: None,
            currency: None,
            payment_id: None,
            duplicate_of: None,
            http_status: Some(r.http_status),
            reason_code: Some(r.reason_code.clone()),
            forward: None,
        }
    }
}

/// Where the next page starts in each of the two sources: ids below these. `0` = that source is
/// exhausted. Written as `d<id>r<id>`.
#[derive(Clone, Copy)]
struct Cursor {
    deliveries: i64,
    rejected: i64,
}

impl Cursor {
    fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('d')?;
        let (d, r) = rest.split_once('r')?;
        Some(Self { deliveries: d.parse().ok()?, rejected: r.parse().ok()? })
    }

    fn render(self) -> String {
        format!("d{}r{}", self.deliveries, self.rejected)
    }
}

async fn list(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "Use a limit from 1 to 200."));
    }
    let provider = nonempty(query.provider);
    if let Some(p) = &provider {
        // `api`: calls of the revenue API, kept like deliveries.
        if p != "api" {
            Provider::parse(p).ok_or_else(|| ApiError::field("provider", "Use whop, paddle or api."))?;
        }
    }
    let status = nonempty(query.status);
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::field("status", format!("Use one of: {}.", STATUSES.join(", "))));
    }
    let event_type = nonempty(query.event_type);
    let site = nonempty(query.site);
    let received = super::time_range::parse(query.from, query.to)?;
    let q = nonempty(query.q);
    if q.as_ref().is_some_and(|q| q.len() > 200) {
        return Err(ApiError::field("q", "Search for at most 200 characters."));
    }
    let cursor = match nonempty(query.cursor) {
        Some(text) => {
            Cursor::parse(&text).ok_or_else(|| ApiError::field("cursor", "This cursor is not one Faurya gave out."))?
        }
        None => Cursor { deliveries: i64::MAX, rejected: i64::MAX },
    };
    // Rejected attempts have no verified type; they only show when no type is asked for.
    let want_deliveries = status.as_deref() != Some("rejected") && cursor.deliveries > 0;
    let want_rejected =
        matches!(status.as_deref(), None | Some("rejected")) && event_type.is_none() && cursor.rejected > 0;

    let (delivered, rejected) = state
        .store
        .read(move |conn| {
            let delivered = if want_deliveries {
                let filter = Filter {
                    provider: provider.clone(),
                    status: status.clone(),
                    event_type,
                    query: q.clone(),
                    site: site.clone(),
                    received,
                };
                let rows = deliveries::list(conn, &filter, Some(cursor.deliveries), limit + 1)?;
                let mut with_forwarding = Vec::with_capacity(rows.len());
                for row in rows {
                    let forward = store::forwards::state_of(conn, row.id)?;
                    with_forwarding.push((row, forward));
                }
                with_forwarding
            } else {
                Vec::new()
            };
            let rejected = if want_rejected {
                deliveries::list_rejections(
                    conn,
                    provider.as_deref(),
                    q.as_deref(),
                    site.as_deref(),
                    received,
                    Some(cursor.rejected),
                    limit + 1,
                )?
            } else {
                Vec::new()
            };
            Ok((delivered, rejected))
        })
        .await?;

    // Merge newest-first by arrival time; each source keeps its own position.
    let (mut i, mut j) = (0, 0);
    let mut events = Vec::with_capacity(limit);
    let mut next = Cursor {
        deliveries: if want_deliveries { cursor.deliveries } else { 0 },
        rejected: if want_rejected { cursor.rejected } else { 0 },
    };
    while events.len() < limit && (i < delivered.len() || j < rejected.len()) {
        let take_delivery = match (delivered.get(i), rejected.get(j)) {
            (Some((d, _)), Some(r)) => d.received_at >= r.received_at,
            (Some(_), None) => true,
            _ => false,
        };
        if take_delivery {
            let (row, forward) = &delivered[i];
            next.deliveries = row.id;
            events.push(EventSummary { forward: forward.clone(), ..EventSummary::from(row) });
            i += 1;
        } else {
            next.rejected = rejected[j].id;
            events.push(EventSummary::from(&rejected[j]));
            j += 1;
        }
    }
    if i == delivered.len() {
        next.deliveries = 0;
    }
    if j == rejected.len() {
        next.rejected = 0;
    }
    let next_cursor = (next.deliveries > 0 || next.rejected > 0).then(|| next.render());
    Ok(Json(serde_json::json!({ "events": events, "next_cursor": next_cursor })))
}

fn nonempty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

async fn types(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let types = state.store.read(deliveries::distinct_event_types).await?;
    Ok(Json(serde_json::json!({ "types": types })))
}

enum EventId {
    Delivery(i64),
    Rejected(i64),
}

fn parse_id(id: &str) -> Result<EventId, ApiError> {
    let bad = || ApiError::not_found("No such event: ids look like d_123 (stored) or r_45 (rejected).");
    if let Some(n) = id.strip_prefix("d_") {
        return n.parse().map(EventId::Delivery).map_err(|_| bad());
    }
    if let Some(n) = id.strip_prefix("r_") {
        return n.parse().map(EventId::Rejected).map_err(|_| bad());
    }
    Err(bad())
}

#[derive(Serialize)]
struct EventDetail {
    #[serde(flatten)]
    summary: EventSummary,
    headers: Value,
    body_text: Option<String>,
    body_base64: String,
    /// Size as received; for rejected attempts the stored body may be a truncated prefix.
    body_size: i64,
    body_truncated: bool,
    payment: Option<PaymentView>,
    /// The connection's current webhook URL, for "Copy as curl".
    webhook_url: Option<String>,
    /// Attempts to forward it to the founder's handler, newest first.
    forwards: Vec<store::forwards::AttemptView>,
    forward_state: Option<store::forwards::ForwardState>,
    next_retry_at: Option<String>,
    /// Whether "Forward again" applies: only deliveries a provider sent.
    forwardable: bool,
    /// The connection's forward target, if it has one.
    forward_url: Option<String>,
}

fn body_fields(body: &[u8]) -> (Option<String>, String) {
    (std::str::from_utf8(body).ok().map(str::to_string), B64.encode(body))
}

async fn detail(state: &AppState, id: EventId) -> Result<EventDetail, ApiError> {
    state
        .store
        .read(move |conn| {
            let (summary, headers, body, size, truncated, payment_id, connection_id) = match id {
                EventId::Delivery(id) => {
                    let d = deliveries::get(conn, id)?.ok_or(StoreError::NotFound)?;
                    let body = d.body.clone().unwrap_or_default();
                    let size = body.len() as i64;
                    (
                        EventSummary::from(&d),
                        d.headers.clone(),
                        body,
                        size,
                        false,
                        d.payment_id,
                        d.connection_id.clone(),
                    )
                }
                EventId::Rejected(id) => {
                    let r = deliveries::get_rejection(conn, id)?.ok_or(StoreError::NotFound)?;
                    let body = r.body.clone().unwrap_or_default();
                    let truncated = (body.len() as i64) < r.body_size;
                    (
                        EventSummary::from(&r),
                        r.headers.clone(),
                        body,
                        r.body_size,
                        truncated,
                        None,
                        r.connection_id.clone(),
                    )
                }
            };
            let payment = match payment_id {
                Some(pid) => store::payments::get(conn, pid)?.map(PaymentView::from),
                None => None,
            };
            let connection = store::connections::get(conn, &connection_id)?;
            let forward_url = connection.as_ref().and_then(|c| c.forward_url.clone());
            let webhook_url = connection.and_then(|c| c.webhook_url);
            let (forwards, forward_state, forwardable) = match id {
                EventId::Delivery(id) => (
                    store::forwards::attempts_of(conn, id)?,
                    store::forwards::state_of(conn, id)?,
                    crate::forwarding::forwardable(&summary.provider, summary.delivery_id.as_deref().unwrap_or("")),
                ),
                EventId::Rejected(_) => (Vec::new(), None, false),
            };
            let next_retry_at = forwards.iter().find_map(|a| a.next_retry_at.clone());
            let headers = headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or(Value::Array(Vec::new()));
            let (body_text, body_base64) = body_fields(&body);
            Ok(EventDetail {
                summary,
                headers,
                body_text,
                body_base64,
                body_size: size,
                body_truncated: truncated,
                payment,
                webhook_url,
                forwards,
                forward_state,
                next_retry_at,
                forwardable,
                forward_url,
            })
        })
        .await
        .map_err(no_such_event)
}

fn no_such_event(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::not_found("No such event."),
        other => other.into(),
    }
}

async fn show(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<EventDetail>, ApiError> {
    Ok(Json(detail(&state, parse_id(&id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardForm {
    #[serde(default)]
    url: Option<Value>,
}

/// `POST /api/events/{id}/forward`: sends a stored delivery now, to its connection's target or
/// to `url`; answers the attempt (also when the target failed: `ok: false`).
async fn forward(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    JsonBody(form): JsonBody<ForwardForm>,
) -> Result<Json<store::forwards::AttemptView>, ApiError> {
    let delivery = match parse_id(&id)? {
        EventId::Delivery(id) => id,
        EventId::Rejected(_) => {
            return Err(ApiError::Conflict {
                code: "not_forwardable",
                message: "Rejected attempts are not forwarded: their signature did not verify, so anyone may have \
                          sent them."
                    .into(),
            });
        }
    };
    let url = match form.url {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) if url.trim().is_empty() => None,
        Some(Value::String(url)) => Some(url),
        Some(_) => return Err(ApiError::field("url", "Give the URL as text.")),
    };
    Ok(Json(crate::forwarding::forward_now(&state, delivery, url.as_deref()).await?))
}

/// The body exactly as received, as a download.
async fn raw(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let (name, body) = state
        .store
        .read(move |conn| match id {
            EventId::Delivery(id) => {
                let d = deliveries::get(conn, id)?.ok_or(StoreError::NotFound)?;
                Ok((format!("d_{id}"), d.body.unwrap_or_default()))
            }
            EventId::Rejected(id) => {
                let r = deliveries::get_rejection(conn, id)?.ok_or(StoreError::NotFound)?;
                Ok((format!("r_{id}"), r.body.unwrap_or_default()))
            }
        })
        .await
        .map_err(no_such_event)?;
    let mut response = Body::from(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"faurya-{name}.body\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Parses a stored delivery again and applies it (after a fix, or after the payment a refund
/// belongs to has arrived). Repeats are not reprocessed: their original is.
async fn reprocess(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let EventId::Delivery(delivery) = parse_id(&id)? else {
        return Err(ApiError::Conflict {
            code: "not_reprocessable",
            message: "A rejected attempt was never verified, so there is nothing to process: fix the cause and let the provider retry.".into(),
        });
    };
    let row = state
        .store
        .read(move |conn| deliveries::get(conn, delivery))
        .await?
        .ok_or_else(|| ApiError::not_found("No such event."))?;
    if let Some(original) = row.duplicate_of {
        return Err(ApiError::Conflict {
            code: "not_reprocessable",
            message: format!("This is a repeat of d_{original}; reprocess that one instead."),
        });
    }
    if row.provider == "api" {
        return Err(ApiError::Conflict {
            code: "not_reprocessable",
            message: "A revenue API call is applied when it is received; send it again to change anything.".into(),
        });
    }
    let provider =
        Provider::parse(&row.provider).ok_or_else(|| ApiError::Internal(format!("provider {}", row.provider)))?;
    let parsed = ingest::parse(provider, row.body.as_deref().unwrap_or_default());
    let connection = row.connection_id.clone();
    let keys = ingest::site_keys_of(&state, &connection).await?;
    // One stored but not processed yet (a burst's) is indexed for search here, as the background
    // processor would have done.
    let unindexed = (row.status == "received").then(|| row.body.clone().unwrap_or_default());
    let processed = state
        .store
        .write(move |conn| {
            if let Some(body) = unindexed {
                deliveries::index_for_search(conn, delivery, &body)?;
            }
            ingest::process(conn, provider.as_str(), &connection, delivery, &parsed, keys.as_deref())
        })
        .await?;
    state.publish(LiveEvent::Delivery(delivery));
    if let Some(payment) = processed.payment_changed {
        state.publish(LiveEvent::Payment(payment));
    }
    Ok(Json(detail(&state, EventId::Delivery(delivery)).await?))
}
