//! Sessions, their events, and the daily traffic rollups the writer keeps beside them.
//!
//! A session is created by the first of its events to arrive, which freezes its entry fields;
//! later events only extend it (a new UTM or referrer inside a live session does not split it:
//! a payment gateway's return trip must never take the credit). Each session counts in the
//! rollups on the UTC day it started.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, rfc3339};
use crate::tracking::channel::TABLE_VERSION;
use crate::tracking::event::Accepted;

const DAY_MS: i64 = 86_400_000;

/// UTC day number of a unix-ms time.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The rollup dimensions and the key a session has under each (None: not counted there).
struct Keys {
    channel: String,
    source: String,
    campaign: Option<String>,
    landing_page: String,
    referrer: Option<String>,
}

impl Keys {
    fn each(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("total", Some("")),
            ("channel", Some(&self.channel)),
            ("source", Some(&self.source)),
            ("campaign", self.campaign.as_deref()),
            ("landing_page", Some(&self.landing_page)),
            ("referrer", self.referrer.as_deref()),
        ]
    }
}

/// A session without a source came straight in: "Direct" in the source table, as the channel.
const NO_SOURCE: &str = "Direct";

/// What one event adds to the rollups of its session's keys (`visitors` per dimension).
struct Delta {
    visitors: [i64; 6],
    sessions: i64,
    pageviews: i64,
    bounces: i64,
}

fn bump(conn: &Connection, site: &str, day: i64, keys: &Keys, delta: Delta) -> Result<()> {
    let Delta { visitors, sessions, pageviews, bounces } = delta;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO traffic_daily (site_id, dimension, day, key, visitors, sessions, pageviews, bounces)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (site_id, dimension, day, key) DO UPDATE SET
            visitors = visitors + excluded.visitors, sessions = sessions + excluded.sessions,
            pageviews = pageviews + excluded.pageviews, bounces = bounces + excluded.bounces",
    )?;
    for (i, (dimension, key)) in keys.each().into_iter().enumerate() {
        if let Some(key) = key {
            stmt.execute(params![site, dimension, day, key, visitors[i], sessions, pageviews, bounces])?;
        }
    }
    Ok(())
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    NewSession(i64),
    Extended(i64),
}

/// Applies one accepted event: creates or extends its session, keeps the rollups, stores the
/// event. Runs inside the writer's transaction.
pub fn apply(conn: &Connection, ev: &Accepted) -> Result<Applied> {
    let pv = i64::from(ev.is_pageview());
    let existing = conn
        .prepare_cached(
            "SELECT id, started_at, pageviews, channel, source, utm_campaign, landing_page, referrer_host
             FROM sessions WHERE site_id = ?1 AND session_id = ?2",
        )?
        .query_row(params![ev.site_id, ev.session_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                Keys {
                    channel: r.get(3)?,
                    source: r.get::<_, Option<String>>(4)?.unwrap_or_else(|| NO_SOURCE.into()),
                    campaign: r.get(5)?,
                    landing_page: r.get(6)?,
                    referrer: r.get(7)?,
                },
            ))
        })
        .optional()?;

    let applied = match existing {
        Some((id, started_at, pageviews, keys)) => {
            conn.prepare_cached(
                "UPDATE sessions SET last_seen_at = max(last_seen_at, ?2), pageviews = pageviews + ?3, events = events + 1
                 WHERE id = ?1",
            )?
            .execute(params![id, ev.at, pv])?;
            if pv == 1 {
                // A second pageview makes it no longer a bounce.
                let unbounce = if pageviews == 1 { -1 } else { 0 };
                let delta = Delta { visitors: [0; 6], sessions: 0, pageviews: 1, bounces: unbounce };
                bump(conn, &ev.site_id, day_of(started_at), &keys, delta)?;
            }
            Applied::Extended(id)
        }
        None => {
            let e = &ev.entry;
            conn.prepare_cached(
                "INSERT INTO sessions (site_id, session_id, visitor_id, started_at, last_seen_at, landing_url, landing_page,
                                       referrer, referrer_host, source, utm_source, utm_medium, utm_campaign, utm_term,
                                       utm_content, click_id, channel, channel_version, pageviews, events)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 1)",
            )?
            .execute(params![
                ev.site_id,
                ev.session_id,
                ev.visitor_id,
                ev.at,
                ev.url,
                e.landing_page,
                e.referrer,
                e.referrer_host,
                e.source,
                e.utm_source,
                e.utm_medium,
                e.utm_campaign,
                e.utm_term,
                e.utm_content,
                e.click_id,
                ev.channel.name(),
                TABLE_VERSION,
                pv
            ])?;
            let id = conn.last_insert_rowid();
            let keys = Keys {
                channel: ev.channel.name().to_string(),
                source: e.source.clone().unwrap_or_else(|| NO_SOURCE.into()),
                campaign: e.utm_campaign.clone(),
                landing_page: e.landing_page.clone(),
                referrer: e.referrer_host.clone(),
            };
            let visitors = first_of_day(conn, ev, id, &keys)?;
            bump(conn, &ev.site_id, day_of(ev.at), &keys, Delta { visitors, sessions: 1, pageviews: pv, bounces: pv })?;
            Applied::NewSession(id)
        }
    };
    let session = match applied {
        Applied::NewSession(id) | Applied::Extended(id) => id,
    };
    conn.prepare_cached(
        "INSERT INTO events (session, name, url, path, props, at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![session, ev.name, ev.url, ev.path, ev.props, ev.at, ev.received_at])?;
    Ok(applied)
}

/// For each dimension, 1 when this is the visitor's first session that day under that key
/// (so `visitors` counts each visitor once a day per key), else 0.
fn first_of_day(conn: &Connection, ev: &Accepted, new_id: i64, keys: &Keys) -> Result<[i64; 6]> {
    let day = day_of(ev.at);
    let mut stmt = conn.prepare_cached(
        "SELECT channel, source, utm_campaign, landing_page, referrer_host FROM sessions
         WHERE site_id = ?1 AND visitor_id = ?2 AND started_at >= ?3 AND started_at < ?4 AND id != ?5",
    )?;
    let earlier = stmt
        .query_map(params![ev.site_id, ev.visitor_id, day * DAY_MS, (day + 1) * DAY_MS, new_id], |r| {
            Ok(Keys {
                channel: r.get(0)?,
                source: r.get::<_, Option<String>>(1)?.unwrap_or_else(|| NO_SOURCE.into()),
                campaign: r.get(2)?,
                landing_page: r.get(3)?,
                referrer: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mine = keys.each();
    let mut out = [1; 6];
    for other in &earlier {
        for (i, (_, key)) in other.each().into_iter().enumerate() {
            if key.is_some() && key == mine[i].1 {
                out[i] = 0;
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub visitor_id: String,
    pub site_id: String,
    pub started_at: String,
    pub last_seen_at: String,
    pub landing_page: String,
    pub landing_url: String,
    pub referrer: Option<String>,
    pub source: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub click_id: Option<String>,
    pub channel: String,
    pub channel_version: i64,
    pub pageviews: i64,
    #[serde(skip)]
    pub rowid: i64,
    #[serde(skip)]
    pub started_ms: i64,
}

const SESSION_COLUMNS: &str = "session_id, visitor_id, site_id, started_at, last_seen_at, landing_page, landing_url, \
     referrer, source, utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_id, channel, channel_version, \
     pageviews, id";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<SessionView> {
    let started: i64 = r.get(3)?;
    Ok(SessionView {
        id: r.get(0)?,
        visitor_id: r.get(1)?,
        site_id: r.get(2)?,
        started_at: rfc3339(started),
        last_seen_at: rfc3339(r.get(4)?),
        landing_page: r.get(5)?,
        landing_url: r.get(6)?,
        referrer: r.get(7)?,
        source: r.get(8)?,
        utm_source: r.get(9)?,
        utm_medium: r.get(10)?,
        utm_campaign: r.get(11)?,
        utm_term: r.get(12)?,
        utm_content: r.get(13)?,
        click_id: r.get(14)?,
        channel: r.get(15)?,
        channel_version: r.get(16)?,
        pageviews: r.get(17)?,
        rowid: r.get(18)?,
        started_ms: started,
    })
}

/// Newest first under the filters; `before` is the (started_at, id) of the last one seen.
pub fn list(
    conn: &Connection,
    site: &str,
    since: i64,
    channel: Option<&str>,
    before: Option<(i64, i64)>,
    limit: usize,
) -> Result<Vec<SessionView>> {
    let (before_at, before_id) = before.unwrap_or((i64::MAX, i64::MAX));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions
         WHERE site_id = ?1 AND started_at >= ?2 AND (?3 IS NULL OR channel = ?3)
           AND (started_at < ?4 OR (started_at = ?4 AND id < ?5))
         ORDER BY started_at DESC, id DESC LIMIT ?6"
    ))?;
    let rows = stmt
        .query_map(params![site, since, channel, before_at, before_id, limit as i64], session_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// A session by the browser's id; `site` narrows it when the same id was sent for two sites.
/// Both forms are index lookups: `(site_id, session_id)` is unique, `session_id` indexed.
pub fn get(conn: &Connection, session_id: &str, site: Option<&str>) -> Result<Option<SessionView>> {
    let found = match site {
        Some(site) => conn
            .prepare_cached(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE site_id = ?1 AND session_id = ?2"))?
            .query_row(params![site, session_id], session_from_row)
            .optional()?,
        None => conn
            .prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = ?1 ORDER BY started_at LIMIT 1"
            ))?
            .query_row(params![session_id], session_from_row)
            .optional()?,
    };
    Ok(found)
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub name: String,
    pub url: String,
    pub path: String,
    pub at: String,
    pub props: Option<serde_json::Value>,
}

pub fn events_of(conn: &Connection, session_rowid: i64, limit: usize) -> Result<Vec<EventView>> {
    let mut stmt = conn
        .prepare_cached("SELECT name, url, path, at, props FROM events WHERE session = ?1 ORDER BY at, id LIMIT ?2")?;
    let rows = stmt
        .query_map(params![session_rowid, limit as i64], |r| {
            let props: Option<String> = r.get(4)?;
            Ok(EventView {
                name: r.get(0)?,
                url: r.get(1)?,
                path: r.get(2)?,
                at: rfc3339(r.get(3)?),
                props: props.and_then(|p| serde_json::from_str(&p).ok()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Totals of one rollup key over a day range.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrafficRow {
    pub key: String,
    pub visitors: i64,
    pub sessions: i64,
    pub pageviews: i64,
    pub bounces: i64,
}

/// Per-day totals (dimension 'total') from `first_day` to `last_day` inclusive.
pub fn daily_totals(conn: &Connection, site: &str, first_day: i64, last_day: i64) -> Result<Vec<(i64, TrafficRow)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, visitors, sessions, pageviews, bounces FROM traffic_daily
         WHERE site_id = ?1 AND dimension = 'total' AND day BETWEEN ?2 AND ?3 ORDER BY day",
    )?;
    let rows = stmt
        .query_map(params![site, first_day, last_day], |r| {
            Ok((
                r.get(0)?,
                TrafficRow {
                    key: String::new(),
                    visitors: r.get(1)?,
                    sessions: r.get(2)?,
                    pageviews: r.get(3)?,
                    bounces: r.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The top `limit` keys of a dimension over a day range, by visitors.
pub fn top(
    conn: &Connection,
    site: &str,
    dimension: &str,
    first_day: i64,
    last_day: i64,
    limit: usize,
) -> Result<Vec<TrafficRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, sum(visitors) AS v, sum(sessions) AS s, sum(pageviews), sum(bounces) FROM traffic_daily
         WHERE site_id = ?1 AND dimension = ?2 AND day BETWEEN ?3 AND ?4
         GROUP BY key ORDER BY v DESC, s DESC, key LIMIT ?5",
    )?;
    let rows = stmt
        .query_map(params![site, dimension, first_day, last_day, limit as i64], |r| {
            Ok(TrafficRow {
                key: r.get(0)?,
                visitors: r.get(1)?,
                sessions: r.get(2)?,
                pageviews: r.get(3)?,
                bounces: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Sessions whose channel was computed by an older table: (row id, landing URL, referrer).
pub fn stale_channels(
    conn: &Connection,
    site: &str,
    version: u32,
    limit: usize,
) -> Result<Vec<(i64, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, landing_url, referrer FROM sessions WHERE site_id = ?1 AND channel_version < ?2 LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![site, version, limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Stores a session's recomputed source and channel.
pub fn set_channel(conn: &Connection, id: i64, source: Option<&str>, channel: &str, version: u32) -> Result<()> {
    conn.prepare_cached("UPDATE sessions SET source = ?2, channel = ?3, channel_version = ?4 WHERE id = ?1")?
        .execute(params![id, source, channel, version])?;
    Ok(())
}

/// Rebuilds a site's rollups from its sessions, with the definitions the writer keeps them by
/// (after a channel table change moved sessions between keys).
pub fn rebuild_rollups(conn: &Connection, site: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM traffic_daily WHERE site_id = ?1")?.execute([site])?;
    for (dimension, expr, filter) in [
        ("total", "''", "1"),
        ("channel", "channel", "1"),
        ("source", "coalesce(source, 'Direct')", "1"),
        ("campaign", "utm_campaign", "utm_campaign IS NOT NULL"),
        ("landing_page", "landing_page", "1"),
        ("referrer", "referrer_host", "referrer_host IS NOT NULL"),
    ] {
        conn.prepare_cached(&format!(
            "INSERT INTO traffic_daily (site_id, dimension, day, key, visitors, sessions, pageviews, bounces)
                 SELECT site_id, '{dimension}', started_at / {DAY_MS}, {expr}, count(DISTINCT visitor_id), count(*),
                        sum(pageviews), sum(pageviews = 1)
                 FROM sessions WHERE site_id = ?1 AND {filter} GROUP BY started_at / {DAY_MS}, {expr}"
        ))?
        .execute([site])?;
    }
    Ok(())
}

/// A visitor's sessions, oldest first (at most 1,000), those started before `until` when given.
pub fn of_visitor(conn: &Connection, site: &str, visitor: &str, until: Option<i64>) -> Result<Vec<SessionView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE site_id = ?1 AND visitor_id = ?2 AND started_at <= ?3
         ORDER BY started_at, id LIMIT 1000"
    ))?;
    let rows = stmt
        .query_map(params![site, visitor, until.unwrap_or(i64::MAX)], session_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
