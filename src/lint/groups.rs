//! Cache groups: a build's RUNs split by the caches they touch, so that parallel copies of a
//! build with many independent caches (apt, cargo, go, npm, pip) can be proved one group at a
//! time instead of in the product of their interleavings.
//!
//! Two RUNs are in one group when they mount one cache dir, or dirs that nest (Buildah keeps
//! nested caches as one tree). Every event of a RUN touches only its own caches, and events on
//! different caches commute (`explore::footprint`), so the state of a group's caches depends
//! only on the order of that group's events. The projection of the builds onto one group (each
//! build keeps only that group's RUNs) has *more* behaviours than the whole build restricted to
//! the group: it drops the order other groups' lock hand-offs impose between builds, and it runs
//! RUNs that a build which failed earlier would skip; both only add schedules, and the
//! projection's tests can always be delayed to reproduce a prefix of the whole. So if every
//! group's projection holds exhaustively, the whole does (a compositional exhaustive proof). A
//! deadlock needs a cycle of holds that a RUN keeps while it waits, and a RUN holds only its own
//! group's caches, except where an engine keeps locks past a RUN (Buildah 1.28 releases only a
//! RUN's last lock) or a prune spans every cache: there the split is not made.
//!
//! A violation a projection finds may be one of its extra behaviours, so `lint` never reports it
//! as is: it looks for it on the whole build.

use crate::engine::{CacheEnv, Engine, Profile, Quirk};
use crate::mount::Sharing;
use crate::scenario::RunStep;

/// The RUN indices of each group, in order, when the split is sound and gives two groups or
/// more.
pub fn split(runs: &[RunStep], engine: Engine, prune: bool) -> Option<Vec<Vec<usize>>> {
    let profile = Profile::new(engine);
    if prune {
        return None;
    }
    let leaks = profile.has(Quirk::OnlyLastLockReleased)
        && runs.iter().any(|r| {
            r.mounts
                .iter()
                .filter(|m| m.sharing == Sharing::Locked)
                .count()
                > 1
        });
    if leaks || runs.iter().any(|r| r.unmount_fails) {
        return None;
    }
    let dirs: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            r.mounts
                .iter()
                .map(|m| match &m.from {
                    // A from= cache is the build's own: it meets only its own RUNs.
                    Some(f) => format!("from:{f}"),
                    None => profile
                        .locate(m, &r.workdir, &CacheEnv::default())
                        .map(|l| l.dir)
                        .unwrap_or_else(|_| format!("unlocatable:{}", m.target)),
                })
                .collect()
        })
        .collect();
    let meet = |a: &str, b: &str| {
        a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
    };
    let mut group: Vec<usize> = (0..runs.len()).collect();
    fn root(g: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while g[r] != r {
            r = g[r];
        }
        g[i] = r;
        r
    }
    for i in 0..runs.len() {
        for j in 0..i {
            if dirs[i].iter().any(|a| dirs[j].iter().any(|b| meet(a, b))) {
                let (ri, rj) = (root(&mut group, i), root(&mut group, j));
                group[ri] = rj;
            }
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    for i in 0..runs.len() {
        let r = root(&mut group, i);
        match roots.iter().position(|&x| x == r) {
            Some(k) => out[k].push(i),
            None => {
                roots.push(r);
                out.push(vec![i]);
            }
        }
    }
    (out.len() > 1).then_some(out)
}
