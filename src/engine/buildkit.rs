//! BuildKit's cache-mount semantics: keys in the daemon, several instances per key.

use super::{CacheEnv, Decision, Location, Profile, Quirk, Request};
use crate::mount::{MountSpec, Sharing};
use crate::store::table::KeyState;

/// The key: `[ns/]id`, with id defaulting to `path.Clean(target)`; `from` adds a base ref, and so
/// do uid/gid/mode unless `source` is set, so each distinct combination is its own cache (§2;
/// `dispatchRunMounts` in `convert_runmount.go`: with a source the mount is `SourcePath(src)` of
/// the base state, without one uid/gid/mode make a `/cache` dir in it). `source` is not part of
/// the key: it picks the subdirectory the mount shows.
pub(super) fn locate(spec: &MountSpec, env: &CacheEnv) -> Location {
    let id = spec
        .id
        .clone()
        .unwrap_or_else(|| super::path::clean(&spec.target));
    let mut key = match &env.buildkit_namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{id}"),
        _ => id.clone(),
    };
    let subpath = super::path::subpath(spec.source.as_deref());
    let owner =
        subpath.is_empty() && (spec.uid.is_some() || spec.gid.is_some() || spec.mode.is_some());
    if spec.from.is_some() || owner {
        let from = spec.from.as_deref().unwrap_or("scratch");
        key = if owner {
            let mode = spec.mode.unwrap_or(0o755);
            let (uid, gid) = (spec.uid.unwrap_or(0), spec.gid.unwrap_or(0));
            format!("base(from={from},uid={uid},gid={gid},mode=0{mode:o})-{key}")
        } else {
            format!("base(from={from})-{key}")
        };
    }
    Location {
        parent: "buildkit-daemon".to_string(),
        dir: key,
        lock_file: None,
        id,
        contained: true,
        subpath,
    }
}

/// Whether the cache of `spec` is indexed by its id alone, which is what a `--no-cache` build
/// clears (`Worker.PruneCacheMounts` searches `cache-dir:<id>`); a mount on a parent ref
/// (`from=`, or uid/gid/mode, which make a `/cache` dir in one) is indexed `<id>:<ref>` and
/// survives (BuildKit v0.13; moby/buildkit#5306 prunes those too).
pub(super) fn indexed_by_id(spec: &MountSpec) -> bool {
    let owner = super::path::subpath(spec.source.as_deref()).is_empty()
        && (spec.uid.is_some() || spec.gid.is_some() || spec.mode.is_some());
    spec.from.is_none() && !owner
}

/// The first instance a search finds that nobody holds.
fn first_free(state: &KeyState) -> Option<usize> {
    (0..state.instance_count()).find(|&i| state.is_free(i) && state.is_indexed(i))
}

/// Private: the first instance nobody holds, else a new one.
pub(super) fn private(state: &KeyState, _req: &Request) -> Decision {
    first_free(state).map_or(Decision::NewInstance, Decision::Grant)
}

pub(super) fn decide(p: &Profile, state: &KeyState, req: &Request) -> Decision {
    // The same key twice in one RUN gets the same instance in every mode.
    if let Some(i) = state.held_by(req.holder) {
        return Decision::Grant(i);
    }
    match req.sharing {
        Sharing::Shared => {
            // The active shared ref (`sharedCacheRefs`), unless a `--no-cache` build made the
            // daemon forget it.
            let shared = (0..state.instance_count()).find(|&i| {
                !state.is_free(i)
                    && state.is_joinable(i)
                    && state
                        .instance_holds(i)
                        .all(|h| h.sharing == Sharing::Shared)
            });
            if let Some(i) = shared.or_else(|| first_free(state)) {
                Decision::Grant(i)
            } else if p.has(Quirk::SharedBypassesHolders) || state.indexed_count() == 0 {
                Decision::NewInstance
            } else {
                Decision::Wait
            }
        }
        Sharing::Private => private(state, req),
        Sharing::Locked => match first_free(state) {
            Some(i) => Decision::Grant(i),
            None if state.indexed_count() == 0 => Decision::NewInstance,
            None => Decision::Wait,
        },
    }
}
