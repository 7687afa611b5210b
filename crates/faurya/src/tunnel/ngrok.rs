//! `ngrok`: an ngrok HTTP endpoint through the `ngrok` crate, forwarding to the public listener
//! (`listen_and_forward`). Needs the founder's authtoken (stored sealed) and the internet. A
//! reserved domain (`acme.ngrok.app`) keeps the URL across restarts; without one ngrok assigns a
//! URL, which the webhook sync then follows.

use std::sync::Arc;

use ::ngrok::config::ForwarderBuilder;
use ::ngrok::forwarder::Forwarder;
use ::ngrok::session::ConnectError;
use ::ngrok::tunnel::{EndpointInfo, HttpTunnel, TunnelCloser};
use reqwest::Url;

use super::settings::NgrokSettings;
use super::{Backend, BackendEnv, TunnelError, TunnelSession, error_chain};
use crate::config::TunnelOptions;
use crate::secrets::Secret;

pub struct Ngrok {
    target: std::net::SocketAddr,
    options: Arc<TunnelOptions>,
    settings: NgrokSettings,
}

impl Ngrok {
    pub fn new(env: &BackendEnv, settings: &NgrokSettings) -> Self {
        Self { target: env.target, options: env.options.clone(), settings: settings.clone() }
    }
}

pub struct NgrokSession {
    url: String,
    session: ::ngrok::Session,
    forwarder: Forwarder<HttpTunnel>,
}

/// ngrok error codes that mean the authtoken itself is wrong: retrying cannot help.
const BAD_TOKEN_CODES: [&str; 3] = ["ERR_NGROK_105", "ERR_NGROK_106", "ERR_NGROK_107"];

impl Backend for Ngrok {
    type Session = NgrokSession;

    async fn open(&mut self) -> Result<NgrokSession, TunnelError> {
        let Some(token) = self.settings.authtoken.clone() else {
            return Err(TunnelError::config(
                "ngrok needs your authtoken: copy it from dashboard.ngrok.com → Your Authtoken into Settings → Tunnel.",
            ));
        };
        let limit = self.options.start_timeout;
        let mut builder = ::ngrok::Session::builder();
        builder.authtoken(token.expose()).client_info("faurya", env!("CARGO_PKG_VERSION"), None::<String>);
        if let Some(addr) = &self.options.ngrok_server_addr {
            builder.server_addr(addr.clone()).map_err(|_| {
                TunnelError::config(format!("FAURYA_NGROK_SERVER_ADDR ({addr}) is not a host:port address."))
            })?;
        }
        let session = match tokio::time::timeout(limit, builder.connect()).await {
            Ok(Ok(session)) => session,
            Ok(Err(e)) => {
                let bad_token = ::ngrok::Error::error_code(&e).is_some_and(|code| BAD_TOKEN_CODES.contains(&code));
                let message = describe(&e, &token);
                let hint = match &e {
                    ConnectError::Tcp(_) | ConnectError::ProxyConnect(_) => " Is this computer online?",
                    ConnectError::Tls(_) => {
                        " Something between this computer and ngrok (a proxy or firewall?) interfered with the \
                          secure connection."
                    }
                    _ => "",
                };
                return Err(if bad_token {
                    TunnelError::config(format!(
                        "ngrok refused the authtoken: {message}. Copy it again from dashboard.ngrok.com → Your \
                         Authtoken into Settings → Tunnel."
                    ))
                } else {
                    TunnelError::transient(format!("could not start an ngrok session: {message}.{hint}"))
                });
            }
            Err(_) => {
                return Err(TunnelError::transient(format!(
                    "ngrok did not answer within {} s. Is this computer online?",
                    limit.as_secs()
                )));
            }
        };
        let mut endpoint = session.http_endpoint();
        if let Some(domain) = &self.settings.domain {
            endpoint.domain(domain.clone());
        }
        let to = Url::parse(&format!("http://{}", self.target))
            .map_err(|e| TunnelError::config(format!("bad forwarding address {}: {e}", self.target)))?;
        let forwarder = match tokio::time::timeout(limit, endpoint.listen_and_forward(to)).await {
            Ok(Ok(forwarder)) => forwarder,
            Ok(Err(e)) => {
                let message = describe(&e, &token);
                let hint = match &self.settings.domain {
                    Some(domain) => format!(
                        " Check that {domain} is reserved in your ngrok account (dashboard.ngrok.com → Domains), or \
                         clear the domain in Settings → Tunnel."
                    ),
                    None => String::new(),
                };
                return Err(TunnelError::transient(format!("ngrok could not open the endpoint: {message}.{hint}")));
            }
            Err(_) => {
                return Err(TunnelError::transient(format!(
                    "ngrok did not open the endpoint within {} s",
                    limit.as_secs()
                )));
            }
        };
        let url = forwarder.url().trim_end_matches('/').to_string();
        Ok(NgrokSession { url, session, forwarder })
    }
}

/// ngrok's error in one line, with its code, and never the authtoken.
fn describe<E: ::ngrok::Error + 'static>(error: &E, token: &Secret) -> String {
    let text = match error.error_code() {
        Some(code) => format!("{} ({code})", error.msg().trim()),
        None => error_chain(error),
    };
    redact(&text.split_whitespace().collect::<Vec<_>>().join(" "), token)
}

fn redact(text: &str, token: &Secret) -> String {
    if token.expose().len() >= 4 { text.replace(token.expose(), "[authtoken]") } else { text.to_string() }
}

impl TunnelSession for NgrokSession {
    fn url(&self) -> &str {
        &self.url
    }

    async fn closed(&mut self) -> String {
        match self.forwarder.join().await {
            Ok(Ok(())) => "the ngrok tunnel closed".into(),
            Ok(Err(e)) => format!("the ngrok tunnel failed: {e}"),
            Err(e) => format!("the ngrok forwarder stopped: {e}"),
        }
    }

    async fn close(mut self) {
        if let Err(e) = self.forwarder.close().await {
            tracing::debug!(error = %e, "closing the ngrok tunnel");
        }
        if let Err(e) = self.session.close().await {
            tracing::debug!(error = %e, "closing the ngrok session");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_appears_in_messages() {
        let token = Secret::new("2abcdefghijklmnop_QRSTUV");
        assert_eq!(redact("bad token 2abcdefghijklmnop_QRSTUV here", &token), "bad token [authtoken] here");
    }
}
