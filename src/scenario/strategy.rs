//! Proptest strategies for suites shaped like the bats cache tests: a few tests, each a few
//! builds (with `TMPDIR=$SCRATCH`), prunes and a teardown, over a small pool of mount targets,
//! files and values, so that tests collide often. Expectations are left as `Success`; calibrate
//! them with [`crate::run::calibrate`] so every test passes when run alone.

use proptest::prelude::*;

use super::stages::{StageNode, Stages};
use super::{Build, CacheOp, Expect, RunStep, Step, Suite, TestCase, scratch_tmpdir};
use crate::mount::{MountSpec, Sharing};

/// Knobs of the generated suites.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Number of tests.
    pub tests: std::ops::RangeInclusive<usize>,
    /// Builds per test.
    pub builds: std::ops::RangeInclusive<usize>,
    /// RUNs per build.
    pub runs: std::ops::RangeInclusive<usize>,
    /// Operations per RUN.
    pub ops: std::ops::RangeInclusive<usize>,
    /// Mount targets to draw from.
    pub targets: Vec<&'static str>,
    /// Sharing modes to draw from.
    pub sharing: Vec<Sharing>,
    /// Whether prunes and teardowns appear.
    pub prune_and_teardown: bool,
    /// Cache mounts per RUN (each operation picks one of them).
    pub mounts: std::ops::RangeInclusive<usize>,
    /// Builds and prunes run without `TMPDIR=$SCRATCH`, so every test uses the default cache
    /// parent and tests share caches in both topologies.
    pub shared_tmpdir: bool,
    /// Whether a RUN's unmount may fail (for the unlock-skipped quirk).
    pub unmount_failures: bool,
    /// File names (below a mount target) to draw from.
    pub files: Vec<&'static str>,
    /// Also touches, looks, subtree removals and opaque commands (tool profiles among them),
    /// as real Dockerfiles give them.
    pub rich_ops: bool,
    /// Builds whose RUNs lie in two stages that run at once (BuildKit), a RUN of the second
    /// stage waiting for the first at times ([`crate::scenario::stages`]).
    pub stages: bool,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            tests: 2..=4,
            builds: 1..=3,
            runs: 1..=2,
            ops: 1..=3,
            targets: vec!["/test", "/test2"],
            sharing: vec![Sharing::Shared, Sharing::Locked],
            prune_and_teardown: true,
            mounts: 1..=1,
            shared_tmpdir: false,
            unmount_failures: false,
            files: vec!["world", "other"],
            rich_ops: false,
            stages: false,
        }
    }
}

impl Shape {
    /// Small suites whose tests share caches in every way the model relates them: one dir,
    /// nested dirs (`/a`, `/a/b`), prunes of the common parent, several mounts per RUN, unmount
    /// failures, every sharing mode. Small enough for plain DFS to finish most of them.
    pub fn sharing() -> Shape {
        Shape {
            tests: 2..=3,
            builds: 1..=1,
            runs: 1..=1,
            ops: 1..=2,
            targets: vec!["/a", "/a/b", "/c"],
            sharing: vec![Sharing::Shared, Sharing::Locked, Sharing::Private],
            prune_and_teardown: true,
            mounts: 1..=2,
            shared_tmpdir: true,
            unmount_failures: true,
            // `b/world` through `/a` is `world` through `/a/b`.
            files: vec!["world", "other", "b/world"],
            rich_ops: true,
            stages: false,
        }
    }

    /// Small suites of builds whose stages run at once: one test (small enough to enumerate
    /// every order), one build of two or three RUNs in two stages, on one cache dir.
    pub fn stages() -> Shape {
        Shape {
            tests: 1..=1,
            builds: 1..=1,
            runs: 2..=3,
            ops: 1..=1,
            targets: vec!["/a"],
            sharing: vec![Sharing::Shared, Sharing::Locked, Sharing::Private],
            prune_and_teardown: false,
            mounts: 1..=1,
            shared_tmpdir: true,
            unmount_failures: false,
            files: vec!["world", "other"],
            rich_ops: false,
            stages: true,
        }
    }

    fn env(&self) -> std::collections::BTreeMap<String, String> {
        if self.shared_tmpdir {
            Default::default()
        } else {
            scratch_tmpdir()
        }
    }
}

fn op(mounts: usize, files: Vec<&'static str>, rich: bool) -> BoxedStrategy<CacheOp> {
    let file = prop::sample::select(files).prop_map(String::from);
    let data = prop::sample::select(vec!["hello", "world", "x"]).prop_map(String::from);
    let m = 0..mounts;
    let basic = prop_oneof![
        4 => (m.clone(), file.clone(), data.clone()).prop_map(|(mount, file, data)| CacheOp::Write { mount, file, data }),
        1 => (m.clone(), file.clone(), data).prop_map(|(mount, file, data)| CacheOp::Append { mount, file, data }),
        4 => (m.clone(), file.clone()).prop_map(|(mount, file)| CacheOp::Read { mount, file }),
        1 => (m.clone(), file.clone()).prop_map(|(mount, file)| CacheOp::Remove { mount, file }),
        1 => m.clone().prop_map(|mount| CacheOp::Wipe { mount }),
    ];
    if !rich {
        return basic.boxed();
    }
    let dir = prop::sample::select(vec!["", "b"]).prop_map(String::from);
    // An unknown tool, a contending tool profile, a waiting one, and a listing.
    let what = prop::sample::select(vec![
        ("make", true),
        ("profile:apt: apt-get install x", true),
        ("profile:cargo: cargo build", true),
        ("ls -R", false),
    ]);
    prop_oneof![
        10 => basic,
        1 => (m.clone(), file.clone()).prop_map(|(mount, file)| CacheOp::Touch { mount, file }),
        1 => (m.clone(), file, any::<bool>())
            .prop_map(|(mount, file, must_exist)| CacheOp::Stat { mount, file, must_exist }),
        1 => m.clone().prop_map(|mount| CacheOp::RemoveTree { mount, dir: "b".into() }),
        2 => (m, dir, what).prop_map(|(mount, dir, (what, writes))| CacheOp::Opaque {
            mount,
            dir,
            what: what.into(),
            writes,
        }),
    ]
    .boxed()
}

fn run_step(shape: &Shape) -> impl Strategy<Value = RunStep> + use<> {
    let (targets, sharing, ops) = (
        shape.targets.clone(),
        shape.sharing.clone(),
        shape.ops.clone(),
    );
    let files = shape.files.clone();
    let rich = shape.rich_ops;
    let fails = if shape.unmount_failures {
        prop::bool::weighted(0.1).boxed()
    } else {
        Just(false).boxed()
    };
    (shape.mounts.clone(), fails).prop_flat_map(move |(n, unmount_fails)| {
        (
            prop::collection::vec(
                (
                    prop::sample::select(targets.clone()),
                    prop::sample::select(sharing.clone()),
                ),
                n,
            ),
            prop::collection::vec(op(n, files.clone(), rich), ops.clone()),
        )
            .prop_map(move |(mounts, ops)| RunStep {
                mounts: mounts
                    .into_iter()
                    .map(|(target, sharing)| MountSpec {
                        sharing,
                        ..MountSpec::cache(target)
                    })
                    .collect(),
                workdir: "/".into(),
                ops,
                unmount_fails,
            })
    })
}

/// Two stages for `n` RUNs: per RUN its stage and whether it waits for stage 0 (`None` when
/// no two RUNs can run at once).
fn two_stages(n: usize) -> impl Strategy<Value = Option<Stages>> {
    prop::collection::vec((0..2usize, prop::bool::weighted(0.2)), n).prop_map(|lanes| {
        let graph: Vec<StageNode> = ["s0", "s1"]
            .iter()
            .map(|n| StageNode {
                name: (*n).into(),
                needs: Vec::new(),
            })
            .collect();
        // RUNs come stage by stage, in file order; each stage has one at least.
        let mut lanes = lanes;
        lanes.sort_by_key(|&(l, _)| l);
        if let [first, .., last] = lanes.as_mut_slice() {
            first.0 = 0;
            last.0 = 1;
        }
        let mut waited = false;
        let needs: Vec<Vec<usize>> = lanes
            .iter()
            .map(|&(l, wait)| {
                waited |= l == 1 && wait;
                if waited && l == 1 {
                    vec![0]
                } else {
                    Vec::new()
                }
            })
            .collect();
        let stage: Vec<usize> = lanes.iter().map(|&(l, _)| l).collect();
        Stages::from_graph(&graph, &stage, &needs)
    })
}

fn step(shape: &Shape) -> impl Strategy<Value = Step> + use<> {
    let env = shape.env();
    let runs = prop::collection::vec(run_step(shape), shape.runs.clone());
    let build = if shape.stages {
        runs.prop_flat_map(|runs| {
            let n = runs.len();
            (Just(runs), two_stages(n))
        })
        .prop_map(move |(runs, stages)| {
            Step::Build(Build {
                no_cache: false,
                stages,
                source: None,
                env: env.clone(),
                runs,
                expect: Expect::Success,
            })
        })
        .boxed()
    } else {
        runs.prop_map(move |runs| {
            Step::Build(Build {
                no_cache: false,
                stages: None,
                source: None,
                env: env.clone(),
                runs,
                expect: Expect::Success,
            })
        })
        .boxed()
    };
    if shape.prune_and_teardown {
        prop_oneof![
            6 => build,
            1 => Just(Step::Prune { env: shape.env() }),
        ]
        .boxed()
    } else {
        build.boxed()
    }
}

/// Suites of the given shape; test names are `t0`, `t1`, …
pub fn suite(shape: Shape) -> impl Strategy<Value = Suite> {
    let teardown = shape.prune_and_teardown;
    let test = prop::collection::vec(step(&shape), shape.builds.clone());
    prop::collection::vec(test, shape.tests.clone()).prop_map(move |tests| Suite {
        name: "generated".into(),
        tests: tests
            .into_iter()
            .enumerate()
            .map(|(i, mut steps)| {
                if teardown {
                    steps.push(Step::Teardown);
                }
                TestCase {
                    name: format!("t{i}"),
                    steps,
                }
            })
            .collect(),
    })
}
