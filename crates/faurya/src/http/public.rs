//! The public listener: what the internet reaches through the tunnel. Only webhook receivers
//! and a health check live here.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed);
    super::public_stack(routes, state)
}

/// `GET /healthz`: used by "Test delivery path" through the tunnel, and by monitors.
async fn healthz() -> Json<Value> {
    Json(json!({ "ok": true, "service": "faurya", "version": env!("CARGO_PKG_VERSION") }))
}
