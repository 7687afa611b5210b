//! Makes commits durable on a thread of its own, so the writer never waits for the disk.
//!
//! With `synchronous=FULL`, SQLite flushes the WAL inside COMMIT: the writer sits idle for the
//! whole flush (2 ms or more on many disks), and a request that arrives meanwhile waits for that
//! flush and then for its own group's. Here the writer commits with `synchronous=NORMAL` (the
//! group's frames are written to the WAL file, not flushed) and hands the group's answers to this
//! thread, which flushes the WAL file and only then answers. Meanwhile the writer commits the
//! next group, and one flush covers every group committed before it began.
//!
//! What a caller is promised does not change: `Ok` comes after a flush that began after its
//! commit, which is what FULL gives. Two things do:
//! - other connections may read a commit a moment before it is flushed; a power cut in that
//!   moment loses a commit nobody was told about (a delivery the provider sends again);
//! - a failed flush needs care. Linux may mark pages whose write-back failed as clean, so a
//!   later flush can succeed over a hole in the WAL, and SQLite's recovery stops at the first bad
//!   frame, dropping every commit after it. So after a failed flush nothing more is acknowledged
//!   until the writer has copied the whole WAL into the database (a checkpoint, which flushes the
//!   database file) and emptied it: groups committed before that are answered "cannot be
//!   written" (503, the sender retries), later ones are flushed as usual.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::writer::{CommitError, GroupOutcome, Reply, note};
use super::{Health, Result, StoreError};

/// Makes everything written to the WAL so far durable.
pub(super) trait Flush: Send + 'static {
    fn flush(&mut self) -> std::io::Result<()>;
}

/// The database's WAL file, flushed with `fdatasync` (which also writes its new length).
pub(super) struct WalFile {
    path: PathBuf,
    file: Option<File>,
}

impl WalFile {
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, file: None }
    }
}

impl Flush for WalFile {
    fn flush(&mut self) -> std::io::Result<()> {
        let file = match &self.file {
            Some(file) => file,
            // Opened at the first flush: SQLite creates the file with the first commit. Write
            // access, because Windows flushes only handles that may write.
            None => self.file.insert(OpenOptions::new().write(true).open(&self.path)?),
        };
        let flushed = file.sync_data();
        if flushed.is_err() {
            self.file = None;
        }
        flushed
    }
}

/// A committed group waiting for its flush.
pub(super) struct Batch {
    pub replies: Vec<Reply>,
    /// A job of the group failed because the storage could not be written (its savepoint rolled
    /// back, the rest committed).
    pub storage_failure: Option<String>,
    /// The writer's epoch when the group committed (see [`Doubt`]).
    pub epoch: u64,
}

/// Which commits a failed flush left in doubt: every one made in an epoch up to the one
/// recorded. The writer starts a new epoch once a checkpoint has made the database whole.
#[derive(Default)]
pub(super) struct Doubt(Mutex<Option<u64>>);

impl Doubt {
    pub(super) fn covers(&self, epoch: u64) -> bool {
        self.0.lock().expect("doubt lock").is_some_and(|failed| epoch <= failed)
    }

    fn record(&self, epoch: u64) {
        let mut failed = self.0.lock().expect("doubt lock");
        *failed = Some(failed.map_or(epoch, |f| f.max(epoch)));
    }
}

pub(super) struct Flusher {
    tx: Option<Sender<Batch>>,
    thread: Option<JoinHandle<()>>,
    pub(super) doubt: Arc<Doubt>,
}

impl Flusher {
    pub(super) fn start(flush: Box<dyn Flush>, health: Arc<Mutex<Health>>) -> Result<Self> {
        let (tx, rx) = mpsc::channel();
        let doubt = Arc::new(Doubt::default());
        let shared = doubt.clone();
        let thread = std::thread::Builder::new()
            .name("faurya-db-flush".into())
            .spawn(move || run(rx, flush, &shared, &health))
            .map_err(|e| StoreError::Panicked(format!("could not start the flush thread: {e}")))?;
        Ok(Self { tx: Some(tx), thread: Some(thread), doubt })
    }

    /// Queues a committed group; its callers hear back after the next flush.
    pub(super) fn send(&self, batch: Batch) {
        let Some(tx) = &self.tx else { return refuse(batch, &closed()) };
        if let Err(mpsc::SendError(batch)) = tx.send(batch) {
            // The thread is gone (it panicked): nothing flushes, so nothing may say Ok.
            refuse(batch, &closed());
        }
    }

    /// Flushes and answers everything queued, then stops the thread.
    pub(super) fn close(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.close();
    }
}

fn closed() -> CommitError {
    CommitError { message: "the store is shutting down; nothing was flushed".into(), storage: true }
}

fn refuse(batch: Batch, error: &CommitError) {
    for reply in batch.replies {
        reply(Err(error.clone()));
    }
}

fn run(rx: Receiver<Batch>, mut flush: Box<dyn Flush>, doubt: &Doubt, health: &Mutex<Health>) {
    while let Ok(first) = rx.recv() {
        // Everything committed by now rides on one flush.
        let (doubtful, batches): (Vec<Batch>, Vec<Batch>) =
            std::iter::once(first).chain(rx.try_iter()).partition(|batch| doubt.covers(batch.epoch));
        if !doubtful.is_empty() {
            let error = CommitError {
                message: "an earlier flush to disk failed; writes resume once the database is whole again".into(),
                storage: true,
            };
            note(health, GroupOutcome::Failed(error.clone()));
            doubtful.into_iter().for_each(|batch| refuse(batch, &error));
        }
        if batches.is_empty() {
            continue;
        }
        match flush.flush() {
            Ok(()) => {
                for batch in batches {
                    note(health, GroupOutcome::Committed { storage_failure: batch.storage_failure });
                    for reply in batch.replies {
                        reply(Ok(()));
                    }
                }
            }
            Err(e) => {
                let newest = batches.iter().map(|b| b.epoch).max().unwrap_or_default();
                doubt.record(newest);
                let error =
                    CommitError { message: format!("could not flush the write-ahead log to disk: {e}"), storage: true };
                note(health, GroupOutcome::Failed(error.clone()));
                batches.into_iter().for_each(|batch| refuse(batch, &error));
            }
        }
    }
}
