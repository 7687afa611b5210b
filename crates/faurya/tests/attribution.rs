//! Attribution over real HTTP: payments tied to sessions by token, session id or visitor id; the
//! three models; the revenue API (idempotent with webhooks in either order); late linking; the
//! attribution table, its comparison and CSV exports; journeys and visitors.

mod support;

use faurya::attribution::token;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, app_with_fakes, error_code, iso_ago, split, unix_now};

const KEY: &str = "whop_key_live_0123456789abcdefattr";
const COMPANY: &str = "biz_attr";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const HOUR_MS: i64 = 3600 * 1000;

/// A site for shop.example.com with a Whop connection.
struct Shop {
    t: TestApp,
    _fakes: faurya_fakes::FakeProviders,
    site: String,
    write_key: String,
    whop: String,
    secret: String,
}

impl Shop {
    async fn start() -> Self {
        let (t, fakes) = app_with_fakes().await;
        let (_, sites) = t.get("/sites").await;
        let site = sites["sites"][0]["id"].as_str().unwrap().to_string();
        let (status, _) =
            t.patch(&format!("/sites/{site}"), json!({"name": "Shop", "domains": ["shop.example.com"]})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, key) = t.get(&format!("/sites/{site}/write-key")).await;
        fakes.add_whop_key(KEY, COMPANY, true);
        let (status, connection) = t
            .post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{connection}");
        assert_eq!(connection["site_id"], site);
        let secret = fakes.secrets().pop().unwrap();
        Self {
            whop: connection["id"].as_str().unwrap().to_string(),
            write_key: key["write_key"].as_str().unwrap().to_string(),
            site,
            secret,
            t,
            _fakes: fakes,
        }
    }

    /// A pageview `hours_ago` in the past; answers the attribution token.
    async fn visit(&self, visitor: &str, session: &str, url: &str, hours_ago: i64) -> String {
        let body = json!({"site": self.site, "name": "pageview", "url": url, "referrer": null,
                          "visitor_id": visitor, "session_id": session, "ts": unix_now() * 1000 - hours_ago * HOUR_MS});
        let response = self
            .t
            .client
            .post(format!("{}/api/event", self.t.public))
            .header("user-agent", CHROME)
            .header("origin", "https://shop.example.com")
            .header("x-forwarded-for", "198.51.100.9")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let (status, answer) = split(response).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        answer["token"].as_str().unwrap().to_string()
    }

    async fn whop_payment(&self, pay_id: &str, total: &str, metadata: Value) -> Value {
        let msg = format!("msg_{pay_id}_{}", metadata.to_string().len());
        let body = format!(
            r#"{{"id":"{msg}","api_version":"v1","type":"payment.succeeded","timestamp":"{}","company_id":"{COMPANY}",
"data":{{"id":"{pay_id}","status":"paid","currency":"usd","total":{total},"metadata":{metadata},"paid_at":"{}"}}}}"#,
            iso_ago(1),
            iso_ago(2)
        );
        let response = support::post_whop(&self.t.client, &self.hook_url(), &self.secret, &msg, body).await;
        let (status, receipt) = split(response).await;
        assert_eq!(status, StatusCode::OK, "{receipt}");
        receipt
    }

    async fn whop_refund(&self, refund_id: &str, pay_id: &str, amount: &str) {
        let msg = format!("msg_{refund_id}");
        let body = format!(
            r#"{{"id":"{msg}","api_version":"v1","type":"refund.created","timestamp":"{}",
"data":{{"id":"{refund_id}","amount":{amount},"currency":"usd","status":"succeeded","payment":{{"id":"{pay_id}"}}}}}}"#,
            iso_ago(1)
        );
        let response = support::post_whop(&self.t.client, &self.hook_url(), &self.secret, &msg, body).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    fn hook_url(&self) -> String {
        format!("{}/webhooks/whop/{}", self.t.public, self.whop)
    }

    async fn revenue(&self, body: Value) -> (StatusCode, Value) {
        self.revenue_as(&self.site, &self.write_key, body).await
    }

    async fn revenue_as(&self, site: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .t
            .client
            .post(format!("{}/api/revenue", self.t.public))
            .header("x-faurya-site-id", site)
            .header("x-faurya-write-key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        split(response).await
    }

    async fn payment(&self, provider_payment_id: &str) -> Value {
        let (status, body) = self.t.get(&format!("/payments?site={}", self.site)).await;
        assert_eq!(status, StatusCode::OK);
        body["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["provider_payment_id"] == provider_payment_id)
            .cloned()
            .unwrap_or_else(|| panic!("no payment {provider_payment_id}: {body}"))
    }

    async fn payments(&self) -> Vec<Value> {
        let (_, body) = self.t.get(&format!("/payments?site={}", self.site)).await;
        body["payments"].as_array().unwrap().clone()
    }

    async fn token_secret(&self) -> Vec<u8> {
        let keys = self.t.app().state().tracking.sites.keys(&self.site).await.unwrap().unwrap();
        keys.token_secret.expose().as_bytes().to_vec()
    }
}

/// The revenue rollups the triggers keep equal a direct recomputation from payments and refunds.
fn assert_rollups_match(t: &TestApp) {
    let conn = rusqlite::Connection::open(t.data_dir().join("faurya.db")).unwrap();
    let query = |sql: &str| -> Vec<(String, i64, String, i64, i64, i64, i64)> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let kept = query(
        "SELECT site_id, day, currency, payments, attributed, gross_minor, refunded_minor FROM revenue_daily
         WHERE payments != 0 OR gross_minor != 0 OR refunded_minor != 0 ORDER BY 1, 2, 3",
    );
    let direct = query(
        "SELECT coalesce(p.site_id, ''), coalesce(p.paid_at, p.created_at) / 86400000, p.currency, count(*),
                sum(p.visitor_id IS NOT NULL OR p.session_id IS NOT NULL OR p.attribution_token IS NOT NULL),
                sum(p.amount_minor),
                sum(coalesce((SELECT sum(r.amount_minor) FROM refunds r WHERE r.provider = p.provider
                              AND r.provider_payment_id = p.provider_payment_id AND r.counts = 1), 0))
         FROM payments p WHERE p.origin != 'test' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    assert!(!direct.is_empty());
    assert_eq!(kept, direct);
    let drift: i64 = conn
        .query_row(
            "SELECT count(*) FROM payments p WHERE p.refunded_minor != coalesce((SELECT sum(r.amount_minor) FROM refunds r
               WHERE r.provider = p.provider AND r.provider_payment_id = p.provider_payment_id AND r.counts = 1), 0)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(drift, 0, "every payment's refunded_minor equals its counted refunds");
    // The attribution rollups equal the payments' own model columns, for every model and key.
    for (model, p) in [("first_touch", "ft"), ("last_touch", "lt"), ("last_non_direct", "lnd")] {
        for (dim, column) in [
            ("channel", "channel"),
            ("source", "source"),
            ("campaign", "campaign"),
            ("landing_page", "landing"),
            ("referrer", "referrer"),
        ] {
            let rows = |sql: String| -> Vec<(String, i64, String, String, i64, i64)> {
                let mut stmt = conn.prepare(&sql).unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            };
            let kept = rows(format!(
                "SELECT site_id, day, currency, key, payments, net_minor FROM attribution_daily
                 WHERE model = '{model}' AND dimension = '{dim}' AND payments != 0 ORDER BY 1, 2, 3, 4"
            ));
            let direct = rows(format!(
                "SELECT coalesce(site_id, ''), coalesce(paid_at, created_at) / 86400000, currency,
                        CASE WHEN {p}_session IS NULL THEN '' ELSE coalesce({p}_{column}, '(none)') END AS k,
                        count(*), sum(amount_minor - refunded_minor)
                 FROM payments WHERE origin != 'test' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            ));
            assert_eq!(kept, direct, "{model} by {dim}");
        }
    }
}

fn channels(p: &Value) -> (Value, Value, Value) {
    let m = &p["models"];
    (m["first_touch"]["channel"].clone(), m["last_touch"]["channel"].clone(), m["last_non_direct"]["channel"].clone())
}

#[tokio::test]
async fn newsletter_then_direct_credits_email_first_direct_last_and_email_last_non_direct() {
    let s = Shop::start().await;
    s.visit(
        "visitor_news01",
        "session_day1",
        "https://shop.example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=launch",
        26,
    )
    .await;
    s.visit("visitor_news01", "session_day2", "https://shop.example.com/pricing", 1).await;
    let metadata = json!({"faurya_visitor_id": "visitor_news01", "faurya_session_id": "session_day2"});
    s.whop_payment("pay_news", "49.00", metadata).await;
    let p = s.payment("pay_news").await;
    assert_eq!(p["attribution_status"], "ids");
    assert_eq!(p["source"], "webhook");
    assert_eq!(channels(&p), (json!("Email"), json!("Direct"), json!("Email")), "{p}");
    assert_eq!(p["models"]["first_touch"]["campaign"], "launch");
    assert_eq!(p["models"]["last_touch"]["session_id"], "session_day2");

    // The table under each model, and the three side by side.
    let table = |model: &str| format!("/attribution?site={}&days=7&model={model}&by=channel", s.site);
    let (status, ft) = s.t.get(&table("first_touch")).await;
    assert_eq!(status, StatusCode::OK, "{ft}");
    assert_eq!(ft["currency"], "USD");
    assert_eq!(ft["rows"][0]["key"], "Email");
    assert_eq!(ft["rows"][0]["net_minor"], 4900);
    assert_eq!(ft["rows"][0]["payments"], 1);
    assert_eq!(ft["rows"][0]["visitors"], 1);
    assert_eq!(ft["rows"][0]["conversion_rate"], 1.0);
    let (_, lt) = s.t.get(&table("last_touch")).await;
    assert_eq!(lt["rows"][0]["key"], "Direct");
    // A channel with visitors and no sale is in the table, converting at 0.
    let email = lt["rows"].as_array().unwrap().iter().find(|r| r["key"] == "Email").unwrap_or_else(|| panic!("{lt}"));
    assert_eq!(
        (email["payments"].as_i64(), email["visitors"].as_i64(), email["conversion_rate"].as_f64()),
        (Some(0), Some(1), Some(0.0))
    );
    let (_, cmp) = s.t.get(&format!("/attribution/compare?site={}&days=7&by=channel", s.site)).await;
    let email = cmp["rows"].as_array().unwrap().iter().find(|r| r["key"] == "Email").unwrap();
    assert_eq!(email["first_touch"]["net_minor"], 4900);
    assert_eq!(email["last_touch"]["net_minor"], 0);
    assert_eq!(email["last_non_direct"]["net_minor"], 4900);
    let (_, by_campaign) = s.t.get(&format!("/attribution?site={}&days=7&model=first_touch&by=campaign", s.site)).await;
    assert_eq!(by_campaign["rows"][0]["key"], "launch");

    // The journey: both visits, oldest first, each tagged with the models that credit it.
    let (status, journey) = s.t.get(&format!("/payments/{}/journey", p["id"])).await;
    assert_eq!(status, StatusCode::OK, "{journey}");
    let sessions = journey["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["touches"], json!(["first_touch", "last_non_direct"]));
    assert_eq!(sessions[1]["touches"], json!(["last_touch"]));
    assert_eq!(sessions[1]["pages"][0]["path"], "/pricing");
    let (status, visitor) = s.t.get(&format!("/visitors/visitor_news01?site={}", s.site)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(visitor["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(visitor["payments"].as_array().unwrap().len(), 1);
    let (status, _) = s.t.get(&format!("/visitors/visitor_nobody?site={}", s.site)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_rollups_match(&s.t);
    s.t.stop().await;
}

#[tokio::test]
async fn a_valid_token_wins_over_edited_ids_and_a_bad_one_is_never_trusted() {
    let s = Shop::start().await;
    let token = s
        .visit("visitor_tok001", "session_tok001", "https://shop.example.com/?utm_source=google&utm_medium=cpc", 2)
        .await;
    s.visit("visitor_other1", "session_other1", "https://shop.example.com/", 1).await;
    // The checkout's plain ids were edited to another visitor; the signed token says who it was.
    let meta = json!({"faurya_visitor_id": "visitor_other1", "faurya_session_id": "session_other1", "faurya_attribution_token": token});
    s.whop_payment("pay_tok", "10", meta).await;
    let p = s.payment("pay_tok").await;
    assert_eq!(p["attribution_status"], "verified", "{p}");
    assert_eq!(p["models"]["last_touch"]["session_id"], "session_tok001");

    let secret = s.token_secret().await;
    let cases = [
        ("pay_forged", token.replace("visitor_tok001", "visitor_other1"), "signature"),
        (
            "pay_expired",
            token::issue(&secret, &s.site, "visitor_tok001", "session_tok001", unix_now() - 31 * 86_400),
            "expired",
        ),
        (
            "pay_othersite",
            token::issue(&secret, "site_someoneelse", "visitor_tok001", "session_tok001", unix_now()),
            "another site",
        ),
        ("pay_garbage", "not-a-token".to_string(), "format"),
    ];
    for (pay, bad, why) in cases {
        let meta = json!({"faurya_visitor_id": "visitor_other1", "faurya_session_id": "session_other1", "faurya_attribution_token": bad});
        s.whop_payment(pay, "10", meta).await;
        let p = s.payment(pay).await;
        assert_eq!(p["attribution_status"], "unverified", "{pay}: {p}");
        assert!(p["attribution_note"].as_str().unwrap().contains(why), "{pay}: {p}");
        assert_eq!(p["models"]["last_touch"]["session_id"], "session_other1", "plain ids kept: {pay}");
    }
    s.t.stop().await;
}

#[tokio::test]
async fn payments_that_arrive_before_their_sessions_are_linked_when_the_events_land() {
    let s = Shop::start().await;
    s.whop_payment(
        "pay_early",
        "25",
        json!({"faurya_visitor_id": "visitor_late01", "faurya_session_id": "session_late01"}),
    )
    .await;
    let p = s.payment("pay_early").await;
    assert_eq!(p["models"]["last_touch"], Value::Null);
    assert!(p["attribution_note"].as_str().unwrap().contains("unknown"), "{p}");
    // The browser's queued events arrive afterwards, with their original (earlier) times.
    s.visit("visitor_late01", "session_late01", "https://shop.example.com/?ref=producthunt", 3).await;
    let p = s.payment("pay_early").await;
    assert_eq!(p["models"]["last_touch"]["session_id"], "session_late01", "{p}");
    assert_eq!(p["models"]["last_touch"]["channel"], "Organic Social");
    assert_eq!(p["attribution_note"], Value::Null);

    // Only a visitor id, and that visitor never shows up: kept, "visitor known, session unknown".
    s.whop_payment("pay_ghost", "5", json!({"faurya_visitor_id": "visitor_ghost1"})).await;
    let p = s.payment("pay_ghost").await;
    assert_eq!(p["attribution_status"], "ids");
    assert!(p["attribution_note"].as_str().unwrap().starts_with("visitor known, session unknown"), "{p}");
    let (_, table) = s.t.get(&format!("/attribution?site={}&days=7", s.site)).await;
    assert_eq!(table["unattributed"], json!({"payments": 1, "net_minor": 500}), "{table}");
    assert_rollups_match(&s.t);
    s.t.stop().await;
}

#[tokio::test]
async fn the_revenue_api_records_purchases_and_refunds_once_and_checks_everything() {
    let s = Shop::start().await;
    let token = s.visit("visitor_api001", "session_api001", "https://shop.example.com/?utm_source=newsletter", 1).await;
    let purchase = json!({"event": "purchase", "amount": 1999, "currency": "usd", "orderId": "ord_api_1",
        "provider": "paddle", "providerPaymentId": "txn_api_1",
        "attribution": {"faVisitorId": "visitor_api001", "faSessionId": "session_api001", "faAttributionToken": token}});
    let (status, first) = s.revenue(purchase.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["payment"]["source"], "api");
    assert_eq!(first["payment"]["amount_minor"], 1999);
    assert_eq!(first["payment"]["currency"], "USD");
    assert_eq!(first["payment"]["attribution_status"], "verified");
    assert_eq!(first["payment"]["models"]["first_touch"]["channel"], "Email");
    let (status, again) = s.revenue(purchase.clone()).await;
    assert_eq!((status, &again["duplicate"]), (StatusCode::OK, &json!(true)), "{again}");
    assert_eq!(again["payment"]["id"], first["payment"]["id"]);
    // Same order id, another providerPaymentId spelling: still the same order.
    let mut by_order = purchase.clone();
    by_order.as_object_mut().unwrap().remove("providerPaymentId");
    let (status, _) = s.revenue(by_order).await;
    assert_eq!(status, StatusCode::OK);

    // Refunds reduce net once.
    let refund =
        json!({"event": "refund", "amount": 500, "currency": "USD", "orderId": "ord_api_1", "refundId": "re_1"});
    let (status, r) = s.revenue(refund.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["payment"]["net_minor"], 1499);
    let (status, r) = s.revenue(refund).await;
    assert_eq!((status, r["payment"]["net_minor"].as_i64()), (StatusCode::OK, Some(1499)));
    let (status, missing) =
        s.revenue(json!({"event": "refund", "amount": 1, "currency": "USD", "orderId": "ord_nope"})).await;
    assert_eq!((status, error_code(&missing)), (StatusCode::NOT_FOUND, "not_found"), "{missing}");

    // Credentials: a missing or wrong key, or an unknown site, read the same.
    let mut answers = Vec::new();
    for (site, key) in
        [(s.site.as_str(), "fw_wrong"), ("site_doesnotexist", s.write_key.as_str()), (s.site.as_str(), "")]
    {
        let (status, body) = s.revenue_as(site, key, purchase.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "no hint of which site exists: {answers:?}");
    let response = s.t.client.post(format!("{}/api/revenue", s.t.public)).json(&purchase).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Bad bodies name the field; nothing is recorded.
    for (field, value) in
        [("amount", json!(19.99)), ("amount", json!("1999")), ("currency", json!("DOLLARS")), ("event", json!("sale"))]
    {
        let mut bad = purchase.clone();
        bad[field] = value;
        bad["orderId"] = json!("ord_bad");
        let (status, body) = s.revenue(bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert!(body["error"]["fields"][field].is_string(), "{body}");
    }
    let response =
        s.t.client
            .post(format!("{}/api/revenue", s.t.public))
            .header("x-faurya-site-id", &s.site)
            .header("x-faurya-write-key", &s.write_key)
            .body("{not json")
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.payments().await.len(), 1);

    // Every call is in the inspector, without the write key.
    let (_, events) = s.t.get("/events?provider=api").await;
    let list = events["events"].as_array().unwrap();
    assert!(list.len() >= 5, "{events}");
    let (_, one) = s.t.get(&format!("/events/{}", list[0]["id"].as_str().unwrap())).await;
    assert!(!one.to_string().contains(&s.write_key), "the write key is never stored");
    // API calls are not reprocessable, and not provider connections.
    let (status, _) = s.t.post(&format!("/events/{}/reprocess", list[0]["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, connections) = s.t.get("/connections").await;
    assert_eq!(connections["connections"].as_array().unwrap().len(), 1, "{connections}");
    assert_rollups_match(&s.t);
    s.t.stop().await;
}

#[tokio::test]
async fn a_payment_reported_by_webhook_and_api_counts_once_in_either_order() {
    let s = Shop::start().await;
    // Webhook first, then the API for the same Whop payment.
    s.whop_payment("pay_both1", "30", json!({"faurya_visitor_id": "visitor_both01"})).await;
    let (status, answer) = s
        .revenue(json!({"event": "purchase", "amount": 3000, "currency": "USD", "provider": "whop", "providerPaymentId": "pay_both1"}))
        .await;
    assert_eq!((status, &answer["duplicate"]), (StatusCode::OK, &json!(true)), "{answer}");
    // API first (by order id only), then the webhook naming the same order.
    let (status, _) = s
        .revenue(
            json!({"event": "purchase", "amount": 4000, "currency": "USD", "provider": "whop", "orderId": "ord_both2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    s.whop_payment("pay_both2", "40", json!({"faurya_order_id": "ord_both2"})).await;
    // API first with the provider id, then the webhook.
    let (status, _) = s
        .revenue(json!({"event": "purchase", "amount": 5000, "currency": "USD", "provider": "whop", "providerPaymentId": "pay_both3"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let receipt = s.whop_payment("pay_both3", "50", json!({})).await;
    assert_eq!(receipt["status"], "duplicate", "{receipt}");

    let payments = s.payments().await;
    assert_eq!(payments.len(), 3, "{payments:?}");
    let total: i64 = payments.iter().map(|p| p["net_minor"].as_i64().unwrap()).sum();
    assert_eq!(total, 12000);
    let adopted = s.payment("pay_both2").await;
    assert_eq!(adopted["order_id"], "ord_both2");
    let (_, summary) = s.t.get(&format!("/revenue/summary?days=7&site={}", s.site)).await;
    assert_eq!(summary["all_time"][0]["net_minor"], 12000, "{summary}");
    // A refund that arrives before its payment, and a payment whose time and ids change later.
    s.whop_refund("rfnd_early", "pay_later", "3").await;
    s.whop_payment("pay_later", "10", json!({})).await;
    s.whop_payment("pay_later", "10", json!({"faurya_visitor_id": "visitor_late02"})).await;
    let (_, summary) = s.t.get(&format!("/revenue/summary?days=7&site={}", s.site)).await;
    assert_eq!(summary["all_time"][0]["net_minor"], 12700, "{summary}");
    assert_eq!(summary["all_time"][0]["attributed"], 2, "{summary}");
    assert_rollups_match(&s.t);
    s.t.stop().await;
}

#[tokio::test]
async fn exports_are_csv_that_spreadsheets_read_safely() {
    let s = Shop::start().await;
    s.visit(
        "visitor_csv001",
        "session_csv001",
        "https://shop.example.com/?utm_source=newsletter&utm_campaign=%3DSUM(A1)",
        1,
    )
    .await;
    s.whop_payment(
        "pay_csv",
        "12.50",
        json!({"faurya_visitor_id": "visitor_csv001", "faurya_session_id": "session_csv001"}),
    )
    .await;
    let get = |path: String| {
        let client = s.t.client.clone();
        let url = s.t.api(&path);
        async move { client.get(url).bearer_auth(support::TOKEN).send().await.unwrap() }
    };
    let response = get(format!("/payments.csv?site={}", s.site)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("paid_at,provider,provider_payment_id"), "{text}");
    assert!(lines[1].contains(",pay_csv,") && lines[1].contains(",12.50,") && lines[1].contains(",Email,"), "{text}");
    assert!(lines[1].contains("'=SUM(A1)"), "a campaign is never a formula: {text}");

    let text = get(format!("/attribution.csv?site={}&days=7&model=first_touch&by=campaign", s.site))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("campaign,visitors,payments,net,currency"), "{text}");
    assert!(text.contains("'=SUM(A1),1,1,12.50,USD"), "{text}");
    let text = get(format!("/attribution/compare.csv?site={}&days=7", s.site)).await.text().await.unwrap();
    assert!(text.contains("Email,1,1,12.50,1,12.50,1,12.50,USD"), "{text}");
    let (status, body) = s.t.get(&format!("/attribution?site={}&model=linear", s.site)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = s.t.get(&format!("/attribution?site={}&by=country", s.site)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = s.t.get(&format!("/attribution?site={}&currency=ZZZ", s.site)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    s.t.stop().await;
}
