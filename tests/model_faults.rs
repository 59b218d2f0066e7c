//! Buildah's caches are directories on the host, and the model relates them by their paths:
//! nested cache dirs see each other's files, a wipe of the outer dir removes the inner one and
//! its 1.28 lock file, a prune under a live holder leaves its mount on a deleted directory,
//! and nothing is written through a read-only mount. Each case is checked here in the model;
//! `tests/real_buildah.rs` runs the same scripts on the real 1.28 binary (semantics.md §6).

use mountfuzz::check::Oracles;
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::replay::replay;
use mountfuzz::explore::{Program, Schedule};
use mountfuzz::mount::Dialect;
use mountfuzz::scenario::Suite;
use mountfuzz::world::{Remedy, Topology, World};

const OLD: Engine = Engine::Buildah(BuildahVersion::V1_28);

fn suite(text: &str) -> Suite {
    Suite::from_toml(text, "case.toml", Dialect::Buildah128).unwrap()
}

/// Every read (None: no such file) and every build failure of `schedule`, in order.
fn observe(s: &Suite, engine: Engine, schedule: &str) -> (Vec<Option<String>>, Vec<String>) {
    let prog = Program::compile(
        s,
        Profile::new(engine),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let sched: Schedule = if schedule.is_empty() {
        Schedule::default()
    } else {
        schedule.parse().unwrap()
    };
    let r = replay(&prog, &sched, Oracles::none(), true, false).unwrap();
    let reads = r.history.iter().filter_map(|h| h.read.clone()).collect();
    let fails = r
        .history
        .iter()
        .filter_map(|h| h.build.as_ref().and_then(|b| b.failure.clone()))
        .collect();
    (reads, fails)
}

/// The nested case the real-binary test runs as one build of four RUNs.
pub const NESTED: &str = r#"
name = "nested"
[[test]]
name = "n"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/a/b,sharing=locked echo hi > /a/b/f\nRUN --mount=type=cache,target=/a cat /a/b/f\nRUN --mount=type=cache,target=/a rm -rf /a/*"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/a/b cat /a/b/f"
"#;

#[test]
fn nested_dirs_see_each_other_and_a_wipe_of_the_outer_removes_the_inner() {
    let s = suite(NESTED);
    let (reads, fails) = observe(&s, OLD, "");
    assert_eq!(
        reads,
        vec![Some("hi".to_string()), None],
        "written through /a/b, read through /a; gone after rm -rf /a/*"
    );
    assert_eq!(fails.len(), 1, "{fails:?}");
    let prog = Program::compile(
        &s,
        Profile::new(OLD),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let inner = prog.keys.iter().position(|k| k.target == "/a/b").unwrap() as u32;
    let wipe = prog
        .removals
        .iter()
        .find(|r| r.dirs.contains(&inner))
        .expect("the wipe of /a removes /a/b");
    assert!(
        wipe.locks.contains(&inner),
        "and /a/b's lock file, which 1.28 keeps inside it"
    );
    // Current Buildah hashes ids: the two dirs are siblings, nothing is shared.
    let (reads, _) = observe(&s, Engine::Buildah(BuildahVersion::Current), "");
    assert_eq!(
        reads,
        vec![None, Some("hi".to_string())],
        "the read through /a fails and ends the first build (no wipe); /a/b still has f"
    );
}

#[test]
fn nested_dirs_of_two_tests_are_shared_state() {
    let s = suite(
        r#"
name = "two"
[[test]]
name = "outer"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/a echo mine > /a/b/f\nRUN --mount=type=cache,target=/a cat /a/b/f"
expect_output = "mine"
[[test]]
name = "inner"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/a/b echo theirs > /a/b/f"
"#,
    );
    let prog = Program::compile(
        &s,
        Profile::new(OLD),
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    assert_eq!(
        mountfuzz::explore::no_search(&prog),
        None,
        "nested dirs are shared, not independent"
    );
    let o = mountfuzz::explore::explore(
        &prog,
        mountfuzz::explore::Strategy::Dfs { por: true },
        mountfuzz::explore::Budget::new(10_000, 10.0),
        mountfuzz::explore::Options::default(),
    );
    assert!(
        matches!(o.verdict, mountfuzz::explore::Verdict::Violated(_)),
        "{:?}",
        o.verdict
    );
}

/// Prune under a live holder: `holder` mounts /test and writes f1; `pruner` removes the cache
/// parent; `later` mounts /test; then `holder` reads f1 and writes f2.
pub const PRUNE_UNDER_HOLDER: &str = r#"
name = "prune-under-holder"
[[test]]
name = "holder"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/test echo one > /test/f1 && cat /test/f1 && echo two > /test/f2"
env = { TMPDIR = "/shared" }
[[test]]
name = "pruner"
[[test.step]]
prune = true
env = { TMPDIR = "/shared" }
[[test]]
name = "later"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/test echo three > /test/g && cat /test/g && cat /test/f1"
env = { TMPDIR = "/shared" }
"#;

#[test]
fn a_prune_under_a_live_holder_leaves_it_on_a_deleted_dir() {
    let s = suite(PRUNE_UNDER_HOLDER);
    // holder: mount, write f1; pruner: prune; later: mount, write g, read g, read f1 (its build
    // fails there); holder: read f1, write f2.
    let (reads, fails) = observe(&s, OLD, "0.0.1.2.2.2.2.0.0");
    assert_eq!(
        reads,
        vec![Some("three".to_string()), None, None],
        "the later mounter gets a new empty dir; the holder's file is gone"
    );
    assert!(
        fails
            .iter()
            .any(|f| f.contains("No such file or directory")),
        "{fails:?}"
    );
    assert!(
        fails.iter().all(|f| !f.contains("nonexistent directory")),
        "the holder's read failed first and ended its RUN: {fails:?}"
    );
    // Without the read: the holder's next file creation fails on the deleted dir.
    let s = suite(&PRUNE_UNDER_HOLDER.replace(" && cat /test/f1 && echo two", " && echo two"));
    let (_, fails) = observe(&s, OLD, "0.0.1.2.2.2.2.0");
    assert!(
        fails
            .iter()
            .any(|f| f == "sh: can't create /test/f2: nonexistent directory"),
        "{fails:?}"
    );
}

pub const READ_ONLY: &str = r#"
name = "ro"
[[test]]
name = "w"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/test echo seed > /test/f"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/test,ro cat /test/f && rm -f /test/absent && echo x > /test/f"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/test,ro rm -rf /test/*"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/test cat /test/f"
"#;

#[test]
fn nothing_is_written_through_a_read_only_mount() {
    for engine in [OLD, Engine::Buildah(BuildahVersion::Current)] {
        let (reads, fails) = observe(&suite(READ_ONLY), engine, "");
        assert_eq!(
            reads,
            vec![Some("seed".to_string()), Some("seed".to_string())],
            "{engine}"
        );
        assert_eq!(
            fails,
            vec![
                "sh: can't create /test/f: Read-only file system".to_string(),
                "rm: can't remove '/test/f': Read-only file system".to_string()
            ],
            "{engine}"
        );
    }
}

#[test]
fn source_is_a_subdirectory_upstream_and_ignored_by_1_28_without_from() {
    let s = suite(
        r#"
name = "source"
[[test]]
name = "s"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/t,source=sub echo x > /t/f\nRUN --mount=type=cache,target=/t cat /t/f"
"#,
    );
    // 1.28.2 writes f in the cache dir itself (seen on the binary): the plain mount reads it.
    assert_eq!(observe(&s, OLD, "").0, vec![Some("x".to_string())]);
    // Upstream and BuildKit show the subdirectory: f is sub/f, not f.
    for engine in [Engine::Buildah(BuildahVersion::Current), Engine::BuildKit] {
        assert_eq!(observe(&s, engine, "").0, vec![None], "{engine}");
        let through = suite(
            &s.to_toml(Dialect::Buildah128)
                .replace("cat /t/f", "cat /t/sub/f"),
        );
        assert_eq!(
            observe(&through, engine, "").0,
            vec![Some("x".to_string())],
            "{engine}"
        );
    }
}

#[test]
fn buildkit_splits_the_key_by_owner_only_without_source() {
    let p = Profile::new(Engine::BuildKit);
    let dir = |o: &str| {
        let spec = p.parse_mount(&format!("type=cache,target=/t,{o}")).unwrap();
        p.locate(&spec, "/", &Default::default()).unwrap().dir
    };
    assert_ne!(dir("id=k,uid=1"), dir("id=k"));
    assert_eq!(dir("id=k,uid=1,source=s"), dir("id=k,source=s"));
    assert_eq!(
        dir("id=k,source=s"),
        dir("id=k"),
        "source is not part of the key"
    );
    assert_ne!(dir("id=k,from=st"), dir("id=k"));
}

#[test]
fn a_from_stage_cache_is_its_builds_own() {
    // Two tests mount `from=st` and write and read one file: on Buildah each build has its own
    // mount of the stage, so nothing is shared (a static proof) and a write lasts for the rest
    // of its build only. BuildKit keys the cache by the stage: one cache in the daemon.
    let text = r#"
name = "from"
[[test]]
name = "a"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/t,from=st echo a > /t/f\nRUN --mount=type=cache,target=/t,from=st cat /t/f"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/t,from=st cat /t/f"
[[test]]
name = "b"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/t,from=st echo b > /t/f"
"#;
    let s = suite(text);
    let world = World::new(Topology::Remote, Remedy::GlobalTmpdir);
    for engine in [OLD, Engine::Buildah(BuildahVersion::Current)] {
        let prog = Program::compile(&s, Profile::new(engine), &world).unwrap();
        assert_eq!(
            mountfuzz::explore::no_search(&prog),
            Some(mountfuzz::explore::NoSearch::Independent),
            "{engine}"
        );
        assert!(
            prog.notes.iter().any(|n| n.contains("the files of \"st\"")),
            "named: {:?}",
            prog.notes
        );
        let (reads, _) = observe(&s, engine, "");
        // The write lasts for the rest of its build; the next build mounts the stage afresh,
        // whose files the model does not know, so its read of f cannot be known to fail and
        // returns nothing the model knows (buildah's tests/bud/buildkit-mount-from cache tests
        // read the stage's files and pass).
        assert_eq!(
            reads,
            vec![Some("a".to_string())],
            "{engine}: kept within the build, unknown in the next"
        );
    }
    let prog = Program::compile(&s, Profile::new(Engine::BuildKit), &world).unwrap();
    assert_eq!(
        mountfuzz::explore::no_search(&prog),
        None,
        "BuildKit: one cache for the stage"
    );
}
