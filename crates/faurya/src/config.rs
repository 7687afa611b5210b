//! Configuration: command-line flags, their `FAURYA_*` environment twins, and defaults, with the
//! precedence flag > env > default (clap's `env` support gives exactly that).
//!
//! Values that only exist as environment variables (the admin token, the master key, the
//! provider API bases) are secrets or test hooks: they never belong on a command line, where
//! `ps` shows them to every user of the machine.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use reqwest::Url;

use crate::providers::transport::RetryPolicy;
use crate::tunnel::BackendKind;

pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(20);

pub const DEFAULT_PUBLIC_ADDR: &str = "127.0.0.1:8787";
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:8788";

#[derive(Debug, Parser)]
#[command(
    name = "faurya",
    version,
    about = "Self-hosted revenue attribution: receives Whop and Paddle webhooks into a local \
             SQLite store and ties each payment to the visit that produced it.",
    long_about = None,
    after_help = "Run `faurya serve --help` for the server's options and environment variables."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run headless: the public webhook listener and the admin UI/API, until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Print the configuration `serve` would use (as JSON, secrets hidden) and exit.
    Config(ServeArgs),
    /// Write a consistent backup of the database to PATH, also while Faurya runs. The backup
    /// holds stored secrets sealed: keep the master key too, or they cannot be opened.
    Backup {
        /// The file to write (it must not exist yet).
        path: PathBuf,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Replace the database with the backup at PATH (Faurya must be stopped). The current
    /// database is kept beside it as faurya.db.before-restore-<time>.
    Restore {
        /// A file written by `faurya backup` or the Settings page's "Download backup".
        path: PathBuf,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Make a new master key and seal every stored secret again under it, in one transaction
    /// (Faurya must be stopped). The new key goes where the old one was (key file or OS keychain;
    /// for FAURYA_MASTER_KEY it is printed, to be set before the next start). Backups made before
    /// need the old key, which is kept as master.key.retired-<time> when it was a file.
    RotateKey(ServeArgs),
    /// Send a test payment through the running Faurya's public URL and print each step (the
    /// signature, storage and parsing are all exercised). Faurya must be running (`faurya serve`
    /// or the desktop app) with the same data dir; it exits non-zero when a step failed.
    TestPayment {
        /// The connection to test (con_…, shown on the Revenue page and by GET /api/connections).
        #[arg(long)]
        connection: String,
        /// Who sends it: `faurya` (signed here with the connection's secret) or `provider`
        /// (Whop's test webhook, or Paddle's simulator, from the provider's own servers).
        #[arg(long, default_value = "faurya", value_parser = ["faurya", "provider"])]
        via: String,
        #[command(flatten)]
        args: ServeArgs,
    },
}

/// Options shared by `serve` and `config`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Environment-only settings (never pass secrets as flags):
  FAURYA_ADMIN_TOKEN      admin token; default: random, kept in <data dir>/admin-token (0600)
  FAURYA_MASTER_KEY       base64 of 32 bytes sealing stored API keys and webhook secrets;
                          default: the OS keychain, else <data dir>/master.key (0600)
  FAURYA_WHOP_API_BASE    override https://api.whop.com/api/v1 (and the sandbox host)
  FAURYA_PADDLE_API_BASE  override https://api.paddle.com (and the sandbox host)
  FAURYA_CLOUDFLARED      path of the cloudflared binary; default: found on PATH (and in
                          /opt/homebrew/bin, /usr/local/bin or the winget/installer folders)
  FAURYA_NGROK_SERVER_ADDR  host:port of a custom ngrok agent ingress (rarely needed)
  RUST_LOG                log filter, e.g. faurya=debug,tower_http=debug

Precedence: a flag beats its environment variable, which beats the default.")]
pub struct ServeArgs {
    /// Directory for the database, the admin token and the key file (created with mode 0700).
    /// Default: the OS data directory, e.g. ~/.local/share/faurya.
    #[arg(long, env = "FAURYA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address of the public listener (webhooks, /healthz): the one the tunnel exposes.
    /// Port 0 picks a free port; the bound address is printed.
    #[arg(long, env = "FAURYA_PUBLIC_ADDR", value_name = "ADDR", default_value = DEFAULT_PUBLIC_ADDR)]
    pub public_addr: SocketAddr,

    /// Address of the admin listener (UI and /api, token required). Keep it on loopback.
    /// Port 0 picks a free port; the bound address is printed.
    #[arg(long, env = "FAURYA_ADMIN_ADDR", value_name = "ADDR", default_value = DEFAULT_ADMIN_ADDR)]
    pub admin_addr: SocketAddr,

    /// Public URL that reaches the public listener, e.g. https://hooks.example.com. Pins the
    /// URL: Settings shows it read-only. Default: the one saved in Settings, or none.
    #[arg(long, env = "FAURYA_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Another Host name the admin listener accepts besides 127.0.0.1, localhost and [::1]
    /// (for a reverse proxy in front of it). Requests naming other hosts get 403.
    #[arg(long, env = "FAURYA_ADMIN_HOST", value_name = "HOST")]
    pub admin_host: Option<String>,

    /// Do not use the OS keychain for the master key; use <data dir>/master.key instead.
    #[arg(long, env = "FAURYA_NO_KEYCHAIN", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub no_keychain: bool,

    /// Serve the UI from this directory instead of the copy built into the binary (development).
    #[arg(long, env = "FAURYA_UI_DIR", value_name = "DIR")]
    pub ui_dir: Option<PathBuf>,

    /// The tunnel that exposes the public listener, saved as the Settings choice at start (the
    /// Settings screen can change it later). `manual` uses the public URL saved in Settings;
    /// ngrok and bore use the authtoken / server saved in Settings → Tunnel. Default: keep the
    /// saved choice. See docs/TUNNELS.md.
    #[arg(long, env = "FAURYA_TUNNEL", value_name = "BACKEND", value_enum)]
    pub tunnel: Option<BackendKind>,
}

/// The resolved configuration the app runs with.
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    /// A public URL pinned by flag or env; `None` lets Settings (or the tunnel) decide.
    pub public_url: Option<String>,
    pub admin_host: Option<String>,
    pub keychain: bool,
    pub ui_dir: Option<PathBuf>,
    pub admin_token: Option<String>,
    pub master_key: Option<String>,
    pub whop_api_base: Option<String>,
    pub paddle_api_base: Option<String>,
    /// Per-request timeout for provider APIs (not a flag: tests and embedders shorten it).
    pub provider_timeout: Duration,
    pub provider_retry: RetryPolicy,
    pub tunnel: TunnelOptions,
    /// Run by the desktop shell (not a flag: the shell sets it), which offers notifications and
    /// start at login; `faurya serve` has neither.
    pub desktop: bool,
    /// Bytes of the database's write-ahead log preallocated at start (`store::Options`; not a
    /// flag). [`crate::store::WAL_PREALLOCATE`] for `faurya serve` and the desktop app; 0 in
    /// [`Config::ephemeral`], whose short-lived stores would write it for nothing.
    pub wal_preallocate: u64,
}

/// How the tunnel and the webhook URL sync run. Only the backend choice and the cloudflared path
/// come from flags/env; the timings are for tests and embedders.
#[derive(Clone, Debug)]
pub struct TunnelOptions {
    /// `--tunnel` / `FAURYA_TUNNEL`: saved as the chosen backend at start.
    pub backend: Option<BackendKind>,
    /// `FAURYA_CLOUDFLARED`: the cloudflared binary to run instead of looking it up.
    pub cloudflared: Option<PathBuf>,
    /// Where to look for `cloudflared`: `None` is the process `PATH` plus the usual install
    /// folders; `Some` is exactly this `PATH`-style list (tests put a fake first).
    pub search_path: Option<OsString>,
    /// `FAURYA_NGROK_SERVER_ADDR`: a custom ngrok agent ingress (`host:port`).
    pub ngrok_server_addr: Option<String>,
    /// Where the running cloudflared's pid is kept (set by the app: `<data dir>/cloudflared.pid`).
    pub pid_file: Option<PathBuf>,
    /// How long a backend may take to come up (process start, connect, URL) before it counts
    /// as failed and is retried.
    pub start_timeout: Duration,
    /// Waits between restarts of a failed tunnel.
    pub restart_backoff: Backoff,
    /// Waits between retries of a failed provider webhook update.
    pub sync_backoff: Backoff,
    /// Timeout of `POST /api/tunnel/test`.
    pub test_timeout: Duration,
}

impl Default for TunnelOptions {
    fn default() -> Self {
        Self {
            backend: None,
            cloudflared: None,
            search_path: None,
            ngrok_server_addr: None,
            pid_file: None,
            start_timeout: Duration::from_secs(60),
            restart_backoff: Backoff { base: Duration::from_secs(1), max: Duration::from_secs(60) },
            sync_backoff: Backoff { base: Duration::from_secs(5), max: Duration::from_secs(600) },
            test_timeout: Duration::from_secs(10),
        }
    }
}

/// Exponential back-off: `base`, doubled per consecutive failure, capped at `max`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after the `failures`-th consecutive failure (1 = the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no data directory: the OS reports no home directory; pass --data-dir or set FAURYA_DATA_DIR")]
    NoDataDir,
    #[error("{var} is not a valid URL: {reason}")]
    BadUrl { var: &'static str, reason: String },
    #[error("FAURYA_ADMIN_TOKEN must be at least 16 characters")]
    WeakToken,
}

impl Config {
    /// Resolves parsed arguments plus the environment-only variables.
    pub fn from_args(args: ServeArgs, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let data_dir = match args.data_dir {
            Some(dir) => dir,
            None => default_data_dir().ok_or(ConfigError::NoDataDir)?,
        };
        let non_empty = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let api_base = |var: &'static str| -> Result<Option<String>, ConfigError> {
            non_empty(var)
                .map(|v| {
                    Url::parse(v.trim())
                        .map(|_| v.trim().trim_end_matches('/').to_string())
                        .map_err(|e| ConfigError::BadUrl { var, reason: e.to_string() })
                })
                .transpose()
        };
        let admin_token = non_empty("FAURYA_ADMIN_TOKEN");
        if admin_token.as_ref().is_some_and(|t| t.trim().len() < 16) {
            return Err(ConfigError::WeakToken);
        }
        Ok(Self {
            data_dir,
            public_addr: args.public_addr,
            admin_addr: args.admin_addr,
            public_url: args.public_url,
            admin_host: args.admin_host.map(|h| h.to_ascii_lowercase()),
            keychain: !args.no_keychain,
            ui_dir: args.ui_dir,
            admin_token: admin_token.map(|t| t.trim().to_string()),
            master_key: non_empty("FAURYA_MASTER_KEY"),
            whop_api_base: api_base("FAURYA_WHOP_API_BASE")?,
            paddle_api_base: api_base("FAURYA_PADDLE_API_BASE")?,
            provider_timeout: DEFAULT_PROVIDER_TIMEOUT,
            provider_retry: RetryPolicy::default(),
            tunnel: TunnelOptions {
                backend: args.tunnel,
                cloudflared: non_empty("FAURYA_CLOUDFLARED").map(PathBuf::from),
                ngrok_server_addr: non_empty("FAURYA_NGROK_SERVER_ADDR").map(|v| v.trim().to_string()),
                ..TunnelOptions::default()
            },
            desktop: false,
            wal_preallocate: crate::store::WAL_PREALLOCATE,
        })
    }

    /// A configuration for tests and embedding: loopback, free ports, no keychain.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            public_addr: "127.0.0.1:0".parse().expect("literal address"),
            admin_addr: "127.0.0.1:0".parse().expect("literal address"),
            public_url: None,
            admin_host: None,
            keychain: false,
            ui_dir: None,
            admin_token: None,
            master_key: None,
            whop_api_base: None,
            paddle_api_base: None,
            provider_timeout: DEFAULT_PROVIDER_TIMEOUT,
            provider_retry: RetryPolicy::default(),
            tunnel: TunnelOptions::default(),
            desktop: false,
            wal_preallocate: 0,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("faurya.db")
    }

    /// The configuration as JSON for `faurya config`; secrets show only whether they are set.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "data_dir": self.data_dir,
            "public_addr": self.public_addr.to_string(),
            "admin_addr": self.admin_addr.to_string(),
            "public_url": self.public_url,
            "admin_host": self.admin_host,
            "keychain": self.keychain,
            "ui_dir": self.ui_dir,
            "admin_token": if self.admin_token.is_some() { "set (FAURYA_ADMIN_TOKEN)" } else { "from the data dir" },
            "master_key": if self.master_key.is_some() { "set (FAURYA_MASTER_KEY)" } else if self.keychain { "OS keychain, else the data dir" } else { "from the data dir" },
            "whop_api_base": self.whop_api_base,
            "paddle_api_base": self.paddle_api_base,
            "tunnel": self.tunnel.backend.map(BackendKind::as_str),
            "cloudflared": self.tunnel.cloudflared,
            "ngrok_server_addr": self.tunnel.ngrok_server_addr,
        })
    }
}

/// `~/.local/share/faurya` on Linux, `~/Library/Application Support/faurya` on macOS,
/// `%APPDATA%\faurya\data` on Windows.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "faurya").map(|dirs| dirs.data_dir().to_path_buf())
}

/// Creates the data dir if needed; on Unix it is made (and kept) private to the user, because it
/// holds the admin token and possibly the master key file.
pub fn ensure_data_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Validates a public URL: absolute http(s), a host, no query or fragment. The trailing slash
/// is dropped so `{url}/webhooks/...` never doubles it.
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|e| format!("not a URL ({e}); write it like https://hooks.example.com"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err("use an https:// URL (providers only deliver to https)".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("remove the ?query or #fragment: webhook paths are added to this URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("remove the user:password@ part".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_rules() {
        assert_eq!(parse_public_url("https://x.example.com/").unwrap(), "https://x.example.com");
        assert_eq!(parse_public_url(" https://x.example.com/base/ ").unwrap(), "https://x.example.com/base");
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("x.example.com").is_err());
        assert!(parse_public_url("https://x.example.com/?a=1").is_err());
        assert!(parse_public_url("https://u:p@x.example.com").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff { base: Duration::from_secs(1), max: Duration::from_secs(10) };
        let waits: Vec<u64> = (1..=6).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.delay(0), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(10));
    }
}
