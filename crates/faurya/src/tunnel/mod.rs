//! Tunnels: what makes the public listener reachable from the internet, so providers can deliver
//! webhooks to a laptop or a small server.
//!
//! Every backend implements [`Backend`]: `open` brings a tunnel up and answers its public URL;
//! the [`TunnelSession`] it returns resolves `closed` when the tunnel dies. One supervisor task
//! (owned by the app, ended by `AppState::shutdown`) runs the backend chosen in Settings,
//! restarts it with back-off when it fails, and publishes its [`TunnelStatus`] through a `watch`
//! channel and `LiveEvent::Tunnel`. Changing the settings restarts the supervisor's backend with
//! the new configuration.
//!
//! Backends: `none`, `manual` (a URL the founder provides), `cloudflared` (a Cloudflare quick
//! tunnel through the installed binary), `ngrok` (the `ngrok` crate) and `bore` (the `bore-cli`
//! crate against a self-hosted bore server).

pub mod bore;
pub mod child;
pub mod cloudflared;
pub mod manual;
pub mod ngrok;
pub mod settings;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::app::LiveEvent;
use crate::config::{Backoff, TunnelOptions};
pub use settings::TunnelSettings;

/// The tunnel backends a founder can choose from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// No tunnel: providers cannot reach this app (unless --public-url says how).
    #[default]
    None,
    /// The public URL saved in Settings (your reverse proxy, Tailscale Funnel, a named
    /// Cloudflare tunnel).
    Manual,
    /// A Cloudflare quick tunnel through the installed `cloudflared`: no account, a new URL on
    /// each start (Faurya updates the provider webhooks).
    Cloudflared,
    /// ngrok, with the authtoken (and optional reserved domain) saved in Settings.
    Ngrok,
    /// Your own bore server, as saved in Settings.
    Bore,
}

impl BackendKind {
    pub const ALL: [BackendKind; 5] =
        [BackendKind::None, BackendKind::Manual, BackendKind::Cloudflared, BackendKind::Ngrok, BackendKind::Bore];

    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::None => "none",
            BackendKind::Manual => "manual",
            BackendKind::Cloudflared => "cloudflared",
            BackendKind::Ngrok => "ngrok",
            BackendKind::Bore => "bore",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// How the UI and messages name it.
    pub fn display_name(self) -> &'static str {
        match self {
            BackendKind::None => "no tunnel",
            BackendKind::Manual => "manual URL",
            BackendKind::Cloudflared => "Cloudflare quick tunnel",
            BackendKind::Ngrok => "ngrok tunnel",
            BackendKind::Bore => "bore tunnel",
        }
    }
}

/// Where a tunnel is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelState {
    /// No tunnel chosen.
    Off,
    /// Coming up (first start, or a restart after a failure).
    Starting,
    /// Up: `url` reaches the public listener.
    Up,
    /// Not working: `error` says why; it is retried unless it needs a settings change.
    Down,
}

impl TunnelState {
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelState::Off => "off",
            TunnelState::Starting => "starting",
            TunnelState::Up => "up",
            TunnelState::Down => "down",
        }
    }
}

/// What the supervisor publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelStatus {
    pub backend: BackendKind,
    pub state: TunnelState,
    /// The public URL while `up`.
    pub url: Option<String>,
    /// The last error (kept while restarting, cleared once up).
    pub error: Option<String>,
    /// Unix milliseconds of the last change.
    pub updated_at: Option<i64>,
}

impl TunnelStatus {
    fn new(backend: BackendKind, state: TunnelState, url: Option<String>, error: Option<String>) -> Self {
        Self { backend, state, url, error, updated_at: Some(crate::store::now_ms()) }
    }

    /// The URL providers can use now: only while up.
    pub fn live_url(&self) -> Option<&str> {
        (self.state == TunnelState::Up).then_some(self.url.as_deref()).flatten()
    }

    /// Equal apart from the time stamp.
    fn same_as(&self, other: &Self) -> bool {
        self.backend == other.backend && self.state == other.state && self.url == other.url && self.error == other.error
    }
}

/// Why a backend could not open (or lost) its tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelError {
    /// A sentence for the founder: what happened and what to do.
    pub message: String,
    /// Whether trying again later can help; `false` when only a settings change can.
    pub retry: bool,
}

impl TunnelError {
    /// A failure worth retrying (network, process died, server busy).
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), retry: true }
    }

    /// A configuration problem: retrying without a settings change cannot help.
    pub fn config(message: impl Into<String>) -> Self {
        Self { message: message.into(), retry: false }
    }
}

/// A tunnel backend. `open` is called again after every failure (with back-off), so a backend
/// keeps no state about earlier sessions that matters.
pub trait Backend: Send + 'static {
    type Session: TunnelSession;

    /// Brings a tunnel up to the public listener and answers once its public URL is known.
    fn open(&mut self) -> impl Future<Output = Result<Self::Session, TunnelError>> + Send;
}

/// A tunnel that is up.
pub trait TunnelSession: Send + 'static {
    /// The public URL (no trailing slash).
    fn url(&self) -> &str;

    /// Resolves when the tunnel has stopped working, with the reason for the founder.
    fn closed(&mut self) -> impl Future<Output = String> + Send;

    /// Takes the tunnel down (settings changed, or the app stops).
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// What every backend needs from the app.
#[derive(Clone)]
pub struct BackendEnv {
    /// Where the tunnel forwards to: the public listener (loopback if it listens on all
    /// interfaces).
    pub target: SocketAddr,
    pub options: Arc<TunnelOptions>,
    /// For loopback calls (cloudflared's metrics): no proxy, short timeouts.
    pub local_http: reqwest::Client,
}

impl BackendEnv {
    pub fn new(public_addr: SocketAddr, options: TunnelOptions) -> Result<Self, reqwest::Error> {
        let local_http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(2)).build()?;
        Ok(Self { target: forward_target(public_addr), options: Arc::new(options), local_http })
    }
}

/// A listener on `0.0.0.0`/`::` is reached through loopback.
pub fn forward_target(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

struct Control {
    /// Bumped by every settings change; status updates from an older run are dropped.
    generation: u64,
    settings: Arc<TunnelSettings>,
}

/// The app's handle on the tunnel: its settings, its status, and the supervisor's wake-up.
pub struct Tunnel {
    control: Mutex<Control>,
    wake: watch::Sender<u64>,
    status: watch::Sender<TunnelStatus>,
    live: broadcast::Sender<LiveEvent>,
    /// Serializes read-modify-write of the settings (two `PUT /api/settings` at once).
    edit: tokio::sync::Mutex<()>,
}

impl Tunnel {
    pub fn new(settings: TunnelSettings, live: broadcast::Sender<LiveEvent>) -> Self {
        let status = initial_status(&settings);
        Self {
            control: Mutex::new(Control { generation: 0, settings: Arc::new(settings) }),
            wake: watch::Sender::new(0),
            status: watch::Sender::new(status),
            live,
            edit: tokio::sync::Mutex::new(()),
        }
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn status(&self) -> TunnelStatus {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<TunnelStatus> {
        self.status.subscribe()
    }

    pub fn settings(&self) -> Arc<TunnelSettings> {
        self.control().settings.clone()
    }

    /// Held while a settings edit reads, validates, stores and applies.
    pub async fn lock_for_edit(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.edit.lock().await
    }

    /// Switches to new settings; the supervisor restarts the backend. The status moves at once
    /// (a manual URL is usable as soon as this returns). Returns whether anything changed.
    pub fn apply(&self, settings: TunnelSettings) -> bool {
        let generation = {
            let mut control = self.control();
            if *control.settings == settings {
                return false;
            }
            control.generation += 1;
            control.settings = Arc::new(settings);
            let status = initial_status(&control.settings);
            self.set_status(status);
            control.generation
        };
        self.wake.send_replace(generation);
        true
    }

    /// Publishes `status` if it comes from the current run (`generation`).
    fn report(&self, generation: u64, status: TunnelStatus) {
        let control = self.control();
        if control.generation == generation {
            self.set_status(status);
        }
    }

    /// Caller holds the control lock, so a stale run cannot interleave.
    fn set_status(&self, status: TunnelStatus) {
        let changed = self.status.send_if_modified(|current| {
            if current.same_as(&status) {
                return false;
            }
            *current = status.clone();
            true
        });
        if changed {
            match status.state {
                TunnelState::Up => tracing::info!(
                    backend = status.backend.as_str(),
                    url = status.url.as_deref().unwrap_or(""),
                    "tunnel up"
                ),
                TunnelState::Down => tracing::warn!(
                    backend = status.backend.as_str(),
                    error = status.error.as_deref().unwrap_or(""),
                    "tunnel down"
                ),
                TunnelState::Starting => tracing::info!(backend = status.backend.as_str(), "tunnel starting"),
                TunnelState::Off => tracing::info!("tunnel off"),
            }
            let _ = self.live.send(LiveEvent::Tunnel(status.state.as_str()));
        }
    }

    /// Runs the chosen backend until `shutdown`, restarting it whenever the settings change.
    pub async fn supervise(self: Arc<Self>, env: BackendEnv, shutdown: CancellationToken) {
        let mut wake = self.wake.subscribe();
        loop {
            wake.borrow_and_update();
            let (generation, settings) = {
                let control = self.control();
                (control.generation, control.settings.clone())
            };
            let cancel = shutdown.child_token();
            let mut run = tokio::spawn(self.clone().run(generation, settings, env.clone(), cancel.clone()));
            let mut finished = false;
            tokio::select! {
                _ = wake.changed() => {}
                _ = shutdown.cancelled() => {}
                _ = &mut run => {
                    // A run ends when cancelled (or if it panicked); wait for what comes next.
                    finished = true;
                    tokio::select! {
                        _ = wake.changed() => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
            cancel.cancel();
            if !finished && tokio::time::timeout(CLOSE_TIMEOUT, &mut run).await.is_err() {
                tracing::warn!("the tunnel did not close in time; abandoning it");
                run.abort();
            }
            if shutdown.is_cancelled() {
                return;
            }
        }
    }

    async fn run(
        self: Arc<Self>,
        generation: u64,
        settings: Arc<TunnelSettings>,
        env: BackendEnv,
        cancel: CancellationToken,
    ) {
        let reporter = Reporter { tunnel: self, generation, backend: settings.backend };
        let backoff = env.options.restart_backoff;
        if let Some(problem) = settings.problem() {
            reporter.set(TunnelState::Down, None, Some(problem));
            return cancel.cancelled().await;
        }
        match settings.backend {
            BackendKind::None => reporter.set(TunnelState::Off, None, None),
            BackendKind::Manual => {
                let url = settings.manual_url.clone().unwrap_or_default();
                keep_up(manual::Manual::new(url), &reporter, backoff, &cancel).await
            }
            BackendKind::Cloudflared => keep_up(cloudflared::Cloudflared::new(&env), &reporter, backoff, &cancel).await,
            BackendKind::Ngrok => keep_up(ngrok::Ngrok::new(&env, &settings.ngrok), &reporter, backoff, &cancel).await,
            BackendKind::Bore => keep_up(bore::Bore::new(&env, &settings.bore), &reporter, backoff, &cancel).await,
        }
        cancel.cancelled().await
    }
}

/// How long closing a tunnel (killing cloudflared, an ngrok RPC) may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A tunnel that stayed up this long starts its back-off from the beginning after it dies.
const STABLE_AFTER: Duration = Duration::from_secs(60);

struct Reporter {
    tunnel: Arc<Tunnel>,
    generation: u64,
    backend: BackendKind,
}

impl Reporter {
    fn set(&self, state: TunnelState, url: Option<String>, error: Option<String>) {
        self.tunnel.report(self.generation, TunnelStatus::new(self.backend, state, url, error));
    }
}

/// Opens the backend, waits for the tunnel to die, and opens it again after a back-off, until
/// cancelled.
async fn keep_up<B: Backend>(mut backend: B, reporter: &Reporter, backoff: Backoff, cancel: &CancellationToken) {
    let mut failures: u32 = 0;
    let mut last_error: Option<String> = None;
    loop {
        // A manual URL is usable at once: announcing "starting" first would leave a moment with
        // no public URL right after the founder saved one.
        if reporter.backend != BackendKind::Manual || last_error.is_some() {
            reporter.set(TunnelState::Starting, None, last_error.clone());
        }
        let opened = tokio::select! {
            opened = backend.open() => opened,
            _ = cancel.cancelled() => return,
        };
        let error = match opened {
            Ok(mut session) => {
                reporter.set(TunnelState::Up, Some(session.url().to_string()), None);
                let since = Instant::now();
                let reason = tokio::select! {
                    reason = session.closed() => reason,
                    _ = cancel.cancelled() => {
                        session.close().await;
                        return;
                    }
                };
                session.close().await;
                if since.elapsed() >= STABLE_AFTER {
                    failures = 0;
                }
                TunnelError::transient(reason)
            }
            Err(error) => error,
        };
        failures = failures.saturating_add(1);
        reporter.set(TunnelState::Down, None, Some(error.message.clone()));
        if !error.retry {
            return;
        }
        last_error = Some(error.message);
        tokio::select! {
            _ = tokio::time::sleep(backoff.delay(failures)) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// The status a configuration has before its backend reports anything.
fn initial_status(settings: &TunnelSettings) -> TunnelStatus {
    let backend = settings.backend;
    if let Some(problem) = settings.problem() {
        return TunnelStatus::new(backend, TunnelState::Down, None, Some(problem));
    }
    match backend {
        BackendKind::None => TunnelStatus::new(backend, TunnelState::Off, None, None),
        BackendKind::Manual => TunnelStatus::new(backend, TunnelState::Up, settings.manual_url.clone(), None),
        _ => TunnelStatus::new(backend, TunnelState::Starting, None, None),
    }
}

/// What to tell a founder who needs a public URL (to connect a provider, to test the delivery
/// path) while there is none.
pub fn missing_url_message(status: &TunnelStatus, public_addr: SocketAddr, what: &str) -> String {
    let name = status.backend.display_name();
    match (status.backend, status.state) {
        (BackendKind::None, _) | (_, TunnelState::Off) => format!(
            "{what} needs a public URL that reaches this app, and there is none yet. In Settings → Tunnel, choose a \
             tunnel (a Cloudflare quick tunnel needs no account), or enter the https address of your own reverse \
             proxy that forwards to {public_addr} as the Public URL. Then try again."
        ),
        (BackendKind::Manual, _) => format!(
            "{what} needs a public URL, and the manual tunnel has none saved. Enter the https address that \
             forwards to {public_addr} as the Public URL in Settings (or choose a tunnel in Settings → Tunnel), then \
             try again."
        ),
        (_, TunnelState::Starting) => {
            let previous = status
                .error
                .as_deref()
                .map(|e| format!(" (it is restarting after: {})", e.trim_end_matches('.')))
                .unwrap_or_default();
            format!(
                "The {name} is still starting{previous}, so there is no public URL yet. Wait until Settings → Tunnel \
                 shows it up (usually a few seconds), then try again."
            )
        }
        (_, _) => format!(
            "The {name} is down, so there is no public URL: {} Fix that in Settings → Tunnel, or choose another \
             tunnel there, then try again.",
            sentence(status.error.as_deref().unwrap_or("no reason was reported"))
        ),
    }
}

/// `text` ending with a full stop (unless it already ends a sentence).
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '?', '!']) { text.to_string() } else { format!("{text}.") }
}

/// `error: source: source...` for errors that keep their detail in `source()`.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        let part = next.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_round_trip() {
        for kind in BackendKind::ALL {
            assert_eq!(BackendKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(BackendKind::parse("Cloudflared"), None);
    }

    #[test]
    fn wildcard_listeners_are_reached_through_loopback() {
        assert_eq!(forward_target("0.0.0.0:8787".parse().unwrap()), "127.0.0.1:8787".parse().unwrap());
        assert_eq!(forward_target("[::]:8787".parse().unwrap()), "[::1]:8787".parse().unwrap());
        assert_eq!(forward_target("10.0.0.2:8787".parse().unwrap()), "10.0.0.2:8787".parse().unwrap());
    }

    #[test]
    fn missing_url_messages_say_what_to_do() {
        let addr: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        let none = TunnelStatus::new(BackendKind::None, TunnelState::Off, None, None);
        assert!(missing_url_message(&none, addr, "Whop").contains("Settings → Tunnel"));
        let starting = TunnelStatus::new(BackendKind::Cloudflared, TunnelState::Starting, None, None);
        assert!(missing_url_message(&starting, addr, "Whop").contains("still starting"));
        let down = TunnelStatus::new(BackendKind::Ngrok, TunnelState::Down, None, Some("bad token.".into()));
        let message = missing_url_message(&down, addr, "Whop");
        assert!(message.contains("is down") && message.contains("bad token. Fix that"), "{message}");
        let manual = TunnelStatus::new(BackendKind::Manual, TunnelState::Down, None, Some("no URL".into()));
        assert!(missing_url_message(&manual, addr, "Whop").contains("Public URL in Settings"));
        let down = TunnelStatus::new(BackendKind::Ngrok, TunnelState::Down, None, Some("online?".into()));
        assert!(missing_url_message(&down, addr, "Whop").contains("online? Fix that"));
    }
}
