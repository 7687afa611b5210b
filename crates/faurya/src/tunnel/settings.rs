//! The tunnel configuration as the founder saved it: stored as `tunnel.*` keys of the settings
//! table (the manual URL is the older `public_url` key), secrets sealed with the master key.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::BackendKind;
use crate::secrets::{Aad, Sealer, Secret, SecretError};
use crate::store::settings as kv;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TunnelSettings {
    pub backend: BackendKind,
    /// The manual backend's URL (`public_url` in the API).
    pub manual_url: Option<String>,
    pub ngrok: NgrokSettings,
    pub bore: BoreSettings,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NgrokSettings {
    pub authtoken: Option<Secret>,
    /// A reserved domain (e.g. `acme.ngrok.app`): the URL then survives restarts.
    pub domain: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoreSettings {
    /// The bore server (its control port is always 7835).
    pub host: Option<String>,
    /// The remote port to ask for; 0 lets the server pick one.
    pub port: u16,
    pub secret: Option<Secret>,
    /// What a TLS proxy in front of the bore port exposes; default `http://host:remote_port`.
    pub public_url: Option<String>,
}

/// The purpose part of the AAD of sealed tunnel secrets.
const SECRET_PURPOSE: &str = "tunnel_secret";

fn aad(key: &str) -> Aad<'_> {
    Aad { table: "settings", row: key, purpose: SECRET_PURPOSE }
}

impl TunnelSettings {
    /// A problem only a settings change can fix, for the status and for messages.
    pub fn problem(&self) -> Option<String> {
        match self.backend {
            BackendKind::Manual if self.manual_url.is_none() => Some(
                "No public URL is saved for the manual tunnel: enter the https address that reaches this app as the \
                 Public URL in Settings, or choose another tunnel."
                    .into(),
            ),
            BackendKind::Ngrok if self.ngrok.authtoken.is_none() => Some(
                "ngrok needs your authtoken: copy it from dashboard.ngrok.com → Your Authtoken into Settings → Tunnel."
                    .into(),
            ),
            BackendKind::Bore if self.bore.host.is_none() => {
                Some("bore needs the host name of your bore server: enter it in Settings → Tunnel.".into())
            }
            _ => None,
        }
    }

    /// Reads the settings from stored `(key, value)` pairs. A secret that does not open is
    /// treated as not set (and logged): the founder can enter it again.
    pub fn from_values(values: &[(String, String)], sealer: &Sealer) -> Self {
        let map: HashMap<&str, &str> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let text = |key: &str| map.get(key).map(|v| v.to_string()).filter(|v| !v.is_empty());
        let secret = |key: &'static str| {
            let sealed = map.get(key)?;
            let opened = B64
                .decode(sealed)
                .map_err(|_| SecretError::Malformed)
                .and_then(|bytes| sealer.open_str(&bytes, aad(key)));
            match opened {
                Ok(secret) => Some(secret),
                Err(e) => {
                    tracing::warn!(setting = key, error = %e, "a stored tunnel secret does not open; enter it again in Settings");
                    None
                }
            }
        };
        let manual_url = text(kv::PUBLIC_URL);
        let backend = match text(kv::TUNNEL_BACKEND).as_deref().map(BackendKind::parse) {
            Some(Some(kind)) => kind,
            Some(None) | None if manual_url.is_some() => BackendKind::Manual,
            _ => BackendKind::None,
        };
        Self {
            backend,
            manual_url,
            ngrok: NgrokSettings { authtoken: secret(kv::NGROK_AUTHTOKEN), domain: text(kv::NGROK_DOMAIN) },
            bore: BoreSettings {
                host: text(kv::BORE_HOST),
                port: text(kv::BORE_PORT).and_then(|p| p.parse().ok()).unwrap_or(0),
                secret: secret(kv::BORE_SECRET),
                public_url: text(kv::BORE_PUBLIC_URL),
            },
        }
    }

    /// The writes that turn stored `old` into `self`: `(key, Some(value))` sets, `None`
    /// deletes. Changed secrets are sealed here.
    pub fn changes_from(
        &self,
        old: &TunnelSettings,
        sealer: &Sealer,
    ) -> Result<Vec<(&'static str, Option<String>)>, SecretError> {
        let mut out = Vec::new();
        let seal = |key: &'static str, secret: &Secret| -> Result<String, SecretError> {
            Ok(B64.encode(sealer.seal_str(secret, aad(key))?))
        };
        if self.backend != old.backend {
            out.push((kv::TUNNEL_BACKEND, Some(self.backend.as_str().to_string())));
        }
        if self.manual_url != old.manual_url {
            out.push((kv::PUBLIC_URL, self.manual_url.clone()));
        }
        if self.ngrok.authtoken != old.ngrok.authtoken {
            let sealed = self.ngrok.authtoken.as_ref().map(|t| seal(kv::NGROK_AUTHTOKEN, t)).transpose()?;
            out.push((kv::NGROK_AUTHTOKEN, sealed));
        }
        if self.ngrok.domain != old.ngrok.domain {
            out.push((kv::NGROK_DOMAIN, self.ngrok.domain.clone()));
        }
        if self.bore.host != old.bore.host {
            out.push((kv::BORE_HOST, self.bore.host.clone()));
        }
        if self.bore.port != old.bore.port {
            out.push((kv::BORE_PORT, Some(self.bore.port.to_string())));
        }
        if self.bore.secret != old.bore.secret {
            let sealed = self.bore.secret.as_ref().map(|s| seal(kv::BORE_SECRET, s)).transpose()?;
            out.push((kv::BORE_SECRET, sealed));
        }
        if self.bore.public_url != old.bore.public_url {
            out.push((kv::BORE_PUBLIC_URL, self.bore.public_url.clone()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, Option<String>)]) -> Vec<(String, String)> {
        pairs.iter().filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v))).collect()
    }

    #[test]
    fn round_trip_through_stored_values_with_sealed_secrets() {
        let sealer = Sealer::new(&[5; 32]);
        let settings = TunnelSettings {
            backend: BackendKind::Ngrok,
            manual_url: Some("https://hooks.example.com".into()),
            ngrok: NgrokSettings {
                authtoken: Some(Secret::new("2abcNGROKtoken_wxyz")),
                domain: Some("acme.ngrok.app".into()),
            },
            bore: BoreSettings {
                host: Some("bore.example.com".into()),
                port: 4000,
                secret: Some(Secret::new("bore-secret")),
                public_url: None,
            },
        };
        let changes = settings.changes_from(&TunnelSettings::default(), &sealer).unwrap();
        let stored = values(&changes);
        let all: String = stored.iter().map(|(k, v)| format!("{k}={v};")).collect();
        assert!(!all.contains("NGROKtoken") && !all.contains("bore-secret"), "secrets are sealed: {all}");
        assert_eq!(TunnelSettings::from_values(&stored, &sealer), settings);
        // Another key cannot open them: they read as not set.
        let other = TunnelSettings::from_values(&stored, &Sealer::new(&[6; 32]));
        assert_eq!(other.ngrok.authtoken, None);
        assert_eq!(other.bore.secret, None);
        // Unchanged settings write nothing.
        assert!(settings.changes_from(&settings, &sealer).unwrap().is_empty());
    }

    #[test]
    fn a_saved_url_without_a_backend_means_manual() {
        let sealer = Sealer::new(&[5; 32]);
        let with_url = values(&[(kv::PUBLIC_URL, Some("https://x.example.com".into()))]);
        assert_eq!(TunnelSettings::from_values(&with_url, &sealer).backend, BackendKind::Manual);
        assert_eq!(TunnelSettings::from_values(&[], &sealer).backend, BackendKind::None);
    }

    #[test]
    fn problems_name_the_missing_piece() {
        let ngrok = TunnelSettings { backend: BackendKind::Ngrok, ..Default::default() };
        assert!(ngrok.problem().unwrap().contains("authtoken"));
        let bore = TunnelSettings { backend: BackendKind::Bore, ..Default::default() };
        assert!(bore.problem().unwrap().contains("host"));
        assert_eq!(TunnelSettings::default().problem(), None);
    }
}
