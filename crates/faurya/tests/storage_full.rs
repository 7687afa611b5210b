//! A full disk: with the data dir on a small tmpfs that fills up, webhooks and events are
//! answered 503 with Retry-After (never a 2xx for what was not stored), the admin API says the
//! database cannot be written, and once there is space again everything works without a restart.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use support::{TestApp, error_code, split};

const KEY: &str = "whop_key_live_0123456789abcdeffull";
const COMPANY: &str = "biz_full";

/// A tmpfs of `size` mounted at `at`, unmounted on drop; `None` where mounting is not allowed
/// (not root, or in a container without the capability).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(at.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros until the filesystem refuses more.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while file.write_all(&chunk).is_ok() && file.flush().is_ok() {}
    let _ = file.sync_all();
}

async fn deliver(
    t: &TestApp,
    connection: &str,
    secret: &str,
    pay_id: &str,
    padding: usize,
) -> (StatusCode, serde_json::Value, Option<String>) {
    let msg = format!("msg_{pay_id}");
    let body = format!(
        r#"{{"id":"{msg}","api_version":"v1","type":"payment.succeeded","company_id":"{COMPANY}","data":{{"id":"{pay_id}","status":"paid","currency":"usd","total":10,"metadata":{{}},"note":"{}"}}}}"#,
        "x".repeat(padding)
    );
    let response =
        support::post_whop(&t.client, &format!("{}/webhooks/whop/{connection}", t.public), secret, &msg, body).await;
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = split(response).await;
    (status, body, retry)
}

#[tokio::test]
async fn a_full_disk_answers_503_and_recovers_without_a_restart() {
    let scratch = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&scratch.path().join("small"), "6m") else {
        eprintln!("not run: mounting a small tmpfs needs root (make test runs as root in CI)");
        return;
    };
    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let data = disk.0.join("data");
    let whop = fakes.whop_base();
    let t = TestApp::start_with(move |c| {
        c.data_dir = data;
        c.whop_api_base = Some(whop);
        support::quick_providers(c);
    })
    .await;
    let (status, _) = t.put("/settings", json!({"public_url": support::PUBLIC_URL})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, connection) =
        t.post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let connection = connection["id"].as_str().unwrap().to_string();
    let secret = fakes.secrets().pop().unwrap();
    let (_, sites) = t.get("/sites").await;
    let site = sites["sites"][0]["id"].as_str().unwrap().to_string();
    let (status, patched) = t.patch(&format!("/sites/{site}"), json!({"domains": ["shop.example.com"]})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");

    let (status, receipt, _) = deliver(&t, &connection, &secret, "pay_before", 0).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");

    // The disk fills up.
    let filler = disk.0.join("filler");
    fill(&filler);
    let (status, answer, retry) = deliver(&t, &connection, &secret, "pay_during", 300_000).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "never a 2xx for what was not stored: {answer}");
    assert_eq!(error_code(&answer), "storage_unavailable");
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() > 0), "Retry-After tells the sender when");
    let (_, health) = t.get("/health").await;
    assert_eq!(health["store"]["writable"], false, "{health}");
    assert!(health["store"]["error"].as_str().unwrap().contains("full"), "{health}");
    let event = json!({"site": site, "name": "pageview", "url": "https://shop.example.com/", "visitor_id": "visitor_full1",
                       "session_id": "session_full1", "props": {"pad": "y".repeat(400)}});
    let response = t
        .client
        .post(format!("{}/api/event", t.public))
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
        )
        .body(event.to_string())
        .send()
        .await
        .unwrap();
    let event_status = response.status();
    let event_answer = response.text().await.unwrap_or_default();
    assert!(
        event_status == StatusCode::SERVICE_UNAVAILABLE || event_status == StatusCode::ACCEPTED,
        "an event is either stored or refused with 503: {event_status} {event_answer}"
    );

    // Space comes back: the provider's retry is accepted, no restart needed.
    std::fs::remove_file(&filler).unwrap();
    let (status, receipt, _) = deliver(&t, &connection, &secret, "pay_during", 300_000).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let (_, health) = t.get("/health").await;
    assert_eq!(health["store"]["writable"], true, "{health}");
    let (_, payments) = t.get("/payments").await;
    let ids: Vec<&str> =
        payments["payments"].as_array().unwrap().iter().map(|p| p["provider_payment_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["pay_during", "pay_before"], "everything acknowledged is there, once");
    t.stop().await;
    drop(disk);
}
