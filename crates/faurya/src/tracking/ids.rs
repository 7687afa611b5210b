//! The ids tracking deals in: visitor and session ids minted by the browser (opaque, checked for
//! form only), and the ids and keys Faurya mints for sites.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

/// Visitor and session ids: 8–64 characters of `[A-Za-z0-9_-]`. The script mints random ones;
/// the server accepts any id of this form and assumes nothing more about it.
pub fn is_valid_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// A site id as it appears in the script tag (`site_` + 16 random base32-ish characters: short
/// enough to type, too many to guess).
pub fn is_valid_site_id(id: &str) -> bool {
    id.len() <= 64
        && id
            .strip_prefix("site_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_alphanumeric()))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

pub fn new_site_id() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let bytes = random_bytes::<16>()?;
    Ok(format!("site_{}", bytes.iter().map(|b| ALPHABET[(b % 32) as usize] as char).collect::<String>()))
}

/// The server-side write key of the revenue API: 32 random bytes, `fw_` + base64url.
pub fn new_write_key() -> Result<String, getrandom::Error> {
    Ok(format!("fw_{}", B64URL.encode(random_bytes::<32>()?)))
}

/// The HMAC key of a site's attribution tokens.
pub fn new_token_secret() -> Result<String, getrandom::Error> {
    Ok(B64URL.encode(random_bytes::<32>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_for_form_only() {
        for ok in ["abcdefgh", "A1_b2-C3", &"x".repeat(64), "9b2f6c1e-8a4d-4c3b-9e71-2f5a8d6c0b13"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "short", &"x".repeat(65), "has space1", "dot.dot.dot", "ünïcödé_id", "semi;colon"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn minted_ids_have_their_form() {
        let site = new_site_id().unwrap();
        assert!(is_valid_site_id(&site), "{site}");
        assert_ne!(site, new_site_id().unwrap());
        assert!(!is_valid_site_id("site_"));
        assert!(!is_valid_site_id("web_abc"));
        assert!(!is_valid_site_id("site_a/b"));
        let key = new_write_key().unwrap();
        assert!(key.starts_with("fw_") && key.len() == 46, "{key}");
    }
}
