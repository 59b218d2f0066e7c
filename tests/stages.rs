//! Stages of one build that run at once (BuildKit; Buildah only with `--jobs`, which the model
//! does not take): each stage's RUNs are a thread of their own, started with the build and
//! joined at its end, and a RUN waits only for the stages its own stage needs up to it. Claims
//! about all orders are checked by brute force.

#[path = "common/brute.rs"]
mod common;

use common::{assert_dpor_matches_census, finals};
use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::{Step, Suite};
use mountfuzz::world::{Remedy, Topology, World};

fn suite(tests: &[(&str, &str)]) -> Suite {
    common::one_build_each(tests)
}

fn world(in_order: bool) -> World {
    World {
        stages_in_order: in_order,
        ..World::new(Topology::Remote, Remedy::None)
    }
}

fn compile(s: &Suite, engine: Engine, in_order: bool) -> Program {
    Program::compile(s, Profile::new(engine), &world(in_order)).unwrap()
}

/// Two stages on one base, each writing then reading one file of a shared cache; the final
/// stage copies from both.
const TWO_STAGES: &str = "FROM busybox AS base
FROM base AS a
RUN --mount=type=cache,target=/c,id=c echo a > /c/f && cat /c/f
FROM base AS b
RUN --mount=type=cache,target=/c,id=c echo b > /c/f && cat /c/f
FROM base
COPY --from=a /x /x
COPY --from=b /x /x
";

/// Stage y runs one RUN before its `COPY --from=x` and one after.
const COPY_FROM_MIDWAY: &str = "FROM busybox AS x
RUN --mount=type=cache,target=/c,id=c echo x >> /c/log
FROM busybox AS y
RUN --mount=type=cache,target=/c,id=c echo y1 >> /c/log
COPY --from=x /x /x
RUN --mount=type=cache,target=/c,id=c echo y2 >> /c/log
";

/// The file's content at the end of execution `m` (the last read's value is not needed: the
/// history says which RUN appended when).
fn order_of_appends(m: &mountfuzz::explore::Machine<'_>) -> Vec<String> {
    m.history()
        .iter()
        .filter(|r| r.text.starts_with("append"))
        .map(|r| r.text.clone())
        .collect()
}

#[test]
fn independent_stages_are_threads_on_buildkit_and_in_order_elsewhere() {
    let s = suite(&[("p", TWO_STAGES)]);
    let Step::Build(b) = &s.tests[0].steps[0] else {
        panic!("a build")
    };
    let st = b.stages.as_ref().expect("two stages at once");
    assert_eq!(st.names, ["a", "b"]);
    let prog = compile(&s, Engine::BuildKit, false);
    assert_eq!(prog.tests.len(), 3, "the test's thread and one per stage");
    assert_eq!(prog.mains(), 1);
    assert!(prog.tests[1].name.contains("[stage a]") && prog.tests[2].name.contains("[stage b]"));
    for engine in [
        Engine::Buildah(BuildahVersion::V1_39),
        Engine::Buildah(BuildahVersion::V1_28),
    ] {
        assert_eq!(compile(&s, engine, false).tests.len(), 1, "{engine}");
    }
    assert_eq!(compile(&s, Engine::BuildKit, true).tests.len(), 1);
    // A chain of stages (b FROM a) has nothing to run at once: no threads.
    let chain = "FROM busybox AS a\nRUN --mount=type=cache,target=/c echo a > /c/f\nFROM a\nRUN --mount=type=cache,target=/c cat /c/f\n";
    let s = suite(&[("chain", chain)]);
    let Step::Build(b) = &s.tests[0].steps[0] else {
        panic!("a build")
    };
    assert_eq!(b.stages, None);
    assert_eq!(compile(&s, Engine::BuildKit, false).tests.len(), 1);
}

#[test]
fn two_stages_of_one_build_race_on_buildkit_only() {
    let s = suite(&[("p", TWO_STAGES)]);
    // One build's two stages: a torn read of each other's write and a lost...: with writes in
    // flight, stage a can read f while stage b is writing it.
    let torn = |engine: Engine, in_order: bool| {
        let w = World {
            torn_writes: true,
            ..world(in_order)
        };
        let prog = Program::compile(&s, Profile::new(engine), &w).unwrap();
        let all = finals(&prog, Oracles::of(&[Oracle::TornRead]));
        let broken = all
            .iter()
            .any(|m| m.violation().is_some_and(|v| v.oracle == Oracle::TornRead));
        (broken, all.len())
    };
    let (broken, n) = torn(Engine::BuildKit, false);
    assert!(broken && n > 1, "{n} executions");
    let (broken, n) = torn(Engine::BuildKit, true);
    assert!(!broken && n == 1, "stages in order: {n} executions");
    let (broken, _) = torn(Engine::Buildah(BuildahVersion::V1_39), false);
    assert!(!broken);
    // What a stage reads depends on the order: both values occur.
    let prog = compile(&s, Engine::BuildKit, false);
    let reads: std::collections::BTreeSet<Option<Option<String>>> = finals(&prog, Oracles::none())
        .iter()
        .flat_map(|m| {
            m.history()
                .iter()
                .filter(|r| r.read.is_some())
                .map(|r| r.read.clone())
        })
        .collect();
    assert!(reads.contains(&Some(Some("a".into()))) && reads.contains(&Some(Some("b".into()))));
    assert!(
        finals(&prog, Oracles::none()).len() > 2,
        "the two stages' RUNs interleave"
    );
}

#[test]
fn stages_of_one_test_are_one_test_to_the_isolation_oracle() {
    // Alone, stage a reads what stage b wrote in some order: that is no cross-test read.
    let one = suite(&[("p", TWO_STAGES)]);
    let prog = compile(&one, Engine::BuildKit, false);
    let all = finals(&prog, Oracles::of(&[Oracle::Isolation]));
    assert!(all.len() > 1);
    assert!(all.iter().all(|m| m.violation().is_none()));
    // Two copies: a stage of one reads what a stage of the other wrote, in some order.
    let two = suite(&[("p", TWO_STAGES), ("q", TWO_STAGES)]);
    let prog = compile(&two, Engine::BuildKit, false);
    assert_eq!((prog.tests.len(), prog.mains()), (6, 2));
    let v = explore::explore(
        &prog,
        Strategy::Dfs { por: true },
        Budget::new(1_000_000, 60.0),
        Options {
            oracles: Oracles::of(&[Oracle::Isolation]),
            ..Options::default()
        },
    );
    let Verdict::Violated(f) = v.verdict else {
        panic!("two copies cross-read: {:?}", v.verdict)
    };
    assert!(
        f.violation.message.contains("[stage"),
        "{}",
        f.violation.message
    );
}

#[test]
fn a_run_waits_only_for_the_stages_its_stage_needs_so_far() {
    let s = suite(&[("p", COPY_FROM_MIDWAY)]);
    let prog = compile(&s, Engine::BuildKit, false);
    let all = finals(&prog, Oracles::none());
    let orders: std::collections::BTreeSet<Vec<String>> =
        all.iter().map(order_of_appends).collect();
    let pos = |o: &[String], w: &str| o.iter().position(|t| t.contains(w)).unwrap();
    // y's first RUN runs before or after x's; y's second always after x's.
    assert!(orders.iter().any(|o| pos(o, "\"y1\"") < pos(o, "\"x\"")));
    assert!(orders.iter().any(|o| pos(o, "\"x\"") < pos(o, "\"y1\"")));
    assert!(orders.iter().all(|o| pos(o, "\"x\"") < pos(o, "\"y2\"")));
    assert_dpor_matches_census(&prog, "COPY --from midway");
}

#[test]
fn dpor_gives_one_execution_per_trace_with_stage_threads() {
    let s = suite(&[("p", TWO_STAGES)]);
    assert_dpor_matches_census(
        &compile(&s, Engine::BuildKit, false),
        "one build, two stages",
    );
    let one_run = "FROM busybox\nRUN --mount=type=cache,target=/c,id=c echo q >> /c/log\n";
    let s = suite(&[("p", COPY_FROM_MIDWAY), ("q", one_run)]);
    assert_dpor_matches_census(
        &compile(&s, Engine::BuildKit, false),
        "a build with stages beside another",
    );
    // Plain DFS agrees on the verdict of every oracle set.
    let prog = compile(&s, Engine::BuildKit, false);
    for oracles in [Oracles::of(&[Oracle::Isolation]), Oracles::all()] {
        let run = |strategy| {
            explore::explore(
                &prog,
                strategy,
                Budget::new(2_000_000, 60.0),
                Options {
                    oracles,
                    ..Options::default()
                },
            )
            .verdict
            .name()
        };
        assert_eq!(
            run(Strategy::Dfs { por: true }),
            run(Strategy::Dfs { por: false })
        );
    }
}

#[test]
fn a_failing_stage_fails_the_build_and_what_needs_it_does_not_run() {
    let failing = "FROM busybox AS a
RUN --mount=type=cache,target=/c,id=c cat /c/missing
FROM busybox AS b
RUN --mount=type=cache,target=/c,id=c echo b > /c/g
FROM b AS c
COPY --from=a /x /x
RUN --mount=type=cache,target=/c,id=c echo c > /c/h
";
    let s = suite(&[("p", failing)]);
    let prog = compile(&s, Engine::BuildKit, false);
    assert!(prog.tests.len() > 1);
    for m in finals(&prog, Oracles::of(&[Oracle::Expectation])) {
        let v = m.violation().expect("the build fails in every order");
        assert_eq!(v.oracle, Oracle::Expectation);
        assert!(v.message.contains("No such file"), "{}", v.message);
        // Stage c needs a, which failed: its write never happens.
        assert!(
            !m.history().iter().any(|r| r.text.contains("write h")),
            "{:?}",
            m.history()
        );
    }
}

#[test]
fn a_suite_file_keeps_the_stages_when_its_runs_are_written_out() {
    for text in [TWO_STAGES, COPY_FROM_MIDWAY] {
        let s = suite(&[("p", text)]).with_sharing(mountfuzz::mount::Sharing::Locked);
        let Step::Build(b) = &s.tests[0].steps[0] else {
            panic!("a build")
        };
        assert!(b.source.is_none() && b.stages.is_some());
        let dialect = Engine::BuildKit.dialect();
        let back = Suite::from_toml(&s.to_toml(dialect), "back.toml", dialect).unwrap();
        assert_eq!(back.tests, s.tests, "{}", s.to_toml(dialect));
        // Less one RUN, as the shrinker cuts: the text written reads back the same too.
        for i in 0..b.runs.len() {
            let mut cut = s.clone();
            let Step::Build(cb) = &mut cut.tests[0].steps[0] else {
                unreachable!()
            };
            cb.runs.remove(i);
            cb.stages = cb.stages.as_ref().and_then(|st| st.without_run(i));
            let back = Suite::from_toml(&cut.to_toml(dialect), "cut.toml", dialect).unwrap();
            assert_eq!(back.tests, cut.tests, "RUN {i}: {}", cut.to_toml(dialect));
        }
    }
}

fn buildkit_program(s: &Suite) -> Program {
    Program::compile(
        s,
        Profile::new(Engine::BuildKit),
        &World {
            torn_writes: true,
            ..world(false)
        },
    )
    .unwrap()
}

/// On generated builds whose stages run at once: along a random walk, events the relation calls
/// independent commute; DPOR explores one execution per trace of the brute-force census, none
/// blocked, and gives plain DFS's verdict. At stake: most cases have stage threads and several
/// traces.
#[test]
fn generated_stage_builds_keep_the_reduction_exact() {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let (cases, staged, interleaved) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let big = AtomicU64::new(0);
    let config = mountfuzz::testing::proptest_config("proptest-regressions/stages.txt", 120);
    proptest::proptest!(config, |(
        s in mountfuzz::scenario::strategy::suite(mountfuzz::scenario::strategy::Shape::stages()),
        walk in proptest::collection::vec(proptest::prelude::any::<u32>(), 1..40),
    )| {
        cases.fetch_add(1, Relaxed);
        let prog = buildkit_program(&s);
        let n = prog.tests.len();
        if n > prog.mains() {
            staged.fetch_add(1, Relaxed);
        }
        let mut m = mountfuzz::explore::Machine::new(&prog, Oracles::all());
        for w in walk {
            let enabled: Vec<usize> = (0..n).filter(|&t| m.enabled(t)).collect();
            if enabled.is_empty() || m.violation().is_some() {
                break;
            }
            for &a in &enabled {
                for b in (0..n).filter(|&b| b != a && !m.done(b)) {
                    if !m.footprint(a).conflicts(&m.footprint(b)) {
                        let r = common::commute(&m, a, b);
                        proptest::prop_assert!(r.is_ok(), "{:?}", r);
                    }
                }
            }
            m.advance(enabled[w as usize % enabled.len()]);
        }
        let Some(census) = explore::traces::census(&prog, Oracles::none(), 20_000) else {
            big.fetch_add(1, Relaxed);
            return Ok(());
        };
        if census.traces > 1 {
            interleaved.fetch_add(1, Relaxed);
        }
        let opts = Options { oracles: Oracles::none(), ..Options::default() };
        let (_, counts, finals) = explore::dpor::finals(&prog, Budget::new(1_000_000, 60.0), &opts);
        proptest::prop_assert_eq!(counts.blocked, 0);
        proptest::prop_assert_eq!(counts.executions, census.traces);
        proptest::prop_assert_eq!(&finals, &census.finals);
        let verdict = |por| {
            explore::explore(&prog, Strategy::Dfs { por }, Budget::new(200_000, 30.0), Options::default())
                .verdict
        };
        let (a, b) = (verdict(true), verdict(false));
        if !matches!(b, Verdict::Unknown(_)) {
            proptest::prop_assert_eq!(a.name(), b.name());
        }
    });
    let (cases, staged, interleaved) = (
        cases.into_inner(),
        staged.into_inner(),
        interleaved.into_inner(),
    );
    eprintln!(
        "{cases} cases, {staged} with stage threads, {interleaved} with several traces, {} too large to enumerate",
        big.into_inner()
    );
    assert!(
        staged * 2 >= cases,
        "{staged} of {cases} with stage threads"
    );
    assert!(
        interleaved * 2 >= cases,
        "{interleaved} of {cases} with several traces"
    );
}
