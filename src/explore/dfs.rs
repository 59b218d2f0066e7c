//! Bounded exhaustive search, depth first, over every interleaving of the tests' events.
//!
//! With `por` two reductions prune interleavings that only reorder independent events (events
//! on disjoint cache keys commute; a key set per event comes from the program):
//! - **sleep sets** (Godefroid): after exploring test `a` first, a sibling branch that starts
//!   with `b` does not run `a` again until something dependent on `a` has run;
//! - **safe steps** (a singleton persistent set): an event that touches no key any other test
//!   will ever touch again commutes with everything left, so it runs without branching.
//!
//! Both keep every reachable violation and deadlock: a pruned interleaving is equivalent to an
//! explored one (Mazurkiewicz trace), and the oracles only look at per-key state.

use std::collections::HashSet;
use std::time::Instant;

use super::{Budget, Found, Machine, Options, Program, Schedule, Verdict};

struct Search<'s> {
    por: bool,
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
    fn leaf(&mut self) {
        self.executions += 1;
        if self.executions >= self.budget.schedules {
            self.out_of_budget = true;
        }
    }

    fn visit(&mut self, m: &Machine<'_>, sleep: u64) {
        if self.found.is_some() || self.out_of_budget {
            return;
        }
        self.nodes += 1;
        if self.nodes.is_multiple_of(1024) {
            super::Progress::publish(self.progress, self.executions, self.steps, self.states);
            if self.start.elapsed() >= self.budget.time {
                self.out_of_budget = true;
                return;
            }
        }
        if let Some(v) = m.violation() {
            self.found = Some(Found {
                schedule: Schedule(self.path.clone()),
                violation: v.clone(),
                index: self.executions,
            });
            return;
        }
        let n = m.program().tests.len();
        let enabled: Vec<usize> = (0..n).filter(|&t| m.enabled(t)).collect();
        if enabled.is_empty() {
            if !m.finished() {
                let mut d = m.clone();
                d.check_deadlock();
                if let Some(v) = d.violation() {
                    self.found = Some(Found {
                        schedule: Schedule(self.path.clone()),
                        violation: v.clone(),
                        index: self.executions,
                    });
                    return;
                }
            }
            self.leaf();
            return;
        }
        if self.por {
            let safe = enabled.iter().copied().find(|&t| {
                let others = (0..n)
                    .filter(|&u| u != t)
                    .fold(0, |b, u| b | m.future_keys(u));
                m.next_keys(t) & others == 0
            });
            if let Some(t) = safe {
                if sleep & (1 << t) != 0 {
                    // Its only successor worth exploring is already covered elsewhere.
                    self.leaf();
                    return;
                }
                self.go(m, t, sleep);
                return;
            }
        }
        let mut done_here = 0u64;
        let mut explored = false;
        for &t in &enabled {
            if self.por && sleep & (1 << t) != 0 {
                continue;
            }
            explored = true;
            let asleep = if self.por { sleep | done_here } else { 0 };
            let keys = m.next_keys(t);
            let kept = (0..n)
                .filter(|&s| asleep & (1 << s) != 0 && m.next_keys(s) & keys == 0)
                .fold(0u64, |b, s| b | 1 << s);
            self.go(m, t, kept);
            if self.found.is_some() || self.out_of_budget {
                return;
            }
            done_here |= 1 << t;
        }
        if !explored {
            self.leaf(); // sleep-set blocked: everything here is covered elsewhere
        }
    }

    fn go(&mut self, m: &Machine<'_>, t: usize, sleep: u64) {
        let mut next = m.clone();
        next.advance(t);
        self.steps += 1;
        if let Some(s) = self.states.as_mut() {
            s.insert(next.digest());
        }
        self.path.push(t as u32);
        self.visit(&next, sleep);
        self.path.pop();
    }
}

pub(super) fn run(
    prog: &Program,
    por: bool,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
) -> (Verdict, u64, u64) {
    if prog.tests.len() > 64 {
        return (
            Verdict::Unknown("DFS handles at most 64 tests; use random or pct".into()),
            0,
            0,
        );
    }
    let mut s = Search {
        por,
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
    s.visit(&root, 0);
    if s.found.is_some() {
        s.executions += 1; // the execution that broke counts
    }
    let verdict = match (s.found, s.out_of_budget) {
        (Some(f), _) => Verdict::Violated(Box::new(f)),
        (None, true) => Verdict::Unknown(format!(
            "search not finished within the budget ({} executions, {:.1} s)",
            s.executions,
            s.start.elapsed().as_secs_f64()
        )),
        (None, false) => Verdict::Holds { exhaustive: true },
    };
    (verdict, s.executions, s.steps)
}
