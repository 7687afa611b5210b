//! The embedded UI: `ui/dist`, built by Vite, compiled into release binaries by rust-embed.
//! Debug builds read the same folder from disk (edit, `npm run build`, reload), and
//! `--ui-dir` / `FAURYA_UI_DIR` serves any folder.

use std::borrow::Cow;
use std::path::Path;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use crate::app::AppState;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Embedded;

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Faurya</title>\
<body style=\"font-family:system-ui;max-width:36rem;margin:4rem auto;line-height:1.5\">\
<h1>The Faurya UI is not built</h1><p>This binary was compiled without <code>ui/dist</code>. \
Run <code>make build</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>) \
and start it again. The API under <code>/api</code> works meanwhile.</p></body>";

/// Fallback handler of the admin listener: static files, `index.html` for `/`.
pub async fn serve(State(state): State<AppState>, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if path.split('/').any(|part| part == ".." || part.starts_with('.')) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match load(state.config.ui_dir.as_deref(), path) {
        Some(bytes) => file_response(path, bytes),
        // The UI routes with #hashes, so a missing path is a missing file, except the index.
        None if path == "index.html" => Html(NOT_BUILT).into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn load(ui_dir: Option<&Path>, path: &str) -> Option<Cow<'static, [u8]>> {
    match ui_dir {
        Some(dir) => std::fs::read(dir.join(path)).ok().map(Cow::Owned),
        None => Embedded::get(path).map(|file| file.data),
    }
}

fn file_response(path: &str, bytes: Cow<'static, [u8]>) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // Vite puts content hashes in asset names: those can be cached forever. index.html must
    // always be fetched again so a new build is picked up.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = bytes.into_owned().into_response();
    let headers = response.headers_mut();
    let text_like = mime.type_() == "text" || mime.subtype() == "javascript" || mime.subtype() == "json";
    let content_type =
        if text_like { format!("{}; charset=utf-8", mime.essence_str()) } else { mime.essence_str().to_string() };
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
