//! The fake Whop API: `/webhooks` as documented in shared/providers/whop.md.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::send;
use serde_json::{Value, json};

use crate::{FakeState, Shared, WhopKey, bearer, header};

/// Dates the fake accepts in `Api-Version-Date`; others get 400 like the real API.
const KNOWN_VERSION_DATES: &[&str] = &["2025-01-01", "2025-06-01", "2026-01-01", "2026-07-01"];

const KNOWN_EVENTS: &[&str] = &[
    "payment.succeeded",
    "payment.failed",
    "payment.pending",
    "refund.created",
    "refund.updated",
    "dispute.created",
    "dispute.updated",
    "membership.activated",
    "membership.deactivated",
];

#[derive(Default)]
pub(crate) struct WhopState {
    pub keys: Vec<WhopKey>,
    pub webhooks: Vec<Webhook>,
    /// (company id, payment object) as `GET /payments` lists them.
    pub payments: Vec<(String, Value)>,
}

#[derive(Clone)]
pub(crate) struct Webhook {
    pub id: String,
    pub url: String,
    pub api_version: String,
    pub enabled: bool,
    pub events: Vec<String>,
    pub resource_id: String,
    pub created_at: String,
    pub secret: String,
}

impl Webhook {
    pub fn public(&self, with_secret: bool) -> Value {
        let mut value = json!({
            "id": self.id, "url": self.url, "api_version": self.api_version, "enabled": self.enabled,
            "events": self.events, "resource_id": self.resource_id, "created_at": self.created_at,
            "testable_events": self.events, "child_resource_events": false,
        });
        value["webhook_secret"] = if with_secret { json!(self.secret) } else { Value::Null };
        value
    }
}

pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/payments", get(list_payments))
        .route("/webhooks/{id}", get(retrieve).patch(update).delete(remove))
        .route("/webhooks/{id}/test", axum::routing::post(send_test))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "No such endpoint") })
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, axum::Json(json!({"error": {"type": kind, "message": message}}))).into_response()
}

/// Auth and version checks shared by every route: the key's company, or the error answer.
fn authorize(state: &FakeState, headers: &HeaderMap, needs_manage: bool) -> Result<WhopKey, Response> {
    if let Some(date) = header(headers, "api-version-date")
        && !KNOWN_VERSION_DATES.contains(&date.as_str())
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("Unknown Api-Version-Date {date}"),
        ));
    }
    let Some(token) = bearer(headers) else {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "Missing API key"));
    };
    let Some(key) = state.whop.keys.iter().find(|k| k.key == token).cloned() else {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "The API key supplied is invalid"));
    };
    if needs_manage && !key.can_manage_webhooks {
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You are not authorized to perform this action. Missing permission: developer:manage_webhook",
        ));
    }
    Ok(key)
}

/// A company the key may act on; another known company is 403, an unknown one 404.
fn check_company(state: &FakeState, key: &WhopKey, company_id: &str) -> Result<(), Response> {
    if key.company_id == company_id {
        return Ok(());
    }
    if state.whop.keys.iter().any(|k| k.company_id == company_id) {
        return Err(error(StatusCode::FORBIDDEN, "forbidden", "You are not authorized to access this company"));
    }
    Err(error(StatusCode::NOT_FOUND, "not_found", &format!("Company {company_id} not found")))
}

async fn create(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut state = shared.lock();
    let key = match authorize(&state, &headers, true) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "Body must be JSON");
    };
    let url = body.get("url").and_then(Value::as_str).unwrap_or_default();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "url must be a valid URL");
    }
    let Some(resource_id) = body.get("resource_id").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "resource_id is required");
    };
    let api_version = body.get("api_version").and_then(Value::as_str).unwrap_or("v1").to_string();
    if !["v1", "v2", "v5"].contains(&api_version.as_str()) {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "api_version is not valid");
    }
    let events: Vec<String> = match body.get("events") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        None => Vec::new(),
        Some(_) => return error(StatusCode::BAD_REQUEST, "invalid_request_error", "events must be an array"),
    };
    if let Some(bad) = events.iter().find(|e| !KNOWN_EVENTS.contains(&e.as_str())) {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", &format!("Unknown event {bad}"));
    }
    if let Err(response) = check_company(&state, &key, resource_id) {
        return response;
    }
    let webhook = Webhook {
        id: state.new_id("hook_", 14),
        url: url.to_string(),
        api_version,
        enabled: body.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        events,
        resource_id: resource_id.to_string(),
        created_at: jiff::Timestamp::now().to_string(),
        secret: state.new_id("ws_", 64),
    };
    let answer = webhook.public(true);
    state.whop.webhooks.push(webhook);
    (StatusCode::OK, axum::Json(answer)).into_response()
}

async fn list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let state = shared.lock();
    let key = match authorize(&state, &headers, true) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Some(company_id) = query.get("company_id") else {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "company_id is required");
    };
    if let Err(response) = check_company(&state, &key, company_id) {
        return response;
    }
    let first: usize = query.get("first").and_then(|f| f.parse().ok()).unwrap_or(10).clamp(1, 100);
    let mine: Vec<&Webhook> = state.whop.webhooks.iter().filter(|w| &w.resource_id == company_id).collect();
    let start =
        query.get("after").and_then(|after| mine.iter().position(|w| &w.id == after).map(|i| i + 1)).unwrap_or(0);
    let page: Vec<Value> = mine.iter().skip(start).take(first).map(|w| w.public(false)).collect();
    let end = start + page.len();
    let end_cursor = if page.is_empty() { Value::Null } else { json!(mine[end - 1].id) };
    axum::Json(json!({
        "data": page,
        "page_info": {"end_cursor": end_cursor, "start_cursor": Value::Null,
                      "has_next_page": end < mine.len(), "has_previous_page": start > 0},
    }))
    .into_response()
}

/// `GET /payments?company_id=…&first=…&after=…&created_after=…`: newest first, cursor paging
/// as the other lists; needs `payment:basic:read`.
async fn list_payments(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let state = shared.lock();
    let key = match authorize(&state, &headers, false) {
        Ok(key) => key,
        Err(response) => return response,
    };
    if !key.can_read_payments {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You are not authorized to perform this action. Missing permission: payment:basic:read",
        );
    }
    let Some(company_id) = query.get("company_id") else {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "company_id is required");
    };
    if let Err(response) = check_company(&state, &key, company_id) {
        return response;
    }
    let created_after = match query.get("created_after").map(|t| t.parse::<jiff::Timestamp>()) {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            return error(StatusCode::BAD_REQUEST, "invalid_request_error", "created_after must be an ISO 8601 time");
        }
        None => None,
    };
    let created = |p: &Value| p["created_at"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let mut mine: Vec<&Value> = state
        .whop
        .payments
        .iter()
        .filter(|(company, p)| company == company_id && created_after.is_none_or(|after| created(p) > Some(after)))
        .map(|(_, p)| p)
        .collect();
    mine.sort_by_key(|p| std::cmp::Reverse(created(p)));
    let first: usize = query.get("first").and_then(|f| f.parse().ok()).unwrap_or(10).clamp(1, 100);
    let start = query
        .get("after")
        .and_then(|after| mine.iter().position(|p| p["id"].as_str() == Some(after.as_str())).map(|i| i + 1))
        .unwrap_or(0);
    let page: Vec<Value> = mine.iter().skip(start).take(first).map(|p| (*p).clone()).collect();
    let end = start + page.len();
    let end_cursor = if page.is_empty() { Value::Null } else { mine[end - 1]["id"].clone() };
    axum::Json(json!({
        "data": page,
        "page_info": {"end_cursor": end_cursor, "start_cursor": Value::Null,
                      "has_next_page": end < mine.len(), "has_previous_page": start > 0},
    }))
    .into_response()
}

fn find<'a>(state: &'a mut FakeState, key: &WhopKey, id: &str) -> Option<&'a mut Webhook> {
    state.whop.webhooks.iter_mut().find(|w| w.id == id && w.resource_id == key.company_id)
}

async fn retrieve(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let mut state = shared.lock();
    let key = match authorize(&state, &headers, true) {
        Ok(key) => key,
        Err(response) => return response,
    };
    match find(&mut state, &key, &id) {
        Some(webhook) => axum::Json(webhook.public(false)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Webhook not found"),
    }
}

async fn update(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let mut state = shared.lock();
    let key = match authorize(&state, &headers, true) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "Body must be JSON");
    };
    let Some(webhook) = find(&mut state, &key, &id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "Webhook not found");
    };
    if let Some(url) = body.get("url") {
        match url.as_str() {
            Some(url) if url.starts_with("http") => webhook.url = url.to_string(),
            _ => return error(StatusCode::BAD_REQUEST, "invalid_request_error", "url must be a valid URL"),
        }
    }
    if let Some(enabled) = body.get("enabled").and_then(Value::as_bool) {
        webhook.enabled = enabled;
    }
    if let Some(events) = body.get("events").and_then(Value::as_array) {
        webhook.events = events.iter().filter_map(Value::as_str).map(str::to_string).collect();
    }
    axum::Json(webhook.public(false)).into_response()
}

async fn remove(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let mut state = shared.lock();
    let key = match authorize(&state, &headers, true) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let before = state.whop.webhooks.len();
    state.whop.webhooks.retain(|w| !(w.id == id && w.resource_id == key.company_id));
    if state.whop.webhooks.len() == before {
        return error(StatusCode::NOT_FOUND, "not_found", "Webhook not found");
    }
    axum::Json(json!(true)).into_response()
}

/// `POST /webhooks/{id}/test` `{"event": "payment.succeeded"}`: Whop sends a sample delivery of
/// that event to the webhook's URL, signed with its secret, and answers with what the endpoint
/// answered: `{"success", "status", "body"}` (`status` null when it could not be reached).
async fn send_test(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let (url, secret, company, message_id, payment_id) = {
        let mut state = shared.lock();
        let key = match authorize(&state, &headers, true) {
            Ok(key) => key,
            Err(response) => return response,
        };
        let event = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["event"].as_str().map(str::to_string));
        match event.as_deref() {
            Some(event) if KNOWN_EVENTS.contains(&event) => {}
            Some(event) => {
                return error(StatusCode::BAD_REQUEST, "invalid_request_error", &format!("Unknown event {event}"));
            }
            None => return error(StatusCode::BAD_REQUEST, "invalid_request_error", "event is required"),
        }
        let Some(webhook) = find(&mut state, &key, &id).cloned() else {
            return error(StatusCode::NOT_FOUND, "not_found", "Webhook not found");
        };
        let message_id = state.new_id("msg_", 24);
        let payment_id = state.new_id("pay_", 14);
        (webhook.url, webhook.secret, webhook.resource_id, message_id, payment_id)
    };
    let now = jiff::Timestamp::now().to_string();
    let delivery = json!({
        "id": message_id, "api_version": "v1", "type": "payment.succeeded", "timestamp": now,
        "company_id": company,
        "data": {
            "id": payment_id, "status": "paid", "substatus": "succeeded", "currency": "usd",
            "total": 10.0, "subtotal": 10.0, "usd_total": 10.0, "refunded_amount": 0,
            "paid_at": now, "created_at": now, "metadata": {},
            "user": {"id": "user_test", "email": "test@example.com", "name": "Test", "username": "test"},
            "company": {"id": company, "title": "Test company"}
        }
    });
    let bytes = serde_json::to_vec(&delivery).expect("JSON");
    let signed = send::whop_headers(&secret, &message_id, send::now_unix(), &bytes);
    let answer = send::deliver(&url, signed, bytes).await;
    let success = answer.status.is_some_and(|s| (200..300).contains(&s));
    axum::Json(json!({"success": success, "status": answer.status, "body": answer.body})).into_response()
}
