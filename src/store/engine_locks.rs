//! The engines' own lock machinery, as structures loom can check (`tests/loom_engines.rs`),
//! built on [`crate::sync`]. [`crate::store::shared`] keeps the model's holder table behind one
//! mutex; this module has the layers the engines really have, where their hazards live.
//!
//! **Buildah** (containers/storage `pkg/lockfile/lockfile_unix.go`, buildah 1.28
//! `run_common.go`):
//! - each process caches one lock object per lock path in a map behind a mutex (`GetLockFile`);
//! - an object has an in-process mutex (`rwMutex`); `Lock` takes it, then opens the lock file
//!   (creating it) and takes a process-associated `fcntl(F_SETLKW)` write lock on that inode;
//! - `Unlock` releases the fcntl lock, closes the file and then the mutex;
//! - an fcntl lock excludes other processes only: two builds of one podman server are kept apart
//!   by the mutex alone;
//! - a prune unlinks lock files without taking them, so the next opener creates a new inode;
//! - 1.28 stats the lock path before it unlocks, and skips the unlock when the file is gone
//!   (`Lockfile … was expected here, stat failed`).
//!
//! **BuildKit** (moby/buildkit `solver/llbsolver/mounts/mount.go`, `cache/manager.go`):
//! - the cache manager's mutex guards its records;
//! - a ref is held (`GetMutable` of a held ref fails with `ErrLocked`) or free;
//! - shared mounts of a key join one share of a ref while it is held shared;
//! - a locked request that finds every ref of its key held waits 100 ms with the manager
//!   unlocked and tries again; here the wait is a yield;
//! - shared and private requests that find no free ref make a new one.

use std::collections::HashMap;

use crate::sync::{Arc, Condvar, Mutex};

/// An inode of a lock file.
pub type Inode = u32;

#[derive(Debug, Default)]
struct FilesState {
    /// Lock path → the inode it names now.
    paths: HashMap<String, Inode>,
    /// Inode → the process holding its fcntl write lock.
    owner: HashMap<Inode, u32>,
    next: Inode,
}

/// The lock files of one host: paths naming inodes, and the fcntl locks on them.
#[derive(Debug, Default)]
pub struct LockFiles {
    state: Mutex<FilesState>,
    changed: Condvar,
}

impl LockFiles {
    /// `open(path, O_CREAT)`: the inode `path` names, created when it names none.
    pub fn open(&self, path: &str) -> Inode {
        let mut s = self.state.lock().expect("lock files");
        if let Some(&i) = s.paths.get(path) {
            return i;
        }
        s.next += 1;
        let i = s.next;
        s.paths.insert(path.to_string(), i);
        i
    }

    /// `unlink(path)` (a prune, or a wipe of the dir that holds it): later opens get a new inode;
    /// a lock on the old one stays where it is.
    pub fn unlink(&self, path: &str) {
        self.state.lock().expect("lock files").paths.remove(path);
    }

    /// Whether `path` still names `inode` (the `stat` before 1.28's unlock).
    pub fn names(&self, path: &str, inode: Inode) -> bool {
        self.state.lock().expect("lock files").paths.get(path) == Some(&inode)
    }

    /// `fcntl(F_SETLKW, F_WRLCK)` for process `pid`: waits while another process holds it. A
    /// process-associated lock is granted at once to the process that holds it.
    pub fn lock(&self, inode: Inode, pid: u32) {
        let mut s = self.state.lock().expect("lock files");
        while s.owner.get(&inode).is_some_and(|&o| o != pid) {
            s = self.changed.wait(s).expect("lock files");
        }
        s.owner.insert(inode, pid);
    }

    /// `fcntl(F_SETLK, F_WRLCK)` for process `pid`: false when another process holds it.
    pub fn try_lock(&self, inode: Inode, pid: u32) -> bool {
        let mut s = self.state.lock().expect("lock files");
        if s.owner.get(&inode).is_some_and(|&o| o != pid) {
            return false;
        }
        s.owner.insert(inode, pid);
        true
    }

    /// `fcntl(F_SETLK, F_UNLCK)` by `pid`.
    pub fn unlock(&self, inode: Inode, pid: u32) {
        let mut s = self.state.lock().expect("lock files");
        if s.owner.get(&inode) == Some(&pid) {
            s.owner.remove(&inode);
        }
        drop(s);
        self.changed.notify_all();
    }
}

#[derive(Debug, Default)]
struct LockObject {
    /// The in-process mutex: whether a taker of this process has it.
    taken: Mutex<bool>,
    freed: Condvar,
}

/// One Buildah process (a `buildah bud`, or a podman server running several builds) with its
/// cache of lock objects.
#[derive(Debug)]
pub struct BuildahProcess {
    pid: u32,
    files: Arc<LockFiles>,
    objects: Mutex<HashMap<String, Arc<LockObject>>>,
    /// Whether `Lock` takes the in-process mutex first (the engine does; off, to show why).
    in_process_mutex: bool,
    /// 1.28: skip the unlock when the lock path no longer names the locked inode.
    stat_before_unlock: bool,
}

/// A lock held by a Buildah process; give it back with [`BuildahProcess::unlock`].
#[derive(Debug)]
pub struct BuildahLock {
    path: String,
    inode: Inode,
    object: Arc<LockObject>,
}

impl BuildahProcess {
    /// Process `pid` on the host whose lock files are `files`, as Buildah 1.39 behaves.
    pub fn new(pid: u32, files: Arc<LockFiles>) -> BuildahProcess {
        BuildahProcess {
            pid,
            files,
            objects: Mutex::new(HashMap::new()),
            in_process_mutex: true,
            stat_before_unlock: false,
        }
    }

    /// As Buildah 1.28: a lock whose file is gone is never unlocked.
    pub fn v1_28(mut self) -> BuildahProcess {
        self.stat_before_unlock = true;
        self
    }

    /// Without the in-process mutex: only the fcntl lock (to show what the mutex is for).
    pub fn without_mutex(mut self) -> BuildahProcess {
        self.in_process_mutex = false;
        self
    }

    /// The process's cached lock object of `path` (`GetLockFile`).
    fn object(&self, path: &str) -> Arc<LockObject> {
        self.objects
            .lock()
            .expect("lock objects")
            .entry(path.to_string())
            .or_default()
            .clone()
    }

    /// The host's lock files this process opens.
    pub fn files(&self) -> &Arc<LockFiles> {
        &self.files
    }

    /// `GetLockFile(path).Lock()`: the cached object's mutex, then open and fcntl-lock.
    pub fn lock(&self, path: &str) -> BuildahLock {
        let object = self.object(path);
        if self.in_process_mutex {
            let mut taken = object.taken.lock().expect("lock object");
            while *taken {
                taken = object.freed.wait(taken).expect("lock object");
            }
            *taken = true;
        }
        let inode = self.files.open(path);
        self.files.lock(inode, self.pid);
        BuildahLock {
            path: path.to_string(),
            inode,
            object,
        }
    }

    /// `TryLock`: the lock if neither a taker of this process (the mutex) nor another process
    /// (the fcntl lock) has it, else `None`. Asked by the only thread that could give it back,
    /// `None` is a lock that waits for ever.
    pub fn try_lock(&self, path: &str) -> Option<BuildahLock> {
        let object = self.object(path);
        if self.in_process_mutex {
            let mut taken = object.taken.lock().expect("lock object");
            if *taken {
                return None;
            }
            *taken = true;
        }
        let inode = self.files.open(path);
        if !self.files.try_lock(inode, self.pid) {
            if self.in_process_mutex {
                *object.taken.lock().expect("lock object") = false;
                object.freed.notify_all();
            }
            return None;
        }
        Some(BuildahLock {
            path: path.to_string(),
            inode,
            object,
        })
    }

    /// The end of the RUN: unlock (1.28: only when the path still names the locked file).
    /// Returns whether it unlocked.
    pub fn unlock(&self, lock: BuildahLock) -> bool {
        if self.stat_before_unlock && !self.files.names(&lock.path, lock.inode) {
            return false;
        }
        self.files.unlock(lock.inode, self.pid);
        if self.in_process_mutex {
            *lock.object.taken.lock().expect("lock object") = false;
            lock.object.freed.notify_all();
        }
        true
    }
}

/// A BuildKit sharing mode, as the cache manager sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `sharing=shared`.
    Shared,
    /// `sharing=private`.
    Private,
    /// `sharing=locked`.
    Locked,
}

#[derive(Debug, Default)]
struct RefState {
    /// Shared users of this ref's share (0 when not shared).
    shared: u32,
    /// Held by one private or locked user.
    exclusive: bool,
}

/// BuildKit's cache manager for one key: its refs (instances), behind the manager's mutex.
#[derive(Debug, Default)]
pub struct CacheManager {
    refs: Mutex<Vec<RefState>>,
}

/// A ref a BuildKit mount holds: its instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mounted {
    /// The instance (ref) index.
    pub instance: usize,
    mode: Mode,
}

impl CacheManager {
    /// A mount request in `mode`; a locked request polls (manager unlocked between tries) while
    /// every ref is held.
    pub fn mount(&self, mode: Mode) -> Mounted {
        loop {
            let mut refs = self.refs.lock().expect("cache manager");
            if mode == Mode::Shared
                && let Some(i) = refs.iter().position(|r| r.shared > 0)
            {
                refs[i].shared += 1;
                return Mounted { instance: i, mode };
            }
            if let Some(i) = refs.iter().position(|r| r.shared == 0 && !r.exclusive) {
                match mode {
                    Mode::Shared => refs[i].shared = 1,
                    _ => refs[i].exclusive = true,
                }
                return Mounted { instance: i, mode };
            }
            if mode != Mode::Locked || refs.is_empty() {
                refs.push(match mode {
                    Mode::Shared => RefState {
                        shared: 1,
                        exclusive: false,
                    },
                    _ => RefState {
                        shared: 0,
                        exclusive: true,
                    },
                });
                return Mounted {
                    instance: refs.len() - 1,
                    mode,
                };
            }
            drop(refs);
            // `time.After(100 * time.Millisecond)` in getRefCacheDirNoCache.
            crate::sync::yield_now();
        }
    }

    /// The mount's RUN ended.
    pub fn release(&self, m: Mounted) {
        let mut refs = self.refs.lock().expect("cache manager");
        match m.mode {
            Mode::Shared => refs[m.instance].shared -= 1,
            _ => refs[m.instance].exclusive = false,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn buildah_layers_sequentially() {
        let files = Arc::new(LockFiles::default());
        let a = BuildahProcess::new(0, files.clone());
        let b = BuildahProcess::new(1, files.clone());
        let l = a.lock("/l");
        assert!(b.try_lock("/l").is_none(), "fcntl excludes another process");
        assert!(
            a.try_lock("/l").is_none(),
            "the mutex excludes this process"
        );
        files.unlink("/l");
        let l2 = b.try_lock("/l").expect("a new inode after the unlink");
        assert!(b.unlock(l2));
        assert!(a.unlock(l), "1.39 unlocks a lock whose file is gone");
        let old = BuildahProcess::new(2, files.clone()).v1_28();
        let l = old.lock("/m");
        files.unlink("/m");
        assert!(!old.unlock(l), "1.28 does not");
        assert!(old.try_lock("/m").is_none());
    }

    #[test]
    fn buildkit_decides_like_the_model() {
        let m = CacheManager::default();
        let locked = m.mount(Mode::Locked);
        let shared = m.mount(Mode::Shared);
        let private = m.mount(Mode::Private);
        assert_eq!(
            (locked.instance, shared.instance, private.instance),
            (0, 1, 2),
            "shared and private get new instances beside a locked holder"
        );
        assert_eq!(m.mount(Mode::Shared).instance, 1, "shared joins the share");
        m.release(private);
        assert_eq!(
            m.mount(Mode::Locked).instance,
            2,
            "locked takes a free instance"
        );
    }
}
