//! Memory over a long run: peak RSS after 10k, 100k and 1M random schedules of
//! `buildah-bud-cache` under global-tmpdir (the tests share /test) with no oracle, so every
//! schedule runs to its end, and distinct states counted (the CLI's default). It must stay
//! bounded by the states, not grow with the schedules.
//! `cargo bench --bench memory`.

use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Strategy};
use mountfuzz::scenario::builtin;
use mountfuzz::world::{Remedy, Topology, World};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let profile = Profile::new(Engine::Buildah(BuildahVersion::Current));
    let prog = Program::compile(
        &suite,
        profile,
        &World::new(Topology::Remote, Remedy::GlobalTmpdir),
    )
    .unwrap();
    println!("| schedules | steps | distinct states | seconds | peak RSS (KiB) |");
    println!("|---|---|---|---|---|");
    for n in [10_000u64, 100_000, 1_000_000] {
        let o = explore::explore(
            &prog,
            Strategy::Random,
            Budget::new(n, 600.0),
            Options {
                oracles: mountfuzz::check::Oracles::none(),
                count_states: true,
                ..Options::default()
            },
        );
        assert_eq!(o.schedules, n, "every schedule ran");
        println!(
            "| {n} | {} | {} | {:.2} | {} |",
            o.steps,
            o.distinct_states.unwrap_or(0),
            o.elapsed.as_secs_f64(),
            peak_rss_kib()
        );
    }
}
