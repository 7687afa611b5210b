//! Forwarding to the founder's own handler: exact bytes and the provider's signature headers,
//! after storing; retries with back-off; "Forward again" to the same or another target; a slow
//! or dead target never holds up the provider's 200.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, app_with_fakes, error_code, iso_ago, post_whop};

const KEY: &str = "whop_key_live_0123456789abcdef3f9a";
const COMPANY: &str = "biz_acme123";

#[derive(Clone, Default)]
struct Target {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Statuses to answer in turn; the last one repeats.
    script: Arc<Mutex<Vec<u16>>>,
    delay: Arc<Mutex<Duration>>,
}

impl Target {
    async fn start(script: Vec<u16>) -> (Self, String) {
        let target = Target { script: Arc::new(Mutex::new(script)), ..Default::default() };
        let state = target.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let delay = *state.delay.lock().unwrap();
                tokio::time::sleep(delay).await;
                state.received.lock().unwrap().push((headers, body));
                let status = {
                    let mut script = state.script.lock().unwrap();
                    if script.len() > 1 { script.remove(0) } else { script[0] }
                };
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    format!("handler said {status} {}", "x".repeat(3000)),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (target, format!("http://{addr}/api/webhooks/whop"))
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

async fn whop_app() -> (TestApp, faurya_fakes::FakeProviders, String, String) {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let (status, connection) =
        t.post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let secret = fakes.secrets().pop().unwrap();
    (t, fakes, connection["id"].as_str().unwrap().to_string(), secret)
}

fn payment(id: &str) -> String {
    json!({"id": format!("msg_{id}"), "type": "payment.succeeded", "data": {
        "id": id, "status": "paid", "total": 12.5, "currency": "usd", "paid_at": iso_ago(30),
        "created_at": iso_ago(30), "metadata": {"faurya_visitor_id": "v_forward1"}}})
    .to_string()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool, within: Duration) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn event(t: &TestApp, id: &str) -> Value {
    let (status, body) = t.get(&format!("/events/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_verified_delivery_reaches_the_handler_byte_exact_with_its_signature() {
    let (t, _fakes, id, secret) = whop_app().await;
    let (target, url) = Target::start(vec![200]).await;
    let (status, connection) = t.patch(&format!("/connections/{id}"), json!({"forward_url": url})).await;
    assert_eq!(status, StatusCode::OK, "{connection}");
    assert_eq!(connection["forward_url"], url);

    let body = payment("pay_fwd1");
    let response =
        post_whop(&t.client, &format!("{}/webhooks/whop/{id}", t.public), &secret, "msg_fwd1", body.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let receipt: Value = response.json().await.unwrap();
    wait_for("the forward", || target.count() == 1, Duration::from_secs(10)).await;

    let (headers, forwarded) = target.received.lock().unwrap()[0].clone();
    assert_eq!(forwarded.as_ref(), body.as_bytes(), "the exact bytes");
    assert_eq!(headers["webhook-id"], "msg_fwd1");
    // The founder's own verification passes: the signature still matches the body.
    let ts: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    let sig = headers["webhook-signature"].to_str().unwrap();
    assert_eq!(sig, faurya::providers::whop::signature::sign(&secret, "msg_fwd1", ts, body.as_bytes()));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-faurya-delivery"], receipt["id"].as_str().unwrap(), "Faurya's id, outside the signature");
    assert!(headers.get("x-faurya-test-payment").is_none(), "a real payment is not marked a test");

    let delivery = receipt["id"].as_str().unwrap();
    let mut detail = event(&t, delivery).await;
    for _ in 0..100 {
        if detail["forward_state"]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        detail = event(&t, delivery).await;
    }
    assert_eq!(detail["forward_state"], json!({"state": "delivered", "status_code": 200, "attempts": 1}), "{detail:#}");
    let attempt = &detail["forwards"][0];
    assert_eq!(attempt["status_code"], 200);
    assert_eq!(attempt["manual"], false);
    assert_eq!(attempt["url"], url);
    assert_eq!(attempt["response_truncated"], true, "answers are cut at 2 KiB");
    assert!(attempt["response_body"].as_str().unwrap().starts_with("handler said 200"));
    assert!(attempt["response_body"].as_str().unwrap().len() <= 2048);
    assert!(attempt["duration_ms"].is_i64());
    assert_eq!(detail["forwardable"], true);
    let (_, list) = t.get("/events").await;
    assert_eq!(list["events"][0]["forward"]["state"], "delivered", "{list}");
    t.stop().await;
}

#[tokio::test]
async fn a_failing_handler_is_retried_with_back_off_and_can_be_replayed_by_hand() {
    let (t, _fakes, id, secret) = whop_app().await;
    let (target, url) = Target::start(vec![500, 200]).await;
    t.patch(&format!("/connections/{id}"), json!({"forward_url": url})).await;
    let response =
        post_whop(&t.client, &format!("{}/webhooks/whop/{id}", t.public), &secret, "msg_fwd2", payment("pay_fwd2"))
            .await;
    let delivery = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    wait_for("the first attempt", || target.count() == 1, Duration::from_secs(10)).await;
    let mut detail = event(&t, &delivery).await;
    for _ in 0..100 {
        if detail["forward_state"]["state"] == "retrying" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        detail = event(&t, &delivery).await;
    }
    assert_eq!(detail["forward_state"]["state"], "retrying", "{detail:#}");
    assert_eq!(detail["forward_state"]["status_code"], 500);
    let next: jiff::Timestamp = detail["next_retry_at"].as_str().unwrap().parse().unwrap();
    let wait = next.as_millisecond() - jiff::Timestamp::now().as_millisecond();
    assert!((5_000..=11_000).contains(&wait), "the first retry comes about 10 s later: {wait} ms");

    // By hand, at once, to another target: recorded as a manual attempt, the queue untouched.
    let (other, other_url) = Target::start(vec![202]).await;
    let (status, attempt) = t.post(&format!("/events/{delivery}/forward"), json!({"url": other_url})).await;
    assert_eq!(status, StatusCode::OK, "{attempt}");
    assert_eq!(attempt["ok"], true);
    assert_eq!(attempt["manual"], true);
    assert_eq!(attempt["status_code"], 202);
    assert_eq!(other.count(), 1);

    // The automatic retry comes on its own and succeeds.
    wait_for("the retry", || target.count() == 2, Duration::from_secs(15)).await;
    for _ in 0..100 {
        detail = event(&t, &delivery).await;
        if detail["forward_state"]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(detail["forward_state"]["state"], "delivered", "{detail:#}");
    assert_eq!(detail["forwards"].as_array().unwrap().len(), 3, "two automatic attempts and one by hand");
    assert_eq!(detail["next_retry_at"], Value::Null);
    t.stop().await;
}

#[tokio::test]
async fn a_slow_or_dead_handler_never_delays_the_providers_200() {
    let (t, _fakes, id, secret) = whop_app().await;
    let (slow, url) = Target::start(vec![200]).await;
    *slow.delay.lock().unwrap() = Duration::from_secs(8);
    t.patch(&format!("/connections/{id}"), json!({"forward_url": url})).await;
    let hook = format!("{}/webhooks/whop/{id}", t.public);
    for n in 0..5 {
        let started = Instant::now();
        let response =
            post_whop(&t.client, &hook, &secret, &format!("msg_slow{n}"), payment(&format!("pay_slow{n}"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(2), "answered in {:?}", started.elapsed());
    }

    // A redirect is the target's answer, not followed elsewhere.
    let redirect = axum::Router::new().fallback(|| async {
        (axum::http::StatusCode::FOUND, [("location", "http://169.254.169.254/latest/meta-data")], "moved")
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirect).await.unwrap() });
    let response = post_whop(&t.client, &hook, &secret, "msg_redirect", payment("pay_redirect")).await;
    let redirected = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (status, attempt) = t.post(&format!("/events/{redirected}/forward"), json!({"url": redirecting})).await;
    assert_eq!(status, StatusCode::OK, "{attempt}");
    assert_eq!(attempt["status_code"], 302, "the redirect is reported, not followed: {attempt}");
    assert_eq!(attempt["ok"], false);

    // A target nothing listens on: the error is recorded in words, and "Forward again" says so too.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    t.patch(&format!("/connections/{id}"), json!({"forward_url": dead})).await;
    let response = post_whop(&t.client, &hook, &secret, "msg_dead", payment("pay_dead")).await;
    let delivery = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (status, attempt) = t.post(&format!("/events/{delivery}/forward"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{attempt}");
    assert_eq!(attempt["ok"], false);
    assert_eq!(attempt["status_code"], Value::Null);
    assert!(attempt["error"].as_str().unwrap().to_lowercase().contains("refused"), "{attempt}");
    t.stop().await;
}

#[tokio::test]
async fn only_provider_deliveries_are_forwarded_and_targets_are_checked() {
    let (t, fakes, id, secret) = whop_app().await;
    let hook = format!("{}/webhooks/whop/{id}", t.public);
    // Before a target is set: nothing is queued, and "Forward again" needs a URL.
    let response = post_whop(&t.client, &hook, &secret, "msg_before", payment("pay_before")).await;
    let before = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (status, body) = t.post(&format!("/events/{before}/forward"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "no_target");

    for (bad, why) in [
        ("ftp://localhost/x", "scheme"),
        ("http://user:pw@localhost:3000/x", "credentials"),
        ("http://localhost:3000/x#frag", "fragment"),
        ("not a url", "parse"),
        ("http://", "host"),
    ] {
        let (status, body) = t.patch(&format!("/connections/{id}"), json!({"forward_url": bad})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {body}");
        assert!(body["error"]["fields"]["forward_url"].is_string(), "{body}");
        let (status, body) = t.post(&format!("/events/{before}/forward"), json!({"url": bad})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {body}");
    }
    let long = format!("http://localhost/{}", "a".repeat(3000));
    let (status, _) = t.patch(&format!("/connections/{id}"), json!({"forward_url": long})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = t.patch(&format!("/connections/{id}"), json!({"forward_url": 42})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = t.patch("/connections/con_nope", json!({"forward_url": "http://localhost:3000/x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (target, url) = Target::start(vec![200]).await;
    t.patch(&format!("/connections/{id}"), json!({"forward_url": url})).await;

    // A rejected attempt (bad signature) and a backfilled payment are not forwarded.
    let forged = t
        .client
        .post(&hook)
        .header("webhook-id", "msg_forged")
        .header("webhook-timestamp", support::unix_now().to_string())
        .header("webhook-signature", "v1,AAAA")
        .body(payment("pay_forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let (_, rejected) = t.get("/events?status=rejected").await;
    let rejected_id = rejected["events"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = t.post(&format!("/events/{rejected_id}/forward"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "not_forwardable");

    fakes.seed_whop_payment(
        COMPANY,
        json!({"id": "pay_backfilled", "status": "paid", "substatus": "succeeded", "total": 5.0, "currency": "usd",
               "created_at": iso_ago(600), "paid_at": iso_ago(600), "metadata": {}}),
    );
    let (_, check) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(check["recovered_last"], 1, "{check}");
    let (_, events) = t.get("/events?q=pay_backfilled").await;
    let backfilled = events["events"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = t.post(&format!("/events/{backfilled}/forward"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(event(&t, &backfilled).await["forwardable"], false);

    // A delivery after the target was set is forwarded; the ones before it never are.
    post_whop(&t.client, &hook, &secret, "msg_after", payment("pay_after")).await;
    wait_for("the forward", || target.count() == 1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(target.count(), 1, "only the delivery after the target was set");
    assert_eq!(target.received.lock().unwrap()[0].0["webhook-id"], "msg_after");
    assert_eq!(event(&t, &before).await["forward_state"], Value::Null);

    // Stop forwarding.
    let (status, connection) = t.patch(&format!("/connections/{id}"), json!({"forward_url": null})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(connection["forward_url"], Value::Null);
    post_whop(&t.client, &hook, &secret, "msg_stopped", payment("pay_stopped")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(target.count(), 1);
    t.stop().await;
}

#[tokio::test]
async fn queued_forwards_survive_a_restart() {
    let (t, _fakes, id, secret) = whop_app().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    t.patch(&format!("/connections/{id}"), json!({"forward_url": format!("http://{addr}/hook")})).await;
    let hook = format!("{}/webhooks/whop/{id}", t.public);
    let response = post_whop(&t.client, &hook, &secret, "msg_restart", payment("pay_restart")).await;
    let delivery = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let mut detail = event(&t, &delivery).await;
    for _ in 0..200 {
        if detail["forward_state"]["state"] == "retrying" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        detail = event(&t, &delivery).await;
    }
    assert_eq!(detail["forward_state"]["state"], "retrying", "{detail:#}");
    let dir = t.stop().await;

    // The handler comes up on that address; after the restart the queued retry reaches it.
    let received = Arc::new(Mutex::new(0));
    let counter = received.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            *counter.lock().unwrap() += 1;
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = TestApp::start_in(dir, support::quick_providers).await;
    wait_for("the retry after restart", || *received.lock().unwrap() == 1, Duration::from_secs(20)).await;
    t.stop().await;
}

#[tokio::test]
async fn deliveries_after_removed_test_payments_are_still_forwarded() {
    // Removing test payments deletes the newest deliveries, so SQLite hands their ids out again.
    let (t, _fakes, id, secret) = whop_app().await;
    t.put("/settings", json!({"public_url": t.public})).await;
    let (target, url) = Target::start(vec![200]).await;
    t.patch(&format!("/connections/{id}"), json!({"forward_url": url})).await;
    for _ in 0..2 {
        let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
        assert_eq!(run["ok"], true, "{run}");
    }
    wait_for("the test deliveries' forwards", || target.count() == 2, Duration::from_secs(10)).await;
    for (headers, _) in target.received.lock().unwrap().iter() {
        assert_eq!(headers["x-faurya-test-payment"], "true", "the handler is told it is a test");
    }
    let (status, removed) = t.delete("/payments?source=test").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed["removed"], 2);
    let hook = format!("{}/webhooks/whop/{id}", t.public);
    post_whop(&t.client, &hook, &secret, "msg_after_removal", payment("pay_after_removal")).await;
    wait_for("the forward after the removal", || target.count() == 3, Duration::from_secs(10)).await;
    t.stop().await;
}

#[tokio::test]
async fn stopping_or_changing_the_target_takes_the_queued_retries_with_it() {
    let (t, _fakes, id, secret) = whop_app().await;
    let (failing, url) = Target::start(vec![503]).await;
    t.patch(&format!("/connections/{id}"), json!({"forward_url": url})).await;
    let hook = format!("{}/webhooks/whop/{id}", t.public);
    let response = post_whop(&t.client, &hook, &secret, "msg_stop", payment("pay_stop")).await;
    let delivery = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    wait_for("the first attempt", || failing.count() == 1, Duration::from_secs(10)).await;
    let mut detail = event(&t, &delivery).await;
    for _ in 0..100 {
        if detail["next_retry_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        detail = event(&t, &delivery).await;
    }
    assert!(detail["next_retry_at"].is_string(), "{detail:#}");

    // A new target: the queued retry will go there, not to the old one.
    let (_, new_url) = Target::start(vec![200]).await;
    t.patch(&format!("/connections/{id}"), json!({"forward_url": new_url})).await;
    let detail = event(&t, &delivery).await;
    let queued = detail["forwards"].as_array().unwrap().iter().find(|a| a["sent"] == false).unwrap().clone();
    assert_eq!(queued["url"], new_url, "{detail:#}");

    // Stopped: the queued retry is cancelled, and says why.
    t.patch(&format!("/connections/{id}"), json!({"forward_url": null})).await;
    let detail = event(&t, &delivery).await;
    assert_eq!(detail["forward_state"]["state"], "failed", "{detail:#}");
    assert_eq!(detail["next_retry_at"], Value::Null);
    assert!(detail["forwards"][0]["error"].as_str().unwrap().contains("forwarding was stopped"), "{detail:#}");
    t.stop().await;
}
