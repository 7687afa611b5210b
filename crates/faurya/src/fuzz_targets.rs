//! The parsers that read what the internet sends, as fuzz targets: each takes arbitrary bytes,
//! must never panic, and checks what must hold for any input (a signature made by `sign`
//! verifies, an amount read back is the amount written, a channel's name names it).
//!
//! Two drivers call them: cargo-fuzz (libFuzzer, nightly) in `fuzz/`, and on stable the test
//! `tests/fuzz_stable.rs`, which replays the checked-in corpus (seeds and every crash found) and
//! then feeds each target random and mutated inputs through proptest.

use crate::attribution::{revenue_api, token};
use crate::money;
use crate::providers::{paddle, whop};
use crate::tracking::{channel, event, source};

/// A target: arbitrary bytes in, a panic when something that must hold does not.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus directory and cargo-fuzz binary use.
pub const TARGETS: [(&str, Target); 9] = [
    ("standard_webhooks_header", standard_webhooks_header),
    ("paddle_signature_header", paddle_signature_header),
    ("whop_payload", whop_payload),
    ("paddle_payload", paddle_payload),
    ("money", money_text),
    ("event_body", event_body),
    ("revenue_api_body", revenue_api_body),
    ("referrer_channel", referrer_channel),
    ("attribution_token", attribution_token),
];

/// A fixed clock, so a run is reproducible: 2026-01-01T00:00:00Z.
const NOW_SECS: i64 = 1_767_225_600;
const SECRET: &str = "whsec_fuzzing_secret";

/// Splits `data` into `N` fields at 0xFF bytes (the rest goes to the last field), so one byte
/// string drives several inputs and a fuzzer can still reach each independently.
fn fields<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[data.len()..]; N];
    let mut rest = data;
    for slot in out.iter_mut().take(N - 1) {
        match rest.iter().position(|&b| b == 0xFF) {
            Some(at) => {
                *slot = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out[N - 1] = rest;
    out
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// Whop's Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
/// against a body; and what Faurya signs, it accepts.
pub fn standard_webhooks_header(data: &[u8]) {
    let [id, timestamp, signature, body] = fields::<4>(data);
    let _ = whop::signature::verify(SECRET, text(id), text(timestamp), text(signature), body, NOW_SECS, 300);
    // Any id a header can carry (visible ASCII and spaces, not blank) signs and verifies.
    if let Some(id) = text(id).filter(|id| !id.trim().is_empty() && id.bytes().all(|b| (b' '..=b'~').contains(&b))) {
        let signed = whop::signature::sign(SECRET, id, NOW_SECS, body);
        let verdict =
            whop::signature::verify(SECRET, Some(id), Some(&NOW_SECS.to_string()), Some(&signed), body, NOW_SECS, 300);
        assert!(verdict.is_ok(), "a delivery signed by sign() was refused: {verdict:?}");
    }
}

/// The `Paddle-Signature` header against a body; and what Faurya signs, it accepts.
pub fn paddle_signature_header(data: &[u8]) {
    let [header, body] = fields::<2>(data);
    let _ = paddle::signature::verify(SECRET, text(header), body, NOW_SECS, 300);
    let signed = paddle::signature::sign(SECRET, NOW_SECS, body);
    let verdict = paddle::signature::verify(SECRET, Some(&signed), body, NOW_SECS, 300);
    assert!(verdict.is_ok(), "a delivery signed by sign() was refused: {verdict:?}");
}

pub fn whop_payload(data: &[u8]) {
    let _ = whop::payload::parse(data);
}

pub fn paddle_payload(data: &[u8]) {
    let _ = paddle::payload::parse(data);
}

/// An amount's text and currency; an amount that is read is read back the same from its own
/// decimal rendering.
pub fn money_text(data: &[u8]) {
    let [amount, currency] = fields::<2>(data);
    let (Some(amount), Some(currency)) = (text(amount), text(currency)) else { return };
    let _ = money::integer_minor(amount);
    let _ = money::normalize_currency(currency);
    let Ok(minor) = money::decimal_to_minor(amount, currency) else { return };
    let places = money::exponent(currency.trim()).expect("a currency that converted has an exponent");
    let rendered = render_minor(minor, places);
    assert_eq!(money::decimal_to_minor(&rendered, currency).ok(), Some(minor), "{amount} → {minor} → {rendered}");
}

/// `minor` as a decimal text with `places` decimals (`-1234`, 2 → `-12.34`).
pub fn render_minor(minor: i64, places: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let digits = minor.unsigned_abs().to_string();
    if places == 0 {
        return format!("{sign}{digits}");
    }
    let places = places as usize;
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    format!("{sign}{whole}.{fraction}")
}

/// The tracking script's event body, then what accepting it for a site does.
pub fn event_body(data: &[u8]) {
    if let Ok(raw) = event::parse(data, NOW_SECS * 1000) {
        let accepted = event::accept(raw, &["shop.example.com".to_string()], NOW_SECS * 1000);
        assert!(accepted.path.starts_with('/'), "landing path {:?}", accepted.path);
    }
}

pub fn revenue_api_body(data: &[u8]) {
    let _ = revenue_api::parse(data);
}

/// A landing URL and a referrer through the source resolver and the channel table: always one
/// channel, whose name names it.
pub fn referrer_channel(data: &[u8]) {
    let [landing, referrer] = fields::<2>(data);
    let landing = String::from_utf8_lossy(landing);
    let url = url::Url::parse(&landing)
        .or_else(|_| url::Url::parse(&format!("https://shop.example.com/{landing}")))
        .unwrap_or_else(|_| url::Url::parse("https://shop.example.com/").expect("a valid URL"));
    let referrer = String::from_utf8_lossy(referrer);
    let entry = source::resolve(&url, Some(&referrer), &["shop.example.com".to_string()]);
    let found = channel::classify(&entry);
    assert_eq!(channel::Channel::parse(found.name()), Some(found));
    if let Some(source) = &entry.source {
        let _ = source::category(source);
    }
}

/// An attribution token as a payment may carry it; and a token Faurya issues verifies.
pub fn attribution_token(data: &[u8]) {
    let [given, visitor, session] = fields::<3>(data);
    let secret = b"fuzzing token secret, 32 bytes..";
    if let Some(given) = text(given) {
        let _ = token::verify(secret, "site_1", given, NOW_SECS, 30 * 86_400);
    }
    let (Some(visitor), Some(session)) = (text(visitor), text(session)) else { return };
    if crate::tracking::ids::is_valid_id(visitor) && crate::tracking::ids::is_valid_id(session) {
        let issued = token::issue(secret, "site_1", visitor, session, NOW_SECS);
        let claims = token::verify(secret, "site_1", &issued, NOW_SECS, 30 * 86_400);
        assert!(claims.is_ok(), "an issued token was refused: {claims:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_at_ff_and_keep_the_rest() {
        assert_eq!(fields::<3>(b"a\xFFb\xFFc\xFFd"), [&b"a"[..], b"b", b"c\xFFd"]);
        assert_eq!(fields::<2>(b"only"), [&b"only"[..], b""]);
        assert_eq!(fields::<2>(b""), [&b""[..], b""]);
    }

    #[test]
    fn render_minor_writes_the_decimal() {
        assert_eq!(render_minor(-1234, 2), "-12.34");
        assert_eq!(render_minor(5, 3), "0.005");
        assert_eq!(render_minor(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(render_minor(42, 0), "42");
    }
}
