//! The fake Paddle API: `/notification-settings` as the OpenAPI spec describes it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::{FakeState, PaddleKey, Shared, bearer, send};

const KNOWN_EVENTS: &[&str] = &[
    "transaction.billed",
    "transaction.canceled",
    "transaction.completed",
    "transaction.created",
    "transaction.paid",
    "transaction.past_due",
    "transaction.payment_failed",
    "transaction.ready",
    "transaction.updated",
    "adjustment.created",
    "adjustment.updated",
    "subscription.created",
    "subscription.updated",
];

/// Paddle allows this many active destinations at once.
const MAX_ACTIVE: usize = 10;

#[derive(Default)]
pub(crate) struct PaddleState {
    pub keys: Vec<PaddleKey>,
    pub settings: Vec<Setting>,
    /// Transactions as `GET /transactions` lists them.
    pub transactions: Vec<Value>,
    /// Simulations made with `POST /simulations`.
    pub simulations: Vec<Value>,
    /// Runs of simulations, each with its events (as `?include=events` shows them).
    pub runs: Vec<Value>,
}

#[derive(Clone)]
pub(crate) struct Setting {
    pub id: String,
    pub description: String,
    pub kind: String,
    pub destination: String,
    pub active: bool,
    pub api_version: i64,
    pub events: Vec<String>,
    pub secret: String,
    pub traffic_source: String,
}

impl Setting {
    pub fn public(&self) -> Value {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|name| {
                json!({"name": name, "description": format!("Occurs for {name}."),
                               "group": "Transaction", "available_versions": [1]})
            })
            .collect();
        json!({
            "id": self.id, "description": self.description, "type": self.kind,
            "destination": self.destination, "active": self.active, "api_version": self.api_version,
            "include_sensitive_fields": false, "subscribed_events": events,
            "endpoint_secret_key": self.secret, "traffic_source": self.traffic_source,
        })
    }
}

pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route("/notification-settings", get(list).post(create))
        .route("/notification-settings/{id}", get(retrieve).patch(update).delete(remove))
        .route("/transactions", get(list_transactions))
        .route("/simulations", axum::routing::post(create_simulation))
        .route("/simulations/{id}/runs", axum::routing::post(run_simulation))
        .route("/simulations/{id}/runs/{run}", get(get_run))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "Requested resource not found") })
}

fn error(status: StatusCode, code: &str, detail: &str) -> Response {
    let kind = if status.is_server_error() { "api_error" } else { "request_error" };
    (
        status,
        axum::Json(json!({
            "error": {"type": kind, "code": code, "detail": detail,
                      "documentation_url": format!("https://developer.paddle.com/errors/shared/{code}")},
            "meta": {"request_id": "fake-request"},
        })),
    )
        .into_response()
}

fn ok(status: StatusCode, data: Value) -> Response {
    (status, axum::Json(json!({"data": data, "meta": {"request_id": "fake-request"}}))).into_response()
}

enum Need {
    Read,
    Write,
    Transactions,
    Simulate,
}

fn authorize(state: &FakeState, headers: &HeaderMap, need: Need) -> Result<(), Response> {
    let Some(raw) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(error(StatusCode::FORBIDDEN, "authentication_missing", "Authentication header missing"));
    };
    let Some(token) = bearer(headers) else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "authentication_malformed",
            &format!("Authentication header malformed: {}", raw.len()),
        ));
    };
    let Some(key) = state.paddle.keys.iter().find(|k| k.key == token) else {
        return Err(error(StatusCode::FORBIDDEN, "invalid_token", "Authentication token is invalid"));
    };
    let allowed = match need {
        Need::Read => key.can_read,
        Need::Write => key.can_write,
        Need::Transactions => key.can_read_transactions,
        Need::Simulate => key.can_simulate,
    };
    if !allowed && matches!(need, Need::Transactions) {
        // As the real API: the body does not name the permission.
        return Err(error(StatusCode::FORBIDDEN, "forbidden", "You aren't permitted to perform this request."));
    }
    if !allowed {
        let permission = match need {
            Need::Read => "notification_setting.read",
            Need::Simulate => "notification_simulation.write",
            _ => "notification_setting.write",
        };
        return Err(error(StatusCode::FORBIDDEN, "forbidden", &format!("You do not have permission: {permission}")));
    }
    Ok(())
}

pub(crate) fn create_setting(state: &mut FakeState, destination: &str) -> Setting {
    let setting = Setting {
        id: format!("ntfset_{}", state.new_id("", 26)),
        description: "Existing destination".into(),
        kind: "url".into(),
        destination: destination.into(),
        active: true,
        api_version: 1,
        events: vec!["transaction.completed".into()],
        secret: format!("pdl_ntfset_{}_{}", state.new_id("", 26), state.new_id("", 32)),
        traffic_source: "platform".into(),
    };
    state.paddle.settings.push(setting.clone());
    setting
}

fn validation(detail: &str, field: &str, message: &str) -> Response {
    let body = json!({
        "error": {"type": "request_error", "code": "bad_request", "detail": detail,
                  "documentation_url": "https://developer.paddle.com/errors/shared/bad_request",
                  "errors": [{"field": field, "message": message}]},
        "meta": {"request_id": "fake-request"},
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn events_of(body: &Value) -> Result<Option<Vec<String>>, Response> {
    match body.get("subscribed_events") {
        None => Ok(None),
        Some(Value::Array(items)) => {
            let names: Vec<String> = items.iter().filter_map(Value::as_str).map(str::to_string).collect();
            if names.len() != items.len() {
                return Err(validation(
                    "Invalid request.",
                    "subscribed_events",
                    "must be an array of event type names",
                ));
            }
            if let Some(bad) = names.iter().find(|n| !KNOWN_EVENTS.contains(&n.as_str())) {
                return Err(validation(
                    "Invalid request.",
                    "subscribed_events",
                    &format!("{bad} is not a valid event type"),
                ));
            }
            Ok(Some(names))
        }
        Some(_) => Err(validation("Invalid request.", "subscribed_events", "must be an array")),
    }
}

async fn create(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Write) {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_json", "Invalid JSON body");
    };
    let description = body.get("description").and_then(Value::as_str).unwrap_or_default();
    if description.is_empty() || description.len() > 500 {
        return validation("Invalid request.", "description", "is required (1 to 500 characters)");
    }
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind != "url" && kind != "email" {
        return validation("Invalid request.", "type", "must be url or email");
    }
    let destination = body.get("destination").and_then(Value::as_str).unwrap_or_default();
    if destination.is_empty() || destination.len() > 2048 {
        return validation("Invalid request.", "destination", "is required");
    }
    let events = match events_of(&body) {
        Ok(Some(events)) if !events.is_empty() => events,
        Ok(_) => return validation("Invalid request.", "subscribed_events", "is required"),
        Err(response) => return response,
    };
    let api_version = body.get("api_version").and_then(Value::as_i64).unwrap_or(1);
    if api_version < 1 {
        return validation("Invalid request.", "api_version", "must be at least 1");
    }
    let traffic_source = body.get("traffic_source").and_then(Value::as_str).unwrap_or("platform");
    if !["platform", "simulation", "all"].contains(&traffic_source) {
        return validation("Invalid request.", "traffic_source", "must be platform, simulation or all");
    }
    if state.paddle.settings.iter().any(|s| s.destination == destination && s.kind == kind) {
        return error(
            StatusCode::CONFLICT,
            "notification_setting_cannot_be_duplicate",
            "A notification setting with the same destination already exists",
        );
    }
    if state.paddle.settings.iter().filter(|s| s.active).count() >= MAX_ACTIVE {
        return error(
            StatusCode::BAD_REQUEST,
            "notification_maximum_active_settings_reached",
            "Maximum number of active notification settings reached",
        );
    }
    let mut setting = create_setting(&mut state, destination);
    setting.description = description.into();
    setting.kind = kind.into();
    setting.events = events;
    setting.api_version = api_version;
    setting.traffic_source = traffic_source.into();
    *state.paddle.settings.last_mut().expect("just pushed") = setting.clone();
    ok(StatusCode::CREATED, setting.public())
}

async fn list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Read) {
        return response;
    }
    let per_page: usize = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(200).clamp(1, 200);
    let start = query
        .get("after")
        .and_then(|after| state.paddle.settings.iter().position(|s| &s.id == after).map(|i| i + 1))
        .unwrap_or(0);
    let page: Vec<&Setting> = state.paddle.settings.iter().skip(start).take(per_page).collect();
    let has_more = start + page.len() < state.paddle.settings.len();
    let next = page
        .last()
        .map(|s| format!("http://fake/paddle/notification-settings?after={}&per_page={per_page}", s.id))
        .unwrap_or_default();
    (
        StatusCode::OK,
        axum::Json(json!({
            "data": page.iter().map(|s| s.public()).collect::<Vec<_>>(),
            "meta": {"request_id": "fake-request",
                     "pagination": {"per_page": per_page, "next": next, "has_more": has_more,
                                    "estimated_total": state.paddle.settings.len()}},
        })),
    )
        .into_response()
}

fn not_found(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, "not_found", &format!("Entity {id} not found"))
}

async fn retrieve(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Read) {
        return response;
    }
    match state.paddle.settings.iter().find(|s| s.id == id) {
        Some(setting) => ok(StatusCode::OK, setting.public()),
        None => not_found(&id),
    }
}

async fn update(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let mut state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Write) {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_json", "Invalid JSON body");
    };
    let events = match events_of(&body) {
        Ok(events) => events,
        Err(response) => return response,
    };
    let Some(setting) = state.paddle.settings.iter_mut().find(|s| s.id == id) else {
        return not_found(&id);
    };
    if let Some(destination) = body.get("destination") {
        match destination.as_str() {
            Some(d) if !d.is_empty() => setting.destination = d.to_string(),
            _ => return validation("Invalid request.", "destination", "must be a non-empty string"),
        }
    }
    if let Some(active) = body.get("active").and_then(Value::as_bool) {
        setting.active = active;
    }
    if let Some(description) = body.get("description").and_then(Value::as_str) {
        setting.description = description.to_string();
    }
    if let Some(events) = events {
        setting.events = events;
    }
    ok(StatusCode::OK, setting.public())
}

async fn remove(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let mut state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Write) {
        return response;
    }
    let before = state.paddle.settings.len();
    state.paddle.settings.retain(|s| s.id != id);
    if state.paddle.settings.len() == before {
        return not_found(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /transactions?status=paid,completed&updated_at[GT]=…&order_by=updated_at[ASC]&per_page=…&after=…`
/// as the spec describes it (per_page at most 30; `after` a transaction id; `meta.pagination`
/// with `next` always present); needs `transaction.read`.
async fn list_transactions(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Transactions) {
        return response;
    }
    let statuses: Option<Vec<&str>> = query.get("status").map(|s| s.split(',').map(str::trim).collect());
    let time = |v: &Value, field: &str| v[field].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let mut bounds = Vec::new();
    for field in ["created_at", "updated_at", "billed_at"] {
        for op in ["GT", "GTE", "LT", "LTE"] {
            if let Some(text) = query.get(&format!("{field}[{op}]")) {
                let Ok(at) = text.parse::<jiff::Timestamp>() else {
                    return validation("Invalid request.", &format!("{field}[{op}]"), "must be an RFC 3339 datetime");
                };
                bounds.push((field, op, at));
            }
        }
    }
    let mut found: Vec<&Value> = state
        .paddle
        .transactions
        .iter()
        .filter(|t| statuses.as_ref().is_none_or(|s| s.contains(&t["status"].as_str().unwrap_or_default())))
        .filter(|t| {
            bounds.iter().all(|(field, op, at)| match (time(t, field), *op) {
                (Some(v), "GT") => v > *at,
                (Some(v), "GTE") => v >= *at,
                (Some(v), "LT") => v < *at,
                (Some(v), "LTE") => v <= *at,
                _ => false,
            })
        })
        .collect();
    match query.get("order_by").map(String::as_str) {
        Some("updated_at[ASC]") => found.sort_by_key(|t| time(t, "updated_at")),
        Some("created_at[ASC]") => found.sort_by_key(|t| time(t, "created_at")),
        Some("id[ASC]") => found.sort_by_key(|t| t["id"].as_str().map(str::to_string)),
        None | Some("id[DESC]") => found.sort_by_key(|t| std::cmp::Reverse(t["id"].as_str().map(str::to_string))),
        Some(other) => return validation("Invalid request.", "order_by", &format!("{other} is not a valid ordering")),
    }
    let per_page: usize = match query.get("per_page").map(|p| p.parse::<usize>()) {
        None => 30,
        Some(Ok(n)) if (1..=30).contains(&n) => n,
        Some(_) => return validation("Invalid request.", "per_page", "must be between 1 and 30"),
    };
    let start = query
        .get("after")
        .and_then(|after| found.iter().position(|t| t["id"].as_str() == Some(after.as_str())).map(|i| i + 1))
        .unwrap_or(0);
    let page: Vec<Value> = found.iter().skip(start).take(per_page).map(|t| (*t).clone()).collect();
    let has_more = start + page.len() < found.len();
    let last = page.last().and_then(|t| t["id"].as_str()).unwrap_or_default().to_string();
    let next = format!("https://sandbox-api.paddle.com/transactions?after={last}&per_page={per_page}");
    axum::Json(json!({
        "data": page,
        "meta": {"request_id": "fake-request", "pagination": {
            "per_page": per_page, "next": next, "has_more": has_more, "estimated_total": found.len()}},
    }))
    .into_response()
}

/// `POST /simulations` (single event): `{notification_setting_id, name, type, payload?}` → 201.
/// The destination must accept simulation traffic (`traffic_source` `simulation` or `all`).
async fn create_simulation(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Simulate) {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_json", "Invalid JSON body");
    };
    let setting_id = body.get("notification_setting_id").and_then(Value::as_str).unwrap_or_default();
    let Some(setting) = state.paddle.settings.iter().find(|s| s.id == setting_id).cloned() else {
        return validation("Invalid request.", "notification_setting_id", "notification setting not found");
    };
    if !["simulation", "all"].contains(&setting.traffic_source.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "notification_setting_traffic_source_invalid",
            "The notification setting does not accept simulation traffic: set traffic_source to simulation or all",
        );
    }
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return validation("Invalid request.", "name", "is required");
    }
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    if !KNOWN_EVENTS.contains(&kind) {
        return validation("Invalid request.", "type", "must be a known event type");
    }
    let now = jiff::Timestamp::now().to_string();
    let simulation = json!({
        "id": format!("ntfsim_{}", state.new_id("", 26)), "notification_setting_id": setting_id, "name": name,
        "type": kind, "status": "active", "payload": body.get("payload").cloned().unwrap_or(json!({"id": "txn_demo"})),
        "last_run_at": null, "created_at": now, "updated_at": now,
    });
    state.paddle.simulations.push(simulation.clone());
    ok(StatusCode::CREATED, simulation)
}

/// `POST /simulations/{id}/runs` → 201 with the run (`pending`); the notification is sent right
/// after, signed with the destination's secret, and its answer kept on the run's event.
async fn run_simulation(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (run, url, secret, envelope) = {
        let mut state = shared.lock();
        if let Err(response) = authorize(&state, &headers, Need::Simulate) {
            return response;
        }
        let Some(simulation) = state.paddle.simulations.iter().find(|s| s["id"] == id.as_str()).cloned() else {
            return not_found(&id);
        };
        let setting_id = simulation["notification_setting_id"].as_str().unwrap_or_default().to_string();
        let Some(setting) = state.paddle.settings.iter().find(|s| s.id == setting_id).cloned() else {
            return not_found(&setting_id);
        };
        let now = jiff::Timestamp::now().to_string();
        let run_id = format!("ntfsimrun_{}", state.new_id("", 26));
        let event_id = format!("ntfsimevt_{}", state.new_id("", 26));
        let envelope = json!({
            "event_id": format!("evt_{}", state.new_id("", 26)), "event_type": simulation["type"],
            "occurred_at": now, "notification_id": format!("ntf_{}", state.new_id("", 26)),
            "data": simulation["payload"],
        });
        let run = json!({
            "id": run_id, "simulation_id": id, "status": "pending", "type": simulation["type"],
            "created_at": now, "updated_at": now,
            "events": [{"id": event_id, "status": "pending", "event_type": simulation["type"],
                        "payload": simulation["payload"], "request": null, "response": null,
                        "created_at": now, "updated_at": now}],
        });
        state.paddle.runs.push(run.clone());
        (run, setting.destination, setting.secret, envelope)
    };
    let run_id = run["id"].as_str().unwrap_or_default().to_string();
    tokio::spawn(async move {
        let body = serde_json::to_vec(&envelope).expect("JSON");
        let signed = send::paddle_headers(&secret, send::now_unix(), &body);
        let request_body = String::from_utf8_lossy(&body).into_owned();
        let answer = send::deliver(&url, signed, body).await;
        let mut state = shared.lock();
        if let Some(run) = state.paddle.runs.iter_mut().find(|r| r["id"] == run_id.as_str()) {
            let success = answer.status.is_some_and(|s| (200..300).contains(&s));
            run["status"] = json!("completed");
            run["events"][0]["status"] = json!(if success { "success" } else { "failed" });
            run["events"][0]["request"] = json!({"body": request_body});
            run["events"][0]["response"] = match answer.status {
                Some(status) => json!({"body": answer.body, "status_code": status}),
                None => Value::Null,
            };
        }
    });
    let mut shown = run;
    if let Some(object) = shown.as_object_mut() {
        object.remove("events");
    }
    ok(StatusCode::CREATED, shown)
}

#[derive(serde::Deserialize)]
struct RunQuery {
    include: Option<String>,
}

/// `GET /simulations/{id}/runs/{run}` (`?include=events` for the events and their answers).
async fn get_run(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((id, run)): Path<(String, String)>,
    Query(query): Query<RunQuery>,
) -> Response {
    let state = shared.lock();
    if let Err(response) = authorize(&state, &headers, Need::Read) {
        return response;
    }
    let Some(found) = state.paddle.runs.iter().find(|r| r["id"] == run.as_str() && r["simulation_id"] == id.as_str())
    else {
        return not_found(&run);
    };
    let mut shown = found.clone();
    if query.include.as_deref() != Some("events")
        && let Some(object) = shown.as_object_mut()
    {
        object.remove("events");
    }
    ok(StatusCode::OK, shown)
}
