//! mountfuzz beside shuttle (the nearest peer: a randomized scheduler over real Rust threads and
//! locks) on `buildah-bud-cache` less its prune test, remote with no remedy, so the tests share
//! /test, in the same run. Shuttle runs the suite encoded with its
//! threads and mutexes (a thread per test, a mutex per cache dir, a locked RUN holds the mutex
//! across its operations, a shared RUN takes it per operation); mountfuzz runs the built-in suite.
//! `cargo bench --bench shuttle` prints criterion figures, then a Markdown table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::{Suite, builtin};
use mountfuzz::world::{Remedy, Topology, World};
use shuttle::sync::{Arc, Mutex};

type Dir = Arc<Mutex<HashMap<&'static str, &'static str>>>;
const SCHEDULES: u64 = 2_000;
/// Rounds of the side-by-side table (each measurement keeps its best round).
const ROUNDS: usize = 15;

/// One RUN: a locked RUN holds the dir across `f`, a shared one only around each operation
/// (here a RUN does one operation, so both take the mutex once; the hold differs only for the
/// locked test's three RUNs, as in the model).
fn run<T>(d: &Dir, f: impl FnOnce(&mut HashMap<&'static str, &'static str>) -> T) -> T {
    let mut g = d.lock().unwrap();
    f(&mut g)
}

/// The suite without its prune test (which fails remotely whatever the schedule), as shuttle
/// threads. `shared`: every test's /test is one dir (remote, no remedy); else one per test.
/// `check`: assert what each test expects (off, the shared suite runs to its end like the
/// model with no oracle, for throughput on a suite whose tests interfere).
fn shuttle_suite(shared: bool, check: bool) -> impl Fn() + Send + Sync + 'static {
    move || {
        let common: Dir = Arc::new(Mutex::new(HashMap::new()));
        let dir = |_: usize| {
            if shared {
                common.clone()
            } else {
                Arc::new(Mutex::new(HashMap::new()))
            }
        };
        let (d0, d1, d3) = (dir(0), dir(1), dir(3));
        let test2: Dir = Arc::new(Mutex::new(HashMap::new()));
        let mut hs = Vec::new();
        // bud-with-mount-cache-like-buildkit: write hello, later read it back.
        hs.push(shuttle::thread::spawn(move || {
            run(&d0, |m| m.insert("world", "hello"));
            let read = run(&d0, |m| m.get("world").copied());
            assert!(!check || read == Some("hello"), "interference");
        }));
        // ...-locked-across-steps: three locked RUNs, hello, world, read world.
        hs.push(shuttle::thread::spawn(move || {
            run(&d1, |m| m.insert("world", "hello"));
            run(&d1, |m| m.insert("world", "world"));
            let read = run(&d1, |m| m.get("world").copied());
            assert!(!check || read == Some("world"), "interference");
        }));
        // ...-test2: its own target, never shared.
        hs.push(shuttle::thread::spawn(move || {
            run(&test2, |m| m.insert("world", "hello2"));
            let read = run(&test2, |m| m.get("world").copied());
            assert!(!check || read == Some("hello2"));
        }));
        // ...-wipe-in-between: write hello, wipe, the read must find nothing.
        hs.push(shuttle::thread::spawn(move || {
            run(&d3, |m| m.insert("world", "hello"));
            run(&d3, |m| m.clear());
            let read = run(&d3, |m| m.get("world").copied());
            assert!(!check || read.is_none(), "interference");
        }));
        for h in hs {
            h.join().unwrap();
        }
    }
}

fn mountfuzz_program(remedy: Remedy) -> Program {
    let mut s: Suite = builtin::find("buildah-bud-cache").unwrap().suite();
    s.tests.retain(|t| !t.name.contains("prune"));
    let profile = Profile::new(Engine::Buildah(BuildahVersion::Current));
    Program::compile(&s, profile, &World::new(Topology::Remote, remedy)).unwrap()
}

/// mountfuzz's options for a throughput measurement: no oracle (the tests interfere), so every
/// schedule runs to its end, as shuttle's threads do without their assertions.
fn quiet(safe_steps: bool) -> Options {
    Options {
        safe_steps,
        oracles: Oracles::none(),
        ..Options::default()
    }
}

fn throughput(c: &mut Criterion) {
    let prog = mountfuzz_program(Remedy::None);
    let mut g = c.benchmark_group("vs-shuttle");
    g.throughput(Throughput::Elements(SCHEDULES));
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.bench_function("shuttle/check_random", |b| {
        b.iter(|| shuttle::check_random(shuttle_suite(true, false), SCHEDULES as usize))
    });
    g.bench_function("shuttle/check_pct3", |b| {
        b.iter(|| shuttle::check_pct(shuttle_suite(true, false), SCHEDULES as usize, 3))
    });
    for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
        for safe_steps in [true, false] {
            let name = if safe_steps { "" } else { "-every-event" };
            g.bench_function(format!("mountfuzz/{strategy}{name}"), |b| {
                b.iter(|| {
                    explore::explore(
                        &prog,
                        strategy,
                        Budget::new(SCHEDULES, 60.0),
                        quiet(safe_steps),
                    )
                })
            });
        }
    }
    g.finish();
}

/// Schedules until shuttle's first failing assertion, for seeds 0..n (median).
fn shuttle_to_first(n: u64) -> u64 {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    std::panic::set_hook(Box::new(|_| {}));
    let mut counts: Vec<u64> = (0..n)
        .map(|seed| {
            RUNS.store(0, Relaxed);
            let f = shuttle_suite(true, true);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shuttle::check_random_with_seed(
                    move || {
                        RUNS.fetch_add(1, Relaxed);
                        f()
                    },
                    seed,
                    100_000,
                )
            }));
            if r.is_err() {
                RUNS.load(Relaxed)
            } else {
                u64::MAX
            }
        })
        .collect();
    let _ = std::panic::take_hook();
    counts.sort_unstable();
    counts[counts.len() / 2]
}

fn mountfuzz_to_first(n: u64) -> u64 {
    let prog = mountfuzz_program(Remedy::None);
    let mut counts: Vec<u64> = (0..n)
        .map(|seed| {
            let opts = Options {
                seed,
                oracles: Oracles::of(&[Oracle::Expectation]),
                ..Options::default()
            };
            let o = explore::explore(&prog, Strategy::Random, Budget::new(100_000, 60.0), opts);
            if matches!(o.verdict, Verdict::Violated(_)) {
                o.schedules
            } else {
                u64::MAX
            }
        })
        .collect();
    counts.sort_unstable();
    counts[counts.len() / 2]
}

fn rate(f: impl Fn()) -> f64 {
    let start = Instant::now();
    f();
    SCHEDULES as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    c.final_summary();
    // The table: rates measured again here, side by side, on the suite whose tests share
    // /test (remote, no remedy), run to its end: no oracle in mountfuzz, no assertion in
    // shuttle. The machine's speed drifts, so the six measurements take turns, round after
    // round, and each keeps its best round.
    let prog = mountfuzz_program(Remedy::None);
    let mf = |s: Strategy, safe_steps: bool| {
        rate(|| {
            let o = explore::explore(&prog, s, Budget::new(SCHEDULES, 60.0), quiet(safe_steps));
            assert_eq!(o.schedules, SCHEDULES, "every schedule ran to its end");
        })
    };
    let pct = Strategy::Pct { depth: 3 };
    let mut best = [0.0f64; 6];
    for _ in 0..ROUNDS {
        let round = [
            rate(|| shuttle::check_random(shuttle_suite(true, false), SCHEDULES as usize)),
            mf(Strategy::Random, true),
            mf(Strategy::Random, false),
            rate(|| shuttle::check_pct(shuttle_suite(true, false), SCHEDULES as usize, 3)),
            mf(pct, true),
            mf(pct, false),
        ];
        for (b, r) in best.iter_mut().zip(round) {
            *b = b.max(r);
        }
    }
    let steps = prog.total_events() as f64;
    println!(
        "\n| strategy (tests share /test) | scheduling choices | shuttle schedules/s | mountfuzz schedules/s | mountfuzz steps/s | ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, shuttle, rows) in [
        ("random", best[0], [best[1], best[2]]),
        ("pct (d=3)", best[3], [best[4], best[5]]),
    ] {
        for (choices, r) in ["safe steps run without one", "every event"]
            .into_iter()
            .zip(rows)
        {
            println!(
                "| {name} | {choices} | {shuttle:.0} | {r:.0} | {:.1} M | {:.1}× |",
                r * steps / 1e6,
                r / shuttle
            );
        }
    }
    let (s1, m1) = (shuttle_to_first(31), mountfuzz_to_first(31));
    println!(
        "\nschedules to first interference (remote, no remedy; median of 31 seeds): shuttle {s1}, mountfuzz {m1}"
    );
}
