//! Proptest strategies for suites shaped like the bats cache tests: a few tests, each a few
//! builds (with `TMPDIR=$SCRATCH`), prunes and a teardown, over a small pool of mount targets,
//! files and values, so that tests collide often. Expectations are left as `Success`; calibrate
//! them with [`crate::run::calibrate`] so every test passes when run alone.

use proptest::prelude::*;

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
        }
    }
}

fn op() -> impl Strategy<Value = CacheOp> {
    let file = prop::sample::select(vec!["world", "other"]).prop_map(String::from);
    let data = prop::sample::select(vec!["hello", "world", "x"]).prop_map(String::from);
    prop_oneof![
        4 => (file.clone(), data.clone()).prop_map(|(file, data)| CacheOp::Write { mount: 0, file, data }),
        1 => (file.clone(), data).prop_map(|(file, data)| CacheOp::Append { mount: 0, file, data }),
        4 => file.clone().prop_map(|file| CacheOp::Read { mount: 0, file }),
        1 => file.prop_map(|file| CacheOp::Remove { mount: 0, file }),
        1 => Just(CacheOp::Wipe { mount: 0 }),
    ]
}

fn run_step(shape: &Shape) -> impl Strategy<Value = RunStep> + use<> {
    (
        prop::sample::select(shape.targets.clone()),
        prop::sample::select(shape.sharing.clone()),
        prop::collection::vec(op(), shape.ops.clone()),
    )
        .prop_map(|(target, sharing, ops)| RunStep {
            mounts: vec![MountSpec {
                sharing,
                ..MountSpec::cache(target)
            }],
            workdir: "/".into(),
            ops,
            unmount_fails: false,
        })
}

fn step(shape: &Shape) -> impl Strategy<Value = Step> + use<> {
    let build = prop::collection::vec(run_step(shape), shape.runs.clone()).prop_map(|runs| {
        Step::Build(Build {
            env: scratch_tmpdir(),
            runs,
            expect: Expect::Success,
        })
    });
    if shape.prune_and_teardown {
        prop_oneof![
            6 => build,
            1 => Just(Step::Prune { env: scratch_tmpdir() }),
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
