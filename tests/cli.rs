//! The command line as users meet it: outputs and exit codes.

use std::process::{Command, Output};

fn mountfuzz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mountfuzz"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn where_prints_the_buildah_paths() {
    let o = mountfuzz(&[
        "where",
        "--engine",
        "buildah",
        "--tmpdir",
        "/t",
        "type=cache,target=/test",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "/t/buildah-cache-0/78adcc621200b6ba\n");

    let o = mountfuzz(&[
        "where",
        "--engine",
        "buildah",
        "--tmpdir",
        "/t",
        "type=cache,target=/test,sharing=locked",
    ]);
    assert_eq!(
        stdout(&o),
        "/t/buildah-cache-0/78adcc621200b6ba\n\
         lock file: /t/buildah-cache-0/buildah-cache-lockfiles/78adcc621200b6ba/buildah-cache-lockfile\n"
    );
    let o = mountfuzz(&[
        "where",
        "--engine",
        "buildah@1.28",
        "--tmpdir",
        "/t",
        "type=cache,target=/test,sharing=locked",
    ]);
    assert_eq!(
        stdout(&o),
        "/t/buildah-cache/test\nlock file: /t/buildah-cache/test/buildah-cache-lockfile\n"
    );
    let o = mountfuzz(&[
        "where",
        "--engine",
        "buildkit",
        "type=cache,target=/test,id=k",
    ]);
    assert_eq!(stdout(&o), "k\n");
}

#[test]
fn where_json() {
    let o = mountfuzz(&[
        "where",
        "--json",
        "--tmpdir",
        "/t",
        "type=cache,target=/test",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dir"], "/t/buildah-cache-0/78adcc621200b6ba");
    assert_eq!(v["contained"], true);
}

#[test]
fn where_bad_options_exit_2_naming_key_and_value() {
    for (opts, key, value) in [
        ("type=cache,target=/test,sharing=weird", "sharing", "weird"),
        ("type=cache,target=/test,uid=abc", "uid", "abc"),
        ("type=cache,target=/test,frob=1", "frob", "1"),
    ] {
        let o = mountfuzz(&["where", "--engine", "buildah", opts]);
        assert_eq!(o.status.code(), Some(2), "{opts}");
        let e = stderr(&o);
        assert!(e.contains(&format!("{key}={value}")), "{opts}: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    let o = mountfuzz(&["where", "--engine", "buildah@1.28", "type=cache,target=rel"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("must be an absolute path"));
    let o = mountfuzz(&["where", "type=bind,target=/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a cache mount"));
}

#[test]
fn bad_flags_exit_2() {
    let o = mountfuzz(&["where", "--engine", "nope", "type=cache,target=/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown engine \"nope\""));
    let o = mountfuzz(&["--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}
