//! The channel table: which of 19 marketing channels a session belongs to.
//!
//! One ordered, first-match table ([`RULES`]), in the order of GA4's default channel grouping
//! as the open-source tools apply it (see `shared/specs/channels.md`). The order is the logic:
//! a paid Google click is Paid Search before it can be Organic Search, and any source at all is
//! a Referral before it can be Direct. Every input gets a channel; Direct is the fallback.
//!
//! The table reads only the session's [`Entry`] (its first event), so a session's channel never
//! changes while it lives. [`TABLE_VERSION`] is stored with each session's channel: when a rule
//! or a source table changes, sessions computed by an older version can be found and
//! recomputed from their stored entry.

use super::source::{self, Category, Entry};

/// Version of [`RULES`] and of the source tables in [`super::source`]. Bump it when a change
/// would file existing traffic under a different channel; stored per session so old sessions
/// can be recomputed.
pub const TABLE_VERSION: u32 = 1;

/// A marketing channel. Serialized as its display name ([`Channel::name`]), the same string
/// that is stored, so the UI and the database speak one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Channel {
    #[serde(rename = "Cross-network")]
    CrossNetwork,
    #[serde(rename = "Paid Shopping")]
    PaidShopping,
    #[serde(rename = "Paid Search")]
    PaidSearch,
    #[serde(rename = "Paid Social")]
    PaidSocial,
    #[serde(rename = "Paid Video")]
    PaidVideo,
    #[serde(rename = "Display")]
    Display,
    #[serde(rename = "Paid Other")]
    PaidOther,
    #[serde(rename = "Organic Shopping")]
    OrganicShopping,
    #[serde(rename = "Organic Social")]
    OrganicSocial,
    #[serde(rename = "Organic Video")]
    OrganicVideo,
    #[serde(rename = "AI Assistants")]
    AiAssistants,
    #[serde(rename = "Organic Search")]
    OrganicSearch,
    #[serde(rename = "Email")]
    Email,
    #[serde(rename = "Affiliates")]
    Affiliates,
    #[serde(rename = "Audio")]
    Audio,
    #[serde(rename = "SMS")]
    Sms,
    #[serde(rename = "Mobile Push Notifications")]
    MobilePush,
    #[serde(rename = "Referral")]
    Referral,
    #[serde(rename = "Direct")]
    Direct,
}

impl Channel {
    /// Every channel, in rule order (the order [`classify`] tries them).
    pub const ALL: [Channel; 19] = [
        Channel::CrossNetwork,
        Channel::PaidShopping,
        Channel::PaidSearch,
        Channel::PaidSocial,
        Channel::PaidVideo,
        Channel::Display,
        Channel::PaidOther,
        Channel::OrganicShopping,
        Channel::OrganicSocial,
        Channel::OrganicVideo,
        Channel::AiAssistants,
        Channel::OrganicSearch,
        Channel::Email,
        Channel::Affiliates,
        Channel::Audio,
        Channel::Sms,
        Channel::MobilePush,
        Channel::Referral,
        Channel::Direct,
    ];

    /// The display name, as GA4 spells it; also the stored form.
    pub fn name(self) -> &'static str {
        match self {
            Channel::CrossNetwork => "Cross-network",
            Channel::PaidShopping => "Paid Shopping",
            Channel::PaidSearch => "Paid Search",
            Channel::PaidSocial => "Paid Social",
            Channel::PaidVideo => "Paid Video",
            Channel::Display => "Display",
            Channel::PaidOther => "Paid Other",
            Channel::OrganicShopping => "Organic Shopping",
            Channel::OrganicSocial => "Organic Social",
            Channel::OrganicVideo => "Organic Video",
            Channel::AiAssistants => "AI Assistants",
            Channel::OrganicSearch => "Organic Search",
            Channel::Email => "Email",
            Channel::Affiliates => "Affiliates",
            Channel::Audio => "Audio",
            Channel::Sms => "SMS",
            Channel::MobilePush => "Mobile Push Notifications",
            Channel::Referral => "Referral",
            Channel::Direct => "Direct",
        }
    }

    /// The channel with this [`name`](Channel::name); case-insensitive and trimmed, because names
    /// also arrive from the UI's filters and URLs.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Channel::ALL.into_iter().find(|channel| channel.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Files a session's entry under its channel: the first rule of [`RULES`] that matches.
/// Total: every input gives a channel, Direct as the fallback.
pub fn classify(entry: &Entry) -> Channel {
    let inputs = Inputs::new(entry);
    RULES.iter().find(|(_, matches)| matches(&inputs)).map_or(Channel::Direct, |&(channel, _)| channel)
}

/// What the rules look at, lower-cased once; absent fields are "". The derived facts that
/// several rules share are computed here too, so each rule below stays one readable line.
pub struct Inputs {
    /// The resolved source name (a tag, a known source's name, or a bare host).
    pub source: String,
    pub category: Category,
    pub utm_source: String,
    pub medium: String,
    pub campaign: String,
    pub click_id: &'static str,
    /// `cpc`, `ppc`, `retargeting`, anything containing `cp` (cpm, cpv, cpa), or starting
    /// with `paid`: GA4's paid-medium pattern.
    pub paid_medium: bool,
    /// `utm_source` names an ads product (`fb-ads`, `google_ads`, `adwords`): see
    /// [`source::is_paid_tag`].
    pub paid_source: bool,
    /// The campaign says shopping: see [`is_shopping_campaign`].
    pub shopping_campaign: bool,
}

impl Inputs {
    pub fn new(entry: &Entry) -> Self {
        let lower = |field: &Option<String>| field.as_deref().unwrap_or("").trim().to_lowercase();
        let source = lower(&entry.source);
        let utm_source = lower(&entry.utm_source);
        let medium = lower(&entry.utm_medium);
        let campaign = lower(&entry.utm_campaign);
        let paid_medium = matches!(medium.as_str(), "cpc" | "ppc" | "retargeting")
            || medium.contains("cp")
            || medium.starts_with("paid");
        Inputs {
            // The stored spelling first: an exact, allocation-free hit for every known source.
            category: source::category(entry.source.as_deref().unwrap_or("")),
            paid_source: !utm_source.is_empty() && source::is_paid_tag(&utm_source),
            shopping_campaign: is_shopping_campaign(&campaign),
            click_id: entry.click_id.unwrap_or(""),
            paid_medium,
            source,
            utm_source,
            medium,
            campaign,
        }
    }

    fn paid(&self) -> bool {
        self.paid_medium || self.paid_source
    }
}

type Rule = (Channel, fn(&Inputs) -> bool);

/// The channel rules, first match wins, in exactly the order of `channels.md`. Change a rule or
/// its position only together with [`TABLE_VERSION`].
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    (Channel::CrossNetwork, |i| i.campaign.contains("cross-network")),
    (Channel::PaidShopping, |i| (i.category == Category::Shopping || i.shopping_campaign) && i.paid_medium),
    // A click id alone is paid only where it cannot be anything else: Google's own gclid on a
    // Google visit, Microsoft's msclkid on a Bing visit. A gclid without Google as the source
    // (a copied link) proves nothing about this visit.
    (Channel::PaidSearch, |i| {
        (i.category == Category::Search && i.paid())
            || (i.source == "google" && i.click_id == "gclid")
            || (i.source == "bing" && i.click_id == "msclkid")
    }),
    (Channel::PaidSocial, |i| i.category == Category::Social && i.paid()),
    (Channel::PaidVideo, |i| i.category == Category::Video && i.paid()),
    (Channel::Display, |i| matches!(i.medium.as_str(), "display" | "banner" | "expandable" | "interstitial" | "cpm")),
    (Channel::PaidOther, |i| i.paid_medium),
    (Channel::OrganicShopping, |i| i.category == Category::Shopping || i.shopping_campaign),
    (Channel::OrganicSocial, |i| {
        i.category == Category::Social
            || matches!(
                i.medium.as_str(),
                "social" | "social-network" | "social-media" | "sm" | "social network" | "social media"
            )
    }),
    (Channel::OrganicVideo, |i| i.category == Category::Video || i.medium.contains("video")),
    (Channel::AiAssistants, |i| i.category == Category::AiAssistant),
    (Channel::OrganicSearch, |i| i.category == Category::Search),
    // The resolved source is checked too: it is the tag when the tag came from `ref=newsletter`.
    (Channel::Email, |i| {
        i.category == Category::Email || [&i.source, &i.utm_source, &i.medium].into_iter().any(|s| mentions_email(s))
    }),
    (Channel::Affiliates, |i| i.medium == "affiliate"),
    (Channel::Audio, |i| i.medium == "audio"),
    (Channel::Sms, |i| i.utm_source == "sms" || i.source == "sms" || i.medium == "sms"),
    (Channel::MobilePush, |i| {
        i.medium.ends_with("push")
            || i.medium.contains("mobile")
            || i.medium.contains("notification")
            || i.source == "firebase"
            || i.utm_source == "firebase"
    }),
    (Channel::Referral, |i| matches!(i.medium.as_str(), "referral" | "app" | "link") || !i.source.is_empty()),
    (Channel::Direct, |_| true),
];

/// GA4's shopping-campaign test: `shopping` anywhere, or `shop` at the start of a word
/// (`shop-launch`, `summer_shop`, `eshop`, `e-shop`). A bare "contains shop" would file a
/// `workshop` or `bookshop-partner` campaign under Shopping.
pub fn is_shopping_campaign(campaign: &str) -> bool {
    campaign.contains("shopping")
        || campaign.match_indices("shop").any(|(at, _)| {
            // GA4's `([^a-df-z]|^)shop`: any character but a letter, except `e` (e-commerce's eshop).
            !matches!(campaign[..at].chars().next_back(), Some('a'..='d' | 'f'..='z'))
        })
}

/// `email`, `e-mail`, `e_mail`, `e mail` or `newsletter` anywhere in a lower-case value.
fn mentions_email(value: &str) -> bool {
    ["email", "e-mail", "e_mail", "e mail", "newsletter"].iter().any(|word| value.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    use Channel::*;

    /// (landing path and query, referrer, expected source, expected channel). The site, and the
    /// landing URL's host, is example.com.
    #[rustfmt::skip]
    const CASES: &[(&str, &str, Option<&str>, Channel)] = &[
        // 1. Cross-network.
        ("/?utm_source=google&utm_medium=cpc&utm_campaign=pmax-cross-network", "", Some("Google"), CrossNetwork),
        ("/?utm_campaign=Cross-Network", "", None, CrossNetwork),
        ("/?utm_source=amazon&utm_medium=cpc&utm_campaign=cross-network_shop", "", Some("Amazon"), CrossNetwork),
        // 2. Paid Shopping: a shopping source or campaign, with a paid medium.
        ("/?utm_source=amazon&utm_medium=cpc", "", Some("Amazon"), PaidShopping),
        ("/?utm_source=google&utm_medium=cpc&utm_campaign=summer-shopping", "", Some("Google"), PaidShopping),
        ("/?utm_source=partner&utm_medium=paid&utm_campaign=eshop", "", Some("partner"), PaidShopping),
        ("/?utm_source=partner&utm_medium=cpc&utm_campaign=Shop_Launch", "", Some("partner"), PaidShopping),
        ("/?utm_medium=ppc", "https://www.ebay.de/itm/1", Some("eBay"), PaidShopping),
        // `workshop` is not a shopping campaign.
        ("/?utm_source=google&utm_medium=cpc&utm_campaign=workshop", "", Some("Google"), PaidSearch),
        // 3. Paid Search: paid medium forms.
        ("/?utm_source=google&utm_medium=cpc", "", Some("Google"), PaidSearch),
        ("/?utm_source=bing&utm_medium=ppc", "", Some("Bing"), PaidSearch),
        ("/?utm_source=google&utm_medium=retargeting", "", Some("Google"), PaidSearch),
        ("/?utm_source=duckduckgo&utm_medium=cpv", "", Some("DuckDuckGo"), PaidSearch),
        ("/?utm_source=google&utm_medium=paid-search", "", Some("Google"), PaidSearch),
        ("/?utm_source=Google&utm_medium=Paid_Search", "", Some("Google"), PaidSearch),
        ("/?utm_source=google&utm_medium=cpm", "", Some("Google"), PaidSearch),
        ("/?utm_medium=cpc", "https://www.google.de/", Some("Google"), PaidSearch),
        // Paid utm_source forms.
        ("/?utm_source=adwords", "", Some("Google"), PaidSearch),
        ("/?utm_source=google_ads&utm_medium=search", "", Some("Google"), PaidSearch),
        ("/?utm_source=google-ads", "", Some("Google"), PaidSearch),
        ("/?utm_source=gads", "", Some("Google"), PaidSearch),
        ("/?utm_source=bing-ads", "", Some("Bing"), PaidSearch),
        ("/?utm_source=microsoft-ads", "", Some("Bing"), PaidSearch),
        // Click ids that are paid on their own, with their own network as the source.
        ("/?gclid=abc", "https://www.google.com/", Some("Google"), PaidSearch),
        ("/?gclid=abc", "https://www.google.co.uk/", Some("Google"), PaidSearch),
        ("/?gclid=abc&utm_source=google", "", Some("Google"), PaidSearch),
        ("/?msclkid=abc", "https://www.bing.com/", Some("Bing"), PaidSearch),
        ("/?fbclid=1&gclid=abc", "https://www.google.com/", Some("Google"), PaidSearch),
        // 4. Paid Social.
        ("/?utm_source=facebook&utm_medium=cpc", "", Some("Facebook"), PaidSocial),
        ("/?utm_source=fb-ads", "", Some("Facebook"), PaidSocial),
        ("/?utm_source=fbad", "", Some("Facebook"), PaidSocial),
        ("/?utm_source=facebook-ads", "", Some("Facebook"), PaidSocial),
        ("/?utm_source=facebook_feed_ad&utm_medium=social", "", Some("Facebook"), PaidSocial),
        ("/?utm_source=twitter-ads", "", Some("X (Twitter)"), PaidSocial),
        ("/?utm_source=reddit-ads&utm_medium=social", "", Some("Reddit"), PaidSocial),
        ("/?utm_source=tiktokads", "", Some("TikTok"), PaidSocial),
        ("/?utm_source=linkedin&utm_medium=paid_social", "", Some("LinkedIn"), PaidSocial),
        ("/?utm_source=ig&utm_medium=paidsocial", "", Some("Instagram"), PaidSocial),
        ("/?utm_source=linkedin_ads", "", Some("LinkedIn"), PaidSocial),
        ("/?utm_medium=cpc&fbclid=1", "https://l.facebook.com/", Some("Facebook"), PaidSocial),
        // 5. Paid Video.
        ("/?utm_source=youtube&utm_medium=cpv", "", Some("YouTube"), PaidVideo),
        ("/?utm_source=yt-ads", "", Some("YouTube"), PaidVideo),
        ("/?utm_source=vimeo&utm_medium=paid", "", Some("Vimeo"), PaidVideo),
        // 6. Display.
        ("/?utm_source=adnetwork&utm_medium=display", "", Some("adnetwork"), Display),
        ("/?utm_medium=banner", "", None, Display),
        ("/?utm_source=partner&utm_medium=interstitial", "", Some("partner"), Display),
        ("/?utm_source=partner&utm_medium=expandable", "", Some("partner"), Display),
        ("/?utm_source=partner&utm_medium=CPM", "", Some("partner"), Display),
        ("/?utm_source=newsletter&utm_medium=display", "", Some("newsletter"), Display),
        // 7. Paid Other.
        ("/?utm_source=partner&utm_medium=cpc", "", Some("partner"), PaidOther),
        ("/?utm_medium=paid", "", None, PaidOther),
        ("/?utm_source=chatgpt.com&utm_medium=cpc", "", Some("ChatGPT"), PaidOther),
        ("/?utm_source=newsletter&utm_medium=paid-email", "", Some("newsletter"), PaidOther),
        ("/?utm_source=podcast&utm_medium=cpa", "", Some("podcast"), PaidOther),
        ("/?utm_medium=cpc", "https://mail.google.com/", Some("Gmail"), PaidOther),
        // 8. Organic Shopping.
        ("/", "https://www.amazon.com/dp/1", Some("Amazon"), OrganicShopping),
        ("/", "https://www.etsy.com/shop/x", Some("Etsy"), OrganicShopping),
        ("/", "https://apps.shopify.com/x", Some("Shopify"), OrganicShopping),
        ("/?utm_source=temu", "", Some("Temu"), OrganicShopping),
        ("/?utm_source=partner&utm_campaign=black-friday-shop", "", Some("partner"), OrganicShopping),
        // 9. Organic Social.
        ("/", "https://news.ycombinator.com/item?id=1", Some("Hacker News"), OrganicSocial),
        ("/", "https://t.co/abc", Some("X (Twitter)"), OrganicSocial),
        ("/", "https://l.facebook.com/l.php?u=x", Some("Facebook"), OrganicSocial),
        ("/", "https://www.producthunt.com/posts/x", Some("Product Hunt"), OrganicSocial),
        ("/?ref=producthunt", "", Some("Product Hunt"), OrganicSocial),
        ("/", "https://github.com/a/b", Some("GitHub"), OrganicSocial),
        ("/", "https://www.reddit.com/r/rust", Some("Reddit"), OrganicSocial),
        ("/", "https://out.reddit.com/t3_x", Some("Reddit"), OrganicSocial),
        ("/", "https://bsky.app/profile/x", Some("Bluesky"), OrganicSocial),
        ("/", "https://lnkd.in/abc", Some("LinkedIn"), OrganicSocial),
        ("/", "android-app://com.linkedin.android", Some("LinkedIn"), OrganicSocial),
        ("/?utm_source=partner&utm_medium=social", "", Some("partner"), OrganicSocial),
        ("/?utm_medium=social-network", "", None, OrganicSocial),
        ("/?utm_source=blog&utm_medium=social+media", "", Some("blog"), OrganicSocial),
        ("/?utm_source=blog&utm_medium=sm", "", Some("blog"), OrganicSocial),
        ("/?utm_source=x&utm_medium=social", "", Some("X (Twitter)"), OrganicSocial),
        ("/?utm_source=threads", "", Some("Threads"), OrganicSocial),
        // fbclid does not make traffic paid.
        ("/?fbclid=abc", "https://l.facebook.com/", Some("Facebook"), OrganicSocial),
        // 10. Organic Video.
        ("/", "https://m.youtube.com/watch?v=1", Some("YouTube"), OrganicVideo),
        ("/", "https://youtu.be/x", Some("YouTube"), OrganicVideo),
        ("/", "https://www.twitch.tv/x", Some("Twitch"), OrganicVideo),
        ("/?utm_source=partner&utm_medium=video", "", Some("partner"), OrganicVideo),
        ("/?utm_source=blog&utm_medium=video-embed", "", Some("blog"), OrganicVideo),
        // 11. AI Assistants.
        ("/", "https://chatgpt.com/", Some("ChatGPT"), AiAssistants),
        ("/", "https://chat.openai.com/", Some("ChatGPT"), AiAssistants),
        ("/?utm_source=chatgpt.com", "", Some("ChatGPT"), AiAssistants),
        ("/?utm_source=chatgpt", "", Some("ChatGPT"), AiAssistants),
        ("/", "https://www.perplexity.ai/search/x", Some("Perplexity"), AiAssistants),
        ("/", "https://claude.ai/", Some("Claude"), AiAssistants),
        ("/", "https://gemini.google.com/app", Some("Google Gemini"), AiAssistants),
        ("/", "https://copilot.microsoft.com/", Some("Microsoft Copilot"), AiAssistants),
        ("/", "https://chat.deepseek.com/", Some("DeepSeek"), AiAssistants),
        ("/", "https://grok.com/", Some("Grok"), AiAssistants),
        ("/", "https://www.phind.com/", Some("Phind"), AiAssistants),
        // 12. Organic Search.
        ("/", "https://www.google.com/", Some("Google"), OrganicSearch),
        ("/", "https://www.google.de/", Some("Google"), OrganicSearch),
        ("/", "https://www.google.com.br/", Some("Google"), OrganicSearch),
        ("/", "https://www.google.com/url?q=https://example.com/", Some("Google"), OrganicSearch),
        ("/", "https://duckduckgo.com/", Some("DuckDuckGo"), OrganicSearch),
        ("/", "https://www.bing.com/", Some("Bing"), OrganicSearch),
        ("/", "https://search.brave.com/", Some("Brave"), OrganicSearch),
        ("/", "https://kagi.com/", Some("Kagi"), OrganicSearch),
        ("/", "https://yandex.ru/", Some("Yandex"), OrganicSearch),
        ("/", "https://search.yahoo.com/", Some("Yahoo!"), OrganicSearch),
        ("/", "android-app://com.google.android.googlequicksearchbox/https/www.google.com", Some("Google"), OrganicSearch),
        ("/?utm_source=google&utm_medium=organic", "", Some("Google"), OrganicSearch),
        // gbraid, and click ids of the wrong network, are not paid on their own.
        ("/?gbraid=abc", "https://www.google.com/", Some("Google"), OrganicSearch),
        ("/?msclkid=abc", "https://www.google.com/", Some("Google"), OrganicSearch),
        ("/?gclid=abc", "https://www.bing.com/", Some("Bing"), OrganicSearch),
        // 13. Email.
        ("/", "https://mail.google.com/", Some("Gmail"), Email),
        ("/", "android-app://com.google.android.gm", Some("Gmail"), Email),
        ("/", "https://outlook.live.com/", Some("Outlook.com"), Email),
        ("/", "https://mail.yahoo.com/", Some("Yahoo Mail"), Email),
        ("/", "https://mail.proton.me/", Some("Proton Mail"), Email),
        ("/?utm_source=newsletter", "", Some("newsletter"), Email),
        ("/?ref=newsletter", "", Some("newsletter"), Email),
        ("/?utm_source=Weekly+Newsletter", "", Some("Weekly Newsletter"), Email),
        ("/?utm_source=partner&utm_medium=email", "", Some("partner"), Email),
        ("/?utm_medium=e-mail", "", None, Email),
        ("/?utm_source=weekly&utm_medium=e_mail", "", Some("weekly"), Email),
        ("/?utm_source=mailchimp&utm_medium=e+mail", "", Some("mailchimp"), Email),
        ("/?utm_source=buttondown&utm_medium=newsletter", "", Some("buttondown"), Email),
        // 14. Affiliates.
        ("/?utm_source=partnerstack&utm_medium=affiliate", "", Some("partnerstack"), Affiliates),
        ("/?utm_medium=affiliate", "", None, Affiliates),
        // 15. Audio.
        ("/?utm_source=podcast&utm_medium=audio", "", Some("podcast"), Audio),
        // 16. SMS.
        ("/?utm_source=sms", "", Some("sms"), Sms),
        ("/?utm_source=SMS&utm_medium=text", "", Some("SMS"), Sms),
        ("/?utm_source=twilio&utm_medium=sms", "", Some("twilio"), Sms),
        // 17. Mobile Push Notifications.
        ("/?utm_source=onesignal&utm_medium=web-push", "", Some("onesignal"), MobilePush),
        ("/?utm_source=app&utm_medium=mobile", "", Some("app"), MobilePush),
        ("/?utm_source=braze&utm_medium=in-app-notification", "", Some("braze"), MobilePush),
        ("/?utm_source=firebase", "", Some("firebase"), MobilePush),
        ("/?utm_medium=push", "", None, MobilePush),
        // 18. Referral.
        ("/", "https://www.indiehackers.com/post/x", Some("indiehackers.com"), Referral),
        ("/", "https://en.wikipedia.org/wiki/X", Some("Wikipedia"), Referral),
        ("/", "https://docs.google.com/document/d/1", Some("docs.google.com"), Referral),
        ("/", "android-app://org.example.reader/", Some("org.example.reader"), Referral),
        ("/", "http://203.0.113.7/", Some("203.0.113.7"), Referral),
        ("/?utm_medium=referral", "", None, Referral),
        ("/?utm_medium=app", "", None, Referral),
        ("/?utm_medium=link", "", None, Referral),
        ("/?utm_source=partner-blog", "", Some("partner-blog"), Referral),
        ("/?utm_source=IndieHackers.com", "", Some("IndieHackers.com"), Referral),
        ("/?gclid=abc", "https://www.indiehackers.com/", Some("indiehackers.com"), Referral),
        ("/", "https://notexample.com/", Some("notexample.com"), Referral),
        // 19. Direct: no source, or only ignored referrers.
        ("/", "", None, Direct),
        ("/pricing", "https://example.com/", None, Direct),
        ("/", "https://www.example.com/blog", None, Direct),
        ("/", "https://blog.example.com/post", None, Direct),
        ("/", "http://localhost:3000/", None, Direct),
        ("/", "http://127.0.0.1:8080/", None, Direct),
        ("/", "http://[::1]/", None, Direct),
        ("/", "garbage", None, Direct),
        ("/", "www.google.com", None, Direct),
        ("/", "chrome://newtab/", None, Direct),
        ("/", "about:blank", None, Direct),
        ("/", "file:///home/me/x.html", None, Direct),
        ("/?gclid=abc", "", None, Direct),
        ("/?fbclid=abc", "", None, Direct),
        ("/?gbraid=abc", "", None, Direct),
        ("/?utm_medium=unknown", "", None, Direct),
        ("/?utm_term=x&utm_content=y", "", None, Direct),
        // The tag wins over the referrer, and over an ignored one.
        ("/?utm_source=newsletter", "https://www.google.com/", Some("newsletter"), Email),
        ("/?utm_source=ig", "https://t.co/x", Some("Instagram"), OrganicSocial),
        ("/?utm_source=hn", "https://www.google.com/", Some("Hacker News"), OrganicSocial),
        ("/?utm_source=li", "https://example.com/", Some("LinkedIn"), OrganicSocial),
        ("/?utm_source=news.ycombinator.com", "", Some("Hacker News"), OrganicSocial),
    ];

    fn run(url: &str, referrer: &str) -> (Entry, Channel) {
        let url = url::Url::parse(url).expect("test URL");
        let entry = source::resolve(&url, Some(referrer), &["example.com".to_string()]);
        let channel = classify(&entry);
        (entry, channel)
    }

    #[test]
    fn cases() {
        let mut failures = Vec::new();
        for &(path, referrer, source, channel) in CASES {
            let url = format!("https://example.com{path}");
            let (entry, got) = run(&url, referrer);
            if entry.source.as_deref() != source || got != channel {
                failures.push(format!(
                    "{url} from {referrer:?}: expected ({source:?}, {channel:?}), got ({:?}, {got:?})",
                    entry.source
                ));
            }
        }
        assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
    }

    #[test]
    fn cases_cover_every_channel() {
        let covered: HashSet<Channel> = CASES.iter().map(|&(.., channel)| channel).collect();
        for channel in Channel::ALL {
            assert!(covered.contains(&channel), "no case for {channel}");
        }
        assert!(CASES.len() >= 80);
    }

    #[test]
    fn rules_are_in_channel_order() {
        let order: Vec<Channel> = RULES.iter().map(|&(channel, _)| channel).collect();
        assert_eq!(order, Channel::ALL);
    }

    #[test]
    fn names_round_trip() {
        let names: HashSet<&str> = Channel::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), 19);
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.name()), Some(channel));
            assert_eq!(Channel::parse(&format!(" {} ", channel.name().to_uppercase())), Some(channel));
            assert_eq!(channel.to_string(), channel.name());
        }
        assert_eq!(Channel::parse("Mobile Push Notifications"), Some(MobilePush));
        assert_eq!(Channel::parse("AI Assistants"), Some(AiAssistants));
        assert_eq!(Channel::parse("Organic"), None);
        assert_eq!(Channel::parse(""), None);
    }

    #[test]
    fn shopping_campaigns() {
        for campaign in
            ["shop", "shopping", "eshop", "e-shop", "summer_shop", "shop-launch", "2024shop", "bookshopping"]
        {
            assert!(is_shopping_campaign(campaign), "{campaign}");
        }
        for campaign in ["workshop", "bookshop", "", "shpo", "photoshop"] {
            assert!(!is_shopping_campaign(campaign), "{campaign}");
        }
    }

    #[test]
    fn an_empty_entry_is_direct() {
        assert_eq!(classify(&Entry::default()), Direct);
        let blank = Entry { source: Some("  ".into()), utm_medium: Some(String::new()), ..Entry::default() };
        assert_eq!(classify(&blank), Direct);
    }

    /// classify is total: it never panics, and only an entry with nothing in it is Direct.
    #[test]
    fn classify_is_total() {
        let sources = [
            None,
            Some(""),
            Some("Google"),
            Some("Bing"),
            Some("Facebook"),
            Some("YouTube"),
            Some("Amazon"),
            Some("Gmail"),
            Some("ChatGPT"),
            Some("newsletter"),
            Some("firebase"),
            Some("sms"),
            Some("indiehackers.com"),
            Some("Ünïcödé ☃"),
        ];
        let utm_sources = [None, Some("google_ads"), Some("threads"), Some("E-Mail"), Some("\u{0}")];
        let mediums = [
            None,
            Some("cpc"),
            Some("PPC"),
            Some("retargeting"),
            Some("paid_social"),
            Some("cpm"),
            Some("display"),
            Some("social"),
            Some("video"),
            Some("email"),
            Some("affiliate"),
            Some("audio"),
            Some("sms"),
            Some("web-push"),
            Some("referral"),
            Some("organic"),
            Some("İ"),
        ];
        let campaigns = [None, Some("cross-network"), Some("shop"), Some("workshop"), Some("ßhop")];
        let click_ids = std::iter::once(None).chain(source::CLICK_IDS.map(Some));
        let click_ids: Vec<Option<&'static str>> = click_ids.collect();
        let mut count = 0;
        let mut seen = HashSet::new();
        for source in sources {
            for utm_source in utm_sources {
                for medium in mediums {
                    for campaign in campaigns {
                        for &click_id in &click_ids {
                            let entry = Entry {
                                source: source.map(str::to_string),
                                utm_source: utm_source.map(str::to_string),
                                utm_medium: medium.map(str::to_string),
                                utm_campaign: campaign.map(str::to_string),
                                click_id,
                                ..Entry::default()
                            };
                            let channel = classify(&entry);
                            let has_source = source.is_some_and(|s| !s.trim().is_empty());
                            if has_source {
                                assert_ne!(channel, Direct, "{entry:?}");
                            }
                            seen.insert(channel);
                            count += 1;
                        }
                    }
                }
            }
        }
        assert!(count > 2000, "only {count} combinations");
        assert!(seen.len() >= 15, "only {} channels reached", seen.len());
    }

    /// The same, through `resolve`: generated landing URLs and referrers, never a panic.
    #[test]
    fn resolve_then_classify_is_total() {
        let tags = ["", "utm_source=fb-ads", "ref=hn", "source=chatgpt.com", "utm_source=%00%FF", "utm_source=a.b/c"];
        let mediums = ["", "utm_medium=cpc", "utm_medium=email", "utm_medium=social", "utm_medium=%20"];
        let extras = ["", "utm_campaign=cross-network", "gclid=1", "msclkid=1", "fbclid=1", "#frag"];
        let referrers = [
            "",
            "https://www.google.com/",
            "https://www.bing.com/",
            "https://example.com/",
            "android-app://com.google.android.gm",
            "http://[::1]/",
            "garbage",
            "https://www./",
        ];
        let mut count = 0;
        for tag in tags {
            for medium in mediums {
                for extra in extras {
                    for referrer in referrers {
                        let (entry, channel) = run(&format!("https://example.com/p?{tag}&{medium}&{extra}"), referrer);
                        assert!(Channel::ALL.contains(&channel));
                        assert_eq!(entry.landing_page, "/p");
                        count += 1;
                    }
                }
            }
        }
        assert!(count > 1000);
    }
}
