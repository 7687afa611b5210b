//! The attribution token: what the event endpoint hands the browser, and what a checkout passes
//! back (Whop metadata `faurya_attribution_token`, Paddle `custom_data.faAttributionToken`, the
//! revenue API) so a payment can be tied to its visit even if someone edits the plain ids.
//!
//! Form: `v1.{visitor}.{session}.{issued}.{mac}` — ids as sent by the script (they are
//! `[A-Za-z0-9_-]`, so `.` never appears inside one), `issued` in unix seconds base 36, `mac` the
//! first 16 bytes of HMAC-SHA256 over (site, visitor, session, issued) with the site's token
//! secret, base64url without padding. The site is inside the MAC but not the text: a token is
//! only ever checked against the site of the payment it came with, so another site's token fails.
//! URL-safe and about 90 characters, it fits any provider's metadata value.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use crate::providers::signature::{constant_time_eq, hmac_sha256};

const VERSION: &str = "v1";
/// 128 bits of MAC: forging one takes 2^128 tries, and the token stays short.
const MAC_LEN: usize = 16;
/// Tokens older than this are not trusted (a checkout 30 days after the visit is attributed by
/// its plain ids only).
pub const DEFAULT_MAX_AGE_SECS: i64 = 30 * 24 * 3600;
/// A token "issued" further in the future than this was not made by this clock.
const FUTURE_SKEW_SECS: i64 = 300;

/// The ids a valid token vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub visitor_id: String,
    pub session_id: String,
    pub issued_at: i64,
}

/// Why a token is not trusted; shown on the payment as "unverified attribution: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the attribution token is not in Faurya's format")]
    Malformed,
    #[error("the attribution token's signature does not match: it was altered, forged, or made for another site")]
    BadSignature,
    #[error("the attribution token expired ({age_days} days old; tokens are trusted for {max_days} days)")]
    Expired { age_days: i64, max_days: i64 },
    #[error("the attribution token was issued in the future: check this computer's clock")]
    FromTheFuture,
}

fn mac(secret: &[u8], site_id: &str, visitor: &str, session: &str, issued: &str) -> Vec<u8> {
    let parts: [&[u8]; 9] = [
        b"faurya-attribution-v1",
        b"\0",
        site_id.as_bytes(),
        b"\0",
        visitor.as_bytes(),
        b"\0",
        session.as_bytes(),
        b"\0",
        issued.as_bytes(),
    ];
    hmac_sha256(secret, &parts)[..MAC_LEN].to_vec()
}

/// A token for `visitor`/`session` on `site_id`, issued at `now_secs`.
pub fn issue(secret: &[u8], site_id: &str, visitor: &str, session: &str, now_secs: i64) -> String {
    let issued = to_base36(now_secs.max(0) as u64);
    let mac = B64URL.encode(mac(secret, site_id, visitor, session, &issued));
    format!("{VERSION}.{visitor}.{session}.{issued}.{mac}")
}

/// Checks `token` against the site's secret and the clock.
pub fn verify(
    secret: &[u8],
    site_id: &str,
    token: &str,
    now_secs: i64,
    max_age_secs: i64,
) -> Result<Claims, TokenError> {
    // Bounded before any work: a token is ~90 characters; ids are at most 64 each.
    if token.len() > 256 {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(version), Some(visitor), Some(session), Some(issued), Some(given), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if version != VERSION || !crate::tracking::ids::is_valid_id(visitor) || !crate::tracking::ids::is_valid_id(session)
    {
        return Err(TokenError::Malformed);
    }
    let issued_at = from_base36(issued).ok_or(TokenError::Malformed)?;
    let given = B64URL.decode(given).map_err(|_| TokenError::Malformed)?;
    if given.len() != MAC_LEN {
        return Err(TokenError::Malformed);
    }
    if !constant_time_eq(&mac(secret, site_id, visitor, session, issued), &given) {
        return Err(TokenError::BadSignature);
    }
    if issued_at > now_secs + FUTURE_SKEW_SECS {
        return Err(TokenError::FromTheFuture);
    }
    let age = now_secs - issued_at;
    if age > max_age_secs {
        return Err(TokenError::Expired { age_days: age / 86_400, max_days: max_age_secs / 86_400 });
    }
    Ok(Claims { visitor_id: visitor.to_string(), session_id: session.to_string(), issued_at })
}

fn to_base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii digits")
}

fn from_base36(text: &str) -> Option<i64> {
    // Canonical form only (no leading zeros, lower case), so one time has one spelling.
    if text.is_empty() || text.len() > 13 || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    let mut n: i64 = 0;
    for c in text.bytes() {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            _ => return None,
        };
        n = n.checked_mul(36)?.checked_add(i64::from(digit))?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    fn token() -> String {
        issue(SECRET, "site_a", "visitor_123", "session_456", NOW)
    }

    #[test]
    fn a_fresh_token_verifies_and_carries_its_ids() {
        let t = token();
        assert!(t.len() < 100, "{t}");
        assert!(t.bytes().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c)), "URL-safe: {t}");
        let claims = verify(SECRET, "site_a", &t, NOW + 60, DEFAULT_MAX_AGE_SECS).unwrap();
        assert_eq!(
            claims,
            Claims { visitor_id: "visitor_123".into(), session_id: "session_456".into(), issued_at: NOW }
        );
    }

    #[test]
    fn another_site_or_secret_is_a_bad_signature() {
        let t = token();
        assert_eq!(verify(SECRET, "site_b", &t, NOW, DEFAULT_MAX_AGE_SECS), Err(TokenError::BadSignature));
        assert_eq!(verify(b"another secret", "site_a", &t, NOW, DEFAULT_MAX_AGE_SECS), Err(TokenError::BadSignature));
    }

    #[test]
    fn any_altered_part_is_rejected() {
        let t = token();
        let swapped_ids = t.replace("visitor_123", "visitor_999");
        assert_eq!(verify(SECRET, "site_a", &swapped_ids, NOW, DEFAULT_MAX_AGE_SECS), Err(TokenError::BadSignature));
        let parts: Vec<&str> = t.split('.').collect();
        let later = format!("v1.{}.{}.{}.{}", parts[1], parts[2], to_base36(NOW as u64 + 1000), parts[4]);
        assert_eq!(verify(SECRET, "site_a", &later, NOW, DEFAULT_MAX_AGE_SECS), Err(TokenError::BadSignature));
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(verify(SECRET, "site_a", &flipped, NOW, DEFAULT_MAX_AGE_SECS).is_err());
    }

    #[test]
    fn expiry_and_the_future_are_enforced() {
        let t = token();
        let max = DEFAULT_MAX_AGE_SECS;
        assert!(verify(SECRET, "site_a", &t, NOW + max, max).is_ok());
        assert_eq!(
            verify(SECRET, "site_a", &t, NOW + max + 1, max),
            Err(TokenError::Expired { age_days: 30, max_days: 30 })
        );
        assert_eq!(verify(SECRET, "site_a", &t, NOW - 3600, max), Err(TokenError::FromTheFuture));
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        let long = "a".repeat(300);
        for bad in [
            "",
            "v1",
            "v1....",
            "v2.visitor_123.session_456.abc.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.bad id!.session_456.abc.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.visitor_123.session_456.ABC.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.visitor_123.session_456.0abc.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.visitor_123.session_456.zzzzzzzzzzzzzz.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.visitor_123.session_456.abc.short",
            "v1.visitor_123.session_456.abc.!!!!",
            "v1.visitor_123.session_456.abc.AAAAAAAAAAAAAAAAAAAAAA.extra",
            long.as_str(),
        ] {
            assert_eq!(verify(SECRET, "site_a", bad, NOW, DEFAULT_MAX_AGE_SECS), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn base36_round_trips() {
        for n in [0u64, 1, 35, 36, 1_800_000_000, i64::MAX as u64] {
            assert_eq!(from_base36(&to_base36(n)), Some(n as i64));
        }
    }
}
