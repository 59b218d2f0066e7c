//! Where cache state lives: the pure holder [`table`], byte storage in memory ([`mem`]) or on a
//! real filesystem with real file locks ([`fs`]), Buildah's per-process lock objects over them
//! ([`lockfile`]), a thread-safe store ([`shared`]) built on [`crate::sync`] so loom can
//! check it, and the engines' own lock layers ([`engine_locks`]), checked by loom too.

pub mod engine_locks;
pub mod fs;
pub mod lockfile;
pub mod mem;
pub mod shared;
pub mod table;

use std::io;

/// Bytes of cache directories, addressed by the engine's model paths (`/t/buildah-cache/test`).
pub trait Storage {
    /// Writes `data` to `dir/file`, creating `dir` as needed (`echo x > /test/f`).
    fn write(&mut self, dir: &str, file: &str, data: &[u8]) -> io::Result<()>;
    /// Appends `data` to `dir/file`, creating it as needed (`echo x >> /test/f`).
    fn append(&mut self, dir: &str, file: &str, data: &[u8]) -> io::Result<()>;
    /// The contents of `dir/file`, or `None` when it does not exist.
    fn read(&self, dir: &str, file: &str) -> io::Result<Option<Vec<u8>>>;
    /// Removes `dir/file`; false when it did not exist.
    fn remove(&mut self, dir: &str, file: &str) -> io::Result<bool>;
    /// Removes everything inside `dir` (`rm -rf /test/*` from inside the RUN), keeping `dir`.
    fn wipe(&mut self, dir: &str) -> io::Result<()>;
    /// Removes `path` and everything below it (`buildah prune`: `rm -rf <parent>`).
    fn remove_tree(&mut self, path: &str) -> io::Result<()>;
    /// Whether the file `path` exists (lock files).
    fn exists(&self, path: &str) -> io::Result<bool>;
}
