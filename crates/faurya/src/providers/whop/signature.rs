//! Whop signs deliveries with Standard Webhooks: HMAC-SHA256 over
//! `"{webhook-id}.{webhook-timestamp}.{raw body}"`, sent as space-separated `v1,<base64>` entries
//! in `webhook-signature` (several during a secret rotation).
//!
//! Unlike the Standard Webhooks libraries, the key is the raw bytes of the whole secret string as
//! Whop returned it: Whop's own docs feed `btoa(secret)` to those libraries, which decode it
//! straight back. So no base64 decoding and no `whsec_`/`ws_` prefix stripping here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::providers::signature::{SignatureError, check_timestamp, constant_time_eq, hmac_sha256, parse_unix_seconds};

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The only scheme Whop uses; other versions in the list (e.g. asymmetric `v1a`) are ignored.
const SCHEME: &str = "v1";

/// Check a delivery's Standard Webhooks headers against its exact body bytes. `None` means the
/// header was absent. Header problems are reported before the signature, and the signature
/// before the clock, so a stale-timestamp error always concerns a genuinely signed delivery.
pub fn verify(
    secret: &str,
    webhook_id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let webhook_id = present(ID_HEADER, webhook_id)?;
    let signed_at = parse_unix_seconds(TIMESTAMP_HEADER, present(TIMESTAMP_HEADER, timestamp)?)?;
    let candidates = v1_signatures(present(SIGNATURE_HEADER, signature)?)?;

    let expected = mac(secret, webhook_id, signed_at, body);
    if !candidates.iter().any(|candidate| constant_time_eq(candidate, &expected)) {
        return Err(SignatureError::BadSignature {
            header: SIGNATURE_HEADER,
            scheme: SCHEME,
            checked: candidates.len(),
        });
    }
    check_timestamp(signed_at, now_unix, tolerance_secs)
}

/// The `webhook-signature` value Whop would send for this delivery (tests, the benchmark and
/// the end-to-end tests sign with it).
pub fn sign(secret: &str, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("{SCHEME},{}", STANDARD.encode(mac(secret, webhook_id, timestamp, body)))
}

/// The timestamp is signed as its integer value, as the Standard Webhooks libraries do.
fn mac(secret: &str, webhook_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let timestamp = timestamp.to_string();
    hmac_sha256(secret.as_bytes(), &[webhook_id.as_bytes(), b".", timestamp.as_bytes(), b".", body])
}

fn present<'a>(header: &'static str, value: Option<&'a str>) -> Result<&'a str, SignatureError> {
    match value {
        None => Err(SignatureError::MissingHeader { header }),
        Some(text) if text.trim().is_empty() => {
            Err(SignatureError::MalformedHeader { header, problem: "it is empty".into() })
        }
        Some(text) => Ok(text),
    }
}

/// The decoded `v1` signatures of the header. Unusable entries are skipped as long as one `v1`
/// entry is usable; a header with none is malformed, with the reason.
fn v1_signatures(header: &str) -> Result<Vec<Vec<u8>>, SignatureError> {
    let mut signatures = Vec::new();
    let mut garbled = 0;
    let mut other_versions: Vec<&str> = Vec::new();
    for entry in header.split_ascii_whitespace() {
        match entry.split_once(',') {
            Some((SCHEME, encoded)) => match STANDARD.decode(encoded) {
                Ok(bytes) if !bytes.is_empty() => signatures.push(bytes),
                _ => garbled += 1,
            },
            Some((version, _)) if !version.is_empty() => {
                if !other_versions.contains(&version) {
                    other_versions.push(version);
                }
            }
            _ => garbled += 1,
        }
    }
    if !signatures.is_empty() {
        return Ok(signatures);
    }
    let problem = if garbled > 0 {
        format!("expected space-separated `{SCHEME},<base64>` entries, found {garbled} that are not")
    } else {
        let found = other_versions.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        format!("it has no `{SCHEME}` signature (only {found}), and Faurya checks `{SCHEME}` (HMAC-SHA256)")
    };
    Err(SignatureError::MalformedHeader { header: SIGNATURE_HEADER, problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected signatures below were computed independently with Python:
    //   python3 -c 'import hmac,hashlib,base64; print("v1," + base64.b64encode(hmac.new(
    //     SECRET.encode(), f"{ID}.{TS}.".encode() + BODY, hashlib.sha256).digest()).decode())'
    const SECRET: &str = "ws_3f9c2a7d1e8b4c6f0a5d9e2b7c1f4a8d";
    const OLD_SECRET: &str = "ws_old_0123456789abcdef";
    const ID: &str = "msg_2Kq3vX9pLmN7rT4wY8zB1cD6eF0";
    const TS: i64 = 1735689600;
    const BODY: &[u8] = br#"{"id":"msg_2Kq3vX9pLmN7rT4wY8zB1cD6eF0","type":"payment.succeeded","data":{"id":"pay_1","total":10.43,"currency":"usd"}}"#;
    /// With SECRET.
    const SIG: &str = "v1,TSa4iJVkpakoHYNk6ZsSIvmvvNu1qrmZnRIXrHO5eZQ=";
    /// With OLD_SECRET.
    const OLD_SIG: &str = "v1,MEzUh9meicJ/jsagMztt8rwBqVl90r7TBCeJzGaabYc=";
    const TOLERANCE: i64 = 300;

    fn check(signature: &str) -> Result<(), SignatureError> {
        check_with(SECRET, ID, &TS.to_string(), signature, BODY, TS)
    }

    fn check_with(
        secret: &str,
        id: &str,
        ts: &str,
        signature: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        verify(secret, Some(id), Some(ts), Some(signature), body, now, TOLERANCE)
    }

    fn is_bad_signature(result: Result<(), SignatureError>) -> bool {
        matches!(result, Err(SignatureError::BadSignature { .. }))
    }

    #[test]
    fn sign_matches_the_independent_value() {
        assert_eq!(sign(SECRET, ID, TS, BODY), SIG);
        assert_eq!(sign(OLD_SECRET, ID, TS, BODY), OLD_SIG);
    }

    #[test]
    fn a_valid_delivery_is_accepted() {
        assert_eq!(check(SIG), Ok(()));
    }

    #[test]
    fn the_key_is_the_secret_string_itself_not_its_base64_decoding() {
        // Standard Webhooks' own test vector: its libraries decode the part after `whsec_` and
        // produce g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= for this delivery. Whop's key is
        // the raw string, which gives (python3, key = the whole string's bytes):
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let raw_key_sig = "v1,TcxlhK9b6UD6iVI1ZU2tTqp8PEVfYRseNNfa6b+LcUg=";
        assert_eq!(sign(secret, id, 1614265330, body), raw_key_sig);
        assert_eq!(check_with(secret, id, "1614265330", raw_key_sig, body, 1614265330), Ok(()));
        let decoded_key_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert!(is_bad_signature(check_with(secret, id, "1614265330", decoded_key_sig, body, 1614265330)));
    }

    #[test]
    fn a_tampered_body_is_rejected() {
        let mut body = BODY.to_vec();
        let near_end = body.len() - 3;
        body[near_end] = b'x';
        assert!(is_bad_signature(check_with(SECRET, ID, "1735689600", SIG, &body, TS)));
        // Even one added space, which JSON parsing would not notice.
        let spaced = [BODY, b" "].concat();
        assert!(is_bad_signature(check_with(SECRET, ID, "1735689600", SIG, &spaced, TS)));
    }

    #[test]
    fn a_tampered_id_is_rejected() {
        assert!(is_bad_signature(check_with(SECRET, "msg_2Kq3vX9pLmN7rT4wY8zB1cD6eF1", "1735689600", SIG, BODY, TS)));
    }

    #[test]
    fn a_tampered_timestamp_is_rejected_even_inside_the_window() {
        assert!(is_bad_signature(check_with(SECRET, ID, "1735689601", SIG, BODY, TS)));
    }

    #[test]
    fn tampered_signature_bytes_are_rejected() {
        let bytes = STANDARD.decode(&SIG[3..]).unwrap();
        for i in [0, 15, 31] {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x01;
            let sig = format!("v1,{}", STANDARD.encode(&flipped));
            assert_eq!(
                check(&sig),
                Err(SignatureError::BadSignature { header: SIGNATURE_HEADER, scheme: "v1", checked: 1 }),
                "byte {i}"
            );
        }
        // Truncated, and padded with an extra byte.
        assert!(is_bad_signature(check(&format!("v1,{}", STANDARD.encode(&bytes[..31])))));
        assert!(is_bad_signature(check(&format!("v1,{}", STANDARD.encode([&bytes[..], &[0]].concat())))));
    }

    #[test]
    fn a_wrong_secret_is_rejected() {
        assert!(is_bad_signature(check_with(OLD_SECRET, ID, "1735689600", SIG, BODY, TS)));
        // Case matters: the key is the exact string.
        assert!(is_bad_signature(check_with(&SECRET.to_uppercase(), ID, "1735689600", SIG, BODY, TS)));
    }

    #[test]
    fn any_valid_entry_among_several_is_enough() {
        let forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(check(&format!("{forged} {SIG}")), Ok(()));
        assert_eq!(check(&format!("{SIG} {forged}")), Ok(()));
        assert_eq!(check(&format!("{forged}  {SIG}  v1,bm90LWEtc2ln")), Ok(()));
        assert_eq!(
            check(&format!("{forged} {forged}")),
            Err(SignatureError::BadSignature { header: SIGNATURE_HEADER, scheme: "v1", checked: 2 })
        );
    }

    #[test]
    fn key_rotation_old_and_new_entries() {
        // During a rotation Whop signs with both secrets; whichever one we hold must verify.
        let both = format!("{OLD_SIG} {SIG}");
        assert_eq!(check_with(SECRET, ID, "1735689600", &both, BODY, TS), Ok(()));
        assert_eq!(check_with(OLD_SECRET, ID, "1735689600", &both, BODY, TS), Ok(()));
        assert!(is_bad_signature(check_with("ws_some_other_secret", ID, "1735689600", &both, BODY, TS)));
    }

    #[test]
    fn other_versions_are_ignored() {
        assert_eq!(check(&format!("v1a,c29tZS1lZDI1NTE5LXNpZw== {SIG}")), Ok(()));
        assert_eq!(check(&format!("v2,{} {SIG}", &SIG[3..])), Ok(()));
        // A valid MAC under another version label is not a v1 signature.
        let e = check(&format!("v2,{}", &SIG[3..])).unwrap_err();
        assert_eq!(e.code(), "malformed_header");
        assert!(e.to_string().contains("no `v1` signature (only `v2`)"), "{e}");
    }

    #[test]
    fn tolerance_edges() {
        // Sign each timestamp and move `now` around it.
        let at = |now: i64| check_with(SECRET, ID, "1735689600", SIG, BODY, now);
        assert_eq!(at(TS + TOLERANCE), Ok(()));
        assert_eq!(at(TS - TOLERANCE), Ok(()));
        assert_eq!(at(TS + TOLERANCE + 1), Err(SignatureError::TimestampTooOld { age_secs: 301, tolerance_secs: 300 }));
        assert_eq!(
            at(TS - TOLERANCE - 1),
            Err(SignatureError::TimestampInFuture { ahead_secs: 301, tolerance_secs: 300 })
        );
        let e = at(TS + 412).unwrap_err();
        assert_eq!(e.http_status(), 401);
        assert!(e.to_string().contains("412 s old, more than the 300 s allowed"), "{e}");
    }

    #[test]
    fn a_stale_delivery_with_a_bad_signature_reports_the_signature() {
        let forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert!(is_bad_signature(check_with(SECRET, ID, "1735689600", forged, BODY, TS + 10_000)));
    }

    #[test]
    fn missing_headers() {
        let missing = |header| Err(SignatureError::MissingHeader { header });
        assert_eq!(verify(SECRET, None, Some("1735689600"), Some(SIG), BODY, TS, 300), missing(ID_HEADER));
        assert_eq!(verify(SECRET, Some(ID), None, Some(SIG), BODY, TS, 300), missing(TIMESTAMP_HEADER));
        assert_eq!(verify(SECRET, Some(ID), Some("1735689600"), None, BODY, TS, 300), missing(SIGNATURE_HEADER));
        let e = verify(SECRET, None, None, None, BODY, TS, 300).unwrap_err();
        assert_eq!((e.code(), e.http_status()), ("missing_header", 400));
    }

    #[test]
    fn garbled_headers() {
        let malformed = |result: Result<(), SignatureError>, header: &str| match result {
            Err(SignatureError::MalformedHeader { header: h, .. }) => assert_eq!(h, header),
            other => panic!("expected a malformed {header}, got {other:?}"),
        };
        malformed(check_with(SECRET, "", "1735689600", SIG, BODY, TS), ID_HEADER);
        malformed(check_with(SECRET, ID, "", SIG, BODY, TS), TIMESTAMP_HEADER);
        malformed(check_with(SECRET, ID, "yesterday", SIG, BODY, TS), TIMESTAMP_HEADER);
        malformed(check_with(SECRET, ID, "1735689600.5", SIG, BODY, TS), TIMESTAMP_HEADER);
        malformed(check_with(SECRET, ID, "-1735689600", SIG, BODY, TS), TIMESTAMP_HEADER);
        malformed(check(""), SIGNATURE_HEADER);
        malformed(check("   "), SIGNATURE_HEADER);
        malformed(check("garbage"), SIGNATURE_HEADER);
        malformed(check(&SIG[3..]), SIGNATURE_HEADER);
        malformed(check("v1,not base64!!"), SIGNATURE_HEADER);
        malformed(check("v1,"), SIGNATURE_HEADER);
        malformed(check(",TSa4iJVkpakoHYNk6ZsSIvmvvNu1qrmZnRIXrHO5eZQ="), SIGNATURE_HEADER);
        let e = check("garbage").unwrap_err();
        assert_eq!(e.http_status(), 400);
        assert!(e.to_string().contains("`v1,<base64>`"), "{e}");
    }

    #[test]
    fn an_unusable_entry_next_to_a_valid_one_is_skipped() {
        assert_eq!(check(&format!("garbage v1,%%% {SIG}")), Ok(()));
    }

    #[test]
    fn whitespace_around_the_timestamp_is_tolerated() {
        assert_eq!(check_with(SECRET, ID, " 1735689600 ", SIG, BODY, TS), Ok(()));
    }

    #[test]
    fn an_empty_secret_never_verifies() {
        // An HMAC under the empty key is computable by anyone.
        let sig = sign("", ID, TS, BODY);
        assert_eq!(check_with("", ID, "1735689600", &sig, BODY, TS), Err(SignatureError::NoSecret));
    }
}
