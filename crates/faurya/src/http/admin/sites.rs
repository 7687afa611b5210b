//! `/api/sites`: the founder's sites, their domains, write key and install snippet.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{JsonBody, PathParams};
use crate::tracking::sites::{SiteView, clean_domains, clean_name};
use crate::tunnel::BackendKind;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sites", get(list).post(create))
        .route("/sites/{id}", get(show).patch(update).delete(remove))
        .route("/sites/{id}/write-key", get(reveal_key).post(rotate_key))
        .route("/sites/{id}/install", get(install))
}

async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "sites": state.tracking.sites.list().await? })))
}

async fn show(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Json<SiteView>, ApiError> {
    Ok(Json(state.tracking.sites.get(&id).await?))
}

/// Loose JSON so a wrong type becomes a field error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteForm {
    name: Option<Value>,
    domains: Option<Value>,
}

fn name_field(value: Option<&Value>, required: bool, fields: &mut FieldErrors) -> Option<String> {
    match value {
        None | Some(Value::Null) if !required => None,
        Some(Value::String(name)) => clean_name(name).map_err(|e| fields.insert("name", e)).ok(),
        _ => {
            fields.insert("name", "Give the site a name, e.g. your product's.".into());
            None
        }
    }
}

fn domains_field(value: Option<&Value>, fields: &mut FieldErrors) -> Option<Vec<String>> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let Some(texts) = items.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<Vec<_>>>() else {
                fields.insert("domains", "List the domains as text, e.g. [\"example.com\"].".into());
                return None;
            };
            clean_domains(&texts).map_err(|e| fields.insert("domains", e)).ok()
        }
        Some(_) => {
            fields.insert("domains", "List the domains as text, e.g. [\"example.com\"].".into());
            None
        }
    }
}

#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    site: SiteView,
    write_key: String,
}

async fn create(
    State(state): State<AppState>,
    JsonBody(form): JsonBody<SiteForm>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let mut fields = FieldErrors::new();
    let name = name_field(form.name.as_ref(), true, &mut fields);
    let domains = domains_field(form.domains.as_ref(), &mut fields);
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }
    let (site, key) = state.tracking.sites.create(&name.expect("validated"), domains.unwrap_or_default()).await?;
    Ok((StatusCode::CREATED, Json(Created { site, write_key: key.expose().to_string() })))
}

async fn update(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
    JsonBody(form): JsonBody<SiteForm>,
) -> Result<Json<SiteView>, ApiError> {
    let mut fields = FieldErrors::new();
    let name = name_field(form.name.as_ref(), false, &mut fields);
    let domains = domains_field(form.domains.as_ref(), &mut fields);
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }
    Ok(Json(state.tracking.sites.update(&id, name, domains).await?))
}

/// Removes a site made by mistake: only an empty one (no connections, payments or sessions),
/// and never the last.
async fn remove(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Json<Value>, ApiError> {
    state.tracking.sites.remove_empty(&id).await?;
    Ok(Json(json!({ "removed": true })))
}

async fn reveal_key(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let key = state.tracking.sites.reveal_write_key(&id).await?;
    Ok(Json(json!({ "write_key": key.expose() })))
}

async fn rotate_key(
    State(state): State<AppState>,
    PathParams(id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let key = state.tracking.sites.rotate_write_key(&id).await?;
    Ok(Json(json!({ "write_key": key.expose() })))
}

/// How to install the script, and whether it has been seen working.
#[derive(Serialize)]
struct Install {
    script_url: Option<String>,
    event_url: Option<String>,
    snippet: Option<String>,
    public_url: Option<String>,
    /// Whether the public URL survives a restart: the script tag on the founder's pages holds it.
    public_url_stable: bool,
    public_url_note: Option<String>,
    first_event: Option<Value>,
    last_event_at: Option<String>,
    /// The latest event refused since start, and why (e.g. its domain is not listed).
    last_refusal: Option<crate::tracking::Refusal>,
}

async fn install(State(state): State<AppState>, PathParams(id): PathParams<String>) -> Result<Json<Install>, ApiError> {
    let row = state.tracking.sites.row(&id).await?;
    let site = SiteView::from(&row);
    let public_url = state.effective_public_url().map(|u| u.trim_end_matches('/').to_string());
    let (stable, note) = url_stability(&state);
    let first_event = row
        .first_event_at
        .map(|at| json!({ "at": crate::store::rfc3339(at), "url": row.first_event_url, "name": row.first_event_name }));
    Ok(Json(Install {
        script_url: public_url.as_ref().map(|u| format!("{u}/js/script.js")),
        event_url: public_url.as_ref().map(|u| format!("{u}/api/event")),
        snippet: public_url
            .as_ref()
            .map(|u| format!(r#"<script defer src="{u}/js/script.js" data-site="{}"></script>"#, site.id)),
        public_url_stable: public_url.is_some() && stable,
        public_url_note: if public_url.is_none() {
            Some("Faurya has no public URL yet: choose a tunnel or enter your own URL in Settings.".into())
        } else {
            note
        },
        public_url,
        first_event,
        last_event_at: site.last_event_at,
        last_refusal: state.tracking.last_refusal(&site.id),
    }))
}

/// A Cloudflare quick tunnel (and ngrok or bore without a reserved name/port) gets a new address
/// at every start, which silently breaks the script tag already pasted into the founder's site.
fn url_stability(state: &AppState) -> (bool, Option<String>) {
    if state.config.public_url.is_some() {
        return (true, None);
    }
    let settings = state.tunnel.settings();
    let unstable = |what: &str| {
        Some(format!(
            "{what} gets a new address each time Faurya starts, and the script tag on your site would stop working."
        ))
    };
    match state.tunnel.status().backend {
        BackendKind::Cloudflared => (false, unstable("A Cloudflare quick tunnel")),
        BackendKind::Ngrok if settings.ngrok.domain.is_none() => {
            (false, unstable("An ngrok tunnel without a reserved domain"))
        }
        BackendKind::Bore if settings.bore.port == 0 && settings.bore.public_url.is_none() => {
            (false, unstable("A bore tunnel without a fixed port"))
        }
        _ => (true, None),
    }
}
