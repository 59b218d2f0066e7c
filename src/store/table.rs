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
    /// The directory generation it mounted: once the cache dir is removed (a prune, a wipe of
    /// an enclosing cache), the mount points at a deleted directory.
    pub dir_gen: u32,
}

/// Everything the table knows about one cache key: its instances (directories; BuildKit may
/// keep several per key, Buildah exactly one) and who holds each. Holds live in one flat list
/// ordered by instance, so the explorer's reset keeps every allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyState {
    /// Current holds with their instance, ordered by instance.
    held: Vec<(u32, Hold)>,
    /// Instances created so far.
    instances: u32,
    /// Bumped whenever the key's lock file is removed: a lock on an older generation excludes nobody.
    pub lock_gen: u32,
    /// Bumped whenever the key's directory itself is removed (Buildah: `rm -rf` of the parent
    /// or of an enclosing cache dir): holds of an older generation see a deleted directory.
    pub dir_gen: u32,
    /// Instances no search finds any more (BuildKit: a `--no-cache` build cleared their index);
    /// their holders keep using them.
    dropped: Vec<u32>,
    /// Held instances a shared request can no longer join (BuildKit: the active shared refs
    /// were forgotten); each leaves the list when its last holder goes.
    split: Vec<u32>,
}

impl KeyState {
    /// How many instances exist (created, held or not).
    pub fn instance_count(&self) -> usize {
        self.instances as usize
    }

    /// Whether a search still finds instance `inst` (see [`KeyState::drop_index`]).
    pub fn is_indexed(&self, inst: usize) -> bool {
        !self.dropped.contains(&(inst as u32))
    }

    /// How many instances a search finds.
    pub fn indexed_count(&self) -> usize {
        self.instances as usize - self.dropped.len()
    }

    /// Whether a shared request may join held instance `inst` (see [`KeyState::split_held`]).
    pub fn is_joinable(&self, inst: usize) -> bool {
        !self.split.contains(&(inst as u32))
    }

    /// Whether some instance is dropped from the index or unjoinable (a shared request's
    /// decision then depends on more than the holds' modes).
    pub fn has_flags(&self) -> bool {
        !self.dropped.is_empty() || !self.split.is_empty()
    }

    /// No later search finds any instance that exists now.
    pub fn drop_index(&mut self) {
        for i in 0..self.instances {
            if !self.dropped.contains(&i) {
                self.dropped.push(i);
            }
        }
    }

    /// No later shared request joins an instance held now.
    pub fn split_held(&mut self) {
        for (i, _) in &self.held {
            if !self.split.contains(i) {
                self.split.push(*i);
            }
        }
    }

    /// The instances a search no longer finds, and the held ones no shared request joins, in a
    /// canonical order (for state digests).
    pub fn flags(&self) -> (Vec<u32>, Vec<u32>) {
        let (mut d, mut s) = (self.dropped.clone(), self.split.clone());
        d.sort_unstable();
        s.sort_unstable();
        (d, s)
    }

    /// True when nobody holds instance `inst`.
    pub fn is_free(&self, inst: usize) -> bool {
        !self.held.iter().any(|(i, _)| *i as usize == inst)
    }

    /// The holds on instance `inst`.
    pub fn instance_holds(&self, inst: usize) -> impl Iterator<Item = &Hold> {
        self.held
            .iter()
            .filter(move |(i, _)| *i as usize == inst)
            .map(|(_, h)| h)
    }

    /// Records `hold` on instance `inst`. A holder that already holds it keeps one hold, in the
    /// stronger mode (the same key twice in one RUN, `shared` then `locked`, takes the lock). Build
    /// the hold with [`crate::engine::Profile::hold`], which decides its lock generation.
    #[inline]
    pub fn grant(&mut self, inst: usize, hold: Hold) {
        let inst = inst as u32;
        match self
            .held
            .iter_mut()
            .find(|(i, h)| *i == inst && h.holder == hold.holder)
        {
            Some((_, h)) => {
                if hold.sharing >= h.sharing {
                    *h = hold;
                }
            }
            None => {
                if self.held.last().is_none_or(|(i, _)| *i <= inst) {
                    self.held.push((inst, hold));
                } else {
                    let at = self.held.partition_point(|(i, _)| *i <= inst);
                    self.held.insert(at, (inst, hold));
                }
            }
        }
    }

    /// Creates a new empty instance held by `hold`; returns its index.
    #[inline]
    pub fn create(&mut self, hold: Hold) -> usize {
        self.held.push((self.instances, hold));
        self.instances += 1;
        self.instances as usize - 1
    }

    /// Drops `holder`'s hold; returns the instance it was on, if any.
    #[inline]
    pub fn release(&mut self, holder: Holder) -> Option<usize> {
        let p = self.held.iter().position(|(_, h)| h.holder == holder)?;
        let inst = self.held[p].0;
        // The instance's last hold takes the released one's place (as a swap-remove would).
        // Holds are ordered by instance: when the list ends on this instance, that is its end.
        let mut last = p;
        if self.held.last().is_some_and(|(i, _)| *i == inst) {
            last = self.held.len() - 1;
        }
        while self.held.get(last + 1).is_some_and(|(i, _)| *i == inst) {
            last += 1;
        }
        if last + 1 == self.held.len() {
            self.held.swap_remove(p);
        } else {
            self.held.swap(p, last);
            self.held.remove(last);
        }
        if !self.split.is_empty() && self.is_free(inst as usize) {
            self.split.retain(|&i| i != inst);
        }
        Some(inst as usize)
    }

    /// Drops every hold of `owner` (its build process exited; the kernel drops its locks).
    pub fn release_owner(&mut self, owner: u32) {
        self.held.retain(|(_, h)| h.holder.owner != owner);
        let held = &self.held;
        self.split.retain(|&i| held.iter().any(|(j, _)| *j == i));
    }

    /// The instance `holder` holds, if any.
    #[inline]
    pub fn held_by(&self, holder: Holder) -> Option<usize> {
        self.held
            .iter()
            .find(|(_, h)| h.holder == holder)
            .map(|(i, _)| *i as usize)
    }

    /// The instance `holder` holds and its hold, if any.
    #[inline]
    pub fn hold_of(&self, holder: Holder) -> Option<(usize, Hold)> {
        self.held
            .iter()
            .find(|(_, h)| h.holder == holder)
            .map(|(i, h)| (*i as usize, *h))
    }

    /// Every current hold, with its instance index, ordered by instance.
    pub fn holds(&self) -> impl Iterator<Item = (usize, &Hold)> {
        self.held.iter().map(|(i, h)| (*i as usize, h))
    }

    /// Clears everything, keeping allocations (the explorer's reset).
    pub fn reset(&mut self) {
        self.held.clear();
        self.instances = 0;
        self.lock_gen = 0;
        self.dir_gen = 0;
        self.dropped.clear();
        self.split.clear();
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
