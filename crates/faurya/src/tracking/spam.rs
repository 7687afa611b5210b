//! Referrer spam filtering for the event endpoint: is the referring host one of the sites that
//! fake visits to get their name into analytics reports?
//!
//! The hosts are Matomo's community list (matomo-org/referrer-spam-list, public domain),
//! vendored in `data/referrer-spam.txt` with its source and licence in the header. They are
//! loaded once into a set; a host is spam when it, or any domain it is a subdomain of, is listed.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Matomo's `spammers.txt`, one host a line; `#` lines are comments (see the file's header).
const SPAMMERS: &str = include_str!("data/referrer-spam.txt");

/// Every listed host, trimmed and lower-cased.
static SPAM_HOSTS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    SPAMMERS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_ascii_lowercase)
        .collect()
});

/// Whether a referrer host is on the spam list, itself or as a subdomain of a listed domain:
/// `semalt.com`, `www.semalt.com` and `x.y.semalt.com` all are, `notsemalt.com` is not.
///
/// `host` is the referrer URL's host name, without scheme, port or path. Case and a trailing
/// root dot (`semalt.com.`) do not matter. The list holds internationalised names in their
/// ASCII (`xn--`) form, the form URL parsers return.
pub fn is_spam_referrer(host: &str) -> bool {
    let host = host.trim().trim_end_matches('.');
    if host.is_empty() {
        return false;
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return is_listed(&host.to_ascii_lowercase());
    }
    is_listed(host)
}

/// Checks `host` (lower-case), then each parent domain: `a.b.c`, `b.c`, `c`.
fn is_listed(host: &str) -> bool {
    let hosts = &*SPAM_HOSTS;
    let mut rest = host;
    loop {
        if hosts.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) => rest = parent,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_hosts_are_spam() {
        for host in ["semalt.com", "darodar.com", "buttons-for-website.com", "ilovevitaly.com", "zvuker.net"] {
            assert!(is_spam_referrer(host), "{host} is on the list");
        }
    }

    #[test]
    fn subdomains_of_listed_hosts_are_spam() {
        assert!(is_spam_referrer("www.semalt.com"));
        assert!(is_spam_referrer("rus.semalt.com"));
        assert!(is_spam_referrer("a.b.c.darodar.com"));
    }

    /// Some entries are a subdomain of a shared host (`seoriseome.netlify.app`): they catch their
    /// own subdomains, never the shared parent or its other tenants.
    #[test]
    fn listed_subdomains_do_not_block_their_parent() {
        assert!(is_spam_referrer("seoriseome.netlify.app"));
        assert!(is_spam_referrer("www.seoriseome.netlify.app"));
        assert!(!is_spam_referrer("netlify.app"));
        assert!(!is_spam_referrer("my-blog.netlify.app"));
        assert!(is_spam_referrer("research.ifmo.ru"));
        assert!(!is_spam_referrer("ifmo.ru"));
        assert!(!is_spam_referrer("www.ifmo.ru"));
    }

    #[test]
    fn ordinary_referrers_are_not_spam() {
        for host in [
            "google.com",
            "www.google.com",
            "news.ycombinator.com",
            "t.co",
            "l.facebook.com",
            "duckduckgo.com",
            "github.com",
            "com",
            "ru",
            "localhost",
        ] {
            assert!(!is_spam_referrer(host), "{host} is not spam");
        }
    }

    #[test]
    fn only_whole_labels_match() {
        assert!(!is_spam_referrer("notsemalt.com"));
        assert!(!is_spam_referrer("semalt.com.example.org"));
        assert!(!is_spam_referrer("semalt.co"));
    }

    #[test]
    fn case_trailing_dot_and_blank_input() {
        assert!(is_spam_referrer("SEMALT.com"));
        assert!(is_spam_referrer("Www.Semalt.Com"));
        assert!(is_spam_referrer("semalt.com."));
        assert!(!is_spam_referrer(""));
        assert!(!is_spam_referrer("."));
        assert!(!is_spam_referrer("   "));
    }

    /// Upstream has one entry in capitals and one with a trailing space; both must still match.
    #[test]
    fn upstream_oddities_are_normalised() {
        assert!(is_spam_referrer("qiwi.xyz"));
        assert!(is_spam_referrer("prizesk.com"));
    }

    #[test]
    fn the_whole_list_is_loaded() {
        let hosts = &*SPAM_HOSTS;
        assert_eq!(hosts.len(), 2043);
        for host in hosts {
            assert!(host.contains('.'), "{host:?} is not a domain name");
            assert!(!host.contains(char::is_whitespace) && !host.starts_with('#'), "{host:?}");
            assert!(is_spam_referrer(host));
        }
        // First and last entries of the vendored file.
        assert!(hosts.contains("01casino-x.ru"));
        assert!(hosts.contains("zvuker.net"));
    }
}
