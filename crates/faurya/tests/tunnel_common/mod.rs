//! Helpers shared by the tunnel tests (`tests/tunnel_*.rs`).
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use faurya::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, quick_providers};

/// Generous: the machine may be busy building; every wait polls and ends as soon as it can.
pub const DEADLINE: Duration = Duration::from_secs(45);

pub const WHOP_KEY: &str = "whop_key_live_0123456789abcdef3f9a";
pub const COMPANY: &str = "biz_acme123";
pub const PADDLE_KEY: &str = "pdl_live_apikey_01hv8x0000000000000000000000_abcd";

/// Short restarts and retries, so the tests see them quickly.
pub fn quick_tunnel(config: &mut Config) {
    quick_providers(config);
    let t = &mut config.tunnel;
    t.start_timeout = Duration::from_secs(20);
    t.restart_backoff = faurya::config::Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
    t.sync_backoff = faurya::config::Backoff { base: Duration::from_millis(300), max: Duration::from_secs(2) };
    t.test_timeout = Duration::from_secs(10);
}

/// Polls `probe` until it answers `Some`, or panics after [`DEADLINE`] saying what was awaited.
pub async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "timed out after {DEADLINE:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub async fn settings(t: &TestApp) -> Value {
    let (status, body) = t.get("/settings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits until the tunnel's state is `state` and `check` accepts it; answers the settings.
pub async fn wait_tunnel(t: &TestApp, state: &str, check: impl Fn(&Value) -> bool) -> Value {
    let what = format!("tunnel state {state}");
    wait_for(&what, || async {
        let s = settings(t).await;
        (s["tunnel"]["state"] == state && check(&s)).then_some(s)
    })
    .await
}

pub async fn connection(t: &TestApp, id: &str) -> Value {
    let (status, body) = t.get(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Connects Whop and Paddle (keys added to the fakes); answers their connection ids.
pub async fn connect_both(t: &TestApp, fakes: &faurya_fakes::FakeProviders) -> (String, String) {
    fakes.add_whop_key(WHOP_KEY, COMPANY, true);
    fakes.add_paddle_key(PADDLE_KEY, true, true);
    let (status, whop) = t
        .post("/connections/whop", json!({"api_key": WHOP_KEY, "company_id": COMPANY, "environment": "production"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{whop}");
    let (status, paddle) =
        t.post("/connections/paddle", json!({"api_key": PADDLE_KEY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED, "{paddle}");
    (whop["id"].as_str().unwrap().to_string(), paddle["id"].as_str().unwrap().to_string())
}

/// Waits until both connections point at `public_url` with sync `ok`.
pub async fn wait_synced(t: &TestApp, ids: &[&str], public_url: &str) {
    for id in ids {
        let what = format!("connection {id} synced to {public_url}");
        wait_for(&what, || async {
            let c = connection(t, id).await;
            let url = c["webhook_url"].as_str().unwrap_or_default().to_string();
            (c["sync"]["state"] == "ok" && url.starts_with(&format!("{public_url}/webhooks/"))).then_some(())
        })
        .await;
    }
}

/// The URLs the fakes were PATCHed with (Whop `url`, Paddle `destination`), in order.
pub fn patched_urls(fakes: &faurya_fakes::FakeProviders) -> Vec<String> {
    fakes
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .filter_map(|r| {
            let body = r.body?;
            body.get("url").or_else(|| body.get("destination")).and_then(Value::as_str).map(str::to_string)
        })
        .collect()
}

/// What creates webhooks at the fakes: Whop `POST /webhooks`, Paddle `POST /notification-settings`.
pub fn creates(fakes: &faurya_fakes::FakeProviders) -> (usize, usize) {
    (fakes.count("POST", "/whop/api/v1/webhooks"), fakes.count("POST", "/paddle/notification-settings"))
}
