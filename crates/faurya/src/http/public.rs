//! The public listener: what the internet reaches through the tunnel. Only webhook receivers
//! and a health check live here.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::PathParams;
use crate::app::AppState;
use crate::ingest::{self, Incoming, Receipt};
use crate::providers::Provider;
use crate::store::now_ms;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/webhooks/{provider}/{connection_id}", post(webhook))
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed);
    super::public_stack(routes, state)
}

/// `GET /healthz`: used by "Test delivery path" through the tunnel, and by monitors.
async fn healthz() -> Json<Value> {
    Json(json!({ "ok": true, "service": "faurya", "version": env!("CARGO_PKG_VERSION") }))
}

/// `POST /webhooks/{provider}/{connection_id}`: one delivery. 200 once it is durably stored
/// (also for repeats); a JSON error naming the reason otherwise.
async fn webhook(
    State(state): State<AppState>,
    PathParams((provider, connection_id)): PathParams<(String, String)>,
    request: Request,
) -> Result<Json<Receipt>, ApiError> {
    let received_at = now_ms();
    let provider = Provider::parse(&provider).ok_or_else(|| ApiError::not_found("No such webhook receiver."))?;
    let remote = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let (parts, body) = request.into_parts();
    let limit = super::WEBHOOK_BODY_LIMIT;
    let declared: Option<u64> =
        parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    // Refuse a declared oversize body without reading it; cap the read for undeclared ones.
    let body = match declared {
        Some(size) if size > limit as u64 => Err(Some(size)),
        _ => axum::body::to_bytes(body, limit).await.map_err(|_| declared),
    };
    let incoming = Incoming { headers: parts.headers, body, remote, received_at };
    Ok(Json(ingest::receive(&state, provider, &connection_id, incoming).await?))
}
