//! The `settings` table: small key/value pairs the user edits in the UI.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, now_ms};

pub const PUBLIC_URL: &str = "public_url";
pub const SIGNATURE_TOLERANCE_SECS: &str = "signature_tolerance_secs";
/// A constant sealed with the master key at first start: opening it later proves the key is the
/// one that sealed this data dir, before any real secret is touched.
pub const MASTER_KEY_CHECK: &str = "master_key_check";

pub const DEFAULT_SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// The tunnel backend chosen in Settings (or by `--tunnel`); absent means "manual" when a
/// public URL is saved, else "none". The manual backend's URL is [`PUBLIC_URL`].
pub const TUNNEL_BACKEND: &str = "tunnel.backend";
/// Sealed (base64) under AAD table "settings", row = this key.
pub const NGROK_AUTHTOKEN: &str = "tunnel.ngrok.authtoken";
pub const NGROK_DOMAIN: &str = "tunnel.ngrok.domain";
pub const BORE_HOST: &str = "tunnel.bore.host";
pub const BORE_PORT: &str = "tunnel.bore.port";
/// Sealed (base64) under AAD table "settings", row = this key.
pub const BORE_SECRET: &str = "tunnel.bore.secret";
pub const BORE_PUBLIC_URL: &str = "tunnel.bore.public_url";

/// Every tunnel key, as stored (secrets still sealed).
pub const TUNNEL_KEYS: [&str; 8] =
    [PUBLIC_URL, TUNNEL_BACKEND, NGROK_AUTHTOKEN, NGROK_DOMAIN, BORE_HOST, BORE_PORT, BORE_SECRET, BORE_PUBLIC_URL];

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, now_ms()],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [key])?;
    Ok(())
}

/// Sets `key` to `value`, or deletes it for `None`.
pub fn put(conn: &Connection, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(value) => set(conn, key, value),
        None => delete(conn, key),
    }
}

/// The tunnel keys that are set, as `(key, value)` pairs.
pub fn tunnel_values(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for key in TUNNEL_KEYS {
        if let Some(value) = get(conn, key)? {
            out.push((key.to_string(), value));
        }
    }
    Ok(out)
}

pub fn signature_tolerance_secs(conn: &Connection) -> Result<i64> {
    Ok(get(conn, SIGNATURE_TOLERANCE_SECS)?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_SIGNATURE_TOLERANCE_SECS))
}
