//! The `connections` table: provider accounts, their sealed key and webhook secret, and the
//! webhook Faurya created at the provider.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, StoreError, now_ms};

#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub id: String,
    pub provider: String,
    pub environment: String,
    pub account_id: String,
    pub key_last4: String,
    pub api_key_sealed: Option<Vec<u8>>,
    pub webhook_secret_sealed: Option<Vec<u8>>,
    pub webhook_id: Option<String>,
    pub webhook_url: Option<String>,
    pub status: String,
    pub sync_state: String,
    pub sync_error: Option<String>,
    pub sync_updated_at: Option<i64>,
    pub created_at: i64,
    pub removed_at: Option<i64>,
    pub site_id: Option<String>,
    /// Where verified deliveries are also sent (the founder's own handler), if anywhere.
    pub forward_url: Option<String>,
    /// Filled by the list query only.
    pub last_delivery_at: Option<i64>,
    pub deliveries: i64,
}

const COLUMNS: &str = "id, provider, environment, account_id, key_last4, api_key_sealed, webhook_secret_sealed, \
     webhook_id, webhook_url, status, sync_state, sync_error, sync_updated_at, created_at, removed_at, site_id, forward_url";

fn from_row(row: &Row<'_>) -> rusqlite::Result<ConnectionRow> {
    Ok(ConnectionRow {
        id: row.get(0)?,
        provider: row.get(1)?,
        environment: row.get(2)?,
        account_id: row.get(3)?,
        key_last4: row.get(4)?,
        api_key_sealed: row.get(5)?,
        webhook_secret_sealed: row.get(6)?,
        webhook_id: row.get(7)?,
        webhook_url: row.get(8)?,
        status: row.get(9)?,
        sync_state: row.get(10)?,
        sync_error: row.get(11)?,
        sync_updated_at: row.get(12)?,
        created_at: row.get(13)?,
        removed_at: row.get(14)?,
        site_id: row.get(15)?,
        forward_url: row.get(16)?,
        last_delivery_at: None,
        deliveries: 0,
    })
}

pub struct NewConnection<'a> {
    pub id: &'a str,
    pub provider: &'a str,
    pub environment: &'a str,
    pub account_id: &'a str,
    pub key_last4: &'a str,
    pub api_key_sealed: &'a [u8],
    pub site_id: &'a str,
}

/// Reserves the account before the provider is called, so a double click or a second tab
/// cannot create a second webhook: the unique index refuses the second reservation.
pub fn insert_pending(conn: &Connection, new: &NewConnection<'_>, already: impl FnOnce() -> String) -> Result<()> {
    let inserted = conn.execute(
        "INSERT INTO connections (id, provider, environment, account_id, key_last4, api_key_sealed, status, created_at,
                                  site_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8)",
        params![
            new.id,
            new.provider,
            new.environment,
            new.account_id,
            new.key_last4,
            new.api_key_sealed,
            now_ms(),
            new.site_id
        ],
    );
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if StoreError::is_unique_violation(&e) => Err(StoreError::Conflict(already())),
        Err(e) => Err(e.into()),
    }
}

pub fn activate(conn: &Connection, id: &str, webhook_id: &str, webhook_url: &str, secret_sealed: &[u8]) -> Result<()> {
    let changed = conn.execute(
        "UPDATE connections SET status = 'active', webhook_id = ?2, webhook_url = ?3, webhook_secret_sealed = ?4,
                sync_state = 'ok', sync_error = NULL, sync_updated_at = ?5
         WHERE id = ?1 AND status = 'pending'",
        params![id, webhook_id, webhook_url, secret_sealed, now_ms()],
    )?;
    if changed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

/// Forgets a reservation whose remote webhook was never made (or was deleted again).
pub fn delete_pending(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM connections WHERE id = ?1 AND status = 'pending'", [id])?;
    Ok(())
}

/// Disconnects: the row stays (late deliveries then get 410 Gone, and old deliveries keep their
/// connection), but the sealed key and secret are wiped.
pub fn mark_removed(conn: &Connection, id: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE connections SET status = 'removed', removed_at = ?2, api_key_sealed = NULL,
                webhook_secret_sealed = NULL
         WHERE id = ?1 AND status = 'active'",
        params![id, now_ms()],
    )?;
    if changed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<ConnectionRow>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"), [id], from_row).optional()?)
}

/// Active connections, newest first, with their delivery counts.
pub fn list_active(conn: &Connection) -> Result<Vec<ConnectionRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS},
                (SELECT max(received_at) FROM deliveries d WHERE d.connection_id = c.id),
                (SELECT count(*) FROM deliveries d WHERE d.connection_id = c.id)
         FROM connections c WHERE status = 'active' AND provider != 'api' ORDER BY created_at DESC, id"
    ))?;
    let rows = stmt.query_map([], |row| {
        let mut c = from_row(row)?;
        c.last_delivery_at = row.get(17)?;
        c.deliveries = row.get(18)?;
        Ok(c)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets or clears where a connection's deliveries are forwarded.
pub fn set_forward_url(conn: &Connection, id: &str, url: Option<&str>) -> Result<()> {
    let changed = conn.execute(
        "UPDATE connections SET forward_url = ?2 WHERE id = ?1 AND status = 'active' AND provider != 'api'",
        params![id, url],
    )?;
    if changed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

/// Reservations left behind by a crash in the middle of connecting.
pub fn list_pending(conn: &Connection) -> Result<Vec<ConnectionRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM connections WHERE status = 'pending'"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records the outcome of keeping the remote webhook pointed at the current public URL.
pub fn set_sync(
    conn: &Connection,
    id: &str,
    state: &str,
    error: Option<&str>,
    webhook_url: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE connections SET sync_state = ?2, sync_error = ?3, sync_updated_at = ?4,
                webhook_url = coalesce(?5, webhook_url)
         WHERE id = ?1",
        params![id, state, error, now_ms(), webhook_url],
    )?;
    Ok(())
}

/// The connection a site's revenue API calls are stored under (a delivery belongs to a
/// connection): `api_{site}`, made on first use. Never listed with the provider connections.
pub fn ensure_api_connection(conn: &Connection, site_id: &str) -> Result<String> {
    let id = format!("api_{site_id}");
    conn.execute(
        "INSERT INTO connections (id, provider, environment, account_id, key_last4, status, created_at, site_id)
         VALUES (?1, 'api', 'production', ?2, '', 'active', ?3, ?2)
         ON CONFLICT (id) DO NOTHING",
        params![id, site_id, now_ms()],
    )?;
    Ok(id)
}
