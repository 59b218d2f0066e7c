//! Exploring interleavings of a compiled suite. One deterministic executor ([`executor`]); a
//! strategy per file picks who moves next: [`random`], [`pct`] (probabilistic concurrency
//! testing, ASPLOS'10), [`dfs`] (bounded exhaustive search with sleep sets and a safe-step
//! reduction), [`replay`]. [`shrink`] turns a failing run into a minimal counterexample.
//!
//! Every exploration is bounded by schedules and seconds and says so: a verdict that ran out of
//! budget is `Unknown` (or a non-exhaustive `Holds` that states how much it rests on).

pub mod dfs;
pub mod executor;
pub mod pct;
pub mod program;
pub mod random;
pub mod replay;
pub mod schedule;
pub mod shrink;
pub mod units;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::check::{Oracles, Violation};
pub use executor::Machine;
pub use program::Program;
pub use schedule::Schedule;

/// How schedules are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Uniformly among runnable tests at every scheduling choice (every step, or every step
    /// that is not a safe step: see [`Options::safe_steps`]).
    Random,
    /// PCT with bug depth `depth`: random priorities, `depth - 1` priority change points.
    Pct {
        /// The bug depth d (≥ 1).
        depth: u32,
    },
    /// Depth-first over every interleaving; `por` prunes equivalent ones (sleep sets and safe
    /// steps); without it, plain DFS.
    Dfs {
        /// Partial-order reduction on.
        por: bool,
    },
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Random => f.write_str("random"),
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
            Strategy::Dfs { por: true } => f.write_str("dfs"),
            Strategy::Dfs { por: false } => f.write_str("dfs-plain"),
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(Strategy::Random),
            "pct" => Ok(Strategy::Pct { depth: 3 }),
            "dfs" => Ok(Strategy::Dfs { por: true }),
            "dfs-plain" => Ok(Strategy::Dfs { por: false }),
            _ => match s.strip_prefix("pct:").map(str::parse::<u32>) {
                Some(Ok(d)) if d >= 1 => Ok(Strategy::Pct { depth: d }),
                _ => Err(format!(
                    "unknown strategy {s:?} (want random, pct, pct:D with D ≥ 1, dfs or dfs-plain)"
                )),
            },
        }
    }
}

/// Limits of one exploration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Most schedules (executions, for DFS).
    pub schedules: u64,
    /// Most wall-clock time.
    pub time: Duration,
}

impl Budget {
    /// `schedules` schedules or `seconds` seconds, whichever ends first.
    pub fn new(schedules: u64, seconds: f64) -> Budget {
        Budget {
            schedules,
            time: Duration::from_secs_f64(seconds),
        }
    }
}

/// A failing run: the schedule that reproduces it and what broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The choices that lead to the violation.
    pub schedule: Schedule,
    /// What broke.
    pub violation: Violation,
    /// The global index of the schedule that broke (random, PCT: its seed stream; DFS: the
    /// execution count), so shards can be merged into the unsharded verdict.
    pub index: u64,
}

/// The verdict of an exploration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No violation in what was explored; `exhaustive` when that was every interleaving (up to
    /// equivalence).
    Holds {
        /// Whether the search covered the whole space.
        exhaustive: bool,
    },
    /// A violation was found.
    Violated(Box<Found>),
    /// Nothing was explored to a conclusion (the budget ended first).
    Unknown(String),
}

/// The result of an exploration, with the numbers its verdict rests on.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// Schedules (executions) completed or cut short by a violation.
    pub schedules: u64,
    /// Events executed in all.
    pub steps: u64,
    /// Distinct states reached, when counted.
    pub distinct_states: Option<u64>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Counters an exploration publishes while it runs (for progress bars), updated every few dozen
/// schedules; readers only display them.
#[derive(Debug, Default)]
pub struct Progress {
    /// Schedules (executions) so far.
    pub schedules: std::sync::atomic::AtomicU64,
    /// Steps so far.
    pub steps: std::sync::atomic::AtomicU64,
    /// Distinct states so far (when counted).
    pub states: std::sync::atomic::AtomicU64,
}

impl Progress {
    fn publish(
        p: &Option<std::sync::Arc<Progress>>,
        schedules: u64,
        steps: u64,
        states: &Option<HashSet<u64>>,
    ) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(p) = p {
            p.schedules.store(schedules, Relaxed);
            p.steps.store(steps, Relaxed);
            p.states
                .store(states.as_ref().map_or(0, |s| s.len() as u64), Relaxed);
        }
    }
}

/// What to count and check during an exploration.
#[derive(Clone, Debug)]
pub struct Options {
    /// Oracles on.
    pub oracles: Oracles,
    /// Count distinct states (slower).
    pub count_states: bool,
    /// Seed of the first schedule (random, PCT).
    pub seed: u64,
    /// Run only schedules whose index `i` has `i % shard.1 == shard.0`.
    pub shard: (u64, u64),
    /// Where to publish progress, if anyone is watching.
    pub progress: Option<std::sync::Arc<Progress>>,
    /// Random and PCT: run *safe steps* without a choice (an event on keys no other test
    /// touches commutes with everything, so choosing when it runs changes nothing but the
    /// schedule's length). On by default; off, every event is a scheduling choice.
    pub safe_steps: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            oracles: Oracles::all(),
            count_states: false,
            seed: 0,
            shard: (0, 1),
            progress: None,
            safe_steps: true,
        }
    }
}

/// Explores `prog` with `strategy` within `budget`.
pub fn explore(prog: &Program, strategy: Strategy, budget: Budget, opts: Options) -> Outcome {
    let start = Instant::now();
    let mut states = opts.count_states.then(HashSet::new);
    let (verdict, schedules, steps) = match strategy {
        Strategy::Random => sample(
            prog,
            &mut random::Uniform,
            budget,
            &opts,
            start,
            &mut states,
        ),
        Strategy::Pct { depth } => {
            let mut pct = pct::Pct::new(prog, depth);
            sample(prog, &mut pct, budget, &opts, start, &mut states)
        }
        Strategy::Dfs { por } => dfs::run(prog, por, budget, &opts, start, &mut states),
    };
    Progress::publish(&opts.progress, schedules, steps, &states);
    Outcome {
        verdict,
        schedules,
        steps,
        distinct_states: states.map(|s| s.len() as u64),
        elapsed: start.elapsed(),
    }
}

/// The tests that can move at one step: a bit set (programs of at most 64 tests) or a list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Runnable<'a> {
    /// Bit `t` set when test `t` can move.
    Mask(u64),
    /// The runnable tests in ascending order.
    List(&'a [usize]),
}

impl Runnable<'_> {
    /// How many tests can move.
    pub(crate) fn len(&self) -> usize {
        match self {
            Runnable::Mask(m) => m.count_ones() as usize,
            Runnable::List(l) => l.len(),
        }
    }
    /// The `k`-th runnable test in ascending order (`k < len()`).
    pub(crate) fn nth(&self, k: usize) -> usize {
        match self {
            Runnable::Mask(m) => {
                let mut bits = *m;
                for _ in 0..k {
                    bits &= bits - 1;
                }
                bits.trailing_zeros() as usize
            }
            Runnable::List(l) => l[k],
        }
    }
    /// The runnable tests in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let (mut bits, list) = match self {
            Runnable::Mask(m) => (*m, &[][..]),
            Runnable::List(l) => (0, *l),
        };
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let t = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                t
            })
        })
        .chain(list.iter().copied())
    }
}

/// The end of one schedule driven by `choose` (which returns the test to move among the
/// runnable ones): a violation with its schedule, or `None` when it completed cleanly.
pub(crate) fn run_one(
    m: &mut Machine<'_>,
    choices: &mut Vec<u32>,
    list: &mut Vec<usize>,
    states: &mut Option<HashSet<u64>>,
    safe_steps: bool,
    mut choose: impl FnMut(Runnable<'_>, u64) -> usize,
) -> Option<Found> {
    m.reset();
    choices.clear();
    let n = m.program().tests.len();
    loop {
        if let Some(v) = m.violation() {
            return Some(Found {
                schedule: Schedule(choices.clone()),
                violation: v.clone(),
                index: 0,
            });
        }
        let runnable = match m.runnable_mask() {
            Some(mask) => Runnable::Mask(mask),
            None => {
                list.clear();
                list.extend((0..n).filter(|&t| m.enabled(t)));
                Runnable::List(list)
            }
        };
        if runnable.len() == 0 {
            if m.check_deadlock() {
                continue;
            }
            return None;
        }
        let t = choose(runnable, m.steps());
        m.advance(t);
        choices.push(t as u32);
        if let Some(s) = states.as_mut() {
            s.insert(m.digest());
        }
        // Safe steps: while t's next event touches only keys no other test touches, it
        // commutes with everything the others can do, so it runs now, without a choice.
        if safe_steps {
            let ran = m.run_safe(t, |m| {
                if let Some(s) = states.as_mut() {
                    s.insert(m.digest());
                }
            });
            choices.extend(std::iter::repeat_n(t as u32, ran as usize));
        }
    }
}

/// A way of choosing among runnable tests, one schedule at a time (random, PCT).
pub(crate) trait Sampler {
    /// Prepares schedule number `index` (its own random stream is `rng`).
    fn begin(&mut self, rng: &mut Rng);
    /// The test to move at step `step + 1`, among `runnable` (never empty).
    fn choose(&mut self, rng: &mut Rng, runnable: Runnable<'_>, step: u64) -> usize;
}

/// Runs schedules chosen by `sampler` until a violation or the budget ends.
pub(crate) fn sample(
    prog: &Program,
    sampler: &mut impl Sampler,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
) -> (Verdict, u64, u64) {
    let mut m = Machine::new(prog, opts.oracles);
    let (mut choices, mut runnable) = (Vec::new(), Vec::new());
    let (mut done, mut steps) = (0u64, 0u64);
    let mut index = opts.shard.0;
    while done < budget.schedules {
        if done.is_multiple_of(64) {
            Progress::publish(&opts.progress, done, steps, states);
            if start.elapsed() >= budget.time {
                break;
            }
        }
        let mut rng = Rng::for_schedule(opts.seed, index);
        index += opts.shard.1;
        sampler.begin(&mut rng);
        let this = index - opts.shard.1;
        let found = run_one(
            &mut m,
            &mut choices,
            &mut runnable,
            states,
            opts.safe_steps,
            |r, step| sampler.choose(&mut rng, r, step),
        )
        .map(|f| Found { index: this, ..f });
        done += 1;
        steps += m.steps();
        if let Some(f) = found {
            return (Verdict::Violated(Box::new(f)), done, steps);
        }
    }
    let verdict = if done == 0 {
        Verdict::Unknown("the time budget ended before one schedule ran".into())
    } else {
        Verdict::Holds { exhaustive: false }
    };
    (verdict, done, steps)
}

/// SplitMix64: a small, fast, seedable generator (each schedule gets its own stream).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// The stream of schedule `index` under `seed`.
    pub fn for_schedule(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}
