//! Buildah's cache-mount semantics (current and 1.28): key derivation and lock decisions.

use sha2::{Digest, Sha256};

use super::path::{clean, join};
use super::{
    BuildahVersion, CacheEnv, Decision, EngineError, Location, Profile, Quirk, RejectReason,
    Request,
};
use crate::mount::{MountSpec, Sharing};
use crate::store::table::{Holder, KeyState};

/// `GetTempDir`: `$TMPDIR` if set, else containers.conf `image_copy_tmp_dir`, else `/var/tmp`;
/// then `buildah-cache-<uid>` (current) or `buildah-cache` (1.28) below it.
pub(super) fn cache_parent(v: BuildahVersion, env: &CacheEnv) -> String {
    let tmp = env
        .tmpdir
        .clone()
        .or_else(|| env.image_copy_tmp_dir.clone().filter(|d| !d.is_empty()))
        .unwrap_or_else(|| "/var/tmp".to_string());
    match v {
        BuildahVersion::Current | BuildahVersion::V1_39 | BuildahVersion::Pool => {
            join(&tmp, &format!("buildah-cache-{}", env.host_uid))
        }
        BuildahVersion::V1_28 => join(&tmp, "buildah-cache"),
    }
}

pub(super) fn locate(
    p: &Profile,
    v: BuildahVersion,
    spec: &MountSpec,
    workdir: &str,
    env: &CacheEnv,
) -> Result<Location, EngineError> {
    let parent = cache_parent(v, env);
    let target = if spec.target.starts_with('/') {
        clean(&spec.target)
    } else if v == BuildahVersion::V1_28 {
        // Seen with the real 1.28.2: no WORKDIR resolution for cache targets.
        return Err(EngineError {
            problem: format!(
                "invalid container path {:?}, must be an absolute path",
                spec.target
            ),
        });
    } else {
        super::path::resolve(workdir, &spec.target)
    };
    let source = super::path::subpath(spec.source.as_deref());
    if let Some(from) = &spec.from {
        return Ok(from_stage(p, from, &source, &parent, spec, env));
    }
    let id = spec.id.clone().unwrap_or_else(|| target.clone());
    // The dir's name below the parent: the id itself (1.28), 16 hex of sha256(id) (1.39, seen on
    // the binary: `target=/test` → b306d9ff847c120d, semantics.md §6) or of sha256(id:uid:gid)
    // (upstream main).
    let dir_id = if p.has(Quirk::UnhashedId) {
        clean(&id)
    } else if v == BuildahVersion::V1_39 {
        hex16(&id)
    } else {
        hex16(&format!(
            "{}:{}:{}",
            id,
            spec.uid.unwrap_or(0),
            spec.gid.unwrap_or(0)
        ))
    };
    let dir = join(&parent, &dir_id);
    let lock_file = if p.has(Quirk::LockFileInCache) {
        join(&dir, "buildah-cache-lockfile")
    } else {
        join(
            &parent,
            &format!("buildah-cache-lockfiles/{dir_id}/buildah-cache-lockfile"),
        )
    };
    Ok(Location {
        contained: super::path::is_within(&dir, &parent),
        parent,
        dir,
        lock_file: (spec.sharing == Sharing::Locked).then_some(lock_file),
        id,
        // The real 1.28.2 ignores `source=` on a cache mount without `from=` (the file lands
        // in the cache dir itself; `tests/real_buildah.rs`); upstream mounts the subpath.
        subpath: if v == BuildahVersion::V1_28 {
            String::new()
        } else {
            source
        },
    })
}

/// The first 16 hex digits of sha256(`s`).
fn hex16(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Sha256::digest(s.as_bytes())[..8]
        .iter()
        .flat_map(|b| {
            [
                HEX[(b >> 4) as usize] as char,
                HEX[(b & 15) as usize] as char,
            ]
        })
        .collect()
}

/// `from=<stage|image>`: the stage's (image's) mount point in this build is the cache root, and
/// `source=` a dir inside it (seen on the real 1.28.2: the stage's files are there, writes last
/// for the rest of the build, nothing appears under the cache parent; `tests/real_buildah.rs`).
/// So the cache is the build's own: no other build sees it, and no prune reaches it. The lock
/// file is at the mount point's root (1.28, seen), or under
/// `buildah-cache-lockfiles/<digest of the mount point>` (upstream main, semantics.md §6).
fn from_stage(
    p: &Profile,
    from: &str,
    source: &str,
    parent: &str,
    spec: &MountSpec,
    env: &CacheEnv,
) -> Location {
    let root = format!(
        "/mount-of-{from}-in-{}",
        env.build.as_deref().unwrap_or("this-build")
    );
    let lock_file = if p.has(Quirk::LockFileInCache) {
        join(&root, "buildah-cache-lockfile")
    } else {
        join(
            parent,
            &format!(
                "buildah-cache-lockfiles/{}/buildah-cache-lockfile",
                hex16(&root)
            ),
        )
    };
    Location {
        dir: join(&root, source),
        parent: root,
        lock_file: (spec.sharing == Sharing::Locked).then_some(lock_file),
        id: from.to_string(),
        contained: true,
        subpath: String::new(),
    }
}

/// Holders of the key's current lock file of `<dir>` (older generations exclude nobody). With the
/// private pool, a private holder of `<dir>` holds that same lock file (semantics.md §6).
pub(super) fn lock_holders<'a>(
    p: &Profile,
    state: &'a KeyState,
) -> impl Iterator<Item = Holder> + 'a {
    let pool = p.engine == super::Engine::Buildah(BuildahVersion::Pool);
    state
        .holds()
        .filter(move |(inst, h)| {
            h.lock_gen == state.lock_gen
                && (h.sharing == Sharing::Locked
                    || (pool && h.sharing == Sharing::Private && *inst == 0))
        })
        .map(|(_, h)| h.holder)
}

/// The draft pool's private mount (buildah#7127): under the pool lock, TryLock `<dir>`, then
/// `<dir>-1`, `<dir>-2`, …; the first lock it gets is its dir, and with none free it makes the
/// next one. Shared users take no lock, so they do not count; locked and private ones do.
fn pool_private(state: &KeyState) -> Decision {
    let held = |i: usize| {
        state.holds().any(|(inst, h)| {
            inst == i
                && h.lock_gen == state.lock_gen
                && matches!(h.sharing, Sharing::Locked | Sharing::Private)
        })
    };
    (0..state.instance_count())
        .find(|&i| !held(i))
        .map_or(Decision::NewInstance, Decision::Grant)
}

#[inline]
pub(super) fn decide(p: &Profile, state: &KeyState, req: &Request) -> Decision {
    let existing = if state.instance_count() == 0 {
        Decision::NewInstance
    } else {
        Decision::Grant(0)
    };
    match req.sharing {
        // No coordination: one directory, everyone mounts it.
        Sharing::Shared => existing,
        Sharing::Private => {
            if p.has(Quirk::PrivateRejected) {
                Decision::Reject(RejectReason::UnsupportedSharing(Sharing::Private))
            } else if p.engine == super::Engine::Buildah(BuildahVersion::Pool) {
                pool_private(state)
            } else {
                super::buildkit::private(state, req)
            }
        }
        Sharing::Locked => {
            let mut holders = lock_holders(p, state);
            // A RUN that already holds this lock (any generation) re-uses it, unless the lock
            // is not re-entrant: then it locks again, and waits on itself if the file is current.
            let mine = state
                .holds()
                .any(|(_, h)| h.holder == req.holder && h.sharing == Sharing::Locked);
            if mine && !p.has(Quirk::NonReentrantLock) {
                return existing;
            }
            // The process's own lock on a removed file, never released, still holds the
            // in-process lock object of that path.
            let stale_mine = p.has(Quirk::StaleLockNeverReleased)
                && state.holds().any(|(_, h)| {
                    h.holder.owner == req.holder.owner
                        && h.holder != req.holder
                        && h.sharing == Sharing::Locked
                        && h.lock_gen != state.lock_gen
                });
            if holders.next().is_some() || stale_mine {
                Decision::Wait
            } else {
                existing
            }
        }
    }
}
