//! A test host: the real app on loopback ports over a temp data dir, and a client for it.
#![allow(dead_code)]

use base64::Engine;
use faurya::{App, Config, RunningApp};
use reqwest::StatusCode;
use serde_json::Value;

pub const TOKEN: &str = "test-admin-token-0123456789abcdef";

pub fn master_key_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode([42u8; 32])
}

/// Provider calls in tests: fast retries, a short timeout (the fake can hang on purpose).
pub fn quick_providers(config: &mut Config) {
    config.provider_timeout = std::time::Duration::from_millis(1500);
    config.provider_retry = faurya::providers::transport::RetryPolicy {
        attempts: 3,
        base_delay: std::time::Duration::from_millis(20),
        max_wait: std::time::Duration::from_secs(2),
    };
}

/// The app wired to fresh fake Whop and Paddle APIs, with a public URL set.
pub async fn app_with_fakes() -> (TestApp, faurya_fakes::FakeProviders) {
    let fakes = faurya_fakes::FakeProviders::start().await;
    let (whop, paddle) = (fakes.whop_base(), fakes.paddle_base());
    let t = TestApp::start_with(move |c| {
        c.whop_api_base = Some(whop);
        c.paddle_api_base = Some(paddle);
        quick_providers(c);
    })
    .await;
    let (status, body) = t.put("/settings", serde_json::json!({"public_url": PUBLIC_URL})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The saved URL brings the tunnel up, which starts a scheduled check for missed payments;
    // waiting for it here keeps that check from meeting the one a test asks for.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, settings) = t.get("/settings").await;
        if settings["tunnel"]["state"] == "up" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the tunnel never came up: {settings}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    (t, fakes)
}

pub const PUBLIC_URL: &str = "https://hooks.example.com";

pub struct TestApp {
    pub app: Option<RunningApp>,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    pub admin: String,
    pub public: String,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, adjust).await
    }

    /// Starts over an existing data dir (to test restarts).
    pub async fn start_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::ephemeral(dir.path().join("data"));
        config.admin_token = Some(TOKEN.into());
        config.master_key = Some(master_key_b64());
        adjust(&mut config);
        let app = App::start(config).await.expect("app starts");
        let admin = app.admin_url();
        let public = app.public_listener_url();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app: Some(app), dir, client, admin, public }
    }

    pub fn app(&self) -> &RunningApp {
        self.app.as_ref().expect("running")
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api{}", self.admin, path)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.api(path)).bearer_auth(TOKEN).send().await.expect("request");
        split(response).await
    }

    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response =
            self.client.request(method, self.api(path)).bearer_auth(TOKEN).json(&body).send().await.expect("request");
        split(response).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.delete(self.api(path)).bearer_auth(TOKEN).send().await.expect("request");
        split(response).await
    }

    /// Stops the app and hands back the data dir, e.g. to start again over it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
        self.dir
    }
}

pub async fn split(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, value)
}

/// Asserts the documented error shape and returns its code.
pub fn error_code(body: &Value) -> &str {
    let error = &body["error"];
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "error without message: {body}");
    error["code"].as_str().unwrap_or_else(|| panic!("error without code: {body}"))
}

/// Unix seconds now. Tests build every time from this, never from a fixed calendar date, so
/// they pass on any day (`make test` runs them once more with the clock shifted to prove it).
pub fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// RFC 3339 time `secs_ago` seconds before now (`2026-12-02T10:00:00Z`), as providers stamp
/// their payloads.
pub fn iso_ago(secs_ago: i64) -> String {
    jiff::Timestamp::from_second(unix_now() - secs_ago).expect("time in range").to_string()
}

/// POSTs `body` to a Whop webhook URL, signed now with `secret` under webhook id `msg`, as Whop
/// sends it.
pub async fn post_whop(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    msg: &str,
    body: String,
) -> reqwest::Response {
    let ts = unix_now();
    client
        .post(url)
        .header("webhook-id", msg)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", faurya::providers::whop::signature::sign(secret, msg, ts, body.as_bytes()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request")
}
