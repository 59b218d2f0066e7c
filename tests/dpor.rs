//! Optimal DPOR against brute force, on suites whose tests share caches. The oracle enumerates
//! every interleaving and counts Mazurkiewicz traces by canonical form
//! (`explore::traces::census`); the search must explore exactly one execution per trace, none
//! sleep-set blocked, and reach exactly the final states brute force reaches. Sharded, the
//! shards together must explore the same traces once.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use mountfuzz::check::Oracles;
use mountfuzz::engine::{BuildahVersion, Engine, Profile, Quirk};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict, dpor, traces};
use mountfuzz::scenario::families::Family;
use mountfuzz::scenario::strategy::{Shape, suite};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

fn world(remote: bool) -> World {
    let topology = if remote {
        Topology::Remote
    } else {
        Topology::Local
    };
    World::new(topology, Remedy::None)
}

fn quiet() -> Options {
    Options {
        oracles: Oracles::none(),
        ..Options::default()
    }
}

/// Debug builds (the CI's `cargo test`) run smaller sizes; `cargo test --release` the full ones.
const FULL: bool = !cfg!(debug_assertions);

fn engines() -> [Engine; 3] {
    [
        Engine::Buildah(BuildahVersion::V1_28),
        Engine::Buildah(BuildahVersion::Current),
        Engine::BuildKit,
    ]
}

#[test]
fn executions_equal_traces_on_generated_sharing_suites() {
    let (compared, interleaved, big) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let config = mountfuzz::testing::proptest_config(
        "proptest-regressions/dpor.txt",
        if FULL { 600 } else { 250 },
    );
    let cases = config.cases as u64;
    proptest!(config, |(
        s in suite(Shape::sharing()),
        engine in prop::sample::select(Engine::ALL.into_iter().chain(Engine::DRAFTS).collect::<Vec<_>>()),
        remote in any::<bool>(),
        fixes in prop::collection::vec(prop::sample::select(Quirk::ALL.to_vec()), 0..3),
    )| {
        let profile = fixes
            .iter()
            .fold(Profile::new(engine).fixed(Quirk::PrivateRejected), |p, q| p.fixed(*q));
        let prog = Program::compile(&s, profile, &world(remote)).unwrap();
        let Some(census) = traces::census(&prog, Oracles::none(), if FULL { 20_000 } else { 12_000 }) else {
            big.fetch_add(1, Relaxed);
            return Ok(());
        };
        let (verdict, counts, finals) = dpor::finals(&prog, Budget::new(1_000_000, 60.0), &quiet());
        prop_assert!(matches!(verdict, Verdict::Holds { .. }), "{verdict:?}");
        prop_assert_eq!(counts.blocked, 0, "sleep-set blocked executions");
        prop_assert_eq!(counts.executions, census.traces,
            "executions vs traces ({} interleavings)", census.interleavings);
        prop_assert_eq!(&finals, &census.finals, "final states differ from brute force");
        compared.fetch_add(1, Relaxed);
        if census.traces > 1 {
            interleaved.fetch_add(1, Relaxed);
        }
    });
    let (compared, interleaved, big) = (
        compared.into_inner(),
        interleaved.into_inner(),
        big.into_inner(),
    );
    eprintln!(
        "{compared} suites compared ({interleaved} with more than one trace), {big} too large to enumerate"
    );
    // At stake: most suites were enumerated, and most of those have several traces.
    assert!(compared * 2 >= cases, "{compared} of {cases}");
    assert!(interleaved * 2 >= compared, "{interleaved} of {compared}");
}

/// The families of the issue, for every engine and topology: one execution per trace, traces as
/// the formula says (checked against brute force where it is small enough), plain DFS at least
/// ten times as many.
#[test]
fn families_explore_one_execution_per_trace() {
    for engine in engines() {
        for remote in [false, true] {
            for family in Family::ALL {
                for n in 2..=(if FULL { 5 } else { 4 }) {
                    if family == Family::SharedWriteRead && n > 3 + FULL as usize {
                        continue;
                    }
                    let prog =
                        Program::compile(&family.suite(n), Profile::new(engine), &world(remote))
                            .unwrap();
                    let what = format!("{engine} remote={remote} {} n={n}", family.name());
                    let o = explore::explore(
                        &prog,
                        Strategy::Dfs { por: true },
                        Budget::new(10_000_000, 120.0),
                        quiet(),
                    );
                    assert_eq!(o.verdict.name(), "holds", "{what}");
                    assert_eq!(o.schedules as u128, family.traces(n), "{what}");
                    assert_eq!(o.blocked, 0, "{what}");
                    if n <= 2 + FULL as usize {
                        let c = traces::census(&prog, Oracles::none(), 1_000_000).unwrap();
                        assert_eq!(c.traces as u128, family.traces(n), "{what}: brute force");
                        if family != Family::Locked || n == 3 {
                            assert!(c.interleavings >= 10 * o.schedules, "{what}: plain DFS");
                        }
                    }
                }
            }
        }
    }
}

/// n = 7 (6 in a debug build) in one locked cache and with appends: 5,040 (720) traces each.
#[test]
fn seven_tests_in_one_cache() {
    let n = if FULL { 7 } else { 6 };
    for family in [Family::Locked, Family::Appends, Family::OwnFiles] {
        let prog = Program::compile(
            &family.suite(n),
            Profile::new(Engine::Buildah(BuildahVersion::Current)),
            &world(true),
        )
        .unwrap();
        let o = explore::explore(
            &prog,
            Strategy::Dfs { por: true },
            Budget::new(10_000_000, 300.0),
            quiet(),
        );
        assert_eq!(o.schedules as u128, family.traces(n), "{}", family.name());
        assert_eq!(o.blocked, 0);
    }
}

/// Shards together explore every trace once: their executions add up to the unsharded count,
/// and a violation is found by some shard exactly when the unsharded search finds one.
#[test]
fn shards_partition_the_traces() {
    let config = mountfuzz::testing::proptest_config(
        "proptest-regressions/dpor-shards.txt",
        if FULL { 200 } else { 80 },
    );
    proptest!(config, |(
        s in suite(Shape::sharing()),
        engine in prop::sample::select(Engine::ALL.into_iter().chain(Engine::DRAFTS).collect::<Vec<_>>()),
        remote in any::<bool>(),
        of in 2u64..5,
        oracles_on in any::<bool>(),
    )| {
        let prog = Program::compile(&s, Profile::new(engine).fixed(Quirk::PrivateRejected), &world(remote)).unwrap();
        prop_assume!(explore::no_search(&prog).is_none());
        let opts = |shard| Options {
            shard,
            oracles: if oracles_on { Oracles::all() } else { Oracles::none() },
            ..Options::default()
        };
        let budget = Budget::new(200_000, 60.0);
        let whole = explore::explore(&prog, Strategy::Dfs { por: true }, budget, opts((0, 1)));
        prop_assume!(!matches!(whole.verdict, Verdict::Unknown(_)));
        let parts: Vec<explore::Outcome> = (0..of)
            .map(|i| explore::explore(&prog, Strategy::Dfs { por: true }, budget, opts((i, of))))
            .collect();
        let violated = parts.iter().any(|p| matches!(p.verdict, Verdict::Violated(_)));
        prop_assert_eq!(violated, matches!(whole.verdict, Verdict::Violated(_)));
        if !violated {
            prop_assert!(parts.iter().all(|p| p.verdict.name() == "holds"));
            let sum: u64 = parts.iter().map(|p| p.schedules).sum();
            prop_assert_eq!(sum, whole.schedules, "executions of the shards");
            prop_assert!(parts.iter().all(|p| p.blocked == 0), "blocked in a shard");
        }
    });
}
