//! Lint rules that the real Buildah 1.28.2 here can show, checked on it: each Dockerfile is linted
//! for `buildah@1.28` and then built with the real binary under a deadline. A flagged deadlock
//! must hang the real build; the clean variant must finish. Runs as root with buildah and a
//! static busybox (`MOUNTFUZZ_REQUIRE_REAL=1` makes a skip a failure, as in CI).

use std::process::Command;
use std::time::Duration;

use mountfuzz::engine::Engine;
use mountfuzz::lint::{self, Options};
use mountfuzz::real::process::{run_bounded, static_busybox, unavailable};

fn skip() -> bool {
    if let Some(why) = unavailable("buildah") {
        assert!(
            std::env::var_os("MOUNTFUZZ_REQUIRE_REAL").is_none(),
            "MOUNTFUZZ_REQUIRE_REAL is set but: {why}"
        );
        eprintln!("skipped: {why}");
        return true;
    }
    false
}

const PRELUDE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"ln\",\"-s\",\"/bin/busybox\",\"/bin/sh\"]\n";

/// Builds `runs` (after a busybox prelude) with the real buildah, local, under `limit`;
/// returns whether it finished, and its output.
fn build(runs: &str, limit: Duration) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(static_busybox().unwrap(), d.join("busybox")).unwrap();
    std::fs::write(d.join("Containerfile"), format!("{PRELUDE}{runs}")).unwrap();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let f = run_bounded(
        Command::new("buildah")
            .args([
                "--storage-driver",
                "vfs",
                "bud",
                "--isolation",
                "chroot",
                "--layers=false",
                "-f",
            ])
            .arg(d.join("Containerfile"))
            .arg(d)
            .env("TMPDIR", &tmp),
        limit,
    )
    .unwrap();
    (!f.timed_out && f.code == Some(0), f.output)
}

fn lint_128(runs: &str) -> Vec<&'static str> {
    let opts = Options {
        engines: vec!["buildah@1.28".parse::<Engine>().unwrap()],
        ..Options::default()
    };
    let text = format!("{PRELUDE}{runs}");
    lint::lint("Containerfile", &text, &opts)
        .unwrap()
        .findings
        .iter()
        .map(|f| f.rule.id)
        .collect()
}

#[test]
fn mf006_a_later_run_of_the_same_build_hangs_on_real_1_28() {
    if skip() {
        return;
    }
    let two = "RUN --mount=type=cache,id=mfl-a,target=/a,sharing=locked --mount=type=cache,id=mfl-b,target=/b,sharing=locked echo one > /a/f\n";
    let bad = format!("{two}{}", two.replace("one", "two"));
    assert!(lint_128(&bad).contains(&"MF006"));
    let (finished, out) = build(&bad, Duration::from_secs(45));
    assert!(
        !finished,
        "the model predicts a hang; the real build finished:\n{out}"
    );
    // Each lock in a RUN of its own: clean, and the real build finishes.
    let good = "RUN --mount=type=cache,id=mfl-a,target=/a,sharing=locked echo one > /a/f\nRUN --mount=type=cache,id=mfl-a,target=/a,sharing=locked cat /a/f\n";
    assert!(lint_128(good).is_empty(), "{:?}", lint_128(good));
    let (finished, out) = build(good, Duration::from_secs(120));
    assert!(finished, "{out}");
}

#[test]
fn mf001_one_run_locking_one_cache_twice_hangs_on_real_1_28() {
    if skip() {
        return;
    }
    let bad = "RUN --mount=type=cache,id=mfl-c,target=/a,sharing=locked --mount=type=cache,id=mfl-c,target=/b,sharing=locked echo x > /a/f\n";
    assert!(lint_128(bad).contains(&"MF001"));
    let (finished, out) = build(bad, Duration::from_secs(45));
    assert!(
        !finished,
        "the model predicts a hang; the real build finished:\n{out}"
    );
    let good = "RUN --mount=type=cache,id=mfl-c,target=/a,sharing=locked --mount=type=cache,id=mfl-d,target=/b,sharing=locked echo x > /a/f\n";
    assert!(lint_128(good).is_empty(), "{:?}", lint_128(good));
    let (finished, out) = build(good, Duration::from_secs(120));
    assert!(finished, "{out}");
}

#[test]
fn mf006_a_locked_run_that_wipes_its_cache_never_releases_the_lock_on_real_1_28() {
    if skip() {
        return;
    }
    // The wipe removes the lock file inside the cache; 1.28 then never unlocks, and the build's
    // next locked RUN of that cache waits for ever ("Lockfile … was expected here").
    let bad = "RUN --mount=type=cache,id=mfl-w,target=/w,sharing=locked rm -rf /w/*\nRUN --mount=type=cache,id=mfl-w,target=/w,sharing=locked echo two > /w/f\n";
    assert!(lint_128(bad).contains(&"MF006"), "{:?}", lint_128(bad));
    let (finished, out) = build(bad, Duration::from_secs(45));
    assert!(
        !finished,
        "the model predicts a hang; the real build finished:\n{out}"
    );
    // Removing a subdirectory keeps the lock file: clean, and the real build finishes.
    let good = "RUN --mount=type=cache,id=mfl-w,target=/w,sharing=locked rm -rf /w/sub\nRUN --mount=type=cache,id=mfl-w,target=/w,sharing=locked echo two > /w/f\n";
    assert!(lint_128(good).is_empty(), "{:?}", lint_128(good));
    let (finished, out) = build(good, Duration::from_secs(120));
    assert!(finished, "{out}");
}
