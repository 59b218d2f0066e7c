//! Exploring interleavings of a compiled suite. One deterministic executor ([`executor`]); a
//! strategy per file picks who moves next: [`random`], [`pct`] (probabilistic concurrency
//! testing, ASPLOS'10), [`dpor`] (exhaustive search, one execution per trace of the dependency
//! relation in [`footprint`]), [`dfs`] (plain exhaustive search, the baseline), [`replay`]. [`shrink`] turns a failing run into a minimal counterexample.
//!
//! Every exploration is bounded by schedules and seconds and says so: only a proof gives
//! [`Verdict::Holds`] (exhaustive search, or static independence); sampling that finds nothing
//! is [`Verdict::NotFound`]; an exhaustive search cut by its budget is [`Verdict::Unknown`].

pub mod dfs;
mod disk;
pub mod dpor;
pub mod executor;
pub mod footprint;
pub mod pct;
pub mod program;
pub mod random;
pub mod replay;
pub mod schedule;
pub mod shrink;
pub mod states;
pub mod traces;
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
    /// Depth-first over every interleaving; `por` explores one per Mazurkiewicz trace (optimal
    /// DPOR, [`dpor`]); without it, plain DFS over every interleaving.
    Dfs {
        /// Partial-order reduction on.
        por: bool,
    },
    /// Depth first over every reachable state, each expanded once ([`states`]): exhaustive
    /// where traces are too many but states are not.
    States,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Random => f.write_str("random"),
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
            Strategy::Dfs { por: true } => f.write_str("dfs"),
            Strategy::Dfs { por: false } => f.write_str("dfs-plain"),
            Strategy::States => f.write_str("states"),
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
            "states" => Ok(Strategy::States),
            _ => match s.strip_prefix("pct:").map(str::parse::<u32>) {
                Some(Ok(d)) if d >= 1 => Ok(Strategy::Pct { depth: d }),
                _ => Err(format!(
                    "unknown strategy {s:?} (want random, pct, pct:D with D ≥ 1, dfs, dfs-plain or states)"
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
    /// The test that broke makes the same complaint when it runs alone: a deterministic
    /// failure that needs no interleaving.
    pub deterministic: bool,
}

/// What a `HOLDS` rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// Every interleaving was explored, up to the reduction's equivalence (`dfs`: one run per
    /// trace; `states`: runs that reach one state go on as one).
    Exhaustive,
    /// No two tests share a cache dir, a lock or a parent that a prune or teardown removes, so
    /// every interleaving is equivalent to the one sequential run, which passed.
    Static,
}

impl Proof {
    /// `exhaustive` or `static`.
    pub fn name(self) -> &'static str {
        match self {
            Proof::Exhaustive => "exhaustive",
            Proof::Static => "static",
        }
    }
}

/// The verdict of an exploration. Only [`Verdict::Holds`] claims the properties hold, and it
/// says which proof it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No violation in any interleaving, by the proof named.
    Holds {
        /// Exhaustive search or static independence.
        proof: Proof,
    },
    /// A violation was found.
    Violated(Box<Found>),
    /// Sampled schedules (random, PCT) ran to the budget and found nothing: not a proof (the
    /// outcome's counts say how much was tried).
    NotFound,
    /// An exhaustive search was cut by its budget; the text says what was left.
    Unknown(String),
    /// Nothing to interleave (fewer than two tests run, or no RUN does anything to a cache
    /// that the model sees); the text says which. The sequential run passed.
    Vacuous(String),
}

impl Verdict {
    /// The JSON name: holds, violated, not-found, unknown or vacuous.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Holds { .. } => "holds",
            Verdict::Violated(_) => "violated",
            Verdict::NotFound => "not-found",
            Verdict::Unknown(_) => "unknown",
            Verdict::Vacuous(_) => "vacuous",
        }
    }

    /// The proof behind a `HOLDS`, if this is one.
    pub fn proof(&self) -> Option<Proof> {
        match self {
            Verdict::Holds { proof } => Some(*proof),
            _ => None,
        }
    }
}

/// The result of an exploration, with the numbers its verdict rests on.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// Schedules (executions) completed or cut short by a violation. For `dfs` (optimal DPOR)
    /// each is one Mazurkiewicz trace; executions it abandoned are `blocked`. For `states`, the
    /// distinct states reached (as `distinct_states`).
    pub schedules: u64,
    /// `dfs` only: executions abandoned because every test that could move was asleep (sleep-set
    /// blocked; optimal DPOR needs none, a sharded run's full top levels may add some).
    pub blocked: u64,
    /// Sharded `dfs` only: executions this shard explored whose trace another shard counts
    /// (work the split repeats; not in `schedules`).
    pub elsewhere: u64,
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
    /// This shard's part, (I, N): random and PCT run only the schedules whose index `i` has
    /// `i % N == I`; `dfs` searches the subtrees dealt to shard I (see [`dpor`]). `dfs-plain`
    /// and `states` are not sharded: with N > 1 they search nothing and say so (UNKNOWN).
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

/// Explores `prog` with `strategy` within `budget`. A program with nothing to interleave, or
/// whose tests share nothing, runs once in sequence instead (see [`no_search`]); a violation is
/// marked deterministic when its test makes the same complaint alone.
pub fn explore(prog: &Program, strategy: Strategy, budget: Budget, opts: Options) -> Outcome {
    let start = Instant::now();
    let mut states = opts.count_states.then(HashSet::new);
    let (mut blocked, mut elsewhere) = (0, 0);
    // A stateful search counts its states itself.
    let mut counted = None;
    let unsharded = matches!(strategy, Strategy::Dfs { por: false } | Strategy::States);
    if unsharded && opts.shard.1 > 1 {
        // Each shard would search everything, and a merge would count it N times: no search.
        return Outcome {
            verdict: Verdict::Unknown(format!(
                "{strategy} is not sharded (shard {}/{} asked): run it as one shard",
                opts.shard.0, opts.shard.1
            )),
            schedules: 0,
            blocked: 0,
            elsewhere: 0,
            steps: 0,
            distinct_states: None,
            elapsed: start.elapsed(),
        };
    }
    let (verdict, schedules, steps) = match no_search(prog) {
        Some(why) => {
            let (found, steps) = sequential(prog, opts.oracles, &mut states);
            let verdict = match (found, why) {
                (Some(f), _) => Verdict::Violated(Box::new(f)),
                (None, NoSearch::Vacuous(why)) => Verdict::Vacuous(why),
                (None, NoSearch::Independent) => Verdict::Holds {
                    proof: Proof::Static,
                },
            };
            (verdict, 1, steps)
        }
        None => match strategy {
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
            Strategy::Dfs { por: true } => {
                let (v, c) = dpor::run(prog, budget, &opts, start, &mut states);
                (blocked, elsewhere) = (c.blocked, c.elsewhere);
                (v, c.executions, c.steps)
            }
            Strategy::Dfs { por: false } => dfs::run(prog, budget, &opts, start, &mut states),
            Strategy::States => {
                let (v, c) = states::run(prog, budget, &opts, start);
                counted = Some(c.states);
                (v, c.states, c.steps)
            }
        },
    };
    let verdict = match verdict {
        Verdict::Violated(mut f) => {
            f.deterministic = fails_alone(prog, &f.violation, opts.oracles);
            Verdict::Violated(f)
        }
        v => v,
    };
    Progress::publish(&opts.progress, schedules, steps, &states);
    Outcome {
        verdict,
        schedules,
        blocked,
        elsewhere,
        steps,
        distinct_states: counted.or(states.map(|s| s.len() as u64)),
        elapsed: start.elapsed(),
    }
}

/// The periodic check of an exhaustive search, at every 1,024th node it visits: publishes the
/// counts so far and says whether the budget's time is up.
#[allow(clippy::too_many_arguments)]
fn time_up(
    visits: &mut u64,
    budget: &Budget,
    start: Instant,
    progress: &Option<std::sync::Arc<Progress>>,
    begun: u64,
    steps: u64,
    states: &Option<HashSet<u64>>,
) -> bool {
    *visits += 1;
    if !visits.is_multiple_of(1024) {
        return false;
    }
    Progress::publish(progress, begun, steps, states);
    start.elapsed() >= budget.time
}

/// The verdict of an exhaustive search (`dfs`, `dfs-plain`): its violation, else unknown when the
/// budget cut it after `begun` executions, else an exhaustive proof.
fn exhaustive_verdict(found: Option<Found>, cut: bool, begun: u64, start: Instant) -> Verdict {
    match (found, cut) {
        (Some(f), _) => Verdict::Violated(Box::new(f)),
        (None, true) => Verdict::Unknown(format!(
            "search cut by the budget after {begun} execution(s) in {:.1} s; the rest of the tree is unexplored",
            start.elapsed().as_secs_f64()
        )),
        (None, false) => Verdict::Holds {
            proof: Proof::Exhaustive,
        },
    }
}

/// Why a program needs no search: one sequential run decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoSearch {
    /// Nothing to interleave; the text says why.
    Vacuous(String),
    /// No two tests share a cache key (a dir, a lock, a dir nested in another's, or a parent a
    /// prune or teardown removes): every event of one test commutes with every event of the
    /// others, so all interleavings are equivalent to the sequential one.
    Independent,
}

/// Whether `prog` needs no search, and why.
pub fn no_search(prog: &Program) -> Option<NoSearch> {
    let n = prog.tests.len();
    if n < 2 {
        let skipped = match prog.skipped.len() {
            0 => String::new(),
            s => format!(", {s} skipped"),
        };
        return Some(NoSearch::Vacuous(format!(
            "fewer than two tests run ({n} run{skipped})"
        )));
    }
    let acts = prog
        .tests
        .iter()
        .any(|t| t.events.iter().any(program::Event::acts_on_cache));
    if !acts {
        return Some(NoSearch::Vacuous(
            "no RUN reads, writes, locks or prunes a cache that the model sees".into(),
        ));
    }
    let keys = &prog.test_keys;
    let shared = (0..n).any(|a| (a + 1..n).any(|b| !keys[a].is_disjoint(&keys[b])));
    (!shared).then_some(NoSearch::Independent)
}

/// Runs `prog` once, each test to its end before the next starts (lowest index first; a
/// blocked test lets the next one move).
fn sequential(
    prog: &Program,
    oracles: Oracles,
    states: &mut Option<HashSet<u64>>,
) -> (Option<Found>, u64) {
    let mut m = Machine::new(prog, oracles);
    let found = run_one(
        &mut m,
        &mut Vec::new(),
        &mut Vec::new(),
        states,
        false,
        |r, _| r.nth(0),
    );
    (found, m.steps())
}

/// What test `t` of `prog` breaks when it runs alone (its first violation), if anything.
pub fn alone_violation(prog: &Program, t: usize, oracles: Oracles) -> Option<Violation> {
    let (found, _) = sequential(&prog.alone(t), oracles, &mut None);
    found.map(|f| f.violation)
}

/// Whether test `v.test` of `prog`, run alone, makes the same complaint (same oracle; for a
/// failed expectation, the same message).
pub fn fails_alone(prog: &Program, v: &Violation, oracles: Oracles) -> bool {
    if v.test >= prog.tests.len() {
        return false;
    }
    alone_violation(prog, v.test, oracles).is_some_and(|a| {
        a.oracle == v.oracle
            && (v.oracle != crate::check::Oracle::Expectation || a.message == v.message)
    })
}

/// The tests that can move at one step: a bit set (programs of at most 64 tests) or a list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Runnable<'a> {
    /// Bit `t` set when test `t` can move.
    Mask(u64),
    /// The runnable tests in ascending order.
    List(&'a [usize]),
}

/// For every 8-bit set: its members in ascending order, then (last byte) how many there are.
/// The samplers ask both at every step; for up to 8 threads a table answers without a loop.
const SMALL_SETS: [[u8; 9]; 256] = {
    let mut table = [[0u8; 9]; 256];
    let mut m = 0;
    while m < 256 {
        let (mut bit, mut n) = (0, 0);
        while bit < 8 {
            if m & 1 << bit != 0 {
                table[m][n] = bit as u8;
                n += 1;
            }
            bit += 1;
        }
        table[m][8] = n as u8;
        m += 1;
    }
    table
};

impl Runnable<'_> {
    /// How many tests can move.
    pub(crate) fn len(&self) -> usize {
        match self {
            Runnable::Mask(m) if *m < 256 => SMALL_SETS[*m as usize][8] as usize,
            Runnable::Mask(m) => m.count_ones() as usize,
            Runnable::List(l) => l.len(),
        }
    }
    /// The `k`-th runnable test in ascending order (`k < len()`).
    pub(crate) fn nth(&self, k: usize) -> usize {
        match self {
            Runnable::Mask(m) if *m < 256 && k < 8 => SMALL_SETS[*m as usize][k] as usize,
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
    let found = |m: &Machine<'_>, choices: &Vec<u32>| {
        m.violation().map(|v| Found {
            schedule: Schedule(choices.clone()),
            violation: v.clone(),
            index: 0,
            deterministic: false,
        })
    };
    loop {
        if m.violation().is_some() {
            return found(m, choices);
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
            // Finished, or every unfinished test blocked: the schedule ends here either way
            // (a deadlock is a violation only when its oracle is on).
            m.check_deadlock();
            return found(m, choices);
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
    (Verdict::NotFound, done, steps)
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
