//! The app: wires configuration, store, secrets and the two listeners, and stops them cleanly.
//! Both `faurya serve` and the desktop shell run exactly this.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::http::serve::Limits;
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ensure_data_dir};
use crate::http::auth::AdminAccess;
use crate::secrets::{self, Aad, KeySource, Sealer, Secret};
use crate::store::{self, Store, StoreError};

/// Addresses the listeners actually bound (a configured port 0 becomes a real port).
#[derive(Clone, Copy, Debug)]
pub struct BoundAddrs {
    pub public: SocketAddr,
    pub admin: SocketAddr,
}

pub use crate::live::LiveEvent;

/// Shared state of every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub sealer: Arc<Sealer>,
    pub admin: Arc<AdminAccess>,
    pub addrs: BoundAddrs,
    pub live: broadcast::Sender<LiveEvent>,
    /// One HTTP client (connection pool, rustls) for every provider API call.
    pub http: reqwest::Client,
    /// Unsealed webhook secrets of connections, for the ingest hot path.
    pub receivers: Arc<crate::ingest::Receivers>,
    pub ingest: Arc<crate::ingest::IngestSettings>,
    pub ingest_budget: Arc<crate::ingest::RejectionBudget>,
    /// Body bytes held at once by the public listener's requests.
    pub body_budget: crate::http::limits::BodyBudget,
    /// Cancelled when the app stops: long-lived tasks and streams end with it.
    pub shutdown: CancellationToken,
    /// The tunnel's settings and status (its supervisor runs as an app task).
    pub tunnel: Arc<crate::tunnel::Tunnel>,
    /// Keeps provider webhooks pointed at the public URL.
    pub webhook_sync: Arc<crate::webhook_sync::WebhookSync>,
    /// Checks for missed payments in progress, one per connection.
    pub backfill: Arc<crate::backfill::Checks>,
    /// Sites, the event endpoint and sessions.
    pub tracking: Arc<crate::tracking::Tracking>,
}

impl AppState {
    /// Tells live subscribers; nobody listening is fine.
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.live.send(event);
    }

    /// The URL providers must deliver to: pinned by flag/env, else the tunnel's while it is up
    /// (for the manual backend, the URL saved in Settings).
    pub async fn public_url(&self) -> Result<Option<String>, StoreError> {
        Ok(self.effective_public_url())
    }

    /// [`AppState::public_url`] without the `async`: it reads memory only.
    pub fn effective_public_url(&self) -> Option<String> {
        if let Some(url) = &self.config.public_url {
            return Some(url.clone());
        }
        self.tunnel.status().live_url().map(str::to_string)
    }

    /// Where the effective public URL comes from: `flag`, `settings` (the manual URL),
    /// `tunnel`, or `None` when there is none.
    pub fn public_url_source(&self) -> Option<&'static str> {
        if self.config.public_url.is_some() {
            return Some("flag");
        }
        let status = self.tunnel.status();
        status.live_url()?;
        Some(if status.backend == crate::tunnel::BackendKind::Manual { "settings" } else { "tunnel" })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Secrets(#[from] secrets::SecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the master key from {key_source} does not open the secrets stored in {db}: it is not the key that sealed them. \
         Restore the original key (FAURYA_MASTER_KEY, the OS keychain entry, or master.key in the data dir)."
    )]
    WrongMasterKey { key_source: KeySource, db: String },
    #[error(
        "could not listen on {addr} ({what}): {source}. Is another Faurya running? Pick another port with {flag}, or 0 for any free port."
    )]
    Bind { what: &'static str, flag: &'static str, addr: SocketAddr, source: std::io::Error },
    #[error(
        "another Faurya is already running with the data dir {dir}: use that one, or give this one another --data-dir"
    )]
    DataDirInUse { dir: String },
    #[error(transparent)]
    Lock(#[from] crate::backup::BackupError),
    #[error("could not read or write the admin token file {path}: {source}")]
    AdminToken { path: String, source: std::io::Error },
    #[error(
        "the admin token file {path} can be read by other users (mode {mode:o}); anyone who reads it can \
         open your revenue data. Fix it with: chmod 600 {path}"
    )]
    AdminTokenTooOpen { path: String, mode: u32 },
    #[error("startup task failed: {0}")]
    Task(String),
}

/// A started app. Dropping it does not stop it; call [`RunningApp::shutdown`].
pub struct RunningApp {
    pub addrs: BoundAddrs,
    pub key_source: KeySource,
    state: AppState,
    cancel: CancellationToken,
    collector_stop: CancellationToken,
    tasks: JoinSet<()>,
    /// Held until shutdown: one app per data dir.
    _lock: crate::backup::DataDirLock,
}

impl RunningApp {
    /// Opening this URL signs the browser in (it sets the session cookie).
    pub fn login_url(&self) -> String {
        format!("http://{}/login?token={}", self.addrs.admin, self.state.admin.token().expose())
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.addrs.admin)
    }

    pub fn public_listener_url(&self) -> String {
        format!("http://{}", self.addrs.public)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.state.live.subscribe()
    }

    /// Stops accepting connections, lets requests in flight finish, then flushes the store.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.collector_stop.cancel();
        self.state.store.close().await;
        // No longer true; `faurya test-payment` then says Faurya is not running.
        let _ = std::fs::remove_file(self.state.config.data_dir.join(ADMIN_ADDR_FILE));
        tracing::info!("stopped");
    }
}

pub struct App;

impl App {
    pub async fn start(config: Config) -> Result<RunningApp, StartError> {
        let config = Arc::new(config);
        let setup_config = config.clone();
        let (store, sealer, key_source, token, lock) =
            tokio::task::spawn_blocking(move || open_data_dir(&setup_config))
                .await
                .map_err(|e| StartError::Task(e.to_string()))??;
        check_master_key(&store, &sealer, &key_source).await?;

        let public_listener = bind(config.public_addr, "public listener", "--public-addr").await?;
        let admin_listener = bind(config.admin_addr, "admin listener", "--admin-addr").await?;
        let addrs = BoundAddrs {
            public: public_listener
                .local_addr()
                .map_err(|e| bind_error(config.public_addr, "public listener", "--public-addr", e))?,
            admin: admin_listener
                .local_addr()
                .map_err(|e| bind_error(config.admin_addr, "admin listener", "--admin-addr", e))?,
        };

        let (live, _) = broadcast::channel(256);
        let http = reqwest::Client::builder()
            .timeout(config.provider_timeout)
            .connect_timeout(config.provider_timeout.min(std::time::Duration::from_secs(10)))
            .user_agent(concat!("faurya/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StartError::Task(format!("HTTP client: {e}")))?;
        let ingest = crate::ingest::IngestSettings::default();
        let tolerance = store.read(store::settings::signature_tolerance_secs).await?;
        ingest.tolerance_secs.store(tolerance, std::sync::atomic::Ordering::Relaxed);
        let tunnel_settings = load_tunnel_settings(&store, &sealer, config.tunnel.backend).await?;
        let mut tunnel_options = config.tunnel.clone();
        let pid_file = config.data_dir.join("cloudflared.pid");
        crate::tunnel::child::stop_leftover(&pid_file, "cloudflared");
        tunnel_options.pid_file = Some(pid_file);
        let tunnel_env = crate::tunnel::BackendEnv::new(addrs.public, tunnel_options)
            .map_err(|e| StartError::Task(format!("HTTP client: {e}")))?;
        let tunnel = Arc::new(crate::tunnel::Tunnel::new(tunnel_settings, live.clone()));
        let cancel = CancellationToken::new();
        let sealer = Arc::new(sealer);
        // Its own token: the event queue must drain after the listeners have stopped taking
        // requests, not race them.
        let collector_stop = CancellationToken::new();
        let tracking = Arc::new(crate::tracking::Tracking::new(
            store.clone(),
            sealer.clone(),
            live.clone(),
            collector_stop.clone(),
        ));
        tracking.sites.ensure_first().await.map_err(|e| StartError::Task(format!("first site: {e}")))?;
        tracking.recompute_channels().await.map_err(|e| StartError::Task(format!("channel table: {e}")))?;
        let state = AppState {
            shutdown: cancel.clone(),
            http,
            receivers: Arc::default(),
            ingest: Arc::new(ingest),
            ingest_budget: Arc::default(),
            body_budget: Default::default(),
            admin: Arc::new(AdminAccess::new(token, addrs.admin.port(), config.admin_host.clone())),
            config,
            store,
            sealer,
            addrs,
            live,
            tunnel: tunnel.clone(),
            webhook_sync: Arc::default(),
            backfill: Arc::default(),
            tracking,
        };

        let mut tasks = JoinSet::new();
        for (listener, router, limits, name) in [
            (public_listener, crate::http::public_router(state.clone()), Limits::PUBLIC, "public"),
            (admin_listener, crate::http::admin_router(state.clone()), Limits::ADMIN, "admin"),
        ] {
            tasks.spawn(crate::http::serve::serve(listener, router, limits, cancel.clone(), name));
        }
        tracing::info!(public = %addrs.public, admin = %addrs.admin, key = %key_source, "listening");
        // Where this run's admin API is, for commands such as `faurya test-payment` (the port may
        // have been chosen by the OS). Not a secret: the token is still needed.
        if let Err(e) = std::fs::write(state.config.data_dir.join(ADMIN_ADDR_FILE), addrs.admin.to_string()) {
            tracing::warn!(error = %e, "could not note the admin address in the data dir");
        }
        {
            let state = state.clone();
            tasks.spawn(async move { crate::connections::recover_pending(&state).await });
        }
        tasks.spawn(tunnel.supervise(tunnel_env, cancel.clone()));
        tasks.spawn(crate::webhook_sync::run(state.clone()));
        tasks.spawn(crate::ingest::process_in_background(state.clone()));
        tasks.spawn(crate::backfill::run(state.clone()));
        tasks.spawn(crate::forwarding::run(state.clone()));
        Ok(RunningApp { addrs, key_source, state, cancel, collector_stop, tasks, _lock: lock })
    }
}

/// Connections the kernel may hold for the accept loop. The default of 1024 makes a burst of
/// connections beyond it wait for SYN-ACK retransmits (seconds); the kernel caps it at somaxconn.
const LISTEN_BACKLOG: u32 = 4096;

async fn bind(addr: SocketAddr, what: &'static str, flag: &'static str) -> Result<TcpListener, StartError> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() };
    let listen = |socket: tokio::net::TcpSocket| -> std::io::Result<TcpListener> {
        // As std's bind does on Unix: a restart may bind while old connections sit in TIME_WAIT.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)
    };
    socket.and_then(listen).map_err(|e| bind_error(addr, what, flag, e))
}

fn bind_error(addr: SocketAddr, what: &'static str, flag: &'static str, source: std::io::Error) -> StartError {
    StartError::Bind { what, flag, addr, source }
}

/// Blocking start-up work: data dir, master key, database, admin token.
type Opened = (Store, Sealer, KeySource, Secret, crate::backup::DataDirLock);

fn open_data_dir(config: &Config) -> Result<Opened, StartError> {
    let dir = &config.data_dir;
    ensure_data_dir(dir).map_err(|source| StartError::DataDir { path: dir.display().to_string(), source })?;
    let lock = crate::backup::DataDirLock::try_acquire(dir)?
        .ok_or_else(|| StartError::DataDirInUse { dir: dir.display().to_string() })?;
    let db = config.db_path();
    let store_exists = std::fs::metadata(&db).is_ok_and(|m| m.len() > 0);
    // The store first: a database this version cannot read is the clearer error.
    let store = Store::open_with(&db, crate::store::Options { wal_preallocate: config.wal_preallocate })?;
    let (key, key_source) = secrets::load_master_key(dir, config.master_key.as_deref(), config.keychain, store_exists)?;
    let sealer = Sealer::new(key.bytes());
    let token = match &config.admin_token {
        Some(token) => Secret::new(token.clone()),
        None => load_or_create_admin_token(dir)?,
    };
    Ok((store, sealer, key_source, token, lock))
}

/// The tunnel settings saved in the store; a `--tunnel` choice is saved first.
async fn load_tunnel_settings(
    store: &Store,
    sealer: &Sealer,
    flag: Option<crate::tunnel::BackendKind>,
) -> Result<crate::tunnel::TunnelSettings, StartError> {
    if let Some(kind) = flag {
        store.write(move |conn| store::settings::set(conn, store::settings::TUNNEL_BACKEND, kind.as_str())).await?;
    }
    let values = store.read(store::settings::tunnel_values).await?;
    Ok(crate::tunnel::TunnelSettings::from_values(&values, sealer))
}

pub(crate) const KEY_CHECK_PLAINTEXT: &[u8] = b"faurya master key check";

pub(crate) fn key_check_aad() -> Aad<'static> {
    Aad { table: "settings", row: store::settings::MASTER_KEY_CHECK, purpose: "key_check" }
}

/// Proves at start that this master key is the one that sealed the stored secrets, so a wrong
/// key is one clear message now instead of failures at every webhook later.
async fn check_master_key(store: &Store, sealer: &Sealer, source: &KeySource) -> Result<(), StartError> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    let stored = store.read(|conn| store::settings::get(conn, store::settings::MASTER_KEY_CHECK)).await?;
    match stored {
        Some(text) => {
            let sealed = B64.decode(text).map_err(|e| StoreError::Corrupt(format!("master key check: {e}")))?;
            match sealer.open(&sealed, key_check_aad()) {
                Ok(plain) if plain.as_slice() == KEY_CHECK_PLAINTEXT => Ok(()),
                _ => Err(StartError::WrongMasterKey {
                    key_source: source.clone(),
                    db: store.path().display().to_string(),
                }),
            }
        }
        None => {
            let sealed = B64.encode(sealer.seal(KEY_CHECK_PLAINTEXT, key_check_aad())?);
            store.write(move |conn| store::settings::set(conn, store::settings::MASTER_KEY_CHECK, &sealed)).await?;
            Ok(())
        }
    }
}

/// The running app's admin address, in the data dir.
pub const ADMIN_ADDR_FILE: &str = "admin-addr";

/// The admin token's file in the data dir, when no FAURYA_ADMIN_TOKEN is given.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

fn load_or_create_admin_token(dir: &std::path::Path) -> Result<Secret, StartError> {
    let path = dir.join(ADMIN_TOKEN_FILE);
    let io = |source| StartError::AdminToken { path: path.display().to_string(), source };
    // Like the key file: a token others can read is refused, not silently used.
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(&path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StartError::AdminTokenTooOpen { path: path.display().to_string(), mode });
        }
    }
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 16 => return Ok(Secret::new(text.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StartError::Task(format!("random token: {e}")))?;
    let token = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(&path).map_err(io)?;
    file.write_all(token.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(Secret::new(token))
}
