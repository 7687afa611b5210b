//! "Send test payment": through the real public listener (the public URL points at it), signed
//! with the connection's real secret, and through the fake providers' own senders (Whop's test
//! webhook, Paddle's simulator). Test payments are marked, never counted, and removable; each
//! failure names its step in plain words.

mod support;

use std::process::Command;

use faurya_fakes::{PaddleKey, WhopKey};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, app_with_fakes, error_code, iso_ago, post_whop};

const WHOP_KEY: &str = "whop_key_live_0123456789abcdef3f9a";
const COMPANY: &str = "biz_acme123";
const PADDLE_KEY: &str = "pdl_live_apikey_01hv8x0123456789abcdef";

/// The app and fakes, with the public URL pointing at the app's own public listener (as a
/// working tunnel would), and one connection of `provider`.
async fn connected(provider: &str) -> (TestApp, faurya_fakes::FakeProviders, String) {
    let (t, fakes) = app_with_fakes().await;
    let (status, body) = t.put("/settings", json!({"public_url": t.public})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = connect(&t, &fakes, provider).await;
    (t, fakes, id)
}

async fn connect(t: &TestApp, fakes: &faurya_fakes::FakeProviders, provider: &str) -> String {
    let (status, connection) = match provider {
        "whop" => {
            fakes.add_whop_key(WHOP_KEY, COMPANY, true);
            t.post(
                "/connections/whop",
                json!({"api_key": WHOP_KEY, "company_id": COMPANY, "environment": "production"}),
            )
            .await
        }
        _ => {
            fakes.add_paddle_key(PADDLE_KEY, true, true);
            t.post("/connections/paddle", json!({"api_key": PADDLE_KEY, "environment": "production"})).await
        }
    };
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    connection["id"].as_str().unwrap().to_string()
}

fn steps(run: &Value) -> Vec<(String, String)> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap().to_string(), s["state"].as_str().unwrap().to_string()))
        .collect()
}

fn all_ok(run: &Value) {
    assert_eq!(run["ok"], true, "{run:#}");
    assert_eq!(run["failed_step"], Value::Null, "{run:#}");
    assert!(steps(run).iter().all(|(_, state)| state == "ok"), "{run:#}");
    assert!(run["delivery_id"].as_str().unwrap().starts_with("d_"), "{run:#}");
    assert!(run["payment_id"].is_i64(), "{run:#}");
}

/// The payment is a test: listed with source "test", counted in no total.
async fn is_uncounted_test(t: &TestApp, payment: i64) {
    let (_, p) = t.get(&format!("/payments/{payment}")).await;
    assert_eq!(p["source"], "test", "{p}");
    assert_eq!(p["amount_minor"], 4900, "{p}");
    let (_, summary) = t.get("/revenue/summary").await;
    assert_eq!(summary["all_time"], json!([]), "test payments never count: {summary}");
    let (_, tests) = t.get("/payments?source=test").await;
    assert!(tests["payments"].as_array().unwrap().iter().any(|p| p["id"] == payment));
    let (_, real) = t.get("/payments?source=webhook").await;
    assert!(real["payments"].as_array().unwrap().iter().all(|p| p["id"] != payment));
}

#[tokio::test]
async fn a_whop_test_payment_goes_through_the_public_url_and_is_kept_out_of_revenue() {
    let (t, _fakes, id) = connected("whop").await;
    let (status, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    all_ok(&run);
    assert_eq!(run["via"], "faurya");
    assert_eq!(
        steps(&run).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["public_url", "sign", "send", "verify", "process"]
    );
    let payment = run["payment_id"].as_i64().unwrap();
    is_uncounted_test(&t, payment).await;
    assert!(
        run["message"].as_str().unwrap().contains("this proves the path from this computer only"),
        "a loopback public URL passes, with the caveat that providers cannot reach it: {run}"
    );

    // The delivery is a real, verified one in the inspector.
    let delivery = run["delivery_id"].as_str().unwrap();
    let (_, event) = t.get(&format!("/events/{delivery}")).await;
    assert_eq!(event["status"], "processed", "{event}");
    assert_eq!(event["verdict"], "verified");

    // The card shows the last run.
    let (_, connection) = t.get(&format!("/connections/{id}")).await;
    assert_eq!(connection["last_test"]["ok"], true, "{connection}");
    assert_eq!(connection["last_test"]["id"], run["id"]);

    // A real payment next to it counts, and cannot be removed; the test one can, with its delivery.
    let secret = _fakes.secrets().pop().unwrap();
    let real = json!({"id": "msg_real", "type": "payment.succeeded", "data": {
        "id": "pay_real1", "status": "paid", "total": 20.0, "currency": "usd", "paid_at": iso_ago(60),
        "created_at": iso_ago(60), "metadata": {}}});
    let url = format!("{}/webhooks/whop/{id}", t.public);
    assert_eq!(post_whop(&t.client, &url, &secret, "msg_real", real.to_string()).await.status(), StatusCode::OK);
    let (_, summary) = t.get("/revenue/summary").await;
    assert_eq!(summary["all_time"][0]["gross_minor"], 2000, "{summary}");
    let (_, list) = t.get("/payments?source=webhook").await;
    let real_id = list["payments"][0]["id"].as_i64().unwrap();
    let (status, body) = t.delete(&format!("/payments/{real_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "not_a_test");

    let (status, _) = t.delete(&format!("/payments/{payment}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = t.get(&format!("/payments/{payment}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t.get(&format!("/events/{delivery}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the test delivery goes with it");
    let (status, _) = t.delete(&format!("/payments/{payment}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, summary) = t.get("/revenue/summary").await;
    assert_eq!(summary["all_time"][0]["gross_minor"], 2000, "the real payment is untouched: {summary}");
    t.stop().await;
}

#[tokio::test]
async fn a_paddle_test_payment_goes_through_and_all_tests_can_be_removed_at_once() {
    let (t, _fakes, id) = connected("paddle").await;
    for _ in 0..2 {
        let (status, run) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": "faurya"})).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        all_ok(&run);
        is_uncounted_test(&t, run["payment_id"].as_i64().unwrap()).await;
    }
    let (status, body) = t.delete("/payments?source=webhook").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only tests go in bulk: {body}");
    let (status, body) = t.delete("/payments?source=test").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["removed"], 2);
    let (_, list) = t.get("/payments").await;
    assert_eq!(list["payments"], json!([]));
    t.stop().await;
}

#[tokio::test]
async fn whop_sends_a_test_from_its_own_servers_and_it_is_marked_a_test() {
    let (t, fakes, id) = connected("whop").await;
    let (status, run) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": "provider"})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    all_ok(&run);
    assert_eq!(
        steps(&run).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["public_url", "ask_provider", "send", "verify", "process"]
    );
    assert_eq!(fakes.count("POST", "/test"), 1);
    let payment = run["payment_id"].as_i64().unwrap();
    let (_, p) = t.get(&format!("/payments/{payment}")).await;
    assert_eq!(p["source"], "test", "Whop's sample payment is marked by the delivery Faurya's answer named: {p}");
    let (_, summary) = t.get("/revenue/summary").await;
    assert_eq!(summary["all_time"], json!([]));
    t.stop().await;
}

#[tokio::test]
async fn paddle_simulates_a_payment_from_its_own_servers() {
    let (t, fakes, id) = connected("paddle").await;
    let (status, run) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": "provider"})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    all_ok(&run);
    assert_eq!(fakes.count("POST", "/simulations"), 2, "create, then run");
    is_uncounted_test(&t, run["payment_id"].as_i64().unwrap()).await;
    t.stop().await;
}

#[tokio::test]
async fn missing_provider_permissions_are_named() {
    let (t, fakes) = app_with_fakes().await;
    t.put("/settings", json!({"public_url": t.public})).await;
    // Whop: the key may create webhooks (it did) but the test endpoint refuses it now.
    fakes.add_whop_key_with(WhopKey {
        key: WHOP_KEY.into(),
        company_id: COMPANY.into(),
        can_manage_webhooks: true,
        can_read_payments: true,
    });
    let (_, whop) = t
        .post("/connections/whop", json!({"api_key": WHOP_KEY, "company_id": COMPANY, "environment": "production"}))
        .await;
    fakes.fail(faurya_fakes::Failure::status("POST", "/test", 403).with_body(json!({
        "error": {"type": "forbidden", "message": "You are missing the developer:manage_webhook permission"}})));
    let (_, run) = t
        .post(&format!("/connections/{}/test-payment", whop["id"].as_str().unwrap()), json!({"via": "provider"}))
        .await;
    assert_eq!(run["ok"], false, "{run}");
    assert_eq!(run["failed_step"], "ask_provider");
    assert!(run["message"].as_str().unwrap().contains("developer:manage_webhook"), "{run}");

    // Paddle: a key without notification_simulation.write.
    fakes.add_paddle_key_with(PaddleKey {
        key: PADDLE_KEY.into(),
        can_read: true,
        can_write: true,
        can_read_transactions: true,
        can_simulate: false,
    });
    let (_, paddle) = t.post("/connections/paddle", json!({"api_key": PADDLE_KEY, "environment": "production"})).await;
    let id = paddle["id"].as_str().unwrap();
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": "provider"})).await;
    assert_eq!(run["ok"], false, "{run}");
    assert_eq!(run["failed_step"], "ask_provider");
    assert!(run["message"].as_str().unwrap().contains("notification_simulation.write"), "{run}");
    // Faurya's own test still works with that key.
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    all_ok(&run);
    t.stop().await;
}

#[tokio::test]
async fn an_unreachable_tunnel_is_named() {
    let (t, fakes) = app_with_fakes().await;
    // A public URL nothing listens on: connect first (the fake does not call it), then test.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    t.put("/settings", json!({"public_url": dead})).await;
    let id = connect(&t, &fakes, "whop").await;
    let (status, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["ok"], false);
    assert_eq!(run["failed_step"], "send", "{run:#}");
    let message = run["message"].as_str().unwrap();
    assert!(message.contains("tunnel is unreachable"), "{message}");
    assert_eq!(steps(&run)[3].1, "skipped", "nothing after the failed step ran: {run:#}");
    let (_, connection) = t.get(&format!("/connections/{id}")).await;
    assert_eq!(connection["last_test"]["failed_step"], "send");
    let (_, list) = t.get("/payments").await;
    assert_eq!(list["payments"], json!([]), "nothing was recorded");
    t.stop().await;
}

/// A tiny server standing in for whatever else answers at a public URL.
async fn answering(status: u16, content_type: &'static str, body: &'static str) -> String {
    use axum::http::StatusCode as S;
    let app = axum::Router::new()
        .fallback(move || async move { (S::from_u16(status).unwrap(), [("content-type", content_type)], body) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_url_that_is_not_faurya_and_a_rejected_signature_are_told_apart() {
    let (t, fakes) = app_with_fakes().await;
    let other = answering(502, "text/html", "<html>Bad gateway</html>").await;
    t.put("/settings", json!({"public_url": other})).await;
    let id = connect(&t, &fakes, "paddle").await;
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    assert_eq!(run["failed_step"], "send", "{run:#}");
    assert!(run["message"].as_str().unwrap().contains("not as Faurya"), "{run}");

    let refusing = answering(
        401,
        "application/json",
        r#"{"error":{"code":"bad_signature","message":"No h1 signature in Paddle-Signature matches the body."}}"#,
    )
    .await;
    t.put("/settings", json!({"public_url": refusing})).await;
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    assert_eq!(run["failed_step"], "verify", "{run:#}");
    assert!(run["message"].as_str().unwrap().starts_with("Signature rejected"), "{run}");

    // Another Faurya (or an old one) on the URL does not know this connection.
    let other_app = TestApp::start().await;
    t.put("/settings", json!({"public_url": other_app.public})).await;
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    assert_eq!(run["failed_step"], "verify", "{run:#}");
    assert!(run["message"].as_str().unwrap().contains("does not know this connection"), "{run}");
    other_app.stop().await;
    t.stop().await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let (t, _fakes, id) = connected("whop").await;
    let (status, body) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": "carrier-pigeon"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["fields"]["via"].is_string(), "{body}");
    let (status, _) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": 7})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = t.post(&format!("/connections/{id}/test-payment"), json!({"via": "faurya", "extra": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown field is refused, not ignored: {body}");
    let (status, body) = t.post("/connections/con_nope/test-payment", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let response = t
        .client
        .post(t.api(&format!("/connections/{id}/test-payment")))
        .bearer_auth(support::TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, body) = t.get("/payments?source=gift").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = t.delete("/payments/notanumber").await;
    assert!(status.is_client_error());
    t.stop().await;
}

#[tokio::test]
async fn the_cli_runs_a_test_payment_against_the_running_app() {
    let (t, _fakes, id) = connected("whop").await;
    let data_dir = t.data_dir();
    let run = |connection: String, via: &'static str| {
        let data_dir = data_dir.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_faurya"))
                .args(["test-payment", "--connection", &connection, "--via", via, "--data-dir"])
                .arg(&data_dir)
                .env("FAURYA_ADMIN_TOKEN", support::TOKEN)
                .env_remove("FAURYA_ADMIN_ADDR")
                .output()
                .unwrap()
        })
    };
    let out = run(id.clone(), "faurya").await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("[ok  ] Signed with this connection's secret"), "{stdout}");
    assert!(stdout.contains("marked as a test"), "{stdout}");

    let out = run("con_missing".into(), "faurya").await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such connection"), "{out:?}");
    t.stop().await;
}

#[tokio::test]
async fn an_answer_naming_a_real_delivery_cannot_turn_it_into_a_test() {
    let (t, fakes, id) = connected("whop").await;
    // A real payment, delivered before the run.
    let secret = fakes.secrets().pop().unwrap();
    // It even carries the flag Faurya's own test payloads carry: metadata a buyer can fill in.
    let real = json!({"id": "msg_real", "type": "payment.succeeded", "data": {
        "id": "pay_real9", "status": "paid", "total": 30.0, "currency": "usd", "paid_at": iso_ago(60),
        "created_at": iso_ago(60), "metadata": {"faurya_test": true}}});
    let response =
        post_whop(&t.client, &format!("{}/webhooks/whop/{id}", t.public), &secret, "msg_real", real.to_string()).await;
    let receipt: Value = response.json().await.unwrap();
    let (_, list) = t.get("/payments").await;
    assert_eq!(list["payments"][0]["source"], "webhook", "metadata cannot make a payment a test: {list}");
    // Whatever answers at the public URL now names that delivery as the test's.
    let body: &'static str = Box::leak(
        json!({"ok": true, "id": receipt["id"], "status": "processed", "duplicate": false})
            .to_string()
            .into_boxed_str(),
    );
    let liar = answering(200, "application/json", body).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    t.put("/settings", json!({"public_url": liar})).await;
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    assert_eq!(run["ok"], false, "{run:#}");
    assert_eq!(run["failed_step"], "process");
    let (_, summary) = t.get("/revenue/summary").await;
    assert_eq!(summary["all_time"][0]["gross_minor"], 3000, "the real payment still counts: {summary}");
    let (_, list) = t.get("/payments?source=test").await;
    assert_eq!(list["payments"], json!([]));
    t.stop().await;
}
