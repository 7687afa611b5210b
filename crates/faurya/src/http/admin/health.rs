//! `GET /api/health`: the UI's "am I signed in and is the backend up" check.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// Also says whether the database takes writes (`store.writable`), for the UI's "disk full"
/// banner.
async fn health(State(state): State<AppState>) -> Json<Value> {
    let store = state.store.health();
    let store = json!({
        "writable": store.writable,
        "error": store.error,
        "since": store.since.map(crate::store::rfc3339),
    });
    Json(json!({ "ok": true, "version": env!("CARGO_PKG_VERSION"), "store": store }))
}
