//! Ingest throughput and latency on loopback, three ways in one run:
//!
//! 1. verified ingest: the real app, a connected Whop account, signed 2 KiB `payment.succeeded`
//!    deliveries POSTed to the public listener (verify → store fsynced → dedupe → payment);
//! 2. a bare axum handler that reads the body and answers 200 (the HTTP floor);
//! 3. a bare SQLite insert of the same row with its own fsynced commit (the storage floor that
//!    group commit is meant to beat).
//!
//! Run: `cargo bench -p faurya --bench ingest` (optionally `-- <deliveries> <concurrency,...>`).
//! Prints a Markdown table for docs/BENCHMARKS.md.

mod support;

use std::net::SocketAddr;
use std::time::Instant;

use faurya::providers::whop::signature::sign;
use faurya::{App, Config};
use serde_json::json;
use support::{Stats, load};

const KEY: &str = "whop_bench_key_0123456789abcdef";
const COMPANY: &str = "biz_bench";

/// A 2 KiB `payment.succeeded` body with unique ids.
fn body(i: usize) -> String {
    let head = format!(
        r#"{{"id":"msg_b{i}","api_version":"v1","type":"payment.succeeded","timestamp":"2026-11-23T10:00:00.000Z","company_id":"{COMPANY}","data":{{"id":"pay_bench_{i}","status":"paid","currency":"usd","total":49.00,"subtotal":49.00,"metadata":{{"faurya_visitor_id":"v_{i}","faurya_session_id":"s_{i}"}},"user":{{"id":"user_{i}","email":"buyer{i}@example.com"}},"note":""#
    );
    let tail = r#""}}"#;
    let pad = 2048usize.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

async fn bare_axum() -> SocketAddr {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|body: axum::body::Bytes| async move {
            std::hint::black_box(body.len());
            axum::Json(json!({"ok": true}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The same row shape as a stored delivery, one fsynced commit per row.
fn bare_sqlite(dir: &std::path::Path, count: usize) -> Stats {
    let conn = rusqlite::Connection::open(dir.join("bare.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE deliveries (id INTEGER PRIMARY KEY, connection_id TEXT, provider TEXT, delivery_id TEXT,
            event_type TEXT, received_at INTEGER, headers TEXT, body BLOB, status TEXT);
         CREATE UNIQUE INDEX d ON deliveries (provider, delivery_id);",
    )
    .unwrap();
    let headers = r#"[["content-type","application/json"],["webhook-id","msg"],["webhook-signature","v1,abc"]]"#;
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let t = Instant::now();
        conn.execute(
            "INSERT INTO deliveries (connection_id, provider, delivery_id, event_type, received_at, headers, body, status)
             VALUES ('con_x', 'whop', ?1, 'payment.succeeded', 0, ?2, ?3, 'processed')",
            rusqlite::params![format!("msg_{i}"), headers, body(i).as_bytes()],
        )
        .unwrap();
        latencies.push(t.elapsed());
    }
    Stats { label: "bare SQLite insert, one fsynced commit each".into(), count, elapsed: started.elapsed(), latencies }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let levels: Vec<usize> =
        args.get(1).map(|a| a.split(',').filter_map(|n| n.parse().ok()).collect()).unwrap_or_else(|| vec![1, 16, 64]);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run(count, levels));
}

async fn run(count: usize, levels: Vec<usize>) {
    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let bare = bare_axum().await;
    for &concurrency in &levels {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::ephemeral(dir.path().join("data"));
        // As `faurya serve` runs (ephemeral configs, for tests, skip the WAL preallocation).
        config.wal_preallocate = faurya::store::WAL_PREALLOCATE;
        config.admin_token = Some("bench-admin-token-0123456789".into());
        config.master_key = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
        config.whop_api_base = Some(fakes.whop_base());
        config.public_url = Some("https://bench.example.com".into());
        let app = App::start(config).await.unwrap();
        let client = reqwest::Client::new();
        let connection: serde_json::Value = client
            .post(format!("{}/api/connections/whop", app.admin_url()))
            .bearer_auth("bench-admin-token-0123456789")
            .json(&json!({"api_key": KEY, "company_id": COMPANY, "environment": "production"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let secret = fakes.secrets().pop().unwrap();
        let url = format!("{}/webhooks/whop/{}", app.public_listener_url(), connection["id"].as_str().unwrap());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let signed: Vec<_> = (0..count)
            .map(|i| {
                let (id, body) = (format!("msg_bench_{concurrency}_{i}"), body(i));
                let headers = vec![
                    ("webhook-id".to_string(), id.clone()),
                    ("webhook-timestamp".to_string(), now.to_string()),
                    ("webhook-signature".to_string(), sign(&secret, &id, now, body.as_bytes())),
                    ("content-type".to_string(), "application/json".to_string()),
                ];
                (headers, body)
            })
            .collect();
        let plain: Vec<_> = (0..count).map(|i| (Vec::new(), body(i))).collect();

        let mut stats = load(&format!("verified ingest, {concurrency} concurrent"), &url, signed, concurrency).await;
        rows.push(stats.row());
        let mut floor = load(
            &format!("bare axum 200, {concurrency} concurrent"),
            &format!("http://{bare}/hook"),
            plain,
            concurrency,
        )
        .await;
        rows.push(floor.row());

        // A burst is acknowledged once stored; processing may still be catching up. Wait for it,
        // and say how long it took after the last acknowledgement.
        let drained = std::time::Instant::now();
        loop {
            let stored: i64 =
                app.state().store.read(|c| faurya::store::deliveries::count(c, "payments")).await.unwrap();
            if stored as usize == count {
                break;
            }
            assert!(drained.elapsed().as_secs() < 300, "only {stored} of {count} deliveries became payments");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        notes.push(format!(
            "{concurrency} concurrent: every delivery was a payment {:.2} s after the load (background processing)",
            drained.elapsed().as_secs_f64()
        ));
        app.shutdown().await;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite_count = count.min(2000);
    let mut sqlite = bare_sqlite(dir.path(), sqlite_count);
    rows.push(sqlite.row());

    println!("| what | requests | per second | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
}
