//! The set of tests that can move, which the executor keeps up to date as tests move (it looks
//! again only at tests whose next event may wait and that the move can affect), equals the
//! tests that can move looked at one by one, after every step of random runs over generated
//! suites whose tests share caches: every engine, both topologies, layers, stages, safe steps.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use mountfuzz::check::Oracles;
use mountfuzz::engine::{Engine, Profile, Quirk};
use mountfuzz::explore::{self, Machine, Program};
use mountfuzz::mount::Sharing;
use mountfuzz::scenario::strategy::{Shape, suite};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

/// Suites of two to four tests on nested and shared dirs, some builds with stages at once.
fn shape(stages: bool) -> Shape {
    Shape {
        tests: 2..=4,
        builds: 1..=2,
        runs: if stages { 2..=3 } else { 1..=2 },
        sharing: vec![Sharing::Shared, Sharing::Locked, Sharing::Private],
        stages,
        ..Shape::sharing()
    }
}

fn mask(m: &Machine<'_>) -> u64 {
    let n = m.program().tests.len();
    (0..n).filter(|&t| m.enabled(t)).fold(0, |b, t| b | 1 << t)
}

#[test]
fn the_runnable_set_kept_as_tests_move_is_who_can_move() {
    // At stake: steps where an unfinished test was blocked, and steps after which a test that
    // did not move changed from blocked to free or back.
    let (blocked, flipped, steps) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let config = mountfuzz::testing::proptest_config("proptest-regressions/runnable.txt", 300);
    let engines: Vec<Engine> = Engine::ALL.into_iter().chain(Engine::DRAFTS).collect();
    proptest!(config, |(
        s in prop::bool::ANY.prop_flat_map(|st| suite(shape(st))),
        engine in prop::sample::select(engines.clone()),
        remote in any::<bool>(),
        safe in any::<bool>(),
        picks in prop::collection::vec(any::<u64>(), 1..8),
    )| {
        let world = World {
            layer_cache: true,
            ..World::new(if remote { Topology::Remote } else { Topology::Local }, Remedy::None)
        };
        let profile = Profile::new(engine).fixed(Quirk::PrivateRejected);
        let prog = Program::compile(&s, profile, &world).unwrap();
        prop_assume!(explore::no_search(&prog).is_none() && prog.tests.len() <= 64);
        let mut m = Machine::new(&prog, Oracles::none());
        // Several runs from the start, each led by its own stream of picks.
        for &seed in &picks {
            m.reset();
            let mut r = seed | 1;
            loop {
                let kept = m.runnable_mask().expect("at most 64 tests");
                let fresh = mask(&m);
                prop_assert_eq!(kept, fresh, "after {} step(s)", m.steps());
                if fresh == 0 {
                    break;
                }
                let unfinished = (0..prog.tests.len()).filter(|&t| !m.done(t)).count();
                if (fresh.count_ones() as usize) < unfinished {
                    blocked.fetch_add(1, Relaxed);
                }
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                let k = (r % fresh.count_ones() as u64) as usize;
                let t = (0..64).filter(|&u| fresh & 1 << u != 0).nth(k).unwrap();
                m.advance(t);
                steps.fetch_add(1, Relaxed);
                // Only the mover can finish: any other change is one of blocked and free.
                if (mask(&m) ^ fresh) & !(1u64 << t) != 0 {
                    flipped.fetch_add(1, Relaxed);
                }
                if safe {
                    m.run_safe(t, |_| {});
                }
            }
        }
    });
    let (blocked, flipped, steps) = (
        blocked.into_inner(),
        flipped.into_inner(),
        steps.into_inner(),
    );
    eprintln!("{steps} steps; {blocked} with a test blocked; {flipped} changed another test");
    assert!(
        blocked >= 500 && flipped >= 500,
        "{blocked} blocked, {flipped} flipped"
    );
}
