//! Bot filtering for the event endpoint: does this `User-Agent` belong to a crawler, a script, a
//! link previewer or a headless browser rather than to a person?
//!
//! The patterns are those of the npm package `isbot` (Unlicense), vendored in
//! `data/bot-patterns.txt` with its source, version and licence in the header. isbot writes them
//! as JavaScript regular expressions; the few that use look-around, which the `regex` crate does
//! not have, are spelled out without it in that file, each next to isbot's original. All of them
//! are compiled once into a single case-insensitive alternation.
//!
//! The alternation is compiled in ASCII mode (`\w`, `\d` and `\b` are ASCII, as in JavaScript)
//! and matched on the UA's bytes. Besides being isbot's semantics, this keeps the regex engine
//! on its lazy DFA: a Unicode `\b` would make it fall back to a slower engine on any non-ASCII
//! byte. The one known difference from JavaScript is `\s`, which here is ASCII whitespace only
//! (JavaScript also counts e.g. U+00A0); isbot uses `\s` in four patterns, all anchored.

use std::sync::LazyLock;

use regex::bytes::{Regex, RegexBuilder};

/// isbot's patterns, one a line; `#` lines are comments (see the file's header).
const PATTERNS: &str = include_str!("data/bot-patterns.txt");

/// A UA shorter than this (in bytes, ignoring surrounding whitespace) is taken for a bot. Every
/// browser that runs the tracking script sends `Mozilla/5.0 (` followed by its platform and
/// engine, some 70 bytes at the least; what is left below 20 bytes is `curl/8.5.0`, `Wget/1.21`,
/// `axios/1.7.7`, a bare `Mozilla/5.0` or a made-up string, never a visitor.
const MIN_UA_LEN: usize = 20;

/// A UA longer than this (in bytes) is taken for a bot. Real UAs stay well below: desktop
/// browsers send about 100-150 bytes, the longest in-app browsers (Facebook, Instagram, other
/// Android WebViews with app details appended) about 300-400. Anything past 1 KiB is padding,
/// a fuzzer or an attempt to make each request costly, and is not worth matching.
const MAX_UA_LEN: usize = 1024;

/// Every vendored pattern, in file order: non-empty lines that are not comments. Lines are used
/// verbatim (leading and trailing spaces are part of some patterns).
fn patterns() -> impl Iterator<Item = &'static str> {
    PATTERNS.lines().filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// All patterns as one alternation, each in its own non-capturing group so that an alternation
/// inside one pattern cannot leak into its neighbours.
fn alternation() -> String {
    patterns().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|")
}

static BOT_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    RegexBuilder::new(&alternation())
        .case_insensitive(true)
        .unicode(false)
        .build()
        .unwrap_or_else(|e| panic!("the vendored bot patterns in data/bot-patterns.txt must compile: {e}"))
});

/// Whether a request with this `User-Agent` header should be dropped as coming from a bot.
///
/// A missing or blank UA is a bot (browsers always send one), as is one shorter than 20 bytes or
/// longer than 1 KiB (see `MIN_UA_LEN` and `MAX_UA_LEN` for why); anything else is a bot when it
/// matches one of isbot's patterns.
pub fn is_bot(user_agent: Option<&str>) -> bool {
    let Some(ua) = user_agent else {
        return true;
    };
    if ua.trim().len() < MIN_UA_LEN || ua.len() > MAX_UA_LEN {
        return true;
    }
    BOT_PATTERN.is_match(ua.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// isbot 5.2.3 ships 206 patterns; a different count means the data file was edited or
    /// damaged (e.g. a blank line where a pattern was, or a pattern split in two).
    const ISBOT_PATTERN_COUNT: usize = 206;

    fn matches_pattern(ua: &str) -> bool {
        BOT_PATTERN.is_match(ua.as_bytes())
    }

    const BROWSERS: &[&str] = &[
        // Chrome: Windows, macOS, Linux.
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        // Firefox: Windows, Linux, macOS, Android.
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        // Safari: macOS, iPhone, iPad; Chrome and the Google app on iPhone.
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.695551749 Mobile/15E148 Safari/604.1",
        // Chrome on Android, and an Android WebView.
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-A515F Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36",
        // Edge: Windows, Android.
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
        // Samsung Internet, Opera.
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/114.0.0.0",
        // In-app browsers: people who came from a social post.
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.38.109;FBBV/623496462;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 Instagram 356.0.0.41.101 Android (34/14; 480dpi; 1080x2340; samsung; SM-S918B; dm3q; qcom; en_GB; 656247347)",
    ];

    const BOTS: &[&str] = &[
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Googlebot-Image/1.0",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Python-urllib/3.12",
        "Wget/1.21.4",
        "Go-http-client/1.1",
        "axios/1.7.7",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Slackbot 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Twitterbot/1.0",
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 PTST/241121.191500",
        "Mozilla/5.0",
    ];

    #[test]
    fn real_browsers_are_not_bots() {
        for ua in BROWSERS {
            assert!(!is_bot(Some(ua)), "browser taken for a bot: {ua}");
        }
    }

    #[test]
    fn known_bots_are_bots() {
        for ua in BOTS {
            assert!(is_bot(Some(ua)), "bot let through: {ua}");
            // Caught by isbot's patterns themselves, not only by the length limits.
            assert!(matches_pattern(ua), "no pattern matches the bot: {ua}");
        }
    }

    #[test]
    fn case_does_not_matter() {
        assert!(is_bot(Some("Mozilla/5.0 (compatible; GOOGLEBOT/2.1; +http://www.google.com/bot.html)")));
        assert!(is_bot(Some("PYTHON-REQUESTS/2.32.3")));
    }

    #[test]
    fn missing_blank_short_and_huge_uas_are_bots() {
        assert!(is_bot(None));
        assert!(is_bot(Some("")));
        assert!(is_bot(Some("   \t ")));
        assert!(is_bot(Some("Mozilla/5.0 (X11)")));
        // Padding around a short UA does not make it long enough.
        assert!(is_bot(Some("          Mozilla/5.0 (X11)          ")));

        let browser = BROWSERS[0];
        let padded = format!("{browser} {}", "x".repeat(MAX_UA_LEN));
        assert!(is_bot(Some(&padded)));
        let just_fits = format!("{browser} {}", "x".repeat(MAX_UA_LEN - browser.len() - 1));
        assert_eq!(just_fits.len(), MAX_UA_LEN);
        assert!(!is_bot(Some(&just_fits)));
    }

    #[test]
    fn non_ascii_uas_are_handled() {
        let browser = BROWSERS[0];
        assert!(!is_bot(Some(&format!("{browser} Überbrowser/1.0 日本語"))));
        assert!(is_bot(Some(&format!("{browser} Überbot"))));
    }

    /// The look-around rewrites in data/bot-patterns.txt, checked against what isbot 5.2.3 itself
    /// (JavaScript) answers for the same UAs: a recent Chrome on Android with a suffix appended.
    #[test]
    fn look_around_rewrites_agree_with_isbot() {
        const BASE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
        let cases: &[(&str, bool)] = &[
            ("", false),
            // (?:^|[^g])news(?!sapphire)
            (" news", true),
            (" NewsSapphire", false),
            (" newssapphir", true),
            (" gnews", false),
            // (?<! channel/|google/)google(?!(?:wv|app|/google| pixel))
            (" google", true),
            (" GoogleWv", false),
            (" googleapp", false),
            (" google/google", false),
            (" google pixel", false),
            (" google pixe", true),
            (" channel/google", false),
            (" channel/googlebox", false),
            ("channel/google", true),
            (" xgoogle/google", false),
            // (?<! cu)bots?(?:\b|_)
            (" cubot", false),
            (" CUBOT X30", false),
            (" cubots", false),
            ("cubot", true),
            (" robot", true),
            // (?<!cam)scan
            (" camscan", false),
            (" scan", true),
            // (?<!lib)http
            (" libhttp", false),
            (" http", true),
            // java(?!;)
            (" java;", false),
            (" java", true),
            (" javascript", true),
        ];
        for (suffix, bot) in cases {
            let ua = format!("{BASE}{suffix}");
            assert_eq!(is_bot(Some(&ua)), *bot, "isbot says {bot} for suffix {suffix:?}");
        }
        // ^mozilla/\d\.\d\s\((?:compatible;)?(?:\s?[\w\d-.]+[\s/]\d+\.\d+)?\)$ with its class fixed.
        assert!(matches_pattern("Mozilla/5.0 (compatible; Foo-Bar.2 1.0)"));
        assert!(matches_pattern("Mozilla/5.0 (compatible; Foo_Bar/2.0)"));
    }

    #[test]
    fn every_vendored_pattern_compiles_on_its_own() {
        let mut count = 0;
        for pattern in patterns() {
            count += 1;
            if let Err(e) = RegexBuilder::new(pattern).case_insensitive(true).unicode(false).build() {
                panic!("pattern {pattern:?} does not compile: {e}");
            }
        }
        assert_eq!(count, ISBOT_PATTERN_COUNT);
        // Significant whitespace survived (editors like to strip it).
        let all: Vec<&str> = patterns().collect();
        assert!(all.contains(&" daum[ /]"));
        assert!(all.contains(&"^sora "));
        assert!(all.contains(&"^swcd "));
        LazyLock::force(&BOT_PATTERN);
    }

    /// Not a benchmark: only that many calls in a row work on the one compiled regex (no timing
    /// is asserted; slow machines and debug builds must pass too).
    #[test]
    fn ten_thousand_calls() {
        let mut bots = 0;
        for i in 0..10_000 {
            let ua = if i % 2 == 0 { BROWSERS[i % BROWSERS.len()] } else { BOTS[i % BOTS.len()] };
            if is_bot(Some(ua)) {
                bots += 1;
            }
        }
        assert_eq!(bots, 5_000);
    }
}
