//! The public listener: what the internet reaches through the tunnel. Webhook receivers, the
//! tracking script and its event endpoint, and a health check; nothing of the admin side.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::PathParams;
use super::limits;
use crate::app::AppState;
use crate::ingest::{self, Incoming, Receipt};
use crate::providers::Provider;
use crate::store::now_ms;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/webhooks/{provider}/{connection_id}", post(webhook))
        .route("/js/script.js", get(script))
        .route("/api/event", post(event).options(event_preflight))
        .route("/api/revenue", post(revenue))
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
    // A made-up connection id is answered without reading the body it came with. A read body's
    // share of the byte budget is held until the answer, then given back.
    let (body, _share) = if ingest::expects(&state, provider, &connection_id).await {
        match limits::read(body, &parts.headers, super::WEBHOOK_BODY_LIMIT, &state.body_budget).await {
            Ok(read) => (Ok(read.bytes.clone()), Some(read)),
            Err(error) => (Err(error), None),
        }
    } else {
        (Ok(Bytes::new()), None)
    };
    let incoming = Incoming { headers: parts.headers, body, remote, received_at };
    Ok(Json(ingest::receive(&state, provider, &connection_id, incoming).await?))
}

/// `GET /js/script.js`: the tracker. Cached for an hour by browsers and CDNs; the ETag lets a
/// proxy revalidate cheaply.
async fn script(headers: HeaderMap) -> Response {
    const ETAG: &str = concat!("\"faurya-", env!("CARGO_PKG_VERSION"), "\"");
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == ETAG.as_bytes()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::ETAG, ETAG),
            // The script is loaded cross-origin by the founder's pages.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        crate::tracking::SCRIPT,
    )
        .into_response()
}

/// `POST /api/event`: one pageview or goal from the script (sent as `text/plain` JSON, so the
/// browser needs no preflight). 202 with the attribution token once stored.
async fn event(State(state): State<AppState>, request: Request) -> Response {
    let remote = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let (parts, body) = request.into_parts();
    let limit = crate::tracking::event::BODY_LIMIT;
    let answer = match limits::read(body, &parts.headers, limit, &state.body_budget).await {
        Err(error) => Err(error.into_api_error(limit)),
        Ok(body) => {
            let header = |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
            let request = crate::tracking::EventRequest {
                body: &body.bytes,
                origin: header(header::ORIGIN),
                user_agent: header(header::USER_AGENT),
                client: client_addr(remote, &parts.headers),
            };
            state.tracking.collect(request).await
        }
    };
    let mut response = match answer {
        Ok(collected) => (StatusCode::ACCEPTED, Json(collected)).into_response(),
        Err(error) => error.into_response(),
    };
    allow_any_origin(response.headers_mut());
    response
}

/// A preflight only happens when a caller sends something other than `text/plain`; answer it
/// so a hand-written `fetch` with `application/json` works too.
async fn event_preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    allow_any_origin(headers);
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

/// Every page may read the answer (no cookies or credentials are involved): a page of a domain
/// the site does not list then sees its 403 and its reason instead of a network error.
fn allow_any_origin(headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}

/// The visitor's address for the rate limit. Behind a tunnel every request comes from
/// loopback (the tunnel client), so there — and only there — the tunnel's forwarding headers
/// are believed: `CF-Connecting-IP` (Cloudflare), else the first `X-Forwarded-For` entry.
fn client_addr(remote: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let remote = remote?.ip();
    if !remote.is_loopback() {
        return Some(remote);
    }
    let forwarded = headers
        .get("cf-connecting-ip")
        .and_then(|v| v.to_str().ok())
        .or_else(|| headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()))
        .and_then(|v| v.trim().parse().ok());
    Some(forwarded.unwrap_or(remote))
}

/// `POST /api/revenue`: the founder's server reports a purchase or refund (headers
/// `x-faurya-site-id`, `x-faurya-write-key`). 201 for a new payment or refund, 200 with
/// `"duplicate": true` for one already recorded (by this API or a webhook).
async fn revenue(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    use crate::attribution::revenue_api;
    let (parts, body) = request.into_parts();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let site =
        revenue_api::authenticate(&state.tracking.sites, header("x-faurya-site-id"), header("x-faurya-write-key"))
            .await?;
    let limit = revenue_api::BODY_LIMIT;
    let body =
        limits::read(body, &parts.headers, limit, &state.body_budget).await.map_err(|e| e.into_api_error(limit))?.bytes;
    let call = revenue_api::parse(&body)?;
    // The write key is a secret: it is never stored with the call.
    let mut headers = parts.headers.clone();
    headers.remove("x-faurya-write-key");
    let headers_json = crate::ingest::headers_json(&headers);
    let recorded = revenue_api::record(state.tracking.store(), &site, call, body.to_vec(), headers_json).await?;
    state.publish(crate::live::LiveEvent::Delivery(recorded.delivery));
    state.publish(crate::live::LiveEvent::Payment(recorded.payment));
    let payment = state
        .store
        .read(move |conn| crate::store::payments::get(conn, recorded.payment))
        .await?
        .map(super::admin::payment_view)
        .ok_or_else(|| ApiError::Internal("payment vanished".into()))?;
    let status = if recorded.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({ "ok": true, "duplicate": recorded.duplicate, "payment": payment }))).into_response())
}
