//! What the desktop shell acts on, kept here so it is Tauri-free and tested without a window:
//! the founder's switches (payment notifications, start at login) and the words of a payment
//! notification.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::store::{self, settings};

pub const NOTIFY_PAYMENTS: &str = "desktop.notify_payments";
pub const NOTIFY_TEST_PAYMENTS: &str = "desktop.notify_test_payments";
pub const START_AT_LOGIN: &str = "desktop.start_at_login";

/// The switches, as `GET /api/settings` shows them under `desktop`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DesktopPrefs {
    /// False under `faurya serve`: there is no tray, notification or login item to switch.
    pub available: bool,
    pub notify_payments: bool,
    pub notify_test_payments: bool,
    /// Start Faurya when the founder logs in. Until they choose, on once a provider is
    /// connected (a connected provider's webhooks only arrive while Faurya runs).
    pub start_at_login: bool,
    /// Whether the founder chose `start_at_login` (else it follows the default above).
    pub start_at_login_set: bool,
}

fn flag(conn: &Connection, key: &str) -> store::Result<Option<bool>> {
    Ok(settings::get(conn, key)?.map(|v| v == "true"))
}

pub fn load(conn: &Connection, available: bool) -> store::Result<DesktopPrefs> {
    let chosen = flag(conn, START_AT_LOGIN)?;
    let connected = conn
        .query_row("SELECT 1 FROM connections WHERE status = 'active' AND provider != 'api' LIMIT 1", [], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(DesktopPrefs {
        available,
        notify_payments: flag(conn, NOTIFY_PAYMENTS)?.unwrap_or(true),
        notify_test_payments: flag(conn, NOTIFY_TEST_PAYMENTS)?.unwrap_or(false),
        start_at_login: chosen.unwrap_or(connected),
        start_at_login_set: chosen.is_some(),
    })
}

pub fn set_flag(conn: &Connection, key: &str, value: bool) -> store::Result<()> {
    settings::set(conn, key, if value { "true" } else { "false" })
}

/// A native notification's words for a new payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentNotice {
    pub title: String,
    pub body: String,
    /// What makes the payment this one, to announce it once: its id with its creation time
    /// (SQLite may give a removed test payment's id to the next payment).
    pub key: (i64, i64),
}

/// The notice for payment `id`, or `None` when none is due: notifications are off, it is a
/// test payment (unless those are asked for), or it is not a payment just received (an update
/// of an older one, a refund).
pub fn payment_notice(conn: &Connection, id: i64, available: bool) -> store::Result<Option<PaymentNotice>> {
    let prefs = load(conn, available)?;
    if !prefs.notify_payments {
        return Ok(None);
    }
    let Some(row) = store::payments::get(conn, id)? else { return Ok(None) };
    if row.origin == "test" && !prefs.notify_test_payments {
        return Ok(None);
    }
    // A payment is announced once, when it is new: a later change (refund, late attribution)
    // publishes the same id again.
    if store::now_ms() - row.created_at > 120_000 {
        return Ok(None);
    }
    let provider = match row.provider.as_str() {
        "whop" => "Whop",
        "paddle" => "Paddle",
        other => other,
    };
    let amount = format_amount(row.amount_minor, &row.currency);
    let test = if row.origin == "test" { "Test payment" } else { "New payment" };
    let credited = row.touches[1].as_ref().and_then(|t| t.channel.clone());
    let body = match credited {
        Some(channel) => format!("{amount} through {provider}, credited to {channel} (last touch)."),
        None => format!("{amount} through {provider}; no visit is tied to it yet."),
    };
    Ok(Some(PaymentNotice { title: format!("{test}: {amount}"), body, key: (row.id, row.created_at) }))
}

/// `USD 49.00`, `JPY 1500`: the currency's own number of decimals, no floats.
pub fn format_amount(minor: i64, currency: &str) -> String {
    let exponent = crate::money::exponent(currency).unwrap_or(2);
    if exponent == 0 {
        return format!("{currency} {minor}");
    }
    let scale = 10_i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = scale as u64;
    format!("{currency} {sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_use_the_currency_decimals() {
        assert_eq!(format_amount(4900, "USD"), "USD 49.00");
        assert_eq!(format_amount(5, "EUR"), "EUR 0.05");
        assert_eq!(format_amount(1500, "JPY"), "JPY 1500");
        assert_eq!(format_amount(1234, "KWD"), "KWD 1.234");
        assert_eq!(format_amount(-250, "USD"), "USD -2.50");
    }
}
