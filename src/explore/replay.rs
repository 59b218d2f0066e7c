//! Replaying a schedule: strictly (every choice must be runnable: a replay file that no longer
//! fits is an error) or leniently (unrunnable choices are skipped and the run is completed
//! lowest-index-first, which is how the shrinker tries smaller suites).

use super::{Machine, Program, Schedule};
use crate::check::{Oracles, Violation};
use crate::explore::executor::Record;

/// The result of a replay.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The violation reached, if any.
    pub violation: Option<Violation>,
    /// The choices actually executed (up to the violation).
    pub executed: Schedule,
    /// The recorded history, when asked for.
    pub history: Vec<Record>,
    /// Steps executed.
    pub steps: u64,
}

/// A strict replay that did not fit the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diverged {
    /// 1-based step whose choice could not run.
    pub step: usize,
    /// Why.
    pub problem: String,
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}: {}", self.step, self.problem)
    }
}

/// Replays `schedule` on `prog`; `record` keeps a history; `lenient` as the module says.
pub fn replay(
    prog: &Program,
    schedule: &Schedule,
    oracles: Oracles,
    record: bool,
    lenient: bool,
) -> Result<Replayed, Diverged> {
    let mut m = Machine::new(prog, oracles);
    if record {
        m.record();
    }
    let n = prog.tests.len();
    let mut executed = Vec::new();
    for (i, &c) in schedule.0.iter().enumerate() {
        if m.violation().is_some() {
            break;
        }
        let t = c as usize;
        if t >= n || !m.enabled(t) {
            if lenient {
                continue;
            }
            return Err(Diverged {
                step: i + 1,
                problem: if t >= n {
                    format!("test index {t} does not exist (the suite has {n} tests)")
                } else if m.done(t) {
                    format!("test {t} ({}) has already finished", prog.tests[t].name)
                } else {
                    format!("test {t} ({}) is blocked here", prog.tests[t].name)
                },
            });
        }
        m.advance(t);
        executed.push(c);
    }
    while m.violation().is_none() {
        match (0..n).find(|&t| m.enabled(t)) {
            Some(t) => {
                m.advance(t);
                executed.push(t as u32);
            }
            None => {
                m.check_deadlock();
                break;
            }
        }
    }
    Ok(Replayed {
        violation: m.violation().cloned(),
        executed: Schedule(executed),
        history: m.history().to_vec(),
        steps: m.steps(),
    })
}
