//! The desktop app's switches (notifications, start at login) and the words of a payment
//! notification, tested without a window: the shell only reads these.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::{TestApp, app_with_fakes, iso_ago, post_whop};

#[tokio::test]
async fn switches_are_hidden_under_serve_and_saved_when_asked() {
    let t = TestApp::start().await;
    let (_, settings) = t.get("/settings").await;
    assert_eq!(
        settings["desktop"],
        json!({"available": false, "notify_payments": true, "notify_test_payments": false,
               "start_at_login": false, "start_at_login_set": false})
    );
    t.stop().await;

    let t = TestApp::start_with(|c| c.desktop = true).await;
    let (_, settings) = t.get("/settings").await;
    assert_eq!(settings["desktop"]["available"], true);
    let (status, settings) = t
        .put("/settings", json!({"notify_payments": false, "notify_test_payments": true, "start_at_login": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(
        settings["desktop"],
        json!({"available": true, "notify_payments": false, "notify_test_payments": true,
               "start_at_login": true, "start_at_login_set": true})
    );
    for bad in [json!({"notify_payments": "yes"}), json!({"start_at_login": 1}), json!({"notify_test_payments": null})]
    {
        let (status, body) = t.put("/settings", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    t.stop().await;
}

#[tokio::test]
async fn start_at_login_follows_the_first_connection_until_chosen() {
    let (t, fakes) = app_with_fakes().await;
    let (_, settings) = t.get("/settings").await;
    assert_eq!(settings["desktop"]["start_at_login"], false);
    fakes.add_whop_key("whop_key_live_0123456789abcdef3f9a", "biz_acme123", true);
    t.post(
        "/connections/whop",
        json!({"api_key": "whop_key_live_0123456789abcdef3f9a", "company_id": "biz_acme123", "environment": "production"}),
    )
    .await;
    let (_, settings) = t.get("/settings").await;
    assert_eq!(settings["desktop"]["start_at_login"], true, "on by default once a provider is connected");
    assert_eq!(settings["desktop"]["start_at_login_set"], false);
    t.put("/settings", json!({"start_at_login": false})).await;
    let (_, settings) = t.get("/settings").await;
    assert_eq!(settings["desktop"]["start_at_login"], false, "the founder's choice wins");
    t.stop().await;
}

#[tokio::test]
async fn a_new_payment_is_announced_once_in_plain_words_and_tests_only_when_asked() {
    let (t, fakes) = app_with_fakes().await;
    t.put("/settings", json!({"public_url": t.public})).await;
    fakes.add_whop_key("whop_key_live_0123456789abcdef3f9a", "biz_acme123", true);
    let (_, connection) = t
        .post(
            "/connections/whop",
            json!({"api_key": "whop_key_live_0123456789abcdef3f9a", "company_id": "biz_acme123",
                   "environment": "production"}),
        )
        .await;
    let id = connection["id"].as_str().unwrap();
    let secret = fakes.secrets().pop().unwrap();
    let body = json!({"id": "msg_n1", "type": "payment.succeeded", "data": {
        "id": "pay_n1", "status": "paid", "total": 49.0, "currency": "usd", "paid_at": iso_ago(5),
        "created_at": iso_ago(5), "metadata": {}}});
    post_whop(&t.client, &format!("{}/webhooks/whop/{id}", t.public), &secret, "msg_n1", body.to_string()).await;
    let (_, list) = t.get("/payments").await;
    let payment = list["payments"][0]["id"].as_i64().unwrap();
    let (_, run) = t.post(&format!("/connections/{id}/test-payment"), json!({})).await;
    let test_payment = run["payment_id"].as_i64().unwrap();

    let store = t.app().state().store.clone();
    let notice = move |id: i64| {
        let store = store.clone();
        async move { store.read(move |conn| faurya::desktop::payment_notice(conn, id, true)).await.unwrap() }
    };
    let shown = notice(payment).await.expect("a notice");
    assert_eq!(shown.title, "New payment: USD 49.00");
    assert_eq!(shown.body, "USD 49.00 through Whop; no visit is tied to it yet.");
    assert_eq!(notice(test_payment).await, None, "no notice for a test payment by default");

    t.put("/settings", json!({"notify_test_payments": true})).await;
    assert_eq!(notice(test_payment).await.unwrap().title, "Test payment: USD 49.00");
    t.put("/settings", json!({"notify_payments": false})).await;
    assert_eq!(notice(payment).await, None, "the off switch");
    t.stop().await;
}
