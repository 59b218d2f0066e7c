//! The corpus of real-world-shaped Dockerfiles (`tests/data/corpus`, origins in its ORIGINS):
//! every file imports on every engine without a crash or a dropped command, and runs as two
//! parallel copies; the verdicts that the model must get right are checked by name.

use mountfuzz::check::Intent;
use mountfuzz::corpus::{FileResult, check};
use mountfuzz::engine::{BuildahVersion, Engine};
use mountfuzz::scenario::import::{ImportOptions, import};

fn corpus() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "ORIGINS"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn origins_name_every_file_and_25_projects() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus");
    let origins = std::fs::read_to_string(format!("{dir}/ORIGINS")).unwrap();
    let rows: Vec<Vec<&str>> = origins
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    let files = corpus();
    assert!(files.len() >= 80, "{} files", files.len());
    for (name, _) in &files {
        let row = rows.iter().find(|r| r[0] == name).unwrap_or_else(|| {
            panic!("{name} has no ORIGINS row");
        });
        assert_eq!(row.len(), 5, "{row:?}");
        assert_eq!(row[3].len(), 40, "a commit: {row:?}");
    }
    let projects: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[1]).collect();
    assert!(projects.len() >= 25, "{} projects", projects.len());
}

#[test]
fn every_file_imports_and_no_command_is_dropped() {
    for d in [
        mountfuzz::mount::Dialect::BuildKit,
        mountfuzz::mount::Dialect::Buildah,
        mountfuzz::mount::Dialect::Buildah128,
    ] {
        for (name, text) in corpus() {
            let imp = import(&[(name.clone(), text.clone())], d, ImportOptions::default());
            for r in &imp.runs {
                // Every command of the RUN is listed with how it is modelled.
                assert!(!r.commands.is_empty(), "{name}:{}", r.line);
                for c in &r.commands {
                    assert!(
                        matches!(c.model.as_str(), "precise" | "opaque" | "no-cache-effect")
                            || c.model.starts_with("profile:"),
                        "{name}: {c:?}"
                    );
                }
            }
            // An unsupported file is refused for what the engine itself refuses: its mount
            // grammar (sharing=private on Buildah, CSV quotes, a bind mount with no target).
            for u in &imp.unsupported {
                assert!(
                    u.reason.starts_with("--mount="),
                    "{d:?} {name}: {}: {}",
                    u.construct,
                    u.reason
                );
            }
        }
    }
}

fn verdict<'a>(rs: &'a [FileResult], file: &str, e: Engine) -> (&'a str, Option<&'a str>) {
    let r = rs.iter().find(|r| r.file == file).unwrap();
    let (_, v, o) = r.verdicts.iter().find(|(x, ..)| *x == e).unwrap();
    (v.as_str(), o.as_deref())
}

#[test]
fn two_parallel_copies_of_each_file_get_the_verdicts_the_engines_give() {
    let files = corpus();
    let engines = [
        Engine::BuildKit,
        Engine::Buildah(BuildahVersion::Current),
        Engine::Buildah(BuildahVersion::V1_28),
    ];
    let rs = check(&files, &engines, 2, 5.0, Intent::SharedCache);
    assert_eq!(rs.len(), files.len());
    for r in &rs {
        for (e, v, _) in &r.verdicts {
            assert_ne!(v, "unknown", "{} on {e}: the budget ran out", r.file);
        }
    }
    let bk = Engine::BuildKit;
    let bh = Engine::Buildah(BuildahVersion::Current);
    let old = Engine::Buildah(BuildahVersion::V1_28);
    // The documented apt fix is clean; the default sharing is not (apt's lock).
    assert_eq!(verdict(&rs, "apt-both-locked.Dockerfile", bk).0, "holds");
    assert_eq!(
        verdict(&rs, "apt-both-shared.Dockerfile", bk),
        ("violated", Some("tool-contention"))
    );
    // Tools that wait or are safe under contention are fine shared.
    assert_eq!(verdict(&rs, "go-mod-then-build.Dockerfile", bk).0, "holds");
    assert_eq!(verdict(&rs, "yarn-mutex.Dockerfile", bk).0, "holds");
    assert_eq!(
        verdict(&rs, "yarn-and-apk.Dockerfile", bk),
        ("violated", Some("tool-contention"))
    );
    // Buildah's own from=<stage> cache tests pass on the real engine, and here.
    for f in [
        "buildah-from-stage.Dockerfile",
        "buildah-from-two-stages.Dockerfile",
        "buildah-from-source-id.Dockerfile",
    ] {
        assert_eq!(verdict(&rs, f, bh).0, "holds", "{f}");
        assert_eq!(verdict(&rs, f, old).0, "holds", "{f}");
    }
    // Two locked mounts of one id in one RUN deadlock on Buildah, not on BuildKit.
    assert_eq!(
        verdict(&rs, "buildah-double-locked.Dockerfile", bh),
        ("violated", Some("deadlock"))
    );
    assert_eq!(
        verdict(&rs, "buildah-double-locked.Dockerfile", bk).0,
        "holds"
    );
    // An id with ../ escapes the cache parent on 1.28 only (CVE-2024-9675).
    assert_eq!(
        verdict(&rs, "buildah-escaping-id.Dockerfile", old),
        ("violated", Some("path-containment"))
    );
    assert_eq!(
        verdict(&rs, "buildah-escaping-id.Dockerfile", bh).0,
        "holds"
    );
    // A read of a file another copy removes meanwhile fails the build.
    assert_eq!(
        verdict(&rs, "shell-rm-without-f.Dockerfile", bk),
        ("violated", Some("expectation"))
    );
    // A cargo build may create what the cp after it copies out of the target cache.
    assert_eq!(
        verdict(&rs, "cargo-copy-out-of-target.Dockerfile", bk).0,
        "holds"
    );
}

#[test]
fn one_copy_is_never_a_proof() {
    let files: Vec<(String, String)> = corpus()
        .into_iter()
        .filter(|(n, _)| n == "apt-both-locked.Dockerfile")
        .collect();
    let rs = check(&files, &[Engine::BuildKit], 1, 5.0, Intent::SharedCache);
    assert_eq!(rs[0].verdicts[0].1, "vacuous");
}

/// Two projects on one shared cache: one reads a file and writes it back changed, the other
/// writes it in between. Under shared-cache intent that is a lost update; a blind write (no read
/// first) or the same bytes written is none.
#[test]
fn a_read_modify_write_race_is_a_lost_update() {
    use mountfuzz::check::Oracle;
    use mountfuzz::mount::Dialect;
    let run = |a: &str, b: &str| {
        let files = vec![
            ("a".to_string(), format!("FROM x\n{a}\n")),
            ("b".to_string(), format!("FROM x\n{b}\n")),
        ];
        let imp = import(
            &files,
            Dialect::BuildKit,
            ImportOptions {
                steps: false,
                tmpdir: mountfuzz::scenario::import::Tmpdir::Host,
            },
        );
        mountfuzz::run::Check::new(imp.suite)
            .engine(Engine::BuildKit)
            .topology(mountfuzz::world::Topology::Local)
            .strategy(mountfuzz::explore::Strategy::Dfs { por: true })
            .oracles(&[Oracle::LostUpdate])
            .run()
            .unwrap()
    };
    let rmw = "RUN --mount=type=cache,target=/c echo 0 > /c/n\nRUN --mount=type=cache,target=/c cat /c/n && echo a > /c/n";
    let r = run(rmw, "RUN --mount=type=cache,target=/c echo b > /c/n");
    assert_eq!(r.verdict_name(), "violated");
    assert_eq!(r.violation().unwrap().oracle, Oracle::LostUpdate);
    let blind = "RUN --mount=type=cache,target=/c echo 0 > /c/n\nRUN --mount=type=cache,target=/c echo a > /c/n";
    let r = run(blind, "RUN --mount=type=cache,target=/c echo b > /c/n");
    assert_eq!(
        r.verdict_name(),
        "holds",
        "a blind write loses nothing it read"
    );
    let r = run(rmw, "RUN --mount=type=cache,target=/c echo a > /c/n");
    assert_eq!(r.verdict_name(), "holds", "the same bytes lose nothing");
}
