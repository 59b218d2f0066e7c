//! Plain exhaustive search, depth first, over every interleaving of the tests' events: the
//! baseline that [`super::dpor`] is measured and checked against (`--strategy dfs-plain`).

use std::collections::HashSet;
use std::time::Instant;

use super::{Budget, Found, Machine, Options, Program, Schedule, Verdict};

struct Search<'s> {
    budget: Budget,
    start: Instant,
    executions: u64,
    steps: u64,
    path: Vec<u32>,
    found: Option<Found>,
    out_of_budget: bool,
    states: &'s mut Option<HashSet<u64>>,
    nodes: u64,
    progress: &'s Option<std::sync::Arc<super::Progress>>,
}

impl Search<'_> {
    /// An execution ended (completed or deadlocked).
    fn leaf(&mut self) {
        self.executions += 1;
    }

    /// Whether a new execution may start: the budget counts executions begun, so a search
    /// that finishes with exactly `schedules` executions is complete, not cut.
    fn may_begin(&mut self) -> bool {
        if self.executions >= self.budget.schedules {
            self.out_of_budget = true;
        }
        !self.out_of_budget
    }

    fn found_here(&mut self, m: &Machine<'_>) {
        if let Some(v) = m.violation() {
            self.found = Some(Found {
                schedule: Schedule(self.path.clone()),
                violation: v.clone(),
                index: self.executions,
                deterministic: false,
            });
        }
    }

    fn visit(&mut self, m: &Machine<'_>) {
        if self.found.is_some() || self.out_of_budget {
            return;
        }
        if super::time_up(
            &mut self.nodes,
            &self.budget,
            self.start,
            self.progress,
            self.executions,
            self.steps,
            self.states,
        ) {
            self.out_of_budget = true;
            return;
        }
        if m.violation().is_some() {
            self.found_here(m);
            return;
        }
        let n = m.program().tests.len();
        let enabled: Vec<usize> = (0..n).filter(|&t| m.enabled(t)).collect();
        if enabled.is_empty() {
            if !m.finished() {
                let mut d = m.clone();
                d.check_deadlock();
                if d.violation().is_some() {
                    self.found_here(&d);
                    return;
                }
            }
            self.leaf();
            return;
        }
        for (i, &t) in enabled.iter().enumerate() {
            // Every branch after the first begins a new execution.
            if i > 0 && !self.may_begin() {
                return;
            }
            self.go(m, t);
            if self.found.is_some() || self.out_of_budget {
                return;
            }
        }
    }

    fn go(&mut self, m: &Machine<'_>, t: usize) {
        let mut next = m.clone();
        next.advance(t);
        self.steps += 1;
        if let Some(s) = self.states.as_mut() {
            s.insert(next.digest());
        }
        self.path.push(t as u32);
        self.visit(&next);
        self.path.pop();
    }
}

pub(super) fn run(
    prog: &Program,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
) -> (Verdict, u64, u64) {
    let mut s = Search {
        budget,
        start,
        executions: 0,
        steps: 0,
        path: Vec::new(),
        found: None,
        out_of_budget: false,
        states,
        nodes: 0,
        progress: &opts.progress,
    };
    let root = Machine::new(prog, opts.oracles);
    if s.may_begin() {
        s.visit(&root);
    }
    if s.found.is_some() {
        s.executions += 1; // the execution that broke counts
    }
    let verdict = super::exhaustive_verdict(s.found, s.out_of_budget, s.executions, s.start);
    (verdict, s.executions, s.steps)
}
