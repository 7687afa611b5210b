//! The `payments` and `refunds` tables. A payment is recorded once per (provider, provider
//! payment id), whichever delivery brings it; a refund once per (provider, refund id), linked
//! to its payment by the provider's payment id (so it may arrive first).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Result, now_ms};
use crate::providers::event::{PaymentFact, RefundFact};

/// What applying a fact did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Created(i64),
    /// It existed; these fields were filled in or changed.
    Updated {
        id: i64,
        changes: Vec<String>,
    },
    /// It existed with nothing new: a repeat through another delivery.
    Unchanged {
        id: i64,
        first_delivery: Option<i64>,
    },
}

impl Applied {
    pub fn id(&self) -> i64 {
        match self {
            Applied::Created(id) | Applied::Updated { id, .. } | Applied::Unchanged { id, .. } => *id,
        }
    }
}

/// Statuses in the order they happen, so a late `paid` never overwrites `completed`.
fn status_rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "paid" => 1,
        "succeeded" | "completed" => 2,
        _ => 1,
    }
}

/// What `apply_payment` compares a repeat against: (id, amount, currency, status, [visitor,
/// session, token, order, email], paid at, first delivery).
type Recorded = (i64, i64, String, String, [Option<String>; 5], Option<i64>, Option<i64>);

fn recorded(conn: &Connection, provider: &str, provider_payment_id: &str) -> Result<Option<Recorded>> {
    Ok(conn
        .query_row(
            "SELECT id, amount_minor, currency, status, visitor_id, session_id, attribution_token, order_id,
                    customer_email, paid_at, delivery_id
             FROM payments WHERE provider = ?1 AND provider_payment_id = ?2",
            params![provider, provider_payment_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?],
                    r.get(9)?,
                    r.get(10)?,
                ))
            },
        )
        .optional()?)
}

pub fn apply_payment(
    conn: &Connection,
    provider: &str,
    connection_id: &str,
    fact: &PaymentFact,
    delivery: i64,
) -> Result<Applied> {
    let mut existing = recorded(conn, provider, &fact.provider_payment_id)?;
    let now = now_ms();
    // A payment the revenue API recorded first by order id alone (it had no provider payment id
    // yet) is this one: it takes the provider's ids instead of becoming a second payment.
    if existing.is_none()
        && let Some(order_id) = &fact.order_id
        && adopt_by_order(conn, provider, connection_id, order_id, &fact.provider_payment_id)?.is_some()
    {
        existing = recorded(conn, provider, &fact.provider_payment_id)?;
    }
    let Some((id, amount, currency, status, known, paid_at, first_delivery)) = existing else {
        conn.prepare_cached(
            "INSERT INTO payments (provider, connection_id, provider_payment_id, amount_minor, currency, status,
                                   visitor_id, session_id, attribution_token, order_id, customer_email, paid_at,
                                   created_at, updated_at, delivery_id, site_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14,
                     (SELECT site_id FROM connections WHERE id = ?2))",
        )?
        .execute(params![
            provider,
            connection_id,
            fact.provider_payment_id,
            fact.amount_minor,
            fact.currency,
            fact.status,
            fact.visitor_id,
            fact.session_id,
            fact.attribution_token,
            fact.order_id,
            fact.customer_email,
            fact.paid_at_ms,
            now,
            delivery
        ])?;
        return Ok(Applied::Created(conn.last_insert_rowid()));
    };

    // The first recorded amount stands: a payment's total does not change between the deliveries
    // that announce it, and revenue must not jump because a repeat disagrees.
    let mut changes = Vec::new();
    if amount != fact.amount_minor || currency != fact.currency {
        tracing::warn!(payment = %fact.provider_payment_id, "a later delivery reports another amount; keeping the first");
    }
    let new_status = if status_rank(&fact.status) > status_rank(&status) {
        changes.push(format!("status {status} → {}", fact.status));
        fact.status.clone()
    } else {
        status
    };
    let incoming = [&fact.visitor_id, &fact.session_id, &fact.attribution_token, &fact.order_id, &fact.customer_email];
    let names = ["visitor_id", "session_id", "attribution_token", "order_id", "customer_email"];
    let mut merged: Vec<Option<String>> = Vec::new();
    for ((old, new), name) in known.iter().zip(incoming).zip(names) {
        if old.is_none() && new.is_some() {
            changes.push(format!("{name} added"));
            merged.push(new.clone());
        } else {
            merged.push(old.clone());
        }
    }
    let paid_at = paid_at.or(fact.paid_at_ms);
    if changes.is_empty() {
        return Ok(Applied::Unchanged { id, first_delivery });
    }
    conn.prepare_cached(
        "UPDATE payments SET status = ?2, visitor_id = ?3, session_id = ?4, attribution_token = ?5, order_id = ?6,
                customer_email = ?7, paid_at = ?8, updated_at = ?9
         WHERE id = ?1",
    )?
    .execute(params![id, new_status, merged[0], merged[1], merged[2], merged[3], merged[4], paid_at, now])?;
    Ok(Applied::Updated { id, changes })
}

/// Prefix of the provider payment id of a payment the revenue API recorded by order id alone.
pub const ORDER_PLACEHOLDER: &str = "order:";

/// Gives a payment recorded by order id alone (same site and order) the provider's ids.
fn adopt_by_order(
    conn: &Connection,
    provider: &str,
    connection_id: &str,
    order_id: &str,
    provider_payment_id: &str,
) -> Result<Option<i64>> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT p.id FROM payments p
             WHERE p.site_id = (SELECT site_id FROM connections WHERE id = ?1) AND p.order_id = ?2
               AND p.provider_payment_id LIKE 'order:%'",
            params![connection_id, order_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = found {
        conn.prepare_cached(
            "UPDATE payments SET provider = ?2, provider_payment_id = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![id, provider, provider_payment_id, now_ms()])?;
    }
    Ok(found)
}

/// Refund statuses that mean "not decided yet" (Whop `pending`, `requires_action`; Paddle
/// `pending_approval`).
const UNDECIDED_REFUND: [&str; 3] = ["pending", "requires_action", "pending_approval"];

pub fn apply_refund(conn: &Connection, provider: &str, fact: &RefundFact, delivery: i64) -> Result<Applied> {
    let existing = conn
        .query_row(
            "SELECT id, status, amount_minor, counts, delivery_id FROM refunds
             WHERE provider = ?1 AND provider_refund_id = ?2",
            params![provider, fact.provider_refund_id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, bool>(3)?, r.get(4)?)),
        )
        .optional()?;
    let now = now_ms();
    let Some((id, status, amount, counts, first_delivery)) = existing else {
        conn.prepare_cached(
            "INSERT INTO refunds (provider, provider_refund_id, provider_payment_id, amount_minor, currency, status,
                                  counts, created_at, updated_at, delivery_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
        )?
        .execute(params![
            provider,
            fact.provider_refund_id,
            fact.provider_payment_id,
            fact.amount_minor,
            fact.currency,
            fact.status,
            fact.counts,
            now,
            delivery
        ])?;
        return Ok(Applied::Created(conn.last_insert_rowid()));
    };
    if status == fact.status && amount == fact.amount_minor && counts == fact.counts {
        return Ok(Applied::Unchanged { id, first_delivery });
    }
    // Providers retry and reorder: an "approved" may arrive before the "pending approval" it
    // followed. A refund that has been decided is not taken back to undecided by a late one.
    if UNDECIDED_REFUND.contains(&fact.status.as_str()) && !UNDECIDED_REFUND.contains(&status.as_str()) {
        return Ok(Applied::Unchanged { id, first_delivery });
    }
    conn.prepare_cached(
        "UPDATE refunds SET status = ?2, amount_minor = ?3, counts = ?4, updated_at = ?5 WHERE id = ?1",
    )?
    .execute(params![id, fact.status, fact.amount_minor, fact.counts, now])?;
    Ok(Applied::Updated { id, changes: vec![format!("status {status} → {}", fact.status)] })
}

/// The payment a provider payment id belongs to, if it has arrived.
pub fn payment_id_of(conn: &Connection, provider: &str, provider_payment_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM payments WHERE provider = ?1 AND provider_payment_id = ?2",
            params![provider, provider_payment_id],
            |r| r.get(0),
        )
        .optional()?)
}

#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: i64,
    pub provider: String,
    pub connection_id: String,
    pub provider_payment_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub refunded_minor: i64,
    pub visitor_id: Option<String>,
    pub session_id: Option<String>,
    pub attribution_token: Option<String>,
    pub order_id: Option<String>,
    pub customer_email: Option<String>,
    pub paid_at: Option<i64>,
    pub created_at: i64,
    pub delivery_id: Option<i64>,
    pub site_id: Option<String>,
    pub origin: String,
    pub attribution_status: String,
    pub attribution_note: Option<String>,
    pub attr_visitor: Option<String>,
    pub attr_session: Option<String>,
    /// first touch, last touch, last non-direct: the credited session's (rowid, channel, source,
    /// campaign, landing page, referrer host).
    pub touches: [Option<TouchRow>; 3],
    pub refunds: Vec<RefundRow>,
}

#[derive(Debug, Clone)]
pub struct TouchRow {
    pub session: i64,
    pub session_id: String,
    pub started_at: i64,
    pub channel: Option<String>,
    pub source: Option<String>,
    pub campaign: Option<String>,
    pub landing: Option<String>,
    pub referrer: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RefundRow {
    pub provider_refund_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub counts: bool,
    pub created_at: i64,
}

const PAYMENT_COLUMNS: &str = "p.id, p.provider, p.connection_id, p.provider_payment_id, p.amount_minor, p.currency, \
     p.status, \
     p.refunded_minor, \
     p.visitor_id, p.session_id, p.attribution_token, p.order_id, p.customer_email, p.paid_at, p.created_at, \
     p.delivery_id, p.site_id, p.origin, p.attribution_status, p.attribution_note, p.attr_visitor, p.attr_session, \
     p.ft_session, p.ft_channel, p.ft_source, p.ft_campaign, p.ft_landing, p.ft_referrer, \
     p.lt_session, p.lt_channel, p.lt_source, p.lt_campaign, p.lt_landing, p.lt_referrer, \
     p.lnd_session, p.lnd_channel, p.lnd_source, p.lnd_campaign, p.lnd_landing, p.lnd_referrer, \
     (SELECT session_id FROM sessions WHERE id = p.ft_session), (SELECT started_at FROM sessions WHERE id = p.ft_session), \
     (SELECT session_id FROM sessions WHERE id = p.lt_session), (SELECT started_at FROM sessions WHERE id = p.lt_session), \
     (SELECT session_id FROM sessions WHERE id = p.lnd_session), (SELECT started_at FROM sessions WHERE id = p.lnd_session)";

fn payment(row: &Row<'_>) -> rusqlite::Result<PaymentRow> {
    Ok(PaymentRow {
        id: row.get(0)?,
        provider: row.get(1)?,
        connection_id: row.get(2)?,
        provider_payment_id: row.get(3)?,
        amount_minor: row.get(4)?,
        currency: row.get(5)?,
        status: row.get(6)?,
        refunded_minor: row.get(7)?,
        visitor_id: row.get(8)?,
        session_id: row.get(9)?,
        attribution_token: row.get(10)?,
        order_id: row.get(11)?,
        customer_email: row.get(12)?,
        paid_at: row.get(13)?,
        created_at: row.get(14)?,
        delivery_id: row.get(15)?,
        site_id: row.get(16)?,
        origin: row.get(17)?,
        attribution_status: row.get(18)?,
        attribution_note: row.get(19)?,
        attr_visitor: row.get(20)?,
        attr_session: row.get(21)?,
        touches: [touch(row, 22, 40)?, touch(row, 28, 42)?, touch(row, 34, 44)?],
        refunds: Vec::new(),
    })
}

fn touch(row: &Row<'_>, at: usize, session_at: usize) -> rusqlite::Result<Option<TouchRow>> {
    let Some(session) = row.get::<_, Option<i64>>(at)? else { return Ok(None) };
    Ok(Some(TouchRow {
        session,
        session_id: row.get::<_, Option<String>>(session_at)?.unwrap_or_default(),
        started_at: row.get::<_, Option<i64>>(session_at + 1)?.unwrap_or_default(),
        channel: row.get(at + 1)?,
        source: row.get(at + 2)?,
        campaign: row.get(at + 3)?,
        landing: row.get(at + 4)?,
        referrer: row.get(at + 5)?,
    }))
}

fn with_refunds(conn: &Connection, mut payments: Vec<PaymentRow>) -> Result<Vec<PaymentRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_refund_id, amount_minor, currency, status, counts, created_at FROM refunds
         WHERE provider = ?1 AND provider_payment_id = ?2 ORDER BY id",
    )?;
    for p in &mut payments {
        let rows = stmt.query_map(params![p.provider, p.provider_payment_id], |r| {
            Ok(RefundRow {
                provider_refund_id: r.get(0)?,
                amount_minor: r.get(1)?,
                currency: r.get(2)?,
                status: r.get(3)?,
                counts: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        p.refunds = rows.collect::<rusqlite::Result<_>>()?;
    }
    Ok(payments)
}

/// A page of payments, newest first, with ids below `before`.
/// A page of payments, newest first, with ids below `before`; `paid` filters on when it was
/// paid (when it was recorded, for one not paid yet).
pub fn list(
    conn: &Connection,
    provider: Option<&str>,
    site: Option<&str>,
    paid: super::TimeRange,
    origin: Option<&str>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<PaymentRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p
         WHERE p.id < ?1 AND (?2 IS NULL OR p.provider = ?2) AND (?4 IS NULL OR p.site_id = ?4)
           AND (?5 IS NULL OR COALESCE(p.paid_at, p.created_at) >= ?5)
           AND (?6 IS NULL OR COALESCE(p.paid_at, p.created_at) < ?6)
           AND (?7 IS NULL OR p.origin = ?7)
         ORDER BY p.id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![before.unwrap_or(i64::MAX), provider, limit as i64, site, paid.from_ms, paid.to_ms, origin],
        payment,
    )?;
    with_refunds(conn, rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<PaymentRow>> {
    let row = conn
        .query_row(&format!("SELECT {PAYMENT_COLUMNS} FROM payments p WHERE p.id = ?1"), [id], payment)
        .optional()?;
    Ok(match row {
        Some(row) => with_refunds(conn, vec![row])?.pop(),
        None => None,
    })
}

/// Revenue per currency, for the Overview.
#[derive(Debug, Clone)]
pub struct CurrencyTotals {
    pub currency: String,
    pub payments: i64,
    pub attributed: i64,
    pub gross_minor: i64,
    pub refunded_minor: i64,
}

/// Per currency: totals over all time, and over payments made since `since` (unix ms). A
/// payment's time is when it was paid, else when it was recorded. Read from the daily revenue
/// rollups the store's triggers keep (migration 0005): a few rows per day, whatever the number
/// of payments.
pub fn totals(conn: &Connection, since: i64, site: Option<&str>) -> Result<Vec<(CurrencyTotals, CurrencyTotals)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT currency, sum(payments), sum(attributed), sum(gross_minor), sum(refunded_minor),
                sum(CASE WHEN day >= ?1 THEN payments END), sum(CASE WHEN day >= ?1 THEN attributed END),
                sum(CASE WHEN day >= ?1 THEN gross_minor END), sum(CASE WHEN day >= ?1 THEN refunded_minor END)
         FROM revenue_daily WHERE ?2 IS NULL OR site_id = ?2
         GROUP BY currency HAVING sum(payments) > 0 ORDER BY sum(gross_minor) DESC",
    )?;
    let rows = stmt
        .query_map(params![since.div_euclid(DAY_MS), site], |r| {
            let currency: String = r.get(0)?;
            let totals = |payments: Option<i64>, attributed: Option<i64>, gross: Option<i64>, refunded: Option<i64>| {
                CurrencyTotals {
                    currency: currency.clone(),
                    payments: payments.unwrap_or(0),
                    attributed: attributed.unwrap_or(0),
                    gross_minor: gross.unwrap_or(0),
                    refunded_minor: refunded.unwrap_or(0),
                }
            };
            Ok((totals(r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?), totals(r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

const DAY_MS: i64 = 86_400_000;

/// Net revenue per UTC day and currency since `since` (unix ms): (day start ms, currency, net).
pub fn daily_net(conn: &Connection, since: i64, site: Option<&str>) -> Result<Vec<(i64, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day * 86400000, currency, sum(gross_minor - refunded_minor) FROM revenue_daily
         WHERE day >= ?1 AND (?2 IS NULL OR site_id = ?2)
         GROUP BY day, currency HAVING sum(payments) > 0 ORDER BY day",
    )?;
    let rows = stmt.query_map(params![since.div_euclid(DAY_MS), site], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The payment a revenue API call refers to: by (provider, provider payment id) when it gives
/// one, else by its order id within the site. Answers (id, provider, provider payment id).
pub fn find_for_api(
    conn: &Connection,
    site: &str,
    provider: &str,
    provider_payment_id: Option<&str>,
    order_id: Option<&str>,
) -> Result<Option<(i64, String, String)>> {
    let row = |r: &Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
    if let Some(ppid) = provider_payment_id {
        let found = conn
            .query_row(
                "SELECT id, provider, provider_payment_id FROM payments WHERE provider = ?1 AND provider_payment_id = ?2",
                params![provider, ppid],
                row,
            )
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match order_id {
        Some(order) => Ok(conn
            .query_row(
                "SELECT id, provider, provider_payment_id FROM payments WHERE site_id = ?1 AND order_id = ?2
                 ORDER BY id LIMIT 1",
                params![site, order],
                row,
            )
            .optional()?),
        None => Ok(None),
    }
}

/// A purchase the revenue API reports.
pub struct ApiPurchase<'a> {
    pub site_id: &'a str,
    pub connection_id: &'a str,
    pub provider: &'a str,
    pub provider_payment_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub visitor_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub attribution_token: Option<&'a str>,
    pub delivery: i64,
}

/// Records a purchase from the revenue API (the caller checked it is new).
pub fn insert_api_purchase(conn: &Connection, p: &ApiPurchase<'_>) -> Result<i64> {
    let now = now_ms();
    let ppid = match (p.provider_payment_id, p.order_id) {
        (Some(ppid), _) => ppid.to_string(),
        (None, Some(order)) => format!("{ORDER_PLACEHOLDER}{order}"),
        (None, None) => return Err(super::StoreError::Conflict("a purchase needs an order id or a payment id".into())),
    };
    conn.prepare_cached("INSERT INTO payments (provider, connection_id, provider_payment_id, amount_minor, currency, status, visitor_id,
                               session_id, attribution_token, order_id, paid_at, created_at, updated_at, delivery_id,
                               site_id, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, 'succeeded', ?6, ?7, ?8, ?9, ?10, ?10, ?10, ?11, ?12, 'api')")?.execute(params![
            p.provider,
            p.connection_id,
            ppid,
            p.amount_minor,
            p.currency,
            p.visitor_id,
            p.session_id,
            p.attribution_token,
            p.order_id,
            now,
            p.delivery,
            p.site_id
        ])?;
    Ok(conn.last_insert_rowid())
}

/// The payments credited to a visitor, oldest first.
pub fn of_visitor(conn: &Connection, site: &str, visitor: &str) -> Result<Vec<PaymentRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p WHERE p.site_id = ?1 AND p.attr_visitor = ?2 ORDER BY p.id LIMIT 1000"
    ))?;
    let rows = stmt.query_map(params![site, visitor], payment)?;
    with_refunds(conn, rows.collect::<rusqlite::Result<_>>()?)
}
