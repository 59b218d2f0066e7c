//! Buildah's caches as the host filesystem has them: every cache dir is a real directory below
//! its parent, so dirs can nest (`target=/a` and `target=/a/b` in 1.28, whose dirs are
//! `<parent>/a` and `<parent>/a/b`), a file written through one mount is read through the
//! other, and an `rm -rf` removes whatever lies below it: files, inner cache dirs and lock
//! files. Seen on the real 1.28.2 (semantics.md §6; `tests/real_buildah.rs`). BuildKit's caches
//! are snapshots in the daemon, never nested, so none of this applies there.
//!
//! Worked out once at compile time from paths; the executor only applies the results.

use std::collections::{BTreeSet, HashMap};

use super::program::{Event, KeyInfo, NO_REMOVAL, Removal, TestProgram};
use crate::engine::path::{is_within, join};

/// The outermost cache dir containing each key's dir (itself when none does).
pub(crate) fn roots(keys: &[KeyInfo]) -> Vec<usize> {
    (0..keys.len())
        .map(|k| {
            (0..keys.len())
                .filter(|&r| is_within(&keys[k].loc.dir, &keys[r].loc.dir))
                .min_by_key(|&r| (keys[r].loc.dir.len(), r))
                .unwrap_or(k)
        })
        .collect()
}

/// `abs` relative to `dir`, when it lies strictly below it.
fn below<'a>(abs: &'a str, dir: &str) -> Option<&'a str> {
    let rest = abs.strip_prefix(dir)?;
    if dir == "/" {
        return (!rest.is_empty()).then_some(rest);
    }
    rest.strip_prefix('/').filter(|r| !r.is_empty())
}

/// Re-homes every operation's file in the outermost dir that holds it, and works out each
/// removal in `at` (test, event, removed path, contents only) over the files, dirs and lock
/// files known to the program. Returns the removals; the events point into them.
pub(crate) fn place(
    tests: &mut [TestProgram],
    keys: &[KeyInfo],
    root: &[usize],
    files: &mut Vec<String>,
    file_ids: &mut HashMap<String, u32>,
    at: Vec<(usize, usize, String, bool)>,
) -> Vec<Removal> {
    let mut used: BTreeSet<(u32, u32)> = BTreeSet::new();
    for t in tests.iter_mut() {
        for e in &mut t.events {
            if let Event::Op {
                key,
                file,
                store,
                cell,
                ..
            } = e
            {
                let (k, r) = (*key as usize, root[*key as usize]);
                let abs = join(&keys[k].loc.dir, &files[*file as usize]);
                if let Some(rel) = below(&abs, &keys[r].loc.dir) {
                    *store = r as u32;
                    *cell = super::program::intern(files, file_ids, rel);
                }
                used.insert((*store, *cell));
            }
        }
    }
    let mut removals = Vec::new();
    for (ti, ei, path, contents_only) in at {
        let gone = |p: &str| is_within(p, &path) && !(contents_only && p == path);
        let removal = Removal {
            cells: used
                .iter()
                .copied()
                .filter(|&(s, c)| gone(&join(&keys[s as usize].loc.dir, &files[c as usize])))
                .collect(),
            dirs: (0..keys.len() as u32)
                .filter(|&k| gone(&keys[k as usize].loc.dir))
                .collect(),
            locks: (0..keys.len() as u32)
                .filter(|&k| keys[k as usize].loc.lock_file.as_deref().is_some_and(gone))
                .collect(),
        };
        let id = removals.len() as u32;
        removals.push(removal);
        match &mut tests[ti].events[ei] {
            Event::Op { removal, .. }
            | Event::Prune { removal, .. }
            | Event::Teardown { removal, .. } => *removal = id,
            _ => unreachable!("removals are at wipes, prunes and teardowns"),
        }
    }
    debug_assert!(removals.len() < NO_REMOVAL as usize);
    removals
}

/// Per key (at most 64), the bit set of the keys in its tree on disk (`root` from
/// [`roots`]; on BuildKit every key is its own root) — an event on one may touch what the
/// others see.
pub(crate) fn groups(root: &[usize]) -> Vec<u64> {
    (0..root.len())
        .map(|k| {
            (0..root.len())
                .filter(|&j| root[j] == root[k])
                .fold(0, |b, j| b | 1 << j)
        })
        .collect()
}
