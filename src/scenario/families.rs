//! Families of interacting suites, n tests in one shared cache dir, one RUN each: the work the
//! exhaustive search is measured on (`benches/dpor.rs`, `mountfuzz traces`) and checked against
//! brute force (`tests/dpor.rs`). No test sets `TMPDIR`, so every test's `/cache` is one dir.

use super::{Build, CacheOp, Expect, RunStep, Step, Suite, TestCase};
use crate::mount::{MountSpec, Sharing};

/// What each test's RUN does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Writes, then reads, a file of its own (`t<i>`), shared mount: every operation commutes.
    OwnFiles,
    /// Appends a line to one file (`log`), shared mount.
    Appends,
    /// Writes, then reads, one file (`f`), shared mount.
    SharedWriteRead,
    /// Writes, then reads, one file (`f`), under `sharing=locked`.
    Locked,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 4] = [
        Family::OwnFiles,
        Family::Appends,
        Family::SharedWriteRead,
        Family::Locked,
    ];

    /// Its name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Family::OwnFiles => "own-files",
            Family::Appends => "appends",
            Family::SharedWriteRead => "shared-write-read",
            Family::Locked => "locked",
        }
    }

    /// The family named `s`.
    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The suite of `n` tests.
    pub fn suite(self, n: usize) -> Suite {
        let tests = (0..n)
            .map(|i| {
                let mut mount = MountSpec::cache("/cache");
                if self == Family::Locked {
                    mount.sharing = Sharing::Locked;
                }
                let value = format!("v{i}");
                let file = |f: &str| f.to_string();
                let ops = match self {
                    Family::OwnFiles => vec![
                        CacheOp::Write {
                            mount: 0,
                            file: format!("t{i}"),
                            data: value,
                        },
                        CacheOp::Read {
                            mount: 0,
                            file: format!("t{i}"),
                        },
                    ],
                    Family::Appends => vec![CacheOp::Append {
                        mount: 0,
                        file: file("log"),
                        data: value,
                    }],
                    Family::SharedWriteRead | Family::Locked => vec![
                        CacheOp::Write {
                            mount: 0,
                            file: file("f"),
                            data: value,
                        },
                        CacheOp::Read {
                            mount: 0,
                            file: file("f"),
                        },
                    ],
                };
                TestCase {
                    name: format!("t{i}"),
                    steps: vec![Step::Build(Build {
                        no_cache: false,
                        stages: None,
                        source: None,
                        env: Default::default(),
                        runs: vec![RunStep {
                            mounts: vec![mount],
                            workdir: "/".into(),
                            ops,
                            unmount_fails: false,
                        }],
                        expect: Expect::Success,
                    })],
                }
            })
            .collect();
        Suite {
            name: format!("{}-{n}", self.name()),
            tests,
        }
    }

    /// The number of Mazurkiewicz traces of the n-test suite under the dependency relation:
    /// 1, n!, (n!)² and n!.
    pub fn traces(self, n: usize) -> u128 {
        let f: u128 = (1..=n as u128).product();
        match self {
            Family::OwnFiles => 1,
            Family::Appends | Family::Locked => f,
            Family::SharedWriteRead => f * f,
        }
    }
}
