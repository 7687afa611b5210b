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
//!
//! When: at the first quiet moment ([`QUIET`] without a commit) after a write, and at least every
//! [`AT_LEAST_EVERY`] while writes never pause. A checkpoint flushes both files, and on a disk
//! whose flush costs milliseconds a flush queued beside the WAL flush that acknowledgements wait
//! for made that one slower (in the ingest bench: flush p99 4.2 ms with a checkpoint every
//! 250 ms, 3.1–3.8 ms without). So a burst is checkpointed once it is over, and a load that never
//! pauses still is, every few seconds, which bounds the WAL.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the thread looks at the writer's activity.
const TICK: Duration = Duration::from_millis(50);
/// A pause in commits this long is a quiet moment.
const QUIET: Duration = Duration::from_millis(200);
/// The longest a commit waits to be checkpointed while writes never pause.
const AT_LEAST_EVERY: Duration = Duration::from_secs(2);

/// When the writer last committed; the writer touches it, the checkpointer reads it.
pub struct Activity {
    started: Instant,
    /// Microseconds after `started` of the last commit, plus one (0: none yet).
    last_commit: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Self { started: Instant::now(), last_commit: AtomicU64::new(0) }
    }
}

impl Activity {
    pub fn committed(&self) {
        let at = self.started.elapsed().as_micros() as u64 + 1;
        self.last_commit.store(at, Ordering::Release);
    }

    fn last_commit(&self) -> Option<Instant> {
        match self.last_commit.load(Ordering::Acquire) {
            0 => None,
            at => Some(self.started + Duration::from_micros(at - 1)),
        }
    }
}

/// Whether to checkpoint now, given the last commit and the last checkpoint.
fn due(now: Instant, last_commit: Option<Instant>, last_checkpoint: Instant) -> bool {
    match last_commit {
        Some(commit) if commit >= last_checkpoint => {
            now.duration_since(commit) >= QUIET || now.duration_since(last_checkpoint) >= AT_LEAST_EVERY
        }
        // Nothing committed since the last checkpoint (which started after that commit).
        _ => false,
    }
}
/// The WAL file is cut back to this after a checkpoint (64 MiB).
pub const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

pub struct Checkpointer {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode, whose writer has
    /// `wal_autocheckpoint = 0` and reports its commits to `activity`).
    pub fn start(path: &Path, activity: Arc<Activity>) -> super::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The checkpoint fsyncs the WAL before copying and the database after.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
        let (stop, stopped) = channel();
        let thread = std::thread::Builder::new()
            .name("faurya-db-checkpoint".into())
            .spawn(move || run(&conn, &stopped, &activity))
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

fn run(conn: &Connection, stopped: &Receiver<()>, activity: &Activity) {
    // Whatever an earlier run left in the WAL is checkpointed first.
    let mut last_checkpoint = Instant::now();
    let _ = checkpoint(conn);
    loop {
        match stopped.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let now = Instant::now();
        // A failed checkpoint (disk full, I/O) stays due and is tried again at the next tick;
        // the WAL keeps everything meanwhile.
        if due(now, activity.last_commit(), last_checkpoint) && checkpoint(conn) {
            last_checkpoint = now;
        }
    }
}

/// One PASSIVE checkpoint: copies what it can without waiting for anyone.
fn checkpoint(conn: &Connection) -> bool {
    // (busy, frames in the WAL, frames copied)
    let outcome: rusqlite::Result<(i64, i64, i64)> =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
    if let Err(e) = &outcome {
        tracing::debug!(error = %e, "checkpoint failed; tried again shortly");
    }
    outcome.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_checkpointed_when_it_pauses_and_a_steady_load_every_few_seconds() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // Nothing written since the last checkpoint: nothing to do, however long it has been.
        assert!(!due(ms(10_000), None, ms(0)));
        assert!(!due(ms(10_000), Some(ms(5)), ms(10)));
        // Written, and still writing: wait.
        assert!(!due(ms(1_000), Some(ms(990)), ms(0)));
        // Written, then quiet: now.
        assert!(due(ms(1_250), Some(ms(1_000)), ms(0)));
        // Never quiet, but the last checkpoint is old enough: now.
        assert!(due(ms(2_100), Some(ms(2_090)), ms(0)));
        assert!(!due(ms(2_100), Some(ms(2_090)), ms(500)));
    }
}
