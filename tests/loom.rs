//! loom: every interleaving (within `LOOM_MAX_PREEMPTIONS`, default 3 here) of the product's
//! thread-safe store, `mountfuzz::store::shared::SharedStore`, built on `crate::sync` so that
//! `--cfg loom` swaps in loom's Mutex and Condvar. No separate copy of the logic.
//!
//! Run with `ci/loom.sh`. Each test prints `loom: NAME: N interleavings`.
#![cfg(loom)]

#[path = "common/loom_check.rs"]
mod loom_check;
use loom_check::{explore, found};

use std::sync::atomic::Ordering::SeqCst;

use loom::sync::Arc;
use loom::thread;
use mountfuzz::check::lock_integrity::two_locked_holders;
use mountfuzz::engine::{BuildahVersion, Engine, Profile, Quirk, RejectReason};
use mountfuzz::mount::Sharing;
use mountfuzz::store::shared::{MountReq, SharedStore, StoreError};
use mountfuzz::store::table::Holder;

const CUR: Engine = Engine::Buildah(BuildahVersion::Current);
const OLD: Engine = Engine::Buildah(BuildahVersion::V1_28);

fn h(owner: u32) -> Holder {
    Holder { owner, run: 0 }
}

fn m(key: usize, sharing: Sharing) -> MountReq {
    MountReq { key, sharing }
}

fn store(p: Profile, keys: usize, owners: usize) -> Arc<SharedStore> {
    Arc::new(SharedStore::new(p, keys, owners))
}

// ---- properties of every engine and sharing mode ------------------------------------------

#[test]
fn locked_exclusion() {
    for engine in Engine::ALL {
        explore(&format!("locked-exclusion/{engine}"), move || {
            let s = store(Profile::new(engine), 1, 2);
            let ts: Vec<_> = (0..2u32)
                .map(|o| {
                    let s = s.clone();
                    thread::spawn(move || {
                        s.acquire_run(h(o), &[m(0, Sharing::Locked)]).unwrap();
                        assert!(s.write(0, h(o), &[o as u8]));
                        assert!(!two_locked_holders(&s.snapshot()));
                        assert_eq!(
                            s.read(0, h(o)),
                            Some(vec![o as u8]),
                            "someone wrote under my lock"
                        );
                        s.release_run(h(o), &[m(0, Sharing::Locked)], false);
                    })
                })
                .collect();
            ts.into_iter().for_each(|t| t.join().unwrap());
        });
    }
}

#[test]
fn private_exclusivity() {
    explore("private-exclusivity/buildkit", || {
        let s = store(Profile::new(Engine::BuildKit), 1, 2);
        let ts: Vec<_> = (0..2u32)
            .map(|o| {
                let s = s.clone();
                thread::spawn(move || {
                    let i = s.acquire_run(h(o), &[m(0, Sharing::Private)]).unwrap()[0];
                    let holders = s.snapshot().keys[0].instance_holds(i).count();
                    assert_eq!(holders, 1, "a private instance with {holders} holders");
                    s.release_run(h(o), &[m(0, Sharing::Private)], false);
                })
            })
            .collect();
        ts.into_iter().for_each(|t| t.join().unwrap());
    });
    for engine in [CUR, OLD] {
        explore(&format!("private-rejected/{engine}"), move || {
            let s = store(Profile::new(engine), 1, 1);
            let r = s.acquire_run(h(0), &[m(0, Sharing::Private)]);
            assert_eq!(
                r,
                Err(StoreError::Rejected(RejectReason::UnsupportedSharing(
                    Sharing::Private
                )))
            );
        });
    }
}

#[test]
fn shared_mounts_see_one_instance() {
    for engine in Engine::ALL {
        explore(&format!("shared-one-instance/{engine}"), move || {
            let s = store(Profile::new(engine), 1, 2);
            let ts: Vec<_> = (0..2u32)
                .map(|o| {
                    let s = s.clone();
                    thread::spawn(move || {
                        let i = s.acquire_run(h(o), &[m(0, Sharing::Shared)]).unwrap()[0];
                        s.release_run(h(o), &[m(0, Sharing::Shared)], false);
                        i
                    })
                })
                .collect();
            for t in ts {
                assert_eq!(t.join().unwrap(), 0, "a second instance for a shared key");
            }
        });
    }
}

#[test]
fn no_lost_wakeup() {
    // loom fails the model if a waiter is never woken (it reports a deadlock).
    for engine in Engine::ALL {
        explore(&format!("no-lost-wakeup/{engine}"), move || {
            let s = store(Profile::new(engine), 1, 3);
            let ts: Vec<_> = (0..3u32)
                .map(|o| {
                    let s = s.clone();
                    thread::spawn(move || {
                        s.acquire_run(h(o), &[m(0, Sharing::Locked)]).unwrap();
                        s.release_run(h(o), &[m(0, Sharing::Locked)], false);
                    })
                })
                .collect();
            ts.into_iter().for_each(|t| t.join().unwrap());
            assert!({
                let k = &s.snapshot().keys[0];
                (0..k.instance_count()).all(|i| k.is_free(i))
            });
        });
    }
}

#[test]
fn releasing_shared_while_acquiring_does_not_deadlock() {
    // buildkit#1322: a deadlock while releasing a shared mount.
    for engine in Engine::ALL {
        explore(&format!("shared-release-vs-acquire/{engine}"), move || {
            let s = store(Profile::new(engine), 1, 2);
            s.acquire_run(h(0), &[m(0, Sharing::Shared)]).unwrap();
            let s2 = s.clone();
            let t = thread::spawn(move || {
                s2.acquire_run(h(1), &[m(0, Sharing::Shared)]).unwrap();
                s2.release_run(h(1), &[m(0, Sharing::Shared)], false);
            });
            s.release_run(h(0), &[m(0, Sharing::Shared)], false);
            t.join().unwrap();
        });
    }
}

#[test]
fn prune_concurrent_with_a_mount_leaves_a_consistent_table() {
    for engine in Engine::ALL {
        explore(&format!("prune-vs-mount/{engine}"), move || {
            let s = store(Profile::new(engine), 1, 2);
            let s2 = s.clone();
            let t = thread::spawn(move || {
                s2.acquire_run(h(0), &[m(0, Sharing::Locked)]).unwrap();
                s2.write(0, h(0), b"x");
                s2.release_run(h(0), &[m(0, Sharing::Locked)], false);
            });
            s.prune(1).unwrap();
            t.join().unwrap();
            let table = s.snapshot();
            assert!(
                (0..table.keys[0].instance_count()).all(|i| table.keys[0].is_free(i)),
                "a hold outlived its RUN"
            );
            assert!(table.keys[0].instance_count() <= 1);
        });
    }
}

// ---- each quirk: a test that finds its failure, one that shows the fix holds ----------------

fn same_lock_twice(p: Profile) -> bool {
    found(
        &format!("same-lock-twice/{}", p.quirks.has(Quirk::NonReentrantLock)),
        move |bad| {
            let s = store(p, 1, 2);
            let s2 = s.clone();
            let other = thread::spawn(move || {
                s2.acquire_run(h(1), &[m(0, Sharing::Locked)]).unwrap();
                s2.release_run(h(1), &[m(0, Sharing::Locked)], false);
            });
            let twice = [m(0, Sharing::Locked), m(0, Sharing::Locked)];
            match s.acquire_run(h(0), &twice) {
                Err(StoreError::Stuck { chain }) => {
                    assert_eq!(chain, vec![0], "it waits on itself");
                    bad.store(true, SeqCst);
                }
                Err(e) => panic!("unexpected {e}"),
                Ok(_) => s.release_run(h(0), &twice, false),
            }
            other.join().unwrap();
        },
    )
}

#[test]
fn quirk_non_reentrant_lock() {
    let p = Profile::new(CUR);
    assert!(
        same_lock_twice(p),
        "the same locked key twice in one RUN must self-deadlock"
    );
    assert!(
        !same_lock_twice(p.fixed(Quirk::NonReentrantLock)),
        "re-use of the RUN's own lock"
    );
}

fn opposite_order(p: Profile) -> bool {
    found(
        &format!(
            "opposite-flag-order/{}",
            p.quirks.has(Quirk::FlagOrderLocking)
        ),
        move |bad| {
            let s = store(p, 2, 2);
            let runs = [
                [m(0, Sharing::Locked), m(1, Sharing::Locked)],
                [m(1, Sharing::Locked), m(0, Sharing::Locked)],
            ];
            let ts: Vec<_> = (0..2u32)
                .map(|o| {
                    let s = s.clone();
                    thread::spawn(move || {
                        let mounts = runs[o as usize];
                        match s.acquire_run(h(o), &mounts) {
                            Ok(_) => {
                                s.release_run(h(o), &mounts, false);
                                false
                            }
                            Err(StoreError::Stuck { mut chain }) => {
                                chain.sort();
                                assert_eq!(chain, vec![0, 1], "an ABBA cycle between the two RUNs");
                                true
                            }
                            Err(e) => panic!("unexpected {e}"),
                        }
                    })
                })
                .collect();
            for t in ts {
                if t.join().unwrap() {
                    bad.store(true, SeqCst);
                }
            }
        },
    )
}

#[test]
fn quirk_flag_order_locking() {
    let p = Profile::new(CUR);
    assert!(
        opposite_order(p),
        "locks in flag order must deadlock in some interleaving"
    );
    assert!(
        !opposite_order(p.fixed(Quirk::FlagOrderLocking)),
        "sorted lock order never deadlocks"
    );
}

fn prune_under_holder(p: Profile) -> bool {
    found(
        &format!(
            "prune-under-holder/{}",
            p.quirks.has(Quirk::PruneWithoutLock)
        ),
        move |bad| {
            let s = store(p, 1, 2);
            let s2 = s.clone();
            let t = thread::spawn(move || {
                s2.acquire_run(h(0), &[m(0, Sharing::Locked)]).unwrap();
                let broken = two_locked_holders(&s2.snapshot());
                s2.release_run(h(0), &[m(0, Sharing::Locked)], false);
                broken
            });
            s.prune(1).unwrap();
            s.acquire_run(h(1), &[m(0, Sharing::Locked)]).unwrap();
            let broken = two_locked_holders(&s.snapshot());
            s.release_run(h(1), &[m(0, Sharing::Locked)], false);
            if t.join().unwrap() || broken {
                bad.store(true, SeqCst);
            }
        },
    )
}

#[test]
fn quirk_prune_without_lock() {
    let p = Profile::new(OLD);
    assert!(
        prune_under_holder(p),
        "prune removing the lock file lets a second holder in"
    );
    assert!(
        !prune_under_holder(p.fixed(Quirk::PruneWithoutLock)),
        "prune that waits for holders"
    );
}

fn leaked_lock(p: Profile) -> bool {
    found(
        &format!(
            "unmount-error/{}",
            p.quirks.has(Quirk::UnlockSkippedOnUnmountError)
        ),
        move |bad| {
            let s = store(p, 1, 2);
            let s2 = s.clone();
            let t = thread::spawn(move || {
                s2.acquire_run(h(0), &[m(0, Sharing::Locked)]).unwrap();
                s2.release_run(h(0), &[m(0, Sharing::Locked)], true); // the unmount fails
                s2.finish(0, false); // a podman server: the process lives on
            });
            match s.acquire_run(h(1), &[m(0, Sharing::Locked)]) {
                Ok(_) => s.release_run(h(1), &[m(0, Sharing::Locked)], false),
                Err(StoreError::Stuck { chain }) => {
                    assert_eq!(
                        chain,
                        vec![1, 0],
                        "waits for a finished build that still holds the lock"
                    );
                    bad.store(true, SeqCst);
                }
                Err(e) => panic!("unexpected {e}"),
            }
            t.join().unwrap();
        },
    )
}

#[test]
fn quirk_unlock_skipped_on_unmount_error() {
    let p = Profile::new(CUR);
    assert!(
        leaked_lock(p),
        "a skipped unlock leaves the next locker waiting forever"
    );
    assert!(
        !leaked_lock(p.fixed(Quirk::UnlockSkippedOnUnmountError)),
        "unlock regardless"
    );
}

fn wipe_under_lock(p: Profile) -> bool {
    found(
        &format!("wipe-lock-file/{}", p.quirks.has(Quirk::LockFileInCache)),
        move |bad| {
            let s = store(p, 1, 2);
            let ts: Vec<_> = (0..2u32)
                .map(|o| {
                    let s = s.clone();
                    thread::spawn(move || {
                        s.acquire_run(h(o), &[m(0, Sharing::Locked)]).unwrap();
                        if o == 0 {
                            s.wipe(0, h(0)); // rm -rf /cache/* takes the lock file along (1.28)
                        }
                        let broken = two_locked_holders(&s.snapshot());
                        s.release_run(h(o), &[m(0, Sharing::Locked)], false);
                        broken
                    })
                })
                .collect();
            for t in ts {
                if t.join().unwrap() {
                    bad.store(true, SeqCst);
                }
            }
        },
    )
}

#[test]
fn quirk_lock_file_in_cache() {
    let p = Profile::new(OLD);
    assert!(
        wipe_under_lock(p),
        "wiping the cache removes the lock file and lets a second locker in"
    );
    assert!(
        !wipe_under_lock(p.fixed(Quirk::LockFileInCache)),
        "lock files outside the cache"
    );
}

fn shared_beside_locked(p: Profile) -> bool {
    found(
        &format!(
            "shared-bypasses/{}",
            p.quirks.has(Quirk::SharedBypassesHolders)
        ),
        move |bad| {
            let s = store(p, 1, 2);
            let s2 = s.clone();
            let t = thread::spawn(move || {
                s2.acquire_run(h(0), &[m(0, Sharing::Locked)]).unwrap();
                s2.release_run(h(0), &[m(0, Sharing::Locked)], false);
            });
            let i = s.acquire_run(h(1), &[m(0, Sharing::Shared)]).unwrap()[0];
            s.release_run(h(1), &[m(0, Sharing::Shared)], false);
            t.join().unwrap();
            let instances = s.snapshot().keys[0].instance_count();
            if i != 0 || instances > 1 {
                bad.store(true, SeqCst);
            }
        },
    )
}

#[test]
fn quirk_shared_bypasses_holders() {
    let p = Profile::new(Engine::BuildKit);
    assert!(
        shared_beside_locked(p),
        "a shared mount gets a second, empty instance"
    );
    assert!(
        !shared_beside_locked(p.fixed(Quirk::SharedBypassesHolders)),
        "the shared mount waits"
    );
}
