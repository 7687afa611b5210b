//! The ngrok backend's configuration and error paths (a real session needs an authtoken and the
//! internet, which tests do not have): no authtoken, an unreachable or wrong ngrok server, and
//! the authtoken stored sealed, never answered and never logged.

mod support;
mod tunnel_common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use faurya::tunnel::BackendKind;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, error_code};
use tunnel_common::*;

const TOKEN: &str = "2xYzTESTngrokAuthtoken_0123456789abcdefQRST";

/// Everything any test in this binary logs, at every level, from every crate (ngrok's included).
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber per test binary");
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Waits for an ngrok error in the status (down, or starting again after it).
async fn ngrok_error(t: &TestApp) -> Value {
    wait_for("an ngrok error in the tunnel status", || async {
        let s = settings(t).await;
        (s["tunnel"]["state"] != "up" && s["tunnel"]["error"].is_string()).then_some(s)
    })
    .await
}

#[tokio::test]
async fn ngrok_without_an_authtoken_is_a_clear_error() {
    let t = TestApp::start_with(quick_tunnel).await;
    let (status, body) =
        t.put("/settings", json!({"tunnel": {"backend": "ngrok", "ngrok": {"domain": "acme.ngrok.app"}}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");
    assert!(
        body["error"]["fields"]["tunnel.ngrok.authtoken"].as_str().unwrap().contains("dashboard.ngrok.com"),
        "{body}"
    );
    assert_eq!(settings(&t).await["tunnel"]["backend"], "none", "nothing was saved");
    let dir = t.stop().await;

    // `--tunnel ngrok` with no authtoken saved: down, saying what is missing, until it is set.
    let t = TestApp::start_in(dir, |c| {
        quick_tunnel(c);
        c.tunnel.backend = Some(BackendKind::Ngrok);
    })
    .await;
    let s = settings(&t).await;
    assert_eq!(s["tunnel"]["backend"], "ngrok");
    assert_eq!(s["tunnel"]["state"], "down");
    let error = s["tunnel"]["error"].as_str().unwrap();
    assert!(error.contains("authtoken") && error.contains("Settings → Tunnel"), "{error}");
    // The choice was saved: it holds after a restart without the flag.
    let dir = t.stop().await;
    let t = TestApp::start_in(dir, quick_tunnel).await;
    assert_eq!(settings(&t).await["tunnel"]["backend"], "ngrok");
    t.stop().await;
}

#[tokio::test]
async fn an_unreachable_ngrok_is_down_with_the_error_and_the_token_stays_secret() {
    let logs = captured_logs();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(WHOP_KEY, COMPANY, true);
    let whop_base = fakes.whop_base();
    let t = TestApp::start_with(move |c| {
        quick_tunnel(c);
        c.whop_api_base = Some(whop_base);
        c.tunnel.ngrok_server_addr = Some(closed.to_string());
    })
    .await;
    let (status, s) = t
        .put(
            "/settings",
            json!({"tunnel": {"backend": "ngrok", "ngrok": {"authtoken": TOKEN, "domain": "https://Acme.ngrok.app/"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["tunnel"]["backend"], "ngrok");
    assert_eq!(
        s["tunnel"]["ngrok"],
        json!({"authtoken_set": true, "masked_authtoken": "••••••••QRST", "domain": "acme.ngrok.app"})
    );

    let s = ngrok_error(&t).await;
    let error = s["tunnel"]["error"].as_str().unwrap();
    assert!(error.contains("could not start an ngrok session") && error.contains("online"), "{error}");
    assert_eq!(s["public_url"], Value::Null);

    // Connecting explains that the tunnel is the problem.
    let (status, body) = t
        .post("/connections/whop", json!({"api_key": WHOP_KEY, "company_id": COMPANY, "environment": "production"}))
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("ngrok tunnel") && message.contains("Settings → Tunnel"), "{message}");
    let (status, body) = t.post("/tunnel/test", json!({})).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");

    // Updating the domain alone keeps the token.
    let (_, s) = t.put("/settings", json!({"tunnel": {"ngrok": {"domain": null}}})).await;
    assert_eq!(s["tunnel"]["ngrok"]["authtoken_set"], true);
    assert_eq!(s["tunnel"]["ngrok"]["domain"], Value::Null);

    // The token is in no answer, no stored file and no log line.
    let (_, all_settings) = t.get("/settings").await;
    assert!(!all_settings.to_string().contains(TOKEN));
    let dir = t.stop().await;
    for file in ["faurya.db", "faurya.db-wal"] {
        let bytes = std::fs::read(dir.path().join("data").join(file)).unwrap_or_default();
        assert!(!contains(&bytes, TOKEN), "plain authtoken in {file}");
    }
    let logged = logs.lock().unwrap().clone();
    assert!(contains(&logged, "tunnel down"), "the capture works: {}", String::from_utf8_lossy(&logged).len());
    assert!(!contains(&logged, TOKEN), "the authtoken was logged");

    // It opens again after a restart (sealed with the master key, not lost).
    let t = TestApp::start_in(dir, |c| {
        quick_tunnel(c);
        c.tunnel.ngrok_server_addr = Some(closed.to_string());
    })
    .await;
    let s = settings(&t).await;
    assert_eq!(s["tunnel"]["ngrok"]["masked_authtoken"], "••••••••QRST");
    t.stop().await;
}

#[tokio::test]
async fn a_server_that_does_not_speak_ngrok_is_reported() {
    // Accepts connections and answers plain HTTP: the TLS handshake must fail.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    let t = TestApp::start_with(move |c| {
        quick_tunnel(c);
        c.tunnel.ngrok_server_addr = Some(addr.to_string());
    })
    .await;
    let (status, body) =
        t.put("/settings", json!({"tunnel": {"backend": "ngrok", "ngrok": {"authtoken": TOKEN}}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let s = ngrok_error(&t).await;
    let error = s["tunnel"]["error"].as_str().unwrap();
    assert!(error.contains("ngrok") && error.to_lowercase().contains("tls"), "{error}");
    assert!(!error.contains(TOKEN));
    t.stop().await;
    server.abort();
}
