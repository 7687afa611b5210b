//! `/api/attribution` (one model, or the three compared), CSV exports, a payment's journey and a
//! visitor's page.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::payments::PaymentView;
use super::traffic::site_or_first;
use crate::app::AppState;
use crate::attribution::models::Model;
use crate::attribution::reports::{self, Comparison, Table, Window, csv_line, decimal};
use crate::http::error::ApiError;
use crate::http::extract::{PathParams, QueryParams};
use crate::store::attribution::By;
use crate::store::sessions::{self, EventView, SessionView};
use crate::store::{now_ms, payments, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attribution", get(table))
        .route("/attribution.csv", get(table_csv))
        .route("/attribution/compare", get(compare))
        .route("/attribution/compare.csv", get(compare_csv))
        .route("/payments.csv", get(payments_csv))
        .route("/payments/{id}/journey", get(journey))
        .route("/visitors/{id}", get(visitor))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableQuery {
    site: Option<String>,
    days: Option<i64>,
    currency: Option<String>,
    model: Option<String>,
    by: Option<String>,
}

struct Asked {
    site: String,
    window: Window,
    currency: Option<String>,
    model: Model,
    by: By,
}

async fn asked(state: &AppState, q: TableQuery) -> Result<Asked, ApiError> {
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::field("days", "Use 1 to 366 days."));
    }
    let model = match q.model.as_deref().filter(|m| !m.is_empty()) {
        None => Model::LastNonDirect,
        Some(m) => Model::parse(m)
            .ok_or_else(|| ApiError::field("model", "Use first_touch, last_touch or last_non_direct."))?,
    };
    let by = match q.by.as_deref().filter(|b| !b.is_empty()) {
        None => By::Channel,
        Some(b) => By::parse(b)
            .ok_or_else(|| ApiError::field("by", "Use channel, source, campaign, landing_page or referrer."))?,
    };
    let currency = match q.currency.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(crate::money::normalize_currency(c).map_err(|e| ApiError::field("currency", e.to_string()))?),
    };
    Ok(Asked {
        site: site_or_first(state, q.site).await?,
        window: Window::last_days(days, now_ms()),
        currency,
        model,
        by,
    })
}

async fn table(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<TableQuery>,
) -> Result<Json<Table>, ApiError> {
    let a = asked(&state, q).await?;
    Ok(Json(reports::table(&state.store, a.site, a.window, a.currency, a.model, a.by).await?))
}

async fn compare(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<TableQuery>,
) -> Result<Json<Comparison>, ApiError> {
    let a = asked(&state, q).await?;
    Ok(Json(reports::compare(&state.store, a.site, a.window, a.currency, a.by).await?))
}

fn csv(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

async fn table_csv(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<TableQuery>,
) -> Result<Response, ApiError> {
    let a = asked(&state, q).await?;
    let name = format!("faurya-attribution-{}-{}-{}d.csv", a.model.as_str(), a.by.as_str(), a.window.days);
    let t = reports::table(&state.store, a.site, a.window, a.currency, a.model, a.by).await?;
    Ok(csv(&name, reports::table_csv(&t)))
}

async fn compare_csv(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<TableQuery>,
) -> Result<Response, ApiError> {
    let a = asked(&state, q).await?;
    let name = format!("faurya-attribution-compare-{}-{}d.csv", a.by.as_str(), a.window.days);
    let c = reports::compare(&state.store, a.site, a.window, a.currency, a.by).await?;
    Ok(csv(&name, reports::comparison_csv(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteQuery {
    site: Option<String>,
}

/// Every payment of the site with its three attributions, newest first.
async fn payments_csv(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Response, ApiError> {
    let site = site_or_first(&state, q.site).await?;
    let name = format!("faurya-payments-{site}.csv");
    let body = state
        .store
        .read(move |conn| {
            let mut out = csv_line(
                &[
                    "paid_at",
                    "provider",
                    "provider_payment_id",
                    "order_id",
                    "source",
                    "amount",
                    "refunded",
                    "net",
                    "currency",
                    "status",
                    "customer_email",
                    "visitor_id",
                    "session_id",
                    "attribution_status",
                    "first_touch_channel",
                    "first_touch_source",
                    "first_touch_campaign",
                    "last_touch_channel",
                    "last_touch_source",
                    "last_touch_campaign",
                    "last_non_direct_channel",
                    "last_non_direct_source",
                    "last_non_direct_campaign",
                ]
                .map(String::from),
            );
            let mut before = None;
            loop {
                let page = payments::list(conn, None, Some(&site), Default::default(), None, before, 1000)?;
                let Some(last) = page.last() else { break };
                before = Some(last.id);
                for p in &page {
                    let mut fields = vec![
                        p.paid_at.or(Some(p.created_at)).map(rfc3339).unwrap_or_default(),
                        p.provider.clone(),
                        p.provider_payment_id.clone(),
                        p.order_id.clone().unwrap_or_default(),
                        p.origin.clone(),
                        decimal(p.amount_minor, &p.currency),
                        decimal(p.refunded_minor, &p.currency),
                        decimal(p.amount_minor - p.refunded_minor, &p.currency),
                        p.currency.clone(),
                        p.status.clone(),
                        p.customer_email.clone().unwrap_or_default(),
                        p.attr_visitor.clone().unwrap_or_default(),
                        p.attr_session.clone().unwrap_or_default(),
                        p.attribution_status.clone(),
                    ];
                    for touch in &p.touches {
                        let t = touch.as_ref();
                        fields.push(t.and_then(|t| t.channel.clone()).unwrap_or_default());
                        fields.push(t.and_then(|t| t.source.clone()).unwrap_or_default());
                        fields.push(t.and_then(|t| t.campaign.clone()).unwrap_or_default());
                    }
                    out.push_str(&csv_line(&fields));
                }
            }
            Ok(out)
        })
        .await?;
    Ok(csv(&name, body))
}

/// A session in a journey: its pages, and which models credit it.
#[derive(Serialize)]
struct JourneySession {
    #[serde(flatten)]
    session: SessionView,
    pages: Vec<EventView>,
    touches: Vec<&'static str>,
}

#[derive(Serialize)]
struct Journey {
    payment: PaymentView,
    visitor_id: Option<String>,
    sessions: Vec<JourneySession>,
}

/// The visitor's sessions up to the payment, oldest first, ending in the payment.
async fn journey(State(state): State<AppState>, PathParams(id): PathParams<i64>) -> Result<Json<Journey>, ApiError> {
    let found = state
        .store
        .read(move |conn| {
            let Some(p) = payments::get(conn, id)? else { return Ok(None) };
            let mut sessions = Vec::new();
            if let (Some(site), Some(visitor)) = (&p.site_id, &p.attr_visitor) {
                let until = p.paid_at.unwrap_or(p.created_at) + crate::attribution::models::CLOCK_SKEW_MS;
                let credited: Vec<(Option<i64>, &'static str)> = Model::ALL
                    .iter()
                    .zip(&p.touches)
                    .map(|(m, t)| (t.as_ref().map(|t| t.session), m.as_str()))
                    .collect();
                let mut visits = sessions::of_visitor(conn, site, visitor, Some(until))?;
                // The checkout's own session counts even when clocks disagree.
                for (rowid, _) in &credited {
                    if let Some(rowid) = rowid
                        && !visits.iter().any(|s| s.rowid == *rowid)
                        && let Some(s) =
                            sessions::of_visitor(conn, site, visitor, None)?.into_iter().find(|s| s.rowid == *rowid)
                    {
                        visits.push(s);
                    }
                }
                for session in visits {
                    let pages = sessions::events_of(conn, session.rowid, 200)?;
                    let touches = credited.iter().filter(|(r, _)| *r == Some(session.rowid)).map(|(_, m)| *m).collect();
                    sessions.push(JourneySession { session, pages, touches });
                }
            }
            Ok(Some((p, sessions)))
        })
        .await?;
    let (payment, sessions) = found.ok_or_else(|| ApiError::not_found("No such payment."))?;
    let payment = PaymentView::from(payment);
    Ok(Json(Journey { visitor_id: payment.visitor().map(str::to_string), payment, sessions }))
}

#[derive(Serialize)]
struct Visitor {
    visitor_id: String,
    site_id: String,
    first_seen: Option<String>,
    sessions: Vec<SessionView>,
    payments: Vec<PaymentView>,
}

async fn visitor(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Json<Value>, ApiError> {
    let site = site_or_first(&state, q.site).await?;
    let (visitor_id, site_id) = (id.clone(), site.clone());
    let (sessions, payments) = state
        .store
        .read(move |conn| Ok((sessions::of_visitor(conn, &site, &id, None)?, payments::of_visitor(conn, &site, &id)?)))
        .await?;
    if sessions.is_empty() && payments.is_empty() {
        return Err(ApiError::not_found("No sessions or payments of this visitor on this site."));
    }
    let visitor = Visitor {
        first_seen: sessions.first().map(|s| s.started_at.clone()),
        visitor_id,
        site_id,
        sessions,
        payments: payments.into_iter().map(PaymentView::from).collect(),
    };
    Ok(Json(serde_json::to_value(visitor).map_err(|e| ApiError::Internal(e.to_string()))?))
}
