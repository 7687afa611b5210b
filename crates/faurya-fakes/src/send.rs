//! How the fake providers deliver webhooks themselves (Whop's test webhook, Paddle's simulator):
//! signed as each provider documents it, written here independently of Faurya's own verifier so
//! the two check each other.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// What the endpoint answered, or `None` when it could not be reached.
pub(crate) struct Answer {
    pub status: Option<u16>,
    pub body: String,
}

/// Standard Webhooks headers as Whop sends them: the key is the secret string's raw bytes.
pub(crate) fn whop_headers(secret: &str, message_id: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(secret.as_bytes(), &[message_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    vec![
        ("webhook-id".into(), message_id.into()),
        ("webhook-timestamp".into(), ts),
        ("webhook-signature".into(), format!("v1,{}", STANDARD.encode(mac))),
    ]
}

/// `Paddle-Signature: ts=…;h1=…` over `"{ts}:{body}"`.
pub(crate) fn paddle_headers(secret: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b":", body]);
    vec![("paddle-signature".into(), format!("ts={ts};h1={}", hex::encode(mac)))]
}

/// POSTs a delivery as the provider's servers would.
pub(crate) async fn deliver(url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Answer {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let mut request = client.post(url).header("content-type", "application/json").body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            Answer { status: Some(status), body: response.text().await.unwrap_or_default() }
        }
        Err(_) => Answer { status: None, body: String::new() },
    }
}

pub(crate) fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}
