//! Named built-in suites: `buildah-bud-cache` (the buildah `tests/bud.bats` cache tests of
//! semantics.md §4, where podman#25414 lives) and one small suite per engine hazard (§5).

use std::collections::BTreeMap;

use super::{Build, CacheOp, Expect, RunStep, Step, Suite, TestCase, scratch_tmpdir};
use crate::mount::{MountSpec, Sharing};

/// A built-in suite's name and what it is for.
pub struct Builtin {
    /// The name `--suite` takes.
    pub name: &'static str,
    /// One line on what it exercises.
    pub about: &'static str,
    make: fn() -> Suite,
}

impl Builtin {
    /// Builds the suite.
    pub fn suite(&self) -> Suite {
        (self.make)()
    }
}

/// Every built-in suite.
pub const ALL: &[Builtin] = &[
    Builtin {
        name: "buildah-bud-cache",
        about: "buildah's bud.bats cache tests run in parallel (podman#25414)",
        make: buildah_bud_cache,
    },
    Builtin {
        name: "hazard-non-reentrant",
        about: "the same locked cache twice in one RUN",
        make: hazard_non_reentrant,
    },
    Builtin {
        name: "hazard-flag-order",
        about: "two RUNs lock two caches in opposite --mount order",
        make: hazard_flag_order,
    },
    Builtin {
        name: "hazard-prune-without-lock",
        about: "buildah prune while another build holds a locked cache",
        make: hazard_prune_without_lock,
    },
    Builtin {
        name: "hazard-unmount-error",
        about: "a RUN whose unmount fails keeps its lock; the next locker waits",
        make: hazard_unmount_error,
    },
    Builtin {
        name: "hazard-lock-file-in-cache",
        about: "a RUN wipes its locked cache, lock file included (buildah#4342)",
        make: hazard_lock_file_in_cache,
    },
    Builtin {
        name: "hazard-shared-bypasses",
        about: "a shared mount while a locked holder has the cache (BuildKit)",
        make: hazard_shared_bypasses,
    },
    Builtin {
        name: "hazard-shared-writers",
        about: "two shared writers collide (buildkit#1662)",
        make: hazard_shared_writers,
    },
    Builtin {
        name: "hazard-only-last-lock",
        about: "a locked mount before another cache mount stays locked (Buildah 1.28, remote)",
        make: hazard_only_last_lock,
    },
    Builtin {
        name: "hazard-unhashed-id",
        about: "an id with .. names a path outside the cache parent (CVE-2024-9675)",
        make: hazard_unhashed_id,
    },
];

/// The built-in suite called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    ALL.iter().find(|b| b.name == name)
}

fn mount(target: &str, sharing: Sharing) -> MountSpec {
    MountSpec {
        sharing,
        flags: vec!["z".into()],
        ..MountSpec::cache(target)
    }
}

fn write(mount: usize, file: &str, data: &str) -> CacheOp {
    CacheOp::Write {
        mount,
        file: file.into(),
        data: data.into(),
    }
}

fn read(mount: usize, file: &str) -> CacheOp {
    CacheOp::Read {
        mount,
        file: file.into(),
    }
}

fn run(mounts: Vec<MountSpec>, ops: Vec<CacheOp>) -> RunStep {
    RunStep {
        mounts,
        workdir: "/".into(),
        ops,
        unmount_fails: false,
    }
}

fn build(runs: Vec<RunStep>, expect: Expect) -> Step {
    Step::Build(Build {
        no_cache: false,
        stages: None,
        source: None,
        env: scratch_tmpdir(),
        runs,
        expect,
    })
}

/// A build of one RUN with one cache mount on `target`.
fn build1(target: &str, sharing: Sharing, ops: Vec<CacheOp>, expect: Expect) -> Step {
    build(vec![run(vec![mount(target, sharing)], ops)], expect)
}

fn test(name: &str, steps: Vec<Step>) -> TestCase {
    TestCase {
        name: name.into(),
        steps,
    }
}

fn no_such_file() -> Expect {
    Expect::FailsWith("No such file or directory".into())
}

/// The buildah bud.bats cache tests (semantics.md §4), all with `TMPDIR=$TEST_SCRATCH_DIR`.
pub fn buildah_bud_cache() -> Suite {
    let s = Sharing::Shared;
    Suite {
        name: "buildah-bud-cache".into(),
        tests: vec![
            test(
                "bud-with-mount-cache-like-buildkit",
                vec![
                    build1(
                        "/test",
                        s,
                        vec![write(0, "world", "hello")],
                        Expect::Success,
                    ),
                    build1(
                        "/test",
                        s,
                        vec![read(0, "world")],
                        Expect::OutputContains("hello".into()),
                    ),
                    Step::Teardown,
                ],
            ),
            test(
                "bud-with-mount-cache-like-buildkit-locked-across-steps",
                vec![
                    build(
                        vec![
                            run(
                                vec![mount("/test", Sharing::Locked)],
                                vec![write(0, "world", "hello")],
                            ),
                            run(
                                vec![mount("/test", Sharing::Locked)],
                                vec![write(0, "world", "world")],
                            ),
                            run(
                                vec![mount("/test", Sharing::Locked)],
                                vec![read(0, "world")],
                            ),
                        ],
                        Expect::OutputContains("world".into()),
                    ),
                    Step::Teardown,
                ],
            ),
            test(
                "bud-with-mount-cache-like-buildkit-with-buildah-prune",
                vec![
                    build1(
                        "/test",
                        s,
                        vec![write(0, "world", "hello")],
                        Expect::Success,
                    ),
                    Step::Prune {
                        env: scratch_tmpdir(),
                    },
                    build1("/test", s, vec![read(0, "world")], no_such_file()),
                    Step::Teardown,
                ],
            ),
            test(
                "bud-with-mount-cache-like-buildkit-test2",
                vec![
                    build1(
                        "/test2",
                        s,
                        vec![write(0, "world", "hello2")],
                        Expect::Success,
                    ),
                    build1(
                        "/test2",
                        s,
                        vec![read(0, "world")],
                        Expect::OutputContains("hello2".into()),
                    ),
                    Step::Teardown,
                ],
            ),
            test(
                "bud-with-mount-cache-wipe-in-between",
                vec![
                    build1(
                        "/test",
                        s,
                        vec![write(0, "world", "hello")],
                        Expect::Success,
                    ),
                    build1(
                        "/test",
                        s,
                        vec![CacheOp::Wipe { mount: 0 }],
                        Expect::Success,
                    ),
                    build1("/test", s, vec![read(0, "world")], no_such_file()),
                    Step::Teardown,
                ],
            ),
        ],
    }
}

fn locked_id(id: &str) -> MountSpec {
    MountSpec {
        id: Some(id.into()),
        sharing: Sharing::Locked,
        ..MountSpec::cache(&format!("/{id}"))
    }
}

fn no_env(runs: Vec<RunStep>, expect: Expect) -> Step {
    Step::Build(Build {
        no_cache: false,
        stages: None,
        source: None,
        env: BTreeMap::new(),
        runs,
        expect,
    })
}

fn hazard_non_reentrant() -> Suite {
    let mut twice = locked_id("a");
    twice.target = "/a2".into();
    Suite {
        name: "hazard-non-reentrant".into(),
        tests: vec![test(
            "same-lock-twice",
            vec![no_env(
                vec![run(vec![locked_id("a"), twice], vec![write(0, "f", "x")])],
                Expect::Success,
            )],
        )],
    }
}

fn hazard_flag_order() -> Suite {
    let ab = run(
        vec![locked_id("a"), locked_id("b")],
        vec![write(0, "f", "1"), write(1, "f", "1")],
    );
    let ba = run(
        vec![locked_id("b"), locked_id("a")],
        vec![write(0, "f", "2"), write(1, "f", "2")],
    );
    Suite {
        name: "hazard-flag-order".into(),
        tests: vec![
            test("locks-a-then-b", vec![no_env(vec![ab], Expect::Success)]),
            test("locks-b-then-a", vec![no_env(vec![ba], Expect::Success)]),
        ],
    }
}

fn hazard_prune_without_lock() -> Suite {
    Suite {
        name: "hazard-prune-without-lock".into(),
        tests: vec![
            test(
                "locked-write-then-read",
                vec![no_env(
                    vec![run(
                        vec![locked_id("a")],
                        vec![write(0, "f", "mine"), read(0, "f")],
                    )],
                    Expect::OutputContains("mine".into()),
                )],
            ),
            test(
                "prune",
                vec![Step::Prune {
                    env: BTreeMap::new(),
                }],
            ),
        ],
    }
}

fn hazard_unmount_error() -> Suite {
    let mut failing = run(vec![locked_id("a")], vec![write(0, "f", "1")]);
    failing.unmount_fails = true;
    Suite {
        name: "hazard-unmount-error".into(),
        tests: vec![
            test(
                "unmount-fails",
                vec![no_env(vec![failing], Expect::Success)],
            ),
            test(
                "next-locker",
                vec![no_env(
                    vec![run(vec![locked_id("a")], vec![write(0, "f", "2")])],
                    Expect::Success,
                )],
            ),
        ],
    }
}

fn hazard_lock_file_in_cache() -> Suite {
    Suite {
        name: "hazard-lock-file-in-cache".into(),
        tests: vec![
            test(
                "wipe-then-write",
                vec![no_env(
                    vec![run(
                        vec![locked_id("a")],
                        vec![
                            CacheOp::Wipe { mount: 0 },
                            write(0, "f", "mine"),
                            read(0, "f"),
                        ],
                    )],
                    Expect::OutputContains("mine".into()),
                )],
            ),
            test(
                "other-locker",
                vec![no_env(
                    vec![run(vec![locked_id("a")], vec![write(0, "f", "theirs")])],
                    Expect::Success,
                )],
            ),
        ],
    }
}

fn hazard_shared_bypasses() -> Suite {
    let shared = MountSpec {
        sharing: Sharing::Shared,
        ..locked_id("a")
    };
    Suite {
        name: "hazard-shared-bypasses".into(),
        tests: vec![
            test(
                "locked-holder",
                vec![no_env(
                    vec![run(vec![locked_id("a")], vec![write(0, "f", "seed")])],
                    Expect::Success,
                )],
            ),
            test(
                "shared-reader",
                vec![
                    no_env(
                        vec![run(vec![locked_id("a")], vec![write(0, "f", "seed")])],
                        Expect::Success,
                    ),
                    no_env(
                        vec![run(vec![shared], vec![read(0, "f")])],
                        Expect::OutputContains("seed".into()),
                    ),
                ],
            ),
        ],
    }
}

fn hazard_shared_writers() -> Suite {
    let m = MountSpec {
        id: Some("apt".into()),
        ..MountSpec::cache("/var/cache/apt")
    };
    let writer = |name: &str, data: &str| {
        test(
            name,
            vec![no_env(
                vec![run(
                    vec![m.clone()],
                    vec![write(0, "lock", data), read(0, "lock")],
                )],
                Expect::OutputContains(data.into()),
            )],
        )
    };
    Suite {
        name: "hazard-shared-writers".into(),
        tests: vec![writer("apt-get-1", "one"), writer("apt-get-2", "two")],
    }
}

fn hazard_only_last_lock() -> Suite {
    let other = MountSpec {
        id: Some("b".into()),
        ..MountSpec::cache("/b")
    };
    Suite {
        name: "hazard-only-last-lock".into(),
        tests: vec![
            test(
                "locked-then-shared",
                vec![no_env(
                    vec![run(vec![locked_id("a"), other], vec![write(0, "f", "1")])],
                    Expect::Success,
                )],
            ),
            test(
                "next-locker",
                vec![no_env(
                    vec![run(vec![locked_id("a")], vec![write(0, "f", "2")])],
                    Expect::Success,
                )],
            ),
        ],
    }
}

fn hazard_unhashed_id() -> Suite {
    let m = MountSpec {
        id: Some("../../etc".into()),
        ..MountSpec::cache("/c")
    };
    Suite {
        name: "hazard-unhashed-id".into(),
        tests: vec![test(
            "id-escapes",
            vec![no_env(
                vec![run(vec![m], vec![write(0, "f", "x")])],
                Expect::Success,
            )],
        )],
    }
}
