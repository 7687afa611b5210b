//! `GET/PUT /api/settings`: the public URL and other things the founder edits.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::app::{AppState, LiveEvent};
use crate::config::parse_public_url;
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{JsonBody, present};
use crate::store::settings as kv;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings", get(show).put(update))
}

#[derive(Serialize)]
pub struct SettingsView {
    pub public_url: Option<String>,
    /// `flag` (pinned by --public-url / FAURYA_PUBLIC_URL), `settings`, or null.
    pub public_url_source: Option<&'static str>,
    pub data_dir: String,
    pub public_addr: String,
    pub admin_addr: String,
    pub version: &'static str,
    pub signature_tolerance_secs: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsUpdate {
    #[serde(default, deserialize_with = "present")]
    public_url: Option<Option<String>>,
    #[serde(default)]
    signature_tolerance_secs: Option<i64>,
}

async fn show(State(state): State<AppState>) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(view(&state).await?))
}

async fn update(
    State(state): State<AppState>,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> Result<Json<SettingsView>, ApiError> {
    let mut fields = FieldErrors::new();
    let public_url = match update.public_url {
        Some(_) if state.config.public_url.is_some() => {
            fields.insert(
                "public_url",
                "The public URL is pinned by --public-url or FAURYA_PUBLIC_URL; change it there.".into(),
            );
            None
        }
        Some(Some(raw)) if !raw.trim().is_empty() => match parse_public_url(&raw) {
            Ok(url) => Some(Some(url)),
            Err(reason) => {
                fields.insert("public_url", format!("Not a usable public URL: {reason}."));
                None
            }
        },
        Some(_) => Some(None),
        None => None,
    };
    if let Some(secs) = update.signature_tolerance_secs {
        if !(1..=3600).contains(&secs) {
            fields.insert("signature_tolerance_secs", "Use a number of seconds from 1 to 3600 (default 300).".into());
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }
    let tolerance = update.signature_tolerance_secs;
    state
        .store
        .write(move |conn| {
            match &public_url {
                Some(Some(url)) => kv::set(conn, kv::PUBLIC_URL, url)?,
                Some(None) => kv::delete(conn, kv::PUBLIC_URL)?,
                None => {}
            }
            if let Some(secs) = tolerance {
                kv::set(conn, kv::SIGNATURE_TOLERANCE_SECS, &secs.to_string())?;
            }
            Ok(())
        })
        .await?;
    if let Some(secs) = tolerance {
        state.ingest.tolerance_secs.store(secs, std::sync::atomic::Ordering::Relaxed);
    }
    state.publish(LiveEvent::Settings);
    Ok(Json(view(&state).await?))
}

pub async fn view(state: &AppState) -> Result<SettingsView, ApiError> {
    let (stored_url, tolerance) = state
        .store
        .read(|conn| Ok((kv::get(conn, kv::PUBLIC_URL)?, kv::signature_tolerance_secs(conn)?)))
        .await?;
    let (public_url, public_url_source) = match (&state.config.public_url, stored_url) {
        (Some(pinned), _) => (Some(pinned.clone()), Some("flag")),
        (None, Some(url)) => (Some(url), Some("settings")),
        (None, None) => (None, None),
    };
    Ok(SettingsView {
        public_url,
        public_url_source,
        data_dir: state.config.data_dir.display().to_string(),
        public_addr: state.addrs.public.to_string(),
        admin_addr: state.addrs.admin.to_string(),
        version: env!("CARGO_PKG_VERSION"),
        signature_tolerance_secs: tolerance,
    })
}
