//! Buildah's lock objects as containers/storage's `lockfile` package keeps them: one object per
//! lock path for the life of a process, an in-process mutex; taking it opens the lock file and
//! takes a write lock on it, and releasing it unlocks and closes the file (so a lock file removed
//! and created again is a new file to the next taker). The engine's file lock is a
//! process-associated `fcntl(F_SETLKW)`, and such a lock excludes nobody within its own process:
//! two builds in one podman server are kept apart by the mutex alone (`tests/stress.rs` shows
//! both on real fcntl locks).
//!
//! Here an emulated process is a [`ProcessLocks`] shared by the threads that stand for its
//! builds, all in this one OS process, so real fcntl locks would exclude nobody at all. The file
//! lock is therefore an OFD lock on the descriptor that acquisition opened: it conflicts with any
//! other open descriptor, which is what fcntl does between processes, and within an emulated
//! process the mutex lets only one taker reach it, as in the engine.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::fs::try_lock;

/// The lock objects of one build process.
#[derive(Debug, Default)]
pub struct ProcessLocks {
    objects: Mutex<HashMap<PathBuf, Arc<LockObject>>>,
}

/// One lock path's object: while held, the file lock of the current acquisition.
#[derive(Debug, Default)]
struct LockObject {
    held: Mutex<Option<super::fs::FileLock>>,
    freed: Condvar,
}

/// A held lock object; dropped = the file lock released and the mutex unlocked.
#[derive(Debug)]
pub struct ProcessLock {
    object: Arc<LockObject>,
}

impl ProcessLocks {
    /// Takes the lock of `path` as the engine does (the mutex, then the file lock), waiting for
    /// either until `until`; `Ok(None)` when the deadline passed first. A lock dir removed by a
    /// prune meanwhile is waited out like a busy lock.
    pub fn lock_until(&self, path: &Path, until: Instant) -> io::Result<Option<ProcessLock>> {
        let object = self
            .objects
            .lock()
            .expect("lock table")
            .entry(path.to_path_buf())
            .or_default()
            .clone();
        let mut held = object.held.lock().expect("lock object");
        while held.is_some() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            held = object
                .freed
                .wait_timeout(held, left)
                .expect("lock object")
                .0;
        }
        loop {
            match try_lock(path) {
                Ok(Some(l)) => {
                    *held = Some(l);
                    break;
                }
                Ok(None) => {}
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                Err(_) => {}
            }
            if Instant::now() >= until {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        drop(held);
        Ok(Some(ProcessLock { object }))
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        // Unlock and close (the FileLock's drop), then let the next taker of this process in.
        *self.object.held.lock().expect("lock object") = None;
        self.object.freed.notify_one();
    }
}

/// Opens `path` and takes a process-associated `fcntl(F_SETLK)` write lock on it, the engine's
/// kind of file lock (for tests that show what it does within one process).
pub fn fcntl_try_lock(path: &Path) -> io::Result<Option<File>> {
    let file = super::fs::open_lock_file(path)?;
    match super::fs::posix_lock(&file, libc::F_SETLK, libc::F_WRLCK as libc::c_short) {
        Ok(()) => Ok(Some(file)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => Ok(None),
        Err(e) => Err(e),
    }
}
