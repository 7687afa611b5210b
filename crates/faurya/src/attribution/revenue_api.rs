//! The revenue API, `POST /api/revenue` on the public listener: the founder's server reports a
//! verified purchase or refund with the attribution ids its checkout carried.
//!
//! Idempotent: one payment per order id (within the site) and per (provider, provider payment
//! id), whether it arrives by this API, by webhook, or both, in any order. Every call is kept in
//! the inspector like a webhook delivery (provider `api`).

use serde_json::{Map, Value};

use super::link::{self, Carried, TokenKey};
use crate::http::error::{ApiError, FieldErrors};
use crate::money;
use crate::providers::event::RefundFact;
use crate::providers::signature::constant_time_eq;
use crate::store::deliveries::{self, Inserted, NewDelivery, Outcome};
use crate::store::payments::{self, ApiPurchase};
use crate::store::{self, Store, StoreError, now_ms};
use crate::tracking::sites::{SiteKeys, Sites};

/// Calls are small JSON objects.
pub const BODY_LIMIT: usize = 16 * 1024;
const MAX_ID: usize = 200;
/// A trillion minor units: more than any real order, small enough to never overflow a sum.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Purchase,
    Refund,
}

/// A checked call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub event: Event,
    pub amount_minor: i64,
    pub currency: String,
    pub order_id: Option<String>,
    pub provider: String,
    pub provider_payment_id: Option<String>,
    pub refund_id: Option<String>,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    pub token: Option<String>,
}

/// What a call did.
#[derive(Debug)]
pub struct Recorded {
    pub payment: i64,
    pub duplicate: bool,
    pub delivery: i64,
}

fn unauthorized() -> ApiError {
    // Never says whether the site exists: a wrong id and a wrong key read the same.
    ApiError::BadCredentials
}

/// Checks the site id and write key headers; answers the site's keys.
pub async fn authenticate(
    sites: &Sites,
    site_id: Option<&str>,
    write_key: Option<&str>,
) -> Result<std::sync::Arc<SiteKeys>, ApiError> {
    let (Some(site_id), Some(write_key)) = (site_id, write_key) else { return Err(unauthorized()) };
    let Some(keys) = sites.keys(site_id.trim()).await? else { return Err(unauthorized()) };
    if !constant_time_eq(keys.write_key.expose().as_bytes(), write_key.trim().as_bytes()) {
        return Err(unauthorized());
    }
    Ok(keys)
}

fn text_field(body: &Map<String, Value>, name: &'static str, fields: &mut FieldErrors) -> Option<String> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.trim().chars().count() <= MAX_ID && !s.chars().any(char::is_control) => {
            Some(s.trim().to_string())
        }
        Some(Value::String(_)) => {
            fields.insert(name, format!("Use at most {MAX_ID} printable characters."));
            None
        }
        Some(Value::Number(n)) if name == "orderId" || name == "providerPaymentId" => Some(n.to_string()),
        Some(_) => {
            fields.insert(name, "Send this as a string.".into());
            None
        }
    }
}

/// Checks a call's body: every problem at once, each under its field name.
pub fn parse(body: &[u8]) -> Result<Call, ApiError> {
    if body.len() > BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
        code: "invalid_json",
        message: format!("The body is not valid JSON: {e}."),
    })?;
    let Value::Object(body) = value else {
        return Err(ApiError::BadRequest { code: "invalid_json", message: "The body must be a JSON object.".into() });
    };
    let mut fields = FieldErrors::new();
    let event = match body.get("event").and_then(Value::as_str) {
        Some("purchase") => Some(Event::Purchase),
        Some("refund") => Some(Event::Refund),
        _ => {
            fields.insert("event", "Use \"purchase\" or \"refund\".".into());
            None
        }
    };
    let amount = match body.get("amount") {
        Some(Value::Number(n)) => {
            match n.as_i64() {
                Some(a) if (0..=MAX_AMOUNT).contains(&a) => Some(a),
                Some(_) => {
                    fields.insert("amount", "Use a positive whole number of minor units.".into());
                    None
                }
                None => {
                    fields.insert(
                    "amount",
                    format!("Send whole minor units, not a fraction: {n} looks like a decimal amount (19.99 USD is 1999)."),
                );
                    None
                }
            }
        }
        Some(Value::String(_)) => {
            fields.insert("amount", "Send the amount as a JSON number of minor units (1999), not as text.".into());
            None
        }
        _ => {
            fields.insert("amount", "The amount in minor units is missing (1999 for 19.99 USD).".into());
            None
        }
    };
    let currency = match body.get("currency").and_then(Value::as_str) {
        Some(code) => money::normalize_currency(code).map_err(|e| fields.insert("currency", e.to_string())).ok(),
        None => {
            fields.insert("currency", "The ISO 4217 currency code is missing (USD, EUR, INR, …).".into());
            None
        }
    };
    let order_id = text_field(&body, "orderId", &mut fields);
    let provider_payment_id = text_field(&body, "providerPaymentId", &mut fields);
    let refund_id = text_field(&body, "refundId", &mut fields);
    let provider = match text_field(&body, "provider", &mut fields) {
        None => "api".to_string(),
        Some(p) => {
            let p = p.to_ascii_lowercase();
            if p.len() <= 32 && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                p
            } else {
                fields.insert("provider", "Use a short name such as \"paddle\" or \"whop\".".into());
                p
            }
        }
    };
    if order_id.is_none() && provider_payment_id.is_none() && !fields.contains_key("orderId") {
        fields.insert("orderId", "Send orderId or providerPaymentId: it is what makes a repeat count once.".into());
    }
    let (mut visitor_id, mut session_id, mut token) = (None, None, None);
    match body.get("attribution") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => {
            for (key, slot, field) in [
                ("faVisitorId", &mut visitor_id, "attribution.faVisitorId"),
                ("faSessionId", &mut session_id, "attribution.faSessionId"),
                ("faAttributionToken", &mut token, "attribution.faAttributionToken"),
            ] {
                match a.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if s.len() <= 512 => {
                        *slot = Some(s.trim().to_string()).filter(|s| !s.is_empty())
                    }
                    Some(_) => {
                        fields.insert(field, "Send this as a string (or null).".into());
                    }
                }
            }
        }
        Some(_) => {
            fields
                .insert("attribution", "Send {faVisitorId, faSessionId, faAttributionToken} (or leave it out).".into());
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }
    Ok(Call {
        event: event.expect("checked"),
        amount_minor: amount.expect("checked"),
        currency: currency.expect("checked"),
        order_id,
        provider,
        provider_payment_id,
        refund_id,
        visitor_id,
        session_id,
        token,
    })
}

/// Stores the call (inspector), then applies it. A refund of an unknown payment is kept as a
/// failed call and answered 404.
pub async fn record(
    store: &Store,
    site: &SiteKeys,
    call: Call,
    body: Vec<u8>,
    headers_json: String,
) -> Result<Recorded, ApiError> {
    let site_id = site.id.clone();
    let token_secret = site.token_secret.expose().as_bytes().to_vec();
    let outcome = store
        .write(move |conn| {
            let connection = store::connections::ensure_api_connection(conn, &site_id)?;
            let key = call.provider_payment_id.clone().map(|p| format!("{}:{p}", call.provider)).or(call.order_id.clone());
            let key = key.unwrap_or_default();
            let delivery_id = match call.event {
                Event::Purchase => format!("purchase:{key}"),
                Event::Refund => format!("refund:{key}:{}", call.refund_id.as_deref().unwrap_or(&call.amount_minor.to_string())),
            };
            let event_type = match call.event {
                Event::Purchase => "purchase",
                Event::Refund => "refund",
            };
            let inserted = deliveries::insert(
                conn,
                &NewDelivery {
                    connection_id: &connection,
                    provider: "api",
                    delivery_id: &format!("{site_id}:{delivery_id}"),
                    event_type: Some(event_type),
                    received_at: now_ms(),
                    headers_json: &headers_json,
                    body: &body,
                },
            )?;
            let delivery = inserted.id();
            if let Inserted::Original(id) = inserted {
                deliveries::index_for_search(conn, id, &body)?;
            }
            let found = payments::find_for_api(
                conn,
                &site_id,
                &call.provider,
                call.provider_payment_id.as_deref(),
                call.order_id.as_deref(),
            )?;
            let done = |status: &str, note: String, payment: Option<i64>| {
                deliveries::set_outcome(
                    conn,
                    delivery,
                    &Outcome {
                        status,
                        event_type: Some(event_type),
                        error: None,
                        note: Some(&note),
                        payment_id: payment,
                        amount_minor: Some(call.amount_minor),
                        currency: Some(&call.currency),
                        processed_at: now_ms(),
                    },
                )
            };
            match (call.event, found) {
                (Event::Purchase, Some((id, _, _))) => {
                    if matches!(inserted, Inserted::Original(_)) {
                        done("duplicate", format!("payment {key} was already recorded; not counted again"), Some(id))?;
                    }
                    Ok(Ok(Recorded { payment: id, duplicate: true, delivery }))
                }
                (Event::Purchase, None) => {
                    let id = payments::insert_api_purchase(
                        conn,
                        &ApiPurchase {
                            site_id: &site_id,
                            connection_id: &connection,
                            provider: &call.provider,
                            provider_payment_id: call.provider_payment_id.as_deref(),
                            order_id: call.order_id.as_deref(),
                            amount_minor: call.amount_minor,
                            currency: &call.currency,
                            visitor_id: call.visitor_id.as_deref(),
                            session_id: call.session_id.as_deref(),
                            attribution_token: call.token.as_deref(),
                            delivery,
                        },
                    )?;
                    let carried = Carried {
                        token: call.token.as_deref(),
                        visitor_id: call.visitor_id.as_deref(),
                        session_id: call.session_id.as_deref(),
                    };
                    let key = TokenKey { site_id: &site_id, secret: &token_secret };
                    let resolved = link::resolve(&carried, Some(&key), now_ms() / 1000);
                    store::attribution::assign(conn, id, &resolved)?;
                    done("processed", format!("payment {key_text} recorded", key_text = call.order_id.as_deref().unwrap_or("")), Some(id))?;
                    Ok(Ok(Recorded { payment: id, duplicate: false, delivery }))
                }
                (Event::Refund, Some((id, provider, ppid))) => {
                    let refund_key = call.refund_id.clone().unwrap_or_else(|| format!("{ppid}:{}", call.amount_minor));
                    let fact = RefundFact {
                        provider_refund_id: format!("api:{refund_key}"),
                        provider_payment_id: ppid,
                        amount_minor: call.amount_minor,
                        currency: call.currency.clone(),
                        status: "succeeded".into(),
                        counts: true,
                    };
                    let applied = payments::apply_refund(conn, &provider, &fact, delivery)?;
                    let duplicate = matches!(applied, payments::Applied::Unchanged { .. });
                    let (status, note) = if duplicate {
                        ("duplicate", format!("refund {refund_key} was already recorded; not counted again"))
                    } else {
                        ("processed", format!("refund {refund_key} recorded"))
                    };
                    done(status, note, Some(id))?;
                    Ok(Ok(Recorded { payment: id, duplicate, delivery }))
                }
                (Event::Refund, None) => {
                    let message = format!(
                        "No payment with {} is recorded for this site: send the purchase first, with the same orderId or providerPaymentId.",
                        if call.provider_payment_id.is_some() { "this providerPaymentId" } else { "this orderId" }
                    );
                    deliveries::set_outcome(
                        conn,
                        delivery,
                        &Outcome {
                            status: "failed",
                            event_type: Some(event_type),
                            error: Some(&message),
                            note: None,
                            payment_id: None,
                            amount_minor: Some(call.amount_minor),
                            currency: Some(&call.currency),
                            processed_at: now_ms(),
                        },
                    )?;
                    Ok(Err(message))
                }
            }
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict { code: "conflict", message },
            other => other.into(),
        })?;
    outcome.map_err(ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({"event": "purchase", "amount": 1999, "currency": "usd", "orderId": "ord_1", "provider": "paddle",
               "providerPaymentId": "txn_1", "attribution": {"faVisitorId": "visitor_1", "faSessionId": "session_1",
               "faAttributionToken": null}})
    }

    fn fields(body: Value) -> Vec<String> {
        match parse(body.to_string().as_bytes()) {
            Err(ApiError::Invalid(fields)) => fields.keys().map(|k| k.to_string()).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = good();
        v[field] = value;
        v
    }

    #[test]
    fn a_good_call_parses() {
        let call = parse(good().to_string().as_bytes()).unwrap();
        assert_eq!(call.event, Event::Purchase);
        assert_eq!((call.amount_minor, call.currency.as_str()), (1999, "USD"));
        assert_eq!(call.provider, "paddle");
        assert_eq!(call.visitor_id.as_deref(), Some("visitor_1"));
        assert_eq!(call.token, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(fields(with("amount", json!(19.99))), ["amount"]);
        assert_eq!(fields(with("amount", json!("1999"))), ["amount"]);
        assert_eq!(fields(with("amount", json!(-5))), ["amount"]);
        assert_eq!(fields(with("amount", Value::Null)), ["amount"]);
        assert_eq!(fields(with("currency", json!("XXQ"))), ["currency"]);
        assert_eq!(fields(with("currency", json!(840))), ["currency"]);
        assert_eq!(fields(with("event", json!("chargeback"))), ["event"]);
        assert_eq!(fields(with("provider", json!("Pad dle!"))), ["provider"]);
        assert_eq!(fields(with("orderId", json!({"a": 1}))), ["orderId"]);
        assert_eq!(fields(with("attribution", json!("v_1"))), ["attribution"]);
        assert_eq!(fields(with("attribution", json!({"faSessionId": 5}))), ["attribution.faSessionId"]);
        let mut neither = good();
        neither.as_object_mut().unwrap().remove("orderId");
        neither.as_object_mut().unwrap().remove("providerPaymentId");
        assert_eq!(fields(neither), ["orderId"]);
        assert_eq!(fields(json!({})), ["amount", "currency", "event", "orderId"]);
    }

    #[test]
    fn bodies_that_are_not_objects_are_bad_requests() {
        for body in [&b"nope"[..], b"[]", b"\xff\xfe"] {
            assert_eq!(parse(body).unwrap_err().code(), "invalid_json");
        }
        assert_eq!(parse(&vec![b' '; BODY_LIMIT + 1]).unwrap_err().code(), "payload_too_large");
    }

    #[test]
    fn provider_defaults_to_api_and_is_lower_cased() {
        let mut v = good();
        v.as_object_mut().unwrap().remove("provider");
        assert_eq!(parse(v.to_string().as_bytes()).unwrap().provider, "api");
        assert_eq!(parse(with("provider", json!("Paddle")).to_string().as_bytes()).unwrap().provider, "paddle");
    }
}
