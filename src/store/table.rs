//! The holder table: who holds which instance of a cache key, in which mode, under which lock file.
//!
//! Pure data with no policy: [`crate::engine`] reads a [`KeyState`] to decide, and the drivers apply
//! the decision here. Compact on purpose (the explorer resets and reuses it millions of times a second).

use crate::mount::Sharing;

/// One RUN of one build: `owner` is the build process (a test), `run` its RUN step. All mounts
/// of a RUN are taken and released together, so they share one holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Holder {
    /// The build (test) that holds the mount; one process per owner.
    pub owner: u32,
    /// Which RUN of that build.
    pub run: u32,
}

/// One holder's claim on an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    /// Who holds it.
    pub holder: Holder,
    /// The mode it was requested in.
    pub sharing: Sharing,
    /// The lock-file generation it locked (meaningful for `Locked` only).
    pub lock_gen: u32,
}

/// One directory of a cache key (BuildKit may keep several per key; Buildah exactly one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    /// Current holders.
    pub holds: Vec<Hold>,
}

impl Instance {
    /// True when nobody holds the instance.
    pub fn is_free(&self) -> bool {
        self.holds.is_empty()
    }
}

/// Everything the table knows about one cache key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyState {
    /// Instances in creation order.
    pub instances: Vec<Instance>,
    /// Bumped whenever the key's lock file is removed: a lock on an older generation excludes nobody.
    pub lock_gen: u32,
}

impl KeyState {
    /// Records `hold` on instance `inst`. A holder that already holds it keeps one hold, in the
    /// stronger mode (the same key twice in one RUN, `shared` then `locked`, takes the lock). Build
    /// the hold with [`crate::engine::Profile::hold`], which decides its lock generation.
    pub fn grant(&mut self, inst: usize, hold: Hold) {
        let holds = &mut self.instances[inst].holds;
        match holds.iter_mut().find(|h| h.holder == hold.holder) {
            Some(h) => {
                if hold.sharing >= h.sharing {
                    *h = hold;
                }
            }
            None => holds.push(hold),
        }
    }

    /// Creates a new empty instance held by `hold`; returns its index.
    pub fn create(&mut self, hold: Hold) -> usize {
        self.instances.push(Instance { holds: vec![hold] });
        self.instances.len() - 1
    }

    /// Drops `holder`'s hold; returns the instance it was on, if any.
    pub fn release(&mut self, holder: Holder) -> Option<usize> {
        for (i, inst) in self.instances.iter_mut().enumerate() {
            if let Some(p) = inst.holds.iter().position(|h| h.holder == holder) {
                inst.holds.swap_remove(p);
                return Some(i);
            }
        }
        None
    }

    /// The instance `holder` holds, if any.
    pub fn held_by(&self, holder: Holder) -> Option<usize> {
        self.instances
            .iter()
            .position(|i| i.holds.iter().any(|h| h.holder == holder))
    }

    /// Every current hold, with its instance index.
    pub fn holds(&self) -> impl Iterator<Item = (usize, &Hold)> {
        self.instances
            .iter()
            .enumerate()
            .flat_map(|(i, inst)| inst.holds.iter().map(move |h| (i, h)))
    }

    /// Clears everything, keeping allocations (the explorer's reset).
    pub fn reset(&mut self) {
        self.instances.clear();
        self.lock_gen = 0;
    }
}

/// The whole table: one [`KeyState`] per interned cache key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Indexed by the key's interned number.
    pub keys: Vec<KeyState>,
}

impl Table {
    /// A table for `n` keys, all empty.
    pub fn with_keys(n: usize) -> Table {
        Table {
            keys: vec![KeyState::default(); n],
        }
    }

    /// Clears every key, keeping allocations.
    pub fn reset(&mut self) {
        self.keys.iter_mut().for_each(KeyState::reset);
    }
}
