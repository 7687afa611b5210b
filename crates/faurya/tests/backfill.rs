//! "Check for missed payments": payments Whop lists that Faurya never received are recorded once,
//! marked backfilled and attributed from their metadata; a late webhook for one counts once; a
//! key without the read permission is reported without breaking anything.

mod support;

use faurya_fakes::WhopKey;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{app_with_fakes, iso_ago, post_whop};

const KEY: &str = "whop_key_live_0123456789abcdef3f9a";
const COMPANY: &str = "biz_acme123";

fn listed(id: &str, total: f64, status: &str, metadata: Value) -> Value {
    json!({
        "id": id, "status": status, "substatus": if status == "paid" { "succeeded" } else { "pending" },
        "total": total, "subtotal": total, "currency": "usd",
        "created_at": iso_ago(7200), "paid_at": iso_ago(7200), "updated_at": iso_ago(7000),
        "metadata": metadata, "plan": {"id": "plan_1"},
        "user": {"id": "user_1", "email": format!("{id}@example.com"), "name": null, "username": "buyer"},
        "company": {"id": COMPANY, "title": "Acme"},
    })
}

/// Connects the Whop key the fakes know; answers the connection's id.
async fn connect_whop(t: &support::TestApp) -> String {
    let (status, connection) =
        t.post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    connection["id"].as_str().unwrap().to_string()
}

fn webhook_body(payment: &Value) -> String {
    json!({"id": "msg_late", "type": "payment.succeeded", "data": payment}).to_string()
}

#[tokio::test]
async fn missed_payments_are_recovered_once_and_a_late_webhook_counts_once() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let id = connect_whop(&t).await;
    let secret = fakes.secrets().pop().unwrap();
    let url = format!("{}/webhooks/whop/{id}", t.public);

    let received = listed("pay_received", 10.0, "paid", json!({}));
    let missed =
        listed("pay_missed", 12.5, "paid", json!({"faurya_visitor_id": "v_gap", "faurya_session_id": "s_gap"}));
    let also_missed = listed("pay_missed2", 3.0, "paid", json!({}));
    let open = listed("pay_open", 99.0, "open", json!({}));
    for p in [&received, &missed, &also_missed, &open] {
        fakes.seed_whop_payment(COMPANY, p.clone());
    }
    // One of them did arrive by webhook.
    let response = post_whop(&t.client, &url, &secret, "msg_first", webhook_body(&received)).await;
    assert_eq!(response.status(), StatusCode::OK);

    let (status, check) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["recovered_last"], 2, "{check}");
    assert_eq!(check["error"], Value::Null);
    assert!(check["checked_at"].is_i64());

    let (_, list) = t.get("/payments").await;
    let payments = list["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 3, "the paid ones, once each; not the open one: {list}");
    let by_id = |pid: &str| payments.iter().find(|p| p["provider_payment_id"] == pid).unwrap().clone();
    let gap = by_id("pay_missed");
    assert_eq!(gap["amount_minor"], 1250);
    assert_eq!(gap["source"], "backfill");
    assert_eq!(gap["visitor_id"], "v_gap", "attributed from the listed payment's metadata");
    assert_eq!(by_id("pay_received")["source"], "webhook");
    // Shown in the inspector as a delivery of its own, marked as backfilled.
    let (_, events) = t.get("/events?q=pay_missed2").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");

    // The webhook that was missed arrives after all: still one payment.
    let response = post_whop(&t.client, &url, &secret, "msg_retry_late", webhook_body(&missed)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, list) = t.get("/payments").await;
    assert_eq!(list["payments"].as_array().unwrap().len(), 3);
    let (_, summary) = t.get("/revenue/summary").await;
    assert_eq!(summary["all_time"][0]["payments"], 3, "{summary}");
    assert_eq!(summary["all_time"][0]["gross_minor"], 1000 + 1250 + 300, "{summary}");

    // A second check finds nothing new; the connection shows when it last checked.
    let (_, again) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(again["recovered_last"], 0, "{again}");
    assert_eq!(again["recovered_total"], 2);
    let (_, view) = t.get(&format!("/connections/{id}")).await;
    assert_eq!(view["backfill"]["recovered_total"], 2, "{view}");
    assert!(view["last_delivery_at"].is_string());
    t.stop().await;
}

#[tokio::test]
async fn checks_that_meet_run_one_after_the_other_and_keep_the_count() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let id = connect_whop(&t).await;
    for n in 0..5 {
        fakes.seed_whop_payment(COMPANY, listed(&format!("pay_gap{n}"), 1.0 + n as f64, "paid", json!({})));
    }

    let path = format!("/connections/{id}/backfill");
    let (a, b, c) = tokio::join!(t.post(&path, json!({})), t.post(&path, json!({})), t.post(&path, json!({})));
    let checks = [a, b, c];
    for (status, check) in &checks {
        assert_eq!(*status, StatusCode::OK, "{check}");
    }
    let found: Vec<i64> = checks.iter().map(|(_, c)| c["recovered_last"].as_i64().unwrap()).collect();
    assert_eq!(found.iter().sum::<i64>(), 5, "each payment recovered by exactly one check: {found:?}");
    let (_, view) = t.get(&format!("/connections/{id}")).await;
    assert_eq!(view["backfill"]["recovered_total"], 5, "no check's count lost: {view}");
    let (_, list) = t.get("/payments").await;
    assert_eq!(list["payments"].as_array().unwrap().len(), 5, "{list}");
    t.stop().await;
}

#[tokio::test]
async fn a_key_without_the_read_permission_is_reported_and_nothing_breaks() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key_with(WhopKey {
        key: KEY.into(),
        company_id: COMPANY.into(),
        can_manage_webhooks: true,
        can_read_payments: false,
    });
    let id = connect_whop(&t).await;
    fakes.seed_whop_payment(COMPANY, listed("pay_x", 1.0, "paid", json!({})));
    let (status, check) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert!(check["error"].as_str().unwrap().contains("payment:basic:read"), "{check}");
    assert_eq!(check["checked_at"], Value::Null);
    let (_, list) = t.get("/payments").await;
    assert!(list["payments"].as_array().unwrap().is_empty());
    // Unknown connection: 404.
    let (status, _) = t.post("/connections/con_nope/backfill", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    t.stop().await;
}

const PADDLE_KEY: &str = "pdl_live_apikey_01hv8x0000000000000000000000_abcd";

/// A transaction as Paddle's `GET /transactions` lists it: the spec example's entity with our ids.
fn transaction(id: &str, status: &str, custom_data: Value) -> Value {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/paddle/transaction-completed.json")).unwrap();
    let mut data = fixture["data"].clone();
    data["id"] = json!(id);
    data["status"] = json!(status);
    data["custom_data"] = custom_data;
    data["updated_at"] = json!(iso_ago(3600));
    data["created_at"] = json!(iso_ago(4000));
    data["billed_at"] = json!(iso_ago(3900));
    data
}

#[tokio::test]
async fn paddle_transactions_that_never_arrived_are_recovered() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_paddle_key(PADDLE_KEY, true, true);
    let (status, connection) =
        t.post("/connections/paddle", json!({"api_key": PADDLE_KEY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let id = connection["id"].as_str().unwrap().to_string();
    // More than one page (Paddle lists 30 at most per page).
    for i in 0..33 {
        let custom =
            if i == 0 { json!({"faVisitorId": "v_paddle_gap", "faSessionId": "s_paddle_gap"}) } else { json!(null) };
        fakes.seed_paddle_transaction(transaction(&format!("txn_gap{i:02}"), "completed", custom));
    }
    fakes.seed_paddle_transaction(transaction("txn_paid", "paid", json!(null)));
    fakes.seed_paddle_transaction(transaction("txn_draft", "draft", json!(null)));

    let (status, check) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["error"], Value::Null, "{check}");
    assert_eq!(check["recovered_last"], 34, "33 completed and 1 paid, not the draft: {check}");
    let (_, list) = t.get("/payments?limit=200").await;
    let payments = list["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 34);
    let gap = payments.iter().find(|p| p["provider_payment_id"] == "txn_gap00").unwrap();
    assert_eq!(gap["source"], "backfill");
    assert_eq!(gap["amount_minor"], 65215);
    assert_eq!(gap["visitor_id"], "v_paddle_gap");
    let (_, again) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(again["recovered_last"], 0, "{again}");
    t.stop().await;
}

#[tokio::test]
async fn a_paddle_key_without_transaction_read_is_reported() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_paddle_key_with(faurya_fakes::PaddleKey {
        key: PADDLE_KEY.into(),
        can_read: true,
        can_write: true,
        can_read_transactions: false,
        can_simulate: true,
    });
    let (_, connection) =
        t.post("/connections/paddle", json!({"api_key": PADDLE_KEY, "environment": "production"})).await;
    let id = connection["id"].as_str().unwrap().to_string();
    let (status, check) = t.post(&format!("/connections/{id}/backfill"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert!(check["error"].as_str().unwrap().contains("transaction.read"), "{check}");
    t.stop().await;
}
