//! Explorer throughput on the built-in `buildah-bud-cache` suite under global-tmpdir, where the
//! tests share /test, in-memory, one core, no oracle (an oracle would end most schedules at
//! their first violation): steps/s and schedules/s per strategy; the static proof of the
//! server-env remedy; the time to the first violation. `cargo bench --bench explore`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::builtin;
use mountfuzz::world::{Remedy, Topology, World};

const SCHEDULES: u64 = 2_000;

fn program(remedy: Remedy) -> Program {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let profile = Profile::new(Engine::Buildah(BuildahVersion::Current));
    Program::compile(&suite, profile, &World::new(Topology::Remote, remedy)).unwrap()
}

fn throughput(c: &mut Criterion) {
    // No oracle, so every schedule runs to its end: steps per schedule are fixed.
    let prog = program(Remedy::GlobalTmpdir);
    let steps = prog.total_events() as u64 * SCHEDULES;
    let mut g = c.benchmark_group("explore-steps");
    g.throughput(Throughput::Elements(steps));
    for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
        g.bench_function(format!("{strategy}/{SCHEDULES}-schedules"), |b| {
            let mut seed = 0;
            b.iter(|| {
                seed += 1;
                let o = explore::explore(
                    &prog,
                    strategy,
                    Budget::new(SCHEDULES, 60.0),
                    Options {
                        seed,
                        oracles: mountfuzz::check::Oracles::none(),
                        ..Options::default()
                    },
                );
                assert_eq!(o.steps, steps);
                o
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("explore-schedules");
    g.throughput(Throughput::Elements(SCHEDULES));
    g.bench_function("random", |b| {
        b.iter(|| {
            let o = explore::explore(
                &prog,
                Strategy::Random,
                Budget::new(SCHEDULES, 60.0),
                Options {
                    oracles: mountfuzz::check::Oracles::none(),
                    ..Options::default()
                },
            );
            assert_eq!(o.schedules, SCHEDULES);
            o
        })
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let prog = program(Remedy::ServerEnv);
    // server-env shares nothing: a static proof (one sequential run).
    c.bench_function("static/prove-server-env", |b| {
        b.iter(|| {
            let o = explore::explore(
                &prog,
                Strategy::Dfs { por: true },
                Budget::new(u64::MAX, 60.0),
                Options::default(),
            );
            assert_eq!(
                o.verdict,
                Verdict::Holds {
                    proof: mountfuzz::explore::Proof::Static
                }
            );
            o
        })
    });
    let bad = program(Remedy::None);
    c.bench_function("random/first-violation-remote-none", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            let o = explore::explore(
                &bad,
                Strategy::Random,
                Budget::new(1_000_000, 60.0),
                Options {
                    seed,
                    ..Options::default()
                },
            );
            assert!(matches!(o.verdict, Verdict::Violated(_)));
            o
        })
    });
}

criterion_group!(benches, throughput, proofs);
criterion_main!(benches);
