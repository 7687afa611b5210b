//! The admin listener's access rules, through real HTTP on loopback.

mod support;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::json;
use support::{TOKEN, TestApp, error_code, split};

#[tokio::test]
async fn no_token_is_401_with_a_json_error() {
    let t = TestApp::start().await;
    let (status, body) = split(t.client.get(t.api("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "unauthorized");
    // Unknown API paths do not reveal anything without the token either.
    let (status, _) = split(t.client.get(t.api("/nope")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    t.stop().await;
}

#[tokio::test]
async fn wrong_token_is_401() {
    let t = TestApp::start().await;
    for token in ["wrong", "", &TOKEN[..TOKEN.len() - 1], &format!("{TOKEN}x")] {
        let response = t.client.get(t.api("/health")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "token {token:?}");
    }
    let response =
        t.client.get(t.api("/health")).header(COOKIE, format!("faurya_admin_1={TOKEN}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a cookie of another name");
    t.stop().await;
}

#[tokio::test]
async fn bearer_token_works() {
    let t = TestApp::start().await;
    let (status, body) = t.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    t.stop().await;
}

#[tokio::test]
async fn login_sets_a_strict_httponly_cookie_that_authenticates() {
    let t = TestApp::start().await;
    let response = t.client.get(format!("{}/login?token={TOKEN}", t.admin)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(TOKEN), "the cookie must not carry the token itself: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let port = t.app().addrs.admin.port();
    assert!(pair.starts_with(&format!("faurya_admin_{port}=")), "{pair}");

    let (status, body) = split(t.client.get(t.api("/settings")).header(COOKIE, &pair).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let tampered = format!("{}0", pair);
    let response = t.client.get(t.api("/settings")).header(COOKIE, tampered).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    t.stop().await;
}

#[tokio::test]
async fn login_with_a_bad_token_goes_to_the_sign_in_card_and_sets_nothing() {
    // With the token from FAURYA_ADMIN_TOKEN there is no file to name.
    let t = TestApp::start().await;
    for url in [format!("{}/login?token=nope", t.admin), format!("{}/login", t.admin)] {
        let response = t.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{url}");
        assert_eq!(response.headers()[LOCATION], "/?signin=invalid&token_file=");
        assert!(response.headers().get(SET_COOKIE).is_none());
    }
    t.stop().await;
    // With a token kept in the data dir, the card names its file.
    let t = TestApp::start_with(|c| c.admin_token = None).await;
    let response = t.client.get(format!("{}/login?token=nope", t.admin)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    let file = t.data_dir().join("admin-token").display().to_string();
    let expected: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("signin", "invalid")
        .append_pair("token_file", &file)
        .finish();
    assert_eq!(location, format!("/?{expected}"));
    t.stop().await;
}

#[tokio::test]
async fn foreign_host_is_403_even_with_the_token() {
    let t = TestApp::start().await;
    for host in ["evil.example", "evil.example:8788", "127.0.0.1.nip.io", "localhost.evil.example"] {
        let (status, body) =
            split(t.client.get(t.api("/health")).bearer_auth(TOKEN).header(HOST, host).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "host {host}");
        assert_eq!(error_code(&body), "forbidden_host");
    }
    // The login route and the UI are guarded too.
    let response =
        t.client.get(format!("{}/login?token={TOKEN}", t.admin)).header(HOST, "evil.example").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = t.client.get(format!("{}/", t.admin)).header(HOST, "evil.example").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // localhost works.
    let port = t.app().addrs.admin.port();
    let response = t
        .client
        .get(t.api("/health"))
        .bearer_auth(TOKEN)
        .header(HOST, format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    t.stop().await;
}

#[tokio::test]
async fn configured_admin_host_is_accepted() {
    let t = TestApp::start_with(|c| c.admin_host = Some("faurya.internal".into())).await;
    let response =
        t.client.get(t.api("/health")).bearer_auth(TOKEN).header(HOST, "faurya.internal").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    t.stop().await;
}

#[tokio::test]
async fn cross_origin_changes_are_refused() {
    let t = TestApp::start().await;
    let response = t
        .client
        .put(t.api("/settings"))
        .bearer_auth(TOKEN)
        .header(ORIGIN, "https://evil.example")
        .json(&json!({"public_url": "https://x.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, body) = t.get("/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["public_url"], serde_json::Value::Null, "the refused change did not happen");
    let same_origin = format!("http://{}", t.app().addrs.admin);
    let response = t
        .client
        .put(t.api("/settings"))
        .bearer_auth(TOKEN)
        .header(ORIGIN, same_origin)
        .json(&json!({"public_url": "https://x.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    t.stop().await;
}

#[tokio::test]
async fn admin_routes_are_not_on_the_public_listener() {
    let t = TestApp::start().await;
    for path in ["/api/health", "/api/settings", "/login?token=x", "/", "/index.html"] {
        let (status, body) =
            split(t.client.get(format!("{}{}", t.public, path)).bearer_auth(TOKEN).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} on the public listener");
        assert_eq!(error_code(&body), "not_found");
    }
    let (status, body) = split(t.client.get(format!("{}/healthz", t.public)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true);
    let (status, body) = split(t.client.delete(format!("{}/healthz", t.public)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&body), "method_not_allowed");
    t.stop().await;
}

#[tokio::test]
async fn settings_round_trip_and_validation() {
    let t = TestApp::start().await;
    let (status, body) = t.get("/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["public_url"], serde_json::Value::Null);
    assert_eq!(body["data_dir"], t.data_dir().display().to_string());
    assert_eq!(body["public_addr"], t.app().addrs.public.to_string());
    assert_eq!(body["admin_addr"], t.app().addrs.admin.to_string());
    assert_eq!(body["signature_tolerance_secs"], 300);

    let (status, body) = t.put("/settings", json!({"public_url": "https://hooks.example.com/"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["public_url"], "https://hooks.example.com");
    assert_eq!(body["public_url_source"], "settings");

    for bad in ["hooks.example.com", "ftp://x.example", "https://x.example/?q=1", "https://"] {
        let (status, body) = t.put("/settings", json!({"public_url": bad})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(error_code(&body), "invalid_input");
        assert!(body["error"]["fields"]["public_url"].is_string(), "{body}");
    }
    let (status, body) = t.put("/settings", json!({"signature_tolerance_secs": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["signature_tolerance_secs"].is_string());

    // Nothing above changed the saved URL; a partial update leaves it alone.
    let (_, body) = t.put("/settings", json!({"signature_tolerance_secs": 120})).await;
    assert_eq!(body["public_url"], "https://hooks.example.com");
    assert_eq!(body["signature_tolerance_secs"], 120);

    // It survives a restart.
    let dir = t.stop().await;
    let t = TestApp::start_in(dir, |_| {}).await;
    let (_, body) = t.get("/settings").await;
    assert_eq!(body["public_url"], "https://hooks.example.com");
    assert_eq!(body["signature_tolerance_secs"], 120);

    // null clears it.
    let (_, body) = t.put("/settings", json!({"public_url": null})).await;
    assert_eq!(body["public_url"], serde_json::Value::Null);
    t.stop().await;
}

#[tokio::test]
async fn malformed_settings_bodies_get_clear_errors() {
    let t = TestApp::start().await;
    let put_raw = |body: &'static str, content_type: &'static str| {
        t.client.put(t.api("/settings")).bearer_auth(TOKEN).header("content-type", content_type).body(body).send()
    };
    let (status, body) = split(put_raw("{not json", "application/json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_json");
    let (status, body) = split(put_raw(r#"{"public_url": 5}"#, "application/json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "invalid_json");
    let (status, body) = split(put_raw(r#"{"surprise": 1}"#, "application/json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown fields are refused, not ignored");
    assert_eq!(error_code(&body), "invalid_json");
    let (status, body) = split(put_raw(r#"{}"#, "text/plain").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&body), "unsupported_media_type");
    let huge = format!(r#"{{"public_url": "https://x.example/{}"}}"#, "a".repeat(100 * 1024));
    let response = t
        .client
        .put(t.api("/settings"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = split(response).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "payload_too_large");
    t.stop().await;
}

#[tokio::test]
async fn a_pinned_public_url_is_read_only() {
    let t = TestApp::start_with(|c| c.public_url = Some("https://pinned.example.com".into())).await;
    let (_, body) = t.get("/settings").await;
    assert_eq!(body["public_url"], "https://pinned.example.com");
    assert_eq!(body["public_url_source"], "flag");
    let (status, body) = t.put("/settings", json!({"public_url": "https://other.example.com"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["public_url"].as_str().unwrap().contains("--public-url"));
    t.stop().await;
}

#[tokio::test]
async fn the_ui_is_served_with_security_headers() {
    let t = TestApp::start().await;
    let response = t.client.get(format!("{}/", t.admin)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let response = t.client.get(format!("{}/../secrets", t.admin)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    t.stop().await;
}

#[tokio::test]
async fn a_ui_dir_is_served_with_content_types() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(ui.path().join("assets/app-1234.js"), "console.log(1)").unwrap();
    std::fs::write(ui.path().join("assets/app-1234.css"), "body{}").unwrap();
    std::fs::write(ui.path().join("icon.svg"), "<svg/>").unwrap();
    let dir = ui.path().to_path_buf();
    let t = TestApp::start_with(move |c| c.ui_dir = Some(dir)).await;
    for (path, content_type, cache) in [
        ("/", "text/html; charset=utf-8", "no-cache"),
        ("/assets/app-1234.js", "text/javascript; charset=utf-8", "immutable"),
        ("/assets/app-1234.css", "text/css; charset=utf-8", "immutable"),
        ("/icon.svg", "image/svg+xml", "no-cache"),
    ] {
        let response = t.client.get(format!("{}{}", t.admin, path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        assert!(response.headers()["cache-control"].to_str().unwrap().contains(cache), "{path}");
    }
    let response = t.client.get(format!("{}/assets/missing.js", t.admin)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    t.stop().await;
}

/// A second Host line or an absolute-form target naming another host cannot slip past the
/// check of the first Host line (raw requests: HTTP clients will not send these).
#[tokio::test]
async fn a_smuggled_second_host_is_403() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = TestApp::start().await;
    let addr = t.admin.trim_start_matches("http://").to_string();
    let cases = [
        format!(
            "GET /api/health HTTP/1.1\r\nHost: {addr}\r\nHost: evil.example\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        ),
        format!("GET http://evil.example/api/health HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"),
    ];
    for request in cases {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 512];
        let n = stream.read(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]).to_string();
        assert!(answer.starts_with("HTTP/1.1 403"), "{request:?} → {answer}");
    }
    // The same request with one consistent host is served.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let fine =
        format!("GET http://{addr}/api/health HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n");
    stream.write_all(fine.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = stream.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    t.stop().await;
}

#[tokio::test]
async fn an_oversize_admin_body_is_refused_from_its_headers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = TestApp::start().await;
    let addr = t.admin.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "PUT /api/settings HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{{"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"));
    t.stop().await;
}
