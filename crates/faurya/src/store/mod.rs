//! The SQLite store: one writer thread that commits in groups, a small pool of readers.
//!
//! Why a writer thread: SQLite allows one writer at a time, and every acknowledged webhook must
//! be flushed to disk before the provider gets its 2xx. One thread that drains a queue and
//! commits all waiting writes in one transaction needs one flush for the whole group, so
//! throughput grows with load instead of being capped at one flush per delivery. The flush runs
//! on a thread of its own (`flusher.rs`), so the writer commits the next group meanwhile, and
//! checkpoints on another (`checkpointer.rs`). Before its first commit the writer gives the WAL
//! file its room on disk (`preallocate.rs`), so flushes under load write data, not the file's
//! growth. Async code never blocks on SQLite: writes go through a channel, reads through
//! `spawn_blocking`.

mod checkpointer;
mod flusher;
mod migrations;
mod preallocate;
mod writer;

pub mod attribution;
pub mod connections;
pub mod deliveries;
pub mod forwards;
pub mod payments;
pub mod sessions;
pub mod settings;
pub mod sites;
pub mod test_runs;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

pub use migrations::{SCHEMA_VERSION, migrate};
use writer::Writer;
pub(crate) use writer::run_cached;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The database file cannot take writes now: the disk is full, the file or its folder is
    /// read-only, or the device failed. Nothing was acknowledged; it works again once fixed.
    #[error("the database cannot be written: {0}")]
    Unavailable(String),
    #[error(
        "the database {path} was written by a newer Faurya (schema version {found}, this build knows up to {known}). \
         Install the newer version again, or restore a backup made with this version."
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("could not migrate the database: {0}")]
    Migration(String),
    #[error("the database could not commit the write: {0}")]
    Write(String),
    #[error("the store is shut down")]
    Closed,
    #[error("a database task panicked: {0}")]
    Panicked(String),
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// Errors that say "the storage is the problem, not this request" (disk full, read-only,
/// I/O failure): callers answer 503 so the sender retries, and the UI shows it.
pub(crate) fn is_storage_failure(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{CannotOpen, DiskFull, ReadOnly, SystemIoFailure};
    matches!(err, rusqlite::Error::SqliteFailure(e, _) if matches!(e.code, DiskFull | ReadOnly | SystemIoFailure | CannotOpen))
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if is_storage_failure(&err) { StoreError::Unavailable(err.to_string()) } else { StoreError::Sqlite(err) }
    }
}

impl StoreError {
    pub fn is_unique_violation(err: &rusqlite::Error) -> bool {
        matches!(
            err,
            rusqlite::Error::SqliteFailure(e, _)
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How a store is opened.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Bytes of zeros the write-ahead log file is given when the store opens, so that a burst's
    /// flushes write data only, not the file's growth (preallocate.rs); 0 lets it grow as
    /// SQLite writes. Skipped when less than four times that is free.
    pub wal_preallocate: u64,
}

/// What `faurya serve` and the desktop app preallocate: all the WAL that SQLite keeps.
pub const WAL_PREALLOCATE: u64 = checkpointer::JOURNAL_SIZE_LIMIT as u64;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Mutex<checkpointer::Checkpointer>,
}

/// Whether the last write reached the disk; the UI's "disk full" banner reads it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub writable: bool,
    /// Why writes fail, while they do.
    pub error: Option<String>,
    /// Unix ms of the first failure in the current run of failures.
    pub since: Option<i64>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database. Blocking: call before the runtime
    /// serves requests, or from `spawn_blocking`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Options::default())
    }

    /// [`Store::open`], with options.
    pub fn open_with(path: &Path, options: Options) -> Result<Self> {
        create_private(path);
        let mut conn = Connection::open(path)?;
        configure(&conn, false)?;
        migrate(&mut conn, path)?;
        // Checkpoints run on their own thread (see checkpointer.rs), never inside a commit that
        // acknowledgements wait for.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", checkpointer::JOURNAL_SIZE_LIMIT)?;
        let activity = Arc::new(checkpointer::Activity::default());
        let checkpointer = Mutex::new(checkpointer::Checkpointer::start(path, activity.clone())?);
        let writer = Writer::start(conn, activity, options.wal_preallocate)?;
        Ok(Self {
            inner: Arc::new(Inner { path: path.to_path_buf(), writer, readers: Mutex::new(Vec::new()), checkpointer }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` inside the writer's current group transaction (in a savepoint of its own, so a
    /// failing job rolls back alone) and returns once the group is committed and fsynced.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.writer.submit(f).await
    }

    /// Runs `f` as background work: after every queued foreground write, in a group of its own,
    /// committed without an fsync of its own. For work that can be redone from what is stored
    /// (processing an acknowledged delivery), never for what an acknowledgement depends on.
    pub async fn write_background<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.writer.submit_background(f).await
    }

    /// Whether writes reach the disk now (as of the last group the writer committed).
    pub fn health(&self) -> Health {
        self.inner.writer.health()
    }

    /// Runs a read-only `f` on a pooled connection on the blocking thread pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(f))
            .await
            .map_err(|e| StoreError::Panicked(e.to_string()))?
    }

    /// The blocking form of [`Store::read`], for code already off the runtime.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.inner.readers.lock().expect("reader pool poisoned").pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.inner.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )?;
                configure(&conn, true)?;
                conn
            }
        };
        let result = f(&conn);
        let mut readers = self.inner.readers.lock().expect("reader pool poisoned");
        if readers.len() < 8 {
            readers.push(conn);
        }
        result
    }

    /// Stops the writer after it has committed everything queued so far.
    pub async fn close(&self) {
        self.inner.writer.close().await;
        self.inner.checkpointer.lock().expect("checkpointer lock").stop();
    }
}

/// Creates the database file readable by its owner only; SQLite gives the -wal and -shm files the
/// same mode. (Failure here is not fatal: SQLite creates the file itself, and the data dir is
/// private anyway.)
fn create_private(path: &Path) {
    #[cfg(unix)]
    if !path.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    }
}

/// Per-connection settings. WAL lets readers run while the writer commits. `synchronous=FULL`
/// (flush at every commit) is the default for every connection; the writer's own connection
/// switches to NORMAL and has its commits flushed by the flush thread before anyone hears Ok
/// (writer.rs, flusher.rs): an acknowledged delivery must survive a power cut either way.
fn configure(conn: &Connection, read_only: bool) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Hot statements are prepared once per connection (`prepare_cached`): preparing is parsing
    // and, for tables with triggers, compiling every trigger program, which cost more than the
    // write itself.
    conn.set_prepared_statement_cache_capacity(256);
    // A larger page cache and memory-mapped reads keep summaries over large tables off the
    // syscall path; both are upper bounds, not allocations.
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
    if read_only {
        conn.pragma_update(None, "query_only", true)?;
    } else {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Unix milliseconds now.
/// A window of time for list filters, in Unix milliseconds: `from_ms` inclusive, `to_ms`
/// exclusive; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// RFC 3339 text for a stored millisecond time.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}
