//! The `deliveries` table (every verified delivery, byte-exact) and `rejected_deliveries` (the
//! capped log of attempts that failed verification).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, StoreError};

/// How the delivery id of a payment recorded by "Check for missed payments" begins (followed by
/// the provider's payment id): no provider sent it, so it is never forwarded.
pub const BACKFILL_PREFIX: &str = "backfill:";

/// Rejected attempts kept; older ones are dropped as new ones arrive.
pub const REJECTED_KEEP: i64 = 1000;
/// Bytes of a rejected body kept (the full size is recorded beside it).
pub const REJECTED_BODY_MAX: usize = 64 * 1024;

pub struct NewDelivery<'a> {
    pub connection_id: &'a str,
    pub provider: &'a str,
    pub delivery_id: &'a str,
    pub event_type: Option<&'a str>,
    pub received_at: i64,
    pub headers_json: &'a str,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The first delivery with this provider delivery id.
    Original(i64),
    /// A repeat: stored too (so the inspector shows it), pointing at the original.
    Duplicate { id: i64, of: i64 },
}

impl Inserted {
    pub fn id(self) -> i64 {
        match self {
            Inserted::Original(id) | Inserted::Duplicate { id, .. } => id,
        }
    }
}

/// Stores a delivery and decides, atomically with the store's single writer, whether it is the
/// first of its delivery id or a repeat.
pub fn insert(conn: &Connection, new: &NewDelivery<'_>) -> Result<Inserted> {
    let original: Option<i64> = conn
        .prepare_cached("SELECT id FROM deliveries WHERE provider = ?1 AND delivery_id = ?2 AND duplicate_of IS NULL")?
        .query_row(params![new.provider, new.delivery_id], |r| r.get(0))
        .optional()?;
    let status = if original.is_some() { "duplicate" } else { "received" };
    let note = original.map(|of| format!("repeat of d_{of}: same delivery id, not processed again"));
    conn.prepare_cached(
        "INSERT INTO deliveries (connection_id, provider, delivery_id, event_type, received_at, headers, body, status,
                                 duplicate_of, note, site_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, (SELECT site_id FROM connections WHERE id = ?1))",
    )?
    .execute(params![
        new.connection_id,
        new.provider,
        new.delivery_id,
        new.event_type,
        new.received_at,
        new.headers_json,
        new.body,
        status,
        original,
        note
    ])?;
    let id = conn.last_insert_rowid();
    Ok(match original {
        Some(of) => Inserted::Duplicate { id, of },
        None => Inserted::Original(id),
    })
}

/// Makes a delivery's body findable by the inspector's search. Done when an original is
/// processed (inline or in the background), not while it is acknowledged: tokenizing is work
/// the acknowledgement need not wait for. Repeats are not indexed: their original, with the
/// same body, is found instead.
pub fn index_for_search(conn: &Connection, id: i64, body: &[u8]) -> Result<()> {
    conn.prepare_cached("INSERT INTO deliveries_fts (rowid, body) VALUES (?1, ?2)")?
        .execute(params![id, String::from_utf8_lossy(body)])?;
    Ok(())
}

/// Whether a provider delivery stored before `id` still waits for processing: then `id` waits
/// too, so deliveries are processed in the order they were acknowledged.
pub fn waiting_before(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'received' AND id < ?1 AND provider != 'api')",
        )?
        .query_row([id], |r| r.get(0))?)
}

/// A stored delivery still to be processed.
pub struct Received {
    pub id: i64,
    pub provider: String,
    pub connection_id: String,
    pub body: Vec<u8>,
}

/// The oldest provider deliveries that were stored and acknowledged but not processed yet.
pub fn received(conn: &Connection, limit: usize) -> Result<Vec<Received>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, provider, connection_id, body FROM deliveries
         WHERE status = 'received' AND provider != 'api' ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(Received { id: r.get(0)?, provider: r.get(1)?, connection_id: r.get(2)?, body: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What processing concluded about a delivery.
pub struct Outcome<'a> {
    pub status: &'a str,
    pub event_type: Option<&'a str>,
    pub error: Option<&'a str>,
    pub note: Option<&'a str>,
    pub payment_id: Option<i64>,
    pub amount_minor: Option<i64>,
    pub currency: Option<&'a str>,
    pub processed_at: i64,
}

pub fn set_outcome(conn: &Connection, id: i64, outcome: &Outcome<'_>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET status = ?2, event_type = coalesce(?3, event_type), error = ?4, note = ?5,
                payment_id = ?6, amount_minor = ?7, currency = ?8, processed_at = ?9
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        outcome.status,
        outcome.event_type,
        outcome.error,
        outcome.note,
        outcome.payment_id,
        outcome.amount_minor,
        outcome.currency,
        outcome.processed_at
    ])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub connection_id: String,
    pub provider: String,
    pub delivery_id: String,
    pub event_type: Option<String>,
    pub received_at: i64,
    pub status: String,
    pub error: Option<String>,
    pub note: Option<String>,
    pub duplicate_of: Option<i64>,
    pub payment_id: Option<i64>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// Only filled by [`get`].
    pub headers: Option<String>,
    pub body: Option<Vec<u8>>,
}

const SUMMARY_COLUMNS: &str = "id, connection_id, provider, delivery_id, event_type, received_at, status, error, note, \
     duplicate_of, payment_id, amount_minor, currency";

fn summary(row: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: row.get(0)?,
        connection_id: row.get(1)?,
        provider: row.get(2)?,
        delivery_id: row.get(3)?,
        event_type: row.get(4)?,
        received_at: row.get(5)?,
        status: row.get(6)?,
        error: row.get(7)?,
        note: row.get(8)?,
        duplicate_of: row.get(9)?,
        payment_id: row.get(10)?,
        amount_minor: row.get(11)?,
        currency: row.get(12)?,
        headers: None,
        body: None,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<DeliveryRow>> {
    Ok(conn
        .query_row(&format!("SELECT {SUMMARY_COLUMNS}, headers, body FROM deliveries WHERE id = ?1"), [id], |row| {
            let mut d = summary(row)?;
            d.headers = row.get(13)?;
            d.body = row.get(14)?;
            Ok(d)
        })
        .optional()?)
}

/// Filters of the inspector list. `None` = any.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub provider: Option<String>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// Words to find in raw bodies.
    pub query: Option<String>,
    pub site: Option<String>,
    /// When it was received.
    pub received: super::TimeRange,
}

/// A page of deliveries, newest (highest id) first, with ids below `before`.
pub fn list(conn: &Connection, filter: &Filter, before: Option<i64>, limit: usize) -> Result<Vec<DeliveryRow>> {
    let columns = SUMMARY_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ");
    let before = before.unwrap_or(i64::MAX);
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    // A search walks the full-text index newest-first and stops at `limit` matches, instead of
    // collecting every match first (a common word matches every delivery).
    let mut sql = match filter.query.as_deref().and_then(fts_phrase) {
        Some(phrase) => {
            args.push(phrase.into());
            args.push(before.into());
            format!(
                "SELECT {columns} FROM deliveries_fts f JOIN deliveries d ON d.id = f.rowid
                 WHERE deliveries_fts MATCH ?1 AND f.rowid < ?2"
            )
        }
        None => {
            args.push(before.into());
            format!("SELECT {columns} FROM deliveries d WHERE d.id < ?1")
        }
    };
    for (column, value) in [
        ("provider", &filter.provider),
        ("status", &filter.status),
        ("event_type", &filter.event_type),
        ("site_id", &filter.site),
    ] {
        if let Some(value) = value {
            args.push(value.clone().into());
            sql.push_str(&format!(" AND d.{column} = ?{}", args.len()));
        }
    }
    if let Some(from) = filter.received.from_ms {
        args.push(from.into());
        sql.push_str(&format!(" AND d.received_at >= ?{}", args.len()));
    }
    if let Some(to) = filter.received.to_ms {
        args.push(to.into());
        sql.push_str(&format!(" AND d.received_at < ?{}", args.len()));
    }
    args.push((limit as i64).into());
    let order = if filter.query.as_deref().and_then(fts_phrase).is_some() { "f.rowid" } else { "d.id" };
    sql.push_str(&format!(" ORDER BY {order} DESC LIMIT ?{}", args.len()));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), summary)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The user's words as one FTS5 phrase with a prefix match on the last word, so `pay_01h`
/// finds `pay_01hxyz`. Quotes are escaped; nothing the user types is FTS syntax.
fn fts_phrase(query: &str) -> Option<String> {
    let words: Vec<String> =
        query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect();
    if words.is_empty() {
        return None;
    }
    Some(format!("\"{}\" *", words.join(" ").replace('"', "\"\"")))
}

pub fn distinct_event_types(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT event_type FROM deliveries WHERE event_type IS NOT NULL ORDER BY event_type",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// --- rejected attempts ---------------------------------------------------------------------

pub struct NewRejection<'a> {
    pub provider: &'a str,
    pub connection_id: &'a str,
    pub received_at: i64,
    pub http_status: u16,
    pub reason_code: &'a str,
    pub reason: &'a str,
    pub delivery_id: Option<&'a str>,
    pub headers_json: &'a str,
    pub body: &'a [u8],
    pub body_size: usize,
    pub remote_addr: Option<&'a str>,
}

/// Logs a rejected attempt (body truncated) and drops the oldest beyond [`REJECTED_KEEP`].
pub fn insert_rejection(conn: &Connection, new: &NewRejection<'_>) -> Result<i64> {
    let body = &new.body[..new.body.len().min(REJECTED_BODY_MAX)];
    conn.prepare_cached(
        "INSERT INTO rejected_deliveries (provider, connection_id, received_at, http_status, reason_code, reason,
                                          delivery_id, headers, body, body_size, remote_addr)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        new.provider,
        new.connection_id,
        new.received_at,
        new.http_status,
        new.reason_code,
        new.reason,
        new.delivery_id,
        new.headers_json,
        body,
        new.body_size as i64,
        new.remote_addr
    ])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached("DELETE FROM rejected_deliveries WHERE id <= ?1")?.execute([id - REJECTED_KEEP])?;
    Ok(id)
}

#[derive(Debug, Clone)]
pub struct RejectionRow {
    pub id: i64,
    pub provider: String,
    pub connection_id: String,
    pub received_at: i64,
    pub http_status: i64,
    pub reason_code: String,
    pub reason: String,
    pub delivery_id: Option<String>,
    pub body_size: i64,
    pub remote_addr: Option<String>,
    pub headers: Option<String>,
    pub body: Option<Vec<u8>>,
}

const REJECTION_COLUMNS: &str =
    "id, provider, connection_id, received_at, http_status, reason_code, reason, delivery_id, body_size, remote_addr";

fn rejection(row: &Row<'_>) -> rusqlite::Result<RejectionRow> {
    Ok(RejectionRow {
        id: row.get(0)?,
        provider: row.get(1)?,
        connection_id: row.get(2)?,
        received_at: row.get(3)?,
        http_status: row.get(4)?,
        reason_code: row.get(5)?,
        reason: row.get(6)?,
        delivery_id: row.get(7)?,
        body_size: row.get(8)?,
        remote_addr: row.get(9)?,
        headers: None,
        body: None,
    })
}

pub fn list_rejections(
    conn: &Connection,
    provider: Option<&str>,
    query: Option<&str>,
    site: Option<&str>,
    received: super::TimeRange,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<RejectionRow>> {
    // At most REJECTED_KEEP rows: a plain LIKE scan is fine here.
    let like = query.map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REJECTION_COLUMNS} FROM rejected_deliveries
         WHERE id < ?1 AND (?2 IS NULL OR provider = ?2)
           AND (?3 IS NULL OR CAST(body AS TEXT) LIKE ?3 ESCAPE '\\' OR reason LIKE ?3 ESCAPE '\\')
           AND (?5 IS NULL OR connection_id IN (SELECT id FROM connections WHERE site_id = ?5))
           AND (?6 IS NULL OR received_at >= ?6) AND (?7 IS NULL OR received_at < ?7)
         ORDER BY id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![before.unwrap_or(i64::MAX), provider, like, limit as i64, site, received.from_ms, received.to_ms],
        rejection,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get_rejection(conn: &Connection, id: i64) -> Result<Option<RejectionRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {REJECTION_COLUMNS}, headers, body FROM rejected_deliveries WHERE id = ?1"),
            [id],
            |row| {
                let mut r = rejection(row)?;
                r.headers = row.get(10)?;
                r.body = row.get(11)?;
                Ok(r)
            },
        )
        .optional()?)
}

/// Counts rows, for tests and the benchmark.
pub fn count(conn: &Connection, table: &str) -> Result<i64> {
    if !matches!(table, "deliveries" | "rejected_deliveries" | "payments" | "refunds") {
        return Err(StoreError::Corrupt(format!("no table {table}")));
    }
    Ok(conn.prepare_cached(&format!("SELECT count(*) FROM {table}"))?.query_row([], |r| r.get(0))?)
}

/// A page of deliveries with their headers and raw bodies, oldest first after `after` (id), for
/// exports; `site` narrows them to one site.
pub fn export_page(conn: &Connection, site: Option<&str>, after: i64, limit: usize) -> Result<Vec<DeliveryRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS}, headers, body FROM deliveries
         WHERE id > ?1 AND (?2 IS NULL OR site_id = ?2) ORDER BY id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![after, site, limit as i64], |row| {
        let mut d = summary(row)?;
        d.headers = row.get(13)?;
        d.body = row.get(14)?;
        Ok(d)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
