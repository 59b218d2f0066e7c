//! Partial-order reduction (optimal DPOR) on suites where it is at stake: generated tests that share caches
//! (one dir, nested dirs, prunes of the common parent, several mounts per RUN, unmount
//! failures, every sharing mode, quirks on and off, both topologies, builds that make identical
//! layers, `--no-cache` builds). DFS with the reduction
//! must find a violation exactly when plain DFS does, and the dependency relation it relies
//! on must be sound against the effects: two events it calls independent give the same state in
//! both orders, and neither enables, disables nor changes the other.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{Engine, Profile, Quirk};
use mountfuzz::explore::{self, Budget, Machine, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::Suite;
use mountfuzz::scenario::strategy::{Shape, suite};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

#[path = "common/brute.rs"]
mod common;
use common::commute;

/// The engine with some quirks fixed (private always allowed, so private mounts run).
fn profile(engine: Engine, fixes: &[Quirk]) -> Profile {
    fixes.iter().fold(
        Profile::new(engine).fixed(Quirk::PrivateRejected),
        |p, q| p.fixed(*q),
    )
}

fn world(remote: bool, torn: bool) -> World {
    let topology = if remote {
        Topology::Remote
    } else {
        Topology::Local
    };
    // Layer reuse on, so builds that make identical layers meet at them; with `torn`, each write
    // through O_TRUNC is two events (the open, the bytes), as under the shared-cache intent.
    World {
        layer_cache: true,
        torn_writes: torn,
        ..World::new(topology, Remedy::None)
    }
}

/// `s` with test 0's first build in place of the first step of each test `copies` picks:
/// builds that make identical layers, which BuildKit and podman build reuse.
fn with_copies(mut s: Suite, copies: &[bool]) -> Suite {
    let Some(first) = s.tests[0]
        .steps
        .iter()
        .find(|st| matches!(st, mountfuzz::scenario::Step::Build(_)))
        .cloned()
    else {
        return s;
    };
    for (t, &c) in s.tests.iter_mut().skip(1).zip(copies) {
        if c && !t.steps.is_empty() {
            t.steps[0] = first.clone();
        }
    }
    s
}

/// `s` with the first build of each test `picks` chooses run with `--no-cache` (on BuildKit:
/// its plain caches dropped and held shared ones split at its start).
fn with_no_cache(mut s: Suite, picks: &[bool]) -> Suite {
    for (t, &p) in s.tests.iter_mut().zip(picks) {
        if let Some(mountfuzz::scenario::Step::Build(b)) = t
            .steps
            .iter_mut()
            .find(|st| matches!(st, mountfuzz::scenario::Step::Build(_)))
        {
            b.no_cache = p;
        }
    }
    s
}

fn setting() -> impl proptest::strategy::Strategy<Value = (Suite, Engine, bool, Vec<Quirk>)> {
    (
        proptest::strategy::Strategy::prop_map(
            (
                suite(Shape::sharing()),
                prop::collection::vec(prop::bool::weighted(0.3), 0..4),
                prop::collection::vec(prop::bool::weighted(0.5), 0..4),
            ),
            |(s, copies, no_cache): (Suite, Vec<bool>, Vec<bool>)| {
                with_no_cache(with_copies(s, &copies), &no_cache)
            },
        ),
        prop::sample::select(
            Engine::ALL
                .into_iter()
                .chain(Engine::DRAFTS)
                .collect::<Vec<_>>(),
        ),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(Quirk::ALL.to_vec()), 0..3),
    )
}

fn dfs(prog: &Program, por: bool, oracles: Oracles) -> explore::Outcome {
    let opts = Options {
        oracles,
        ..Options::default()
    };
    explore::explore(prog, Strategy::Dfs { por }, Budget::new(4_000, 30.0), opts)
}

#[test]
fn por_finds_what_plain_dfs_finds_on_suites_that_share() {
    let (compared, violated, cut) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let layered = AtomicU64::new(0);
    let dropping = AtomicU64::new(0);
    let (torn_checked, torn_reads) = (AtomicU64::new(0), AtomicU64::new(0));
    let config = mountfuzz::testing::proptest_config("proptest-regressions/por.txt", 4_000);
    let cases = config.cases as u64;
    proptest!(config, |((s, engine, remote, fixes) in setting(), pick in 0..=Oracle::ALL.len(), torn in prop::bool::weighted(0.3))| {
        let prog = Program::compile(&s, profile(engine, &fixes), &world(remote, torn)).unwrap();
        // At stake only where the tests share: a suite that shares nothing is proved statically.
        prop_assume!(explore::no_search(&prog).is_none());
        let oracles = match Oracle::ALL.get(pick) {
            Some(o) => Oracles::of(&[*o]),
            None => Oracles::all(),
        };
        let plain = dfs(&prog, false, oracles);
        if matches!(plain.verdict, Verdict::Unknown(_)) {
            cut.fetch_add(1, Relaxed);
            return Ok(());
        }
        let por = dfs(&prog, true, oracles);
        let found = |o: &explore::Outcome| match &o.verdict {
            Verdict::Violated(f) => Some(f.violation.oracle),
            _ => None,
        };
        prop_assert_eq!(found(&plain).is_some(), found(&por).is_some(), "plain {:?} vs por {:?}", plain.verdict, por.verdict);
        // Without a violation both searches run to the end; with one, each stops where its own
        // order meets it first.
        if found(&plain).is_none() {
            prop_assert!(por.schedules <= plain.schedules, "por {} > plain {}", por.schedules, plain.schedules);
        }
        compared.fetch_add(1, Relaxed);
        if !prog.layers.is_empty() {
            layered.fetch_add(1, Relaxed);
        }
        if prog.tests.iter().any(|t| t.events.iter().any(|e| matches!(e, mountfuzz::explore::program::Event::NoCache { .. }))) {
            dropping.fetch_add(1, Relaxed);
        }
        if found(&plain).is_some() {
            violated.fetch_add(1, Relaxed);
        }
        if torn && pick < Oracle::ALL.len() && Oracle::ALL[pick] == Oracle::TornRead {
            torn_checked.fetch_add(1, Relaxed);
            if found(&plain).is_some() {
                torn_reads.fetch_add(1, Relaxed);
            }
        }
    });
    let (compared, violated, cut) = (
        compared.into_inner(),
        violated.into_inner(),
        cut.into_inner(),
    );
    let (layered, dropping) = (layered.into_inner(), dropping.into_inner());
    let (torn_checked, torn_reads) = (torn_checked.into_inner(), torn_reads.into_inner());
    eprintln!(
        "{compared} suites compared ({violated} with a violation, {layered} with reused layers, {dropping} with a BuildKit --no-cache build; {torn_checked} with torn writes checked for torn reads alone, {torn_reads} of them torn), {cut} too large for plain DFS"
    );
    // tests/torn.rs checks the oracle where a torn read is sure to be at stake; here torn
    // worlds are only a part of the suites DPOR and plain DFS must agree on.
    assert!(torn_checked > 0, "no torn world checked for torn reads");
    assert!(
        dropping * 20 >= compared,
        "{dropping} of {compared} have a --no-cache build"
    );
    assert!(
        layered * 20 >= compared,
        "{layered} of {compared} reuse layers"
    );
    // The property was at stake: 1,600 or more sharing suites compared (at the default count;
    // about 2,100 are, the rest too large for plain DFS's budget), and both outcomes occurred.
    assert!(compared * 5 >= cases * 2, "{compared} of {cases}");
    assert!(
        violated * 10 >= compared && (compared - violated) * 10 >= compared,
        "{violated} of {compared} violated"
    );
}

proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/independence.txt", 1_000))]

    /// Along a random walk, every pair of events the dependency relation calls independent
    /// commutes, and the enabled one neither enables, disables nor changes the other.
    #[test]
    fn events_the_relation_calls_independent_commute(
        (s, engine, remote, fixes) in setting(),
        walk in prop::collection::vec(any::<u32>(), 1..60),
        torn in any::<bool>(),
    ) {
        let prog = Program::compile(&s, profile(engine, &fixes), &world(remote, torn)).unwrap();
        let mut m = Machine::new(&prog, Oracles::all());
        let n = prog.tests.len();
        for w in walk {
            if m.violation().is_some() {
                break;
            }
            let enabled: Vec<usize> = (0..n).filter(|&t| m.enabled(t)).collect();
            if enabled.is_empty() {
                break;
            }
            for &a in &enabled {
                for b in (0..n).filter(|&b| b != a && !m.done(b)) {
                    if !m.footprint(a).conflicts(&m.footprint(b))
                        && let Err(e) = commute(&m, a, b)
                    {
                        prop_assert!(false, "{e}");
                    }
                }
            }
            m.advance(enabled[w as usize % enabled.len()]);
        }
    }
}
