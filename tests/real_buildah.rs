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
    let ctx = dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::copy(static_busybox().unwrap(), ctx.join("busybox")).unwrap();
    std::fs::write(ctx.join("Containerfile"), file).unwrap();
    std::fs::create_dir_all(dir.join("ctl")).unwrap();
    run_bounded(
        mountfuzz::real::driver::buildah_bud(dir, &dir.join("ctl"))
            .env("TMPDIR", tmp)
            .arg(ctx.join("Containerfile"))
            .arg(&ctx),
        Duration::from_secs(120),
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
