//! `manual`: the founder's own way in (a reverse proxy, Tailscale Funnel, a named Cloudflare
//! tunnel). Faurya runs nothing; the URL is the one saved in Settings and is "up" as long as it
//! is configured. Whether it really reaches the app is what "Test delivery path" checks.

use super::{Backend, TunnelError, TunnelSession};

pub struct Manual {
    url: String,
}

impl Manual {
    pub fn new(url: String) -> Self {
        Self { url }
    }
}

pub struct ManualSession {
    url: String,
}

impl Backend for Manual {
    type Session = ManualSession;

    async fn open(&mut self) -> Result<ManualSession, TunnelError> {
        if self.url.is_empty() {
            return Err(TunnelError::config("No public URL is saved for the manual tunnel."));
        }
        Ok(ManualSession { url: self.url.clone() })
    }
}

impl TunnelSession for ManualSession {
    fn url(&self) -> &str {
        &self.url
    }

    async fn closed(&mut self) -> String {
        std::future::pending().await
    }

    async fn close(self) {}
}
