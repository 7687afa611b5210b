//! The `test_runs` table and what makes a payment a test payment.
//!
//! A test payment must never count as revenue, and a real one must never be taken for a test.
//! So a payment is a test only when Faurya itself started the run that produced it: the payment
//! id carried by a payload Faurya built (or handed to Paddle's simulator) is registered here
//! before anything is sent, and when the provider builds the payload (Whop's test), the delivery
//! Faurya's own answer named is registered after. Nothing in a payload can declare itself a test.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, now_ms};

/// Registers a run before anything is sent.
pub fn start(conn: &Connection, id: &str, connection_id: &str, via: &str, payment_id: Option<&str>) -> Result<()> {
    conn.execute(
        "INSERT INTO test_runs (id, connection_id, via, provider_payment_id, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, connection_id, via, payment_id, now_ms()],
    )?;
    Ok(())
}

/// Records how the run ended (the run as the API answers it).
pub fn finish(conn: &Connection, id: &str, ok: bool, result_json: &str) -> Result<()> {
    conn.execute(
        "UPDATE test_runs SET finished_at = ?2, ok = ?3, result = ?4 WHERE id = ?1",
        params![id, now_ms(), ok, result_json],
    )?;
    Ok(())
}

/// Ties a run to the delivery it produced, and marks that delivery's payment (if it was already
/// processed) as a test. Processing marks it otherwise: see [`mark_if_test`]. Only a delivery of
/// the run's own connection that arrived during the run qualifies: the id comes from an answer
/// read over the network, and must not be able to take an older, real payment out of revenue.
/// Returns whether it was tied.
pub fn attach_delivery(conn: &Connection, id: &str, delivery: i64) -> Result<bool> {
    let tied = conn.execute(
        "UPDATE test_runs SET delivery = ?2 WHERE id = ?1 AND EXISTS (
             SELECT 1 FROM deliveries d WHERE d.id = ?2 AND d.connection_id = test_runs.connection_id
               AND d.received_at >= test_runs.started_at AND d.duplicate_of IS NULL)",
        params![id, delivery],
    )?;
    if tied == 0 {
        return Ok(false);
    }
    conn.execute(
        "UPDATE payments SET origin = 'test' WHERE origin != 'test'
           AND id = (SELECT payment_id FROM deliveries WHERE id = ?1 AND status = 'processed')
           AND delivery_id = ?1",
        [delivery],
    )?;
    Ok(true)
}

/// Called when `delivery` has just created `payment`: marks it a test when a run of this
/// connection registered its payment id or the delivery. Returns whether it did.
pub fn mark_if_test(
    conn: &Connection,
    connection_id: &str,
    provider_payment_id: &str,
    delivery: i64,
    payment: i64,
) -> Result<bool> {
    let is_test = conn
        .prepare_cached(
            "SELECT 1 FROM test_runs WHERE connection_id = ?1 AND (provider_payment_id = ?2 OR delivery = ?3) LIMIT 1",
        )?
        .exists(params![connection_id, provider_payment_id, delivery])?;
    if is_test {
        conn.prepare_cached("UPDATE payments SET origin = 'test' WHERE id = ?1")?.execute([payment])?;
    }
    Ok(is_test)
}

/// The latest run of each connection, as stored JSON.
pub fn latest(conn: &Connection) -> Result<std::collections::HashMap<String, String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT connection_id, result FROM test_runs t
         WHERE result IS NOT NULL AND started_at = (SELECT max(started_at) FROM test_runs u
                                                    WHERE u.connection_id = t.connection_id AND u.result IS NOT NULL)",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Where a processed delivery stands: its status, error or note, and payment.
pub struct DeliveryState {
    pub status: String,
    pub error: Option<String>,
    pub note: Option<String>,
    pub payment_id: Option<i64>,
}

pub fn delivery_state(conn: &Connection, delivery: i64) -> Result<Option<DeliveryState>> {
    Ok(conn
        .query_row("SELECT status, error, note, payment_id FROM deliveries WHERE id = ?1", [delivery], |r| {
            Ok(DeliveryState { status: r.get(0)?, error: r.get(1)?, note: r.get(2)?, payment_id: r.get(3)? })
        })
        .optional()?)
}

/// Removes a test payment with its refunds and the deliveries that brought it (and their
/// repeats and forwarding attempts). Refuses a payment that is not a test: real payments are
/// the record of revenue. Returns false when there is no such payment.
pub fn remove_test_payment(conn: &Connection, payment: i64) -> Result<bool> {
    let found: Option<(String, String, String, Option<i64>)> = conn
        .query_row(
            "SELECT origin, provider, provider_payment_id, delivery_id FROM payments WHERE id = ?1",
            [payment],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((origin, provider, provider_payment_id, first_delivery)) = found else { return Ok(false) };
    if origin != "test" {
        return Err(StoreError::Conflict(
            "Only test payments can be removed; real payments are the record of your revenue.".into(),
        ));
    }
    // The deliveries that brought it (and its refunds), then their repeats.
    let mut deliveries: Vec<i64> = {
        let mut stmt = conn.prepare(
            "SELECT id FROM deliveries WHERE payment_id = ?1 OR id = ?2
             UNION SELECT delivery_id FROM refunds WHERE provider = ?3 AND provider_payment_id = ?4
                                                 AND delivery_id IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![payment, first_delivery, provider, provider_payment_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let repeats: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT id FROM deliveries WHERE duplicate_of = ?1")?;
        let mut all = Vec::new();
        for d in &deliveries {
            all.extend(stmt.query_map([d], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?);
        }
        all
    };
    deliveries.extend(repeats);
    conn.execute("UPDATE payments SET delivery_id = NULL WHERE id = ?1", [payment])?;
    conn.execute(
        "DELETE FROM refunds WHERE provider = ?1 AND provider_payment_id = ?2",
        params![provider, provider_payment_id],
    )?;
    // Repeats first: they point at their originals.
    for d in deliveries.iter().rev() {
        conn.execute("DELETE FROM forward_attempts WHERE delivery = ?1", [d])?;
        conn.execute("DELETE FROM deliveries_fts WHERE rowid = ?1", [d])?;
        conn.execute("UPDATE test_runs SET delivery = NULL WHERE delivery = ?1", [d])?;
        conn.execute("DELETE FROM deliveries WHERE id = ?1", [d])?;
    }
    conn.execute("DELETE FROM payments WHERE id = ?1", [payment])?;
    // The runs that made it no longer point at rows whose ids SQLite may hand out again.
    conn.execute(
        "UPDATE test_runs SET result = json_set(result, '$.delivery_id', NULL, '$.payment_id', NULL)
         WHERE result IS NOT NULL AND json_extract(result, '$.payment_id') = ?1",
        [payment],
    )?;
    super::forwards::rewind_after_delete(conn)?;
    Ok(true)
}

/// Every test payment's id (for "Remove all test payments").
pub fn test_payment_ids(conn: &Connection, site: Option<&str>) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM payments WHERE origin = 'test' AND (?1 IS NULL OR site_id = ?1)")?;
    let rows = stmt.query_map([site], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
