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

/// One cell's verdict (the run verdicts of [`crate::explore::Verdict`], plus unsupported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellVerdict {
    /// Proved: exhaustive search or static independence (see the cell's `proof`).
    Holds,
    /// A violation was found.
    Violated,
    /// The engine cannot run the suite in this mode.
    Unsupported,
    /// The exhaustive search was cut by its budget (and the random fallback found nothing).
    Unknown,
    /// Nothing to interleave (fewer than two tests run, or no cache effect).
    Vacuous,
}

impl CellVerdict {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            CellVerdict::Holds => "holds",
            CellVerdict::Violated => "violated",
            CellVerdict::Unsupported => "unsupported",
            CellVerdict::Unknown => "unknown",
            CellVerdict::Vacuous => "vacuous",
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
    /// The proof behind a `holds`.
    pub proof: Option<crate::explore::Proof>,
    /// Schedules (executions) run.
    pub schedules: u64,
    /// Distinct states reached.
    pub distinct_states: u64,
    /// Events executed.
    pub steps: u64,
    /// One line: the violation, what was skipped, or why unknown.
    pub reason: String,
    /// The cell's own witness, for a violation: its schedule replays on the cell's program
    /// (the suite with the cell's sharing, the cell's engine and world).
    pub witness: Option<Box<crate::explore::Found>>,
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
        proof: None,
        schedules: 0,
        distinct_states: 0,
        steps: 0,
        reason: String::new(),
        witness: None,
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
            "exhaustive search cut by the budget after {dfs_schedules} executions; then {} random schedules",
            o.schedules
        );
    }
    c.schedules = o.schedules;
    c.steps = o.steps;
    c.distinct_states = o.distinct_states.unwrap_or(0);
    let skipped = (!prog.skipped.is_empty()).then(|| {
        format!(
            "{} of {} tests skipped",
            prog.skipped.len(),
            suite.tests.len()
        )
    });
    match &o.verdict {
        Verdict::Holds { proof } => {
            c.verdict = CellVerdict::Holds;
            c.proof = Some(*proof);
            c.reason = match proof {
                explore::Proof::Exhaustive => "every interleaving explored (up to equivalence)",
                explore::Proof::Static => "no two tests share a cache: the sequential run decides",
            }
            .into();
        }
        Verdict::NotFound => {
            // Only the random fallback after a cut search samples here: still unknown.
            c.verdict = CellVerdict::Unknown;
            c.reason = format!("{}: no violation found (not a proof)", c.reason);
        }
        Verdict::Vacuous(why) => {
            c.verdict = CellVerdict::Vacuous;
            c.reason = why.clone();
        }
        Verdict::Violated(f) => {
            c.verdict = CellVerdict::Violated;
            c.witness = Some(f.clone());
            c.reason = format!(
                "[{}] {}{}",
                f.violation.oracle,
                f.violation.message,
                if f.deterministic {
                    " (deterministic failure)"
                } else {
                    ""
                }
            );
        }
        Verdict::Unknown(why) => {
            c.verdict = CellVerdict::Unknown;
            c.reason = why.clone();
        }
    }
    if let Some(s) = skipped {
        c.reason = format!("{}; {s}", c.reason);
    }
    Ok(c)
}
