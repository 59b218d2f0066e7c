//! Upstream Buildah's draft `sharing=private` pool (podman#27188, draft buildah#7127;
//! unreleased), profile `buildah@pool`, explored on the questions of issue #11 and compared with
//! BuildKit's private, through `mountfuzz lint` (2 parallel copies of each build, exhaustive).
//! The pool: under a pool lock a private mount TryLocks `<dir>`, `<dir>-1`, … and keeps the first
//! it gets; shared mounts take no lock; private and locked use one lock file per dir.

use mountfuzz::engine::Engine;
use mountfuzz::lint::{self, FileReport, Options};

fn pool() -> Engine {
    "buildah@pool".parse().unwrap()
}

fn lint_on(engine: Engine, prune: bool, runs: &str) -> FileReport {
    let text = format!("FROM alpine\n{runs}");
    let opts = Options {
        engines: vec![engine],
        prune,
        seconds: 20.0,
        ..Options::default()
    };
    let r = lint::lint("Dockerfile", &text, &opts).unwrap();
    assert!(r.proved(), "{engine}: {:?}", r.coverage);
    r
}

fn rules(r: &FileReport) -> Vec<(&'static str, usize)> {
    r.findings.iter().map(|f| (f.rule.id, f.line)).collect()
}

const PRIVATE_THEN_SHARED: &str =
    "RUN --mount=type=cache,id=c,target=/c,sharing=private echo p > /c/f
RUN --mount=type=cache,id=c,target=/c echo s > /c/f
";

#[test]
fn q1_a_private_holder_and_shared_users_meet_in_one_dir_on_the_pool_but_not_on_buildkit() {
    // The pool: a shared mount takes no lock and mounts <dir>, where a private holder is.
    let r = lint_on(pool(), false, PRIVATE_THEN_SHARED);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "MF015")
        .expect("MF015");
    assert!(
        f.message.contains("is private but has several holders"),
        "{}",
        f.message
    );
    // BuildKit: the shared request gets a new, empty instance instead (no meeting, no sharing).
    let r = lint_on(Engine::BuildKit, false, PRIVATE_THEN_SHARED);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "MF015")
        .expect("MF015");
    assert!(f.message.contains("new empty instance"), "{}", f.message);
    // Private alone is private on both.
    let alone = "RUN --mount=type=cache,id=c,target=/c,sharing=private echo p > /c/f && cat /c/f\n";
    assert!(lint_on(pool(), false, alone).findings.is_empty());
    assert!(lint_on(Engine::BuildKit, false, alone).findings.is_empty());
}

#[test]
fn q2_private_and_locked_share_a_lock_file() {
    // In one RUN, private first: it holds <dir>'s lock, and the locked mount waits on it.
    let private_first = "RUN --mount=type=cache,id=c,target=/p,sharing=private --mount=type=cache,id=c,target=/l,sharing=locked echo x > /l/f\n";
    assert!(rules(&lint_on(pool(), false, private_first)).contains(&("MF001", 2)));
    // Locked first: the private mount's TryLock of <dir> fails and it takes <dir>-1.
    let locked_first = "RUN --mount=type=cache,id=c,target=/l,sharing=locked --mount=type=cache,id=c,target=/p,sharing=private echo x > /l/f\n";
    assert!(lint_on(pool(), false, locked_first).findings.is_empty());
    // Across builds they exclude each other on <dir> (a private request while <dir> is locked
    // goes to <dir>-1), so a locked RUN after a private one is safe on the pool. BuildKit's
    // locked takes any free instance, so once private mounts made two, two locked holders meet.
    let across = "RUN --mount=type=cache,id=c,target=/c,sharing=private echo p > /c/f && cat /c/f
RUN --mount=type=cache,id=c,target=/c,sharing=locked echo l > /c/f && cat /c/f
";
    assert!(lint_on(pool(), false, across).findings.is_empty());
    let r = lint_on(Engine::BuildKit, false, across);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "MF015")
        .expect("MF015");
    assert!(f.message.contains("both hold"), "{}", f.message);
}

#[test]
fn q3_a_prune_of_the_pool_removes_held_dirs_and_their_lock_files() {
    let private =
        "RUN --mount=type=cache,id=c,target=/c,sharing=private echo p > /c/f && cat /c/f\n";
    // The pool: `buildah prune` removes the parent under a private holder (its writes fail, or
    // its file is gone) and the lock files with it.
    let r = lint_on(pool(), true, private);
    assert!(rules(&r).contains(&("MF007", 2)), "{:?}", r.findings);
    let across = "RUN --mount=type=cache,id=c,target=/c,sharing=private echo p > /c/f && cat /c/f
RUN --mount=type=cache,id=c,target=/c,sharing=locked echo l > /c/f && cat /c/f
";
    let r = lint_on(pool(), true, across);
    assert!(
        r.findings.iter().any(|f| f.rule.id == "MF014"),
        "{:?}",
        r.findings
    );
    // BuildKit's prune frees only the instances nobody holds: a private holder keeps its dir.
    assert!(lint_on(Engine::BuildKit, true, private).findings.is_empty());
}

#[test]
fn the_pool_accepts_private_where_released_buildah_rejects_it() {
    let r = lint_on(pool(), false, PRIVATE_THEN_SHARED);
    assert!(r.findings.iter().all(|f| f.rule.id != "MF003"));
    let opts = Options {
        engines: vec!["buildah@1.39".parse().unwrap()],
        ..Options::default()
    };
    let text = format!("FROM alpine\n{PRIVATE_THEN_SHARED}");
    let r = lint::lint("Dockerfile", &text, &opts).unwrap();
    assert!(r.findings.iter().any(|f| f.rule.id == "MF003"));
    assert_eq!(r.coverage[0].verdict, "unsupported");
}
