//! The admin listener: the UI, `/login`, and the JSON API under `/api` (one router per
//! resource, all behind the admin token).

mod attribution;
mod backup;
mod connections;
mod events;
mod export;
mod health;
mod payments;
mod settings;
mod sites;
mod stream;
mod time_range;
mod traffic;
mod tunnel;

use axum::Router;
use axum::middleware::from_extractor_with_state;
use axum::routing::{get, post};

use super::auth::{self, AdminAuth};
use crate::app::AppState;

/// A payment as the API shows it (also the revenue API's answer).
pub fn payment_view(row: crate::store::payments::PaymentRow) -> serde_json::Value {
    serde_json::to_value(payments::PaymentView::from(row)).unwrap_or_default()
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(health::router())
        .merge(settings::router())
        .merge(connections::router())
        .merge(events::router())
        .merge(payments::router())
        .merge(stream::router())
        .merge(tunnel::router())
        .merge(sites::router())
        .merge(traffic::router())
        .merge(attribution::router())
        .merge(backup::router())
        .merge(export::router())
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        // A layer, not a per-handler argument: no endpoint can forget to require the token.
        .layer(from_extractor_with_state::<AdminAuth, AppState>(state.clone()));
    let routes = Router::new()
        .route("/login", get(auth::login))
        .route("/logout", post(auth::logout))
        .nest("/api", api)
        .fallback(super::ui::serve);
    super::admin_stack(routes, state)
}
