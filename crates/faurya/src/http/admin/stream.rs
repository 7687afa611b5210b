//! `GET /api/stream`: server-sent events, so open screens update without a reload. Every event
//! carries data (EventSource drops events without any).
//! Events: `delivery` (data `d_<id>` or `r_<id>`), `payment` (payment id), `connection`
//! (connection id), `settings`. A client that falls behind gets `resync`: refetch everything.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/stream", get(stream))
}

async fn stream(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.live.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(live) => {
                let (name, id) = live.name_and_id();
                Event::default().event(name).data(id)
            }
            Err(RecvError::Lagged(_)) => Event::default().event("resync").data("resync"),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    // End with the app: an open stream would otherwise hold graceful shutdown forever.
    let events = events.take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
