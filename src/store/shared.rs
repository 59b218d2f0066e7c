//! A thread-safe cache store: the holder table behind a [`crate::sync::Mutex`], waiters on a
//! [`crate::sync::Condvar`], every decision asked of [`crate::engine::Profile`]. Real-thread stress
//! runs use it with `std`; `tests/loom.rs` checks the same code under loom.
//!
//! A request that would wait forever (every owner it could depend on is itself waiting, or has
//! finished while still holding) returns [`StoreError::Stuck`] instead of blocking, so a deadlock
//! is a verdict, not a hang.

use crate::engine::{Decision, Profile, PruneEffect, RejectReason, Request};
use crate::mount::Sharing;
use crate::store::table::{Holder, Table};
use crate::sync::{Condvar, Mutex, MutexGuard};

/// What an owner (one build process) is doing, for wait-for analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
enum OwnerState {
    Running,
    Waiting(Vec<u32>),
    /// Done, but its process lives on (a podman server): whatever it still holds stays held.
    Finished,
}

#[derive(Debug)]
struct Inner {
    table: Table,
    /// One cache "file" per key per instance: enough to tell instances and writers apart.
    content: Vec<Vec<Option<Vec<u8>>>>,
    owners: Vec<OwnerState>,
}

/// Why an operation of the store did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// Waiting could never end: the owners in the wait-for chain, starting with the caller.
    Stuck {
        /// Owners reached from the caller through wait-for edges.
        chain: Vec<u32>,
    },
    /// The engine refused the request.
    Rejected(RejectReason),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Stuck { chain } => write!(f, "stuck: wait-for chain {chain:?}"),
            StoreError::Rejected(r) => write!(f, "rejected: {r:?}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// One mount of a RUN: its interned key and the mode asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountReq {
    /// Interned cache key (index into the table).
    pub key: usize,
    /// Requested sharing mode.
    pub sharing: Sharing,
}

/// The thread-safe store.
#[derive(Debug)]
pub struct SharedStore {
    profile: Profile,
    inner: Mutex<Inner>,
    changed: Condvar,
}

impl SharedStore {
    /// A store for `keys` interned cache keys and `owners` build processes.
    pub fn new(profile: Profile, keys: usize, owners: usize) -> SharedStore {
        SharedStore {
            profile,
            inner: Mutex::new(Inner {
                table: Table::with_keys(keys),
                content: vec![Vec::new(); keys],
                owners: vec![OwnerState::Running; owners],
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes every mount of one RUN, in the engine's lock order, waiting as the engine says.
    /// Returns the instance granted for each mount, in flag order. On error nothing stays held.
    pub fn acquire_run(
        &self,
        holder: Holder,
        mounts: &[MountReq],
    ) -> Result<Vec<usize>, StoreError> {
        // Interned keys stand for the lock paths: any one total order cures flag-order deadlocks.
        let keys: Vec<usize> = mounts.iter().map(|m| m.key).collect();
        let order = self.profile.lock_order(&keys);
        let mut got = vec![usize::MAX; mounts.len()];
        for &i in &order {
            match self.acquire(holder, mounts[i]) {
                Ok(inst) => got[i] = inst,
                Err(e) => {
                    for &j in &order {
                        if got[j] != usize::MAX {
                            self.release_key(mounts[j].key, holder);
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(got)
    }

    /// Takes one mount, waiting while the engine says `Wait`.
    pub fn acquire(&self, holder: Holder, m: MountReq) -> Result<usize, StoreError> {
        let req = Request {
            holder,
            sharing: m.sharing,
        };
        let mut g = self.lock();
        loop {
            let state = &g.table.keys[m.key];
            match self.profile.decide(state, &req) {
                Decision::Grant(i) => {
                    let hold = self.profile.hold(state, &req);
                    g.table.keys[m.key].grant(i, hold);
                    g.owners[holder.owner as usize] = OwnerState::Running;
                    return Ok(i);
                }
                Decision::NewInstance => {
                    let hold = self.profile.hold(state, &req);
                    let i = g.table.keys[m.key].create(hold);
                    g.content[m.key].push(None);
                    g.owners[holder.owner as usize] = OwnerState::Running;
                    return Ok(i);
                }
                Decision::Reject(r) => return Err(StoreError::Rejected(r)),
                Decision::Wait => {
                    let mut on: Vec<u32> = self
                        .profile
                        .blockers(state)
                        .into_iter()
                        .map(|h| h.owner)
                        .collect();
                    on.dedup();
                    g.owners[holder.owner as usize] = OwnerState::Waiting(on);
                    if let Some(chain) = stuck(&g.owners, holder.owner) {
                        g.owners[holder.owner as usize] = OwnerState::Running;
                        return Err(StoreError::Stuck { chain });
                    }
                    g = self.changed.wait(g).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }

    fn release_key(&self, key: usize, holder: Holder) {
        let mut g = self.lock();
        g.table.keys[key].release(holder);
        self.wake_all(g);
    }

    /// Ends a RUN: releases its mounts, unless the unmount failed and the engine then skips the
    /// unlock (the lock then stays held while the process lives).
    pub fn release_run(&self, holder: Holder, mounts: &[MountReq], unmount_error: bool) {
        if unmount_error && !self.profile.unlocks_after_unmount_error() {
            return;
        }
        let mut g = self.lock();
        for (i, m) in mounts.iter().enumerate() {
            if self.profile.releases_at_run_end(i, mounts.len(), m.sharing) {
                g.table.keys[m.key].release(holder);
            }
        }
        self.wake_all(g);
    }

    /// The build `owner` is over. If its process exits (local buildah), the kernel drops its file
    /// locks; if not (a podman server), what it still holds stays held.
    pub fn finish(&self, owner: u32, process_exits: bool) {
        let mut g = self.lock();
        if process_exits {
            for k in g.table.keys.iter_mut() {
                k.release_owner(owner);
            }
            g.owners[owner as usize] = OwnerState::Running;
        } else {
            g.owners[owner as usize] = OwnerState::Finished;
        }
        self.wake_all(g);
    }

    /// Writes the content of the instance `holder` has mounted for `key`; false if none is held.
    pub fn write(&self, key: usize, holder: Holder, data: &[u8]) -> bool {
        let mut g = self.lock();
        match g.table.keys[key].held_by(holder) {
            Some(i) => {
                g.content[key][i] = Some(data.to_vec());
                true
            }
            None => false,
        }
    }

    /// Reads the content of the instance `holder` has mounted for `key`.
    pub fn read(&self, key: usize, holder: Holder) -> Option<Vec<u8>> {
        let g = self.lock();
        let i = g.table.keys[key].held_by(holder)?;
        g.content[key][i].clone()
    }

    /// `rm -rf <target>/*` inside a RUN: empties the held instance (and its lock file, if the
    /// engine keeps it there).
    pub fn wipe(&self, key: usize, holder: Holder) {
        let mut g = self.lock();
        if let Some(i) = g.table.keys[key].held_by(holder) {
            g.content[key][i] = None;
            if self.profile.wipe_removes_lock() {
                g.table.keys[key].lock_gen += 1;
            }
        }
        self.wake_all(g);
    }

    /// A prune by `owner`: per key, what the engine's prune does; waits where the engine says so.
    pub fn prune(&self, owner: u32) -> Result<(), StoreError> {
        let mut g = self.lock();
        loop {
            let effects: Vec<PruneEffect> = g
                .table
                .keys
                .iter()
                .map(|k| self.profile.prune_effect(k))
                .collect();
            if let Some(k) = effects.iter().position(|e| *e == PruneEffect::Wait) {
                let mut on: Vec<u32> = g.table.keys[k]
                    .holds()
                    .map(|(_, h)| h.holder.owner)
                    .collect();
                on.dedup();
                g.owners[owner as usize] = OwnerState::Waiting(on);
                if let Some(chain) = stuck(&g.owners, owner) {
                    g.owners[owner as usize] = OwnerState::Running;
                    return Err(StoreError::Stuck { chain });
                }
                g = self.changed.wait(g).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let inner = &mut *g;
            for (k, e) in effects.iter().enumerate() {
                let state = &mut inner.table.keys[k];
                for (i, c) in inner.content[k].iter_mut().enumerate() {
                    if *e == PruneEffect::RemoveAll || state.is_free(i) {
                        *c = None;
                    }
                }
                if *e == PruneEffect::RemoveAll {
                    state.lock_gen += 1;
                }
            }
            g.owners[owner as usize] = OwnerState::Running;
            self.wake_all(g);
            return Ok(());
        }
    }

    /// Wakes every waiter to re-decide; until each has, none of them counts as waiting (a stale
    /// wait-for edge would make the stuck check see a deadlock that a release just broke).
    fn wake_all(&self, mut g: MutexGuard<'_, Inner>) {
        for o in g.owners.iter_mut() {
            if matches!(o, OwnerState::Waiting(_)) {
                *o = OwnerState::Running;
            }
        }
        drop(g);
        self.changed.notify_all();
    }

    /// A copy of the holder table (for oracles).
    pub fn snapshot(&self) -> Table {
        self.lock().table.clone()
    }
}

/// If `from` can never be woken, the owners on its wait-for chain: every owner reachable from it
/// through wait-for edges is itself waiting or finished (no running owner could release anything).
fn stuck(owners: &[OwnerState], from: u32) -> Option<Vec<u32>> {
    let mut seen = vec![from];
    let mut i = 0;
    while i < seen.len() {
        match &owners[seen[i] as usize] {
            OwnerState::Running => return None,
            OwnerState::Finished => {}
            OwnerState::Waiting(on) => {
                for o in on {
                    if !seen.contains(o) {
                        seen.push(*o);
                    }
                }
            }
        }
        i += 1;
    }
    Some(seen)
}
