//! Reading fields of a delivery body with errors that name the field: shared by the providers'
//! `payload` modules, which differ in shape but not in how a missing or mistyped field is told.

use serde_json::Value;

use super::event::ParseError;
use crate::money;

/// The first of `keys` present in `object` as a non-blank string (or an integer, kept as its
/// digits): attribution ids, order ids.
pub fn first_id(object: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match object.get(key)? {
        Value::String(text) => Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_owned),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    })
}

/// An upper-case ISO 4217 code from `field`.
pub fn currency(value: Option<&Value>, field: &str) -> Result<String, ParseError> {
    let code = required_string(value, field)?;
    money::normalize_currency(&code).map_err(|e| ParseError::new(format!("`{field}`: {e}")))
}

pub fn required_string(value: Option<&Value>, field: &str) -> Result<String, ParseError> {
    match value {
        None | Some(Value::Null) => Err(ParseError::new(format!("`{field}` is missing"))),
        Some(Value::String(text)) if text.trim().is_empty() => Err(ParseError::new(format!("`{field}` is empty"))),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(ParseError::new(format!("`{field}` should be a string, found {}", kind(other)))),
    }
}

/// Why the body as a whole could not be read; `what` names the expected document
/// ("a Whop webhook").
pub fn body_error(error: serde_json::Error, what: &str) -> ParseError {
    match error.classify() {
        serde_json::error::Category::Data => ParseError::new(format!("the body is JSON but not {what}: {error}")),
        _ => ParseError::new(format!("the body is not JSON: {error}")),
    }
}

/// "a string", "an object", ... for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
