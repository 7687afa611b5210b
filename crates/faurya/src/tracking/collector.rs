//! The event queue: accepted events wait here and are written in batches, one store write per
//! batch, while the previous batch commits. Pageviews are many and cheap; a burst of them turns
//! into a few large transactions instead of thousands of small ones, so a webhook's write —
//! which goes to the store directly — waits at most for one batch, never behind a queue of
//! pageviews.
//!
//! Each sender waits for its batch's commit before its 202: an accepted event is on disk.

use std::collections::HashMap;

use rusqlite::Connection;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::event::Accepted;
use crate::http::error::ApiError;
use crate::live::LiveEvent;
use crate::store::{self, Store, StoreError};

/// Events per transaction at most: bounds how long a webhook can wait behind one batch.
const MAX_BATCH: usize = 256;
/// Events waiting at most; beyond it the endpoint answers 503 and the script keeps the event in
/// the browser to send later.
const QUEUE: usize = 8192;

/// Why an event was not stored: (message, the storage cannot be written).
type Failure = (String, bool);

/// Per event, its site or why it failed; and the payments linked anew by the batch.
type BatchOutcome = (Vec<Result<Option<String>, Failure>>, Vec<i64>);

struct Pending {
    event: Accepted,
    done: oneshot::Sender<Result<(), Failure>>,
}

pub struct Collector {
    tx: mpsc::Sender<Pending>,
}

impl Collector {
    /// Starts the batching task; it ends when `cancel` fires and the queue is drained.
    pub fn start(store: Store, live: broadcast::Sender<LiveEvent>, cancel: CancellationToken) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, live, rx, cancel));
        Self { tx }
    }

    /// Queues `event` and waits until it is committed.
    pub async fn submit(&self, event: Accepted) -> Result<(), ApiError> {
        let (done, wait) = oneshot::channel();
        self.tx.try_send(Pending { event, done }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => ApiError::Unavailable {
                message: "Faurya is busy writing events; send this one again in a moment.".into(),
                retry_after_secs: 2,
            },
            mpsc::error::TrySendError::Closed(_) => ApiError::Store(StoreError::Closed),
        })?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((reason, true))) => Err(ApiError::Store(StoreError::Unavailable(reason))),
            Ok(Err((reason, false))) => Err(ApiError::Internal(format!("event not stored: {reason}"))),
            Err(_) => Err(ApiError::Store(StoreError::Closed)),
        }
    }
}

async fn run(
    store: Store,
    live: broadcast::Sender<LiveEvent>,
    mut rx: mpsc::Receiver<Pending>,
    cancel: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            got = rx.recv() => got,
            () = cancel.cancelled() => {
                // Stop taking new events; what is queued still gets written.
                rx.close();
                rx.recv().await
            }
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        write_batch(&store, &live, batch).await;
    }
}

async fn write_batch(store: &Store, live: &broadcast::Sender<LiveEvent>, batch: Vec<Pending>) {
    let (events, senders): (Vec<Accepted>, Vec<_>) = batch.into_iter().map(|p| (p.event, p.done)).unzip();
    let written = store.write(move |conn| Ok(apply_all(conn, &events))).await;
    let (outcomes, relinked) = match written {
        Ok(done) => done,
        Err(e) => (vec![Err((e.to_string(), matches!(e, StoreError::Unavailable(_)))); senders.len()], Vec::new()),
    };
    for payment in relinked {
        let _ = live.send(LiveEvent::Payment(payment));
    }
    let mut sites: Vec<String> = Vec::new();
    for (done, outcome) in senders.into_iter().zip(outcomes) {
        let answer = outcome.map(|site| {
            if let Some(site) = site
                && !sites.contains(&site)
            {
                sites.push(site);
            }
        });
        let _ = done.send(answer);
    }
    for site in sites {
        let _ = live.send(LiveEvent::Pageview(site));
    }
}

/// Applies each event in a savepoint of its own (one bad event never costs the others), then
/// notes the first and latest event of each site. Answers, per event, its site or why it failed.
fn apply_all(conn: &Connection, events: &[Accepted]) -> BatchOutcome {
    let mut relinked = Vec::new();
    let mut seen: HashMap<&str, (&Accepted, i64)> = HashMap::new();
    let mut outcomes = vec![Ok(None); events.len()];
    // Oldest first: a browser back online sends its queued events and the new pageview at once,
    // and the session must start at the earliest of them, whichever arrived first.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].at);
    for i in order {
        let ev = &events[i];
        let outcome = in_savepoint(conn, |conn| {
            let applied = store::sessions::apply(conn, ev)?;
            // Payments that arrived before this visit's events (queued in a browser, a late batch)
            // are linked now.
            if let store::sessions::Applied::NewSession(_) = applied {
                relinked.extend(store::attribution::relink_for_session(
                    conn,
                    &ev.site_id,
                    &ev.visitor_id,
                    &ev.session_id,
                )?);
            }
            Ok(applied)
        });
        if outcome.is_ok() {
            let entry = seen.entry(ev.site_id.as_str()).or_insert((ev, ev.at));
            if ev.at < entry.0.at {
                entry.0 = ev;
            }
            entry.1 = entry.1.max(ev.at);
        }
        outcomes[i] = outcome
            .map(|_| Some(ev.site_id.clone()))
            .map_err(|e| (e.to_string(), matches!(e, StoreError::Unavailable(_))));
    }
    for (site, (first, last_at)) in seen {
        if let Err(e) = store::sites::note_events(conn, site, first.at, &first.url, &first.name, last_at) {
            tracing::warn!(site, error = %e, "could not note the site's latest event");
        }
    }
    (outcomes, relinked)
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> store::Result<T>) -> store::Result<T> {
    conn.execute_batch("SAVEPOINT event")?;
    let outcome = f(conn);
    if outcome.is_err() {
        conn.execute_batch("ROLLBACK TO event")?;
    }
    conn.execute_batch("RELEASE event")?;
    outcome
}
