//! The `sites` table: the founder's products/domains, with their sealed write key and token
//! secret, and the first/last event seen (for "Verify installation").

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, StoreError, now_ms};

#[derive(Debug, Clone)]
pub struct SiteRow {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub write_key_sealed: Vec<u8>,
    pub write_key_last4: String,
    pub token_secret_sealed: Vec<u8>,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_event_at: Option<i64>,
    pub first_event_url: Option<String>,
    pub first_event_name: Option<String>,
    pub last_event_at: Option<i64>,
}

const COLUMNS: &str = "id, name, domains, write_key_sealed, write_key_last4, token_secret_sealed, created_at, \
     updated_at, first_event_at, first_event_url, first_event_name, last_event_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<SiteRow> {
    let domains: String = row.get(2)?;
    Ok(SiteRow {
        id: row.get(0)?,
        name: row.get(1)?,
        // Written by this module only, always a JSON array of strings.
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        write_key_sealed: row.get(3)?,
        write_key_last4: row.get(4)?,
        token_secret_sealed: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        first_event_at: row.get(8)?,
        first_event_url: row.get(9)?,
        first_event_name: row.get(10)?,
        last_event_at: row.get(11)?,
    })
}

pub fn insert(conn: &Connection, site: &SiteRow) -> Result<()> {
    conn.execute(
        &format!("INSERT INTO sites ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, NULL, NULL)"),
        params![
            site.id,
            site.name,
            serde_json::to_string(&site.domains).expect("strings serialize"),
            site.write_key_sealed,
            site.write_key_last4,
            site.token_secret_sealed,
            site.created_at,
            site.updated_at
        ],
    )?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<SiteRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM sites ORDER BY created_at, id"))?;
    let rows = stmt.query_map([], from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<SiteRow>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM sites WHERE id = ?1"), [id], from_row).optional()?)
}

pub fn update(conn: &Connection, id: &str, name: Option<&str>, domains: Option<&[String]>) -> Result<()> {
    let domains = domains.map(|d| serde_json::to_string(d).expect("strings serialize"));
    let changed = conn.execute(
        "UPDATE sites SET name = coalesce(?2, name), domains = coalesce(?3, domains), updated_at = ?4 WHERE id = ?1",
        params![id, name, domains, now_ms()],
    )?;
    if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub fn set_write_key(conn: &Connection, id: &str, sealed: &[u8], last4: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE sites SET write_key_sealed = ?2, write_key_last4 = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, sealed, last4, now_ms()],
    )?;
    if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Gives rows from before sites existed (schema v2) to `site_id`. Returns how many connections
/// moved.
pub fn adopt_orphans(conn: &Connection, site_id: &str) -> Result<usize> {
    let moved = conn.execute("UPDATE connections SET site_id = ?1 WHERE site_id IS NULL", [site_id])?;
    conn.execute(
        "UPDATE deliveries SET site_id = (SELECT c.site_id FROM connections c WHERE c.id = deliveries.connection_id)
         WHERE site_id IS NULL",
        [],
    )?;
    conn.execute(
        "UPDATE payments SET site_id = (SELECT c.site_id FROM connections c WHERE c.id = payments.connection_id)
         WHERE site_id IS NULL",
        [],
    )?;
    Ok(moved)
}

/// Records that the site sent events: the first ever (kept) and the latest.
pub fn note_events(
    conn: &Connection,
    id: &str,
    first_at: i64,
    first_url: &str,
    first_name: &str,
    last_at: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE sites SET
            first_event_name = CASE WHEN first_event_at IS NULL THEN ?4 ELSE first_event_name END,
            first_event_url = CASE WHEN first_event_at IS NULL THEN ?3 ELSE first_event_url END,
            first_event_at = coalesce(first_event_at, ?2),
            last_event_at = max(coalesce(last_event_at, 0), ?5)
         WHERE id = ?1",
        params![id, first_at, first_url, first_name, last_at],
    )?;
    Ok(())
}

/// Deletes a site with no connections, payments or sessions, unless it is the only one.
pub fn delete_if_empty(conn: &Connection, id: &str) -> Result<()> {
    let sites: i64 = conn.query_row("SELECT count(*) FROM sites", [], |r| r.get(0))?;
    if sites <= 1 {
        return Err(StoreError::Conflict("This is your only site: Faurya always keeps one. Rename it instead.".into()));
    }
    let (connections, payments, sessions): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM connections WHERE site_id = ?1 AND status != 'removed'),
                (SELECT count(*) FROM payments WHERE site_id = ?1),
                (SELECT count(*) FROM sessions WHERE site_id = ?1)",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if connections + payments + sessions > 0 {
        return Err(StoreError::Conflict(format!(
            "This site holds {connections} connection(s), {payments} payment(s) and {sessions} session(s); \
             only an empty site can be removed."
        )));
    }
    conn.execute("UPDATE connections SET site_id = NULL WHERE site_id = ?1", [id])?;
    conn.execute("DELETE FROM traffic_daily WHERE site_id = ?1", [id])?;
    conn.execute("DELETE FROM sites WHERE id = ?1", [id])?;
    Ok(())
}
