//! Whop deliveries through the public listener: verification, storage, dedupe, payments,
//! refunds and attribution; and the inspector API that shows them.

mod support;

use faurya::providers::whop::signature::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, app_with_fakes, error_code, iso_ago, split};

const KEY: &str = "whop_key_live_0123456789abcdef3f9a";
const COMPANY: &str = "biz_acme123";

/// A connected Whop account and what is needed to sign deliveries to it.
struct Whop {
    t: TestApp,
    _fakes: faurya_fakes::FakeProviders,
    id: String,
    secret: String,
}

impl Whop {
    async fn connect() -> Self {
        let (t, fakes) = app_with_fakes().await;
        fakes.add_whop_key(KEY, COMPANY, true);
        let (status, connection) = t
            .post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{connection}");
        let secret = fakes.secrets().pop().unwrap();
        Self { id: connection["id"].as_str().unwrap().to_string(), secret, t, _fakes: fakes }
    }

    fn url(&self) -> String {
        format!("{}/webhooks/whop/{}", self.t.public, self.id)
    }

    /// POSTs `body` signed now with a fresh webhook id (or the given one).
    async fn deliver(&self, msg_id: &str, body: &str) -> (StatusCode, Value) {
        self.deliver_at(msg_id, body, now()).await
    }

    async fn deliver_at(&self, msg_id: &str, body: &str, timestamp: i64) -> (StatusCode, Value) {
        let signature = sign(&self.secret, msg_id, timestamp, body.as_bytes());
        let response = self
            .t
            .client
            .post(self.url())
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        split(response).await
    }

    async fn payments(&self) -> Vec<Value> {
        let (status, body) = self.t.get("/payments").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["payments"].as_array().unwrap().clone()
    }

    async fn event(&self, id: &str) -> Value {
        let (status, body) = self.t.get(&format!("/events/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn payment(pay_id: &str, total: &str, currency: &str, metadata: Value) -> String {
    // Built as text so amounts keep their exact spelling (10.43, 1e2, ...). Times are relative
    // to now: the summary's window is "the last N days".
    let (timestamp, paid_at) = (iso_ago(60), iso_ago(120));
    format!(
        r#"{{"id":"msg_body_{pay_id}","api_version":"v1","type":"payment.succeeded","timestamp":"{timestamp}",
"company_id":"{COMPANY}","data":{{"id":"{pay_id}","status":"paid","currency":"{currency}","total":{total},
"subtotal":{total},"metadata":{metadata},"plan":{{"id":"plan_1","metadata":{{}}}},
"user":{{"id":"user_1","email":"buyer@example.com","name":"Buyer","username":"buyer"}},
"paid_at":"{paid_at}"}}}}"#
    )
}

fn refund(refund_id: &str, pay_id: &str, amount: &str, status: &str) -> String {
    let timestamp = iso_ago(30);
    format!(
        r#"{{"id":"msg_body_{refund_id}_{status}","api_version":"v1","type":"refund.created","timestamp":"{timestamp}",
"data":{{"id":"{refund_id}","amount":{amount},"currency":"usd","status":"{status}","payment":{{"id":"{pay_id}","metadata":{{}}}}}}}}"#
    )
}

fn attribution() -> Value {
    json!({"faurya_visitor_id": "v_123", "faurya_session_id": "s_456"})
}

#[tokio::test]
async fn a_verified_payment_is_stored_byte_exact_and_attributed() {
    let w = Whop::connect().await;
    let body = payment("pay_1", "10.43", "usd", attribution());
    let (status, receipt) = w.deliver("msg_1", &body).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["status"], "processed");
    assert_eq!(receipt["duplicate"], false);

    let payments = w.payments().await;
    assert_eq!(payments.len(), 1);
    let p = &payments[0];
    assert_eq!(p["provider"], "whop");
    assert_eq!(p["provider_payment_id"], "pay_1");
    assert_eq!(p["amount_minor"], 1043);
    assert_eq!(p["currency"], "USD");
    assert_eq!(p["visitor_id"], "v_123");
    assert_eq!(p["session_id"], "s_456");
    assert_eq!(p["attributed"], true);
    assert_eq!(p["refunded_minor"], 0);
    assert_eq!(p["net_minor"], 1043);
    assert_eq!(p["customer_email"], "buyer@example.com");

    let id = receipt["id"].as_str().unwrap();
    let event = w.event(id).await;
    assert_eq!(event["verdict"], "verified");
    assert_eq!(event["status"], "processed");
    assert_eq!(event["event_type"], "payment.succeeded");
    assert_eq!(event["delivery_id"], "msg_1");
    assert_eq!(event["body_text"], body, "the raw body, byte for byte");
    assert_eq!(event["amount_minor"], 1043);
    assert_eq!(event["payment"]["provider_payment_id"], "pay_1");
    let headers: Vec<(String, String)> = serde_json::from_value(event["headers"].clone()).unwrap();
    assert!(headers.iter().any(|(k, v)| k == "webhook-id" && v == "msg_1"));
    assert!(headers.iter().any(|(k, _)| k == "webhook-signature"));

    let raw = w.t.client.get(w.t.api(&format!("/events/{id}/raw"))).bearer_auth(support::TOKEN).send().await.unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(raw.bytes().await.unwrap().as_ref(), body.as_bytes());
    w.t.stop().await;
}

#[tokio::test]
async fn attribution_comes_from_metadata_then_plan_metadata_else_unattributed() {
    let w = Whop::connect().await;
    w.deliver("msg_a", &payment("pay_a", "5", "usd", json!({"faVisitorId": "v_camel", "faSessionId": "s_camel"})))
        .await;
    let plan_only = payment("pay_b", "5", "usd", json!({})).replace(
        r#""plan":{"id":"plan_1","metadata":{}}"#,
        r#""plan":{"id":"plan_1","metadata":{"faurya_visitor_id":"v_plan","faurya_session_id":"s_plan"}}"#,
    );
    w.deliver("msg_b", &plan_only).await;
    w.deliver("msg_c", &payment("pay_c", "5", "usd", json!({"faurya_visitor_id": ""}))).await;
    let by_id =
        |id: &str, payments: &[Value]| payments.iter().find(|p| p["provider_payment_id"] == id).unwrap().clone();
    let payments = w.payments().await;
    assert_eq!(by_id("pay_a", &payments)["visitor_id"], "v_camel");
    assert_eq!(by_id("pay_b", &payments)["visitor_id"], "v_plan");
    assert_eq!(by_id("pay_b", &payments)["session_id"], "s_plan");
    let c = by_id("pay_c", &payments);
    assert_eq!(c["visitor_id"], Value::Null);
    assert_eq!(c["attributed"], false);
    w.t.stop().await;
}

#[tokio::test]
async fn amounts_use_the_currency_exponent_and_never_round() {
    let w = Whop::connect().await;
    for (pay, total, currency, expected) in [
        ("pay_jpy", "3000", "jpy", json!(3000)),
        ("pay_kwd", "1.25", "kwd", json!(1250)),
        ("pay_exp", "1e2", "usd", json!(10000)),
        ("pay_tenth", "0.1", "usd", json!(10)),
        ("pay_zeros", "10.430", "usd", json!(1043)),
    ] {
        let (status, receipt) = w.deliver(&format!("msg_{pay}"), &payment(pay, total, currency, json!({}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(receipt["status"], "processed", "{pay}: {receipt}");
        let p = w.payments().await.into_iter().find(|p| p["provider_payment_id"] == pay).unwrap();
        assert_eq!(p["amount_minor"], expected, "{pay}");
        assert_eq!(p["currency"], currency.to_uppercase());
    }
    // Too precise for USD: stored, answered 200 (Whop must not retry it forever), marked failed.
    let (status, receipt) = w.deliver("msg_precise", &payment("pay_precise", "19.999", "usd", json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt["status"], "failed");
    let event = w.event(receipt["id"].as_str().unwrap()).await;
    let error = event["error"].as_str().unwrap();
    assert!(error.contains("19.999") && error.contains("USD"), "{error}");
    assert!(w.payments().await.iter().all(|p| p["provider_payment_id"] != "pay_precise"));
    w.t.stop().await;
}

#[tokio::test]
async fn a_repeated_delivery_is_200_duplicate_and_not_counted_twice() {
    let w = Whop::connect().await;
    let body = payment("pay_1", "25", "usd", attribution());
    let (_, first) = w.deliver("msg_1", &body).await;
    let (status, second) = w.deliver("msg_1", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["status"], "duplicate");
    assert_eq!(w.payments().await.len(), 1);
    let repeat = w.event(second["id"].as_str().unwrap()).await;
    assert_eq!(repeat["duplicate_of"], first["id"]);
    w.t.stop().await;
}

#[tokio::test]
async fn the_same_payment_through_two_deliveries_is_one_payment() {
    let w = Whop::connect().await;
    let body = payment("pay_1", "25", "usd", attribution());
    let (_, a) = w.deliver("msg_first", &body).await;
    let (status, b) = w.deliver("msg_second", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["status"], "processed");
    assert_eq!(b["status"], "duplicate", "same payment id, nothing new: {b}");
    assert_eq!(b["duplicate"], false, "a different delivery id");
    let payments = w.payments().await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["amount_minor"], 2500);
    let note = w.event(b["id"].as_str().unwrap()).await["note"].as_str().unwrap().to_string();
    assert!(note.contains("already recorded"), "{note}");
    w.t.stop().await;
}

#[tokio::test]
async fn fifty_identical_deliveries_at_once_make_one_payment() {
    let w = Whop::connect().await;
    let body = payment("pay_rush", "99", "usd", attribution());
    let mut tasks = Vec::new();
    let w = std::sync::Arc::new(w);
    for _ in 0..50 {
        let (w, body) = (w.clone(), body.clone());
        tasks.push(tokio::spawn(async move { w.deliver("msg_rush", &body).await }));
    }
    let mut statuses = std::collections::HashMap::new();
    for task in tasks {
        let (status, receipt) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{receipt}");
        *statuses.entry(receipt["status"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    // The original is processed in its own transaction or, in a burst like this one, stored and
    // processed right after in the background ("received").
    let originals = statuses.get("processed").unwrap_or(&0) + statuses.get("received").unwrap_or(&0);
    assert_eq!(originals, 1, "{statuses:?}");
    assert_eq!(statuses.get("duplicate"), Some(&49), "{statuses:?}");
    let mut waited = 0;
    loop {
        let (_, processed) = w.t.get("/events?status=processed").await;
        if processed["events"].as_array().unwrap().len() == 1 {
            break;
        }
        waited += 1;
        assert!(waited < 100, "the original was never processed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(w.payments().await.len(), 1);
}

/// A burst is acknowledged once stored and processed right after in the background: every
/// delivery ends up processed, searchable, and counted once.
#[tokio::test]
async fn a_burst_is_stored_first_and_processed_in_the_background() {
    let w = std::sync::Arc::new(Whop::connect().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let body = payment(&format!("pay_burst{i}"), "5", "usd", json!({}));
            w.deliver(&format!("msg_burst{i}"), &body).await
        }));
    }
    let mut statuses = std::collections::HashMap::new();
    for task in tasks {
        let (status, receipt) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{receipt}");
        *statuses.entry(receipt["status"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    assert!(statuses.contains_key("received"), "40 at once should not all be processed inline: {statuses:?}");
    let mut waited = 0;
    while w.payments().await.len() < 40 {
        waited += 1;
        assert!(waited < 200, "not every delivery was processed: {statuses:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, left) = w.t.get("/events?status=received").await;
    assert!(left["events"].as_array().unwrap().is_empty(), "{left}");
    let (_, found) = w.t.get("/events?q=pay_burst17").await;
    assert_eq!(found["events"].as_array().unwrap().len(), 1, "processed deliveries are searchable");
    assert_eq!(w.payments().await.len(), 40);
}

#[tokio::test]
async fn failed_and_pending_payments_are_kept_without_revenue() {
    let w = Whop::connect().await;
    for (msg, kind) in [("msg_f", "payment.failed"), ("msg_p", "payment.pending")] {
        let body = payment("pay_x", "10", "usd", json!({})).replace("payment.succeeded", kind);
        let (status, receipt) = w.deliver(msg, &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(receipt["status"], "ignored", "{kind}");
    }
    assert!(w.payments().await.is_empty());
    let (status, receipt) =
        w.deliver("msg_u", r#"{"id":"msg_u","type":"membership.activated","data":{"id":"mem_1"}}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt["status"], "ignored");
    w.t.stop().await;
}

#[tokio::test]
async fn refunds_reduce_net_revenue_once_succeeded_whatever_the_order() {
    let w = Whop::connect().await;
    // A refund that arrives before its payment.
    let (_, early) = w.deliver("msg_r1", &refund("rfnd_1", "pay_1", "3", "succeeded")).await;
    assert_eq!(early["status"], "processed");
    w.deliver("msg_p1", &payment("pay_1", "10", "usd", json!({}))).await;
    let p = w.payments().await.pop().unwrap();
    assert_eq!(p["refunded_minor"], 300);
    assert_eq!(p["net_minor"], 700);

    // A pending refund does not count until it succeeds; the update is idempotent by refund id.
    w.deliver("msg_r2", &refund("rfnd_2", "pay_1", "2.50", "pending")).await;
    assert_eq!(w.payments().await[0]["refunded_minor"], 300);
    let updated = refund("rfnd_2", "pay_1", "2.50", "succeeded").replace("refund.created", "refund.updated");
    let (_, r) = w.deliver("msg_r3", &updated).await;
    assert_eq!(r["status"], "processed");
    let p = w.payments().await.pop().unwrap();
    assert_eq!(p["refunded_minor"], 550);
    assert_eq!(p["net_minor"], 450);
    assert_eq!(p["refunds"].as_array().unwrap().len(), 2);
    // The same succeeded refund again, through another delivery: counted once.
    let (_, again) = w.deliver("msg_r4", &updated).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(w.payments().await[0]["refunded_minor"], 550);
    w.t.stop().await;
}

#[tokio::test]
async fn a_non_json_body_with_a_valid_signature_is_kept_as_failed() {
    let w = Whop::connect().await;
    let (status, receipt) = w.deliver("msg_garbage", "this is not json {").await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["status"], "failed");
    let event = w.event(receipt["id"].as_str().unwrap()).await;
    assert!(event["error"].as_str().unwrap().contains("not JSON"), "{event}");
    assert_eq!(event["body_text"], "this is not json {");
    w.t.stop().await;
}

async fn rejected(w: &Whop) -> Vec<Value> {
    let (_, list) = w.t.get("/events?status=rejected").await;
    list["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn bad_signatures_are_401_and_logged_with_the_reason() {
    let w = Whop::connect().await;
    let body = payment("pay_1", "10", "usd", json!({}));
    let ts = now();
    let good = sign(&w.secret, "msg_1", ts, body.as_bytes());
    // (headers, body, expected status, expected error code)
    type Case<'a> = (Vec<(&'a str, String)>, String, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        // tampered body
        (
            vec![
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", good.clone()),
            ],
            body.replace("10", "99"),
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        // another secret
        (
            vec![
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", sign("ws_wrong", "msg_1", ts, body.as_bytes())),
            ],
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        // missing headers
        (
            vec![("webhook-timestamp", ts.to_string()), ("webhook-signature", good.clone())],
            body.clone(),
            StatusCode::BAD_REQUEST,
            "missing_header",
        ),
        (vec![], body.clone(), StatusCode::BAD_REQUEST, "missing_header"),
        // garbled headers
        (
            vec![
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", "yesterday".into()),
                ("webhook-signature", good.clone()),
            ],
            body.clone(),
            StatusCode::BAD_REQUEST,
            "malformed_header",
        ),
        (
            vec![
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", "garbage".into()),
            ],
            body.clone(),
            StatusCode::BAD_REQUEST,
            "malformed_header",
        ),
    ];
    for (i, (headers, body, expected, code)) in cases.into_iter().enumerate() {
        let mut request = w.t.client.post(w.url()).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let (status, answer) = split(request.send().await.unwrap()).await;
        assert_eq!(status, expected, "case {i}: {answer}");
        assert_eq!(error_code(&answer), code, "case {i}");
    }
    assert!(w.payments().await.is_empty());
    let log = rejected(&w).await;
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|e| e["verdict"] == "rejected" && e["status"] == "rejected"));
    assert!(log.iter().any(|e| e["error"].as_str().unwrap().contains("webhook secret")));
    let detail = w.event(log[0]["id"].as_str().unwrap()).await;
    assert!(detail["headers"].is_array());
    w.t.stop().await;
}

#[tokio::test]
async fn stale_and_future_timestamps_name_the_clock_difference() {
    let w = Whop::connect().await;
    let body = payment("pay_1", "10", "usd", json!({}));
    let (status, answer) = w.deliver_at("msg_old", &body, now() - 900).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("s old") && message.contains("300"), "{message}");
    let (status, answer) = w.deliver_at("msg_new", &body, now() + 900).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(answer["error"]["message"].as_str().unwrap().contains("future"));
    // Within tolerance either way is fine.
    let (status, _) = w.deliver_at("msg_edge", &body, now() - 250).await;
    assert_eq!(status, StatusCode::OK);
    // The tolerance is a setting.
    w.t.put("/settings", json!({"signature_tolerance_secs": 1000})).await;
    let (status, _) = w.deliver_at("msg_old2", &payment("pay_2", "1", "usd", json!({})), now() - 900).await;
    assert_eq!(status, StatusCode::OK);
    w.t.stop().await;
}

#[tokio::test]
async fn unknown_removed_and_oversized_are_clear_errors() {
    let w = Whop::connect().await;
    let client = &w.t.client;
    // Unknown connection.
    let (status, answer) =
        split(client.post(format!("{}/webhooks/whop/con_nope", w.t.public)).body("{}").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&answer), "unknown_connection");
    // The wrong provider in the path.
    let (status, _) =
        split(client.post(format!("{}/webhooks/paddle/{}", w.t.public, w.id)).body("{}").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        split(client.post(format!("{}/webhooks/stripe/{}", w.t.public, w.id)).body("{}").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Over 1 MiB.
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let (status, answer) = split(client.post(w.url()).body(big).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&answer), "payload_too_large");
    // Exactly at the limit is still read (and then judged on its signature).
    let at_limit = "x".repeat(1024 * 1024);
    let (status, _) = split(client.post(w.url()).body(at_limit).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "read and refused for its missing headers, not its size");
    // Removed connection: 410.
    let (status, _) = w.t.delete(&format!("/connections/{}", w.id)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = w.deliver("msg_late", &payment("pay_late", "1", "usd", json!({}))).await;
    assert_eq!(status, StatusCode::GONE, "{answer}");
    assert_eq!(error_code(&answer), "connection_removed");
    let codes: Vec<String> =
        rejected(&w).await.iter().map(|e| e["reason_code"].as_str().unwrap().to_string()).collect();
    for code in ["unknown_connection", "payload_too_large", "connection_removed"] {
        assert!(codes.iter().any(|c| c == code), "{code} not logged: {codes:?}");
    }
    // GET on a webhook path is a JSON 405.
    let (status, answer) = split(client.get(w.url()).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    error_code(&answer);
    w.t.stop().await;
}

#[tokio::test]
async fn hostile_bodies_are_stored_safely() {
    let w = Whop::connect().await;
    let nasty = [
        r#"{"type":"payment.succeeded","data":{"id":"pay_'; DROP TABLE payments; --","currency":"usd","total":1}}"#
            .to_string(),
        r#"{"type":"payment.succeeded","data":{"id":"pay_neg","currency":"usd","total":-5}}"#.to_string(),
        r#"{"type":"payment.succeeded","data":{"id":"pay_str","currency":"usd","total":"10.43"}}"#.to_string(),
        r#"{"type":"payment.succeeded","data":{"id":"pay_cur","currency":"zzz","total":1}}"#.to_string(),
        r#"{"type":"payment.succeeded","data":{"id":"pay_huge","currency":"usd","total":1e300}}"#.to_string(),
        r#"{"type":"payment.succeeded","data":null}"#.to_string(),
        format!(r#"{{"type":"{}"}}"#, "a".repeat(10_000)),
        "\u{0}\u{1}binary\u{7f}".to_string(),
        "[".repeat(10_000),
    ];
    for (i, body) in nasty.iter().enumerate() {
        let (status, receipt) = w.deliver(&format!("msg_nasty_{i}"), body).await;
        assert_eq!(status, StatusCode::OK, "case {i}: {receipt}");
        let event = w.event(receipt["id"].as_str().unwrap()).await;
        assert_eq!(event["body_text"], body.as_str(), "case {i}: stored byte-exact");
    }
    let payments = w.payments().await;
    assert_eq!(payments.len(), 1, "only the weird-but-valid id is a payment: {payments:?}");
    assert_eq!(payments[0]["provider_payment_id"], "pay_'; DROP TABLE payments; --");
    let (_, failed) = w.t.get("/events?status=failed").await;
    assert_eq!(
        failed["events"].as_array().unwrap().len(),
        7,
        "every case but the valid one and the unknown type: {failed}"
    );
    w.t.stop().await;
}

#[tokio::test]
async fn the_inspector_filters_searches_and_pages() {
    let w = Whop::connect().await;
    for i in 0..7 {
        w.deliver(&format!("msg_{i}"), &payment(&format!("pay_page{i}"), "1", "usd", json!({}))).await;
    }
    w.deliver("msg_ign", r#"{"type":"dispute.created","data":{"id":"dsp_1"}}"#).await;
    // The list merges deliveries and rejected attempts by their time in milliseconds: make the
    // rejected one a later millisecond, not just a later request.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let bad = w.t.client.post(w.url()).body("{}").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let (_, all) = w.t.get("/events?limit=4").await;
    let first: Vec<String> =
        all["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(first.len(), 4);
    assert!(first[0].starts_with("r_"), "newest first: the rejected attempt came last: {first:?}");
    let mut seen = first.clone();
    let mut cursor = all["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let (status, page) = w.t.get(&format!("/events?limit=4&cursor={c}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 9, "every event exactly once: {seen:?}");
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 9);

    let (_, ignored) = w.t.get("/events?status=ignored").await;
    assert_eq!(ignored["events"].as_array().unwrap().len(), 1);
    let (_, typed) = w.t.get("/events?type=payment.succeeded").await;
    assert_eq!(typed["events"].as_array().unwrap().len(), 7);
    let (_, found) = w.t.get("/events?q=pay_page3").await;
    let found = found["events"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["delivery_id"], "msg_3");
    let (_, none) = w.t.get("/events?q=nothing%22here").await;
    assert_eq!(none["events"].as_array().unwrap().len(), 0);
    let (_, by_provider) = w.t.get("/events?provider=paddle").await;
    assert_eq!(by_provider["events"].as_array().unwrap().len(), 0);

    for bad in [
        "/events?limit=0",
        "/events?status=weird",
        "/events?provider=stripe",
        "/events?cursor=xyz",
        "/events?surprise=1",
    ] {
        let (status, body) = w.t.get(bad).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad}: {status} {body}"
        );
        error_code(&body);
    }
    for missing in ["/events/d_999999", "/events/r_999999", "/events/x_1", "/events/d_abc"] {
        let (status, _) = w.t.get(missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
    w.t.stop().await;
}

#[tokio::test]
async fn reprocess_applies_a_delivery_again() {
    let w = Whop::connect().await;
    let (_, refund_first) = w.deliver("msg_r", &refund("rfnd_1", "pay_1", "1", "succeeded")).await;
    let (_, pay) = w.deliver("msg_p", &payment("pay_1", "10", "usd", json!({}))).await;
    let id = refund_first["id"].as_str().unwrap();
    let (status, event) = w.t.post(&format!("/events/{id}/reprocess"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["status"], "processed", "still the delivery that recorded the refund: {event}");
    assert!(event["note"].as_str().unwrap().contains("reprocessed"), "{event}");
    assert_eq!(event["payment"]["provider_payment_id"], "pay_1", "now linked to its payment");
    // Reprocessing the payment's own delivery keeps it the payment's processed delivery.
    let (status, again) = w.t.post(&format!("/events/{}/reprocess", pay["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, again["status"].as_str()), (StatusCode::OK, Some("processed")), "{again}");
    let payments = w.payments().await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["delivery_id"], pay["id"], "the payment still points at its delivery");
    let (_, dup) = w.deliver("msg_p", &payment("pay_1", "10", "usd", json!({}))).await;
    let (status, answer) = w.t.post(&format!("/events/{}/reprocess", dup["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains(pay["id"].as_str().unwrap()));
    w.t.stop().await;
}

#[tokio::test]
async fn the_revenue_summary_counts_net_and_attribution() {
    let w = Whop::connect().await;
    w.deliver("msg_1", &payment("pay_1", "10", "usd", attribution())).await;
    w.deliver("msg_2", &payment("pay_2", "5", "usd", json!({}))).await;
    w.deliver("msg_3", &payment("pay_3", "1000", "jpy", json!({}))).await;
    w.deliver("msg_4", &refund("rfnd_1", "pay_1", "2", "succeeded")).await;
    let (status, summary) = w.t.get("/revenue/summary?days=7").await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let usd = summary["all_time"].as_array().unwrap().iter().find(|c| c["currency"] == "USD").unwrap();
    assert_eq!(usd["payments"], 2);
    assert_eq!(usd["attributed"], 1);
    assert_eq!(usd["gross_minor"], 1500);
    assert_eq!(usd["refunded_minor"], 200);
    assert_eq!(usd["net_minor"], 1300);
    assert!(summary["daily"].as_array().unwrap().iter().any(|d| d["currency"] == "JPY" && d["net_minor"] == 1000));
    w.t.stop().await;
}

#[tokio::test]
async fn the_live_stream_announces_new_deliveries() {
    let w = Whop::connect().await;
    let mut stream = w.t.client.get(w.t.api("/stream")).bearer_auth(support::TOKEN).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (_, receipt) = w.deliver("msg_live", &payment("pay_live", "1", "usd", json!({}))).await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains(receipt["id"].as_str().unwrap()) {
        let chunk =
            tokio::time::timeout_at(deadline, stream.chunk()).await.expect("an event within 5 s").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: delivery"), "{seen}");
    drop(stream);
    w.t.stop().await;
}

/// A rejected attempt's ids, reason and headers echo the sender: what is kept of them is capped,
/// so a hostile sender cannot fill the log's rows (the body was capped already).
#[tokio::test]
async fn a_rejected_attempt_keeps_capped_ids_headers_and_reasons() {
    let w = Whop::connect().await;
    let long_id = format!("msg_{}", "i".repeat(3000));
    let mut request =
        w.t.client
            .post(w.url())
            .header("webhook-id", &long_id)
            .header("webhook-timestamp", now().to_string())
            .header("webhook-signature", format!("v1,{}", "A".repeat(4000)))
            .header("content-type", "application/json");
    for i in 0..90 {
        request = request.header(format!("x-pad-{i}"), "p".repeat(300));
    }
    let (status, answer) = split(request.body("{}").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let logged = rejected(&w).await;
    let event = w.event(logged[0]["id"].as_str().unwrap()).await;
    let headers = event["headers"].as_array().unwrap();
    assert!(headers.len() <= 64, "{} headers kept", headers.len());
    for pair in headers {
        assert!(pair[1].as_str().unwrap().chars().count() <= 1001, "{}", pair[0]);
    }
    let kept_id = event["delivery_id"].as_str().unwrap_or_default();
    assert!(kept_id.chars().count() <= 201, "delivery id kept at {} chars", kept_id.chars().count());
    assert!(event["reason"].as_str().unwrap_or_default().chars().count() <= 1001);
    w.t.stop().await;
}

/// A made-up connection id is answered at once, without waiting for (or buffering) the body its
/// sender announces.
#[tokio::test]
async fn an_unknown_connection_is_answered_without_reading_the_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = Whop::connect().await;
    let addr = w.t.public.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /webhooks/whop/con_madeup HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 900000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 256];
    let read = tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    w.t.stop().await;
}

/// `from` / `to` on the Webhooks and Payments lists: RFC 3339, `from` inclusive, `to` exclusive.
#[tokio::test]
async fn lists_filter_by_time() {
    let w = Whop::connect().await;
    w.deliver("msg_t1", &payment("pay_t1", "10", "usd", json!({}))).await;
    let hour_ago = iso_ago(3600);
    let in_an_hour = iso_ago(-3600);
    for list in ["/events", "/payments"] {
        let key = if list == "/events" { "events" } else { "payments" };
        let count = |v: &Value| v[key].as_array().unwrap().len();
        let (status, around) = w.t.get(&format!("{list}?from={hour_ago}&to={in_an_hour}")).await;
        assert_eq!(status, StatusCode::OK, "{around}");
        assert_eq!(count(&around), 1, "{list}: {around}");
        let (_, later) = w.t.get(&format!("{list}?from={in_an_hour}")).await;
        assert_eq!(count(&later), 0, "{list}");
        let (_, earlier) = w.t.get(&format!("{list}?to={hour_ago}")).await;
        assert_eq!(count(&earlier), 0, "{list}");
        let (status, bad) = w.t.get(&format!("{list}?from=yesterday")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(bad["error"]["fields"]["from"].is_string(), "{bad}");
        let (status, _) = w.t.get(&format!("{list}?from={in_an_hour}&to={hour_ago}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    w.t.stop().await;
}

/// Signature headers are single values: a second copy (even after a valid first one) is refused,
/// so which one is checked is never the sender's choice.
#[tokio::test]
async fn duplicated_signature_headers_are_refused() {
    let w = Whop::connect().await;
    let body = payment("pay_dup", "10", "usd", json!({}));
    let ts = now();
    let good = sign(&w.secret, "msg_dup", ts, body.as_bytes());
    for (name, second) in [
        ("webhook-id", "msg_other".to_string()),
        ("webhook-timestamp", (ts - 1).to_string()),
        ("webhook-signature", "v1,Zm9yZ2Vk".to_string()),
    ] {
        let mut request = w.t.client.post(w.url()).header("content-type", "application/json");
        for (header, value) in [
            ("webhook-id", "msg_dup".to_string()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", good.clone()),
        ] {
            request = request.header(header, value);
        }
        let (status, answer) = split(request.header(name, second).body(body.clone()).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {answer}");
        assert_eq!(error_code(&answer), "duplicate_header", "{name}");
    }
    assert!(w.payments().await.is_empty(), "nothing was recorded");
    w.t.stop().await;
}
