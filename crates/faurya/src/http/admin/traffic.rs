//! `/api/sessions`, `/api/traffic` and `/api/live`: what the script recorded, per site.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{PathParams, QueryParams};
use crate::tracking::channel::Channel;
use crate::tracking::reports::{self, Live, SessionDetail, SessionPage, Traffic};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list))
        .route("/sessions/{id}", get(show))
        .route("/traffic", get(traffic))
        .route("/live", get(live))
}

/// The site a report is for: the one asked for (it must exist), else the first.
pub(super) async fn site_or_first(state: &AppState, asked: Option<String>) -> Result<String, ApiError> {
    match asked.filter(|s| !s.is_empty()) {
        Some(id) => Ok(state.tracking.sites.row(&id).await?.id),
        None => {
            let sites = state.tracking.sites.list().await?;
            sites.into_iter().next().map(|s| s.id).ok_or_else(|| ApiError::not_found("There is no site yet."))
        }
    }
}

fn days(days: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let days = days.unwrap_or(default);
    if (1..=366).contains(&days) { Ok(days) } else { Err(ApiError::field("days", "Use 1 to 366 days.")) }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    site: Option<String>,
    days: Option<i64>,
    channel: Option<String>,
    before: Option<String>,
    limit: Option<usize>,
}

async fn list(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<SessionPage>, ApiError> {
    let site = site_or_first(&state, q.site).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "Use a limit from 1 to 200."));
    }
    let channel = match q.channel.filter(|c| !c.is_empty()) {
        Some(name) => Some(
            Channel::parse(&name)
                .ok_or_else(|| ApiError::field("channel", format!("{name:?} is not a channel name.")))?
                .name()
                .to_string(),
        ),
        None => None,
    };
    let page = reports::sessions(state.tracking.store(), site, days(q.days, 30)?, channel, q.before, limit).await?;
    Ok(Json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteQuery {
    site: Option<String>,
    days: Option<i64>,
}

async fn show(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(reports::session(state.tracking.store(), id, q.site.filter(|s| !s.is_empty())).await?))
}

async fn traffic(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Json<Traffic>, ApiError> {
    let site = site_or_first(&state, q.site).await?;
    Ok(Json(reports::traffic(state.tracking.store(), site, days(q.days, 30)?).await?))
}

async fn live(State(state): State<AppState>, QueryParams(q): QueryParams<SiteQuery>) -> Result<Json<Live>, ApiError> {
    let site = site_or_first(&state, q.site).await?;
    Ok(Json(state.tracking.live_visitors(&site)))
}
