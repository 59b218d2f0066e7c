//! A suite compiled for one engine profile and world: every test a flat list of atomic events
//! over interned cache keys, files and values, so the executor touches no strings.

use std::collections::HashMap;

use crate::check::{Violation, containment};
use crate::engine::path::is_within;
use crate::engine::{Location, Profile, Quirk};
use crate::mount::Sharing;
use crate::scenario::{CacheOp, Expect, Step, Suite};
use crate::world::World;

use super::disk;

/// One atomic step of a test. (`repr(u8)`: a plain tag, so dispatching on an event is one
/// byte load and a jump, not a decode of a niche in its fields.)
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Event {
    /// Take one mount of a RUN (mounts are taken in the engine's lock order).
    Acquire {
        /// RUN number within the test (the holder's `run`).
        run: u32,
        /// Interned key.
        key: u32,
        /// Requested mode.
        sharing: Sharing,
    },
    /// One cache operation of a RUN.
    Op {
        /// RUN number within the test.
        run: u32,
        /// Interned key of the mount it acts on.
        key: u32,
        /// What it does.
        op: OpKind,
        /// Interned file (per program).
        file: u32,
        /// Interned value written or appended (0 for none).
        value: u32,
        /// The key whose cells hold the file: on Buildah the outermost cache dir that contains
        /// it (`target=/a` and `target=/a/b` are one tree on disk); else `key`.
        store: u32,
        /// The file's interned path relative to `store`'s dir (equal to `file` unless nested).
        cell: u32,
        /// The mount is read-only (`ro`): writes, appends and removals fail.
        readonly: bool,
        /// For a wipe on Buildah: index into [`Program::removals`] (what `rm -rf dir/*` removes
        /// on disk); `NO_REMOVAL` otherwise.
        removal: u32,
    },
    /// Start of a RUN that another build may already have run (an identical layer, see
    /// [`Program::layers`]): reuse its layer and skip the RUN, wait for a merged execution, or
    /// run it.
    Layer {
        /// RUN number within the test.
        run: u32,
        /// Index into [`Program::layers`].
        layer: u32,
        /// Every key a RUN of this layer mounts, in any test (so the per-key masks see that
        /// the tests building it meet here).
        keys: Vec<u32>,
    },
    /// Start of a `--no-cache` build on an engine where that drops caches (BuildKit): no later
    /// search finds the instances of `prune`, and no later shared mount joins an instance held
    /// now ([`Profile::no_cache_drops`]).
    NoCache {
        /// The keys the build's RUNs name by id alone.
        prune: Vec<u32>,
        /// Every key of the program (it changes how each is joined).
        keys: Vec<u32>,
    },
    /// End of a RUN: release its mounts (unless the unmount fails and the engine skips unlock).
    Release {
        /// RUN number within the test.
        run: u32,
        /// Its keys, in flag order.
        keys: Vec<u32>,
        /// The sharing mode of each key's mount.
        sharing: Vec<Sharing>,
        /// Injected unmount failure.
        unmount_fails: bool,
        /// The RUN's layer when other builds share it ([`NO_LAYER`] otherwise): a RUN that ran
        /// and succeeded makes it cached.
        layer: u32,
    },
    /// End of a build: check its expectation; a local build's process exits.
    BuildEnd {
        /// Index into [`Program::expects`].
        build: u32,
    },
    /// `buildah prune`: these keys lie under the prune's cache parent.
    Prune {
        /// Interned keys affected.
        keys: Vec<u32>,
        /// The parent the prune empties (for reports).
        parent: String,
        /// On Buildah: index into [`Program::removals`]; `NO_REMOVAL` otherwise.
        removal: u32,
    },
    /// `rm -rf` of the scratch dir: these keys lie below it.
    Teardown {
        /// Interned keys affected.
        keys: Vec<u32>,
        /// On Buildah: index into [`Program::removals`]; `NO_REMOVAL` otherwise.
        removal: u32,
    },
    /// A wait between the threads of one build whose stages run at once: it moves once each
    /// listed thread has taken that many events (the start of the build, or a stage's end).
    /// It takes on a failure of the stages it waits for (their build failed); with `gather`
    /// (the build's end) also their output.
    Join {
        /// (thread, events it must have taken).
        waits: Vec<(u32, u32)>,
        /// Collect the output of the threads waited for.
        gather: bool,
    },
}

/// In a [`Event::Join`] being compiled: the thread's every event (patched to its length).
const ALL_EVENTS: u32 = u32::MAX;

/// No entry in [`Program::removals`].
pub const NO_REMOVAL: u32 = u32::MAX;

/// No entry in [`Program::layers`].
pub const NO_LAYER: u32 = u32::MAX;

/// What an `rm -rf` removes on a Buildah host, worked out from paths at compile time: the files
/// (cells) below it, the cache dirs below it (their mounts then point at deleted dirs), and the
/// lock files below it (a later locker locks a new file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removal {
    /// (store key, cell) of every known file below the removed path.
    pub cells: Vec<(u32, u32)>,
    /// Keys whose cache dir itself is removed.
    pub dirs: Vec<u32>,
    /// Keys whose lock file is removed.
    pub locks: Vec<u32>,
}

impl Event {
    /// The interned keys the event names (a build's end names none itself).
    pub fn keys(&self) -> &[u32] {
        match self {
            Event::Acquire { key, .. } | Event::Op { key, .. } => std::slice::from_ref(key),
            Event::Release { keys, .. }
            | Event::Layer { keys, .. }
            | Event::NoCache { keys, .. }
            | Event::Prune { keys, .. }
            | Event::Teardown { keys, .. } => keys,
            Event::BuildEnd { .. } | Event::Join { .. } => &[],
        }
    }

    /// Whether taking this event can change whether another thread's next event has to wait
    /// (see [`crate::explore::Machine::enabled`]: a wait reads the holder table, its lock and
    /// dir generations, the layers and the threads a join waits for). A file operation changes
    /// none of them, unless it is an `rm -rf` that removes a cache dir or a lock file
    /// (`removals`: the program's); the threads its event signals are counted apart.
    pub fn may_unblock(&self, removals: &[Removal]) -> bool {
        match self {
            Event::Op { removal, .. } => removals
                .get(*removal as usize)
                .is_some_and(|r| !r.dirs.is_empty() || !r.locks.is_empty()),
            _ => true,
        }
    }

    /// Whether the event does anything to a cache that another test could see: an operation,
    /// a locked or private mount (they coordinate), or a prune or teardown that removes one.
    pub fn acts_on_cache(&self) -> bool {
        match self {
            Event::Op { .. } => true,
            Event::Acquire { sharing, .. } => *sharing != Sharing::Shared,
            Event::Prune { keys, .. } | Event::Teardown { keys, .. } => !keys.is_empty(),
            Event::NoCache { .. } => true,
            Event::Release { .. }
            | Event::BuildEnd { .. }
            | Event::Layer { .. }
            | Event::Join { .. } => false,
        }
    }
}

/// The kind of a cache operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Replace the file.
    Write,
    /// Append to the file.
    Append,
    /// Print the file (fails the RUN if absent).
    Read,
    /// Remove the file.
    Remove,
    /// Remove everything below `file` (the mount's subdirectory for `rm -rf T/*`, a directory
    /// below it for `rm -rf T/d`).
    Wipe,
    /// Create the file empty if it is absent (`touch`, `mkdir -p`).
    Touch,
    /// Look whether the file is there; absent fails the RUN when `must_exist`.
    Stat {
        /// Absent fails the RUN.
        must_exist: bool,
    },
    /// May read every file below `file` (the mount's subdirectory) and, with `writes`, change
    /// them: the conservative model of a command mountfuzz cannot represent precisely. The
    /// value is the command's name. A writing one is followed by an append to its marker file
    /// (what it may have created), so two of them see each other.
    Opaque {
        /// It may write.
        writes: bool,
    },
}

/// The marker file below a mount that an opaque command's possible creations stand for.
pub const OPAQUE_MARKER: &str = "(files an opaque command may create)";

/// A compiled test: one thread of the search. A build whose stages run at once
/// ([`crate::scenario::Build::stages`], on an engine that runs them so) puts each stage's RUNs
/// on a thread of its own, after every test's main thread, joined at the build's end.
#[derive(Clone, Debug)]
pub struct TestProgram {
    /// The test's name (`test [stage s]` for a stage's thread).
    pub name: String,
    /// The index of its test's main thread (its own index for a main thread): the isolation
    /// oracle takes the threads of one test for one test.
    pub owner: u32,
    /// Per event: the threads whose [`Event::Join`] waits for this test to have taken it (bit
    /// `u` for thread `u`; all bits past 64 threads).
    pub signals: Vec<u64>,
    /// Its events, in order.
    pub events: Vec<Event>,
    /// Key bit set of each event (bit `k` for key `k`; all bits when keys exceed 64).
    pub event_keys: Vec<u64>,
    /// Union of `event_keys[i..]`, with one extra entry (0) at the end.
    pub future_keys: Vec<u64>,
    /// The build (index into [`Program::expects`]) each event belongs to, or `u32::MAX`.
    pub event_build: Vec<u32>,
    /// Per event: the tests whose ability to move it can change (this test, the threads it
    /// signals, and, unless it is a file operation that cannot unblock anyone
    /// ([`Event::may_unblock`]), every test that ever touches one of its keys); all bits when
    /// tests or keys exceed 64.
    pub event_tests: Vec<u64>,
    /// Per event, plus one entry (0) at the end: how many events from it on are safe steps
    /// (touch no key another test ever touches; all keys count when keys exceed 64).
    pub safe_run: Vec<u32>,
    /// Per event, plus one entry (false) at the end: whether it can have to wait (a mount the
    /// engine may make wait ([`Profile::may_wait`]), a prune, a layer another build is making,
    /// a join). Another test's move can change whether this test can move only when its next
    /// event is one of these.
    pub may_wait: Vec<bool>,
    /// (RUN, key, tool) of each profiled command that fails or corrupts under contention
    /// ([`crate::tools::Contention`]): a second such RUN holding the same instance meets it.
    pub contending: Vec<(u32, u32, &'static str)>,
}

impl TestProgram {
    /// Fills `safe_run` for a test whose fellow tests touch the keys `others`.
    fn count_safe_runs(&mut self, others: u64) {
        let mut run = vec![0u32; self.events.len() + 1];
        for i in (0..self.events.len()).rev() {
            // A join waits for other threads, and a signal lets one move: neither is safe.
            let sync = self.signals[i] != 0 || matches!(self.events[i], Event::Join { .. });
            run[i] = if self.event_keys[i] & others == 0 && !sync {
                run[i + 1] + 1
            } else {
                0
            };
        }
        self.safe_run = run;
    }
}

/// An interned cache key.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// Where the engine puts it.
    pub loc: Location,
    /// The mount target it was first seen with (for reports).
    pub target: String,
    /// A `from=<stage>` cache: it starts with that stage's files, which the model does not
    /// know, so a file absent from the model may be there.
    pub seeded: bool,
}

/// A suite compiled against one profile and world.
#[derive(Clone, Debug)]
pub struct Program {
    /// The engine with its quirks.
    pub profile: Profile,
    /// Topology and remedy.
    pub world: World,
    /// Tests that run (skipped ones are absent, see `skipped`).
    pub tests: Vec<TestProgram>,
    /// Names of tests the world skips.
    pub skipped: Vec<String>,
    /// Interned keys.
    pub keys: Vec<KeyInfo>,
    /// Interned file names.
    pub files: Vec<String>,
    /// Interned values; index 0 is "no value".
    pub values: Vec<String>,
    /// Per build: its test and expectation.
    pub expects: Vec<(usize, Expect)>,
    /// Violations visible without running (a cache dir outside its parent).
    pub static_violations: Vec<Violation>,
    /// Why the engine cannot run this suite at all (e.g. `sharing=private` on Buildah).
    pub unsupported: Option<String>,
    /// Per build whose expectation is `OutputContains(w)` with a one-line `w`: for each
    /// interned value, whether it contains `w` (so a build's end checks no strings).
    pub value_has: Vec<Vec<bool>>,
    /// What each Buildah wipe, prune and teardown removes on disk.
    pub removals: Vec<Removal>,
    /// Per test, every key it touches, closed over keys whose dirs nest (any number of keys;
    /// the per-event masks above are exact only up to 64).
    pub test_keys: Vec<fixedbitset::FixedBitSet>,
    /// What the model represents only in part, named for the report (never dropped silently).
    pub notes: Vec<String>,
    /// Per file: the opaque markers ([`OPAQUE_MARKER`]) of the directories above it. An opaque
    /// command there may have created the file, so a read of it cannot be known to fail.
    pub markers_over: Vec<Vec<u32>>,
    /// The layers two or more builds would make alike, on an engine that reuses them
    /// ([`Profile::reuses_identical_runs`]): per layer, the first RUN that makes it, for reports.
    pub layers: Vec<String>,
    /// With [`World::torn_writes`]: the value a file holds between the open of a write
    /// (`O_TRUNC`: empty) and its bytes landing. Its text is empty, like value 0, but a read that
    /// finds it saw a write in flight.
    pub torn: Option<u32>,
}

/// A RUN of a suite: (test, step, RUN) indices.
type RunAt = (usize, usize, usize);

/// Per (test, step, RUN) of `suite`, the layer it makes when two or more builds would make
/// it alike on an engine that reuses layers, and per layer a name for reports. A RUN's layer
/// is its build's Dockerfile text with every RUN up to it (as the world maps its mounts, and
/// without what the engine leaves out of the key: [`Profile::layer_key_mount`]): the chain
/// BuildKit and Buildah key a cached layer by. Builds of different Dockerfiles whose first
/// instructions agree are taken as distinct.
fn shared_layers(
    suite: &Suite,
    profile: Profile,
    world: &World,
) -> (HashMap<RunAt, u32>, Vec<String>) {
    let mut of = HashMap::new();
    let mut names = Vec::new();
    if !(world.layer_cache && profile.reuses_identical_runs(world.topology)) {
        return (of, names);
    }
    let mut count: HashMap<String, usize> = HashMap::new();
    let mut chains = Vec::new();
    for (ti, t) in suite.tests.iter().enumerate() {
        if world.skipped(t) {
            continue;
        }
        for (si, step) in t.steps.iter().enumerate() {
            let Step::Build(b) = step else { continue };
            if b.no_cache {
                continue; // it reuses no layer (and the model lets no other build reuse its own)
            }
            let mut chain = b.source.clone().unwrap_or_default();
            for (ri, r) in b.runs.iter().enumerate() {
                let mounts: Vec<String> = r
                    .mounts
                    .iter()
                    .map(|m| {
                        profile
                            .layer_key_mount(&world.mount(&t.name, m))
                            .to_string()
                    })
                    .collect();
                chain.push_str(&format!(
                    "\n{mounts:?} {:?} {:?} {}",
                    r.workdir, r.ops, r.unmount_fails
                ));
                if !r.mounts.is_empty() {
                    *count.entry(chain.clone()).or_default() += 1;
                    chains.push(((ti, si, ri), chain.clone()));
                }
            }
        }
    }
    let mut ids: HashMap<String, u32> = HashMap::new();
    for ((ti, si, ri), chain) in chains {
        if count[&chain] < 2 {
            continue;
        }
        let id = *ids.entry(chain).or_insert_with(|| {
            names.push(format!(
                "RUN {} of step {} of test {:?}",
                ri + 1,
                si + 1,
                suite.tests[ti].name
            ));
            (names.len() - 1) as u32
        });
        of.insert((ti, si, ri), id);
    }
    (of, names)
}

/// (RUN, key, tool) of each profiled command among `events` that fails or corrupts under
/// contention.
fn contending_of(events: &[Event], values: &[String]) -> Vec<(u32, u32, &'static str)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Op {
                run,
                key,
                op: OpKind::Opaque { .. },
                value,
                ..
            } => crate::tools::of_what(&values[*value as usize])
                .filter(|t| t.contends())
                .map(|t| (*run, *key, t.name)),
            _ => None,
        })
        .collect()
}

/// Gives each [`Event::Join`] the length of the threads it waits for to end, and marks the
/// events that let a join move ([`TestProgram::signals`]).
fn link_joins(tests: &mut [TestProgram]) {
    let lens: Vec<u32> = tests.iter().map(|t| t.events.len() as u32).collect();
    let wide = tests.len() > 64;
    for t in tests.iter_mut() {
        t.signals = vec![0; t.events.len()];
    }
    let mut marks = Vec::new();
    for (u, t) in tests.iter_mut().enumerate() {
        for e in &mut t.events {
            if let Event::Join { waits, .. } = e {
                for (x, n) in waits.iter_mut() {
                    if *n == ALL_EVENTS {
                        *n = lens[*x as usize];
                    }
                    if *n > 0 {
                        marks.push((*x as usize, *n as usize - 1, u));
                    }
                }
            }
        }
    }
    for (x, at, u) in marks {
        tests[x].signals[at] |= if wide { u64::MAX } else { 1 << u };
    }
}

/// The id of `s` in `table`, adding it when new.
pub(crate) fn intern(table: &mut Vec<String>, map: &mut HashMap<String, u32>, s: &str) -> u32 {
    *map.entry(s.to_string()).or_insert_with(|| {
        table.push(s.to_string());
        (table.len() - 1) as u32
    })
}

/// A suite that cannot be compiled: a mount the engine refuses to place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The test.
    pub test: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "test {:?}: {}", self.test, self.problem)
    }
}

impl std::error::Error for CompileError {}

impl Program {
    /// Compiles `suite` for `profile` in `world`.
    pub fn compile(
        suite: &Suite,
        profile: Profile,
        world: &World,
    ) -> Result<Program, CompileError> {
        let mut keys: Vec<KeyInfo> = Vec::new();
        let mut key_ids: HashMap<String, u32> = HashMap::new();
        let (mut files, mut file_ids) = (Vec::new(), HashMap::new());
        let (mut values, mut value_ids) = (vec![String::new()], HashMap::new());
        value_ids.insert(String::new(), 0);
        // The in-flight value: empty text, never interned by its text.
        let torn = world.torn_writes.then(|| {
            values.push(String::new());
            (values.len() - 1) as u32
        });
        let mut expects = Vec::new();
        let mut static_violations = Vec::new();
        let mut notes = Vec::new();
        let mut unsupported = None;
        let mut tests = Vec::new();
        let mut skipped = Vec::new();
        // Prunes and teardowns name paths; their key sets are filled once every key is known.
        let mut pending_paths: Vec<(usize, usize, String)> = Vec::new();
        // RUNs that several builds would make alike, where the engine reuses layers.
        let (layer_of, layers) = shared_layers(suite, profile, world);
        let mut layer_keys: Vec<Vec<u32>> = vec![Vec::new(); layers.len()];
        let mut layer_events: Vec<(usize, usize, u32)> = Vec::new();

        // Threads of stages that run at once come after every test's main thread.
        let n_main = suite.tests.iter().filter(|t| !world.skipped(t)).count();
        let mut lane_progs: Vec<TestProgram> = Vec::new();
        for (sti, t) in suite.tests.iter().enumerate() {
            if world.skipped(t) {
                skipped.push(t.name.clone());
                continue;
            }
            let ti = tests.len();
            let mut events = Vec::new();
            let mut event_build = Vec::new();
            let mut run_no = 0u32;
            for (si, step) in t.steps.iter().enumerate() {
                match step {
                    Step::Build(b) => {
                        let build_no = expects.len() as u32;
                        let env = crate::engine::CacheEnv {
                            build: Some(format!("{}-build-{build_no}", t.name)),
                            ..world.build_env(&t.name, &b.env)
                        };
                        expects.push((ti, b.expect.clone()));
                        let no_cache_at =
                            (b.no_cache && profile.no_cache_splits_held()).then(|| {
                                events.push(Event::NoCache {
                                    prune: Vec::new(),
                                    keys: Vec::new(),
                                });
                                event_build.push(build_no);
                                events.len() - 1
                            });
                        let mut dropped = Vec::new();
                        // Stages that run at once: a thread each, which starts with the build
                        // (after what the test did before it) and waits for the stages its
                        // RUNs need.
                        let lanes = b
                            .stages
                            .as_ref()
                            .filter(|_| profile.runs_stages_at_once() && !world.stages_in_order);
                        let lane_base = n_main + lane_progs.len();
                        let start = events.len() as u32;
                        // Per stage: its events, their builds, the stages it waited for.
                        let mut lane_threads: Vec<(Vec<Event>, Vec<u32>, Vec<usize>)> = (0..lanes
                            .map_or(0, |st| st.names.len()))
                            .map(|_| match start {
                                0 => (Vec::new(), Vec::new(), Vec::new()),
                                _ => (
                                    vec![Event::Join {
                                        waits: vec![(ti as u32, start)],
                                        gather: false,
                                    }],
                                    vec![build_no],
                                    Vec::new(),
                                ),
                            })
                            .collect();
                        for (ri, r) in b.runs.iter().enumerate() {
                            let (events, event_build, thread) = match lanes {
                                Some(st) => {
                                    let l = st.lane[ri];
                                    let (ev, eb, waited) = &mut lane_threads[l];
                                    let new: Vec<(u32, u32)> = st.after[ri]
                                        .iter()
                                        .filter(|x| !waited.contains(x))
                                        .map(|&x| ((lane_base + x) as u32, ALL_EVENTS))
                                        .collect();
                                    waited.extend(&st.after[ri]);
                                    if !new.is_empty() {
                                        ev.push(Event::Join {
                                            waits: new,
                                            gather: false,
                                        });
                                        eb.push(build_no);
                                    }
                                    (ev, eb, lane_base + l)
                                }
                                None => (&mut events, &mut event_build, ti),
                            };
                            let mut run_keys = Vec::new();
                            // Per mount, the subdirectory of its cache it shows (`source=`).
                            let mut subpaths: Vec<String> = Vec::new();
                            let mut lock_paths = Vec::new();
                            for m in &r.mounts {
                                let m = world.mount(&t.name, m);
                                if m.sharing == Sharing::Private
                                    && profile.has(Quirk::PrivateRejected)
                                {
                                    unsupported.get_or_insert_with(|| {
                                        format!(
                                            "{} rejects sharing=private (podman#27188)",
                                            profile.engine
                                        )
                                    });
                                }
                                let loc = profile.locate(&m, &r.workdir, &env).map_err(|e| {
                                    CompileError {
                                        test: t.name.clone(),
                                        problem: format!("--mount={m}: {e}"),
                                    }
                                })?;
                                if let Some(from) = &m.from {
                                    let note = format!(
                                        "--mount={m} in test {:?}: the cache starts with the files of {from:?}, which the model does not know (reads of them come out absent); its sharing is modelled",
                                        t.name
                                    );
                                    if !notes.contains(&note) {
                                        notes.push(note);
                                    }
                                }
                                if m.from.is_none()
                                    && !loc.subpath.is_empty()
                                    && profile.source_dir_must_exist()
                                {
                                    let note = format!(
                                        "--mount={m} in test {:?}: {} fails the RUN when the cache has no subdirectory {:?}; the model does not track directories, so it mounts it whether or not it exists",
                                        t.name, profile.engine, loc.subpath
                                    );
                                    if !notes.contains(&note) {
                                        notes.push(note);
                                    }
                                }
                                if let Some(msg) = containment::check(&loc) {
                                    static_violations.push(Violation {
                                        oracle: crate::check::Oracle::PathContainment,
                                        test: ti,
                                        step: 0,
                                        key: None,
                                        run: Some(run_no),
                                        message: format!("test {:?}: {msg}", t.name),
                                    });
                                }
                                let id = match key_ids.get(&loc.dir) {
                                    Some(id) => {
                                        // A key seen first from a shared mount learns its lock
                                        // file from a later locked one.
                                        let known = &mut keys[*id as usize].loc.lock_file;
                                        if known.is_none() {
                                            known.clone_from(&loc.lock_file);
                                        }
                                        *id
                                    }
                                    None => {
                                        keys.push(KeyInfo {
                                            loc: loc.clone(),
                                            target: m.target.clone(),
                                            seeded: m.from.is_some(),
                                        });
                                        key_ids.insert(loc.dir.clone(), (keys.len() - 1) as u32);
                                        (keys.len() - 1) as u32
                                    }
                                };
                                lock_paths.push(loc.lock_file.clone().unwrap_or(loc.dir.clone()));
                                if b.no_cache
                                    && profile.no_cache_drops(&m)
                                    && !dropped.contains(&id)
                                {
                                    dropped.push(id);
                                }
                                run_keys.push((id, m.sharing));
                                subpaths.push(loc.subpath);
                            }
                            let layer = layer_of.get(&(sti, si, ri)).copied().unwrap_or(NO_LAYER);
                            if layer != NO_LAYER {
                                layer_keys[layer as usize].extend(run_keys.iter().map(|k| k.0));
                                layer_events.push((thread, events.len(), layer));
                                events.push(Event::Layer {
                                    run: run_no,
                                    layer,
                                    keys: Vec::new(),
                                });
                                event_build.push(build_no);
                            }
                            let refs: Vec<&str> = lock_paths.iter().map(String::as_str).collect();
                            for i in profile.lock_order(&refs) {
                                let (key, sharing) = run_keys[i];
                                events.push(Event::Acquire {
                                    run: run_no,
                                    key,
                                    sharing,
                                });
                                event_build.push(build_no);
                            }
                            for op in &r.ops {
                                let (mount, kind, file, data) = match op {
                                    CacheOp::Write { mount, file, data }
                                    | CacheOp::Replace { mount, file, data } => {
                                        (*mount, OpKind::Write, file.as_str(), data.as_str())
                                    }
                                    CacheOp::Append { mount, file, data } => {
                                        (*mount, OpKind::Append, file.as_str(), data.as_str())
                                    }
                                    CacheOp::Read { mount, file } => {
                                        (*mount, OpKind::Read, file.as_str(), "")
                                    }
                                    CacheOp::Remove { mount, file } => {
                                        (*mount, OpKind::Remove, file.as_str(), "")
                                    }
                                    CacheOp::Wipe { mount } => (*mount, OpKind::Wipe, "", ""),
                                    CacheOp::RemoveTree { mount, dir } => {
                                        (*mount, OpKind::Wipe, dir.as_str(), "")
                                    }
                                    CacheOp::Touch { mount, file } => {
                                        (*mount, OpKind::Touch, file.as_str(), "")
                                    }
                                    CacheOp::Stat {
                                        mount,
                                        file,
                                        must_exist,
                                    } => (
                                        *mount,
                                        OpKind::Stat {
                                            must_exist: *must_exist,
                                        },
                                        file.as_str(),
                                        "",
                                    ),
                                    CacheOp::Opaque {
                                        mount,
                                        dir,
                                        what,
                                        writes,
                                    } => (
                                        *mount,
                                        OpKind::Opaque { writes: *writes },
                                        dir.as_str(),
                                        what.as_str(),
                                    ),
                                };
                                let Some((key, _)) = run_keys.get(mount) else {
                                    return Err(CompileError {
                                        test: t.name.clone(),
                                        problem: format!(
                                            "an operation names mount {mount}, the RUN has {}",
                                            run_keys.len()
                                        ),
                                    });
                                };
                                // A file through the mount is below its subdirectory; a wipe's
                                // "file" is the subdirectory it empties.
                                let file = crate::engine::path::join(&subpaths[mount], file);
                                let file = intern(&mut files, &mut file_ids, &file);
                                // A write through `O_TRUNC` empties the file before its bytes
                                // land: with torn writes, that moment is an event of its own
                                // (a rename, `Replace`, has none).
                                if let (Some(torn), CacheOp::Write { .. }) = (torn, op) {
                                    events.push(Event::Op {
                                        run: run_no,
                                        key: *key,
                                        op: OpKind::Write,
                                        file,
                                        value: torn,
                                        store: *key,
                                        cell: file,
                                        readonly: r.mounts[mount].readonly,
                                        removal: NO_REMOVAL,
                                    });
                                    event_build.push(build_no);
                                }
                                events.push(Event::Op {
                                    run: run_no,
                                    key: *key,
                                    op: kind,
                                    file,
                                    value: intern(&mut values, &mut value_ids, data),
                                    store: *key,
                                    cell: file,
                                    readonly: r.mounts[mount].readonly,
                                    removal: NO_REMOVAL,
                                });
                                event_build.push(build_no);
                                // What a writing opaque command may create: one marker file.
                                if matches!(kind, OpKind::Opaque { writes: true })
                                    && !r.mounts[mount].readonly
                                {
                                    let f = crate::engine::path::join(
                                        &files[file as usize],
                                        OPAQUE_MARKER,
                                    );
                                    let f = intern(&mut files, &mut file_ids, &f);
                                    events.push(Event::Op {
                                        run: run_no,
                                        key: *key,
                                        op: OpKind::Append,
                                        file: f,
                                        value: intern(&mut values, &mut value_ids, data),
                                        store: *key,
                                        cell: f,
                                        readonly: false,
                                        removal: NO_REMOVAL,
                                    });
                                    event_build.push(build_no);
                                }
                            }
                            events.push(Event::Release {
                                run: run_no,
                                keys: run_keys.iter().map(|k| k.0).collect(),
                                sharing: run_keys.iter().map(|k| k.1).collect(),
                                unmount_fails: r.unmount_fails,
                                layer,
                            });
                            event_build.push(build_no);
                            run_no += 1;
                        }
                        if let Some(st) = lanes {
                            // Each stage ends once what it needs has; the build ends with all.
                            for (l, (ev, eb, waited)) in lane_threads.iter_mut().enumerate() {
                                let rest: Vec<(u32, u32)> = st.done_after[l]
                                    .iter()
                                    .filter(|x| !waited.contains(x))
                                    .map(|&x| ((lane_base + x) as u32, ALL_EVENTS))
                                    .collect();
                                if !rest.is_empty() {
                                    ev.push(Event::Join {
                                        waits: rest,
                                        gather: false,
                                    });
                                    eb.push(build_no);
                                }
                            }
                            events.push(Event::Join {
                                waits: (0..st.names.len())
                                    .map(|l| ((lane_base + l) as u32, ALL_EVENTS))
                                    .collect(),
                                gather: true,
                            });
                            event_build.push(build_no);
                            for (l, (ev, eb, _)) in lane_threads.into_iter().enumerate() {
                                lane_progs.push(TestProgram {
                                    contending: contending_of(&ev, &values),
                                    name: format!("{} [stage {}]", t.name, st.names[l]),
                                    owner: ti as u32,
                                    signals: Vec::new(),
                                    events: ev,
                                    event_keys: Vec::new(),
                                    future_keys: Vec::new(),
                                    event_build: eb,
                                    event_tests: Vec::new(),
                                    safe_run: Vec::new(),
                                    may_wait: Vec::new(),
                                });
                            }
                        }
                        if let Some(at) = no_cache_at
                            && let Event::NoCache { prune, .. } = &mut events[at]
                        {
                            *prune = dropped;
                        }
                        events.push(Event::BuildEnd { build: build_no });
                        event_build.push(build_no);
                    }
                    Step::Prune { env } => {
                        let parent = profile.cache_parent(&world.prune_env(&t.name, env));
                        pending_paths.push((ti, events.len(), parent.clone()));
                        events.push(Event::Prune {
                            keys: Vec::new(),
                            parent,
                            removal: NO_REMOVAL,
                        });
                        event_build.push(u32::MAX);
                    }
                    Step::Teardown => {
                        pending_paths.push((ti, events.len(), world.scratch(&t.name)));
                        events.push(Event::Teardown {
                            keys: Vec::new(),
                            removal: NO_REMOVAL,
                        });
                        event_build.push(u32::MAX);
                    }
                }
            }
            tests.push(TestProgram {
                contending: contending_of(&events, &values),
                name: t.name.clone(),
                owner: ti as u32,
                signals: Vec::new(),
                events,
                event_keys: Vec::new(),
                future_keys: Vec::new(),
                event_build,
                event_tests: Vec::new(),
                safe_run: Vec::new(),
                may_wait: Vec::new(),
            });
        }
        tests.extend(lane_progs);
        link_joins(&mut tests);
        for ks in &mut layer_keys {
            ks.sort_unstable();
            ks.dedup();
        }
        for (ti, ei, layer) in layer_events {
            if let Event::Layer { keys, .. } = &mut tests[ti].events[ei] {
                keys.clone_from(&layer_keys[layer as usize]);
            }
        }
        let all_keys: Vec<u32> = (0..keys.len() as u32).collect();
        for t in &mut tests {
            for e in &mut t.events {
                if let Event::NoCache { keys: k, .. } = e {
                    k.clone_from(&all_keys);
                }
            }
        }
        let buildkit = profile.engine == crate::engine::Engine::BuildKit;
        // The tree on disk each key belongs to (Buildah's dirs can nest; BuildKit's cannot).
        let root: Vec<usize> = if buildkit {
            (0..keys.len()).collect()
        } else {
            disk::roots(&keys)
        };
        // (test, event, removed path, contents only): the Buildah removals to work out.
        let mut removal_at: Vec<(usize, usize, String, bool)> = Vec::new();
        for (ti, t) in tests.iter().enumerate().filter(|_| !buildkit) {
            for (ei, e) in t.events.iter().enumerate() {
                if let Event::Op {
                    op: OpKind::Wipe,
                    key,
                    ..
                } = e
                {
                    let sub = match e {
                        Event::Op { file, .. } => files[*file as usize].as_str(),
                        _ => "",
                    };
                    let dir = crate::engine::path::join(&keys[*key as usize].loc.dir, sub);
                    removal_at.push((ti, ei, dir, true));
                }
            }
        }
        for (ti, ei, path) in pending_paths {
            let under: Vec<u32> = (0..keys.len() as u32)
                .filter(|&k| {
                    let loc = &keys[k as usize].loc;
                    match &tests[ti].events[ei] {
                        // BuildKit's prune is daemon-wide; a teardown never reaches the daemon.
                        Event::Prune { .. } if buildkit => true,
                        Event::Teardown { .. } if buildkit => false,
                        _ => is_within(&loc.dir, &path),
                    }
                })
                .collect();
            match &mut tests[ti].events[ei] {
                Event::Prune { keys, .. } | Event::Teardown { keys, .. } => *keys = under,
                _ => unreachable!("pending paths point at prunes and teardowns"),
            }
            if !buildkit {
                removal_at.push((ti, ei, path, false));
            }
        }
        let removals = if buildkit {
            Vec::new()
        } else {
            disk::place(
                &mut tests,
                &keys,
                &root,
                &mut files,
                &mut file_ids,
                removal_at,
            )
        };
        // Which opaque markers stand for files an opaque command may have created at a path.
        let markers: Vec<(u32, String)> = files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let dir = f.strip_suffix(OPAQUE_MARKER)?.trim_end_matches('/');
                Some((i as u32, dir.to_string()))
            })
            .collect();
        let markers_over: Vec<Vec<u32>> = files
            .iter()
            .map(|f| {
                markers
                    .iter()
                    .filter(|(m, d)| {
                        files[*m as usize] != *f
                            && (d.is_empty()
                                || f == d
                                || f.strip_prefix(d.as_str())
                                    .is_some_and(|r| r.starts_with('/')))
                    })
                    .map(|(m, _)| *m)
                    .collect()
            })
            .collect();
        let wide = keys.len() > 64;
        let groups = if wide {
            Vec::new()
        } else {
            disk::groups(&root)
        };
        let layer_mask = if wide {
            0
        } else {
            layer_keys
                .iter()
                .flatten()
                .fold(0u64, |b, k| b | groups[*k as usize])
        };
        for t in &mut tests {
            t.may_wait = t
                .events
                .iter()
                .map(|e| match e {
                    Event::Acquire { sharing, .. } => profile.may_wait(*sharing),
                    Event::Prune { .. } | Event::Layer { .. } | Event::Join { .. } => true,
                    _ => false,
                })
                .chain([false])
                .collect();
            t.event_keys = t
                .events
                .iter()
                .map(|e| {
                    let ks = e.keys();
                    if wide {
                        u64::MAX
                    } else {
                        // Keys whose dirs nest are one tree on disk: an event on one touches all.
                        let mask = ks.iter().fold(0, |b, k| b | groups[*k as usize]);
                        // A prune that drops layers meets every RUN that may reuse one.
                        match e {
                            Event::Prune { .. } if profile.prune_drops_layers() => {
                                mask | layer_mask
                            }
                            _ => mask,
                        }
                    }
                })
                .collect();
            // A build's end releases what its process still holds (local): it touches every
            // key the build used.
            for i in 0..t.events.len() {
                if let Event::BuildEnd { build } = t.events[i] {
                    let mask = (0..i)
                        .filter(|&j| t.event_build[j] == build)
                        .fold(0, |b, j| b | t.event_keys[j]);
                    t.event_keys[i] = mask;
                }
            }
            let mut fut = vec![0u64; t.events.len() + 1];
            for i in (0..t.events.len()).rev() {
                fut[i] = fut[i + 1] | t.event_keys[i];
            }
            t.future_keys = fut;
        }
        // Which tests touch each key, then which tests each event can enable or block.
        let mut key_tests = vec![0u64; keys.len().min(64)];
        for (ti, t) in tests.iter().enumerate() {
            for (k, kt) in key_tests.iter_mut().enumerate() {
                if t.future_keys[0] & 1 << k != 0 {
                    *kt |= 1u64.checked_shl(ti as u32).unwrap_or(0);
                }
            }
        }
        let all = wide || tests.len() > 64;
        for (ti, t) in tests.iter_mut().enumerate() {
            t.event_tests = t
                .event_keys
                .iter()
                .zip(&t.signals)
                .zip(&t.events)
                .map(|((&ks, &joiners), e)| {
                    if all {
                        return u64::MAX;
                    }
                    if !e.may_unblock(&removals) {
                        return 1u64.checked_shl(ti as u32).unwrap_or(0) | joiners;
                    }
                    (0..key_tests.len())
                        .filter(|&k| ks & 1 << k != 0)
                        .fold(1 << ti | joiners, |b, k| b | key_tests[k])
                })
                .collect();
        }
        // Every key some other test touches, per test.
        let others_keys: Vec<u64> = (0..tests.len())
            .map(|t| {
                (0..tests.len())
                    .filter(|&u| u != t)
                    .fold(0, |b, u| b | tests[u].future_keys[0])
            })
            .collect();
        for (t, others) in tests.iter_mut().zip(others_keys) {
            t.count_safe_runs(others);
        }
        let value_has = expects
            .iter()
            .map(|(_, e)| match e {
                Expect::OutputContains(w) if !w.contains('\n') => {
                    values.iter().map(|v| v.contains(w.as_str())).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        let test_keys = tests
            .iter()
            .map(|t| {
                let mut set = fixedbitset::FixedBitSet::with_capacity(keys.len());
                for e in &t.events {
                    let ks = e.keys();
                    set.extend(ks.iter().map(|&k| k as usize));
                    if matches!(e, Event::Prune { .. }) && profile.prune_drops_layers() {
                        set.extend(layer_keys.iter().flatten().map(|&k| k as usize));
                    }
                }
                // A key stands for its whole tree on disk.
                let roots: Vec<usize> = set.ones().map(|k| root[k]).collect();
                set.extend((0..keys.len()).filter(|&k| roots.contains(&root[k])));
                set
            })
            .collect();
        if layers.is_empty() && !world.layer_cache && profile.reuses_identical_runs(world.topology)
        {
            let alike = shared_layers(
                suite,
                profile,
                &World {
                    layer_cache: true,
                    ..world.clone()
                },
            )
            .1;
            if let Some(first) = alike.first() {
                notes.push(format!(
                    "{} RUN(s) here ({first}, …) are alike in several builds, which {} would run once (layer cache{}); the model takes every build as distinct and runs each RUN: pass --layers to model the reuse",
                    alike.len(),
                    profile.engine,
                    if profile.merges_concurrent_runs() {
                        ", merged when concurrent"
                    } else {
                        " of podman build"
                    }
                ));
            }
        }
        if !layers.is_empty() {
            notes.push(format!(
                "{} reuses a RUN's layer when another build made it alike (same Dockerfile, same RUNs up to it): the model decides at each such RUN whether it runs, waits for {}, or is cached and leaves its cache mounts untouched ({} layer(s) here); a cached RUN prints nothing{}",
                profile.engine,
                if profile.merges_concurrent_runs() {
                    "the identical RUN another build is running (merged)"
                } else {
                    "nothing (two concurrent identical RUNs both run)"
                },
                layers.len(),
                if profile.prune_drops_layers() {
                    "; a prune drops every layer (buildah prune removes intermediate images)"
                } else {
                    "; a cache-mount prune leaves layers"
                }
            ));
        }
        Ok(Program {
            layers,
            torn,
            markers_over,
            notes,
            test_keys,
            removals,
            value_has,
            profile,
            world: world.clone(),
            tests,
            skipped,
            keys,
            files,
            values,
            expects,
            static_violations,
            unsupported,
        })
    }

    /// The program with only the test of thread `t` (its main thread as test 0, the threads of
    /// its stages after it): what that test does alone. Keys, files, values and build numbers
    /// stay as they are, so nothing is compiled again.
    pub fn alone(&self, t: usize) -> Program {
        let t = self.tests[t].owner as usize;
        let mine: Vec<usize> = (0..self.tests.len())
            .filter(|&u| self.tests[u].owner as usize == t)
            .collect();
        let new = |u: u32| mine.iter().position(|&m| m == u as usize).unwrap_or(0) as u32;
        let all = mine.len() > 64;
        let tests: Vec<TestProgram> = mine
            .iter()
            .map(|&u| {
                let mut test = self.tests[u].clone();
                test.owner = 0;
                for e in &mut test.events {
                    if let Event::Join { waits, .. } = e {
                        for (x, _) in waits.iter_mut() {
                            *x = new(*x);
                        }
                    }
                }
                let remap = |bits: u64| -> u64 {
                    if all {
                        return u64::MAX;
                    }
                    (0..64)
                        .filter(|&b| bits & 1 << b != 0)
                        .fold(0, |m, b| m | 1 << new(b))
                };
                test.signals = test.signals.iter().map(|&s| remap(s)).collect();
                // One thread alone affects only itself; a test's stages can affect each other.
                let only = if mine.len() == 1 { 1 } else { u64::MAX };
                test.event_tests.iter_mut().for_each(|m| *m = only);
                let others = mine
                    .iter()
                    .filter(|&&o| o != u)
                    .fold(0, |b, &o| b | self.tests[o].future_keys[0]);
                test.count_safe_runs(others);
                test
            })
            .collect();
        let test_keys = mine.iter().map(|&u| self.test_keys[u].clone()).collect();
        Program {
            tests,
            static_violations: self
                .static_violations
                .iter()
                .filter(|v| v.test == t)
                .map(|v| Violation {
                    test: 0,
                    ..v.clone()
                })
                .collect(),
            profile: self.profile,
            world: self.world.clone(),
            skipped: self.skipped.clone(),
            keys: self.keys.clone(),
            files: self.files.clone(),
            values: self.values.clone(),
            expects: self.expects.clone(),
            unsupported: self.unsupported.clone(),
            value_has: self.value_has.clone(),
            removals: self.removals.clone(),
            test_keys,
            notes: self.notes.clone(),
            markers_over: self.markers_over.clone(),
            layers: self.layers.clone(),
            torn: self.torn,
        }
    }

    /// How many threads are tests' main threads (they come first; the threads of stages that
    /// run at once follow).
    pub fn mains(&self) -> usize {
        self.tests
            .iter()
            .enumerate()
            .take_while(|(i, t)| t.owner as usize == *i)
            .count()
    }

    /// Total events over all tests (the length of every complete schedule).
    pub fn total_events(&self) -> usize {
        self.tests.iter().map(|t| t.events.len()).sum()
    }
}
