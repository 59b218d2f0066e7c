//! Mazurkiewicz traces counted by brute force, the test oracle of [`super::dpor`]: every
//! interleaving of a small program is run to its end, and each is put in a canonical form, the
//! least (by test number) linearization of its happens-before order under the dependency
//! relation of [`super::footprint`]. Two interleavings are one trace exactly when their
//! canonical forms are equal, so the number of distinct forms is the number of traces.

use std::collections::HashSet;

use super::footprint::Footprint;
use super::{Machine, Program};
use crate::check::Oracles;

/// What the enumeration found.
#[derive(Clone, Debug, Default)]
pub struct Census {
    /// Maximal interleavings (run to their end, or until every unfinished test waits).
    pub interleavings: u64,
    /// Distinct traces among them.
    pub traces: u64,
    /// The final state of every interleaving, as [`Machine::canonical`] text.
    pub finals: HashSet<String>,
}

/// Enumerates every interleaving of `prog` (with `oracles`, which never stop a run here), or
/// gives up with `None` beyond `limit` interleavings.
pub fn census(prog: &Program, oracles: Oracles, limit: u64) -> Option<Census> {
    let mut c = Walk {
        census: Census::default(),
        forms: HashSet::new(),
        events: Vec::new(),
        limit,
    };
    c.walk(&Machine::new(prog, oracles)).then(|| {
        c.census.traces = c.forms.len() as u64;
        c.census
    })
}

struct Walk {
    census: Census,
    forms: HashSet<Vec<u32>>,
    events: Vec<(u32, Footprint)>,
    limit: u64,
}

impl Walk {
    /// False once the limit is passed.
    fn walk(&mut self, m: &Machine<'_>) -> bool {
        let n = m.program().tests.len();
        let enabled: Vec<usize> = (0..n).filter(|&t| m.enabled(t)).collect();
        if enabled.is_empty() {
            self.census.interleavings += 1;
            self.forms.insert(canonical_form(&self.events));
            self.census.finals.insert(m.canonical());
            return self.census.interleavings <= self.limit;
        }
        for t in enabled {
            let fp = m.footprint(t);
            let mut next = m.clone();
            next.advance(t);
            self.events.push((t as u32, fp));
            let ok = self.walk(&next);
            self.events.pop();
            if !ok {
                return false;
            }
        }
        true
    }
}

/// The least linearization (by test number at every step) of the happens-before order of an
/// execution given as (test, footprint) per event: event `i` precedes event `j > i` when they
/// belong to one test or their footprints conflict.
pub fn canonical_form(events: &[(u32, Footprint)]) -> Vec<u32> {
    let len = events.len();
    let mut waits = vec![0u32; len];
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); len];
    for j in 0..len {
        for i in 0..j {
            if events[i].0 == events[j].0 || events[i].1.conflicts(&events[j].1) {
                waits[j] += 1;
                after[i].push(j);
            }
        }
    }
    let mut placed = vec![false; len];
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        let next = (0..len)
            .filter(|&j| !placed[j] && waits[j] == 0)
            .min_by_key(|&j| (events[j].0, j))
            .expect("a partial order always has a minimal element");
        placed[next] = true;
        out.push(events[next].0);
        for &k in &after[next] {
            waits[k] -= 1;
        }
    }
    out
}
