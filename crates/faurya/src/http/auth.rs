//! Who may use the admin listener.
//!
//! Two independent checks. The Host guard stops DNS rebinding: a web page on evil.example that
//! re-points its name at 127.0.0.1 still sends `Host: evil.example`, so it gets 403 before any
//! token check. The token check ([`AdminAuth`]) accepts the admin token as a Bearer header or
//! as the HttpOnly, SameSite=Strict cookie that `/login` sets.

use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::app::AppState;
use crate::secrets::Secret;

/// The admin token and the names it travels under.
pub struct AdminAccess {
    token: Secret,
    /// Cookies are shared by every port of a host, so the name carries the admin port: two
    /// Faurya instances on one machine must not overwrite each other's session.
    cookie_name: String,
    extra_host: Option<String>,
}

impl AdminAccess {
    pub fn new(token: Secret, admin_port: u16, extra_host: Option<String>) -> Self {
        Self { token, cookie_name: format!("faurya_admin_{admin_port}"), extra_host }
    }

    pub fn token(&self) -> &Secret {
        &self.token
    }

    /// Constant-time comparison (of digests, so the length does not leak either).
    pub fn accepts(&self, candidate: &str) -> bool {
        let want = Sha256::digest(self.token.expose().as_bytes());
        let got = Sha256::digest(candidate.as_bytes());
        want.as_slice().ct_eq(got.as_slice()).into()
    }

    /// The cookie carries a digest of the token, not the token: any token text is cookie-safe
    /// that way, and the cookie jar never holds the token itself.
    fn session_value(&self) -> String {
        hex::encode(Sha256::digest(format!("faurya-session:{}", self.token.expose())))
    }

    /// True when the request carries the token (Bearer header) or the session cookie.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        if let Some(token) = bearer {
            return self.accepts(token);
        }
        cookie_value(headers, &self.cookie_name)
            .is_some_and(|value| value.as_bytes().ct_eq(self.session_value().as_bytes()).into())
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        matches!(name.as_str(), "127.0.0.1" | "localhost" | "[::1]")
            || self.extra_host.as_deref().is_some_and(|extra| extra == name)
    }
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `example.com:8788` → `example.com`; `[::1]:8788` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map(|end| &host[..=end]).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Extractor that admits only requests carrying the admin token. Used as a layer over the whole
/// `/api` router, so no handler can forget it.
pub struct AdminAuth;

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.admin.admits(&parts.headers) { Ok(AdminAuth) } else { Err(ApiError::Unauthorized) }
    }
}

/// Middleware over the whole admin listener: Host guard, and same-origin for changes.
pub async fn host_guard(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, ApiError> {
    // Every name the request gives for the host must be allowed: all Host lines (a second one
    // must not smuggle a foreign host past a check of the first), and the authority of an
    // absolute-form target (`GET http://evil.example/api/...`), which RFC 9112 says wins over
    // Host. HTTP/2 sends only the :authority, which hyper exposes as the URI's authority.
    let mut names: Vec<String> = Vec::new();
    for value in request.headers().get_all(HOST) {
        names.push(value.to_str().unwrap_or("(not text)").to_string());
    }
    if let Some(authority) = request.uri().authority() {
        names.push(authority.to_string());
    }
    if names.is_empty() {
        return Err(ApiError::ForbiddenHost(String::new()));
    }
    if names.len() > 1 && names.iter().any(|n| !n.eq_ignore_ascii_case(&names[0])) {
        return Err(ApiError::ForbiddenHost(names.join(", ").chars().take(200).collect()));
    }
    let host = names.swap_remove(0);
    if !state.admin.host_allowed(&host) {
        return Err(ApiError::ForbiddenHost(host.chars().take(200).collect()));
    }
    let changes_something = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_something && let Some(origin) = request.headers().get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let same = origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&host));
        if !same {
            return Err(ApiError::ForbiddenOrigin);
        }
    }
    Ok(next.run(request).await)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
}

/// `GET /login?token=...`: trade the token for a session cookie, then go to the UI. The redirect
/// also takes the token out of the address bar and the history.
pub async fn login(State(state): State<AppState>, Query(query): Query<LoginQuery>) -> Response {
    match query.token {
        Some(token) if state.admin.accepts(&token) => {
            let cookie = format!(
                "{}={}; HttpOnly; SameSite=Strict; Path=/",
                state.admin.cookie_name,
                state.admin.session_value()
            );
            (StatusCode::SEE_OTHER, [(LOCATION, "/".to_string()), (SET_COOKIE, cookie)]).into_response()
        }
        // Back to the UI's styled sign-in card, which says where the token is. The path of the
        // token file is the founder's own, shown on their own machine's loopback listener.
        _ => {
            let token_file = match state.config.admin_token {
                Some(_) => String::new(),
                None => state.config.data_dir.join(crate::app::ADMIN_TOKEN_FILE).display().to_string(),
            };
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("signin", "invalid")
                .append_pair("token_file", &token_file)
                .finish();
            (StatusCode::SEE_OTHER, [(LOCATION, format!("/?{query}"))]).into_response()
        }
    }
}

/// `POST /logout`: forget the session cookie.
pub async fn logout(State(state): State<AppState>) -> Response {
    let cookie = format!("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", state.admin.cookie_name);
    (StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("127.0.0.1:8788"), "127.0.0.1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("[::1]:8788"), "[::1]");
        assert_eq!(host_name("evil.example:80"), "evil.example");
    }

    #[test]
    fn allowed_hosts() {
        let access = AdminAccess::new(Secret::new("t".repeat(32)), 8788, Some("faurya.lan".into()));
        for ok in ["127.0.0.1:8788", "localhost:1", "LOCALHOST", "[::1]:8788", "faurya.lan:443"] {
            assert!(access.host_allowed(ok), "{ok}");
        }
        for bad in ["", "evil.example", "127.0.0.1.evil.example", "localhost.evil.example:8788", "0.0.0.0:8788"] {
            assert!(!access.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn token_comparison() {
        let access = AdminAccess::new(Secret::new("right-token-0123456789"), 1, None);
        assert!(access.accepts("right-token-0123456789"));
        assert!(!access.accepts("right-token-012345678"));
        assert!(!access.accepts(""));
    }
}
