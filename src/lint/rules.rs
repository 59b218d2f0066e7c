//! The lint rules: a stable ID, a title, a severity, the engines each applies to, the fix, and the
//! source or real-engine test behind it. Which model outcome maps to which rule is decided here
//! too ([`for_violation`]); the checks that need no exploration live in [`super::statics`].

use crate::check::{Oracle, Violation};
use crate::engine::{BuildahVersion, Engine};

/// How bad a finding is (hadolint's levels; the failure threshold compares against them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Style: never a failure of the build.
    Style,
    /// Worth knowing.
    Info,
    /// Breaks on some engine or in some setting.
    Warning,
    /// Breaks builds that run as CI runs them.
    Error,
}

impl Severity {
    /// The lower-case name (tty, JSON, config).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Style => "style",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// SARIF's `level`.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Style => "note",
        }
    }
}

/// A failure threshold: findings at or above it make `lint` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Threshold {
    /// At or above this severity.
    At(Severity),
    /// Never fail (hadolint's `none`).
    #[default]
    Never,
}

impl std::str::FromStr for Threshold {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "error" => Threshold::At(Severity::Error),
            "warning" => Threshold::At(Severity::Warning),
            "info" => Threshold::At(Severity::Info),
            "style" => Threshold::At(Severity::Style),
            "none" => Threshold::Never,
            _ => {
                return Err(format!(
                    "unknown failure threshold {s:?} (want error, warning, info, style or none)"
                ));
            }
        })
    }
}

impl Threshold {
    /// Whether a finding of `s` fails the lint.
    pub fn fails(self, s: Severity) -> bool {
        matches!(self, Threshold::At(t) if s >= t)
    }
}

/// One rule of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable ID (`MF001`…), never reused.
    pub id: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// One line: what is wrong.
    pub title: &'static str,
    /// What it flags and why (the README entry and SARIF `fullDescription`).
    pub description: &'static str,
    /// The one-line fix.
    pub fix: &'static str,
    /// How bad.
    pub severity: Severity,
    /// The engines it can apply to, in words.
    pub engines: &'static str,
    /// The source or issue behind it (SARIF `helpUri`).
    pub source: &'static str,
    /// How `lint` decides it: `explored` (a violation the model finds by exploring
    /// interleavings) or `static` (a fact of the mounts and the engine's rules).
    pub how: &'static str,
}

/// Every rule, by ID.
pub const RULES: &[Rule] = &[
    Rule {
        id: "MF001",
        name: "locked-twice-in-one-run",
        title: "one RUN mounts one cache twice with sharing=locked",
        description: "Buildah takes each locked mount's lock in flag order with a lock that is not re-entrant, so the second mount of the same cache waits for the first, held by the same RUN: the build hangs for ever (and under podman-remote the stuck build outlives its client and every later build on that cache hangs until the service restarts). BuildKit gives both mounts one instance. On the unreleased private pool, a private mount followed by a locked one of the same cache hangs the same way (they share one lock file).",
        fix: "mount the cache once, or give the second mount its own id",
        severity: Severity::Error,
        engines: "buildah, buildah@1.39, buildah@1.28",
        source: "https://github.com/containers/buildah/blob/main/internal/volumes/volumes.go",
        how: "explored",
    },
    Rule {
        id: "MF002",
        name: "tool-contention",
        title: "a tool that fails or corrupts under contention runs on a shared cache",
        description: "Two builds (or two parallel stages of one build) hold one cache instance at once while both run a tool that takes its own lock and fails when it is held (apt, apk, dnf, poetry) or corrupts its cache (yarn v1 without --mutex). sharing=shared, the default, lets them in together: `Could not get lock /var/lib/apt/lists/lock` (buildkit#1662).",
        fix: "sharing=locked on the tool's cache mounts",
        severity: Severity::Error,
        engines: "all",
        source: "https://github.com/moby/buildkit/issues/1662",
        how: "explored",
    },
    Rule {
        id: "MF003",
        name: "private-on-buildah",
        title: "sharing=private is rejected by Buildah",
        description: "Released Buildah accepts only shared and locked: `sharing=private` fails the build (seen on 1.39.3, exit 125; 1.28 says `unrecognized value`). Upstream work on a private pool is unreleased (podman#27188).",
        fix: "sharing=locked (builds wait for each other) or a distinct id per build",
        severity: Severity::Error,
        engines: "buildah, buildah@1.39, buildah@1.28",
        source: "https://github.com/containers/podman/issues/27188",
        how: "static",
    },
    Rule {
        id: "MF004",
        name: "uid-splits-or-merges",
        title: "mounts that differ only in uid/gid/mode share a cache on one engine and not on another",
        description: "BuildKit puts uid, gid and mode in the cache key; upstream Buildah hashes id:uid:gid; Buildah 1.39 and 1.28 key on the id alone. The same Dockerfile then shares one cache between these mounts on some engines (files owned by another uid, one tool's cache seen by another) and splits it on others (a cache that is never warm).",
        fix: "give mounts that must not share their own id, and the same uid/gid/mode to mounts that must",
        severity: Severity::Warning,
        engines: "buildkit, buildah, buildah@1.39, buildah@1.28 (each compared with the others)",
        source: "https://github.com/moby/buildkit/issues/3041",
        how: "static",
    },
    Rule {
        id: "MF005",
        name: "nested-cache-dirs",
        title: "two cache dirs nest on disk",
        description: "Buildah 1.28 uses the id (or target) as a path below the cache parent, so `target=/a` and `target=/a/b` are one tree: each sees the other's files, and a wipe of the outer one removes the inner one and its lock file (seen on the real 1.28.2).",
        fix: "give each mount a distinct id that is not a prefix of another",
        severity: Severity::Warning,
        engines: "buildah@1.28",
        source: "https://github.com/containers/buildah/pull/5778",
        how: "static",
    },
    Rule {
        id: "MF006",
        name: "lock-left-held",
        title: "a RUN leaves a cache lock held after it ends",
        description: "Buildah 1.28 releases only the last lock of a RUN, and never releases a lock whose file was removed under it (the lock file lives in the cache, so `rm -rf <target>/*` removes it). The building process keeps those locks until it exits: a later RUN of the same build that locks the cache waits for ever (seen on the real 1.28.2: `tests/real_lint.rs`), and under podman-remote the server keeps them, so every later build that locks it waits (`tests/real_engines.rs`).",
        fix: "one locked mount per RUN, no `rm -rf` of a locked cache's whole dir, or upgrade Buildah",
        severity: Severity::Error,
        engines: "buildah@1.28",
        source: "https://github.com/containers/buildah/blob/v1.28.0/run_common.go",
        how: "explored",
    },
    Rule {
        id: "MF007",
        name: "cache-content-required",
        title: "a RUN needs cache content that a cold cache, a prune or --no-cache takes away",
        description: "A cache mount starts empty on a new machine and can be emptied at any time (`buildah prune`, `docker builder prune`, `--no-cache` on BuildKit); a RUN that fails unless a file is already there breaks on those builds. BuildKit's maintainers: a build must pass with any content of the cache (buildkit#3955).",
        fix: "create what the RUN needs in the same RUN, or make the read tolerate absence",
        severity: Severity::Error,
        engines: "all",
        source: "https://github.com/moby/buildkit/issues/3955",
        how: "explored",
    },
    Rule {
        id: "MF008",
        name: "parallel-stages-same-target",
        title: "parallel stages mount caches at one target",
        description: "BuildKit builds stages that do not need each other at once. Cache mounts at the same target in two such stages race creating the mount point in the rootfs (`mkdirat … file exists`, buildkit#5566). Tool contention between the two stages is explored separately (MF002).",
        fix: "create the target in the stages' common base (`RUN mkdir -p <target>`), or use distinct targets",
        severity: Severity::Warning,
        engines: "buildkit",
        source: "https://github.com/moby/buildkit/issues/5566",
        how: "static",
    },
    Rule {
        id: "MF009",
        name: "id-escapes-parent",
        title: "a cache id names a path outside the cache parent",
        description: "Buildah 1.28 uses the id as a path, so an id with `..` or an absolute id mounts a host directory outside the cache parent (CVE-2024-9675; the real Debian 1.28.2 writes outside the parent). Later Buildah hashes the id.",
        fix: "an id without `/` or `..`",
        severity: Severity::Error,
        engines: "buildah@1.28",
        source: "https://nvd.nist.gov/vuln/detail/CVE-2024-9675",
        how: "static",
    },
    Rule {
        id: "MF010",
        name: "tmpdir-isolation-remote",
        title: "caches are kept apart with TMPDIR, which a remote build does not see",
        description: "Buildah keeps caches under $TMPDIR of the process that runs the build. Under podman-remote that is the server, which never sees the client's TMPDIR, so builds meant to be apart share one cache and read each other's files (podman#25414).",
        fix: "a distinct id per build, or start the server with the TMPDIR (or forward it)",
        severity: Severity::Error,
        engines: "buildah, buildah@1.39, buildah@1.28 (remote)",
        source: "https://github.com/containers/podman/issues/25414",
        how: "explored (suites) or static (scripts)",
    },
    Rule {
        id: "MF011",
        name: "lock-order-inversion",
        title: "two RUNs lock the same caches in opposite orders",
        description: "Buildah takes a RUN's locks in --mount flag order, so one build holding A and waiting for B while another holds B and waits for A deadlocks, with no timeout.",
        fix: "list locked mounts in the same order in every RUN",
        severity: Severity::Error,
        engines: "buildah, buildah@1.39, buildah@1.28",
        source: "https://github.com/containers/buildah/blob/main/run_common.go",
        how: "explored",
    },
    Rule {
        id: "MF012",
        name: "lost-update",
        title: "a RUN writes back a cache file it read, after another build changed it",
        description: "A read-modify-write of one file on a shared cache (a counter, an index, a manifest) loses the other build's update when the two interleave.",
        fix: "sharing=locked, or write a file per build",
        severity: Severity::Warning,
        engines: "all",
        source: "https://github.com/moby/buildkit/blob/master/frontend/dockerfile/docs/reference.md#run---mounttypecache",
        how: "explored",
    },
    Rule {
        id: "MF013",
        name: "parallel-build-breaks-build",
        title: "a parallel build changes the cache so that this build fails",
        description: "Another build on the same cache removes or replaces a file while this one needs it (an `rm -rf` of the cache, a file read after another build's cleanup), so the build fails only when the two interleave (buildkit#7088).",
        fix: "sharing=locked, or a distinct id per build",
        severity: Severity::Error,
        engines: "all",
        source: "https://github.com/moby/buildkit/issues/7088",
        how: "explored",
    },
    Rule {
        id: "MF014",
        name: "lock-does-not-exclude",
        title: "sharing=locked does not keep a second holder out",
        description: "On Buildah 1.28 the lock file lives inside the cache, so a RUN that wipes the cache removes it and the next locker locks a fresh file while the first still holds the old one (buildah#4342, fixed by moving lock files out, PR #4349). On every Buildah, `buildah prune` removes the lock files without taking a lock, with the same effect (explored with --prune).",
        fix: "do not wipe the whole cache dir under sharing=locked, do not prune while builds run, or upgrade Buildah",
        severity: Severity::Error,
        engines: "buildah, buildah@1.39, buildah@1.28",
        source: "https://github.com/containers/buildah/issues/4342",
        how: "explored",
    },
    Rule {
        id: "MF015",
        name: "mixed-sharing-modes",
        title: "one cache is mounted with different sharing modes",
        description: "On BuildKit a shared or private request made while a locked or private holder has the instance gets a new, empty instance: the mounts do not see one cache, and a locked request takes any free instance, so once private mounts have made several, two locked holders run at once (seen on Docker 26.1). On upstream Buildah's unreleased private pool, a shared mount takes no lock and meets a private holder in its dir.",
        fix: "one sharing mode per cache id",
        severity: Severity::Warning,
        engines: "buildkit, buildah@pool",
        source: "https://github.com/moby/buildkit/blob/master/solver/llbsolver/mounts/mount.go",
        how: "explored",
    },
    Rule {
        id: "MF016",
        name: "rejected-by-engine",
        title: "the engine rejects this instruction or mount",
        description: "The engine's own grammar refuses what BuildKit accepts (a quoted mount value, a relative cache target on Buildah 1.28, an option it does not know), so the build fails there before any RUN.",
        fix: "write the mount the way every engine you build with accepts",
        severity: Severity::Error,
        engines: "per engine",
        source: "https://github.com/containers/buildah/blob/main/pkg/parse/parse.go",
        how: "static",
    },
    Rule {
        id: "MF017",
        name: "torn-read",
        title: "a RUN reads a cache file while another build is writing it",
        description: "A shell redirection (`> file`), `cp` and `tee` open their file with O_TRUNC, then write: between the two, a build reading the file on a shared cache sees it empty or in part, and goes on with that.",
        fix: "write to a file of this build's own beside it, then `mv` it into place (a rename is atomic), or sharing=locked",
        severity: Severity::Warning,
        engines: "all",
        source: "https://pubs.opengroup.org/onlinepubs/9799919799/functions/rename.html",
        how: "explored",
    },
];

/// The rule with this ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The rule for a violation the model found, given whether the failing test broke it alone
/// (a deterministic failure), whether the builds were remote, whether a prune ran beside them,
/// whether the stuck RUN mounts one locked cache twice, and the engine. On 1.28 a deadlock of
/// one build alone, or of remote builds, is a lock left held (MF006); between local builds it
/// is an inversion (MF011).
pub fn for_violation(
    v: &Violation,
    alone: bool,
    remote: bool,
    pruned: bool,
    locked_twice: bool,
    engine: Engine,
) -> &'static Rule {
    let id = match v.oracle {
        Oracle::Deadlock if locked_twice => "MF001",
        Oracle::Deadlock
            if engine == Engine::Buildah(BuildahVersion::V1_28) && (alone || remote) =>
        {
            "MF006"
        }
        Oracle::Deadlock => "MF011",
        Oracle::ToolContention => "MF002",
        Oracle::LostUpdate => "MF012",
        Oracle::TornRead => "MF017",
        Oracle::Expectation if alone || pruned => "MF007",
        Oracle::Expectation => "MF013",
        Oracle::Isolation => "MF010",
        // On BuildKit two locked holders meet only on instances that private mounts made.
        Oracle::LockedExclusion | Oracle::LockIntegrity if engine == Engine::BuildKit => "MF015",
        Oracle::LockedExclusion | Oracle::LockIntegrity => "MF014",
        Oracle::PrivateExclusivity | Oracle::SharedCoherence => "MF015",
        Oracle::PathContainment => "MF009",
    };
    rule(id).expect("every mapped id is in RULES")
}
