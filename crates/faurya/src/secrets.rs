//! Stored secrets (provider API keys, webhook secrets, tunnel tokens) are sealed with
//! AES-256-GCM under one master key.
//!
//! Sealed value layout: `version (1 byte) | nonce (12 bytes) | ciphertext + tag (16 bytes)`.
//! The nonce is random per seal. The associated data binds each value to its table, row and
//! purpose, so a sealed API key copied into another row, or into the webhook-secret column of its
//! own row, no longer opens.
//!
//! The master key comes from, in order: `FAURYA_MASTER_KEY` (base64 of 32 bytes), a key file
//! already present in the data dir, the OS keychain, or a new key file (mode 0600). A key file
//! other users can read is refused rather than silently trusted.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
pub const KEY_FILE: &str = "master.key";
const KEYCHAIN_SERVICE: &str = "faurya";

/// A secret string whose `Debug`/`Display` never print it, wiped from memory on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }
    /// The plain value, for the few places that must send it (an HTTP header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `••••••••3f9a`: enough for the founder to recognise which key is connected.
    pub fn masked(&self) -> String {
        mask_last4(&last4(self.expose()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

pub fn last4(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

pub fn mask_last4(last4: &str) -> String {
    format!("••••••••{last4}")
}

/// Says what a sealed value belongs to; part of the authenticated data.
#[derive(Debug, Clone, Copy)]
pub struct Aad<'a> {
    pub table: &'a str,
    pub row: &'a str,
    pub purpose: &'a str,
}

impl Aad<'_> {
    fn bytes(&self) -> Vec<u8> {
        // Length-prefixed so that ("a/b", "c") and ("a", "b/c") can never collide.
        let mut out = b"faurya-seal-v1".to_vec();
        for part in [self.table, self.row, self.purpose] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("FAURYA_MASTER_KEY must be the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`)")]
    BadEnvKey,
    #[error("the key file {path} is not the base64 encoding of 32 bytes; restore it from a backup")]
    BadKeyFile { path: PathBuf },
    #[error(
        "the key file {path} can be read by other users (mode {mode:o}); it guards your stored API keys. \
         Fix it with: chmod 600 {path}"
    )]
    KeyFileTooOpen { path: PathBuf, mode: u32 },
    #[error(
        "the OS keychain, which holds the master key of the database in {dir}, did not answer ({reason}). \
         Unlock the keychain (or start its service) and start Faurya again, or give the key in FAURYA_MASTER_KEY. \
         No new key was made: it could not open the secrets already stored"
    )]
    KeychainUnavailable { dir: PathBuf, reason: String },
    #[error(
        "{dir} holds a database but no master key was found for it (no FAURYA_MASTER_KEY, no master.key file, \
         nothing in the OS keychain). Give the key that sealed it: set FAURYA_MASTER_KEY, or put back the master.key \
         file from where you keep it. No new key was made: it could not open the secrets already stored"
    )]
    NoKeyForStore { dir: PathBuf },
    #[error("could not read or write the key file {path}: {source}")]
    KeyFileIo { path: PathBuf, source: std::io::Error },
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error("a sealed value could not be opened: wrong master key, or the data was altered")]
    Open,
    #[error("a sealed value is malformed (unknown version or too short)")]
    Malformed,
}

/// Where the master key came from, for the startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    KeyFile(PathBuf),
    Keychain,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env => f.write_str("FAURYA_MASTER_KEY"),
            KeySource::KeyFile(p) => write!(f, "key file {}", p.display()),
            KeySource::Keychain => f.write_str("the OS keychain"),
        }
    }
}

/// Seals and opens secrets under the master key.
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer([key redacted])")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { cipher: Aes256Gcm::new_from_slice(key).expect("32-byte key") }
    }

    pub fn seal(&self, plaintext: &[u8], aad: Aad<'_>) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SecretError::Random(e.to_string()))?;
        let aad = aad.bytes();
        let ciphertext = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: &aad })
            .map_err(|_| SecretError::Open)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], aad: Aad<'_>) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEAL_VERSION {
            return Err(SecretError::Malformed);
        }
        let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().expect("length checked");
        let aad = aad.bytes();
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: &sealed[1 + NONCE_LEN..], aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| SecretError::Open)
    }

    pub fn seal_str(&self, secret: &Secret, aad: Aad<'_>) -> Result<Vec<u8>, SecretError> {
        self.seal(secret.expose().as_bytes(), aad)
    }

    pub fn open_str(&self, sealed: &[u8], aad: Aad<'_>) -> Result<Secret, SecretError> {
        let bytes = self.open(sealed, aad)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretError::Malformed)?;
        Ok(Secret::new(text))
    }
}

/// A 32-byte master key, wiped on drop.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_base64(text: &str) -> Option<Self> {
        let decoded = Zeroizing::new(B64.decode(text.trim()).ok()?);
        let bytes: [u8; 32] = decoded.as_slice().try_into().ok()?;
        Some(Self(Zeroizing::new(bytes)))
    }

    pub fn random() -> Result<Self, SecretError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.0.as_ref()))
    }
}

/// Loads (or creates) the master key; blocking (file and keychain I/O), call it off the runtime.
///
/// A new key is made only for a brand-new store (`store_exists` false). For an existing one, a
/// keychain that fails or times out is retried and then reported: writing a fresh key file then
/// would make every later start fail with "wrong master key".
pub fn load_master_key(
    data_dir: &Path,
    env_key: Option<&str>,
    use_keychain: bool,
    store_exists: bool,
) -> Result<(MasterKey, KeySource), SecretError> {
    if let Some(text) = env_key {
        return MasterKey::from_base64(text).map(|k| (k, KeySource::Env)).ok_or(SecretError::BadEnvKey);
    }
    let path = data_dir.join(KEY_FILE);
    // An existing key file wins over the keychain: it is what sealed this data dir's secrets.
    if path.exists() {
        return read_key_file(&path).map(|k| (k, KeySource::KeyFile(path)));
    }
    if use_keychain {
        let attempts = if store_exists { KEYCHAIN_ATTEMPTS } else { 1 };
        let mut last = String::new();
        for attempt in 1..=attempts {
            match keychain::load_or_create(data_dir, !store_exists) {
                Ok(Some(key)) => return Ok((key, KeySource::Keychain)),
                Ok(None) => return Err(SecretError::NoKeyForStore { dir: data_dir.to_path_buf() }),
                Err(reason) => {
                    tracing::info!(%reason, attempt, "OS keychain not available");
                    last = reason;
                }
            }
        }
        if store_exists {
            return Err(SecretError::KeychainUnavailable { dir: data_dir.to_path_buf(), reason: last });
        }
        tracing::info!("using a key file in the data dir instead of the OS keychain");
    } else if store_exists {
        return Err(SecretError::NoKeyForStore { dir: data_dir.to_path_buf() });
    }
    let key = MasterKey::random()?;
    write_key_file(&path, &key)?;
    Ok((key, KeySource::KeyFile(path)))
}

/// How often an existing store's keychain is asked before Faurya gives up.
const KEYCHAIN_ATTEMPTS: u32 = 3;

pub(crate) fn read_key_file(path: &Path) -> Result<MasterKey, SecretError> {
    let io = |source| SecretError::KeyFileIo { path: path.to_path_buf(), source };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::KeyFileTooOpen { path: path.to_path_buf(), mode });
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
    MasterKey::from_base64(&text).ok_or_else(|| SecretError::BadKeyFile { path: path.to_path_buf() })
}

pub(crate) fn write_key_file(path: &Path, key: &MasterKey) -> Result<(), SecretError> {
    let io = |source| SecretError::KeyFileIo { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(key.to_base64().as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)
}

/// The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux).
pub(crate) mod keychain {
    use std::path::Path;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::MasterKey;

    /// A Secret Service that is present but stuck (a locked collection with no prompt agent on a
    /// headless box) must not hang startup: give up after this long and use the key file.
    const TIMEOUT: Duration = Duration::from_secs(5);

    /// The key for `data_dir`; a missing entry is created when `may_create`, else `Ok(None)`.
    /// One entry per data dir, so two installations never share (or overwrite) a key.
    fn account(data_dir: &Path) -> String {
        format!("master-key:{}", data_dir.canonicalize().unwrap_or(data_dir.to_path_buf()).display())
    }

    /// Replaces the key kept for `data_dir` (master-key rotation).
    pub(crate) fn replace(data_dir: &Path, key: &MasterKey) -> Result<(), String> {
        let account = account(data_dir);
        let bytes = zeroize::Zeroizing::new(*key.bytes());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let stored = keyring::Entry::new(super::KEYCHAIN_SERVICE, &account)
                .and_then(|entry| entry.set_secret(&bytes[..]))
                .map_err(|e| e.to_string());
            let _ = tx.send(stored);
        });
        rx.recv_timeout(TIMEOUT).map_err(|_| "the keychain did not answer within 5 s".to_string())?
    }

    pub(super) fn load_or_create(data_dir: &Path, may_create: bool) -> Result<Option<MasterKey>, String> {
        let account = account(data_dir);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(load_or_create_blocking(&account, may_create));
        });
        rx.recv_timeout(TIMEOUT).map_err(|_| "the keychain did not answer within 5 s".to_string())?
    }

    fn load_or_create_blocking(account: &str, may_create: bool) -> Result<Option<MasterKey>, String> {
        let entry = keyring::Entry::new(super::KEYCHAIN_SERVICE, account).map_err(|e| e.to_string())?;
        match entry.get_secret() {
            Ok(bytes) => {
                let bytes: [u8; 32] =
                    bytes.as_slice().try_into().map_err(|_| "keychain entry is not 32 bytes".to_string())?;
                Ok(Some(MasterKey(zeroize::Zeroizing::new(bytes))))
            }
            Err(keyring::Error::NoEntry) if !may_create => Ok(None),
            Err(keyring::Error::NoEntry) => {
                let key = MasterKey::random().map_err(|e| e.to_string())?;
                entry.set_secret(key.bytes()).map_err(|e| e.to_string())?;
                Ok(Some(key))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(row: &str) -> Aad<'_> {
        Aad { table: "connections", row, purpose: "api_key" }
    }

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&[byte; 32])
    }

    #[test]
    fn round_trip() {
        let s = sealer(7);
        let sealed = s.seal(b"whop_live_key", aad("con_1")).unwrap();
        assert_eq!(&*s.open(&sealed, aad("con_1")).unwrap(), b"whop_live_key");
        assert!(!sealed.windows(13).any(|w| w == b"whop_live_key"), "plaintext must not appear");
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let s = sealer(7);
        let sealed = s.seal(b"secret", aad("con_1")).unwrap();
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(matches!(s.open(&bad, aad("con_1")), Err(SecretError::Open)), "byte {i} flipped");
        }
        assert!(matches!(s.open(&sealed[..sealed.len() - 1], aad("con_1")), Err(SecretError::Open)));
        assert!(matches!(s.open(&sealed[..10], aad("con_1")), Err(SecretError::Malformed)));
        let mut other_version = sealed.clone();
        other_version[0] = 9;
        assert!(matches!(s.open(&other_version, aad("con_1")), Err(SecretError::Malformed)));
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = sealer(7).seal(b"secret", aad("con_1")).unwrap();
        assert!(matches!(sealer(8).open(&sealed, aad("con_1")), Err(SecretError::Open)));
    }

    #[test]
    fn wrong_aad_fails() {
        let s = sealer(7);
        let sealed = s.seal(b"secret", aad("con_1")).unwrap();
        assert!(s.open(&sealed, aad("con_2")).is_err(), "other row");
        let other_purpose = Aad { purpose: "webhook_secret", ..aad("con_1") };
        assert!(s.open(&sealed, other_purpose).is_err(), "other purpose");
        let other_table = Aad { table: "settings", ..aad("con_1") };
        assert!(s.open(&sealed, other_table).is_err(), "other table");
    }

    #[test]
    fn nonces_are_unique() {
        let s = sealer(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let sealed = s.seal(b"same plaintext", aad("con_1")).unwrap();
            assert!(seen.insert(sealed[1..1 + NONCE_LEN].to_vec()), "nonce repeated");
        }
    }

    #[test]
    fn secret_debug_is_redacted() {
        let secret = Secret::new("sk_live_abcdef3f9a");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(secret.masked(), "••••••••3f9a");
    }

    #[test]
    fn env_key_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(load_master_key(dir.path(), Some("c2hvcnQ="), false, false), Err(SecretError::BadEnvKey)));
        let good = B64.encode([3u8; 32]);
        let (key, source) = load_master_key(dir.path(), Some(&good), false, false).unwrap();
        assert_eq!(key.bytes(), &[3u8; 32]);
        assert_eq!(source, KeySource::Env);
        assert!(!dir.path().join(KEY_FILE).exists(), "an env key writes no file");
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_store_without_its_key_is_refused_not_given_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_master_key(dir.path(), None, false, true).err().expect("refused");
        assert!(matches!(err, SecretError::NoKeyForStore { .. }), "{err}");
        assert!(err.to_string().contains("FAURYA_MASTER_KEY"), "{err}");
        assert!(!dir.path().join(KEY_FILE).exists(), "no key file may be written for an existing store");
        // Its own key file still opens it.
        let key = MasterKey::random().unwrap();
        write_key_file(&dir.path().join(KEY_FILE), &key).unwrap();
        let (found, _) = load_master_key(dir.path(), None, false, true).unwrap();
        assert_eq!(found.bytes(), key.bytes());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = load_master_key(dir.path(), None, false, false).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(source, KeySource::KeyFile(path.clone()));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (second, _) = load_master_key(dir.path(), None, false, false).unwrap();
        assert_eq!(first.bytes(), second.bytes());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_master_key(dir.path(), None, false, false).unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_master_key(dir.path(), None, false, false).err().expect("refused");
        let message = err.to_string();
        assert!(message.contains("chmod 600"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
    }

    #[test]
    fn garbled_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&path).unwrap().write_all(b"not base64!").unwrap();
        assert!(matches!(load_master_key(dir.path(), None, false, false), Err(SecretError::BadKeyFile { .. })));
    }
}
