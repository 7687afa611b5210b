//! Sites: what a founder tracks. Each has domains (the hostnames whose pages may send events,
//! subdomains included), a write key for the server-side revenue API and a secret for
//! attribution tokens, both sealed at rest and kept unsealed in memory for the hot paths.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::ids;
use crate::http::error::ApiError;
use crate::secrets::{Aad, Sealer, Secret, last4, mask_last4};
use crate::store::sites::{self as rows, SiteRow};
use crate::store::{Store, StoreError, now_ms, rfc3339};

/// A site as the admin API shows it: never a plain secret.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub masked_write_key: String,
    pub created_at: String,
    pub first_event_at: Option<String>,
    pub last_event_at: Option<String>,
}

impl From<&SiteRow> for SiteView {
    fn from(row: &SiteRow) -> Self {
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            domains: row.domains.clone(),
            masked_write_key: format!("fw_{}", mask_last4(&row.write_key_last4)),
            created_at: rfc3339(row.created_at),
            first_event_at: row.first_event_at.map(rfc3339),
            last_event_at: row.last_event_at.map(rfc3339),
        }
    }
}

/// What the event endpoint and the revenue API need of a site, unsealed.
pub struct SiteKeys {
    pub id: String,
    pub domains: Vec<String>,
    pub token_secret: Secret,
    pub write_key: Secret,
}

impl SiteKeys {
    /// Whether a page on `host` may send events for this site: one of its domains or a
    /// subdomain of one.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().any(|d| host == *d || host.strip_suffix(d.as_str()).is_some_and(|rest| rest.ends_with('.')))
    }
}

const WRITE_KEY_PURPOSE: &str = "write_key";
const TOKEN_SECRET_PURPOSE: &str = "token_secret";
const MAX_DOMAINS: usize = 50;

fn aad<'a>(site_id: &'a str, purpose: &'a str) -> Aad<'a> {
    Aad { table: "sites", row: site_id, purpose }
}

/// The sites, with a cache of their unsealed keys. Needs only the store and the sealer.
pub struct Sites {
    store: Store,
    sealer: Arc<Sealer>,
    cache: RwLock<HashMap<String, Arc<SiteKeys>>>,
    /// Bumped by every change, so a lookup that raced a change does not cache what it read.
    generation: std::sync::atomic::AtomicU64,
}

fn random_failed(e: getrandom::Error) -> ApiError {
    ApiError::Internal(format!("random: {e}"))
}

impl Sites {
    pub fn new(store: Store, sealer: Arc<Sealer>) -> Self {
        Self { store, sealer, cache: RwLock::default(), generation: Default::default() }
    }

    /// At start: there is always at least one site, and everything recorded before sites existed
    /// belongs to the first one.
    pub async fn ensure_first(&self) -> Result<(), ApiError> {
        let sites = self.store.read(rows::list).await?;
        let first = match sites.first() {
            Some(site) => site.id.clone(),
            None => self.create("My site", Vec::new()).await?.0.id,
        };
        let moved = self.store.write(move |conn| rows::adopt_orphans(conn, &first)).await?;
        if moved > 0 {
            tracing::info!(connections = moved, "connections from before sites were given to the first site");
        }
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<SiteView>, ApiError> {
        Ok(self.store.read(rows::list).await?.iter().map(SiteView::from).collect())
    }

    pub async fn row(&self, id: &str) -> Result<SiteRow, ApiError> {
        let id_owned = id.to_string();
        self.store.read(move |conn| rows::get(conn, &id_owned)).await?.ok_or_else(|| no_such_site(id))
    }

    pub async fn get(&self, id: &str) -> Result<SiteView, ApiError> {
        Ok(SiteView::from(&self.row(id).await?))
    }

    /// Creates a site; answers it with its write key in plain (shown once, revealable later).
    pub async fn create(&self, name: &str, domains: Vec<String>) -> Result<(SiteView, Secret), ApiError> {
        let id = ids::new_site_id().map_err(random_failed)?;
        let write_key = Secret::new(ids::new_write_key().map_err(random_failed)?);
        let token_secret = Secret::new(ids::new_token_secret().map_err(random_failed)?);
        let now = now_ms();
        let row = SiteRow {
            write_key_sealed: self.sealer.seal_str(&write_key, aad(&id, WRITE_KEY_PURPOSE))?,
            write_key_last4: last4(write_key.expose()),
            token_secret_sealed: self.sealer.seal_str(&token_secret, aad(&id, TOKEN_SECRET_PURPOSE))?,
            id,
            name: name.to_string(),
            domains,
            created_at: now,
            updated_at: now,
            first_event_at: None,
            first_event_url: None,
            first_event_name: None,
            last_event_at: None,
        };
        let view = SiteView::from(&row);
        self.store.write(move |conn| rows::insert(conn, &row)).await?;
        Ok((view, write_key))
    }

    pub async fn update(
        &self,
        id: &str,
        name: Option<String>,
        domains: Option<Vec<String>>,
    ) -> Result<SiteView, ApiError> {
        let id_owned = id.to_string();
        self.store
            .write(move |conn| rows::update(conn, &id_owned, name.as_deref(), domains.as_deref()))
            .await
            .map_err(|e| not_found_as(e, id))?;
        self.forget(id);
        self.get(id).await
    }

    pub async fn reveal_write_key(&self, id: &str) -> Result<Secret, ApiError> {
        let row = self.row(id).await?;
        Ok(self.sealer.open_str(&row.write_key_sealed, aad(&row.id, WRITE_KEY_PURPOSE))?)
    }

    /// A new write key; the old one stops working at once.
    pub async fn rotate_write_key(&self, id: &str) -> Result<Secret, ApiError> {
        let row = self.row(id).await?;
        let key = Secret::new(ids::new_write_key().map_err(random_failed)?);
        let sealed = self.sealer.seal_str(&key, aad(&row.id, WRITE_KEY_PURPOSE))?;
        let last4 = last4(key.expose());
        let id_owned = row.id.clone();
        self.store.write(move |conn| rows::set_write_key(conn, &id_owned, &sealed, &last4)).await?;
        self.forget(id);
        Ok(key)
    }

    /// The site's unsealed keys, cached. `None` for an unknown id (not cached: random probes must
    /// not grow memory).
    pub async fn keys(&self, id: &str) -> Result<Option<Arc<SiteKeys>>, ApiError> {
        if let Some(found) = self.cache.read().expect("sites lock").get(id) {
            return Ok(Some(found.clone()));
        }
        if !ids::is_valid_site_id(id) {
            return Ok(None);
        }
        // A change made while this read runs forgets the entry; the row read before it must not
        // be cached after that (it would keep the old domains or key until the next change).
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let id_owned = id.to_string();
        let Some(row) = self.store.read(move |conn| rows::get(conn, &id_owned)).await? else { return Ok(None) };
        let keys = Arc::new(SiteKeys {
            token_secret: self.sealer.open_str(&row.token_secret_sealed, aad(&row.id, TOKEN_SECRET_PURPOSE))?,
            write_key: self.sealer.open_str(&row.write_key_sealed, aad(&row.id, WRITE_KEY_PURPOSE))?,
            domains: row.domains,
            id: row.id,
        });
        let mut cache = self.cache.write().expect("sites lock");
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            cache.insert(keys.id.clone(), keys.clone());
        }
        Ok(Some(keys))
    }

    /// Deletes a site that holds nothing; a site with data, or the last one, stays (409).
    pub async fn remove_empty(&self, id: &str) -> Result<(), ApiError> {
        let row = self.row(id).await?;
        let site = row.id.clone();
        self.store.write(move |conn| rows::delete_if_empty(conn, &site)).await.map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::Conflict { code: "site_not_empty", message },
            other => other.into(),
        })?;
        self.forget(&row.id);
        Ok(())
    }

    fn forget(&self, id: &str) {
        let mut cache = self.cache.write().expect("sites lock");
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        cache.remove(id);
    }

    /// The site a new connection belongs to: the one asked for, else the only one.
    pub async fn resolve_for_connection(&self, asked: Option<String>) -> Result<String, ApiError> {
        let sites = self.store.read(rows::list).await?;
        match asked {
            Some(id) if sites.iter().any(|s| s.id == id) => Ok(id),
            Some(id) => Err(ApiError::field("site_id", format!("There is no site {id:?}."))),
            None if sites.len() == 1 => Ok(sites[0].id.clone()),
            None => Err(ApiError::field("site_id", "Choose the site this connection's payments belong to.")),
        }
    }
}

fn no_such_site(id: &str) -> ApiError {
    ApiError::not_found(format!("There is no site {id:?}."))
}

fn not_found_as(e: StoreError, id: &str) -> ApiError {
    match e {
        StoreError::NotFound => no_such_site(id),
        other => other.into(),
    }
}

/// Validates a site name: 1–80 characters after trimming.
pub fn clean_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err("Give the site a name, e.g. your product's.".into()),
        n if n > 80 => Err("Keep the name under 80 characters.".into()),
        _ if name.chars().any(char::is_control) => Err("The name cannot contain control characters.".into()),
        _ => Ok(name.to_string()),
    }
}

/// Normalizes the domains a founder typed: `https://www.Example.com/pricing` → `example.com`
/// (subdomains are allowed anyway, so `www.` adds nothing); IDNs become punycode; duplicates go.
pub fn clean_domains(input: &[String]) -> Result<Vec<String>, String> {
    if input.len() > MAX_DOMAINS {
        return Err(format!("At most {MAX_DOMAINS} domains per site."));
    }
    let mut out: Vec<String> = Vec::new();
    for raw in input {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let with_scheme = if trimmed.contains("://") { trimmed.to_string() } else { format!("http://{trimmed}") };
        let host = url::Url::parse(&with_scheme)
            .ok()
            .filter(|u| u.scheme() == "http" || u.scheme() == "https")
            .and_then(|u| match u.host() {
                Some(url::Host::Domain(d)) => Some(d.trim_end_matches('.').to_string()),
                _ => None,
            })
            .ok_or_else(|| format!("{trimmed:?} is not a domain name like example.com."))?;
        let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
        let labels_ok = host.split('.').all(|l| !l.is_empty() && l.len() <= 63);
        if !labels_ok || host.len() > 253 || !(host.contains('.') || host == "localhost") {
            return Err(format!("{trimmed:?} is not a domain name like example.com."));
        }
        if !out.contains(&host) {
            out.push(host);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(domains: &[&str]) -> SiteKeys {
        SiteKeys {
            id: "site_a".into(),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            token_secret: Secret::new("t"),
            write_key: Secret::new("w"),
        }
    }

    #[test]
    fn hosts_match_domains_and_their_subdomains_only() {
        let k = keys(&["example.com"]);
        for ok in ["example.com", "www.example.com", "app.eu.example.com", "EXAMPLE.com", "example.com."] {
            assert!(k.allows_host(ok), "{ok}");
        }
        for bad in ["notexample.com", "example.com.evil.io", "example.org", "", "com"] {
            assert!(!k.allows_host(bad), "{bad}");
        }
        assert!(!keys(&[]).allows_host("example.com"));
    }

    #[test]
    fn domains_are_normalized() {
        let input =
            ["https://www.Example.com/pricing", "shop.example.com:8443", " example.com ", "", "bücher.de", "localhost"];
        let cleaned = clean_domains(&input.map(String::from)).unwrap();
        assert_eq!(cleaned, ["example.com", "shop.example.com", "xn--bcher-kva.de", "localhost"]);
        for bad in
            ["not a domain", "ftp://example.com", "192.168.1.1", "[::1]", "nodot", "a..b.com", "javascript:alert(1)"]
        {
            assert!(clean_domains(&[bad.to_string()]).is_err(), "{bad}");
        }
        assert!(clean_domains(&vec!["a.com".to_string(); 51]).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Acme  ").unwrap(), "Acme");
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"x".repeat(81)).is_err());
        assert!(clean_name("a\u{0}b").is_err());
    }
}
