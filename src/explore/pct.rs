//! PCT (Burckhardt et al., ASPLOS'10): random distinct priorities, the highest-priority runnable
//! test moves; at `depth - 1` random steps the running test drops below every initial priority.
//! Finds a bug of depth d with probability at least 1/(n·k^(d-1)) per schedule.

use super::{Program, Rng, Runnable, Sampler};

/// The PCT sampler for one program.
pub(crate) struct Pct {
    depth: u32,
    /// Steps in a complete run (k), where change points are drawn from.
    k: u64,
    prio: Vec<u64>,
    changes: Vec<u64>,
    /// The test chosen last and the step it was chosen for: the steps in between ran
    /// without a choice (safe steps), by that test.
    last: Option<(usize, u64)>,
}

impl Pct {
    /// PCT with bug depth `depth` for `prog`.
    pub(crate) fn new(prog: &Program, depth: u32) -> Pct {
        Pct {
            depth,
            k: prog.total_events().max(1) as u64,
            prio: vec![0; prog.tests.len()],
            changes: Vec::new(),
            last: None,
        }
    }
}

impl Sampler for Pct {
    fn begin(&mut self, rng: &mut Rng) {
        // Initial priorities: a random permutation of depth..depth+n.
        let n = self.prio.len();
        for (i, p) in self.prio.iter_mut().enumerate() {
            *p = self.depth as u64 + i as u64;
        }
        for i in (1..n).rev() {
            self.prio.swap(i, rng.below(i as u64 + 1) as usize);
        }
        self.changes.clear();
        let k = self.k;
        self.changes
            .extend((1..self.depth).map(|_| 1 + rng.below(k)));
        self.last = None;
    }

    fn choose(&mut self, _rng: &mut Rng, runnable: Runnable<'_>, step: u64) -> usize {
        // Change points that fell on safe steps lower the priority of the test that ran them.
        if let Some((l, at)) = self.last {
            for (j, &c) in self.changes.iter().enumerate() {
                if at < c && c <= step {
                    self.prio[l] = j as u64;
                }
            }
        }
        let t = runnable
            .iter()
            .max_by_key(|&t| self.prio[t])
            .expect("runnable is not empty");
        // Step `step + 1` is about to run t: a change point lowers t's priority to j.
        if let Some(j) = self.changes.iter().position(|&c| c == step + 1) {
            self.prio[t] = j as u64;
        }
        self.last = Some((t, step + 1));
        t
    }
}
