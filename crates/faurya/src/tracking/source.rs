//! Where a visitor came from, read once from a session's first pageview.
//!
//! A session's entry fields are set by its first event and never changed afterwards: that is
//! what keeps a payment gateway's redirect (Stripe, PayPal, Paddle checkout) from taking the
//! credit for a sale. This module turns that first event's landing URL and `document.referrer`
//! into an [`Entry`]; [`super::channel`] then files the entry under one channel.
//!
//! The resolution follows the facts in `shared/specs/channels.md`, which match what the
//! open-source analytics tools do (GA4's default channel grouping, Plausible, Umami, PostHog):
//!
//! 1. A tag in the landing URL wins over the referrer, because the person who tagged the link
//!    knows better than a browser that may have stripped or rewritten the referrer. The tag is
//!    the first present of `utm_source`, `ref`, `source`, put through [`ALIASES`].
//! 2. Else the referrer, when it is an http(s) or `android-app:` URL from somewhere else than
//!    the site itself or the visitor's own machine.
//! 3. The referrer host becomes a source name through the tables below, or stays a bare host.
//!
//! The tables are written for Faurya from public facts (which host belongs to which product);
//! none is copied from another project's data file. Each is a plain array a maintainer can read
//! and extend; they are indexed into hash maps once, so a lookup costs a hash or two. After
//! changing a table in a way that files existing traffic differently, bump
//! [`super::channel::TABLE_VERSION`] so stored sessions can be recomputed.

use std::collections::HashMap;
use std::sync::LazyLock;

/// What a session's first event says about where the visitor came from. All Strings trimmed;
/// empty -> None.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Entry {
    /// Path of the landing URL, without query or fragment (kept percent-encoded as the URL had
    /// it); "/" at least.
    pub landing_page: String,
    /// The referrer URL as given, None when empty or ignored (own host, localhost, a scheme
    /// other than http/https/android-app, or not a URL at all).
    pub referrer: Option<String>,
    /// Lower-case host of `referrer` without a leading "www." (for `android-app:` referrers,
    /// the app's package name).
    pub referrer_host: Option<String>,
    /// Resolved source name: "Google", "X (Twitter)", "Hacker News", or a bare host like
    /// "indiehackers.com", or an unknown tag as it was spelled.
    pub source: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    /// Name of the first of [`CLICK_IDS`] present (with a value) in the landing URL's query.
    /// Only the name is kept: it says which ad network sent the click, the value is useless
    /// without that network's own reporting.
    pub click_id: Option<&'static str>,
}

/// The category of a resolved source name, for the channel rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Search,
    Social,
    Video,
    Shopping,
    Email,
    AiAssistant,
    Other,
}

/// Click-id query parameters, in priority order: when a URL carries several (a link shared
/// from one ad to another network), the first in this list is the one kept, whatever their
/// order in the URL, so the same URL always gives the same answer.
pub const CLICK_IDS: [&str; 8] = ["gclid", "gbraid", "wbraid", "msclkid", "fbclid", "twclid", "ttclid", "li_fat_id"];

/// Query parameters read as the source tag, first present wins. `utm_source` is the standard;
/// `ref` is what Product Hunt, many newsletters and link-in-bio tools append; `source` is the
/// older informal spelling.
pub const TAG_PARAMS: [&str; 3] = ["utm_source", "ref", "source"];

use Category::{AiAssistant, Email, Other, Search, Shopping, Social, Video};

/// Every source name Faurya knows, with its category. Every other table must name a source
/// from this one (a test checks it), so a typo cannot silently make a source "Other".
#[rustfmt::skip]
pub const SOURCES: &[(&str, Category)] = &[
    // Search engines.
    ("Google", Search), ("Bing", Search), ("DuckDuckGo", Search), ("Yahoo!", Search),
    ("Ecosia", Search), ("Brave", Search), ("Baidu", Search), ("Yandex", Search), ("Kagi", Search),
    ("Sogou", Search), ("Naver", Search), ("Qwant", Search), ("Seznam", Search),
    ("Startpage", Search), ("AOL", Search), ("Ask", Search), ("Daum", Search), ("Mojeek", Search),
    ("Coc Coc", Search), ("Petal Search", Search),
    // Social networks, forums and chat apps (GA4 counts link shares in chat apps as social).
    ("Facebook", Social), ("Facebook Messenger", Social), ("Instagram", Social),
    ("LinkedIn", Social), ("Reddit", Social), ("X (Twitter)", Social), ("Pinterest", Social),
    ("TikTok", Social), ("Threads", Social), ("Bluesky", Social), ("Mastodon", Social),
    ("Hacker News", Social), ("Product Hunt", Social), ("GitHub", Social), ("Discord", Social),
    ("Slack", Social), ("Telegram", Social), ("Microsoft Teams", Social), ("VK", Social),
    ("WhatsApp", Social), ("Snapchat", Social), ("Quora", Social), ("Tumblr", Social),
    ("Medium", Social), ("Lobsters", Social), ("Sina Weibo", Social), ("LINE", Social),
    ("XING", Social),
    // Video platforms.
    ("YouTube", Video), ("Vimeo", Video), ("Twitch", Video), ("Dailymotion", Video),
    ("Bilibili", Video),
    // Shops and marketplaces.
    ("Amazon", Shopping), ("eBay", Shopping), ("Etsy", Shopping), ("Shopify", Shopping),
    ("Walmart", Shopping), ("Temu", Shopping), ("AliExpress", Shopping), ("Alibaba", Shopping),
    ("Google Shopping", Shopping),
    // Webmail (a link clicked in a mail app).
    ("Gmail", Email), ("Outlook.com", Email), ("Yahoo Mail", Email), ("Proton Mail", Email),
    ("Yandex Mail", Email), ("iCloud Mail", Email), ("Fastmail", Email), ("Zoho Mail", Email),
    ("GMX", Email), ("AOL Mail", Email), ("Mail.ru", Email), ("HEY", Email),
    // AI assistants: answers that cite a page send visitors like a search engine, but GA4 and
    // the tools keep them apart because they convert differently.
    ("ChatGPT", AiAssistant), ("Claude", AiAssistant), ("Perplexity", AiAssistant),
    ("Google Gemini", AiAssistant), ("Microsoft Copilot", AiAssistant), ("Phind", AiAssistant),
    ("DeepSeek", AiAssistant), ("Grok", AiAssistant), ("Mistral Le Chat", AiAssistant),
    ("Meta AI", AiAssistant), ("You.com", AiAssistant), ("Duck.ai", AiAssistant),
    ("Poe", AiAssistant), ("Kimi", AiAssistant), ("Qwen", AiAssistant),
    // Known sites outside GA4's categories: named so that their many hosts add up to one
    // source, and filed as Referral.
    ("Wikipedia", Other),
];

/// Referrer hosts (lower-case, without "www.") that are exactly one source. Subdomains are not
/// included: `docs.google.com` is not the search engine. For "this domain and all its
/// subdomains" see [`HOST_FAMILIES`].
#[rustfmt::skip]
pub const HOSTS: &[(&str, &str)] = &[
    // Search.
    ("google.com", "Google"), ("google.cat", "Google"),
    ("duckduckgo.com", "DuckDuckGo"), ("html.duckduckgo.com", "DuckDuckGo"),
    ("lite.duckduckgo.com", "DuckDuckGo"),
    ("yahoo.com", "Yahoo!"), ("search.yahoo.co.jp", "Yahoo!"), ("yahoo.co.jp", "Yahoo!"),
    ("ecosia.org", "Ecosia"), ("search.brave.com", "Brave"),
    ("ya.ru", "Yandex"), ("kagi.com", "Kagi"),
    ("naver.com", "Naver"), ("m.naver.com", "Naver"), ("search.naver.com", "Naver"),
    ("m.search.naver.com", "Naver"),
    ("qwant.com", "Qwant"), ("lite.qwant.com", "Qwant"),
    ("seznam.cz", "Seznam"), ("search.seznam.cz", "Seznam"), ("go.seznam.cz", "Seznam"),
    ("search.aol.com", "AOL"), ("ask.com", "Ask"), ("search.daum.net", "Daum"),
    ("mojeek.com", "Mojeek"), ("coccoc.com", "Coc Coc"), ("petalsearch.com", "Petal Search"),
    // Social.
    ("fb.com", "Facebook"), ("fb.me", "Facebook"),
    ("t.co", "X (Twitter)"), ("x.com", "X (Twitter)"),
    ("lnkd.in", "LinkedIn"), ("redd.it", "Reddit"), ("pin.it", "Pinterest"),
    ("bsky.app", "Bluesky"), ("go.bsky.app", "Bluesky"),
    ("mastodon.social", "Mastodon"), ("mastodon.online", "Mastodon"), ("mstdn.social", "Mastodon"),
    ("mas.to", "Mastodon"), ("fosstodon.org", "Mastodon"), ("hachyderm.io", "Mastodon"),
    ("infosec.exchange", "Mastodon"), ("mastodon.world", "Mastodon"),
    ("news.ycombinator.com", "Hacker News"), ("hn.algolia.com", "Hacker News"),
    ("discord.gg", "Discord"), ("slack-redir.net", "Slack"),
    ("t.me", "Telegram"),
    ("teams.microsoft.com", "Microsoft Teams"), ("teams.live.com", "Microsoft Teams"),
    ("teams.cloud.microsoft", "Microsoft Teams"),
    ("wa.me", "WhatsApp"), ("lobste.rs", "Lobsters"),
    ("weibo.com", "Sina Weibo"), ("weibo.cn", "Sina Weibo"), ("line.me", "LINE"),
    // Video.
    ("youtu.be", "YouTube"), ("dai.ly", "Dailymotion"),
    // Shopping.
    ("amzn.to", "Amazon"), ("a.co", "Amazon"), ("etsy.me", "Etsy"),
    ("shopping.google.com", "Google Shopping"),
    // Email.
    ("mail.google.com", "Gmail"), ("gmail.com", "Gmail"),
    ("outlook.live.com", "Outlook.com"), ("outlook.office.com", "Outlook.com"),
    ("outlook.office365.com", "Outlook.com"), ("outlook.cloud.microsoft", "Outlook.com"),
    ("outlook.com", "Outlook.com"),
    ("mail.proton.me", "Proton Mail"), ("mail.protonmail.com", "Proton Mail"),
    ("mail.yandex.ru", "Yandex Mail"), ("mail.yandex.com", "Yandex Mail"),
    ("fastmail.com", "Fastmail"), ("app.fastmail.com", "Fastmail"),
    ("mail.zoho.com", "Zoho Mail"), ("mail.zoho.eu", "Zoho Mail"),
    ("gmx.net", "GMX"), ("gmx.de", "GMX"), ("gmx.com", "GMX"),
    ("mail.aol.com", "AOL Mail"), ("e.mail.ru", "Mail.ru"), ("app.hey.com", "HEY"),
    // AI assistants.
    ("chatgpt.com", "ChatGPT"), ("chat.openai.com", "ChatGPT"),
    ("claude.ai", "Claude"), ("pplx.ai", "Perplexity"),
    ("gemini.google.com", "Google Gemini"), ("bard.google.com", "Google Gemini"),
    ("copilot.microsoft.com", "Microsoft Copilot"), ("copilot.cloud.microsoft", "Microsoft Copilot"),
    ("m365.cloud.microsoft", "Microsoft Copilot"),
    ("phind.com", "Phind"), ("chat.deepseek.com", "DeepSeek"), ("deepseek.com", "DeepSeek"),
    ("grok.com", "Grok"), ("chat.mistral.ai", "Mistral Le Chat"), ("meta.ai", "Meta AI"),
    ("you.com", "You.com"), ("duck.ai", "Duck.ai"), ("poe.com", "Poe"), ("kimi.com", "Kimi"),
    ("chat.qwen.ai", "Qwen"),
];

/// Domains whose every subdomain is the same source (`m.`, `l.`, `lm.`, `out.`, `old.`, language
/// and country prefixes, link shims). The longest matching suffix wins, so
/// `uk.mail.yahoo.com` is Yahoo Mail while `uk.search.yahoo.com` is Yahoo!.
#[rustfmt::skip]
pub const HOST_FAMILIES: &[(&str, &str)] = &[
    // Search.
    ("bing.com", "Bing"), ("search.yahoo.com", "Yahoo!"), ("baidu.com", "Baidu"),
    ("sogou.com", "Sogou"), ("startpage.com", "Startpage"),
    // Social.
    ("facebook.com", "Facebook"), ("messenger.com", "Facebook Messenger"),
    ("instagram.com", "Instagram"), ("linkedin.com", "LinkedIn"), ("reddit.com", "Reddit"),
    ("twitter.com", "X (Twitter)"), ("pinterest.com", "Pinterest"), ("tiktok.com", "TikTok"),
    ("threads.net", "Threads"), ("threads.com", "Threads"), ("producthunt.com", "Product Hunt"),
    ("github.com", "GitHub"), ("discord.com", "Discord"), ("discordapp.com", "Discord"),
    ("slack.com", "Slack"), ("telegram.org", "Telegram"), ("vk.com", "VK"), ("vk.ru", "VK"),
    ("whatsapp.com", "WhatsApp"), ("snapchat.com", "Snapchat"), ("quora.com", "Quora"),
    ("tumblr.com", "Tumblr"), ("medium.com", "Medium"), ("xing.com", "XING"),
    // Video.
    ("youtube.com", "YouTube"), ("youtube-nocookie.com", "YouTube"), ("vimeo.com", "Vimeo"),
    ("twitch.tv", "Twitch"), ("dailymotion.com", "Dailymotion"), ("bilibili.com", "Bilibili"),
    // Shopping.
    ("etsy.com", "Etsy"), ("shopify.com", "Shopify"), ("walmart.com", "Walmart"),
    ("temu.com", "Temu"), ("aliexpress.com", "AliExpress"), ("alibaba.com", "Alibaba"),
    // Email.
    ("mail.yahoo.com", "Yahoo Mail"),
    // AI assistants.
    ("perplexity.ai", "Perplexity"),
    // Other: one name instead of one per language edition.
    ("wikipedia.org", "Wikipedia"),
];

/// Brands that live on one domain per country: `<brand>.com`, `<brand>.<cc>`,
/// `<brand>.co.<cc>` and `<brand>.com.<cc>` (google.de, google.co.uk, google.com.br,
/// amazon.co.jp, yandex.com.tr). Written as a pattern because a list of ~190 Google domains
/// would be long, and would still go stale.
#[rustfmt::skip]
pub const COUNTRY_FAMILIES: &[(&str, &str)] = &[
    ("google", "Google"), ("yandex", "Yandex"), ("amazon", "Amazon"), ("ebay", "eBay"),
    ("pinterest", "Pinterest"),
];

/// Host and path prefix: for the few places where one host serves several sources. These are
/// checked before [`HOSTS`] because they are more specific. Browsers usually send only the
/// origin of a cross-site referrer (`strict-origin-when-cross-origin`), so these rules mostly
/// match when a site chose to send full URLs or a tag carries a full URL.
#[rustfmt::skip]
pub const PATHS: &[(&str, &str, &str)] = &[
    ("google.com", "/url", "Google"),
    ("google.com", "/shopping", "Google Shopping"),
    ("bing.com", "/chat", "Microsoft Copilot"),
    ("bing.com", "/copilotsearch", "Microsoft Copilot"),
    ("x.com", "/i/grok", "Grok"),
    ("icloud.com", "/mail", "iCloud Mail"),
];

/// Android apps, as named by `android-app://<package>/` referrers (what Chrome on Android sends
/// for a link opened from an app).
#[rustfmt::skip]
pub const APPS: &[(&str, &str)] = &[
    ("com.google.android.gm", "Gmail"),
    ("com.google.android.googlequicksearchbox", "Google"),
    ("com.google.android.youtube", "YouTube"),
    ("com.google.android.apps.bard", "Google Gemini"),
    ("com.facebook.katana", "Facebook"), ("com.facebook.lite", "Facebook"),
    ("com.facebook.orca", "Facebook Messenger"),
    ("com.instagram.android", "Instagram"),
    ("com.linkedin.android", "LinkedIn"),
    ("com.reddit.frontpage", "Reddit"),
    ("com.twitter.android", "X (Twitter)"),
    ("com.pinterest", "Pinterest"),
    ("com.zhiliaoapp.musically", "TikTok"),
    ("com.instagram.barcelona", "Threads"),
    ("xyz.blueskyweb.app", "Bluesky"),
    ("com.slack", "Slack"),
    ("com.discord", "Discord"),
    ("org.telegram.messenger", "Telegram"),
    ("com.whatsapp", "WhatsApp"),
    ("com.microsoft.teams", "Microsoft Teams"),
    ("com.microsoft.office.outlook", "Outlook.com"),
    ("com.yahoo.mobile.client.android.mail", "Yahoo Mail"),
    ("ch.protonmail.android", "Proton Mail"),
    ("com.openai.chatgpt", "ChatGPT"),
    ("com.anthropic.claude", "Claude"),
    ("ai.perplexity.app.android", "Perplexity"),
    ("com.microsoft.copilot", "Microsoft Copilot"),
];

/// Tag spellings (case-insensitive; spaces, `-` and `_` ignored) that name a known source.
/// Every source's own name is an alias too, without being listed here ("google" -> Google).
#[rustfmt::skip]
pub const ALIASES: &[(&str, &str)] = &[
    ("ig", "Instagram"), ("insta", "Instagram"),
    ("fb", "Facebook"), ("meta", "Facebook"),
    ("twitter", "X (Twitter)"), ("x", "X (Twitter)"), ("tw", "X (Twitter)"),
    ("yt", "YouTube"), ("li", "LinkedIn"),
    ("hn", "Hacker News"), ("ycombinator", "Hacker News"),
    ("ph", "Product Hunt"), ("gh", "GitHub"),
    ("ddg", "DuckDuckGo"), ("yahoo", "Yahoo!"), ("brave search", "Brave"),
    ("bsky", "Bluesky"), ("messenger", "Facebook Messenger"), ("teams", "Microsoft Teams"),
    ("msteams", "Microsoft Teams"), ("weibo", "Sina Weibo"),
    ("outlook", "Outlook.com"), ("hotmail", "Outlook.com"), ("protonmail", "Proton Mail"),
    ("proton", "Proton Mail"), ("icloud", "iCloud Mail"),
    ("openai", "ChatGPT"), ("gemini", "Google Gemini"), ("bard", "Google Gemini"),
    ("copilot", "Microsoft Copilot"), ("bing chat", "Microsoft Copilot"),
    ("mistral", "Mistral Le Chat"), ("le chat", "Mistral Le Chat"),
];

/// Tags of ads products. They resolve to the platform, and also count as a "paid utm_source" for
/// the channel rules ([`is_paid_tag`]). `<alias>ads` / `<alias>-ad` forms of any known alias
/// (`linkedin_ads`, `ig-ad`) are recognised without being listed.
#[rustfmt::skip]
pub const PAID_ALIASES: &[(&str, &str)] = &[
    ("adwords", "Google"), ("google-ads", "Google"), ("google_ads", "Google"),
    ("googleads", "Google"), ("gads", "Google"),
    ("fb-ads", "Facebook"), ("fbad", "Facebook"), ("facebook-ads", "Facebook"),
    ("facebook_feed_ad", "Facebook"), ("meta-ads", "Facebook"),
    ("yt-ads", "YouTube"), ("reddit-ads", "Reddit"), ("twitter-ads", "X (Twitter)"),
    ("tiktokads", "TikTok"), ("bing-ads", "Bing"), ("microsoft-ads", "Bing"),
    ("msads", "Bing"), ("linkedin-ads", "LinkedIn"),
];

/// Canonical name by lower-case name, for case-insensitive lookups.
static NAMES: LazyLock<HashMap<String, (&'static str, Category)>> =
    LazyLock::new(|| SOURCES.iter().map(|&(name, category)| (name.to_ascii_lowercase(), (name, category))).collect());

/// Category by exact canonical name: the common, allocation-free lookup.
static CATEGORIES: LazyLock<HashMap<&'static str, Category>> = LazyLock::new(|| SOURCES.iter().copied().collect());

static EXACT_HOSTS: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| HOSTS.iter().copied().collect());

static FAMILIES: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| HOST_FAMILIES.iter().copied().collect());

static APP_NAMES: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| APPS.iter().copied().collect());

/// Alias key -> (source name, is an ads product). Source names come first, then [`ALIASES`], then
/// [`PAID_ALIASES`]; a later table cannot override an earlier one (a test checks they agree).
static TAGS: LazyLock<HashMap<String, (&'static str, bool)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    let names = SOURCES.iter().map(|&(name, _)| (name, name, false));
    let aliases = ALIASES.iter().map(|&(alias, name)| (alias, name, false));
    let paid = PAID_ALIASES.iter().map(|&(alias, name)| (alias, name, true));
    for (alias, name, is_paid) in names.chain(aliases).chain(paid) {
        map.entry(alias_key(alias)).or_insert((name, is_paid));
    }
    map
});

/// The form tags are compared in: lower-case, without spaces, `-` and `_`, so that
/// `Google Ads`, `google-ads` and `google_ads` are one tag. Dots are kept: `t.co` is a host.
pub fn alias_key(tag: &str) -> String {
    tag.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).flat_map(char::to_lowercase).collect()
}

/// Resolves a session's entry fields from its first pageview.
///
/// `url`: the landing page's full URL (the caller validated http/https; any other URL still
/// gives an answer, this never panics). `referrer`: `document.referrer` as sent: "", garbage or
/// a URL. `own_hosts`: the site's domains, e.g. `["example.com"]`; a referrer from one of them,
/// a subdomain of one, or the landing URL's own host is internal navigation (a session that
/// timed out and resumed on a click), not a source, and so is one from localhost.
pub fn resolve(url: &url::Url, referrer: Option<&str>, own_hosts: &[String]) -> Entry {
    let path = url.path().trim();
    let landing_page = if path.starts_with('/') { path.to_string() } else { "/".to_string() };

    const UTM: [&str; 5] = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
    // Slots: 0..5 the utm fields, 5 `ref`, 6 `source`. The first non-empty value of each wins:
    // a repeated parameter is usually a second tool appending its own tag to a tagged link.
    let mut params: [Option<String>; 7] = Default::default();
    let mut click_rank: Option<usize> = None;
    for (key, value) in url.query_pairs() {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if let Some(i) = CLICK_IDS.iter().position(|id| key.eq_ignore_ascii_case(id)) {
            click_rank = Some(click_rank.map_or(i, |r| r.min(i)));
            continue;
        }
        let slot = UTM
            .iter()
            .position(|k| key.eq_ignore_ascii_case(k))
            .or_else(|| TAG_PARAMS[1..].iter().position(|k| key.eq_ignore_ascii_case(k)).map(|i| UTM.len() + i));
        if let Some(slot) = slot
            && params[slot].is_none()
        {
            params[slot] = Some(value.to_string());
        }
    }
    let [utm_source, utm_medium, utm_campaign, utm_term, utm_content, tag_ref, tag_source] = params;

    let landing_host = url.host_str().map(normalize_host);
    let from = referrer.and_then(|r| parse_referrer(r, landing_host.as_deref(), own_hosts));

    let tag = utm_source.as_deref().or(tag_ref.as_deref()).or(tag_source.as_deref());
    let source = match (tag, &from) {
        (Some(tag), _) => Some(resolve_tag(tag)),
        (None, Some(from)) => Some(from.source.clone()),
        (None, None) => None,
    };

    Entry {
        landing_page,
        referrer: from.as_ref().map(|f| f.url.clone()),
        referrer_host: from.map(|f| f.host),
        source,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        click_id: click_rank.map(|i| CLICK_IDS[i]),
    }
}

/// The category of a resolved source name, for the channel rules. Case-insensitive, and a bare
/// host that a table knows (`chatgpt.com`, as an older entry might hold) is looked up as a host;
/// anything else is [`Category::Other`].
pub fn category(source: &str) -> Category {
    let source = source.trim();
    if let Some(&category) = CATEGORIES.get(source) {
        return category;
    }
    if let Some(&(_, category)) = NAMES.get(&source.to_ascii_lowercase()) {
        return category;
    }
    match known_host_source(&normalize_host(source), "") {
        Some(name) => CATEGORIES.get(name).copied().unwrap_or(Other),
        None => Other,
    }
}

/// Whether a `utm_source` names an ads product rather than a platform's organic side: one of
/// [`PAID_ALIASES`], a known source or alias followed by `ads`/`ad` (`linkedinads`,
/// `ig_ad`), or a tag whose last word is `ads`/`ad` (`spring ads`). A plain "ends in ad"
/// test would call `threads`, `ipad` or `lead` paid, so the word or the platform must be there.
pub fn is_paid_tag(utm_source: &str) -> bool {
    let raw = utm_source.trim().to_ascii_lowercase();
    if raw.contains("adwords") {
        return true;
    }
    let key = alias_key(&raw);
    if TAGS.get(&key).is_some_and(|&(_, paid)| paid) || ads_prefix(&key).is_some() {
        return true;
    }
    let last_word = raw.rsplit(|c: char| !c.is_ascii_alphanumeric()).find(|w| !w.is_empty());
    raw.contains(|c: char| !c.is_ascii_alphanumeric()) && matches!(last_word, Some("ads" | "ad"))
}

/// If `key` (an [`alias_key`]) is a known tag followed by `ads` or `ad`, that tag's source.
fn ads_prefix(key: &str) -> Option<&'static str> {
    ["ads", "ad"].iter().find_map(|suffix| {
        let prefix = key.strip_suffix(suffix).filter(|p| !p.is_empty())?;
        TAGS.get(prefix).map(|&(name, _)| name)
    })
}

/// Source name for a tag: an alias, an ads variant of one, a known host (`chatgpt.com`, or a
/// whole URL such as `https://news.ycombinator.com/`) as its referrer would resolve, else the
/// tag as it was spelled (trimmed): the founder chose that spelling and will look for it.
pub fn resolve_tag(tag: &str) -> String {
    let tag = tag.trim();
    let key = alias_key(tag);
    if let Some(&(name, _)) = TAGS.get(&key) {
        return name.to_string();
    }
    if let Some(name) = ads_prefix(&key) {
        return name.to_string();
    }
    let known = if tag.contains("://") {
        url::Url::parse(tag).ok().and_then(|u| {
            let host = normalize_host(u.host_str()?);
            if u.scheme() == "android-app" {
                APP_NAMES.get(host.as_str()).copied()
            } else {
                known_host_source(&host, u.path())
            }
        })
    } else if tag.contains('.') && !tag.contains(char::is_whitespace) {
        let (host, path) = tag.split_once('/').unwrap_or((tag, ""));
        let path = format!("/{path}");
        known_host_source(&normalize_host(host), &path)
    } else {
        None
    };
    known.map_or_else(|| tag.to_string(), str::to_string)
}

/// Source name for a referrer host (as [`normalize_host`] gives it) and URL path: the host and
/// path table, the exact host, the longest host family, a country family; else the bare host.
pub fn host_source(host: &str, path: &str) -> String {
    known_host_source(host, path).map_or_else(|| host.to_string(), str::to_string)
}

/// [`host_source`] without the bare-host fallback: None when no table knows the host.
fn known_host_source(host: &str, path: &str) -> Option<&'static str> {
    if host.is_empty() {
        return None;
    }
    let on_path = |prefix: &str| {
        path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
    };
    if let Some(&(_, _, name)) = PATHS.iter().find(|&&(h, prefix, _)| h == host && on_path(prefix)) {
        return Some(name);
    }
    if let Some(&name) = EXACT_HOSTS.get(host) {
        return Some(name);
    }
    // Longest suffix first: the whole host, then after each dot.
    let suffixes = std::iter::once(host).chain(host.match_indices('.').map(|(i, _)| &host[i + 1..]));
    for suffix in suffixes {
        if let Some(&name) = FAMILIES.get(suffix) {
            return Some(name);
        }
    }
    let (brand, country) = host.split_once('.')?;
    let (_, name) = COUNTRY_FAMILIES.iter().find(|&&(b, _)| b == brand)?;
    is_country_suffix(country).then_some(*name)
}

/// `com`, `<cc>`, `co.<cc>` or `com.<cc>`, where `<cc>` is two ASCII letters: the shapes of the
/// country domains of Google, Amazon and the other [`COUNTRY_FAMILIES`].
fn is_country_suffix(suffix: &str) -> bool {
    let cc = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase());
    suffix == "com"
        || cc(suffix)
        || suffix.strip_prefix("co.").is_some_and(cc)
        || suffix.strip_prefix("com.").is_some_and(cc)
}

/// A host as the tables spell it: trimmed, lower-case, without a trailing dot or a leading
/// "www.". `m.` and other prefixes are kept: they are handled by [`HOST_FAMILIES`].
pub fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => host,
    }
}

/// A referrer that passed the filters.
struct Referrer {
    url: String,
    host: String,
    source: String,
}

/// Parses `document.referrer`; None for anything that is not a source: empty, not a URL, a
/// scheme other than http/https/android-app, no host, localhost, or one of the site's hosts.
fn parse_referrer(raw: &str, landing_host: Option<&str>, own_hosts: &[String]) -> Option<Referrer> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = url::Url::parse(raw).ok()?;
    let scheme = parsed.scheme();
    let is_app = scheme == "android-app";
    if !(is_app || scheme == "http" || scheme == "https") {
        return None;
    }
    let host = match parsed.host()? {
        url::Host::Domain(domain) => {
            let domain = normalize_host(domain);
            if domain.is_empty() || domain == "localhost" || domain.ends_with(".localhost") {
                return None;
            }
            domain
        }
        url::Host::Ipv4(ip) if ip.is_loopback() || ip.is_unspecified() => return None,
        url::Host::Ipv6(ip) if ip.is_loopback() || ip.is_unspecified() => return None,
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    };
    let is_own = |own: &str| {
        let own = normalize_host(own);
        !own.is_empty() && (host == own || host.strip_suffix(own.as_str()).is_some_and(|sub| sub.ends_with('.')))
    };
    if !is_app && (own_hosts.iter().any(|own| is_own(own)) || landing_host.is_some_and(|own| own == host)) {
        return None;
    }
    let source = if is_app {
        APP_NAMES.get(host.as_str()).map_or_else(|| host.clone(), |name| name.to_string())
    } else {
        host_source(&host, parsed.path())
    };
    Some(Referrer { url: raw.to_string(), host, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn own() -> Vec<String> {
        vec!["example.com".to_string()]
    }

    fn entry(url: &str, referrer: &str) -> Entry {
        resolve(&url::Url::parse(url).expect("test URL"), Some(referrer), &own())
    }

    #[test]
    fn every_table_names_a_known_source() {
        let names: HashSet<&str> = SOURCES.iter().map(|&(name, _)| name).collect();
        assert_eq!(names.len(), SOURCES.len(), "a source is listed twice");
        let pairs = HOSTS.iter().chain(HOST_FAMILIES).chain(COUNTRY_FAMILIES).chain(APPS).chain(ALIASES);
        for &(key, name) in pairs.chain(PAID_ALIASES) {
            assert!(names.contains(name), "{key} -> {name}: {name} is not in SOURCES");
        }
        for &(host, _, name) in PATHS {
            assert!(names.contains(name), "{host} -> {name}: {name} is not in SOURCES");
        }
    }

    #[test]
    fn tables_have_no_duplicate_or_unnormalized_keys() {
        for table in [HOSTS, HOST_FAMILIES, APPS] {
            let mut seen = HashSet::new();
            for &(host, _) in table {
                assert!(seen.insert(host), "{host} is listed twice");
                assert_eq!(normalize_host(host), host, "{host} must be written as normalize_host gives it");
            }
        }
        for &(host, _) in HOSTS {
            assert!(!HOST_FAMILIES.iter().any(|&(f, _)| f == host), "{host} is both exact and a family");
        }
        for &(host, _, _) in PATHS {
            assert_eq!(normalize_host(host), host);
        }
    }

    #[test]
    fn aliases_do_not_contradict_each_other() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let names = SOURCES.iter().map(|&(name, _)| (name, name));
        for (alias, name) in names.chain(ALIASES.iter().copied()).chain(PAID_ALIASES.iter().copied()) {
            let previous = seen.entry(alias_key(alias)).or_insert(name);
            assert_eq!(*previous, name, "alias {alias} means two sources");
        }
    }

    #[test]
    fn categories() {
        let cases = [
            ("Google", Search),
            ("google", Search),
            ("Yahoo!", Search),
            ("X (Twitter)", Social),
            ("Hacker News", Social),
            ("YouTube", Video),
            ("Amazon", Shopping),
            ("Gmail", Email),
            ("ChatGPT", AiAssistant),
            ("chatgpt.com", AiAssistant),
            ("www.google.de", Search),
            ("Wikipedia", Other),
            ("indiehackers.com", Other),
            ("newsletter", Other),
            ("", Other),
        ];
        for (source, expected) in cases {
            assert_eq!(category(source), expected, "category({source:?})");
        }
    }

    #[test]
    fn tags_resolve_through_aliases() {
        let cases = [
            ("ig", "Instagram"),
            ("IG", "Instagram"),
            ("fb", "Facebook"),
            ("t.co", "X (Twitter)"),
            ("twitter", "X (Twitter)"),
            ("X", "X (Twitter)"),
            ("yt", "YouTube"),
            ("adwords", "Google"),
            ("google-ads", "Google"),
            ("google_ads", "Google"),
            ("googleads", "Google"),
            ("Google Ads", "Google"),
            ("gads", "Google"),
            ("fb-ads", "Facebook"),
            ("fbad", "Facebook"),
            ("facebook-ads", "Facebook"),
            ("facebook_feed_ad", "Facebook"),
            ("yt-ads", "YouTube"),
            ("reddit-ads", "Reddit"),
            ("twitter-ads", "X (Twitter)"),
            ("tiktokads", "TikTok"),
            ("linkedin_ads", "LinkedIn"),
            ("hn", "Hacker News"),
            ("ph", "Product Hunt"),
            ("producthunt", "Product Hunt"),
            ("li", "LinkedIn"),
            ("google", "Google"),
            ("chatgpt.com", "ChatGPT"),
            ("news.ycombinator.com", "Hacker News"),
            ("https://news.ycombinator.com/item?id=1", "Hacker News"),
            ("www.google.co.uk", "Google"),
            ("perplexity", "Perplexity"),
            ("newsletter", "newsletter"),
            ("Newsletter", "Newsletter"),
            ("indiehackers.com", "indiehackers.com"),
            ("  My Podcast  ", "My Podcast"),
            ("threads", "Threads"),
        ];
        for (tag, expected) in cases {
            assert_eq!(resolve_tag(tag), expected, "resolve_tag({tag:?})");
        }
    }

    #[test]
    fn paid_tags() {
        for tag in [
            "adwords",
            "google-ads",
            "google_ads",
            "googleads",
            "gads",
            "fb-ads",
            "fbad",
            "facebook-ads",
            "facebook_feed_ad",
            "yt-ads",
            "reddit-ads",
            "twitter-ads",
            "tiktokads",
            "LinkedIn Ads",
            "ig_ad",
            "spring-ads",
        ] {
            assert!(is_paid_tag(tag), "{tag} should be a paid utm_source");
        }
        for tag in ["google", "facebook", "threads", "ipad", "lead", "ads", "newsletter", "", "reddit", "squad"] {
            assert!(!is_paid_tag(tag), "{tag} should not be a paid utm_source");
        }
    }

    #[test]
    fn referrer_hosts() {
        let cases = [
            ("https://www.google.com/", "Google"),
            ("https://www.google.co.uk/", "Google"),
            ("https://www.google.de/", "Google"),
            ("https://www.google.com.br/", "Google"),
            ("https://google.cat/", "Google"),
            ("https://www.google.com/url?q=https://example.org", "Google"),
            ("https://www.google.com/shopping?q=x", "Google Shopping"),
            ("https://docs.google.com/document/d/1", "docs.google.com"),
            ("https://mail.google.com/mail/u/0/", "Gmail"),
            ("https://gemini.google.com/app", "Google Gemini"),
            ("https://bard.google.com/", "Google Gemini"),
            ("https://de.wikipedia.org/wiki/X", "Wikipedia"),
            ("https://en.m.wikipedia.org/wiki/X", "Wikipedia"),
            ("https://old.reddit.com/r/rust", "Reddit"),
            ("https://out.reddit.com/t3_x", "Reddit"),
            ("https://m.facebook.com/", "Facebook"),
            ("https://l.facebook.com/l.php?u=x", "Facebook"),
            ("https://lm.facebook.com/", "Facebook"),
            ("https://l.instagram.com/", "Instagram"),
            ("https://t.co/abc", "X (Twitter)"),
            ("https://lnkd.in/abc", "LinkedIn"),
            ("https://youtu.be/abc", "YouTube"),
            ("https://m.youtube.com/watch?v=1", "YouTube"),
            ("https://news.ycombinator.com/item?id=1", "Hacker News"),
            ("https://www.producthunt.com/posts/x", "Product Hunt"),
            ("https://github.com/a/b", "GitHub"),
            ("https://gist.github.com/a", "GitHub"),
            ("https://user.github.io/", "user.github.io"),
            ("https://www.indiehackers.com/post/x", "indiehackers.com"),
            ("https://kagi.com/search?q=x", "Kagi"),
            ("https://www.startpage.com/", "Startpage"),
            ("https://yandex.ru/search/", "Yandex"),
            ("https://yandex.com/", "Yandex"),
            ("https://yandex.com.tr/", "Yandex"),
            ("https://www.baidu.com/", "Baidu"),
            ("https://search.naver.com/", "Naver"),
            ("https://search.seznam.cz/", "Seznam"),
            ("https://www.qwant.com/", "Qwant"),
            ("https://www.ecosia.org/", "Ecosia"),
            ("https://search.brave.com/search?q=x", "Brave"),
            ("https://search.yahoo.com/", "Yahoo!"),
            ("https://uk.search.yahoo.com/", "Yahoo!"),
            ("https://mail.yahoo.com/", "Yahoo Mail"),
            ("https://uk.mail.yahoo.com/", "Yahoo Mail"),
            ("https://outlook.live.com/mail/0/", "Outlook.com"),
            ("https://outlook.office.com/", "Outlook.com"),
            ("https://mail.proton.me/u/0/inbox", "Proton Mail"),
            ("https://www.phind.com/", "Phind"),
            ("https://chat.deepseek.com/", "DeepSeek"),
            ("https://grok.com/", "Grok"),
            ("https://x.com/i/grok?conversation=1", "Grok"),
            ("https://x.com/someone/status/1", "X (Twitter)"),
            ("https://copilot.microsoft.com/", "Microsoft Copilot"),
            ("https://www.bing.com/chat", "Microsoft Copilot"),
            ("https://www.bing.com/chatter", "Bing"),
            ("https://cn.bing.com/", "Bing"),
            ("https://www.perplexity.ai/", "Perplexity"),
            ("https://pplx.ai/x", "Perplexity"),
            ("https://claude.ai/chat/1", "Claude"),
            ("https://chatgpt.com/", "ChatGPT"),
            ("https://chat.openai.com/", "ChatGPT"),
            ("https://www.amazon.co.jp/", "Amazon"),
            ("https://www.ebay.de/", "eBay"),
            ("https://aws.amazon.com/", "aws.amazon.com"),
            ("https://googleblog.com/", "googleblog.com"),
            ("https://google.dev/", "google.dev"),
            ("HTTPS://WWW.Example.ORG./x", "example.org"),
            ("http://203.0.113.7/", "203.0.113.7"),
            ("android-app://com.google.android.gm", "Gmail"),
            ("android-app://com.google.android.gm/", "Gmail"),
            ("android-app://com.google.android.googlequicksearchbox/https/www.google.com", "Google"),
            ("android-app://com.Slack", "Slack"),
            ("android-app://org.example.reader/", "org.example.reader"),
        ];
        for (referrer, expected) in cases {
            let e = entry("https://example.com/", referrer);
            assert_eq!(e.source.as_deref(), Some(expected), "referrer {referrer}");
            assert_eq!(e.referrer.as_deref(), Some(referrer), "referrer {referrer} is kept as given");
        }
    }

    #[test]
    fn ignored_referrers() {
        for referrer in [
            "",
            "   ",
            "not a url",
            "google.com",
            "//google.com/",
            "https://",
            "file:///home/me/page.html",
            "chrome://newtab/",
            "about:blank",
            "javascript:alert(1)",
            "data:text/html,hi",
            "mailto:someone@example.org",
            "ftp://files.example.org/",
            "https://example.com/pricing",
            "https://www.example.com/",
            "https://blog.example.com/post",
            "https://WWW.EXAMPLE.COM./",
            "http://localhost:3000/",
            "http://app.localhost/",
            "http://127.0.0.1:8080/",
            "http://127.1.2.3/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "https://landing.example.net/x",
        ] {
            let e = entry("https://landing.example.net/", referrer);
            assert_eq!(e.referrer, None, "referrer {referrer:?}");
            assert_eq!(e.referrer_host, None, "referrer {referrer:?}");
            assert_eq!(e.source, None, "referrer {referrer:?}");
        }
        // A look-alike of the own domain is somebody else.
        let e = entry("https://example.com/", "https://notexample.com/");
        assert_eq!(e.source.as_deref(), Some("notexample.com"));
        // No referrer at all.
        let e = resolve(&url::Url::parse("https://example.com/").unwrap(), None, &own());
        assert_eq!(e, Entry { landing_page: "/".into(), ..Entry::default() });
    }

    #[test]
    fn own_hosts_are_normalized() {
        let url = url::Url::parse("https://app.example.net/").unwrap();
        let own = vec![" WWW.Example.com ".to_string(), String::new()];
        assert_eq!(resolve(&url, Some("https://shop.example.com/"), &own).source, None);
        assert_eq!(resolve(&url, Some("https://example.org/"), &own).source.as_deref(), Some("example.org"));
        // An empty own host must not make every referrer internal.
        assert_eq!(resolve(&url, Some("https://x.org/"), &[String::new()]).source.as_deref(), Some("x.org"));
    }

    #[test]
    fn fields() {
        let e = entry(
            "https://example.com/pricing/?utm_source=%20Newsletter%20&utm_medium=email&utm_campaign=Spring+Sale\
             &utm_term=&utm_content=hero&fbclid=abc&gclid=xyz#plans",
            "https://www.Indiehackers.com/post/1",
        );
        assert_eq!(
            e,
            Entry {
                landing_page: "/pricing/".into(),
                referrer: Some("https://www.Indiehackers.com/post/1".into()),
                referrer_host: Some("indiehackers.com".into()),
                source: Some("Newsletter".into()),
                utm_source: Some("Newsletter".into()),
                utm_medium: Some("email".into()),
                utm_campaign: Some("Spring Sale".into()),
                utm_term: None,
                utm_content: Some("hero".into()),
                click_id: Some("gclid"),
            }
        );
    }

    #[test]
    fn tag_order_and_first_values() {
        let source = |url: &str| entry(url, "https://news.ycombinator.com/").source;
        assert_eq!(source("https://example.com/?source=yt&ref=ph&utm_source=ig").as_deref(), Some("Instagram"));
        assert_eq!(source("https://example.com/?source=yt&ref=ph").as_deref(), Some("Product Hunt"));
        assert_eq!(source("https://example.com/?source=yt").as_deref(), Some("YouTube"));
        assert_eq!(source("https://example.com/?utm_source=&ref=+&source=fb").as_deref(), Some("Facebook"));
        assert_eq!(source("https://example.com/?utm_source=ig&utm_source=fb").as_deref(), Some("Instagram"));
        assert_eq!(source("https://example.com/?UTM_SOURCE=li").as_deref(), Some("LinkedIn"));
        assert_eq!(source("https://example.com/?utm_source=").as_deref(), Some("Hacker News"));
    }

    #[test]
    fn click_ids() {
        let click = |query: &str| entry(&format!("https://example.com/?{query}"), "").click_id;
        assert_eq!(click(""), None);
        assert_eq!(click("gclid="), None);
        assert_eq!(click("fbclid=1"), Some("fbclid"));
        assert_eq!(click("fbclid=1&gclid=2"), Some("gclid"));
        assert_eq!(click("msclkid=1&twclid=2"), Some("msclkid"));
        assert_eq!(click("li_fat_id=1"), Some("li_fat_id"));
        assert_eq!(click("ttclid=1&wbraid=2"), Some("wbraid"));
        assert_eq!(click("gbraid=1"), Some("gbraid"));
        assert_eq!(click("GCLID=1"), Some("gclid"));
        assert_eq!(click("xgclid=1"), None);
    }

    #[test]
    fn landing_pages() {
        let cases = [
            ("https://example.com", "/"),
            ("https://example.com/", "/"),
            ("https://example.com/a/b?x=1#y", "/a/b"),
            ("https://example.com/caf%C3%A9", "/caf%C3%A9"),
            ("https://example.com//double", "//double"),
            ("mailto:someone@example.com", "/"),
            ("data:text/plain,hi", "/"),
        ];
        for (url, expected) in cases {
            assert_eq!(entry(url, "").landing_page, expected, "{url}");
        }
    }

    #[test]
    fn never_panics() {
        let urls = [
            "https://example.com/?utm_source=%FF%FE&ref=%00&source=\u{202e}",
            "https://example.com/?&&&=&==&utm_source",
            "https://example.com/?utm_source=.",
            "https://example.com/?utm_source=ads",
            "https://example.com/?utm_source=/",
            "https://example.com/?utm_source=a.b/c/d",
            "https://example.com/?utm_source=http://",
            "https://example.com/?utm_source=android-app://",
            "https://example.com/?utm_source=%E2%80%8B",
            "https://[::1]:8080/x",
            "file:///tmp/x",
            "blob:https://example.com/uuid",
        ];
        let referrers = [
            "\u{0}",
            "http://%",
            "https://xn--nxasmq6b.com/",
            "https://例え.jp/",
            "https://.",
            "https://../",
            "https://www./",
            "https://www",
            "android-app://",
            "android-app:///",
            "android-app://www./",
            "https://user:pass@host.example.org:99/p",
            "https://[2001:db8::1]/",
            "https://example.com\u{0}.evil.com/",
            "https://😀.example.org/",
        ];
        for url in urls {
            let url = url::Url::parse(url).expect("test URL");
            for referrer in referrers {
                let e = resolve(&url, Some(referrer), &own());
                assert!(e.landing_page.starts_with('/'));
                for field in [&e.referrer, &e.referrer_host, &e.source, &e.utm_source] {
                    assert!(field.as_deref().is_none_or(|s| !s.is_empty() && s.trim() == s), "{e:?}");
                }
            }
        }
    }
}
