//! Cache-mount semantics, decided in one place: where a mount's cache lives, and what a concurrent
//! request for it gets. Pure functions over [`crate::store::table`]; every driver calls these.
//!
//! Each engine behaviour that is a hazard is a named [`Quirk`] that can be switched off, so the
//! explorer can both find the hazard and verify the fix. References are to
//! `../shared/design/semantics.md` (§ numbers) and to the real-binary findings in the README.

mod buildah;
mod buildkit;
pub mod path;

use std::fmt;

use crate::mount::{Dialect, MountSpec, Sharing};
use crate::store::table::{Hold, Holder, KeyState};

/// The Buildah release whose behaviour is modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuildahVersion {
    /// 1.28 (Debian 12): `<tmp>/buildah-cache/<id>`, lock file inside the cache dir.
    V1_28,
    /// 1.39 (Debian 13, seen on the binary, semantics.md §6): `<tmp>/buildah-cache-<uid>/` and 16
    /// hex of sha256 of the id (or target) alone: uid and gid are not in the key.
    V1_39,
    /// Current: `<tmp>/buildah-cache-<uid>/<hash>`, lock files beside the caches.
    Current,
    /// Upstream main with the draft `sharing=private` pool (podman#27188, buildah#7127;
    /// unreleased): as `Current`, and a private mount takes the first of `<dir>`, `<dir>-1`, …
    /// whose lock file it can TryLock (semantics.md §6 "upstream main").
    Pool,
}

/// A container build engine with its own cache-mount semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    /// moby/buildkit: caches live in the daemon, several instances per key.
    BuildKit,
    /// containers/buildah (and podman build): caches under `$TMPDIR` of the building process.
    Buildah(BuildahVersion),
}

impl Engine {
    /// Every modelled engine profile of a released engine or of upstream main.
    pub const ALL: [Engine; 4] = [
        Engine::BuildKit,
        Engine::Buildah(BuildahVersion::Current),
        Engine::Buildah(BuildahVersion::V1_39),
        Engine::Buildah(BuildahVersion::V1_28),
    ];

    /// Profiles of draft upstream work (`buildah@pool`): explored, never a default.
    pub const DRAFTS: [Engine; 1] = [Engine::Buildah(BuildahVersion::Pool)];

    /// The profiles of released engines (upstream Buildah main is not one): what `lint` covers
    /// by default.
    pub const RELEASED: [Engine; 3] = [
        Engine::BuildKit,
        Engine::Buildah(BuildahVersion::V1_39),
        Engine::Buildah(BuildahVersion::V1_28),
    ];

    /// Where this profile's rules come from: a binary seen here, or a source reading.
    pub fn source(self) -> &'static str {
        match self {
            Engine::BuildKit => {
                "BuildKit as in Docker 26.1 (moby/buildkit solver/llbsolver/mounts/mount.go; semantics.md §3, §6; checked on the Docker 26.1.5 daemon by tests/real_current.rs)"
            }
            Engine::Buildah(BuildahVersion::Current) => {
                "upstream Buildah main (unreleased; stored source internal/volumes/volumes.go: key sha256(id:uid:gid))"
            }
            Engine::Buildah(BuildahVersion::V1_39) => {
                "Buildah 1.39.3 (Debian 13 binary, semantics.md §6: key sha256(id), uid/gid not in it; checked with podman 5.4.2 by tests/real_current.rs)"
            }
            Engine::Buildah(BuildahVersion::V1_28) => {
                "Buildah 1.28.2 (Debian 12 binary, checked by tests/real_buildah.rs)"
            }
            Engine::Buildah(BuildahVersion::Pool) => {
                "upstream Buildah main with the draft sharing=private pool (unreleased: podman#27188, buildah#7127; semantics.md §6)"
            }
        }
    }

    /// The option grammar this engine parses `--mount=` with.
    pub fn dialect(self) -> Dialect {
        match self {
            Engine::BuildKit => Dialect::BuildKit,
            Engine::Buildah(BuildahVersion::Current | BuildahVersion::V1_39) => Dialect::Buildah,
            Engine::Buildah(BuildahVersion::V1_28) => Dialect::Buildah128,
            Engine::Buildah(BuildahVersion::Pool) => Dialect::BuildahPool,
        }
    }

    /// The quirks this engine has out of the box.
    pub fn default_quirks(self) -> Quirks {
        use Quirk::*;
        match self {
            Engine::BuildKit => Quirks::of(&[SharedBypassesHolders]),
            Engine::Buildah(v) => {
                let mut q = Quirks::of(&[
                    NonReentrantLock,
                    FlagOrderLocking,
                    PruneWithoutLock,
                    UnlockSkippedOnUnmountError,
                    PrivateRejected,
                ]);
                if v == BuildahVersion::Pool {
                    q = q.without(PrivateRejected);
                }
                if v == BuildahVersion::V1_28 {
                    q = q
                        .with(LockFileInCache)
                        .with(UnhashedId)
                        .with(OnlyLastLockReleased)
                        .with(StaleLockNeverReleased);
                }
                q
            }
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::BuildKit => "buildkit",
            Engine::Buildah(BuildahVersion::Current) => "buildah",
            Engine::Buildah(BuildahVersion::V1_39) => "buildah@1.39",
            Engine::Buildah(BuildahVersion::V1_28) => "buildah@1.28",
            Engine::Buildah(BuildahVersion::Pool) => "buildah@pool",
        })
    }
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "buildkit" => Ok(Engine::BuildKit),
            "buildah" | "buildah@current" => Ok(Engine::Buildah(BuildahVersion::Current)),
            "buildah@1.39" => Ok(Engine::Buildah(BuildahVersion::V1_39)),
            "buildah@1.28" => Ok(Engine::Buildah(BuildahVersion::V1_28)),
            "buildah@pool" => Ok(Engine::Buildah(BuildahVersion::Pool)),
            _ => Err(format!(
                "unknown engine {s:?} (want buildkit, buildah, buildah@current, buildah@pool, buildah@1.39 or buildah@1.28)"
            )),
        }
    }
}

/// A named engine hazard, modelled so that it can be found and switched off (the fix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Quirk {
    /// Buildah: the in-process lock is not re-entrant, so the same locked key twice in one RUN
    /// waits on itself (§3 "The in-process mutex is not re-entrant"). Fix: the RUN reuses its lock.
    NonReentrantLock,
    /// Buildah: locks are taken in `--mount` flag order, so two RUNs naming two locked caches in
    /// opposite orders can deadlock (§3 "Locks are taken in the order of the --mount flags").
    /// Fix: take them sorted by lock path.
    FlagOrderLocking,
    /// Buildah: `buildah prune` removes the cache parent, lock files included, without taking any
    /// lock (§3 "prune"). Fix: prune waits until no locked holder remains.
    PruneWithoutLock,
    /// Buildah: `cleanupRunMounts` returns early on an unmount error before it unlocks, so the lock
    /// stays held for the life of the process (§3). Fix: unlock regardless.
    UnlockSkippedOnUnmountError,
    /// Buildah 1.28: the lock file is `<cache dir>/buildah-cache-lockfile`, so a RUN that wipes the
    /// cache removes it and the next locker locks a fresh file (§2, buildah#4342). Fix: lock files
    /// outside the cache dir (buildah PR #4349).
    LockFileInCache,
    /// BuildKit: a `shared` request while a locked or private holder has the instance gets a new
    /// empty instance instead of waiting (§3 "mixing"). Fix: the shared request waits.
    SharedBypassesHolders,
    /// Buildah: `sharing=private` is rejected (§1, podman#27188). Fix: BuildKit's private semantics.
    PrivateRejected,
    /// Buildah 1.28: at the end of a RUN only the lock of its *last* cache mount is released; a
    /// locked mount followed by another cache mount stays locked for the life of the process
    /// (seen with the real 1.28.2 / podman 4.3.1: three locked mounts a, b, c leave a and b
    /// locked in the podman server after the build; locally the exiting process frees them).
    /// Fix: release every lock of the RUN.
    OnlyLastLockReleased,
    /// Buildah 1.28: the id is used as a path, so `id=../x` leaves the cache parent (§2,
    /// CVE-2024-9675; the real Debian 1.28.2 writes outside the parent). Fix: hash the id.
    UnhashedId,
    /// Buildah 1.28: a lock whose file was removed while it was held (the lock file lives in the
    /// cache, so the RUN's own `rm -rf <target>/*` removes it) is not released at the RUN's end,
    /// and the process's own next lock of that cache waits for ever on it. Locally the build's
    /// process exits; a podman server keeps it, so its next locked build of that cache hangs.
    /// Seen on podman 4.3.1 / Buildah 1.28.2 for the RUN's own wipe (`tests/real_engines.rs`,
    /// the proptest seed in `proptest-regressions/real_engines.txt`); the model applies it to any
    /// removal of the file under the hold, which was not tried. Fix: release it regardless.
    StaleLockNeverReleased,
}

impl Quirk {
    /// Every quirk, in declaration order.
    pub const ALL: [Quirk; 10] = [
        Quirk::NonReentrantLock,
        Quirk::FlagOrderLocking,
        Quirk::PruneWithoutLock,
        Quirk::UnlockSkippedOnUnmountError,
        Quirk::LockFileInCache,
        Quirk::SharedBypassesHolders,
        Quirk::PrivateRejected,
        Quirk::OnlyLastLockReleased,
        Quirk::UnhashedId,
        Quirk::StaleLockNeverReleased,
    ];

    /// The kebab-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Quirk::NonReentrantLock => "non-reentrant-lock",
            Quirk::FlagOrderLocking => "flag-order-locking",
            Quirk::PruneWithoutLock => "prune-without-lock",
            Quirk::UnlockSkippedOnUnmountError => "unlock-skipped-on-unmount-error",
            Quirk::LockFileInCache => "lock-file-in-cache",
            Quirk::SharedBypassesHolders => "shared-bypasses-holders",
            Quirk::PrivateRejected => "private-rejected",
            Quirk::OnlyLastLockReleased => "only-last-lock-released",
            Quirk::UnhashedId => "unhashed-id",
            Quirk::StaleLockNeverReleased => "stale-lock-never-released",
        }
    }
}

impl std::str::FromStr for Quirk {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Quirk::ALL
            .into_iter()
            .find(|q| q.name() == s)
            .ok_or_else(|| format!("unknown quirk {s:?}"))
    }
}

/// A set of quirks (a bit set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Quirks(u16);

impl Quirks {
    /// The set of the given quirks.
    pub fn of(qs: &[Quirk]) -> Quirks {
        qs.iter().fold(Quirks(0), |s, q| s.with(*q))
    }
    /// This set plus `q`.
    pub fn with(self, q: Quirk) -> Quirks {
        Quirks(self.0 | 1 << q as u8)
    }
    /// This set less `q` (the fix for `q` switched on).
    pub fn without(self, q: Quirk) -> Quirks {
        Quirks(self.0 & !(1 << q as u8))
    }
    /// Whether `q` is in the set.
    pub fn has(self, q: Quirk) -> bool {
        self.0 & (1 << q as u8) != 0
    }
    /// The quirks in the set.
    pub fn iter(self) -> impl Iterator<Item = Quirk> {
        Quirk::ALL.into_iter().filter(move |q| self.has(*q))
    }
}

/// The environment that decides where caches live: that of the process that runs the build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CacheEnv {
    /// `$TMPDIR` of the building process (`Some("")` counts as set, as Go's `LookupEnv` does).
    pub tmpdir: Option<String>,
    /// `image_copy_tmp_dir` from containers.conf.
    pub image_copy_tmp_dir: Option<String>,
    /// The host uid of the building process (current Buildah suffixes the parent with it).
    pub host_uid: u32,
    /// BuildKit's `BUILDKIT_CACHE_MOUNT_NS` build-arg.
    pub buildkit_namespace: Option<String>,
    /// Which build mounts (any name unique to it): on Buildah a `from=<stage>` cache is that
    /// stage's mount point in this build, so no other build sees it.
    pub build: Option<String>,
}

/// Where a mount's cache lives, as the engine derives it (§2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The cache parent directory (Buildah), or `buildkit-daemon` (BuildKit).
    pub parent: String,
    /// The cache directory (Buildah), or the cache key within the daemon (BuildKit).
    pub dir: String,
    /// The lock file's path, for `sharing=locked` on Buildah.
    pub lock_file: Option<String>,
    /// The id the key was derived from (after defaults).
    pub id: String,
    /// Whether the cache dir lies inside the cache parent (false is a path-containment breach;
    /// always true for BuildKit, whose keys are not paths).
    pub contained: bool,
    /// The subdirectory of the cache that the mount shows (`source=`, cleaned and relative;
    /// empty for the whole cache): a file `f` through the mount is `subpath/f` in the cache.
    pub subpath: String,
}

/// A mount the engine refuses, with the engine's own wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError {
    /// What the engine says.
    pub problem: String,
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)
    }
}

impl std::error::Error for EngineError {}

/// A request by one RUN for one cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The RUN asking.
    pub holder: Holder,
    /// The mode asked for.
    pub sharing: Sharing,
}

/// What a request gets (§3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Mount this existing instance.
    Grant(usize),
    /// Create a new, empty instance and mount it.
    NewInstance,
    /// Block until the key's holders change.
    Wait,
    /// The engine refuses the request.
    Reject(RejectReason),
}

/// Why a request is refused at decision time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The engine does not support this sharing mode.
    UnsupportedSharing(Sharing),
}

/// An engine with the quirks in force: the unit every driver asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    /// The engine.
    pub engine: Engine,
    /// The hazards in force (the engine's defaults unless switched).
    pub quirks: Quirks,
}

impl Profile {
    /// The engine with its default quirks.
    pub fn new(engine: Engine) -> Profile {
        Profile {
            engine,
            quirks: engine.default_quirks(),
        }
    }

    /// This profile with `q` switched off (its fix applied).
    pub fn fixed(mut self, q: Quirk) -> Profile {
        self.quirks = self.quirks.without(q);
        self
    }

    /// Whether `q` is in force.
    pub fn has(&self, q: Quirk) -> bool {
        self.quirks.has(q)
    }

    /// Parses a `--mount=` option string in this engine's dialect.
    pub fn parse_mount(&self, opts: &str) -> Result<MountSpec, crate::mount::MountError> {
        crate::mount::parse(opts, self.engine.dialect())
    }

    /// The cache parent for a build running with `env` (§2).
    pub fn cache_parent(&self, env: &CacheEnv) -> String {
        match self.engine {
            Engine::BuildKit => "buildkit-daemon".to_string(),
            Engine::Buildah(v) => buildah::cache_parent(v, env),
        }
    }

    /// Where `spec` (a cache mount in a RUN whose WORKDIR is `workdir`) lives for a build in `env`.
    pub fn locate(
        &self,
        spec: &MountSpec,
        workdir: &str,
        env: &CacheEnv,
    ) -> Result<Location, EngineError> {
        match self.engine {
            Engine::BuildKit => Ok(buildkit::locate(spec, env)),
            Engine::Buildah(v) => buildah::locate(self, v, spec, workdir, env),
        }
    }

    /// The directory of instance `inst` of a located cache: Buildah has one per key (the cache dir);
    /// BuildKit keeps several per key inside the daemon (modelled below `/buildkit-daemon/`).
    pub fn instance_dir(&self, loc: &Location, inst: usize) -> String {
        match self.engine {
            // The pool's further dirs sit beside the first (upstream draft, semantics.md §6).
            Engine::Buildah(_) if inst > 0 => format!("{}-{inst}", loc.dir),
            Engine::Buildah(_) => loc.dir.clone(),
            Engine::BuildKit => {
                let key: String = loc.dir.bytes().map(|b| format!("{b:02x}")).collect();
                format!("/buildkit-daemon/{key}/{inst}")
            }
        }
    }

    /// What `req` gets, given the key's current holders (§3).
    #[inline]
    pub fn decide(&self, state: &KeyState, req: &Request) -> Decision {
        match self.engine {
            Engine::BuildKit => buildkit::decide(self, state, req),
            Engine::Buildah(_) => buildah::decide(self, state, req),
        }
    }

    /// Whether [`Profile::decide`] can ever answer a request in mode `sharing` with
    /// [`Decision::Wait`], whatever the holders: on Buildah only a locked mount waits (a shared
    /// one takes no lock, a private one is rejected or takes a free or new dir); on BuildKit a
    /// shared or locked one may wait for a free instance, a private one never does. The
    /// executor looks again at a waiting mount only when this says it may wait.
    pub fn may_wait(&self, sharing: Sharing) -> bool {
        match self.engine {
            Engine::BuildKit => sharing != Sharing::Private,
            Engine::Buildah(_) => sharing == Sharing::Locked,
        }
    }

    /// The hold a granted `req` records. A RUN that re-uses its own lock keeps that lock's
    /// generation; any other locker locks the key's current lock file.
    #[inline]
    pub fn hold(&self, state: &KeyState, req: &Request) -> Hold {
        let reused = state
            .holds()
            .find(|(_, h)| h.holder == req.holder && h.sharing == Sharing::Locked)
            .filter(|_| !self.has(Quirk::NonReentrantLock) || self.engine == Engine::BuildKit);
        Hold {
            holder: req.holder,
            sharing: req.sharing,
            lock_gen: reused.map_or(state.lock_gen, |(_, h)| h.lock_gen),
            dir_gen: state.dir_gen,
        }
    }

    /// Whether a RUN's hold is released at its end, given the key's lock generation now: not a
    /// locked hold whose lock file was removed under it, with [`Quirk::StaleLockNeverReleased`].
    pub fn releases_hold(&self, hold: &Hold, state: &KeyState) -> bool {
        !(self.has(Quirk::StaleLockNeverReleased)
            && hold.sharing == Sharing::Locked
            && hold.lock_gen != state.lock_gen)
    }

    /// The holders a waiting request for this key waits for (for wait-for graphs and deadlock reports).
    pub fn blockers(&self, state: &KeyState) -> Vec<Holder> {
        match self.engine {
            Engine::BuildKit => state.holds().map(|(_, h)| h.holder).collect(),
            Engine::Buildah(_) => buildah::lock_holders(self, state).collect(),
        }
    }

    /// The order in which a RUN takes its locked mounts, given their lock paths (or anything
    /// ordered like them) in flag order.
    pub fn lock_order<T: Ord>(&self, locks: &[T]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..locks.len()).collect();
        if !self.has(Quirk::FlagOrderLocking) {
            order.sort_by(|&a, &b| locks[a].cmp(&locks[b]));
        }
        order
    }

    /// Whether the end of a RUN releases its mount number `i` of `n` (flag order), held in
    /// `sharing` mode.
    pub fn releases_at_run_end(&self, i: usize, n: usize, sharing: Sharing) -> bool {
        !(self.has(Quirk::OnlyLastLockReleased) && sharing == Sharing::Locked && i + 1 < n)
    }

    /// Whether a `source=` subdirectory of a cache (without `from=`) must already exist, or
    /// the RUN fails: seen on 1.39.3 (`tests/real_current.rs`), and upstream's
    /// `bindFromChroot` in internal/volumes does the same; 1.28 ignores `source=`.
    pub fn source_dir_must_exist(&self) -> bool {
        matches!(self.engine, Engine::Buildah(v) if v != BuildahVersion::V1_28)
    }

    /// Whether a RUN identical to one an earlier build ran (same Dockerfile and same RUNs up to
    /// it) reuses that build's layer instead of running: BuildKit's layer cache
    /// (`tests/real_current.rs` shows a repeated RUN `CACHED` with its cache mount untouched),
    /// and `podman build`, whose `--layers` defaults to true (remote builds here); local
    /// `buildah bud` defaults to `--layers=false`.
    pub fn reuses_identical_runs(&self, topology: crate::world::Topology) -> bool {
        self.engine == Engine::BuildKit || topology == crate::world::Topology::Remote
    }

    /// The part of a cache mount that a RUN's layer is keyed by. BuildKit clears a cache
    /// mount's id and sharing from the exec op's cache key unless they are the defaults (id =
    /// target, shared): `CacheMap` and `checkShouldClearCacheOpts` in
    /// solver/llbsolver/ops/exec.go. So a RUN built before with another id comes `CACHED`, its
    /// cache untouched (`buildkit_gives_two_locked_mounts_of_one_cache_one_instance` in
    /// `tests/real_current.rs`). Buildah's layer lookup compares the instruction as written.
    pub fn layer_key_mount(&self, m: &crate::mount::MountSpec) -> crate::mount::MountSpec {
        let mut m = m.clone();
        if self.engine == Engine::BuildKit {
            let default_id =
                m.id.as_deref()
                    .is_none_or(|id| path::clean(id) == path::clean(&m.target));
            if default_id && m.sharing == Sharing::Shared {
                m.id = None;
            } else {
                m.id = Some("(cleared)".into());
                m.sharing = Sharing::Shared;
            }
        }
        m
    }

    /// Whether a `--no-cache` build drops the cache of mount `spec` before it runs: BuildKit
    /// clears the index of every cache its no-cache RUNs name by id alone, and forgets the
    /// active shared refs of every cache (`Worker.PruneCacheMounts` and
    /// `ClearActiveCacheMounts`, called from solver/llbsolver/bridge.go at LLB load, v0.13.2;
    /// `tests/real_current.rs` pins all three effects on Docker 26). Buildah's `--no-cache`
    /// concerns layers only.
    pub fn no_cache_drops(&self, spec: &MountSpec) -> bool {
        self.engine == Engine::BuildKit && buildkit::indexed_by_id(spec)
    }

    /// Whether a `--no-cache` build makes the daemon forget which held instances shared mounts
    /// join (BuildKit's `ClearActiveCacheMounts`, see [`Profile::no_cache_drops`]).
    pub fn no_cache_splits_held(&self) -> bool {
        self.engine == Engine::BuildKit
    }

    /// Whether a prune drops the cached layers too: `buildah prune` removes "intermediate images
    /// as well as build and mount cache" (buildah-prune(1)). BuildKit's cache-mount prune
    /// (`--filter type=exec.cachemount`) leaves layers alone.
    pub fn prune_drops_layers(&self) -> bool {
        matches!(self.engine, Engine::Buildah(_))
    }

    /// Whether a build's stages that do not need each other run at once, so their RUNs
    /// interleave: BuildKit's solver starts each vertex when its inputs are done
    /// (solver/scheduler.go; buildkit#5566 is a race between two such stages). Buildah builds
    /// stages one after another unless `--jobs` is given (docs/buildah-build.1.md: "Run up to N
    /// concurrent stages in parallel"; the flag defaults to 1 in pkg/cli/common.go).
    pub fn runs_stages_at_once(&self) -> bool {
        self.engine == Engine::BuildKit
    }

    /// Whether an identical RUN that another build is running now is merged with it (the
    /// later build waits for that execution and does not run its own): BuildKit's solver
    /// shares one vertex between concurrent builds (solver/jobs.go, `sharedOp`). podman
    /// build looks up a finished layer only, so two concurrent identical RUNs both run.
    pub fn merges_concurrent_runs(&self) -> bool {
        self.engine == Engine::BuildKit
    }

    /// Whether a build that ran a RUN itself can reuse no later layer: Buildah looks up a
    /// cached layer as a child of the image it is at (imagebuildah `intermediateImageExists`),
    /// and a RUN it ran made a new image. BuildKit keys a RUN by its definition, so a later
    /// RUN can still be cached.
    pub fn layer_chain_breaks_on_run(&self) -> bool {
        self.engine != Engine::BuildKit
    }

    /// Whether a RUN whose unmount failed still releases its locks.
    pub fn unlocks_after_unmount_error(&self) -> bool {
        !(matches!(self.engine, Engine::Buildah(_)) && self.has(Quirk::UnlockSkippedOnUnmountError))
    }

    /// Whether removing the cache dir's contents also removes its lock file.
    pub fn wipe_removes_lock(&self) -> bool {
        matches!(self.engine, Engine::Buildah(_)) && self.has(Quirk::LockFileInCache)
    }

    /// What a prune (`buildah prune`, BuildKit's cache-mount prune) does to one key.
    pub fn prune_effect(&self, state: &KeyState) -> PruneEffect {
        match self.engine {
            // PruneCacheMounts runs under the cache-mount locker and skips records in use.
            Engine::BuildKit => PruneEffect::FreeInstancesOnly,
            Engine::Buildah(_) => {
                if !self.has(Quirk::PruneWithoutLock)
                    && buildah::lock_holders(self, state).next().is_some()
                {
                    PruneEffect::Wait
                } else {
                    PruneEffect::RemoveAll
                }
            }
        }
    }
}

/// What a prune does to one cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneEffect {
    /// Remove every instance's contents and the lock file (a new lock generation).
    RemoveAll,
    /// Remove the contents of instances nobody holds; held ones survive.
    FreeInstancesOnly,
    /// The prune must wait for the key's locked holders (the fixed Buildah).
    Wait,
}
