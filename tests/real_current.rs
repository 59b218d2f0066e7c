//! The current engines as oracles: Buildah 1.39.3, podman 5.4.2 and BuildKit (Docker 26.1.5),
//! run from the Debian 13 root that `ci/engines.sh up` builds and starts. Each test runs the
//! real binary under a deadline and checks the model's prediction for the same input:
//! - `where --engine buildah@1.39` for every key case;
//! - `mountfuzz real --engine buildah@1.39` (local, podman 5.4 remote, and the host's podman
//!   4.3 client against podman 5.4) on the built-in podman#25414 counterexample and on
//!   generated suites;
//! - the self-deadlock of two locked mounts of one cache in one RUN: it hangs 1.39 and
//!   poisons a podman 5.4 server, and BuildKit gives both mounts one instance.
//!
//! Skips (saying why) when the engines are not up; fails instead under
//! `MOUNTFUZZ_REQUIRE_REAL=1`, as in CI, whose `.ci/run` brings them up.

#[path = "common/pair.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mountfuzz::engine::{BuildahVersion, CacheEnv, Engine, Profile};
use mountfuzz::explore::Schedule;
use mountfuzz::lint::{self, Options};
use mountfuzz::mount::MountSpec;
use mountfuzz::real::chroot::Installation;
use mountfuzz::real::driver::{self, RealConfig};
use mountfuzz::real::process::{Guard, run_bounded, static_busybox};
use mountfuzz::scenario::{
    Build, CacheOp, Expect, RunStep, Step, Suite, TestCase, builtin, scratch_tmpdir,
};
use mountfuzz::world::{Remedy, Topology, World};

const V139: Engine = Engine::Buildah(BuildahVersion::V1_39);

const PRELUDE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"ln\",\"-s\",\"/bin/busybox\",\"/bin/sh\"]\n";

fn engines() -> Option<Installation> {
    match Installation::find() {
        Ok(i) if static_busybox().is_some() => Some(i),
        r => {
            let why = r
                .err()
                .unwrap_or_else(|| "no static busybox (apt-get install busybox-static)".into());
            if std::env::var("MOUNTFUZZ_REQUIRE_REAL").as_deref() == Ok("1") {
                panic!("real-engine tests are required here but cannot run: {why}");
            }
            eprintln!("SKIP current-engine test: {why}");
            None
        }
    }
}

/// A scratch dir the chroot's binaries see, with the busybox context and `Containerfile`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(containerfile: &str) -> Scratch {
        let dir = driver::scratch(V139).unwrap();
        let ctx = dir.path().join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::copy(static_busybox().unwrap(), ctx.join("busybox")).unwrap();
        std::fs::write(ctx.join("Containerfile"), containerfile).unwrap();
        Scratch { dir }
    }
    fn path(&self, p: &str) -> PathBuf {
        let p = self.dir.path().join(p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
    fn ctx(&self) -> PathBuf {
        self.dir.path().join("ctx")
    }
    fn file(&self) -> PathBuf {
        self.ctx().join("Containerfile")
    }
}

/// A local Buildah 1.39 build of the scratch's Containerfile, with `TMPDIR=tmp`.
fn bud_139(s: &Scratch, tmp: &Path, limit: Duration) -> mountfuzz::real::Finished {
    let mut c = driver::bud(V139, &s.path("store"), &s.path("ctl"), tmp).unwrap();
    c.arg(s.file()).arg(s.ctx());
    run_bounded(&mut c, limit).unwrap()
}

struct Case {
    name: &'static str,
    opts: &'static str,
    workdir: &'static str,
    write_to: &'static str,
    /// A RUN before the probe (`source=` needs its subdirectory to exist on 1.39).
    setup: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "id",
        opts: "target=/test,id=myid",
        workdir: "/",
        write_to: "/test",
        setup: "",
    },
    Case {
        name: "no-id",
        opts: "target=/test",
        workdir: "/",
        write_to: "/test",
        setup: "",
    },
    Case {
        name: "relative-target",
        opts: "target=test",
        workdir: "/w",
        write_to: "test",
        setup: "",
    },
    Case {
        name: "uid-gid",
        opts: "target=/test,uid=1000,gid=1000",
        workdir: "/",
        write_to: "/test",
        setup: "",
    },
    Case {
        name: "mode",
        opts: "target=/test,mode=0700",
        workdir: "/",
        write_to: "/test",
        setup: "",
    },
    Case {
        name: "locked",
        opts: "target=/test,id=lk,sharing=locked",
        workdir: "/",
        write_to: "/test",
        setup: "",
    },
    Case {
        name: "source",
        opts: "target=/test,id=src,source=sub",
        workdir: "/",
        write_to: "/test",
        setup: "RUN --mount=type=cache,target=/test,id=src mkdir -p /test/sub\n",
    },
    Case {
        name: "id-escapes",
        opts: "target=/test,id=../../escape",
        workdir: "/",
        write_to: "/test",
        setup: "",
    },
];

fn markers(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.ends_with("store") {
            continue;
        }
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "marker") {
                found.push(p);
            }
        }
    }
    found
}

/// One key case on real 1.39: the marker lands exactly where the model says (and nowhere else),
/// with the lock file where the model says. Returns the predicted dir.
fn where_case(c: &Case) -> Result<String, String> {
    let s = Scratch::new(&format!(
        "{PRELUDE}{}WORKDIR {}\nRUN --mount=type=cache,{} sh -c 'echo probe > {}/marker'\n",
        c.setup, c.workdir, c.opts, c.write_to
    ));
    let tmp = s.path("tmp");
    let out = bud_139(&s, &tmp, Duration::from_secs(120));
    let profile = Profile::new(V139);
    let spec = profile
        .parse_mount(&format!("type=cache,{}", c.opts))
        .map_err(|e| format!("{}: {e}", c.name))?;
    let env = CacheEnv {
        tmpdir: Some(tmp.display().to_string()),
        ..CacheEnv::default()
    };
    let loc = profile
        .locate(&spec, c.workdir, &env)
        .map_err(|e| format!("{}: the model refuses: {e:?}", c.name))?;
    let fail = |why: String| format!("{}: {why}\n--- buildah 1.39 ---\n{}", c.name, out.output);
    if out.code != Some(0) {
        return Err(fail(format!("the build failed ({:?})", out.code)));
    }
    let want = Path::new(&loc.dir).join(&loc.subpath).join("marker");
    let found = markers(&tmp);
    if found != [want.clone()] {
        return Err(fail(format!("model: {}, real: {found:?}", want.display())));
    }
    if let Some(lock) = loc.lock_file.as_ref().filter(|l| !Path::new(l).is_file()) {
        return Err(fail(format!("no lock file at {lock}")));
    }
    if !loc.contained {
        return Err(fail("1.39 keeps every id inside the parent".into()));
    }
    Ok(loc.dir)
}

#[test]
fn buildah_1_39_writes_where_the_model_says() {
    if engines().is_none() {
        return;
    }
    let results: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let hs: Vec<_> = CASES
            .chunks(CASES.len().div_ceil(2))
            .map(|chunk| scope.spawn(move || chunk.iter().map(where_case).collect::<Vec<_>>()))
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    let dirs: Vec<&str> = results
        .iter()
        .map(|r| r.as_ref().unwrap().rsplit('/').next().unwrap())
        .collect();
    // uid, gid and mode are not in 1.39's key (semantics.md §6): the same dir as no id.
    assert_eq!(dirs[1], "b306d9ff847c120d");
    assert_eq!((dirs[3], dirs[4]), (dirs[1], dirs[1]));
    // And 1.39 differs from upstream main here, which hashes id:uid:gid.
    let main = Profile::new(Engine::Buildah(BuildahVersion::Current));
    let spec = main
        .parse_mount("type=cache,target=/test,uid=1000,gid=1000")
        .unwrap();
    let loc = main.locate(&spec, "/", &CacheEnv::default()).unwrap();
    assert!(!loc.dir.ends_with(dirs[3]), "{loc:?}");
}

#[test]
fn buildah_1_39_fails_a_source_subdirectory_that_does_not_exist() {
    if engines().is_none() {
        return;
    }
    let run =
        "RUN --mount=type=cache,target=/test,id=src,source=sub sh -c 'echo probe > /test/marker'\n";
    let s = Scratch::new(&format!("{PRELUDE}{run}"));
    let out = bud_139(&s, &s.path("tmp"), Duration::from_secs(120));
    assert_eq!(out.code, Some(125), "{}", out.output);
    assert!(
        out.output.contains("sanitizing cache subdirectory"),
        "{}",
        out.output
    );
    // The model cannot tell (it tracks files, not directories) and says so.
    let profile = Profile::new(V139);
    let m = profile
        .parse_mount("type=cache,target=/test,id=src,source=sub")
        .unwrap();
    let suite = Suite {
        name: "source".into(),
        tests: vec![TestCase {
            name: "t".into(),
            steps: vec![Step::Build(Build {
                no_cache: false,
                stages: None,
                source: None,
                env: scratch_tmpdir(),
                runs: vec![RunStep {
                    mounts: vec![m],
                    workdir: "/".into(),
                    ops: vec![CacheOp::Touch {
                        mount: 0,
                        file: "marker".into(),
                    }],
                    unmount_fails: false,
                }],
                expect: Expect::Success,
            })],
        }],
    };
    let world = World::new(Topology::Local, Remedy::None);
    let prog = mountfuzz::explore::Program::compile(&suite, profile, &world).unwrap();
    assert!(
        prog.notes
            .iter()
            .any(|n| n.contains("no subdirectory \"sub\"")),
        "{:?}",
        prog.notes
    );
}

#[test]
fn buildah_1_39_from_a_stage_is_not_the_persistent_cache() {
    if engines().is_none() {
        return;
    }
    let s = Scratch::new(&format!(
        "{}FROM base\nRUN --mount=type=cache,target=/test,from=base sh -c 'echo probe > /test/marker; ls /test/bin/busybox'\n",
        PRELUDE.replace("FROM scratch", "FROM scratch AS base")
    ));
    let tmp = s.path("tmp");
    let out = bud_139(&s, &tmp, Duration::from_secs(120));
    assert_eq!(out.code, Some(0), "{}", out.output);
    let profile = Profile::new(V139);
    let spec = profile
        .parse_mount("type=cache,target=/test,from=base")
        .unwrap();
    let env = CacheEnv {
        tmpdir: Some(tmp.display().to_string()),
        ..CacheEnv::default()
    };
    let loc = profile.locate(&spec, "/", &env).unwrap();
    // The model: the stage's mount point in this build, outside the cache parent.
    assert!(
        !mountfuzz::engine::path::is_within(&loc.dir, &profile.cache_parent(&env)),
        "{loc:?}"
    );
    // Real: the RUN saw the stage's files there, and nothing reached the cache parent.
    assert_eq!(markers(&tmp), Vec::<PathBuf>::new(), "{}", out.output);
}

/// Lints `runs` (after the busybox prelude) for `engine`; the rule ids found.
fn lint_ids(engine: Engine, runs: &str) -> Vec<&'static str> {
    let opts = Options {
        engines: vec![engine],
        ..Options::default()
    };
    lint::lint("Containerfile", &format!("{PRELUDE}{runs}"), &opts)
        .unwrap()
        .findings
        .iter()
        .map(|f| f.rule.id)
        .collect()
}

const TWO_LOCKED: &str = "RUN --mount=type=cache,id=x,target=/a,sharing=locked --mount=type=cache,id=x,target=/b,sharing=locked sh -c 'echo one > /a/f; cat /b/f'\n";
const ONE_LOCKED: &str =
    "RUN --mount=type=cache,id=x,target=/a,sharing=locked sh -c 'echo two > /a/f'\n";

#[test]
fn self_deadlock_is_predicted_and_real_on_buildah_1_39() {
    if engines().is_none() {
        return;
    }
    assert!(lint_ids(V139, TWO_LOCKED).contains(&"MF001"));
    let s = Scratch::new(&format!("{PRELUDE}{TWO_LOCKED}"));
    let out = bud_139(&s, &s.path("tmp"), Duration::from_secs(20));
    assert!(out.timed_out, "real 1.39 should hang: {}", out.output);
    // The clean variant finishes, with no finding.
    assert!(!lint_ids(V139, ONE_LOCKED).contains(&"MF001"));
    let s = Scratch::new(&format!("{PRELUDE}{ONE_LOCKED}"));
    let out = bud_139(&s, &s.path("tmp"), Duration::from_secs(120));
    assert_eq!(out.code, Some(0), "{}", out.output);
}

/// A podman 5.4 service of its own, in the Debian 13 root, with its storage and TMPDIR in `s`.
fn podman_server(i: &Installation, s: &Scratch, name: &str) -> (Guard, PathBuf) {
    let sock = s.dir.path().join(format!("{name}.sock"));
    let _ = std::fs::remove_file(&sock);
    let mut c = i.command("podman", &[("TMPDIR", &s.path("server-tmp"))]);
    c.arg("--root")
        .arg(s.path("server/root"))
        .arg("--runroot")
        .arg(s.path("server/runroot"))
        .arg("--tmpdir")
        .arg(s.path("server/libpod-tmp"))
        .args(["--storage-driver", "vfs", "system", "service", "--time=0"])
        .arg(format!("unix://{}", sock.display()));
    let g = Guard::spawn_logged(&mut c, &s.dir.path().join(format!("{name}.log"))).unwrap();
    for _ in 0..300 {
        if sock.exists() {
            return (g, sock);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("podman 5.4 service {name} did not open its socket");
}

/// A podman 5.4 remote build of `runs` against `sock`, under `limit`.
fn remote_build(
    i: &Installation,
    s: &Scratch,
    sock: &Path,
    runs: &str,
    limit: Duration,
) -> mountfuzz::real::Finished {
    run_bounded(&mut remote_command(i, s, sock, runs, false), limit).unwrap()
}

/// The podman 5.4 remote build command of `runs` against `sock`, with or without `--layers`.
fn remote_command(i: &Installation, s: &Scratch, sock: &Path, runs: &str, layers: bool) -> Command {
    std::fs::write(s.file(), format!("{PRELUDE}{runs}")).unwrap();
    let mut c = i.command("podman", &[("TMPDIR", &s.path("client-tmp"))]);
    c.arg("--remote")
        .arg("--url")
        .arg(format!("unix://{}", sock.display()))
        .args(["build", "--isolation", "chroot"])
        .arg(format!("--layers={layers}"))
        .arg("-f")
        .arg(s.file())
        .arg(s.ctx());
    c
}

/// What the model says a stuck build poisons: `TWO_LOCKED` alone in one test, then a test
/// locking x and a test locking y.
fn model_poisons(topology: Topology) -> Option<Vec<String>> {
    use mountfuzz::explore::{Budget, Options as ExploreOptions, Strategy};
    use mountfuzz::run::{RunConfig, run};
    let profile = Profile::new(V139);
    let test = |name: &str, mounts: &[&str]| TestCase {
        name: name.into(),
        steps: vec![Step::Build(Build {
            no_cache: false,
            stages: None,
            source: None,
            env: Default::default(),
            runs: vec![RunStep {
                mounts: mounts
                    .iter()
                    .map(|m| profile.parse_mount(m).unwrap())
                    .collect(),
                workdir: "/".into(),
                ops: vec![CacheOp::Touch {
                    mount: 0,
                    file: "f".into(),
                }],
                unmount_fails: false,
            }],
            expect: Expect::Success,
        })],
    };
    let locked = |id: &str, t: &str| format!("type=cache,id={id},target={t},sharing=locked");
    let suite = Suite {
        name: "poison".into(),
        tests: vec![
            test("stuck", &[&locked("x", "/a"), &locked("x", "/b")]),
            test("later-x", &[&locked("x", "/a")]),
            test("later-y", &[&locked("y", "/a")]),
        ],
    };
    let rep = run(RunConfig {
        suite,
        profile,
        world: World::new(topology, Remedy::None),
        sharing: None,
        strategy: Strategy::Dfs { por: true },
        budget: Budget::new(10_000, 10.0),
        options: ExploreOptions::default(),
        shrink_time: Duration::ZERO,
    })
    .unwrap();
    assert_eq!(rep.deterministic.len(), 1, "{:?}", rep.deterministic);
    assert_eq!(rep.deterministic[0].test, "stuck");
    rep.deterministic[0].poisons.clone()
}

#[test]
fn self_deadlock_poisons_a_podman_5_4_server_until_it_restarts() {
    let Some(i) = engines() else { return };
    let s = Scratch::new(PRELUDE);
    let (server, sock) = podman_server(&i, &s, "p1");
    let stuck = remote_build(&i, &s, &sock, TWO_LOCKED, Duration::from_secs(20));
    assert!(stuck.timed_out, "podman 5.4 should hang: {}", stuck.output);
    // The client is gone (killed at its deadline); its build is not: a later build that locks
    // the same cache hangs on the same server...
    let later = remote_build(&i, &s, &sock, ONE_LOCKED, Duration::from_secs(15));
    assert!(
        later.timed_out,
        "the server should stay poisoned: {}",
        later.output
    );
    // ...while another cache still builds there.
    let other = remote_build(
        &i,
        &s,
        &sock,
        &ONE_LOCKED.replace("id=x", "id=y"),
        Duration::from_secs(60),
    );
    assert_eq!(other.code, Some(0), "{}", other.output);
    // The model says the same: under podman-remote the stuck build keeps x locked, so a later
    // build on x waits for ever and one on y does not; locally, nothing is left behind.
    assert_eq!(
        model_poisons(Topology::Remote),
        Some(vec!["later-x".to_string()])
    );
    assert_eq!(model_poisons(Topology::Local), None);
    // Restarting the service (it is ended by PID) cures it.
    drop(server);
    let (_server, sock) = podman_server(&i, &s, "p2");
    let after = remote_build(&i, &s, &sock, ONE_LOCKED, Duration::from_secs(60));
    assert_eq!(after.code, Some(0), "{}", after.output);
}

fn nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// `docker buildx build` of the scratch's Containerfile on the Docker 26 daemon that
/// `ci/engines.sh` runs, with extra `flags` (the driver's command).
fn buildkit_command(s: &Scratch, flags: &[&str]) -> Command {
    let mut c = driver::buildkit_build(flags).unwrap();
    c.arg(s.file()).arg(s.ctx());
    c
}

/// A BuildKit build of `containerfile`, to its end.
fn buildkit_build(containerfile: &str) -> mountfuzz::real::Finished {
    buildkit_build_with(containerfile, &[])
}

/// The same, with extra `docker buildx build` flags.
fn buildkit_build_with(containerfile: &str, flags: &[&str]) -> mountfuzz::real::Finished {
    let s = Scratch::new(containerfile);
    run_bounded(&mut buildkit_command(&s, flags), Duration::from_secs(120)).unwrap()
}

#[test]
fn buildkit_gives_two_locked_mounts_of_one_cache_one_instance() {
    if engines().is_none() {
        return;
    }
    let none = lint_ids(Engine::BuildKit, TWO_LOCKED);
    assert!(!none.contains(&"MF001"), "{none:?}");
    // A fresh nonce in the command: BuildKit's layer cache would skip a RUN it has run before.
    let n = nonce();
    let run = TWO_LOCKED
        .replace("id=x", &format!("id=mf-{n}"))
        .replace("echo one", &format!("echo one-{n}"));
    let out = buildkit_build(&format!("{PRELUDE}{run}"));
    assert_eq!(out.code, Some(0), "{}", out.output);
    // One instance: what the RUN wrote through /a it read through /b.
    assert!(
        out.output.contains(&format!(" one-{n}\n")),
        "{}",
        out.output
    );
    // The layer cache: the same RUN with another cache id is not run at all (the id is not
    // in the layer's cache key), so its cache mount is never touched.
    let again = buildkit_build(&format!(
        "{PRELUDE}{}",
        run.replace(&format!("id=mf-{n}"), "id=other")
    ));
    assert_eq!(again.code, Some(0), "{}", again.output);
    let step = again
        .output
        .split("\n\n")
        .find(|b| b.contains("id=other"))
        .unwrap_or_default();
    assert!(
        step.contains("CACHED") && !step.contains(&format!("one-{n}\n")),
        "{}",
        again.output
    );
}

/// The built-in suite's RUN-level counterexample on 1.39, run on the real engines with `world`'s
/// topology under each remedy; model and real must agree. Returns the tests' reads per remedy.
fn real_139(
    topology: Topology,
    host_client: bool,
    remedies: &[Remedy],
) -> Vec<Vec<Vec<Option<String>>>> {
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let profile = Profile::new(V139);
    let (suite, units): (_, Schedule) = mountfuzz::run::unit_counterexample(
        &suite,
        profile,
        &World::new(Topology::Remote, Remedy::None),
        10_000,
    )
    .unwrap()
    .expect("1.39 remote has a counterexample (podman#25414)");
    remedies
        .iter()
        .map(|&remedy| {
            let cfg = RealConfig {
                host_client,
                ..RealConfig::new(
                    suite.clone(),
                    World::new(topology, remedy),
                    units.clone(),
                    Duration::from_secs(240),
                )
                .on(V139)
            };
            let c = mountfuzz::run::compare_with_real(&cfg).unwrap();
            assert!(
                c.agree() && c.harness_failure().is_none(),
                "{topology} {remedy}: model {:?}, real {:?}",
                c.model,
                c.real.as_ref().map(|r| (&r.reads, &r.log))
            );
            c.real.unwrap().reads
        })
        .collect()
}

#[test]
fn real_podman_5_4_agrees_with_the_model_with_and_without_server_env() {
    if engines().is_none() {
        return;
    }
    let reads = real_139(Topology::Remote, false, &[Remedy::None, Remedy::ServerEnv]);
    // At stake: the remedy changes what the tests read (the cross-read is cured).
    assert_ne!(reads[0], reads[1]);
}

#[test]
fn real_podman_5_4_agrees_through_the_hosts_podman_4_3_client() {
    if engines().is_none() {
        return;
    }
    let _ = real_139(Topology::Remote, true, &[Remedy::None]);
}

#[test]
fn real_buildkit_agrees_with_the_model_and_only_unique_ids_cure_it() {
    if engines().is_none() {
        return;
    }
    let suite = builtin::find("buildah-bud-cache").unwrap().suite();
    let world = World::new(Topology::Remote, Remedy::None);
    let (suite, units): (_, Schedule) =
        mountfuzz::run::unit_counterexample(&suite, Profile::new(Engine::BuildKit), &world, 10_000)
            .unwrap()
            .expect("BuildKit shares caches by id across builds");
    let reads: Vec<_> = [Remedy::None, Remedy::ServerEnv, Remedy::UniqueId]
        .into_iter()
        .map(|remedy| {
            let cfg = RealConfig::new(
                suite.clone(),
                World::new(Topology::Remote, remedy),
                units.clone(),
                Duration::from_secs(180),
            )
            .on(Engine::BuildKit);
            let c = mountfuzz::run::compare_with_real(&cfg).unwrap();
            assert!(
                c.agree() && c.harness_failure().is_none(),
                "{remedy}: model {:?}, real {:?}",
                c.model,
                c.real.as_ref().map(|r| (&r.reads, &r.log))
            );
            c.real.unwrap().reads
        })
        .collect();
    // BuildKit keeps caches in the daemon: a TMPDIR per server changes nothing, an id per test
    // does.
    assert_eq!(reads[0], reads[1]);
    assert_ne!(reads[0], reads[2]);
}

/// Two local builds, a writes hello then later reads, b writes world; both with `tmpdir` as
/// TMPDIR (a placeholder of the world, or one dir for both).
fn local_pair(tmpdir: &str) -> Suite {
    common::pair(
        "local-pair",
        MountSpec::cache("/test"),
        [("TMPDIR".to_string(), tmpdir.to_string())].into(),
    )
}

#[test]
fn real_buildah_1_39_agrees_locally_with_one_tmpdir_and_with_scratch_ones() {
    if engines().is_none() {
        return;
    }
    let units: Schedule = "0.1.0".parse().unwrap();
    let world = World::new(Topology::Local, Remedy::None);
    let mut reads = Vec::new();
    for tmpdir in [scratch_tmpdir()["TMPDIR"].clone(), "/var/tmp/shared".into()] {
        let cfg = RealConfig::new(
            local_pair(&tmpdir),
            world.clone(),
            units.clone(),
            Duration::from_secs(180),
        )
        .on(V139);
        let c = mountfuzz::run::compare_with_real(&cfg).unwrap();
        assert!(
            c.agree(),
            "TMPDIR {tmpdir}: model {:?}, real {:?}",
            c.model,
            c.real.as_ref().map(|r| (&r.reads, &r.log))
        );
        reads.push(c.real.unwrap().reads[0].clone());
    }
    // At stake: one TMPDIR for both makes a read what b wrote.
    assert_eq!(
        reads,
        [
            vec![Some("hello".to_string())],
            vec![Some("world".to_string())]
        ]
    );
}

#[test]
fn the_driver_refuses_engines_it_cannot_run() {
    let cfg = RealConfig::new(
        builtin::find("buildah-bud-cache").unwrap().suite(),
        World::new(Topology::Remote, Remedy::None),
        Schedule::default(),
        Duration::from_secs(5),
    );
    for e in [
        Engine::Buildah(BuildahVersion::Current),
        Engine::Buildah(BuildahVersion::Pool),
    ] {
        match driver::run(&cfg.clone().on(e)) {
            Err(driver::RealError::Unsupported(why)) => assert!(why.contains("no driver"), "{why}"),
            other => panic!("{e}: {other:?}"),
        }
    }
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(mountfuzz::testing::proptest_config("proptest-regressions/real_current.txt", 4))]

    /// Generated suites and unit schedules: real Buildah 1.39 (local), podman 5.4 remote and
    /// BuildKit agree with the model on every read.
    #[test]
    fn generated_suites_model_equals_real_current_engines(
        s in mountfuzz::scenario::strategy::suite(mountfuzz::scenario::strategy::Shape {
            tests: 2..=2, builds: 1..=2, runs: 1..=1, ops: 1..=2, ..Default::default()
        }),
        seed in any::<u64>(),
        remote in any::<bool>(),
        buildkit in any::<bool>(),
    ) {
        if engines().is_none() {
            return Ok(());
        }
        let engine = if buildkit { Engine::BuildKit } else { V139 };
        // The BuildKit driver does not prune (the daemon is shared).
        prop_assume!(!buildkit || s.tests.iter().all(|t| t.steps.iter().all(|st| !matches!(st, Step::Prune { .. }))));
        let world = World::new(if remote { Topology::Remote } else { Topology::Local }, Remedy::None);
        let prog = mountfuzz::explore::Program::compile(&s, Profile::new(engine), &world).unwrap();
        let units = mountfuzz::explore::units::random(&prog, &mut mountfuzz::explore::Rng::for_schedule(seed, 0));
        let cfg = RealConfig::new(s, world.clone(), units.clone(), Duration::from_secs(180)).on(engine);
        let c = mountfuzz::run::compare_with_real(&cfg).unwrap();
        prop_assert!(c.agree(), "{engine} {:?} {units}: model {:?}, real {:?}", world.topology, c.model, c.real.as_ref().map(|r| (&r.reads, &r.log)));
    }
}

/// A BuildKit build of `containerfile` started in the background (its own context dir).
fn start_buildkit(containerfile: &str) -> (Guard, Scratch) {
    let s = Scratch::new(containerfile);
    let g = Guard::spawn_logged(
        &mut buildkit_command(&s, &[]),
        &s.dir.path().join("build.log"),
    )
    .unwrap();
    (g, s)
}

/// Waits up to `limit` for `what` to hold.
fn within(limit: Duration, mut what: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    what()
}

#[test]
fn buildkit_mixed_modes_on_one_id_as_the_model_decides() {
    use mountfuzz::engine::{Decision, Request};
    use mountfuzz::mount::Sharing;
    use mountfuzz::store::table::{Hold, Holder, KeyState};
    let Some(i) = engines() else { return };
    // The model, step by step: A holds the only instance locked; C's locked request waits; B's
    // shared request gets a new instance; once B is done, C takes that free instance while A
    // still holds its own (BuildKit's locked waits only when every instance is held).
    let p = Profile::new(Engine::BuildKit);
    let holder = |owner| Holder { owner, run: 0 };
    let hold = |owner, sharing| Hold {
        holder: holder(owner),
        sharing,
        lock_gen: 0,
        dir_gen: 0,
    };
    let ask = |s: &KeyState, owner, sharing| {
        p.decide(
            s,
            &Request {
                holder: holder(owner),
                sharing,
            },
        )
    };
    let mut state = KeyState::default();
    state.create(hold(0, Sharing::Locked));
    assert_eq!(ask(&state, 2, Sharing::Locked), Decision::Wait);
    assert_eq!(ask(&state, 1, Sharing::Shared), Decision::NewInstance);
    assert_eq!(ask(&state, 3, Sharing::Private), Decision::NewInstance);
    let b = state.create(hold(1, Sharing::Shared));
    state.release(holder(1));
    assert_eq!(ask(&state, 2, Sharing::Locked), Decision::Grant(b));

    // The real daemon, with A kept in its RUN until the harness lets it go. Each build finds
    // its control files by name: under load, the control cache's shared mounts were seen to
    // land in more than one instance (see the README's model findings).
    let n = nonce();
    let ctl = format!("--mount=type=cache,id=mf-ctl-{n},target=/ctl,sharing=shared");
    let k = format!("mf-mixed-{n}");
    let run = |sharing: &str, script: &str| {
        format!(
            "{PRELUDE}RUN {ctl} --mount=type=cache,id={k},target=/c,sharing={sharing} sh -c '{script}; : {n}'\n"
        )
    };
    let role = |who: &str| format!("ls /c > /ctl/{who}-saw-{n}; touch /ctl/{who}-done-{n}");
    let overlay = i.docker_data.join("overlay2");
    let find = |name: &str| {
        std::fs::read_dir(&overlay).ok().and_then(|mut it| {
            it.find_map(|e| {
                let d = e.ok()?.path().join("diff");
                d.join(name).exists().then_some(d)
            })
        })
    };
    let done = |who: &str| find(&format!("{who}-done-{n}")).is_some();
    let seen = |who: &str| {
        let d = find(&format!("{who}-saw-{n}")).unwrap();
        std::fs::read_to_string(d.join(format!("{who}-saw-{n}"))).unwrap()
    };
    let (_a, _sa) = start_buildkit(&run(
        "locked",
        &format!(
            "echo a > /c/f; touch /ctl/a-held-{n}; i=0; while [ ! -e /ctl/a-go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"
        ),
    ));
    assert!(
        within(Duration::from_secs(60), || find(&format!("a-held-{n}"))
            .is_some()),
        "the locked holder never started"
    );
    let a_ctl = find(&format!("a-held-{n}")).unwrap();
    let (_c, _sc) = start_buildkit(&run("locked", &role("c")));
    std::thread::sleep(Duration::from_secs(3));
    assert!(!done("c"), "locked waits while the only instance is held");
    let (_p, _sp) = start_buildkit(&run("private", &role("p")));
    let (_b, _sb) = start_buildkit(&run("shared", &role("b")));
    assert!(
        within(Duration::from_secs(60), || done("b") && done("p")),
        "shared and private do not wait for the locked holder"
    );
    assert_eq!(
        (seen("b"), seen("p")),
        (String::new(), String::new()),
        "new, empty instances"
    );
    assert!(
        within(Duration::from_secs(30), || done("c")),
        "C takes a freed instance while A still holds its own"
    );
    assert!(!a_ctl.join("a-go").exists());
    assert_eq!(seen("c"), "", "not A's instance");
    std::fs::write(a_ctl.join("a-go"), b"").unwrap();
}

#[test]
fn buildkit_splits_the_key_on_uid_and_mode_but_not_with_source_as_the_model_does() {
    if engines().is_none() {
        return;
    }
    let n = nonce();
    let k = format!("mf-key-{n}");
    let opts = ["", ",uid=1000", ",mode=0700"];
    let p = Profile::new(Engine::BuildKit);
    let dirs: Vec<String> = opts
        .iter()
        .map(|o| {
            let spec = p
                .parse_mount(&format!("type=cache,id={k},target=/c{o}"))
                .unwrap();
            p.locate(&spec, "/", &CacheEnv::default()).unwrap().dir
        })
        .collect();
    assert!(
        dirs[0] != dirs[1] && dirs[0] != dirs[2] && dirs[1] != dirs[2],
        "{dirs:?}"
    );
    // Real: a file written with no uid/mode is not seen with uid=1000 or with mode=0700.
    let mut text =
        format!("{PRELUDE}RUN --mount=type=cache,id={k},target=/c sh -c 'echo plain-{n} > /c/f'\n");
    for o in &opts[1..] {
        text.push_str(&format!(
            "RUN --mount=type=cache,id={k},target=/c{o} sh -c 'echo \"saw{o}: $(cat /c/f 2>/dev/null || echo nothing)\"'\n"
        ));
    }
    text.push_str(&format!(
        "RUN --mount=type=cache,id={k},target=/c sh -c 'echo \"saw again: $(cat /c/f)\"'\n"
    ));
    let out = buildkit_build(&text);
    assert_eq!(out.code, Some(0), "{}", out.output);
    for o in &opts[1..] {
        assert!(
            out.output.contains(&format!("saw{o}: nothing")),
            "{}",
            out.output
        );
    }
    assert!(
        out.output.contains(&format!("saw again: plain-{n}")),
        "{}",
        out.output
    );

    // Except with `source=`: then uid does not split the key, and the mount shows the subdir.
    let spec = p
        .parse_mount(&format!("type=cache,id={k}s,target=/c,uid=1000,source=sub"))
        .unwrap();
    let loc = p.locate(&spec, "/", &CacheEnv::default()).unwrap();
    let plain = p
        .parse_mount(&format!("type=cache,id={k}s,target=/c"))
        .unwrap();
    assert_eq!(
        loc.dir,
        p.locate(&plain, "/", &CacheEnv::default()).unwrap().dir
    );
    assert_eq!(loc.subpath, "sub");
    let out = buildkit_build(&format!(
        "{PRELUDE}RUN --mount=type=cache,id={k}s,target=/c sh -c 'mkdir -p /c/sub; echo in-sub-{n} > /c/sub/f'\nRUN --mount=type=cache,id={k}s,target=/c,uid=1000,source=sub sh -c 'echo \"saw source: $(cat /c/f)\"'\n"
    ));
    assert_eq!(out.code, Some(0), "{}", out.output);
    assert!(
        out.output.contains(&format!("saw source: in-sub-{n}")),
        "{}",
        out.output
    );
}

/// Held by the tests that run `--no-cache` builds or depend on none running: such a build
/// changes what later shared mounts on the whole daemon get (see the split test).
static NO_CACHE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn buildkit_no_cache_drops_cache_mounts_unless_uid_gid_or_mode_is_set() {
    if engines().is_none() {
        return;
    }
    let _alone = NO_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let n = nonce();
    let write = format!(
        "{PRELUDE}RUN --mount=type=cache,id=mf-nc-{n},target=/a --mount=type=cache,id=mf-nc-{n},target=/b,uid=0 sh -c 'echo x-{n} > /a/f; echo y-{n} > /b/f'\n"
    );
    let out = buildkit_build(&write);
    assert_eq!(out.code, Some(0), "{}", out.output);
    let read = format!(
        "{PRELUDE}RUN --mount=type=cache,id=mf-nc-{n},target=/a --mount=type=cache,id=mf-nc-{n},target=/b,uid=0 sh -c 'echo \"a=$(cat /a/f 2>/dev/null || echo none) b=$(cat /b/f 2>/dev/null || echo none)\"'\n"
    );
    let out = buildkit_build_with(&read, &["--no-cache"]);
    assert_eq!(out.code, Some(0), "{}", out.output);
    // moby/buildkit#2447: --no-cache throws the plain cache mount away, not the uid one.
    assert!(
        out.output.contains(&format!("a=none b=y-{n}")),
        "{}",
        out.output
    );
    // The --no-cache build's fresh instance is kept: it writes there, and the next plain build
    // mounts that instance, not the first one.
    let out = buildkit_build_with(
        &format!(
            "{PRELUDE}RUN --mount=type=cache,id=mf-nc-{n},target=/a sh -c 'echo z-{n} > /a/f'\n"
        ),
        &["--no-cache"],
    );
    assert_eq!(out.code, Some(0), "{}", out.output);
    let out = buildkit_build(&format!(
        "{PRELUDE}RUN --mount=type=cache,id=mf-nc-{n},target=/a sh -c 'echo \"later: $(cat /a/f)\"; : {n}'\n"
    ));
    assert!(
        out.output.contains(&format!("later: z-{n}")),
        "{}",
        out.output
    );
}

#[test]
fn buildah_1_39_rejects_sharing_private_as_the_model_does() {
    if engines().is_none() {
        return;
    }
    let run = "RUN --mount=type=cache,target=/test,sharing=private sh -c 'echo x > /test/f'\n";
    let s = Scratch::new(&format!("{PRELUDE}{run}"));
    let out = bud_139(&s, &s.path("tmp"), Duration::from_secs(120));
    assert_eq!(out.code, Some(125), "{}", out.output);
    assert!(lint_ids(V139, run).contains(&"MF003"));
}

/// Every dir below `root` (two levels of overlay2 snapshots, or a TMPDIR tree) that holds a
/// file `name`.
fn dirs_with(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        if d.join(name).is_file() {
            found.push(d.clone());
        }
        if depth < 4
            && let Ok(it) = std::fs::read_dir(&d)
        {
            stack.extend(
                it.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| (e.path(), depth + 1)),
            );
        }
    }
    found
}

/// A RUN that appends a line to `/c/log-N` and then waits for `/c/go` (at most a minute).
fn gated_append(id: &str, n: u128) -> String {
    format!(
        "RUN --mount=type=cache,id={id},target=/c sh -c 'echo ran >> /c/log-{n}; i=0; while [ ! -e /c/go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done'\n"
    )
}

/// The model's side of the two tests below: two tests building one Dockerfile share its
/// layer, and whether the later one merges into a running execution is the engine's.
fn model_layers(engine: Engine, topology: Topology) -> (usize, bool) {
    let d = "FROM busybox\nRUN --mount=type=cache,target=/c echo ran >> /c/log\n";
    let toml = format!(
        "name = \"same\"\n[[test]]\nname = \"a\"\n[[test.step]]\nbuild = \"\"\"\n{d}\"\"\"\n[[test]]\nname = \"b\"\n[[test.step]]\nbuild = \"\"\"\n{d}\"\"\"\n"
    );
    let suite = Suite::from_toml(&toml, "same.toml", engine.dialect()).unwrap();
    let profile = Profile::new(engine);
    let world = World {
        layer_cache: true,
        ..World::new(topology, Remedy::None)
    };
    let prog = mountfuzz::explore::Program::compile(&suite, profile, &world).unwrap();
    (prog.layers.len(), profile.merges_concurrent_runs())
}

/// BuildKit merges a build into an identical one that is running: started while the first
/// runs its RUN, the second waits for that execution and runs nothing itself, so the cache
/// gets one line. The model shares the layer and merges (`tests/layers.rs` checks every order).
#[test]
fn buildkit_runs_a_run_two_concurrent_builds_make_alike_once() {
    if engines().is_none() {
        return;
    }
    assert_eq!(model_layers(Engine::BuildKit, Topology::Local), (1, true));
    let _alone = NO_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let overlay = Installation::find().unwrap().docker_data.join("overlay2");
    let n = nonce();
    let log = format!("log-{n}");
    let d = format!("{PRELUDE}{}", gated_append(&format!("mf-merge-{n}"), n));
    let (a, _sa) = start_buildkit(&d);
    assert!(
        within(Duration::from_secs(60), || !dirs_with(&overlay, &log)
            .is_empty()),
        "the first build runs its RUN"
    );
    let (b, sb) = start_buildkit(&d);
    let b_log = sb.dir.path().join("build.log");
    assert!(
        within(Duration::from_secs(60), || std::fs::read_to_string(&b_log)
            .unwrap_or_default()
            .contains("RUN --mount")),
        "the second build reaches the RUN"
    );
    std::thread::sleep(Duration::from_secs(2));
    let dirs = dirs_with(&overlay, &log);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    std::fs::write(dirs[0].join("go"), b"").unwrap();
    let (ra, rb) = (
        a.wait(Duration::from_secs(120)).unwrap(),
        b.wait(Duration::from_secs(120)).unwrap(),
    );
    let b_out = std::fs::read_to_string(&b_log).unwrap_or_default();
    assert_eq!(ra.code, Some(0), "{}", ra.output);
    assert_eq!(rb.code, Some(0), "{b_out}");
    let lines = std::fs::read_to_string(dirs[0].join(&log)).unwrap();
    assert_eq!(lines, "ran\n", "the RUN ran once: {b_out}");
}

/// podman build (`--layers`, its default) reuses a finished layer only: two identical builds
/// at once both run the RUN, and a third after them is cached and runs nothing. The model
/// shares the layer and does not merge.
#[test]
fn podman_5_4_build_runs_concurrent_identical_runs_twice_and_a_later_one_not_at_all() {
    let Some(i) = engines() else {
        return;
    };
    assert_eq!(model_layers(V139, Topology::Remote), (1, false));
    assert_eq!(
        model_layers(V139, Topology::Local).0,
        0,
        "buildah bud: no layers"
    );
    let s = Scratch::new("");
    let (_server, sock) = podman_server(&i, &s, "layers");
    let n = nonce();
    let log = format!("log-{n}");
    let runs = gated_append(&format!("mf-layers-{n}"), n);
    let (sa, sb, sc) = (Scratch::new(""), Scratch::new(""), Scratch::new(""));
    let a = Guard::spawn(&mut remote_command(&i, &sa, &sock, &runs, true)).unwrap();
    let server_tmp = s.path("server-tmp");
    assert!(
        within(Duration::from_secs(120), || !dirs_with(&server_tmp, &log)
            .is_empty()),
        "the first build runs its RUN"
    );
    let b = Guard::spawn(&mut remote_command(&i, &sb, &sock, &runs, true)).unwrap();
    let dir = dirs_with(&server_tmp, &log).remove(0);
    let lines = || std::fs::read_to_string(dir.join(&log)).unwrap_or_default();
    assert!(
        within(Duration::from_secs(120), || lines() == "ran\nran\n"),
        "the second build runs the RUN too: {:?}",
        lines()
    );
    std::fs::write(dir.join("go"), b"").unwrap();
    let (ra, rb) = (
        a.wait(Duration::from_secs(120)).unwrap(),
        b.wait(Duration::from_secs(120)).unwrap(),
    );
    assert_eq!(ra.code, Some(0), "{}", ra.output);
    assert_eq!(rb.code, Some(0), "{}", rb.output);
    let c = run_bounded(
        &mut remote_command(&i, &sc, &sock, &runs, true),
        Duration::from_secs(120),
    )
    .unwrap();
    assert_eq!(c.code, Some(0), "{}", c.output);
    assert!(c.output.contains("Using cache"), "{}", c.output);
    assert_eq!(lines(), "ran\nran\n", "the cached RUN did not run");
}

/// Found by this project on the daemon: a `--no-cache` build, even of another cache, makes the
/// next shared mount of a cache that a running RUN holds shared get a new instance, where
/// without it the mount joins the holder's. The model does the same
/// (`tests/no_cache.rs`, `a_no_cache_build_of_another_cache_splits_a_held_shared_one`); this
/// pins what the daemon does.
#[test]
fn buildkit_a_no_cache_build_splits_a_held_shared_cache() {
    if engines().is_none() {
        return;
    }
    let _alone = NO_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let overlay = Installation::find().unwrap().docker_data.join("overlay2");
    let find = |name: &str| {
        std::fs::read_dir(&overlay).ok().and_then(|mut it| {
            it.find_map(|e| {
                let d = e.ok()?.path().join("diff");
                d.join(name).exists().then_some(d)
            })
        })
    };
    let same_instance = |no_cache: bool| {
        let n = nonce();
        let mount = format!("--mount=type=cache,id=mf-split-{n},target=/c,sharing=shared");
        let (_a, _sa) = start_buildkit(&format!(
            "{PRELUDE}RUN {mount} sh -c 'touch /c/a-{n}; i=0; while [ ! -e /c/go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done'\n"
        ));
        assert!(within(Duration::from_secs(60), || find(&format!("a-{n}"))
            .is_some()));
        let other = format!(
            "{PRELUDE}RUN --mount=type=cache,id=mf-other-{n},target=/x sh -c 'echo {n} > /x/f'\n"
        );
        let flags: &[&str] = if no_cache { &["--no-cache"] } else { &[] };
        let out = buildkit_build_with(&other, flags);
        assert_eq!(out.code, Some(0), "{}", out.output);
        let out = buildkit_build(&format!(
            "{PRELUDE}RUN {mount} sh -c 'touch /c/b-{n}; : {n}'\n"
        ));
        assert_eq!(out.code, Some(0), "{}", out.output);
        let (a, b) = (
            find(&format!("a-{n}")).unwrap(),
            find(&format!("b-{n}")).unwrap(),
        );
        std::fs::write(a.join("go"), b"").unwrap();
        a == b
    };
    assert!(
        same_instance(false),
        "a shared mount joins the holder's instance"
    );
    assert!(!same_instance(true), "after a --no-cache build it does not");
}

#[test]
fn buildkit_from_a_stage_seeds_a_cache_of_its_own_key() {
    if engines().is_none() {
        return;
    }
    let n = nonce();
    let k = format!("mf-from-{n}");
    // The model: `from=` is part of BuildKit's key, so the same id without it is another cache.
    let p = Profile::new(Engine::BuildKit);
    let dir = |o: &str| {
        let spec = p
            .parse_mount(&format!("type=cache,id={k},target=/c{o}"))
            .unwrap();
        p.locate(&spec, "/", &CacheEnv::default()).unwrap().dir
    };
    assert_ne!(dir(",from=base"), dir(""));
    // Real: the cache starts with the stage's files, and the plain id does not see them.
    let out = buildkit_build(&format!(
        "{}FROM base\nRUN --mount=type=cache,id={k},target=/c,from=base sh -c 'echo \"seeded: $(ls /c/bin)\"; echo w-{n} > /c/w'\nRUN --mount=type=cache,id={k},target=/c sh -c 'echo \"plain: $(ls /c)\"'\n",
        PRELUDE.replace("FROM scratch", "FROM scratch AS base")
    ));
    assert_eq!(out.code, Some(0), "{}", out.output);
    assert!(out.output.contains("seeded: busybox"), "{}", out.output);
    assert!(
        out.output.contains("plain: \n") || out.output.contains("plain:\n"),
        "{}",
        out.output
    );
}

/// `mountfuzz real --engine buildkit` on a build then a `--no-cache` build of one cache: the
/// driver passes `--no-cache`, and model and real agree that the second build's read finds
/// nothing (`tests/no_cache.rs` has the model's rules); without the flag both read hello.
#[test]
fn real_buildkit_agrees_with_the_model_on_a_no_cache_build() {
    if engines().is_none() {
        return;
    }
    let _alone = NO_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let reads = |no_cache: bool| {
        let mut s = common::pair("no-cache", MountSpec::cache("/test"), Default::default());
        s.tests.truncate(1);
        if let Step::Build(b) = &mut s.tests[0].steps[1] {
            b.no_cache = no_cache;
        }
        let units: Schedule = "0.0".parse().unwrap();
        let cfg = RealConfig::new(
            s,
            World::new(Topology::Local, Remedy::None),
            units,
            Duration::from_secs(180),
        )
        .on(Engine::BuildKit);
        let c = mountfuzz::run::compare_with_real(&cfg).unwrap();
        assert!(
            c.agree() && c.harness_failure().is_none(),
            "no_cache={no_cache}: model {:?}, real {:?}",
            c.model,
            c.real.as_ref().map(|r| (&r.reads, &r.log))
        );
        c.model.unwrap()
    };
    let (plain, fresh) = (reads(false), reads(true));
    assert_ne!(plain, fresh, "{plain:?}");
    assert!(format!("{plain:?}").contains("hello"), "{plain:?}");
    assert!(!format!("{fresh:?}").contains("hello"), "{fresh:?}");
}

/// Two stages that meet: each RUN marks the shared cache and waits (up to `secs`) for the
/// other's mark. Only builds that run the stages at once get past it. Stage `y`'s RUN comes
/// before its `COPY --from=x`, so it also shows that an instruction above a `COPY --from` does
/// not wait for that stage; the RUN below it prints what `x` left.
fn meeting_stages(n: u128, secs: u32) -> String {
    let meet = |me: &str, other: &str| {
        format!(
            "RUN --mount=type=cache,target=/c,id=mf-meet-{n} sh -c 'echo {me} > /c/{me}-{n}; i=0; while [ ! -e /c/{other}-{n} ]; do i=$((i+1)); [ $i -gt {secs} ] && exit 7; sleep 1; done; echo met-{me}-{n}'\n"
        )
    };
    format!(
        "{}FROM base AS x\n{}FROM base AS y\n{}COPY --from=x /bin/busybox /x\nRUN --mount=type=cache,target=/c,id=mf-meet-{n} sh -c 'cat /c/x-{n}'\nFROM base\nCOPY --from=y /x /x\n",
        PRELUDE.replace("FROM scratch", "FROM scratch AS base"),
        meet("x", "y"),
        meet("y", "x"),
    )
}

#[test]
fn buildkit_runs_independent_stages_at_once_and_buildah_1_39_one_after_another() {
    if engines().is_none() {
        return;
    }
    let n = nonce();
    let text = meeting_stages(n, 60);
    // The model: on BuildKit x's RUN and y's first RUN are threads of their own (y's second
    // waits for x); Buildah builds the stages in order.
    let suite =
        Suite::import(&[("meet".into(), text.clone())], Engine::BuildKit.dialect()).unwrap();
    let world = World::new(Topology::Local, Remedy::None);
    let threads = |engine: Engine| {
        let p = mountfuzz::explore::Program::compile(&suite, Profile::new(engine), &world).unwrap();
        (p.tests.len(), p.mains())
    };
    assert_eq!(threads(Engine::BuildKit), (3, 1));
    assert_eq!(threads(V139), (1, 1));
    // BuildKit: both stages get past the meeting, and y's last RUN reads what x wrote.
    let out = buildkit_build_with(&text, &["--progress=plain"]);
    assert_eq!(out.code, Some(0), "{}", out.output);
    // A line the RUN printed (the command's own text, which names the word, has `echo`).
    let printed = |output: &str, w: &str| {
        output
            .lines()
            .any(|l| l.trim_end().ends_with(w) && !l.contains("echo"))
    };
    for w in [format!("met-x-{n}"), format!("met-y-{n}")] {
        assert!(printed(&out.output, &w), "{w}: {}", out.output);
    }
    // Buildah 1.39 (no --jobs): stage x runs alone, never meets y, and gives up.
    let text = meeting_stages(n + 1, 15);
    let s = Scratch::new(&text);
    let tmp = s.path("tmp");
    let out = bud_139(&s, &tmp, Duration::from_secs(120));
    assert_ne!(out.code, Some(0), "{}", out.output);
    assert!(
        out.output.contains("exit status 7") && !printed(&out.output, &format!("met-x-{}", n + 1)),
        "{}",
        out.output
    );
}
