//! Exhaustive search by optimal dynamic partial-order reduction: one execution per Mazurkiewicz
//! trace of the dependency relation in [`super::footprint`] (Abdulla, Aronis, Jonsson,
//! Sagonas, *Optimal dynamic partial order reduction*, POPL 2014: source sets and wakeup trees,
//! as in Nidhugg and Concuerror).
//!
//! The search walks one execution at a time, depth first. Every node keeps a *sleep set* (tests
//! whose next event was explored from an equivalent prefix, with its footprint) and a *wakeup
//! tree* (sequences still to explore from it). Each executed event is checked for *races*
//! against the events before it: an earlier event `e` of another test that conflicts with it and
//! happens before it directly (no third event between them in the happens-before order, which
//! vector clocks give). For a race, the sequence `v` = the events after `e` that do not happen
//! after `e`, then the racing event, is a way to reverse the race; it is added to the wakeup tree
//! of the node before `e`, unless a sleeping test is a weak initial of `v` (an equivalent
//! execution was explored) or the tree already holds a branch that starts like `v` up to
//! equivalence.
//!
//! Proof sketch (the paper's Theorems 6.3 and 7.5, on this setting):
//! - *Soundness*: the relation is a valid independence (independent events commute and neither
//!   enables nor disables the other; `tests/por.rs` checks this on generated programs), and every
//!   test is deterministic given what it reads, so the paper's argument applies: for every
//!   maximal execution there is an explored one in its trace. Oracles look only at the state
//!   along an execution, which equivalent executions share event for event (so a violation,
//!   a deadlock included, shows in every member of its trace).
//! - *Optimality*: sleep sets keep two equivalent maximal executions from both being explored,
//!   and every branch taken is a wakeup sequence no sleeping test can start, so no execution ends
//!   with every movable test asleep (counted as `blocked`, expected 0).
//! - *Blocking*: a locked mount that waits is enabled only by a conflicting event (a release of
//!   the lock it waits for), so a release and the acquire it enables are dependent. Reversing
//!   that pair needs the acquire before the releaser took the lock: when `v` cannot run because
//!   its last event would wait, the race is moved back to the releasing test's earlier event
//!   that conflicts with it (its own acquire) and `v` recomputed; a `v` is run on a copy of
//!   the state it starts from before it is inserted, and carries the footprints its events have
//!   there (a moved event can do something else there), except where both racing events touch
//!   only files, which cannot change what the other does.
//!
//! Two departures from the paper's pseudo-code, each forced by a case the brute-force oracle
//! found (`proptest-regressions/README.md`): a wakeup sequence ends with the reversed race's own
//! event `e` where `e` can run there (so a sleeping test whose next event conflicts with `e` is
//! not taken for a weak initial of a sequence too short to show it), and a test still waiting
//! when an execution ends is raced as if its waiting event ran last. Both only add wakeup
//! sequences that run, so soundness stands; the paper's optimality proof does not cover them,
//! and `tests/dpor.rs` checks it instead: executions equal traces, none blocked, on every
//! generated suite small enough to enumerate.
//!
//! Sharding (`--shard I/N`, N > 1): the first [`SPLIT`] levels branch on every test that can
//! move, with no reduction, and the subtrees at that depth are dealt out round-robin; each is
//! searched afresh (its own sleep sets and wakeup trees, no race reaching above the split). A
//! trace may have linearizations in several subtrees, so it counts only in the one whose prefix
//! its canonical form (the least linearization, [`super::traces::canonical_form`]) starts with;
//! the others report it as `elsewhere`. Over all shards every trace counts exactly once, so the
//! merged executions equal one machine's.
//!

use std::collections::HashSet;
use std::time::Instant;

use smallvec::SmallVec;

use super::footprint::Footprint;

/// Race candidates of one event: an earlier event index per other test.
type Cands = SmallVec<[usize; 8]>;
use super::{Budget, Found, Machine, Options, Program, Schedule, Verdict};

/// Levels of full branching in a sharded run.
pub const SPLIT: usize = 2;

/// A branch of a wakeup tree: the test to move, its event's footprint there, what follows.
#[derive(Clone, Debug)]
struct Branch {
    test: u32,
    fp: Footprint,
    next: Vec<Branch>,
}

/// A node of the current execution: the state before its event.
struct Node<'p> {
    m: Machine<'p>,
    sleep: Vec<(u32, Footprint)>,
    wut: Vec<Branch>,
}

/// One event of the current execution.
struct Ev {
    test: u32,
    fp: Footprint,
    /// 1-based position among its test's events.
    nth: u32,
    /// Index of its test's previous event in the execution.
    prev: Option<usize>,
}

/// What an exhaustive search counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Maximal executions explored (each one trace).
    pub executions: u64,
    /// Executions abandoned because every test that could move was asleep.
    pub blocked: u64,
    /// Sharded runs: executions explored here whose trace another subtree counts (its
    /// canonical form starts with another prefix).
    pub elsewhere: u64,
    /// Events executed.
    pub steps: u64,
}

struct Search<'p, 's> {
    n: usize,
    budget: Budget,
    start: Instant,
    counts: Counts,
    nodes: Vec<Node<'p>>,
    trace: Vec<Ev>,
    /// `trace.len() * n` vector clocks: entry `[k * n + t]` is how many of test `t`'s events
    /// happen before or at event `k`.
    clocks: Vec<u32>,
    /// Per test, the index of its last event in the execution.
    last: Vec<Option<usize>>,
    /// Scratch: tests already seen while looking back for race candidates.
    seen: Vec<bool>,
    path: Vec<u32>,
    found: Option<Found>,
    out_of_budget: bool,
    states: &'s mut Option<HashSet<u64>>,
    visits: u64,
    progress: &'s Option<std::sync::Arc<super::Progress>>,
    /// (split depth, this shard, shards), and how many split-depth nodes were dealt so far.
    shard: (usize, u64, u64),
    dealt: u64,
    /// When asked for: the final state of every execution (for the brute-force oracle).
    finals: Option<HashSet<String>>,
    /// Wakeup branches whose test could not move when their turn came (expected 0).
    stale: u64,
}

impl<'p> Search<'p, '_> {
    fn begun(&self) -> u64 {
        self.counts.executions + self.counts.blocked
    }

    /// Whether a new execution may start (the budget counts executions begun).
    fn may_begin(&mut self) -> bool {
        if self.begun() >= self.budget.schedules {
            self.out_of_budget = true;
        }
        !self.out_of_budget
    }

    /// Whether event `a` happens before event `b` (`a < b`).
    #[inline]
    fn hb(&self, a: usize, b: usize) -> bool {
        a < b && self.clocks[b * self.n + self.trace[a].test as usize] >= self.trace[a].nth
    }

    fn explore(&mut self, d: usize) {
        if self.found.is_some() || self.out_of_budget {
            return;
        }
        let begun = self.begun();
        if super::time_up(
            &mut self.visits,
            &self.budget,
            self.start,
            self.progress,
            begun,
            self.counts.steps,
            self.states,
        ) {
            self.out_of_budget = true;
            return;
        }
        let node = &self.nodes[d];
        if let Some(v) = node.m.violation() {
            self.found = Some(self.found_with(v.clone()));
            return;
        }
        let enabled: SmallVec<[u32; 8]> = match node.m.runnable_mask() {
            Some(mut bits) => std::iter::from_fn(|| {
                (bits != 0).then(|| {
                    let t = bits.trailing_zeros();
                    bits &= bits - 1;
                    t
                })
            })
            .collect(),
            None => (0..self.n)
                .filter(|&t| node.m.enabled(t))
                .map(|t| t as u32)
                .collect(),
        };
        if enabled.is_empty() {
            if !node.m.finished() {
                let mut dl = node.m.clone();
                dl.check_deadlock();
                if let Some(v) = dl.violation() {
                    self.found = Some(self.found_with(v.clone()));
                    return;
                }
            }
            // A test still waiting at the end never ran its next event, so no race of it was
            // seen: race it now, as if it ran last (its wait may be avoidable in another order).
            for t in 0..self.n {
                if !self.nodes[d].m.done(t) {
                    let fp = self.nodes[d].m.footprint(t);
                    let cands = self.push_event(t as u32, fp);
                    self.races(cands);
                    self.pop_event();
                }
            }
            let node = &self.nodes[d];
            let split = self.shard.0;
            if split > 0 {
                // A sharded run: the trace counts here only if its canonical form starts with
                // this subtree's prefix (another shard's subtree may hold it too).
                let ev: Vec<(u32, Footprint)> =
                    self.trace.iter().map(|e| (e.test, e.fp.clone())).collect();
                let form = super::traces::canonical_form(&ev);
                let k = split.min(form.len());
                if form[..k] != self.path[..k] {
                    self.counts.elsewhere += 1;
                    return;
                }
            }
            self.counts.executions += 1;
            if let Some(f) = self.finals.as_mut() {
                f.insert(node.m.canonical());
            }
            return;
        }
        let (split, me, of) = self.shard;
        if d < split {
            // A sharded run's top levels: every movable test, no reduction; the subtrees at
            // the split depth are dealt out, and each is searched afresh.
            for t in enabled {
                if !self.may_begin() {
                    return;
                }
                let mut m = self.nodes[d].m.clone();
                let fp = m.footprint(t as usize);
                m.advance(t as usize);
                self.counts.steps += 1;
                let leaf = (0..self.n).all(|u| !m.enabled(u));
                let _ = self.push_event(t, fp);
                self.path.push(t);
                self.nodes.push(Node {
                    m,
                    sleep: Vec::new(),
                    wut: Vec::new(),
                });
                let mine = (d + 1 < split && !leaf) || {
                    let i = self.dealt;
                    self.dealt += 1;
                    i % of == me
                };
                if mine {
                    self.explore(d + 1);
                }
                self.nodes.pop();
                self.path.pop();
                self.pop_event();
                if self.found.is_some() || self.out_of_budget {
                    return;
                }
            }
            return;
        }
        let asleep = |t: u32, node: &Node<'_>| node.sleep.iter().any(|(s, _)| *s == t);
        if self.nodes[d].wut.is_empty() {
            let node = &self.nodes[d];
            match enabled.iter().find(|&&t| !asleep(t, node)) {
                Some(&t) => {
                    let fp = node.m.footprint(t as usize);
                    self.nodes[d].wut.push(Branch {
                        test: t,
                        fp,
                        next: Vec::new(),
                    });
                }
                None => {
                    self.counts.blocked += 1;
                    return;
                }
            }
        }
        let mut first = true;
        while !self.nodes[d].wut.is_empty() {
            // Every branch after the first begins a new execution.
            if !first && !self.may_begin() {
                return;
            }
            first = false;
            let b = self.nodes[d].wut.remove(0);
            let p = b.test as usize;
            let node = &self.nodes[d];
            if !node.m.enabled(p) {
                // Never expected (every wakeup sequence was run before it was inserted); if it
                // happens the search is incomplete, and the verdict says so.
                self.stale += 1;
                continue;
            }
            let fp = node.m.footprint(p);
            let sleep: Vec<(u32, Footprint)> = node
                .sleep
                .iter()
                .filter(|(_, f)| !f.conflicts(&fp))
                .cloned()
                .collect();
            let mut m = node.m.clone();
            m.advance(p);
            self.counts.steps += 1;
            if let Some(s) = self.states.as_mut() {
                s.insert(m.digest());
            }
            let cands = self.push_event(b.test, fp.clone());
            self.races(cands);
            self.path.push(b.test);
            self.nodes.push(Node {
                m,
                sleep,
                wut: b.next,
            });
            self.explore(d + 1);
            self.nodes.pop();
            self.path.pop();
            self.pop_event();
            if self.found.is_some() || self.out_of_budget {
                return;
            }
            self.nodes[d].sleep.push((b.test, fp));
        }
    }

    fn found_with(&self, violation: crate::check::Violation) -> Found {
        Found {
            schedule: Schedule(self.path.clone()),
            violation,
            index: (self.dealt << 32) | self.begun(),
            deterministic: false,
        }
    }

    /// Appends an event with its vector clock; returns, per other test, its last earlier event
    /// that conflicts with the new one (the candidates for a race).
    fn push_event(&mut self, test: u32, fp: Footprint) -> Cands {
        let (n, j, t) = (self.n, self.trace.len(), test as usize);
        let prev = self.last[t];
        let mut cands = Cands::new();
        // Per other test, its last event before this one that conflicts with it.
        let mut found = 0usize;
        self.seen.clear();
        self.seen.resize(n, false);
        self.seen[t] = true;
        for i in (0..j).rev() {
            if found + 1 >= n {
                break;
            }
            let u = self.trace[i].test as usize;
            if !self.seen[u] && self.trace[i].fp.conflicts(&fp) {
                self.seen[u] = true;
                found += 1;
                cands.push(i);
            }
        }
        let base = self.clocks.len();
        match prev {
            Some(p) => self.clocks.extend_from_within(p * n..(p + 1) * n),
            None => self.clocks.resize(base + n, 0),
        }
        for &i in &cands {
            for k in 0..n {
                let o = self.clocks[i * n + k];
                let c = &mut self.clocks[base + k];
                *c = (*c).max(o);
            }
        }
        let nth = prev.map_or(1, |p| self.trace[p].nth + 1);
        self.clocks[base + t] = nth;
        self.trace.push(Ev {
            test,
            fp,
            nth,
            prev,
        });
        self.last[t] = Some(j);
        cands
    }

    fn pop_event(&mut self) {
        let e = self.trace.pop().expect("an event to pop");
        self.clocks.truncate(self.trace.len() * self.n);
        self.last[e.test as usize] = e.prev;
    }

    /// The races of the newest event with the candidates: those not happening before another
    /// candidate or before the event's own test's previous event.
    fn races(&mut self, cands: Cands) {
        let j = self.trace.len() - 1;
        let prev = self.trace[j].prev;
        let split = self.shard.0;
        for &i in cands.iter().filter(|&&i| i >= split) {
            let direct = !cands.iter().any(|&k| k != i && self.hb(i, k))
                && !prev.is_some_and(|p| self.hb(i, p));
            if direct {
                self.reverse(i, j, &cands);
            }
        }
    }

    /// Adds a wakeup sequence that runs event `j` before event `i` at the node before `i`.
    fn reverse(&mut self, mut i: usize, j: usize, cands: &[usize]) {
        let u = self.trace[i].test;
        let prev = self.trace[j].prev;
        loop {
            let v: Vec<(u32, Footprint)> = (i + 1..j)
                .filter(|&k| !self.hb(i, k))
                .chain(std::iter::once(j))
                .map(|k| (self.trace[k].test, self.trace[k].fp.clone()))
                .collect();
            // Run `v` on a copy of the state there: the moved event may do something else
            // before `e` (a file operation finds its dir not yet removed), so the sequence
            // carries the footprints it has there.
            // With `e` itself after the moved event where it can run there, so that a sleeping
            // test whose next event conflicts with `e` is not taken for an initial of it.
            let node = &self.nodes[i];
            let e = (self.trace[i].test, self.trace[i].fp.clone());
            // Two events that touch only files (and read generations) cannot change whether
            // the other can move or what it touches: the recorded sequence is the replayed one.
            let run = if files_only(&e.1) && files_only(&self.trace[j].fp) {
                let mut v = v;
                v.push(e);
                Some(v)
            } else {
                replay(&node.m, v).map(|(mut v, mut m)| {
                    if m.enabled(e.0 as usize) {
                        let fp = m.footprint(e.0 as usize);
                        m.advance(e.0 as usize);
                        v.push((e.0, fp));
                    }
                    v
                })
            };
            if let Some(v) = run {
                if node.sleep.iter().any(|(s, f)| weak_initial(*s, f, &v)) || covered(&node.wut, &v)
                {
                    return;
                }
                insert(&mut self.nodes[i].wut, v);
                return;
            }
            // The last event waits there: move the race back to the earlier event of `u` that
            // it conflicts with (the acquire of what the race's release gave up), as long as
            // nothing else `j` depends on comes after that.
            let fp = &self.trace[j].fp;
            let Some(k) = (self.shard.0..i)
                .rev()
                .find(|&k| self.trace[k].test == u && self.trace[k].fp.conflicts(fp))
            else {
                return;
            };
            let blocks = cands
                .iter()
                .filter(|&&c| self.trace[c].test != u)
                .chain(prev.iter())
                .any(|&c| self.hb(k, c));
            if blocks {
                return;
            }
            i = k;
        }
    }
}

/// Whether test `s`, whose next event has footprint `fs`, can start an execution equivalent to
/// one that starts with `v`: its first event in `v` conflicts with nothing before it there, or
/// it has none and conflicts with nothing in `v`.
fn weak_initial(s: u32, fs: &Footprint, v: &[(u32, Footprint)]) -> bool {
    match v.iter().position(|e| e.0 == s) {
        Some(k) => !v[..k].iter().any(|e| e.1.conflicts(&v[k].1)),
        None => !v.iter().any(|e| e.1.conflicts(fs)),
    }
}

/// `v` without the first event of test `s` (if it has one).
fn without(mut v: Vec<(u32, Footprint)>, s: u32) -> Vec<(u32, Footprint)> {
    if let Some(k) = v.iter().position(|e| e.0 == s) {
        v.remove(k);
    }
    v
}

/// Whether the wakeup tree already holds a branch that starts like `v` (up to equivalence).
fn covered(mut level: &[Branch], v: &[(u32, Footprint)]) -> bool {
    let mut v = v.to_vec();
    loop {
        if v.is_empty() {
            return true;
        }
        let Some(b) = level.iter().find(|b| weak_initial(b.test, &b.fp, &v)) else {
            return false;
        };
        if b.next.is_empty() {
            return true;
        }
        v = without(v, b.test);
        level = &b.next;
    }
}

/// Inserts `v` into the wakeup tree (the caller checked it is not covered).
fn insert(mut level: &mut Vec<Branch>, mut v: Vec<(u32, Footprint)>) {
    loop {
        if v.is_empty() {
            return;
        }
        let Some(pos) = level.iter().position(|b| weak_initial(b.test, &b.fp, &v)) else {
            // A new last branch: the chain of `v`.
            let mut chain = Vec::new();
            for (t, fp) in v.into_iter().rev() {
                chain = vec![Branch {
                    test: t,
                    fp,
                    next: chain,
                }];
            }
            level.extend(chain);
            return;
        };
        if level[pos].next.is_empty() {
            return;
        }
        v = without(v, level[pos].test);
        level = &mut level[pos].next;
    }
}

/// Whether an event only reads or writes files and reads generations: nothing that decides
/// whether a test can move or what its next event touches.
fn files_only(f: &Footprint) -> bool {
    use super::footprint::{Mode, Res};
    f.0.iter().all(|a| match a.res {
        Res::Cell { .. } | Res::Instance { .. } | Res::Files { .. } => true,
        Res::Gen { .. } => a.mode == Mode::Read,
        Res::Shared { .. } | Res::Excl { .. } | Res::Layer { .. } | Res::Signal { .. } => false,
    })
}

/// `v` run from `m`, with the footprint each event has there, and the state it ends in; `None`
/// if some test cannot move when its turn comes.
fn replay<'p>(
    m: &Machine<'p>,
    mut v: Vec<(u32, Footprint)>,
) -> Option<(Vec<(u32, Footprint)>, Machine<'p>)> {
    let mut m = m.clone();
    for (t, fp) in &mut v {
        let t = *t as usize;
        if !m.enabled(t) {
            return None;
        }
        *fp = m.footprint(t);
        m.advance(t);
    }
    Some((v, m))
}

/// Explores every trace of `prog` (or this shard's share of them) within `budget`.
pub(super) fn run(
    prog: &Program,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
) -> (Verdict, Counts) {
    let (v, c, _) = search(prog, budget, opts, start, states, false);
    (v, c)
}

/// The search without the sequential shortcuts of [`super::explore`], with the final state of
/// every execution it explored (as [`Machine::canonical`] text): what the brute-force oracle
/// ([`super::traces`]) checks it against.
pub fn finals(
    prog: &Program,
    budget: Budget,
    opts: &Options,
) -> (Verdict, Counts, HashSet<String>) {
    let (v, c, f) = search(prog, budget, opts, Instant::now(), &mut None, true);
    (v, c, f.unwrap_or_default())
}

fn search(
    prog: &Program,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
    finals: bool,
) -> (Verdict, Counts, Option<HashSet<String>>) {
    let n = prog.tests.len();
    let (me, of) = opts.shard;
    let mut s = Search {
        n,
        budget,
        start,
        counts: Counts::default(),
        nodes: vec![Node {
            m: Machine::new(prog, opts.oracles),
            sleep: Vec::new(),
            wut: Vec::new(),
        }],
        trace: Vec::new(),
        clocks: Vec::new(),
        last: vec![None; n],
        seen: Vec::new(),
        path: Vec::new(),
        found: None,
        out_of_budget: false,
        states,
        visits: 0,
        progress: &opts.progress,
        shard: (if of > 1 { SPLIT } else { 0 }, me, of),
        dealt: 0,
        finals: finals.then(HashSet::new),
        stale: 0,
    };
    if s.may_begin() {
        // One frame per event on the current execution: give the search a stack sized for the
        // longest one (a 65-test suite runs hundreds of events deep).
        let stack = (prog.total_events() + 64) * 32 * 1024;
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("dpor".into())
                .stack_size(stack.max(8 << 20))
                .spawn_scoped(scope, || s.explore(0))
                .expect("a thread for the search")
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
        });
    }
    if s.found.is_some() {
        s.counts.executions += 1; // the execution that broke counts
    }
    let stale = s.stale;
    let verdict = super::exhaustive_verdict(
        s.found,
        s.out_of_budget,
        s.counts.executions + s.counts.blocked,
        s.start,
    );
    let verdict = match verdict {
        Verdict::Holds { .. } if stale > 0 => Verdict::Unknown(format!(
            "{stale} wakeup branch(es) could not run when their turn came; the search is incomplete (a bug in the reduction)"
        )),
        v => v,
    };
    (verdict, s.counts, s.finals)
}
