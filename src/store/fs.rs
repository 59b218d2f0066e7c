//! Filesystem [`Storage`] under a root directory, and real lock files with open-file-description
//! locks (`F_OFD_SETLK[W]`), which conflict between threads of one process as fcntl record locks
//! do between processes. Model paths map below the root (`/t/x` → `<root>/t/x`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::Storage;

/// Cache bytes in real directories below `root`.
#[derive(Debug)]
pub struct FsStorage {
    root: PathBuf,
}

impl FsStorage {
    /// A storage rooted at `root` (which must exist; tests use a `tempfile` directory).
    pub fn new(root: impl Into<PathBuf>) -> FsStorage {
        FsStorage { root: root.into() }
    }

    /// The real path of a model path.
    pub fn real(&self, model: &str) -> PathBuf {
        self.root.join(model.trim_start_matches('/'))
    }
}

fn absent_ok<T>(r: io::Result<T>, absent: T) -> io::Result<T> {
    match r {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(absent),
        other => other,
    }
}

impl Storage for FsStorage {
    fn write(&mut self, dir: &str, file: &str, data: &[u8]) -> io::Result<()> {
        let d = self.real(dir);
        fs::create_dir_all(&d)?;
        fs::write(d.join(file), data)
    }
    fn append(&mut self, dir: &str, file: &str, data: &[u8]) -> io::Result<()> {
        let d = self.real(dir);
        fs::create_dir_all(&d)?;
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join(file))?
            .write_all(data)
    }
    fn read(&self, dir: &str, file: &str) -> io::Result<Option<Vec<u8>>> {
        absent_ok(fs::read(self.real(dir).join(file)).map(Some), None)
    }
    fn remove(&mut self, dir: &str, file: &str) -> io::Result<bool> {
        absent_ok(
            fs::remove_file(self.real(dir).join(file)).map(|_| true),
            false,
        )
    }
    fn wipe(&mut self, dir: &str) -> io::Result<()> {
        let d = self.real(dir);
        let entries = match fs::read_dir(&d) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            other => other?,
        };
        for e in entries {
            let p = e?.path();
            if p.is_dir() {
                fs::remove_dir_all(&p)?;
            } else {
                fs::remove_file(&p)?;
            }
        }
        Ok(())
    }
    fn remove_tree(&mut self, p: &str) -> io::Result<()> {
        absent_ok(fs::remove_dir_all(self.real(p)), ())
    }
    fn exists(&self, p: &str) -> io::Result<bool> {
        Ok(self.real(p).is_file())
    }
}

/// A held exclusive lock on a lock file; dropped = unlocked (the descriptor closes).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `fcntl` record locking of the whole file: `cmd` is `F_SETLK[W]` (process-associated) or
/// `F_OFD_SETLK[W]` (per open file description).
pub(crate) fn posix_lock(file: &File, cmd: libc::c_int, kind: libc::c_short) -> io::Result<()> {
    // SAFETY: an all-zero flock is a valid value; the fields set below describe the whole file.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: `file` is an open descriptor for the duration of the call; `fl` outlives it.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

pub(crate) fn open_lock_file(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Opens (creating as needed) the lock file and takes an exclusive OFD lock, waiting for it.
pub fn lock(path: &Path) -> io::Result<FileLock> {
    let file = open_lock_file(path)?;
    loop {
        match posix_lock(&file, libc::F_OFD_SETLKW, libc::F_WRLCK as libc::c_short) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => r?,
        }
        return Ok(FileLock {
            file,
            path: path.to_path_buf(),
        });
    }
}

/// Like [`lock`] but never waits: `Ok(None)` when another open file description holds it.
pub fn try_lock(path: &Path) -> io::Result<Option<FileLock>> {
    let file = open_lock_file(path)?;
    match posix_lock(&file, libc::F_OFD_SETLK, libc::F_WRLCK as libc::c_short) {
        Ok(()) => Ok(Some(FileLock {
            file,
            path: path.to_path_buf(),
        })),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the OFD lock too; unlocking first is explicit.
        let _ = posix_lock(
            &self.file,
            libc::F_OFD_SETLK,
            libc::F_UNLCK as libc::c_short,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofd_locks_conflict_between_descriptors_of_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/lock");
        let held = try_lock(&p).unwrap().expect("first lock is free");
        assert!(try_lock(&p).unwrap().is_none(), "second OFD must conflict");
        drop(held);
        assert!(try_lock(&p).unwrap().is_some(), "free again after drop");
    }

    #[test]
    fn removed_lock_file_lets_a_second_holder_in() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c/buildah-cache-lockfile");
        let _held = lock(&p).unwrap();
        fs::remove_file(&p).unwrap();
        assert!(
            try_lock(&p).unwrap().is_some(),
            "a fresh inode is a fresh lock"
        );
    }
}
