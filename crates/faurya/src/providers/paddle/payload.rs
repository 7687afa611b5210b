//! Paddle notification bodies → [`Parsed`]. Envelope (shared/providers/paddle.md and the spec's
//! `webhooks:` examples): `{"event_id","event_type","occurred_at","notification_id","data"}`.
//!
//! - `transaction.paid` and `transaction.completed` both mean money received; ingest records one
//!   payment per `txn_` id whichever arrives first.
//! - Refunds are adjustments with `action: "refund"`; they count once `approved`.
//!
//! Paddle amounts are strings of minor units (`"65215"`), read with [`money::integer_minor`]:
//! anything but an integer string fails loudly rather than being guessed at.

use serde_json::{Map, Value};

use crate::money;
use crate::providers::event::{Effect, ParseError, Parsed, PaymentFact, RefundFact};
use crate::providers::fields::{body_error, currency, first_id, kind, required_string};

/// `custom_data` keys our docs give users, then the snake-case names of the Whop docs.
const VISITOR_KEYS: [&str; 2] = ["faVisitorId", "faurya_visitor_id"];
const SESSION_KEYS: [&str; 2] = ["faSessionId", "faurya_session_id"];
const TOKEN_KEYS: [&str; 1] = ["faAttributionToken"];
const ORDER_KEYS: [&str; 1] = ["orderId"];

pub fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let envelope: Value = serde_json::from_slice(body).map_err(|e| body_error(e, "a Paddle notification"))?;
    let Some(envelope) = envelope.as_object() else {
        return Err(ParseError::new(format!(
            "the body is JSON but not a Paddle notification: expected an object, found {}",
            kind(&envelope)
        )));
    };
    let event_type = match envelope.get("event_type") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(ParseError::new("the body has no `event_type`, which every Paddle notification carries"));
        }
        Some(other) => {
            return Err(ParseError::new(format!("`event_type` should be a string, found {}", kind(other))));
        }
    };
    let body_event_id = envelope.get("event_id").and_then(Value::as_str).filter(|id| !id.is_empty()).map(str::to_owned);
    let effect = match event_type.as_str() {
        "transaction.paid" | "transaction.completed" => {
            let status = event_type.trim_start_matches("transaction.");
            Effect::Payment(transaction(data(envelope, &event_type)?, status, envelope.get("occurred_at"))?)
        }
        "adjustment.created" | "adjustment.updated" => adjustment(data(envelope, &event_type)?, &event_type)?,
        t if t.starts_with("transaction.") => Effect::Ignored {
            reason: format!("{t}: no money received yet (only transaction.paid and transaction.completed count)"),
        },
        t => Effect::Ignored { reason: format!("{t}: not an event Faurya records revenue from") },
    };
    Ok(Parsed { event_type, body_event_id, effect })
}

fn data<'a>(envelope: &'a Map<String, Value>, event_type: &str) -> Result<&'a Map<String, Value>, ParseError> {
    match envelope.get("data") {
        Some(Value::Object(data)) => Ok(data),
        None | Some(Value::Null) => {
            Err(ParseError::new(format!("`data` is missing: a {event_type} notification carries its entity there")))
        }
        Some(other) => Err(ParseError::new(format!("`data` should be an object, found {}", kind(other)))),
    }
}

fn transaction(
    data: &Map<String, Value>,
    status: &str,
    occurred_at: Option<&Value>,
) -> Result<PaymentFact, ParseError> {
    let provider_payment_id = required_string(data.get("id"), "data.id")?;
    let currency = currency(data.get("currency_code"), "data.currency_code")?;
    let total = data.get("details").and_then(|d| d.get("totals")).and_then(|t| t.get("total"));
    let amount_minor = minor_units(total, "data.details.totals.total", "a payment")?;
    let custom_data = data.get("custom_data").filter(|c| c.is_object());
    let id = |keys: &[&str]| custom_data.and_then(|c| first_id(c, keys));
    // When Paddle billed the transaction; the event time is the next best thing.
    let paid_at_ms = match timestamp_ms(data.get("billed_at"), "data.billed_at")? {
        Some(ms) => Some(ms),
        None => timestamp_ms(occurred_at, "occurred_at")?,
    };
    Ok(PaymentFact {
        provider_payment_id,
        amount_minor,
        currency,
        status: status.to_owned(),
        visitor_id: id(&VISITOR_KEYS),
        session_id: id(&SESSION_KEYS),
        attribution_token: id(&TOKEN_KEYS),
        order_id: id(&ORDER_KEYS),
        customer_email: None,
        paid_at_ms,
    })
}

/// Refund adjustments become refunds; credits, chargebacks and their reversals are kept as
/// deliveries but do not change revenue here.
fn adjustment(data: &Map<String, Value>, event_type: &str) -> Result<Effect, ParseError> {
    let action = required_string(data.get("action"), "data.action")?;
    if action != "refund" {
        return Ok(Effect::Ignored {
            reason: format!("{event_type} with action {action}: not a refund, revenue unchanged"),
        });
    }
    let provider_refund_id = required_string(data.get("id"), "data.id")?;
    let provider_payment_id = required_string(data.get("transaction_id"), "data.transaction_id")?;
    let currency = currency(data.get("currency_code"), "data.currency_code")?;
    let total = data.get("totals").and_then(|t| t.get("total"));
    let amount_minor = minor_units(total, "data.totals.total", "a refund")?;
    let status = required_string(data.get("status"), "data.status")?;
    Ok(Effect::Refund(RefundFact {
        provider_refund_id,
        provider_payment_id,
        amount_minor,
        currency,
        counts: status == "approved",
        status,
    }))
}

fn minor_units(value: Option<&Value>, field: &str, what: &str) -> Result<i64, ParseError> {
    let text = match value {
        None | Some(Value::Null) => return Err(ParseError::new(format!("`{field}` is missing"))),
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(ParseError::new(format!(
                "`{field}` should be a string of minor units such as \"65215\", found {}",
                kind(other)
            )));
        }
    };
    let minor = money::integer_minor(text).map_err(|e| ParseError::new(format!("`{field}`: {e}")))?;
    if minor < 0 {
        return Err(ParseError::new(format!("`{field}` is negative ({text}): {what} cannot be negative")));
    }
    Ok(minor)
}

/// Unix milliseconds from an RFC 3339 string (`2024-04-12T10:18:48.294633Z`); null means unknown.
fn timestamp_ms(value: Option<&Value>, field: &str) -> Result<Option<i64>, ParseError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => {
            let at: jiff::Timestamp = text.trim().parse().map_err(|e| {
                let shown: String = text.chars().take(40).collect();
                ParseError::new(format!("`{field}` is not an RFC 3339 time (`{shown}`): {e}"))
            })?;
            Ok(Some(at.as_millisecond()))
        }
        Some(other) => Err(ParseError::new(format!("`{field}` should be a time string, found {}", kind(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The spec's own webhook examples (components/examples in shared/specs/paddle-openapi.yaml),
    // converted from YAML to JSON unchanged.
    const TRANSACTION_COMPLETED: &str = include_str!("../../../tests/fixtures/paddle/transaction-completed.json");
    const TRANSACTION_PAID: &str = include_str!("../../../tests/fixtures/paddle/transaction-paid.json");
    const ADJUSTMENT_CREATED: &str = include_str!("../../../tests/fixtures/paddle/adjustment-created.json");
    const ADJUSTMENT_UPDATED: &str = include_str!("../../../tests/fixtures/paddle/adjustment-updated.json");

    /// A fixture with one change applied to its JSON.
    fn variant(fixture: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut value: Value = serde_json::from_str(fixture).unwrap();
        change(&mut value);
        serde_json::to_vec(&value).unwrap()
    }

    fn payment(body: &[u8]) -> PaymentFact {
        match parse(body).unwrap_or_else(|e| panic!("should parse: {e}")).effect {
            Effect::Payment(payment) => payment,
            other => panic!("expected a payment, got {other:?}"),
        }
    }

    fn refund(body: &[u8]) -> RefundFact {
        match parse(body).unwrap_or_else(|e| panic!("should parse: {e}")).effect {
            Effect::Refund(refund) => refund,
            other => panic!("expected a refund, got {other:?}"),
        }
    }

    fn error(body: &[u8]) -> String {
        match parse(body) {
            Ok(parsed) => panic!("expected an error, got {parsed:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn attributed(fixture: &str) -> Vec<u8> {
        variant(fixture, |v| {
            v["data"]["custom_data"] = json!({
                "faVisitorId": "v_123",
                "faSessionId": "s_456",
                "faAttributionToken": "tok_789",
                "orderId": "order-42"
            })
        })
    }

    #[test]
    fn transaction_completed_from_the_spec() {
        let parsed = parse(TRANSACTION_COMPLETED.as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "transaction.completed");
        assert_eq!(parsed.body_event_id.as_deref(), Some("evt_01hv8x2axb33yr5y238zfwcn5p"));
        assert_eq!(
            parsed.effect,
            Effect::Payment(PaymentFact {
                provider_payment_id: "txn_01hv8wptq8987qeep44cyrewp9".into(),
                amount_minor: 65215,
                currency: "USD".into(),
                status: "completed".into(),
                visitor_id: None,
                session_id: None,
                attribution_token: None,
                order_id: None,
                customer_email: None,
                // billed_at 2024-04-12T10:18:48.294633Z
                paid_at_ms: Some(1_712_917_128_294),
            })
        );
    }

    #[test]
    fn transaction_paid_from_the_spec_is_the_same_payment() {
        let paid = payment(TRANSACTION_PAID.as_bytes());
        let completed = payment(TRANSACTION_COMPLETED.as_bytes());
        assert_eq!(paid.status, "paid");
        assert_eq!(paid.provider_payment_id, completed.provider_payment_id);
        assert_eq!((paid.amount_minor, paid.currency.as_str()), (65215, "USD"));
        // billed_at 2024-04-12T10:18:48.294633821Z: nanoseconds are cut to milliseconds.
        assert_eq!(paid.paid_at_ms, Some(1_712_917_128_294));
        let parsed = parse(TRANSACTION_PAID.as_bytes()).unwrap();
        assert_eq!(parsed.body_event_id.as_deref(), Some("evt_01hv8x29mtm3f42a00bp5v8va9"));
    }

    #[test]
    fn attribution_from_custom_data() {
        for fixture in [TRANSACTION_COMPLETED, TRANSACTION_PAID] {
            let fact = payment(&attributed(fixture));
            assert_eq!(fact.visitor_id.as_deref(), Some("v_123"));
            assert_eq!(fact.session_id.as_deref(), Some("s_456"));
            assert_eq!(fact.attribution_token.as_deref(), Some("tok_789"));
            assert_eq!(fact.order_id.as_deref(), Some("order-42"));
        }
    }

    #[test]
    fn snake_case_attribution_keys_are_accepted() {
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v["data"]["custom_data"] = json!({"faurya_visitor_id": "v_snake", "faurya_session_id": "s_snake"})
        });
        let fact = payment(&body);
        assert_eq!((fact.visitor_id.as_deref(), fact.session_id.as_deref()), (Some("v_snake"), Some("s_snake")));
        // The documented camel-case name wins when both are set.
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v["data"]["custom_data"] = json!({"faurya_visitor_id": "v_snake", "faVisitorId": "v_camel"})
        });
        assert_eq!(payment(&body).visitor_id.as_deref(), Some("v_camel"));
    }

    #[test]
    fn odd_custom_data_means_unattributed() {
        for custom_data in [
            json!(null),
            json!({}),
            json!("a string"),
            json!({"faVisitorId": "", "faSessionId": "   ", "orderId": null}),
            json!({"faVisitorId": {"nested": 1}, "faSessionId": [1]}),
        ] {
            let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["custom_data"] = custom_data.clone());
            let fact = payment(&body);
            assert_eq!(
                (fact.visitor_id, fact.session_id, fact.attribution_token, fact.order_id),
                (None, None, None, None),
                "{custom_data}"
            );
        }
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v["data"].as_object_mut().unwrap().remove("custom_data");
        });
        assert_eq!(payment(&body).visitor_id, None);
    }

    #[test]
    fn a_numeric_order_id_is_kept_as_digits() {
        let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["custom_data"] = json!({"orderId": 1042}));
        assert_eq!(payment(&body).order_id.as_deref(), Some("1042"));
    }

    #[test]
    fn paid_at_falls_back_to_occurred_at() {
        let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["billed_at"] = json!(null));
        // occurred_at 2024-04-12T10:18:50.155553Z
        assert_eq!(payment(&body).paid_at_ms, Some(1_712_917_130_155));
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v["data"]["billed_at"] = json!(null);
            v.as_object_mut().unwrap().remove("occurred_at");
        });
        assert_eq!(payment(&body).paid_at_ms, None);
    }

    #[test]
    fn an_unreadable_time_fails_naming_the_field() {
        let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["billed_at"] = json!("last tuesday"));
        assert!(error(&body).starts_with("`data.billed_at` is not an RFC 3339 time"));
        let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["billed_at"] = json!(1712917128));
        assert_eq!(error(&body), "`data.billed_at` should be a time string, found a number");
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v["data"]["billed_at"] = json!(null);
            v["occurred_at"] = json!("2024-04-12 10:18");
        });
        assert!(error(&body).starts_with("`occurred_at` is not an RFC 3339 time"));
    }

    #[test]
    fn the_total_must_be_an_integer_string() {
        for (total, expected) in [
            (json!("652.15"), "`data.details.totals.total`: the amount `652.15` is not a whole number of minor units"),
            (json!("6.5215e4"), "`data.details.totals.total`: the amount `6.5215e4` is not a whole number"),
            (json!(" 65215"), "`data.details.totals.total`: the amount ` 65215` is not a whole number"),
            (json!(""), "`data.details.totals.total`: the amount `` is not a whole number"),
            (
                json!(65215),
                "`data.details.totals.total` should be a string of minor units such as \"65215\", found a number",
            ),
            (json!(652.15), "`data.details.totals.total` should be a string of minor units"),
            (json!(null), "`data.details.totals.total` is missing"),
            (json!("-100"), "`data.details.totals.total` is negative (-100): a payment cannot be negative"),
            (
                json!("99999999999999999999"),
                "`data.details.totals.total`: the amount `99999999999999999999` is not a whole number of minor units: it does not fit",
            ),
        ] {
            let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["details"]["totals"]["total"] = total.clone());
            let e = error(&body);
            assert!(e.starts_with(expected), "{total}: {e}");
        }
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v["data"].as_object_mut().unwrap().remove("details");
        });
        assert_eq!(error(&body), "`data.details.totals.total` is missing");
        let body = variant(TRANSACTION_COMPLETED, |v| v["data"]["details"]["totals"]["total"] = json!("0"));
        assert_eq!(payment(&body).amount_minor, 0);
    }

    #[test]
    fn broken_transactions_fail_naming_the_field() {
        for (field, value, expected) in [
            ("id", json!(null), "`data.id` is missing"),
            ("id", json!(""), "`data.id` is empty"),
            ("currency_code", json!(null), "`data.currency_code` is missing"),
            ("currency_code", json!(840), "`data.currency_code` should be a string, found a number"),
            ("currency_code", json!("ZZZ"), "`data.currency_code`: `ZZZ` is not an ISO 4217 currency code"),
        ] {
            let body = variant(TRANSACTION_PAID, |v| v["data"][field] = value.clone());
            let e = error(&body);
            assert!(e.starts_with(expected), "{field}={value}: {e}");
        }
        let body = variant(TRANSACTION_PAID, |v| v["data"]["currency_code"] = json!("jpy"));
        assert_eq!(payment(&body).currency, "JPY");
    }

    #[test]
    fn a_transaction_without_data_fails() {
        let body = variant(TRANSACTION_PAID, |v| v["data"] = json!(null));
        assert!(error(&body).starts_with("`data` is missing: a transaction.paid notification"));
        let body = variant(TRANSACTION_PAID, |v| v["data"] = json!([1, 2]));
        assert_eq!(error(&body), "`data` should be an object, found an array");
    }

    #[test]
    fn adjustment_created_from_the_spec_is_a_pending_refund() {
        let parsed = parse(ADJUSTMENT_CREATED.as_bytes()).unwrap();
        assert_eq!(parsed.event_type, "adjustment.created");
        assert_eq!(parsed.body_event_id.as_deref(), Some("evt_01hvgf2skkg8dsk5dczemw2bx1"));
        assert_eq!(
            parsed.effect,
            Effect::Refund(RefundFact {
                provider_refund_id: "adj_01hvgf2s84dr6reszzg29zbvcm".into(),
                provider_payment_id: "txn_01hvcc93znj3mpqt1tenkjb04y".into(),
                amount_minor: 100,
                currency: "USD".into(),
                status: "pending_approval".into(),
                counts: false,
            })
        );
    }

    #[test]
    fn adjustment_updated_counts_once_approved() {
        let pending = refund(ADJUSTMENT_UPDATED.as_bytes());
        assert_eq!((pending.status.as_str(), pending.counts), ("pending_approval", false));
        let approved = refund(&variant(ADJUSTMENT_UPDATED, |v| v["data"]["status"] = json!("approved")));
        assert_eq!((approved.status.as_str(), approved.counts), ("approved", true));
        assert_eq!(approved.provider_refund_id, pending.provider_refund_id);
        for status in ["rejected", "reversed"] {
            let other = refund(&variant(ADJUSTMENT_UPDATED, |v| v["data"]["status"] = json!(status)));
            assert!(!other.counts, "{status}");
        }
    }

    #[test]
    fn other_adjustment_actions_are_ignored_with_the_reason() {
        for action in ["credit", "chargeback", "chargeback_reverse", "chargeback_warning", "credit_reverse"] {
            let body = variant(ADJUSTMENT_CREATED, |v| v["data"]["action"] = json!(action));
            match parse(&body).unwrap().effect {
                Effect::Ignored { reason } => {
                    assert_eq!(
                        reason,
                        format!("adjustment.created with action {action}: not a refund, revenue unchanged")
                    )
                }
                other => panic!("{action}: {other:?}"),
            }
        }
    }

    #[test]
    fn broken_adjustments_fail_naming_the_field() {
        for (path, value, expected) in [
            (&["data", "action"][..], json!(null), "`data.action` is missing"),
            (&["data", "id"][..], json!(null), "`data.id` is missing"),
            (&["data", "transaction_id"][..], json!(null), "`data.transaction_id` is missing"),
            (&["data", "status"][..], json!(null), "`data.status` is missing"),
            (&["data", "currency_code"][..], json!("dollars"), "`data.currency_code`: `dollars` is not an ISO 4217"),
            (
                &["data", "totals", "total"][..],
                json!("1.00"),
                "`data.totals.total`: the amount `1.00` is not a whole number",
            ),
            (&["data", "totals", "total"][..], json!(100), "`data.totals.total` should be a string of minor units"),
            (
                &["data", "totals", "total"][..],
                json!("-100"),
                "`data.totals.total` is negative (-100): a refund cannot be negative",
            ),
            (&["data", "totals"][..], json!(null), "`data.totals.total` is missing"),
        ] {
            let body = variant(ADJUSTMENT_UPDATED, |v| {
                let mut target = v;
                for key in path {
                    target = &mut target[*key];
                }
                *target = value.clone();
            });
            let e = error(&body);
            assert!(e.starts_with(expected), "{path:?}={value}: {e}");
        }
    }

    #[test]
    fn other_events_are_ignored_with_a_reason() {
        for (event, hint) in [
            ("transaction.created", "no money received yet"),
            ("transaction.billed", "no money received yet"),
            ("transaction.payment_failed", "no money received yet"),
            ("subscription.created", "not an event"),
            ("customer.updated", "not an event"),
        ] {
            // Ignored events may carry any data shape.
            let body = variant(TRANSACTION_COMPLETED, |v| {
                v["event_type"] = json!(event);
                v["data"] = json!("whatever");
            });
            let parsed = parse(&body).unwrap();
            assert_eq!(parsed.event_type, event);
            match parsed.effect {
                Effect::Ignored { reason } => assert!(reason.starts_with(event) && reason.contains(hint), "{reason}"),
                other => panic!("{event}: {other:?}"),
            }
        }
    }

    #[test]
    fn envelope_problems() {
        for body in [&b""[..], b"nope", b"{\"event_type\":", b"\xff"] {
            assert!(error(body).starts_with("the body is not JSON: "), "{body:?}");
        }
        assert_eq!(error(b"[1]"), "the body is JSON but not a Paddle notification: expected an object, found an array");
        assert_eq!(error(b"{}"), "the body has no `event_type`, which every Paddle notification carries");
        assert_eq!(error(br#"{"event_type":1}"#), "`event_type` should be a string, found a number");
        let body = variant(TRANSACTION_COMPLETED, |v| {
            v.as_object_mut().unwrap().remove("event_id");
        });
        assert_eq!(parse(&body).unwrap().body_event_id, None);
    }
}
