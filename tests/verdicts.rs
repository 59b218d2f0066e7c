//! Every verdict says no more than was shown: HOLDS only with a proof (exhaustive or static),
//! sampling that finds nothing says so with its counts, nothing to interleave is VACUOUS, a cut
//! search is UNKNOWN, a test that fails alone is a deterministic failure, every strategy ends
//! within its budget whatever the oracles, and no suite is too large for the bit sets.

use std::time::{Duration, Instant};

use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Proof, Strategy, Verdict};
use mountfuzz::mount::Dialect;
use mountfuzz::run::{RunConfig, run};
use mountfuzz::scenario::{Suite, builtin};
use mountfuzz::world::{Remedy, Topology, World};

const CUR: Engine = Engine::Buildah(BuildahVersion::Current);
const OLD: Engine = Engine::Buildah(BuildahVersion::V1_28);

fn local() -> World {
    World::new(Topology::Local, Remedy::None)
}

fn toml(text: &str) -> Suite {
    Suite::from_toml(text, "test.toml", Dialect::Buildah128).unwrap()
}

fn explore_with(prog: &Program, s: Strategy, oracles: Oracles, budget: Budget) -> explore::Outcome {
    let opts = Options {
        oracles,
        count_states: true,
        ..Options::default()
    };
    explore::explore(prog, s, budget, opts)
}

const STRATEGIES: [Strategy; 4] = [
    Strategy::Random,
    Strategy::Pct { depth: 3 },
    Strategy::Dfs { por: true },
    Strategy::Dfs { por: false },
];

#[test]
fn every_strategy_ends_within_its_budget_whatever_the_oracles() {
    // hazard-flag-order deadlocks in some schedules: with the deadlock oracle off, every
    // unfinished test can be blocked at once. That used to spin forever in random and PCT.
    let suite = builtin::find("hazard-flag-order").unwrap().suite();
    let prog = Program::compile(&suite, Profile::new(CUR), &local()).unwrap();
    let sets = [
        Oracles::none(),
        Oracles::of(&[Oracle::Isolation]),
        Oracles::of(&[Oracle::Expectation]),
        Oracles::all(),
    ];
    for s in STRATEGIES {
        for o in sets {
            let start = Instant::now();
            let out = explore_with(&prog, s, o, Budget::new(3_000, 2.0));
            // A hang guard, not a speed target: before the fix random and PCT never returned.
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{s} {o:?} overran"
            );
            assert!(
                out.schedules <= 3_000,
                "{s} {o:?}: {} schedules",
                out.schedules
            );
            if o == Oracles::all() {
                assert!(
                    matches!(out.verdict, Verdict::Violated(_)),
                    "{s}: {:?}",
                    out.verdict
                );
            } else if matches!(s, Strategy::Random | Strategy::Pct { .. }) {
                assert_eq!(out.verdict, Verdict::NotFound, "{s} {o:?}");
            }
        }
    }
}

#[test]
fn no_sampled_run_says_holds_and_dfs_says_which_proof() {
    // Two tests appending to one shared file, no expectations: nothing can break, but the
    // tests do share, so only an exhaustive search proves it.
    let suite = toml(
        r#"
name = "appends"
[[test]]
name = "a"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c echo a >> /c/log"
[[test]]
name = "b"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c echo b >> /c/log"
"#,
    );
    let prog = Program::compile(&suite, Profile::new(CUR), &local()).unwrap();
    assert_eq!(explore::no_search(&prog), None, "the tests share /c");
    for s in [Strategy::Random, Strategy::Pct { depth: 2 }] {
        let o = explore_with(&prog, s, Oracles::all(), Budget::new(500, 5.0));
        assert_eq!(o.verdict, Verdict::NotFound, "{s}");
        assert_eq!(o.schedules, 500);
        assert!(o.distinct_states.unwrap() > 1);
    }
    let o = explore_with(
        &prog,
        Strategy::Dfs { por: true },
        Oracles::all(),
        Budget::new(10_000, 5.0),
    );
    assert_eq!(
        o.verdict,
        Verdict::Holds {
            proof: Proof::Exhaustive
        }
    );
}

#[test]
fn dfs_finishing_exactly_at_its_budget_holds() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let world = World::new(Topology::Remote, Remedy::GlobalTmpdir);
    let prog = Program::compile(&suite, Profile::new(CUR), &world).unwrap();
    // A small tree that holds: hazard-flag-order with the fix (locks in path order).
    let prog_small = Program::compile(
        &builtin::find("hazard-flag-order").unwrap().suite(),
        Profile::new(CUR).fixed(mountfuzz::engine::Quirk::FlagOrderLocking),
        &local(),
    )
    .unwrap();
    {
        let p = &prog_small;
        let full = explore_with(
            p,
            Strategy::Dfs { por: false },
            Oracles::all(),
            Budget::new(1_000_000, 30.0),
        );
        assert_eq!(
            full.verdict,
            Verdict::Holds {
                proof: Proof::Exhaustive
            }
        );
        let n = full.schedules;
        assert!(n > 1);
        let exact = explore_with(
            p,
            Strategy::Dfs { por: false },
            Oracles::all(),
            Budget::new(n, 30.0),
        );
        assert_eq!(
            exact.verdict,
            Verdict::Holds {
                proof: Proof::Exhaustive
            },
            "budget {n} = executions"
        );
        assert_eq!(exact.schedules, n);
        let short = explore_with(
            p,
            Strategy::Dfs { por: false },
            Oracles::all(),
            Budget::new(n - 1, 30.0),
        );
        assert!(
            matches!(short.verdict, Verdict::Unknown(_)),
            "{:?}",
            short.verdict
        );
        assert_eq!(short.schedules, n - 1);
    }
    // A budget of one execution on a suite whose tests share (no oracle, so nothing breaks
    // first) is cut, never a proof.
    let o = explore_with(
        &prog,
        Strategy::Dfs { por: true },
        Oracles::none(),
        Budget::new(1, 30.0),
    );
    assert!(matches!(o.verdict, Verdict::Unknown(_)), "{:?}", o.verdict);
}

#[test]
fn nothing_to_interleave_is_vacuous_never_holds() {
    let one = toml(
        r#"
name = "one"
[[test]]
name = "a"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c echo a > /c/f"
"#,
    );
    let prog = Program::compile(
        &one,
        Profile::new(CUR),
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    for s in STRATEGIES {
        let o = explore_with(&prog, s, Oracles::all(), Budget::new(100, 5.0));
        assert_eq!(
            o.verdict,
            Verdict::Vacuous("fewer than two tests run (1 run)".into()),
            "{s}"
        );
    }
    // Two tests that mount one cache but do nothing to it.
    let idle = toml(
        r#"
name = "idle"
[[test]]
name = "a"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c true"
[[test]]
name = "b"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c true"
"#,
    );
    let world = World::new(Topology::Remote, Remedy::GlobalTmpdir);
    let prog = Program::compile(&idle, Profile::new(CUR), &world).unwrap();
    let o = explore_with(
        &prog,
        Strategy::Random,
        Oracles::all(),
        Budget::new(100, 5.0),
    );
    assert!(
        matches!(&o.verdict, Verdict::Vacuous(w) if w.contains("no RUN reads, writes")),
        "{:?}",
        o.verdict
    );
}

#[test]
fn a_test_that_fails_alone_is_a_deterministic_failure_kept_whole() {
    // `b` expects "hello" but writes "bye": it fails alone, whatever `a` does.
    let suite = toml(
        r#"
name = "det"
[[test]]
name = "a"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/a echo x > /a/f"
[[test]]
name = "b"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/b echo bye > /b/f && cat /b/f"
expect_output = "hello"
"#,
    );
    let prog = Program::compile(&suite, Profile::new(CUR), &local()).unwrap();
    let o = explore_with(
        &prog,
        Strategy::Dfs { por: true },
        Oracles::all(),
        Budget::new(100, 5.0),
    );
    let Verdict::Violated(f) = &o.verdict else {
        panic!("{:?}", o.verdict)
    };
    assert!(f.deterministic);
    let report = run(RunConfig {
        suite: suite.clone(),
        profile: Profile::new(CUR),
        world: local(),
        sharing: None,
        strategy: Strategy::Random,
        budget: Budget::new(1_000, 5.0),
        options: Options::default(),
        shrink_time: Duration::from_secs(5),
    })
    .unwrap();
    assert_eq!(report.exit_code(false), 1);
    assert_eq!(report.verdict_name(), "violated");
    assert_eq!(report.deterministic.len(), 1);
    let d = &report.deterministic[0];
    assert_eq!(d.test, "b");
    // The test is reported whole: its write and its read are still there.
    assert_eq!(
        d.counterexample.suite,
        mountfuzz::explore::shrink::alone(&suite, 1)
    );
    let text = d
        .counterexample
        .history
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("write f = \"bye\"") && text.contains("read f"),
        "{text}"
    );
    let rendered = mountfuzz::report::text::render(&report, None);
    assert!(
        rendered.contains("VIOLATED (deterministic failure)"),
        "{rendered}"
    );
    assert!(
        rendered.contains("fails on its own; no interleaving is needed"),
        "{rendered}"
    );
    // The other test alone has nothing to interleave.
    assert!(
        matches!(report.outcome.verdict, Verdict::Vacuous(_)),
        "{:?}",
        report.outcome.verdict
    );
}

/// A suite of `n` tests, each with its own cache id, except tests `a` and `b`, which share
/// `/shared`: each writes its own name there and reads it back.
fn wide_suite(n: usize, a: usize, b: usize) -> Suite {
    let mut text = String::from("name = \"wide\"\n");
    for t in 0..n {
        let id = if t == a || t == b {
            "shared".to_string()
        } else {
            format!("own{t}")
        };
        text.push_str(&format!(
            "[[test]]\nname = \"t{t}\"\n[[test.step]]\nbuild = \"FROM scratch\\nRUN --mount=type=cache,target=/c,id={id} echo t{t} > /c/f\\nRUN --mount=type=cache,target=/c,id={id} cat /c/f\"\nexpect_output = \"t{t}\"\n"
        ));
    }
    toml(&text)
}

#[test]
fn a_65_test_suite_finds_interference_between_test_0_and_test_64() {
    let suite = wide_suite(65, 0, 64);
    let prog = Program::compile(&suite, Profile::new(CUR), &local()).unwrap();
    assert_eq!(prog.tests.len(), 65);
    assert_eq!(
        explore::no_search(&prog),
        None,
        "tests 0 and 64 share a dir"
    );
    // Plain DFS has 65 tests' interleavings to go through in order: within a budget it is
    // honestly cut (UNKNOWN), never HOLDS.
    let o = explore_with(
        &prog,
        Strategy::Dfs { por: false },
        Oracles::of(&[Oracle::Isolation]),
        Budget::new(2_000, 60.0),
    );
    assert!(
        matches!(o.verdict, Verdict::Unknown(_) | Verdict::Violated(_)),
        "{:?}",
        o.verdict
    );
    for s in [
        Strategy::Random,
        Strategy::Pct { depth: 3 },
        Strategy::Dfs { por: true },
    ] {
        let o = explore_with(
            &prog,
            s,
            Oracles::of(&[Oracle::Isolation]),
            Budget::new(200_000, 60.0),
        );
        let Verdict::Violated(f) = &o.verdict else {
            panic!("{s}: {:?} after {} schedules", o.verdict, o.schedules)
        };
        assert!(
            f.violation.test == 0 || f.violation.test == 64,
            "{s}: {:?}",
            f.violation
        );
        assert!(!f.deterministic);
    }
    // 130 tests and 129 keys, beyond any 64-bit mask: still found by sampling, never wrapped.
    // (Past 64 keys every event counts as touching every key: sound, but no reduction.)
    let suite = wide_suite(130, 3, 129);
    let prog = Program::compile(&suite, Profile::new(CUR), &local()).unwrap();
    let o = explore_with(
        &prog,
        Strategy::Random,
        Oracles::of(&[Oracle::Isolation]),
        Budget::new(200_000, 60.0),
    );
    assert!(matches!(o.verdict, Verdict::Violated(_)), "{:?}", o.verdict);
    // And when nobody shares, a static proof at any size.
    let suite = wide_suite(100, 200, 300);
    let prog = Program::compile(&suite, Profile::new(CUR), &local()).unwrap();
    let o = explore_with(
        &prog,
        Strategy::Random,
        Oracles::all(),
        Budget::new(10, 60.0),
    );
    assert_eq!(
        o.verdict,
        Verdict::Holds {
            proof: Proof::Static
        }
    );
}

/// Every state reachable from `m`, canonically, by brute force over every interleaving.
fn reachable(m: &explore::Machine<'_>, seen: &mut std::collections::HashSet<String>) {
    for t in 0..m.program().tests.len() {
        if !m.enabled(t) {
            continue;
        }
        let mut next = m.clone();
        next.advance(t);
        if seen.insert(next.canonical()) {
            reachable(&next, seen);
        }
    }
}

#[test]
fn distinct_states_are_canonical_states_counted_by_brute_force() {
    // Appends from two orders reach one state; a value index that depends on the order of
    // appends would count it twice.
    let suite = toml(
        r#"
name = "appends"
[[test]]
name = "a"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c echo a >> /c/log && echo x >> /c/k"
[[test]]
name = "b"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c echo x >> /c/k && echo b >> /c/log"
[[test]]
name = "c"
[[test.step]]
build = "FROM scratch\nRUN --mount=type=cache,target=/c,sharing=locked echo c > /c/log"
"#,
    );
    for engine in [CUR, OLD, Engine::BuildKit] {
        let prog = Program::compile(&suite, Profile::new(engine), &local()).unwrap();
        let root = explore::Machine::new(&prog, Oracles::none());
        let mut seen = std::collections::HashSet::new();
        reachable(&root, &mut seen);
        let o = explore_with(
            &prog,
            Strategy::Dfs { por: false },
            Oracles::none(),
            Budget::new(u64::MAX, 60.0),
        );
        assert_eq!(
            o.verdict,
            Verdict::Holds {
                proof: Proof::Exhaustive
            }
        );
        assert_eq!(o.distinct_states, Some(seen.len() as u64), "{engine}");
        // Sampling enough schedules sees no state brute force does not know.
        let r = explore_with(
            &prog,
            Strategy::Random,
            Oracles::none(),
            Budget::new(20_000, 60.0),
        );
        assert!(r.distinct_states.unwrap() <= seen.len() as u64, "{engine}");
    }
}
