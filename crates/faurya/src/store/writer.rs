//! The single writer: a thread that owns the write connection, drains the job queue, and runs
//! every job it finds in one transaction (group commit). Each job gets a savepoint, so one
//! failing job rolls back alone; its caller hears about the outcome only after COMMIT, so an
//! `Ok` always means "durably on disk".
//!
//! Background jobs (work that can be redone from what is already stored, such as processing a
//! delivery that was stored and acknowledged) wait until no foreground job is queued, run one
//! at a time in a group of their own, and commit without an fsync of their own: an
//! acknowledgement never waits behind them, and what they wrote reaches the disk with the next
//! fsynced commit (or is redone at start after a power cut).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

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
type Reply = Box<dyn FnOnce(std::result::Result<(), CommitError>) + Send>;

/// Why a group did not commit; cloned to every job of the group.
#[derive(Clone, Debug)]
struct CommitError {
    message: String,
    /// Disk full, read-only, I/O failure: the storage, not the job.
    storage: bool,
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
    pub(super) fn start(conn: Connection) -> Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let health = Arc::new(Mutex::new(super::Health { writable: true, error: None, since: None }));
        let shared = health.clone();
        std::thread::Builder::new()
            .name("faurya-db-writer".into())
            .spawn(move || run(conn, rx, &shared))
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

fn run(conn: Connection, mut rx: mpsc::Receiver<Message>, health: &Mutex<super::Health>) {
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
                run_background(&conn, job, health);
            }
            continue;
        };
        let mut jobs = Vec::new();
        let mut take = |message: Message, jobs: &mut Vec<Job>, closing: &mut Option<oneshot::Sender<()>>| match message
        {
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
            run_group(&conn, jobs, health);
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
        run_group(&conn, late, health);
    }
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// A background job's group: committed with `synchronous=NORMAL` (no fsync of its own; WAL
/// order keeps it behind every earlier commit and before the next fsynced one).
fn run_background(conn: &Connection, job: Job, health: &Mutex<super::Health>) {
    let relaxed = conn.pragma_update(None, "synchronous", "NORMAL").is_ok();
    run_group(conn, vec![job], health);
    if relaxed && let Err(e) = conn.pragma_update(None, "synchronous", "FULL") {
        // Never leave acknowledged writes without their fsync: stop the writer instead.
        panic!("could not restore synchronous=FULL on the writer: {e}");
    }
}

/// Records whether the group reached the disk: the first storage failure starts a "not
/// writable" period, the next successful commit ends it.
fn note(health: &Mutex<super::Health>, outcome: GroupOutcome) {
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

enum GroupOutcome {
    /// Committed; a job in it may still have failed on storage (its savepoint rolled back).
    Committed {
        storage_failure: Option<String>,
    },
    Failed(CommitError),
}

/// Runs one group and records whether it reached the disk before anyone hears back (so a
/// caller that got its answer sees the health that answer implies).
fn run_group(conn: &Connection, jobs: Vec<Job>, health: &Mutex<super::Health>) {
    if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        let error = CommitError::of(e);
        note(health, GroupOutcome::Failed(error.clone()));
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
    let commit = run_cached(conn, "COMMIT").map_err(CommitError::of);
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    note(
        health,
        match &commit {
            Ok(()) => GroupOutcome::Committed { storage_failure },
            Err(e) => GroupOutcome::Failed(e.clone()),
        },
    );
    for reply in replies {
        reply(commit.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_answers_queued_writes_then_refuses() {
        let (_dir, store) = store();
        store.write(|c| Ok(c.execute("INSERT INTO settings VALUES ('a', '1', 0)", [])?)).await.unwrap();
        store.close().await;
        let after = store.write(|c| Ok(c.execute("INSERT INTO settings VALUES ('b', '1', 0)", [])?)).await;
        assert!(matches!(after, Err(StoreError::Closed)));
    }
}
