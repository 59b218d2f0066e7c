//! Torn reads: a write through `O_TRUNC` (`echo … > f`, `cp`, `tee`) empties its file before
//! its bytes land, and a build that reads the file in between sees it empty. With
//! `World::torn_writes` that moment is an event of its own, and the torn-read oracle flags a
//! read that finds another test's write in flight. A rename (`sed -i`, `mv` within one mount)
//! has no such moment. Claims about all orders are checked by brute force.

#[path = "common/brute.rs"]
mod common;

use std::collections::BTreeMap;

use common::finals;
use mountfuzz::check::{Intent, Oracle, Oracles};
use mountfuzz::containerfile::Command;
use mountfuzz::effects::of_run;
use mountfuzz::engine::{Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::mount::MountSpec;
use mountfuzz::scenario::{CacheOp, Suite};
use mountfuzz::world::{Remedy, Topology, World};

fn suite(tests: &[(&str, &str)]) -> Suite {
    common::one_build_each(tests)
}

fn world(torn: bool) -> World {
    World {
        torn_writes: torn,
        ..World::new(Topology::Local, Remedy::None)
    }
}

fn compile(s: &Suite, engine: Engine, torn: bool) -> Program {
    Program::compile(s, Profile::new(engine), &world(torn)).unwrap()
}

const WRITE_READ: &str =
    "FROM busybox\nRUN --mount=type=cache,target=/c echo hi > /c/stamp && cat /c/stamp\n";

/// Whether some complete execution breaks `oracle`, by brute force.
fn some_execution_breaks(prog: &Program, oracle: Oracle) -> (bool, usize) {
    let all = finals(prog, Oracles::of(&[oracle]));
    let broken = all
        .iter()
        .any(|m| m.violation().is_some_and(|v| v.oracle == oracle));
    (broken, all.len())
}

#[test]
fn a_read_between_another_builds_open_and_its_bytes_is_torn() {
    let s = suite(&[("a", WRITE_READ), ("b", WRITE_READ)]);
    for engine in [
        Engine::BuildKit,
        Engine::Buildah(mountfuzz::engine::BuildahVersion::V1_39),
    ] {
        let (broken, n) = some_execution_breaks(&compile(&s, engine, true), Oracle::TornRead);
        assert!(broken && n > 1, "{engine}: {n} executions");
        // Writes as one step: no execution has the moment, so none is torn.
        let (broken, n) = some_execution_breaks(&compile(&s, engine, false), Oracle::TornRead);
        assert!(!broken && n > 1, "{engine}");
    }
    // The message names both builds and the file.
    let prog = compile(&s, Engine::BuildKit, true);
    let v = finals(&prog, Oracles::of(&[Oracle::TornRead]))
        .into_iter()
        .find_map(|m| m.violation().cloned())
        .unwrap();
    assert!(
        v.message.contains("stamp") && v.message.contains("O_TRUNC"),
        "{}",
        v.message
    );
}

#[test]
fn sharing_locked_and_a_rename_into_place_are_not_torn() {
    let locked = "FROM busybox\nRUN --mount=type=cache,target=/c,sharing=locked echo hi > /c/stamp && cat /c/stamp\n";
    let renamed = "FROM busybox\nRUN --mount=type=cache,target=/c echo hi > /c/stamp.$$ && mv /c/stamp.$$ /c/stamp && cat /c/stamp\n";
    let sed = "FROM busybox\nRUN --mount=type=cache,target=/c sed -i s/a/b/ /c/stamp || true; cat /c/stamp || true\n";
    for text in [locked, renamed, sed] {
        let s = suite(&[("a", text), ("b", text)]);
        let prog = compile(&s, Engine::BuildKit, true);
        let (broken, n) = some_execution_breaks(&prog, Oracle::TornRead);
        assert!(!broken && n > 1, "{text}: {n} executions");
    }
    // A shared staging name is a hazard again: one build's mv can take the other's half-written
    // file into place (judged as a torn read of the staging file).
    let shared_staging = "FROM busybox\nRUN --mount=type=cache,target=/c echo hi > /c/stamp.new && mv /c/stamp.new /c/stamp\n";
    let s = suite(&[("a", shared_staging), ("b", shared_staging)]);
    let (broken, _) = some_execution_breaks(&compile(&s, Engine::BuildKit, true), Oracle::TornRead);
    assert!(broken);
}

#[test]
fn the_effects_tell_a_rename_from_a_write_through_o_trunc() {
    let mounts = [MountSpec::cache("/c"), MountSpec::cache("/d")];
    let ops = |script: &str| -> Vec<CacheOp> {
        of_run(
            &Command::Shell(script.into()),
            &mounts,
            "/",
            &BTreeMap::new(),
        )
        .unwrap()
        .commands
        .into_iter()
        .flat_map(|c| c.ops)
        .collect()
    };
    let kind = |op: &CacheOp| match op {
        CacheOp::Write { file, .. } => format!("write {file}"),
        CacheOp::Replace { file, .. } => format!("replace {file}"),
        CacheOp::Read { file, .. } => format!("read {file}"),
        CacheOp::Remove { file, .. } => format!("remove {file}"),
        CacheOp::Stat { file, .. } => format!("look {file}"),
        other => format!("{other:?}"),
    };
    let kinds = |script: &str| ops(script).iter().map(kind).collect::<Vec<_>>();
    assert_eq!(kinds("echo x > /c/f"), ["write f"]);
    assert_eq!(kinds("cp /c/a /c/b"), ["read a", "write b"]);
    assert_eq!(kinds("echo x | tee /c/f"), ["write f"]);
    // A rename within one mount (its source counts as read: renaming a file another build is
    // writing moves partial bytes), and sed -i (a temporary file renamed over the original).
    assert_eq!(kinds("mv /c/a /c/b"), ["read a", "replace b", "remove a"]);
    // A source known only at build time, in the same mount: opaque, and still a rename.
    let dynamic = kinds("mv /c/a.$$ /c/b");
    assert_eq!(
        dynamic.last().map(String::as_str),
        Some("replace b"),
        "{dynamic:?}"
    );
    assert!(
        !dynamic.iter().any(|k| k.starts_with("write")),
        "{dynamic:?}"
    );
    // The same from a WORKDIR in the cache, with relative names.
    let fx = of_run(
        &Command::Shell("mv new.$$ f".into()),
        &mounts,
        "/c",
        &BTreeMap::new(),
    )
    .unwrap();
    let last = fx.commands.iter().flat_map(|c| &c.ops).last().map(kind);
    assert_eq!(last.as_deref(), Some("replace f"));
    assert_eq!(kinds("sed -i s/x/y/ /c/f"), ["read f", "replace f"]);
    assert_eq!(kinds("truncate -s 0 /c/f"), ["replace f"]);
    // Across two mounts mv copies (EXDEV), and from outside every cache too.
    assert_eq!(kinds("mv /c/a /d/b"), ["read a", "write b", "remove a"]);
    assert_eq!(kinds("mv /tmp/a /c/b"), ["write b"]);
}

#[test]
fn torn_writes_add_one_event_per_write_through_o_trunc_and_none_per_rename() {
    let text = "FROM busybox\nRUN --mount=type=cache,target=/c echo x > /c/a && mv /c/a /c/b && cp /c/b /c/c\n";
    let s = suite(&[("a", text)]);
    let len = |torn| compile(&s, Engine::BuildKit, torn).tests[0].events.len();
    // Two writes through O_TRUNC (echo's redirection, cp's destination), one rename.
    assert_eq!(len(true), len(false) + 2);
}

#[test]
fn dpor_explores_one_execution_per_trace_and_finds_what_brute_force_finds() {
    let append =
        "FROM busybox\nRUN --mount=type=cache,target=/c echo a >> /c/log && cat /c/stamp || true\n";
    let read = "FROM busybox\nRUN --mount=type=cache,target=/c cat /c/stamp\n";
    // Torn, not torn (b only looks at the file: `cat … || true`), torn.
    let suites = [
        suite(&[("a", WRITE_READ), ("b", WRITE_READ)]),
        suite(&[("a", WRITE_READ), ("b", append)]),
        suite(&[("a", WRITE_READ), ("b", read)]),
    ];
    let mut torn_found = 0;
    for s in &suites {
        let prog = compile(s, Engine::BuildKit, true);
        common::assert_dpor_matches_census(&prog, &format!("{s:?}"));
        let (brute, _) = some_execution_breaks(&prog, Oracle::TornRead);
        for por in [true, false] {
            let out = explore::explore(
                &prog,
                Strategy::Dfs { por },
                Budget::new(5_000_000, 60.0),
                Options {
                    oracles: Oracles::of(&[Oracle::TornRead]),
                    ..Options::default()
                },
            );
            assert_eq!(
                matches!(out.verdict, Verdict::Violated(ref v) if v.violation.oracle == Oracle::TornRead),
                brute,
                "por={por}: {:?}",
                out.verdict
            );
        }
        torn_found += usize::from(brute);
    }
    assert_eq!(torn_found, 2);
}

#[test]
fn the_shared_cache_intent_checks_torn_reads_and_isolation_does_not() {
    assert!(Intent::SharedCache.oracles().has(Oracle::TornRead));
    assert!(!Intent::Isolation.oracles().has(Oracle::TornRead));
    assert_eq!("torn-read".parse::<Oracle>(), Ok(Oracle::TornRead));
}

#[test]
fn the_library_checks_torn_reads_under_the_shared_cache_intent() {
    use mountfuzz::Check;
    let check = |intent| {
        Check::new(suite(&[("a", WRITE_READ), ("b", WRITE_READ)]))
            .engine(Engine::BuildKit)
            .topology(Topology::Local)
            .strategy(Strategy::Dfs { por: true })
            .intent(intent)
            .run()
            .unwrap()
    };
    let shared = check(Intent::SharedCache);
    assert_eq!(
        shared.violation().map(|v| v.oracle),
        Some(Oracle::TornRead),
        "{:?}",
        shared.violation()
    );
    // Under isolation the copies' cross-reads are the violation, and writes are one step.
    let isolation = check(Intent::Isolation);
    assert_ne!(
        isolation.violation().map(|v| v.oracle),
        Some(Oracle::TornRead)
    );
}
