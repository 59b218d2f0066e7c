//! Schedules and time (µs, the whole exploration to its verdict) to first violation for every
//! hazard the engines carry, per strategy, median over 31 seeds: the README's hazard table. `cargo bench --bench hazards` (prints Markdown).

use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::builtin;
use mountfuzz::world::{Remedy, Topology, World};

const CUR: Engine = Engine::Buildah(BuildahVersion::Current);
const OLD: Engine = Engine::Buildah(BuildahVersion::V1_28);
const SEEDS: u64 = 31;
const BUDGET: u64 = 100_000;

fn main() {
    let rows: &[(&str, &str, Engine, Topology, Oracle)] = &[
        (
            "podman#25414 interference",
            "buildah-bud-cache",
            CUR,
            Topology::Remote,
            Oracle::Isolation,
        ),
        (
            "non-re-entrant lock",
            "hazard-non-reentrant",
            CUR,
            Topology::Local,
            Oracle::Deadlock,
        ),
        (
            "locks in flag order",
            "hazard-flag-order",
            CUR,
            Topology::Local,
            Oracle::Deadlock,
        ),
        (
            "prune without lock",
            "hazard-prune-without-lock",
            CUR,
            Topology::Local,
            Oracle::Expectation,
        ),
        (
            "unlock skipped on unmount error",
            "hazard-unmount-error",
            CUR,
            Topology::Remote,
            Oracle::Deadlock,
        ),
        (
            "lock file inside the cache (1.28)",
            "hazard-lock-file-in-cache",
            OLD,
            Topology::Local,
            Oracle::LockIntegrity,
        ),
        (
            "shared bypasses holders (BuildKit)",
            "hazard-shared-bypasses",
            Engine::BuildKit,
            Topology::Local,
            Oracle::SharedCoherence,
        ),
        (
            "shared writers collide",
            "hazard-shared-writers",
            CUR,
            Topology::Local,
            Oracle::Isolation,
        ),
        (
            "only the last lock released (1.28, remote)",
            "hazard-only-last-lock",
            OLD,
            Topology::Remote,
            Oracle::Deadlock,
        ),
        (
            "unhashed id escapes (1.28)",
            "hazard-unhashed-id",
            OLD,
            Topology::Local,
            Oracle::PathContainment,
        ),
    ];
    let strategies = [
        Strategy::Random,
        Strategy::Pct { depth: 2 },
        Strategy::Pct { depth: 3 },
    ];
    println!("| hazard | engine | oracle | random | pct:2 | pct:3 |");
    println!("|---|---|---|---|---|---|");
    for (label, suite, engine, topology, oracle) in rows {
        let s = builtin::find(suite).unwrap().suite();
        let prog = Program::compile(
            &s,
            Profile::new(*engine),
            &World::new(*topology, Remedy::None),
        )
        .unwrap();
        let mut cells = Vec::new();
        for strategy in strategies {
            let mut times: Vec<f64> = Vec::new();
            let mut counts: Vec<u64> = (0..SEEDS)
                .map(|seed| {
                    let opts = Options {
                        seed,
                        oracles: Oracles::of(&[*oracle]),
                        ..Options::default()
                    };
                    let o = explore::explore(&prog, strategy, Budget::new(BUDGET, 60.0), opts);
                    match o.verdict {
                        Verdict::Violated(_) => {
                            times.push(o.elapsed.as_secs_f64() * 1e6);
                            o.schedules
                        }
                        _ => u64::MAX,
                    }
                })
                .collect();
            counts.sort_unstable();
            let found = counts.iter().filter(|c| **c != u64::MAX).count();
            let median = counts[counts.len() / 2];
            cells.push(if median == u64::MAX {
                format!("not found ({found}/{SEEDS} seeds within {BUDGET})")
            } else {
                times.sort_by(f64::total_cmp);
                format!(
                    "{median} ({found}/{SEEDS}), {:.0} µs",
                    times[times.len() / 2]
                )
            });
        }
        println!("| {label} | {engine} | {oracle} | {} |", cells.join(" | "));
    }
}
