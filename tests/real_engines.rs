//! Real Buildah 1.28 and podman-remote 4.3 as the oracle: the same RUN-level schedule run by the
//! model and by the real engines must give the same reads. podman#25414 for real: servers that
//! share a TMPDIR make the test that wrote `hello` read `world`; the server-env remedy cures it.
//! Runs when buildah/podman are on PATH as root; prints why it skips otherwise, and fails
//! instead when `MOUNTFUZZ_REQUIRE_REAL=1` (CI).

#[path = "common/pair.rs"]
mod common;

use std::time::Duration;

use mountfuzz::engine::Profile;
use mountfuzz::explore::Schedule;
use mountfuzz::mount::{MountSpec, Sharing};
use mountfuzz::real::driver::{self, RealConfig, RealError};
use mountfuzz::run::unit_reads;
use mountfuzz::scenario::{Build, CacheOp, Expect, RunStep, Step, Suite, TestCase, scratch_tmpdir};
use mountfuzz::world::{Remedy, Topology, World};

fn skip(binary: &str) -> bool {
    if let Some(why) = mountfuzz::real::unavailable(binary) {
        if std::env::var("MOUNTFUZZ_REQUIRE_REAL").as_deref() == Ok("1") {
            panic!("real-engine tests are required here but cannot run: {why}");
        }
        eprintln!("SKIP real-engine test: {why}");
        return true;
    }
    false
}

/// The podman#25414 pair: A writes hello, later reads; B writes world.
fn pair(sharing: Sharing) -> Suite {
    let m = MountSpec {
        sharing,
        ..MountSpec::cache("/test")
    };
    common::pair("pair", m, scratch_tmpdir())
}

/// Runs `suite` for real and in the model; they must agree. Returns A's first read.
fn agree(suite: &Suite, world: World, units: &str) -> Option<String> {
    let units: Schedule = units.parse().unwrap();
    let model = unit_reads(suite, Profile::new(driver::ENGINE), &world, &units).unwrap();
    let cfg = RealConfig::new(
        suite.clone(),
        world.clone(),
        units.clone(),
        Duration::from_secs(120),
    );
    let real = match driver::run(&cfg) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        real.reads,
        model,
        "model-fidelity bug for {:?} {units}: real {:?}, model {:?}\n{}\n{}",
        world,
        real.reads,
        model,
        real.containerfiles
            .iter()
            .map(|(n, t)| format!("--- {n}\n{t}"))
            .collect::<String>(),
        real.log
    );
    eprintln!(
        "{:?} {units}: real and model agree: {:?} ({} units, {:.1} s, engine failures retried: {:?})",
        world.topology,
        real.reads,
        real.units,
        real.elapsed.as_secs_f64(),
        real.retried
    );
    real.reads[0][0].clone()
}

#[test]
fn buildah_local_write_read_pair_is_isolated_in_both_orders() {
    if skip("buildah") {
        return;
    }
    for sharing in [Sharing::Shared, Sharing::Locked] {
        let s = pair(sharing);
        let local = World::new(Topology::Local, Remedy::None);
        // A writes, B writes, A reads: each test has its own TMPDIR, so A reads hello.
        assert_eq!(agree(&s, local.clone(), "0.1.0").as_deref(), Some("hello"));
        assert_eq!(agree(&s, local, "0.0.1").as_deref(), Some("hello"));
    }
}

#[test]
fn podman_remote_reproduces_25414_and_server_env_cures_it() {
    if skip("podman") {
        return;
    }
    for sharing in [Sharing::Shared, Sharing::Locked] {
        let s = pair(sharing);
        let none = World::new(Topology::Remote, Remedy::None);
        assert_eq!(
            agree(&s, none.clone(), "0.1.0").as_deref(),
            Some("world"),
            "podman#25414 for real"
        );
        assert_eq!(agree(&s, none, "0.0.1").as_deref(), Some("hello"));
        let cured = World::new(Topology::Remote, Remedy::ServerEnv);
        assert_eq!(
            agree(&s, cured.clone(), "0.1.0").as_deref(),
            Some("hello"),
            "server-env remedy"
        );
        assert_eq!(agree(&s, cured, "0.0.1").as_deref(), Some("hello"));
    }
}

#[test]
fn forward_env_has_no_real_counterpart() {
    if skip("podman") {
        return;
    }
    let cfg = RealConfig::new(
        pair(Sharing::Shared),
        World::new(Topology::Remote, Remedy::ForwardEnv),
        Schedule::default(),
        Duration::from_secs(10),
    );
    assert!(matches!(driver::run(&cfg), Err(RealError::Unsupported(_))));
    // Reported as a harness failure (nothing compared), never as a model-fidelity mismatch.
    let c = mountfuzz::run::compare_with_real(&RealConfig {
        units: "0.1.0".parse().unwrap(),
        ..cfg.clone()
    })
    .unwrap();
    assert!(!c.agree());
    assert!(
        c.harness_failure()
            .is_some_and(|w| w.contains("no real counterpart")),
        "{:?}",
        c.harness_failure()
    );
}

/// Test a locks /a in a RUN that also mounts /b; test b then locks /a.
fn leaky() -> Suite {
    let a = MountSpec {
        id: Some("a".into()),
        sharing: Sharing::Locked,
        ..MountSpec::cache("/a")
    };
    let b = MountSpec {
        id: Some("b".into()),
        ..MountSpec::cache("/b")
    };
    let w = |d: &str| CacheOp::Write {
        mount: 0,
        file: "f".into(),
        data: d.into(),
    };
    let build = |mounts: Vec<MountSpec>, ops| {
        Step::Build(Build {
            no_cache: false,
            stages: None,
            source: None,
            env: scratch_tmpdir(),
            runs: vec![RunStep {
                mounts,
                workdir: "/".into(),
                ops,
                unmount_fails: false,
            }],
            expect: Expect::Success,
        })
    };
    Suite {
        name: "leaky".into(),
        tests: vec![
            TestCase {
                name: "a".into(),
                steps: vec![build(vec![a.clone(), b], vec![w("1")])],
            },
            TestCase {
                name: "b".into(),
                steps: vec![build(vec![a], vec![w("2")])],
            },
        ],
    }
}

#[test]
fn finding_1_28_releases_only_the_last_lock_of_a_run() {
    if skip("podman") {
        return;
    }
    let units: Schedule = "0.1".parse().unwrap();
    // Locally the build process exits and the kernel drops the leaked lock: b proceeds.
    let local = World::new(Topology::Local, Remedy::None);
    let model = unit_reads(&leaky(), Profile::new(driver::ENGINE), &local, &units).unwrap();
    let real = driver::run(&RealConfig::new(
        leaky(),
        local,
        units.clone(),
        Duration::from_secs(60),
    ))
    .unwrap();
    assert_eq!(real.reads, model);
    // In a podman server the lock of /a outlives a's build: b waits forever. The model says so.
    let remote = World::new(Topology::Remote, Remedy::None);
    let e = unit_reads(&leaky(), Profile::new(driver::ENGINE), &remote, &units).unwrap_err();
    assert!(e.to_string().contains("blocked"), "model: {e}");
    let fixed = Profile::new(driver::ENGINE).fixed(mountfuzz::engine::Quirk::OnlyLastLockReleased);
    assert!(
        unit_reads(&leaky(), fixed, &remote, &units).is_ok(),
        "without the quirk b would proceed"
    );
    match driver::run(&RealConfig::new(
        leaky(),
        remote,
        units,
        Duration::from_secs(25),
    )) {
        Err(RealError::Timeout(what)) => assert!(what.contains("unit t1u0 of b"), "{what}"),
        other => panic!("real podman: expected b to hang on the leaked lock, got {other:?}"),
    }
}

/// The log of a build that CI saw fail in the engine's own machinery, in a RUN without mounts.
const MEMFD_LOG: &str = "STEP 1/5: FROM scratch\nSTEP 2/5: COPY busybox /bin/busybox\n\
STEP 3/5: RUN [\"/bin/busybox\",\"ln\",\"-s\",\"/bin/busybox\",\"/bin/sh\"]\n\
Close_Fd sealing memfd copy: Device or resource busy\n\
Error: building at STEP \"RUN /bin/busybox ln -s /bin/busybox /bin/sh\": exit status 1\n";

#[test]
fn engine_failures_outside_the_workload_are_told_apart_from_workload_outcomes() {
    // Ended before the unit's gate: the engine's failure, whatever the log says.
    let why = driver::engine_failure(false, false, MEMFD_LOG).expect("an engine failure");
    assert!(
        why.contains("before the unit's gate") && why.contains("sealing memfd copy"),
        "{why}"
    );
    assert!(driver::engine_failure(false, false, "").is_some());
    // The script ran: whatever ended the build is the workload's outcome.
    assert_eq!(driver::engine_failure(true, true, MEMFD_LOG), None);
    // The engine refused the work RUN's mounts: a cache-mount outcome, unless the log shows a
    // known transient host error.
    let refused = "STEP 5/5: RUN --mount=type=cache,target=/test,sharing=private sh -c 'x'\n\
Error: building at STEP \"RUN --mount=type=cache,target=/test,sharing=private sh -c 'x'\": invalid mount option";
    assert_eq!(driver::engine_failure(true, false, refused), None);
    assert!(driver::engine_failure(true, false, MEMFD_LOG).is_some());
}

#[test]
fn the_driver_retries_engine_failures_and_nothing_else() {
    let ok = || Ok(driver::RealOutcome::default());
    let failed = |k: usize| Err(RealError::EngineFailed(format!("attempt {k}")));
    // Fails once, then completes: the outcome says what was retried.
    let mut calls = 0;
    let out = driver::retrying(driver::ATTEMPTS, || {
        calls += 1;
        if calls == 1 { failed(0) } else { ok() }
    })
    .unwrap();
    assert_eq!((calls, out.retried), (2, vec!["attempt 0".to_string()]));
    // Keeps failing: gives up after ATTEMPTS calls and names every failure.
    let mut calls = 0;
    match driver::retrying(driver::ATTEMPTS, || {
        calls += 1;
        failed(calls - 1)
    }) {
        Err(RealError::EngineFailed(why)) => {
            assert!(
                why.contains("attempt 0")
                    && why.contains(&format!("attempt {}", driver::ATTEMPTS - 1)),
                "{why}"
            )
        }
        other => panic!("expected the engine failure, got {other:?}"),
    }
    assert_eq!(calls, driver::ATTEMPTS);
    // A timeout (a model-relevant outcome: something blocked) is never retried.
    let mut calls = 0;
    let r = driver::retrying(driver::ATTEMPTS, || {
        calls += 1;
        Err(RealError::Timeout("unit t1u0 of b".into()))
    });
    assert!(matches!(r, Err(RealError::Timeout(_))) && calls == 1);
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/real_engines.txt", 3))]

    /// Generated suites and unit schedules: real Buildah (local) and podman-remote agree with
    /// the model on every read.
    #[test]
    fn generated_suites_model_equals_real(
        s in mountfuzz::scenario::strategy::suite(mountfuzz::scenario::strategy::Shape {
            tests: 2..=2, builds: 1..=2, runs: 1..=1, ops: 1..=2, ..Default::default()
        }),
        seed in any::<u64>(),
        remote in any::<bool>(),
    ) {
        let binary = if remote { "podman" } else { "buildah" };
        if skip(binary) {
            return Ok(());
        }
        let world = World::new(if remote { Topology::Remote } else { Topology::Local }, Remedy::None);
        let prog = mountfuzz::explore::Program::compile(&s, Profile::new(driver::ENGINE), &world).unwrap();
        let units = mountfuzz::explore::units::random(&prog, &mut mountfuzz::explore::Rng::for_schedule(seed, 0));
        let c = mountfuzz::run::compare_with_real(&RealConfig::new(s, world.clone(), units.clone(), Duration::from_secs(120))).unwrap();
        prop_assert!(c.agree(), "{:?} {units}: model {:?}, real {:?}", world.topology, c.model, c.real.as_ref().map(|r| &r.reads));
    }
}

/// A test that writes, prunes its cache parent, then reads: the prune must not take the
/// harness's control dir with it (it once did under server-env, where the server's cache parent
/// is the one the client prunes, and the lost outputs read as a model-fidelity mismatch).
fn write_prune_read() -> Suite {
    let m = MountSpec::cache("/test");
    let build = |ops: Vec<CacheOp>| {
        Step::Build(Build {
            no_cache: false,
            stages: None,
            source: None,
            env: scratch_tmpdir(),
            runs: vec![RunStep {
                mounts: vec![m.clone()],
                workdir: "/".into(),
                ops,
                unmount_fails: false,
            }],
            expect: Expect::Success,
        })
    };
    Suite {
        name: "prune".into(),
        tests: vec![TestCase {
            name: "p".into(),
            steps: vec![
                build(vec![CacheOp::Write {
                    mount: 0,
                    file: "world".into(),
                    data: "hello".into(),
                }]),
                Step::Prune {
                    env: scratch_tmpdir(),
                },
                build(vec![CacheOp::Read {
                    mount: 0,
                    file: "world".into(),
                }]),
            ],
        }],
    }
}

#[test]
fn the_control_dir_survives_a_workloads_prune_under_server_env() {
    // The control mount lies outside every cache parent (the model says where).
    let profile = Profile::new(driver::ENGINE);
    let spec = profile.parse_mount(driver::CONTROL_MOUNT).unwrap();
    let env = mountfuzz::engine::CacheEnv {
        tmpdir: Some("/t".into()),
        ..Default::default()
    };
    let loc = profile.locate(&spec, "/", &env).unwrap();
    assert!(!loc.contained, "{loc:?}");
    assert!(!mountfuzz::engine::path::is_within(
        &loc.dir,
        &profile.cache_parent(&env)
    ));
    if skip("podman") {
        return;
    }
    let world = World::new(Topology::Remote, Remedy::ServerEnv);
    // Write, prune (the client's TMPDIR is the server's here), read: nothing is left.
    assert_eq!(agree(&write_prune_read(), world, "0.0.0"), None);
}
