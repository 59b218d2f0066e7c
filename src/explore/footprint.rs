//! The dependency relation of the exhaustive search: what each event reads and writes of the
//! shared state, and when two events conflict. [`super::Machine::footprint`] computes an
//! event's footprint from the state it runs in, beside the effects it summarises
//! (`Machine::apply`); this module says which footprints conflict.
//!
//! Two events of different tests are *independent* when their footprints do not conflict:
//! then, from any state where both can move, either order reaches the same state and neither
//! disables the other (checked on generated programs in `tests/por.rs`). The resources:
//! - a file of one instance of a cache dir ([`Res::Cell`]), or all files of one instance or of a
//!   key (a wipe, a prune): reads commute with reads; writes, appends and removals of one file
//!   commute with nothing on it; files of one dir are separate resources;
//! - a key's shared holds ([`Res::Shared`]): a shared acquire or release *adds to* or *removes
//!   from* the set its own holder's entry, and such changes commute with each other;
//! - a key's locked and private holds and its instances ([`Res::Excl`]): a locked or private
//!   acquire reads every hold (the engine's decision) and writes this set, and so does a
//!   locked release; a shared acquire reads it (BuildKit picks an instance by it, and the
//!   oracles look at it);
//! - a key's lock-file and directory generations ([`Res::Gen`]): written by what removes the
//!   dir or its lock file (a wipe of an outer dir, a prune), read by every mount and file
//!   operation through the key (a mount records them; an operation checks its dir is still
//!   there).
//!
//! - a layer that several builds make alike ([`Res::Layer`]): read by the start of a RUN that
//!   reuses it where it is cached, written by a start that claims its execution (BuildKit's
//!   merge) and by the end of a RUN that ran and made it.
//! - a point in a thread of one build whose stages run at once ([`Res::Signal`]): written by
//!   the event that reaches it, read by the join that waits for it. Such a pair is always in
//!   that order, so it orders what follows the join after what came before the signal, and
//!   never needs reversing.
//!
//! Keys whose dirs nest keep their files in the outer key's cells, so a file is named by the
//! key that stores it; removals list exactly what they remove on disk.

use smallvec::SmallVec;

/// How an event uses a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Looks at it.
    Read,
    /// Adds or removes its own entry (commutes with other tests' entries).
    Add,
    /// Changes it.
    Write,
}

/// A piece of the shared state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Res {
    /// One file (cell) of one instance of the key that stores it.
    Cell {
        /// Storing key.
        key: u32,
        /// Instance.
        inst: u32,
        /// Cell.
        cell: u32,
    },
    /// Every file of one instance of a key.
    Instance {
        /// Storing key.
        key: u32,
        /// Instance.
        inst: u32,
    },
    /// Every file of every instance of a key.
    Files {
        /// Storing key.
        key: u32,
    },
    /// The key's lock-file and directory generations.
    Gen {
        /// Key.
        key: u32,
    },
    /// The key's shared holds.
    Shared {
        /// Key.
        key: u32,
    },
    /// The key's locked and private holds and its instance count.
    Excl {
        /// Key.
        key: u32,
    },
    /// Whether a layer several builds make alike is cached, being run, or not there.
    Layer {
        /// Index into the program's layers.
        id: u32,
    },
    /// Whether a thread has taken its first `events` events: written by the event that takes
    /// it there, read by a join that waits for it (so the join happens after it; it can never
    /// come first, so the two never race).
    Signal {
        /// The thread.
        thread: u32,
        /// Events taken.
        events: u32,
    },
}

impl Res {
    /// Whether the two name overlapping state.
    pub fn overlaps(self, other: Res) -> bool {
        use Res::*;
        match (self, other) {
            (
                Cell {
                    key: a,
                    inst: i,
                    cell: c,
                },
                Cell {
                    key: b,
                    inst: j,
                    cell: d,
                },
            ) => a == b && i == j && c == d,
            (
                Cell {
                    key: a, inst: i, ..
                },
                Instance { key: b, inst: j },
            )
            | (
                Instance { key: b, inst: j },
                Cell {
                    key: a, inst: i, ..
                },
            )
            | (Instance { key: a, inst: i }, Instance { key: b, inst: j }) => a == b && i == j,
            (
                Cell { key: a, .. } | Instance { key: a, .. } | Files { key: a },
                Files { key: b },
            )
            | (Files { key: a }, Cell { key: b, .. } | Instance { key: b, .. }) => a == b,
            (Gen { key: a }, Gen { key: b })
            | (Shared { key: a }, Shared { key: b })
            | (Excl { key: a }, Excl { key: b })
            | (Layer { id: a }, Layer { id: b }) => a == b,
            (
                Signal {
                    thread: a,
                    events: i,
                },
                Signal {
                    thread: b,
                    events: j,
                },
            ) => a == b && i == j,
            _ => false,
        }
    }
}

/// One use of one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// What.
    pub res: Res,
    /// How.
    pub mode: Mode,
}

/// Whether two uses conflict: they overlap and are not both reads or both own-entry changes.
#[inline]
pub fn access_conflict(a: Access, b: Access) -> bool {
    let compatible = matches!(
        (a.mode, b.mode),
        (Mode::Read, Mode::Read) | (Mode::Add, Mode::Add)
    );
    !compatible && a.res.overlaps(b.res)
}

/// Everything one event does to the shared state (empty: it only touches its own test's
/// state, such as a build's failure or output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Footprint(pub SmallVec<[Access; 4]>);

impl Footprint {
    /// Adds a use.
    pub fn push(&mut self, res: Res, mode: Mode) {
        self.0.push(Access { res, mode });
    }

    /// Whether two events with these footprints are dependent.
    pub fn conflicts(&self, other: &Footprint) -> bool {
        self.0
            .iter()
            .any(|&a| other.0.iter().any(|&b| access_conflict(a, b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(list: &[(Res, Mode)]) -> Footprint {
        let mut f = Footprint::default();
        for &(r, m) in list {
            f.push(r, m);
        }
        f
    }

    #[test]
    fn the_relation_as_the_issue_states_it() {
        let cell = |c| Res::Cell {
            key: 0,
            inst: 0,
            cell: c,
        };
        let w = |c| fp(&[(cell(c), Mode::Write)]);
        let r = |c| fp(&[(cell(c), Mode::Read)]);
        assert!(!w(0).conflicts(&w(1)), "different files of one dir commute");
        assert!(!r(0).conflicts(&r(0)), "reads commute with reads");
        assert!(
            w(0).conflicts(&w(0)),
            "writes (and appends) to one file do not"
        );
        assert!(w(0).conflicts(&r(0)));
        let wipe = fp(&[(Res::Instance { key: 0, inst: 0 }, Mode::Write)]);
        assert!(
            wipe.conflicts(&r(7))
                && !wipe.conflicts(&fp(&[(Res::Instance { key: 0, inst: 1 }, Mode::Read)]))
        );
        let shared = fp(&[
            (Res::Excl { key: 0 }, Mode::Read),
            (Res::Shared { key: 0 }, Mode::Add),
        ]);
        let locked = fp(&[
            (Res::Shared { key: 0 }, Mode::Read),
            (Res::Excl { key: 0 }, Mode::Write),
        ]);
        assert!(!shared.conflicts(&shared), "shared acquires commute");
        assert!(shared.conflicts(&locked) && locked.conflicts(&locked));
    }
}
