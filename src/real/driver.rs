//! The real-engine driver. Each cache RUN of the suite becomes a *gate* RUN, which waits for
//! `/ctl/go-ID` and mounts nothing of the suite's, and a *work* RUN (the suite's cache mounts;
//! it performs the operations, writes what its reads return to `/ctl/out-ID-N`, and touches
//! `/ctl/done-ID`). The harness releases units in schedule order and waits for each to finish,
//! so the real run follows the same RUN-level schedule as the model (`explore::units`).
//!
//! `/ctl` is the control dir. For local Buildah it is a `-v` volume. For podman-remote, whose
//! builds cannot see the client's files, both RUNs mount it as a cache of its own,
//! [`CONTROL_MOUNT`], first in flag order: its id `../mountfuzz-ctl` puts it beside the server's
//! cache parent, not in it (1.28 does not hash ids; `tests/real_buildah.rs` shows such an id
//! escaping), so a workload's own prune (`rm -rf` of the parent) cannot wipe it. The harness
//! computes its host path with the engine model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::chroot::Installation;
use super::process::{Guard, static_busybox, unavailable};
use crate::engine::{BuildahVersion, CacheEnv, Engine, Profile};
use crate::explore::Schedule;
use crate::mount::{Dialect, MountSpec, display};
use crate::scenario::{Build, CacheOp, Step, Suite};
use crate::world::{Remedy, Topology, World};

/// The control dir's cache mount under podman-remote (see the module doc): shared, and outside
/// every cache parent.
pub const CONTROL_MOUNT: &str = "type=cache,id=../mountfuzz-ctl,target=/ctl,sharing=shared";

/// The engine binary this driver runs by default (Debian 12's, on the host).
pub const ENGINE: Engine = Engine::Buildah(BuildahVersion::V1_28);

/// The engine profiles this driver runs for real: Buildah 1.28 and podman 4.3 on the host, and
/// Buildah 1.39, podman 5.4 and BuildKit (Docker 26) from the Debian 13 root that
/// `ci/engines.sh` runs.
pub const DRIVEN: [Engine; 3] = [
    ENGINE,
    Engine::Buildah(BuildahVersion::V1_39),
    Engine::BuildKit,
];

/// A real run: the suite, its world, and the unit schedule to force.
#[derive(Clone, Debug)]
pub struct RealConfig {
    /// The workload.
    pub suite: Suite,
    /// Topology (local: buildah; remote: podman-remote) and remedy.
    pub world: World,
    /// Unit-level schedule over the suite's non-skipped tests.
    pub units: Schedule,
    /// Wall-clock limit for everything.
    pub deadline: Duration,
    /// The engine version to run: one of [`DRIVEN`].
    pub engine: Engine,
    /// Remote only: drive the server with the host's podman 4.3 client (which ignores `-v` on a
    /// remote build, so `/ctl` is [`CONTROL_MOUNT`]) instead of the engine's own podman.
    pub host_client: bool,
}

impl RealConfig {
    /// A run of `units` of `suite` in `world` on Buildah 1.28 / podman 4.3, the host's engines.
    ///
    /// Every build it runs is distinct (a nonce in every BuildKit RUN, `--layers=false` for
    /// podman), so the world's layer cache is off: the model runs every RUN too. A write's
    /// moment in flight cannot be held open on a real engine, so writes are one step here, and a
    /// build's RUNs are released one at a time, in order.
    pub fn new(suite: Suite, mut world: World, units: Schedule, deadline: Duration) -> RealConfig {
        world.layer_cache = false;
        world.torn_writes = false;
        world.stages_in_order = true;
        RealConfig {
            suite,
            world,
            units,
            deadline,
            engine: ENGINE,
            host_client: false,
        }
    }

    /// The same run on `engine`.
    pub fn on(self, engine: Engine) -> RealConfig {
        RealConfig { engine, ..self }
    }
}

/// The binaries one real run starts: the host's (Buildah 1.28, podman 4.3), or those of the
/// Debian 13 root in a chroot (Buildah 1.39, podman 5.4).
struct Binaries {
    chroot: Option<Installation>,
    host_client: bool,
    /// BuildKit: where dockerd keeps its snapshots (`<data-root>/overlay2`), in which the
    /// harness finds the control cache's dir.
    buildkit: Option<PathBuf>,
}

impl Binaries {
    fn of(engine: Engine, remote: bool, host_client: bool) -> Result<Binaries, RealError> {
        let host_binary = if remote { "podman" } else { "buildah" };
        match engine {
            Engine::Buildah(BuildahVersion::V1_28) => {
                if let Some(why) = unavailable(host_binary) {
                    return Err(RealError::Unavailable(why));
                }
                Ok(Binaries {
                    chroot: None,
                    host_client: true,
                    buildkit: None,
                })
            }
            Engine::Buildah(BuildahVersion::V1_39) => {
                let inst = Installation::find().map_err(RealError::Unavailable)?;
                if host_client && let Some(why) = unavailable("podman") {
                    return Err(RealError::Unavailable(why));
                }
                Ok(Binaries {
                    chroot: Some(inst),
                    host_client,
                    buildkit: None,
                })
            }
            Engine::BuildKit => {
                let inst = Installation::find().map_err(RealError::Unavailable)?;
                Ok(Binaries {
                    buildkit: Some(inst.docker_data.join("overlay2")),
                    chroot: Some(inst),
                    host_client: false,
                })
            }
            e => Err(RealError::Unsupported(format!(
                "`real` drives {}; {e} has no driver here",
                DRIVEN.map(|e| e.to_string()).join(" and ")
            ))),
        }
    }

    /// Where the run's scratch dir goes: anywhere for host binaries, under the root's shared
    /// work dir for chroot ones.
    fn scratch(&self) -> std::io::Result<tempfile::TempDir> {
        let mut b = tempfile::Builder::new();
        b.prefix("mountfuzz-real");
        match &self.chroot {
            Some(i) => b.tempdir_in(&i.work),
            None => b.tempdir(),
        }
    }

    fn program(&self, name: &str, tmpdir: &Path) -> Command {
        match &self.chroot {
            Some(i) => i.command(name, &[("TMPDIR", tmpdir)]),
            None => {
                let mut c = Command::new(name);
                c.env("TMPDIR", tmpdir);
                c
            }
        }
    }

    /// A local build: `buildah bud` with its own storage below `dir` and `ctl` at `/ctl`; add
    /// the Containerfile and context.
    fn bud(&self, dir: &Path, ctl: &Path, tmpdir: &Path) -> Command {
        let mut c = self.program("buildah", tmpdir);
        bud_args(&mut c, dir, ctl);
        c
    }

    /// A podman service for one test, its storage below `dir`, with the server's TMPDIR.
    fn server(&self, dir: &Path, tmpdir: &Path, sock: &Path) -> Command {
        let mut c = self.program("podman", tmpdir);
        c.arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("runroot"));
        if self.chroot.is_some() {
            // podman 5's own temporary dir (alive.lck, events), one per server.
            c.arg("--tmpdir").arg(dir.join("libpod-tmp"));
        }
        c.args(["--storage-driver", "vfs", "system", "service", "--time=0"])
            .arg(format!("unix://{}", sock.display()));
        c
    }

    /// A BuildKit build on the Docker 26 daemon: `docker buildx build`, no network, with
    /// `flags`; add `-f`, the Containerfile and context.
    fn buildkit_build(&self, flags: &[&str]) -> Command {
        let inst = self
            .chroot
            .as_ref()
            .expect("BuildKit runs from the Debian 13 root");
        let mut c = inst.command("docker", &[]);
        c.arg("-H")
            .arg(format!(
                "unix://{}",
                inst.inside(&inst.docker_sock).display()
            ))
            .args([
                "buildx",
                "build",
                "--progress",
                "plain",
                "--network",
                "none",
            ])
            .args(flags);
        c
    }

    /// BuildKit: the dir of an instance of this run's control cache (marked `run-NONCE`) that
    /// holds `file` (`at-ID` from a gate, `done-ID` from a work RUN). Under load the daemon
    /// has given a RUN's shared control mount a new, empty instance while a gate held the
    /// old one (seen on Docker 26.1.5), so each file is looked for in every instance.
    fn find_ctl(&self, nonce: &str, file: &str) -> Option<PathBuf> {
        let overlay = self.buildkit.as_ref()?;
        std::fs::read_dir(overlay)
            .ok()?
            .flatten()
            .map(|e| e.path().join("diff"))
            .find(|d| d.join(file).exists() && d.join(format!("run-{nonce}")).exists())
    }

    /// A remote build against `sock`; with the engine's own client `ctl` is a `-v` volume.
    fn remote_build(&self, sock: &Path, ctl: &Path, tmpdir: &Path) -> Command {
        let mut c = if self.host_client {
            let mut c = Command::new("podman");
            c.env("TMPDIR", tmpdir);
            c
        } else {
            self.program("podman", tmpdir)
        };
        c.arg("--remote")
            .arg("--url")
            .arg(format!("unix://{}", sock.display()))
            .args(["build", "--isolation", "chroot", "--layers=false"]);
        if !self.host_client {
            c.arg("-v").arg(format!("{}:/ctl", ctl.display()));
        }
        c.arg("-f");
        c
    }
}

/// What the real engines did.
#[derive(Clone, Debug, Default)]
pub struct RealOutcome {
    /// Per (non-skipped) test, what each executed read returned (`None`: no such file).
    pub reads: Vec<Vec<Option<String>>>,
    /// The Containerfiles run, by name.
    pub containerfiles: Vec<(String, String)>,
    /// Build and server output, for a mismatch report.
    pub log: String,
    /// Units forced.
    pub units: usize,
    /// Processes started (builds and servers), all ended by PID.
    pub processes: usize,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Engine failures outside the workload that made the driver start the run again (see
    /// [`RealError::EngineFailed`]); empty for a run that completed at its first attempt.
    pub retried: Vec<String>,
}

/// Why a real run did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RealError {
    /// Real engines cannot run here (not root, binary missing).
    Unavailable(String),
    /// The setting has no real counterpart (e.g. the forward-env remedy).
    Unsupported(String),
    /// The deadline passed; everything started was killed.
    Timeout(String),
    /// The engine failed outside the workload: a build ended before it reached a unit's gate,
    /// or a work RUN never started its script and the log shows a known transient host error.
    /// Not a cache-mount outcome; [`run`] starts the run again (at most [`ATTEMPTS`] times).
    EngineFailed(String),
    /// A file or process could not be handled.
    Io(String),
}

/// How many times [`run`] attempts a run that keeps failing with [`RealError::EngineFailed`].
pub const ATTEMPTS: usize = 3;

/// Host errors seen from the engine's own machinery, never from a cache mount: Buildah's
/// re-executed helper seals a memfd copy of itself, which the kernel can refuse with EBUSY
/// while pages are pinned (seen in this project's CI, RUN without any mount, 2026-11).
const TRANSIENT: &[&str] = &["sealing memfd copy"];

/// Why a unit whose build ended without touching `done-ID` ended: `None` when it is a
/// workload outcome (the work RUN's script ran, or the engine refused its mounts); a
/// description when the engine failed outside the workload.
pub fn engine_failure(reached_gate: bool, began_work: bool, log: &str) -> Option<String> {
    let tail = || {
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(3)..].join(" | ")
    };
    if !reached_gate {
        return Some(format!(
            "the build ended before the unit's gate RUN: {}",
            tail()
        ));
    }
    if !began_work && TRANSIENT.iter().any(|t| log.contains(t)) {
        return Some(format!(
            "the work RUN failed in the engine, before its script: {}",
            tail()
        ));
    }
    None
}

impl std::fmt::Display for RealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RealError::Unavailable(s) => write!(f, "real engines unavailable: {s}"),
            RealError::Unsupported(s) => write!(f, "no real counterpart: {s}"),
            RealError::Timeout(s) => write!(f, "deadline passed: {s}"),
            RealError::EngineFailed(s) => write!(f, "the engine failed outside the workload: {s}"),
            RealError::Io(s) => write!(f, "{s}"),
        }
    }
}

impl std::error::Error for RealError {}

fn io(what: &str) -> impl Fn(std::io::Error) -> RealError + '_ {
    move |e| RealError::Io(format!("{what}: {e}"))
}

enum UnitKind {
    Run { build: usize, reads: usize },
    Prune { parent: PathBuf },
    Teardown { dir: PathBuf },
}

struct Unit {
    id: String,
    kind: UnitKind,
}

struct TestPlan {
    name: String,
    units: Vec<Unit>,
    /// Per build: its Containerfile path, client TMPDIR, and index of its last unit.
    builds: Vec<(PathBuf, PathBuf, usize)>,
    /// Per build: it runs with `--no-cache` (passed to BuildKit; Buildah's concerns layers,
    /// which the driver turns off anyway).
    no_cache: Vec<bool>,
    ctl: PathBuf,
    root: PathBuf,
    server_tmp: PathBuf,
}

/// A model path (`/scratch/t`, `/var/tmp`) placed below the run's root.
fn place(root: &Path, model: &str) -> PathBuf {
    root.join("fs").join(model.trim_start_matches('/'))
}

fn tmpdir_of(env: &BTreeMap<String, String>) -> String {
    env.get("TMPDIR")
        .cloned()
        .unwrap_or_else(|| "/var/tmp".into())
}

fn safe(data: &str) -> Result<(), RealError> {
    if data
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._-/:=+,".contains(c))
    {
        Ok(())
    } else {
        Err(RealError::Unsupported(format!(
            "data {data:?} needs shell quoting this driver does not do"
        )))
    }
}

/// The work RUN's script; `mark` (BuildKit: ` /ctl/run-NONCE`) marks the control cache
/// instance it mounted, as the gate marks its own.
fn work_script(
    id: &str,
    mark: &str,
    mounts: &[MountSpec],
    ops: &[CacheOp],
) -> Result<(String, usize), RealError> {
    let path = |m: usize, f: &str| format!("{}/{}", mounts[m].target.trim_end_matches('/'), f);
    let mut parts = vec!["set -e".to_string(), format!("touch /ctl/began-{id}{mark}")];
    let mut reads = 0;
    for op in ops {
        parts.push(match op {
            CacheOp::Write { mount, file, data } => {
                safe(data)?;
                format!("echo \"{data}\" > {}", path(*mount, file))
            }
            CacheOp::Append { mount, file, data } => {
                safe(data)?;
                format!("echo \"{data}\" >> {}", path(*mount, file))
            }
            CacheOp::Replace { mount, file, data } => {
                safe(data)?;
                let p = path(*mount, file);
                format!("echo \"{data}\" > {p}.new-{id}; mv {p}.new-{id} {p}")
            }
            CacheOp::Read { mount, file } => {
                let p = path(*mount, file);
                reads += 1;
                format!(
                    "if [ -e {p} ]; then cat {p} > /ctl/out-{id}-{r}; else echo \"cat: {p}: No such file or directory\"; touch /ctl/miss-{id}-{r} /ctl/done-{id}; exit 1; fi",
                    r = reads - 1
                )
            }
            CacheOp::Remove { mount, file } => format!("rm -f {}", path(*mount, file)),
            CacheOp::Wipe { mount } => format!("rm -rf {}/*", mounts[*mount].target.trim_end_matches('/')),
            CacheOp::Touch { mount, file } => format!("touch {}", path(*mount, file)),
            CacheOp::RemoveTree { mount, dir } => format!("rm -rf {}", path(*mount, dir)),
            CacheOp::Stat { mount, file, must_exist: false } => format!("[ -e {} ] || :", path(*mount, file)),
            CacheOp::Stat { must_exist: true, .. } | CacheOp::Opaque { .. } => {
                return Err(RealError::Unsupported(format!(
                    "{op:?}: a failing look or an opaque command has no forced real counterpart"
                )));
            }
        });
    }
    parts.push(format!("touch /ctl/done-{id}"));
    Ok((parts.join("; "), reads))
}

/// How one run's Containerfiles are written for its engine.
struct Style {
    /// The control dir's cache mount (`--mount=… `), when `/ctl` is not a `-v` volume.
    ctl: String,
    dialect: Dialect,
    /// BuildKit: a word put in every gate and work RUN so that its layer cache never skips
    /// one, and the prefix of every cache id so that runs never share caches (the daemon keeps
    /// them); the map is one-to-one, so the suite's sharing is unchanged.
    nonce: Option<String>,
}

fn containerfile(
    test: usize,
    b: &Build,
    first_unit: usize,
    world: &World,
    name: &str,
    style: &Style,
) -> Result<(String, Vec<usize>), RealError> {
    let ctl = &style.ctl;
    let tail = style
        .nonce
        .as_ref()
        .map(|n| format!("; : {n}"))
        .unwrap_or_default();
    // BuildKit: the run's own mark in the control cache, by which the harness finds it.
    let mark = style
        .nonce
        .as_ref()
        .map(|n| format!(" /ctl/run-{n}"))
        .unwrap_or_default();
    let mut text = String::from(
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"ln\",\"-s\",\"/bin/busybox\",\"/bin/sh\"]\n",
    );
    let mut reads = Vec::new();
    for (k, r) in b.runs.iter().enumerate() {
        if r.unmount_fails {
            return Err(RealError::Unsupported(
                "an unmount failure cannot be forced on the real engine".into(),
            ));
        }
        let id = format!("t{test}u{}", first_unit + k);
        let mut mounts: Vec<MountSpec> = r.mounts.iter().map(|m| world.mount(name, m)).collect();
        if let Some(n) = &style.nonce {
            for m in &mut mounts {
                let key =
                    m.id.clone()
                        .unwrap_or_else(|| crate::engine::path::clean(&m.target));
                m.id = Some(format!("mf{n}-{key}"));
            }
        }
        let (script, n) = work_script(&id, &mark, &mounts, &r.ops)?;
        reads.push(n);
        let flags: Vec<String> = mounts
            .iter()
            .map(|m| format!("--mount={}", display(m, style.dialect)))
            .collect();
        if r.workdir != "/" {
            text.push_str(&format!("WORKDIR {}\n", r.workdir));
        }
        text.push_str(&format!(
            "RUN {ctl}sh -c 'touch /ctl/at-{id}{mark}; i=0; while [ ! -e /ctl/go-{id} ]; do sleep 0.05; i=$((i+1)); if [ $i -gt 6000 ]; then echo gate timeout; exit 99; fi; done{tail}'\n"
        ));
        // The control mount goes first: which cache mount is last matters to 1.28
        // (only-last-lock-released), and it must be the suite's own.
        text.push_str(&format!(
            "RUN {ctl}{} sh -c '{script}{tail}'\n",
            flags.join(" ")
        ));
    }
    Ok((text, reads))
}

/// Appends what unit `id`'s `n` reads returned; true when a read found no file, which ends
/// the unit and fails its build.
fn collect(ctl: &Path, id: &str, n: usize, into: &mut Vec<Option<String>>) -> bool {
    for r in 0..n {
        if let Ok(text) = std::fs::read_to_string(ctl.join(format!("out-{id}-{r}"))) {
            into.push(Some(text.trim_end().to_string()));
        } else if ctl.join(format!("miss-{id}-{r}")).exists() {
            into.push(None);
            return true;
        }
    }
    false
}

fn wait_for(
    deadline: Instant,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> Result<(), RealError> {
    while !done() {
        if Instant::now() >= deadline {
            return Err(RealError::Timeout(format!("waiting for {what}")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Runs `cfg` on the real engines (Buildah locally, podman remote). A run the engine
/// fails outside the workload is started again from scratch, at most [`ATTEMPTS`] times and
/// within the one deadline; the outcome lists what was retried.
pub fn run(cfg: &RealConfig) -> Result<RealOutcome, RealError> {
    let deadline = Instant::now() + cfg.deadline;
    retrying(ATTEMPTS, || attempt(cfg, deadline))
}

/// `buildah bud` of `engine` (one of [`DRIVEN`]) as [`run`] starts it, up to `-f`: storage
/// below `dir`, `ctl` at `/ctl`, `TMPDIR=tmpdir`. `dir` must come from [`scratch`] for the same
/// engine, so that a chroot's binary sees it.
pub fn bud(engine: Engine, dir: &Path, ctl: &Path, tmpdir: &Path) -> Result<Command, RealError> {
    Ok(Binaries::of(engine, false, false)?.bud(dir, ctl, tmpdir))
}

/// `docker buildx build` on the Docker 26 daemon of `ci/engines.sh` as [`run`] starts it (plain
/// progress, no network), with `flags`, up to `-f`: add the Containerfile and context.
pub fn buildkit_build(flags: &[&str]) -> Result<Command, RealError> {
    let mut c = Binaries::of(Engine::BuildKit, false, false)?.buildkit_build(flags);
    c.arg("-f");
    Ok(c)
}

/// A scratch dir that `engine`'s binaries see at the same path (under the Debian 13 root's work
/// dir for chroot engines), or why `engine` cannot run here.
pub fn scratch(engine: Engine) -> Result<tempfile::TempDir, RealError> {
    Binaries::of(engine, false, false)?
        .scratch()
        .map_err(io("temporary dir"))
}

/// `buildah bud` (the host's) as this project runs it, up to `-f`: its own storage below `dir`
/// (vfs, no registry), chroot isolation, and `ctl` mounted at `/ctl`. Add the Containerfile and
/// context.
pub fn buildah_bud(dir: &Path, ctl: &Path) -> Command {
    let mut c = Command::new("buildah");
    bud_args(&mut c, dir, ctl);
    c
}

fn bud_args(c: &mut Command, dir: &Path, ctl: &Path) {
    c.arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("runroot"))
        .args([
            "--storage-driver",
            "vfs",
            "bud",
            "--isolation",
            "chroot",
            "-v",
        ])
        .arg(format!("{}:/ctl", ctl.display()))
        .arg("-f");
}

/// Calls `attempt` until it returns anything but [`RealError::EngineFailed`], at most
/// `attempts` times; the outcome's `retried` lists the failures before it.
pub fn retrying(
    attempts: usize,
    mut attempt: impl FnMut() -> Result<RealOutcome, RealError>,
) -> Result<RealOutcome, RealError> {
    let mut retried = Vec::new();
    loop {
        match attempt() {
            Ok(mut out) => {
                out.retried = retried;
                return Ok(out);
            }
            Err(RealError::EngineFailed(why)) => {
                retried.push(why);
                if retried.len() >= attempts {
                    return Err(RealError::EngineFailed(format!(
                        "{} attempt(s): {}",
                        retried.len(),
                        retried.join("; ")
                    )));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// One attempt at `cfg`, in a fresh scratch directory.
fn attempt(cfg: &RealConfig, deadline: Instant) -> Result<RealOutcome, RealError> {
    let remote = cfg.world.topology == Topology::Remote;
    let bin = Binaries::of(cfg.engine, remote, cfg.host_client)?;
    if remote && cfg.world.remedy == Remedy::ForwardEnv {
        return Err(RealError::Unsupported(
            "podman cannot forward the client's TMPDIR per build (forward-env is a proposed change)".into(),
        ));
    }
    let buildkit = bin.buildkit.is_some();
    let ctl_mount = remote && bin.host_client;
    let nonce = buildkit.then(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        format!("{:x}", t ^ u128::from(std::process::id()) << 64)
    });
    let style = Style {
        ctl: match (&nonce, ctl_mount) {
            (_, true) => format!("--mount={CONTROL_MOUNT} "),
            (Some(n), _) => {
                format!("--mount=type=cache,id=mountfuzz-ctl-{n},target=/ctl,sharing=shared ")
            }
            (None, false) => String::new(),
        },
        dialect: cfg.engine.dialect(),
        nonce,
    };
    // BuildKit has one daemon (no server per test); Buildah remote has a podman server per test.
    let servers_per_test = remote && !buildkit;
    let start = Instant::now();
    let scratch = bin.scratch().map_err(io("temporary dir"))?;
    let root = scratch.path();
    let ctx = root.join("ctx");
    std::fs::create_dir_all(&ctx).map_err(io("context dir"))?;
    let busybox =
        static_busybox().ok_or_else(|| RealError::Unavailable("no static busybox".into()))?;
    std::fs::copy(busybox, ctx.join("busybox")).map_err(io("copying busybox"))?;
    let profile = Profile::new(cfg.engine);
    let mut out = RealOutcome::default();

    // Plan every test: units, Containerfiles, directories.
    let mut plans = Vec::new();
    for test in cfg.suite.tests.iter().filter(|t| !cfg.world.skipped(t)) {
        let ti = plans.len();
        let troot = root.join(format!("t{ti}"));
        let server_tmp = place(
            root,
            &tmpdir_of(&cfg.world.server_env(&test.name, &BTreeMap::new())),
        );
        let ctl = if ctl_mount {
            let spec = profile
                .parse_mount(CONTROL_MOUNT)
                .expect("a fixed, valid mount");
            let env = CacheEnv {
                tmpdir: Some(server_tmp.display().to_string()),
                ..CacheEnv::default()
            };
            PathBuf::from(
                profile
                    .locate(&spec, "/", &env)
                    .expect("an absolute target")
                    .dir,
            )
        } else {
            root.join("ctl")
        };
        std::fs::create_dir_all(&ctl).map_err(io("control dir"))?;
        std::fs::create_dir_all(place(root, &cfg.world.scratch(&test.name)))
            .map_err(io("scratch dir"))?;
        let mut plan = TestPlan {
            name: test.name.clone(),
            units: Vec::new(),
            builds: Vec::new(),
            no_cache: Vec::new(),
            ctl,
            root: troot,
            server_tmp,
        };
        for step in &test.steps {
            match step {
                Step::Build(b) => {
                    let first = plan.units.len();
                    let bi = plan.builds.len();
                    let (text, reads) =
                        containerfile(ti, b, first, &cfg.world, &test.name, &style)?;
                    let file = root.join(format!("t{ti}-b{bi}.Containerfile"));
                    std::fs::write(&file, &text).map_err(io("Containerfile"))?;
                    out.containerfiles
                        .push((format!("{} build {bi}", test.name), text));
                    let client = if remote {
                        tmpdir_of(&cfg.world.client_env(&test.name, &b.env))
                    } else {
                        cfg.world
                            .build_env(&test.name, &b.env)
                            .tmpdir
                            .unwrap_or_else(|| "/var/tmp".into())
                    };
                    for (k, n) in reads.iter().enumerate() {
                        plan.units.push(Unit {
                            id: format!("t{ti}u{}", first + k),
                            kind: UnitKind::Run {
                                build: bi,
                                reads: *n,
                            },
                        });
                    }
                    plan.builds
                        .push((file, place(root, &client), plan.units.len() - 1));
                    plan.no_cache.push(b.no_cache);
                }
                Step::Prune { .. } if buildkit => {
                    return Err(RealError::Unsupported(
                        "a prune on the shared Docker daemon would empty other runs' caches; the BuildKit driver does not prune".into(),
                    ));
                }
                Step::Prune { env } => {
                    let parent = profile.cache_parent(&cfg.world.prune_env(&test.name, env));
                    let id = format!("t{ti}u{}", plan.units.len());
                    plan.units.push(Unit {
                        id,
                        kind: UnitKind::Prune {
                            parent: place(root, &parent),
                        },
                    });
                }
                Step::Teardown => {
                    let id = format!("t{ti}u{}", plan.units.len());
                    let dir = place(root, &cfg.world.scratch(&test.name));
                    plan.units.push(Unit {
                        id,
                        kind: UnitKind::Teardown { dir },
                    });
                }
            }
        }
        plans.push(plan);
    }

    // Servers (remote): one per test, started with the set-up environment.
    let mut servers: Vec<Guard> = Vec::new();
    let mut sockets = Vec::new();
    if servers_per_test {
        for (ti, p) in plans.iter().enumerate() {
            std::fs::create_dir_all(&p.server_tmp).map_err(io("server TMPDIR"))?;
            let sock = root.join(format!("t{ti}.sock"));
            let mut cmd = bin.server(&p.root, &p.server_tmp, &sock);
            servers.push(
                Guard::spawn_logged(&mut cmd, &root.join(format!("t{ti}-server.log")))
                    .map_err(io("starting podman system service"))?,
            );
            out.processes += 1;
            sockets.push(sock);
        }
        for s in &sockets {
            wait_for(deadline, "the podman socket", || s.exists())?;
        }
    }

    // Force the schedule.
    let mut next = vec![0usize; plans.len()];
    let mut reads: Vec<Vec<Option<String>>> = vec![Vec::new(); plans.len()];
    let mut running: Vec<Option<(usize, Guard)>> = (0..plans.len()).map(|_| None).collect();
    let mut logs: Vec<PathBuf> = Vec::new();
    // Per test: the build its workload ended early, if any.
    let mut ended: Vec<Option<usize>> = vec![None; plans.len()];
    let finish = |g: Guard, deadline: Instant| -> Result<(), RealError> {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = g.wait(left).map_err(io("waiting for a build"))?;
        if f.timed_out {
            return Err(RealError::Timeout("a build did not end".into()));
        }
        Ok(())
    };
    let mut order: Vec<usize> = cfg.units.0.iter().map(|&c| c as usize).collect();
    for (t, p) in plans.iter().enumerate() {
        let named = order.iter().filter(|&&c| c == t).count();
        order.extend(std::iter::repeat_n(t, p.units.len().saturating_sub(named)));
    }
    for t in order {
        let Some(p) = plans.get(t) else {
            return Err(RealError::Unsupported(format!(
                "the schedule names test {t}, which does not run here"
            )));
        };
        let Some(unit) = p.units.get(next[t]) else {
            continue;
        };
        next[t] += 1;
        out.units += 1;
        match &unit.kind {
            UnitKind::Run { build, .. } => {
                if running[t].as_ref().is_some_and(|(b, _)| b != build) {
                    let (_, g) = running[t].take().expect("checked");
                    finish(g, deadline)?;
                }
                if running[t].is_none() {
                    let (file, client_tmp, _) = &p.builds[*build];
                    std::fs::create_dir_all(client_tmp).map_err(io("client TMPDIR"))?;
                    let log = root.join(format!("t{t}-b{build}.log"));
                    let mut cmd = if buildkit {
                        let flags: &[&str] = if p.no_cache[*build] {
                            &["--no-cache"]
                        } else {
                            &[]
                        };
                        let mut c = bin.buildkit_build(flags);
                        c.arg("-f");
                        c
                    } else if remote {
                        bin.remote_build(&sockets[t], &p.ctl, client_tmp)
                    } else {
                        bin.bud(&p.root, &p.ctl, client_tmp)
                    };
                    cmd.arg(file).arg(&ctx);
                    running[t] = Some((
                        *build,
                        Guard::spawn_logged(&mut cmd, &log).map_err(io("starting a build"))?,
                    ));
                    out.processes += 1;
                    logs.push(log);
                }
                let (_, g) = running[t].as_mut().expect("started above");
                // BuildKit keeps the control cache in a snapshot of its own: find it by the
                // gate's `at-ID` (or give up when the build ends first).
                let mut ctl = p.ctl.clone();
                if let Some(n) = &style.nonce {
                    let mut found = None;
                    wait_for(deadline, &format!("the gate of unit {}", unit.id), || {
                        found = bin.find_ctl(n, &format!("at-{}", unit.id));
                        found.is_some() || g.exited().is_some()
                    })?;
                    ctl = found.unwrap_or_else(|| root.join("ctl"));
                }
                std::fs::write(ctl.join(format!("go-{}", unit.id)), b"")
                    .map_err(io("gate file"))?;
                let mut done = ctl.join(format!("done-{}", unit.id));
                wait_for(deadline, &format!("unit {} of {}", unit.id, p.name), || {
                    // Where the gate was first; every instance only when it is not there.
                    if !done.exists()
                        && let Some(n) = &style.nonce
                        && let Some(d) = bin.find_ctl(n, &format!("done-{}", unit.id))
                    {
                        done = d.join(format!("done-{}", unit.id));
                    }
                    done.exists() || g.exited().is_some()
                })?;
                // The work RUN's marks are where it left them.
                if let Some(d) = done.parent().filter(|_| done.exists()) {
                    ctl = d.to_path_buf();
                }
                // A build its workload ended (a missed read, a refused mount) runs no
                // further units; any other early end is the engine's own failure.
                let settled = ended[t] == Some(*build);
                if !settled && !done.exists() {
                    ended[t] = Some(*build);
                    let mark = |m: &str| ctl.join(format!("{m}-{}", unit.id)).exists();
                    let log = std::fs::read_to_string(root.join(format!("t{t}-b{build}.log")))
                        .unwrap_or_default();
                    if let Some(why) = engine_failure(mark("at"), mark("began"), &log) {
                        return Err(RealError::EngineFailed(format!(
                            "{} build {build}, unit {}: {why}",
                            p.name, unit.id
                        )));
                    }
                }
                if let UnitKind::Run { reads: n, .. } = unit.kind
                    && collect(&ctl, &unit.id, n, &mut reads[t])
                {
                    ended[t] = Some(*build);
                }
                if p.builds[*build].2 == next[t] - 1 {
                    let (_, g) = running[t].take().expect("started above");
                    finish(g, deadline)?;
                }
            }
            UnitKind::Prune { parent } | UnitKind::Teardown { dir: parent } => {
                if let Some((_, g)) = running[t].take() {
                    finish(g, deadline)?;
                }
                match std::fs::remove_dir_all(parent) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io("prune")(e));
                    }
                    _ => {}
                }
                if let UnitKind::Teardown { dir } = &unit.kind {
                    std::fs::create_dir_all(dir).map_err(io("scratch dir"))?;
                }
            }
        }
    }
    for (_, g) in running.into_iter().flatten() {
        finish(g, deadline)?;
    }
    drop(servers); // ends every server by PID (process group)

    out.reads = reads;
    for l in logs.iter().chain(
        (0..sockets.len())
            .map(|t| root.join(format!("t{t}-server.log")))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        if let Ok(text) = std::fs::read_to_string(l) {
            out.log.push_str(&format!(
                "==> {} <==\n{}\n",
                l.file_name().unwrap_or_default().to_string_lossy(),
                text
            ));
        }
    }
    out.elapsed = start.elapsed();
    Ok(out)
}
