//! loom on the engines' own lock layers (`mountfuzz::store::engine_locks`): Buildah's per-process
//! lock objects over process-associated fcntl locks on files a prune can unlink, and BuildKit's
//! cache manager with polling locked waiters. Each hazard has a test that finds it and one that
//! shows what keeps it away. Run with `ci/loom.sh` (own target dir, stated bounds); each test
//! prints `loom: NAME: N interleavings`.
#![cfg(loom)]

#[path = "common/loom_check.rs"]
mod loom_check;
use loom_check::found;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use loom::sync::Arc;
use loom::thread;
use mountfuzz::store::engine_locks::{BuildahProcess, CacheManager, LockFiles, Mode};

/// Two takers of `/l` (made by `who`); `bad` when both are inside at once.
fn two_takers(
    bad: &AtomicBool,
    files: Arc<LockFiles>,
    who: impl Fn(usize, Arc<LockFiles>) -> Arc<BuildahProcess>,
) {
    let inside = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
    let ps: Vec<_> = (0..2).map(|k| who(k, files.clone())).collect();
    let ts: Vec<_> = ps
        .into_iter()
        .map(|p| {
            let inside = inside.clone();
            thread::spawn(move || {
                let l = p.lock("/l");
                let n = inside.fetch_add(1, SeqCst) + 1;
                inside.fetch_sub(1, SeqCst);
                assert!(p.unlock(l));
                n
            })
        })
        .collect();
    for t in ts {
        if t.join().unwrap() > 1 {
            bad.store(true, SeqCst);
        }
    }
}

#[test]
fn buildah_fcntl_excludes_other_processes() {
    let bad = found("buildah/two-processes", |bad| {
        two_takers(bad, Arc::new(LockFiles::default()), |k, f| {
            Arc::new(BuildahProcess::new(k as u32, f))
        })
    });
    assert!(!bad, "two processes were inside one fcntl lock");
}

#[test]
fn buildah_two_builds_of_one_server_are_kept_apart_by_the_mutex_alone() {
    let mutex = found("buildah/one-server/mutex", |bad| {
        let files = Arc::new(LockFiles::default());
        let server = Arc::new(BuildahProcess::new(0, files.clone()));
        two_takers(bad, files, |_, _| server.clone())
    });
    assert!(
        !mutex,
        "the in-process mutex keeps two builds of one process apart"
    );
    let fcntl_only = found("buildah/one-server/fcntl-only", |bad| {
        let files = Arc::new(LockFiles::default());
        let server = Arc::new(BuildahProcess::new(0, files.clone()).without_mutex());
        two_takers(bad, files, |_, _| server.clone())
    });
    assert!(
        fcntl_only,
        "a process-associated fcntl lock excludes nobody in its own process"
    );
}

/// P0 holds `/l`; a prune unlinks it (under the lock first when `prune_locks`); P1 locks `/l`.
/// `bad` when P0 and P1 are inside at once.
fn prune_beside_a_holder(bad: &AtomicBool, prune_locks: bool) {
    let files = Arc::new(LockFiles::default());
    let inside = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
    let p0 = BuildahProcess::new(0, files.clone());
    let l = p0.lock("/l");
    inside.fetch_add(1, SeqCst);
    let pruner = {
        let files = files.clone();
        thread::spawn(move || {
            if prune_locks {
                let p = BuildahProcess::new(2, files.clone());
                let l = p.lock("/l");
                files.unlink("/l");
                p.unlock(l);
            } else {
                files.unlink("/l");
            }
        })
    };
    let p1 = {
        let (files, inside) = (files.clone(), inside.clone());
        thread::spawn(move || {
            let p = BuildahProcess::new(1, files);
            let l = p.lock("/l");
            let n = inside.fetch_add(1, SeqCst) + 1;
            inside.fetch_sub(1, SeqCst);
            p.unlock(l);
            n
        })
    };
    thread::yield_now();
    inside.fetch_sub(1, SeqCst);
    p0.unlock(l);
    pruner.join().unwrap();
    if p1.join().unwrap() > 1 {
        bad.store(true, SeqCst);
    }
}

#[test]
fn buildah_a_prune_that_unlinks_a_held_lock_file_lets_a_second_holder_in() {
    assert!(
        found("buildah/prune-without-lock", |bad| prune_beside_a_holder(
            bad, false
        )),
        "the next locker creates a new inode and locks it while the first still holds the old"
    );
    assert!(
        !found("buildah/prune-under-lock", |bad| prune_beside_a_holder(
            bad, true
        )),
        "a prune that takes the lock first keeps the holders apart"
    );
}

/// One process locks `/l`, its RUN removes the lock file (`rm -rf` of a 1.28 cache, where the
/// file lives), the RUN ends, and the same process (its next RUN, or a later build of the same
/// podman server) tries `/l` again. `bad` when that can never succeed: nothing else holds it,
/// so only this process could give it back.
fn relock_after_own_wipe(bad: &AtomicBool, p: BuildahProcess) {
    let l = p.lock("/l");
    p.files().unlink("/l");
    let _ = p.unlock(l);
    match p.try_lock("/l") {
        Some(again) => {
            p.unlock(again);
        }
        None => bad.store(true, SeqCst),
    }
    // Another process is not held up: the path names a new file.
    let other = BuildahProcess::new(1, p.files().clone());
    let l = other.try_lock("/l");
    assert!(l.is_some(), "another process locks the re-created file");
    other.unlock(l.unwrap());
}

#[test]
fn buildah_1_28_never_releases_a_lock_whose_file_is_gone() {
    assert!(
        found("buildah@1.28/relock-after-own-wipe", |bad| {
            let files = Arc::new(LockFiles::default());
            // A second process running beside it changes nothing.
            let t = {
                let files = files.clone();
                thread::spawn(move || {
                    let p = BuildahProcess::new(2, files);
                    let l = p.lock("/m");
                    p.unlock(l);
                })
            };
            relock_after_own_wipe(bad, BuildahProcess::new(0, files).v1_28());
            t.join().unwrap();
        }),
        "1.28 skips the unlock, and the in-process mutex is never given back"
    );
    assert!(
        !found("buildah@1.39/relock-after-own-wipe", |bad| {
            relock_after_own_wipe(bad, BuildahProcess::new(0, Arc::new(LockFiles::default())));
        }),
        "1.39 unlocks (and keeps its lock files outside the cache)"
    );
}

#[test]
fn buildah_one_run_locking_one_path_twice_waits_on_itself() {
    let stuck = found("buildah/same-lock-twice", |bad| {
        let p = BuildahProcess::new(0, Arc::new(LockFiles::default()));
        let a = p.lock("/l");
        match p.try_lock("/l") {
            Some(b) => {
                p.unlock(b);
            }
            None => bad.store(true, SeqCst),
        }
        p.unlock(a);
    });
    assert!(stuck, "the in-process mutex is not re-entrant");
}

/// Two RUNs mount one key in `modes`; `bad` when an exclusive mount shares its instance with
/// any other mount at the same time.
fn buildkit_pair(bad: &AtomicBool, modes: [Mode; 2]) {
    let m = Arc::new(CacheManager::default());
    let users: Arc<[loom::sync::atomic::AtomicUsize; 4]> = Arc::new(Default::default());
    let ts: Vec<_> = modes
        .into_iter()
        .map(|mode| {
            let (m, users) = (m.clone(), users.clone());
            thread::spawn(move || {
                let got = m.mount(mode);
                let others = users[got.instance].fetch_add(1, SeqCst);
                users[got.instance].fetch_sub(1, SeqCst);
                m.release(got);
                (mode, others)
            })
        })
        .collect();
    let results: Vec<_> = ts.into_iter().map(|t| t.join().unwrap()).collect();
    // With an exclusive mount among the two, neither may find the other on its instance.
    if modes.iter().any(|&m| m != Mode::Shared) && results.iter().any(|&(_, o)| o > 0) {
        bad.store(true, SeqCst);
    }
}

#[test]
fn buildkit_exclusive_mounts_never_share_an_instance_and_locked_waiters_get_in() {
    use Mode::*;
    for modes in [
        [Locked, Locked],
        [Locked, Shared],
        [Shared, Locked],
        [Locked, Private],
        [Private, Shared],
    ] {
        // Termination in every interleaving is the no-lost-wakeup check: a polling locked
        // waiter gets the ref once the holder releases it.
        assert!(
            !found(&format!("buildkit/{modes:?}"), move |bad| buildkit_pair(
                bad, modes
            )),
            "{modes:?}: an exclusive mount shared its instance"
        );
    }
}

#[test]
fn buildkit_shared_mounts_join_one_instance() {
    let apart = found("buildkit/[Shared, Shared]", |bad| {
        let m = Arc::new(CacheManager::default());
        let mounted = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let (m, mounted) = (m.clone(), mounted.clone());
                thread::spawn(move || {
                    let g = m.mount(Mode::Shared);
                    mounted.fetch_add(1, SeqCst);
                    // Both hold at once before either lets go.
                    while mounted.load(SeqCst) < 2 {
                        thread::yield_now();
                    }
                    m.release(g);
                    g.instance
                })
            })
            .collect();
        let got: Vec<usize> = ts.into_iter().map(|t| t.join().unwrap()).collect();
        if got[0] != got[1] {
            bad.store(true, SeqCst);
        }
    });
    assert!(!apart, "shared mounts held at once share one instance");
}
