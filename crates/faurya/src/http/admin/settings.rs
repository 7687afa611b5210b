//! `GET/PUT /api/settings`: the public URL, the tunnel and other things the founder edits.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::{AppState, LiveEvent};
use crate::config::parse_public_url;
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{JsonBody, present};
use crate::secrets::Secret;
use crate::store::settings as kv;
use crate::tunnel::{BackendKind, TunnelSettings, TunnelState, cloudflared};

pub fn router() -> Router<AppState> {
    Router::new().route("/settings", get(show).put(update))
}

#[derive(Serialize)]
pub struct SettingsView {
    /// The effective public URL: pinned, else the tunnel's while it is up.
    pub public_url: Option<String>,
    /// `flag` (pinned by --public-url / FAURYA_PUBLIC_URL), `settings` (the manual URL),
    /// `tunnel`, or null.
    pub public_url_source: Option<&'static str>,
    pub data_dir: String,
    pub public_addr: String,
    pub admin_addr: String,
    pub version: &'static str,
    pub signature_tolerance_secs: i64,
    pub tunnel: TunnelView,
    /// The desktop app's switches (`available: false` under `faurya serve`).
    pub desktop: crate::desktop::DesktopPrefs,
}

#[derive(Serialize)]
pub struct TunnelView {
    pub backend: BackendKind,
    pub state: TunnelState,
    pub url: Option<String>,
    pub error: Option<String>,
    pub updated_at: Option<String>,
    pub cloudflared: CloudflaredView,
    pub ngrok: NgrokView,
    pub bore: BoreView,
}

#[derive(Serialize)]
pub struct CloudflaredView {
    pub installed: bool,
    pub path: Option<String>,
    pub install_hint: &'static str,
}

#[derive(Serialize)]
pub struct NgrokView {
    pub authtoken_set: bool,
    pub masked_authtoken: Option<String>,
    pub domain: Option<String>,
}

#[derive(Serialize)]
pub struct BoreView {
    pub host: Option<String>,
    pub port: u16,
    pub secret_set: bool,
    pub public_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsUpdate {
    #[serde(default, deserialize_with = "present")]
    public_url: Option<Option<String>>,
    #[serde(default)]
    signature_tolerance_secs: Option<i64>,
    #[serde(default)]
    tunnel: Option<TunnelUpdate>,
    #[serde(default, deserialize_with = "present")]
    notify_payments: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    notify_test_payments: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    start_at_login: Option<Option<Value>>,
}

/// Values arrive as loose JSON so a wrong type is a field error, not a parse failure.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TunnelUpdate {
    #[serde(default)]
    backend: Option<Value>,
    #[serde(default)]
    ngrok: Option<NgrokUpdate>,
    #[serde(default)]
    bore: Option<BoreUpdate>,
}

/// Absent = keep, `null` = clear, a value = set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NgrokUpdate {
    #[serde(default, deserialize_with = "present")]
    authtoken: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    domain: Option<Option<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoreUpdate {
    #[serde(default, deserialize_with = "present")]
    host: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    port: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    secret: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    public_url: Option<Option<Value>>,
}

async fn show(State(state): State<AppState>) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(view(&state).await?))
}

async fn update(
    State(state): State<AppState>,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> Result<Json<SettingsView>, ApiError> {
    let _editing = state.tunnel.lock_for_edit().await;
    let current = TunnelSettings::clone(&state.tunnel.settings());
    let mut next = current.clone();
    let mut fields = FieldErrors::new();

    match &update.public_url {
        Some(_) if state.config.public_url.is_some() => {
            fields.insert(
                "public_url",
                "The public URL is pinned by --public-url or FAURYA_PUBLIC_URL; change it there.".into(),
            );
        }
        Some(Some(raw)) if !raw.trim().is_empty() => match parse_public_url(raw) {
            Ok(url) => next.manual_url = Some(url),
            Err(reason) => {
                fields.insert("public_url", format!("Not a usable public URL: {reason}."));
            }
        },
        Some(_) => next.manual_url = None,
        None => {}
    }
    if let Some(secs) = update.signature_tolerance_secs
        && !(1..=3600).contains(&secs)
    {
        fields.insert("signature_tolerance_secs", "Use a number of seconds from 1 to 3600 (default 300).".into());
    }
    let explicit_backend = match &update.tunnel {
        Some(tunnel) => apply_tunnel_update(tunnel, &mut next, &mut fields),
        None => None,
    };
    next.backend = match explicit_backend {
        Some(kind) => kind,
        // Saving a URL with no tunnel chosen means "use this URL"; clearing the manual URL
        // turns the manual tunnel off.
        None => match (&update.public_url, current.backend) {
            (Some(Some(_)), BackendKind::None) if next.manual_url.is_some() => BackendKind::Manual,
            (Some(_), BackendKind::Manual) if next.manual_url.is_none() => BackendKind::None,
            _ => current.backend,
        },
    };
    if fields.is_empty() {
        match next.backend {
            BackendKind::Manual if next.manual_url.is_none() => {
                fields.insert(
                    "public_url",
                    "The manual tunnel uses the Public URL: enter the https address that reaches this app.".into(),
                );
            }
            BackendKind::Ngrok if next.ngrok.authtoken.is_none() => {
                fields.insert(
                    "tunnel.ngrok.authtoken",
                    "Paste your ngrok authtoken (dashboard.ngrok.com → Your Authtoken): ngrok cannot start without it."
                        .into(),
                );
            }
            BackendKind::Bore if next.bore.host.is_none() => {
                fields.insert(
                    "tunnel.bore.host",
                    "Enter the host name of your bore server, e.g. bore.example.com.".into(),
                );
            }
            _ => {}
        }
    }
    let mut switches = Vec::new();
    for (field, key, value) in [
        ("notify_payments", crate::desktop::NOTIFY_PAYMENTS, &update.notify_payments),
        ("notify_test_payments", crate::desktop::NOTIFY_TEST_PAYMENTS, &update.notify_test_payments),
        ("start_at_login", crate::desktop::START_AT_LOGIN, &update.start_at_login),
    ] {
        match value {
            None => {}
            Some(Some(Value::Bool(on))) => switches.push((key, *on)),
            Some(_) => {
                fields.insert(field, "Use true or false.".into());
            }
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Invalid(fields));
    }

    let changes = next.changes_from(&current, &state.sealer)?;
    let tolerance = update.signature_tolerance_secs;
    state
        .store
        .write(move |conn| {
            for (key, value) in &changes {
                kv::put(conn, key, value.as_deref())?;
            }
            if let Some(secs) = tolerance {
                kv::set(conn, kv::SIGNATURE_TOLERANCE_SECS, &secs.to_string())?;
            }
            for (key, on) in &switches {
                crate::desktop::set_flag(conn, key, *on)?;
            }
            Ok(())
        })
        .await?;
    if let Some(secs) = tolerance {
        state.ingest.tolerance_secs.store(secs, std::sync::atomic::Ordering::Relaxed);
    }
    if state.tunnel.apply(next) {
        tracing::info!(backend = state.tunnel.settings().backend.as_str(), "tunnel settings changed");
    }
    state.publish(LiveEvent::Settings);
    Ok(Json(view(&state).await?))
}

/// Applies the tunnel part of an update to `next`; returns the backend if one was chosen.
fn apply_tunnel_update(
    update: &TunnelUpdate,
    next: &mut TunnelSettings,
    fields: &mut FieldErrors,
) -> Option<BackendKind> {
    let mut chosen = None;
    if let Some(value) = &update.backend {
        match value.as_str().and_then(BackendKind::parse) {
            Some(kind) => chosen = Some(kind),
            None => {
                fields.insert("tunnel.backend", "Choose one of: none, manual, cloudflared, ngrok, bore.".into());
            }
        }
    }
    if let Some(ngrok) = &update.ngrok {
        if let Some(value) = &ngrok.authtoken {
            match ngrok_authtoken(value.as_ref()) {
                Ok(token) => next.ngrok.authtoken = token,
                Err(message) => {
                    fields.insert("tunnel.ngrok.authtoken", message);
                }
            }
        }
        if let Some(value) = &ngrok.domain {
            match ngrok_domain(value.as_ref()) {
                Ok(domain) => next.ngrok.domain = domain,
                Err(message) => {
                    fields.insert("tunnel.ngrok.domain", message);
                }
            }
        }
    }
    if let Some(bore) = &update.bore {
        if let Some(value) = &bore.host {
            match bore_host(value.as_ref()) {
                Ok(host) => next.bore.host = host,
                Err(message) => {
                    fields.insert("tunnel.bore.host", message);
                }
            }
        }
        if let Some(value) = &bore.port {
            match bore_port(value.as_ref()) {
                Ok(port) => next.bore.port = port,
                Err(message) => {
                    fields.insert("tunnel.bore.port", message);
                }
            }
        }
        if let Some(value) = &bore.secret {
            match optional_text(value.as_ref(), "the secret") {
                Ok(secret) => next.bore.secret = secret.map(Secret::new),
                Err(message) => {
                    fields.insert("tunnel.bore.secret", message);
                }
            }
        }
        if let Some(value) = &bore.public_url {
            match optional_text(value.as_ref(), "the URL") {
                Ok(None) => next.bore.public_url = None,
                Ok(Some(raw)) => match parse_public_url(&raw) {
                    Ok(url) => next.bore.public_url = Some(url),
                    Err(reason) => {
                        fields.insert(
                            "tunnel.bore.public_url",
                            format!("Not a usable URL: {reason}. It is the https address your TLS proxy serves for the bore port."),
                        );
                    }
                },
                Err(message) => {
                    fields.insert("tunnel.bore.public_url", message);
                }
            }
        }
    }
    chosen
}

/// A text value, trimmed; empty or `null` is `None`.
fn optional_text(value: Option<&Value>, what: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
        Some(_) => Err(format!("Enter {what} as text.")),
    }
}

fn ngrok_authtoken(value: Option<&Value>) -> Result<Option<Secret>, String> {
    let Some(token) = optional_text(value, "the authtoken")? else { return Ok(None) };
    if token.contains("add-authtoken") {
        return Err("Paste only the token, not the whole `ngrok config add-authtoken` command.".into());
    }
    if token.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'') {
        return Err("Paste the authtoken alone, without spaces or quotes.".into());
    }
    if token.len() < 8 || token.len() > 200 {
        return Err(
            "That does not look like an ngrok authtoken: copy it from dashboard.ngrok.com → Your Authtoken.".into()
        );
    }
    Ok(Some(Secret::new(token)))
}

fn ngrok_domain(value: Option<&Value>) -> Result<Option<String>, String> {
    let Some(raw) = optional_text(value, "the domain")? else { return Ok(None) };
    let lower = raw.to_ascii_lowercase();
    let domain = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or(&lower);
    let domain = domain.trim_end_matches('/');
    if !valid_hostname(domain) || !domain.contains('.') {
        return Err("Enter a domain like acme.ngrok.app (reserve one at dashboard.ngrok.com → Domains).".into());
    }
    Ok(Some(domain.to_string()))
}

fn bore_host(value: Option<&Value>) -> Result<Option<String>, String> {
    let Some(raw) = optional_text(value, "the host")? else { return Ok(None) };
    if raw.contains("://") {
        return Err("Enter the host name only, without http:// (e.g. bore.example.com).".into());
    }
    let unbracketed = raw.trim_start_matches('[').trim_end_matches(']');
    if unbracketed.parse::<std::net::IpAddr>().is_ok() {
        return Ok(Some(unbracketed.to_string()));
    }
    if raw.contains(':') {
        return Err(format!(
            "Enter the host only: bore always uses control port {}; the remote port goes in Port.",
            crate::tunnel::bore::CONTROL_PORT
        ));
    }
    if !valid_hostname(&raw) {
        return Err("Enter a host name like bore.example.com, or an IP address.".into());
    }
    Ok(Some(raw.to_ascii_lowercase()))
}

fn bore_port(value: Option<&Value>) -> Result<u16, String> {
    let range = "Use a port from 0 to 65535 (0 lets the bore server pick a free one).";
    let port = match value {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::Number(n)) => n.as_u64().filter(|p| *p <= 65535).ok_or(range)?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(0),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok().filter(|p| *p <= 65535).ok_or(range)?,
        Some(_) => return Err(range.into()),
    } as u16;
    if port == crate::tunnel::bore::CONTROL_PORT {
        return Err(format!(
            "{port} is bore's control port, which the server itself listens on. Enter the remote port to expose \
             (0 lets the server pick a free one)."
        ));
    }
    Ok(port)
}

fn valid_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
        && !host.contains("..")
}

pub async fn view(state: &AppState) -> Result<SettingsView, ApiError> {
    let tolerance = state.store.read(kv::signature_tolerance_secs).await?;
    let available = state.config.desktop;
    let desktop = state.store.read(move |conn| crate::desktop::load(conn, available)).await?;
    Ok(SettingsView {
        desktop,
        public_url: state.effective_public_url(),
        public_url_source: state.public_url_source(),
        data_dir: state.config.data_dir.display().to_string(),
        public_addr: state.addrs.public.to_string(),
        admin_addr: state.addrs.admin.to_string(),
        version: env!("CARGO_PKG_VERSION"),
        signature_tolerance_secs: tolerance,
        tunnel: tunnel_view(state),
    })
}

pub fn tunnel_view(state: &AppState) -> TunnelView {
    let status = state.tunnel.status();
    let settings = state.tunnel.settings();
    let cloudflared = cloudflared::find(&state.config.tunnel);
    TunnelView {
        backend: settings.backend,
        state: status.state,
        url: status.url,
        error: status.error,
        updated_at: status.updated_at.map(crate::store::rfc3339),
        cloudflared: CloudflaredView {
            installed: cloudflared.is_some(),
            path: cloudflared.map(|p| p.display().to_string()),
            install_hint: cloudflared::install_hint(),
        },
        ngrok: NgrokView {
            authtoken_set: settings.ngrok.authtoken.is_some(),
            masked_authtoken: settings.ngrok.authtoken.as_ref().map(Secret::masked),
            domain: settings.ngrok.domain.clone(),
        },
        bore: BoreView {
            host: settings.bore.host.clone(),
            port: settings.bore.port,
            secret_set: settings.bore.secret.is_some(),
            public_url: settings.bore.public_url.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bore_fields() {
        assert_eq!(bore_host(Some(&json!(" Bore.Example.com "))), Ok(Some("bore.example.com".into())));
        assert_eq!(bore_host(Some(&json!("[::1]"))), Ok(Some("::1".into())));
        assert!(bore_host(Some(&json!("https://bore.example.com"))).unwrap_err().contains("http://"));
        assert!(bore_host(Some(&json!("bore.example.com:7835"))).unwrap_err().contains("7835"));
        assert!(bore_host(Some(&json!("bad host"))).is_err());
        assert_eq!(bore_port(Some(&json!(0))), Ok(0));
        assert_eq!(bore_port(Some(&json!("4000"))), Ok(4000));
        assert!(bore_port(Some(&json!(65536))).is_err());
        assert!(bore_port(Some(&json!(-1))).is_err());
        assert!(bore_port(Some(&json!(1.5))).is_err());
        assert!(bore_port(Some(&json!(7835))).unwrap_err().contains("control port"));
    }

    #[test]
    fn ngrok_fields() {
        assert_eq!(ngrok_domain(Some(&json!("https://Acme.ngrok.app/"))), Ok(Some("acme.ngrok.app".into())));
        assert_eq!(ngrok_domain(Some(&json!(""))), Ok(None));
        assert!(ngrok_domain(Some(&json!("acme"))).is_err());
        assert!(ngrok_authtoken(Some(&json!("ngrok config add-authtoken 2abc"))).unwrap_err().contains("command"));
        assert!(ngrok_authtoken(Some(&json!("\"2abcdefghijk\""))).is_err());
        assert!(ngrok_authtoken(Some(&json!(12345678))).is_err());
        assert!(ngrok_authtoken(Some(&json!("2abcdefghijk_LMNOP"))).unwrap().is_some());
    }
}
