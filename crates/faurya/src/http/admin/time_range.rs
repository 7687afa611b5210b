//! The `from` / `to` query parameters of the lists (Webhooks, Payments): RFC 3339 instants,
//! `from` inclusive and `to` exclusive, so the UI can ask for "this local day" in UTC.

use super::super::error::ApiError;
use crate::store::TimeRange;

/// Parses the pair; either may be absent or empty.
pub fn parse(from: Option<String>, to: Option<String>) -> Result<TimeRange, ApiError> {
    let instant = |name: &'static str, value: Option<String>| -> Result<Option<i64>, ApiError> {
        match value.filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse::<jiff::Timestamp>()
                .map(|t| Some(t.as_millisecond()))
                .map_err(|_| ApiError::field(name, "Use an RFC 3339 time such as 2026-12-01T00:00:00Z.")),
        }
    };
    let range = TimeRange { from_ms: instant("from", from)?, to_ms: instant("to", to)? };
    if let (Some(from), Some(to)) = (range.from_ms, range.to_ms)
        && from >= to
    {
        return Err(ApiError::field("to", "The end must be after the start."));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_ends_and_refuses_bad_ones() {
        let range = parse(Some("2026-01-01T00:00:00Z".into()), Some("2026-01-02T00:00:00+01:00".into())).unwrap();
        assert_eq!(range.from_ms, Some(1_767_225_600_000));
        assert_eq!(range.to_ms, Some(1_767_308_400_000));
        assert_eq!(parse(None, Some(String::new())).unwrap(), TimeRange::default());
        for (from, to, field) in [("yesterday", "", "from"), ("", "2026-13-01T00:00:00Z", "to")] {
            let error = parse(Some(from.into()), Some(to.into())).unwrap_err();
            assert!(matches!(&error, ApiError::Invalid(f) if f.contains_key(field)), "{error:?}");
        }
        let backwards = parse(Some("2026-01-02T00:00:00Z".into()), Some("2026-01-01T00:00:00Z".into()));
        assert!(backwards.is_err());
    }
}
