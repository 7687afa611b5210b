//! Whop delivery bodies → [`Parsed`]. Shape (shared/providers/whop.md):
//! `{"id":"msg_...","type":"payment.succeeded","timestamp":...,"data":{<Payment or Refund>}}`.
//!
//! Amounts are JSON numbers in major units (`"total": 10.43`). They are read as the exact text
//! of the number ([`RawValue`]) and converted by the currency's exponent, never through `f64`,
//! so `10.43` is 1043 cents and `19.999` USD is an error instead of a silently rounded 2000.
//!
//! Revenue events fail loudly on a missing or unusable field (the delivery is kept as `failed`
//! and can be reprocessed); everything else is `Ignored` with a reason for the inspector.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::money;
use crate::providers::event::{Effect, ParseError, Parsed, PaymentFact, RefundFact};
use crate::providers::fields::{body_error, currency, first_id, kind, required_string};

/// Metadata keys our docs tell users to set on the checkout, then the camel-case names used in
/// the Paddle docs, which users copy across.
const VISITOR_KEYS: [&str; 2] = ["faurya_visitor_id", "faVisitorId"];
const SESSION_KEYS: [&str; 2] = ["faurya_session_id", "faSessionId"];
const TOKEN_KEYS: [&str; 2] = ["faurya_attribution_token", "faAttributionToken"];
const ORDER_KEYS: [&str; 2] = ["faurya_order_id", "orderId"];

pub fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| body_error(e, "a Whop webhook"))?;
    let event_type = match envelope.event_type {
        Some(Value::String(t)) if !t.trim().is_empty() => t,
        Some(Value::String(_)) | None => {
            return Err(ParseError::new("the body has no `type`, which every Whop webhook carries"));
        }
        Some(other) => {
            return Err(ParseError::new(format!("`type` should be a string, found {}", kind(&other))));
        }
    };
    let body_event_id = match envelope.id {
        Some(Value::String(id)) if !id.is_empty() => Some(id),
        _ => None,
    };
    let effect = match event_type.as_str() {
        "payment.succeeded" => Effect::Payment(payment(data(envelope.data, &event_type)?)?),
        "refund.created" | "refund.updated" => Effect::Refund(refund(data(envelope.data, &event_type)?)?),
        "payment.failed" => ignored("payment.failed: no revenue"),
        "payment.pending" => ignored("payment.pending: no revenue until payment.succeeded"),
        t if t.starts_with("dispute.") => {
            ignored(format!("{t}: disputes are kept as deliveries but do not change revenue"))
        }
        t => ignored(format!("{t}: not an event Faurya records revenue from")),
    };
    Ok(Parsed { event_type, body_event_id, effect })
}

/// The envelope, with `data` kept raw: its shape depends on the event type, and events we
/// ignore must not fail on a shape we never read.
#[derive(Deserialize)]
struct Envelope<'a> {
    id: Option<Value>,
    #[serde(rename = "type")]
    event_type: Option<Value>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// The fields of a Whop Payment we read. Loose types (`Value`) so that a wrong type is reported
/// with the field's name rather than as a generic decoding error.
#[derive(Deserialize)]
struct Payment<'a> {
    id: Option<Value>,
    currency: Option<Value>,
    #[serde(borrow)]
    total: Option<&'a RawValue>,
    metadata: Option<Value>,
    plan: Option<Value>,
    user: Option<Value>,
    #[serde(borrow)]
    paid_at: Option<&'a RawValue>,
}

/// The fields of a Whop Refund we read.
#[derive(Deserialize)]
struct Refund<'a> {
    id: Option<Value>,
    #[serde(borrow)]
    amount: Option<&'a RawValue>,
    currency: Option<Value>,
    status: Option<Value>,
    payment: Option<Value>,
}

fn data<'a, T: Deserialize<'a>>(data: Option<&'a RawValue>, event_type: &str) -> Result<T, ParseError> {
    let data = data.ok_or_else(|| {
        ParseError::new(format!("`data` is missing: a {event_type} delivery carries its object there"))
    })?;
    serde_json::from_str(data.get())
        .map_err(|e| ParseError::new(format!("`data` of a {event_type} delivery is not the expected object: {e}")))
}

fn payment(data: Payment<'_>) -> Result<PaymentFact, ParseError> {
    let provider_payment_id = required_string(data.id.as_ref(), "data.id")?;
    let currency = currency(data.currency.as_ref(), "data.currency")?;
    let amount_minor = amount(data.total, &currency, "data.total", "a payment")?;
    let plan_metadata = data.plan.as_ref().and_then(|plan| plan.get("metadata"));
    let (visitor_id, session_id) = attribution([data.metadata.as_ref(), plan_metadata]);
    // The token and order id travel with the ids: from the same metadata object.
    let from_metadata =
        |keys: &[&str]| [data.metadata.as_ref(), plan_metadata].into_iter().flatten().find_map(|m| first_id(m, keys));
    let (attribution_token, order_id) = (from_metadata(&TOKEN_KEYS), from_metadata(&ORDER_KEYS));
    let customer_email = data
        .user
        .as_ref()
        .and_then(|user| user.get("email"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(str::to_owned);
    Ok(PaymentFact {
        provider_payment_id,
        amount_minor,
        currency,
        status: "succeeded".to_owned(),
        visitor_id,
        session_id,
        attribution_token,
        order_id,
        customer_email,
        paid_at_ms: timestamp_ms(data.paid_at, "data.paid_at")?,
    })
}

fn refund(data: Refund<'_>) -> Result<RefundFact, ParseError> {
    let provider_refund_id = required_string(data.id.as_ref(), "data.id")?;
    // `payment` is an object with an `id`; a bare id string is accepted too.
    let provider_payment_id = match &data.payment {
        Some(Value::String(_)) => required_string(data.payment.as_ref(), "data.payment")?,
        Some(payment) => required_string(payment.get("id"), "data.payment.id")?,
        None => required_string(None, "data.payment.id")?,
    };
    let currency = currency(data.currency.as_ref(), "data.currency")?;
    let amount_minor = amount(data.amount, &currency, "data.amount", "a refund")?;
    let status = required_string(data.status.as_ref(), "data.status")?;
    Ok(RefundFact {
        provider_refund_id,
        provider_payment_id,
        amount_minor,
        currency,
        counts: status == "succeeded",
        status,
    })
}

/// The first source (the payment's own metadata, then its plan's) that names a visitor or a
/// session provides both, so ids from two different checkouts are never mixed.
fn attribution(sources: [Option<&Value>; 2]) -> (Option<String>, Option<String>) {
    for source in sources.into_iter().flatten() {
        let visitor = first_id(source, &VISITOR_KEYS);
        let session = first_id(source, &SESSION_KEYS);
        if visitor.is_some() || session.is_some() {
            return (visitor, session);
        }
    }
    (None, None)
}

fn amount(raw: Option<&RawValue>, currency: &str, field: &str, what: &str) -> Result<i64, ParseError> {
    let raw = raw.filter(|raw| raw.get() != "null").ok_or_else(|| ParseError::new(format!("`{field}` is missing")))?;
    let minor = money::decimal_to_minor(raw.get(), currency).map_err(|e| ParseError::new(format!("`{field}`: {e}")))?;
    if minor < 0 {
        return Err(ParseError::new(format!(
            "`{field}` is negative ({} {currency}): {what} cannot be negative",
            raw.get()
        )));
    }
    Ok(minor)
}

/// Unix milliseconds from an ISO 8601 string with an offset (`2025-01-01T00:00:00.000Z`) or a
/// JSON number of unix seconds (`1735689600`, `1735689600.5`). Null or empty means unknown.
fn timestamp_ms(raw: Option<&RawValue>, field: &str) -> Result<Option<i64>, ParseError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    let unusable = |why: String| ParseError::new(format!("`{field}` {why}"));
    if text.starts_with('"') {
        let iso: String = serde_json::from_str(text).map_err(|e| unusable(format!("is not a string: {e}")))?;
        if iso.trim().is_empty() {
            return Ok(None);
        }
        let at: jiff::Timestamp = iso
            .trim()
            .parse()
            .map_err(|e| unusable(format!("is not an ISO 8601 time with an offset (`{}`): {e}", shown(&iso))))?;
        return Ok(Some(at.as_millisecond()));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    // `text` is a valid JSON value here, so a `.` is always followed by digits.
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(unusable(format!("should be an ISO 8601 string or unix seconds, found `{}`", shown(text))));
    }
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    let at = whole
        .parse::<i64>()
        .ok()
        .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
        .and_then(|at| at.checked_add(jiff::SignedDuration::from_millis(millis.parse().unwrap_or(0))).ok())
        .ok_or_else(|| unusable(format!("is out of range (`{}` seconds)", shown(text))))?;
    Ok(Some(at.as_millisecond()))
}

fn ignored(reason: impl Into<String>) -> Effect {
    Effect::Ignored { reason: reason.into() }
}

fn shown(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payment.succeeded delivery in Whop's documented shape, with a few extra fields we do
    /// not read; `{TOTAL}`, `{CURRENCY}`, `{METADATA}`, `{PLAN_METADATA}`, `{PAID_AT}` vary.
    const PAYMENT: &str = r#"{
      "id": "msg_2Kq3vX9pLmN7rT4wY8zB1cD6eF0",
      "api_version": "v1",
      "type": "payment.succeeded",
      "timestamp": "2025-01-01T00:00:05.000Z",
      "company_id": "biz_XXXXXXXXXXXXXX",
      "data": {
        "id": "pay_8nQw2ErT5yU7iO",
        "status": "paid",
        "substatus": "succeeded",
        "currency": {CURRENCY},
        "total": {TOTAL},
        "subtotal": 10.43,
        "usd_total": 10.43,
        "settlement_amount": 9.91,
        "amount_after_fees": 9.78,
        "refunded_amount": 0,
        "paid_at": {PAID_AT},
        "created_at": "2024-12-31T23:59:40.000Z",
        "checkout_configuration_id": "ch_1a2b3c",
        "metadata": {METADATA},
        "plan": {"id": "plan_5tGh7", "metadata": {PLAN_METADATA}},
        "product": {"id": "prod_9kLm", "title": "Pro", "metadata": {}},
        "user": {"id": "user_3xYz", "email": "buyer@example.com", "name": "Ada", "username": "ada"},
        "membership": {"id": "mem_77", "status": "active"},
        "company": {"id": "biz_XXXXXXXXXXXXXX", "title": "Acme"}
      }
    }"#;

    fn payment_body(total: &str, currency: &str, metadata: &str, plan_metadata: &str, paid_at: &str) -> String {
        PAYMENT
            .replace("{TOTAL}", total)
            .replace("{CURRENCY}", currency)
            .replace("{METADATA}", metadata)
            .replace("{PLAN_METADATA}", plan_metadata)
            .replace("{PAID_AT}", paid_at)
    }

    const ATTRIBUTED: &str = r#"{"faurya_visitor_id": "v_123", "faurya_session_id": "s_456"}"#;

    fn standard_payment() -> String {
        payment_body("10.43", r#""usd""#, ATTRIBUTED, "{}", r#""2025-01-01T00:00:00.000Z""#)
    }

    fn parse_payment(body: &str) -> PaymentFact {
        match parse(body.as_bytes()).unwrap_or_else(|e| panic!("should parse: {e}")).effect {
            Effect::Payment(payment) => payment,
            other => panic!("expected a payment, got {other:?}"),
        }
    }

    fn parse_error(body: &str) -> String {
        match parse(body.as_bytes()) {
            Ok(parsed) => panic!("expected a parse error, got {parsed:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn refund_body(event: &str, amount: &str, status: &str) -> String {
        format!(
            r#"{{"id":"msg_r1","api_version":"v1","type":"{event}","timestamp":"2025-01-02T00:00:00.000Z",
               "data":{{"id":"rfnd_4Fg","amount":{amount},"currency":"usd","status":"{status}",
                        "payment":{{"id":"pay_8nQw2ErT5yU7iO","metadata":{{}},"total":10.43}}}}}}"#
        )
    }

    #[test]
    fn payment_succeeded_becomes_a_payment() {
        let parsed = parse(standard_payment().as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "payment.succeeded");
        assert_eq!(parsed.body_event_id.as_deref(), Some("msg_2Kq3vX9pLmN7rT4wY8zB1cD6eF0"));
        assert_eq!(
            parsed.effect,
            Effect::Payment(PaymentFact {
                provider_payment_id: "pay_8nQw2ErT5yU7iO".into(),
                amount_minor: 1043,
                currency: "USD".into(),
                status: "succeeded".into(),
                visitor_id: Some("v_123".into()),
                session_id: Some("s_456".into()),
                attribution_token: None,
                order_id: None,
                customer_email: Some("buyer@example.com".into()),
                paid_at_ms: Some(1_735_689_600_000),
            })
        );
    }

    #[test]
    fn amounts_follow_the_currency_exponent_from_the_exact_text() {
        for (total, currency, minor) in [
            ("0.1", r#""usd""#, 10),
            ("10.430", r#""usd""#, 1043),
            ("1e2", r#""usd""#, 10000),
            ("1.5E+1", r#""eur""#, 1500),
            ("1500", r#""jpy""#, 1500),
            ("1.234", r#""kwd""#, 1234),
            ("0", r#""usd""#, 0),
            ("92233720368547758.07", r#""usd""#, i64::MAX),
        ] {
            let fact = parse_payment(&payment_body(total, currency, "{}", "{}", "null"));
            assert_eq!(fact.amount_minor, minor, "{total} {currency}");
        }
        let fact = parse_payment(&payment_body("1500", r#""JPY""#, "{}", "{}", "null"));
        assert_eq!(fact.currency, "JPY");
    }

    #[test]
    fn a_too_precise_amount_fails_naming_the_field() {
        let e = parse_error(&payment_body("19.999", r#""usd""#, "{}", "{}", "null"));
        assert!(e.starts_with("`data.total`: "), "{e}");
        assert!(e.contains("19.999 USD") && e.contains("at most 2"), "{e}");
        let e = parse_error(&payment_body("100.5", r#""jpy""#, "{}", "{}", "null"));
        assert!(e.contains("100.5 JPY") && e.contains("at most 0"), "{e}");
    }

    #[test]
    fn bad_amounts_fail_naming_the_field() {
        for (total, hint) in [
            (r#""10.43""#, "JSON string"),
            ("null", "missing"),
            ("-5.00", "negative"),
            ("1e400", "too large"),
            ("true", "not a JSON number"),
            ("{}", "not a JSON number"),
        ] {
            let e = parse_error(&payment_body(total, r#""usd""#, "{}", "{}", "null"));
            assert!(e.contains("`data.total`") && e.contains(hint), "{total}: {e}");
        }
        let no_total = standard_payment().replace(r#""total": 10.43,"#, "");
        assert_eq!(parse_error(&no_total), "`data.total` is missing");
    }

    #[test]
    fn currency_problems_fail_naming_the_field() {
        assert_eq!(parse_error(&payment_body("1", "null", "{}", "{}", "null")), "`data.currency` is missing");
        assert_eq!(parse_error(&payment_body("1", r#""""#, "{}", "{}", "null")), "`data.currency` is empty");
        let e = parse_error(&payment_body("1", "840", "{}", "{}", "null"));
        assert_eq!(e, "`data.currency` should be a string, found a number");
        let e = parse_error(&payment_body("1", r#""dollars""#, "{}", "{}", "null"));
        assert!(e.starts_with("`data.currency`: ") && e.contains("ISO 4217"), "{e}");
        let no_currency = standard_payment().replace(r#""currency": "usd","#, "");
        assert_eq!(parse_error(&no_currency), "`data.currency` is missing");
    }

    #[test]
    fn a_payment_without_an_id_fails() {
        let body = standard_payment().replace(r#""id": "pay_8nQw2ErT5yU7iO","#, "");
        assert_eq!(parse_error(&body), "`data.id` is missing");
        let body = standard_payment().replace(r#""id": "pay_8nQw2ErT5yU7iO","#, r#""id": 42,"#);
        assert_eq!(parse_error(&body), "`data.id` should be a string, found a number");
    }

    #[test]
    fn a_payment_without_data_fails() {
        let e = parse_error(r#"{"id":"msg_1","type":"payment.succeeded"}"#);
        assert!(e.starts_with("`data` is missing"), "{e}");
        let e = parse_error(r#"{"id":"msg_1","type":"payment.succeeded","data":null}"#);
        assert!(e.starts_with("`data` is missing"), "{e}");
        let e = parse_error(r#"{"id":"msg_1","type":"payment.succeeded","data":"pay_1"}"#);
        assert!(e.contains("not the expected object"), "{e}");
    }

    #[test]
    fn attribution_from_payment_metadata_first() {
        let fact = parse_payment(&payment_body(
            "1",
            r#""usd""#,
            ATTRIBUTED,
            r#"{"faurya_visitor_id": "plan_v", "faurya_session_id": "plan_s"}"#,
            "null",
        ));
        assert_eq!((fact.visitor_id.as_deref(), fact.session_id.as_deref()), (Some("v_123"), Some("s_456")));
    }

    #[test]
    fn attribution_falls_back_to_plan_metadata() {
        let plan = r#"{"faurya_visitor_id": "plan_v", "faurya_session_id": "plan_s"}"#;
        for metadata in ["{}", "null", r#"{"faurya_visitor_id": "", "faurya_session_id": "  "}"#, r#""text""#] {
            let fact = parse_payment(&payment_body("1", r#""usd""#, metadata, plan, "null"));
            assert_eq!(
                (fact.visitor_id.as_deref(), fact.session_id.as_deref()),
                (Some("plan_v"), Some("plan_s")),
                "{metadata}"
            );
        }
        let no_metadata = payment_body("1", r#""usd""#, "{}", plan, "null").replace(r#""metadata": {},"#, "");
        assert_eq!(parse_payment(&no_metadata).visitor_id.as_deref(), Some("plan_v"));
    }

    #[test]
    fn ids_from_one_source_are_not_mixed_with_another() {
        let fact = parse_payment(&payment_body(
            "1",
            r#""usd""#,
            r#"{"faurya_visitor_id": "v_only"}"#,
            r#"{"faurya_visitor_id": "plan_v", "faurya_session_id": "plan_s"}"#,
            "null",
        ));
        assert_eq!((fact.visitor_id.as_deref(), fact.session_id.as_deref()), (Some("v_only"), None));
    }

    #[test]
    fn camel_case_keys_are_accepted() {
        let fact = parse_payment(&payment_body(
            "1",
            r#""usd""#,
            r#"{"faVisitorId": "v_camel", "faSessionId": "s_camel"}"#,
            "{}",
            "null",
        ));
        assert_eq!((fact.visitor_id.as_deref(), fact.session_id.as_deref()), (Some("v_camel"), Some("s_camel")));
        // The snake-case name wins when both are set.
        let fact = parse_payment(&payment_body(
            "1",
            r#""usd""#,
            r#"{"faVisitorId": "v_camel", "faurya_visitor_id": "v_snake"}"#,
            "{}",
            "null",
        ));
        assert_eq!(fact.visitor_id.as_deref(), Some("v_snake"));
        // An empty snake-case value does not hide the camel-case one.
        let fact = parse_payment(&payment_body(
            "1",
            r#""usd""#,
            r#"{"faurya_visitor_id": "", "faVisitorId": "v_camel"}"#,
            "{}",
            "null",
        ));
        assert_eq!(fact.visitor_id.as_deref(), Some("v_camel"));
    }

    #[test]
    fn unattributed_payments_still_count() {
        let fact = parse_payment(&payment_body("5", r#""usd""#, "{}", "{}", "null"));
        assert_eq!((fact.visitor_id, fact.session_id), (None, None));
        assert_eq!(fact.amount_minor, 500);
        let fact = parse_payment(&payment_body(
            "5",
            r#""usd""#,
            r#"{"faurya_visitor_id": null, "faurya_session_id": {"nested": true}}"#,
            "{}",
            "null",
        ));
        assert_eq!((fact.visitor_id, fact.session_id), (None, None));
    }

    #[test]
    fn ids_are_trimmed_and_integers_accepted() {
        let fact = parse_payment(&payment_body(
            "1",
            r#""usd""#,
            r#"{"faurya_visitor_id": " v_1 ", "faurya_session_id": 12345}"#,
            "{}",
            "null",
        ));
        assert_eq!((fact.visitor_id.as_deref(), fact.session_id.as_deref()), (Some("v_1"), Some("12345")));
    }

    #[test]
    fn customer_email_is_optional() {
        let body = standard_payment().replace(r#""email": "buyer@example.com""#, r#""email": null"#);
        assert_eq!(parse_payment(&body).customer_email, None);
        let body = standard_payment().replace(r#""email": "buyer@example.com""#, r#""email": """#);
        assert_eq!(parse_payment(&body).customer_email, None);
    }

    #[test]
    fn paid_at_accepts_iso_strings_and_unix_seconds() {
        for (paid_at, expected) in [
            (r#""2025-01-01T00:00:00.000Z""#, Some(1_735_689_600_000)),
            (r#""2025-01-01T00:00:00.123456Z""#, Some(1_735_689_600_123)),
            (r#""2025-01-01T01:00:00+01:00""#, Some(1_735_689_600_000)),
            ("1735689600", Some(1_735_689_600_000)),
            ("1735689600.5", Some(1_735_689_600_500)),
            ("1735689600.123456", Some(1_735_689_600_123)),
            ("null", None),
            (r#""""#, None),
        ] {
            let fact = parse_payment(&payment_body("1", r#""usd""#, "{}", "{}", paid_at));
            assert_eq!(fact.paid_at_ms, expected, "{paid_at}");
        }
        let no_paid_at = standard_payment().replace(r#""paid_at": "2025-01-01T00:00:00.000Z","#, "");
        assert_eq!(parse_payment(&no_paid_at).paid_at_ms, None);
    }

    #[test]
    fn an_unreadable_paid_at_fails_naming_the_field() {
        for paid_at in [r#""yesterday""#, r#""2025-01-01T00:00:00""#, "-5", "1.7e9", "true", "99999999999999999999"] {
            let e = parse_error(&payment_body("1", r#""usd""#, "{}", "{}", paid_at));
            assert!(e.starts_with("`data.paid_at`"), "{paid_at}: {e}");
        }
    }

    #[test]
    fn failed_and_pending_payments_are_ignored() {
        let failed = standard_payment().replace("payment.succeeded", "payment.failed");
        let parsed = parse(failed.as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "payment.failed");
        assert_eq!(parsed.effect, Effect::Ignored { reason: "payment.failed: no revenue".into() });
        let pending = standard_payment().replace("payment.succeeded", "payment.pending");
        assert!(
            matches!(parse(pending.as_bytes()).unwrap().effect, Effect::Ignored { reason } if reason.starts_with("payment.pending: no revenue"))
        );
        // Ignored events do not need a valid payment.
        let broken = r#"{"id":"msg_f","type":"payment.failed","data":{"total":"garbage"}}"#;
        assert!(matches!(parse(broken.as_bytes()).unwrap().effect, Effect::Ignored { .. }));
    }

    #[test]
    fn disputes_and_unknown_types_are_ignored_with_a_reason() {
        for (event, hint) in [
            ("dispute.created", "disputes"),
            ("dispute.updated", "disputes"),
            ("membership.activated", "not an event"),
            ("payment_succeeded", "not an event"),
        ] {
            let body = format!(r#"{{"id":"msg_d","type":"{event}","data":[1,2,3]}}"#);
            let parsed = parse(body.as_bytes()).unwrap();
            assert_eq!(parsed.event_type, event);
            match parsed.effect {
                Effect::Ignored { reason } => assert!(reason.starts_with(event) && reason.contains(hint), "{reason}"),
                other => panic!("{event}: {other:?}"),
            }
        }
    }

    #[test]
    fn refunds_count_once_succeeded() {
        let parsed = parse(refund_body("refund.created", "5.25", "pending").as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "refund.created");
        assert_eq!(parsed.body_event_id.as_deref(), Some("msg_r1"));
        assert_eq!(
            parsed.effect,
            Effect::Refund(RefundFact {
                provider_refund_id: "rfnd_4Fg".into(),
                provider_payment_id: "pay_8nQw2ErT5yU7iO".into(),
                amount_minor: 525,
                currency: "USD".into(),
                status: "pending".into(),
                counts: false,
            })
        );
        let parsed = parse(refund_body("refund.updated", "5.25", "succeeded").as_bytes()).unwrap();
        assert!(matches!(parsed.effect, Effect::Refund(RefundFact { counts: true, amount_minor: 525, .. })));
        for status in ["requires_action", "failed", "canceled"] {
            let parsed = parse(refund_body("refund.updated", "5.25", status).as_bytes()).unwrap();
            assert!(matches!(parsed.effect, Effect::Refund(RefundFact { counts: false, .. })), "{status}");
        }
    }

    #[test]
    fn a_refund_may_name_its_payment_by_id_string() {
        let body = refund_body("refund.created", "1", "succeeded")
            .replace(r#"{"id":"pay_8nQw2ErT5yU7iO","metadata":{},"total":10.43}"#, r#""pay_plain""#);
        match parse(body.as_bytes()).unwrap().effect {
            Effect::Refund(refund) => assert_eq!(refund.provider_payment_id, "pay_plain"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_refunds_fail_naming_the_field() {
        let base = refund_body("refund.created", "5.25", "succeeded");
        for (from, to, expected) in [
            (r#""id":"rfnd_4Fg","#, "", "`data.id` is missing"),
            (r#""amount":5.25,"#, "", "`data.amount` is missing"),
            (r#""amount":5.25,"#, r#""amount":5.255,"#, "`data.amount`: the amount 5.255 USD"),
            (r#""amount":5.25,"#, r#""amount":-5.25,"#, "`data.amount` is negative"),
            (r#""currency":"usd","#, "", "`data.currency` is missing"),
            (r#""status":"succeeded","#, "", "`data.status` is missing"),
            (r#""id":"pay_8nQw2ErT5yU7iO","#, "", "`data.payment.id` is missing"),
            (
                r#""payment":{"id":"pay_8nQw2ErT5yU7iO","metadata":{},"total":10.43}"#,
                r#""payment":null"#,
                "`data.payment.id` is missing",
            ),
        ] {
            let body = base.replace(from, to);
            assert_ne!(body, base, "{from} not found");
            let e = parse_error(&body);
            assert!(e.starts_with(expected), "{from} → {e}");
        }
    }

    #[test]
    fn non_json_bodies_fail_clearly() {
        for body in ["", "not json", "{\"type\":", "<xml/>"] {
            let e = parse_error(body);
            assert!(e.starts_with("the body is not JSON: "), "{body:?}: {e}");
        }
        let e = parse(b"\xff\xfe{}").unwrap_err().to_string();
        assert!(e.starts_with("the body is not JSON: "), "{e}");
    }

    #[test]
    fn json_that_is_not_a_webhook_fails_clearly() {
        for body in ["[1,2]", "\"payment.succeeded\"", "42"] {
            let e = parse_error(body);
            assert!(e.starts_with("the body is JSON but not a Whop webhook"), "{body}: {e}");
        }
        assert_eq!(parse_error("{}"), "the body has no `type`, which every Whop webhook carries");
        assert_eq!(parse_error(r#"{"type":""}"#), "the body has no `type`, which every Whop webhook carries");
        assert_eq!(parse_error(r#"{"type":7}"#), "`type` should be a string, found a number");
    }

    #[test]
    fn a_missing_body_id_is_tolerated() {
        let body = standard_payment().replace(r#""id": "msg_2Kq3vX9pLmN7rT4wY8zB1cD6eF0","#, "");
        let parsed = parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.body_event_id, None);
        assert!(matches!(parsed.effect, Effect::Payment(_)));
    }
}
