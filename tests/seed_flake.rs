//! podman#25414, found rather than hand-picked: from the built-in suite, from a committed replay
//! file, and from proptest-generated suites and schedules; and it disappears where it should.

use std::time::Duration;

use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Budget, Options, Program, Proof, Strategy, Verdict};
use mountfuzz::mount::Sharing;
use mountfuzz::report::replay::ReplayFile;
use mountfuzz::run::{RunConfig, calibrate, replay_recorded, run};
use mountfuzz::scenario::strategy::{Shape, suite};
use mountfuzz::scenario::{
    Build, CacheOp, Expect, RunStep, Step, Suite, TestCase, builtin, scratch_tmpdir,
};
use mountfuzz::world::{Remedy, Topology, World};
use proptest::prelude::*;

const BUILDAH: Engine = Engine::Buildah(BuildahVersion::Current);

fn config(suite: Suite, world: World, seed: u64) -> RunConfig {
    RunConfig {
        suite,
        profile: Profile::new(BUILDAH),
        world,
        sharing: None,
        strategy: Strategy::Random,
        budget: Budget::new(100_000, 30.0),
        options: Options {
            seed,
            ..Options::default()
        },
        shrink_time: Duration::from_secs(10),
    }
}

#[test]
fn default_run_finds_the_interference_with_at_most_two_tests() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    for seed in 0..8 {
        let r = run(config(
            suite.clone(),
            World::new(Topology::Remote, Remedy::None),
            seed,
        ))
        .unwrap();
        assert_eq!(r.exit_code(false), 1, "seed {seed}");
        let cx = r.counterexample.expect("a violation has a counterexample");
        let v = cx.violation.as_ref().unwrap();
        assert_eq!(v.oracle, Oracle::Isolation, "seed {seed}: {}", v.message);
        let lanes: std::collections::BTreeSet<usize> = cx.history.iter().map(|h| h.test).collect();
        assert!(lanes.len() <= 2, "seed {seed}: {} tests", lanes.len());
        assert_eq!(cx.shared_dirs.len(), 1, "one shared cache dir is named");
        assert!(
            cx.shared_dirs[0].0.starts_with("/var/tmp/buildah-cache-0/"),
            "the server's TMPDIR"
        );
    }
}

#[test]
fn the_same_suite_run_locally_is_isolated_by_tmpdir() {
    // What the bats suite relies on: each test's TMPDIR keeps its caches apart.
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let prog = Program::compile(
        &suite,
        Profile::new(BUILDAH),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap();
    let o = explore::explore(
        &prog,
        Strategy::Dfs { por: true },
        Budget::new(1_000_000, 60.0),
        Options::default(),
    );
    // Each test has its own cache parent: nothing is shared, a static proof.
    assert_eq!(
        o.verdict,
        Verdict::Holds {
            proof: Proof::Static
        }
    );
}

#[test]
fn committed_replay_file_reproduces_every_time() {
    let path = std::path::Path::new("tests/data/podman-25414.replay.json");
    let loaded = ReplayFile::load(path).unwrap();
    let first = replay_recorded(
        &loaded.suite,
        loaded.profile,
        &loaded.world,
        Oracles::all(),
        &loaded.schedule,
        0,
    )
    .unwrap();
    for _ in 0..3 {
        let again = replay_recorded(
            &loaded.suite,
            loaded.profile,
            &loaded.world,
            Oracles::all(),
            &loaded.schedule,
            0,
        )
        .unwrap();
        assert_eq!(again.violation, first.violation);
        assert_eq!(again.history, first.history);
    }
    let v = first.violation.unwrap();
    assert_eq!(v.oracle, loaded.oracle);
    assert!(
        v.message.contains("read \"world\""),
        "the test that wrote hello reads world: {}",
        v.message
    );
}

#[test]
fn replay_file_round_trips_and_refuses_foreign_files() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let r = run(config(suite, World::new(Topology::Remote, Remedy::None), 1)).unwrap();
    let cx = r.counterexample.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cx.json");
    let file = ReplayFile::new(
        &cx.suite,
        r.config.profile,
        &r.config.world,
        &cx.schedule,
        cx.violation.as_ref().unwrap(),
    );
    file.save(&path).unwrap();
    let loaded = ReplayFile::load(&path).unwrap();
    let again = replay_recorded(
        &loaded.suite,
        loaded.profile,
        &loaded.world,
        Oracles::all(),
        &loaded.schedule,
        0,
    )
    .unwrap();
    assert_eq!(again.violation, cx.violation);
    // Never overwrite a file that is not ours.
    let foreign = dir.path().join("notes.json");
    std::fs::write(&foreign, "my notes").unwrap();
    assert!(
        file.save(&foreign)
            .unwrap_err()
            .contains("not a mountfuzz replay file")
    );
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "my notes");
    // Broken files are errors that name the file.
    std::fs::write(dir.path().join("bad.json"), "{").unwrap();
    let e = ReplayFile::load(&dir.path().join("bad.json")).unwrap_err();
    assert!(
        e.contains("bad.json") && e.contains("not a replay file"),
        "{e}"
    );
    let e = ReplayFile::load(&dir.path().join("missing.json")).unwrap_err();
    assert!(
        e.contains("missing.json") && e.contains("cannot read"),
        "{e}"
    );
}

/// The podman#25414 core: a test that writes then reads back, and a sibling that writes the same
/// file, both under `TMPDIR=$SCRATCH`, inside generated noise.
fn planted(noise: Suite, sharing: Sharing) -> Suite {
    let m = mountfuzz::mount::MountSpec {
        sharing,
        ..mountfuzz::mount::MountSpec::cache("/test")
    };
    let build = |ops: Vec<CacheOp>, expect: Expect| {
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
            expect,
        })
    };
    let w = |d: &str| CacheOp::Write {
        mount: 0,
        file: "world".into(),
        data: d.into(),
    };
    let r = CacheOp::Read {
        mount: 0,
        file: "world".into(),
    };
    let mut s = noise;
    s.tests.push(TestCase {
        name: "writer-reader".into(),
        steps: vec![
            build(vec![w("hello")], Expect::Success),
            build(vec![r], Expect::Success),
        ],
    });
    s.tests.push(TestCase {
        name: "sibling".into(),
        steps: vec![build(vec![w("world")], Expect::Success)],
    });
    s
}

fn small() -> Shape {
    Shape {
        tests: 0..=2,
        builds: 1..=2,
        ..Shape::default()
    }
}

proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/seed_flake.txt", 24))]

    /// Generated suites and generated schedules (the seed) find the interference remotely.
    #[test]
    fn generated_suites_find_the_interference_remotely(
        noise in suite(small()),
        sharing in prop::sample::select(vec![Sharing::Shared, Sharing::Locked]),
        seed in any::<u64>(),
    ) {
        let remote = World::new(Topology::Remote, Remedy::None);
        let s = calibrate(&planted(noise, sharing), Profile::new(BUILDAH), &remote).unwrap();
        let prog = Program::compile(&s, Profile::new(BUILDAH), &remote).unwrap();
        let opts = Options { seed, oracles: Oracles::of(&[Oracle::Isolation]), ..Options::default() };
        let o = explore::explore(&prog, Strategy::Random, Budget::new(50_000, 20.0), opts);
        prop_assert!(matches!(o.verdict, Verdict::Violated(_)), "{:?} after {} schedules", o.verdict, o.schedules);
    }

    /// The same generated suites hold under every interleaving where tests are isolated: locally
    /// (the bats assumption) and remotely with the server-env remedy.
    #[test]
    fn generated_suites_hold_where_tmpdir_reaches_the_build(noise in suite(small()), sharing in prop::sample::select(vec![Sharing::Shared, Sharing::Locked])) {
        for world in [World::new(Topology::Local, Remedy::None), World::new(Topology::Remote, Remedy::ServerEnv), World::new(Topology::Remote, Remedy::ForwardEnv)] {
            let s = calibrate(&planted(noise.clone(), sharing), Profile::new(BUILDAH), &world).unwrap();
            let prog = Program::compile(&s, Profile::new(BUILDAH), &world).unwrap();
            let o = explore::explore(&prog, Strategy::Dfs { por: true }, Budget::new(200_000, 20.0), Options::default());
            prop_assert!(matches!(o.verdict, Verdict::Holds { .. }), "{:?}: {:?}", world, o.verdict);
        }
    }
}
