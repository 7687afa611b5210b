//! Paddle: connect and remove against the fake Paddle API (built from the OpenAPI spec), and
//! signed deliveries built from the spec's webhook examples through the public listener.

mod support;

use faurya::providers::paddle::signature::sign;
use faurya_fakes::Failure;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{PUBLIC_URL, TestApp, app_with_fakes, error_code, split};

const LIVE_KEY: &str = "pdl_live_apikey_01hv8x0000000000000000000000_abcd";
const SANDBOX_KEY: &str = "pdl_sdbx_apikey_01hv8x0000000000000000000000_wxyz";

fn form(key: &str, environment: &str) -> Value {
    json!({"api_key": key, "environment": environment})
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/paddle/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct Paddle {
    t: TestApp,
    fakes: faurya_fakes::FakeProviders,
    connection: Value,
    secret: String,
}

impl Paddle {
    async fn connect() -> Self {
        let (t, fakes) = app_with_fakes().await;
        fakes.add_paddle_key(LIVE_KEY, true, true);
        let (status, connection) = t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
        assert_eq!(status, StatusCode::CREATED, "{connection}");
        let secret = fakes.secrets().pop().unwrap();
        Self { t, fakes, connection, secret }
    }

    fn id(&self) -> &str {
        self.connection["id"].as_str().unwrap()
    }

    async fn deliver(&self, body: &Value) -> (StatusCode, Value) {
        let body = serde_json::to_string(body).unwrap();
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let response = self
            .t
            .client
            .post(format!("{}/webhooks/paddle/{}", self.t.public, self.id()))
            .header("paddle-signature", sign(&self.secret, ts, body.as_bytes()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        split(response).await
    }

    async fn payments(&self) -> Vec<Value> {
        let (_, body) = self.t.get("/payments?provider=paddle").await;
        body["payments"].as_array().unwrap().clone()
    }
}

/// The spec's transaction example with our attribution fields and a fresh event id.
fn transaction(event: &str, event_id: &str, txn: &str, custom_data: Value) -> Value {
    let mut body = fixture(event);
    body["event_id"] = json!(event_id);
    body["data"]["id"] = json!(txn);
    body["data"]["custom_data"] = custom_data;
    body
}

fn adjustment(event: &str, event_id: &str, adj: &str, txn: &str, status: &str) -> Value {
    let mut body = fixture(event);
    body["event_id"] = json!(event_id);
    body["data"]["id"] = json!(adj);
    body["data"]["transaction_id"] = json!(txn);
    body["data"]["status"] = json!(status);
    body
}

#[tokio::test]
async fn connect_creates_a_notification_setting_as_documented() {
    let p = Paddle::connect().await;
    let c = &p.connection;
    assert_eq!(c["provider"], "paddle");
    assert_eq!(c["environment"], "production");
    assert_eq!(c["account_id"], Value::Null);
    assert_eq!(c["masked_key"], "••••••••abcd");
    assert!(c["webhook_id"].as_str().unwrap().starts_with("ntfset_"));
    let url = format!("{PUBLIC_URL}/webhooks/paddle/{}", p.id());
    assert_eq!(c["webhook_url"], url);

    let create = p.fakes.requests().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(create.path, "/paddle/notification-settings");
    assert_eq!(create.authorization.as_deref(), Some(format!("Bearer {LIVE_KEY}").as_str()));
    let body = create.body.unwrap();
    assert_eq!(body["type"], "url");
    assert_eq!(body["destination"], url);
    assert_eq!(body["api_version"], 1);
    assert_eq!(body["traffic_source"], "all");
    assert_eq!(
        body["subscribed_events"],
        json!(["transaction.completed", "transaction.paid", "adjustment.created", "adjustment.updated"])
    );
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
    let (_, list) = p.t.get("/connections").await;
    assert!(!list.to_string().contains(LIVE_KEY) && !list.to_string().contains(&p.secret));
    p.t.stop().await;
}

#[tokio::test]
async fn a_key_for_the_other_environment_is_caught_before_paddle_is_called() {
    let (t, fakes) = app_with_fakes().await;
    let (status, body) = t.post("/connections/paddle", form(SANDBOX_KEY, "production")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["environment"].as_str().unwrap().contains("Sandbox"));
    let (status, body) = t.post("/connections/paddle", form(LIVE_KEY, "sandbox")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["environment"].as_str().unwrap().contains("Live"));
    let (status, body) = t.post("/connections/paddle", json!({"api_key": "", "environment": "production"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["api_key"].as_str().unwrap().contains("Paddle API Key"));
    assert!(fakes.requests().is_empty());
    // A key from before May 2025 has no prefix and is accepted for either environment.
    fakes.add_paddle_key("0123456789abcdefghij0123456789abcdefghij0123456789", true, true);
    let (status, body) =
        t.post("/connections/paddle", form("0123456789abcdefghij0123456789abcdefghij0123456789", "sandbox")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.stop().await;
}

#[tokio::test]
async fn paddle_errors_say_what_to_do() {
    let (t, fakes) = app_with_fakes().await;
    // Unknown key: invalid_token.
    let (status, body) = t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "provider_unauthorized");
    assert!(body["error"]["message"].as_str().unwrap().contains("other environment"));
    // A key without notification_setting.write: forbidden.
    fakes.add_paddle_key(LIVE_KEY, true, false);
    let (status, body) = t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "provider_forbidden");
    assert!(body["error"]["message"].as_str().unwrap().contains("notification_setting.write"));
    let (_, list) = t.get("/connections").await;
    assert_eq!(list["connections"], json!([]));
    assert!(fakes.paddle_destinations().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_duplicate_answer_adopts_the_existing_destination() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_paddle_key(LIVE_KEY, true, true);
    // Paddle made it, but the answer that came back was 409 (e.g. a retried request).
    let conflict = json!({"error": {"type": "request_error", "code": "notification_setting_cannot_be_duplicate",
                                    "detail": "duplicate"}, "meta": {"request_id": "x"}});
    fakes.fail(Failure::status("POST", "/notification-settings", 409).after_processing().with_body(conflict));
    let (status, body) = t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let destinations = fakes.paddle_destinations();
    assert_eq!(destinations.len(), 1);
    assert_eq!(body["webhook_id"], destinations[0]["id"]);
    t.stop().await;
}

#[tokio::test]
async fn a_stale_faurya_destination_is_reused_not_multiplied() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_paddle_key(LIVE_KEY, true, true);
    let old = fakes.seed_paddle_destination(&format!("{PUBLIC_URL}/webhooks/paddle/con_0000000000000000"));
    fakes.seed_paddle_destination("https://hooks.slack.com/other");
    let (status, body) = t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["webhook_id"], old["id"], "the old destination was re-pointed");
    assert_eq!(fakes.count("POST", "/notification-settings"), 0, "no second destination");
    let destinations = fakes.paddle_destinations();
    assert_eq!(destinations.len(), 2);
    let ours = destinations.iter().find(|d| d["id"] == old["id"]).unwrap();
    assert_eq!(ours["destination"], body["webhook_url"]);
    assert_eq!(ours["subscribed_events"].as_array().unwrap().len(), 4);
    t.stop().await;
}

#[tokio::test]
async fn remove_deletes_the_notification_setting_first() {
    let p = Paddle::connect().await;
    let hook = p.connection["webhook_id"].as_str().unwrap().to_string();
    let (status, body) = p.t.delete(&format!("/connections/{}", p.id())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["webhook_deleted"], true);
    assert_eq!(p.fakes.count("DELETE", &hook), 1);
    assert!(p.fakes.paddle_destinations().is_empty());
    // Connecting again afterwards works, and a second connection of the same environment is refused.
    let (status, _) = p.t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = p.t.post("/connections/paddle", form(LIVE_KEY, "production")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "already_connected");
    p.t.stop().await;
}

#[tokio::test]
async fn a_destination_already_gone_counts_as_deleted_and_a_failure_keeps_it() {
    let p = Paddle::connect().await;
    p.fakes.fail(Failure::status("DELETE", "/notification-settings/", 500).times(10));
    let (status, body) = p.t.delete(&format!("/connections/{}", p.id())).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("Paddle could not delete"));
    let (_, list) = p.t.get("/connections").await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    let p2 = Paddle::connect().await;
    p2.fakes.fail(Failure::status("DELETE", "/notification-settings/", 404));
    let (status, body) = p2.t.delete(&format!("/connections/{}", p2.id())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    p.t.stop().await;
    p2.t.stop().await;
}

#[tokio::test]
async fn paid_then_completed_is_one_payment_with_attribution() {
    let p = Paddle::connect().await;
    let custom =
        json!({"orderId": "order_42", "faVisitorId": "v_1", "faSessionId": "s_1", "faAttributionToken": "tok_1"});
    let (status, paid) = p.deliver(&transaction("transaction-paid", "evt_paid", "txn_1", custom.clone())).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "processed");
    let (_, completed) = p.deliver(&transaction("transaction-completed", "evt_done", "txn_1", custom)).await;
    assert_eq!(completed["status"], "processed", "completed updates the status: {completed}");
    let payments = p.payments().await;
    assert_eq!(payments.len(), 1);
    let pay = &payments[0];
    assert_eq!(pay["provider_payment_id"], "txn_1");
    assert_eq!(pay["amount_minor"], 65215, "details.totals.total, minor units");
    assert_eq!(pay["currency"], "USD");
    assert_eq!(pay["status"], "completed");
    assert_eq!(pay["visitor_id"], "v_1");
    assert_eq!(pay["session_id"], "s_1");
    assert_eq!(pay["attribution_token"], "tok_1");
    assert_eq!(pay["order_id"], "order_42");
    // A late `paid` does not downgrade it.
    let (_, late) = p.deliver(&transaction("transaction-paid", "evt_paid_again", "txn_1", json!(null))).await;
    assert_eq!(late["status"], "duplicate");
    assert_eq!(p.payments().await[0]["status"], "completed");
    p.t.stop().await;
}

#[tokio::test]
async fn a_replayed_event_id_is_a_duplicate() {
    let p = Paddle::connect().await;
    let body = transaction("transaction-completed", "evt_same", "txn_2", json!({"faurya_visitor_id": "v_snake"}));
    let (_, first) = p.deliver(&body).await;
    // Paddle retries (or a second destination) keep event_id but change notification_id.
    let mut again = body.clone();
    again["notification_id"] = json!("ntf_other");
    let (status, second) = p.deliver(&again).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["duplicate"], true);
    let (_, event) = p.t.get(&format!("/events/{}", second["id"].as_str().unwrap())).await;
    assert_eq!(event["duplicate_of"], first["id"]);
    let payments = p.payments().await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["visitor_id"], "v_snake");
    p.t.stop().await;
}

#[tokio::test]
async fn approved_refund_adjustments_reduce_net_idempotently() {
    let p = Paddle::connect().await;
    p.deliver(&transaction("transaction-completed", "evt_t", "txn_3", json!(null))).await;
    let (_, pending) =
        p.deliver(&adjustment("adjustment-created", "evt_a1", "adj_1", "txn_3", "pending_approval")).await;
    assert_eq!(pending["status"], "processed");
    assert_eq!(p.payments().await[0]["refunded_minor"], 0, "pending approval does not count");
    let (_, approved) = p.deliver(&adjustment("adjustment-updated", "evt_a2", "adj_1", "txn_3", "approved")).await;
    assert_eq!(approved["status"], "processed");
    let pay = &p.payments().await[0];
    assert_eq!(pay["refunded_minor"], 100);
    assert_eq!(pay["net_minor"], 65115);
    let (_, again) = p.deliver(&adjustment("adjustment-updated", "evt_a3", "adj_1", "txn_3", "approved")).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(p.payments().await[0]["refunded_minor"], 100);
    // A credit adjustment is not a refund.
    let mut credit = adjustment("adjustment-created", "evt_a4", "adj_2", "txn_3", "approved");
    credit["data"]["action"] = json!("credit");
    let (_, credited) = p.deliver(&credit).await;
    assert_eq!(credited["status"], "ignored");
    assert_eq!(p.payments().await[0]["refunded_minor"], 100);
    p.t.stop().await;
}

/// Paddle may deliver out of order: an approval that arrives before its "pending approval" is
/// not taken back by the late one.
#[tokio::test]
async fn a_late_pending_adjustment_does_not_undo_an_approval() {
    let p = Paddle::connect().await;
    p.deliver(&transaction("transaction-completed", "evt_t", "txn_4", json!(null))).await;
    p.deliver(&adjustment("adjustment-updated", "evt_b2", "adj_9", "txn_4", "approved")).await;
    assert_eq!(p.payments().await[0]["refunded_minor"], 100);
    let (_, late) = p.deliver(&adjustment("adjustment-created", "evt_b1", "adj_9", "txn_4", "pending_approval")).await;
    assert_eq!(late["status"], "duplicate", "{late}");
    assert_eq!(p.payments().await[0]["refunded_minor"], 100, "still counted");
    p.t.stop().await;
}

#[tokio::test]
async fn bad_amounts_and_bad_signatures_are_clear() {
    let p = Paddle::connect().await;
    let mut bad = transaction("transaction-completed", "evt_bad", "txn_bad", json!(null));
    bad["data"]["details"]["totals"]["total"] = json!("652.15");
    let (status, receipt) = p.deliver(&bad).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt["status"], "failed");
    let (_, event) = p.t.get(&format!("/events/{}", receipt["id"].as_str().unwrap())).await;
    assert!(event["error"].as_str().unwrap().contains("652.15"), "{event}");
    assert!(p.payments().await.is_empty());

    let url = format!("{}/webhooks/paddle/{}", p.t.public, p.id());
    let body = serde_json::to_string(&transaction("transaction-completed", "evt_x", "txn_x", json!(null))).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let cases = [
        (None, StatusCode::BAD_REQUEST, "missing_header"),
        (Some("garbage".to_string()), StatusCode::BAD_REQUEST, "malformed_header"),
        (Some(sign("pdl_ntfset_wrong", now, body.as_bytes())), StatusCode::UNAUTHORIZED, "bad_signature"),
        (Some(sign(&p.secret, now - 3600, body.as_bytes())), StatusCode::UNAUTHORIZED, "timestamp_too_old"),
        (Some(sign(&p.secret, now + 3600, body.as_bytes())), StatusCode::UNAUTHORIZED, "timestamp_in_future"),
        (Some(format!("{};h2=whatever", sign(&p.secret, now, body.as_bytes()))), StatusCode::OK, ""),
    ];
    for (header, expected, code) in cases {
        let mut request = p.t.client.post(&url).body(body.clone());
        if let Some(h) = &header {
            request = request.header("paddle-signature", h);
        }
        let (status, answer) = split(request.send().await.unwrap()).await;
        assert_eq!(status, expected, "{header:?}: {answer}");
        if !code.is_empty() {
            assert_eq!(error_code(&answer), code);
        }
    }
    p.t.stop().await;
}

#[tokio::test]
async fn whop_and_paddle_side_by_side_with_a_provider_filter() {
    let p = Paddle::connect().await;
    p.fakes.add_whop_key("whop_key_live_0123456789abcdef3f9a", "biz_acme123", true);
    let (status, whop) = p
        .t
        .post("/connections/whop", json!({"api_key": "whop_key_live_0123456789abcdef3f9a", "company_id": "biz_acme123", "environment": "production"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{whop}");
    let whop_secret = p.fakes.secrets().into_iter().find(|s| s.starts_with("ws_")).unwrap();
    let body = r#"{"id":"msg_w","type":"payment.succeeded","data":{"id":"pay_w","currency":"eur","total":12.5}}"#;
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let response =
        p.t.client
            .post(format!("{}/webhooks/whop/{}", p.t.public, whop["id"].as_str().unwrap()))
            .header("webhook-id", "msg_w")
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                faurya::providers::whop::signature::sign(&whop_secret, "msg_w", ts, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    p.deliver(&transaction("transaction-completed", "evt_p", "txn_p", json!(null))).await;

    let (_, all) = p.t.get("/payments").await;
    assert_eq!(all["payments"].as_array().unwrap().len(), 2);
    let (_, whop_only) = p.t.get("/payments?provider=whop").await;
    assert_eq!(whop_only["payments"].as_array().unwrap().len(), 1);
    assert_eq!(whop_only["payments"][0]["amount_minor"], 1250);
    let (_, paddle_events) = p.t.get("/events?provider=paddle").await;
    assert!(paddle_events["events"].as_array().unwrap().iter().all(|e| e["provider"] == "paddle"));
    p.t.stop().await;
}
