//! Tracking on loopback, in one run on one machine:
//!
//! 1. the event endpoint: pageviews from 32 concurrent clients against the real app (checks,
//!    batched write, session and rollups, token), beside a bare axum handler that reads the body
//!    and answers 202 (the HTTP floor);
//! 2. a payment webhook's acknowledgement latency, idle and while ~2,000 events/s arrive;
//! 3. the Overview's queries over a store bulk-loaded with 1 M sessions and 5 M pageviews.
//!
//! Run: `cargo bench -p faurya --bench tracking` (optionally `-- <events> <sessions>`).
//! Prints Markdown tables for docs/BENCHMARKS.md.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faurya::providers::whop::signature::sign;
use faurya::{App, Config};
use serde_json::{Value, json};
use support::{Stats, load};

const TOKEN: &str = "bench-admin-token-0123456789";
const KEY: &str = "whop_bench_key_0123456789abcdef";
const COMPANY: &str = "biz_bench";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::ephemeral(dir.join("data"));
    // As `faurya serve` runs (ephemeral configs, for tests, skip the WAL preallocation).
    config.wal_preallocate = faurya::store::WAL_PREALLOCATE;
    config.admin_token = Some(TOKEN.into());
    config.master_key = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    config.public_url = Some("https://bench.example.com".into());
    config
}

async fn admin_get(client: &reqwest::Client, app: &faurya::RunningApp, path: &str) -> Value {
    client.get(format!("{}/api{path}", app.admin_url())).bearer_auth(TOKEN).send().await.unwrap().json().await.unwrap()
}

async fn admin(client: &reqwest::Client, app: &faurya::RunningApp, path: &str, body: Value) -> Value {
    client
        .post(format!("{}/api{path}", app.admin_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A pageview as the script sends it: five per session, sessions of one visitor each, and
/// each client behind its own address (as the tunnel reports it) so the per-address limit
/// does not throttle the load.
fn pageview(site: &str, i: usize) -> (Vec<(String, String)>, String) {
    let session = i / 5;
    let body = json!({
        "site": site, "name": "pageview",
        "url": format!("https://bench.example.com/page{}?utm_source=newsletter&utm_medium=email", i % 20),
        "referrer": if i.is_multiple_of(5) { "https://news.ycombinator.com/" } else { "" },
        "visitor_id": format!("visitor_{session:08}"), "session_id": format!("session_{session:08}"),
        "ts": now_ms(),
    });
    let headers = vec![
        ("content-type".into(), "text/plain;charset=UTF-8".into()),
        ("origin".into(), "https://bench.example.com".into()),
        ("user-agent".into(), CHROME.into()),
        ("x-forwarded-for".into(), format!("2001:db8::{:x}", session % 65_000)),
    ];
    (headers, body.to_string())
}

async fn bare_axum() -> SocketAddr {
    let app = axum::Router::new().route(
        "/api/event",
        axum::routing::post(|body: axum::body::Bytes| async move {
            std::hint::black_box(body.len());
            (axum::http::StatusCode::ACCEPTED, axum::Json(json!({"token": "x"})))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Signed Whop payment deliveries, one at a time, each timed from send to 200.
async fn webhooks(client: &reqwest::Client, url: &str, secret: &str, tag: &str, count: usize) -> Stats {
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let id = format!("msg_{tag}_{i}");
        let body = format!(
            r#"{{"id":"{id}","api_version":"v1","type":"payment.succeeded","company_id":"{COMPANY}","data":{{"id":"pay_{tag}_{i}","status":"paid","currency":"usd","total":49.00,"metadata":{{}}}}}}"#
        );
        let ts = now_ms() / 1000;
        let t = Instant::now();
        let response = client
            .post(url)
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sign(secret, &id, ts, body.as_bytes()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        latencies.push(t.elapsed());
    }
    Stats { label: format!("webhook ack, {tag}"), count, elapsed: started.elapsed(), latencies }
}

/// Sends pageviews at `per_sec` until `stop`, from 16 paced clients; counts what was accepted.
fn background_events(site: String, url: String, per_sec: usize, stop: Arc<AtomicBool>, sent: Arc<AtomicUsize>) {
    let clients = 16;
    for c in 0..clients {
        let (site, url, stop, sent) = (site.clone(), url.clone(), stop.clone(), sent.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut tick = tokio::time::interval(Duration::from_secs_f64(clients as f64 / per_sec as f64));
            let mut i = 10_000_000 + c;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let (headers, body) = pageview(&site, i);
                let mut request = client.post(&url).body(body);
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                if request.send().await.is_ok_and(|r| r.status().is_success()) {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                i += clients;
            }
        });
    }
}

async fn event_and_webhook_load(events: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let fakes = faurya_fakes::FakeProviders::start().await;
    fakes.add_whop_key(KEY, COMPANY, true);
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.whop_api_base = Some(fakes.whop_base());
    let app = App::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let site = admin(&client, &app, "/sites", json!({"name": "Bench", "domains": ["bench.example.com"]})).await;
    let site = site["id"].as_str().unwrap().to_string();
    let event_url = format!("{}/api/event", app.public_listener_url());

    let requests: Vec<_> = (0..events).map(|i| pageview(&site, i)).collect();
    rows.push(load("events, real app, 32 concurrent", &event_url, requests, 32).await.row());
    let bare = bare_axum().await;
    let requests: Vec<_> = (0..events).map(|i| pageview(&site, i)).collect();
    rows.push(
        load("events, bare axum 202, 32 concurrent", &format!("http://{bare}/api/event"), requests, 32).await.row(),
    );
    let stored: i64 =
        app.state().store.read(|c| Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(stored as usize, events, "every accepted event is stored");

    let connection = admin(
        &client,
        &app,
        "/connections/whop",
        json!({"api_key": KEY, "company_id": COMPANY, "environment": "production", "site_id": site}),
    )
    .await;
    let secret = fakes.secrets().pop().unwrap();
    let hook = format!("{}/webhooks/whop/{}", app.public_listener_url(), connection["id"].as_str().unwrap());
    rows.push(webhooks(&client, &hook, &secret, "idle", 300).await.row());

    // The revenue API beside webhook ingest, 16 concurrent each, the same number of purchases.
    let (site_key, n) = (admin_get(&client, &app, &format!("/sites/{site}/write-key")).await, 3000);
    let key = site_key["write_key"].as_str().unwrap().to_string();
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let headers = vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("x-faurya-site-id".to_string(), site.clone()),
                ("x-faurya-write-key".to_string(), key.clone()),
            ];
            let body = json!({"event": "purchase", "amount": 4900, "currency": "USD", "orderId": format!("ord_{i}"),
                "provider": "paddle", "providerPaymentId": format!("txn_bench_{i}"),
                "attribution": {"faVisitorId": format!("visitor_{:08}", i), "faSessionId": format!("session_{:08}", i)}});
            (headers, body.to_string())
        })
        .collect();
    let revenue_url = format!("{}/api/revenue", app.public_listener_url());
    rows.push(load("revenue API purchases, 16 concurrent", &revenue_url, calls, 16).await.row());
    let signed: Vec<_> = (0..n)
        .map(|i| {
            let id = format!("msg_cmp_{i}");
            let body = format!(
                r#"{{"id":"{id}","api_version":"v1","type":"payment.succeeded","company_id":"{COMPANY}","data":{{"id":"pay_cmp_{i}","status":"paid","currency":"usd","total":49.00,"metadata":{{"faurya_visitor_id":"visitor_{i:08}","faurya_session_id":"session_{i:08}"}}}}}}"#
            );
            let ts = now_ms() / 1000;
            let headers = vec![
                ("webhook-id".to_string(), id.clone()),
                ("webhook-timestamp".to_string(), ts.to_string()),
                ("webhook-signature".to_string(), sign(&secret, &id, ts, body.as_bytes())),
                ("content-type".to_string(), "application/json".to_string()),
            ];
            (headers, body)
        })
        .collect();
    rows.push(load("Whop webhook payments, 16 concurrent", &hook, signed, 16).await.row());
    let (stop, sent) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    background_events(site.clone(), event_url.clone(), 2000, stop.clone(), sent.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = sent.load(Ordering::Relaxed);
    let mut busy = webhooks(&client, &hook, &secret, "under events", 300).await;
    let rate = (sent.load(Ordering::Relaxed) - before) as f64 / busy.elapsed.as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    busy.label = format!("webhook ack, while {rate:.0} events/s arrive");
    rows.push(busy.row());
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.shutdown().await;
    rows
}

/// Bulk-loads `sessions` sessions (5 pageviews each) over the last 90 days through a plain
/// connection, then derives the rollups with the same definitions the writer keeps.
fn fill(path: &std::path::Path, site: &str, sessions: usize, payments: usize) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    conn.execute(
        "INSERT INTO connections (id, provider, environment, account_id, key_last4, status, created_at, site_id)
         VALUES ('con_bench', 'whop', 'production', 'biz_bench', 'abcd', 'removed', 0, ?1)",
        [site],
    )
    .unwrap();
    let now = now_ms();
    let referrers = [
        (None, None, "Direct"),
        (Some("https://www.google.com/"), Some("Google"), "Organic Search"),
        (Some("https://news.ycombinator.com/"), Some("Hacker News"), "Organic Social"),
        (Some("https://chatgpt.com/"), Some("ChatGPT"), "AI Assistants"),
        (Some("https://indiehackers.com/post/1"), Some("indiehackers.com"), "Referral"),
    ];
    let tx = conn.transaction().unwrap();
    {
        let mut session = tx
            .prepare(
                "INSERT INTO sessions (id, site_id, session_id, visitor_id, started_at, last_seen_at, landing_url,
                    landing_page, referrer, referrer_host, source, utm_source, utm_medium, utm_campaign, channel,
                    channel_version, pageviews, events)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5 + 60000, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15, ?15)",
            )
            .unwrap();
        let mut event = tx
            .prepare("INSERT INTO events (session, name, url, path, at, received_at) VALUES (?1, 'pageview', ?2, ?3, ?4, ?4)")
            .unwrap();
        for i in 1..=sessions {
            let started = now - ((i as i64 * 7_919) % (90 * DAY_MS));
            let visitor = format!("visitor_{:08}", i % (sessions * 2 / 3).max(1));
            let landing = format!("/page{}", i % 50);
            let (referrer, source, channel, campaign, medium, utm) = if i % 10 == 0 {
                (None, Some("newsletter"), "Email", Some(format!("issue{}", i % 30)), Some("email"), Some("newsletter"))
            } else {
                let (r, s, c) = referrers[i % referrers.len()];
                (r, s, c, None, None, None)
            };
            let host = referrer
                .map(|r| url::Url::parse(r).unwrap().host_str().unwrap().trim_start_matches("www.").to_string());
            let pageviews = if i % 3 == 0 { 1 } else { 7 };
            session
                .execute(rusqlite::params![
                    i as i64,
                    site,
                    format!("session_{i:08}"),
                    visitor,
                    started,
                    format!("https://bench.example.com{landing}"),
                    landing,
                    referrer,
                    host,
                    source,
                    utm,
                    medium,
                    campaign,
                    channel,
                    pageviews
                ])
                .unwrap();
            for p in 0..pageviews {
                let path = format!("/page{}", (i + p as usize) % 50);
                event
                    .execute(rusqlite::params![
                        i as i64,
                        format!("https://bench.example.com{path}"),
                        path,
                        started + p * 10_000
                    ])
                    .unwrap();
            }
        }
    }
    // Payments: one for every tenth session, credited under the three models as the writer
    // would (the visitor's first session, the paying session, its latest non-Direct one), in one
    // INSERT so the rollup triggers fire once per payment.
    tx.execute(
        "WITH paying AS (
             SELECT s.id AS lt, s.site_id, s.visitor_id, s.session_id, s.started_at,
                    (SELECT f.id FROM sessions f WHERE f.site_id = s.site_id AND f.visitor_id = s.visitor_id
                     ORDER BY f.started_at, f.id LIMIT 1) AS ft,
                    coalesce((SELECT n.id FROM sessions n WHERE n.site_id = s.site_id AND n.visitor_id = s.visitor_id
                              AND n.channel != 'Direct' AND n.started_at <= s.started_at
                              ORDER BY n.started_at DESC, n.id DESC LIMIT 1), s.id) AS lnd
             FROM sessions s WHERE s.id % ?1 = 0)
         INSERT INTO payments (provider, connection_id, provider_payment_id, amount_minor, currency, status,
             visitor_id, session_id, paid_at, created_at, updated_at, site_id, attr_visitor, attr_session,
             attribution_status,
             ft_session, ft_channel, ft_source, ft_campaign, ft_landing, ft_referrer,
             lt_session, lt_channel, lt_source, lt_campaign, lt_landing, lt_referrer,
             lnd_session, lnd_channel, lnd_source, lnd_campaign, lnd_landing, lnd_referrer)
         SELECT 'whop', 'con_bench', 'pay_' || p.lt, 4900 + (p.lt % 7) * 1000,
                CASE WHEN p.lt % 5 = 0 THEN 'EUR' ELSE 'USD' END, 'succeeded', p.visitor_id, p.session_id,
                p.started_at + 600000, p.started_at + 600000, p.started_at + 600000, p.site_id, p.visitor_id,
                p.session_id, 'ids',
                f.id, f.channel, coalesce(f.source, 'Direct'), f.utm_campaign, f.landing_page, f.referrer_host,
                l.id, l.channel, coalesce(l.source, 'Direct'), l.utm_campaign, l.landing_page, l.referrer_host,
                n.id, n.channel, coalesce(n.source, 'Direct'), n.utm_campaign, n.landing_page, n.referrer_host
         FROM paying p JOIN sessions f ON f.id = p.ft JOIN sessions l ON l.id = p.lt JOIN sessions n ON n.id = p.lnd",
        [((sessions / payments).max(1)) as i64],
    )
    .unwrap();
    // The rollups, derived with the same definitions the writer keeps them by.
    faurya::store::sessions::rebuild_rollups(&tx, site).unwrap();
    tx.commit().unwrap();
}

async fn overview_at_scale(sessions: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(config(dir.path())).await.unwrap();
    let client = reqwest::Client::new();
    let site = admin(&client, &app, "/sites", json!({"name": "Big", "domains": ["bench.example.com"]})).await;
    let site = site["id"].as_str().unwrap().to_string();
    let db = app.state().store.path().to_path_buf();
    app.shutdown().await;
    let started = Instant::now();
    let payments = sessions / 10;
    fill(&db, &site, sessions, payments);
    let size = std::fs::metadata(&db).map(|m| m.len() / (1024 * 1024)).unwrap_or(0);
    eprintln!(
        "filled {sessions} sessions, ~{} pageviews, {payments} payments in {:.0?} ({size} MiB)",
        sessions * 5,
        started.elapsed()
    );

    let app = App::start(config(dir.path())).await.unwrap();
    let base = format!("{}/api", app.admin_url());
    let (_, page) = get(&client, &format!("{base}/sessions?site={site}&days=90&limit=50")).await;
    let deep = page["next"].as_str().unwrap().to_string();
    let one = page["sessions"][0]["id"].as_str().unwrap().to_string();
    let requests = [
        ("traffic, 30 days", format!("{base}/traffic?site={site}&days=30")),
        ("traffic, 90 days (all)", format!("{base}/traffic?site={site}&days=90")),
        ("traffic, 1 day", format!("{base}/traffic?site={site}&days=1")),
        ("sessions, newest 50", format!("{base}/sessions?site={site}&days=30&limit=50")),
        ("sessions, channel=Email, newest 50", format!("{base}/sessions?site={site}&days=30&channel=Email")),
        ("sessions, next page (keyset)", format!("{base}/sessions?site={site}&days=90&before={deep}")),
        ("one session with its pages", format!("{base}/sessions/{one}?site={site}")),
        ("live visitors", format!("{base}/live?site={site}")),
        ("attribution, last non-direct by channel, 30 days", format!("{base}/attribution?site={site}&days=30")),
        (
            "attribution, first touch by source, 90 days",
            format!("{base}/attribution?site={site}&days=90&model=first_touch&by=source"),
        ),
        (
            "attribution, last touch by landing page, 90 days",
            format!("{base}/attribution?site={site}&days=90&model=last_touch&by=landing_page"),
        ),
        ("compare models by channel, 90 days", format!("{base}/attribution/compare?site={site}&days=90")),
        ("compare models by campaign, 30 days", format!("{base}/attribution/compare?site={site}&days=30&by=campaign")),
        ("revenue summary, 30 days", format!("{base}/revenue/summary?site={site}&days=30")),
        ("payments, newest 50", format!("{base}/payments?site={site}")),
        ("a payment's journey", format!("{base}/payments/{{payment}}/journey")),
    ];
    let (_, newest) = get(&client, &format!("{base}/payments?site={site}&limit=1")).await;
    let payment_id = newest["payments"][0]["id"].to_string();
    let mut rows = Vec::new();
    for (label, url) in requests {
        let url = url.replace("{payment}", &payment_id);
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let (status, _) = get(&client, &url).await;
            times.push(t.elapsed());
            assert!(status.is_success(), "{label}: {status}");
        }
        times.sort();
        rows.push(format!(
            "| {label} | {:.2} | {:.2} |",
            times[times.len() / 2].as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0
        ));
    }
    app.shutdown().await;
    rows
}

async fn get(client: &reqwest::Client, url: &str) -> (reqwest::StatusCode, Value) {
    let response = client.get(url).bearer_auth(TOKEN).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let events: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let sessions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let rows = event_and_webhook_load(events).await;
        println!("| what | requests | per second | p50 ms | p99 ms | max ms |");
        println!("|---|---:|---:|---:|---:|---:|");
        for row in rows {
            println!("{row}");
        }
        let rows = overview_at_scale(sessions).await;
        println!("\n| request ({sessions} sessions, {} payments) | median ms | max ms |", sessions / 10);
        println!("|---|---:|---:|");
        for row in rows {
            println!("{row}");
        }
    });
}
