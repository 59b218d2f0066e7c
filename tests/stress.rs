//! Real threads on real files, checked for linearizability against the model.

use std::time::Duration;

use mountfuzz::check::linearize::{LinOp, LinVerdict, TimedOp, check};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::Program;
use mountfuzz::mount::Sharing;
use mountfuzz::scenario::builtin;
use mountfuzz::stress::{self, StressConfig};
use mountfuzz::world::{Remedy, Topology, World};

fn op(thread: usize, op: LinOp, invoke: u64, response: u64) -> TimedOp {
    TimedOp {
        thread,
        key: "/c".into(),
        op,
        invoke,
        response,
    }
}
fn w(v: &str) -> LinOp {
    LinOp::Write {
        file: "f".into(),
        value: v.into(),
    }
}
fn r(v: Option<&str>) -> LinOp {
    LinOp::Read {
        file: "f".into(),
        got: v.map(String::from),
    }
}

#[test]
fn overlapping_writes_may_be_read_either_way() {
    for seen in ["a", "b"] {
        let h = vec![
            op(0, w("a"), 0, 10),
            op(1, w("b"), 5, 15),
            op(2, r(Some(seen)), 20, 30),
        ];
        assert!(matches!(
            check(&h, Duration::from_secs(5)),
            LinVerdict::Linearizable { ops: 3, keys: 1 }
        ));
    }
}

/// A write is open-with-truncate, then the bytes: the bytes land in the inode the open got.
/// If the name is removed and created again in between, the bytes go to the unlinked inode.
#[test]
fn a_write_whose_file_was_removed_and_recreated_meanwhile_is_lost() {
    let fill = |v: &str| LinOp::Fill {
        file: "f".into(),
        value: v.into(),
    };
    // What the kernel does, on real files.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    let mut a = std::fs::File::create(&f).unwrap(); // thread 0 opens
    std::fs::remove_file(&f).unwrap(); // a wipe
    std::fs::write(&f, "world").unwrap(); // thread 1 writes
    std::io::Write::write_all(&mut a, b"hello").unwrap(); // thread 0's bytes
    let real = std::fs::read_to_string(&f).unwrap();
    assert_eq!(real, "world");
    let wipe = LinOp::Wipe {
        removes_lock: false,
    };
    let h = |seen: &str| {
        vec![
            op(0, w(""), 0, 1),
            op(2, wipe.clone(), 2, 3),
            op(1, w(""), 4, 5),
            op(1, fill("world"), 5, 6),
            op(0, fill("hello"), 7, 8),
            op(1, r(Some(seen)), 9, 10),
        ]
    };
    assert!(matches!(
        check(&h(&real), Duration::from_secs(5)),
        LinVerdict::Linearizable { .. }
    ));
    assert!(matches!(
        check(&h("hello"), Duration::from_secs(5)),
        LinVerdict::Violation { .. }
    ));
    // Without the wipe the name keeps its inode, and the last bytes win.
    let mut h = h("hello");
    h.remove(1);
    assert!(matches!(
        check(&h, Duration::from_secs(5)),
        LinVerdict::Linearizable { .. }
    ));
}

/// Two openers of one inode: each writes at its own offset 0, over what the other wrote.
#[test]
fn a_shorter_write_over_a_longer_one_keeps_its_tail() {
    let fill = |v: &str| LinOp::Fill {
        file: "f".into(),
        value: v.into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    let mut mine = std::fs::File::create(&f).unwrap(); // thread 0 opens
    let mut theirs = std::fs::File::create(&f).unwrap(); // thread 1 opens the same inode
    std::io::Write::write_all(&mut theirs, b"theirs").unwrap();
    std::io::Write::write_all(&mut mine, b"mine").unwrap();
    let real = std::fs::read_to_string(&f).unwrap();
    assert_eq!(real, "miners");
    let h = |seen: &str| {
        vec![
            op(0, w(""), 0, 1),
            op(1, w(""), 2, 3),
            op(1, fill("theirs"), 4, 5),
            op(0, fill("mine"), 6, 7),
            op(2, r(Some(seen)), 8, 9),
        ]
    };
    assert!(matches!(
        check(&h(&real), Duration::from_secs(5)),
        LinVerdict::Linearizable { .. }
    ));
    assert!(matches!(
        check(&h("mine"), Duration::from_secs(5)),
        LinVerdict::Violation { .. }
    ));
}

#[test]
fn a_stale_read_is_not_linearizable_and_the_witness_is_minimal() {
    let h = vec![
        op(0, w("a"), 0, 10),
        op(1, w("b"), 20, 30),
        op(2, r(Some("b")), 35, 40),
        op(2, r(Some("a")), 50, 60),
        op(
            3,
            LinOp::Write {
                file: "other".into(),
                value: "x".into(),
            },
            0,
            100,
        ),
    ];
    match check(&h, Duration::from_secs(5)) {
        LinVerdict::Violation { key, witness } => {
            assert_eq!(key, "/c");
            // Write b, then read a: already unexplainable (nothing else is needed to show it).
            assert_eq!(witness.len(), 2, "{witness:?}");
            assert_eq!(witness[0].op, w("b"));
            assert_eq!(witness[1].op, r(Some("a")));
        }
        v => panic!("{v:?}"),
    }
    let never_written = vec![op(0, r(Some("ghost")), 0, 10)];
    assert!(matches!(
        check(&never_written, Duration::from_secs(5)),
        LinVerdict::Violation { .. }
    ));
}

#[test]
fn two_holders_of_one_lock_are_explained_only_by_a_removed_lock_file() {
    let base = vec![
        op(0, LinOp::Acquire, 0, 10),
        op(1, LinOp::Acquire, 20, 30),
        op(0, LinOp::Release, 40, 50),
    ];
    assert!(matches!(
        check(&base, Duration::from_secs(5)),
        LinVerdict::Violation { .. }
    ));
    let mut wiped = base.clone();
    wiped.insert(1, op(0, LinOp::Wipe { removes_lock: true }, 12, 15));
    assert!(matches!(
        check(&wiped, Duration::from_secs(5)),
        LinVerdict::Linearizable { .. }
    ));
    let mut kept = base;
    kept.insert(
        1,
        op(
            0,
            LinOp::Wipe {
                removes_lock: false,
            },
            12,
            15,
        ),
    );
    assert!(matches!(
        check(&kept, Duration::from_secs(5)),
        LinVerdict::Violation { .. }
    ));
}

#[test]
fn the_budget_ends_in_unknown() {
    // Many concurrent writes and reads that no order explains: the search must give up in time.
    let mut h: Vec<TimedOp> = (0..40).map(|i| op(i, w(&i.to_string()), 0, 1000)).collect();
    h.push(op(99, r(Some("nobody wrote this")), 2000, 2001));
    assert!(matches!(
        check(&h, Duration::from_millis(50)),
        LinVerdict::Unknown(_)
    ));
}

fn prog(suite: &str, engine: Engine, topology: Topology, sharing: Option<Sharing>) -> Program {
    let mut s = builtin::find(suite).unwrap().suite();
    if let Some(sh) = sharing {
        s = s.with_sharing(sh);
    }
    Program::compile(
        &s,
        Profile::new(engine),
        &World::new(topology, Remedy::None),
    )
    .unwrap()
}

#[test]
fn stress_runs_of_isolated_and_locked_suites_are_linearizable() {
    let cur = Engine::Buildah(BuildahVersion::Current);
    // Remote with mixed modes puts five threads on one cache dir: shared writers, a locked
    // writer, a wipe and prunes (this found two harness bugs and the two-step write).
    for (topology, sharing) in [
        (Topology::Local, None),
        (Topology::Remote, Some(Sharing::Locked)),
        (Topology::Remote, None),
    ] {
        let p = prog("buildah-bud-cache", cur, topology, sharing);
        for seed in 0..5 {
            let run = stress::run(
                &p,
                StressConfig {
                    seed,
                    ..StressConfig::default()
                },
            )
            .unwrap();
            assert!(run.stuck.is_empty());
            assert!(run.history.len() > 20, "{} ops", run.history.len());
            let v = check(&run.history, Duration::from_secs(10));
            assert!(
                matches!(v, LinVerdict::Linearizable { .. }),
                "{topology} seed {seed}: {v:?}"
            );
        }
    }
}

#[test]
fn real_ofd_locks_show_the_1_28_lock_file_hazard() {
    // Buildah 1.28 keeps the lock file in the cache: a RUN that wipes its locked cache lets a
    // second locker in. The model with the quirk explains every run; the model with the fix
    // (a wipe leaves the lock alone) does not explain the runs where the second locker got in.
    let old = Engine::Buildah(BuildahVersion::V1_28);
    let p = prog("hazard-lock-file-in-cache", old, Topology::Local, None);
    let mut caught = None;
    for seed in 0..300 {
        let cfg = StressConfig {
            seed,
            jitter: Duration::from_micros(500),
            ..StressConfig::default()
        };
        let run = stress::run(&p, cfg).unwrap();
        let v = check(&run.history, Duration::from_secs(5));
        assert!(
            matches!(v, LinVerdict::Linearizable { .. }),
            "seed {seed}: {v:?}"
        );
        let fixed: Vec<TimedOp> = run
            .history
            .iter()
            .cloned()
            .map(|mut o| {
                if let LinOp::Wipe { removes_lock } = &mut o.op {
                    *removes_lock = false;
                }
                o
            })
            .collect();
        if let LinVerdict::Violation { witness, .. } = check(&fixed, Duration::from_secs(5)) {
            caught = Some((seed, witness));
            break;
        }
    }
    let (seed, witness) = caught.expect("no run in 300 let the second locker in");
    let acquires = witness.iter().filter(|o| o.op == LinOp::Acquire).count();
    assert_eq!(
        acquires,
        2,
        "seed {seed}: two holders of one lock:\n{}",
        mountfuzz::check::linearize::describe(&witness)
    );
}

mod lock_objects {
    //! Buildah's lock objects (`store::lockfile`): an in-process mutex per lock path over a
    //! process-associated fcntl lock, reopened per acquisition. What each part excludes.

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use mountfuzz::store::lockfile::{ProcessLocks, fcntl_try_lock};

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(50)
    }

    #[test]
    fn fcntl_locks_exclude_nobody_within_one_process() {
        // The engine's file lock alone would let two builds of one podman server in together.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("buildah-cache-lockfile");
        let first = fcntl_try_lock(&p).unwrap();
        assert!(first.is_some());
        let p2 = p.clone();
        let second = std::thread::spawn(move || fcntl_try_lock(&p2).unwrap().is_some())
            .join()
            .unwrap();
        assert!(
            second,
            "a process-associated lock does not exclude its own process's threads"
        );
    }

    #[test]
    fn within_one_process_the_mutex_excludes_and_lets_the_next_in() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l/buildah-cache-lockfile");
        let process = Arc::new(ProcessLocks::default());
        let held = process.lock_until(&p, soon()).unwrap().expect("free");
        let (proc2, p2) = (process.clone(), p.clone());
        let blocked = std::thread::spawn(move || proc2.lock_until(&p2, soon()).unwrap().is_none())
            .join()
            .unwrap();
        assert!(
            blocked,
            "a second build of the same process waits on the mutex"
        );
        drop(held);
        assert!(
            process.lock_until(&p, soon()).unwrap().is_some(),
            "and gets it once freed"
        );
    }

    #[test]
    fn between_processes_the_file_lock_excludes_until_its_file_is_replaced() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("buildah-cache-lockfile");
        let (a, b) = (ProcessLocks::default(), ProcessLocks::default());
        let held = a.lock_until(&p, soon()).unwrap().expect("free");
        assert!(
            b.lock_until(&p, soon()).unwrap().is_none(),
            "another process waits"
        );
        // A wipe removes the lock file (1.28 keeps it in the cache): the next taker opens a new
        // file and gets in beside the holder (the lock-file-in-cache hazard).
        std::fs::remove_file(&p).unwrap();
        assert!(b.lock_until(&p, soon()).unwrap().is_some(), "two holders");
        drop(held);
    }
}
