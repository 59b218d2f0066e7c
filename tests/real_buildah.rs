//! The model against real Buildah 1.28: for each case, a real rootful `buildah bud` (chroot
//! isolation, vfs, private root/runroot/TMPDIR, `FROM scratch` plus static busybox) writes a marker
//! into its cache mount, and the file must appear exactly where `Profile::locate` (the code behind
//! `mountfuzz where --engine buildah@1.28`) predicts. Runs whenever buildah is on PATH and we are
//! root; prints why it skips otherwise, and fails instead when `MOUNTFUZZ_REQUIRE_REAL=1` (CI).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mountfuzz::engine::{BuildahVersion, CacheEnv, Engine, Profile};
use mountfuzz::real::{run_bounded, static_busybox, unavailable};

struct Case {
    name: &'static str,
    opts: &'static str,
    workdir: &'static str,
    /// Where the RUN writes (inside the container).
    write_to: &'static str,
    /// A subdirectory of the scratch dir to use as TMPDIR (to show an id escaping its parent).
    tmp_sub: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "id-set",
        opts: "target=/test,id=myid",
        workdir: "/",
        write_to: "/test",
        tmp_sub: "tmp",
    },
    Case {
        name: "no-id-absolute",
        opts: "target=/test",
        workdir: "/",
        write_to: "/test",
        tmp_sub: "tmp",
    },
    Case {
        name: "relative-target",
        opts: "target=test",
        workdir: "/w",
        write_to: "test",
        tmp_sub: "tmp",
    },
    Case {
        name: "uid-gid",
        opts: "target=/test,uid=1000,gid=1000",
        workdir: "/",
        write_to: "/test",
        tmp_sub: "tmp",
    },
    Case {
        name: "locked",
        opts: "target=/test,id=lk,sharing=locked",
        workdir: "/",
        write_to: "/test",
        tmp_sub: "tmp",
    },
    Case {
        name: "id-cleaned",
        opts: "target=/test,id=a/../b/./c",
        workdir: "/",
        write_to: "/test",
        tmp_sub: "tmp",
    },
    Case {
        name: "id-escapes",
        opts: "target=/test,id=../../escape",
        workdir: "/",
        write_to: "/test",
        tmp_sub: "x/tmp",
    },
];

fn skip_or_fail() -> bool {
    if let Some(why) = unavailable("buildah") {
        if std::env::var("MOUNTFUZZ_REQUIRE_REAL").as_deref() == Ok("1") {
            panic!("real-engine tests are required here but cannot run: {why}");
        }
        eprintln!("SKIP real-Buildah tests: {why}");
        return true;
    }
    false
}

fn run_case(c: &Case) -> Result<(), String> {
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let s = scratch.path();
    let tmp = s.join(c.tmp_sub);
    std::fs::create_dir_all(&tmp).unwrap();
    let file = format!(
        "{PRELUDE}WORKDIR {}\nRUN --mount=type=cache,{} sh -c 'echo probe > {}/marker'\n",
        c.workdir, c.opts, c.write_to
    );
    let out = build_raw(s, &tmp, &file);

    let profile = Profile::new(Engine::Buildah(BuildahVersion::V1_28));
    let spec = profile
        .parse_mount(&format!("type=cache,{}", c.opts))
        .map_err(|e| format!("{}: {e}", c.name))?;
    let env = CacheEnv {
        tmpdir: Some(tmp.to_string_lossy().into_owned()),
        ..CacheEnv::default()
    };
    let predicted = profile.locate(&spec, c.workdir, &env);
    let result = match (&predicted, out.code) {
        (Ok(loc), Some(0)) => {
            let marker = Path::new(&loc.dir).join("marker");
            let mut problems = Vec::new();
            if !marker.is_file() {
                let found = find_markers(s);
                problems.push(format!(
                    "no marker at {}, found {found:?}",
                    marker.display()
                ));
            }
            if let Some(lock) = loc.lock_file.as_ref().filter(|l| !Path::new(l).is_file()) {
                problems.push(format!("no lock file at {lock}"));
            }
            if c.name == "id-escapes" && loc.contained {
                problems.push("the model should flag this dir as outside the parent".into());
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
        (Err(e), Some(code)) if code != 0 => {
            let word = e.problem.split(',').next().unwrap_or_default().to_string();
            if out.output.contains(&word) {
                Ok(())
            } else {
                Err(format!("both failed, but buildah did not say {word:?}"))
            }
        }
        (p, code) => Err(format!("model predicted {p:?}, buildah exited {code:?}")),
    };
    result.map_err(|e| format!("{}: {e}\n--- buildah output ---\n{}", c.name, out.output))
}

fn find_markers(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.ends_with("root") || d.ends_with("runroot") {
            continue;
        }
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "marker") {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

#[test]
fn real_buildah_1_28_writes_where_the_model_says() {
    if skip_or_fail() {
        return;
    }
    let version = run_bounded(
        Command::new("buildah").arg("--version"),
        Duration::from_secs(20),
    )
    .unwrap();
    assert!(
        version.output.contains("version 1.28"),
        "this test pins Buildah 1.28 behaviour; found {}",
        version.output
    );
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = CASES
            .chunks(4)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|c| run_case(c).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "real Buildah agreed with the model on {} cases",
        CASES.len()
    );
}

fn build_raw(dir: &Path, tmp: &Path, file: &str) -> mountfuzz::real::Finished {
    build_in(dir, tmp, &dir.join("ctl"), file)
}

/// One `buildah bud` of `file` with its root under `dir`, `TMPDIR=tmp` and `ctl` at `/ctl`.
fn build_in(dir: &Path, tmp: &Path, ctl: &Path, file: &str) -> mountfuzz::real::Finished {
    let ctx = dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::copy(static_busybox().unwrap(), ctx.join("busybox")).unwrap();
    std::fs::write(ctx.join("Containerfile"), file).unwrap();
    std::fs::create_dir_all(ctl).unwrap();
    run_bounded(
        mountfuzz::real::driver::buildah_bud(dir, ctl)
            .env("TMPDIR", tmp)
            .arg(ctx.join("Containerfile"))
            .arg(&ctx),
        Duration::from_secs(180),
    )
    .unwrap()
}

const PRELUDE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"ln\",\"-s\",\"/bin/busybox\",\"/bin/sh\"]\n";

#[test]
fn finding_1_28_a_wipe_of_a_locked_cache_removes_its_lock_file() {
    if skip_or_fail() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let tmp = d.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let file = format!(
        "{PRELUDE}RUN --mount=type=cache,target=/test,sharing=locked sh -c 'ls -a /test > /ctl/before; rm -rf /test/*; ls -a /test > /ctl/after'\n"
    );
    let out = build_raw(d.path(), &tmp, &file);
    assert_eq!(out.code, Some(0), "{}", out.output);
    let before = std::fs::read_to_string(d.path().join("ctl/before")).unwrap();
    let after = std::fs::read_to_string(d.path().join("ctl/after")).unwrap();
    assert!(
        before.contains("buildah-cache-lockfile"),
        "the lock file lives in the cache: {before}"
    );
    assert!(
        !after.contains("buildah-cache-lockfile"),
        "and the wipe removed it: {after}"
    );
    assert!(
        Profile::new(Engine::Buildah(BuildahVersion::V1_28)).wipe_removes_lock(),
        "as the model says"
    );
}

#[test]
fn finding_1_28_bare_sharing_crashes_the_binary() {
    if skip_or_fail() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let file = format!("{PRELUDE}RUN --mount=type=cache,target=/test,sharing true\n");
    let out = build_raw(d.path(), d.path(), &file);
    assert_eq!(out.code, Some(2), "{}", out.output);
    assert!(
        out.output
            .contains("panic: runtime error: index out of range [1] with length 1"),
        "{}",
        out.output
    );
    let e = mountfuzz::mount::parse(
        "type=cache,target=/test,sharing",
        mountfuzz::mount::Dialect::Buildah128,
    )
    .unwrap_err();
    assert!(
        e.problem
            .contains("panic: index out of range [1] with length 1"),
        "the model says so: {e}"
    );
}

/// Reads `/ctl/<name>` of a finished build, trimmed.
fn ctl(d: &Path, name: &str) -> String {
    std::fs::read_to_string(d.join("ctl").join(name))
        .unwrap_or_else(|e| format!("<no {name}: {e}>"))
        .trim()
        .to_string()
}

#[test]
fn finding_1_28_nested_dirs_share_files_and_a_wipe_of_the_outer_removes_the_inner() {
    // The model's side is `tests/model_faults.rs` (same scripts): reads ["hi", missing], and
    // the wipe of /a removes /a/b and its lock file.
    if skip_or_fail() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let tmp = d.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let file = format!(
        "{PRELUDE}RUN --mount=type=cache,target=/a/b,sharing=locked sh -c 'echo hi > /a/b/f'\n\
         RUN --mount=type=cache,target=/a sh -c 'cat /a/b/f > /ctl/read1; ls /a/b > /ctl/inner'\n\
         RUN --mount=type=cache,target=/a sh -c 'rm -rf /a/*'\n\
         RUN --mount=type=cache,target=/a/b sh -c 'cat /a/b/f > /ctl/read2 || echo missing > /ctl/read2'\n"
    );
    let out = build_raw(d.path(), &tmp, &file);
    assert_eq!(out.code, Some(0), "{}", out.output);
    assert_eq!(
        ctl(d.path(), "read1"),
        "hi",
        "written through /a/b, read through /a"
    );
    assert!(
        ctl(d.path(), "inner").contains("buildah-cache-lockfile"),
        "the inner lock file is inside /a/b"
    );
    assert_eq!(
        ctl(d.path(), "read2"),
        "missing",
        "the wipe of /a removed /a/b/f"
    );
    assert!(
        !tmp.join("buildah-cache/a/b/buildah-cache-lockfile")
            .exists(),
        "and /a/b's lock file (the last RUN is shared and makes none)"
    );
}

#[test]
fn finding_1_28_nothing_is_written_through_a_read_only_mount() {
    if skip_or_fail() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let tmp = d.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let file = format!(
        "{PRELUDE}RUN --mount=type=cache,target=/test sh -c 'echo seed > /test/f'\n\
         RUN --mount=type=cache,target=/test,ro sh -c 'cat /test/f > /ctl/r1; rm -f /test/absent && echo ok > /ctl/rm-absent; {{ echo x > /test/f; }} 2> /ctl/w1; true'\n\
         RUN --mount=type=cache,target=/test,ro sh -c '{{ rm -rf /test/*; }} 2> /ctl/w2; true'\n\
         RUN --mount=type=cache,target=/test sh -c 'cat /test/f > /ctl/r2'\n"
    );
    let out = build_raw(d.path(), &tmp, &file);
    assert_eq!(out.code, Some(0), "{}", out.output);
    assert_eq!(ctl(d.path(), "r1"), "seed");
    assert_eq!(
        ctl(d.path(), "rm-absent"),
        "ok",
        "rm -f of nothing succeeds on ro"
    );
    // The model's failure texts (tests/model_faults.rs) are the binary's words.
    assert_eq!(
        ctl(d.path(), "w1"),
        "sh: can't create /test/f: Read-only file system"
    );
    assert_eq!(
        ctl(d.path(), "w2"),
        "rm: can't remove '/test/f': Read-only file system"
    );
    assert_eq!(ctl(d.path(), "r2"), "seed", "the file survived both");
}

#[test]
fn finding_1_28_a_prune_under_a_live_holder_leaves_it_on_a_deleted_dir() {
    if skip_or_fail() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let tmp = d.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let (h, l) = (d.path().join("h"), d.path().join("l"));
    let ctl_dir = d.path().join("ctl");
    std::fs::create_dir_all(&ctl_dir).unwrap();
    let holder = format!(
        "{PRELUDE}RUN --mount=type=cache,target=/test sh -c 'echo one > /test/f1; touch /ctl/ready; i=0; while [ ! -e /ctl/go ]; do sleep 0.05; i=$((i+1)); [ $i -lt 2400 ] || exit 9; done; {{ cat /test/f1 > /ctl/h-read; }} 2> /ctl/h-read-err; {{ echo two > /test/f2; }} 2> /ctl/h-write; true'\n"
    );
    let later = format!(
        "{PRELUDE}RUN --mount=type=cache,target=/test sh -c 'echo three > /test/g; cat /test/g > /ctl/l-g; cat /test/f1 > /ctl/l-f1 || echo missing > /ctl/l-f1'\n"
    );
    let build = |dir: &Path, text: &str| build_in(dir, &tmp, &ctl_dir, text);
    std::thread::scope(|s| {
        let bg = s.spawn(|| build(&h, &holder));
        let start = std::time::Instant::now();
        while !ctl_dir.join("ready").exists() && start.elapsed() < Duration::from_secs(150) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            ctl_dir.join("ready").exists(),
            "the holder never got its mount"
        );
        // `buildah prune` as 1.28's CleanCacheMount does it: rm -rf of the cache parent.
        std::fs::remove_dir_all(tmp.join("buildah-cache")).unwrap();
        let out = build(&l, &later);
        assert_eq!(out.code, Some(0), "{}", out.output);
        std::fs::write(ctl_dir.join("go"), b"").unwrap();
        let out = bg.join().unwrap();
        assert_eq!(out.code, Some(0), "{}", out.output);
    });
    assert_eq!(ctl(d.path(), "l-g"), "three");
    assert_eq!(
        ctl(d.path(), "l-f1"),
        "missing",
        "the later mounter got a new, empty dir"
    );
    assert!(
        ctl(d.path(), "h-read-err").contains("No such file or directory"),
        "{}",
        ctl(d.path(), "h-read-err")
    );
    // The model's words for the holder's write (tests/model_faults.rs).
    assert_eq!(
        ctl(d.path(), "h-write"),
        "sh: can't create /test/f2: nonexistent directory"
    );
}

#[test]
fn finding_1_28_source_is_ignored_without_from_and_from_is_the_builds_stage() {
    if skip_or_fail() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let tmp = d.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let file = "FROM scratch AS st\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"ln\",\"-s\",\"/bin/busybox\",\"/bin/sh\"]\n\
         RUN mkdir /seed && echo s > /seed/f\n\
         FROM st\n\
         RUN --mount=type=cache,target=/t,source=sub sh -c 'echo x > /t/f'\n\
         RUN --mount=type=cache,target=/t sh -c 'cat /t/f > /ctl/plain'\n\
         RUN --mount=type=cache,target=/u,from=st,source=seed sh -c 'cat /u/f > /ctl/seed; echo w > /u/new'\n\
         RUN --mount=type=cache,target=/u,from=st,source=seed sh -c 'cat /u/new > /ctl/kept'\n\
         RUN --mount=type=cache,target=/v,from=st,sharing=locked sh -c 'ls /v > /ctl/root'\n";
    let out = build_raw(d.path(), &tmp, file);
    assert_eq!(out.code, Some(0), "{}", out.output);
    let profile = Profile::new(Engine::Buildah(BuildahVersion::V1_28));
    let env = CacheEnv {
        tmpdir: Some(tmp.to_string_lossy().into_owned()),
        ..CacheEnv::default()
    };
    let at = |o: &str| {
        let spec = profile.parse_mount(&format!("type=cache,{o}")).unwrap();
        profile.locate(&spec, "/", &env).unwrap()
    };
    // source= without from=: the model shows no subdirectory, and f is where it says.
    let plain = at("target=/t,source=sub");
    assert_eq!(plain.subpath, "");
    assert!(Path::new(&plain.dir).join("f").is_file(), "{plain:?}");
    assert_eq!(ctl(d.path(), "plain"), "x");
    // from=st: the stage's files, writes kept for the rest of the build, nothing under the
    // cache parent (the model places it outside, in the build's own mount of the stage).
    assert_eq!(ctl(d.path(), "seed"), "s");
    assert_eq!(ctl(d.path(), "kept"), "w");
    let staged = at("target=/v,from=st,sharing=locked");
    assert!(
        !staged.dir.starts_with(&*tmp.to_string_lossy()),
        "{staged:?}"
    );
    assert_eq!(find_markers(&tmp), Vec::<String>::new());
    assert!(!tmp.join("buildah-cache/u").exists() && !tmp.join("buildah-cache/seed").exists());
    // The 1.28 lock file of a from= cache is at the mount point's root, as the model says.
    assert!(
        staged
            .lock_file
            .as_deref()
            .is_some_and(|l| l == format!("{}/buildah-cache-lockfile", staged.parent))
    );
    assert!(
        ctl(d.path(), "root").contains("buildah-cache-lockfile"),
        "{}",
        ctl(d.path(), "root")
    );
}
