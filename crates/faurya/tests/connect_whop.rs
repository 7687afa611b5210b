//! Connecting and removing Whop, through the admin API on loopback against the fake Whop API.

mod support;

use faurya_fakes::Failure;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{PUBLIC_URL, TestApp, app_with_fakes, error_code, quick_providers};

const KEY: &str = "whop_key_live_0123456789abcdef3f9a";
const COMPANY: &str = "biz_acme123";

fn form() -> Value {
    json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})
}

async fn connected() -> (TestApp, faurya_fakes::FakeProviders, Value) {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let (status, body) = t.post("/connections/whop", form()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (t, fakes, body)
}

#[tokio::test]
async fn connect_creates_the_webhook_and_shows_only_a_masked_key() {
    let (t, fakes, connection) = connected().await;
    let id = connection["id"].as_str().unwrap();
    assert!(id.starts_with("con_"));
    assert_eq!(connection["provider"], "whop");
    assert_eq!(connection["environment"], "production");
    assert_eq!(connection["account_id"], COMPANY);
    assert_eq!(connection["masked_key"], "••••••••3f9a");
    let expected_url = format!("{PUBLIC_URL}/webhooks/whop/{id}");
    assert_eq!(connection["webhook_url"], expected_url);
    assert!(connection["webhook_id"].as_str().unwrap().starts_with("hook_"));

    // What Whop received: the documented shape, our pinned version, the key as a bearer token.
    let create = fakes.requests().into_iter().find(|r| r.method == "POST").expect("a create call");
    assert_eq!(create.path, "/whop/api/v1/webhooks");
    assert_eq!(create.authorization.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(create.api_version_date.as_deref(), Some(faurya::providers::whop::client::API_VERSION_DATE));
    let body = create.body.unwrap();
    assert_eq!(body["url"], expected_url);
    assert_eq!(body["api_version"], "v1");
    assert_eq!(body["resource_id"], COMPANY);
    let events: Vec<&str> = body["events"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(
        events,
        [
            "payment.succeeded",
            "payment.failed",
            "payment.pending",
            "refund.created",
            "refund.updated",
            "dispute.created",
            "dispute.updated"
        ]
    );
    let hooks = fakes.whop_webhooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["url"], expected_url);

    let (status, list) = t.get("/connections").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    assert_eq!(list["connections"][0]["id"], id);
    assert!(!list.to_string().contains(KEY), "the plain key must never be in an answer");
    assert!(!connection.to_string().contains(KEY));
    assert!(!list.to_string().contains("ws_"), "nor the webhook secret");
    t.stop().await;
}

#[tokio::test]
async fn bad_fields_are_caught_before_whop_is_called() {
    let (t, fakes) = app_with_fakes().await;
    let cases = [
        (json!({"api_key": "", "company_id": COMPANY, "environment": "production"}), "api_key", "Paste"),
        (json!({"api_key": "   ", "company_id": COMPANY, "environment": "production"}), "api_key", "Paste"),
        (json!({"company_id": COMPANY, "environment": "production"}), "api_key", "Paste"),
        (
            json!({"api_key": format!("Bearer {KEY}"), "company_id": COMPANY, "environment": "production"}),
            "api_key",
            "Bearer",
        ),
        (
            json!({"api_key": format!("\"{KEY}\""), "company_id": COMPANY, "environment": "production"}),
            "api_key",
            "quotes",
        ),
        (
            json!({"api_key": "abc def ghijklmnop", "company_id": COMPANY, "environment": "production"}),
            "api_key",
            "spaces",
        ),
        (json!({"api_key": 12345678, "company_id": COMPANY, "environment": "production"}), "api_key", "text"),
        (json!({"api_key": KEY, "company_id": "", "environment": "production"}), "company_id", "biz_"),
        (json!({"api_key": KEY, "company_id": "acme", "environment": "production"}), "company_id", "biz_"),
        (json!({"api_key": KEY, "company_id": "biz_<script>", "environment": "production"}), "company_id", "biz_"),
        (json!({"api_key": KEY, "company_id": COMPANY, "environment": "staging"}), "environment", "Sandbox"),
        (json!({"api_key": KEY, "company_id": COMPANY}), "environment", "Sandbox"),
    ];
    for (body, field, hint) in cases {
        let (status, answer) = t.post("/connections/whop", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(error_code(&answer), "invalid_input");
        let message = answer["error"]["fields"][field].as_str().unwrap_or_else(|| panic!("{body}: {answer}"));
        assert!(message.contains(hint), "{body}: {message}");
    }
    let (status, answer) = t.post("/connections/whop", json!({"api_key": "", "company_id": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["fields"].as_object().unwrap().len(), 3, "every bad field at once: {answer}");
    let (status, answer) = t.post("/connections/whop", json!([1, 2])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(fakes.requests().is_empty(), "Whop was called: {:?}", fakes.requests());
    t.stop().await;
}

#[tokio::test]
async fn without_a_public_url_connect_says_how_to_get_one() {
    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let base = fakes.whop_base();
    let t = TestApp::start_with(move |c| {
        c.whop_api_base = Some(base);
        quick_providers(c);
    })
    .await;
    let (status, body) = t.post("/connections/whop", form()).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(error_code(&body), "public_url_missing");
    assert!(body["error"]["message"].as_str().unwrap().contains("Settings"));
    assert!(fakes.requests().is_empty());
    t.stop().await;
}

async fn connect_fails(
    setup: impl FnOnce(&faurya_fakes::FakeProviders),
) -> (TestApp, faurya_fakes::FakeProviders, StatusCode, Value) {
    let (t, fakes) = app_with_fakes().await;
    setup(&fakes);
    let (status, body) = t.post("/connections/whop", form()).await;
    let (_, list) = t.get("/connections").await;
    assert_eq!(list["connections"], json!([]), "a failed connect stores nothing");
    (t, fakes, status, body)
}

#[tokio::test]
async fn a_rejected_key_says_to_check_the_environment() {
    let (t, fakes, status, body) = connect_fails(|_| {}).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "provider_unauthorized");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Company API Key") && message.contains("Sandbox"), "{message}");
    assert!(fakes.whop_webhooks().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_key_without_webhook_permission_names_the_permission_and_company() {
    let (t, fakes, status, body) = connect_fails(|f| f.add_whop_key(KEY, COMPANY, false)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "provider_forbidden");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("developer:manage_webhook") && message.contains(COMPANY), "{message}");
    assert!(fakes.whop_webhooks().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_key_of_another_company_is_refused_with_the_company_named() {
    let (t, _fakes, status, body) = connect_fails(|f| {
        f.add_whop_key(KEY, "biz_other", true);
        f.add_whop_key("whop_key_of_acme_owner_0000", COMPANY, true);
    })
    .await;
    assert_eq!(error_code(&body), "provider_forbidden", "{status} {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(COMPANY));
    t.stop().await;
}

#[tokio::test]
async fn an_unknown_company_says_it_was_not_found() {
    let (t, _fakes, status, body) = connect_fails(|f| f.add_whop_key(KEY, "biz_other", true)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "provider_not_found");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("did not find the company") && message.contains(COMPANY), "{message}");
    t.stop().await;
}

#[tokio::test]
async fn rate_limits_are_retried_honouring_retry_after() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    fakes.fail(Failure::status("POST", "/webhooks", 429).times(2).retry_after(1));
    let started = std::time::Instant::now();
    let (status, body) = t.post("/connections/whop", form()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "Retry-After: 1 was honoured twice");
    assert_eq!(fakes.count("POST", "/webhooks"), 3);
    assert_eq!(fakes.whop_webhooks().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn persistent_rate_limiting_is_reported() {
    let (t, fakes, status, body) = connect_fails(|f| {
        f.add_whop_key(KEY, COMPANY, true);
        f.fail(Failure::status("POST", "/webhooks", 429).times(10));
    })
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&body), "provider_rate_limited");
    assert_eq!(fakes.count("POST", "/webhooks"), 3, "the retry policy's attempts");
    t.stop().await;
}

#[tokio::test]
async fn a_server_error_on_create_is_not_retried_blindly() {
    let (t, fakes, status, body) = connect_fails(|f| {
        f.add_whop_key(KEY, COMPANY, true);
        f.fail(Failure::status("POST", "/webhooks", 500));
    })
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(&body), "provider_error");
    assert_eq!(fakes.count("POST", "/webhooks"), 1, "a create that may have happened is not repeated");
    assert!(fakes.whop_webhooks().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_webhook_created_before_a_lost_answer_is_deleted_again() {
    let (t, fakes, status, body) = connect_fails(|f| {
        f.add_whop_key(KEY, COMPANY, true);
        f.fail(Failure::status("POST", "/webhooks", 502).after_processing());
    })
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(fakes.whop_webhooks().is_empty(), "orphan left at Whop: {:?}", fakes.whop_webhooks());
    assert_eq!(fakes.count("DELETE", "/webhooks/hook_"), 1);
    t.stop().await;
}

#[tokio::test]
async fn a_create_answer_without_secret_is_refused_and_cleaned_up() {
    let (t, fakes, status, body) = connect_fails(|f| {
        f.add_whop_key(KEY, COMPANY, true);
        let answer = json!({"id": "hook_nosecret", "url": "https://x", "events": [], "webhook_secret": null});
        f.fail(Failure::status("POST", "/webhooks", 200).after_processing().with_body(answer));
    })
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("webhook_secret"));
    assert!(fakes.whop_webhooks().is_empty(), "the created webhook was deleted again");
    t.stop().await;
}

#[tokio::test]
async fn a_hanging_whop_times_out_with_the_host_named() {
    let (t, fakes, status, body) = connect_fails(|f| {
        f.add_whop_key(KEY, COMPANY, true);
        f.fail(Failure::hang("POST", "/webhooks"));
    })
    .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(error_code(&body), "provider_timeout");
    assert!(body["error"]["message"].as_str().unwrap().contains("127.0.0.1"));
    drop(fakes);
    t.stop().await;
}

#[tokio::test]
async fn an_unreachable_whop_names_the_host() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let t = TestApp::start_with(move |c| {
        c.whop_api_base = Some(format!("http://{closed}/api/v1"));
        quick_providers(c);
    })
    .await;
    t.put("/settings", json!({"public_url": PUBLIC_URL})).await;
    let (status, body) = t.post("/connections/whop", form()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(error_code(&body), "provider_unreachable");
    assert!(body["error"]["message"].as_str().unwrap().contains(&closed.ip().to_string()));
    t.stop().await;
}

#[tokio::test]
async fn connecting_the_same_company_twice_is_a_clear_error_not_a_second_webhook() {
    let (t, fakes, _) = connected().await;
    let (status, body) = t.post("/connections/whop", form()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "already_connected");
    assert!(body["error"]["message"].as_str().unwrap().contains(COMPANY));
    assert_eq!(fakes.whop_webhooks().len(), 1);
    // The same company in the other environment is a different account.
    fakes.add_whop_key("whop_sandbox_key_000000001234", COMPANY, true);
    let (status, body) = t
        .post(
            "/connections/whop",
            json!({"api_key": "whop_sandbox_key_000000001234", "company_id": COMPANY, "environment": "sandbox"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.stop().await;
}

#[tokio::test]
async fn two_simultaneous_connects_make_one_webhook() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let (a, b) = tokio::join!(t.post("/connections/whop", form()), t.post("/connections/whop", form()));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{a:?} {b:?}");
    assert_eq!(fakes.whop_webhooks().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn remove_deletes_the_webhook_at_whop_first() {
    let (t, fakes, connection) = connected().await;
    let id = connection["id"].as_str().unwrap();
    let hook = connection["webhook_id"].as_str().unwrap();
    let (status, body) = t.delete(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"removed": true, "webhook_deleted": true}));
    assert_eq!(fakes.count("DELETE", &format!("/webhooks/{hook}")), 1);
    assert!(fakes.whop_webhooks().is_empty());
    let (_, list) = t.get("/connections").await;
    assert_eq!(list["connections"], json!([]));
    let (status, body) = t.delete(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Reconnecting after a removal works.
    let (status, body) = t.post("/connections/whop", form()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.stop().await;
}

#[tokio::test]
async fn a_webhook_already_gone_at_whop_counts_as_deleted() {
    let (t, fakes, connection) = connected().await;
    fakes.fail(Failure::status("DELETE", "/webhooks/", 404));
    let (status, body) = t.delete(&format!("/connections/{}", connection["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["removed"], true);
    t.stop().await;
}

#[tokio::test]
async fn a_failing_delete_keeps_the_connection_until_removed_locally_anyway() {
    let (t, fakes, connection) = connected().await;
    let id = connection["id"].as_str().unwrap();
    fakes.fail(Failure::status("DELETE", "/webhooks/", 500).times(10));
    let (status, body) = t.delete(&format!("/connections/{id}")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("kept") && message.contains("Remove locally anyway"), "{message}");
    let (_, list) = t.get("/connections").await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1, "still connected");

    let (status, body) = t.delete(&format!("/connections/{id}?force=true")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["removed"], true);
    assert_eq!(body["webhook_deleted"], false);
    assert!(body["warning"].as_str().unwrap().contains("still exists at Whop"));
    assert_eq!(fakes.whop_webhooks().len(), 1, "the webhook stays at Whop, as warned");
    let (_, list) = t.get("/connections").await;
    assert_eq!(list["connections"], json!([]));
    t.stop().await;
}

#[tokio::test]
async fn a_bad_force_flag_is_a_clear_error() {
    let (t, _fakes, connection) = connected().await;
    let (status, body) = t.delete(&format!("/connections/{}?force=maybe", connection["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), "invalid_query");
    t.stop().await;
}

#[tokio::test]
async fn the_key_and_secret_are_sealed_at_rest() {
    let (t, fakes, _) = connected().await;
    let secrets = fakes.secrets();
    assert_eq!(secrets.len(), 1);
    let dir = t.stop().await;
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        assert!(!contains(&bytes, KEY.as_bytes()), "plain API key in {}", path.display());
        assert!(!contains(&bytes, secrets[0].as_bytes()), "plain webhook secret in {}", path.display());
    }
    assert!(files >= 3, "the database, its WAL and the key file were checked");
}

/// The real binary at the most verbose log level: neither the key nor the secret is logged.
#[tokio::test]
async fn the_key_and_secret_never_reach_the_log() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_faurya"))
        .args(["serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--public-url", PUBLIC_URL])
        .arg("--data-dir")
        .arg(dir.path())
        .env("FAURYA_NO_KEYCHAIN", "1")
        .env("FAURYA_ADMIN_TOKEN", support::TOKEN)
        .env("FAURYA_WHOP_API_BASE", fakes.whop_base())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut text = String::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let admin = loop {
        let line = stdout.next_line().await.unwrap().expect("serve printed its login URL");
        if let Some(url) = line.strip_prefix("Admin login URL: ") {
            break url.split("/login").next().unwrap().to_string();
        }
    };
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{admin}/api/connections/whop"))
        .bearer_auth(support::TOKEN)
        .json(&form())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let response =
        client.delete(format!("{admin}/api/connections/{id}")).bearer_auth(support::TOKEN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let secrets = fakes.secrets();
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().unwrap().to_string()]).status();
    let _ = child.wait().await;
    let log = log.await.unwrap();
    assert!(log.contains("connected"), "the log was captured: {log}");
    assert!(!log.contains(KEY), "the API key is in the log");
    assert!(!log.contains(support::TOKEN), "the admin token is in the log");
    for secret in secrets {
        assert!(!log.contains(&secret), "the webhook secret is in the log");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
