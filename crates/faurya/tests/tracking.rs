//! Tracking over real HTTP: sites in the admin API, the script and the event endpoint on the
//! public listener (every refusal), sessions with frozen entry fields and channels, the traffic
//! rollups, and connections from before sites given to the first site.

mod support;

use faurya::attribution::token;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, error_code, split};

const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

fn now_ms() -> i64 {
    support::unix_now() * 1000
}

/// A site for `shop.example.com` and what is needed to send events to it.
struct Shop {
    t: TestApp,
    site: String,
    /// Each sender gets its own address (as the tunnel reports it), so the per-address rate
    /// limit only applies where a test means it to.
    addr: String,
}

impl Shop {
    async fn start() -> Self {
        let t = TestApp::start().await;
        let (status, site) = t.post("/sites", json!({"name": "Shop", "domains": ["shop.example.com"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{site}");
        Self { site: site["id"].as_str().unwrap().to_string(), t, addr: "198.51.100.1".into() }
    }

    fn event(&self, session: &str, url: &str, referrer: Option<&str>) -> Value {
        json!({"site": self.site, "name": "pageview", "url": url, "referrer": referrer,
               "visitor_id": "visitor_0001", "session_id": session, "ts": now_ms()})
    }

    async fn send_raw(
        &self,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
        let mut map = HeaderMap::new();
        let defaults = [
            ("content-type", "text/plain;charset=UTF-8"),
            ("user-agent", CHROME),
            ("origin", "https://shop.example.com"),
            ("x-forwarded-for", self.addr.as_str()),
        ];
        // A test's own headers replace the defaults (a second value would be a different case).
        for (name, value) in defaults.iter().chain(headers) {
            map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        let request = self.t.client.post(format!("{}/api/event", self.t.public)).headers(map).body(body);
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let (status, body) = split(response).await;
        (status, body, headers)
    }

    async fn send(&self, event: &Value) -> (StatusCode, Value) {
        let (status, body, _) = self.send_raw(event.to_string(), &[]).await;
        (status, body)
    }

    async fn session(&self, id: &str) -> Value {
        let (status, body) = self.t.get(&format!("/sessions/{id}?site={}", self.site)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn sessions(&self) -> Vec<Value> {
        let (status, body) = self.t.get(&format!("/sessions?site={}", self.site)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["sessions"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn there_is_always_a_first_site_and_sites_can_be_managed() {
    let t = TestApp::start().await;
    let (status, list) = t.get("/sites").await;
    assert_eq!(status, StatusCode::OK);
    let sites = list["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{list}");
    assert_eq!(sites[0]["name"], "My site");
    assert!(sites[0]["id"].as_str().unwrap().starts_with("site_"));
    assert!(sites[0].get("write_key").is_none(), "no plain key in a list");

    let (status, created) =
        t.post("/sites", json!({"name": " Acme ", "domains": ["https://www.Acme.io/pricing", "acme.io"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["domains"], json!(["acme.io"]));
    let key = created["write_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("fw_"));
    assert!(created["masked_write_key"].as_str().unwrap().ends_with(&key[key.len() - 4..]));
    let id = created["id"].as_str().unwrap();

    let (_, revealed) = t.get(&format!("/sites/{id}/write-key")).await;
    assert_eq!(revealed["write_key"], key);
    let (status, rotated) = t.post(&format!("/sites/{id}/write-key"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(rotated["write_key"], key);
    let (_, revealed) = t.get(&format!("/sites/{id}/write-key")).await;
    assert_eq!(revealed["write_key"], rotated["write_key"]);

    let (status, patched) = t.patch(&format!("/sites/{id}"), json!({"domains": ["acme.io", "acme.dev"]})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["domains"], json!(["acme.io", "acme.dev"]));
    assert_eq!(patched["name"], "Acme");

    for (body, field) in [
        (json!({"domains": []}), "name"),
        (json!({"name": "", "domains": []}), "name"),
        (json!({"name": 5}), "name"),
        (json!({"name": "X", "domains": ["not a domain"]}), "domains"),
        (json!({"name": "X", "domains": "acme.io"}), "domains"),
        (json!({"name": "X", "domains": [1]}), "domains"),
    ] {
        let (status, answer) = t.post("/sites", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{body}: {answer}");
    }
    let (status, answer) = t.post("/sites", json!({"name": "X", "extra": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    for path in ["/sites/site_nope", "/sites/site_nope/write-key", "/sites/site_nope/install"] {
        let (status, answer) = t.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }
    let (status, _) = t.patch("/sites/site_nope", json!({"name": "Y"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    t.stop().await;
}

#[tokio::test]
async fn the_install_panel_gives_the_snippet_and_says_when_the_url_is_not_stable() {
    let t = TestApp::start().await;
    let (_, list) = t.get("/sites").await;
    let id = list["sites"][0]["id"].as_str().unwrap().to_string();
    let (status, install) = t.get(&format!("/sites/{id}/install")).await;
    assert_eq!(status, StatusCode::OK, "{install}");
    assert_eq!(install["snippet"], Value::Null, "no public URL yet");
    assert_eq!(install["public_url_stable"], false);
    assert!(install["public_url_note"].as_str().unwrap().contains("Settings"));

    let (status, _) = t.put("/settings", json!({"public_url": support::PUBLIC_URL})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, install) = t.get(&format!("/sites/{id}/install")).await;
    assert_eq!(
        install["snippet"],
        format!(r#"<script defer src="{}/js/script.js" data-site="{id}"></script>"#, support::PUBLIC_URL)
    );
    assert_eq!(install["public_url_stable"], true, "a URL of your own survives restarts");
    assert_eq!(install["first_event"], Value::Null);
    t.stop().await;
}

#[tokio::test]
async fn the_script_is_served_small_cached_and_cross_origin() {
    let t = TestApp::start().await;
    let response = t.client.get(format!("{}/js/script.js", t.public)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(headers["access-control-allow-origin"], "*");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let body = response.bytes().await.unwrap();
    assert_eq!(body.as_ref(), faurya::tracking::SCRIPT.as_bytes());
    let again = t.client.get(format!("{}/js/script.js", t.public)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // Not on the admin listener, and nothing of the admin API on the public one.
    let admin = t.client.get(format!("{}/js/script.js", t.admin)).send().await.unwrap();
    assert_ne!(admin.status(), StatusCode::OK);
    let (status, _) = split(t.client.get(format!("{}/api/sites", t.public)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    t.stop().await;
}

#[tokio::test]
async fn a_pageview_creates_a_session_with_its_entry_fields_channel_and_a_token() {
    let s = Shop::start().await;
    let landing =
        "https://shop.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=launch&gclid=abc";
    let (status, answer, headers) =
        s.send_raw(s.event("session_0001", landing, Some("https://mail.google.com/")).to_string(), &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let token = answer["token"].as_str().unwrap();

    // The token vouches for this visitor and session, on this site only.
    let (_, key) = s.t.get(&format!("/sites/{}/write-key", s.site)).await;
    assert!(key["write_key"].is_string());
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!((parts[0], parts[1], parts[2]), ("v1", "visitor_0001", "session_0001"));

    let session = s.session("session_0001").await;
    assert_eq!(session["visitor_id"], "visitor_0001");
    assert_eq!(session["site_id"], s.site);
    assert_eq!(session["landing_page"], "/pricing");
    assert_eq!(session["referrer"], "https://mail.google.com/");
    assert_eq!(session["source"], "newsletter");
    assert_eq!(session["utm_medium"], "email");
    assert_eq!(session["utm_campaign"], "launch");
    assert_eq!(session["click_id"], "gclid");
    assert_eq!(session["channel"], "Email");
    assert_eq!(session["pageviews"], 1);
    assert_eq!(session["events"].as_array().unwrap().len(), 1);

    // Later events extend the session; a new UTM or referrer inside it does not split it or
    // change its entry (the payment provider's return trip must not take the credit).
    let back = s.event(
        "session_0001",
        "https://shop.example.com/thanks?utm_source=paddle",
        Some("https://checkout.paddle.com/"),
    );
    assert_eq!(s.send(&back).await.0, StatusCode::ACCEPTED);
    let mut goal = s.event("session_0001", "https://shop.example.com/thanks", None);
    goal["name"] = json!("signup");
    goal["props"] = json!({"plan": "pro"});
    assert_eq!(s.send(&goal).await.0, StatusCode::ACCEPTED);
    let session = s.session("session_0001").await;
    assert_eq!(session["channel"], "Email");
    assert_eq!(session["source"], "newsletter");
    assert_eq!(session["pageviews"], 2);
    let events = session["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["name"], "signup");
    assert_eq!(events[2]["props"], json!({"plan": "pro"}));
    assert_eq!(s.sessions().await.len(), 1);

    // The site now shows as installed.
    let (_, install) = s.t.get(&format!("/sites/{}/install", s.site)).await;
    assert!(install["first_event"]["url"].as_str().unwrap().contains("/pricing"), "{install}");
    let (_, live) = s.t.get(&format!("/live?site={}", s.site)).await;
    assert_eq!(live["visitors"], 1, "{live}");
    s.t.stop().await;
}

#[tokio::test]
async fn the_token_verifies_with_the_sites_secret() {
    let s = Shop::start().await;
    let (_, answer) = s.send(&s.event("session_0002", "https://shop.example.com/", None)).await;
    let token = answer["token"].as_str().unwrap();
    // The secret is sealed; the app's own directory opens it.
    let keys = s.t.app().state().tracking.sites.keys(&s.site).await.unwrap().unwrap();
    let secret = keys.token_secret.expose().as_bytes();
    let claims = token::verify(secret, &s.site, token, support::unix_now(), token::DEFAULT_MAX_AGE_SECS).unwrap();
    assert_eq!(claims.session_id, "session_0002");
    assert_eq!(
        token::verify(secret, "site_other", token, support::unix_now(), token::DEFAULT_MAX_AGE_SECS),
        Err(token::TokenError::BadSignature)
    );
    s.t.stop().await;
}

#[tokio::test]
async fn every_bad_event_is_refused_with_its_reason_and_stores_nothing() {
    let s = Shop::start().await;
    let good = s.event("session_0003", "https://shop.example.com/", None);
    let with = |field: &str, value: Value| {
        let mut e = good.clone();
        e[field] = value;
        e.to_string()
    };
    // (body, extra headers, expected status, expected error code)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let mut cases: Vec<Case> = vec![
        ("{not json".into(), vec![], StatusCode::BAD_REQUEST, "invalid_json"),
        ("[]".into(), vec![], StatusCode::BAD_REQUEST, "invalid_event"),
        ("".into(), vec![], StatusCode::BAD_REQUEST, "invalid_json"),
        (with("site", json!("site_doesnotexist")), vec![], StatusCode::BAD_REQUEST, "unknown_site"),
        (with("site", json!("../../etc")), vec![], StatusCode::BAD_REQUEST, "invalid_site"),
        (with("url", json!("https://evil.example.net/")), vec![], StatusCode::FORBIDDEN, "domain_not_allowed"),
        (good.to_string(), vec![("origin", "https://evil.example.net")], StatusCode::FORBIDDEN, "domain_not_allowed"),
        (with("url", json!("https://notshop.example.com/")), vec![], StatusCode::FORBIDDEN, "domain_not_allowed"),
        (with("visitor_id", json!("x")), vec![], StatusCode::BAD_REQUEST, "invalid_id"),
        (with("session_id", json!("<script>alert(1)</script>")), vec![], StatusCode::BAD_REQUEST, "invalid_id"),
        (with("ts", json!(now_ms() - 73 * 3600 * 1000)), vec![], StatusCode::BAD_REQUEST, "stale_event"),
        (with("ts", json!(now_ms() + 3600 * 1000)), vec![], StatusCode::BAD_REQUEST, "future_event"),
        (
            with("url", json!(format!("https://shop.example.com/{}", "a".repeat(2001)))),
            vec![],
            StatusCode::BAD_REQUEST,
            "url_too_long",
        ),
        (with("props", json!({"deep": {"er": 1}})), vec![], StatusCode::BAD_REQUEST, "invalid_props"),
        (format!("{{\"pad\":\"{}\"}}", "x".repeat(9000)), vec![], StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    ];
    // Invalid UTF-8 is bad JSON, not a crash.
    cases.push((
        String::from_utf8_lossy(b"{\"site\":\"\xff\xfe\"}").into_owned(),
        vec![],
        StatusCode::BAD_REQUEST,
        "invalid_site",
    ));
    for (body, headers, status, code) in cases {
        let (got, answer, response_headers) = s.send_raw(body.clone(), &headers).await;
        assert_eq!(got, status, "{}: {answer}", &body[..body.len().min(80)]);
        assert_eq!(error_code(&answer), code, "{}", &body[..body.len().min(80)]);
        assert_eq!(response_headers["access-control-allow-origin"], "*", "the page can read why");
    }
    let (got, answer, _) = s.send_raw(vec![0xff, 0xfe, 0x00], &[]).await;
    assert_eq!((got, error_code(&answer)), (StatusCode::BAD_REQUEST, "invalid_json"));

    // A lying Content-Length bigger than the limit is refused before reading.
    let (got, _, _) = s.send_raw("{}", &[("content-length", "100000000")]).await;
    assert!(got == StatusCode::PAYLOAD_TOO_LARGE || got == StatusCode::BAD_REQUEST, "{got}");

    assert!(s.sessions().await.is_empty(), "nothing stored");
    // The good event is still accepted afterwards.
    assert_eq!(s.send(&good).await.0, StatusCode::ACCEPTED);
    s.t.stop().await;
}

#[tokio::test]
async fn a_site_without_domains_says_what_to_add() {
    let t = TestApp::start().await;
    let (_, list) = t.get("/sites").await;
    let site = list["sites"][0]["id"].as_str().unwrap();
    let event = json!({"site": site, "name": "pageview", "url": "https://mine.example.org/", "visitor_id": "visitor_0001",
                       "session_id": "session_0001"});
    let (status, answer) = split(
        t.client
            .post(format!("{}/api/event", t.public))
            .header("user-agent", CHROME)
            .body(event.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(error_code(&answer), "no_domains");
    assert!(answer["error"]["message"].as_str().unwrap().contains("mine.example.org"));
    t.stop().await;
}

#[tokio::test]
async fn bots_and_referrer_spam_are_dropped_quietly() {
    let s = Shop::start().await;
    let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    for ua in [bot, "curl/8.5.0", ""] {
        let (status, answer, _) = s
            .send_raw(s.event("session_0004", "https://shop.example.com/", None).to_string(), &[("user-agent", ua)])
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{ua}: {answer}");
        assert_eq!(answer, json!({"token": null, "ignored": "bot"}));
    }
    let spam = s.event("session_0004", "https://shop.example.com/", Some("https://www.semalt.com/crawler"));
    let (status, answer) = s.send(&spam).await;
    assert_eq!((status, answer["ignored"].as_str()), (StatusCode::ACCEPTED, Some("spam")));
    assert!(s.sessions().await.is_empty());
    s.t.stop().await;
}

#[tokio::test]
async fn one_address_flooding_is_rate_limited_others_are_not() {
    let mut s = Shop::start().await;
    s.addr = "198.51.100.66".into();
    let mut limited = None;
    for i in 0..400 {
        let (status, answer, headers) = s
            .send_raw(s.event(&format!("session_flood{i:04}"), "https://shop.example.com/", None).to_string(), &[])
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(&answer), "rate_limited");
            assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            limited = Some(i);
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    }
    let limited = limited.expect("a flood is limited");
    assert!(limited >= 150, "a burst from one office passes: limited after {limited}");
    s.addr = "198.51.100.67".into();
    assert_eq!(s.send(&s.event("session_other", "https://shop.example.com/", None)).await.0, StatusCode::ACCEPTED);
    s.t.stop().await;
}

#[tokio::test]
async fn the_preflight_is_answered_for_hand_written_clients() {
    let t = TestApp::start().await;
    let response = t
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/api/event", t.public))
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(response.headers()["access-control-allow-methods"], "POST");
    t.stop().await;
}

#[tokio::test]
async fn traffic_comes_from_the_rollups_with_visitors_bounces_and_top_lists() {
    let s = Shop::start().await;
    let send = |visitor: &str, session: &str, url: &str, referrer: Option<&str>| {
        let mut e = s.event(session, url, referrer);
        e["visitor_id"] = json!(visitor);
        e
    };
    // Visitor A: two sessions today from Hacker News (one visitor, two sessions), one bounced.
    for e in [
        send(
            "visitor_aaaa",
            "session_a001",
            "https://shop.example.com/",
            Some("https://news.ycombinator.com/item?id=1"),
        ),
        send("visitor_aaaa", "session_a001", "https://shop.example.com/pricing", None),
        send("visitor_aaaa", "session_a002", "https://shop.example.com/blog", Some("https://news.ycombinator.com/")),
        // Visitor B: a direct visit with three pages.
        send("visitor_bbbb", "session_b001", "https://shop.example.com/", None),
        send("visitor_bbbb", "session_b001", "https://shop.example.com/a", None),
        send("visitor_bbbb", "session_b001", "https://shop.example.com/b", None),
        // Visitor C: a campaign.
        send(
            "visitor_cccc",
            "session_c001",
            "https://shop.example.com/?utm_source=twitter&utm_medium=paid&utm_campaign=bf",
            None,
        ),
    ] {
        assert_eq!(s.send(&e).await.0, StatusCode::ACCEPTED);
    }
    let (status, traffic) = s.t.get(&format!("/traffic?site={}&days=7", s.site)).await;
    assert_eq!(status, StatusCode::OK, "{traffic}");
    assert_eq!(traffic["visitors"], 3);
    assert_eq!(traffic["sessions"], 4);
    assert_eq!(traffic["pageviews"], 7);
    assert_eq!(traffic["bounce_rate"], 0.5, "a002 and c001 bounced");
    let row = |list: &str, key: &str| -> Value {
        traffic[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{list} {key}: {traffic}"))
    };
    assert_eq!(row("channels", "Organic Social"), json!({"key": "Organic Social", "visitors": 1, "sessions": 2}));
    assert_eq!(row("channels", "Direct")["sessions"], 1);
    assert_eq!(row("channels", "Paid Social")["visitors"], 1);
    assert_eq!(row("sources", "Hacker News")["sessions"], 2);
    assert_eq!(row("campaigns", "bf")["visitors"], 1);
    assert_eq!(row("landing_pages", "/")["sessions"], 3);
    assert_eq!(row("referrers", "news.ycombinator.com")["sessions"], 2);
    assert_eq!(traffic["daily"].as_array().unwrap().len(), 1);

    // Sessions list: newest first, filtered by channel, paged.
    let (_, page) = s.t.get(&format!("/sessions?site={}&limit=2", s.site)).await;
    assert_eq!(page["sessions"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap();
    let (_, rest) = s.t.get(&format!("/sessions?site={}&limit=2&before={next}", s.site)).await;
    assert_eq!(rest["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next"], Value::Null);
    let (_, social) = s.t.get(&format!("/sessions?site={}&channel=Organic%20Social", s.site)).await;
    assert_eq!(social["sessions"].as_array().unwrap().len(), 2);
    for (query, field) in [("channel=Nope", "channel"), ("limit=0", "limit"), ("days=0", "days")] {
        let (status, answer) = s.t.get(&format!("/sessions?site={}&{query}", s.site)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    let (status, _) = s.t.get(&format!("/sessions?site={}&before=garbage", s.site)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s.t.get("/sessions/session_unknown").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.t.stop().await;
}

#[tokio::test]
async fn events_queued_offline_start_the_session_at_the_earliest() {
    let s = Shop::start().await;
    // The queued landing (an hour ago, from a newsletter) and the new pageview arrive together.
    let mut queued = s.event("session_q001", "https://shop.example.com/?utm_source=newsletter", None);
    queued["ts"] = json!(now_ms() - 3600 * 1000);
    let fresh = s.event("session_q001", "https://shop.example.com/pricing", None);
    let (a, b) = tokio::join!(s.send(&fresh), s.send(&queued));
    assert_eq!((a.0, b.0), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let session = s.session("session_q001").await;
    assert_eq!(session["pageviews"], 2);
    let events = session["events"].as_array().unwrap();
    assert_eq!(events[0]["path"], "/", "ordered by time: {session}");
    s.t.stop().await;
}

#[tokio::test]
async fn connections_from_before_sites_belong_to_the_first_site() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A version-2 database with a connection, a delivery and a payment, as the last release left it.
    {
        let mut conn = rusqlite::Connection::open(data.join("faurya.db")).unwrap();
        let v2 = [include_str!("../migrations/0001_init.sql"), include_str!("../migrations/0002_delivery_search.sql")];
        let tx = conn.transaction().unwrap();
        for sql in v2 {
            tx.execute_batch(sql).unwrap();
        }
        tx.execute_batch(
            "INSERT INTO connections (id, provider, environment, account_id, key_last4, status, created_at)
                 VALUES ('con_old', 'whop', 'production', 'biz_1', 'abcd', 'removed', 1);
             INSERT INTO payments (provider, connection_id, provider_payment_id, amount_minor, currency, status, created_at, updated_at)
                 VALUES ('whop', 'con_old', 'pay_old', 500, 'USD', 'paid', 1, 1);
             PRAGMA user_version = 2;",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let t = TestApp::start_in(dir, |_| {}).await;
    let (_, sites) = t.get("/sites").await;
    let first = sites["sites"][0]["id"].as_str().unwrap().to_string();
    let (_, payments) = t.get(&format!("/payments?site={first}")).await;
    assert_eq!(payments["payments"].as_array().unwrap().len(), 1, "{payments}");
    assert_eq!(payments["payments"][0]["site_id"], first);
    let (_, none) = t.get("/payments?site=site_other").await;
    assert!(none["payments"].as_array().unwrap().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_refused_event_is_explained_on_the_install_panel() {
    let s = Shop::start().await;
    let (status, _) = s.send(&s.event("session_r001", "https://blog.other.org/", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, install) = s.t.get(&format!("/sites/{}/install", s.site)).await;
    assert_eq!(install["last_refusal"]["code"], "domain_not_allowed", "{install}");
    assert!(install["last_refusal"]["message"].as_str().unwrap().contains("blog.other.org"));
    s.t.stop().await;
}

#[tokio::test]
async fn only_an_empty_site_can_be_removed_and_never_the_last() {
    let s = Shop::start().await;
    let (_, list) = s.t.get("/sites").await;
    let first = list["sites"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(s.send(&s.event("session_d001", "https://shop.example.com/", None)).await.0, StatusCode::ACCEPTED);
    let (status, answer) = s.t.delete(&format!("/sites/{}", s.site)).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "site_not_empty"), "{answer}");
    let (status, _) = s.t.delete(&format!("/sites/{first}")).await;
    assert_eq!(status, StatusCode::OK, "the empty first site goes");
    let (status, answer) = s.t.delete(&format!("/sites/{}", s.site)).await;
    assert_eq!(status, StatusCode::CONFLICT, "never the last: {answer}");
    let (status, _) = s.t.delete("/sites/site_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.t.stop().await;
}

#[tokio::test]
async fn sessions_from_an_older_channel_table_are_recomputed_at_start() {
    let s = Shop::start().await;
    let e = s.event("session_v001", "https://shop.example.com/", Some("https://www.bing.com/"));
    assert_eq!(s.send(&e).await.0, StatusCode::ACCEPTED);
    let site = s.site.clone();
    let dir = s.t.stop().await;
    // As if an older table had called it Referral.
    {
        let conn = rusqlite::Connection::open(dir.path().join("data").join("faurya.db")).unwrap();
        conn.execute("UPDATE sessions SET channel = 'Referral', source = 'bing.com', channel_version = 0", []).unwrap();
        conn.execute("UPDATE traffic_daily SET key = 'Referral' WHERE dimension = 'channel'", []).unwrap();
    }
    let t = TestApp::start_in(dir, |_| {}).await;
    let (_, session) = t.get(&format!("/sessions/session_v001?site={site}")).await;
    assert_eq!(session["channel"], "Organic Search", "{session}");
    assert_eq!(session["source"], "Bing");
    assert_eq!(session["channel_version"], faurya::tracking::channel::TABLE_VERSION);
    let (_, traffic) = t.get(&format!("/traffic?site={site}&days=1")).await;
    assert_eq!(traffic["channels"], json!([{"key": "Organic Search", "visitors": 1, "sessions": 1}]), "{traffic}");
    t.stop().await;
}
