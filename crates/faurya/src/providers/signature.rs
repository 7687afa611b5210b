//! Shared by the providers' signature checks: the verdicts and what they mean to the sender,
//! plus the few primitives both schemes use (HMAC-SHA256, constant-time comparison, the
//! timestamp window). Each provider module only knows its own header format.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a delivery's signature was not accepted. The message is shown to the founder in the
/// rejected-deliveries log and returned to the sender, so it says what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The connection has no webhook secret to check with: a local problem, not the sender's.
    #[error(
        "no webhook secret is stored for this connection, so no delivery can be verified: \
         remove the connection and connect it again"
    )]
    NoSecret,

    #[error(
        "the {header} header is missing: this request was not signed by the provider, \
         or something on the way (a proxy or tunnel) dropped the header"
    )]
    MissingHeader { header: &'static str },

    #[error("the {header} header is malformed: {problem}")]
    MalformedHeader { header: &'static str, problem: String },

    #[error("{}", bad_signature_message(header, scheme, *checked))]
    BadSignature {
        header: &'static str,
        /// The signature scheme compared (`v1` for Whop, `h1` for Paddle).
        scheme: &'static str,
        /// How many signatures of that scheme the header carried.
        checked: usize,
    },

    #[error(
        "the timestamp is {age_secs} s old, more than the {tolerance_secs} s allowed: \
         check this computer's clock, or this is a replayed delivery"
    )]
    TimestampTooOld { age_secs: i64, tolerance_secs: i64 },

    #[error(
        "the timestamp is {ahead_secs} s in the future, more than the {tolerance_secs} s allowed: \
         check this computer's clock"
    )]
    TimestampInFuture { ahead_secs: i64, tolerance_secs: i64 },
}

fn bad_signature_message(header: &str, scheme: &str, checked: usize) -> String {
    let which = if checked == 1 {
        format!("the {scheme} signature in the {header} header does not")
    } else {
        format!("none of the {checked} {scheme} signatures in the {header} header")
    };
    format!(
        "{which} match this delivery: the webhook secret stored for this connection is not the \
         one the provider signs with (connect again to store the current one), or the body was \
         changed on the way"
    )
}

impl SignatureError {
    /// A stable machine-readable code for the JSON error body and the rejected-deliveries log.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::NoSecret => "no_secret",
            SignatureError::MissingHeader { .. } => "missing_header",
            SignatureError::MalformedHeader { .. } => "malformed_header",
            SignatureError::BadSignature { .. } => "bad_signature",
            SignatureError::TimestampTooOld { .. } => "timestamp_too_old",
            SignatureError::TimestampInFuture { .. } => "timestamp_in_future",
        }
    }

    /// The answer to the sender: 400 when the request is not a signed delivery at all, 401 when
    /// it is one we refuse to trust, 500 when the fault is ours (providers retry on 5xx, so the
    /// deliveries come again once the connection is fixed).
    pub fn http_status(&self) -> u16 {
        match self {
            SignatureError::NoSecret => 500,
            SignatureError::MissingHeader { .. } | SignatureError::MalformedHeader { .. } => 400,
            SignatureError::BadSignature { .. }
            | SignatureError::TimestampTooOld { .. }
            | SignatureError::TimestampInFuture { .. } => 401,
        }
    }
}

/// HMAC-SHA256 of the concatenation of `parts`, so callers need not allocate the signed content.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Byte equality whose running time does not depend on where the first difference is, so a
/// forger cannot learn a valid signature byte by byte. (A length mismatch returns at once: the
/// length of a signature is public.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A header holding unix seconds: ASCII digits only (no sign, no fraction), surrounding
/// whitespace ignored.
pub fn parse_unix_seconds(header: &'static str, text: &str) -> Result<i64, SignatureError> {
    let digits = text.trim();
    let malformed = |problem: String| SignatureError::MalformedHeader { header, problem };
    if digits.is_empty() {
        return Err(malformed("the timestamp is empty".into()));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!(
            "the timestamp `{}` is not whole unix seconds",
            digits.chars().take(32).collect::<String>()
        )));
    }
    digits.parse::<i64>().map_err(|_| malformed(format!("the timestamp `{}…` is out of range", &digits[..19])))
}

/// Accept `signed_at` only within `tolerance_secs` of `now_unix`, both ways: a stale timestamp
/// is a replay or a slow clock, a future one is a fast clock. Exactly ±tolerance is accepted.
pub fn check_timestamp(signed_at: i64, now_unix: i64, tolerance_secs: i64) -> Result<(), SignatureError> {
    let tolerance = tolerance_secs.max(0);
    let age = i128::from(now_unix) - i128::from(signed_at);
    let clamp = |secs: i128| i64::try_from(secs).unwrap_or(i64::MAX);
    if age > i128::from(tolerance) {
        Err(SignatureError::TimestampTooOld { age_secs: clamp(age), tolerance_secs: tolerance })
    } else if -age > i128::from(tolerance) {
        Err(SignatureError::TimestampInFuture { ahead_secs: clamp(-age), tolerance_secs: tolerance })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let cases: [(SignatureError, &str, u16); 6] = [
            (SignatureError::NoSecret, "no_secret", 500),
            (SignatureError::MissingHeader { header: "webhook-id" }, "missing_header", 400),
            (SignatureError::MalformedHeader { header: "webhook-id", problem: "x".into() }, "malformed_header", 400),
            (
                SignatureError::BadSignature { header: "webhook-signature", scheme: "v1", checked: 1 },
                "bad_signature",
                401,
            ),
            (SignatureError::TimestampTooOld { age_secs: 412, tolerance_secs: 300 }, "timestamp_too_old", 401),
            (SignatureError::TimestampInFuture { ahead_secs: 412, tolerance_secs: 300 }, "timestamp_in_future", 401),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.http_status(), status, "{code}");
        }
    }

    #[test]
    fn timestamp_messages_name_the_difference_and_the_tolerance() {
        let old = SignatureError::TimestampTooOld { age_secs: 412, tolerance_secs: 300 }.to_string();
        assert_eq!(
            old,
            "the timestamp is 412 s old, more than the 300 s allowed: check this computer's clock, \
             or this is a replayed delivery"
        );
        let future = SignatureError::TimestampInFuture { ahead_secs: 999, tolerance_secs: 300 }.to_string();
        assert!(future.contains("999 s in the future") && future.contains("300 s allowed"), "{future}");
        assert!(future.contains("clock"), "{future}");
    }

    #[test]
    fn other_messages_say_what_is_wrong() {
        let missing = SignatureError::MissingHeader { header: "Paddle-Signature" }.to_string();
        assert!(missing.starts_with("the Paddle-Signature header is missing"), "{missing}");
        let one = SignatureError::BadSignature { header: "webhook-signature", scheme: "v1", checked: 1 };
        assert!(one.to_string().starts_with("the v1 signature in the webhook-signature header does not match"));
        let two = SignatureError::BadSignature { header: "Paddle-Signature", scheme: "h1", checked: 2 };
        let two = two.to_string();
        assert!(two.starts_with("none of the 2 h1 signatures in the Paddle-Signature header match"), "{two}");
        assert!(two.contains("webhook secret"), "{two}");
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn unix_seconds_parse_strictly() {
        assert_eq!(parse_unix_seconds("ts", "1698796800"), Ok(1698796800));
        assert_eq!(parse_unix_seconds("ts", " 1698796800 "), Ok(1698796800));
        for bad in ["", " ", "-5", "+5", "1.5", "1e9", "abc", "2023-11-01T00:00:00Z", "99999999999999999999"] {
            let e = parse_unix_seconds("ts", bad).unwrap_err();
            assert_eq!(e.code(), "malformed_header", "{bad:?}");
        }
    }

    #[test]
    fn timestamp_window_is_inclusive_both_ways() {
        let now = 1_700_000_000;
        assert_eq!(check_timestamp(now, now, 300), Ok(()));
        assert_eq!(check_timestamp(now - 300, now, 300), Ok(()));
        assert_eq!(check_timestamp(now + 300, now, 300), Ok(()));
        assert_eq!(
            check_timestamp(now - 301, now, 300),
            Err(SignatureError::TimestampTooOld { age_secs: 301, tolerance_secs: 300 })
        );
        assert_eq!(
            check_timestamp(now + 301, now, 300),
            Err(SignatureError::TimestampInFuture { ahead_secs: 301, tolerance_secs: 300 })
        );
        assert!(check_timestamp(i64::MAX, i64::MIN, 300).is_err());
        assert!(check_timestamp(0, now, i64::MAX).is_ok());
    }
}
