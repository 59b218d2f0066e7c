//! The explorer: partial-order reduction loses nothing plain DFS finds, each engine hazard is
//! found with its quirk on and gone with its fix, every strategy finds the interference, and
//! strict replay refuses schedules that do not fit.

use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile, Quirk};
use mountfuzz::explore::replay::replay;
use mountfuzz::explore::{self, Budget, Options, Program, Proof, Schedule, Strategy, Verdict};
use mountfuzz::mount::Sharing;
use mountfuzz::scenario::strategy::{Shape, suite};
use mountfuzz::scenario::{Suite, builtin};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

const CUR: Engine = Engine::Buildah(BuildahVersion::Current);
const OLD: Engine = Engine::Buildah(BuildahVersion::V1_28);

fn explore_with(
    prog: &Program,
    strategy: Strategy,
    oracles: Oracles,
    schedules: u64,
) -> explore::Outcome {
    let opts = Options {
        oracles,
        ..Options::default()
    };
    explore::explore(prog, strategy, Budget::new(schedules, 30.0), opts)
}

fn violated(o: &explore::Outcome) -> Option<Oracle> {
    match &o.verdict {
        Verdict::Violated(f) => Some(f.violation.oracle),
        _ => None,
    }
}

fn tiny() -> Shape {
    Shape {
        tests: 2..=3,
        builds: 1..=2,
        runs: 1..=1,
        ops: 1..=2,
        sharing: vec![Sharing::Shared, Sharing::Locked, Sharing::Private],
        ..Shape::default()
    }
}

// POR against plain DFS on generated suites that share caches: `tests/por.rs`.

#[test]
fn server_env_is_proved_statically_where_plain_dfs_cannot_finish() {
    // Under server-env every test has its own cache parent: no key is shared, so the one
    // sequential run decides every interleaving (a static proof), whatever the strategy.
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let world = World::new(Topology::Remote, Remedy::ServerEnv);
    let prog = Program::compile(&suite, Profile::new(CUR), &world).unwrap();
    assert_eq!(
        explore::no_search(&prog),
        Some(explore::NoSearch::Independent)
    );
    for strategy in [Strategy::Dfs { por: true }, Strategy::Random] {
        let o = explore::explore(
            &prog,
            strategy,
            Budget::new(1_000, 60.0),
            Options::default(),
        );
        assert_eq!(
            o.verdict,
            Verdict::Holds {
                proof: Proof::Static
            }
        );
        assert_eq!(o.schedules, 1);
    }
    // Under global-tmpdir the tests do share /test: no static proof, and a violation.
    let shared = Program::compile(
        &suite,
        Profile::new(CUR),
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    assert_eq!(explore::no_search(&shared), None);
}

/// (suite, engine, topology, oracle found, quirk whose fix removes it)
const HAZARDS: &[(&str, Engine, Topology, Oracle, Quirk)] = &[
    (
        "hazard-non-reentrant",
        CUR,
        Topology::Local,
        Oracle::Deadlock,
        Quirk::NonReentrantLock,
    ),
    (
        "hazard-flag-order",
        CUR,
        Topology::Local,
        Oracle::Deadlock,
        Quirk::FlagOrderLocking,
    ),
    (
        "hazard-prune-without-lock",
        CUR,
        Topology::Local,
        Oracle::Expectation,
        Quirk::PruneWithoutLock,
    ),
    (
        "hazard-unmount-error",
        CUR,
        Topology::Remote,
        Oracle::Deadlock,
        Quirk::UnlockSkippedOnUnmountError,
    ),
    (
        "hazard-lock-file-in-cache",
        OLD,
        Topology::Local,
        Oracle::LockIntegrity,
        Quirk::LockFileInCache,
    ),
    (
        "hazard-shared-bypasses",
        Engine::BuildKit,
        Topology::Local,
        Oracle::SharedCoherence,
        Quirk::SharedBypassesHolders,
    ),
    (
        "hazard-only-last-lock",
        OLD,
        Topology::Remote,
        Oracle::Deadlock,
        Quirk::OnlyLastLockReleased,
    ),
    (
        "hazard-unhashed-id",
        OLD,
        Topology::Local,
        Oracle::PathContainment,
        Quirk::UnhashedId,
    ),
];

#[test]
fn each_hazard_is_found_with_its_quirk_and_gone_with_its_fix() {
    for &(name, engine, topology, oracle, quirk) in HAZARDS {
        let suite = builtin::find(name).unwrap().suite();
        let world = World::new(topology, Remedy::None);
        let only = Oracles::of(&[oracle]);
        let prog = Program::compile(&suite, Profile::new(engine), &world).unwrap();
        let found = explore_with(&prog, Strategy::Dfs { por: true }, only, 1_000_000);
        assert_eq!(
            violated(&found),
            Some(oracle),
            "{name}: {:?}",
            found.verdict
        );
        let fixed = Program::compile(&suite, Profile::new(engine).fixed(quirk), &world).unwrap();
        let cured = explore_with(&fixed, Strategy::Dfs { por: true }, only, 1_000_000);
        // A one-test hazard (a self-deadlock) has nothing to interleave once fixed.
        let expected = if fixed.tests.len() < 2 {
            Verdict::Vacuous("fewer than two tests run (1 run)".into())
        } else {
            Verdict::Holds {
                proof: Proof::Exhaustive,
            }
        };
        assert_eq!(
            cured.verdict,
            expected,
            "{name} with {} fixed",
            quirk.name()
        );
    }
}

#[test]
fn unlock_skipped_only_bites_while_the_process_lives() {
    // Locally the build process exits and the kernel drops its lock: no deadlock.
    let suite = builtin::find("hazard-unmount-error").unwrap().suite();
    let prog = Program::compile(
        &suite,
        Profile::new(CUR),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let o = explore_with(&prog, Strategy::Dfs { por: true }, Oracles::all(), 100_000);
    assert_eq!(
        o.verdict,
        Verdict::Holds {
            proof: Proof::Exhaustive
        }
    );
}

#[test]
fn lock_file_in_cache_is_a_1_28_hazard_only() {
    let suite = builtin::find("hazard-lock-file-in-cache").unwrap().suite();
    let prog = Program::compile(
        &suite,
        Profile::new(CUR),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let o = explore_with(
        &prog,
        Strategy::Dfs { por: true },
        Oracles::of(&[Oracle::LockIntegrity]),
        100_000,
    );
    assert_eq!(
        o.verdict,
        Verdict::Holds {
            proof: Proof::Exhaustive
        }
    );
}

#[test]
fn shared_writers_collide_and_locked_cures_them() {
    let suite = builtin::find("hazard-shared-writers").unwrap().suite();
    for engine in Engine::ALL {
        let world = World::new(Topology::Local, Remedy::None);
        let prog = Program::compile(&suite, Profile::new(engine), &world).unwrap();
        let o = explore_with(
            &prog,
            Strategy::Dfs { por: true },
            Oracles::of(&[Oracle::Isolation]),
            100_000,
        );
        assert_eq!(violated(&o), Some(Oracle::Isolation), "{engine}");
        let locked = Program::compile(
            &suite.clone().with_sharing(Sharing::Locked),
            Profile::new(engine),
            &world,
        )
        .unwrap();
        let o = explore_with(
            &locked,
            Strategy::Dfs { por: true },
            Oracles::of(&[Oracle::Isolation]),
            100_000,
        );
        assert_eq!(
            o.verdict,
            Verdict::Holds {
                proof: Proof::Exhaustive
            },
            "{engine} locked"
        );
    }
}

#[test]
fn private_is_unsupported_on_buildah_unless_fixed() {
    let suite = builtin::find("buildah-bud-cache")
        .unwrap()
        .suite()
        .with_sharing(Sharing::Private);
    let world = World::new(Topology::Local, Remedy::None);
    let prog = Program::compile(&suite, Profile::new(CUR), &world).unwrap();
    assert!(
        prog.unsupported
            .as_deref()
            .unwrap()
            .contains("podman#27188")
    );
    let fixed = Program::compile(
        &suite,
        Profile::new(CUR).fixed(Quirk::PrivateRejected),
        &world,
    )
    .unwrap();
    assert!(fixed.unsupported.is_none());
}

#[test]
fn every_strategy_finds_the_interference() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let prog = Program::compile(
        &suite,
        Profile::new(CUR),
        &World::new(Topology::Remote, Remedy::None),
    )
    .unwrap();
    for strategy in [
        Strategy::Random,
        Strategy::Pct { depth: 2 },
        Strategy::Pct { depth: 3 },
        Strategy::Dfs { por: true },
    ] {
        let o = explore_with(&prog, strategy, Oracles::of(&[Oracle::Isolation]), 100_000);
        assert_eq!(violated(&o), Some(Oracle::Isolation), "{strategy}");
        assert!(o.schedules >= 1 && o.steps >= 1, "{strategy}: counts");
    }
    // Plain DFS varies the last choices first: within a budget it does not reach the early
    // interleaving, and says so instead of claiming the suite holds.
    let o = explore_with(
        &prog,
        Strategy::Dfs { por: false },
        Oracles::of(&[Oracle::Isolation]),
        20_000,
    );
    assert!(
        matches!(o.verdict, Verdict::Unknown(_) | Verdict::Violated(_)),
        "{:?}",
        o.verdict
    );
    // The bug has depth 2: without a preemption every test reads back its own write, so PCT
    // with depth 1 (no priority change) runs tests one after another and cannot find it.
    let o = explore_with(
        &prog,
        Strategy::Pct { depth: 1 },
        Oracles::of(&[Oracle::Isolation]),
        2_000,
    );
    assert_eq!(o.verdict, Verdict::NotFound);
    assert_eq!(o.schedules, 2_000);
}

#[test]
fn budgets_end_in_unknown_not_a_hang() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    // Remote with one TMPDIR for all: the tests share /test, so there is a tree to search.
    let shared = Program::compile(
        &suite,
        Profile::new(CUR),
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    let quiet = Options {
        oracles: Oracles::none(),
        ..Options::default()
    };
    let o = explore::explore(
        &shared,
        Strategy::Dfs { por: false },
        Budget::new(50, 5.0),
        quiet,
    );
    assert!(matches!(o.verdict, Verdict::Unknown(_)), "{:?}", o.verdict);
    assert_eq!(o.schedules, 50);
    let o = explore::explore(
        &shared,
        Strategy::Random,
        Budget::new(1000, 0.0),
        Options::default(),
    );
    assert_eq!(
        (o.verdict, o.schedules),
        (Verdict::NotFound, 0),
        "zero time runs nothing and says so: no violation found in 0 schedules"
    );
}

#[test]
fn strict_replay_refuses_a_schedule_that_does_not_fit() {
    let suite: Suite = builtin::find("hazard-flag-order").unwrap().suite();
    let prog = Program::compile(
        &suite,
        Profile::new(CUR),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let e = replay(
        &prog,
        &"0.7".parse::<Schedule>().unwrap(),
        Oracles::all(),
        false,
        false,
    )
    .unwrap_err();
    assert_eq!(e.step, 2);
    assert!(e.problem.contains("does not exist"), "{e}");
    // Test 0 locks a then b; test 1 locks b: now 0 waits for b, 1 waits for a.
    let r = replay(
        &prog,
        &"0.1".parse::<Schedule>().unwrap(),
        Oracles::all(),
        false,
        false,
    )
    .unwrap();
    let v = r.violation.unwrap();
    assert_eq!(v.oracle, Oracle::Deadlock);
    assert!(
        v.message
            .contains("locks-a-then-b waits for locks-b-then-a"),
        "{}",
        v.message
    );
    assert!("0.x".parse::<Schedule>().is_err());
}

#[test]
fn distinct_states_are_counted() {
    let suite = builtin::find("hazard-flag-order").unwrap().suite();
    let prog = Program::compile(
        &suite,
        Profile::new(CUR).fixed(Quirk::FlagOrderLocking),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let opts = Options {
        count_states: true,
        ..Options::default()
    };
    let o = explore::explore(
        &prog,
        Strategy::Dfs { por: false },
        Budget::new(100_000, 10.0),
        opts,
    );
    assert_eq!(
        o.verdict,
        Verdict::Holds {
            proof: Proof::Exhaustive
        }
    );
    let states = o.distinct_states.unwrap();
    assert!(
        states > 5 && states < o.steps,
        "{states} states over {} steps",
        o.steps
    );
}

/// Random and PCT find every hazard with safe steps (the default) and without them.
/// Deterministic: the explorer is, for a seed.
#[test]
fn safe_steps_keep_every_hazard_within_reach_of_random_and_pct() {
    let (mut with, mut without) = (0, 0);
    for &(name, engine, topology, oracle, _) in HAZARDS {
        let suite = builtin::find(name).unwrap().suite();
        let prog = Program::compile(
            &suite,
            Profile::new(engine),
            &World::new(topology, Remedy::None),
        )
        .unwrap();
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            for safe_steps in [true, false] {
                let opts = Options {
                    oracles: Oracles::of(&[oracle]),
                    safe_steps,
                    ..Options::default()
                };
                let o = explore::explore(&prog, strategy, Budget::new(100_000, 30.0), opts);
                assert_eq!(
                    violated(&o),
                    Some(oracle),
                    "{name} {strategy} safe steps {safe_steps}: {:?}",
                    o.verdict
                );
                *if safe_steps { &mut with } else { &mut without } += o.schedules;
            }
        }
    }
    eprintln!("schedules to the hazards: {with} with safe steps, {without} without");
}

proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/explore.txt", 64))]

    /// `Program::alone` (what `calibrate` replays) behaves exactly as the test compiled on its
    /// own: same reads, same build outcomes, same violations.
    #[test]
    fn a_test_alone_in_the_compiled_program_is_the_test_compiled_alone(
        s in suite(tiny()),
        engine in prop::sample::select(Engine::ALL.to_vec()),
        remote in any::<bool>(),
    ) {
        let world = World::new(if remote { Topology::Remote } else { Topology::Local }, Remedy::None);
        let profile = Profile::new(engine);
        let all = Program::compile(&s, profile, &world).unwrap();
        for t in 0..all.tests.len() {
            let only = Suite { name: s.name.clone(), tests: vec![s.tests[t].clone()] };
            let own = Program::compile(&only, profile, &world).unwrap();
            let a = replay(&all.alone(t), &Schedule::default(), Oracles::all(), true, true).unwrap();
            let b = replay(&own, &Schedule::default(), Oracles::all(), true, true).unwrap();
            let seen = |r: &mountfuzz::explore::replay::Replayed| {
                r.history.iter().map(|h| (h.read.clone(), h.build.clone())).collect::<Vec<_>>()
            };
            prop_assert_eq!(seen(&a), seen(&b));
            prop_assert_eq!(a.violation.map(|v| v.oracle), b.violation.map(|v| v.oracle));
            prop_assert_eq!(a.steps, b.steps);
        }
    }
}
