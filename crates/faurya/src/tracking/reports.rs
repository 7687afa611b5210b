//! What the admin API shows of tracking: sessions, one session's pages, the traffic overview
//! (from the daily rollups, never a scan of sessions) and live visitors.

use serde::Serialize;

use crate::http::error::ApiError;
use crate::store::sessions::{self, EventView, SessionView, TrafficRow, day_of};
use crate::store::{Store, now_ms, rfc3339};

const DAY_MS: i64 = 86_400_000;
/// Events shown with one session at most (a session with more is a bot or a very long visit).
const SESSION_EVENTS: usize = 500;

#[derive(Debug, Serialize)]
pub struct Live {
    pub visitors: i64,
    pub pages: Vec<LivePage>,
}

#[derive(Debug, Serialize)]
pub struct LivePage {
    pub path: String,
    pub visitors: i64,
}

#[derive(Debug, Serialize)]
pub struct SessionPage {
    pub sessions: Vec<SessionView>,
    /// Pass as `before` for the next page; `None` on the last.
    pub next: Option<String>,
}

/// Sessions of `site` started in the last `days` days, newest first.
pub async fn sessions(
    store: &Store,
    site: String,
    days: i64,
    channel: Option<String>,
    before: Option<String>,
    limit: usize,
) -> Result<SessionPage, ApiError> {
    let before = match before.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(parse_cursor(cursor).ok_or_else(|| ApiError::BadRequest {
            code: "invalid_query",
            message: "\"before\" is not a cursor from a previous page.".into(),
        })?),
    };
    let since = (day_of(now_ms()) - (days - 1)) * DAY_MS;
    let mut rows =
        store.read(move |conn| sessions::list(conn, &site, since, channel.as_deref(), before, limit + 1)).await?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|s| format!("{}_{}", s.started_ms, s.rowid))
    } else {
        None
    };
    Ok(SessionPage { sessions: rows, next })
}

fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (at, id) = cursor.split_once('_')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

#[derive(Debug, Serialize)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionView,
    pub events: Vec<EventView>,
}

pub async fn session(store: &Store, id: String, site: Option<String>) -> Result<SessionDetail, ApiError> {
    let found = store
        .read(move |conn| {
            let Some(session) = sessions::get(conn, &id, site.as_deref())? else { return Ok(None) };
            let events = sessions::events_of(conn, session.rowid, SESSION_EVENTS)?;
            Ok(Some(SessionDetail { session, events }))
        })
        .await?;
    found.ok_or_else(|| ApiError::not_found("No such session."))
}

#[derive(Debug, Serialize)]
pub struct TopRow {
    pub key: String,
    pub visitors: i64,
    pub sessions: i64,
}

#[derive(Debug, Serialize)]
pub struct DailyTraffic {
    pub day: String,
    pub visitors: i64,
    pub sessions: i64,
    pub pageviews: i64,
}

/// The traffic overview. `visitors` counts each visitor once a day (per key in the top lists)
/// and adds the days up: exact for one day, an upper bound for longer ranges.
#[derive(Debug, Serialize)]
pub struct Traffic {
    pub days: i64,
    pub since: String,
    pub visitors: i64,
    pub sessions: i64,
    pub pageviews: i64,
    /// Sessions with a single pageview, over all sessions; `None` without sessions.
    pub bounce_rate: Option<f64>,
    pub daily: Vec<DailyTraffic>,
    pub channels: Vec<TopRow>,
    pub sources: Vec<TopRow>,
    pub campaigns: Vec<TopRow>,
    pub landing_pages: Vec<TopRow>,
    pub referrers: Vec<TopRow>,
}

const TOP: usize = 10;

pub async fn traffic(store: &Store, site: String, days: i64) -> Result<Traffic, ApiError> {
    let last_day = day_of(now_ms());
    let first_day = last_day - (days - 1);
    store
        .read(move |conn| {
            let daily = sessions::daily_totals(conn, &site, first_day, last_day)?;
            let mut total = TrafficRow::default();
            for (_, row) in &daily {
                total.visitors += row.visitors;
                total.sessions += row.sessions;
                total.pageviews += row.pageviews;
                total.bounces += row.bounces;
            }
            let top = |dimension: &str| -> crate::store::Result<Vec<TopRow>> {
                Ok(sessions::top(conn, &site, dimension, first_day, last_day, TOP)?
                    .into_iter()
                    .map(|r| TopRow { key: r.key, visitors: r.visitors, sessions: r.sessions })
                    .collect())
            };
            Ok(Traffic {
                days,
                since: rfc3339(first_day * DAY_MS),
                visitors: total.visitors,
                sessions: total.sessions,
                pageviews: total.pageviews,
                bounce_rate: (total.sessions > 0).then(|| total.bounces as f64 / total.sessions as f64),
                daily: daily
                    .iter()
                    .map(|(day, r)| DailyTraffic {
                        day: rfc3339(day * DAY_MS)[..10].to_string(),
                        visitors: r.visitors,
                        sessions: r.sessions,
                        pageviews: r.pageviews,
                    })
                    .collect(),
                channels: top("channel")?,
                sources: top("source")?,
                campaigns: top("campaign")?,
                landing_pages: top("landing_page")?,
                referrers: top("referrer")?,
            })
        })
        .await
        .map_err(ApiError::from)
}
