//! Stateful exhaustive search (`--strategy states`): depth first over the program's reachable
//! states, each expanded once, the way an explicit-state model checker (SPIN, TLC) works.
//!
//! Where the tests share a file across several builds each, many traces meet in one state, and
//! their count outgrows any search that tells traces apart: the built-in suite under
//! `global-tmpdir` passes 26 million DPOR executions unfinished, but has about 6 million
//! distinct states. This search visits each of them once.
//!
//! Why it is sound: a state's key ([`Machine::state_key`]) holds everything a run's future
//! depends on, the oracles' memory included, exactly (bytes, not a digest), so two runs that
//! reach one key go on alike under every schedule. Every oracle judges one transition from its
//! source state (the deadlock oracle a state where nothing can move), and the search takes
//! every transition out of every reachable state. So a violation some schedule reaches is found,
//! and the schedule it reports (the path of the search to it) reproduces it. It needs no
//! dependency relation, so it is also a check on the one [`super::dpor`] uses.

use std::collections::HashSet;
use std::time::Instant;

use super::{Budget, Found, Machine, Options, Program, Schedule, Verdict};

/// What a stateful search did: the distinct states it reached and the transitions (events) it
/// executed.
pub(super) struct Counts {
    /// Distinct states reached (each expanded once, unless the search stopped first).
    pub(super) states: u64,
    /// Transitions executed, into new states and known ones.
    pub(super) steps: u64,
}

/// One state on the search's stack, with the next test to try from it.
struct Frame<'p> {
    m: Machine<'p>,
    next: usize,
}

/// Searches every reachable state of `prog` within `budget` (`budget.schedules` caps the
/// states expanded).
pub(super) fn run(
    prog: &Program,
    budget: Budget,
    opts: &Options,
    start: Instant,
) -> (Verdict, Counts) {
    let mut seen: HashSet<Box<[u8]>> = HashSet::new();
    let mut key = Vec::new();
    let mut counts = Counts {
        states: 0,
        steps: 0,
    };
    let mut path: Vec<u32> = Vec::new();
    let mut cut = false;
    let mut visits = 0u64;
    let n = prog.tests.len();
    let found = |m: &Machine<'_>, path: &[u32], index: u64| {
        m.violation().map(|v| Found {
            schedule: Schedule(path.to_vec()),
            violation: v.clone(),
            index,
            deterministic: false,
        })
    };
    let root = Machine::new(prog, opts.oracles);
    root.state_key(&mut key);
    seen.insert(key.as_slice().into());
    counts.states = 1;
    if let Some(f) = found(&root, &path, 0) {
        return (Verdict::Violated(Box::new(f)), counts);
    }
    let mut stack = vec![Frame { m: root, next: 0 }];
    let mut result = None;
    'search: while let Some(top) = stack.last_mut() {
        let Some(t) = (top.next..n).find(|&t| top.m.enabled(t)) else {
            if top.next == 0 && !top.m.finished() {
                // Nothing can move but a test is unfinished: the deadlock oracle's state.
                let mut d = top.m.clone();
                d.check_deadlock();
                if let Some(f) = found(&d, &path, counts.states) {
                    result = Some(f);
                    break 'search;
                }
            }
            stack.pop();
            path.pop();
            continue;
        };
        top.next = t + 1;
        let mut child = top.m.clone();
        child.advance(t);
        counts.steps += 1;
        path.push(t as u32);
        if let Some(f) = found(&child, &path, counts.states) {
            result = Some(f);
            break 'search;
        }
        child.state_key(&mut key);
        if seen.contains(key.as_slice()) {
            path.pop();
            continue;
        }
        if counts.states >= budget.schedules
            || super::time_up(
                &mut visits,
                &budget,
                start,
                &opts.progress,
                counts.states,
                counts.steps,
                &None,
            )
        {
            cut = true;
            break;
        }
        seen.insert(key.as_slice().into());
        counts.states += 1;
        stack.push(Frame { m: child, next: 0 });
    }
    let verdict = match result {
        Some(f) => Verdict::Violated(Box::new(f)),
        None if cut => Verdict::Unknown(format!(
            "the budget ran out after {} distinct states ({} transitions) in {:.1} s, with states left to expand",
            counts.states,
            counts.steps,
            start.elapsed().as_secs_f64()
        )),
        None => Verdict::Holds {
            proof: super::Proof::Exhaustive,
        },
    };
    (verdict, counts)
}
