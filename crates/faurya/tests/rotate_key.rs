//! `faurya rotate-key` on a real store: every sealed value changes, everything still works under
//! the new key (webhook verification, the site's write key, a tunnel secret), the old key no
//! longer opens it, a running Faurya is not touched, and an interrupted rotation is finished.

mod support;

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, post_whop};

const KEY: &str = "whop_key_live_0123456789abcdef3f9a";
const COMPANY: &str = "biz_acme123";

fn rotate(data: &Path, env_key: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faurya"));
    for (key, _) in std::env::vars() {
        if key.starts_with("FAURYA_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FAURYA_NO_KEYCHAIN", "1").args(["rotate-key", "--data-dir"]).arg(data);
    if let Some(key) = env_key {
        cmd.env("FAURYA_MASTER_KEY", key);
    }
    cmd.output().unwrap()
}

/// Every sealed value in the store, by where it is.
fn sealed_values(db: &Path) -> Vec<(String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out = Vec::new();
    for (table, column) in [
        ("connections", "api_key_sealed"),
        ("connections", "webhook_secret_sealed"),
        ("sites", "write_key_sealed"),
        ("sites", "token_secret_sealed"),
    ] {
        let mut stmt = conn.prepare(&format!("SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).unwrap();
        let rows = stmt.query_map([], |r| Ok((format!("{table}.{column}.{}", r.get::<_, String>(0)?), r.get(1)?)));
        out.extend(rows.unwrap().map(Result::unwrap));
    }
    let mut stmt = conn
        .prepare("SELECT key, value FROM settings WHERE key IN ('tunnel.bore.secret', 'master_key_check')")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?.into_bytes())));
    out.extend(rows.unwrap().map(Result::unwrap));
    out.sort();
    out
}

/// The app over `dir` with its key in `<data>/master.key` (no env key, no keychain).
async fn start_keyfile(dir: tempfile::TempDir, fakes: &faurya_fakes::FakeProviders) -> TestApp {
    let (whop, paddle) = (fakes.whop_base(), fakes.paddle_base());
    TestApp::start_in(dir, move |c| {
        c.master_key = None;
        c.keychain = false;
        c.whop_api_base = Some(whop);
        c.paddle_api_base = Some(paddle);
        support::quick_providers(c);
    })
    .await
}

#[tokio::test]
async fn rotation_reseals_everything_and_everything_still_works() {
    let fakes = faurya_fakes::FakeProviders::start().await;
    let t = start_keyfile(tempfile::tempdir().unwrap(), &fakes).await;
    let (status, body) = t.put("/settings", json!({"public_url": support::PUBLIC_URL})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    fakes.add_whop_key(KEY, COMPANY, true);
    let (status, connection) =
        t.post("/connections/whop", json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"})).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let connection_id = connection["id"].as_str().unwrap().to_string();
    let secret = fakes.secrets().pop().unwrap();
    let (status, body) = t
        .put(
            "/settings",
            json!({"tunnel": {"backend": "bore", "bore": {"host": "bore.invalid", "secret": "bore-s3cret"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, sites) = t.get("/sites").await;
    let site_id = sites["sites"][0]["id"].as_str().unwrap().to_string();
    let (_, revealed) = t.get(&format!("/sites/{site_id}/write-key")).await;
    let write_key = revealed["write_key"].as_str().unwrap().to_string();

    // Not while it runs.
    let data = t.data_dir();
    let refused = rotate(&data, None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is running"), "{refused:?}");

    let dir = t.stop().await;
    let db = data.join("faurya.db");
    let before = sealed_values(&db);
    assert_eq!(before.len(), 6, "api key, webhook secret, write key, token secret, bore secret, key check: {before:?}");
    let old_key = std::fs::read_to_string(data.join("master.key")).unwrap();

    let out = rotate(&data, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Sealed 6 stored secrets again"), "{stdout}");
    let new_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_ne!(new_key, old_key);
    let retired: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("master.key.retired-"))
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(std::fs::read_to_string(&retired[0]).unwrap(), old_key, "the old key is kept for older backups");
    assert!(!data.join("master.key.new").exists());
    let after = sealed_values(&db);
    assert_eq!(after.len(), before.len());
    for ((place, old), (_, new)) in before.iter().zip(&after) {
        assert_ne!(old, new, "{place} was not sealed again");
    }

    // Under the new key: the webhook secret verifies, the write key and tunnel secret are kept.
    let t = start_keyfile(dir, &fakes).await;
    let url = format!("{}/webhooks/whop/{connection_id}", t.public);
    let body = json!({"type": "membership.activated", "data": {"id": "mem_1"}}).to_string();
    let response = post_whop(&t.client, &url, &secret, "msg_after_rotation", body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, revealed) = t.get(&format!("/sites/{site_id}/write-key")).await;
    assert_eq!(revealed["write_key"], Value::String(write_key));
    let (_, settings) = t.get("/settings").await;
    assert_eq!(settings["tunnel"]["bore"]["secret_set"], true);
    let dir = t.stop().await;

    // The old key opens nothing any more.
    let old_key = old_key.trim().to_string();
    let refused = TestApp::start_in(dir, move |c| c.master_key = Some(old_key));
    let refused = tokio::spawn(refused);
    assert!(refused.await.is_err(), "the old key was refused at start");
}

#[tokio::test]
async fn a_key_from_the_environment_is_printed_once_and_an_interrupted_rotation_is_finished() {
    let t = TestApp::start().await;
    let data = t.data_dir();
    let dir = t.stop().await;
    let old = support::master_key_b64();
    let out = rotate(&data, Some(&old));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let printed_key = |out: &str| -> String {
        let mut lines = out.lines().skip_while(|l| !l.starts_with("Set FAURYA_MASTER_KEY"));
        lines.nth(1).unwrap_or_default().trim().to_string()
    };
    let new_key = printed_key(&stdout);
    assert_eq!(new_key.len(), 44, "a base64 key on the last line: {stdout}");
    assert!(stdout.contains("Set FAURYA_MASTER_KEY"));
    // Until it is set, the new key waits in master.key.new (0600), which the start ignores.
    assert!(data.join("master.key.new").exists());

    // Interrupted after the commit and before the key took the old one's place: with the old key
    // still given, a second run sees that the pending key opens the store and finishes.
    let again = rotate(&data, Some(&old));
    let again_out = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{again_out} {}", String::from_utf8_lossy(&again.stderr));
    assert!(again_out.contains("Finished an interrupted rotation"), "{again_out}");
    assert_eq!(printed_key(&again_out), new_key, "the same pending key, not a third one");

    let key = new_key.clone();
    let t = TestApp::start_in(dir, move |c| c.master_key = Some(key)).await;
    let (status, _) = t.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    t.stop().await;
}
