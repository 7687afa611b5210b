//! The inspector over a large store: a database filled with N deliveries (default one million,
//! ~1 KiB bodies, full-text indexed), then the admin API's list, filter, deep-page, search and
//! detail requests timed through real HTTP on loopback.
//!
//! Run: `cargo bench -p faurya --bench inspector` (optionally `-- <deliveries>`).

use std::time::{Duration, Instant};

use faurya::{App, Config};

const TOKEN: &str = "bench-admin-token-0123456789";

fn fill(path: &std::path::Path, n: usize) {
    // Migrate through the real store, then bulk-load with a plain connection.
    faurya::store::Store::open(path).unwrap();
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    conn.execute(
        "INSERT INTO connections (id, provider, environment, account_id, key_last4, status, created_at)
         VALUES ('con_bench', 'whop', 'production', 'biz_bench', 'abcd', 'active', 0)",
        [],
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO deliveries (id, connection_id, provider, delivery_id, event_type, received_at, headers, body,
                                         status, amount_minor, currency)
                 VALUES (?1, 'con_bench', ?2, ?3, ?4, ?5, '[[\"content-type\",\"application/json\"]]', ?6, ?7, ?8, 'USD')",
            )
            .unwrap();
        let mut fts = tx.prepare("INSERT INTO deliveries_fts (rowid, body) VALUES (?1, ?2)").unwrap();
        let mut payment = tx
            .prepare(
                "INSERT INTO payments (provider, connection_id, provider_payment_id, amount_minor, currency, status,
                                       visitor_id, created_at, updated_at, delivery_id)
                 VALUES ('whop', 'con_bench', ?1, ?2, ?3, 'succeeded', ?4, ?5, ?5, ?6)",
            )
            .unwrap();
        let mut refund = tx
            .prepare(
                "INSERT INTO refunds (provider, provider_refund_id, provider_payment_id, amount_minor, currency, status,
                                      counts, created_at, updated_at)
                 VALUES ('whop', ?1, ?2, 100, ?3, 'succeeded', 1, ?4, ?4)",
            )
            .unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let statuses = ["processed", "processed", "processed", "processed", "ignored", "duplicate", "failed"];
        let types = ["payment.succeeded", "payment.succeeded", "refund.created", "payment.failed", "dispute.created"];
        for i in 1..=n {
            let provider = if i % 3 == 0 { "paddle" } else { "whop" };
            let body = format!(
                r#"{{"id":"msg_{i:08}","type":"{}","data":{{"id":"pay_{i:08}","currency":"usd","total":{}.{:02},"metadata":{{"faurya_visitor_id":"v_{:06}","faurya_session_id":"s_{:07}"}},"user":{{"email":"buyer{}@example.com"}},"padding":"{}"}}}}"#,
                types[i % types.len()],
                i % 500,
                i % 100,
                i % 100_000,
                i % 1_000_000,
                i % 50_000,
                "lorem ipsum dolor sit amet ".repeat(28)
            );
            insert
                .execute(rusqlite::params![
                    i as i64,
                    provider,
                    format!("msg_{i:08}"),
                    types[i % types.len()],
                    1_700_000_000_000i64 + i as i64 * 1000,
                    body.as_bytes(),
                    statuses[i % statuses.len()],
                    (i % 50_000) as i64
                ])
                .unwrap();
            fts.execute(rusqlite::params![i as i64, body]).unwrap();
            // A third of the deliveries made a payment, spread over the last year; some refunded.
            if i % 3 == 0 {
                let currency = ["USD", "USD", "EUR", "JPY"][i % 4];
                let at = now - (i as i64 % 365) * 86_400_000;
                let visitor = (i % 5 != 0).then(|| format!("v_{i}"));
                payment
                    .execute(rusqlite::params![
                        format!("pay_{i:08}"),
                        (i % 500) as i64 * 100,
                        currency,
                        visitor,
                        at,
                        i as i64
                    ])
                    .unwrap();
                if i % 30 == 0 {
                    refund
                        .execute(rusqlite::params![format!("rfnd_{i}"), format!("pay_{i:08}"), currency, at])
                        .unwrap();
                }
            }
        }
    }
    tx.commit().unwrap();
}

fn main() {
    let n: usize =
        std::env::args().skip(1).find(|a| !a.starts_with("--")).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("faurya.db");
    let started = Instant::now();
    fill(&db, n);
    let size = std::fs::metadata(&db).unwrap().len();
    eprintln!("filled {n} deliveries in {:.0} s ({} MiB)", started.elapsed().as_secs_f64(), size / 1024 / 1024);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut config = Config::ephemeral(&data);
        // As `faurya serve` runs (ephemeral configs, for tests, skip the WAL preallocation).
        config.wal_preallocate = faurya::store::WAL_PREALLOCATE;
        config.admin_token = Some(TOKEN.into());
        config.master_key = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
        let app = App::start(config).await.unwrap();
        let client = reqwest::Client::new();
        let get = |path: String| {
            let (client, url) = (client.clone(), format!("{}/api{path}", app.admin_url()));
            async move {
                let t = Instant::now();
                let response = client.get(url).bearer_auth(TOKEN).send().await.unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                let body: serde_json::Value = response.json().await.unwrap();
                (t.elapsed(), body)
            }
        };
        // The cursor of a page half-way down, to time a deep page.
        let deep = format!("d{}r0", n / 2);
        let cases = [
            ("newest 50", "/events?limit=50".to_string()),
            ("status=failed, newest 50", "/events?status=failed&limit=50".to_string()),
            ("provider=paddle, newest 50", "/events?provider=paddle&limit=50".to_string()),
            ("type=refund.created, newest 50", "/events?type=refund.created&limit=50".to_string()),
            ("page half-way down (keyset cursor)", format!("/events?limit=50&cursor={deep}")),
            ("search: a payment id (1 match)", format!("/events?q=pay_{:08}", n / 3)),
            ("search: a visitor id (~10 matches)", "/events?q=v_004242".to_string()),
            ("search: a common word (all match)", "/events?q=lorem&limit=50".to_string()),
            ("one delivery with body", format!("/events/d_{}", n / 2)),
            ("payments, newest 50", "/payments?limit=50".to_string()),
            ("revenue summary, 30 days", "/revenue/summary?days=30".to_string()),
        ];
        println!("| request ({n} deliveries) | median ms | max ms | results |");
        println!("|---|---:|---:|---:|");
        for (label, path) in cases {
            let mut times: Vec<Duration> = Vec::new();
            let mut results = 0;
            for _ in 0..7 {
                let (elapsed, body) = get(path.clone()).await;
                times.push(elapsed);
                results = body["events"].as_array().or(body["payments"].as_array()).map(|a| a.len()).unwrap_or(1);
            }
            times.sort();
            println!(
                "| {label} | {:.2} | {:.2} | {results} |",
                times[times.len() / 2].as_secs_f64() * 1000.0,
                times[times.len() - 1].as_secs_f64() * 1000.0
            );
        }
        app.shutdown().await;
    });
}
