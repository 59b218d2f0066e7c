//! Suites: TOML round trip of every built-in, one clear error per bad field, and Containerfile
//! import.

use mountfuzz::mount::Dialect;
use mountfuzz::scenario::{Suite, builtin};

#[test]
fn every_builtin_round_trips_through_toml() {
    for b in builtin::ALL {
        let s = b.suite();
        for d in [Dialect::Buildah, Dialect::Buildah128] {
            let text = s.to_toml(d);
            let back = Suite::from_toml(&text, b.name, d)
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", b.name));
            assert_eq!(back, s, "{} in {d:?}", b.name);
        }
    }
}

fn err(text: &str) -> String {
    Suite::from_toml(text, "s.toml", Dialect::Buildah)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_suite_files_name_the_field() {
    assert!(err("name = 3").starts_with("s.toml: line 1:"));
    assert!(err("name = \"x\"").contains("s.toml: test: a suite needs at least one [[test]]"));
    let two_kinds = "name='x'\n[[test]]\nname='a'\n[[test.step]]\nprune=true\nteardown=true\n";
    assert!(err(two_kinds).contains("test[0].step[0]: a step is exactly one of"));
    let dup = "name='x'\n[[test]]\nname='a'\n[[test]]\nname='a'\n";
    assert!(err(dup).contains("test[1].name: duplicate test name"));
    let bad_mount = "name='x'\n[[test]]\nname='a'\n[[test.step]]\nbuild='''\nFROM scratch\nRUN --mount=type=cache,target=/c,uid=x cat /c/f\n'''\n";
    let e = err(bad_mount);
    assert!(
        e.contains("test[0].step[0].build: line 2:") && e.contains("uid=x"),
        "{e}"
    );
    let no_cache =
        "name='x'\n[[test]]\nname='a'\n[[test.step]]\nbuild=\"FROM scratch\\nRUN true\"\n";
    assert!(err(no_cache).contains("no RUN with a cache mount"));
    let unknown = "name='x'\nfrob=1\n[[test]]\nname='a'\n";
    assert!(
        err(unknown).contains("unknown field `frob`"),
        "{}",
        err(unknown)
    );
    let both = "name='x'\n[[test]]\nname='a'\n[[test.step]]\nbuild=\"FROM scratch\\nRUN --mount=type=cache,target=/c cat /c/f\"\nexpect_output='a'\nexpect_failure='b'\n";
    assert!(err(both).contains("expect_failure: a build cannot expect both"));
    let run_oob = "name='x'\n[[test]]\nname='a'\n[[test.step]]\nbuild=\"FROM scratch\\nRUN --mount=type=cache,target=/c cat /c/f\"\nunmount_fails=[3]\n";
    assert!(err(run_oob).contains("unmount_fails: RUN 3 does not exist"));
}

#[test]
fn import_makes_one_test_per_containerfile() {
    let files = vec![
        (
            "a/Containerfile".to_string(),
            "FROM scratch\nRUN --mount=type=cache,target=/test echo hi > /test/f\n".to_string(),
        ),
        (
            "b/Containerfile".to_string(),
            "FROM scratch\nRUN --mount=type=cache,target=/test cat /test/f\n".to_string(),
        ),
    ];
    let s = Suite::import(&files, Dialect::Buildah).unwrap();
    let names: Vec<&str> = s.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Containerfile", "Containerfile-2"]);
    let back = Suite::from_toml(&s.to_toml(Dialect::Buildah), "x", Dialect::Buildah).unwrap();
    assert_eq!(back, s);
    let e = Suite::import(&[("bad".into(), "FROB\n".into())], Dialect::Buildah).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("bad: line 1: unknown instruction"),
        "{e}"
    );
}

// The shell and the command effects: tests/effects.rs.
