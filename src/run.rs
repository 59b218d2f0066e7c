//! One fuzzing run end to end: a suite, an engine profile and a world, explored within a
//! budget; a violation is shrunk into a minimal counterexample and replayed with a history.
//! The CLI's `run` and `replay` and the library API ([`crate::Check`]) all go through here.

use std::time::{Duration, Instant};

use crate::check::{Oracle, Oracles, Violation};
use crate::engine::Profile;
use crate::explore::executor::Record;
use crate::explore::program::CompileError;
use crate::explore::replay::{Diverged, replay};
use crate::explore::shrink::{Shrunk, shrink};
use crate::explore::{self, Budget, Found, Options, Outcome, Program, Schedule, Strategy, Verdict};
use crate::mount::Sharing;
use crate::scenario::Suite;
use crate::world::World;

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The workload.
    pub suite: Suite,
    /// Engine and quirks.
    pub profile: Profile,
    /// Topology and remedy.
    pub world: World,
    /// Override every mount's sharing mode (tests named for a mode keep theirs).
    pub sharing: Option<Sharing>,
    /// How schedules are chosen.
    pub strategy: Strategy,
    /// Limits.
    pub budget: Budget,
    /// Oracles, seed, shard, state counting.
    pub options: Options,
    /// Time for shrinking a violation.
    pub shrink_time: Duration,
}

/// A minimal counterexample with its recorded history.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The shrunk suite.
    pub suite: Suite,
    /// The schedule over the compiled program's tests.
    pub schedule: Schedule,
    /// What breaks; `None` when a replay ran cleanly (it no longer reproduces).
    pub violation: Option<Violation>,
    /// Every step, for the timeline.
    pub history: Vec<Record>,
    /// The compiled program's test names, in schedule-index order.
    pub tests: Vec<String>,
    /// Cache dirs that more than one test touched: (dir, mount target, test indices).
    pub shared_dirs: Vec<(String, String, Vec<usize>)>,
    /// The interned keys of those dirs (what history records name).
    pub shared_keys: Vec<usize>,
    /// Candidates tried while shrinking.
    pub shrink_tries: u64,
    /// Schedules the shrinker ran in searches of its own (more witnesses, or the cause of a
    /// failed expectation), apart from the verdict's search and its counts.
    pub shrink_schedules: u64,
    /// The failing test fails the same way alone: no interleaving is needed, and the
    /// counterexample is that test alone, unshrunk.
    pub deterministic: bool,
}

/// A test that breaks a property when it runs alone: a deterministic failure, which needs no
/// interleaving. Its counterexample is the test alone, unshrunk.
#[derive(Clone, Debug)]
pub struct DeterministicFailure {
    /// The test's name.
    pub test: String,
    /// What it breaks alone.
    pub violation: Violation,
    /// Its sequential run, recorded.
    pub counterexample: Counterexample,
    /// A deadlock under podman-remote: the stuck build outlives its client (seen on podman 4.3
    /// and 5.4), so the server keeps its locks until it restarts. These other tests lock one of
    /// those caches and hang there (`tests/real_current.rs` shows it on podman 5.4).
    pub poisons: Option<Vec<String>>,
}

/// For a test that deadlocks alone after `executed` of its events: under podman-remote, the
/// other tests that lock a cache its blocked RUN already holds locked (the poisoned server);
/// `None` when the topology is local (the killed build frees its locks) or it is no deadlock.
fn poisoned_by(all: &Program, t: usize, executed: usize, v: &Violation) -> Option<Vec<String>> {
    use crate::explore::program::Event;
    if v.oracle != Oracle::Deadlock || all.world.topology != crate::world::Topology::Remote {
        return None;
    }
    let events = &all.tests[t].events;
    let Some(Event::Acquire { run, .. }) = events.get(executed) else {
        return Some(Vec::new());
    };
    let held: Vec<u32> = events[..executed]
        .iter()
        .filter_map(|e| match e {
            Event::Acquire {
                run: r,
                key,
                sharing: Sharing::Locked,
            } if r == run => Some(*key),
            _ => None,
        })
        .collect();
    Some(
        all.tests
            .iter()
            .enumerate()
            .filter(|&(o, other)| {
                o != t
                    && other.events.iter().any(|e| {
                        matches!(e, Event::Acquire { key, sharing: Sharing::Locked, .. } if held.contains(key))
                    })
            })
            .map(|(_, other)| other.name.clone())
            .collect(),
    )
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The configuration that ran (with the sharing override applied to the suite).
    pub config: RunConfig,
    /// Tests that fail on their own (checked first, each alone); they are left out of the
    /// interleaving search, and any of them makes the run VIOLATED.
    pub deterministic: Vec<DeterministicFailure>,
    /// What the interleaving search over the other tests found, and the numbers behind it.
    pub outcome: Outcome,
    /// Tests the world skipped (coverage lost).
    pub skipped: Vec<String>,
    /// What the model represents only in part ([`Program::notes`]).
    pub notes: Vec<String>,
    /// Why the engine cannot run this suite at all, if so.
    pub unsupported: Option<String>,
    /// The minimal counterexample, when a violation was found.
    pub counterexample: Option<Counterexample>,
}

impl RunReport {
    /// Whether the properties were proved to hold (exhaustively or statically) and the engine
    /// supports the suite. A sampled run that found nothing is not a proof.
    pub fn holds(&self) -> bool {
        self.unsupported.is_none()
            && self.deterministic.is_empty()
            && matches!(self.outcome.verdict, Verdict::Holds { .. })
    }

    /// The verdict's name for reports: holds, violated, not-found, unknown, vacuous or
    /// unsupported.
    pub fn verdict_name(&self) -> &'static str {
        if self.unsupported.is_some() {
            "unsupported"
        } else if !self.deterministic.is_empty() {
            "violated"
        } else {
            self.outcome.verdict.name()
        }
    }

    /// The violation of the minimal counterexample of the interleaving search, else the first
    /// deterministic failure's.
    pub fn violation(&self) -> Option<&Violation> {
        self.counterexample
            .as_ref()
            .and_then(|c| c.violation.as_ref())
            .or_else(|| self.deterministic.first().map(|d| &d.violation))
    }

    /// Process exit code: 0 holds, not found or vacuous, 1 violation, 2 unsupported (the engine
    /// rejects the input), 3 unknown (the budget cut an exhaustive search). With
    /// `require_proof`, anything but a proof or a violation (not found, vacuous) is 3 too.
    pub fn exit_code(&self, require_proof: bool) -> u8 {
        match (&self.outcome.verdict, &self.unsupported) {
            (_, Some(_)) => 2,
            _ if !self.deterministic.is_empty() => 1,
            (Verdict::Holds { .. }, None) => 0,
            (Verdict::Violated(_), None) => 1,
            (Verdict::Unknown(_), None) => 3,
            (Verdict::NotFound | Verdict::Vacuous(_), None) => {
                if require_proof {
                    3
                } else {
                    0
                }
            }
        }
    }
}

/// Runs `config`.
pub fn run(config: RunConfig) -> Result<RunReport, CompileError> {
    let mut config = config;
    if let Some(s) = config.sharing {
        config.suite = config.suite.clone().with_sharing(s);
    }
    let all = Program::compile(&config.suite, config.profile, &config.world)?;
    let notes = all.notes.clone();
    // Tests that fail on their own are reported as such and left out of the search, which then
    // looks for what only an interleaving of the others can break.
    let mut deterministic = Vec::new();
    let mut search = config.clone();
    if all.unsupported.is_none() {
        for t in 0..all.mains() {
            let Some(violation) = explore::alone_violation(&all, t, config.options.oracles) else {
                continue;
            };
            let alone = crate::explore::shrink::alone(
                &config.suite,
                suite_index(&config.suite, &config.world, t),
            );
            let mut cx = replay_recorded(
                &alone,
                config.profile,
                &config.world,
                config.options.oracles,
                &Schedule::default(),
                0,
            )
            .expect("a test alone compiles and replays");
            cx.deterministic = true;
            let poisons = poisoned_by(&all, t, cx.history.len(), &violation);
            deterministic.push(DeterministicFailure {
                test: all.tests[t].name.clone(),
                violation,
                counterexample: cx,
                poisons,
            });
        }
        search
            .suite
            .tests
            .retain(|t| !deterministic.iter().any(|d| d.test == t.name));
    }
    let prog = if deterministic.is_empty() {
        all
    } else {
        Program::compile(&search.suite, config.profile, &config.world)?
    };
    let outcome = if prog.unsupported.is_some() {
        Outcome {
            verdict: Verdict::Unknown("unsupported".into()),
            schedules: 0,
            blocked: 0,
            elsewhere: 0,
            steps: 0,
            distinct_states: None,
            elapsed: Duration::ZERO,
        }
    } else {
        explore::explore(
            &prog,
            config.strategy,
            config.budget,
            config.options.clone(),
        )
    };
    let counterexample = match &outcome.verdict {
        Verdict::Violated(found) => Some(explain(&prog, &search, found)),
        _ => None,
    };
    Ok(RunReport {
        notes,
        deterministic,
        skipped: prog.skipped.clone(),
        unsupported: prog.unsupported.clone(),
        config,
        outcome,
        counterexample,
    })
}

/// The counterexample for the verdict's violation `found` (never a deterministic failure: [`run`]
/// takes those out before the search). The shrinker works apart from the verdict's search: a failed
/// expectation (a symptom) first gets a short search for a causal oracle's violation
/// (isolation, locking, …) to shrink instead, and sampled runs shrink up to [`WITNESSES`]
/// violations; the schedules those searches ran are counted in `shrink_schedules`.
fn explain(prog: &Program, config: &RunConfig, found: &Found) -> Counterexample {
    let (oracles, profile, world) = (config.options.oracles, config.profile, &config.world);
    let mut extra = 0;
    let mut witness = found.clone();
    let mut search_oracles = oracles;
    if found.violation.oracle == Oracle::Expectation {
        let causes: Vec<Oracle> = Oracle::ALL
            .into_iter()
            .filter(|o| *o != Oracle::Expectation && oracles.has(*o))
            .collect();
        let budget = Budget {
            schedules: config.budget.schedules.min(10_000),
            time: config.budget.time.min(Duration::from_secs(2)),
        };
        let opts = Options {
            oracles: Oracles::of(&causes),
            progress: None,
            ..config.options.clone()
        };
        let o = explore::explore(prog, config.strategy, budget, opts);
        extra += o.schedules;
        if let Verdict::Violated(f) = o.verdict {
            witness = *f;
            search_oracles = Oracles::of(&causes);
        }
    }
    let (shrunk, more) = shrink_best(prog, config, &witness, search_oracles);
    extra += more;
    let mut cx = replay_recorded(
        &shrunk.suite,
        profile,
        world,
        oracles,
        &shrunk.schedule,
        shrunk.tries,
    )
    .expect("a shrunk counterexample compiles and replays");
    cx.shrink_schedules = extra;
    cx
}

/// The suite index of the program's test `t` (skipped tests have no program index).
fn suite_index(suite: &Suite, world: &World, t: usize) -> usize {
    (0..suite.tests.len())
        .filter(|&i| !world.skipped(&suite.tests[i]))
        .nth(t)
        .unwrap_or(0)
}

/// How many violating schedules [`run`] shrinks (the first and the next ones the same search
/// finds) before it reports the smallest result: greedy shrinking from one witness can stop in
/// a local minimum.
pub const WITNESSES: u64 = 4;

/// Shrinks `found` and up to [`WITNESSES`]` - 1` further violations of the same oracle (from the
/// schedules after it, random and PCT only); keeps the counterexample with the fewest tests,
/// then steps, then context switches. Deterministic for a seed. Returns it with the schedules
/// its own searches ran.
fn shrink_best(
    prog: &Program,
    config: &RunConfig,
    found: &Found,
    oracles: Oracles,
) -> (Shrunk, u64) {
    let deadline = Instant::now() + config.shrink_time;
    let left = || deadline.saturating_duration_since(Instant::now());
    let size = |s: &Shrunk| {
        (
            s.suite.tests.len(),
            s.schedule.0.len(),
            s.schedule.switches(),
        )
    };
    let shrink_within = |f: &Found, time| {
        shrink(
            &config.suite,
            config.profile,
            &config.world,
            oracles,
            f,
            time,
        )
    };
    let mut best = shrink_within(found, left() / WITNESSES as u32);
    let mut tries = best.tries;
    let mut searched = 0;
    let mut next = found.index + config.options.shard.1;
    let sampled = matches!(config.strategy, Strategy::Random | Strategy::Pct { .. });
    for k in 1..WITNESSES {
        if !sampled || left().is_zero() {
            break;
        }
        let opts = Options {
            shard: (next, config.options.shard.1),
            progress: None,
            oracles,
            ..config.options.clone()
        };
        let o = explore::explore(prog, config.strategy, Budget::new(1_000, 1.0), opts);
        searched += o.schedules;
        let Verdict::Violated(f) = o.verdict else {
            break;
        };
        next = f.index + config.options.shard.1;
        if f.violation.oracle != found.violation.oracle {
            continue;
        }
        let cx = shrink_within(&f, left() / (WITNESSES - k) as u32);
        tries += cx.tries;
        if size(&cx) < size(&best) {
            best = cx;
        }
    }
    best.tries = tries;
    (best, searched)
}

/// The suite with every build's expectation set to what it does when its test runs alone
/// (output of its reads, or the failure of a read), as the bats tests are written: each passes
/// alone, so any violation in parallel is interference.
pub fn calibrate(suite: &Suite, profile: Profile, world: &World) -> Result<Suite, CompileError> {
    let mut out = suite.clone();
    let all = Program::compile(suite, profile, world)?;
    let mut p = 0; // the program's index of suite test `ti` (skipped tests have none)
    for ti in 0..suite.tests.len() {
        if world.skipped(&suite.tests[ti]) {
            continue;
        }
        let prog = all.alone(p);
        p += 1;
        let r = replay(&prog, &Schedule::default(), Oracles::none(), true, true)
            .expect("a lenient replay always fits");
        let mut ends = r.history.iter().filter_map(|h| h.build.as_ref());
        for step in out.tests[ti].steps.iter_mut() {
            let crate::scenario::Step::Build(b) = step else {
                continue;
            };
            let Some(end) = ends.next() else { break };
            let printed = end.output.trim_end();
            b.expect = match &end.failure {
                Some(f) if f.contains("No such file or directory") => {
                    crate::scenario::Expect::FailsWith("No such file or directory".into())
                }
                Some(f) => crate::scenario::Expect::FailsWith(f.clone()),
                None if printed.is_empty() => crate::scenario::Expect::Success,
                None => crate::scenario::Expect::OutputContains(printed.to_string()),
            };
        }
    }
    Ok(out)
}

/// What each test's reads return when `suite` runs unit by unit in `units` order (the model's
/// prediction for a real run forced through the same schedule).
pub fn unit_reads(
    suite: &Suite,
    profile: Profile,
    world: &World,
    units: &Schedule,
) -> Result<Vec<Vec<Option<String>>>, ReplayError> {
    let prog = Program::compile(suite, profile, world).map_err(ReplayError::Compile)?;
    let events = crate::explore::units::expand(&prog, units)
        .map_err(|problem| ReplayError::Diverged(Diverged { step: 0, problem }))?;
    let r = replay(&prog, &events, Oracles::none(), true, false).map_err(ReplayError::Diverged)?;
    let mut reads = vec![Vec::new(); prog.tests.len()];
    for rec in &r.history {
        if let Some(v) = &rec.read {
            reads[rec.test].push(v.clone());
        }
    }
    Ok(reads)
}

/// A counterexample realisable by real builds: a unit-level schedule (each RUN atomic) under
/// which `suite` breaks an expectation (a symptom a real read can show), shrunk to the fewest tests that still break
/// it. `None` when `tries` random unit schedules find nothing.
pub fn unit_counterexample(
    suite: &Suite,
    profile: Profile,
    world: &World,
    tries: u64,
) -> Result<Option<(Suite, Schedule)>, CompileError> {
    use crate::explore::shrink::{passes_alone, program_names, remap};
    use crate::explore::units;
    let oracles = Oracles::of(&[Oracle::Expectation]);
    let prog = Program::compile(suite, profile, world)?;
    let Some((mut units_found, _)) = units::find(&prog, oracles, tries, 0) else {
        return Ok(None);
    };
    let mut best = suite.clone();
    let mut i = best.tests.len();
    while i > 0 && best.tests.len() > 1 {
        i -= 1;
        let mut cand = best.clone();
        cand.tests.remove(i);
        let remapped = remap(
            &units_found,
            &program_names(&best, world),
            &program_names(&cand, world),
        );
        let cprog = Program::compile(&cand, profile, world)?;
        let Ok(events) = units::expand(&cprog, &remapped) else {
            continue;
        };
        let still = replay(&cprog, &events, oracles, false, true)
            .ok()
            .and_then(|r| r.violation)
            .is_some();
        let alone_ok =
            (0..cand.tests.len()).all(|t| passes_alone(&cand, t, profile, world, oracles));
        if still && alone_ok {
            (best, units_found) = (cand, remapped);
        }
    }
    Ok(Some((best, units_found)))
}

/// The library entry point for users' own `cargo test`: a builder over [`RunConfig`] whose
/// defaults are the CLI's (Buildah, remote, no remedy, random, 100,000 schedules, 30 s).
///
/// ```
/// use mountfuzz::Check;
/// use mountfuzz::check::Oracle;
/// use mountfuzz::explore::Strategy;
/// use mountfuzz::scenario::builtin;
/// use mountfuzz::world::{Remedy, Topology};
///
/// let suite = builtin::find("buildah-bud-cache").unwrap().suite();
/// // podman#25414: under podman-remote the tests' TMPDIRs never reach the build.
/// let report = Check::new(suite.clone())
///     .engine("buildah".parse().unwrap())
///     .topology(Topology::Remote)
///     .remedy(Remedy::None)
///     .schedules(10_000)
///     .run()
///     .unwrap();
/// assert!(!report.holds());
/// assert_eq!(report.violation().unwrap().oracle, Oracle::Isolation);
///
/// // Starting each test's server with the test's TMPDIR cures it, for every interleaving.
/// let cured = Check::new(suite)
///     .remedy(Remedy::ServerEnv)
///     .strategy(Strategy::Dfs { por: true })
///     .run()
///     .unwrap();
/// assert!(cured.holds());
/// ```
#[derive(Clone, Debug)]
pub struct Check {
    config: RunConfig,
}

impl Check {
    /// A check of `suite` with the CLI's defaults.
    pub fn new(suite: Suite) -> Check {
        Check {
            config: RunConfig {
                suite,
                profile: Profile::new(crate::engine::Engine::Buildah(
                    crate::engine::BuildahVersion::Current,
                )),
                world: World::new(crate::world::Topology::Remote, crate::world::Remedy::None),
                sharing: None,
                strategy: Strategy::Random,
                budget: Budget::new(100_000, 30.0),
                options: Options::default(),
                shrink_time: Duration::from_secs(10),
            },
        }
    }
    /// The engine (its default quirks).
    pub fn engine(mut self, engine: crate::engine::Engine) -> Check {
        self.config.profile = Profile::new(engine);
        self
    }
    /// Switch a quirk off (apply its fix).
    pub fn fix(mut self, quirk: crate::engine::Quirk) -> Check {
        self.config.profile = self.config.profile.fixed(quirk);
        self
    }
    /// Local or remote.
    pub fn topology(mut self, topology: crate::world::Topology) -> Check {
        self.config.world.topology = topology;
        self
    }
    /// The remedy under test.
    pub fn remedy(mut self, remedy: crate::world::Remedy) -> Check {
        self.config.world.remedy = remedy;
        self
    }
    /// Set every mount's sharing mode.
    pub fn sharing(mut self, sharing: Sharing) -> Check {
        self.config.sharing = Some(sharing);
        self
    }
    /// How schedules are chosen.
    pub fn strategy(mut self, strategy: Strategy) -> Check {
        self.config.strategy = strategy;
        self
    }
    /// Most schedules.
    pub fn schedules(mut self, n: u64) -> Check {
        self.config.budget.schedules = n;
        self
    }
    /// Most seconds.
    pub fn seconds(mut self, s: f64) -> Check {
        self.config.budget.time = Duration::from_secs_f64(s);
        self
    }
    /// Seed of the first schedule.
    pub fn seed(mut self, seed: u64) -> Check {
        self.config.options.seed = seed;
        self
    }
    /// Only these oracles. With `torn-read` among them, each write through `O_TRUNC` has its
    /// moment in flight ([`World::torn_writes`]), as on the CLI.
    pub fn oracles(self, oracles: &[Oracle]) -> Check {
        self.with_oracles(Oracles::of(oracles))
    }
    /// The oracles of an intent (`--intent`): shared-cache checks torn reads, isolation does not.
    pub fn intent(self, intent: crate::check::Intent) -> Check {
        self.with_oracles(intent.oracles())
    }
    fn with_oracles(mut self, oracles: Oracles) -> Check {
        self.config.options.oracles = oracles;
        self.config.world.torn_writes = oracles.has(Oracle::TornRead);
        self
    }
    /// Explores, and shrinks a violation into a minimal counterexample.
    pub fn run(self) -> Result<RunReport, CompileError> {
        run(self.config)
    }
}

/// The model's and the real engines' reads for one unit schedule.
#[derive(Clone, Debug)]
pub struct RealComparison {
    /// Test names (non-skipped), in schedule-index order.
    pub tests: Vec<String>,
    /// What the model predicts each test's reads return; `Err` when the model says the
    /// schedule cannot run (a test blocks forever).
    pub model: Result<Vec<Vec<Option<String>>>, String>,
    /// What the real engines did; `Err` when the real run did not complete.
    pub real: Result<crate::real::driver::RealOutcome, crate::real::driver::RealError>,
}

impl RealComparison {
    /// Whether model and real agree: same reads, or both say the run cannot complete.
    pub fn agree(&self) -> bool {
        use crate::real::driver::RealError;
        match (&self.model, &self.real) {
            (Ok(m), Ok(r)) => *m == r.reads,
            (Err(_), Err(RealError::Timeout(_))) => true,
            _ => false,
        }
    }

    /// Why the real side could not be checked at all (no engine, no real counterpart, an
    /// engine failure outside the workload after every retry, a file the harness could not
    /// handle): a harness failure, never a model-fidelity mismatch. A timeout is an outcome
    /// (the real run blocked), so it is not one.
    pub fn harness_failure(&self) -> Option<String> {
        use crate::real::driver::RealError;
        match &self.real {
            Err(RealError::Timeout(_)) | Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    }
}

/// Runs `cfg` (its units of its suite in its world) both in the model of `cfg.engine` and on
/// that engine's real binaries (one of [`crate::real::driver::DRIVEN`]), for comparison.
pub fn compare_with_real(
    cfg: &crate::real::driver::RealConfig,
) -> Result<RealComparison, CompileError> {
    use crate::real::driver;
    let profile = Profile::new(cfg.engine);
    let prog = Program::compile(&cfg.suite, profile, &cfg.world)?;
    let model = unit_reads(&cfg.suite, profile, &cfg.world, &cfg.units).map_err(|e| e.to_string());
    Ok(RealComparison {
        tests: prog.tests.iter().map(|t| t.name.clone()).collect(),
        model,
        real: driver::run(cfg),
    })
}

/// Why a replay could not be carried out.
#[derive(Clone, Debug)]
pub enum ReplayError {
    /// The suite does not compile for that engine and world.
    Compile(CompileError),
    /// The schedule does not fit the suite.
    Diverged(Diverged),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Compile(e) => write!(f, "{e}"),
            ReplayError::Diverged(d) => write!(f, "the schedule does not fit the suite: {d}"),
        }
    }
}

/// Replays `schedule` strictly, recording a history; the result's `violation` says whether
/// it reproduces.
pub fn replay_recorded(
    suite: &Suite,
    profile: Profile,
    world: &World,
    oracles: Oracles,
    schedule: &Schedule,
    shrink_tries: u64,
) -> Result<Counterexample, ReplayError> {
    let prog = Program::compile(suite, profile, world).map_err(ReplayError::Compile)?;
    let r = replay(&prog, schedule, oracles, true, false).map_err(ReplayError::Diverged)?;
    let tests: Vec<String> = prog.tests.iter().map(|t| t.name.clone()).collect();
    let mut by_key: Vec<Vec<usize>> = vec![Vec::new(); prog.keys.len()];
    for rec in &r.history {
        if let Some(k) = rec.key.filter(|k| !by_key[*k].contains(&rec.test)) {
            by_key[k].push(rec.test);
        }
    }
    let shared_keys: Vec<usize> = (0..by_key.len()).filter(|&k| by_key[k].len() > 1).collect();
    let shared_dirs = shared_keys
        .iter()
        .map(|&k| {
            (
                prog.keys[k].loc.dir.clone(),
                prog.keys[k].target.clone(),
                by_key[k].clone(),
            )
        })
        .collect();
    Ok(Counterexample {
        suite: suite.clone(),
        schedule: r.executed,
        violation: r.violation,
        history: r.history,
        tests,
        shared_dirs,
        shared_keys,
        shrink_tries,
        shrink_schedules: 0,
        deterministic: false,
    })
}
