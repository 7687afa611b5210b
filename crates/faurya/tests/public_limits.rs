//! What a stalled or hostile sender can cost the public listener, seen from outside: a request
//! whose body never arrives cannot hold up a clean stop beyond the shutdown deadline, and an
//! idle connection is closed at the header deadline. (The byte budget and in-flight cap have
//! unit tests in `http::limits`; the whole hostile-request corpus runs against the binary in
//! tests/hostile.)

mod support;

use std::time::{Duration, Instant};

use support::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn stalled_request(public: &str) -> tokio::net::TcpStream {
    let addr = public.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("POST /api/event HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 200\r\n\r\n{{\"n\":");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn a_stalled_sender_cannot_hold_up_a_clean_stop() {
    let t = TestApp::start().await;
    let _stalled = stalled_request(&t.public).await;
    // Let the server start reading the body.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    t.stop().await;
    let took = started.elapsed();
    let deadline = faurya::http::serve::Limits::PUBLIC.shutdown_deadline;
    assert!(took < deadline + Duration::from_secs(3), "the stop took {took:?}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_at_the_header_deadline() {
    let t = TestApp::start().await;
    let addr = t.public.trim_start_matches("http://").to_string();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let deadline = faurya::http::serve::Limits::PUBLIC.header_timeout;
    let read = tokio::time::timeout(deadline + Duration::from_secs(5), idle.read(&mut buf))
        .await
        .expect("closed by the server, not left open");
    assert!(matches!(read, Ok(0) | Err(_)), "closed without an answer: {read:?}");
    assert!(started.elapsed() >= deadline - Duration::from_secs(1));
    // The listener still serves everyone else.
    let (status, _) = support::split(t.client.get(format!("{}/healthz", t.public)).send().await.unwrap()).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    t.stop().await;
}
