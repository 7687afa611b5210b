//! Exports of the record, streamed page by page so a large store never sits in memory:
//! `GET /api/events.jsonl` (every delivery with its headers and byte-exact body),
//! `GET /api/events.csv` (one line per delivery), `GET /api/payments.jsonl` (payments as the API
//! shows them). `GET /api/payments.csv` lives with the attribution exports.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::attribution::reports::{csv_line, decimal};
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::store::{Store, deliveries, payments, rfc3339};

const PAGE: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events.jsonl", get(events_jsonl))
        .route("/events.csv", get(events_csv))
        .route("/payments.jsonl", get(payments_jsonl))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteQuery {
    site: Option<String>,
}

fn attachment(name: &str, content_type: &'static str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// Streams `render(page)` for consecutive pages until one comes back empty; `first` goes before.
fn paged<T, F, R>(store: Store, first: String, fetch: F, render: R) -> Body
where
    T: Send + 'static,
    F: Fn(&rusqlite::Connection, i64) -> crate::store::Result<(Vec<T>, i64)> + Send + Sync + Clone + 'static,
    R: Fn(&T) -> String + Send + Sync + 'static,
{
    let render = std::sync::Arc::new(render);
    let stream = futures_util::stream::unfold((Some(first), Some(0i64)), move |(head, after)| {
        let (store, fetch, render) = (store.clone(), fetch.clone(), render.clone());
        async move {
            if let Some(head) = head {
                return Some((Ok::<Bytes, std::io::Error>(Bytes::from(head)), (None, after)));
            }
            let after = after?;
            let page = store.read(move |conn| fetch(conn, after)).await;
            match page {
                Ok((items, _)) if items.is_empty() => None,
                Ok((items, last)) => {
                    let text: String = items.iter().map(|item| render(item)).collect();
                    Some((Ok(Bytes::from(text)), (None, Some(last))))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, None))),
            }
        }
    });
    Body::from_stream(stream)
}

fn body_json(body: &[u8]) -> serde_json::Value {
    match std::str::from_utf8(body) {
        Ok(text) => json!({ "body": text }),
        Err(_) => json!({ "body_base64": base64::engine::general_purpose::STANDARD.encode(body) }),
    }
}

fn delivery_page(
    site: Option<String>,
) -> impl Fn(&rusqlite::Connection, i64) -> crate::store::Result<(Vec<deliveries::DeliveryRow>, i64)> + Clone {
    move |conn, after| {
        let rows = deliveries::export_page(conn, site.as_deref(), after, PAGE)?;
        let last = rows.last().map(|d| d.id).unwrap_or(after);
        Ok((rows, last))
    }
}

async fn events_jsonl(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Response, ApiError> {
    let site = q.site.filter(|s| !s.is_empty());
    let body = paged(state.store.clone(), String::new(), delivery_page(site), |d: &deliveries::DeliveryRow| {
        let headers: serde_json::Value =
            d.headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or(serde_json::Value::Null);
        let mut line = json!({
            "id": format!("d_{}", d.id), "provider": d.provider, "connection_id": d.connection_id,
            "delivery_id": d.delivery_id, "event_type": d.event_type, "received_at": rfc3339(d.received_at),
            "status": d.status, "error": d.error, "note": d.note, "duplicate_of": d.duplicate_of.map(|id| format!("d_{id}")),
            "payment_id": d.payment_id, "headers": headers,
        });
        if let (Some(map), serde_json::Value::Object(body)) =
            (line.as_object_mut(), body_json(d.body.as_deref().unwrap_or_default()))
        {
            map.extend(body);
        }
        format!("{line}\n")
    });
    Ok(attachment("faurya-deliveries.jsonl", "application/x-ndjson", body))
}

async fn events_csv(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Response, ApiError> {
    let site = q.site.filter(|s| !s.is_empty());
    let head = csv_line(
        &[
            "id",
            "received_at",
            "provider",
            "delivery_id",
            "event_type",
            "status",
            "amount",
            "currency",
            "payment_id",
            "note",
            "error",
        ]
        .map(String::from),
    );
    let body = paged(state.store.clone(), head, delivery_page(site), |d: &deliveries::DeliveryRow| {
        let currency = d.currency.clone().unwrap_or_default();
        csv_line(&[
            format!("d_{}", d.id),
            rfc3339(d.received_at),
            d.provider.clone(),
            d.delivery_id.clone(),
            d.event_type.clone().unwrap_or_default(),
            d.status.clone(),
            d.amount_minor.map(|a| decimal(a, &currency)).unwrap_or_default(),
            currency,
            d.payment_id.map(|p| p.to_string()).unwrap_or_default(),
            d.note.clone().unwrap_or_default(),
            d.error.clone().unwrap_or_default(),
        ])
    });
    Ok(attachment("faurya-deliveries.csv", "text/csv; charset=utf-8", body))
}

async fn payments_jsonl(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<SiteQuery>,
) -> Result<Response, ApiError> {
    let site = q.site.filter(|s| !s.is_empty());
    // Newest first by id (the listing's keyset), so `after` here walks downwards.
    let fetch = move |conn: &rusqlite::Connection, before: i64| {
        let before = if before == 0 { None } else { Some(before) };
        let rows = payments::list(conn, None, site.as_deref(), Default::default(), None, before, PAGE)?;
        let last = rows.last().map(|p| p.id).unwrap_or(0);
        let views: Vec<serde_json::Value> = rows.into_iter().map(super::payment_view).collect();
        Ok((views, last))
    };
    let body = paged(state.store.clone(), String::new(), fetch, |p: &serde_json::Value| format!("{p}\n"));
    Ok(attachment("faurya-payments.jsonl", "application/x-ndjson", body))
}
