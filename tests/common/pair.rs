//! The podman#25414 pair as a suite, for the real-engine tests: test a writes hello and later
//! reads it back, test b writes world, each build one RUN with mount `m` and client env `env`.

use std::collections::BTreeMap;

use mountfuzz::mount::MountSpec;
use mountfuzz::scenario::{Build, CacheOp, Expect, RunStep, Step, Suite, TestCase};

/// The pair named `name`.
pub fn pair(name: &str, m: MountSpec, env: BTreeMap<String, String>) -> Suite {
    let build = |ops: Vec<CacheOp>| {
        Step::Build(Build {
            no_cache: false,
            stages: None,
            source: None,
            env: env.clone(),
            runs: vec![RunStep {
                mounts: vec![m.clone()],
                workdir: "/".into(),
                ops,
                unmount_fails: false,
            }],
            expect: Expect::Success,
        })
    };
    let w = |d: &str| CacheOp::Write {
        mount: 0,
        file: "world".into(),
        data: d.into(),
    };
    let read = CacheOp::Read {
        mount: 0,
        file: "world".into(),
    };
    Suite {
        name: name.into(),
        tests: vec![
            TestCase {
                name: "a".into(),
                steps: vec![build(vec![w("hello")]), build(vec![read])],
            },
            TestCase {
                name: "b".into(),
                steps: vec![build(vec![w("world")])],
            },
        ],
    }
}
