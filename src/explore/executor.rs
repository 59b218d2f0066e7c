//! The deterministic executor: one OS thread, one [`Machine`] holding the whole state of a run;
//! a schedule picks which runnable test moves next. Every decision is the engine's
//! ([`crate::engine::Profile`]); every property is an oracle of [`crate::check`].

use std::collections::HashMap;
use std::hash::Hasher;

use fixedbitset::FixedBitSet;

use super::footprint::{Footprint, Mode, Res};
use super::program::{Event, NO_LAYER, NO_REMOVAL, OpKind, Program};
use crate::check::{self, Oracle, Oracles, Violation};
use crate::engine::{Decision, PruneEffect, Quirk, Request};
use crate::mount::Sharing;
use crate::store::table::{Holder, Table};

const ABSENT: u32 = u32::MAX;

/// No RUN is being skipped.
const NO_RUN: u32 = u32::MAX;

/// Where a layer that several builds make alike stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LayerState {
    /// No build made it yet.
    Absent,
    /// This test is running the RUN that makes it (BuildKit: identical RUNs wait for it).
    Running(u32),
    /// This test's RUN made it: identical RUNs reuse it and do not run.
    Cached(u32),
}

/// One file of one instance of one cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Cell {
    /// Interned value, or [`ABSENT`].
    value: u32,
    /// Who wrote part of the content: a [`WriterSets`] id (test `t` alone is id `t`).
    writers: u32,
}

const EMPTY: Cell = Cell {
    value: ABSENT,
    writers: NOBODY,
};

/// The writer set of an absent file.
const NOBODY: u32 = u32::MAX;

/// The sets of tests that wrote a file's content, interned so a [`Cell`] stays small for any
/// number of tests: id `t < n` is test `t` alone; larger ids are unions made by appends.
#[derive(Clone, Debug, Default)]
struct WriterSets {
    n: usize,
    unions: Vec<FixedBitSet>,
    ids: HashMap<FixedBitSet, u32>,
    /// Up to 64 tests: each union as a bit mask, beside `unions` (found by a scan, no hashing).
    masks: Vec<u64>,
}

impl WriterSets {
    fn new(n: usize) -> WriterSets {
        WriterSets {
            n,
            ..WriterSets::default()
        }
    }

    fn reset(&mut self) {
        self.unions.clear();
        self.ids.clear();
        self.masks.clear();
    }

    /// The tests of set `id`, ascending.
    fn members(&self, id: u32) -> Vec<usize> {
        match id {
            NOBODY => Vec::new(),
            t if (t as usize) < self.n => vec![t as usize],
            u => self.unions[u as usize - self.n].ones().collect(),
        }
    }

    /// The id of set `id` with test `t` added.
    fn with(&mut self, id: u32, t: usize) -> u32 {
        if id == NOBODY || id == t as u32 {
            return t as u32;
        }
        if self.n <= 64 {
            let old = match (id as usize).checked_sub(self.n) {
                None => 1u64 << id,
                Some(u) => self.masks[u],
            };
            let new = old | 1 << t;
            if new == old {
                return id;
            }
            if let Some(i) = self.masks.iter().position(|&m| m == new) {
                return (self.n + i) as u32;
            }
            let mut set = FixedBitSet::with_capacity(self.n);
            set.extend((0..self.n).filter(|&u| new & 1 << u != 0));
            self.unions.push(set);
            self.masks.push(new);
            return (self.n + self.unions.len() - 1) as u32;
        }
        let mut set = FixedBitSet::with_capacity(self.n);
        set.extend(self.members(id));
        set.insert(t);
        if let Some(&known) = self.ids.get(&set) {
            return known;
        }
        let new = (self.n + self.unions.len()) as u32;
        self.unions.push(set.clone());
        self.ids.insert(set, new);
        new
    }
}

/// Why a build failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Failure {
    /// `cat` of an absent file.
    ReadMissing { key: u32, file: u32 },
    /// The engine refused a mount.
    Rejected,
    /// A write, append or removal through a read-only (`ro`) mount.
    ReadOnly { key: u32, file: u32, create: bool },
    /// A file created in a mounted cache dir that was removed meanwhile (a prune, or a wipe of
    /// an enclosing cache): the mount points at a deleted directory.
    DeletedDir { key: u32, file: u32 },
}

/// One line of a recorded history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based step number.
    pub step: u64,
    /// The test that moved.
    pub test: usize,
    /// The cache key involved, if any.
    pub key: Option<usize>,
    /// What happened, for people.
    pub text: String,
    /// For a build's end: how the build ended.
    pub build: Option<BuildOutcome>,
    /// For a read: what it returned (`None`: no such file).
    pub read: Option<Option<String>>,
}

/// How a build ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOutcome {
    /// Its error message, if it failed.
    pub failure: Option<String>,
    /// What its reads printed, a line each.
    pub output: String,
}

/// The state of one run of a program.
#[derive(Clone, Debug)]
pub struct Machine<'p> {
    prog: &'p Program,
    oracles: Oracles,
    pc: Vec<u32>,
    table: Table,
    cells: Vec<Vec<Cell>>,
    failure: Vec<Option<Failure>>,
    output: Vec<Vec<u32>>,
    /// The texts of the values appends made, one after another (no allocation per append).
    extra_text: String,
    /// Per value an append made (ids from `prog.values.len()` on): its span of `extra_text`.
    extra_spans: Vec<(u32, u32)>,
    writer_sets: WriterSets,
    steps: u64,
    violation: Option<Violation>,
    history: Option<Vec<Record>>,
    /// Bit `t` set when test `t` can move (kept for up to 64 tests).
    en: u64,
    /// `en` at the start of every run.
    en0: u64,
    /// Bit `t` set when test `t`'s next event may have to wait ([`TestProgram::may_wait`]),
    /// for up to 64 tests: only these can be blocked or unblocked by another test's move.
    waits: u64,
    /// `waits` at the start of every run.
    waits0: u64,
    /// Per test: the file its current RUN last read or looked at (store, cell index) and what
    /// the file held then, for the lost-update oracle.
    seen: Vec<Option<(u32, u32, Cell)>>,
    /// Per layer of [`Program::layers`]: cached, being made, or not there.
    layers: Vec<LayerState>,
    /// Per test: the RUN it skips because its layer is cached ([`NO_RUN`]: none).
    skip: Vec<u32>,
    /// Per test: its build ran a RUN itself, so on Buildah no later layer of it is cached.
    missed: Vec<bool>,
}

fn holder(t: usize, run: u32) -> Holder {
    Holder {
        owner: t as u32,
        run,
    }
}

impl<'p> Machine<'p> {
    /// A machine at the start of `prog`, checking `oracles`.
    pub fn new(prog: &'p Program, oracles: Oracles) -> Machine<'p> {
        let mut m = Machine {
            prog,
            oracles,
            pc: vec![0; prog.tests.len()],
            table: Table::with_keys(prog.keys.len()),
            cells: vec![Vec::new(); prog.keys.len()],
            failure: vec![None; prog.tests.len()],
            output: vec![Vec::new(); prog.tests.len()],
            extra_text: String::new(),
            extra_spans: Vec::new(),
            writer_sets: WriterSets::new(prog.tests.len()),
            steps: 0,
            violation: None,
            history: None,
            en: 0,
            en0: 0,
            waits: 0,
            waits0: 0,
            seen: vec![None; prog.tests.len()],
            layers: vec![LayerState::Absent; prog.layers.len()],
            skip: vec![NO_RUN; prog.tests.len()],
            missed: vec![false; prog.tests.len()],
        };
        m.reset();
        m.en0 = (0..m.pc.len().min(64))
            .filter(|&t| m.enabled(t))
            .fold(0, |b, t| b | 1 << t);
        m.en = m.en0;
        m.waits0 = (0..m.pc.len().min(64))
            .filter(|&t| prog.tests[t].may_wait[0])
            .fold(0, |b, t| b | 1 << t);
        m.waits = m.waits0;
        m
    }

    /// Back to the start, keeping allocations.
    pub fn reset(&mut self) {
        self.pc.iter_mut().for_each(|p| *p = 0);
        self.table.reset();
        // Buildah keeps one directory per key, and a nested key's files live in its outer
        // key's cells even when nobody mounted that one: every key has its one instance's cells.
        let per_key = if self.prog.profile.engine == crate::engine::Engine::BuildKit {
            0
        } else {
            self.prog.files.len().max(1)
        };
        for c in &mut self.cells {
            c.clear();
            c.resize(per_key, EMPTY);
        }
        self.failure.iter_mut().for_each(|f| *f = None);
        self.seen.iter_mut().for_each(|s| *s = None);
        self.layers.iter_mut().for_each(|l| *l = LayerState::Absent);
        self.skip.iter_mut().for_each(|r| *r = NO_RUN);
        self.missed.iter_mut().for_each(|m| *m = false);
        self.output.iter_mut().for_each(Vec::clear);
        self.extra_text.clear();
        self.extra_spans.clear();
        self.writer_sets.reset();
        self.steps = 0;
        self.violation = if self.oracles.has(Oracle::PathContainment) {
            self.prog.static_violations.first().cloned()
        } else {
            None
        };
        if let Some(h) = &mut self.history {
            h.clear();
        }
        self.en = self.en0;
        self.waits = self.waits0;
    }

    /// The tests that can move now as a bit set, for programs of at most 64 tests (kept up to
    /// date as tests move: only the tests an event can affect are looked at again).
    pub fn runnable_mask(&self) -> Option<u64> {
        (self.pc.len() <= 64).then_some(self.en)
    }

    /// Records a history from now on (for counterexamples; slower).
    pub fn record(&mut self) {
        self.history = Some(Vec::new());
    }

    /// The recorded history.
    pub fn history(&self) -> &[Record] {
        self.history.as_deref().unwrap_or(&[])
    }

    /// The program.
    pub fn program(&self) -> &'p Program {
        self.prog
    }

    /// The first violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether every test ran to its end.
    pub fn finished(&self) -> bool {
        (0..self.pc.len()).all(|t| self.done(t))
    }

    /// Whether test `t` has no events left.
    pub fn done(&self, t: usize) -> bool {
        self.pc[t] as usize >= self.prog.tests[t].events.len()
    }

    /// Whether test `t` can move now.
    pub fn enabled(&self, t: usize) -> bool {
        let test = &self.prog.tests[t];
        let Some(ev) = test.events.get(self.pc[t] as usize) else {
            return false;
        };
        match ev {
            Event::Acquire { run, key, sharing } => {
                if self.failure[t].is_some() || self.skip[t] == *run {
                    return true;
                }
                let req = Request {
                    holder: holder(t, *run),
                    sharing: *sharing,
                };
                self.prog
                    .profile
                    .decide(&self.table.keys[*key as usize], &req)
                    != Decision::Wait
            }
            Event::Prune { keys, .. } => keys.iter().all(|k| {
                self.prog
                    .profile
                    .prune_effect(&self.table.keys[*k as usize])
                    != PruneEffect::Wait
            }),
            Event::Join { waits, .. } => self.joined(waits),
            // A merged RUN waits for the build that runs it.
            Event::Layer { layer, .. } => {
                self.failure[t].is_some()
                    || !matches!(self.layers[*layer as usize], LayerState::Running(u) if u != t as u32)
            }
            _ => true,
        }
    }

    fn nfiles(&self) -> usize {
        self.prog.files.len().max(1)
    }

    fn value_text(&self, v: u32) -> &str {
        let base = self.prog.values.len();
        if (v as usize) < base {
            &self.prog.values[v as usize]
        } else {
            let (start, end) = self.extra_spans[v as usize - base];
            &self.extra_text[start as usize..end as usize]
        }
    }

    fn say(&mut self, t: usize, key: Option<usize>, text: impl FnOnce(&Self) -> String) {
        if self.history.is_some() {
            let text = text(self);
            let step = self.steps;
            if let Some(h) = self.history.as_mut() {
                h.push(Record {
                    step,
                    test: t,
                    key,
                    text,
                    build: None,
                    read: None,
                });
            }
        }
    }

    /// Test `t`'s `cat` of `file` through `key` (recorded under key `k`) finds nothing: its build
    /// fails with `No such file or directory`; `why` is said after it in the history.
    fn read_missing(&mut self, t: usize, k: usize, key: u32, file: u32, why: &str) {
        self.failure[t] = Some(Failure::ReadMissing { key, file });
        self.say(t, Some(k), |m| {
            format!(
                "read {} → No such file or directory{why}",
                m.prog.files[file as usize]
            )
        });
        self.mark_read(None);
    }

    fn mark_read(&mut self, value: Option<String>) {
        if let Some(last) = self.history.as_mut().and_then(|h| h.last_mut()) {
            last.read = Some(value);
        }
    }

    fn violate(
        &mut self,
        oracle: Oracle,
        t: usize,
        key: Option<usize>,
        message: impl FnOnce(&Self) -> String,
    ) {
        if self.violation.is_none() && self.oracles.has(oracle) {
            let message = message(self);
            // A stuck test is at its event; any other broke the one it just took.
            let pc = self.pc[t] as usize;
            let at = if oracle == Oracle::Deadlock {
                pc
            } else {
                pc.saturating_sub(1)
            };
            let run = match self.prog.tests[t].events.get(at) {
                Some(
                    Event::Acquire { run, .. }
                    | Event::Op { run, .. }
                    | Event::Release { run, .. }
                    | Event::Layer { run, .. },
                ) => Some(*run),
                _ => None,
            };
            self.violation = Some(Violation {
                oracle,
                test: t,
                step: self.steps,
                key,
                run,
                message,
            });
        }
    }

    /// Test `t` saw a file of key `k` that `writers` wrote: an isolation violation when some
    /// other test wrote part of it (a look or an opaque command's possible read, not bytes).
    /// Returns whether it was one.
    fn isolation_check(
        &mut self,
        t: usize,
        k: usize,
        writers: u32,
        what: impl FnOnce(&Self) -> String,
    ) -> bool {
        if writers == t as u32 || writers == NOBODY {
            return false;
        }
        let others = check::isolation::on_read_by(t, &self.writer_sets.members(writers), |u| {
            self.prog.tests[u].owner as usize
        });
        if others.is_empty() {
            return false;
        }
        self.violate(Oracle::Isolation, t, Some(k), |m| {
            format!(
                "{} {} in {}, written by {}",
                m.prog.tests[t].name,
                what(m),
                m.key_name(k),
                m.writers_text(&others)
            )
        });
        true
    }

    /// Test `t` writes cell `idx` of store `k` from what it read of it earlier in this RUN (a
    /// read-modify-write: `sed -i`, `echo "$(cat f)…" > f`): an update another test made in
    /// between is lost.
    fn lost_update_check(&mut self, t: usize, k: usize, idx: usize, value: u32) {
        let Some((sk, si, then)) = self.seen[t].filter(|_| self.oracles.has(Oracle::LostUpdate))
        else {
            return;
        };
        let now = self.cells[k][idx];
        // The same bytes as it read, or as it writes, lose nothing, whoever wrote them since;
        // nor does a write still in flight (its bytes land after, and are judged at its open).
        if (sk as usize, si as usize) != (k, idx)
            || now.value == then.value
            || now.value == value
            || now.writers == t as u32
            || Some(now.value) == self.prog.torn
        {
            return;
        }
        let others: Vec<usize> =
            check::isolation::on_read(t, &self.writer_sets.members(now.writers));
        if others.is_empty() {
            return;
        }
        let nf = self.nfiles();
        self.violate(Oracle::LostUpdate, t, Some(k), |m| {
            format!(
                "{} writes {} from what it read of it, but {} changed it since: that update is lost",
                m.prog.tests[t].name,
                m.prog.files[idx % nf],
                m.writers_text(&others)
            )
        });
    }

    /// Test `t` runs the opaque command `value` on instance `inst` of `key`: a tool that fails or
    /// corrupts under contention meets another RUN that holds the instance and runs it too.
    fn contention_check(&mut self, t: usize, key: u32, inst: usize, value: u32) {
        if !self.oracles.has(Oracle::ToolContention) {
            return;
        }
        let Some(tool) = crate::tools::of_what(self.value_text(value)).filter(|x| x.contends())
        else {
            return;
        };
        let other = self.table.keys[key as usize]
            .instance_holds(inst)
            .map(|h| h.holder)
            .find(|h| {
                let u = h.owner as usize;
                // A RUN still taking its other mounts has not started its commands.
                let acquiring = matches!(
                    self.prog.tests[u].events.get(self.pc[u] as usize),
                    Some(Event::Acquire { run, .. }) if *run == h.run
                );
                u != t
                    && !acquiring
                    && self.prog.tests[u]
                        .contending
                        .contains(&(h.run, key, tool.name))
            });
        if let Some(h) = other {
            self.violate(Oracle::ToolContention, t, Some(key as usize), |m| {
                format!(
                    "{} runs {} on {} while {} holds it in a RUN that runs {} too: {}",
                    m.prog.tests[t].name,
                    tool.name,
                    m.key_name(key as usize),
                    m.prog.tests[h.owner as usize].name,
                    tool.name,
                    tool.contention_text()
                )
            });
        }
    }

    /// Whether an opaque command ran where file `cell` of instance `inst` of store `k` lies,
    /// so that it may have created it. Says so in the history, and checks isolation against
    /// whoever ran it.
    fn maybe_created(&mut self, t: usize, k: usize, inst: usize, cell: u32) -> bool {
        if self.prog.keys[k].seeded {
            // Buildah's own tests/bud/buildkit-mount-from cache tests read such files and pass.
            self.say(t, Some(k), |m| {
                format!(
                    "read {}: not written here, but may be one of the stage's files",
                    m.prog.files[cell as usize]
                )
            });
            return true;
        }
        let nf = self.nfiles();
        let Some(&m) = self.prog.markers_over[cell as usize]
            .iter()
            .find(|&&m| self.cells[k][inst * nf + m as usize].value != ABSENT)
        else {
            return false;
        };
        let w = self.cells[k][inst * nf + m as usize].writers;
        self.say(t, Some(k), |mm| {
            format!(
                "read {}: absent, but an opaque command ran there and may have created it",
                mm.prog.files[cell as usize]
            )
        });
        self.isolation_check(t, k, w, |mm| {
            format!(
                "may read {} (an opaque command there may have created it)",
                mm.prog.files[cell as usize]
            )
        });
        true
    }

    fn key_name(&self, k: usize) -> String {
        let info = &self.prog.keys[k];
        format!("{} ({})", info.target, info.loc.dir)
    }

    fn writers_text(&self, tests: &[usize]) -> String {
        let names: Vec<&str> = tests
            .iter()
            .map(|&t| self.prog.tests[t].name.as_str())
            .collect();
        names.join(", ")
    }

    /// Moves test `t` by one event; false (and no change) if it is blocked or done.
    pub fn step(&mut self, t: usize) -> bool {
        if !self.enabled(t) {
            return false;
        }
        self.advance(t);
        true
    }

    /// Moves test `t`, which the caller has just seen [`Machine::enabled`].
    pub fn advance(&mut self, t: usize) {
        let affected = self.prog.tests[t].event_tests[self.pc[t] as usize];
        let moved = self.apply(t);
        debug_assert!(moved, "advance is for a test that can move");
        if self.pc.len() <= 64 {
            self.settle(t);
            // Another test can change from blocked to free or back only when its next event
            // may wait and this event can affect it.
            let mut bits = affected & self.waits & !(1 << t);
            while bits != 0 {
                let u = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.enabled(u) {
                    self.en |= 1 << u;
                } else {
                    self.en &= !(1 << u);
                }
            }
        }
    }

    /// After test `t` moved (up to 64 tests): its bits in `waits` and `en`. An event that never
    /// waits can be taken unless the test is done.
    #[inline]
    fn settle(&mut self, t: usize) {
        let test = &self.prog.tests[t];
        let pc = self.pc[t] as usize;
        let (bit, waits) = (1u64 << t, test.may_wait[pc]);
        self.waits = if waits {
            self.waits | bit
        } else {
            self.waits & !bit
        };
        let can = if waits {
            self.enabled(t)
        } else {
            pc < test.events.len()
        };
        self.en = if can { self.en | bit } else { self.en & !bit };
    }

    /// Moves test `t` while its next event is a safe step (it touches no key another test
    /// touches, so only `t` is affected) and it can move, calling `each` after every event.
    /// Returns how many events ran; the caller records them as choices of `t`.
    pub fn run_safe(&mut self, t: usize, mut each: impl FnMut(&Self)) -> u64 {
        let start = self.steps;
        let n = self.prog.tests[t].safe_run[self.pc[t] as usize];
        for _ in 0..n {
            if self.violation.is_some() || !self.apply(t) {
                break;
            }
            each(self);
        }
        let ran = self.steps - start;
        if ran > 0 && self.pc.len() <= 64 {
            // Safe events affect no other test: only t's own bits can change.
            self.settle(t);
        }
        ran
    }

    /// Test `t` takes its next event.
    #[inline]
    fn bump(&mut self, t: usize) {
        self.pc[t] += 1;
        self.steps += 1;
    }

    /// Moves test `t` by its next event if it can move; false (and no change) if that event
    /// has to wait. Decides each acquire once.
    fn apply(&mut self, t: usize) -> bool {
        let prog = self.prog;
        let ev = &prog.tests[t].events[self.pc[t] as usize];
        match ev {
            Event::Acquire { run, key, sharing } => {
                if self.failure[t].is_some() || self.skip[t] == *run {
                    self.bump(t);
                    return true; // the build failed already, or the RUN is cached: nothing
                }
                let req = Request {
                    holder: holder(t, *run),
                    sharing: *sharing,
                };
                let decision = prog.profile.decide(&self.table.keys[*key as usize], &req);
                if decision == Decision::Wait {
                    return false;
                }
                self.bump(t);
                let k = *key as usize;
                let state = &self.table.keys[k];
                let hold = prog.profile.hold(state, &req);
                let inst = match decision {
                    Decision::Grant(i) => {
                        self.table.keys[k].grant(i, hold);
                        i
                    }
                    Decision::NewInstance => {
                        let i = self.table.keys[k].create(hold);
                        let nf = self.nfiles();
                        if self.cells[k].len() < (i + 1) * nf {
                            self.cells[k].resize((i + 1) * nf, EMPTY);
                        }
                        // Instances the new one splits the cache from: the held ones (a
                        // free one would have been granted, unless no search finds it).
                        let held = (0..i).filter(|&j| !self.table.keys[k].is_free(j)).count();
                        if self.oracles.has(Oracle::SharedCoherence)
                            && check::shared_coherence::on_new_instance(*sharing, held)
                        {
                            self.violate(Oracle::SharedCoherence, t, Some(k), |m| {
                                let why = if m.table.keys[k].holds().all(|(_, h)| h.sharing == Sharing::Shared) {
                                    "held shared, but a --no-cache build made the daemon forget them"
                                } else {
                                    "held in other modes"
                                };
                                format!(
                                    "a shared mount of {} got a new empty instance while {held} other instance(s) exist, {why}",
                                    m.key_name(k),
                                )
                            });
                        }
                        i
                    }
                    Decision::Reject(_) => {
                        self.failure[t] = Some(Failure::Rejected);
                        self.say(t, Some(k), |m| {
                            format!(
                                "mount {} rejected: sharing={sharing}",
                                m.prog.keys[k].target
                            )
                        });
                        return true;
                    }
                    Decision::Wait => unreachable!("returned above"),
                };
                // Each oracle looks only when it is on (a sampled run with none checks nothing).
                let on = |o| self.oracles.has(o);
                let excl = on(Oracle::LockedExclusion)
                    .then(|| check::locked_exclusion::on_grant(&self.table.keys[k], &hold))
                    .flatten();
                let stale = on(Oracle::LockIntegrity)
                    .then(|| check::lock_integrity::on_grant(&self.table.keys[k], &hold))
                    .flatten();
                let shared_private = on(Oracle::PrivateExclusivity)
                    && check::private_exclusivity::on_grant(&self.table.keys[k], inst);
                if let Some(other) = excl {
                    self.violate(Oracle::LockedExclusion, t, Some(k), |m| {
                        format!(
                            "{} and {} both hold {} locked",
                            m.prog.tests[t].name,
                            m.prog.tests[other.holder.owner as usize].name,
                            m.key_name(k)
                        )
                    });
                }
                if let Some(other) = stale {
                    self.violate(Oracle::LockIntegrity, t, Some(k), |m| {
                        format!(
                            "{} locked {} although {} still holds it: the lock file was removed and re-created",
                            m.prog.tests[t].name,
                            m.key_name(k),
                            m.prog.tests[other.holder.owner as usize].name
                        )
                    });
                }
                if shared_private {
                    self.violate(Oracle::PrivateExclusivity, t, Some(k), |m| {
                        format!(
                            "instance {inst} of {} is private but has several holders",
                            m.key_name(k)
                        )
                    });
                }
                self.say(t, Some(k), |m| {
                    format!("mount {} {sharing} → inst {inst}", m.prog.keys[k].target)
                });
            }
            Event::Op {
                run,
                key,
                op,
                file,
                value,
                store,
                cell,
                readonly,
                removal,
            } => {
                self.bump(t);
                if self.failure[t].is_some() || self.skip[t] == *run {
                    return true;
                }
                let k = *key as usize;
                let Some((inst, hold)) = self.table.keys[k].hold_of(holder(t, *run)) else {
                    return true;
                };
                // The mount points at a directory removed since it was mounted (Buildah: seen on
                // 1.28.2, semantics.md §6): nothing can be created there and nothing is left.
                let deleted = hold.dir_gen != self.table.keys[k].dir_gen;
                let nf = self.nfiles();
                // Instance 0 is the cache dir on disk, in the tree it shares with nested dirs.
                // A further instance (BuildKit; a Buildah with private allowed, whose pool dirs
                // `<dir>-N` nest in nothing) keeps its files in its own key's cells.
                let (sk, cell, removal) = if inst == 0 {
                    (*store as usize, *cell, *removal)
                } else {
                    (k, *file, NO_REMOVAL)
                };
                let idx = inst * nf + cell as usize;
                let fails = match op {
                    OpKind::Write | OpKind::Append if deleted => Some(Failure::DeletedDir {
                        key: *key,
                        file: *file,
                    }),
                    OpKind::Write | OpKind::Append if *readonly => Some(Failure::ReadOnly {
                        key: *key,
                        file: *file,
                        create: true,
                    }),
                    // `rm -f` of nothing succeeds, even on a read-only mount (busybox rm looks
                    // before it unlinks).
                    OpKind::Remove
                        if *readonly && !deleted && self.cells[sk][idx].value != ABSENT =>
                    {
                        Some(Failure::ReadOnly {
                            key: *key,
                            file: *file,
                            create: false,
                        })
                    }
                    // `touch` of a read-only mount fails, whether it creates or sets times.
                    OpKind::Touch if deleted => Some(Failure::DeletedDir {
                        key: *key,
                        file: *file,
                    }),
                    OpKind::Touch if *readonly => Some(Failure::ReadOnly {
                        key: *key,
                        file: *file,
                        create: self.cells[sk][idx].value == ABSENT,
                    }),
                    OpKind::Wipe if *readonly && !deleted => self
                        .first_file(sk, inst, cell, removal)
                        .map(|f| Failure::ReadOnly {
                            key: *key,
                            file: f,
                            create: false,
                        }),
                    _ => None,
                };
                if let Some(f) = fails {
                    self.failure[t] = Some(f);
                    self.say(t, Some(k), |m| {
                        format!("{} fails: {}", op_name(*op), m.failure_text(f))
                    });
                    return true;
                }
                if deleted {
                    // Reads find nothing; rm -f and rm -rf of nothing succeed.
                    if matches!(op, OpKind::Read | OpKind::Stat { must_exist: true }) {
                        self.read_missing(t, k, *key, *file, " (the mounted dir was removed)");
                    } else {
                        self.say(t, Some(k), |_| {
                            format!("{} in a removed dir: nothing there", op_name(*op))
                        });
                    }
                    return true;
                }
                let (k, idx, cell_id) = (sk, idx, cell);
                match op {
                    OpKind::Write => {
                        // At a write's open (torn writes) the update is judged by the bytes
                        // that follow; at those bytes the file is this test's own already.
                        let lands = if Some(*value) == prog.torn {
                            match prog.tests[t].events.get(self.pc[t] as usize) {
                                Some(Event::Op { value, .. }) => *value,
                                _ => *value,
                            }
                        } else {
                            *value
                        };
                        self.lost_update_check(t, k, idx, lands);
                        self.cells[k][idx] = Cell {
                            value: *value,
                            writers: t as u32,
                        };
                        self.say(t, Some(k), |m| {
                            if Some(*value) == m.prog.torn {
                                format!(
                                    "open {} for writing (O_TRUNC): empty until its bytes land",
                                    m.prog.files[*file as usize]
                                )
                            } else {
                                format!(
                                    "write {} = {:?}",
                                    m.prog.files[*file as usize],
                                    m.value_text(*value)
                                )
                            }
                        });
                    }
                    OpKind::Append => {
                        let old = self.cells[k][idx];
                        // The new text, `old\nvalue` (or `value` alone), at the arena's end.
                        let start = self.extra_text.len();
                        if old.value != ABSENT && Some(old.value) != self.prog.torn {
                            match (old.value as usize).checked_sub(prog.values.len()) {
                                None => self.extra_text.push_str(&prog.values[old.value as usize]),
                                Some(e) => {
                                    let (a, b) = self.extra_spans[e];
                                    self.extra_text.extend_from_within(a as usize..b as usize);
                                }
                            }
                            self.extra_text.push('\n');
                        }
                        match (*value as usize).checked_sub(prog.values.len()) {
                            None => self.extra_text.push_str(&prog.values[*value as usize]),
                            Some(e) => {
                                let (a, b) = self.extra_spans[e];
                                self.extra_text.extend_from_within(a as usize..b as usize);
                            }
                        }
                        let span = (start as u32, self.extra_text.len() as u32);
                        self.extra_spans.push(span);
                        let v = (prog.values.len() + self.extra_spans.len() - 1) as u32;
                        self.cells[k][idx] = Cell {
                            value: v,
                            writers: self.writer_sets.with(old.writers, t),
                        };
                        self.say(t, Some(k), |m| {
                            format!(
                                "append {} += {:?}",
                                m.prog.files[*file as usize],
                                m.value_text(*value)
                            )
                        });
                    }
                    OpKind::Read => {
                        let cell = self.cells[k][idx];
                        self.seen[t] = Some((k as u32, idx as u32, cell));
                        if cell.value == ABSENT && self.maybe_created(t, k, inst, cell_id) {
                            // An opaque command may have created it: it may be there.
                        } else if cell.value == ABSENT {
                            self.read_missing(t, k, *key, *file, "");
                        } else {
                            self.output[t].push(cell.value);
                            self.say(t, Some(k), |m| {
                                format!(
                                    "read {} → {:?} (written by {})",
                                    m.prog.files[*file as usize],
                                    m.value_text(cell.value),
                                    m.writers_text(&m.writer_sets.members(cell.writers))
                                )
                            });
                            let text = self
                                .history
                                .is_some()
                                .then(|| self.value_text(cell.value).to_string());
                            self.mark_read(text);
                            // Another test's write is in flight: opened, bytes not there yet.
                            // (An opaque command there since may have joined the writers.)
                            if Some(cell.value) == self.prog.torn && cell.writers != t as u32 {
                                let writers: Vec<usize> = self
                                    .writer_sets
                                    .members(cell.writers)
                                    .into_iter()
                                    .filter(|&w| w != t)
                                    .collect();
                                self.violate(Oracle::TornRead, t, Some(k), |m| {
                                    format!(
                                        "{} read {} while {} was writing it: opened with O_TRUNC, its bytes not there yet, so the read saw it empty",
                                        m.prog.tests[t].name,
                                        m.prog.files[*file as usize],
                                        m.writers_text(&writers)
                                    )
                                });
                            }
                            let others = if cell.writers == t as u32
                                || !self.oracles.has(Oracle::Isolation)
                            {
                                Vec::new()
                            } else {
                                check::isolation::on_read_by(
                                    t,
                                    &self.writer_sets.members(cell.writers),
                                    |u| self.prog.tests[u].owner as usize,
                                )
                            };
                            if !others.is_empty() {
                                self.violate(Oracle::Isolation, t, Some(k), |m| {
                                    format!(
                                        "{} read {:?} from {}, written by {}",
                                        m.prog.tests[t].name,
                                        m.value_text(cell.value),
                                        m.key_name(k),
                                        m.writers_text(&others)
                                    )
                                });
                            }
                        }
                    }
                    OpKind::Touch => {
                        if self.cells[k][idx].value == ABSENT {
                            self.cells[k][idx] = Cell {
                                value: 0,
                                writers: t as u32,
                            };
                        }
                        self.say(t, Some(k), |m| {
                            format!("touch {}", m.prog.files[*file as usize])
                        });
                    }
                    OpKind::Stat { must_exist } => {
                        let cell = self.cells[k][idx];
                        self.seen[t] = Some((k as u32, idx as u32, cell));
                        if cell.value == ABSENT && self.maybe_created(t, k, inst, cell_id) {
                        } else if cell.value == ABSENT {
                            if *must_exist {
                                self.read_missing(t, k, *key, *file, "");
                            } else {
                                self.say(t, Some(k), |m| {
                                    format!("look at {}: absent", m.prog.files[*file as usize])
                                });
                            }
                        } else {
                            self.say(t, Some(k), |m| {
                                format!(
                                    "look at {}: there (written by {})",
                                    m.prog.files[*file as usize],
                                    m.writers_text(&m.writer_sets.members(cell.writers))
                                )
                            });
                            self.isolation_check(t, k, cell.writers, |m| {
                                format!("saw that {} exists", m.prog.files[*file as usize])
                            });
                        }
                    }
                    OpKind::Opaque { writes } => {
                        let prefix = prog.files[cell as usize].clone();
                        let what = self.value_text(*value).to_string();
                        let under: Vec<usize> = (0..nf)
                            .filter(|&c| {
                                self.cells[k][inst * nf + c].value != ABSENT
                                    && below_or_at(&prog.files[c], &prefix)
                            })
                            .collect();
                        self.say(t, Some(k), |_| {
                            format!(
                                "opaque `{what}`: may read{} all {} file(s) here",
                                if *writes && !*readonly {
                                    " and write"
                                } else {
                                    ""
                                },
                                under.len()
                            )
                        });
                        for &c in &under {
                            let w = self.cells[k][inst * nf + c].writers;
                            if self.isolation_check(t, k, w, |m| {
                                format!("may read {} (opaque `{what}`)", m.prog.files[c])
                            }) {
                                break;
                            }
                        }
                        self.contention_check(t, *key, inst, *value);
                        if *writes && !*readonly {
                            for &c in &under {
                                let cell = &mut self.cells[k][inst * nf + c];
                                cell.writers = self.writer_sets.with(cell.writers, t);
                            }
                        }
                    }
                    OpKind::Remove => {
                        self.cells[k][idx] = EMPTY;
                        self.say(t, Some(k), |m| {
                            format!("remove {}", m.prog.files[*file as usize])
                        });
                    }
                    OpKind::Wipe => {
                        let lock_gone = if removal == NO_REMOVAL {
                            let dir = &prog.files[cell as usize];
                            if dir.is_empty() {
                                self.cells[k][inst * nf..(inst + 1) * nf].fill(EMPTY);
                            } else {
                                for c in 0..nf {
                                    if below_or_at(&prog.files[c], dir) {
                                        self.cells[k][inst * nf + c] = EMPTY;
                                    }
                                }
                            }
                            false
                        } else {
                            let r = &prog.removals[removal as usize];
                            self.remove(r);
                            r.locks.contains(key)
                        };
                        self.say(t, Some(*key as usize), |m| {
                            format!(
                                "rm -rf {}/*{}",
                                m.prog.keys[*key as usize].target,
                                if lock_gone {
                                    " (the lock file too)"
                                } else {
                                    ""
                                }
                            )
                        });
                    }
                }
            }
            Event::Release {
                run,
                keys,
                sharing,
                unmount_fails,
                layer,
            } => {
                self.bump(t);
                self.seen[t] = None;
                if self.skip[t] == *run {
                    self.skip[t] = NO_RUN;
                    return true;
                }
                if *layer != NO_LAYER {
                    let l = &mut self.layers[*layer as usize];
                    if self.failure[t].is_none() {
                        *l = LayerState::Cached(t as u32);
                    } else if *l == LayerState::Running(t as u32) {
                        // A failed RUN leaves no layer; an identical RUN runs again.
                        *l = LayerState::Absent;
                    }
                }
                if prog.profile.layer_chain_breaks_on_run() && !keys.is_empty() {
                    self.missed[t] = true;
                }
                if *unmount_fails && !prog.profile.unlocks_after_unmount_error() {
                    self.say(t, None, |_| {
                        "unmount fails: returns before unlocking".into()
                    });
                } else {
                    let mut kept = 0;
                    for (i, k) in keys.iter().enumerate() {
                        let state = &self.table.keys[*k as usize];
                        let stale = prog.profile.has(Quirk::StaleLockNeverReleased)
                            && state
                                .hold_of(holder(t, *run))
                                .is_some_and(|(_, h)| !prog.profile.releases_hold(&h, state));
                        if prog.profile.releases_at_run_end(i, keys.len(), sharing[i]) && !stale {
                            self.table.keys[*k as usize].release(holder(t, *run));
                        } else {
                            kept += 1;
                        }
                    }
                    self.say(t, None, |_| match kept {
                        0 => "RUN ends: mounts released".into(),
                        n => format!("RUN ends: {n} lock(s) of earlier mounts stay held"),
                    });
                }
            }
            Event::BuildEnd { build } => {
                self.bump(t);
                let (_, expect) = &prog.expects[*build as usize];
                let failed = self.failure[t].is_some();
                // Nobody asks whether the expectation held: with its oracle off and no history,
                // nothing is worked out (no failure text, no output text).
                let asked = self.oracles.has(Oracle::Expectation) || self.history.is_some();
                let ok = !asked
                    || check::expectations::holds(
                        expect,
                        failed,
                        |w| match self.failure[t] {
                            // The text of a missing read always says so; build it only otherwise.
                            Some(Failure::ReadMissing { .. })
                                if w == "No such file or directory" =>
                            {
                                true
                            }
                            Some(f) => self.failure_text(f).contains(w),
                            None => false,
                        },
                        |w| {
                            // `value_has` is filled exactly for one-line expectations.
                            let has = &prog.value_has[*build as usize];
                            if has.is_empty() && w.contains('\n') {
                                self.output_text(t).contains(w)
                            } else {
                                self.output[t].iter().any(|v| match has.get(*v as usize) {
                                    Some(h) => *h,
                                    None => self.value_text(*v).contains(w),
                                })
                            }
                        },
                    );
                let recording = self.history.is_some();
                let (failure, output) = if !ok || recording {
                    (
                        self.failure[t].map(|f| self.failure_text(f)),
                        self.output_text(t),
                    )
                } else {
                    (None, String::new())
                };
                let complaint = (!ok)
                    .then(|| check::expectations::check(expect, failure.as_deref(), &output))
                    .flatten();
                if let Some(complaint) = complaint {
                    self.violate(Oracle::Expectation, t, None, |m| {
                        format!("{}: {complaint}", m.prog.tests[t].name)
                    });
                }
                if prog.world.build_process_exits() {
                    for k in &mut self.table.keys {
                        k.release_owner(t as u32);
                    }
                }
                self.say(t, None, |_| match &failure {
                    Some(f) => format!("build ends: failed ({f})"),
                    None => format!("build ends: ok, output {:?}", output.trim_end()),
                });
                if let Some(last) = self.history.as_mut().and_then(|h| h.last_mut()) {
                    last.build = Some(BuildOutcome { failure, output });
                }
                self.failure[t] = None;
                self.output[t].clear();
                self.missed[t] = false;
            }
            Event::NoCache { prune, .. } => {
                self.bump(t);
                for &k in prune {
                    self.table.keys[k as usize].drop_index();
                }
                for k in &mut self.table.keys {
                    k.split_held();
                }
                self.say(t, None, |_| {
                    format!(
                        "--no-cache build: {} cache(s) dropped, held shared caches no longer joined",
                        prune.len()
                    )
                });
            }
            Event::Layer { run, layer, .. } => {
                let l = *layer as usize;
                if matches!(self.layers[l], LayerState::Running(u) if u != t as u32) {
                    return false;
                }
                self.bump(t);
                if self.failure[t].is_some() {
                    return true;
                }
                match self.layers[l] {
                    LayerState::Cached(u) if !self.missed[t] => {
                        self.skip[t] = *run;
                        self.say(t, None, |m| {
                            format!(
                                "RUN cached: the layer {} made, so it does not run",
                                m.prog.tests[u as usize].name
                            )
                        });
                    }
                    _ => {
                        if prog.profile.merges_concurrent_runs() {
                            self.layers[l] = LayerState::Running(t as u32);
                        }
                        self.say(t, None, |m| {
                            format!(
                                "RUN runs: no cached layer{}",
                                if m.missed[t] {
                                    " (this build ran an earlier RUN itself)"
                                } else {
                                    ""
                                }
                            )
                        });
                    }
                }
            }
            Event::Prune {
                keys,
                parent,
                removal,
            } => {
                if keys.iter().any(|k| {
                    prog.profile.prune_effect(&self.table.keys[*k as usize]) == PruneEffect::Wait
                }) {
                    return false;
                }
                self.bump(t);
                if prog.profile.prune_drops_layers() {
                    self.layers.iter_mut().for_each(|l| *l = LayerState::Absent);
                }
                if *removal != NO_REMOVAL {
                    // Buildah: `rm -rf` of the parent, whatever lies below it.
                    self.remove(&prog.removals[*removal as usize]);
                } else {
                    for k in keys {
                        let k = *k as usize;
                        let effect = prog.profile.prune_effect(&self.table.keys[k]);
                        let nf = self.nfiles();
                        let state = &mut self.table.keys[k];
                        for i in 0..state.instance_count() {
                            if effect == PruneEffect::RemoveAll || state.is_free(i) {
                                self.cells[k][i * nf..(i + 1) * nf].fill(EMPTY);
                            }
                        }
                        if effect == PruneEffect::RemoveAll {
                            state.lock_gen += 1;
                        }
                    }
                }
                self.say(t, None, |_| {
                    format!(
                        "prune {parent}: {} cache(s) of this suite there",
                        keys.len()
                    )
                });
            }
            Event::Teardown { keys, removal } => {
                self.bump(t);
                // A teardown never reaches BuildKit's daemon (no keys, no removal there).
                if *removal != NO_REMOVAL {
                    self.remove(&prog.removals[*removal as usize]);
                }
                self.say(t, None, |_| {
                    format!("teardown: rm -rf scratch ({} cache(s) there)", keys.len())
                });
            }
            Event::Join { waits, gather } => {
                if !self.joined(waits) {
                    return false;
                }
                self.bump(t);
                // A stage waited for that failed fails the build (BuildKit stops it); its
                // output is part of the build's.
                for &(u, _) in waits {
                    let u = u as usize;
                    if self.failure[t].is_none() {
                        self.failure[t] = self.failure[u];
                    }
                    if *gather {
                        let out = std::mem::take(&mut self.output[u]);
                        self.output[t].extend(out);
                    }
                }
                self.say(t, None, |m| {
                    let names: Vec<&str> = waits
                        .iter()
                        .map(|&(u, _)| m.prog.tests[u as usize].name.as_str())
                        .collect();
                    if *gather {
                        format!("the build's stages are done: {}", names.join(", "))
                    } else {
                        format!("waits for {}", names.join(", "))
                    }
                });
            }
        }
        true
    }

    /// Whether every thread a join waits for has taken its events.
    fn joined(&self, waits: &[(u32, u32)]) -> bool {
        waits.iter().all(|&(u, n)| self.pc[u as usize] >= n)
    }

    /// What test `t`'s next event would read and write of the shared state if it ran now (it
    /// may be blocked): the footprint the exhaustive search's dependency relation compares
    /// ([`super::footprint`] says which footprints conflict). It follows [`Machine::apply`]
    /// case by case; an event that only touches its own test's state (after its build failed,
    /// a read of a removed dir) has an empty footprint. An event a join waits for also writes
    /// that point of its thread ([`Res::Signal`]).
    pub fn footprint(&self, t: usize) -> Footprint {
        let pc = self.pc[t] as usize;
        let mut f = self.effect_footprint(t);
        if self.prog.tests[t].signals.get(pc).is_some_and(|&s| s != 0) {
            f.push(
                Res::Signal {
                    thread: t as u32,
                    events: pc as u32 + 1,
                },
                Mode::Write,
            );
        }
        f
    }

    /// The footprint of test `t`'s next event on the caches, holds and layers.
    fn effect_footprint(&self, t: usize) -> Footprint {
        let mut f = Footprint::default();
        let prog = self.prog;
        let Some(ev) = prog.tests[t].events.get(self.pc[t] as usize) else {
            return f;
        };
        match ev {
            Event::Acquire {
                key, sharing, run, ..
            } => {
                if self.failure[t].is_some() || self.skip[t] == *run {
                    return f;
                }
                let k = *key;
                let state = &self.table.keys[k as usize];
                f.push(Res::Gen { key: k }, Mode::Read);
                match sharing {
                    Sharing::Shared => {
                        // Buildah mounts its one dir; BuildKit joins or picks an instance by
                        // the holds, which with at most one instance and no locked or private
                        // holder is always instance 0.
                        // (Not after a `--no-cache` build: which instances a search finds and
                        // which it may join then change as holders come and go.)
                        let simple = prog.profile.engine != crate::engine::Engine::BuildKit
                            || (state.instance_count() <= 1
                                && !state.has_flags()
                                && state.holds().all(|(_, h)| h.sharing == Sharing::Shared));
                        f.push(Res::Excl { key: k }, Mode::Read);
                        f.push(
                            Res::Shared { key: k },
                            if simple { Mode::Add } else { Mode::Write },
                        );
                    }
                    Sharing::Locked | Sharing::Private => {
                        f.push(Res::Shared { key: k }, Mode::Read);
                        f.push(Res::Excl { key: k }, Mode::Write);
                    }
                }
            }
            Event::Op {
                run,
                key,
                op,
                file,
                store,
                cell,
                readonly,
                removal,
                ..
            } => {
                if self.failure[t].is_some() || self.skip[t] == *run {
                    return f;
                }
                let k = *key as usize;
                let Some((inst, hold)) = self.table.keys[k].hold_of(holder(t, *run)) else {
                    return f;
                };
                f.push(Res::Gen { key: *key }, Mode::Read);
                if hold.dir_gen != self.table.keys[k].dir_gen {
                    return f; // the dir is gone: nothing shared is read or written
                }
                let (sk, cell, removal) = if inst == 0 {
                    (*store, *cell, *removal)
                } else {
                    (*key, *file, NO_REMOVAL)
                };
                let one = Res::Cell {
                    key: sk,
                    inst: inst as u32,
                    cell,
                };
                match op {
                    OpKind::Write | OpKind::Append if !*readonly => f.push(one, Mode::Write),
                    OpKind::Write | OpKind::Append => {}
                    OpKind::Read | OpKind::Stat { .. } => {
                        f.push(one, Mode::Read);
                        for &m in &prog.markers_over[cell as usize] {
                            f.push(
                                Res::Cell {
                                    key: sk,
                                    inst: inst as u32,
                                    cell: m,
                                },
                                Mode::Read,
                            );
                        }
                    }
                    OpKind::Touch => f.push(one, if *readonly { Mode::Read } else { Mode::Write }),
                    OpKind::Opaque { writes } => {
                        f.push(
                            Res::Instance {
                                key: sk,
                                inst: inst as u32,
                            },
                            if *writes && !*readonly {
                                Mode::Write
                            } else {
                                Mode::Read
                            },
                        );
                        // A contending tool looks at who else holds the instance.
                        if prog.tests[t]
                            .contending
                            .iter()
                            .any(|&(r, k, _)| r == *run && k == *key)
                        {
                            // Whether the other holder still takes mounts of any key.
                            for k2 in 0..prog.keys.len() as u32 {
                                f.push(Res::Shared { key: k2 }, Mode::Read);
                                f.push(Res::Excl { key: k2 }, Mode::Read);
                            }
                        }
                    }
                    OpKind::Remove => f.push(one, if *readonly { Mode::Read } else { Mode::Write }),
                    OpKind::Wipe if removal == NO_REMOVAL => f.push(
                        Res::Instance {
                            key: sk,
                            inst: inst as u32,
                        },
                        Mode::Write,
                    ),
                    OpKind::Wipe => removal_footprint(&mut f, &prog.removals[removal as usize]),
                }
            }
            Event::Release {
                run,
                keys,
                sharing,
                unmount_fails,
                layer,
            } => {
                if self.skip[t] == *run {
                    return f;
                }
                if *layer != NO_LAYER {
                    f.push(Res::Layer { id: *layer }, Mode::Write);
                }
                if *unmount_fails && !prog.profile.unlocks_after_unmount_error() {
                    return f;
                }
                for (i, k) in keys.iter().enumerate() {
                    // Whether a locked hold is kept reads the key's lock generation (1.28 only).
                    if sharing[i] == Sharing::Locked
                        && prog.profile.has(Quirk::StaleLockNeverReleased)
                    {
                        f.push(Res::Gen { key: *k }, Mode::Read);
                    }
                    if prog.profile.releases_at_run_end(i, keys.len(), sharing[i]) {
                        let held = self.table.keys[*k as usize]
                            .holds()
                            .filter(|(_, h)| h.holder == holder(t, *run));
                        for (_, h) in held {
                            hold_footprint(&mut f, *k, h.sharing);
                        }
                    }
                }
            }
            Event::BuildEnd { .. } => {
                if prog.world.build_process_exits() {
                    for (k, state) in self.table.keys.iter().enumerate() {
                        for (_, h) in state.holds().filter(|(_, h)| h.holder.owner == t as u32) {
                            hold_footprint(&mut f, k as u32, h.sharing);
                        }
                    }
                }
            }
            Event::Prune { keys, removal, .. } => {
                if prog.profile.prune_drops_layers() {
                    for id in 0..prog.layers.len() as u32 {
                        f.push(Res::Layer { id }, Mode::Write);
                    }
                }
                for &k in keys {
                    // Whether it waits, and what it removes, depend on the locked holds.
                    f.push(Res::Excl { key: k }, Mode::Read);
                }
                if *removal != NO_REMOVAL {
                    removal_footprint(&mut f, &prog.removals[*removal as usize]);
                } else {
                    for &k in keys {
                        f.push(Res::Shared { key: k }, Mode::Read);
                        f.push(Res::Files { key: k }, Mode::Write);
                        if prog.profile.prune_effect(&self.table.keys[k as usize])
                            == PruneEffect::RemoveAll
                        {
                            f.push(Res::Gen { key: k }, Mode::Write);
                        }
                    }
                }
            }
            Event::Teardown { removal, .. } => {
                if *removal != NO_REMOVAL {
                    removal_footprint(&mut f, &prog.removals[*removal as usize]);
                }
            }
            Event::Join { waits, .. } => {
                for &(thread, events) in waits {
                    f.push(Res::Signal { thread, events }, Mode::Read);
                }
            }
            Event::NoCache { keys, .. } => {
                // It changes which instance every key's next mount gets.
                for &k in keys {
                    f.push(Res::Shared { key: k }, Mode::Write);
                    f.push(Res::Excl { key: k }, Mode::Write);
                }
            }
            Event::Layer { layer, .. } => {
                if self.failure[t].is_some() {
                    return f;
                }
                // A cached layer stays cached: a look. Claiming the execution (BuildKit) writes.
                let cached = matches!(self.layers[*layer as usize], LayerState::Cached(_));
                let looks = cached || !prog.profile.merges_concurrent_runs();
                // A Buildah build that ran a RUN itself does not look (its chain is new).
                if !self.missed[t] || prog.profile.merges_concurrent_runs() {
                    f.push(
                        Res::Layer { id: *layer },
                        if looks { Mode::Read } else { Mode::Write },
                    );
                }
            }
        }
        f
    }

    /// Applies an `rm -rf` worked out at compile time (Buildah: one instance per key).
    fn remove(&mut self, r: &super::program::Removal) {
        for &(s, c) in &r.cells {
            if let Some(cell) = self.cells[s as usize].get_mut(c as usize) {
                *cell = EMPTY;
            }
        }
        let nf = self.nfiles();
        for &k in &r.dirs {
            self.table.keys[k as usize].dir_gen += 1;
            // Further instances (pool dirs beside the removed dir) go with it.
            if let Some(extra) = self.cells[k as usize].get_mut(nf..) {
                extra.fill(EMPTY);
            }
        }
        for &k in &r.locks {
            self.table.keys[k as usize].lock_gen += 1;
        }
    }

    /// A file that a wipe would remove, if any is there (for the read-only failure).
    fn first_file(&self, store: usize, inst: usize, dir: u32, removal: u32) -> Option<u32> {
        let nf = self.nfiles();
        let cells = &self.cells[store];
        if removal == NO_REMOVAL {
            let dir = &self.prog.files[dir as usize];
            return (0..nf)
                .find(|&f| {
                    below_or_at(&self.prog.files[f], dir)
                        && cells.get(inst * nf + f).is_some_and(|c| c.value != ABSENT)
                })
                .map(|f| f as u32);
        }
        self.prog.removals[removal as usize]
            .cells
            .iter()
            .find(|&&(s, c)| s as usize == store && cells[c as usize].value != ABSENT)
            .map(|&(_, c)| c)
    }

    fn output_text(&self, t: usize) -> String {
        self.output[t]
            .iter()
            .map(|v| format!("{}\n", self.value_text(*v)))
            .collect()
    }

    fn failure_text(&self, f: Failure) -> String {
        match f {
            Failure::ReadMissing { key, file } => format!(
                "cat: can't open '{}/{}': No such file or directory",
                self.prog.keys[key as usize].target.trim_end_matches('/'),
                self.prog.files[file as usize]
            ),
            Failure::Rejected => "unrecognized value \"private\" for field sharing".into(),
            Failure::ReadOnly { key, file, create } => {
                let p = format!(
                    "{}/{}",
                    self.prog.keys[key as usize].target.trim_end_matches('/'),
                    self.prog.files[file as usize]
                );
                if create {
                    format!("sh: can't create {p}: Read-only file system")
                } else {
                    format!("rm: can't remove '{p}': Read-only file system")
                }
            }
            Failure::DeletedDir { key, file } => format!(
                "sh: can't create {}/{}: nonexistent directory",
                self.prog.keys[key as usize].target.trim_end_matches('/'),
                self.prog.files[file as usize]
            ),
        }
    }

    /// When nothing can move but some test is unfinished: records a deadlock and returns true.
    pub fn check_deadlock(&mut self) -> bool {
        if self.finished() {
            return false;
        }
        let unfinished: Vec<usize> = (0..self.pc.len()).filter(|&t| !self.done(t)).collect();
        if unfinished.iter().any(|&t| self.enabled(t)) {
            return false;
        }
        let waits: Vec<(usize, Vec<usize>)> = unfinished
            .iter()
            .map(|&t| {
                let mut on: Vec<usize> = match &self.prog.tests[t].events[self.pc[t] as usize] {
                    Event::Acquire { key, .. } => self
                        .prog
                        .profile
                        .blockers(&self.table.keys[*key as usize])
                        .into_iter()
                        .map(|h| h.owner as usize)
                        .collect(),
                    Event::Layer { layer, .. } => match self.layers[*layer as usize] {
                        LayerState::Running(u) => vec![u as usize],
                        _ => Vec::new(),
                    },
                    Event::Prune { keys, .. } => keys
                        .iter()
                        .flat_map(|k| {
                            self.table.keys[*k as usize]
                                .holds()
                                .map(|(_, h)| h.holder.owner as usize)
                        })
                        .collect(),
                    // A stage's join waits for the stages it needs to end.
                    Event::Join { waits, .. } => waits
                        .iter()
                        .filter(|&&(u, n)| self.pc[u as usize] < n)
                        .map(|&(u, _)| u as usize)
                        .collect(),
                    _ => Vec::new(),
                };
                on.sort_unstable();
                on.dedup();
                (t, on)
            })
            .collect();
        let names: Vec<String> = self.prog.tests.iter().map(|t| t.name.clone()).collect();
        let t0 = unfinished[0];
        self.violate(Oracle::Deadlock, t0, None, |_| {
            check::deadlock::describe(&names, &waits)
        });
        true
    }

    /// A 64-bit digest of the canonical state (see [`Machine::canonical`]), for counting
    /// distinct states: the same state reached by different orders digests the same.
    pub fn digest(&self) -> u64 {
        let mut h = Fx(0);
        self.describe(&mut h, false);
        h.finish()
    }

    /// The state in words, canonically: program counters; per key its lock generation, every
    /// hold (sorted) and every file's content as text with its writers; per test its pending
    /// failure and its output so far as text. Two orders that reach the same state give the
    /// same text (value ids, which depend on the order of appends, never appear).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.describe(&mut Words(&mut out), false);
        out
    }

    /// The whole state as bytes, exactly, for a stateful search ([`super::states`]): two
    /// machines with equal keys behave alike from here on under every schedule, oracles included.
    /// It is [`Machine::canonical`]'s content, made exact: every token tagged and every list
    /// counted, values of the program by their id (the in-flight value and an empty file
    /// differ) and appended ones by their text, and, with its oracle on, each test's last look
    /// at a file (the lost-update oracle's memory). Left out: what is derived from the rest
    /// (who can move), counters (steps) and reports (the history).
    pub fn state_key(&self, out: &mut Vec<u8>) {
        out.clear();
        self.describe(&mut Exact(out), true);
    }

    /// Feeds the state to `h`; `exact` adds what [`Machine::state_key`] needs beyond the
    /// canonical text.
    fn describe(&self, h: &mut impl Hasher, exact: bool) {
        for p in &self.pc {
            h.write_u32(*p);
        }
        h.write_u8(b'|');
        let nf = self.nfiles();
        for (k, state) in self.table.keys.iter().enumerate() {
            h.write_u32(state.lock_gen);
            h.write_u32(state.dir_gen);
            // Dropped instances, a separator, unjoinable ones: just the separator in the usual
            // case, with nothing allocated (digests run at every step when states are counted).
            if state.has_flags() {
                let (dropped, split) = state.flags();
                for i in dropped.iter().chain([&u32::MAX]).chain(&split) {
                    h.write_u32(*i);
                }
            } else {
                h.write_u32(u32::MAX);
            }
            if exact {
                h.write_usize(state.instance_count());
            }
            for inst in 0..state.instance_count() {
                let mut holds: Vec<_> = state
                    .instance_holds(inst)
                    .map(|x| (x.holder, x.sharing as u8, x.lock_gen, x.dir_gen))
                    .collect();
                // Sorted: the order of one instance's holds only picks which holder a message
                // names (a holder holds an instance once; every decision asks whether some hold
                // qualifies, or looks one up by its holder).
                holds.sort_unstable();
                h.write_usize(holds.len());
                for (hd, s, g, d) in holds {
                    h.write_u32(hd.owner);
                    h.write_u32(hd.run);
                    h.write_u8(s);
                    h.write_u32(g);
                    h.write_u32(d);
                }
            }
            if exact {
                h.write_usize(self.cells[k].iter().filter(|c| c.value != ABSENT).count());
            }
            for (i, c) in self.cells[k].iter().enumerate() {
                if c.value == ABSENT {
                    continue;
                }
                h.write_usize(i / nf);
                text(h, &self.prog.files[i % nf]);
                self.describe_cell(h, *c, exact);
            }
            h.write_u8(b'|');
        }
        for l in &self.layers {
            match l {
                LayerState::Absent => h.write_u8(0),
                LayerState::Running(u) => {
                    h.write_u8(1);
                    h.write_u32(*u);
                }
                LayerState::Cached(u) => {
                    h.write_u8(2);
                    h.write_u32(*u);
                }
            }
        }
        h.write_u8(b'|');
        for t in 0..self.pc.len() {
            h.write_u32(self.skip[t]);
            h.write_u8(self.missed[t] as u8);
            match self.failure[t] {
                Some(f) => text(h, &self.failure_text(f)),
                None => h.write_u8(0),
            }
            for v in &self.output[t] {
                self.describe_value(h, *v, exact);
                h.write_u8(b'\n');
            }
            h.write_u8(b'|');
            // The lost-update oracle's memory, read by nothing else.
            if exact && self.oracles.has(Oracle::LostUpdate) {
                match self.seen[t] {
                    None => h.write_u8(0),
                    Some((store, idx, cell)) => {
                        h.write_u8(1);
                        h.write_u32(store);
                        h.write_u32(idx);
                        if cell.value == ABSENT {
                            h.write_u8(0);
                        } else {
                            h.write_u8(1);
                            self.describe_cell(h, cell, exact);
                        }
                    }
                }
            }
        }
    }

    /// A present file's content and its writers, ended by `;`.
    fn describe_cell(&self, h: &mut impl Hasher, c: Cell, exact: bool) {
        self.describe_value(h, c.value, exact);
        for w in self.writer_sets.members(c.writers) {
            h.write_usize(w);
        }
        h.write_u8(b';');
    }

    /// A value as text; exactly, a value of the program by its id (tagged 0) and an appended
    /// one by its text (tagged 1), so the in-flight value and an empty file stay apart.
    fn describe_value(&self, h: &mut impl Hasher, v: u32, exact: bool) {
        if !exact {
            return text(h, self.value_text(v));
        }
        if (v as usize) < self.prog.values.len() {
            h.write_u8(0);
            h.write_u32(v);
        } else {
            h.write_u8(1);
            text(h, self.value_text(v));
        }
    }
}

/// A release of a hold in mode `sharing` on key `k`.
fn hold_footprint(f: &mut Footprint, k: u32, sharing: Sharing) {
    match sharing {
        Sharing::Shared => f.push(Res::Shared { key: k }, Mode::Add),
        Sharing::Locked | Sharing::Private => f.push(Res::Excl { key: k }, Mode::Write),
    }
}

/// An `rm -rf` on a Buildah host: every file below it, and the generations of the dirs and
/// lock files it removes (a removed dir takes its further instances with it).
fn removal_footprint(f: &mut Footprint, r: &super::program::Removal) {
    for &(s, c) in &r.cells {
        f.push(
            Res::Cell {
                key: s,
                inst: 0,
                cell: c,
            },
            Mode::Write,
        );
    }
    for &k in &r.dirs {
        f.push(Res::Gen { key: k }, Mode::Write);
        f.push(Res::Files { key: k }, Mode::Write);
    }
    for &k in &r.locks {
        f.push(Res::Gen { key: k }, Mode::Write);
    }
}

/// Feeds `s` with its length first, so consecutive texts cannot run into each other.
fn text(h: &mut impl Hasher, s: &str) {
    h.write_usize(s.len());
    h.write(s.as_bytes());
}

/// A [`Hasher`] that writes what it is fed as text, for [`Machine::canonical`].
struct Words<'a>(&'a mut String);

impl Hasher for Words<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0
            .push_str(&format!("{:?} ", String::from_utf8_lossy(bytes)));
    }
    fn write_u8(&mut self, i: u8) {
        self.0.push_str(&format!("{i} "));
    }
    fn write_u32(&mut self, i: u32) {
        self.0.push_str(&format!("{i} "));
    }
    fn write_usize(&mut self, i: usize) {
        self.0.push_str(&format!("{i} "));
    }
}

/// The shell word of an operation, for histories.
fn op_name(op: OpKind) -> &'static str {
    match op {
        OpKind::Write => "write",
        OpKind::Append => "append",
        OpKind::Read => "read",
        OpKind::Remove => "rm -f",
        OpKind::Wipe => "rm -rf",
        OpKind::Touch => "touch",
        OpKind::Stat { .. } => "stat",
        OpKind::Opaque { .. } => "opaque command",
    }
}

/// A [`Hasher`] that appends what it is fed to a byte string that can be read back: every
/// token tagged by its kind, integers in LEB128, byte strings with their length.
struct Exact<'a>(&'a mut Vec<u8>);

impl Exact<'_> {
    fn int(&mut self, tag: u8, mut i: u64) {
        self.0.push(tag);
        loop {
            let b = (i & 0x7f) as u8;
            i >>= 7;
            if i == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }
}

impl Hasher for Exact<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.int(4, bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.0.extend_from_slice(&[1, i]);
    }
    fn write_u32(&mut self, i: u32) {
        self.int(2, i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.int(3, i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.int(5, i);
    }
}

/// The Fx hash (as in rustc): fast, good enough for state digests.
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// Whether the relative path `p` is `dir` or lies below it (`""` holds everything).
fn below_or_at(p: &str, dir: &str) -> bool {
    dir.is_empty() || p == dir || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}
