//! mountfuzz beside shuttle (the nearest peer: a randomized scheduler over real Rust threads and
//! locks) on `buildah-bud-cache` less its prune test, remote with no remedy, so the tests share
//! /test, in the same run. Shuttle runs the suite encoded with its
//! threads and mutexes (a thread per test, a mutex per cache dir, a locked RUN holds the mutex
//! across its operations, a shared RUN takes it per operation); mountfuzz runs the built-in suite.
//!
//! Then the scenario families (n tests in one shared cache dir, one RUN each, n = 2, 4, 8),
//! which shuttle runs as threads over a mutex per file (as in the `dpor` bench), sampled by
//! both with every event a choice; and the floor of a scheduler that makes a random choice at
//! every event and runs each event by code of its kind, as mountfuzz does: a loop that picks a
//! runnable thread as mountfuzz's random sampler does, dispatches on its next event's kind and
//! does nothing else, over the same program.
//!
//! `cargo bench --bench shuttle` prints criterion figures, then the Markdown tables;
//! `SHUTTLE_TABLES=families` (or `builtin`, `floor`) prints only that table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::program::Event;
use mountfuzz::explore::{self, Budget, Options, Program, Rng, Strategy, Verdict};
use mountfuzz::scenario::families::Family;
use mountfuzz::scenario::{Suite, builtin};
use mountfuzz::world::{Remedy, Topology, World};
use shuttle::sync::{Arc, Mutex};

#[macro_use]
#[path = "common/families.rs"]
mod families;

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

fn rate(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    SCHEDULES as f64 / start.elapsed().as_secs_f64()
}

/// mountfuzz's schedules per second with `strategy`, no oracle (`safe_steps` off: every event a
/// choice).
fn mountfuzz_rate(prog: &Program, strategy: Strategy, safe_steps: bool) -> f64 {
    rate(|| {
        let o = explore::explore(
            prog,
            strategy,
            Budget::new(SCHEDULES, 60.0),
            quiet(safe_steps),
        );
        assert_eq!(o.schedules, SCHEDULES, "every schedule ran to its end");
    })
}

/// The families beside shuttle's random and PCT schedulers, every event a choice, in turns.
fn families_table() {
    println!(
        "\n| family | n | events | shuttle random | mountfuzz random | ratio | shuttle pct (d=3) | mountfuzz pct (d=3) | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let pct = Strategy::Pct { depth: 3 };
    for family in Family::ALL {
        for n in [2, 4, 8] {
            let prog = Program::compile(
                &family.suite(n),
                Profile::new(Engine::Buildah(BuildahVersion::Current)),
                &World::new(Topology::Remote, Remedy::None),
            )
            .expect("the families compile");
            let mut best = [0.0f64; 4];
            for _ in 0..ROUNDS {
                let round = [
                    rate(|| {
                        shuttle::check_random(
                            families::shuttle_family(family, n),
                            SCHEDULES as usize,
                        )
                    }),
                    mountfuzz_rate(&prog, Strategy::Random, false),
                    rate(|| {
                        shuttle::check_pct(
                            families::shuttle_family(family, n),
                            SCHEDULES as usize,
                            3,
                        )
                    }),
                    mountfuzz_rate(&prog, pct, false),
                ];
                for (b, r) in best.iter_mut().zip(round) {
                    *b = b.max(r);
                }
            }
            println!(
                "| {} | {n} | {} | {:.0} | {:.0} | {:.1}× | {:.0} | {:.0} | {:.1}× |",
                family.name(),
                prog.total_events(),
                best[0],
                best[1],
                best[1] / best[0],
                best[2],
                best[3],
                best[3] / best[2]
            );
        }
    }
}

/// Schedules per second of the floor: random choices among the threads that have events left,
/// a dispatch on the kind of the chosen thread's next event (a little work of its own per kind,
/// so the dispatch stays a branch), the choice recorded; no state, no oracle, nothing blocks.
fn floor_rate(prog: &Program) -> f64 {
    let kinds: Vec<Vec<u8>> = prog
        .tests
        .iter()
        .map(|t| {
            t.events
                .iter()
                .map(|e| match e {
                    Event::Acquire { .. } => 0,
                    Event::Op { .. } => 1,
                    Event::Release { .. } => 2,
                    Event::BuildEnd { .. } => 3,
                    Event::Teardown { .. } => 4,
                    Event::Layer { .. } => 5,
                    Event::NoCache { .. } => 6,
                    Event::Prune { .. } => 7,
                    Event::Join { .. } => 8,
                })
                .collect()
        })
        .collect();
    let n = kinds.len();
    assert!(
        n <= 8,
        "the floor's table of runnable sets is for up to 8 threads"
    );
    // Per set of threads: its members, and how many (as the sampler's table).
    let members: Vec<[u8; 9]> = (0..1usize << n)
        .map(|m| {
            let mut row = [0u8; 9];
            for t in (0..n).filter(|&t| m & 1 << t != 0) {
                row[row[8] as usize] = t as u8;
                row[8] += 1;
            }
            row
        })
        .collect();
    let (mut work, mut choices, mut pc) = ([0u64; 9], Vec::new(), vec![0usize; n]);
    let r = rate(|| {
        for index in 0..SCHEDULES {
            let mut rng = Rng::for_schedule(0, index);
            pc.iter_mut().for_each(|p| *p = 0);
            choices.clear();
            let mut live = (1usize << n) - 1;
            while live != 0 {
                let set = &members[live];
                let t = set[rng.below(set[8] as u64) as usize] as usize;
                match kinds[t][pc[t]] {
                    0 => work[0] += t as u64,
                    1 => work[1] ^= t as u64,
                    2 => work[2] = work[2].wrapping_mul(3) + t as u64,
                    3 => work[3] += 1,
                    4 => work[4] = work[4].rotate_left(1),
                    5 => work[5] += 2,
                    6 => work[6] ^= 1,
                    7 => work[7] += 3,
                    _ => work[8] += 1,
                }
                choices.push(t as u32);
                pc[t] += 1;
                if pc[t] == kinds[t].len() {
                    live &= !(1 << t);
                }
            }
        }
    });
    assert!(work.iter().sum::<u64>() > 0 && !choices.is_empty());
    r
}

/// The floor beside shuttle and mountfuzz on the built-in suite, every event a choice.
fn floor_table() {
    let prog = mountfuzz_program(Remedy::None);
    let mut best = [0.0f64; 3];
    for _ in 0..ROUNDS {
        let round = [
            rate(|| shuttle::check_random(shuttle_suite(true, false), SCHEDULES as usize)),
            floor_rate(&prog),
            mountfuzz_rate(&prog, Strategy::Random, false),
        ];
        for (b, r) in best.iter_mut().zip(round) {
            *b = b.max(r);
        }
    }
    let steps = prog.total_events() as f64;
    println!(
        "\n| random, every event a choice (built-in suite, tests share /test) | schedules/s | ns per event | × shuttle |"
    );
    println!("|---|---|---|---|");
    for (name, r) in [
        ("shuttle", best[0]),
        ("floor: random choice and dispatch alone", best[1]),
        ("mountfuzz", best[2]),
    ] {
        println!(
            "| {name} | {r:.0} | {:.1} | {:.1}× |",
            1e9 / (r * steps),
            r / best[0]
        );
    }
}

fn main() {
    let tables = std::env::var("SHUTTLE_TABLES").ok();
    match tables.as_deref() {
        Some("families") => return families_table(),
        Some("floor") => return floor_table(),
        Some("builtin") | None => {}
        Some(other) => {
            eprintln!("SHUTTLE_TABLES={other}: expected families, builtin or floor");
            std::process::exit(2);
        }
    }
    if tables.is_none() {
        let mut c = Criterion::default().configure_from_args();
        throughput(&mut c);
        c.final_summary();
    }
    // The table: rates measured again here, side by side, on the suite whose tests share
    // /test (remote, no remedy), run to its end: no oracle in mountfuzz, no assertion in
    // shuttle. The machine's speed drifts, so the six measurements take turns, round after
    // round, and each keeps its best round.
    let prog = mountfuzz_program(Remedy::None);
    let mf = |s: Strategy, safe_steps: bool| mountfuzz_rate(&prog, s, safe_steps);
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
    if tables.is_none() {
        floor_table();
        families_table();
    }
}
