//! Oracles: what counts as a bug in a run. One oracle per file; the executor calls each at the
//! point of the run where its property can first break (a grant, a read, a build's end, a
//! standstill), so violations are found without recording full histories.

pub mod containment;
pub mod deadlock;
pub mod expectations;
pub mod isolation;
pub mod linearize;
pub mod lock_integrity;
pub mod locked_exclusion;
pub mod private_exclusivity;
pub mod shared_coherence;

use std::fmt;

use serde::{Deserialize, Serialize};

/// A property a run must keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oracle {
    /// Every build meets its test's expectation (output contains / fails with).
    Expectation,
    /// No read returns bytes that another test wrote.
    Isolation,
    /// Two holders never hold one locked cache at once.
    LockedExclusion,
    /// A lock file removed and re-created under a holder lets a second holder in.
    LockIntegrity,
    /// A private mount's instance is held by nobody else.
    PrivateExclusivity,
    /// A shared mount sees the key's cache, not a fresh empty instance beside it.
    SharedCoherence,
    /// Some unfinished test can always move.
    Deadlock,
    /// Every cache dir lies inside its cache parent.
    PathContainment,
    /// No two RUNs hold one cache instance at once while both run a tool that fails or
    /// corrupts under contention (apt, apk, yarn v1: [`crate::tools`]).
    ToolContention,
    /// No RUN writes a file from what it read of it (a read-modify-write) after another test
    /// changed it in between: that test's update would be lost.
    LostUpdate,
    /// No RUN reads a file while another test's write to it is in flight: opened with
    /// `O_TRUNC`, its bytes not yet there, so the reader sees it empty or in part. Checked where
    /// the world splits such writes ([`crate::world::World::torn_writes`]).
    TornRead,
}

impl Oracle {
    /// Every oracle.
    pub const ALL: [Oracle; 11] = [
        Oracle::Expectation,
        Oracle::Isolation,
        Oracle::LockedExclusion,
        Oracle::LockIntegrity,
        Oracle::PrivateExclusivity,
        Oracle::SharedCoherence,
        Oracle::Deadlock,
        Oracle::PathContainment,
        Oracle::ToolContention,
        Oracle::LostUpdate,
        Oracle::TornRead,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Expectation => "expectation",
            Oracle::Isolation => "isolation",
            Oracle::LockedExclusion => "locked-exclusion",
            Oracle::LockIntegrity => "lock-integrity",
            Oracle::PrivateExclusivity => "private-exclusivity",
            Oracle::SharedCoherence => "shared-coherence",
            Oracle::Deadlock => "deadlock",
            Oracle::PathContainment => "path-containment",
            Oracle::ToolContention => "tool-contention",
            Oracle::LostUpdate => "lost-update",
            Oracle::TornRead => "torn-read",
        }
    }
}

impl fmt::Display for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Oracle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Oracle::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown oracle {s:?}"))
    }
}

/// What a workload wants from its caches, which decides the oracles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Intent {
    /// Tests must not see each other (a test suite with per-test caches: podman#25414). Every
    /// oracle but torn reads (a torn read across tests is a cross-read already).
    #[default]
    Isolation,
    /// Builds share caches on purpose (apt, cargo, pip): seeing each other is the point, so
    /// cross-reads are fine; tool failures under contention, lost updates, torn reads, lock and
    /// exclusivity breaks, deadlocks, prune races on held caches and escapes are not.
    SharedCache,
}

impl Intent {
    /// The oracles it checks.
    pub fn oracles(self) -> Oracles {
        match self {
            // A torn read there is a cross-read already.
            Intent::Isolation => Oracles::of(
                &Oracle::ALL
                    .into_iter()
                    .filter(|o| *o != Oracle::TornRead)
                    .collect::<Vec<_>>(),
            ),
            Intent::SharedCache => Oracles::of(
                &Oracle::ALL
                    .into_iter()
                    .filter(|o| *o != Oracle::Isolation)
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

impl std::str::FromStr for Intent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "isolation" => Ok(Intent::Isolation),
            "shared-cache" => Ok(Intent::SharedCache),
            _ => Err(format!("unknown intent {s:?} (isolation, shared-cache)")),
        }
    }
}

/// A set of oracles (a bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Oracles(u16);

impl Oracles {
    /// Every oracle on.
    pub fn all() -> Oracles {
        Oracles(u16::MAX)
    }
    /// None (a run that only records).
    pub fn none() -> Oracles {
        Oracles(0)
    }
    /// Only these.
    pub fn of(os: &[Oracle]) -> Oracles {
        Oracles(os.iter().fold(0, |b, o| b | 1 << *o as u8))
    }
    /// Whether `o` is on.
    pub fn has(self, o: Oracle) -> bool {
        self.0 & (1 << o as u8) != 0
    }
}

/// A broken property: which, where, and in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The oracle.
    pub oracle: Oracle,
    /// The test whose step broke it.
    pub test: usize,
    /// 1-based index of the step (in the schedule) at which it broke.
    pub step: u64,
    /// The interned cache key involved, if any.
    pub key: Option<usize>,
    /// The RUN (numbered within the test, from 0) whose event broke it or is stuck, if any: how
    /// `lint` points at a Dockerfile line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u32>,
    /// One line for people.
    pub message: String,
}
