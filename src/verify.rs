//! The remedy matrix: for each engine × sharing mode × remedy, whether the suite's properties
//! hold under every interleaving (DFS with partial-order reduction, exhaustive when the budget
//! allows; random schedules otherwise), with the counts each verdict rests on.

use crate::check::Oracles;
use crate::engine::{Engine, Profile};
use crate::explore::program::CompileError;
use crate::explore::{self, Budget, Options, Program, Strategy, Verdict};
use crate::mount::Sharing;
use crate::scenario::Suite;
use crate::world::{Remedy, Topology, World};

/// One cell's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellVerdict {
    /// No violation in the explored space.
    Holds,
    /// A violation was found.
    Violated,
    /// The engine cannot run the suite in this mode.
    Unsupported,
    /// The budget ended before a conclusion.
    Unknown,
}

impl CellVerdict {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            CellVerdict::Holds => "holds",
            CellVerdict::Violated => "violated",
            CellVerdict::Unsupported => "unsupported",
            CellVerdict::Unknown => "unknown",
        }
    }
}

/// One cell of the matrix.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Engine.
    pub engine: Engine,
    /// Sharing mode applied to the suite.
    pub sharing: Sharing,
    /// Remedy.
    pub remedy: Remedy,
    /// Verdict.
    pub verdict: CellVerdict,
    /// Whether a `holds` covers every interleaving (up to equivalence).
    pub exhaustive: bool,
    /// Schedules (executions) run.
    pub schedules: u64,
    /// Distinct states reached.
    pub distinct_states: u64,
    /// Events executed.
    pub steps: u64,
    /// One line: the violation, what was skipped, or why unknown.
    pub reason: String,
}

/// Settings of a verification.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// The suite (its sharing is overridden per cell).
    pub suite: Suite,
    /// Engines to cover.
    pub engines: Vec<Engine>,
    /// Topology of every cell.
    pub topology: Topology,
    /// Per-cell limits for the exhaustive search.
    pub budget: Budget,
    /// Schedules for the random fallback when the search runs out of budget.
    pub fallback_schedules: u64,
}

/// Fills the matrix.
pub fn verify(cfg: &VerifyConfig) -> Result<Vec<Cell>, CompileError> {
    let mut cells = Vec::new();
    for &engine in &cfg.engines {
        for sharing in Sharing::ALL {
            for remedy in Remedy::ALL {
                cells.push(cell(cfg, engine, sharing, remedy)?);
            }
        }
    }
    Ok(cells)
}

fn cell(
    cfg: &VerifyConfig,
    engine: Engine,
    sharing: Sharing,
    remedy: Remedy,
) -> Result<Cell, CompileError> {
    let suite = cfg.suite.clone().with_sharing(sharing);
    let world = World::new(cfg.topology, remedy);
    let prog = Program::compile(&suite, Profile::new(engine), &world)?;
    let mut c = Cell {
        engine,
        sharing,
        remedy,
        verdict: CellVerdict::Unknown,
        exhaustive: false,
        schedules: 0,
        distinct_states: 0,
        steps: 0,
        reason: String::new(),
    };
    if let Some(u) = &prog.unsupported {
        c.verdict = CellVerdict::Unsupported;
        c.reason = u.clone();
        return Ok(c);
    }
    let opts = Options {
        oracles: Oracles::all(),
        count_states: true,
        ..Options::default()
    };
    let mut o = explore::explore(&prog, Strategy::Dfs { por: true }, cfg.budget, opts.clone());
    if matches!(o.verdict, Verdict::Unknown(_)) {
        let dfs_schedules = o.schedules;
        o = explore::explore(
            &prog,
            Strategy::Random,
            Budget {
                schedules: cfg.fallback_schedules,
                ..cfg.budget
            },
            opts,
        );
        c.reason = format!(
            "search too large ({dfs_schedules} executions in budget); random schedules instead"
        );
    }
    c.schedules = o.schedules;
    c.steps = o.steps;
    c.distinct_states = o.distinct_states.unwrap_or(0);
    match &o.verdict {
        Verdict::Holds { exhaustive } => {
            c.verdict = if o.schedules == 0 {
                CellVerdict::Unknown
            } else {
                CellVerdict::Holds
            };
            c.exhaustive = *exhaustive;
            if !prog.skipped.is_empty() {
                c.reason = format!(
                    "holds only because {} of {} tests are skipped: no cache test runs remotely",
                    prog.skipped.len(),
                    suite.tests.len()
                );
            } else if c.reason.is_empty() {
                c.reason = if *exhaustive {
                    "every interleaving explored (up to equivalence)".into()
                } else {
                    "no violation in the random schedules run".into()
                };
            }
        }
        Verdict::Violated(f) => {
            c.verdict = CellVerdict::Violated;
            c.reason = format!("[{}] {}", f.violation.oracle, f.violation.message);
        }
        Verdict::Unknown(why) => c.reason = why.clone(),
    }
    Ok(c)
}
