//! `bore`: a TCP tunnel through the founder's own bore server (`bore server` on a VPS), using the
//! `bore-cli` crate as a library. The server listens on its control port (always 7835) and
//! exposes the public listener on a remote port; `port` asks for a specific one (0 = any).
//! Providers deliver only to https, so a founder normally puts a TLS proxy in front of that port
//! and saves what it exposes as the bore public URL; without one the URL is
//! `http://host:remote_port`.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::settings::BoreSettings;
use super::{Backend, BackendEnv, TunnelError, TunnelSession};
use crate::config::TunnelOptions;

pub use bore_cli::shared::CONTROL_PORT;

pub struct Bore {
    target: std::net::SocketAddr,
    options: Arc<TunnelOptions>,
    settings: BoreSettings,
}

impl Bore {
    pub fn new(env: &BackendEnv, settings: &BoreSettings) -> Self {
        Self { target: env.target, options: env.options.clone(), settings: settings.clone() }
    }
}

pub struct BoreSession {
    url: String,
    listen: JoinHandle<Result<(), String>>,
}

impl Drop for BoreSession {
    fn drop(&mut self) {
        // Aborting the control loop drops the connection: the server frees the remote port.
        self.listen.abort();
    }
}

impl Backend for Bore {
    type Session = BoreSession;

    async fn open(&mut self) -> Result<BoreSession, TunnelError> {
        let Some(host) = self.settings.host.clone() else {
            return Err(TunnelError::config(
                "bore needs the host name of your bore server: enter it in Settings → Tunnel.",
            ));
        };
        let local_host = self.target.ip().to_string();
        let secret = self.settings.secret.as_ref().map(|s| s.expose().to_string());
        let connect = bore_cli::client::Client::new(
            &local_host,
            self.target.port(),
            &host,
            self.settings.port,
            secret.as_deref(),
        );
        let client = match tokio::time::timeout(self.options.start_timeout, connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(connect_error(&host, self.settings.port, &format!("{e:#}"), secret.is_some())),
            Err(_) => {
                return Err(TunnelError::transient(format!(
                    "the bore server {host}:{CONTROL_PORT} did not answer within {} s",
                    self.options.start_timeout.as_secs()
                )));
            }
        };
        let remote_port = client.remote_port();
        let url =
            self.settings.public_url.clone().unwrap_or_else(|| format!("http://{}:{remote_port}", url_host(&host)));
        tracing::info!(server = %host, remote_port, "connected to the bore server");
        let listen = tokio::spawn(async move { client.listen().await.map_err(|e| format!("{e:#}")) });
        Ok(BoreSession { url, listen })
    }
}

/// An IPv6 literal needs brackets in a URL.
fn url_host(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_string() }
}

/// Turns bore's error into what the founder should do.
fn connect_error(host: &str, port: u16, detail: &str, has_secret: bool) -> TunnelError {
    let hint = if detail.contains("requires authentication") {
        " Enter the server's secret in Settings → Tunnel (the --secret it runs with)."
    } else if detail.contains("invalid secret") {
        " Check the secret in Settings → Tunnel: it must match the server's --secret."
    } else if has_secret && detail.contains("no secret was required") {
        " This server runs without a secret: clear the secret in Settings → Tunnel."
    } else if detail.contains("port already in use") || detail.contains("not in allowed range") {
        if port == 0 {
            ""
        } else {
            " Choose another remote port in Settings → Tunnel, or 0 to let the server pick one."
        }
    } else if detail.contains("could not connect") {
        " Is the bore server running, and is its control port 7835 open in the firewall?"
    } else {
        ""
    };
    TunnelError::transient(format!("could not open a tunnel on the bore server {host}: {detail}.{hint}"))
}

impl TunnelSession for BoreSession {
    fn url(&self) -> &str {
        &self.url
    }

    async fn closed(&mut self) -> String {
        match (&mut self.listen).await {
            Ok(Ok(())) => "the bore server closed the connection".into(),
            Ok(Err(e)) => format!("lost the connection to the bore server: {e}"),
            Err(e) => format!("the bore client stopped: {e}"),
        }
    }

    async fn close(self) {
        self.listen.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_to_fix() {
        let e = connect_error(
            "b.example.com",
            0,
            "server requires authentication, but no client secret was provided",
            false,
        );
        assert!(e.message.contains("Enter the server's secret") && e.retry);
        let e = connect_error("b.example.com", 0, "could not connect to b.example.com:7835: Connection refused", false);
        assert!(e.message.contains("7835 open"));
        assert_eq!(url_host("::1"), "[::1]");
    }
}
