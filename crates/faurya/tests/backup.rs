//! Backup and restore: a consistent backup of a live store while deliveries arrive (CLI and the
//! admin download), restore refused while Faurya runs and done when it is stopped, and one app
//! per data dir.

mod support;

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use support::{TestApp, app_with_fakes};

const KEY: &str = "whop_key_live_0123456789abcdefback";
const COMPANY: &str = "biz_backup";

async fn deliver(t: &TestApp, connection: &str, secret: &str, pay_id: &str) -> StatusCode {
    let msg = format!("msg_{pay_id}");
    let body = format!(
        r#"{{"id":"{msg}","api_version":"v1","type":"payment.succeeded","company_id":"{COMPANY}","data":{{"id":"{pay_id}","status":"paid","currency":"usd","total":10,"metadata":{{}}}}}}"#
    );
    support::post_whop(&t.client, &format!("{}/webhooks/whop/{connection}", t.public), secret, &msg, body)
        .await
        .status()
}

fn faurya(args: &[&str], data: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faurya"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("FAURYA_MASTER_KEY", support::master_key_b64())
        .env("FAURYA_NO_KEYCHAIN", "1")
        .output()
        .unwrap()
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_store_is_backed_up_consistently_and_restored_when_stopped() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let (status, connection) =
        t.post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let connection = connection["id"].as_str().unwrap().to_string();
    let secret = fakes.secrets().pop().unwrap();
    for i in 0..20 {
        assert_eq!(deliver(&t, &connection, &secret, &format!("pay_{i}")).await, StatusCode::OK);
    }

    // A backup taken while deliveries keep arriving is a consistent snapshot.
    let data = t.data_dir();
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("live.db");
    let sender = {
        let (client, public, connection, secret) =
            (t.client.clone(), t.public.clone(), connection.clone(), secret.clone());
        tokio::spawn(async move {
            let t2 = TestApp { app: None, dir: tempfile::tempdir().unwrap(), client, admin: String::new(), public };
            for i in 20..60 {
                assert_eq!(deliver(&t2, &connection, &secret, &format!("pay_{i}")).await, StatusCode::OK);
            }
        })
    };
    let (data2, file2) = (data.clone(), file.clone());
    let out = tokio::task::spawn_blocking(move || faurya(&["backup", file2.to_str().unwrap()], &data2)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("master key"), "says the key is needed");
    sender.await.unwrap();
    let backed_up = count(&file, "SELECT count(*) FROM payments");
    assert!((20..=60).contains(&backed_up), "{backed_up}");
    assert_eq!(
        count(
            &file,
            "SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = p.delivery_id)"
        ),
        0,
        "every payment in the backup has its delivery"
    );
    assert_eq!(
        rusqlite::Connection::open(&file)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "ok"
    );
    let again = faurya(&["backup", file.to_str().unwrap()], &data);
    assert!(!again.status.success(), "never overwrites");

    // The admin download is a backup too.
    let response = t.client.get(t.api("/backup")).bearer_auth(support::TOKEN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("faurya-backup-"));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    let downloaded = backups.path().join("downloaded.db");
    std::fs::write(&downloaded, &bytes).unwrap();
    assert_eq!(count(&downloaded, "SELECT count(*) FROM payments"), 60);
    assert!(!std::fs::read_dir(&data).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("download")));

    // Restore is refused while Faurya runs.
    let refused = faurya(&["restore", file.to_str().unwrap()], &data);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is running"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // So is a second app on the same data dir.
    let second = faurya::App::start({
        let mut c = faurya::Config::ephemeral(data.clone());
        c.master_key = Some(support::master_key_b64());
        c
    })
    .await;
    assert!(second.err().unwrap().to_string().contains("already running"));

    // Stopped, the backup goes back in place; the replaced database is kept.
    let dir = t.stop().await;
    let restored = faurya(&["restore", file.to_str().unwrap()], &data);
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert!(
        std::fs::read_dir(&data).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("before-restore"))
    );
    let t = TestApp::start_in(dir, |_| {}).await;
    let (_, payments) = t.get("/payments?limit=200").await;
    assert_eq!(payments["payments"].as_array().unwrap().len() as i64, backed_up);
    t.stop().await;

    // Not a backup: refused with the reason, nothing replaced.
    let junk = backups.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let out = faurya(&["restore", junk.to_str().unwrap()], &data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a Faurya backup"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn deliveries_and_payments_export_as_json_lines_and_csv() {
    let (t, fakes) = app_with_fakes().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let (_, connection) =
        t.post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})).await;
    let connection = connection["id"].as_str().unwrap().to_string();
    let secret = fakes.secrets().pop().unwrap();
    // More than one export page (500).
    for i in 0..520 {
        assert_eq!(deliver(&t, &connection, &secret, &format!("pay_x{i}")).await, StatusCode::OK);
    }
    let get = |path: &str| t.client.get(t.api(path)).bearer_auth(support::TOKEN).send();
    let response = get("/events.jsonl").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("faurya-deliveries.jsonl"));
    let text = response.text().await.unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 520);
    assert_eq!(lines[0]["id"], "d_1");
    assert!(lines[0]["body"].as_str().unwrap().contains("pay_x0"), "byte-exact body: {}", lines[0]);
    assert!(lines[0]["headers"].as_array().unwrap().iter().any(|h| h[0] == "webhook-signature"));
    let csv = get("/events.csv").await.unwrap().text().await.unwrap();
    assert_eq!(csv.lines().count(), 521);
    assert!(csv.starts_with("id,received_at,provider,delivery_id"));
    let payments = get("/payments.jsonl").await.unwrap().text().await.unwrap();
    let payments: Vec<serde_json::Value> = payments.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(payments.len(), 520);
    assert_eq!(payments[0]["provider_payment_id"], "pay_x519", "newest first");
    let none = get("/events.jsonl?site=site_nothing").await.unwrap().text().await.unwrap();
    assert!(none.is_empty());
    t.stop().await;
}
