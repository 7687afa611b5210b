//! Payments ↔ sessions: the resolved visitor and session of each payment, the session each model
//! credits (with its channel, source, campaign, landing page and referrer copied beside it), the
//! late linking of payments whose sessions arrive after them, and the attribution table.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use crate::attribution::link::{Resolved, Status};
use crate::attribution::models::{self, Model, Visit};

/// Records what a payment's checkout resolved to, unless the payment already has an equal or
/// better attribution (a verified token beats plain ids beats an untrusted token). Then links it.
pub fn assign(conn: &Connection, payment: i64, resolved: &Resolved) -> Result<()> {
    let current: Option<String> = conn
        .prepare_cached("SELECT attribution_status FROM payments WHERE id = ?1")?
        .query_row([payment], |r| r.get(0))
        .optional()?;
    let Some(current) = current else { return Ok(()) };
    if resolved.status <= Status::parse(&current) && current != "none" {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE payments SET attr_visitor = ?2, attr_session = ?3, attribution_status = ?4, attribution_note = ?5
         WHERE id = ?1",
    )?
    .execute(params![
        payment,
        resolved.visitor_id,
        resolved.session_id,
        resolved.status.as_str(),
        resolved.note
    ])?;
    relink(conn, payment)
}

/// A session as the models and the reports see it.
struct Brief {
    visit: Visit,
    channel: String,
    source: String,
    campaign: Option<String>,
    landing: String,
    referrer: Option<String>,
}

fn visits_of(conn: &Connection, site: &str, visitor: &str) -> Result<Vec<Brief>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, session_id, started_at, channel, coalesce(source, 'Direct'), utm_campaign, landing_page, referrer_host
         FROM sessions WHERE site_id = ?1 AND visitor_id = ?2 ORDER BY started_at, id LIMIT 1000",
    )?;
    let rows = stmt
        .query_map(params![site, visitor], |r| {
            let channel: String = r.get(3)?;
            Ok(Brief {
                visit: Visit {
                    rowid: r.get(0)?,
                    session_id: r.get(1)?,
                    started_at: r.get(2)?,
                    direct: channel == "Direct",
                },
                channel,
                source: r.get(4)?,
                campaign: r.get(5)?,
                landing: r.get(6)?,
                referrer: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// (Re)computes the three models of a payment from its resolved visitor and session and the
/// sessions stored now. Idempotent; called again when a late session lands.
pub fn relink(conn: &Connection, payment: i64) -> Result<()> {
    // (site, visitor, session, paid at)
    type Linked = (Option<String>, Option<String>, Option<String>, i64);
    let row: Option<Linked> = conn
        .query_row(
            "SELECT site_id, attr_visitor, attr_session, coalesce(paid_at, created_at) FROM payments WHERE id = ?1",
            [payment],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((Some(site), mut visitor, session, paid_at)) = row else { return Ok(()) };
    // The checkout's session names its visitor: a payment that carried only a session id, or
    // plain ids that disagree, is modelled on the session's visitor.
    if let Some(session) = &session {
        let owner: Option<String> = conn
            .prepare_cached("SELECT visitor_id FROM sessions WHERE site_id = ?1 AND session_id = ?2")?
            .query_row(params![site, session], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner
            && visitor.as_deref() != Some(owner.as_str())
        {
            conn.prepare_cached("UPDATE payments SET attr_visitor = ?2 WHERE id = ?1")?
                .execute(params![payment, owner])?;
            visitor = Some(owner);
        }
    }
    let visits = match &visitor {
        Some(visitor) => visits_of(conn, &site, visitor)?,
        None => Vec::new(),
    };
    let plain: Vec<Visit> = visits.iter().map(|b| b.visit.clone()).collect();
    let credit = models::credit(&plain, session.as_deref(), paid_at);
    let pick = |i: Option<usize>| i.map(|i| &visits[i]);
    let mut stmt = conn.prepare_cached(
        "UPDATE payments SET
            ft_session = ?2, ft_channel = ?3, ft_source = ?4, ft_campaign = ?5, ft_landing = ?6, ft_referrer = ?7,
            lt_session = ?8, lt_channel = ?9, lt_source = ?10, lt_campaign = ?11, lt_landing = ?12, lt_referrer = ?13,
            lnd_session = ?14, lnd_channel = ?15, lnd_source = ?16, lnd_campaign = ?17, lnd_landing = ?18, lnd_referrer = ?19
         WHERE id = ?1 AND NOT (ft_session IS ?2 AND ft_channel IS ?3 AND ft_source IS ?4 AND ft_campaign IS ?5
                               AND ft_landing IS ?6 AND ft_referrer IS ?7 AND lt_session IS ?8 AND lt_channel IS ?9
                               AND lt_source IS ?10 AND lt_campaign IS ?11 AND lt_landing IS ?12 AND lt_referrer IS ?13
                               AND lnd_session IS ?14 AND lnd_channel IS ?15 AND lnd_source IS ?16
                               AND lnd_campaign IS ?17 AND lnd_landing IS ?18 AND lnd_referrer IS ?19)",
    )?;
    // Only a real change is written: the rollup triggers then run once per change, not per look.
    let mut values: Vec<rusqlite::types::Value> = vec![payment.into()];
    for touch in [pick(credit.first_touch), pick(credit.last_touch), pick(credit.last_non_direct)] {
        values.push(touch.map(|b| b.visit.rowid).into());
        values.push(touch.map(|b| b.channel.clone()).into());
        values.push(touch.map(|b| b.source.clone()).into());
        values.push(touch.and_then(|b| b.campaign.clone()).into());
        values.push(touch.map(|b| b.landing.clone()).into());
        values.push(touch.and_then(|b| b.referrer.clone()).into());
    }
    stmt.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Late linking: a session of `visitor` (id `session_id`) was just stored; the payments that
/// name this visitor or this session are linked again. Answers their ids.
pub fn relink_for_session(conn: &Connection, site: &str, visitor: &str, session_id: &str) -> Result<Vec<i64>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM payments WHERE site_id = ?1 AND attr_visitor = ?2
             UNION SELECT id FROM payments WHERE site_id = ?1 AND attr_session = ?3",
        )?
        .query_map(params![site, visitor, session_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        relink(conn, *id)?;
    }
    Ok(ids)
}

/// What the attribution table groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Channel,
    Source,
    Campaign,
    LandingPage,
    Referrer,
}

impl By {
    pub const ALL: [By; 5] = [By::Channel, By::Source, By::Campaign, By::LandingPage, By::Referrer];

    pub fn as_str(self) -> &'static str {
        match self {
            By::Channel => "channel",
            By::Source => "source",
            By::Campaign => "campaign",
            By::LandingPage => "landing_page",
            By::Referrer => "referrer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

/// The key shown for payments whose session had no campaign / no referrer.
pub const NO_VALUE: &str = "(none)";

/// (key, payments, net minor units) rows, and the unattributed (payments, net).
pub type ModelRows = (Vec<(String, i64, i64)>, (i64, i64));

/// Per key: (payments, net minor units) of one model, in one currency, over a day range, from the
/// rollups the payments triggers keep (migration 0007). Test payments never count. Also answers
/// the unattributed (payments, net).
pub fn model_rows(
    conn: &Connection,
    site: &str,
    model: Model,
    by: By,
    currency: &str,
    first_day: i64,
    last_day: i64,
) -> Result<ModelRows> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, sum(payments), sum(net_minor) FROM attribution_daily
         WHERE site_id = ?1 AND model = ?2 AND dimension = ?3 AND currency = ?4 AND day BETWEEN ?5 AND ?6
         GROUP BY key HAVING sum(payments) != 0 ORDER BY 3 DESC, 1",
    )?;
    let mut rows = Vec::new();
    let mut unattributed = (0, 0);
    for row in stmt.query_map(params![site, model.as_str(), by.as_str(), currency, first_day, last_day], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    })? {
        match row? {
            (key, payments, net) if key.is_empty() => unattributed = (payments, net),
            (key, payments, net) => rows.push((key, payments, net)),
        }
    }
    Ok((rows, unattributed))
}

/// Currencies with payments in the day range, most revenue first (from the revenue rollups).
pub fn currencies(conn: &Connection, site: &str, first_day: i64, last_day: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT currency FROM revenue_daily WHERE site_id = ?1 AND day BETWEEN ?2 AND ?3
         GROUP BY currency HAVING sum(payments) > 0 ORDER BY sum(gross_minor) DESC, currency",
    )?;
    let rows = stmt.query_map(params![site, first_day, last_day], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Visitors per key of the traffic dimension matching `by`, from the daily rollups.
pub fn visitors_by(
    conn: &Connection,
    site: &str,
    by: By,
    first_day: i64,
    last_day: i64,
) -> Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, sum(visitors) FROM traffic_daily
         WHERE site_id = ?1 AND dimension = ?2 AND day BETWEEN ?3 AND ?4 GROUP BY key",
    )?;
    let rows = stmt
        .query_map(params![site, by.as_str(), first_day, last_day], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// All visitors over the window (the 'total' rollup).
pub fn total_visitors(conn: &Connection, site: &str, first_day: i64, last_day: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(visitors), 0) FROM traffic_daily
         WHERE site_id = ?1 AND dimension = 'total' AND day BETWEEN ?2 AND ?3",
        )?
        .query_row(params![site, first_day, last_day], |r| r.get(0))?)
}

/// Key (None: unattributed) → (payments, net) under first touch, last touch, last non-direct.
pub type AllModels = HashMap<Option<String>, [(i64, i64); 3]>;

/// Per key, the three models' (payments, net) over a day range, for the side-by-side comparison.
pub fn all_models(
    conn: &Connection,
    site: &str,
    by: By,
    currency: &str,
    first_day: i64,
    last_day: i64,
) -> Result<AllModels> {
    let mut out = AllModels::new();
    for (i, model) in Model::ALL.into_iter().enumerate() {
        let (rows, unattributed) = model_rows(conn, site, model, by, currency, first_day, last_day)?;
        for (key, payments, net) in rows {
            out.entry(Some(key)).or_default()[i] = (payments, net);
        }
        if unattributed.0 != 0 {
            out.entry(None).or_default()[i] = unattributed;
        }
    }
    Ok(out)
}
