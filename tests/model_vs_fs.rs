//! Model ≡ filesystem: random sequences of acquire / release / write / read / wipe / prune give the
//! same observations on the in-memory model (holder table + engine decisions + `MemStorage`) and on
//! real directories with real OFD lock files (`FsStorage`), per engine, quirk set and sharing mode.
//!
//! On the filesystem side Buildah's locked mode is decided by the kernel (a lock file that another
//! open file description holds), not by the engine: this is where the model is checked.

use std::collections::BTreeMap;

use mountfuzz::engine::{
    CacheEnv, Decision, Engine, Location, Profile, PruneEffect, Quirk, Request,
};
use mountfuzz::mount::Sharing;
use mountfuzz::store::Storage;
use mountfuzz::store::fs::{FileLock, FsStorage, try_lock};
use mountfuzz::store::mem::MemStorage;
use mountfuzz::store::table::{Holder, Table};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

const OWNERS: u32 = 3;
const TARGETS: [&str; 2] = ["/a", "/b"];

#[derive(Clone, Debug)]
enum Op {
    Acquire(u32, usize, Sharing),
    Release(u32),
    Write(u32, usize, u8),
    Read(u32, usize),
    Wipe(u32, usize),
    Prune,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Obs {
    Granted,
    Waits,
    Rejected,
    NotHeld,
    Content(Option<Vec<u8>>),
    Done,
}

fn locations(p: &Profile) -> Vec<Location> {
    let env = CacheEnv {
        tmpdir: Some("/t".into()),
        ..CacheEnv::default()
    };
    TARGETS
        .iter()
        .map(|t| {
            let spec = p
                .parse_mount(&format!("type=cache,target={t},sharing=locked"))
                .unwrap();
            p.locate(&spec, "/", &env).unwrap()
        })
        .collect()
}

fn holder(o: u32) -> Holder {
    Holder { owner: o, run: 0 }
}

/// The reference: the model as the explorer uses it.
#[derive(Clone, Debug)]
struct Model {
    profile: Profile,
    locs: Vec<Location>,
    table: Table,
    mem: MemStorage,
    last: Obs,
}

impl Model {
    fn dir(&self, o: u32, k: usize) -> Option<String> {
        let i = self.table.keys[k].held_by(holder(o))?;
        Some(self.profile.instance_dir(&self.locs[k], i))
    }

    fn step(&mut self, op: &Op) -> Obs {
        match *op {
            Op::Acquire(o, k, sharing) => {
                let state = &mut self.table.keys[k];
                let req = Request {
                    holder: holder(o),
                    sharing,
                };
                let hold = self.profile.hold(state, &req);
                match self.profile.decide(state, &req) {
                    Decision::Grant(i) => {
                        state.grant(i, hold);
                        Obs::Granted
                    }
                    Decision::NewInstance => {
                        state.create(hold);
                        Obs::Granted
                    }
                    Decision::Wait => Obs::Waits,
                    Decision::Reject(_) => Obs::Rejected,
                }
            }
            Op::Release(o) => {
                self.table.keys.iter_mut().for_each(|k| {
                    k.release(holder(o));
                });
                Obs::Done
            }
            Op::Write(o, k, b) => match self.dir(o, k) {
                Some(d) => {
                    self.mem.append(&d, "f", &[b]).unwrap();
                    Obs::Done
                }
                None => Obs::NotHeld,
            },
            Op::Read(o, k) => match self.dir(o, k) {
                Some(d) => Obs::Content(self.mem.read(&d, "f").unwrap()),
                None => Obs::NotHeld,
            },
            Op::Wipe(o, k) => match self.dir(o, k) {
                Some(d) => {
                    self.mem.wipe(&d).unwrap();
                    if self.profile.wipe_removes_lock() {
                        self.table.keys[k].lock_gen += 1;
                    }
                    Obs::Done
                }
                None => Obs::NotHeld,
            },
            Op::Prune => {
                let effects: Vec<PruneEffect> = self
                    .table
                    .keys
                    .iter()
                    .map(|k| self.profile.prune_effect(k))
                    .collect();
                if effects.contains(&PruneEffect::Wait) {
                    return Obs::Waits;
                }
                for (k, e) in effects.into_iter().enumerate() {
                    let state = &mut self.table.keys[k];
                    for i in 0..state.instance_count() {
                        if e == PruneEffect::RemoveAll || state.is_free(i) {
                            self.mem
                                .wipe(&self.profile.instance_dir(&self.locs[k], i))
                                .unwrap();
                        }
                    }
                    if e == PruneEffect::RemoveAll {
                        state.lock_gen += 1;
                    }
                }
                if matches!(self.profile.engine, Engine::Buildah(_)) {
                    self.mem.remove_tree(&self.locs[0].parent).unwrap();
                }
                Obs::Done
            }
        }
    }
}

fn profiles() -> Vec<Profile> {
    let mut v = Vec::new();
    for e in Engine::ALL {
        let p = Profile::new(e);
        v.push(p);
        v.push(Quirk::ALL.iter().fold(p, |p, q| p.fixed(*q)));
        v.push(p.fixed(Quirk::NonReentrantLock));
    }
    v
}

struct ModelMachine;

impl ReferenceStateMachine for ModelMachine {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        prop::sample::select(profiles())
            .prop_map(|profile| Model {
                locs: locations(&profile),
                table: Table::with_keys(TARGETS.len()),
                mem: MemStorage::new(),
                profile,
                last: Obs::Done,
            })
            .boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Op> {
        let o = 0..OWNERS;
        let k = 0..TARGETS.len();
        prop_oneof![
            4 => (o.clone(), k.clone(), prop::sample::select(Sharing::ALL.to_vec()))
                .prop_map(|(o, k, s)| Op::Acquire(o, k, s)),
            2 => o.clone().prop_map(Op::Release),
            3 => (o.clone(), k.clone(), any::<u8>()).prop_map(|(o, k, b)| Op::Write(o, k, b)),
            3 => (o.clone(), k.clone()).prop_map(|(o, k)| Op::Read(o, k)),
            1 => (o, k).prop_map(|(o, k)| Op::Wipe(o, k)),
            1 => Just(Op::Prune),
        ]
        .boxed()
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        state.last = state.step(op);
        state
    }
}

/// The system under test: real directories, real lock files.
struct Real {
    profile: Profile,
    locs: Vec<Location>,
    _root: tempfile::TempDir,
    fs: FsStorage,
    /// Instance bookkeeping for what the kernel does not decide (BuildKit's instances).
    table: Table,
    /// Real locks held, by (owner, key).
    locks: BTreeMap<(u32, usize), FileLock>,
}

impl Real {
    fn real_lock(&self, k: usize) -> bool {
        matches!(self.profile.engine, Engine::Buildah(_)) && self.locs[k].lock_file.is_some()
    }

    fn lock_path(&self, k: usize) -> std::path::PathBuf {
        self.fs.real(self.locs[k].lock_file.as_ref().unwrap())
    }

    fn dir(&self, o: u32, k: usize) -> Option<String> {
        let i = self.table.keys[k].held_by(holder(o))?;
        Some(self.profile.instance_dir(&self.locs[k], i))
    }

    fn step(&mut self, op: &Op) -> Obs {
        match *op {
            Op::Acquire(o, k, sharing) => {
                let req = Request {
                    holder: holder(o),
                    sharing,
                };
                let hold = self.profile.hold(&self.table.keys[k], &req);
                let decision = self.profile.decide(&self.table.keys[k], &req);
                if let Decision::Reject(_) = decision {
                    return Obs::Rejected;
                }
                if sharing == Sharing::Locked && self.real_lock(k) {
                    let mine = self.locks.contains_key(&(o, k));
                    if !mine || self.profile.has(Quirk::NonReentrantLock) {
                        // A fresh open file description, as a new lock object would be.
                        match try_lock(&self.lock_path(k)).unwrap() {
                            Some(l) => {
                                // The hold moves to the new description (the old one is closed).
                                self.locks.insert((o, k), l);
                            }
                            None => return Obs::Waits,
                        }
                    }
                    let state = &mut self.table.keys[k];
                    if state.instance_count() == 0 {
                        state.create(hold);
                    } else {
                        state.grant(0, hold);
                    }
                    return Obs::Granted;
                }
                let state = &mut self.table.keys[k];
                match decision {
                    Decision::Grant(i) => {
                        state.grant(i, hold);
                        Obs::Granted
                    }
                    Decision::NewInstance => {
                        state.create(hold);
                        Obs::Granted
                    }
                    Decision::Wait => Obs::Waits,
                    Decision::Reject(_) => Obs::Rejected,
                }
            }
            Op::Release(o) => {
                self.locks.retain(|(lo, _), _| *lo != o);
                self.table.keys.iter_mut().for_each(|k| {
                    k.release(holder(o));
                });
                Obs::Done
            }
            Op::Write(o, k, b) => match self.dir(o, k) {
                Some(d) => {
                    self.fs.append(&d, "f", &[b]).unwrap();
                    Obs::Done
                }
                None => Obs::NotHeld,
            },
            Op::Read(o, k) => match self.dir(o, k) {
                Some(d) => Obs::Content(self.fs.read(&d, "f").unwrap()),
                None => Obs::NotHeld,
            },
            Op::Wipe(o, k) => match self.dir(o, k) {
                // rm -rf <target>/*: takes the lock file with it when it lives there.
                Some(d) => {
                    self.fs.wipe(&d).unwrap();
                    Obs::Done
                }
                None => Obs::NotHeld,
            },
            Op::Prune => {
                if let Engine::Buildah(_) = self.profile.engine {
                    if !self.profile.has(Quirk::PruneWithoutLock) {
                        // The fix: prune takes every lock first.
                        for k in 0..self.locs.len() {
                            let mut locked = self.locks.keys().any(|(_, lk)| *lk == k);
                            let path = self.locs[k].lock_file.clone().map(|_| self.lock_path(k));
                            if let Some(p) = path.filter(|p| p.exists()) {
                                locked |= try_lock(&p).unwrap().is_none();
                            }
                            if locked {
                                return Obs::Waits;
                            }
                        }
                    }
                    self.fs.remove_tree(&self.locs[0].parent).unwrap();
                } else {
                    for (k, state) in self.table.keys.iter().enumerate() {
                        for i in 0..state.instance_count() {
                            if state.is_free(i) {
                                self.fs
                                    .wipe(&self.profile.instance_dir(&self.locs[k], i))
                                    .unwrap();
                            }
                        }
                    }
                }
                Obs::Done
            }
        }
    }
}

impl StateMachineTest for Real {
    type SystemUnderTest = Real;
    type Reference = ModelMachine;

    fn init_test(m: &Model) -> Real {
        let root = tempfile::tempdir().unwrap();
        Real {
            profile: m.profile,
            locs: m.locs.clone(),
            fs: FsStorage::new(root.path()),
            _root: root,
            table: Table::with_keys(TARGETS.len()),
            locks: BTreeMap::new(),
        }
    }

    fn apply(mut real: Real, model: &Model, op: Op) -> Real {
        let got = real.step(&op);
        assert_eq!(
            got,
            model.last,
            "{op:?} on {} with quirks {:?}: filesystem says {got:?}, model says {:?}",
            model.profile.engine,
            model.profile.quirks.iter().collect::<Vec<_>>(),
            model.last
        );
        real
    }
}

prop_state_machine! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/model_vs_fs.txt", 384))]

    #[test]
    fn model_matches_filesystem(sequential 1..40 => Real);
}

#[test]
fn wipe_under_a_locked_holder_lets_a_second_locker_in_on_1_28_only() {
    // The deterministic core of the differential test, spelled out.
    use mountfuzz::engine::BuildahVersion::*;
    for (v, second) in [(V1_28, Obs::Granted), (Current, Obs::Waits)] {
        let profile = Profile::new(Engine::Buildah(v));
        let m = Model {
            locs: locations(&profile),
            table: Table::with_keys(2),
            mem: MemStorage::new(),
            profile,
            last: Obs::Done,
        };
        let mut model = m.clone();
        let mut real = Real::init_test(&m);
        for (op, want) in [
            (Op::Acquire(0, 0, Sharing::Locked), Obs::Granted),
            (Op::Acquire(1, 0, Sharing::Locked), Obs::Waits),
            (Op::Wipe(0, 0), Obs::Done),
            (Op::Acquire(1, 0, Sharing::Locked), second.clone()),
        ] {
            assert_eq!(model.step(&op), want, "model, {v:?}, {op:?}");
            assert_eq!(real.step(&op), want, "filesystem, {v:?}, {op:?}");
        }
    }
}
