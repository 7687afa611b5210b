//! Backup and restore of the store, and the lock that keeps two Faurya processes (or a restore)
//! off one data dir.
//!
//! A backup is a consistent snapshot of the live database (`VACUUM INTO`: one read transaction,
//! so it runs while webhooks keep arriving) written to a temporary name and renamed into place.
//! It holds the secrets only in their sealed form: without the master key (the OS keychain entry
//! or `master.key`), a restored store's API keys and webhook secrets cannot be opened — by design,
//! a copied backup is not a leaked key.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::store::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{path} already exists: choose a new file name (a backup never overwrites a file)")]
    Exists { path: PathBuf },
    #[error("{path} is not a Faurya backup: {why}")]
    NotABackup { path: PathBuf, why: String },
    #[error(
        "Faurya is running with the data dir {dir}: stop it (quit the desktop app, or stop `faurya serve`) before restoring"
    )]
    Running { dir: PathBuf },
}

fn io(what: &str, path: &Path, e: std::io::Error) -> BackupError {
    BackupError::Io(format!("could not {what} {}: {e}", path.display()))
}

/// The exclusive lock of a data dir, held for as long as the app runs. Advisory (flock on
/// `<data dir>/faurya.lock`), released by the OS however the process ends, even on SIGKILL.
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock, or answers `None` when another process holds it.
    pub fn try_acquire(dir: &Path) -> Result<Option<Self>, BackupError> {
        let path = dir.join("faurya.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io("open", &path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a descriptor this function owns.
            let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if !taken {
                return Ok(None);
            }
        }
        Ok(Some(Self { _file: file }))
    }
}

/// What a backup holds.
#[derive(Debug, serde::Serialize)]
pub struct Summary {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    pub payments: i64,
    pub deliveries: i64,
    pub sessions: i64,
}

fn summarize(path: &Path) -> Result<Summary, BackupError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap_or(0)
    };
    Ok(Summary {
        path: path.to_path_buf(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        schema_version: conn.pragma_query_value(None, "user_version", |r| r.get(0))?,
        payments: count("payments"),
        deliveries: count("deliveries"),
        sessions: count("sessions"),
    })
}

/// Writes a consistent snapshot of the database at `db` to `to` (which must not exist).
pub fn backup(db: &Path, to: &Path) -> Result<Summary, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists { path: to.to_path_buf() });
    }
    if !db.exists() {
        return Err(BackupError::Io(format!("there is no Faurya database at {}", db.display())));
    }
    let partial = to.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&partial);
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = partial.to_str().ok_or_else(|| BackupError::Io("the backup path is not valid UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    drop(conn);
    File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| io("sync", &partial, e))?;
    std::fs::rename(&partial, to).map_err(|e| io("move the backup to", to, e))?;
    restrict(to);
    summarize(to)
}

/// Backups hold customer emails and sealed secrets: owner-only.
fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Checks that `path` is a sound Faurya database this build can open.
pub fn check(path: &Path) -> Result<Summary, BackupError> {
    let not = |why: String| BackupError::NotABackup { path: path.to_path_buf(), why };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| not(e.to_string()))?;
    let integrity: String =
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| not(e.to_string()))?;
    if integrity != "ok" {
        return Err(not(format!("it is damaged ({integrity})")));
    }
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version == 0 {
        return Err(not("it has no Faurya schema".into()));
    }
    if version > SCHEMA_VERSION {
        return Err(not(format!("a newer Faurya made it (schema {version}; this one knows up to {SCHEMA_VERSION})")));
    }
    drop(conn);
    summarize(path)
}

/// Puts the backup at `from` in place of the data dir's database. The current database is kept
/// beside it as `faurya.db.before-restore-<time>`. Refuses while Faurya runs on the data dir.
pub fn restore(from: &Path, data_dir: &Path, db: &Path) -> Result<(Summary, Option<PathBuf>), BackupError> {
    let summary = check(from)?;
    let Some(_lock) = DataDirLock::try_acquire(data_dir)? else {
        return Err(BackupError::Running { dir: data_dir.to_path_buf() });
    };
    let incoming = db.with_extension("db.restoring");
    std::fs::copy(from, &incoming).map_err(|e| io("copy the backup to", &incoming, e))?;
    File::open(&incoming).and_then(|f| f.sync_all()).map_err(|e| io("sync", &incoming, e))?;
    let kept = if db.exists() {
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        let kept = db.with_extension(format!("db.before-restore-{stamp}"));
        // Fold the WAL into the old file first, so the kept copy is whole on its own.
        if let Ok(conn) = Connection::open(db) {
            let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
        }
        std::fs::rename(db, &kept).map_err(|e| io("move the current database to", &kept, e))?;
        Some(kept)
    } else {
        None
    };
    for suffix in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(db.with_extension(suffix));
    }
    std::fs::rename(&incoming, db).map_err(|e| io("move the backup into", db, e))?;
    restrict(db);
    Ok((summary, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_of_the_lock_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::try_acquire(dir.path()).unwrap();
        assert!(first.is_some());
        #[cfg(unix)]
        assert!(DataDirLock::try_acquire(dir.path()).unwrap().is_none());
        drop(first);
        assert!(DataDirLock::try_acquire(dir.path()).unwrap().is_some());
    }

    #[test]
    fn garbage_is_not_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"this is not sqlite at all, not even close to it............").unwrap();
        assert!(matches!(check(&junk), Err(BackupError::NotABackup { .. })));
        let empty = dir.path().join("empty.db");
        Connection::open(&empty).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(matches!(check(&empty), Err(BackupError::NotABackup { .. })));
    }
}
