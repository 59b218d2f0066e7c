//! Exhaustive search on interacting suites: optimal DPOR (`dfs`) beside plain DFS (`dfs-plain`),
//! loom's model checker and shuttle's DFS scheduler on the same work, in one run.
//!
//! The families (`scenario::families`): n tests in one shared cache dir, one RUN each. loom and
//! shuttle run them as threads over files each behind its own mutex (an operation takes its
//! file's mutex; a locked RUN also holds a dir mutex across its write and read), so they see the
//! same conflicts at file granularity; loom holds at most 4 threads beside main. Every exploration runs with no oracle, to its end, within
//! a cap (a capped one is shown as `> N`: mountfuzz 2,000,000 executions or 5 s, loom and shuttle
//! 50,000 executions). Then the built-in suite under every remedy (remote,
//! where the tests share), DPOR and plain DFS with the same cap, and the stateful search
//! (`states`) to its end.
//!
//! Last, a shared apt + cargo build from a Dockerfile (`benches/data/apt-cargo.Dockerfile`,
//! imported as a user's would be), n parallel copies on one host or daemon, DPOR, plain DFS and
//! the stateful search.
//!
//! `cargo bench --bench dpor` prints criterion figures for the 8-test families, then the tables;
//! `DPOR_TABLES=dockerfile cargo bench --bench dpor` prints only the last table,
//! `DPOR_TABLES=builtin` only the built-in suite's (with the stateful search beside).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::Criterion;
use mountfuzz::check::Oracles;
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy, Verdict};
use mountfuzz::scenario::builtin;
use mountfuzz::scenario::families::Family;
use mountfuzz::world::{Remedy, Topology, World};

#[macro_use]
#[path = "common/families.rs"]
mod families;

/// Most executions and seconds any one exploration gets here.
const CAP: u64 = 2_000_000;
const SECONDS: f64 = 5.0;
/// Most distinct states the stateful search gets on the Dockerfile suite (or 120 s).
const STATES_CAP: u64 = 10_000_000;
/// Most executions loom and shuttle get (neither has a clean time limit).
const PEER_CAP: u64 = 50_000;

fn program(family: Family, n: usize) -> Program {
    Program::compile(
        &family.suite(n),
        Profile::new(Engine::Buildah(BuildahVersion::Current)),
        &World::new(Topology::Remote, Remedy::None),
    )
    .expect("the families compile")
}

fn quiet() -> Options {
    Options {
        oracles: Oracles::none(),
        ..Options::default()
    }
}

/// (executions, seconds, complete) of one exploration.
fn mountfuzz(prog: &Program, por: bool) -> (u64, f64, bool) {
    let o = explore::explore(
        prog,
        Strategy::Dfs { por },
        Budget::new(CAP, SECONDS),
        quiet(),
    );
    assert_eq!(o.blocked, 0, "no sleep-set blocked execution");
    let complete = !matches!(o.verdict, Verdict::Unknown(_));
    (o.schedules, o.elapsed.as_secs_f64(), complete)
}

/// loom's executions for the family (n ≤ 4), or `None` beyond its thread limit.
fn loom(family: Family, n: usize) -> Option<(u64, f64, bool)> {
    if n > 4 {
        return None;
    }
    static RUNS: AtomicU64 = AtomicU64::new(0);
    RUNS.store(0, Relaxed);
    let start = Instant::now();
    let mut b = loom::model::Builder::new();
    b.max_branches = 100_000;
    b.max_permutations = Some(PEER_CAP as usize);
    b.check(move || {
        RUNS.fetch_add(1, Relaxed);
        family_threads!(loom, family, n)
    });
    let runs = RUNS.load(Relaxed);
    Some((runs, start.elapsed().as_secs_f64(), runs < PEER_CAP))
}

/// shuttle's DFS scheduler: executions (capped at `PEER_CAP`) and seconds.
fn shuttle_dfs(family: Family, n: usize) -> (u64, f64, bool) {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    RUNS.store(0, Relaxed);
    let start = Instant::now();
    let config = shuttle::Config::new();
    let scheduler = shuttle::scheduler::DfsScheduler::new(Some(PEER_CAP as usize), false);
    let runner = shuttle::Runner::new(scheduler, config);
    let body = families::shuttle_family(family, n);
    runner.run(move || {
        RUNS.fetch_add(1, Relaxed);
        body()
    });
    let runs = RUNS.load(Relaxed);
    let secs = start.elapsed().as_secs_f64();
    (runs, secs, runs < PEER_CAP)
}

fn count(n: u64, complete: bool) -> String {
    let s = n.to_string();
    if complete { s } else { format!("> {s}") }
}

fn criterion_figures(c: &mut Criterion) {
    let mut g = c.benchmark_group("dpor");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for family in [Family::Locked, Family::Appends, Family::OwnFiles] {
        let prog = program(family, 8);
        g.bench_function(format!("{}/8", family.name()), |b| {
            b.iter(|| {
                let o = explore::explore(
                    &prog,
                    Strategy::Dfs { por: true },
                    Budget::new(CAP, 60.0),
                    quiet(),
                );
                assert_eq!(o.schedules as u128, family.traces(8));
            })
        });
    }
    g.finish();
}

/// The apt + cargo Dockerfile as `n` parallel builds sharing the host's (or daemon's) caches.
fn dockerfile_program(engine: Engine, n: usize) -> Program {
    use mountfuzz::scenario::import::{ImportOptions, Tmpdir, import};
    let text = include_str!("data/apt-cargo.Dockerfile");
    let files: Vec<(String, String)> = (0..n)
        .map(|k| (format!("apt-cargo-{k}"), text.to_string()))
        .collect();
    let imported = import(
        &files,
        engine.dialect(),
        ImportOptions {
            steps: false,
            tmpdir: Tmpdir::Host,
        },
    );
    assert!(
        imported.unsupported.is_empty(),
        "{:?}",
        imported.unsupported
    );
    Program::compile(
        &imported.suite,
        Profile::new(engine),
        &World::new(Topology::Local, Remedy::None),
    )
    .expect("the Dockerfile compiles")
}

fn dockerfile_table() {
    println!(
        "\n| apt + cargo Dockerfile, n parallel builds | engine | dfs (DPOR) executions | time | dfs-plain executions | time | states: distinct states | transitions | time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for engine in [Engine::BuildKit, Engine::Buildah(BuildahVersion::V1_39)] {
        for n in 2..=6usize {
            let prog = dockerfile_program(engine, n);
            let (d, dt, dc) = mountfuzz(&prog, true);
            let (p, pt, pc) = mountfuzz(&prog, false);
            // The stateful search, capped at STATES_CAP states (about 250 bytes each).
            let s = explore::explore(
                &prog,
                Strategy::States,
                Budget::new(STATES_CAP, 120.0),
                quiet(),
            );
            let complete = !matches!(s.verdict, Verdict::Unknown(_));
            println!(
                "| {n} | {engine} | {} | {dt:.3} s | {} | {pt:.3} s | {} | {} | {:.2} s |",
                count(d, dc),
                count(p, pc),
                count(s.schedules, complete),
                s.steps,
                s.elapsed.as_secs_f64()
            );
        }
    }
}

fn main() {
    match std::env::var("DPOR_TABLES").as_deref() {
        Ok("dockerfile") => return dockerfile_table(),
        Ok("builtin") => return builtin_table(),
        _ => {}
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_figures(&mut c);
    c.final_summary();
    println!(
        "\n| family | n | traces | dfs (DPOR) executions | time | dfs-plain executions | time | loom executions | time | shuttle DFS executions | time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for family in Family::ALL {
        for n in 2..=8usize {
            if family == Family::SharedWriteRead && n > 5 {
                continue; // (n!)² traces: 518,400 at n = 6
            }
            let prog = program(family, n);
            let (d, dt, dc) = mountfuzz(&prog, true);
            let (p, pt, pc) = mountfuzz(&prog, false);
            let l = match loom(family, n) {
                Some((runs, t, done)) => format!("{} | {:.3} s", count(runs, done), t),
                None => "— | —".into(),
            };
            let (s, st, sc) = shuttle_dfs(family, n);
            println!(
                "| {} | {n} | {} | {} | {:.3} s | {} | {:.3} s | {l} | {} | {:.3} s |",
                family.name(),
                family.traces(n),
                count(d, dc),
                dt,
                count(p, pc),
                pt,
                count(s, sc),
                st
            );
        }
    }
    builtin_table();
    dockerfile_table();
}

/// The built-in suite under every remedy (remote, Buildah, no oracle): DPOR and plain DFS with
/// the same cap, and the stateful search (`states`) to its end, with no cap.
fn builtin_table() {
    println!(
        "\n| built-in suite, remote, remedy | dfs (DPOR) executions | time | dfs-plain executions | time | states: distinct states | transitions | time |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    for remedy in Remedy::ALL {
        let prog = Program::compile(
            &suite,
            Profile::new(Engine::Buildah(BuildahVersion::Current)),
            &World::new(Topology::Remote, remedy),
        )
        .unwrap();
        let (d, dt, dc) = mountfuzz(&prog, true);
        let (p, pt, pc) = mountfuzz(&prog, false);
        let s = explore::explore(
            &prog,
            Strategy::States,
            Budget::new(u64::MAX, 3_600.0),
            quiet(),
        );
        let complete = !matches!(s.verdict, Verdict::Unknown(_));
        println!(
            "| {remedy} | {} | {dt:.2} s | {} | {pt:.2} s | {} ({}) | {} | {:.2} s |",
            count(d, dc),
            count(p, pc),
            count(s.schedules, complete),
            s.verdict.name(),
            s.steps,
            s.elapsed.as_secs_f64()
        );
    }
}
