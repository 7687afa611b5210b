//! `POST /api/tunnel/test`: "Test delivery path". Sends `GET {public_url}/healthz` through the
//! public URL, the way a provider reaches the app, and reports whether Faurya answered and how
//! long the round trip took.

use std::time::Instant;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::app::AppState;
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/tunnel/test", post(test))
}

#[derive(Debug, Serialize)]
pub struct TestResult {
    pub ok: bool,
    pub url: String,
    /// The HTTP status that came back, or null when nothing did.
    pub status: Option<u16>,
    pub rtt_ms: Option<u64>,
    pub error: Option<String>,
}

async fn test(State(state): State<AppState>) -> Result<Json<TestResult>, ApiError> {
    let Some(public_url) = state.effective_public_url() else {
        let status = state.tunnel.status();
        return Err(ApiError::PublicUrlMissing(crate::tunnel::missing_url_message(
            &status,
            state.addrs.public,
            "Testing the delivery path",
        )));
    };
    let url = format!("{}/healthz", public_url.trim_end_matches('/'));
    let timeout = state.config.tunnel.test_timeout;
    let started = Instant::now();
    let sent = state.http.get(&url).timeout(timeout).header("cache-control", "no-cache").send().await;
    let rtt_ms = started.elapsed().as_millis() as u64;
    let public_addr = state.addrs.public;
    let result = match sent {
        Err(e) => {
            let error = if e.is_timeout() {
                format!(
                    "No answer within {} s. The tunnel may be down or still starting (a new quick tunnel can take a \
                     minute to become reachable).",
                    timeout.as_secs()
                )
            } else if e.is_connect() {
                format!(
                    "Could not connect to {}: {}. Check that the tunnel or proxy is running.",
                    reqwest::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default(),
                    crate::tunnel::error_chain(&e)
                )
            } else {
                format!("The request failed: {}.", crate::tunnel::error_chain(&e))
            };
            TestResult { ok: false, url, status: None, rtt_ms: None, error: Some(error) }
        }
        Ok(response) => {
            let status = response.status();
            let body: Option<Value> = response.json().await.ok();
            let is_faurya = body.as_ref().and_then(|b| b.get("service")).and_then(Value::as_str) == Some("faurya");
            let error = if !status.is_success() {
                Some(format!(
                    "The public URL answered {status} instead of Faurya's health check: the tunnel or proxy does not \
                     forward to the public listener at {public_addr}."
                ))
            } else if !is_faurya {
                Some(format!(
                    "Something answered at the public URL, but not Faurya: does it forward to the public listener at \
                     {public_addr} (not the admin one)?"
                ))
            } else {
                None
            };
            TestResult { ok: error.is_none(), url, status: Some(status.as_u16()), rtt_ms: Some(rtt_ms), error }
        }
    };
    tracing::info!(ok = result.ok, url = %result.url, rtt_ms = result.rtt_ms.unwrap_or(0), "delivery path tested");
    Ok(Json(result))
}
