//! Paddle signs deliveries with `Paddle-Signature: ts=<unix seconds>;h1=<hex>`: HMAC-SHA256 over
//! `"{ts}:{raw body}"`, keyed with the whole `endpoint_secret_key` string (prefix kept, no
//! decoding). Several `h1` entries may appear; unknown keys (`h2`) are for future schemes.
//!
//! Paddle's SDKs allow only 5 s of clock difference; a desktop clock drifts more than that, so
//! the tolerance is the caller's (a setting, 300 s by default), applied both ways.

use crate::providers::signature::{SignatureError, check_timestamp, constant_time_eq, hmac_sha256, parse_unix_seconds};

pub const SIGNATURE_HEADER: &str = "Paddle-Signature";

const SCHEME: &str = "h1";

/// Check a delivery's `Paddle-Signature` header (`None` = absent) against its exact body bytes.
/// Header problems come first, then the signature, then the clock, so a stale-timestamp error
/// always concerns a genuinely signed delivery.
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.ok_or(SignatureError::MissingHeader { header: SIGNATURE_HEADER })?;
    let parts = Parts::parse(header)?;
    let signed_at = parse_unix_seconds(SIGNATURE_HEADER, parts.ts)?;

    // Paddle's SDKs sign the `ts` text exactly as it appears in the header.
    let expected = hmac_sha256(secret.as_bytes(), &[parts.ts.as_bytes(), b":", body]);
    if !parts.h1.iter().any(|candidate| constant_time_eq(candidate, &expected)) {
        return Err(SignatureError::BadSignature { header: SIGNATURE_HEADER, scheme: SCHEME, checked: parts.h1.len() });
    }
    check_timestamp(signed_at, now_unix, tolerance_secs)
}

/// The full `Paddle-Signature` value Paddle would send (for tests, the benchmark and the
/// end-to-end tests).
pub fn sign(secret: &str, ts: i64, body: &[u8]) -> String {
    let ts = ts.to_string();
    let mac = hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b":", body]);
    format!("ts={ts};{SCHEME}={}", hex::encode(mac))
}

/// The header's `ts` text and decoded `h1` signatures.
struct Parts<'a> {
    ts: &'a str,
    h1: Vec<Vec<u8>>,
}

impl<'a> Parts<'a> {
    fn parse(header: &'a str) -> Result<Self, SignatureError> {
        let malformed = |problem: String| SignatureError::MalformedHeader { header: SIGNATURE_HEADER, problem };
        let mut ts = None;
        let mut h1 = Vec::new();
        let mut garbled_h1 = 0;
        for part in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(malformed(format!(
                    "expected `ts=<unix seconds>;h1=<hex>`, found `{}` which is not key=value",
                    part.chars().take(32).collect::<String>()
                )));
            };
            match key.trim() {
                "ts" if ts.is_some() => return Err(malformed("it has more than one `ts`".into())),
                "ts" => ts = Some(value.trim()),
                SCHEME => match hex::decode(value.trim()) {
                    Ok(bytes) if !bytes.is_empty() => h1.push(bytes),
                    _ => garbled_h1 += 1,
                },
                _ => {} // h2 and later schemes
            }
        }
        let Some(ts) = ts else {
            return Err(malformed("it has no `ts=<unix seconds>`".into()));
        };
        if h1.is_empty() {
            return Err(malformed(if garbled_h1 > 0 {
                "its `h1` signature is empty or not hexadecimal".into()
            } else {
                "it has no `h1=<hex>` signature".into()
            }));
        }
        Ok(Parts { ts, h1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Paddle SDK vectors are signed at this time; verify them "now".
    const VECTOR_TS: i64 = 1698796800;
    const TOLERANCE: i64 = 300;

    // Expected values computed independently with Python:
    //   python3 -c 'import hmac,hashlib; print(hmac.new(SECRET.encode(), f"{TS}:".encode() + BODY,
    //     hashlib.sha256).hexdigest())'
    const SECRET: &str = "pdl_ntfset_01hv8x2c1m9f4z0r7a5d3e6k2b_Qk8nY2ZpXw7bT3vR6sL9mJ4hG1dF0aE5";
    const TS: i64 = 1735689600;
    const BODY: &[u8] = br#"{"event_id":"evt_01hv8x2axb33yr5y238zfwcn5p","event_type":"transaction.completed"}"#;
    const HEADER: &str = "ts=1735689600;h1=c95a71070f28394f7dc242ecf6f0eb25193d01bf57cb04ff216200839b165465";

    fn check(header: &str) -> Result<(), SignatureError> {
        verify(SECRET, Some(header), BODY, TS, TOLERANCE)
    }

    fn is_bad_signature(result: Result<(), SignatureError>) -> bool {
        matches!(result, Err(SignatureError::BadSignature { .. }))
    }

    fn is_malformed(result: Result<(), SignatureError>) -> bool {
        matches!(result, Err(SignatureError::MalformedHeader { header: SIGNATURE_HEADER, .. }))
    }

    #[test]
    fn paddle_sdk_vector_1() {
        let header = "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";
        let body = br#"{"data": ["1", "2"]}"#;
        assert_eq!(verify("VALID_SECRET", Some(header), body, VECTOR_TS, TOLERANCE), Ok(()));
        assert_eq!(sign("VALID_SECRET", VECTOR_TS, body), header);
        // The same JSON with extra spaces is another body.
        let spaced = br#"{"data":  ["1",  "2"]}"#;
        assert!(is_bad_signature(verify("VALID_SECRET", Some(header), spaced, VECTOR_TS, TOLERANCE)));
    }

    #[test]
    fn paddle_sdk_vector_2_repeated_h1_and_unknown_h2() {
        let header = "ts=1698796800;h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;\
                      h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;h2=RANDOM_HASH";
        let body = br#"{"data": "value"}"#;
        assert_eq!(verify("VALID_SECRET", Some(header), body, VECTOR_TS, TOLERANCE), Ok(()));
    }

    #[test]
    fn sign_matches_the_independent_value() {
        assert_eq!(sign(SECRET, TS, BODY), HEADER);
        assert_eq!(check(HEADER), Ok(()));
    }

    #[test]
    fn the_key_is_the_whole_secret_with_its_prefix() {
        let without_prefix = SECRET.strip_prefix("pdl_ntfset_").unwrap();
        assert!(is_bad_signature(verify(without_prefix, Some(HEADER), BODY, TS, TOLERANCE)));
    }

    #[test]
    fn tampering_is_rejected() {
        // Body.
        let mut body = BODY.to_vec();
        body[5] = b'X';
        assert!(is_bad_signature(verify(SECRET, Some(HEADER), &body, TS, TOLERANCE)));
        // Timestamp (still inside the window).
        let moved = HEADER.replace("ts=1735689600", "ts=1735689601");
        assert!(is_bad_signature(check(&moved)));
        // Signature bytes.
        let flipped = HEADER.replace(";h1=c9", ";h1=c8");
        assert_eq!(
            check(&flipped),
            Err(SignatureError::BadSignature { header: SIGNATURE_HEADER, scheme: "h1", checked: 1 })
        );
        // Truncated signature.
        assert!(is_bad_signature(check(&HEADER[..HEADER.len() - 2])));
        // Secret.
        assert!(is_bad_signature(verify("pdl_ntfset_other", Some(HEADER), BODY, TS, TOLERANCE)));
    }

    #[test]
    fn any_h1_may_match() {
        let good = &HEADER["ts=1735689600;".len()..];
        let forged = format!("h1={}", "00".repeat(32));
        assert_eq!(check(&format!("ts=1735689600;{forged};{good}")), Ok(()));
        assert_eq!(check(&format!("ts=1735689600;{good};{forged}")), Ok(()));
        assert_eq!(check(&format!("{good};ts=1735689600")), Ok(()));
        assert_eq!(
            check(&format!("ts=1735689600;{forged};{forged}")),
            Err(SignatureError::BadSignature { header: SIGNATURE_HEADER, scheme: "h1", checked: 2 })
        );
        // A garbled h1 next to a valid one does not spoil it.
        assert_eq!(check(&format!("ts=1735689600;h1=zz;{good}")), Ok(()));
    }

    #[test]
    fn unknown_keys_are_ignored_but_never_verify() {
        assert_eq!(check(&format!("{HEADER};h2=RANDOM_HASH;v9=x")), Ok(()));
        let as_h2 = HEADER.replace(";h1=", ";h2=");
        assert!(is_malformed(check(&as_h2)));
    }

    #[test]
    fn upper_case_hex_and_spaces_are_tolerated() {
        assert_eq!(check(&HEADER.to_uppercase().replace("TS=", "ts=").replace("H1=", "h1=")), Ok(()));
        assert_eq!(check(&HEADER.replace(';', " ; ")), Ok(()));
        assert_eq!(check(&format!("{HEADER};")), Ok(()));
    }

    #[test]
    fn tolerance_edges() {
        let at = |now: i64| verify(SECRET, Some(HEADER), BODY, now, TOLERANCE);
        assert_eq!(at(TS + TOLERANCE), Ok(()));
        assert_eq!(at(TS - TOLERANCE), Ok(()));
        assert_eq!(at(TS + TOLERANCE + 1), Err(SignatureError::TimestampTooOld { age_secs: 301, tolerance_secs: 300 }));
        assert_eq!(
            at(TS - TOLERANCE - 1),
            Err(SignatureError::TimestampInFuture { ahead_secs: 301, tolerance_secs: 300 })
        );
        // The SDK vectors are years old by any real clock.
        let header = "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";
        let e = verify("VALID_SECRET", Some(header), br#"{"data": ["1", "2"]}"#, TS, TOLERANCE).unwrap_err();
        assert_eq!(e.code(), "timestamp_too_old");
        assert!(e.to_string().contains("36892800 s old"), "{e}");
        // A custom tolerance applies.
        assert_eq!(verify(SECRET, Some(HEADER), BODY, TS + 5, 5), Ok(()));
        assert_eq!(verify(SECRET, Some(HEADER), BODY, TS + 6, 5).unwrap_err().code(), "timestamp_too_old");
    }

    #[test]
    fn a_missing_header() {
        let e = verify(SECRET, None, BODY, TS, TOLERANCE).unwrap_err();
        assert_eq!(e, SignatureError::MissingHeader { header: SIGNATURE_HEADER });
        assert_eq!(e.http_status(), 400);
    }

    #[test]
    fn garbled_headers() {
        let h1 = &HEADER["ts=1735689600;".len()..];
        for header in [
            "".to_owned(),
            " ; ".to_owned(),
            "garbage".to_owned(),
            h1.to_owned(),                         // no ts
            "ts=1735689600".to_owned(),            // no h1
            "ts=1735689600;h1=".to_owned(),        // empty h1
            "ts=1735689600;h1=not-hex".to_owned(), // h1 not hex
            format!("ts=;{h1}"),
            format!("ts=soon;{h1}"),
            format!("ts=1735689600.0;{h1}"),
            format!("ts=-1;{h1}"),
            format!("ts=1735689600;ts=1735689600;{h1}"),
            format!("ts=1735689600,{h1}"),
            format!("ts:1735689600;{h1}"),
        ] {
            let result = check(&header);
            assert!(is_malformed(result.clone()), "{header:?}: {result:?}");
            assert_eq!(result.unwrap_err().http_status(), 400);
        }
        let e = check("ts=1735689600").unwrap_err();
        assert!(e.to_string().contains("no `h1=<hex>`"), "{e}");
        let e = check(h1).unwrap_err();
        assert!(e.to_string().contains("no `ts=<unix seconds>`"), "{e}");
    }

    #[test]
    fn an_empty_secret_never_verifies() {
        let header = sign("", TS, BODY);
        assert_eq!(verify("", Some(&header), BODY, TS, TOLERANCE), Err(SignatureError::NoSecret));
    }
}
