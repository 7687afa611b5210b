//! Gives the write-ahead log its room on disk before the first write, filled with zeros.
//!
//! SQLite appends every commit to the WAL file and, once a checkpoint has copied the log into
//! the database, starts again at its beginning, reusing the file. While a burst makes the file
//! grow, each flush of it must also make the file system record the new blocks and the new
//! length (a journal commit on ext4 and XFS: more writes and, on many disks, another cache
//! flush). Flushing a file over blocks it already has writes the data only. Measured on the
//! ingest bench with a 2 ms flush: the WAL flush took 2.9–3.0 ms (p50) while the file grew and
//! 2.5 ms over preallocated blocks. PostgreSQL zero-fills its WAL segments for the same reason.
//!
//! Zeros are safe in a WAL file: SQLite ignores a header without its magic number and stops
//! reading at the first frame whose salt differs from the header's, so the tail reads as "no
//! more frames", before and after a crash. SQLite keeps a file up to `journal_size_limit`, so the
//! target is that limit. Only the writer thread calls this, before its first commit: SQLite
//! appends to the WAL from the writer's connection alone, so no frame can be overwritten.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// What preallocation did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The file grew by this many bytes of zeros, flushed.
    Grew(u64),
    /// The file was already this large, or it does not exist yet (SQLite creates it).
    Enough,
    /// Less than [`FREE_SPACE_FACTOR`] times the target is free: the room is left to the data.
    LowOnSpace { free: u64 },
}

/// Preallocation only takes space when this many times the target stays free.
const FREE_SPACE_FACTOR: u64 = 4;
const CHUNK: usize = 1 << 20;

/// Extends the WAL file at `wal` with zeros to `target` bytes and flushes it. On failure (a disk
/// that filled meanwhile, I/O) the file is cut back to its old length, giving the space back.
pub(super) fn preallocate(wal: &Path, target: u64) -> std::io::Result<Outcome> {
    let mut file = match OpenOptions::new().append(true).open(wal) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::Enough),
        Err(e) => return Err(e),
    };
    let start = file.metadata()?.len();
    if start >= target {
        return Ok(Outcome::Enough);
    }
    if let Some(free) = free_space(wal)
        && !room_to_spare(free, target - start)
    {
        return Ok(Outcome::LowOnSpace { free });
    }
    let zeros = vec![0u8; CHUNK];
    let filled = (|| {
        let mut length = start;
        while length < target {
            let step = (target - length).min(CHUNK as u64) as usize;
            file.write_all(&zeros[..step])?;
            length += step as u64;
        }
        file.sync_all()
    })();
    match filled {
        Ok(()) => Ok(Outcome::Grew(target - start)),
        Err(e) => {
            let _ = file.set_len(start);
            Err(e)
        }
    }
}

/// Whether taking `needed` bytes of `free` leaves the data its room.
fn room_to_spare(free: u64, needed: u64) -> bool {
    free >= needed.saturating_mul(FREE_SPACE_FACTOR)
}

/// Bytes free to this user on the file system holding `path`, where the platform says.
#[cfg(unix)]
fn free_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a valid NUL-terminated string and `stats` a writable statvfs, which
    // the call fills in when it returns 0.
    if unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `stats`.
    let stats = unsafe { stats.assume_init() };
    // The field types differ by platform (u32 and u64 on macOS, u64 on Linux).
    #[allow(clippy::unnecessary_cast)]
    Some((stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64))
}

#[cfg(not(unix))]
fn free_space(_path: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_the_file_with_zeros_and_keeps_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("t.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        assert_eq!(preallocate(&wal, 3 * CHUNK as u64 + 10).unwrap(), Outcome::Grew(3 * CHUNK as u64 + 4));
        let bytes = std::fs::read(&wal).unwrap();
        assert_eq!(bytes.len(), 3 * CHUNK + 10);
        assert_eq!(&bytes[..6], b"frames");
        assert!(bytes[6..].iter().all(|&b| b == 0));
    }

    #[test]
    fn leaves_a_large_enough_or_missing_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("t.db-wal");
        assert_eq!(preallocate(&wal, 1024).unwrap(), Outcome::Enough);
        assert!(!wal.exists(), "SQLite creates the WAL; preallocation does not");
        std::fs::write(&wal, vec![7u8; 2048]).unwrap();
        assert_eq!(preallocate(&wal, 1024).unwrap(), Outcome::Enough);
        assert_eq!(std::fs::read(&wal).unwrap(), vec![7u8; 2048]);
    }

    #[test]
    fn takes_no_room_a_nearly_full_disk_needs() {
        let mib = 1 << 20;
        assert!(room_to_spare(256 * mib, 64 * mib));
        assert!(!room_to_spare(256 * mib - 1, 64 * mib));
        assert!(!room_to_spare(0, 1));
        assert!(!room_to_spare(u64::MAX - 1, u64::MAX / 2), "no overflow into a yes");
    }

    #[cfg(unix)]
    #[test]
    fn free_space_is_read_from_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_space(dir.path()).is_some_and(|free| free > 0));
        assert_eq!(free_space(&dir.path().join("no such dir").join("t.db-wal")), None);
    }
}
