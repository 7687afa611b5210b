//! The `forward_attempts` table: the queue of deliveries to forward to the founder's handler and
//! the record of each attempt.
//!
//! New deliveries are found by a cursor over `deliveries.id` (kept in settings as
//! `forward.cursor`) rather than queued by the ingest transaction, so forwarding adds nothing to
//! the acknowledged write. Ids grow in commit order (one writer), so the cursor misses nothing.
//! A picked attempt is leased (its `next_attempt_at` moved ahead) while it is sent; a crash in
//! between sends it again after the lease: at least once, as providers deliver.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, now_ms, rfc3339, settings};

const CURSOR_KEY: &str = "forward.cursor";
/// How long a picked attempt is kept from being picked again while it is sent.
pub const LEASE_MS: i64 = 60_000;
/// The most bytes of a target's answer that are kept.
pub const BODY_KEEP: usize = 2048;

/// Queues the deliveries stored since the last call for connections that forward. Deliveries
/// Faurya made itself (backfilled ones) are not forwarded: no provider sent them. The first
/// call starts at the newest delivery, so turning forwarding on never replays history.
/// Returns how many were queued.
pub fn enqueue_new(conn: &Connection) -> Result<usize> {
    enqueue_up_to(conn, 1000)
}

/// Queues everything up to the newest delivery (for connections that forward now) and moves the
/// cursor there: done before a target is set, so it gets only what arrives after.
pub fn catch_up(conn: &Connection) -> Result<()> {
    enqueue_up_to(conn, i64::MAX).map(|_| ())
}

/// Whether the worker has anything to do: a connection forwards, or an attempt is queued.
pub fn is_active(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM connections WHERE forward_url IS NOT NULL AND status = 'active')
                 OR EXISTS (SELECT 1 FROM forward_attempts WHERE next_attempt_at IS NOT NULL)",
        )?
        .query_row([], |r| r.get(0))?)
}

fn enqueue_up_to(conn: &Connection, most: i64) -> Result<usize> {
    let newest: i64 =
        conn.prepare_cached("SELECT coalesce(max(id), 0) FROM deliveries")?.query_row([], |r| r.get(0))?;
    let Some(cursor) = settings::get(conn, CURSOR_KEY)?.and_then(|v| v.parse::<i64>().ok()) else {
        settings::set(conn, CURSOR_KEY, &newest.to_string())?;
        return Ok(0);
    };
    if newest <= cursor {
        return Ok(0);
    }
    let upto = newest.min(cursor.saturating_add(most));
    let now = now_ms();
    let queued = conn
        .prepare_cached(
            "INSERT INTO forward_attempts (delivery, url, attempt, manual, state, created_at, next_attempt_at)
         SELECT d.id, c.forward_url, 1, 0, 'pending', ?3, ?3
         FROM deliveries d JOIN connections c ON c.id = d.connection_id
         WHERE d.id > ?1 AND d.id <= ?2 AND c.forward_url IS NOT NULL
               AND d.delivery_id NOT LIKE ?4 || '%'
         ORDER BY d.id",
        )?
        .execute(params![cursor, upto, now, super::deliveries::BACKFILL_PREFIX])?;
    settings::set(conn, CURSOR_KEY, &upto.to_string())?;
    Ok(queued)
}

/// Called in the transaction that deleted deliveries (removing test payments): SQLite gives the
/// next delivery the id after the highest one left, so a cursor past it would skip the next
/// deliveries. Moving it back in the same transaction leaves no gap for one to slip through.
pub fn rewind_after_delete(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE settings SET value = CAST((SELECT coalesce(max(id), 0) FROM deliveries) AS TEXT)
         WHERE key = ?1 AND CAST(value AS INTEGER) > (SELECT coalesce(max(id), 0) FROM deliveries)",
        [CURSOR_KEY],
    )?;
    Ok(())
}

/// Follows a change of a connection's target: its queued automatic attempts go to the new URL,
/// or, when forwarding stops (or the connection is removed), are cancelled, so nothing keeps
/// going to a target the founder took away. Returns how many queued attempts it changed.
pub fn retarget(conn: &Connection, connection_id: &str, url: Option<&str>) -> Result<usize> {
    let queued = "sent_at IS NULL AND manual = 0 AND next_attempt_at IS NOT NULL
                  AND delivery IN (SELECT id FROM deliveries WHERE connection_id = ?1)";
    Ok(match url {
        Some(url) => {
            conn.execute(&format!("UPDATE forward_attempts SET url = ?2 WHERE {queued}"), params![connection_id, url])?
        }
        None => conn.execute(
            &format!(
                "UPDATE forward_attempts SET state = 'failed', next_attempt_at = NULL,
                        error = 'not sent: forwarding was stopped before this attempt' WHERE {queued}"
            ),
            params![connection_id],
        )?,
    })
}

/// An attempt due to be sent, with what to send.
pub struct Due {
    pub id: i64,
    pub delivery: i64,
    pub url: String,
    pub attempt: i64,
    pub headers_json: String,
    pub body: Vec<u8>,
    /// A test payment's delivery (the handler is told, so it need not count it as a sale).
    pub is_test: bool,
}

/// Whether a delivery brought a test payment (or is tied to a test run).
pub const IS_TEST_SQL: &str = "(EXISTS (SELECT 1 FROM test_runs t WHERE t.delivery = d.id)
     OR EXISTS (SELECT 1 FROM payments p WHERE p.delivery_id = d.id AND p.origin = 'test'))";

/// Takes up to `limit` due attempts, oldest first, and leases them.
pub fn take_due(conn: &Connection, limit: usize) -> Result<Vec<Due>> {
    let now = now_ms();
    let due: Vec<Due> = {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT f.id, f.delivery, f.url, f.attempt, d.headers, d.body, {IS_TEST_SQL}
             FROM forward_attempts f JOIN deliveries d ON d.id = f.delivery
             WHERE f.next_attempt_at IS NOT NULL AND f.next_attempt_at <= ?1
             ORDER BY f.next_attempt_at, f.id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now, limit as i64], |r| {
            Ok(Due {
                id: r.get(0)?,
                delivery: r.get(1)?,
                url: r.get(2)?,
                attempt: r.get(3)?,
                headers_json: r.get(4)?,
                body: r.get(5)?,
                is_test: r.get(6)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut lease = conn.prepare_cached("UPDATE forward_attempts SET next_attempt_at = ?2 WHERE id = ?1")?;
    for d in &due {
        lease.execute(params![d.id, now + LEASE_MS])?;
    }
    Ok(due)
}

/// When the next attempt falls due (to sleep until then), if any is queued.
pub fn next_due_at(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT min(next_attempt_at) FROM forward_attempts WHERE next_attempt_at IS NOT NULL")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten())
}

/// What one send found.
#[derive(Clone, Debug, Default)]
pub struct Sent {
    pub sent_at: i64,
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub response_body: Vec<u8>,
    pub response_truncated: bool,
    pub error: Option<String>,
}

impl Sent {
    pub fn ok(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an automatic attempt's outcome: delivered, or failed with the next attempt queued at
/// `retry_at`, or given up when there is none.
pub fn record(conn: &Connection, id: i64, sent: &Sent, retry_at: Option<i64>) -> Result<()> {
    let state = match (sent.ok(), retry_at) {
        (true, _) => "delivered",
        (false, Some(_)) => "retrying",
        (false, None) => "failed",
    };
    write_outcome(conn, id, state, sent)?;
    if let (false, Some(at)) = (sent.ok(), retry_at) {
        conn.prepare_cached(
            "INSERT INTO forward_attempts (delivery, url, attempt, manual, state, created_at, next_attempt_at)
             SELECT delivery, url, attempt + 1, 0, 'pending', ?2, ?3 FROM forward_attempts WHERE id = ?1",
        )?
        .execute(params![id, now_ms(), at])?;
    }
    Ok(())
}

fn write_outcome(conn: &Connection, id: i64, state: &str, sent: &Sent) -> Result<()> {
    conn.prepare_cached(
        "UPDATE forward_attempts SET state = ?2, sent_at = ?3, status_code = ?4, duration_ms = ?5, response_body = ?6,
                response_truncated = ?7, error = ?8, next_attempt_at = NULL
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        state,
        sent.sent_at,
        sent.status_code,
        sent.duration_ms,
        sent.response_body,
        sent.response_truncated,
        sent.error
    ])?;
    Ok(())
}

/// Records a send made by hand ("Forward again"); it never changes the automatic queue.
pub fn record_manual(conn: &Connection, delivery: i64, url: &str, sent: &Sent) -> Result<i64> {
    let attempt: i64 = conn.query_row(
        "SELECT coalesce(max(attempt), 0) + 1 FROM forward_attempts WHERE delivery = ?1 AND manual = 1",
        [delivery],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO forward_attempts (delivery, url, attempt, manual, state, created_at) VALUES (?1, ?2, ?3, 1, 'pending', ?4)",
        params![delivery, url, attempt, now_ms()],
    )?;
    let id = conn.last_insert_rowid();
    write_outcome(conn, id, if sent.ok() { "delivered" } else { "failed" }, sent)?;
    Ok(id)
}

/// One attempt as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptView {
    pub id: i64,
    pub url: String,
    pub attempt: i64,
    pub manual: bool,
    /// When it was sent (queued, for one not sent yet).
    pub at: String,
    pub sent: bool,
    pub status_code: Option<u16>,
    pub duration_ms: Option<i64>,
    pub response_body: Option<String>,
    pub response_truncated: bool,
    pub error: Option<String>,
    pub ok: bool,
    pub next_retry_at: Option<String>,
}

/// A delivery's forwarding state: its latest automatic attempt's.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ForwardState {
    /// `pending` (queued), `retrying` (failed, tried again later), `delivered`, `failed` (given up).
    pub state: &'static str,
    pub status_code: Option<u16>,
    /// Attempts sent so far (automatic and by hand).
    pub attempts: i64,
}

/// Every attempt of a delivery, newest first.
pub fn attempts_of(conn: &Connection, delivery: i64) -> Result<Vec<AttemptView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, url, attempt, manual, coalesce(sent_at, created_at), sent_at IS NOT NULL, status_code, duration_ms,
                response_body, response_truncated, error, state, next_attempt_at
         FROM forward_attempts WHERE delivery = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([delivery], |r| {
        let state: String = r.get(11)?;
        let body: Option<Vec<u8>> = r.get(8)?;
        let sent: bool = r.get(5)?;
        let next: Option<i64> = r.get(12)?;
        Ok(AttemptView {
            id: r.get(0)?,
            url: r.get(1)?,
            attempt: r.get(2)?,
            manual: r.get(3)?,
            at: rfc3339(r.get(4)?),
            sent,
            status_code: r.get(6)?,
            duration_ms: r.get(7)?,
            response_body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
            response_truncated: r.get(9)?,
            error: r.get(10)?,
            ok: state == "delivered",
            next_retry_at: next.filter(|_| !sent).map(rfc3339),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The forwarding state of one delivery, if it was ever queued or forwarded.
pub fn state_of(conn: &Connection, delivery: i64) -> Result<Option<ForwardState>> {
    let latest: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT state, attempt FROM forward_attempts WHERE delivery = ?1 AND manual = 0 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([delivery], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (sent, status): (i64, Option<u16>) = conn
        .prepare_cached(
            "SELECT count(*), (SELECT status_code FROM forward_attempts WHERE delivery = ?1 AND sent_at IS NOT NULL
                                ORDER BY id DESC LIMIT 1)
             FROM forward_attempts WHERE delivery = ?1 AND sent_at IS NOT NULL",
        )?
        .query_row([delivery], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let state = match latest {
        Some((state, attempt)) => match state.as_str() {
            "delivered" => "delivered",
            "failed" => "failed",
            // A queued retry, or the failed attempt a retry follows.
            _ if attempt > 1 || state == "retrying" => "retrying",
            _ => "pending",
        },
        // Only sent by hand.
        None if sent > 0 => {
            if status.is_some_and(|s| (200..300).contains(&s)) {
                "delivered"
            } else {
                "failed"
            }
        }
        None => return Ok(None),
    };
    Ok(Some(ForwardState { state, status_code: status, attempts: sent }))
}
