//! Tunnel settings through the admin API: validation, the manual URL, the webhook URL sync to
//! the fake Whop and Paddle APIs (PATCH in place, never a second create; failures retried), and
//! "Test delivery path" through the app's own public listener.

mod support;
mod tunnel_common;

use std::time::{Duration, Instant};

use faurya::app::LiveEvent;
use faurya_fakes::Failure;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, error_code};
use tunnel_common::*;

async fn app_with_fakes_and(adjust: impl FnOnce(&mut faurya::Config)) -> (TestApp, faurya_fakes::FakeProviders) {
    let fakes = faurya_fakes::FakeProviders::start().await;
    let (whop, paddle) = (fakes.whop_base(), fakes.paddle_base());
    let t = TestApp::start_with(move |c| {
        c.whop_api_base = Some(whop);
        c.paddle_api_base = Some(paddle);
        quick_tunnel(c);
        adjust(c);
    })
    .await;
    (t, fakes)
}

async fn put_ok(t: &TestApp, body: Value) -> Value {
    let (status, answer) = t.put("/settings", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}: {answer}");
    answer
}

#[tokio::test]
async fn tunnel_fields_are_validated_with_tunnel_keys() {
    let t = TestApp::start_with(quick_tunnel).await;
    let cases = [
        (json!({"tunnel": {"backend": "wireguard"}}), "tunnel.backend", "cloudflared"),
        (json!({"tunnel": {"backend": 5}}), "tunnel.backend", "none"),
        (json!({"tunnel": {"backend": "bore"}}), "tunnel.bore.host", "host name"),
        (json!({"tunnel": {"backend": "bore", "bore": {"host": "", "port": 0}}}), "tunnel.bore.host", "host name"),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "https://bore.example.com"}}}),
            "tunnel.bore.host",
            "http://",
        ),
        (json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com:7835"}}}), "tunnel.bore.host", "7835"),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com", "port": 70000}}}),
            "tunnel.bore.port",
            "65535",
        ),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com", "port": -1}}}),
            "tunnel.bore.port",
            "65535",
        ),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com", "port": "abc"}}}),
            "tunnel.bore.port",
            "65535",
        ),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com", "port": 7835}}}),
            "tunnel.bore.port",
            "control port",
        ),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com", "public_url": "ftp://x.example"}}}),
            "tunnel.bore.public_url",
            "https",
        ),
        (
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.example.com", "secret": 42}}}),
            "tunnel.bore.secret",
            "text",
        ),
        (json!({"tunnel": {"backend": "ngrok"}}), "tunnel.ngrok.authtoken", "dashboard.ngrok.com"),
        (
            json!({"tunnel": {"backend": "ngrok", "ngrok": {"authtoken": "ngrok config add-authtoken 2abcdefghij"}}}),
            "tunnel.ngrok.authtoken",
            "command",
        ),
        (
            json!({"tunnel": {"backend": "ngrok", "ngrok": {"authtoken": "2abcdefghijklmnop", "domain": "not a domain"}}}),
            "tunnel.ngrok.domain",
            "acme.ngrok.app",
        ),
        (json!({"tunnel": {"backend": "manual"}}), "public_url", "Public URL"),
        (json!({"public_url": "hooks.example.com"}), "public_url", "https://"),
        (json!({"public_url": "https://x.example/?q=1", "tunnel": {"backend": "manual"}}), "public_url", "query"),
    ];
    for (body, field, hint) in cases {
        let (status, answer) = t.put("/settings", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(error_code(&answer), "invalid_input");
        let message = answer["error"]["fields"][field].as_str().unwrap_or_else(|| panic!("{body}: {answer}"));
        assert!(message.contains(hint), "{body}: {message}");
    }
    // Every bad field at once.
    let (status, answer) = t
        .put(
            "/settings",
            json!({"tunnel": {"backend": "bore", "bore": {"host": "a b", "port": 99999, "public_url": "nope"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = answer["error"]["fields"].as_object().unwrap();
    for key in ["tunnel.bore.host", "tunnel.bore.port", "tunnel.bore.public_url"] {
        assert!(fields.contains_key(key), "{key}: {answer}");
    }
    // Unknown fields are refused, as elsewhere in the settings.
    for body in [json!({"tunnel": {"surprise": 1}}), json!({"tunnel": {"bore": {"host": "x.example", "extra": 1}}})] {
        let (status, answer) = t.put("/settings", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(error_code(&answer), "invalid_json");
    }
    // Nothing above changed anything.
    let s = settings(&t).await;
    assert_eq!(s["tunnel"]["backend"], "none");
    assert_eq!(s["tunnel"]["state"], "off");
    assert_eq!(s["tunnel"]["bore"], json!({"host": null, "port": 0, "secret_set": false, "public_url": null}));
    assert_eq!(s["tunnel"]["ngrok"], json!({"authtoken_set": false, "masked_authtoken": null, "domain": null}));
    t.stop().await;
}

#[tokio::test]
async fn a_saved_url_turns_the_manual_tunnel_on_and_clearing_it_turns_it_off() {
    let t = TestApp::start_with(quick_tunnel).await;
    let s = settings(&t).await;
    assert_eq!(s["public_url"], Value::Null);
    assert_eq!(s["public_url_source"], Value::Null);
    assert_eq!(s["tunnel"]["backend"], "none");
    assert_eq!(s["tunnel"]["state"], "off");
    assert!(s["tunnel"]["cloudflared"]["install_hint"].as_str().unwrap().contains("cloudflared"));

    let mut live = t.app().subscribe();
    let s = put_ok(&t, json!({"public_url": "https://hooks.example.com/"})).await;
    assert_eq!(s["public_url"], "https://hooks.example.com");
    assert_eq!(s["public_url_source"], "settings");
    assert_eq!(s["tunnel"]["backend"], "manual");
    assert_eq!(s["tunnel"]["state"], "up");
    assert_eq!(s["tunnel"]["url"], "https://hooks.example.com");
    assert!(s["tunnel"]["updated_at"].as_str().unwrap().ends_with('Z'));
    let mut seen = Vec::new();
    while let Ok(event) = live.try_recv() {
        seen.push(event);
    }
    assert!(seen.contains(&LiveEvent::Tunnel("up")), "{seen:?}");
    assert_eq!(LiveEvent::Tunnel("up").name_and_id(), ("tunnel", "up".to_string()));

    // Another tunnel keeps the saved URL for later; the manual URL is not used meanwhile.
    let s = put_ok(
        &t,
        json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.invalid", "port": 4000,
        "secret": "s3cret-bore-value", "public_url": "https://bore-tls.example.com"}}}),
    )
    .await;
    assert_eq!(s["tunnel"]["backend"], "bore");
    assert_eq!(
        s["tunnel"]["bore"],
        json!({"host": "bore.invalid", "port": 4000, "secret_set": true,
        "public_url": "https://bore-tls.example.com"})
    );
    assert!(!s.to_string().contains("s3cret-bore-value"), "the secret is never shown: {s}");
    assert_ne!(s["public_url"], "https://hooks.example.com", "{s}");
    let down = wait_for("the unreachable bore server to be reported", || async {
        let s = settings(&t).await;
        s["tunnel"]["error"].as_str().is_some_and(|e| e.contains("bore.invalid")).then_some(s)
    })
    .await;
    assert_eq!(down["public_url"], Value::Null, "no URL while the tunnel is not up: {down}");

    // Back to manual: the saved URL is still there.
    let s = put_ok(&t, json!({"tunnel": {"backend": "manual"}})).await;
    assert_eq!(s["public_url"], "https://hooks.example.com");
    assert_eq!(s["tunnel"]["state"], "up");
    // A partial bore update keeps what it does not name (the secret included).
    let s = put_ok(&t, json!({"tunnel": {"bore": {"port": 0}}})).await;
    assert_eq!(s["tunnel"]["bore"]["port"], 0);
    assert_eq!(s["tunnel"]["bore"]["secret_set"], true);
    assert_eq!(s["tunnel"]["backend"], "manual");

    // Everything survives a restart; the secret is stored sealed.
    let dir = t.stop().await;
    for file in ["faurya.db", "faurya.db-wal"] {
        let bytes = std::fs::read(dir.path().join("data").join(file)).unwrap_or_default();
        assert!(!bytes.windows(17).any(|w| w == b"s3cret-bore-value"), "plain secret in {file}");
    }
    let t = TestApp::start_in(dir, quick_tunnel).await;
    let s = settings(&t).await;
    assert_eq!(s["tunnel"]["backend"], "manual");
    assert_eq!(s["tunnel"]["state"], "up");
    assert_eq!(s["public_url"], "https://hooks.example.com");
    assert_eq!(s["tunnel"]["bore"]["secret_set"], true);
    assert_eq!(s["tunnel"]["bore"]["host"], "bore.invalid");

    // Clearing the manual URL turns the tunnel off.
    let s = put_ok(&t, json!({"public_url": null})).await;
    assert_eq!(s["public_url"], Value::Null);
    assert_eq!(s["tunnel"]["backend"], "none");
    assert_eq!(s["tunnel"]["state"], "off");
    // A pinned URL wins over any tunnel.
    t.stop().await;
    let t = TestApp::start_with(|c| {
        quick_tunnel(c);
        c.public_url = Some("https://pinned.example.com".into());
    })
    .await;
    put_ok(&t, json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.invalid"}}})).await;
    let s = settings(&t).await;
    assert_eq!(s["public_url"], "https://pinned.example.com");
    assert_eq!(s["public_url_source"], "flag");
    t.stop().await;
}

#[tokio::test]
async fn an_edited_url_is_patched_into_whop_and_paddle_without_a_new_webhook() {
    let (t, fakes) = app_with_fakes_and(|_| {}).await;
    put_ok(&t, json!({"public_url": "https://old.example.com"})).await;
    let (whop, paddle) = connect_both(&t, &fakes).await;
    let hooks_before =
        (connection(&t, &whop).await["webhook_id"].clone(), connection(&t, &paddle).await["webhook_id"].clone());
    assert!(patched_urls(&fakes).is_empty(), "nothing to update yet");

    put_ok(&t, json!({"public_url": "https://new.example.com/"})).await;
    wait_synced(&t, &[&whop, &paddle], "https://new.example.com").await;

    let whop_url = format!("https://new.example.com/webhooks/whop/{whop}");
    let paddle_url = format!("https://new.example.com/webhooks/paddle/{paddle}");
    let patched = patched_urls(&fakes);
    assert!(patched.contains(&whop_url) && patched.contains(&paddle_url), "{patched:?}");
    assert_eq!(creates(&fakes), (1, 1), "updated in place, never created again");
    assert_eq!(fakes.whop_webhooks()[0]["url"], whop_url);
    assert_eq!(fakes.paddle_destinations()[0]["destination"], paddle_url);
    let whop_patch = fakes.requests().into_iter().find(|r| r.method == "PATCH" && r.path.contains("/whop/")).unwrap();
    assert_eq!(whop_patch.path, format!("/whop/api/v1/webhooks/{}", hooks_before.0.as_str().unwrap()));
    let paddle_patch =
        fakes.requests().into_iter().find(|r| r.method == "PATCH" && r.path.contains("/paddle/")).unwrap();
    assert_eq!(paddle_patch.path, format!("/paddle/notification-settings/{}", hooks_before.1.as_str().unwrap()));
    assert_eq!(connection(&t, &whop).await["webhook_id"], hooks_before.0);
    assert_eq!(connection(&t, &paddle).await["webhook_id"], hooks_before.1);

    // Saving the same URL again changes nothing at the providers.
    let patches = patched.len();
    put_ok(&t, json!({"public_url": "https://new.example.com"})).await;
    put_ok(&t, json!({"signature_tolerance_secs": 200})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(patched_urls(&fakes).len(), patches);

    // New connections after a restart over the same data dir keep syncing from where they are.
    let dir = t.stop().await;
    let (whop_base, paddle_base) = (fakes.whop_base(), fakes.paddle_base());
    let t = TestApp::start_in(dir, |c| {
        c.whop_api_base = Some(whop_base);
        c.paddle_api_base = Some(paddle_base);
        quick_tunnel(c);
        c.public_url = Some("https://pinned.example.com".into());
    })
    .await;
    wait_synced(&t, &[&whop, &paddle], "https://pinned.example.com").await;
    assert_eq!(creates(&fakes), (1, 1));
    t.stop().await;
}

#[tokio::test]
async fn a_failed_update_shows_on_the_connection_and_is_retried_until_it_succeeds() {
    let (t, fakes) = app_with_fakes_and(|c| {
        c.tunnel.sync_backoff = faurya::config::Backoff { base: Duration::from_secs(1), max: Duration::from_secs(2) };
    })
    .await;
    put_ok(&t, json!({"public_url": "https://old.example.com"})).await;
    let (whop, paddle) = connect_both(&t, &fakes).await;
    // Two rounds of 500s (each round is the retry policy's 3 attempts), then Whop recovers.
    fakes.fail(Failure::status("PATCH", "/whop/api/v1/webhooks/", 500).times(6));

    put_ok(&t, json!({"public_url": "https://new.example.com"})).await;
    let failed = wait_for("the Whop connection to show the failed update", || async {
        let c = connection(&t, &whop).await;
        (c["sync"]["state"] == "failed").then_some(c)
    })
    .await;
    let error = failed["sync"]["error"].as_str().unwrap();
    assert!(error.contains("https://new.example.com") && error.contains("Retrying"), "{error}");
    assert!(failed["webhook_url"].as_str().unwrap().starts_with("https://old.example.com/"), "{failed}");
    // Paddle is not held up by Whop.
    wait_synced(&t, &[&paddle], "https://new.example.com").await;

    wait_synced(&t, &[&whop], "https://new.example.com").await;
    let c = connection(&t, &whop).await;
    assert_eq!(c["sync"]["error"], Value::Null);
    assert_eq!(fakes.count("PATCH", "/whop/api/v1/webhooks/"), 7, "two failed rounds of three, then one success");
    assert_eq!(creates(&fakes), (1, 1));
    t.stop().await;
}

#[tokio::test]
async fn a_newer_url_supersedes_one_waiting_for_a_retry() {
    let (t, fakes) = app_with_fakes_and(|c| {
        // A retry this far away would fail the test if it were waited for.
        c.tunnel.sync_backoff =
            faurya::config::Backoff { base: Duration::from_secs(120), max: Duration::from_secs(120) };
    })
    .await;
    put_ok(&t, json!({"public_url": "https://one.example.com"})).await;
    let (whop, paddle) = connect_both(&t, &fakes).await;
    fakes.fail(Failure::status("PATCH", "/whop/api/v1/webhooks/", 500).times(3));
    put_ok(&t, json!({"public_url": "https://two.example.com"})).await;
    wait_for("the failed update to two.example.com", || async {
        (connection(&t, &whop).await["sync"]["state"] == "failed").then_some(())
    })
    .await;
    let started = Instant::now();
    put_ok(&t, json!({"public_url": "https://three.example.com"})).await;
    wait_synced(&t, &[&whop, &paddle], "https://three.example.com").await;
    assert!(started.elapsed() < Duration::from_secs(60), "the newer URL did not wait for the old retry");
    let whop_urls: Vec<String> = patched_urls(&fakes).into_iter().filter(|u| u.contains("/webhooks/whop/")).collect();
    assert_eq!(whop_urls.last().unwrap(), &format!("https://three.example.com/webhooks/whop/{whop}"));
    assert_eq!(fakes.whop_webhooks()[0]["url"], format!("https://three.example.com/webhooks/whop/{whop}"));
    t.stop().await;
}

#[tokio::test]
async fn test_delivery_path_reaches_the_public_listener() {
    let t = TestApp::start_with(quick_tunnel).await;
    // No public URL yet: nothing to test.
    let (status, body) = t.post("/tunnel/test", json!({})).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(error_code(&body), "public_url_missing");
    assert!(body["error"]["message"].as_str().unwrap().contains("Settings → Tunnel"), "{body}");

    // The manual URL is the public listener itself: the path works.
    put_ok(&t, json!({"public_url": t.public})).await;
    let (status, body) = t.post("/tunnel/test", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["url"], format!("{}/healthz", t.public));
    assert_eq!(body["status"], 200);
    assert!(body["rtt_ms"].as_u64().is_some(), "{body}");
    assert_eq!(body["error"], Value::Null);

    // A URL where nothing listens: answered, with the reason.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    put_ok(&t, json!({"public_url": format!("http://{closed}")})).await;
    let (status, body) = t.post("/tunnel/test", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ok"], false);
    assert_eq!(body["status"], Value::Null);
    assert!(body["error"].as_str().unwrap().contains("Could not connect"), "{body}");

    // A URL that reaches something else (here the admin listener) is not the delivery path.
    put_ok(&t, json!({"public_url": t.admin})).await;
    let (_, body) = t.post("/tunnel/test", json!({})).await;
    assert_eq!(body["ok"], false, "{body}");
    assert!(body["error"].as_str().unwrap().contains("public listener"), "{body}");
    t.stop().await;
}

/// `faurya serve --tunnel ...` / `FAURYA_TUNNEL`, through the real binary.
#[test]
fn the_tunnel_flag_and_its_environment_variable() {
    fn faurya(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_faurya"));
        for (key, _) in std::env::vars() {
            if key.starts_with("FAURYA_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("FAURYA_NO_KEYCHAIN", "1").env("FAURYA_DATA_DIR", "/tmp/faurya-tunnel-flag-test");
        cmd.args(args).envs(env.iter().copied()).output().unwrap()
    }
    let json = |out: std::process::Output| -> Value {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(json(faurya(&["config"], &[]))["tunnel"], Value::Null, "default: keep the saved choice");
    assert_eq!(json(faurya(&["config", "--tunnel", "cloudflared"], &[]))["tunnel"], "cloudflared");
    assert_eq!(json(faurya(&["config"], &[("FAURYA_TUNNEL", "bore")]))["tunnel"], "bore");
    assert_eq!(
        json(faurya(&["config", "--tunnel", "ngrok"], &[("FAURYA_TUNNEL", "bore")]))["tunnel"],
        "ngrok",
        "flag beats env"
    );
    let c = json(faurya(&["config"], &[("FAURYA_CLOUDFLARED", "/opt/cf/cloudflared")]));
    assert_eq!(c["cloudflared"], "/opt/cf/cloudflared");

    let bad = faurya(&["config", "--tunnel", "wireguard"], &[]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("wireguard") && stderr.contains("cloudflared") && stderr.contains("manual"), "{stderr}");

    let help = faurya(&["serve", "--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in
        ["--tunnel <BACKEND>", "FAURYA_TUNNEL", "cloudflared", "ngrok", "bore", "manual", "FAURYA_CLOUDFLARED"]
    {
        assert!(help.contains(needle), "{needle} missing from serve --help:\n{help}");
    }
}
