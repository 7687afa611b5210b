//! `/__fake`: the control API for tests running in another process (Playwright).
//!   POST /__fake/whop/keys      {key, company_id, can_manage_webhooks?}
//!   POST /__fake/paddle/keys    {key, can_read?, can_write?}
//!   POST /__fake/fail           a Failure (see lib.rs)
//!   GET  /__fake/requests       every provider request received
//!   GET  /__fake/state          the webhooks and destinations that exist now
//!   GET  /__fake/secrets        their signing secrets, so a test can sign deliveries
//!                               `{"whop": [{id, url, secret}], "paddle": [{id, destination, secret}]}`
//!   POST /__fake/reset          forget everything

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::{Failure, FakeState, PaddleKey, Shared, WhopKey};

pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route("/whop/keys", post(add_whop_key))
        .route("/paddle/keys", post(add_paddle_key))
        .route("/fail", post(fail))
        .route("/requests", get(requests))
        .route("/state", get(state))
        .route("/secrets", get(secrets))
        .route("/reset", post(reset))
}

async fn add_whop_key(State(shared): State<Shared>, Json(key): Json<WhopKey>) -> Json<Value> {
    shared.lock().whop.keys.push(key);
    Json(json!({"ok": true}))
}

async fn add_paddle_key(State(shared): State<Shared>, Json(key): Json<PaddleKey>) -> Json<Value> {
    shared.lock().paddle.keys.push(key);
    Json(json!({"ok": true}))
}

async fn fail(State(shared): State<Shared>, Json(failure): Json<Failure>) -> Json<Value> {
    shared.lock().failures.push(failure);
    Json(json!({"ok": true}))
}

async fn requests(State(shared): State<Shared>) -> Json<Value> {
    Json(json!({"requests": shared.lock().requests}))
}

async fn state(State(shared): State<Shared>) -> Json<Value> {
    let state = shared.lock();
    Json(json!({
        "whop_webhooks": state.whop.webhooks.iter().map(|w| w.public(false)).collect::<Vec<_>>(),
        "paddle_destinations": state.paddle.settings.iter().map(|s| s.public()).collect::<Vec<_>>(),
    }))
}

/// The signing secret of every webhook and destination that exists now, in one place. `/state`
/// shows Whop webhooks as Whop lists them, without the secret (Whop only returns it on create).
async fn secrets(State(shared): State<Shared>) -> Json<Value> {
    let state = shared.lock();
    Json(json!({
        "whop": state.whop.webhooks.iter()
            .map(|w| json!({"id": w.id, "url": w.url, "secret": w.secret}))
            .collect::<Vec<_>>(),
        "paddle": state.paddle.settings.iter()
            .map(|s| json!({"id": s.id, "destination": s.destination, "secret": s.secret}))
            .collect::<Vec<_>>(),
    }))
}

async fn reset(State(shared): State<Shared>) -> Json<Value> {
    *shared.lock() = FakeState::default();
    Json(json!({"ok": true}))
}
