//! The `settings` table: small key/value pairs the user edits in the UI.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, now_ms};

pub const PUBLIC_URL: &str = "public_url";
pub const SIGNATURE_TOLERANCE_SECS: &str = "signature_tolerance_secs";
/// A constant sealed with the master key at first start: opening it later proves the key is the
/// one that sealed this data dir, before any real secret is touched.
pub const MASTER_KEY_CHECK: &str = "master_key_check";

pub const DEFAULT_SIGNATURE_TOLERANCE_SECS: i64 = 300;

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

pub fn signature_tolerance_secs(conn: &Connection) -> Result<i64> {
    Ok(get(conn, SIGNATURE_TOLERANCE_SECS)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SIGNATURE_TOLERANCE_SECS))
}
