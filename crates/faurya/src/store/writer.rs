//! The single writer: a thread that owns the write connection, drains the job queue, and runs
//! every job it finds in one transaction (group commit). Each job gets a savepoint, so one
//! failing job rolls back alone; its caller hears about the outcome only once the group is
//! committed and flushed to disk (by the flusher, see flusher.rs), so an `Ok` always means
//! "durably on disk". The writer itself never waits for the disk: while one group is being
//! flushed, it commits the next.
//!
//! Background jobs (work that can be redone from what is already stored, such as processing a
//! delivery that was stored and acknowledged) wait until no foreground job is queued, run one
//! at a time in a group of their own, and are answered at their commit without waiting for a
//! flush: an acknowledgement never waits behind them, and what they wrote reaches the disk with
//! the next flush (or is redone at start after a power cut).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::checkpointer::Activity;
use super::flusher::{Batch, Flush, Flusher, WalFile};
use super::preallocate::{Outcome, preallocate};
use super::{Result, StoreError};

/// Jobs taken into one transaction at most; bounds the latency one group adds.
const MAX_GROUP: usize = 512;
/// Queue length before `write` callers wait (backpressure instead of unbounded memory).
const QUEUE: usize = 4096;

/// A queued write. `run` executes it inside the group transaction and returns the reply to send
/// once the commit outcome is known; `refuse` answers a job that never got to run.
trait WriteJob: Send {
    /// Runs the job; answers its reply and, when it failed because the storage cannot be
    /// written, why.
    fn run(self: Box<Self>, conn: &Connection) -> (Reply, Option<String>);
    fn refuse(self: Box<Self>, reason: CommitError);
}

type Job = Box<dyn WriteJob>;
pub(super) type Reply = Box<dyn FnOnce(std::result::Result<(), CommitError>) + Send>;

/// Why a group did not commit; cloned to every job of the group.
#[derive(Clone, Debug)]
pub(super) struct CommitError {
    pub message: String,
    /// Disk full, read-only, I/O failure: the storage, not the job.
    pub storage: bool,
}

impl CommitError {
    fn of(err: rusqlite::Error) -> Self {
        Self { storage: super::is_storage_failure(&err), message: err.to_string() }
    }

    fn into_store_error(self) -> StoreError {
        if self.storage { StoreError::Unavailable(self.message) } else { StoreError::Write(self.message) }
    }
}

struct Pending<F, T> {
    f: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<F, T> WriteJob for Pending<F, T>
where
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (Reply, Option<String>) {
        let Pending { f, reply } = *self;
        let outcome = in_savepoint(conn, f);
        let storage = match &outcome {
            Err(StoreError::Unavailable(message)) => Some(message.clone()),
            _ => None,
        };
        let reply: Reply = Box::new(move |commit| {
            let answer = match (outcome, commit) {
                (Ok(value), Ok(())) => Ok(value),
                (Err(e), _) => Err(e),
                (Ok(_), Err(commit_error)) => Err(commit_error.into_store_error()),
            };
            let _ = reply.send(answer);
        });
        (reply, storage)
    }

    fn refuse(self: Box<Self>, reason: CommitError) {
        let _ = self.reply.send(Err(reason.into_store_error()));
    }
}

enum Message {
    Job(Job),
    Background(Job),
    Close(oneshot::Sender<()>),
}

pub(super) struct Writer {
    tx: mpsc::Sender<Message>,
    health: Arc<Mutex<super::Health>>,
}

impl Writer {
    /// Starts the writer on `conn`, a connection to a database file in WAL mode. With
    /// `wal_room` above 0, the writer first gives the WAL file that many bytes (preallocate.rs).
    pub(super) fn start(conn: Connection, activity: Arc<Activity>, wal_room: u64) -> Result<Self> {
        let wal = match conn.path() {
            Some(path) if !path.is_empty() => PathBuf::from(format!("{path}-wal")),
            _ => return Err(StoreError::Write("the writer needs a database file".into())),
        };
        // Commits write the WAL without flushing it; the flusher flushes it before anyone hears
        // Ok. (SQLite still flushes the WAL header when the log restarts, and checkpoints flush
        // both files, as under FULL.)
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let room = (wal_room > 0).then(|| (wal.clone(), wal_room));
        Self::start_with(conn, Box::new(WalFile::new(wal)), activity, room)
    }

    fn start_with(
        conn: Connection,
        flush: Box<dyn Flush>,
        activity: Arc<Activity>,
        wal_room: Option<(PathBuf, u64)>,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let health = Arc::new(Mutex::new(super::Health { writable: true, error: None, since: None }));
        let flusher = Flusher::start(flush, health.clone())?;
        let thread = WriterThread { conn, health: health.clone(), flusher, activity, epoch: 0 };
        std::thread::Builder::new()
            .name("faurya-db-writer".into())
            .spawn(move || {
                // Here, before the first commit: only this thread's connection appends to the WAL.
                if let Some((wal, bytes)) = wal_room {
                    make_room(&wal, bytes);
                }
                thread.run(rx)
            })
            .map_err(|e| StoreError::Panicked(format!("could not start the writer thread: {e}")))?;
        Ok(Self { tx, health })
    }

    pub(super) fn health(&self) -> super::Health {
        self.health.lock().expect("health lock").clone()
    }

    pub(super) async fn submit<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, reply_rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(Pending { f, reply });
        self.tx.send(Message::Job(job)).await.map_err(|_| StoreError::Closed)?;
        reply_rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn submit_background<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, reply_rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(Pending { f, reply });
        self.tx.send(Message::Background(job)).await.map_err(|_| StoreError::Closed)?;
        reply_rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn close(&self) {
        let (done_tx, done_rx) = oneshot::channel();
        if self.tx.send(Message::Close(done_tx)).await.is_ok() {
            let _ = done_rx.await;
        }
    }
}

/// Preallocates the WAL; a failure costs speed only, so it is logged and the store goes on.
fn make_room(wal: &std::path::Path, bytes: u64) {
    match preallocate(wal, bytes) {
        Ok(Outcome::Grew(grew)) => tracing::debug!(bytes = grew, "write-ahead log preallocated"),
        Ok(Outcome::Enough) => {}
        Ok(Outcome::LowOnSpace { free }) => tracing::info!(
            free_mib = free >> 20,
            "little disk space left: the write-ahead log grows as needed instead of being preallocated"
        ),
        Err(e) => tracing::warn!(error = %e, "could not preallocate the write-ahead log; it grows as needed"),
    }
}

/// A transaction-control statement, prepared once per connection: `execute_batch` would parse it
/// again for every job, which showed up at several per cent of a busy writer's time.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    run_cached(conn, "SAVEPOINT job")?;
    let outcome = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(StoreError::Panicked(what))
    });
    if outcome.is_err() {
        run_cached(conn, "ROLLBACK TO job")?;
    }
    run_cached(conn, "RELEASE job")?;
    outcome
}

/// The writer thread's state.
struct WriterThread {
    conn: Connection,
    health: Arc<Mutex<super::Health>>,
    flusher: Flusher,
    activity: Arc<Activity>,
    /// Counts checkpoints that made the database whole after a failed flush (see flusher.rs).
    epoch: u64,
}

impl WriterThread {
    fn run(mut self, mut rx: mpsc::Receiver<Message>) {
        let mut closing: Option<oneshot::Sender<()>> = None;
        let mut background: VecDeque<Job> = VecDeque::new();
        while closing.is_none() {
            // Wait for work only when no background job is waiting for a quiet moment.
            let first = if background.is_empty() {
                match rx.blocking_recv() {
                    Some(message) => Some(message),
                    None => break,
                }
            } else {
                match rx.try_recv() {
                    Ok(message) => Some(message),
                    Err(mpsc::error::TryRecvError::Empty) => None,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            };
            let Some(first) = first else {
                // Nothing in the foreground: one background job, in a group of its own.
                if let Some(job) = background.pop_front() {
                    self.run_group(vec![job], Durability::AtCommit);
                }
                continue;
            };
            let mut jobs = Vec::new();
            let mut take =
                |message: Message, jobs: &mut Vec<Job>, closing: &mut Option<oneshot::Sender<()>>| match message {
                    Message::Job(job) => jobs.push(job),
                    Message::Background(job) => background.push_back(job),
                    Message::Close(done) => *closing = Some(done),
                };
            take(first, &mut jobs, &mut closing);
            while closing.is_none() && jobs.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(message) => take(message, &mut jobs, &mut closing),
                    Err(_) => break,
                }
            }
            if !jobs.is_empty() {
                self.run_group(jobs, Durability::Flushed);
            }
        }
        // Whatever was queued behind the close request still gets an answer.
        rx.close();
        let mut late = Vec::new();
        while let Ok(message) = rx.try_recv() {
            match message {
                Message::Job(job) | Message::Background(job) => late.push(job),
                Message::Close(_) => {}
            }
        }
        late.extend(background);
        if !late.is_empty() {
            self.run_group(late, Durability::Flushed);
        }
        // The last flushes are answered before the close is.
        self.flusher.close();
        drop(self.conn);
        if let Some(done) = closing {
            let _ = done.send(());
        }
    }

    /// Runs one group. Its callers hear back once it is committed and, for foreground groups,
    /// flushed; the health it implies is recorded before anyone hears back (so a caller that
    /// got its answer sees the health that answer implies).
    fn run_group(&mut self, jobs: Vec<Job>, durability: Durability) {
        if self.flusher.doubt.covers(self.epoch)
            && let Err(error) = self.make_whole()
        {
            note(&self.health, GroupOutcome::Failed(error.clone()));
            for job in jobs {
                job.refuse(error.clone());
            }
            return;
        }
        let conn = &self.conn;
        if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
            let error = CommitError::of(e);
            note(&self.health, GroupOutcome::Failed(error.clone()));
            for job in jobs {
                job.refuse(error.clone());
            }
            return;
        }
        let mut storage_failure = None;
        let replies: Vec<Reply> = jobs
            .into_iter()
            .map(|job| {
                let (reply, failed_on_storage) = job.run(conn);
                if let Some(message) = failed_on_storage {
                    storage_failure = Some(message);
                }
                reply
            })
            .collect();
        if let Err(e) = run_cached(conn, "COMMIT") {
            let _ = conn.execute_batch("ROLLBACK");
            let error = CommitError::of(e);
            note(&self.health, GroupOutcome::Failed(error.clone()));
            for reply in replies {
                reply(Err(error.clone()));
            }
            return;
        }
        self.activity.committed();
        match durability {
            Durability::Flushed => self.flusher.send(Batch { replies, storage_failure, epoch: self.epoch }),
            Durability::AtCommit => {
                note(&self.health, GroupOutcome::Committed { storage_failure });
                for reply in replies {
                    reply(Ok(()));
                }
            }
        }
    }

    /// After a failed flush: copies the whole WAL into the database (the checkpoint flushes the
    /// database file) and empties it, so that no later commit sits behind a frame that may not
    /// have reached the disk. Starts a new epoch when that worked.
    fn make_whole(&mut self) -> std::result::Result<(), CommitError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(|e| CommitError { storage: true, ..CommitError::of(e) })?;
        if busy != 0 {
            return Err(CommitError {
                message: "the write-ahead log could not be copied into the database yet (readers were busy)".into(),
                storage: true,
            });
        }
        self.epoch += 1;
        tracing::warn!("the database was made whole again after a failed flush; writes resume");
        Ok(())
    }
}

/// When a group's callers may hear that it is done.
enum Durability {
    /// Once the WAL has been flushed after the group's commit (every foreground write).
    Flushed,
    /// At commit: background work that can be redone from what is stored.
    AtCommit,
}

/// Records whether writes reach the disk: the first storage failure starts a "not writable"
/// period, the next write that reaches the disk ends it.
pub(super) fn note(health: &Mutex<super::Health>, outcome: GroupOutcome) {
    let mut h = health.lock().expect("health lock");
    match outcome {
        GroupOutcome::Committed { storage_failure: None } => {
            *h = super::Health { writable: true, error: None, since: None }
        }
        GroupOutcome::Committed { storage_failure: Some(message) }
        | GroupOutcome::Failed(CommitError { message, storage: true }) => {
            if h.writable {
                tracing::error!(error = %message, "the database cannot be written: deliveries are answered 503 until it can");
            }
            let since = h.since.unwrap_or_else(super::now_ms);
            *h = super::Health { writable: false, error: Some(message), since: Some(since) };
        }
        GroupOutcome::Failed(_) => {}
    }
}

pub(super) enum GroupOutcome {
    /// Committed (and flushed, where that was asked); a job in it may still have failed on
    /// storage (its savepoint rolled back).
    Committed {
        storage_failure: Option<String>,
    },
    Failed(CommitError),
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_preallocated_log_keeps_every_commit_across_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let wal = dir.path().join("t.db-wal");
        let room = 2 << 20;
        let store = Store::open_with(&path, super::super::Options { wal_preallocate: room }).unwrap();
        store.write(|c| Ok(c.execute_batch("CREATE TABLE t (n INTEGER)")?)).await.unwrap();
        assert!(std::fs::metadata(&wal).unwrap().len() >= room, "the writer preallocates before its first commit");
        for n in 0..50 {
            store.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [n]).map(|_| ())?)).await.unwrap();
        }
        // What a power cut leaves: both files as they are now, frames followed by zeros, and no
        // clean close (which would checkpoint and delete the log).
        let crashed = tempfile::tempdir().unwrap();
        std::fs::copy(&path, crashed.path().join("t.db")).unwrap();
        std::fs::copy(&wal, crashed.path().join("t.db-wal")).unwrap();
        let recovered = Store::open(&crashed.path().join("t.db")).unwrap();
        let (count, sum): (i64, i64) = recovered
            .read(|c| Ok(c.query_row("SELECT count(*), sum(n) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))?))
            .await
            .unwrap();
        assert_eq!((count, sum), (50, (0..50).sum()));
        recovered.close().await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_preallocation_the_log_grows_as_written() {
        let (dir, store) = store();
        store.write(|c| Ok(c.execute_batch("CREATE TABLE t (n INTEGER)")?)).await.unwrap();
        let wal = std::fs::metadata(dir.path().join("t.db-wal")).unwrap().len();
        assert!(wal < 1 << 20, "{wal} bytes");
        store.close().await;
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_rolls_back_alone() {
        let (_dir, store) = store();
        let ok = store.write(|c| Ok(c.execute("INSERT INTO settings VALUES ('a', '1', 0)", [])?));
        let bad = store.write(|c| {
            c.execute("INSERT INTO settings VALUES ('b', '1', 0)", [])?;
            Err::<(), _>(StoreError::Conflict("no".into()))
        });
        let panics = store.write(|c| -> Result<()> {
            c.execute("INSERT INTO settings VALUES ('c', '1', 0)", [])?;
            panic!("boom")
        });
        let (ok, bad, panics) = tokio::join!(ok, bad, panics);
        assert_eq!(ok.unwrap(), 1);
        assert!(matches!(bad, Err(StoreError::Conflict(_))));
        assert!(matches!(panics, Err(StoreError::Panicked(ref m)) if m == "boom"));
        let keys: Vec<String> = store
            .read(|c| {
                let mut stmt = c.prepare("SELECT key FROM settings ORDER BY key")?;
                let rows = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            })
            .await
            .unwrap();
        assert_eq!(keys, vec!["a".to_string()]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_writes_all_land() {
        let (_dir, store) = store();
        let mut handles = Vec::new();
        for i in 0..500 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                store
                    .write(move |c| Ok(c.execute("INSERT INTO settings VALUES (?1, 'v', 0)", [format!("k{i}")])?))
                    .await
            }));
        }
        for h in handles {
            h.await.unwrap().unwrap();
        }
        let n: i64 = store.read(|c| Ok(c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(n, 500);
    }

    /// A flush that waits for the test to say how it ends, then flushes for real when told Ok.
    struct Gated {
        outcomes: std::sync::mpsc::Receiver<std::io::Result<()>>,
        wal: WalFile,
    }

    impl Flush for Gated {
        fn flush(&mut self) -> std::io::Result<()> {
            self.outcomes.recv().map_err(std::io::Error::other)??;
            self.wal.flush()
        }
    }

    fn gated_writer() -> (tempfile::TempDir, Writer, std::sync::mpsc::Sender<std::io::Result<()>>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, pad BLOB)").unwrap();
        let (tx, outcomes) = std::sync::mpsc::channel();
        let wal = WalFile::new(dir.path().join("g.db-wal"));
        let writer = Writer::start_with(conn, Box::new(Gated { outcomes, wal }), Arc::default(), None).unwrap();
        (dir, writer, tx)
    }

    fn insert(k: &str) -> impl FnOnce(&Connection) -> Result<usize> + Send + 'static {
        let k = k.to_string();
        move |c| Ok(c.execute("INSERT INTO t VALUES (?1, zeroblob(3000))", [k])?)
    }

    fn keys(dir: &tempfile::TempDir) -> Vec<String> {
        let conn = Connection::open(dir.path().join("g.db")).unwrap();
        let mut stmt = conn.prepare("SELECT k FROM t ORDER BY k").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nobody_hears_ok_before_the_flush() {
        let (dir, writer, flushes) = gated_writer();
        let write = writer.submit(insert("a"));
        tokio::pin!(write);
        let early = tokio::time::timeout(std::time::Duration::from_millis(300), &mut write).await;
        assert!(early.is_err(), "answered before the WAL was flushed");
        // Committed (other connections can read it), only not yet known to be on disk.
        assert_eq!(keys(&dir), ["a"]);
        flushes.send(Ok(())).unwrap();
        assert_eq!(write.await.unwrap(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_flush_is_refused_and_nothing_more_is_acknowledged_before_a_checkpoint() {
        let (dir, writer, flushes) = gated_writer();
        let wal = dir.path().join("g.db-wal");
        for i in 0..40 {
            let write = writer.submit(insert(&format!("k{i:02}")));
            flushes.send(Ok(())).unwrap();
            write.await.unwrap();
        }
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > 40 * 4096, "the WAL holds the 40 commits ({grown} bytes)");

        // The flush fails: the caller hears "cannot be written", and so does the health.
        let write = writer.submit(insert("lost?"));
        flushes.send(Err(std::io::Error::other("EIO from the test"))).unwrap();
        let refused = write.await;
        assert!(
            matches!(&refused, Err(StoreError::Unavailable(m)) if m.contains("flush") && m.contains("EIO")),
            "{refused:?}"
        );
        assert!(!writer.health().writable);

        // The next write waits for the whole WAL to be copied into the database and emptied,
        // so it cannot sit behind frames that may not be on disk; then it is flushed as usual.
        let write = writer.submit(insert("after"));
        flushes.send(Ok(())).unwrap();
        assert_eq!(write.await.unwrap(), 1);
        assert!(writer.health().writable);
        let restarted = std::fs::metadata(&wal).unwrap().len();
        assert!(restarted < 8 * 4120, "the WAL was emptied before the next commit ({restarted} bytes)");
        // The refused row was committed: the sender retries, and the retry finds it stored.
        assert_eq!(keys(&dir).len(), 42);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_answers_queued_writes_then_refuses() {
        let (_dir, store) = store();
        store.write(|c| Ok(c.execute("INSERT INTO settings VALUES ('a', '1', 0)", [])?)).await.unwrap();
        store.close().await;
        let after = store.write(|c| Ok(c.execute("INSERT INTO settings VALUES ('b', '1', 0)", [])?)).await;
        assert!(matches!(after, Err(StoreError::Closed)));
    }
}
