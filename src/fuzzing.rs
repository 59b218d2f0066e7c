//! The fuzz targets' bodies, in the library so that `fuzz/` and the regression tests that replay
//! its corpus and crashes (`tests/fuzz_regressions.rs`) run the same code. Each panics on a bug.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};

use crate::check::Oracles;
use crate::engine::{BuildahVersion, Engine, Profile};
use crate::explore::replay::replay;
use crate::explore::{Program, Schedule};
use crate::mount::{Dialect, MountSpec, Sharing, display, parse};
use crate::run::calibrate;
use crate::scenario::{Build, CacheOp, Expect, RunStep, Step, Suite, TestCase, scratch_tmpdir};
use crate::world::{Remedy, Topology, World};

/// `mount_spec`: parsing never panics; what it accepts round-trips through `display`.
pub fn mount_spec(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for d in [
        Dialect::BuildKit,
        Dialect::Buildah,
        Dialect::Buildah128,
        Dialect::BuildahPool,
    ] {
        if let Ok(spec) = parse(text, d) {
            // Values with commas cannot round-trip (the grammar splits on them).
            let values = [
                spec.id.as_deref(),
                spec.source.as_deref(),
                spec.from.as_deref(),
                Some(spec.target.as_str()),
            ];
            if values.into_iter().flatten().any(|v| v.contains(',')) {
                continue;
            }
            let shown = display(&spec, d);
            assert_eq!(parse(&shown, d), Ok(spec), "{d:?}: {text:?} -> {shown:?}");
        }
    }
}

/// `containerfile`: the frontend, the shell and the effects never panic; every command of an
/// imported RUN is accounted for; an imported suite's TOML reads back to the same suite.
pub fn containerfile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The bytes as a RUN script on their own, against a cache at /c and one at rel.
    let mounts = [
        crate::mount::MountSpec::cache("/c"),
        crate::mount::MountSpec::cache("rel"),
    ];
    if let Ok(fx) = crate::effects::of_run(
        &crate::containerfile::Command::Shell(text.into()),
        &mounts,
        "/w",
        &BTreeMap::new(),
    ) {
        for c in &fx.commands {
            assert!(
                c.model != crate::effects::Model::NoCacheEffect || c.ops.is_empty(),
                "{c:?}"
            );
        }
    }
    for d in [
        Dialect::BuildKit,
        Dialect::Buildah,
        Dialect::Buildah128,
        Dialect::BuildahPool,
    ] {
        let _ = crate::containerfile::parse(text, d, &BTreeMap::new());
        let imp = crate::scenario::import::import(
            &[("f".into(), text.into())],
            d,
            crate::scenario::import::ImportOptions::default(),
        );
        let _ = imp.to_json(d);
        if let Ok(s) = Suite::import(&[("f".into(), text.into())], d) {
            let again = Suite::from_toml(&s.to_toml(d), "f", d);
            assert_eq!(again.as_ref().ok(), Some(&s), "{text:?}");
            // On BuildKit its stages that run at once are threads joined at the build's end: one
            // run, lowest thread first, ends (every thread done) or stops at a violation.
            if d == Dialect::BuildKit
                && let Ok(prog) = Program::compile(
                    &s,
                    Profile::new(Engine::BuildKit),
                    &World::new(Topology::Remote, Remedy::None),
                )
            {
                let r = replay(&prog, &Schedule::default(), Oracles::all(), false, true)
                    .expect("a lenient replay fits");
                assert!(
                    r.violation.is_some() || r.steps as usize == prog.total_events(),
                    "{text:?}: {} of {} events",
                    r.steps,
                    prog.total_events()
                );
            }
        }
    }
}

/// One operation, as bytes choose it.
#[derive(Arbitrary, Debug)]
enum OpB {
    Write(bool, u8),
    Append(bool, u8),
    Read(bool),
    Remove(bool),
    Wipe,
}

/// One step, as bytes choose it.
#[derive(Arbitrary, Debug)]
enum StepB {
    Build {
        target: u8,
        locked: bool,
        ops: Vec<OpB>,
    },
    Prune,
    Teardown,
}

/// The whole input.
#[derive(Arbitrary, Debug)]
struct Input {
    tests: Vec<Vec<StepB>>,
    schedule: Vec<u8>,
    remote: bool,
    current: bool,
    /// Every build and prune without `TMPDIR=$SCRATCH`: the tests share one cache parent.
    shared: bool,
}

/// Mount targets: two apart, and two whose dirs nest on Buildah 1.28.
const TARGETS: [&str; 4] = ["/test", "/test2", "/a", "/a/b"];

fn file(b: bool) -> String {
    if b { "world".into() } else { "other".into() }
}

/// The suite the bytes describe (at most 4 tests of 4 steps of 4 operations).
fn suite(input: &Input) -> Suite {
    let env = || {
        if input.shared {
            BTreeMap::new()
        } else {
            scratch_tmpdir()
        }
    };
    let tests = input
        .tests
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, steps)| TestCase {
            name: format!("t{i}"),
            steps: steps
                .iter()
                .take(4)
                .map(|s| match s {
                    StepB::Build {
                        target,
                        locked,
                        ops,
                    } => Step::Build(Build {
                        no_cache: false,
                        stages: None,
                        source: None,
                        env: env(),
                        runs: vec![RunStep {
                            mounts: vec![MountSpec {
                                sharing: if *locked {
                                    Sharing::Locked
                                } else {
                                    Sharing::Shared
                                },
                                ..MountSpec::cache(TARGETS[*target as usize % TARGETS.len()])
                            }],
                            workdir: "/".into(),
                            ops: ops
                                .iter()
                                .take(4)
                                .map(|o| match o {
                                    OpB::Write(f, v) => CacheOp::Write {
                                        mount: 0,
                                        file: file(*f),
                                        data: format!("v{}", v % 4),
                                    },
                                    OpB::Append(f, v) => CacheOp::Append {
                                        mount: 0,
                                        file: file(*f),
                                        data: format!("v{}", v % 4),
                                    },
                                    OpB::Read(f) => CacheOp::Read {
                                        mount: 0,
                                        file: file(*f),
                                    },
                                    OpB::Remove(f) => CacheOp::Remove {
                                        mount: 0,
                                        file: file(*f),
                                    },
                                    OpB::Wipe => CacheOp::Wipe { mount: 0 },
                                })
                                .collect(),
                            unmount_fails: false,
                        }],
                        expect: Expect::Success,
                    }),
                    StepB::Prune => Step::Prune { env: env() },
                    StepB::Teardown => Step::Teardown,
                })
                .collect(),
        });
    Suite {
        name: "fuzz".into(),
        tests: tests.collect(),
    }
}

/// `schedule`: bytes become a suite and a schedule.
/// - Isolated worlds (each test's TMPDIR reaches its builds: local, or remote with server-env;
///   expectations calibrated alone): a violation is a bug.
/// - Shared worlds (one cache parent for all, so tests interfere): the replay must be
///   deterministic; on small suites DFS with the reduction must find a violation exactly when
///   plain DFS does, and explore one execution per trace of the brute-force census; and a violation the schedule reaches must shrink to a counterexample that
///   still reproduces it.
///
/// A panic or a replay that differs is a bug in either.
pub fn schedule(data: &[u8]) {
    let Ok(input) = Input::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let s = suite(&input);
    if s.tests.is_empty() {
        return;
    }
    let engine = Engine::Buildah(if input.current {
        BuildahVersion::Current
    } else {
        BuildahVersion::V1_28
    });
    let world = match (input.shared, input.remote) {
        // Tests that share caches (local); the remote bit, unused there, splits each write's
        // open from its bytes (torn writes).
        (true, torn) => World {
            torn_writes: torn,
            ..World::new(Topology::Local, Remedy::None)
        },
        (false, true) => World::new(Topology::Remote, Remedy::ServerEnv),
        (false, false) => World::new(Topology::Local, Remedy::None),
    };
    let profile = Profile::new(engine);
    let s = calibrate(&s, profile, &world).expect("generated suites compile");
    let prog = Program::compile(&s, profile, &world).expect("generated suites compile");
    let n = prog.tests.len() as u8;
    // At most 192 choices: more than the events of any suite the bytes can describe (4 tests of
    // 4 steps of at most 11 events: acquire, 4 operations, 4 write opens, release, end); longer
    // inputs would only add choices the replay skips.
    let schedule = Schedule(
        input
            .schedule
            .iter()
            .take(192)
            .map(|b| (b % n) as u32)
            .collect(),
    );
    let first = replay(&prog, &schedule, Oracles::all(), false, true).expect("lenient replay fits");
    let again = replay(&prog, &schedule, Oracles::all(), false, true).expect("lenient replay fits");
    assert_eq!(
        (&first.executed, first.steps, &first.violation),
        (&again.executed, again.steps, &again.violation),
        "replay is deterministic"
    );
    if !input.shared {
        // Interference is what isolated tests must not show. A test that fails on its own (a
        // 1.28 podman server that keeps the lock its own wipe removed, `tests/remedies.rs`)
        // fails the same way whatever the schedule, and its expectation cannot say so.
        if (0..prog.tests.len())
            .any(|t| crate::explore::alone_violation(&prog, t, Oracles::all()).is_some())
        {
            return;
        }
        assert!(
            first.violation.is_none(),
            "isolated tests broke: {:?}\n{s:#?}\nschedule {schedule}",
            first.violation
        );
        return;
    }
    if prog.total_events() <= 14 {
        let dfs = |por| {
            crate::explore::explore(
                &prog,
                crate::explore::Strategy::Dfs { por },
                crate::explore::Budget::new(5_000, 5.0),
                crate::explore::Options::default(),
            )
        };
        let plain = dfs(false);
        if !matches!(plain.verdict, crate::explore::Verdict::Unknown(_)) {
            let por = dfs(true);
            let violated = |o: &crate::explore::Outcome| {
                matches!(o.verdict, crate::explore::Verdict::Violated(_))
            };
            assert_eq!(
                violated(&plain),
                violated(&por),
                "plain {:?} vs por {:?}\n{s:#?}",
                plain.verdict,
                por.verdict
            );
        }
        // With no oracle, DPOR explores one execution per trace of the brute-force census,
        // none blocked, and reaches the final states brute force reaches.
        if let Some(census) = crate::explore::traces::census(&prog, Oracles::none(), 2_000) {
            let opts = crate::explore::Options {
                oracles: Oracles::none(),
                ..crate::explore::Options::default()
            };
            let (_, counts, finals) = crate::explore::dpor::finals(
                &prog,
                crate::explore::Budget::new(100_000, 5.0),
                &opts,
            );
            assert_eq!(
                (counts.executions, counts.blocked),
                (census.traces, 0),
                "DPOR executions vs traces\n{s:#?}"
            );
            assert_eq!(finals, census.finals, "DPOR final states\n{s:#?}");
        }
    }
    if let Some(v) = first.violation {
        let found = crate::explore::Found {
            schedule: first.executed.clone(),
            violation: v,
            index: 0,
            deterministic: false,
        };
        let shrunk = crate::explore::shrink::shrink(
            &s,
            profile,
            &world,
            Oracles::all(),
            &found,
            std::time::Duration::from_millis(200),
        );
        let cx = crate::run::replay_recorded(
            &shrunk.suite,
            profile,
            &world,
            Oracles::all(),
            &shrunk.schedule,
            0,
        )
        .expect("a shrunk counterexample compiles and replays");
        let again = cx.violation.expect("the shrunk counterexample reproduces");
        assert_eq!(again.oracle, found.violation.oracle, "{s:#?}");
    }
}

/// `lint`: the bytes linted as a Dockerfile, as a build script and as a `.mountfuzz.yaml`, with a
/// tiny exploration budget, never panic; every finding points at a line of the input, and every
/// output format renders (SARIF and JSON as JSON).
pub fn lint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = crate::lint::Options {
        engines: Engine::ALL.to_vec(),
        seconds: 0.02,
        remote: data.len().is_multiple_of(2),
        ..crate::lint::Options::default()
    };
    let lines = text.lines().count().max(1);
    let mut reports = Vec::new();
    for name in ["Dockerfile", "build.sh"] {
        if let Ok(r) = crate::lint::lint(name, text, &opts) {
            for f in &r.findings {
                assert!(f.line >= 1 && f.line <= lines, "{name}: {f:?}");
            }
            reports.push(r);
        }
    }
    use crate::lint::output::{Format, render};
    for f in [Format::Tty, Format::Json, Format::Sarif, Format::Checkstyle] {
        let out = render(&reports, f);
        if matches!(f, Format::Json | Format::Sarif) {
            serde_json::from_str::<serde_json::Value>(&out).expect("JSON");
        }
    }
    let _ = crate::lint::config::parse(text, ".mountfuzz.yaml");
}
