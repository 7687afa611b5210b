//! `/__fake`: the control API for tests running in another process (Playwright).
//!   POST /__fake/whop/keys      {key, company_id, can_manage_webhooks?}
//!   POST /__fake/paddle/keys    {key, can_read?, can_write?}
//!   POST /__fake/fail           a Failure (see lib.rs)
//!   GET  /__fake/requests       every provider request received
//!   GET  /__fake/state          the webhooks and destinations that exist now
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

async fn reset(State(shared): State<Shared>) -> Json<Value> {
    *shared.lock() = FakeState::default();
    Json(json!({"ok": true}))
}
