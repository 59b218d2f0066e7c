//! Every cell of the verify matrix (remedy × sharing × engine, remote topology, the built-in
//! `buildah-bud-cache` suite), pinned with the reason for its verdict. A `holds` must rest on a
//! proof (exhaustive or static); skip-remote runs nothing, so it is vacuous.

use mountfuzz::check::Oracles;
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::replay::replay;
use mountfuzz::explore::{Budget, Program};
use mountfuzz::mount::Sharing;
use mountfuzz::scenario::builtin;
use mountfuzz::verify::{Cell, CellVerdict, VerifyConfig, verify};
use mountfuzz::world::{Remedy, Topology, World};

/// The expected verdict, the oracle (or phrase) its reason must name, and why.
fn expected(
    engine: Engine,
    sharing: Sharing,
    remedy: Remedy,
) -> (CellVerdict, &'static str, &'static str) {
    use CellVerdict::*;
    let buildah = matches!(engine, Engine::Buildah(_));
    let rejects_private = Profile::new(engine).has(mountfuzz::engine::Quirk::PrivateRejected);
    match (remedy, buildah, sharing) {
        (Remedy::SkipRemote, _, _) => (
            Vacuous,
            "fewer than two tests run (0 run, 5 skipped)",
            "nothing runs remotely, so nothing can break: the coverage is what is lost",
        ),
        (_, true, Sharing::Private) if rejects_private => (
            Unsupported,
            "rejects sharing=private",
            "Buildah refuses sharing=private (podman#27188)",
        ),
        // Buildah 1.28: the wipe-in-between test's RUN removes its own lock file under
        // sharing=locked; the lock is never released and the build's next locked RUN hangs
        // (seen on the real 1.28.2: quirk stale-lock-never-released). Where no other test
        // fails on its own first, that deadlock is the verdict.
        (Remedy::GlobalTmpdir | Remedy::ServerEnv | Remedy::ForwardEnv, true, Sharing::Locked)
            if engine == Engine::Buildah(BuildahVersion::V1_28) =>
        {
            (
                Violated,
                "[deadlock]",
                "1.28 never releases a lock whose file the RUN's own wipe removed",
            )
        }
        (Remedy::None, true, _) => (
            Violated,
            "[expectation]",
            "prune runs on the client with the test's TMPDIR and empties a dir the server never used",
        ),
        (Remedy::GlobalTmpdir, true, _) => (
            Violated,
            "[isolation]",
            "one TMPDIR for every test and server: prune now agrees, but all tests share /test",
        ),
        (Remedy::ServerEnv | Remedy::ForwardEnv, true, _) => (
            Holds,
            "no two tests share a cache",
            "the build runs with the test's TMPDIR again, as locally: one cache parent per test",
        ),
        (Remedy::UniqueId, true, _) => (
            Violated,
            "[expectation]",
            "ids keep the caches apart, but prune still runs locally against the wrong dir",
        ),
        (Remedy::UniqueId, false, _) => (
            Violated,
            "[expectation]",
            "BuildKit's prune is daemon-wide: one test's prune empties another's unique cache",
        ),
        (_, false, _) => (
            Violated,
            "[isolation]",
            "BuildKit keeps caches in the daemon: TMPDIR never separated them",
        ),
    }
}

#[test]
fn every_cell_of_the_matrix_has_its_reason() {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let cells: Vec<Cell> = verify(&VerifyConfig {
        suite,
        engines: Engine::ALL.to_vec(),
        topology: Topology::Remote,
        budget: Budget::new(500_000, 30.0),
        fallback_schedules: 10_000,
    })
    .unwrap();
    assert_eq!(cells.len(), Engine::ALL.len() * 3 * 6);
    let mut wrong = Vec::new();
    for c in &cells {
        let (verdict, phrase, why) = expected(c.engine, c.sharing, c.remedy);
        let ok = c.verdict == verdict
            && c.reason.contains(phrase)
            && (verdict != CellVerdict::Holds || c.proof.is_some())
            && (verdict == CellVerdict::Unsupported || c.schedules > 0);
        if !ok {
            wrong.push(format!(
                "{} {} {}: got {} ({} schedules, proof {:?}): {}\n  expected {} naming {phrase:?} because {why}",
                c.engine,
                c.sharing,
                c.remedy,
                c.verdict.name(),
                c.schedules,
                c.proof,
                c.reason,
                verdict.name()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Each violated cell's reason is its own witness's: the witness replays, strictly, on that
    // cell's program to the same violation, and the reason states it.
    for c in cells.iter().filter(|c| c.verdict == CellVerdict::Violated) {
        let w = c
            .witness
            .as_ref()
            .expect("a violated cell keeps its witness");
        let suite = builtin::find("buildah-bud-cache")
            .unwrap()
            .suite()
            .with_sharing(c.sharing);
        let world = World::new(Topology::Remote, c.remedy);
        let prog = Program::compile(&suite, Profile::new(c.engine), &world).unwrap();
        let r = replay(&prog, &w.schedule, Oracles::all(), false, false).unwrap();
        let v = r.violation.expect("the witness reproduces");
        assert_eq!(v, w.violation, "{} {} {}", c.engine, c.sharing, c.remedy);
        assert!(
            c.reason
                .starts_with(&format!("[{}] {}", v.oracle, v.message)),
            "{} {} {}: {}",
            c.engine,
            c.sharing,
            c.remedy,
            c.reason
        );
    }
    // The remedies that hold do so on real exploration, not on an empty suite.
    let holds = cells
        .iter()
        .filter(|c| c.verdict == CellVerdict::Holds && c.remedy != Remedy::SkipRemote);
    for c in holds {
        assert!(c.distinct_states > 10, "{c:?}");
    }
}

#[test]
fn locally_the_suite_is_isolated_so_the_remote_failures_are_the_topology() {
    // The same cell run locally holds under every interleaving: what breaks remotely (the matrix
    // test above) is the server's TMPDIR, not the suite.
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let engine = Engine::Buildah(BuildahVersion::V1_28);
    let cells = verify(&VerifyConfig {
        suite,
        engines: vec![engine],
        topology: Topology::Local,
        budget: Budget::new(500_000, 30.0),
        fallback_schedules: 10_000,
    })
    .unwrap();
    let local = cells
        .iter()
        .find(|c| c.remedy == Remedy::None && c.sharing == Sharing::Shared)
        .unwrap();
    assert_eq!(local.verdict, CellVerdict::Holds, "{}", local.reason);
    assert!(local.proof.is_some());
}
