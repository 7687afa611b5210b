//! Tracking: sites, the first-party script, the event endpoint, sessions and channels.
//!
//! The script mints visitor and session ids in the browser and posts each pageview to
//! `POST /api/event`; [`Tracking::collect`] checks it (site, domain, sizes, ids, clock, bots,
//! spam, rate), queues it for a batched write that creates or extends its session, and answers
//! an attribution token. Sessions freeze their entry fields at their first event; their channel
//! is a pure function of those fields through the versioned table in [`channel`].
//!
//! Needs only the store, the sealer and the live-event sender, never the whole app.

pub mod bots;
pub mod channel;
pub mod collector;
pub mod event;
pub mod ids;
pub mod rate_limit;
pub mod reports;
pub mod sites;
pub mod source;
pub mod spam;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::attribution::token;
use crate::http::error::ApiError;
use crate::live::LiveEvent;
use crate::secrets::Sealer;
use crate::store::{Store, now_ms};
use collector::Collector;
use rate_limit::RateLimit;
use sites::Sites;

/// The tracker, served as-is (no build step) at `GET /js/script.js`.
pub const SCRIPT: &str = include_str!("script.js");

/// A visitor counts as live this long after their latest event.
const LIVE_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Live visitors remembered at most (older ones are pruned first).
const LIVE_MAX: usize = 100_000;

/// What the event endpoint answers.
#[derive(Debug, Serialize)]
pub struct Collected {
    /// The attribution token for the checkout; `None` when the event was dropped on purpose.
    pub token: Option<String>,
    /// Why an event was dropped without an error (`bot`, `spam`): the sender learns nothing to
    /// work around, the store stays clean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<&'static str>,
}

/// The request around an event body.
pub struct EventRequest<'a> {
    pub body: &'a [u8],
    pub origin: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub client: Option<IpAddr>,
}

pub struct Tracking {
    pub sites: Sites,
    store: Store,
    collector: Collector,
    rate: RateLimit,
    /// (site, visitor) → (latest event time, path), for "live visitors".
    live: Mutex<HashMap<(String, String), (i64, String)>>,
    /// The latest refused event of each site, so "Verify installation" can say why nothing
    /// arrives (a domain missing from the list is the usual reason).
    refusals: Mutex<HashMap<String, Refusal>>,
}

/// Why a site's latest refused event was refused.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub at: String,
    pub code: &'static str,
    pub message: String,
}

impl Tracking {
    pub fn new(
        store: Store,
        sealer: Arc<Sealer>,
        live: broadcast::Sender<LiveEvent>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            sites: Sites::new(store.clone(), sealer),
            collector: Collector::start(store.clone(), live, cancel),
            store,
            // A visitor clicking around sends one event every few seconds; an office behind one
            // address, a few dozen at once.
            rate: RateLimit::new(20.0, 200.0),
            live: Mutex::default(),
            refusals: Mutex::default(),
        }
    }

    /// The latest refused event of `site`, if any since start.
    pub fn last_refusal(&self, site: &str) -> Option<Refusal> {
        self.refusals.lock().expect("refusals lock").get(site).cloned()
    }

    fn refuse(&self, site: &str, error: ApiError) -> ApiError {
        let refusal = Refusal { at: crate::store::rfc3339(now_ms()), code: error.code(), message: error.to_string() };
        self.refusals.lock().expect("refusals lock").insert(site.to_string(), refusal);
        error
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Checks, stores and answers one event from the script.
    pub async fn collect(&self, request: EventRequest<'_>) -> Result<Collected, ApiError> {
        if let Some(client) = request.client {
            self.rate.check(client).map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
        }
        let now = now_ms();
        let raw = event::parse(request.body, now)?;
        let Some(site) = self.sites.keys(&raw.site).await? else {
            return Err(ApiError::BadRequest {
                code: "unknown_site",
                message: format!(
                    "This Faurya has no site {:?}: copy the script tag again from the Tracking page.",
                    raw.site
                ),
            });
        };
        let page_host = raw.url.host_str().unwrap_or_default().to_ascii_lowercase();
        if site.domains.is_empty() {
            return Err(self.refuse(&site.id, ApiError::Forbidden {
                code: "no_domains",
                message: format!(
                    "The site has no domains yet: add {page_host} to its domains on Faurya's Tracking page to accept its events."
                ),
            }));
        }
        let origin = event::origin_host(request.origin);
        for host in [Some(page_host.as_str()), origin.as_deref()].into_iter().flatten() {
            if !site.allows_host(host) {
                return Err(self.refuse(&site.id, ApiError::Forbidden {
                    code: "domain_not_allowed",
                    message: format!(
                        "Events from {host} are not accepted for this site: add it to the site's domains on Faurya's Tracking page."
                    ),
                }));
            }
        }
        if bots::is_bot(request.user_agent) {
            return Ok(Collected { token: None, ignored: Some("bot") });
        }
        let referrer_host = raw
            .referrer
            .as_deref()
            .and_then(|r| url::Url::parse(r).ok())
            .and_then(|u| u.host_str().map(str::to_string));
        if referrer_host.is_some_and(|h| spam::is_spam_referrer(&h.to_ascii_lowercase())) {
            return Ok(Collected { token: None, ignored: Some("spam") });
        }

        let accepted = event::accept(raw, &site.domains, now);
        let (visitor, session, path, at) =
            (accepted.visitor_id.clone(), accepted.session_id.clone(), accepted.path.clone(), accepted.at);
        self.collector.submit(accepted).await?;
        self.note_live(&site.id, visitor.clone(), at, path);
        let token = token::issue(site.token_secret.expose().as_bytes(), &site.id, &visitor, &session, now / 1000);
        Ok(Collected { token: Some(token), ignored: None })
    }

    fn note_live(&self, site: &str, visitor: String, at: i64, path: String) {
        let mut live = self.live.lock().expect("live lock");
        if live.len() >= LIVE_MAX {
            let cutoff = now_ms() - LIVE_WINDOW_MS;
            live.retain(|_, (seen, _)| *seen >= cutoff);
        }
        let entry = live.entry((site.to_string(), visitor)).or_insert((at, String::new()));
        if at >= entry.0 {
            *entry = (at, path);
        }
    }

    /// Recomputes the source and channel of sessions stored under an older channel table, from
    /// the entry fields kept for that purpose, then rebuilds the rollups of the sites touched.
    /// Runs at start; a no-op when nothing is stale.
    pub async fn recompute_channels(&self) -> Result<usize, ApiError> {
        let mut total = 0;
        for site in self.store.read(crate::store::sites::list).await? {
            let (id, domains) = (site.id.clone(), site.domains.clone());
            let changed = self
                .store
                .write(move |conn| {
                    let mut changed = 0;
                    loop {
                        let stale = crate::store::sessions::stale_channels(conn, &id, channel::TABLE_VERSION, 1000)?;
                        if stale.is_empty() {
                            break;
                        }
                        for (row, landing, referrer) in stale {
                            let (source, channel) = match url::Url::parse(&landing) {
                                Ok(url) => {
                                    let entry = source::resolve(&url, referrer.as_deref(), &domains);
                                    let channel = channel::classify(&entry);
                                    (entry.source, channel)
                                }
                                Err(_) => (None, channel::Channel::Direct),
                            };
                            crate::store::sessions::set_channel(
                                conn,
                                row,
                                source.as_deref(),
                                channel.name(),
                                channel::TABLE_VERSION,
                            )?;
                            changed += 1;
                        }
                    }
                    if changed > 0 {
                        crate::store::sessions::rebuild_rollups(conn, &id)?;
                    }
                    Ok(changed)
                })
                .await?;
            if changed > 0 {
                tracing::info!(site = %site.id, sessions = changed, version = channel::TABLE_VERSION, "channels recomputed");
            }
            total += changed;
        }
        Ok(total)
    }

    /// Visitors seen in the last five minutes, and the pages they are on.
    pub fn live_visitors(&self, site: &str) -> reports::Live {
        let cutoff = now_ms() - LIVE_WINDOW_MS;
        let mut live = self.live.lock().expect("live lock");
        live.retain(|_, (seen, _)| *seen >= cutoff);
        let mut pages: HashMap<&str, i64> = HashMap::new();
        let mut visitors = 0;
        for ((s, _), (_, path)) in live.iter() {
            if s == site {
                visitors += 1;
                *pages.entry(path.as_str()).or_default() += 1;
            }
        }
        let mut pages: Vec<reports::LivePage> =
            pages.into_iter().map(|(path, visitors)| reports::LivePage { path: path.to_string(), visitors }).collect();
        pages.sort_by(|a, b| b.visitors.cmp(&a.visitors).then_with(|| a.path.cmp(&b.path)));
        pages.truncate(20);
        reports::Live { visitors, pages }
    }
}
