//! `/api/payments` and `/api/revenue/summary`: what was earned, and from which visit.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::{AppState, LiveEvent};
use crate::http::error::ApiError;
use crate::http::extract::{PathParams, QueryParams};
use crate::providers::Provider;
use crate::store::payments::{self, PaymentRow};
use crate::store::{StoreError, now_ms, rfc3339, test_runs};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/payments", get(list).delete(remove_tests))
        .route("/payments/{id}", get(show).delete(remove))
        .route("/revenue/summary", get(summary))
}

#[derive(Serialize)]
pub struct RefundView {
    provider_refund_id: String,
    amount_minor: i64,
    currency: String,
    status: String,
    counts: bool,
    created_at: String,
}

/// The session a model credits, as the UI shows it.
#[derive(Serialize)]
pub struct TouchView {
    session_id: String,
    channel: Option<String>,
    source: Option<String>,
    campaign: Option<String>,
    landing_page: Option<String>,
    referrer: Option<String>,
    started_at: String,
}

#[derive(Serialize)]
pub struct ModelsView {
    first_touch: Option<TouchView>,
    last_touch: Option<TouchView>,
    last_non_direct: Option<TouchView>,
}

#[derive(Serialize)]
pub struct PaymentView {
    id: i64,
    provider: String,
    connection_id: String,
    provider_payment_id: String,
    amount_minor: i64,
    currency: String,
    status: String,
    refunded_minor: i64,
    net_minor: i64,
    visitor_id: Option<String>,
    session_id: Option<String>,
    attribution_token: Option<String>,
    order_id: Option<String>,
    customer_email: Option<String>,
    attributed: bool,
    #[serde(skip)]
    attributed_visitor: Option<String>,
    paid_at: Option<String>,
    created_at: String,
    delivery_id: Option<String>,
    site_id: Option<String>,
    /// How it reached Faurya: webhook, api, backfill, test.
    source: String,
    attribution_status: String,
    /// Why the attribution is unverified, or that the session is not known (yet).
    attribution_note: Option<String>,
    models: ModelsView,
    refunds: Vec<RefundView>,
}

impl PaymentView {
    pub fn visitor(&self) -> Option<&str> {
        self.attributed_visitor.as_deref()
    }
}

impl From<PaymentRow> for PaymentView {
    fn from(p: PaymentRow) -> Self {
        let [ft, lt, lnd] = p.touches.map(|t| {
            t.map(|t| TouchView {
                session_id: t.session_id,
                channel: t.channel,
                source: t.source,
                campaign: t.campaign,
                landing_page: t.landing,
                referrer: t.referrer,
                started_at: rfc3339(t.started_at),
            })
        });
        let attribution_note = match (&p.attribution_note, &lt, &p.attr_visitor, &p.attr_session) {
            (Some(note), _, _, _) => Some(note.clone()),
            (None, None, Some(_), _) => {
                Some("visitor known, session unknown: no session of this visitor has arrived (yet)".into())
            }
            (None, None, None, Some(_)) => Some("session unknown: this session has not arrived (yet)".into()),
            _ => None,
        };
        Self {
            source: p.origin,
            attribution_status: p.attribution_status,
            attribution_note,
            attributed_visitor: p.attr_visitor,
            models: ModelsView { first_touch: ft, last_touch: lt, last_non_direct: lnd },
            attributed: p.visitor_id.is_some() || p.session_id.is_some() || p.attribution_token.is_some(),
            net_minor: p.amount_minor - p.refunded_minor,
            id: p.id,
            provider: p.provider,
            connection_id: p.connection_id,
            provider_payment_id: p.provider_payment_id,
            amount_minor: p.amount_minor,
            currency: p.currency,
            status: p.status,
            refunded_minor: p.refunded_minor,
            visitor_id: p.visitor_id,
            session_id: p.session_id,
            attribution_token: p.attribution_token,
            order_id: p.order_id,
            customer_email: p.customer_email,
            paid_at: p.paid_at.map(rfc3339),
            created_at: rfc3339(p.created_at),
            delivery_id: p.delivery_id.map(|id| format!("d_{id}")),
            site_id: p.site_id,
            refunds: p
                .refunds
                .into_iter()
                .map(|r| RefundView {
                    provider_refund_id: r.provider_refund_id,
                    amount_minor: r.amount_minor,
                    currency: r.currency,
                    status: r.status,
                    counts: r.counts,
                    created_at: rfc3339(r.created_at),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    provider: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    site: Option<String>,
    /// RFC 3339; paid at or after.
    from: Option<String>,
    /// RFC 3339; paid before.
    to: Option<String>,
    /// How it reached Faurya: webhook, api, backfill or test.
    source: Option<String>,
}

const SOURCES: &[&str] = &["webhook", "api", "backfill", "test"];

fn source_filter(source: Option<String>) -> Result<Option<String>, ApiError> {
    match source.filter(|s| !s.is_empty()) {
        Some(s) if SOURCES.contains(&s.as_str()) => Ok(Some(s)),
        Some(_) => Err(ApiError::field("source", format!("Use one of: {}.", SOURCES.join(", ")))),
        None => Ok(None),
    }
}

async fn list(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "Use a limit from 1 to 200."));
    }
    let provider = query.provider.filter(|p| !p.is_empty());
    if let Some(p) = &provider {
        Provider::parse(p).ok_or_else(|| ApiError::field("provider", "Use whop or paddle."))?;
    }
    let before = match query.cursor.filter(|c| !c.is_empty()) {
        Some(cursor) => Some(
            cursor.parse::<i64>().map_err(|_| ApiError::field("cursor", "This cursor is not one Faurya gave out."))?,
        ),
        None => None,
    };
    let site = query.site.filter(|s| !s.is_empty());
    let paid = super::time_range::parse(query.from, query.to)?;
    let origin = source_filter(query.source)?;
    let mut rows = state
        .store
        .read(move |conn| {
            payments::list(conn, provider.as_deref(), site.as_deref(), paid, origin.as_deref(), before, limit + 1)
        })
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|p| p.id.to_string()) } else { None };
    let payments: Vec<PaymentView> = rows.into_iter().map(PaymentView::from).collect();
    Ok(Json(json!({ "payments": payments, "next_cursor": next_cursor })))
}

async fn show(State(state): State<AppState>, PathParams(id): PathParams<i64>) -> Result<Json<PaymentView>, ApiError> {
    let row = state.store.read(move |conn| payments::get(conn, id)).await?;
    row.map(|p| Json(PaymentView::from(p))).ok_or_else(|| ApiError::not_found("No such payment."))
}

/// `DELETE /api/payments/{id}`: removes a test payment with the deliveries that brought it.
/// Real payments are refused (409): they are the record of revenue.
async fn remove(State(state): State<AppState>, PathParams(id): PathParams<i64>) -> Result<StatusCode, ApiError> {
    let removed =
        state.store.write(move |conn| test_runs::remove_test_payment(conn, id)).await.map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict { code: "not_a_test", message },
            e => e.into(),
        })?;
    if !removed {
        return Err(ApiError::not_found("No such payment."));
    }
    state.publish(LiveEvent::Payment(id));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveQuery {
    source: Option<String>,
    site: Option<String>,
}

/// `DELETE /api/payments?source=test`: removes every test payment (of one site with `site`).
/// Only `source=test` is accepted: nothing else may be removed in bulk.
async fn remove_tests(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<RemoveQuery>,
) -> Result<Json<Value>, ApiError> {
    if query.source.as_deref() != Some("test") {
        return Err(ApiError::field("source", "Only test payments can be removed: use source=test."));
    }
    let site = query.site.filter(|s| !s.is_empty());
    let removed = state
        .store
        .write(move |conn| {
            let ids = test_runs::test_payment_ids(conn, site.as_deref())?;
            let mut removed = 0;
            for id in ids {
                if test_runs::remove_test_payment(conn, id)? {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await?;
    if removed > 0 {
        state.publish(LiveEvent::Payment(0));
    }
    Ok(Json(json!({ "removed": removed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryQuery {
    /// Days back from now for the daily series (default 30, at most 366).
    days: Option<i64>,
    site: Option<String>,
}

/// Totals per currency (all time and within the window) and net revenue per day, computed in
/// SQL so the Overview stays right however many payments there are.
async fn summary(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<SummaryQuery>,
) -> Result<Json<Value>, ApiError> {
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::field("days", "Use 1 to 366 days."));
    }
    let day_ms = 86_400_000;
    let since = (now_ms() / day_ms - (days - 1)) * day_ms;
    let site = query.site.filter(|s| !s.is_empty());
    let (all_time, window, daily) = state
        .store
        .read(move |conn| {
            let site = site.as_deref();
            let (all_time, window) = payments::totals(conn, since, site)?.into_iter().unzip::<_, _, Vec<_>, Vec<_>>();
            Ok((all_time, window, payments::daily_net(conn, since, site)?))
        })
        .await?;
    let totals = |rows: Vec<payments::CurrencyTotals>| -> Vec<Value> {
        rows.into_iter()
            .filter(|t| t.payments > 0)
            .map(|t| {
                json!({
                    "currency": t.currency, "payments": t.payments, "attributed": t.attributed,
                    "gross_minor": t.gross_minor, "refunded_minor": t.refunded_minor,
                    "net_minor": t.gross_minor - t.refunded_minor,
                })
            })
            .collect()
    };
    let daily: Vec<Value> = daily
        .into_iter()
        .map(|(day, currency, net)| json!({ "day": rfc3339(day)[..10].to_string(), "currency": currency, "net_minor": net }))
        .collect();
    Ok(Json(json!({
        "days": days,
        "since": rfc3339(since),
        "all_time": totals(all_time),
        "window": totals(window),
        "daily": daily,
    })))
}
