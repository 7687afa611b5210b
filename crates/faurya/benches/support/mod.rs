//! What the benches share: a load generator over loopback HTTP and its latency table.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Stats {
    pub label: String,
    pub count: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Stats {
    pub fn row(&mut self) -> String {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1).min(self.latencies.len() - 1);
            self.latencies[i].as_secs_f64() * 1000.0
        };
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            self.label,
            self.count,
            self.count as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(1.0)
        )
    }
}

/// Sends `requests` (headers, body) to `url` from `concurrency` clients at once; every answer
/// must be a success.
pub async fn load(label: &str, url: &str, requests: Vec<(Vec<(String, String)>, String)>, concurrency: usize) -> Stats {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let queue = Arc::new(tokio::sync::Mutex::new(requests.into_iter().enumerate()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, queue, url) = (client.clone(), queue.clone(), url.to_string());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some((_, (headers, body))) = queue.lock().await.next() else { break };
                let mut request = client.post(&url).body(body);
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                let t = Instant::now();
                let response = request.send().await.expect("request");
                let status = response.status();
                let _ = response.bytes().await;
                latencies.push(t.elapsed());
                assert!(status.is_success(), "{status}");
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    Stats { label: label.to_string(), count: latencies.len(), elapsed: started.elapsed(), latencies }
}
