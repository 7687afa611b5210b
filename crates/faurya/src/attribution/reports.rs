//! The attribution table: net revenue, payments, visitors, conversion rate and revenue per visitor
//! by channel, source, campaign, landing page or referrer, under one model or the three side by
//! side. One currency at a time: amounts in different currencies are never added up.
//!
//! Revenue comes from the attribution rollups the payments triggers keep (per model, dimension,
//! currency, day and key); visitors from the daily traffic rollups.

use std::collections::HashMap;

use serde::Serialize;

use super::models::Model;
use crate::http::error::ApiError;
use crate::store::attribution::{self as rows, By};
use crate::store::{Store, rfc3339};

const DAY_MS: i64 = 86_400_000;

/// A day range ending today (UTC), as the Overview asks for it.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub days: i64,
    pub first_day: i64,
    pub last_day: i64,
}

impl Window {
    pub fn last_days(days: i64, now_ms: i64) -> Self {
        let last_day = now_ms.div_euclid(DAY_MS);
        Self { days, first_day: last_day - (days - 1), last_day }
    }

    fn start_ms(self) -> i64 {
        self.first_day * DAY_MS
    }
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub key: String,
    pub visitors: i64,
    pub payments: i64,
    pub net_minor: i64,
    pub currency: String,
    pub conversion_rate: Option<f64>,
    pub revenue_per_visitor_minor: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub visitors: i64,
    pub payments: i64,
    pub net_minor: i64,
    pub conversion_rate: Option<f64>,
    pub revenue_per_visitor_minor: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Unattributed {
    pub payments: i64,
    pub net_minor: i64,
}

#[derive(Debug, Serialize)]
pub struct Table {
    pub model: Model,
    pub by: &'static str,
    pub currency: Option<String>,
    pub currencies: Vec<String>,
    pub days: i64,
    pub since: String,
    pub rows: Vec<Row>,
    pub totals: Totals,
    pub unattributed: Unattributed,
}

fn rate(payments: i64, visitors: i64) -> Option<f64> {
    (visitors > 0).then(|| payments as f64 / visitors as f64)
}

fn per_visitor(net: i64, visitors: i64) -> Option<i64> {
    (visitors > 0).then(|| (net as f64 / visitors as f64).round() as i64)
}

/// One model's table. `currency` defaults to the currency with the most revenue in the window.
pub async fn table(
    store: &Store,
    site: String,
    window: Window,
    currency: Option<String>,
    model: Model,
    by: By,
) -> Result<Table, ApiError> {
    store
        .read(move |conn| {
            let currencies = rows::currencies(conn, &site, window.first_day, window.last_day)?;
            let currency = currency.or_else(|| currencies.first().cloned());
            let visitors = rows::visitors_by(conn, &site, by, window.first_day, window.last_day)?;
            let total_visitors = rows::total_visitors(conn, &site, window.first_day, window.last_day)?;
            let (found, unattributed) = match &currency {
                Some(currency) => {
                    rows::model_rows(conn, &site, model, by, currency, window.first_day, window.last_day)?
                }
                None => (Vec::new(), (0, 0)),
            };
            let cur = currency.clone().unwrap_or_default();
            let mut rows: Vec<Row> = found
                .into_iter()
                .map(|(key, payments, net)| {
                    let v = visitors.get(&key).copied().unwrap_or(0);
                    Row {
                        visitors: v,
                        payments,
                        net_minor: net,
                        currency: cur.clone(),
                        conversion_rate: rate(payments, v),
                        revenue_per_visitor_minor: per_visitor(net, v),
                        key,
                    }
                })
                .collect();
            // Keys that brought visitors but no sales belong in the table too (that is what
            // conversion rate is for): the busiest few, after the paying ones.
            for (key, v) in quiet_keys(&visitors, |k| rows.iter().any(|r| r.key == k)) {
                rows.push(Row {
                    key,
                    visitors: v,
                    payments: 0,
                    net_minor: 0,
                    currency: cur.clone(),
                    conversion_rate: rate(0, v),
                    revenue_per_visitor_minor: per_visitor(0, v),
                });
            }
            let (payments, net) =
                rows.iter().fold((unattributed.0, unattributed.1), |(p, n), r| (p + r.payments, n + r.net_minor));
            Ok(Table {
                model,
                by: by.as_str(),
                currency,
                currencies,
                days: window.days,
                since: rfc3339(window.start_ms()),
                rows,
                totals: Totals {
                    visitors: total_visitors,
                    payments,
                    net_minor: net,
                    conversion_rate: rate(payments, total_visitors),
                    revenue_per_visitor_minor: per_visitor(net, total_visitors),
                },
                unattributed: Unattributed { payments: unattributed.0, net_minor: unattributed.1 },
            })
        })
        .await
        .map_err(ApiError::from)
}

/// Rows of keys with visitors but no payments, at most this many.
const QUIET_ROWS: usize = 20;

/// The busiest keys (by visitors) not already shown.
fn quiet_keys(visitors: &HashMap<String, i64>, shown: impl Fn(&str) -> bool) -> Vec<(String, i64)> {
    let mut quiet: Vec<(String, i64)> =
        visitors.iter().filter(|(k, v)| **v > 0 && !shown(k)).map(|(k, v)| (k.clone(), *v)).collect();
    quiet.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    quiet.truncate(QUIET_ROWS);
    quiet
}

#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct Cell {
    pub payments: i64,
    pub net_minor: i64,
}

#[derive(Debug, Serialize)]
pub struct CompareRow {
    pub key: String,
    pub visitors: i64,
    pub first_touch: Cell,
    pub last_touch: Cell,
    pub last_non_direct: Cell,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub by: &'static str,
    pub currency: Option<String>,
    pub currencies: Vec<String>,
    pub days: i64,
    pub since: String,
    pub rows: Vec<CompareRow>,
    pub unattributed: HashMap<&'static str, Cell>,
}

/// The three models side by side for the same keys.
pub async fn compare(
    store: &Store,
    site: String,
    window: Window,
    currency: Option<String>,
    by: By,
) -> Result<Comparison, ApiError> {
    store
        .read(move |conn| {
            let currencies = rows::currencies(conn, &site, window.first_day, window.last_day)?;
            let currency = currency.or_else(|| currencies.first().cloned());
            let visitors = rows::visitors_by(conn, &site, by, window.first_day, window.last_day)?;
            let mut table: Vec<CompareRow> = Vec::new();
            let mut unattributed = HashMap::new();
            if let Some(currency) = &currency {
                // One scan of the window's payments gives all three models.
                let cells = rows::all_models(conn, &site, by, currency, window.first_day, window.last_day)?;
                let cell = |c: (i64, i64)| Cell { payments: c.0, net_minor: c.1 };
                for (key, [ft, lt, lnd]) in cells {
                    match key {
                        None => {
                            for (model, c) in Model::ALL.into_iter().zip([ft, lt, lnd]) {
                                unattributed.insert(model.as_str(), cell(c));
                            }
                        }
                        Some(key) => table.push(CompareRow {
                            visitors: visitors.get(&key).copied().unwrap_or(0),
                            key,
                            first_touch: cell(ft),
                            last_touch: cell(lt),
                            last_non_direct: cell(lnd),
                        }),
                    }
                }
                for (key, v) in quiet_keys(&visitors, |k| table.iter().any(|r| r.key == k)) {
                    table.push(CompareRow {
                        key,
                        visitors: v,
                        first_touch: Cell::default(),
                        last_touch: Cell::default(),
                        last_non_direct: Cell::default(),
                    });
                }
            }
            let best =
                |r: &CompareRow| r.first_touch.net_minor.max(r.last_touch.net_minor).max(r.last_non_direct.net_minor);
            table.sort_by(|a, b| {
                best(b).cmp(&best(a)).then_with(|| b.visitors.cmp(&a.visitors)).then_with(|| a.key.cmp(&b.key))
            });
            Ok(Comparison {
                by: by.as_str(),
                currency,
                currencies,
                days: window.days,
                since: rfc3339(window.start_ms()),
                rows: table,
                unattributed,
            })
        })
        .await
        .map_err(ApiError::from)
}

/// One CSV field: quoted when it must be, and never read as a formula by a spreadsheet.
pub fn csv_field(text: &str) -> String {
    let guarded =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

pub fn csv_line(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// Minor units as a decimal in the currency's exponent (1999 USD → "19.99"), for spreadsheets.
pub fn decimal(minor: i64, currency: &str) -> String {
    let exp = crate::money::exponent(currency).unwrap_or(2);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:0width$}", (minor.abs() / scale), minor.abs() % scale, width = exp as usize)
}

pub fn table_csv(t: &Table) -> String {
    let mut out = csv_line(&[
        t.by.to_string(),
        "visitors".into(),
        "payments".into(),
        "net".into(),
        "currency".into(),
        "conversion_rate".into(),
        "revenue_per_visitor".into(),
    ]);
    for r in &t.rows {
        out.push_str(&csv_line(&[
            r.key.clone(),
            r.visitors.to_string(),
            r.payments.to_string(),
            decimal(r.net_minor, &r.currency),
            r.currency.clone(),
            r.conversion_rate.map(|c| format!("{c:.4}")).unwrap_or_default(),
            r.revenue_per_visitor_minor.map(|v| decimal(v, &r.currency)).unwrap_or_default(),
        ]));
    }
    if t.unattributed.payments > 0 {
        let currency = t.currency.clone().unwrap_or_default();
        out.push_str(&csv_line(&[
            "(unattributed)".into(),
            String::new(),
            t.unattributed.payments.to_string(),
            decimal(t.unattributed.net_minor, &currency),
            currency,
            String::new(),
            String::new(),
        ]));
    }
    out
}

pub fn comparison_csv(c: &Comparison) -> String {
    let currency = c.currency.clone().unwrap_or_default();
    let mut out = csv_line(
        &[
            c.by,
            "visitors",
            "first_touch_payments",
            "first_touch_net",
            "last_touch_payments",
            "last_touch_net",
            "last_non_direct_payments",
            "last_non_direct_net",
            "currency",
        ]
        .map(String::from),
    );
    for r in &c.rows {
        let mut fields = vec![r.key.clone(), r.visitors.to_string()];
        for cell in [r.first_touch, r.last_touch, r.last_non_direct] {
            fields.push(cell.payments.to_string());
            fields.push(decimal(cell.net_minor, &currency));
        }
        fields.push(currency.clone());
        out.push_str(&csv_line(&fields));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_line(&["a".into(), "b\nc".into()]), "a,\"b\nc\"\r\n");
    }

    #[test]
    fn decimals_follow_the_currency() {
        assert_eq!(decimal(1999, "USD"), "19.99");
        assert_eq!(decimal(5, "USD"), "0.05");
        assert_eq!(decimal(1000, "JPY"), "1000");
        assert_eq!(decimal(12345, "KWD"), "12.345");
        assert_eq!(decimal(-250, "EUR"), "-2.50");
    }
}
