//! BuildKit's `--no-cache` in the model: at the build's start the daemon clears the index of
//! every cache its RUNs name by id alone (`Worker.PruneCacheMounts`), so they start from a fresh
//! instance that later builds then find, while a cache with uid/gid/mode survives; and it
//! forgets the active shared refs of every cache (`ClearActiveCacheMounts`), so a shared mount
//! of a cache a running RUN holds gets a new instance. `tests/real_current.rs` shows the same
//! on Docker 26. Buildah's `--no-cache` concerns layers only.

#[path = "common/brute.rs"]
mod common;

use common::{finals, suite_of};
use mountfuzz::check::{Oracle, Oracles};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::explore::{self, Program};
use mountfuzz::world::{Remedy, Topology, World};

const V139: Engine = Engine::Buildah(BuildahVersion::V1_39);

fn compile(s: &mountfuzz::scenario::Suite, engine: Engine) -> Program {
    Program::compile(
        s,
        Profile::new(engine),
        &World::new(Topology::Local, Remedy::None),
    )
    .unwrap()
}

const WRITE: &str = "FROM busybox\nRUN --mount=type=cache,id=x,target=/a --mount=type=cache,id=x,target=/b,uid=0 sh -c 'echo x > /a/f; echo y > /b/f'\n";
const READ_A: &str = "FROM busybox\nRUN --mount=type=cache,id=x,target=/a cat /a/f\n";
const READ_B: &str = "FROM busybox\nRUN --mount=type=cache,id=x,target=/b,uid=0 cat /b/f\n";

/// Whether the one test of `s` makes no complaint alone (its expectations hold) on `engine`.
fn holds_alone(s: &mountfuzz::scenario::Suite, engine: Engine) -> bool {
    let prog = compile(s, engine);
    explore::alone_violation(&prog, 0, Oracles::all()).is_none()
}

#[test]
fn a_no_cache_build_starts_the_plain_cache_fresh_and_keeps_the_uid_one() {
    // The reads expect what moby/buildkit#2447 shows: /b keeps y, /a is empty.
    let toml = |no_cache: bool| {
        format!(
            "name = \"nc\"\n[[test]]\nname = \"t\"\n[[test.step]]\nbuild = \"\"\"\n{WRITE}\"\"\"\n[[test.step]]\nbuild = \"\"\"\n{READ_B}\"\"\"\nexpect_output = \"y\"\n{nc}[[test.step]]\nbuild = \"\"\"\n{READ_A}\"\"\"\nexpect_failure = \"No such file\"\n{nc}",
            nc = if no_cache { "no_cache = true\n" } else { "" }
        )
    };
    let suite = |no_cache| {
        mountfuzz::scenario::Suite::from_toml(
            &toml(no_cache),
            "nc.toml",
            Engine::BuildKit.dialect(),
        )
        .unwrap()
    };
    assert!(holds_alone(&suite(true), Engine::BuildKit));
    // Without --no-cache /a still holds x, so the read that must fail succeeds.
    assert!(!holds_alone(&suite(false), Engine::BuildKit));
    // On Buildah --no-cache leaves cache mounts alone.
    assert!(!holds_alone(&suite(true), V139));
    // The suite file keeps the flag.
    let s = suite(true);
    let again = mountfuzz::scenario::Suite::from_toml(
        &s.to_toml(Engine::BuildKit.dialect()),
        "again.toml",
        Engine::BuildKit.dialect(),
    )
    .unwrap();
    assert_eq!(again, s);
}

#[test]
fn later_builds_mount_the_instance_the_no_cache_build_made() {
    let write_z = "FROM busybox\nRUN --mount=type=cache,id=x,target=/a echo z > /a/f\n";
    let toml = format!(
        "name = \"nc\"\n[[test]]\nname = \"t\"\n[[test.step]]\nbuild = \"\"\"\n{WRITE}\"\"\"\n[[test.step]]\nbuild = \"\"\"\n{write_z}\"\"\"\nno_cache = true\n[[test.step]]\nbuild = \"\"\"\n{READ_A}\"\"\"\nexpect_output = \"z\"\n"
    );
    let s = mountfuzz::scenario::Suite::from_toml(&toml, "nc.toml", Engine::BuildKit.dialect())
        .unwrap();
    assert!(holds_alone(&s, Engine::BuildKit));
}

#[test]
fn a_no_cache_build_of_another_cache_splits_a_held_shared_one() {
    // a and c mount cache c shared; b builds another cache with or without --no-cache. In some
    // order b's build starts while a holds c, and then c gets a new instance: shared coherence
    // breaks. Without --no-cache c always joins a's instance.
    let mount = "FROM busybox\nRUN --mount=type=cache,id=c,target=/c touch /c/f\n";
    let other = "FROM busybox\nRUN --mount=type=cache,id=o,target=/o touch /o/f\n";
    let split = |no_cache: bool| {
        let s = suite_of(&[
            ("a", &[(mount, false)]),
            ("b", &[(other, no_cache)]),
            ("c", &[(mount, false)]),
        ]);
        let prog = compile(&s, Engine::BuildKit);
        let all = finals(&prog, Oracles::of(&[Oracle::SharedCoherence]));
        (
            all.iter().any(|m| m.violation().is_some()),
            all.iter().all(|m| m.violation().is_some()),
        )
    };
    assert_eq!(
        split(true),
        (true, false),
        "only where b starts while a holds c"
    );
    assert_eq!(split(false), (false, false));
}

#[test]
fn dpor_covers_the_orders_of_a_no_cache_build() {
    let mount = "FROM busybox\nRUN --mount=type=cache,id=c,target=/c echo 1 >> /c/f\n";
    let read = "FROM busybox\nRUN --mount=type=cache,id=c,target=/c cat /c/f\n";
    let s = suite_of(&[
        ("a", &[(mount, false), (read, false)]),
        ("b", &[(mount, true)]),
    ]);
    let prog = compile(&s, Engine::BuildKit);
    common::assert_dpor_matches_census(&prog, "a --no-cache build beside a reader");
}
