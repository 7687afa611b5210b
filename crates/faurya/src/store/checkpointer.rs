//! Copies the write-ahead log back into the database on a thread of its own.
//!
//! SQLite's automatic checkpoint runs inside the writer's commit once the WAL passes 1,000 pages:
//! two more fsyncs (the WAL, then the database) and a page copy, all while every acknowledgement
//! queued behind that commit waits. A delivery dirties a few dozen pages once processed, so that
//! came every few commits; on a disk whose flush costs milliseconds it set the ingest p99. Here
//! the writer never checkpoints; this thread runs PASSIVE checkpoints from its own connection,
//! which never block the writer (it keeps appending while the checkpoint copies what was
//! committed before). SQLite restarts the WAL from its start at the next write once a checkpoint
//! has copied all of it, so the WAL stays small; `journal_size_limit` trims the file after a burst.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints.
const EVERY: Duration = Duration::from_millis(250);
/// The WAL file is cut back to this after a checkpoint (64 MiB).
pub const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

pub struct Checkpointer {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode, whose writer has
    /// `wal_autocheckpoint = 0`).
    pub fn start(path: &Path) -> super::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The checkpoint fsyncs the WAL before copying and the database after.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
        let (stop, stopped) = channel();
        let thread = std::thread::Builder::new()
            .name("faurya-db-checkpoint".into())
            .spawn(move || run(&conn, &stopped))
            .map_err(|e| super::StoreError::Write(format!("could not start the checkpoint thread: {e}")))?;
        Ok(Self { stop, thread: Some(thread) })
    }

    /// Stops the thread after its current checkpoint.
    pub fn stop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(conn: &Connection, stopped: &Receiver<()>) {
    loop {
        match stopped.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        // (busy, frames in the WAL, frames copied): a failure (disk full, I/O) is retried on the
        // next round; the WAL keeps everything meanwhile.
        let outcome: rusqlite::Result<(i64, i64, i64)> =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        if let Err(e) = outcome {
            tracing::debug!(error = %e, "checkpoint failed; retried shortly");
        }
    }
}
