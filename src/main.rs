//! The `mountfuzz` command line: parses arguments, calls the library, renders. No logic of its own.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{CacheEnv, Engine, Profile, Quirk};
use mountfuzz::explore::{Budget, Options, Strategy};
use mountfuzz::mount::{MountType, Sharing};
use mountfuzz::report::{self, replay::ReplayFile};
use mountfuzz::run::{RunConfig, replay_recorded, run};
use mountfuzz::scenario::{self, builtin};
use mountfuzz::verify::{VerifyConfig, verify};
use mountfuzz::world::{Remedy, Topology, World};

#[derive(Parser)]
#[command(
    name = "mountfuzz",
    version,
    about = "A concurrency fuzzer for build-cache mounts shared by parallel container builds",
    long_about = "A concurrency fuzzer for build-cache mounts shared by parallel container builds.\n\
                  With no command it runs `run` on the built-in suite buildah-bud-cache (Buildah, remote \
                  topology, no remedy): it finds the podman#25414 interference and prints the minimal \
                  counterexample."
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// With no command: the flags of `run`.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Explore interleavings of a suite and report the first violation, shrunk.
    Run(RunArgs),
    /// The matrix remedy × sharing mode × engine: holds / violated / unsupported, with counts.
    Verify(VerifyArgs),
    /// Run a replay file again and check that it reproduces.
    Replay(ReplayArgs),
    /// Run a counterexample on the real engines (Buildah 1.28 local, podman-remote 4.3) and
    /// compare with the model, under each remedy given.
    Real(RealArgs),
    /// Run a suite on real threads and real files (real OFD locks), and check each run's
    /// history for linearizability against the model.
    Stress(StressArgs),
    /// Merge the `run --json` results of shards into one verdict.
    Merge(MergeArgs),
    /// List the built-in suites.
    Suites {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a suite (TOML) with one test per Dockerfile, or with --json what each command of
    /// each cache RUN does.
    Import(ImportArgs),
    /// Check a corpus of Dockerfiles: N parallel copies of each build, per engine; prints the
    /// README's markdown table.
    Corpus(CorpusArgs),
    /// Print where a cache mount's directory (and lock file) lives for a given engine.
    Where(WhereArgs),
    /// Lint Dockerfiles (and suites, and build scripts) for cache-mount hazards, found by
    /// exploring N parallel copies of each build on every released engine profile.
    Lint(LintArgs),
    /// List the engine profiles, each with its source (a binary version or a source reading).
    Engines,
}

#[derive(Args)]
struct LintArgs {
    /// Dockerfiles, suites (`.toml`) or build scripts (`.sh`, `.bats`); `-` reads a Dockerfile
    /// from stdin.
    #[arg(required_unless_present = "list_rules")]
    files: Vec<String>,
    /// Engine profiles (repeatable; default every released one: buildkit, buildah@1.39,
    /// buildah@1.28).
    #[arg(long = "engine")]
    engines: Vec<Engine>,
    /// Parallel copies of each build (default 2).
    #[arg(long)]
    copies: Option<usize>,
    /// tty, json, sarif or checkstyle.
    #[arg(long, default_value = "tty")]
    format: mountfuzz::lint::output::Format,
    /// A rule not to report (repeatable).
    #[arg(long = "ignore")]
    ignore: Vec<String>,
    /// The config file (default `.mountfuzz.yaml` in the current directory, if there is one).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Exit 1 for a finding at or above: error, warning, info, style or none (default info).
    #[arg(long)]
    failure_threshold: Option<mountfuzz::lint::Threshold>,
    /// Builds also go through podman-remote (Buildah profiles).
    #[arg(long)]
    remote: bool,
    /// Also explore a prune beside the builds (`buildah prune`; on BuildKit, the reset of the
    /// caches nobody holds that `docker builder prune` or a `--no-cache` build makes).
    #[arg(long)]
    prune: bool,
    /// Most seconds of exploration per file, engine and setting (default 5).
    #[arg(long)]
    seconds: Option<f64>,
    /// Print each finding's counterexample as a swimlane.
    #[arg(long)]
    explain: bool,
    /// Exit 3 when some exploration ended without a proof or a violation.
    #[arg(long)]
    require_proof: bool,
    /// Write the report to this file (atomically; a file mountfuzz did not write is kept).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Print the rule catalogue and exit.
    #[arg(long)]
    list_rules: bool,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// A built-in suite name (see `mountfuzz suites`) or a suite file.
    #[arg(long, default_value = "buildah-bud-cache")]
    suite: String,
    /// buildkit, buildah (upstream main), buildah@1.39 or buildah@1.28.
    #[arg(long, default_value = "buildah")]
    engine: Engine,
    /// local or remote.
    #[arg(long, default_value = "remote")]
    topology: Topology,
    /// none, global-tmpdir, server-env, forward-env, unique-id, skip-remote.
    #[arg(long, default_value = "none")]
    remedy: Remedy,
    /// Set every mount's sharing mode (shared, private, locked).
    #[arg(long)]
    sharing: Option<Sharing>,
    /// random, pct, pct:D, dfs, dfs-plain, states.
    #[arg(long, default_value = "random")]
    strategy: Strategy,
    /// Most schedules to run (states: most distinct states).
    #[arg(long, default_value_t = 100_000)]
    schedules: u64,
    /// Most seconds to explore.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Seed of the first schedule.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Switch a quirk off (apply its fix); repeatable.
    #[arg(long = "fix")]
    fixes: Vec<Quirk>,
    /// Check only these oracles (repeatable; default: the intent's).
    #[arg(long = "oracle", conflicts_with = "intent")]
    oracles: Vec<Oracle>,
    /// isolation (tests must not see each other: every oracle) or shared-cache (builds share on
    /// purpose: every oracle but isolation).
    #[arg(long, default_value = "isolation")]
    intent: mountfuzz::check::Intent,
    /// Count distinct states (the default; kept for scripts that pass it).
    #[arg(long, conflicts_with = "no_count_states")]
    count_states: bool,
    /// Do not count distinct states (faster sampling; a not-found verdict then gives no count).
    #[arg(long)]
    no_count_states: bool,
    /// Exit 3 unless the verdict is a proof (HOLDS) or a violation: a sampled run that found
    /// nothing, or a vacuous one, is not enough.
    #[arg(long)]
    require_proof: bool,
    /// Random and PCT: make every event a scheduling choice (by default an event on keys no
    /// other test touches runs without one).
    #[arg(long)]
    no_safe_steps: bool,
    /// Model layer reuse: on BuildKit and podman build (remote), a RUN that another build
    /// made alike (same Dockerfile, same RUNs up to it) runs once, and is cached or merged
    /// elsewhere. By default every build is taken as distinct and runs every RUN.
    #[arg(long)]
    layers: bool,
    /// Where to save the replay file of a violation (default: mountfuzz-out/<setting>.json).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Do not save a replay file.
    #[arg(long)]
    no_save: bool,
    /// Run only this shard's part: random and PCT, the schedules whose index is I modulo N;
    /// dfs, the subtrees dealt to shard I of N (`merge` the N results for the whole verdict).
    #[arg(long, default_value = "0/1")]
    shard: Shard,
    /// Write the counterexample as a self-contained HTML page.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write JUnit XML for CI systems.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct VerifyArgs {
    /// A built-in suite name or a suite file.
    #[arg(long, default_value = "buildah-bud-cache")]
    suite: String,
    /// Engines to cover (repeatable; default all three).
    #[arg(long = "engine")]
    engines: Vec<Engine>,
    /// Topology of every cell.
    #[arg(long, default_value = "remote")]
    topology: Topology,
    /// Most executions of the exhaustive search per cell.
    #[arg(long, default_value_t = 200_000)]
    schedules: u64,
    /// Most seconds per cell.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Write JUnit XML (a test case per cell).
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RealArgs {
    /// A replay file (default: find a counterexample of buildah-bud-cache with the model).
    #[arg(long)]
    replay: Option<PathBuf>,
    /// local (buildah) or remote (podman-remote, one server per test).
    #[arg(long, default_value = "remote")]
    topology: Topology,
    /// Remedies to run the same schedule under (repeatable; default: none and server-env).
    #[arg(long = "remedy")]
    remedies: Vec<Remedy>,
    /// Unit schedule (RUN granularity) instead of the counterexample's.
    #[arg(long)]
    units: Option<mountfuzz::explore::Schedule>,
    /// Deadline of each real run, in seconds.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// buildah@1.28 (the host's Buildah 1.28 and podman 4.3) or buildah@1.39 (Buildah 1.39 and
    /// podman 5.4 from the Debian 13 root of `ci/engines.sh up`).
    #[arg(long, default_value = "buildah@1.28")]
    engine: Engine,
    /// Remote on buildah@1.39: drive podman 5.4's server with the host's podman 4.3 client.
    #[arg(long)]
    host_client: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct StressArgs {
    /// A built-in suite name or a suite file.
    #[arg(long, default_value = "buildah-bud-cache")]
    suite: String,
    /// buildkit, buildah (upstream main), buildah@1.39 or buildah@1.28.
    #[arg(long, default_value = "buildah")]
    engine: Engine,
    /// local or remote.
    #[arg(long, default_value = "local")]
    topology: Topology,
    /// The remedy.
    #[arg(long, default_value = "none")]
    remedy: Remedy,
    /// Set every mount's sharing mode.
    #[arg(long)]
    sharing: Option<Sharing>,
    /// Runs (each with its own jitter seed).
    #[arg(long, default_value_t = 20)]
    runs: u64,
    /// Largest random pause between operations, in microseconds.
    #[arg(long, default_value_t = 200)]
    jitter_us: u64,
    /// Seconds the linearizability check of one run may take.
    #[arg(long, default_value_t = 10.0)]
    check_seconds: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct MergeArgs {
    /// JSON files written by `mountfuzz run --json --shard I/N`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// `I/N`: this process runs the schedules whose index is I modulo N.
#[derive(Clone, Copy, Debug)]
struct Shard(u64, u64);

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("bad shard {s:?} (want I/N with 0 <= I < N)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n) = (
            i.parse::<u64>().map_err(|_| bad())?,
            n.parse::<u64>().map_err(|_| bad())?,
        );
        if n == 0 || i >= n {
            return Err(bad());
        }
        Ok(Shard(i, n))
    }
}

#[derive(Args)]
struct ReplayArgs {
    /// A replay file written by `mountfuzz run`.
    file: PathBuf,
    /// Write the timeline as a self-contained HTML page.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ImportArgs {
    /// Dockerfiles: each is a project built in parallel with the others.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The dialect to read mounts in.
    #[arg(long, default_value = "buildah")]
    engine: Engine,
    /// The files are consecutive builds of one test instead.
    #[arg(long)]
    steps: bool,
    /// Whether each test gets its own TMPDIR (scratch) or the host's (host).
    #[arg(long, default_value = "scratch", value_parser = ["host", "scratch"])]
    tmpdir: String,
    /// Print `{"suite", "runs", "unsupported", "notes"}` as JSON instead of the suite's TOML.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CorpusArgs {
    /// Dockerfiles, or directories whose files (but ORIGINS and README*) are Dockerfiles.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Engine profiles (repeatable; default every one).
    #[arg(long = "engine")]
    engines: Vec<Engine>,
    /// Parallel copies of each build.
    #[arg(long, default_value_t = 2)]
    copies: usize,
    /// Most seconds per file and engine.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// isolation or shared-cache (projects share their caches on purpose).
    #[arg(long, default_value = "shared-cache")]
    intent: mountfuzz::check::Intent,
}

#[derive(Args)]
struct WhereArgs {
    /// The engine: buildkit, buildah (upstream main), buildah@1.39, buildah@1.28.
    #[arg(long, default_value = "buildah")]
    engine: Engine,
    /// `$TMPDIR` of the process that runs the build (unset: containers.conf, then /var/tmp).
    #[arg(long)]
    tmpdir: Option<String>,
    /// containers.conf `image_copy_tmp_dir`.
    #[arg(long)]
    image_copy_tmp_dir: Option<String>,
    /// Host uid of the building process.
    #[arg(long, default_value_t = 0)]
    host_uid: u32,
    /// WORKDIR of the RUN (for relative targets).
    #[arg(long, default_value = "/")]
    workdir: String,
    /// BuildKit's BUILDKIT_CACHE_MOUNT_NS.
    #[arg(long)]
    namespace: Option<String>,
    /// Switch a quirk off (apply its fix); repeatable.
    #[arg(long = "fix")]
    fixes: Vec<Quirk>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The option string of `--mount=`, e.g. `type=cache,target=/test`.
    options: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Some(Cmd::Run(a)) => cmd_run(a),
        None => cmd_run(cli.run),
        Some(Cmd::Verify(a)) => cmd_verify(a),
        Some(Cmd::Replay(a)) => cmd_replay(a),
        Some(Cmd::Real(a)) => cmd_real(a),
        Some(Cmd::Stress(a)) => cmd_stress(a),
        Some(Cmd::Merge(a)) => cmd_merge(a),
        Some(Cmd::Suites { json }) => cmd_suites(json),
        Some(Cmd::Import(a)) => cmd_import(a),
        Some(Cmd::Corpus(a)) => cmd_corpus(a),
        Some(Cmd::Where(a)) => cmd_where(a),
        Some(Cmd::Lint(a)) => cmd_lint(a),
        Some(Cmd::Engines) => cmd_engines(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("mountfuzz: {message}");
            ExitCode::from(2)
        }
    }
}

/// A progress bar on stderr (schedules/s, distinct states) that appears once a run has taken a
/// second; it is only created when stderr is a terminal. Dropping it clears it.
struct ProgressBar {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressBar {
    fn start(
        p: std::sync::Arc<mountfuzz::explore::Progress>,
        total: u64,
        states: bool,
    ) -> ProgressBar {
        use std::sync::atomic::Ordering::Relaxed;
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while start.elapsed() < Duration::from_secs(1) {
                if stop.load(Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} schedules {msg}")
                    .expect("a valid template"),
            );
            while !stop.load(Relaxed) {
                let n = p.schedules.load(Relaxed);
                let secs = start.elapsed().as_secs_f64();
                let extra = if states {
                    format!(", {} distinct states", p.states.load(Relaxed))
                } else {
                    String::new()
                };
                bar.set_position(n);
                bar.set_message(format!("({:.0}/s{extra})", n as f64 / secs));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        ProgressBar {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for ProgressBar {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn profile(engine: Engine, fixes: &[Quirk]) -> Profile {
    fixes.iter().fold(Profile::new(engine), |p, q| p.fixed(*q))
}

fn cmd_run(a: RunArgs) -> Result<u8, String> {
    if a.shard.1 > 1 && matches!(a.strategy, Strategy::Dfs { por: false } | Strategy::States) {
        return Err(format!(
            "--shard partitions random and PCT schedules and the dfs tree; {} is not sharded",
            a.strategy
        ));
    }
    let profile = profile(a.engine, &a.fixes);
    let suite = scenario::load(&a.suite, a.engine.dialect()).map_err(|e| e.to_string())?;
    let oracles = if a.oracles.is_empty() {
        a.intent.oracles()
    } else {
        Oracles::of(&a.oracles)
    };
    let world = World {
        layer_cache: a.layers,
        // The torn-read oracle needs writes that have a moment in flight.
        torn_writes: oracles.has(mountfuzz::check::Oracle::TornRead),
        ..World::new(a.topology, a.remedy)
    };
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr())
        .then(|| std::sync::Arc::new(mountfuzz::explore::Progress::default()));
    let bar = progress
        .clone()
        .map(|p| ProgressBar::start(p, a.schedules, !a.no_count_states));
    let config = RunConfig {
        suite,
        profile,
        world: world.clone(),
        sharing: a.sharing,
        strategy: a.strategy,
        budget: Budget::new(a.schedules, a.seconds),
        options: Options {
            oracles,
            count_states: !a.no_count_states,
            seed: a.seed,
            shard: (a.shard.0, a.shard.1),
            progress: progress.clone(),
            safe_steps: !a.no_safe_steps,
        },
        shrink_time: Duration::from_secs(10),
    };
    let report = run(config).map_err(|e| e.to_string());
    drop(bar);
    let report = report?;
    let mut saved = None;
    let failing = report.counterexample.as_ref().filter(|_| !a.no_save);
    if let Some((cx, v)) = failing.and_then(|cx| cx.violation.as_ref().map(|v| (cx, v))) {
        {
            let path = a.save.clone().unwrap_or_else(|| {
                PathBuf::from(format!(
                    "mountfuzz-out/{}-{}-{}-{}.json",
                    report.config.suite.name, a.engine, a.topology, a.remedy
                ))
            });
            ReplayFile::new(&cx.suite, profile, &world, &cx.schedule, v).save(&path)?;
            saved = Some(path.display().to_string());
        }
    }
    if let (Some(path), Some(cx)) = (&a.html, &report.counterexample) {
        let title = format!(
            "{} on {}, {} topology, remedy {}",
            report.config.suite.name, a.engine, a.topology, a.remedy
        );
        report::write_output(
            path,
            &report::html::render(&title, cx),
            report::html::MARKER,
        )?;
    }
    if let Some(path) = &a.junit {
        report::write_output(path, &report::junit::run(&report), report::junit::MARKER)?;
    }
    if a.json {
        println!("{}", report::json::run(&report, saved.as_deref()));
    } else {
        print!("{}", report::text::render(&report, saved.as_deref()));
    }
    Ok(report.exit_code(a.require_proof))
}

fn cmd_verify(a: VerifyArgs) -> Result<u8, String> {
    let engines = if a.engines.is_empty() {
        Engine::ALL.to_vec()
    } else {
        a.engines.clone()
    };
    let mut suites = Vec::new();
    for e in &engines {
        suites.push(scenario::load(&a.suite, e.dialect()).map_err(|e| e.to_string())?);
    }
    let mut cells = Vec::new();
    for (e, suite) in engines.iter().zip(suites) {
        let cfg = VerifyConfig {
            suite,
            engines: vec![*e],
            topology: a.topology,
            budget: Budget::new(a.schedules, a.seconds),
            fallback_schedules: 20_000,
        };
        cells.extend(verify(&cfg).map_err(|e| e.to_string())?);
    }
    if a.json {
        let v: Vec<serde_json::Value> = cells
            .iter()
            .map(|c| {
                serde_json::json!({
                    "engine": c.engine.to_string(), "sharing": c.sharing.name(), "remedy": c.remedy.name(),
                    "verdict": c.verdict.name(), "proof": c.proof.map_or("none", |p| p.name()), "schedules": c.schedules,
                    "distinct_states": c.distinct_states, "steps": c.steps, "reason": c.reason,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"suite": a.suite, "topology": a.topology.to_string(), "cells": v})
        );
    } else {
        println!("suite {}, topology {}", a.suite, a.topology);
        println!(
            "{:<13} {:<8} {:<14} {:<18} {:>10} {:>10}  reason",
            "engine", "sharing", "remedy", "verdict", "schedules", "states"
        );
        for c in &cells {
            let verdict = match c.proof {
                Some(p) => format!("{} ({})", c.verdict.name(), p.name()),
                None => c.verdict.name().to_string(),
            };
            println!(
                "{:<13} {:<8} {:<14} {:<18} {:>10} {:>10}  {}",
                c.engine.to_string(),
                c.sharing.name(),
                c.remedy.name(),
                verdict,
                c.schedules,
                c.distinct_states,
                c.reason
            );
        }
        println!(
            "(holds (exhaustive): every interleaving up to equivalence; holds (static): no two tests share a cache; not-found: sampled schedules only, not a proof)"
        );
    }
    if let Some(path) = &a.junit {
        report::write_output(
            path,
            &report::junit::verify(&a.suite, &cells),
            report::junit::MARKER,
        )?;
    }
    let any_violation = cells
        .iter()
        .any(|c| c.verdict == mountfuzz::verify::CellVerdict::Violated);
    Ok(if any_violation { 1 } else { 0 })
}

fn cmd_replay(a: ReplayArgs) -> Result<u8, String> {
    let loaded = ReplayFile::load(&a.file)?;
    let cx = replay_recorded(
        &loaded.suite,
        loaded.profile,
        &loaded.world,
        Oracles::all(),
        &loaded.schedule,
        0,
    )
    .map_err(|e| format!("{}: {e}", a.file.display()))?;
    let reproduced = cx
        .violation
        .as_ref()
        .is_some_and(|v| v.oracle == loaded.oracle);
    if a.json {
        let mut v = report::json::counterexample(&cx);
        v["reproduced"] = serde_json::json!(reproduced);
        v["expected_oracle"] = serde_json::json!(loaded.oracle);
        println!("{v}");
    } else {
        print!("{}", report::text::swimlanes(&cx));
        match &cx.violation {
            Some(v) => println!(
                "\nviolation at step {} [{}]: {}",
                v.step, v.oracle, v.message
            ),
            None => println!("\nno violation: the schedule ran cleanly"),
        }
        println!(
            "{}",
            if reproduced {
                format!("reproduced: {} violated", loaded.oracle)
            } else {
                format!("NOT reproduced: expected {} to be violated", loaded.oracle)
            }
        );
    }
    Ok(if reproduced { 1 } else { 0 })
}

fn cmd_real(a: RealArgs) -> Result<u8, String> {
    use mountfuzz::explore::{Program, units};
    use mountfuzz::real::driver::{DRIVEN, RealConfig};
    if !DRIVEN.contains(&a.engine) {
        return Err(format!(
            "--engine {}: `real` drives {} (BuildKit has no real driver yet)",
            a.engine,
            DRIVEN.map(|e| e.to_string()).join(" and ")
        ));
    }
    let engine_profile = Profile::new(a.engine);
    let (suite, schedule, found_world) = match &a.replay {
        Some(f) => {
            let l = ReplayFile::load(f)?;
            (l.suite, l.schedule, l.world)
        }
        None => {
            let world = World::new(a.topology, Remedy::None);
            let suite = builtin::find("buildah-bud-cache")
                .expect("built in")
                .suite();
            let (suite, units) =
                mountfuzz::run::unit_counterexample(&suite, engine_profile, &world, 10_000)
                    .map_err(|e| e.to_string())?
                    .ok_or("the model found no RUN-level counterexample to run for real")?;
            (suite, units, world)
        }
    };
    let world0 = World::new(a.topology, found_world.remedy);
    let prog = Program::compile(&suite, engine_profile, &world0).map_err(|e| e.to_string())?;
    let unit_schedule = match (&a.units, &a.replay) {
        (Some(u), _) => u.clone(),
        (None, Some(_)) => units::from_events(&prog, &schedule),
        (None, None) => schedule,
    };
    let remedies = if a.remedies.is_empty() {
        vec![Remedy::None, Remedy::ServerEnv]
    } else {
        a.remedies.clone()
    };
    let mut all_agree = true;
    let mut harness_failed = false;
    let mut rows = Vec::new();
    if !a.json {
        println!(
            "real engines: {} ({}); {} test(s); unit schedule {unit_schedule}",
            match (
                a.topology,
                a.engine == mountfuzz::real::driver::ENGINE,
                a.host_client
            ) {
                _ if a.engine == Engine::BuildKit => {
                    "BuildKit (Docker 26.1 from the Debian 13 chroot), one daemon for every test"
                }
                (Topology::Remote, true, _) => "podman-remote 4.3, a server per test",
                (Topology::Remote, false, false) =>
                    "podman-remote 5.4 (Debian 13 chroot), a server per test",
                (Topology::Remote, false, true) =>
                    "podman 5.4 servers (Debian 13 chroot), one per test, driven by the host's podman 4.3 client",
                (_, true, _) => "buildah 1.28",
                (_, false, _) => "buildah 1.39 (Debian 13 chroot)",
            },
            a.topology,
            prog.tests.len()
        );
    }
    for remedy in remedies {
        let world = World::new(a.topology, remedy);
        let cfg = RealConfig {
            host_client: a.host_client,
            ..RealConfig::new(
                suite.clone(),
                world.clone(),
                unit_schedule.clone(),
                Duration::from_secs(a.seconds),
            )
            .on(a.engine)
        };
        let c = mountfuzz::run::compare_with_real(&cfg).map_err(|e| e.to_string())?;
        let harness = c.harness_failure();
        harness_failed |= harness.is_some();
        all_agree &= c.agree() || harness.is_some();
        let real_reads = c
            .real
            .as_ref()
            .map(|r| r.reads.clone())
            .map_err(|e| e.to_string());
        let per_unit = c
            .real
            .as_ref()
            .ok()
            .map(|r| r.elapsed.as_secs_f64() / r.units.max(1) as f64);
        if a.json {
            rows.push(serde_json::json!({
                "remedy": remedy.name(), "tests": c.tests, "model": c.model, "real": real_reads,
                "agree": c.agree() && harness.is_none(), "harness_failure": harness, "seconds_per_unit": per_unit,
                "processes": c.real.as_ref().ok().map(|r| r.processes),
                "engine_failures_retried": c.real.as_ref().ok().map(|r| r.retried.clone()),
            }));
        } else {
            println!(
                "\nremedy {remedy}: {}",
                match (&harness, c.agree()) {
                    (Some(why), _) => format!("HARNESS FAILURE (nothing compared): {why}"),
                    (None, true) => "model and real agree".into(),
                    (None, false) => "MODEL-FIDELITY MISMATCH".into(),
                }
            );
            for (i, t) in c.tests.iter().enumerate() {
                let m = c
                    .model
                    .as_ref()
                    .map(|m| format!("{:?}", m[i]))
                    .unwrap_or_else(|e| e.clone());
                let r = real_reads
                    .as_ref()
                    .map(|r| format!("{:?}", r[i]))
                    .unwrap_or_else(|e| e.clone());
                println!("  {t}\n    model reads: {m}\n    real reads:  {r}");
            }
            if let Some(p) = per_unit {
                println!("  cost: {p:.2} s per forced unit");
            }
            for why in c.real.as_ref().map(|r| r.retried.as_slice()).unwrap_or(&[]) {
                println!("  run again after an engine failure outside the workload: {why}");
            }
            if let Some(r) = c.real.as_ref().ok().filter(|_| !c.agree()) {
                for (n, text) in &r.containerfiles {
                    println!("--- {n}\n{text}");
                }
            }
        }
    }
    if a.json {
        println!(
            "{}",
            serde_json::json!({"engine": a.engine.to_string(), "topology": a.topology.to_string(), "units": unit_schedule.to_string(), "runs": rows})
        );
    }
    // A harness failure checked nothing: exit 3 (unknown), unless a mismatch was shown too.
    Ok(match (all_agree, harness_failed) {
        (false, _) => 1,
        (true, true) => 3,
        (true, false) => 0,
    })
}

fn cmd_stress(a: StressArgs) -> Result<u8, String> {
    use mountfuzz::check::linearize::describe;
    let mut suite = scenario::load(&a.suite, a.engine.dialect()).map_err(|e| e.to_string())?;
    if let Some(s) = a.sharing {
        suite = suite.with_sharing(s);
    }
    // The stress run checks the store: every RUN runs, as with `--layers=false`, one stage
    // after another (each test is one OS thread).
    let world = World {
        layer_cache: false,
        stages_in_order: true,
        ..World::new(a.topology, a.remedy)
    };
    let prog = mountfuzz::explore::Program::compile(&suite, Profile::new(a.engine), &world)
        .map_err(|e| e.to_string())?;
    let c = mountfuzz::stress::campaign(
        &prog,
        a.runs,
        Duration::from_micros(a.jitter_us),
        Duration::from_secs_f64(a.check_seconds),
    )
    .map_err(|e| format!("stress run: {e}"))?;
    let verdict = match (&c.violation, c.unknown.is_empty()) {
        (Some(_), _) => "not-linearizable",
        (None, false) => "unknown",
        (None, true) => "linearizable",
    };
    if a.json {
        let witness = c.violation.as_ref().map(|(seed, key, w)| {
            let ops: Vec<serde_json::Value> = w
                .iter()
                .map(|o| serde_json::json!({"thread": o.thread, "op": format!("{:?}", o.op), "invoke_ns": o.invoke, "response_ns": o.response}))
                .collect();
            serde_json::json!({"run": seed, "key": key, "operations": ops})
        });
        let unknown: Vec<serde_json::Value> = c
            .unknown
            .iter()
            .map(|(s, why)| serde_json::json!({"run": s, "why": why}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"verdict": verdict, "runs": c.runs, "linearizable": c.linearizable,
                "unknown": unknown, "operations": c.operations, "witness": witness})
        );
    } else {
        for (seed, why) in &c.unknown {
            println!("run {seed}: unknown: {why}");
        }
        if let Some((seed, key, w)) = &c.violation {
            println!(
                "run {seed}: NOT LINEARIZABLE on {key}; no model order explains:\n{}",
                describe(w)
            );
        }
        println!(
            "{} of {} runs linearizable, {} unknown ({} operations on real threads and files)",
            c.linearizable,
            c.runs,
            c.unknown.len(),
            c.operations
        );
    }
    Ok(match verdict {
        "linearizable" => 0,
        "not-linearizable" => 1,
        _ => 3,
    })
}

fn cmd_merge(a: MergeArgs) -> Result<u8, String> {
    let mut shards = Vec::new();
    for f in &a.files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", f.display()))?;
        shards.push(v);
    }
    let merged = report::json::merge(&shards).map_err(|e| format!("merge: {e}"))?;
    println!("{merged}");
    Ok(match merged["verdict"].as_str() {
        Some("holds") => 0,
        Some("violated") => 1,
        Some("unsupported") => 2,
        _ => 3,
    })
}

fn cmd_suites(json: bool) -> Result<u8, String> {
    if json {
        let v: Vec<serde_json::Value> = builtin::ALL
            .iter()
            .map(|b| serde_json::json!({"name": b.name, "about": b.about, "tests": b.suite().tests.len()}))
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(0);
    }
    for b in builtin::ALL {
        println!("{:<28} {}", b.name, b.about);
    }
    Ok(0)
}

fn cmd_import(a: ImportArgs) -> Result<u8, String> {
    let mut files = Vec::new();
    for f in &a.files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        files.push((f.display().to_string(), text));
    }
    use mountfuzz::scenario::import::{ImportOptions, Tmpdir, import};
    let opts = ImportOptions {
        steps: a.steps,
        tmpdir: if a.tmpdir == "host" {
            Tmpdir::Host
        } else {
            Tmpdir::Scratch
        },
    };
    let d = a.engine.dialect();
    let imp = import(&files, d, opts);
    if a.json {
        println!("{}", imp.to_json(d));
    } else {
        print!("{}", imp.suite.to_toml(d));
        let [precise, profile, opaque, none] = imp.command_counts();
        eprintln!(
            "imported {} of {} file(s): {} cache RUN(s); commands: {precise} precise, {profile} by a tool profile, {opaque} opaque, {none} with no cache effect",
            files.len() - imp.unsupported.len(),
            files.len(),
            imp.runs.len()
        );
        for u in &imp.unsupported {
            eprintln!(
                "unsupported: {}:{}: {}: {} (this file's test is left out)",
                u.file, u.line, u.construct, u.reason
            );
        }
        for n in &imp.notes {
            eprintln!("note: {n}");
        }
    }
    if imp.suite.tests.is_empty() {
        return Err("no file could be imported".into());
    }
    Ok(0)
}

fn cmd_corpus(a: CorpusArgs) -> Result<u8, String> {
    if a.copies < 1 || a.seconds.is_nan() || a.seconds <= 0.0 {
        return Err(format!(
            "--copies must be at least 1 and --seconds above 0 (got {} and {})",
            a.copies, a.seconds
        ));
    }
    let mut files = Vec::new();
    for p in &a.paths {
        let mut paths = Vec::new();
        if p.is_dir() {
            let rd =
                std::fs::read_dir(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
            for e in rd {
                let e = e.map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_file() && name != "ORIGINS" && !name.starts_with("README") {
                    paths.push(e.path());
                }
            }
            paths.sort();
        } else {
            paths.push(p.clone());
        }
        for f in paths {
            let text = std::fs::read_to_string(&f)
                .map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
            files.push((f.display().to_string(), text));
        }
    }
    let engines = if a.engines.is_empty() {
        Engine::ALL.to_vec()
    } else {
        a.engines.clone()
    };
    let results = mountfuzz::corpus::check(&files, &engines, a.copies, a.seconds, a.intent);
    println!("{}", mountfuzz::corpus::markdown(&results, &engines));
    Ok(0)
}

fn cmd_where(a: WhereArgs) -> Result<u8, String> {
    let profile = profile(a.engine, &a.fixes);
    let spec = profile
        .parse_mount(&a.options)
        .map_err(|e| format!("{:?}: {e}", a.options))?;
    if spec.kind != MountType::Cache {
        return Err(format!(
            "{:?}: not a cache mount (add type=cache)",
            a.options
        ));
    }
    let env = CacheEnv {
        build: None,
        tmpdir: a.tmpdir,
        image_copy_tmp_dir: a.image_copy_tmp_dir,
        host_uid: a.host_uid,
        buildkit_namespace: a.namespace,
    };
    let loc = profile
        .locate(&spec, &a.workdir, &env)
        .map_err(|e| format!("{:?}: {e}", a.options))?;
    if a.json {
        let v = serde_json::json!({
            "engine": a.engine.to_string(),
            "parent": loc.parent,
            "dir": loc.dir,
            "id": loc.id,
            "lock_file": loc.lock_file,
            "contained": loc.contained,
            "subpath": loc.subpath,
            "sharing": spec.sharing.name(),
        });
        println!("{v}");
    } else {
        println!("{}", loc.dir);
        if let Some(l) = &loc.lock_file {
            println!("lock file: {l}");
        }
        if !loc.subpath.is_empty() {
            println!("the mount shows its subdirectory {}", loc.subpath);
        }
        if spec.from.is_some() && matches!(a.engine, Engine::Buildah(_)) {
            println!(
                "(the mount point of {:?} in the build: the build's own, not persistent)",
                spec.from.as_deref().unwrap_or_default()
            );
        }
        if !loc.contained {
            println!("warning: outside the cache parent {}", loc.parent);
        }
    }
    Ok(0)
}

fn cmd_engines() -> Result<u8, String> {
    for e in Engine::ALL.into_iter().chain(Engine::DRAFTS) {
        println!("{e}\t{}", e.source());
    }
    Ok(0)
}

fn cmd_lint(a: LintArgs) -> Result<u8, String> {
    use mountfuzz::lint::{self, RULES, Threshold, config, output};
    if a.list_rules {
        for r in RULES {
            println!(
                "{} {} ({}, {}): {}\n  engines: {}\n  fix: {}\n  source: {}",
                r.id,
                r.name,
                r.severity.name(),
                r.how,
                r.title,
                r.engines,
                r.fix,
                r.source
            );
        }
        return Ok(0);
    }
    let cfg_path = a.config.clone().or_else(|| {
        let p = PathBuf::from(".mountfuzz.yaml");
        p.is_file().then_some(p)
    });
    let cfg = match &cfg_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
            config::parse(&text, &p.display().to_string())?
        }
        None => config::parse("", "")?,
    };
    for r in &a.ignore {
        if lint::rules::rule(r).is_none() {
            return Err(format!(
                "--ignore {r}: unknown rule (see `mountfuzz lint --list-rules`)"
            ));
        }
    }
    let mut opts = lint::Options::default();
    if !a.engines.is_empty() {
        opts.engines = a.engines.clone();
    } else if !cfg.engines.is_empty() {
        opts.engines = cfg.engines.clone();
    }
    opts.copies = a.copies.or(cfg.config.copies).unwrap_or(2);
    if opts.copies < 1 {
        return Err("--copies must be at least 1".into());
    }
    opts.seconds = a.seconds.or(cfg.config.seconds).unwrap_or(5.0);
    if !(opts.seconds.is_finite() && opts.seconds > 0.0) {
        return Err(format!("--seconds must be above 0 (got {})", opts.seconds));
    }
    opts.remote = a.remote || cfg.config.remote.unwrap_or(false);
    opts.prune = a.prune || cfg.config.prune.unwrap_or(false);
    opts.explain = a.explain;
    opts.ignore = cfg
        .config
        .ignored
        .iter()
        .chain(&a.ignore)
        .cloned()
        .collect();
    let threshold = a
        .failure_threshold
        .or(cfg.threshold)
        .unwrap_or(Threshold::At(lint::Severity::Info));
    let mut reports = Vec::new();
    let mut bad = false;
    for f in &a.files {
        let text = if f == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| format!("-: cannot read stdin: {e}"))?;
            s
        } else {
            match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("mountfuzz: {f}: cannot read: {e}");
                    bad = true;
                    continue;
                }
            }
        };
        match lint::lint(f, &text, &opts) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("mountfuzz: {e}");
                bad = true;
            }
        }
    }
    let rendered = output::render(&reports, a.format);
    match &a.output {
        Some(p) => {
            let marker = match a.format {
                output::Format::Tty => "finding(s) in",
                output::Format::Json => "\"findings\"",
                output::Format::Sarif => "\"mountfuzz\"",
                output::Format::Checkstyle => "<!-- mountfuzz lint -->",
            };
            mountfuzz::report::write_output(p, &rendered, marker)?;
        }
        None => print!("{rendered}"),
    }
    let failing = reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| threshold.fails(f.rule.severity));
    let unproved = reports.iter().any(|r| !r.proved());
    Ok(if bad {
        2
    } else if failing {
        1
    } else if a.require_proof && unproved {
        3
    } else {
        0
    })
}
