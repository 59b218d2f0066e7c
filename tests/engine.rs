//! Engine semantics: key derivation (semantics.md §2, real-binary findings) and sharing
//! decisions over the holder table (§3), with each quirk on and off.

use mountfuzz::engine::{
    BuildahVersion, CacheEnv, Decision, Engine, Profile, PruneEffect, Quirk, RejectReason, Request,
};
use mountfuzz::mount::Sharing;
use mountfuzz::store::table::{Hold, Holder, KeyState};

const CUR: Engine = Engine::Buildah(BuildahVersion::Current);
const OLD: Engine = Engine::Buildah(BuildahVersion::V1_28);

fn env(tmp: &str) -> CacheEnv {
    CacheEnv {
        tmpdir: Some(tmp.into()),
        ..CacheEnv::default()
    }
}

fn dir(engine: Engine, opts: &str, workdir: &str, env: &CacheEnv) -> String {
    let p = Profile::new(engine);
    let spec = p.parse_mount(opts).unwrap();
    p.locate(&spec, workdir, env).unwrap().dir
}

#[test]
fn buildah_current_hashes_id_uid_gid() {
    let e = env("/t");
    assert_eq!(
        dir(CUR, "type=cache,target=/test", "/", &e),
        "/t/buildah-cache-0/78adcc621200b6ba"
    );
    // Without id, a relative target is made absolute against WORKDIR first.
    assert_eq!(
        dir(CUR, "type=cache,target=test", "/", &e),
        dir(CUR, "type=cache,target=/test", "/", &e)
    );
    assert_eq!(
        dir(CUR, "type=cache,target=/test", "/", &e),
        dir(CUR, "type=cache,target=/other,id=/test", "/", &e),
        "id takes the target's place"
    );
    assert_ne!(
        dir(CUR, "type=cache,target=/test", "/", &e),
        dir(CUR, "type=cache,target=/test,uid=1", "/", &e),
        "uid is part of the key"
    );
    assert_eq!(
        dir(CUR, "type=cache,target=/test", "/", &e),
        dir(CUR, "type=cache,target=/test,mode=0700", "/", &e),
        "mode is not"
    );
    let uid = CacheEnv {
        host_uid: 1000,
        ..e.clone()
    };
    assert!(dir(CUR, "type=cache,target=/test", "/", &uid).starts_with("/t/buildah-cache-1000/"));
    let p = Profile::new(CUR);
    let s = p.parse_mount("type=cache,target=/test,id=../../x").unwrap();
    assert!(
        p.locate(&s, "/", &e).unwrap().contained,
        "hashed ids cannot escape"
    );
}

/// Buildah 1.39.3 as semantics.md §6 records the Debian 13 binary: 16 hex of sha256 of the id
/// (or the target), under `buildah-cache-<uid>`; uid and gid do not change the dir; `..` stays in.
#[test]
fn buildah_139_hashes_the_id_alone_as_the_binary_does() {
    let e: Engine = "buildah@1.39".parse().unwrap();
    let env = env("/var/tmp");
    assert_eq!(
        dir(e, "type=cache,target=/test", "/", &env),
        "/var/tmp/buildah-cache-0/b306d9ff847c120d"
    );
    assert_eq!(
        dir(e, "type=cache,id=x,target=/a", "/", &env),
        "/var/tmp/buildah-cache-0/2d711642b726b044"
    );
    assert_eq!(
        dir(e, "type=cache,id=x,target=/a,uid=1000,gid=1000", "/", &env),
        dir(e, "type=cache,id=x,target=/b", "/", &env)
    );
    // Upstream main puts uid:gid in the key: there they split.
    let main = Engine::Buildah(BuildahVersion::Current);
    assert_ne!(
        dir(main, "type=cache,id=x,target=/a,uid=1000", "/", &env),
        dir(main, "type=cache,id=x,target=/a", "/", &env)
    );
    assert!(
        dir(e, "type=cache,id=../../x,target=/a", "/", &env)
            .starts_with("/var/tmp/buildah-cache-0/")
    );
}

#[test]
fn buildah_128_uses_the_id_as_a_path() {
    let e = env("/t");
    assert_eq!(
        dir(OLD, "type=cache,target=/test", "/", &e),
        "/t/buildah-cache/test"
    );
    assert_eq!(
        dir(OLD, "type=cache,target=/test/../foo/", "/", &e),
        "/t/buildah-cache/foo"
    );
    assert_eq!(
        dir(OLD, "type=cache,target=/test,id=a/../b/./c", "/", &e),
        "/t/buildah-cache/b/c"
    );
    assert_eq!(
        dir(OLD, "type=cache,target=/test,id=/abs/x", "/", &e),
        "/t/buildah-cache/abs/x"
    );
    assert_eq!(
        dir(OLD, "type=cache,target=/test,uid=1000,gid=1000", "/", &e),
        "/t/buildah-cache/test",
        "uid/gid are not in the 1.28 key"
    );
    assert_eq!(
        dir(OLD, "type=cache,target=/test,id=", "/", &e),
        "/t/buildah-cache/test"
    );
    let p = Profile::new(OLD);
    let s = p
        .parse_mount("type=cache,target=/test,id=../../escape")
        .unwrap();
    let l = p.locate(&s, "/", &env("/t/x")).unwrap();
    assert_eq!(l.dir, "/t/escape");
    assert!(!l.contained);
    let s = p.parse_mount("type=cache,target=test").unwrap();
    let err = p.locate(&s, "/w", &e).unwrap_err();
    assert!(err.problem.contains("must be an absolute path"), "{err}");
    let s = p
        .parse_mount("type=cache,target=/test,sharing=locked")
        .unwrap();
    assert_eq!(
        p.locate(&s, "/", &e).unwrap().lock_file.as_deref(),
        Some("/t/buildah-cache/test/buildah-cache-lockfile")
    );
    let fixed = p.fixed(Quirk::UnhashedId).fixed(Quirk::LockFileInCache);
    let l = fixed.locate(&s, "/", &e).unwrap();
    assert_eq!(l.dir, "/t/buildah-cache/78adcc621200b6ba");
    assert!(l.lock_file.unwrap().contains("/buildah-cache-lockfiles/"));
}

#[test]
fn cache_parent_precedence() {
    let p = Profile::new(CUR);
    let conf = CacheEnv {
        image_copy_tmp_dir: Some("/conf".into()),
        ..CacheEnv::default()
    };
    assert_eq!(
        p.cache_parent(&CacheEnv::default()),
        "/var/tmp/buildah-cache-0"
    );
    assert_eq!(p.cache_parent(&conf), "/conf/buildah-cache-0");
    let both = CacheEnv {
        tmpdir: Some("/t".into()),
        ..conf
    };
    assert_eq!(p.cache_parent(&both), "/t/buildah-cache-0");
    assert_eq!(Profile::new(OLD).cache_parent(&both), "/t/buildah-cache");
}

#[test]
fn buildkit_keys() {
    let e = CacheEnv::default();
    assert_eq!(
        dir(Engine::BuildKit, "type=cache,target=/test/", "/", &e),
        "/test"
    );
    assert_eq!(
        dir(
            Engine::BuildKit,
            "type=cache,target=/x,id=k,source=s",
            "/",
            &e
        ),
        "k"
    );
    let ns = CacheEnv {
        buildkit_namespace: Some("ns".into()),
        ..e.clone()
    };
    assert_eq!(
        dir(Engine::BuildKit, "type=cache,target=/x,id=k", "/", &ns),
        "ns/k"
    );
    let a = dir(Engine::BuildKit, "type=cache,target=/x,uid=1", "/", &e);
    let b = dir(Engine::BuildKit, "type=cache,target=/x,uid=2", "/", &e);
    let c = dir(Engine::BuildKit, "type=cache,target=/x,mode=0700", "/", &e);
    assert!(
        a != b && b != c && a != "/x",
        "uid/gid/mode split the cache"
    );
    // The client's TMPDIR plays no part.
    assert_eq!(
        dir(Engine::BuildKit, "type=cache,target=/x", "/", &env("/a")),
        dir(Engine::BuildKit, "type=cache,target=/x", "/", &env("/b"))
    );
}

fn h(owner: u32, run: u32) -> Holder {
    Holder { owner, run }
}

fn held(holds: &[(u32, Sharing)]) -> KeyState {
    let mut k = KeyState::default();
    for (i, (o, s)) in holds.iter().enumerate() {
        let hold = Hold {
            holder: h(*o, 0),
            sharing: *s,
            lock_gen: 0,
            dir_gen: 0,
        };
        if i == 0 {
            k.create(hold);
        } else {
            k.grant(0, hold);
        }
    }
    k
}

fn req(o: u32, s: Sharing) -> Request {
    Request {
        holder: h(o, 0),
        sharing: s,
    }
}

#[test]
fn buildkit_decisions() {
    let p = Profile::new(Engine::BuildKit);
    use Sharing::*;
    let empty = KeyState::default();
    for s in Sharing::ALL {
        assert_eq!(p.decide(&empty, &req(1, s)), Decision::NewInstance);
    }
    let shared = held(&[(0, Shared)]);
    assert_eq!(p.decide(&shared, &req(1, Shared)), Decision::Grant(0));
    assert_eq!(p.decide(&shared, &req(1, Private)), Decision::NewInstance);
    assert_eq!(p.decide(&shared, &req(1, Locked)), Decision::Wait);
    let locked = held(&[(0, Locked)]);
    assert_eq!(p.decide(&locked, &req(1, Locked)), Decision::Wait);
    assert_eq!(
        p.decide(&locked, &req(0, Locked)),
        Decision::Grant(0),
        "same RUN, same instance"
    );
    assert_eq!(
        p.decide(&locked, &req(1, Shared)),
        Decision::NewInstance,
        "quirk: shared bypasses"
    );
    let fixed = p.fixed(Quirk::SharedBypassesHolders);
    assert_eq!(fixed.decide(&locked, &req(1, Shared)), Decision::Wait);
    let mut free = locked.clone();
    free.release(h(0, 0));
    assert_eq!(p.decide(&free, &req(1, Locked)), Decision::Grant(0));
    assert_eq!(p.decide(&free, &req(1, Private)), Decision::Grant(0));
    assert_eq!(p.prune_effect(&locked), PruneEffect::FreeInstancesOnly);
}

#[test]
fn buildah_decisions() {
    use Sharing::*;
    for engine in [CUR, OLD] {
        let p = Profile::new(engine);
        let locked = held(&[(0, Locked)]);
        assert_eq!(
            p.decide(&locked, &req(1, Shared)),
            Decision::Grant(0),
            "shared: no coordination"
        );
        assert_eq!(p.decide(&locked, &req(1, Locked)), Decision::Wait);
        assert_eq!(
            p.decide(&locked, &req(0, Locked)),
            Decision::Wait,
            "quirk: non-reentrant"
        );
        let fixed = p.fixed(Quirk::NonReentrantLock);
        assert_eq!(fixed.decide(&locked, &req(0, Locked)), Decision::Grant(0));
        assert_eq!(
            p.decide(&locked, &req(1, Private)),
            Decision::Reject(RejectReason::UnsupportedSharing(Private))
        );
        assert_eq!(
            p.fixed(Quirk::PrivateRejected)
                .decide(&locked, &req(1, Private)),
            Decision::NewInstance
        );
        let mut stale = locked.clone();
        stale.lock_gen += 1; // the lock file was removed and re-created
        assert_eq!(
            p.decide(&stale, &req(1, Locked)),
            Decision::Grant(0),
            "old lock excludes nobody"
        );
        assert_eq!(
            p.prune_effect(&locked),
            PruneEffect::RemoveAll,
            "quirk: prune takes no lock"
        );
        assert_eq!(
            p.fixed(Quirk::PruneWithoutLock).prune_effect(&locked),
            PruneEffect::Wait
        );
        assert!(!p.unlocks_after_unmount_error());
        assert!(
            p.fixed(Quirk::UnlockSkippedOnUnmountError)
                .unlocks_after_unmount_error()
        );
        assert_eq!(p.lock_order(&["b", "a"]), vec![0, 1], "quirk: flag order");
        assert_eq!(
            p.fixed(Quirk::FlagOrderLocking).lock_order(&["b", "a"]),
            vec![1, 0]
        );
    }
    assert!(Profile::new(OLD).wipe_removes_lock());
    assert!(!Profile::new(CUR).wipe_removes_lock());
}

#[test]
fn engine_and_quirk_names_round_trip() {
    for e in Engine::ALL {
        assert_eq!(e.to_string().parse::<Engine>(), Ok(e));
    }
    for q in Quirk::ALL {
        assert_eq!(q.name().parse::<Quirk>(), Ok(q));
    }
    assert!("buildah@9".parse::<Engine>().is_err());
}

/// One change to a key's holder table, as the executor makes them.
#[derive(Clone, Debug)]
enum Change {
    Take(u32, u32, Sharing),
    Release(u32, u32),
    DropIndex,
    SplitHeld,
    LockFileGone,
    DirGone,
}

fn change() -> impl proptest::strategy::Strategy<Value = Change> {
    use proptest::prelude::*;
    let sharing = prop_oneof![
        Just(Sharing::Shared),
        Just(Sharing::Private),
        Just(Sharing::Locked)
    ];
    prop_oneof![
        4 => (0..4u32, 0..2u32, sharing).prop_map(|(o, r, s)| Change::Take(o, r, s)),
        2 => (0..4u32, 0..2u32).prop_map(|(o, r)| Change::Release(o, r)),
        1 => Just(Change::DropIndex),
        1 => Just(Change::SplitHeld),
        1 => Just(Change::LockFileGone),
        1 => Just(Change::DirGone),
    ]
}

/// `Profile::may_wait` is what lets the executor skip looking again at a mount: it must say
/// "may wait" for every mode `decide` can make wait, whatever the holders, on every engine with
/// any set of its quirks fixed (`mounts_that_may_wait_do_wait_somewhere` shows that the modes
/// that may wait do).
#[test]
fn a_mount_that_may_not_wait_never_waits() {
    use proptest::prelude::*;
    let config = mountfuzz::testing::proptest_config("proptest-regressions/engine.txt", 2000);
    proptest!(config, |(
        engine in 0..Engine::ALL.len(),
        fixed in proptest::collection::vec(0..Quirk::ALL.len(), 0..4),
        changes in proptest::collection::vec(change(), 0..12),
        asker in (0..4u32, 0..2u32),
    )| {
        let mut p = Profile::new(Engine::ALL[engine]);
        for q in fixed {
            p = p.fixed(Quirk::ALL[q]);
        }
        let mut k = KeyState::default();
        let ask = |k: &KeyState, who: Holder, s: Sharing| {
            p.decide(k, &Request { holder: who, sharing: s })
        };
        for c in changes {
            match c {
                // Only what the engine grants is taken, as in the executor.
                Change::Take(o, r, s) => {
                    let request = Request { holder: h(o, r), sharing: s };
                    match p.decide(&k, &request) {
                        Decision::Grant(i) => k.grant(i, p.hold(&k, &request)),
                        Decision::NewInstance => {
                            k.create(p.hold(&k, &request));
                        }
                        Decision::Wait | Decision::Reject(_) => {}
                    }
                }
                Change::Release(o, r) => {
                    k.release(h(o, r));
                }
                Change::DropIndex => k.drop_index(),
                Change::SplitHeld => k.split_held(),
                Change::LockFileGone => k.lock_gen += 1,
                Change::DirGone => k.dir_gen += 1,
            }
        }
        for s in Sharing::ALL {
            if ask(&k, h(asker.0, asker.1), s) == Decision::Wait {
                prop_assert!(p.may_wait(s), "{:?} {s} waits on {k:?}", p.engine);
            }
        }
    });
}

/// Every mode `may_wait` names does wait on some table (the property above is not vacuous).
#[test]
fn mounts_that_may_wait_do_wait_somewhere() {
    use Sharing::*;
    let bk = Profile::new(Engine::BuildKit);
    let locked = held(&[(0, Locked)]);
    assert!(bk.may_wait(Locked) && bk.decide(&locked, &req(1, Locked)) == Decision::Wait);
    let fixed = bk.fixed(Quirk::SharedBypassesHolders);
    assert!(fixed.may_wait(Shared) && fixed.decide(&locked, &req(1, Shared)) == Decision::Wait);
    assert!(!bk.may_wait(Private));
    for e in [CUR, OLD] {
        let p = Profile::new(e);
        assert!(p.may_wait(Locked) && p.decide(&locked, &req(1, Locked)) == Decision::Wait);
        assert!(!p.may_wait(Shared) && !p.may_wait(Private));
    }
}
