//! The two HTTP listeners. `public_router` is what the tunnel exposes (webhooks, health);
//! `admin_router` is the UI and the admin API. They share no routes: the admin router is never
//! mounted on the public listener.

pub mod admin;
pub mod auth;
pub mod error;
pub mod extract;
pub mod limits;
pub mod public;
pub mod serve;
pub mod ui;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, Request, header};
use axum::middleware;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use error::ApiError;

/// Webhook bodies above this are refused with 413 (providers send a few KiB).
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;
/// Admin API bodies are small forms.
pub const ADMIN_BODY_LIMIT: usize = 64 * 1024;

pub use admin::router as admin_router;
pub use public::router as public_router;

/// Request logging: method, path and status. Only the path: a query string can carry the login
/// token, and bodies can carry API keys, so neither is ever logged.
fn trace_layer() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&Request<axum::body::Body>) -> tracing::Span + Clone,
> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &Request<axum::body::Body>| {
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        })
}

/// Shared by both listeners: JSON 404 and 405 instead of axum's empty answers.
pub async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint.")
}

pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Headers that keep the admin UI from being framed, sniffed or leaking its URL.
fn security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}

/// The one middleware stack of the admin listener, outermost first: tracing, security headers,
/// Host/Origin guard, a declared oversize body refused at once, body limit.
pub(crate) fn admin_stack(router: Router<AppState>, state: AppState) -> Router {
    let router = router
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
        .layer(middleware::from_fn(|request, next| limits::refuse_declared_oversize(request, next, ADMIN_BODY_LIMIT)))
        .layer(middleware::from_fn_with_state(state.clone(), auth::host_guard));
    security_headers(router).layer(trace_layer()).with_state(state)
}

/// The middleware stack of the public listener, outermost first: tracing, the in-flight cap and
/// request deadline, then the handlers, which read their bodies through `limits::read`.
pub(crate) fn public_stack(router: Router<AppState>, state: AppState) -> Router {
    // Each handler reads its body itself (size, deadline, byte budget), so that an oversize
    // webhook attempt still lands in the rejected log.
    router
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(limits::InFlight::default(), limits::guard))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(trace_layer())
        .with_state(state)
}
