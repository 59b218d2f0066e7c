//! Whether a RUN runs at all: an engine that reuses layers runs a RUN that another build made
//! alike once (BuildKit: merged when concurrent, cached after; podman build: cached after,
//! both run when concurrent), and a cached RUN leaves its cache mounts untouched. Every
//! execution is enumerated by brute force (no reduction), so each claim is about all orders.

#[path = "common/brute.rs"]
mod common;

use common::finals;
use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::executor::Record;
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::Suite;
use mountfuzz::world::{Remedy, Topology, World};

const V139: Engine = Engine::Buildah(BuildahVersion::V1_39);

/// A suite of tests, each building its Dockerfiles in order.
fn suite(tests: &[(&str, &[&str])]) -> Suite {
    let plain: Vec<(&str, Vec<(&str, bool)>)> = tests
        .iter()
        .map(|(n, bs)| (*n, bs.iter().map(|b| (*b, false)).collect()))
        .collect();
    let refs: Vec<(&str, &[(&str, bool)])> =
        plain.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    common::suite_of(&refs)
}

/// The history of every complete execution of `prog`, oracles off (so nothing stops early).
fn executions(prog: &Program) -> Vec<Vec<Record>> {
    finals(prog, Oracles::none())
        .iter()
        .map(|m| m.history().to_vec())
        .collect()
}

/// The world with layer reuse modelled (`--layers`).
fn layered(topology: Topology) -> World {
    World {
        layer_cache: true,
        ..World::new(topology, Remedy::None)
    }
}

fn compile(s: &Suite, engine: Engine, topology: Topology) -> Program {
    Program::compile(s, Profile::new(engine), &layered(topology)).unwrap()
}

/// How many records of `h` start with `what`.
fn count(h: &[Record], what: &str) -> usize {
    h.iter().filter(|r| r.text.starts_with(what)).count()
}

const APPEND: &str = "FROM busybox\nRUN --mount=type=cache,target=/c echo ran >> /c/log\n";

#[test]
fn buildkit_runs_a_run_two_builds_make_alike_once_in_every_order() {
    let s = suite(&[("a", &[APPEND]), ("b", &[APPEND])]);
    let prog = compile(&s, Engine::BuildKit, Topology::Local);
    assert_eq!(prog.layers.len(), 1);
    assert!(
        prog.notes.iter().any(|n| n.contains("merged")),
        "{:?}",
        prog.notes
    );
    let all = executions(&prog);
    assert!(all.len() > 1);
    for h in &all {
        assert_eq!(count(h, "append"), 1, "{h:#?}");
        assert_eq!(count(h, "RUN cached"), 1);
    }
    // Either build may be the one that runs it.
    let runner = |h: &Vec<Record>| {
        h.iter()
            .find(|r| r.text.starts_with("append"))
            .unwrap()
            .test
    };
    assert!(all.iter().any(|h| runner(h) == 0) && all.iter().any(|h| runner(h) == 1));
}

#[test]
fn buildah_bud_runs_every_run_and_podman_build_runs_concurrent_ones_twice() {
    let s = suite(&[("a", &[APPEND]), ("b", &[APPEND])]);
    let local = compile(&s, V139, Topology::Local);
    assert!(
        local.layers.is_empty(),
        "buildah bud defaults to --layers=false"
    );
    assert!(executions(&local).iter().all(|h| count(h, "append") == 2));
    // podman build (remote) reuses a finished layer only: both orders happen.
    let remote = compile(&s, V139, Topology::Remote);
    assert_eq!(remote.layers.len(), 1);
    let appends: Vec<usize> = executions(&remote)
        .iter()
        .map(|h| count(h, "append"))
        .collect();
    assert!(appends.contains(&1) && appends.contains(&2), "{appends:?}");
}

#[test]
fn a_repeated_build_of_one_test_is_cached_and_a_different_one_is_not() {
    let read = "FROM busybox\nRUN --mount=type=cache,target=/c cat /c/log\n";
    let s = suite(&[("a", &[APPEND, APPEND, read])]);
    let prog = compile(&s, Engine::BuildKit, Topology::Local);
    let all = executions(&prog);
    assert_eq!(all.len(), 1);
    assert_eq!(count(&all[0], "append"), 1);
    assert_eq!(count(&all[0], "read"), 1, "{:#?}", all[0]);
    // With the layer cache off (the default: builds taken as distinct), every RUN runs, and
    // the report says what the engine would do instead.
    let off = World::new(Topology::Local, Remedy::None);
    let prog = Program::compile(&s, Profile::new(Engine::BuildKit), &off).unwrap();
    assert!(prog.layers.is_empty());
    assert!(
        prog.notes.iter().any(|n| n.contains("pass --layers")),
        "{:?}",
        prog.notes
    );
    assert_eq!(count(&executions(&prog)[0], "append"), 2);
}

#[test]
fn a_failed_run_leaves_no_layer() {
    let missing = "FROM busybox\nRUN --mount=type=cache,target=/c cat /c/missing\n";
    let s = suite(&[("a", &[missing]), ("b", &[missing])]);
    let prog = compile(&s, Engine::BuildKit, Topology::Local);
    for h in executions(&prog) {
        assert_eq!(count(&h, "RUN cached"), 0, "{h:#?}");
        assert_eq!(
            h.iter()
                .filter(|r| r.build.as_ref().is_some_and(|b| b.failure.is_some()))
                .count(),
            2
        );
    }
}

#[test]
fn on_buildah_a_build_that_ran_a_run_reuses_no_later_layer() {
    let two = "FROM busybox\nRUN --mount=type=cache,target=/c echo 1 >> /c/one\nRUN --mount=type=cache,target=/c echo 2 >> /c/two\n";
    let s = suite(&[("a", &[two]), ("b", &[two])]);
    let runs = |engine| -> Vec<(usize, usize)> {
        let prog = compile(&s, engine, Topology::Remote);
        assert_eq!(prog.layers.len(), 2);
        let mut v: Vec<(usize, usize)> = executions(&prog)
            .iter()
            .map(|h| (count(h, "append one"), count(h, "append two")))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // podman build: two builds that both ran the first RUN both run the second (never (2, 1));
    // one that reused the first can reuse the second or, when concurrent, run it too.
    assert_eq!(runs(V139), vec![(1, 1), (1, 2), (2, 2)]);
    // BuildKit keys a RUN by its definition and merges: each runs once.
    assert_eq!(runs(Engine::BuildKit), vec![(1, 1)]);
}

#[test]
fn the_exhaustive_search_covers_which_build_runs_a_merged_run() {
    // a and b build the same Dockerfile, then b reads the log. b reads another test's bytes
    // exactly when a was the one that ran the RUN: the exhaustive search, with and without its
    // reduction, must find that order.
    let read = "FROM busybox\nRUN --mount=type=cache,target=/c cat /c/log\n";
    let s = suite(&[("a", &[APPEND]), ("b", &[APPEND, read])]);
    let prog = compile(&s, Engine::BuildKit, Topology::Local);
    let crossed: Vec<bool> = finals(&prog, Oracles::of(&[Oracle::Isolation]))
        .iter()
        .map(|m| m.violation().is_some())
        .collect();
    assert!(crossed.contains(&true) && crossed.contains(&false));
    for por in [true, false] {
        let out = explore::explore(
            &prog,
            Strategy::Dfs { por },
            Budget::new(100_000, 30.0),
            Options {
                oracles: Oracles::of(&[Oracle::Isolation]),
                ..Options::default()
            },
        );
        assert!(
            matches!(out.verdict, Verdict::Violated(_)),
            "por={por}: {:?}",
            out.verdict
        );
    }
}

/// `s` with its builds' Dockerfile text dropped, so a layer is keyed by the RUNs alone (as
/// for generated suites, and for mounts a remedy rewrites).
fn runs_only(mut s: Suite) -> Suite {
    for t in &mut s.tests {
        for st in &mut t.steps {
            if let mountfuzz::scenario::Step::Build(b) = st {
                b.source = None;
            }
        }
    }
    s
}

/// Whether two tests whose one RUN has these mount options share its layer on `engine`.
fn share(engine: Engine, topology: Topology, a: &str, b: &str) -> bool {
    let run =
        |opts: &str| format!("FROM busybox\nRUN --mount=type=cache,{opts} echo ran >> /c/log\n");
    let s = runs_only(suite(&[("a", &[&run(a)]), ("b", &[&run(b)])]));
    compile(&s, engine, topology).layers.len() == 1
}

#[test]
fn buildkit_keys_a_layer_without_a_cache_id_or_sharing_that_is_not_the_default() {
    // solver/llbsolver/ops/exec.go clears a cache mount's id and sharing from the key unless
    // they are the defaults (id = target, shared).
    let bk = |a, b| share(Engine::BuildKit, Topology::Local, a, b);
    assert!(bk("target=/c,id=x", "target=/c,id=y"));
    assert!(bk("target=/c,id=x", "target=/c,id=y,sharing=locked"));
    assert!(bk("target=/c", "target=/c,id=/c"));
    assert!(
        !bk("target=/c", "target=/c,id=x"),
        "the default id stays in the key"
    );
    assert!(!bk("target=/c", "target=/c,sharing=locked"));
    // Buildah compares the instruction as written.
    assert!(!share(
        V139,
        Topology::Remote,
        "target=/c,id=x",
        "target=/c,id=y"
    ));
    assert!(share(
        V139,
        Topology::Remote,
        "target=/c,id=x",
        "target=/c,id=x"
    ));
    // With the Dockerfile text kept, the whole text is the key: texts that differ in an id
    // are distinct builds (a conservative reading: fewer layers shared).
    let run = |id: &str| {
        format!("FROM busybox\nRUN --mount=type=cache,target=/c,id={id} echo ran >> /c/log\n")
    };
    let s = suite(&[("a", &[&run("x")]), ("b", &[&run("y")])]);
    assert!(
        compile(&s, Engine::BuildKit, Topology::Local)
            .layers
            .is_empty()
    );
}

#[test]
fn dpor_explores_one_execution_per_trace_and_every_final_state_with_layers() {
    // The brute-force census (every interleaving, its final state, its trace under the
    // dependency relation) against DPOR, on programs whose tests meet at shared layers.
    let read = "FROM busybox\nRUN --mount=type=cache,target=/c cat /c/log\n";
    let two = "FROM busybox\nRUN --mount=type=cache,target=/c echo 1 >> /c/one\nRUN --mount=type=cache,target=/c echo 2 >> /c/two\n";
    let locked =
        "FROM busybox\nRUN --mount=type=cache,target=/c,sharing=locked echo ran >> /c/log\n";
    let suites = [
        suite(&[("a", &[APPEND]), ("b", &[APPEND, read])]),
        suite(&[("a", &[two]), ("b", &[two])]),
        suite(&[("a", &[locked, read]), ("b", &[locked])]),
    ];
    let mut checked = 0;
    for s in &suites {
        for (engine, topology) in [
            (Engine::BuildKit, Topology::Local),
            (V139, Topology::Remote),
        ] {
            let prog = compile(s, engine, topology);
            assert!(!prog.layers.is_empty());
            common::assert_dpor_matches_census(&prog, &format!("{engine} {topology:?}: {s:?}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}
