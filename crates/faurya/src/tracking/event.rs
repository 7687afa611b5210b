//! One event from the script, checked: the body's shape and sizes, id formats, the client's
//! clock, and whether the page may speak for the site. Pure functions; the endpoint
//! (`http::public`) does the I/O around them.

use serde_json::{Map, Value};

use super::channel::{self, Channel};
use super::ids::{is_valid_id, is_valid_site_id};
use super::source::{self, Entry};
use crate::http::error::ApiError;

/// Bodies are a few hundred bytes; 8 KiB leaves room for props and long URLs.
pub const BODY_LIMIT: usize = 8 * 1024;
pub const MAX_URL_LEN: usize = 2000;
pub const MAX_PROPS: usize = 30;
const MAX_PROP_KEY: usize = 64;
const MAX_PROP_VALUE: usize = 500;
const MAX_NAME: usize = 64;
/// Events queued in a browser while the collector was unreachable may arrive late, up to this.
pub const MAX_AGE_MS: i64 = 72 * 3600 * 1000;
/// A browser clock a little ahead of ours is normal; more is not.
pub const MAX_SKEW_MS: i64 = 10 * 60 * 1000;

/// The event as sent, shape-checked (before the site is known).
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    pub site: String,
    pub name: String,
    pub url: url::Url,
    pub referrer: Option<String>,
    pub visitor_id: String,
    pub session_id: String,
    /// Client time in unix ms; `None` when the client did not say.
    pub ts: Option<i64>,
    /// Props as compact JSON text.
    pub props: Option<String>,
}

/// An event ready for the store: what the session needs if it is the first.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub site_id: String,
    pub name: String,
    pub url: String,
    pub path: String,
    pub visitor_id: String,
    pub session_id: String,
    pub at: i64,
    pub received_at: i64,
    pub props: Option<String>,
    pub entry: Entry,
    pub channel: Channel,
}

impl Accepted {
    pub fn is_pageview(&self) -> bool {
        self.name == "pageview"
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest { code, message: message.into() }
}

fn text<'a>(body: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad("invalid_event", format!("\"{field}\" must be a string."))),
    }
}

fn required<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    text(body, field)?.filter(|s| !s.is_empty()).ok_or_else(|| bad("invalid_event", format!("\"{field}\" is missing.")))
}

/// Parses and shape-checks a body. `now_ms` is the server's clock.
pub fn parse(body: &[u8], now_ms: i64) -> Result<RawEvent, ApiError> {
    if body.len() > BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad("invalid_json", format!("The body is not valid JSON: {e}.")))?;
    let Value::Object(body) = value else {
        return Err(bad("invalid_event", "The body must be a JSON object."));
    };

    let site = required(&body, "site")?;
    if !is_valid_site_id(site) {
        return Err(bad(
            "invalid_site",
            "\"site\" is not a site id (site_…): copy the snippet from Faurya's Tracking page.",
        ));
    }
    let name = required(&body, "name")?;
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(bad("invalid_event", format!("\"name\" must be at most {MAX_NAME} printable characters.")));
    }

    let url_text = required(&body, "url")?;
    if url_text.len() > MAX_URL_LEN {
        return Err(bad("url_too_long", format!("\"url\" is longer than {MAX_URL_LEN} characters.")));
    }
    let url = url::Url::parse(url_text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
        .ok_or_else(|| bad("invalid_url", "\"url\" must be the page's full http(s) URL."))?;

    let referrer = text(&body, "referrer")?.map(str::trim).filter(|r| !r.is_empty());
    if referrer.is_some_and(|r| r.len() > MAX_URL_LEN) {
        return Err(bad("url_too_long", format!("\"referrer\" is longer than {MAX_URL_LEN} characters.")));
    }

    let visitor_id = required(&body, "visitor_id")?;
    let session_id = required(&body, "session_id")?;
    for (field, id) in [("visitor_id", visitor_id), ("session_id", session_id)] {
        if !is_valid_id(id) {
            return Err(bad(
                "invalid_id",
                format!("\"{field}\" must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -."),
            ));
        }
    }

    let ts = match body.get("ts") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let ms = n.as_i64().ok_or_else(|| bad("invalid_time", "\"ts\" must be whole milliseconds since 1970."))?;
            if ms < now_ms - MAX_AGE_MS {
                return Err(bad("stale_event", "The event is more than 72 hours old; only newer events are kept."));
            }
            if ms > now_ms + MAX_SKEW_MS {
                return Err(bad(
                    "future_event",
                    "The event's time is ahead of Faurya's clock by more than 10 minutes.",
                ));
            }
            Some(ms)
        }
        Some(_) => return Err(bad("invalid_time", "\"ts\" must be a number of milliseconds since 1970.")),
    };

    let props = match body.get("props") {
        None | Some(Value::Null) => None,
        Some(Value::Object(props)) => Some(check_props(props)?),
        Some(_) => return Err(bad("invalid_props", "\"props\" must be an object of names to values.")),
    };

    Ok(RawEvent {
        site: site.to_string(),
        name: name.to_string(),
        url,
        referrer: referrer.map(str::to_string),
        visitor_id: visitor_id.to_string(),
        session_id: session_id.to_string(),
        ts,
        props,
    })
}

fn check_props(props: &Map<String, Value>) -> Result<String, ApiError> {
    if props.len() > MAX_PROPS {
        return Err(bad("invalid_props", format!("At most {MAX_PROPS} props per event.")));
    }
    for (key, value) in props {
        if key.is_empty() || key.chars().count() > MAX_PROP_KEY {
            return Err(bad("invalid_props", format!("Prop names must be 1 to {MAX_PROP_KEY} characters.")));
        }
        let ok = match value {
            Value::String(s) => s.chars().count() <= MAX_PROP_VALUE,
            Value::Number(_) | Value::Bool(_) | Value::Null => true,
            Value::Array(_) | Value::Object(_) => false,
        };
        if !ok {
            return Err(bad(
                "invalid_props",
                format!("Prop {key:?} must be a string of at most {MAX_PROP_VALUE} characters, a number or a boolean."),
            ));
        }
    }
    Ok(Value::Object(props.clone()).to_string())
}

/// The host a request speaks for: its Origin when it has one (a browser always sends it on a
/// cross-origin POST), which must then agree with the page URL's host's site.
pub fn origin_host(origin: Option<&str>) -> Option<String> {
    let origin = origin?.trim();
    if origin.is_empty() || origin == "null" {
        return None;
    }
    url::Url::parse(origin).ok()?.host_str().map(|h| h.to_ascii_lowercase())
}

/// Completes a checked event with its site's domains: the entry fields and channel it would
/// give a new session.
pub fn accept(raw: RawEvent, domains: &[String], now_ms: i64) -> Accepted {
    let entry = source::resolve(&raw.url, raw.referrer.as_deref(), domains);
    let channel = channel::classify(&entry);
    let path = entry.landing_page.clone();
    Accepted {
        site_id: raw.site,
        name: raw.name,
        url: raw.url.to_string(),
        path,
        visitor_id: raw.visitor_id,
        session_id: raw.session_id,
        at: raw.ts.unwrap_or(now_ms),
        received_at: now_ms,
        props: raw.props,
        entry,
        channel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;

    fn good() -> Value {
        json!({"site": "site_abc123", "name": "pageview", "url": "https://example.com/pricing?utm_source=x",
               "referrer": "https://news.ycombinator.com/", "visitor_id": "visitor_123", "session_id": "session_456",
               "ts": NOW - 1000, "props": {"plan": "pro", "seats": 3}})
    }

    fn with(field: &str, value: Value) -> Vec<u8> {
        let mut v = good();
        if value.is_null() {
            v.as_object_mut().unwrap().remove(field);
        } else {
            v[field] = value;
        }
        v.to_string().into_bytes()
    }

    fn code(result: Result<RawEvent, ApiError>) -> &'static str {
        result.expect_err("should be refused").code()
    }

    #[test]
    fn a_good_event_parses() {
        let e = parse(good().to_string().as_bytes(), NOW).unwrap();
        assert_eq!(e.site, "site_abc123");
        assert_eq!(e.ts, Some(NOW - 1000));
        assert_eq!(e.props.as_deref(), Some(r#"{"plan":"pro","seats":3}"#));
        let a = accept(e, &["example.com".into()], NOW);
        assert_eq!(a.path, "/pricing");
        assert_eq!(a.at, NOW - 1000);
    }

    #[test]
    fn every_refusal_has_its_code() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not json".to_vec(), "invalid_json"),
            (b"[1,2]".to_vec(), "invalid_event"),
            (vec![b' '; BODY_LIMIT + 1], "payload_too_large"),
            (with("site", Value::Null), "invalid_event"),
            (with("site", json!("nope")), "invalid_site"),
            (with("site", json!(42)), "invalid_event"),
            (with("name", json!("")), "invalid_event"),
            (with("name", json!("x".repeat(65))), "invalid_event"),
            (with("name", json!("a\nb")), "invalid_event"),
            (with("url", json!("/relative")), "invalid_url"),
            (with("url", json!("javascript:alert(1)")), "invalid_url"),
            (with("url", json!("file:///etc/passwd")), "invalid_url"),
            (with("url", json!(format!("https://example.com/{}", "a".repeat(2000)))), "url_too_long"),
            (with("referrer", json!(format!("https://r.com/{}", "a".repeat(2000)))), "url_too_long"),
            (with("referrer", json!({"x": 1})), "invalid_event"),
            (with("visitor_id", json!("short")), "invalid_id"),
            (with("session_id", json!("bad id with spaces")), "invalid_id"),
            (with("visitor_id", Value::Null), "invalid_event"),
            (with("ts", json!(NOW - MAX_AGE_MS - 1)), "stale_event"),
            (with("ts", json!(NOW + MAX_SKEW_MS + 1)), "future_event"),
            (with("ts", json!(1.5)), "invalid_time"),
            (with("ts", json!("yesterday")), "invalid_time"),
            (with("props", json!([1])), "invalid_props"),
            (with("props", json!({"nested": {"a": 1}})), "invalid_props"),
            (with("props", json!({"long": "x".repeat(501)})), "invalid_props"),
            (with("props", Value::Object((0..31).map(|i| (format!("k{i}"), json!(i))).collect())), "invalid_props"),
        ];
        for (body, expected) in cases {
            assert_eq!(code(parse(&body, NOW)), expected, "{}", String::from_utf8_lossy(&body[..body.len().min(120)]));
        }
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let body = json!({"site": "site_abc123", "name": "signup", "url": "http://example.com/",
                          "visitor_id": "visitor_123", "session_id": "session_456"});
        let e = parse(body.to_string().as_bytes(), NOW).unwrap();
        assert_eq!((e.ts, e.referrer.as_deref(), e.props.as_deref()), (None, None, None));
        assert_eq!(accept(e, &[], NOW).at, NOW);
    }

    #[test]
    fn deep_json_is_refused_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(deep.as_bytes(), NOW).is_err());
    }

    #[test]
    fn origins_give_their_host() {
        assert_eq!(origin_host(Some("https://Shop.Example.com:8443")), Some("shop.example.com".into()));
        assert_eq!(origin_host(Some("null")), None);
        assert_eq!(origin_host(None), None);
        assert_eq!(origin_host(Some("garbage")), None);
    }
}
