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

#[test]
fn run_verify_replay_and_suites() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cx.json");
    let f = file.to_str().unwrap();
    let o = mountfuzz(&["run", "--seed", "4", "--save", f]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("VIOLATED") && out.contains("shared cache dir: /var/tmp/buildah-cache-0/"),
        "{out}"
    );
    assert!(out.contains(&format!("replay:   mountfuzz replay {f}")));
    let o = mountfuzz(&["replay", f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("reproduced: isolation violated"));
    let o = mountfuzz(&["replay", "--json", f]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["reproduced"], true);

    let o = mountfuzz(&[
        "run",
        "--remedy",
        "server-env",
        "--strategy",
        "dfs",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "holds");
    // server-env gives every test its own cache parent: a static proof, one sequential run.
    assert_eq!(v["proof"], "static");
    assert_eq!(v["outcome"]["schedules"], 1);

    let o = mountfuzz(&["run", "--sharing", "private", "--no-save"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("UNSUPPORTED"));

    let o = mountfuzz(&["verify", "--engine", "buildah", "--json", "--seconds", "5"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cells"].as_array().unwrap().len(), 18);

    let o = mountfuzz(&["suites"]);
    assert!(stdout(&o).contains("buildah-bud-cache"));
}

#[test]
fn bad_input_files_exit_2_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = 3").unwrap();
    let o = mountfuzz(&["run", "--suite", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml: line 1"), "{}", stderr(&o));
    let o = mountfuzz(&["replay", "/nonexistent/replay.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/replay.json: cannot read"));
    let cf = dir.path().join("Containerfile");
    std::fs::write(
        &cf,
        "FROM scratch\nRUN --mount=type=cache,target=/c,sharing cat /c/f\n",
    )
    .unwrap();
    let o = mountfuzz(&["import", "--engine", "buildah@1.28", cf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Containerfile:2: RUN") && stderr(&o).contains("crashes"),
        "{}",
        stderr(&o)
    );
    let o = mountfuzz(&["run", "--strategy", "pct:0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = mountfuzz(&["run", "--save", bad.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "refuses to overwrite a user's file"
    );
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "name = 3");
}

#[test]
fn real_reproduces_25414_with_podman_remote_and_server_env_cures_it() {
    if mountfuzz::real::unavailable("podman").is_some() {
        assert_ne!(
            std::env::var("MOUNTFUZZ_REQUIRE_REAL").as_deref(),
            Ok("1"),
            "podman required"
        );
        eprintln!("SKIP: podman unavailable");
        return;
    }
    let o = mountfuzz(&["real", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "model and real must agree: {}",
        stdout(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["agree"] == true));
    assert_eq!(runs[0]["remedy"], "none");
    assert_ne!(
        runs[0]["real"], runs[1]["real"],
        "server-env changes what the real tests read"
    );
}

#[test]
fn four_shards_merged_equal_the_unsharded_verdict() {
    let dir = tempfile::tempdir().unwrap();
    for (remedy, schedules) in [("none", "100000"), ("server-env", "2000")] {
        let mut files = Vec::new();
        for i in 0..4 {
            let shard = format!("{i}/4");
            let per = (schedules.parse::<u64>().unwrap() / 4).to_string();
            let o = mountfuzz(&[
                "run",
                "--json",
                "--no-save",
                "--remedy",
                remedy,
                "--schedules",
                &per,
                "--shard",
                &shard,
            ]);
            let f = dir.path().join(format!("{remedy}-{i}.json"));
            std::fs::write(&f, &o.stdout).unwrap();
            files.push(f.display().to_string());
        }
        let mut args = vec!["merge"];
        args.extend(files.iter().map(String::as_str));
        let merged: serde_json::Value = serde_json::from_slice(&mountfuzz(&args).stdout).unwrap();
        let whole: serde_json::Value = serde_json::from_slice(
            &mountfuzz(&[
                "run",
                "--json",
                "--no-save",
                "--remedy",
                remedy,
                "--schedules",
                schedules,
            ])
            .stdout,
        )
        .unwrap();
        assert_eq!(merged["verdict"], whole["verdict"], "{remedy}");
        assert_eq!(
            merged["first_violation_index"], whole["first_violation_index"],
            "{remedy}"
        );
        assert_eq!(
            merged["first_violation"], whole["first_violation"],
            "{remedy}"
        );
        if remedy == "server-env" {
            assert_eq!(
                merged["schedules"], whole["outcome"]["schedules"],
                "every schedule run once"
            );
        }
    }
    let o = mountfuzz(&["run", "--shard", "4/4"]);
    assert_eq!(o.status.code(), Some(2));
    let o = mountfuzz(&["merge", "/nonexistent.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn stress_checks_real_threads_for_linearizability() {
    let o = mountfuzz(&["stress", "--json", "--runs", "3", "--topology", "remote"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "linearizable");
    assert_eq!(v["linearizable"], 3);
    assert!(v["operations"].as_u64().unwrap() > 50);
}

/// `dfs` sharded three ways on four tests in one locked cache (24 traces): the merged verdict
/// is the unsharded proof with the same executions; a merge that lacks a shard is refused.
#[test]
fn dfs_shards_merged_equal_one_machine() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("locked-4.toml");
    let text = mountfuzz::scenario::families::Family::Locked
        .suite(4)
        .to_toml(mountfuzz::mount::Dialect::Buildah);
    std::fs::write(&suite, text).unwrap();
    let suite = suite.display().to_string();
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "run",
            "--json",
            "--no-save",
            "--strategy",
            "dfs",
            "--suite",
            &suite,
        ];
        args.extend_from_slice(extra);
        let o = mountfuzz(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let whole = run(&[]);
    assert_eq!(whole["verdict"], "holds");
    assert_eq!(whole["proof"], "exhaustive");
    assert_eq!(whole["outcome"]["schedules"], 24);
    assert_eq!(whole["outcome"]["blocked"], 0);
    let mut files = Vec::new();
    for i in 0..3 {
        let f = dir.path().join(format!("shard-{i}.json"));
        let v = run(&["--shard", &format!("{i}/3")]);
        std::fs::write(&f, v.to_string()).unwrap();
        files.push(f.display().to_string());
    }
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    let o = mountfuzz(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(merged["verdict"], "holds");
    assert_eq!(merged["proof"], "exhaustive");
    assert_eq!(merged["schedules"], 24, "each trace counted once");
    let o = mountfuzz(&["merge", &files[0], &files[2]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("1/3"), "{}", stderr(&o));
    let o = mountfuzz(&[
        "run",
        "--strategy",
        "dfs-plain",
        "--shard",
        "0/2",
        "--suite",
        &suite,
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_stateful_search_finds_25414_replays_it_and_is_not_sharded() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("states.replay.json");
    let save = save.to_str().unwrap();
    let o = mountfuzz(&["run", "--strategy", "states", "--json", "--save", save]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "violated", "{v}");
    let o = mountfuzz(&["replay", save]);
    assert!(
        stdout(&o).contains("reproduced:") && !stdout(&o).contains("NOT"),
        "{}",
        stdout(&o)
    );
    // The remedy proves it, statically (the tests no longer share).
    let o = mountfuzz(&["run", "--strategy", "states", "--remedy", "server-env"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("HOLDS"), "{}", stdout(&o));
    let o = mountfuzz(&["run", "--strategy", "states", "--shard", "0/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("states is not sharded"),
        "{}",
        stderr(&o)
    );
}
