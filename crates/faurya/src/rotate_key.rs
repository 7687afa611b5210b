//! `faurya rotate-key`: a new master key, and every stored secret sealed again under it in one
//! transaction, so the store is never half old key, half new.
//!
//! The order keeps a crash at any point recoverable. The new key is written first, beside the
//! old one (`master.key.new`, fsynced); then the secrets are re-sealed and committed; then the
//! new key takes the old one's place. Run again after an interruption, the command sees which
//! key opens the store and finishes (or starts over) accordingly.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::secrets::{self, Aad, KeySource, MasterKey, Sealer, SecretError};
use crate::store::SCHEMA_VERSION;
use crate::store::settings as kv;

/// The new key, until the rotation is complete.
pub const NEW_KEY_FILE: &str = "master.key.new";

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Refused(String),
}

/// What was sealed again.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    pub secrets: usize,
    /// Where the new key now lives, in words for the founder.
    pub key_now: String,
    /// The old key file, kept for backups made before the rotation.
    pub retired: Option<PathBuf>,
    /// For a key from FAURYA_MASTER_KEY: the new key, which the founder must now set.
    pub new_env_key: Option<String>,
    /// An interrupted rotation was finished instead of starting a new one.
    pub finished_earlier: bool,
}

/// Re-seals every secret of the store in `conn` from `old` to `new`, in one transaction. A secret
/// the old key cannot open stops it all, and nothing is changed.
pub fn reseal_all(conn: &mut Connection, old: &Sealer, new: &Sealer) -> Result<usize, RotateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut count = 0;
    let reseal = |sealed: &[u8], aad: Aad<'_>| -> Result<Vec<u8>, RotateError> {
        let plain = old.open(sealed, aad).map_err(|e| {
            RotateError::Refused(format!(
                "the secret {}/{}/{} does not open with the current key ({e}); nothing was changed",
                aad.table, aad.row, aad.purpose
            ))
        })?;
        Ok(new.seal(&plain, aad)?)
    };

    // (table, id column, [(sealed column, purpose)]): every sealed column of the schema.
    const SEALED: [(&str, [(&str, &str); 2]); 2] = [
        ("connections", [("api_key_sealed", "api_key"), ("webhook_secret_sealed", "webhook_secret")]),
        ("sites", [("write_key_sealed", "write_key"), ("token_secret_sealed", "token_secret")]),
    ];
    for (table, columns) in SEALED {
        for (column, purpose) in columns {
            let rows: Vec<(String, Vec<u8>)> = {
                let mut stmt = tx.prepare(&format!("SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"))?;
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<rusqlite::Result<_>>()?
            };
            for (id, sealed) in rows {
                let resealed = reseal(&sealed, Aad { table, row: &id, purpose })?;
                tx.execute(&format!("UPDATE {table} SET {column} = ?1 WHERE id = ?2"), params![resealed, id])?;
                count += 1;
            }
        }
    }
    // Settings hold their sealed values as base64 text.
    let sealed_settings = [
        (kv::NGROK_AUTHTOKEN, "tunnel_secret"),
        (kv::BORE_SECRET, "tunnel_secret"),
        (kv::MASTER_KEY_CHECK, "key_check"),
    ];
    for (key, purpose) in sealed_settings {
        let value: Option<String> =
            tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| row.get(0)).optional()?;
        let Some(text) = value else { continue };
        let sealed = B64.decode(text.trim()).map_err(|e| RotateError::Refused(format!("setting {key}: {e}")))?;
        let resealed = B64.encode(reseal(&sealed, Aad { table: "settings", row: key, purpose })?);
        tx.execute("UPDATE settings SET value = ?1 WHERE key = ?2", params![resealed, key])?;
        count += 1;
    }
    tx.commit()?;
    Ok(count)
}

/// Whether `sealer` opens the store's master key check.
fn opens_store(conn: &Connection, sealer: &Sealer) -> Result<bool, RotateError> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [kv::MASTER_KEY_CHECK], |row| row.get(0))
        .optional()?;
    let Some(text) = text else {
        return Err(RotateError::Refused("this store has never been started: there is no key to rotate yet".into()));
    };
    let sealed = B64.decode(text.trim()).map_err(|e| RotateError::Refused(format!("master key check: {e}")))?;
    Ok(sealer
        .open(&sealed, crate::app::key_check_aad())
        .is_ok_and(|plain| plain.as_slice() == crate::app::KEY_CHECK_PLAINTEXT))
}

/// The whole command, on a stopped Faurya's data dir.
pub fn rotate(data_dir: &Path, db: &Path, env_key: Option<&str>, use_keychain: bool) -> Result<Rotated, RotateError> {
    let _lock = crate::backup::DataDirLock::try_acquire(data_dir)
        .map_err(|e| RotateError::Io(e.to_string()))?
        .ok_or_else(|| {
            RotateError::Refused(format!(
                "Faurya is running with the data dir {}: stop it (quit the desktop app, or stop `faurya serve`) \
                 before rotating the key",
                data_dir.display()
            ))
        })?;
    if !db.exists() {
        return Err(RotateError::Refused(format!("there is no database at {}", db.display())));
    }
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version != SCHEMA_VERSION {
        return Err(RotateError::Refused(format!(
            "the database is at schema version {version}, this Faurya expects {SCHEMA_VERSION}: start this \
             version of Faurya once (it upgrades the database), stop it, then rotate"
        )));
    }

    let (old_key, source) = secrets::load_master_key(data_dir, env_key, use_keychain, true)?;
    let old = Sealer::new(old_key.bytes());
    let new_path = data_dir.join(NEW_KEY_FILE);

    // An earlier run stopped after writing its new key: which key opens the store says how far
    // it got.
    let mut finished_earlier = false;
    let new_key = if new_path.exists() {
        let pending = secrets::read_key_file(&new_path)?;
        if opens_store(&conn, &Sealer::new(pending.bytes()))? {
            finished_earlier = true;
            pending
        } else if opens_store(&conn, &old)? {
            remove(&new_path)?;
            fresh_key(&new_path)?
        } else {
            return Err(wrong_key(&source));
        }
    } else {
        if !opens_store(&conn, &old)? {
            return Err(wrong_key(&source));
        }
        fresh_key(&new_path)?
    };

    let secrets = if finished_earlier { 0 } else { reseal_all(&mut conn, &old, &Sealer::new(new_key.bytes()))? };
    drop(conn);

    let mut rotated = Rotated { secrets, finished_earlier, ..Rotated::default() };
    match source {
        KeySource::KeyFile(path) => {
            let retired = data_dir.join(format!("master.key.retired-{}", crate::store::now_ms() / 1000));
            rename(&path, &retired)?;
            rename(&new_path, &path)?;
            sync_dir(data_dir);
            rotated.key_now = format!("the key file {}", path.display());
            rotated.retired = Some(retired);
        }
        KeySource::Keychain => match secrets::keychain::replace(data_dir, &new_key) {
            Ok(()) => {
                remove(&new_path)?;
                rotated.key_now = "the OS keychain".into();
            }
            Err(reason) => {
                // The store is already sealed with the new key: keep it where the next start finds
                // it first (a key file wins over the keychain).
                let path = data_dir.join(secrets::KEY_FILE);
                rename(&new_path, &path)?;
                sync_dir(data_dir);
                rotated.key_now =
                    format!("the key file {} (the OS keychain could not be updated: {reason})", path.display());
            }
        },
        KeySource::Env => {
            rotated.new_env_key = Some(new_key.to_base64().to_string());
            rotated.key_now =
                format!("{} until you set FAURYA_MASTER_KEY to it; delete that file once you have", new_path.display());
        }
    }
    Ok(rotated)
}

fn wrong_key(source: &KeySource) -> RotateError {
    RotateError::Refused(format!(
        "the master key from {source} does not open this store; nothing was changed. Start Faurya with the key \
         that sealed it first"
    ))
}

fn fresh_key(path: &Path) -> Result<MasterKey, RotateError> {
    let key = MasterKey::random()?;
    secrets::write_key_file(path, &key)?;
    Ok(key)
}

fn rename(from: &Path, to: &Path) -> Result<(), RotateError> {
    std::fs::rename(from, to)
        .map_err(|e| RotateError::Io(format!("could not rename {} to {}: {e}", from.display(), to.display())))
}

fn remove(path: &Path) -> Result<(), RotateError> {
    std::fs::remove_file(path).map_err(|e| RotateError::Io(format!("could not remove {}: {e}", path.display())))
}

/// Makes the renames durable (best effort: not every platform can fsync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}
