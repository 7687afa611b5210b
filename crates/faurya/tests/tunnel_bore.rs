//! The bore backend against a real bore server (`bore_cli::server::Server`) started by the test
//! on loopback: a signed Whop delivery POSTed to the bore server's public port arrives, is
//! verified and stored; the tunnel comes back after the server restarts and the webhooks follow
//! the new port; a server with a secret needs it.
//!
//! bore's control port is fixed at 7835, so these tests hold a file lock (`bore`) and never run
//! at the same time, in this binary or another.

mod support;
mod tunnel_common;

use std::net::{SocketAddr, TcpListener};
use std::ops::RangeInclusive;
use std::time::Duration;

use faurya::app::LiveEvent;
use faurya::providers::whop::signature::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};
use serial_test::file_serial;
use support::{TestApp, split};
use tunnel_common::*;

/// A bore server on 127.0.0.1 in a runtime of its own, so stopping it closes every socket it
/// holds (as a crash or a reboot of the server would).
struct BoreServer {
    runtime: Option<tokio::runtime::Runtime>,
}

impl BoreServer {
    async fn start(ports: RangeInclusive<u16>, secret: Option<&str>) -> Self {
        // A server of an earlier (failed) test may still be going away.
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", bore_cli::shared::CONTROL_PORT)).await.is_ok() {
            assert!(started.elapsed() < DEADLINE, "another bore server holds port 7835");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let secret = secret.map(str::to_string);
        let (failed_tx, mut failed_rx) = tokio::sync::oneshot::channel::<String>();
        runtime.spawn(async move {
            let mut server = bore_cli::server::Server::new(ports, secret.as_deref());
            let loopback = "127.0.0.1".parse().unwrap();
            server.set_bind_addr(loopback);
            server.set_bind_tunnels(loopback);
            if let Err(e) = server.listen().await {
                let _ = failed_tx.send(format!("{e:#}"));
            }
        });
        // Ready once the control port answers.
        while tokio::net::TcpStream::connect(("127.0.0.1", bore_cli::shared::CONTROL_PORT)).await.is_err() {
            if let Ok(error) = failed_rx.try_recv() {
                panic!("the bore server did not start: {error}");
            }
            assert!(started.elapsed() < DEADLINE, "the bore server's control port never answered");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Self { runtime: Some(runtime) }
    }

    /// Stops the server and waits until its control port is closed, so the next server can
    /// bind it (and a client cannot mistake the old one for the new).
    async fn stop(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", bore_cli::shared::CONTROL_PORT)).await.is_ok() {
            assert!(started.elapsed() < DEADLINE, "the stopped bore server still answers");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for BoreServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn any_port() -> RangeInclusive<u16> {
    20000..=29999
}

async fn app_with_fakes() -> (TestApp, faurya_fakes::FakeProviders) {
    let fakes = faurya_fakes::FakeProviders::start().await;
    let (whop, paddle) = (fakes.whop_base(), fakes.paddle_base());
    let t = TestApp::start_with(move |c| {
        quick_tunnel(c);
        c.whop_api_base = Some(whop);
        c.paddle_api_base = Some(paddle);
    })
    .await;
    (t, fakes)
}

async fn choose_bore(t: &TestApp, bore: Value) -> Value {
    let (status, body) = t.put("/settings", json!({"tunnel": {"backend": "bore", "bore": bore}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
#[file_serial(bore)]
async fn a_signed_whop_delivery_through_bore_is_verified_and_stored() {
    let server = BoreServer::start(any_port(), None).await;
    let (t, fakes) = app_with_fakes().await;
    choose_bore(&t, json!({"host": "127.0.0.1", "port": 0})).await;
    let s = wait_tunnel(&t, "up", |_| true).await;
    let url = s["tunnel"]["url"].as_str().unwrap().to_string();
    let remote: SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    assert!(any_port().contains(&remote.port()), "{url}");
    assert_eq!(s["public_url"], url);
    assert_eq!(s["public_url_source"], "tunnel");

    fakes.add_whop_key(WHOP_KEY, COMPANY, true);
    let (status, connection) = t
        .post("/connections/whop", json!({"api_key": WHOP_KEY, "company_id": COMPANY, "environment": "production"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let id = connection["id"].as_str().unwrap();
    let webhook_url = format!("{url}/webhooks/whop/{id}");
    assert_eq!(connection["webhook_url"], webhook_url);
    assert_eq!(fakes.whop_webhooks()[0]["url"], webhook_url);

    // Whop delivers to the URL it was given: through the bore server to the public listener.
    let secret = fakes.secrets().pop().unwrap();
    let (sent_at, paid_at) = (support::iso_ago(5), support::iso_ago(60));
    let body = format!(
        r#"{{"id":"msg_body_1","api_version":"v1","type":"payment.succeeded","timestamp":"{sent_at}",
"company_id":"{COMPANY}","data":{{"id":"pay_bore_1","status":"paid","currency":"usd","total":25.5,"subtotal":25.5,
"metadata":{{"faurya_visitor_id":"v_bore"}},"user":{{"id":"user_1","email":"buyer@example.com"}},
"paid_at":"{paid_at}"}}}}"#
    );
    let timestamp = now();
    let response = t
        .client
        .post(&webhook_url)
        .header("webhook-id", "msg_through_bore")
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign(&secret, "msg_through_bore", timestamp, body.as_bytes()))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let (status, receipt) = split(response).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["status"], "processed", "{receipt}");

    let (status, events) = t.get("/events").await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["delivery_id"], "msg_through_bore");
    assert_eq!(events[0]["verdict"], "verified");
    assert_eq!(events[0]["status"], "processed");
    assert_eq!(events[0]["connection_id"], id);
    assert_eq!(events[0]["amount_minor"], 2550);
    let (_, event) = t.get(&format!("/events/{}", events[0]["id"].as_str().unwrap())).await;
    assert_eq!(event["body_text"], body, "stored byte-exact after the trip through bore");

    // "Test delivery path" goes the same way.
    let (status, test) = t.post("/tunnel/test", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["ok"], true, "{test}");
    assert_eq!(test["url"], format!("{url}/healthz"));
    assert!(test["rtt_ms"].as_u64().is_some());

    t.stop().await;
    server.stop().await;
}

#[tokio::test]
#[file_serial(bore)]
async fn the_tunnel_returns_after_the_server_restarts_and_webhooks_follow_the_new_port() {
    let first_port = free_port();
    let second_port = std::iter::repeat_with(free_port).find(|p| *p != first_port).unwrap();
    let server = BoreServer::start(first_port..=first_port, None).await;
    let (t, fakes) = app_with_fakes().await;
    choose_bore(&t, json!({"host": "127.0.0.1", "port": 0})).await;
    let first_url = format!("http://127.0.0.1:{first_port}");
    wait_tunnel(&t, "up", |s| s["tunnel"]["url"] == first_url).await;
    let (whop, paddle) = connect_both(&t, &fakes).await;

    let mut live = t.app().subscribe();
    server.stop().await;
    let s = wait_for("the lost server to be noticed", || async {
        let s = settings(&t).await;
        (s["tunnel"]["state"] != "up").then_some(s)
    })
    .await;
    assert_eq!(s["public_url"], Value::Null, "{s}");
    // While the server is away the connections keep their URL: nothing to update yet.
    assert_eq!(connection(&t, &whop).await["webhook_url"], format!("{first_url}/webhooks/whop/{whop}"));

    let server = BoreServer::start(second_port..=second_port, None).await;
    let second_url = format!("http://127.0.0.1:{second_port}");
    let s = wait_tunnel(&t, "up", |s| s["tunnel"]["url"] == second_url).await;
    assert_eq!(s["tunnel"]["error"], Value::Null);
    let mut states = Vec::new();
    while let Ok(event) = live.try_recv() {
        if let LiveEvent::Tunnel(state) = event {
            states.push(state);
        }
    }
    assert_eq!(states.first(), Some(&"down"), "{states:?}");
    assert_eq!(states.last(), Some(&"up"), "{states:?}");

    wait_synced(&t, &[&whop, &paddle], &second_url).await;
    assert_eq!(creates(&fakes), (1, 1), "updated in place");
    assert_eq!(fakes.whop_webhooks()[0]["url"], format!("{second_url}/webhooks/whop/{whop}"));
    assert_eq!(fakes.paddle_destinations()[0]["destination"], format!("{second_url}/webhooks/paddle/{paddle}"));

    // And the new way in works.
    let response = t.client.get(format!("{second_url}/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    t.stop().await;
    server.stop().await;
}

#[tokio::test]
#[file_serial(bore)]
async fn a_server_with_a_secret_needs_the_right_one_and_it_stays_sealed() {
    const SECRET: &str = "correct-horse-battery-staple";
    let server = BoreServer::start(any_port(), Some(SECRET)).await;
    let (t, _fakes) = app_with_fakes().await;

    choose_bore(&t, json!({"host": "127.0.0.1", "port": 0})).await;
    let error = wait_for("the missing secret to be reported", || async {
        let s = settings(&t).await;
        s["tunnel"]["error"].as_str().filter(|e| e.contains("secret")).map(str::to_string)
    })
    .await;
    assert!(error.contains("Enter the server's secret"), "{error}");

    choose_bore(&t, json!({"secret": "wrong-secret-value"})).await;
    let error = wait_for("the wrong secret to be reported", || async {
        let s = settings(&t).await;
        s["tunnel"]["error"].as_str().filter(|e| e.contains("invalid secret")).map(str::to_string)
    })
    .await;
    assert!(error.contains("must match the server's --secret"), "{error}");

    let s = choose_bore(&t, json!({"secret": SECRET, "public_url": "https://hooks.example.com"})).await;
    assert_eq!(s["tunnel"]["bore"]["secret_set"], true);
    // With a public URL set (the founder's TLS proxy in front of the bore port), that is the URL.
    let s = wait_tunnel(&t, "up", |_| true).await;
    assert_eq!(s["tunnel"]["url"], "https://hooks.example.com");
    assert!(!s.to_string().contains(SECRET));

    let dir = t.stop().await;
    for file in ["faurya.db", "faurya.db-wal"] {
        let bytes = std::fs::read(dir.path().join("data").join(file)).unwrap_or_default();
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "plain secret in {file}");
    }
    // The sealed secret opens again after a restart: the tunnel comes back up by itself.
    let t = TestApp::start_in(dir, quick_tunnel).await;
    wait_tunnel(&t, "up", |s| s["tunnel"]["url"] == "https://hooks.example.com").await;
    t.stop().await;
    server.stop().await;
}
