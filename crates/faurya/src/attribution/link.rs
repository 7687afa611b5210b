//! Which visitor and session a payment belongs to, from what its checkout carried: in order, a
//! valid attribution token; the session id; the visitor id. A token that does not verify is
//! never trusted: the plain ids are used and the payment says why ("unverified attribution").

use super::token::{self, Claims};

/// What the payment's metadata (or the revenue API call) carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried<'a> {
    pub token: Option<&'a str>,
    pub visitor_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
}

/// The key a site's tokens are checked with.
pub struct TokenKey<'a> {
    pub site_id: &'a str,
    pub secret: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    None,
    Unverified,
    Ids,
    Verified,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::None => "none",
            Status::Unverified => "unverified",
            Status::Ids => "ids",
            Status::Verified => "verified",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "verified" => Status::Verified,
            "ids" => Status::Ids,
            "unverified" => Status::Unverified,
            _ => Status::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    pub status: Status,
    /// Why the token was not trusted.
    pub note: Option<String>,
}

/// Ids longer than this are not ids (the script mints 24 characters; the contract allows 64).
const MAX_ID: usize = 128;

fn clean(id: Option<&str>) -> Option<String> {
    id.map(str::trim).filter(|id| !id.is_empty() && id.len() <= MAX_ID).map(str::to_string)
}

/// Resolves what a checkout carried. `key` is the payment's site's token key (None when the
/// payment has no site to check against); `now_secs` the clock.
pub fn resolve(carried: &Carried<'_>, key: Option<&TokenKey<'_>>, now_secs: i64) -> Resolved {
    let (visitor_id, session_id) = (clean(carried.visitor_id), clean(carried.session_id));
    let plain_status = if visitor_id.is_some() || session_id.is_some() { Status::Ids } else { Status::None };
    let Some(token) = carried.token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Resolved { visitor_id, session_id, status: plain_status, note: None };
    };
    let checked = match key {
        Some(key) => token::verify(key.secret, key.site_id, token, now_secs, token::DEFAULT_MAX_AGE_SECS)
            .map_err(|e| e.to_string()),
        None => Err("the payment belongs to no site whose key could check the attribution token".to_string()),
    };
    match checked {
        Ok(Claims { visitor_id, session_id, .. }) => Resolved {
            visitor_id: Some(visitor_id),
            session_id: Some(session_id),
            status: Status::Verified,
            note: None,
        },
        Err(reason) => Resolved { visitor_id, session_id, status: Status::Unverified, note: Some(reason) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"site secret for tests, 32 bytes!";
    const NOW: i64 = 1_800_000_000;

    fn key() -> TokenKey<'static> {
        TokenKey { site_id: "site_a", secret: SECRET }
    }

    #[test]
    fn a_valid_token_overrides_plain_ids_that_disagree() {
        let token = token::issue(SECRET, "site_a", "visitor_real", "session_real", NOW - 60);
        let carried =
            Carried { token: Some(&token), visitor_id: Some("visitor_edit"), session_id: Some("session_edit") };
        let r = resolve(&carried, Some(&key()), NOW);
        assert_eq!(r.status, Status::Verified);
        assert_eq!((r.visitor_id.as_deref(), r.session_id.as_deref()), (Some("visitor_real"), Some("session_real")));
    }

    #[test]
    fn a_bad_token_keeps_the_plain_ids_and_says_why() {
        let other_site = token::issue(SECRET, "site_b", "visitor_x", "session_x", NOW);
        let expired = token::issue(SECRET, "site_a", "visitor_x", "session_x", NOW - 31 * 86_400);
        let forged = "v1.visitor_x.session_x.tpeky8.AAAAAAAAAAAAAAAAAAAAAA";
        for (token, needle) in [
            (other_site.as_str(), "another site"),
            (expired.as_str(), "expired"),
            (forged, "signature"),
            ("garbage", "format"),
        ] {
            let carried = Carried { token: Some(token), visitor_id: Some("visitor_plain"), session_id: None };
            let r = resolve(&carried, Some(&key()), NOW);
            assert_eq!(r.status, Status::Unverified, "{token}");
            assert_eq!(r.visitor_id.as_deref(), Some("visitor_plain"));
            assert!(r.note.as_deref().unwrap().contains(needle), "{token}: {:?}", r.note);
        }
    }

    #[test]
    fn plain_ids_or_nothing() {
        let r = resolve(&Carried { visitor_id: Some(" v_123 "), ..Default::default() }, Some(&key()), NOW);
        assert_eq!((r.status, r.visitor_id.as_deref()), (Status::Ids, Some("v_123")));
        let r = resolve(&Carried { token: Some(""), visitor_id: Some(""), session_id: None }, Some(&key()), NOW);
        assert_eq!(r, Resolved { visitor_id: None, session_id: None, status: Status::None, note: None });
        let long = "x".repeat(200);
        assert_eq!(resolve(&Carried { session_id: Some(&long), ..Default::default() }, None, NOW).status, Status::None);
    }

    #[test]
    fn statuses_rank_and_round_trip() {
        assert!(
            Status::Verified > Status::Ids && Status::Ids > Status::Unverified && Status::Unverified > Status::None
        );
        for s in [Status::None, Status::Unverified, Status::Ids, Status::Verified] {
            assert_eq!(Status::parse(s.as_str()), s);
        }
    }
}
