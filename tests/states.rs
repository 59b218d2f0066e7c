//! The stateful search (`--strategy states`) on generated suites whose tests share caches, where
//! runs do meet in one state. Its soundness rests on the state key: two machines with equal
//! keys must behave alike, which the first test checks on every pair of runs that meet; the
//! second checks that it finds a violation exactly when plain DFS does, with a schedule that
//! replays it; the last, that it ends where traces outnumber states and DPOR runs out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile, Quirk};
use mountfuzz::explore::{self, Budget, Machine, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::Suite;
use mountfuzz::scenario::builtin;
use mountfuzz::scenario::strategy::{Shape, suite};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

/// A generated sharing suite, an engine (private allowed), a topology and torn writes or not.
fn setting() -> impl proptest::strategy::Strategy<Value = (Suite, Engine, bool, bool)> {
    (
        suite(Shape::sharing()),
        prop::sample::select(
            Engine::ALL
                .into_iter()
                .chain(Engine::DRAFTS)
                .collect::<Vec<_>>(),
        ),
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
}

fn compile(s: &Suite, engine: Engine, remote: bool, torn: bool) -> Program {
    let topology = if remote {
        Topology::Remote
    } else {
        Topology::Local
    };
    let world = World {
        layer_cache: true,
        torn_writes: torn,
        ..World::new(topology, Remedy::None)
    };
    Program::compile(
        s,
        Profile::new(engine).fixed(Quirk::PrivateRejected),
        &world,
    )
    .unwrap()
}

fn oracles_of(pick: usize) -> Oracles {
    match Oracle::ALL.get(pick) {
        Some(o) => Oracles::of(&[*o]),
        None => Oracles::all(),
    }
}

fn key(m: &Machine<'_>) -> Vec<u8> {
    let mut k = Vec::new();
    m.state_key(&mut k);
    k
}

/// What a machine shows at once: who can move, its violation, and the deadlock oracle's
/// verdict where nothing can move.
fn face(m: &Machine<'_>) -> (Vec<usize>, Option<Oracle>, Option<Oracle>) {
    let n = m.program().tests.len();
    let enabled: Vec<usize> = (0..n).filter(|&t| m.enabled(t)).collect();
    let deadlock = enabled.is_empty().then(|| {
        let mut d = m.clone();
        d.check_deadlock();
        d.violation().map(|v| v.oracle)
    });
    (enabled, m.violation().map(|v| v.oracle), deadlock.flatten())
}

#[test]
fn machines_with_equal_state_keys_behave_alike() {
    let (met, cases_met) = (AtomicU64::new(0), AtomicU64::new(0));
    let config = mountfuzz::testing::proptest_config("proptest-regressions/states.txt", 200);
    proptest!(config, |((s, engine, remote, torn) in setting(), pick in 0..=Oracle::ALL.len())| {
        let prog = compile(&s, engine, remote, torn);
        prop_assume!(explore::no_search(&prog).is_none());
        // Every interleaving, brute force, up to a cap; the first machine seen with a key stands
        // for it, and every later one with that key must look and step alike (who can move, a
        // deadlock, and after each step its key and the violation that step makes).
        let mut reps: HashMap<Vec<u8>, Machine<'_>> = HashMap::new();
        let mut stack = vec![Machine::new(&prog, oracles_of(pick))];
        let mut visited = 0;
        let mut meetings = 0u64;
        while let Some(m) = stack.pop() {
            visited += 1;
            if visited > 20_000 {
                break;
            }
            // A violation belongs to the step that made it, and ends the run there.
            if m.violation().is_some() {
                continue;
            }
            let k = key(&m);
            if let Some(r) = reps.get(&k) {
                meetings += 1;
                prop_assert_eq!(face(r), face(&m));
                for &t in &face(&m).0 {
                    let (mut a, mut b) = (r.clone(), m.clone());
                    a.advance(t);
                    b.advance(t);
                    prop_assert_eq!(key(&a), key(&b), "a step of {} from one key", t);
                    prop_assert_eq!(face(&a), face(&b));
                }
            } else {
                reps.insert(k, m.clone());
            }
            for t in face(&m).0 {
                let mut next = m.clone();
                next.advance(t);
                stack.push(next);
            }
        }
        met.fetch_add(meetings, Relaxed);
        if meetings > 0 {
            cases_met.fetch_add(1, Relaxed);
        }
    });
    let (met, cases_met) = (met.into_inner(), cases_met.into_inner());
    eprintln!("{met} meetings of runs in one state, in {cases_met} suites");
    // At stake: runs met in one state in most suites.
    assert!(
        cases_met >= 100,
        "only {cases_met} suites had runs that met"
    );
}

#[test]
fn the_stateful_search_finds_what_plain_dfs_finds() {
    let (compared, violated, merged) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let config = mountfuzz::testing::proptest_config("proptest-regressions/states.txt", 400);
    proptest!(config, |((s, engine, remote, torn) in setting(), pick in 0..=Oracle::ALL.len())| {
        let prog = compile(&s, engine, remote, torn);
        prop_assume!(explore::no_search(&prog).is_none());
        let oracles = oracles_of(pick);
        let run = |strategy| {
            let opts = Options { oracles, ..Options::default() };
            explore::explore(&prog, strategy, Budget::new(4_000, 30.0), opts)
        };
        let plain = run(Strategy::Dfs { por: false });
        prop_assume!(!matches!(plain.verdict, Verdict::Unknown(_)));
        let states = run(Strategy::States);
        match (&plain.verdict, &states.verdict) {
            (Verdict::Violated(_), Verdict::Violated(f)) => {
                // Its schedule replays to the same complaint.
                let mut m = Machine::new(&prog, oracles);
                for &t in &f.schedule.0 {
                    prop_assert!(m.step(t as usize), "the schedule moves {} where it cannot", t);
                }
                if m.violation().is_none() {
                    m.check_deadlock();
                }
                prop_assert_eq!(m.violation().map(|v| v.oracle), Some(f.violation.oracle));
                violated.fetch_add(1, Relaxed);
            }
            (Verdict::Holds { .. }, Verdict::Holds { proof }) => {
                prop_assert_eq!(*proof, explore::Proof::Exhaustive);
                if states.steps < plain.steps {
                    merged.fetch_add(1, Relaxed);
                }
            }
            (p, s) => prop_assert!(false, "plain DFS {:?}, states {:?}", p, s),
        }
        compared.fetch_add(1, Relaxed);
    });
    let (compared, violated, merged) = (
        compared.into_inner(),
        violated.into_inner(),
        merged.into_inner(),
    );
    eprintln!(
        "{compared} suites compared, {violated} violated, {merged} proved in fewer steps than plain DFS"
    );
    assert!(
        violated * 10 >= compared && (compared - violated) * 10 >= compared,
        "{violated} of {compared} violated"
    );
    assert!(merged > 0, "no proof where runs met in one state");
}

#[test]
fn where_traces_outnumber_states_the_stateful_search_ends_and_dpor_does_not() {
    // Three built-in tests under global-tmpdir, so they share /test: one writes and reads it
    // over two builds, one over three locked RUNs, one prunes the caches. Their traces number
    // about 268,000 (a run of DPOR to its end, release build: 268,188 executions); their
    // states under 9,000.
    let full = builtin::find("buildah-bud-cache").unwrap().suite();
    let mut s = full.clone();
    s.tests = ["like-buildkit", "locked-across-steps", "prune"]
        .iter()
        .map(|end| {
            full.tests
                .iter()
                .find(|t| t.name.ends_with(end))
                .expect("the built-in test")
                .clone()
        })
        .collect();
    let prog = Program::compile(
        &s,
        Profile::new(Engine::Buildah(BuildahVersion::Current)),
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    let quiet = Options {
        oracles: Oracles::none(),
        ..Options::default()
    };
    let budget = Budget::new(30_000, 600.0);
    let dpor = explore::explore(&prog, Strategy::Dfs { por: true }, budget, quiet.clone());
    assert!(
        matches!(dpor.verdict, Verdict::Unknown(_)),
        "{:?}",
        dpor.verdict
    );
    let states = explore::explore(&prog, Strategy::States, budget, quiet);
    assert_eq!(
        states.verdict,
        Verdict::Holds {
            proof: explore::Proof::Exhaustive
        }
    );
    assert_eq!(states.distinct_states, Some(states.schedules));
    assert!(
        states.steps < 30_000,
        "{} transitions, against DPOR's 30,000 executions unfinished",
        states.steps
    );
    // With every oracle on, it finds the cross-read global-tmpdir causes, and replays it.
    let found = explore::explore(&prog, Strategy::States, budget, Options::default());
    let Verdict::Violated(f) = found.verdict else {
        panic!("no violation: {:?}", found.verdict)
    };
    let mut m = Machine::new(&prog, Oracles::all());
    for &t in &f.schedule.0 {
        assert!(m.step(t as usize));
    }
    assert_eq!(m.violation().map(|v| v.oracle), Some(f.violation.oracle));
}

/// Through the library, as the CLI refuses `--shard` for them: `states` and `dfs-plain` asked
/// for one shard of several search nothing and say so, rather than search everything once per
/// shard (which a merge would count N times); as one shard they search and prove.
#[test]
fn the_unsharded_searches_refuse_a_shard_through_the_library() {
    let s = builtin::find("buildah-bud-cache").unwrap().suite();
    let world = World::new(Topology::Remote, Remedy::ServerEnv);
    let prog = Program::compile(
        &s,
        Profile::new(Engine::Buildah(BuildahVersion::Current)),
        &world,
    )
    .unwrap();
    let mut s2 = s.clone();
    s2.tests.truncate(2);
    let shared = Program::compile(
        &s2,
        Profile::new(Engine::Buildah(BuildahVersion::Current)),
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    assert!(
        explore::no_search(&shared).is_none(),
        "the two tests share /test"
    );
    for strategy in [Strategy::States, Strategy::Dfs { por: false }] {
        for p in [&prog, &shared] {
            let o = explore::explore(
                p,
                strategy,
                Budget::new(1_000_000, 60.0),
                Options {
                    shard: (1, 2),
                    oracles: Oracles::none(),
                    ..Options::default()
                },
            );
            match &o.verdict {
                Verdict::Unknown(why) => assert!(why.contains("not sharded"), "{why}"),
                v => panic!("{strategy} as shard 1/2: {v:?}"),
            }
            assert_eq!((o.schedules, o.steps), (0, 0));
        }
        let whole = explore::explore(
            &shared,
            strategy,
            Budget::new(1_000_000, 60.0),
            Options {
                oracles: Oracles::none(),
                ..Options::default()
            },
        );
        assert!(
            whole.verdict.proof().is_some(),
            "{strategy}: {:?}",
            whole.verdict
        );
        assert!(whole.schedules > 1);
    }
}
