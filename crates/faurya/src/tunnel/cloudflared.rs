//! `cloudflared`: a Cloudflare quick tunnel (`*.trycloudflare.com`, no account) through the
//! `cloudflared` binary the founder installed. Faurya runs
//! `cloudflared tunnel --no-autoupdate --url http://<public listener> --metrics 127.0.0.1:<port>`
//! and reads the hostname from the metrics endpoint's `/quicktunnel` (`{"hostname": "..."}`),
//! with the banner cloudflared prints on stderr as the fallback. Each start gets a new hostname;
//! the webhook sync then points the provider webhooks at it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Backend, BackendEnv, TunnelError, TunnelSession};
use crate::config::TunnelOptions;

#[cfg(windows)]
const EXE: &str = "cloudflared.exe";
#[cfg(not(windows))]
const EXE: &str = "cloudflared";

/// Lines of cloudflared's stderr kept for error messages.
const TAIL_LINES: usize = 40;
const POLL_EVERY: Duration = Duration::from_millis(250);

/// How to install cloudflared on the OS Faurya runs on (that is where it must be installed).
pub fn install_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "Install cloudflared: on Debian or Ubuntu, download cloudflared-linux-amd64.deb (or -arm64.deb) from \
         https://github.com/cloudflare/cloudflared/releases/latest and run `sudo dpkg -i cloudflared-linux-amd64.deb`, \
         or add Cloudflare's apt repository (https://pkg.cloudflare.com) and run `sudo apt install cloudflared`. \
         On other distributions, put the cloudflared-linux-amd64 binary from the same page on your PATH as `cloudflared`."
    } else if cfg!(target_os = "macos") {
        "Install cloudflared with Homebrew: `brew install cloudflared`."
    } else if cfg!(windows) {
        "Install cloudflared with winget: `winget install --id Cloudflare.cloudflared` (or download \
         cloudflared-windows-amd64.exe from https://github.com/cloudflare/cloudflared/releases/latest)."
    } else {
        "Install cloudflared: Debian/Ubuntu: the .deb from https://github.com/cloudflare/cloudflared/releases/latest \
         (`sudo dpkg -i ...`) or Cloudflare's apt repository; macOS: `brew install cloudflared`; Windows: \
         `winget install --id Cloudflare.cloudflared`."
    }
}

/// Where cloudflared is, if installed: `FAURYA_CLOUDFLARED`, else the search path (by default
/// `PATH` plus the usual install folders, which an app started from the desktop may not have on
/// its `PATH`).
pub fn find(options: &TunnelOptions) -> Option<PathBuf> {
    if let Some(path) = &options.cloudflared {
        return is_executable(path).then(|| path.clone());
    }
    let dirs: Vec<PathBuf> = match &options.search_path {
        Some(list) => std::env::split_paths(list).collect(),
        None => {
            let mut dirs: Vec<PathBuf> =
                std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
            dirs.extend(well_known_dirs());
            dirs
        }
    };
    dirs.into_iter().filter(|dir| !dir.as_os_str().is_empty()).map(|dir| dir.join(EXE)).find(|p| is_executable(p))
}

fn well_known_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if cfg!(windows) {
        for var in ["ProgramFiles(x86)", "ProgramFiles"] {
            if let Some(base) = std::env::var_os(var) {
                dirs.push(PathBuf::from(base).join("cloudflared"));
            }
        }
        if let Some(local) = std::env::var_os("LOCALAPPDATA") {
            dirs.push(PathBuf::from(local).join("Microsoft").join("WinGet").join("Links"));
        }
    } else {
        dirs.extend(["/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from));
    }
    dirs
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

fn not_installed(options: &TunnelOptions) -> TunnelError {
    let where_ = match &options.cloudflared {
        Some(path) => format!("there is no executable at {} (FAURYA_CLOUDFLARED)", path.display()),
        None => "it was not found on PATH".to_string(),
    };
    // Retried with back-off: once installed, the tunnel starts without a restart of Faurya.
    TunnelError::transient(format!("cloudflared is not installed: {where_}. {}", install_hint()))
}

pub struct Cloudflared {
    target: SocketAddr,
    options: Arc<TunnelOptions>,
    http: reqwest::Client,
}

impl Cloudflared {
    pub fn new(env: &BackendEnv) -> Self {
        Self { target: env.target, options: env.options.clone(), http: env.local_http.clone() }
    }
}

/// The last lines cloudflared wrote to stderr.
type Tail = Arc<Mutex<VecDeque<String>>>;

pub struct CloudflaredSession {
    child: Child,
    url: String,
    tail: Tail,
    reader: JoinHandle<()>,
    pid_file: Option<std::path::PathBuf>,
}

impl Drop for CloudflaredSession {
    fn drop(&mut self) {
        // The child has kill_on_drop; the reader ends with its pipe, but do not wait for that.
        self.reader.abort();
    }
}

impl Backend for Cloudflared {
    type Session = CloudflaredSession;

    async fn open(&mut self) -> Result<CloudflaredSession, TunnelError> {
        let binary = find(&self.options).ok_or_else(|| not_installed(&self.options))?;
        let metrics = free_loopback_addr()
            .map_err(|e| TunnelError::transient(format!("no free local port for cloudflared's metrics: {e}")))?;
        let mut command = Command::new(&binary);
        command
            .args(["tunnel", "--no-autoupdate", "--url", &format!("http://{}", self.target)])
            .args(["--metrics", &metrics.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        super::child::die_with_parent(&mut command);
        super::child::scrub_env(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| TunnelError::transient(format!("could not start {}: {e}", binary.display())))?;
        tracing::info!(binary = %binary.display(), pid = child.id().unwrap_or(0), "started cloudflared");
        if let (Some(file), Some(pid)) = (&self.options.pid_file, child.id()) {
            super::child::record(file, pid);
        }

        let tail: Tail = Arc::default();
        let (found_tx, found_rx) = watch::channel(None::<String>);
        let reader = match child.stderr.take() {
            Some(stderr) => tokio::spawn(read_stderr(stderr, tail.clone(), found_tx)),
            None => tokio::spawn(async {}),
        };
        let mut session =
            CloudflaredSession { child, url: String::new(), tail, reader, pid_file: self.options.pid_file.clone() };

        let deadline = tokio::time::Instant::now() + self.options.start_timeout;
        loop {
            match session.child.try_wait() {
                Ok(Some(status)) => {
                    session.settle().await;
                    return Err(TunnelError::transient(exited(status, &session.tail)));
                }
                Ok(None) => {}
                Err(e) => return Err(TunnelError::transient(format!("could not check on cloudflared: {e}"))),
            }
            if let Some(url) = quick_tunnel_from_metrics(&self.http, metrics).await {
                session.url = url;
                break;
            }
            if let Some(url) = found_rx.borrow().clone() {
                tracing::debug!("cloudflared's metrics did not name the tunnel; using the URL it printed");
                session.url = url;
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                let detail = last_words(&session.tail).map(|w| format!(" Its last words: {w}")).unwrap_or_default();
                session.close().await;
                return Err(TunnelError::transient(format!(
                    "cloudflared started but reported no tunnel URL within {} s.{detail}",
                    self.options.start_timeout.as_secs()
                )));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        Ok(session)
    }
}

impl CloudflaredSession {
    /// After cloudflared exited: lets the reader take in its last lines before they are quoted.
    async fn settle(&mut self) {
        if !self.reader.is_finished() {
            let _ = tokio::time::timeout(Duration::from_millis(500), &mut self.reader).await;
        }
    }
}

impl TunnelSession for CloudflaredSession {
    fn url(&self) -> &str {
        &self.url
    }

    async fn closed(&mut self) -> String {
        match self.child.wait().await {
            Ok(status) => {
                self.settle().await;
                exited(status, &self.tail)
            }
            Err(e) => format!("lost track of cloudflared: {e}"),
        }
    }

    async fn close(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(3), self.child.wait()).await;
        if let Some(file) = &self.pid_file {
            super::child::forget(file);
        }
    }
}

fn free_loopback_addr() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

async fn read_stderr(stderr: tokio::process::ChildStderr, tail: Tail, found: watch::Sender<Option<String>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "faurya::tunnel::cloudflared", "{line}");
        if found.borrow().is_none()
            && let Some(url) = url_in_line(&line)
        {
            found.send_replace(Some(url));
        }
        let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}

/// `GET /quicktunnel` on the metrics address: `{"hostname": "..."}` once the tunnel exists.
async fn quick_tunnel_from_metrics(http: &reqwest::Client, metrics: SocketAddr) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct QuickTunnel {
        hostname: Option<String>,
    }
    let response =
        http.get(format!("http://{metrics}/quicktunnel")).timeout(Duration::from_secs(1)).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: QuickTunnel = response.json().await.ok()?;
    let hostname = body.hostname?.trim().trim_end_matches('/').to_ascii_lowercase();
    let hostname = hostname.strip_prefix("https://").unwrap_or(&hostname).to_string();
    valid_hostname(&hostname).then(|| format!("https://{hostname}"))
}

/// The quick-tunnel URL in a line of cloudflared's banner
/// (`INF |  https://word-word-word.trycloudflare.com  |`); not the API host it talks to.
fn url_in_line(line: &str) -> Option<String> {
    line.match_indices("https://").find_map(|(at, _)| {
        let rest = &line[at + "https://".len()..];
        let end = rest.find(|c: char| c.is_whitespace() || c == '|' || c == '"' || c == '/').unwrap_or(rest.len());
        let host = rest[..end].to_ascii_lowercase();
        (host.ends_with(".trycloudflare.com") && host != "api.trycloudflare.com" && valid_hostname(&host))
            .then(|| format!("https://{host}"))
    })
}

fn valid_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.contains('.')
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !host.starts_with(['.', '-'])
}

/// "cloudflared exited (exit status: 1): failed to request quick Tunnel: ..."
fn exited(status: ExitStatus, tail: &Tail) -> String {
    let words = last_words(tail).unwrap_or_else(|| "it printed nothing".into());
    format!("cloudflared exited ({status}): {words}")
}

/// The most telling recent line: the last error if there is one, else the last line; without
/// cloudflared's time stamp and level.
fn last_words(tail: &Tail) -> Option<String> {
    let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
    let pick = tail
        .iter()
        .rev()
        .find(|line| line.contains(" ERR ") || line.contains(" FTL "))
        .or_else(|| tail.iter().rev().find(|line| !line.trim().is_empty()))?;
    let mut words: Vec<&str> = pick.split_whitespace().collect();
    if words.first().is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('T')) {
        words.remove(0);
    }
    if words.first().is_some_and(|w| ["INF", "ERR", "WRN", "DBG", "FTL"].contains(w)) {
        words.remove(0);
    }
    let text = words.join(" ");
    Some(if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_quick_tunnel_in_the_banner_not_the_api_host() {
        let banner = "2026-01-01T00:00:00Z INF |  https://lucky-words-here.trycloudflare.com                 |";
        assert_eq!(url_in_line(banner).as_deref(), Some("https://lucky-words-here.trycloudflare.com"));
        let error = r#"2026-01-01T00:00:00Z ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp"#;
        assert_eq!(url_in_line(error), None);
        assert_eq!(url_in_line("INF Visit https://example.com"), None);
        // A host that only contains the name is not under it.
        assert_eq!(url_in_line("INF |  https://x.trycloudflare.com.evil.example  |"), None);
        assert_eq!(url_in_line("INF |  https://eviltrycloudflare.com  |"), None);
    }

    #[test]
    fn last_words_prefer_errors_and_drop_the_time_stamp() {
        let tail: Tail = Arc::default();
        {
            let mut t = tail.lock().unwrap();
            t.push_back("2026-01-01T00:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...".into());
            t.push_back("2026-01-01T00:00:01Z ERR failed to request quick Tunnel: no network".into());
            t.push_back("2026-01-01T00:00:01Z INF shutting down".into());
        }
        assert_eq!(last_words(&tail).unwrap(), "failed to request quick Tunnel: no network");
    }

    #[test]
    fn an_explicit_path_that_does_not_exist_is_not_installed() {
        let options = TunnelOptions { cloudflared: Some("/nonexistent/cloudflared".into()), ..Default::default() };
        assert_eq!(find(&options), None);
        assert!(not_installed(&options).message.contains("FAURYA_CLOUDFLARED"));
        let options = TunnelOptions { search_path: Some("".into()), ..Default::default() };
        assert_eq!(find(&options), None);
        assert!(not_installed(&options).message.contains(install_hint()));
    }
}
