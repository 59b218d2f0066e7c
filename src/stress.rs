//! Real threads on real files: each test of a compiled suite runs on its own OS thread
//! (crossbeam scoped threads, started together by a barrier, with optional random jitter) against
//! the filesystem store under a `tempfile` root. Buildah's locked mounts take the engine's lock
//! objects ([`crate::store::lockfile`]: a mutex per lock path in each build process, over a real
//! file lock on the real lock file); other decisions go through the thread-safe store. Every operation is
//! recorded with its invocation and response times for [`crate::check::linearize`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::check::linearize::{LinOp, TimedOp};
use crate::engine::Engine;
use crate::explore::Rng;
use crate::explore::program::{Event, OpKind, Program};
use crate::mount::Sharing;
use crate::store::Storage;
use crate::store::fs::FsStorage;
use crate::store::lockfile::{ProcessLock, ProcessLocks};
use crate::store::shared::{MountReq, SharedStore};
use crate::store::table::Holder;

/// Settings of a stress run.
#[derive(Clone, Copy, Debug)]
pub struct StressConfig {
    /// Largest random pause between two operations of a thread (0: none).
    pub jitter: Duration,
    /// Seed of the jitter.
    pub seed: u64,
    /// How long a lock may be waited for before the run is declared stuck.
    pub lock_deadline: Duration,
}

impl Default for StressConfig {
    fn default() -> StressConfig {
        StressConfig {
            jitter: Duration::from_micros(200),
            seed: 0,
            lock_deadline: Duration::from_secs(5),
        }
    }
}

/// What a stress run recorded.
#[derive(Clone, Debug, Default)]
pub struct StressRun {
    /// Every operation with its times, all threads merged, by invocation.
    pub history: Vec<TimedOp>,
    /// Threads that gave up waiting for a lock (the history of those is incomplete).
    pub stuck: Vec<String>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Several stress runs, each checked for linearizability against the model.
#[derive(Clone, Debug, Default)]
pub struct Campaign {
    /// Runs made.
    pub runs: u64,
    /// Runs whose history the model explains.
    pub linearizable: u64,
    /// Runs without a verdict: (jitter seed, why).
    pub unknown: Vec<(u64, String)>,
    /// The first run no model order explains: (jitter seed, cache dir, minimal witness).
    pub violation: Option<(u64, String, Vec<TimedOp>)>,
    /// Operations recorded in all.
    pub operations: usize,
}

/// Runs `prog` `runs` times (jitter seeds 0..runs), checking each history within `check_budget`;
/// stops at the first history no model order explains.
pub fn campaign(
    prog: &Program,
    runs: u64,
    jitter: Duration,
    check_budget: Duration,
) -> std::io::Result<Campaign> {
    use crate::check::linearize::{LinVerdict, check};
    let mut c = Campaign {
        runs,
        ..Campaign::default()
    };
    for seed in 0..runs {
        let run = run(
            prog,
            StressConfig {
                seed,
                jitter,
                ..StressConfig::default()
            },
        )?;
        c.operations += run.history.len();
        if !run.stuck.is_empty() {
            c.unknown.push((
                seed,
                format!("stuck waiting for a lock: {}", run.stuck.join(", ")),
            ));
            continue;
        }
        match check(&run.history, check_budget) {
            LinVerdict::Linearizable { .. } => c.linearizable += 1,
            LinVerdict::Unknown(why) => c.unknown.push((seed, why)),
            LinVerdict::Violation { key, witness } => {
                c.violation = Some((seed, key, witness));
                c.runs = seed + 1;
                break;
            }
        }
    }
    Ok(c)
}

/// Runs `prog` once on real threads and real files.
pub fn run(prog: &Program, cfg: StressConfig) -> std::io::Result<StressRun> {
    if prog
        .tests
        .iter()
        .any(|t| t.events.iter().any(|e| matches!(e, Event::NoCache { .. })))
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the stress run has no model of a BuildKit --no-cache build".to_string(),
        ));
    }
    if prog
        .tests
        .iter()
        .any(|t| t.events.iter().any(|e| matches!(e, Event::Join { .. })))
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the stress run runs a build's stages in order; compile with the world's stages_in_order on".to_string(),
        ));
    }
    if !prog.layers.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the stress run runs every RUN and does not model reused layers ({}); compile with the world's layer cache off",
                prog.layers.join(", ")
            ),
        ));
    }
    // The linearizability checker knows writes, appends, reads, removals and wipes.
    for t in &prog.tests {
        for e in &t.events {
            if let Event::Op {
                op: op @ (OpKind::Touch | OpKind::Stat { .. } | OpKind::Opaque { .. }),
                ..
            } = e
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "test {}: the stress run has no history model for {op:?} operations",
                        t.name
                    ),
                ));
            }
        }
    }
    let root = tempfile::Builder::new()
        .prefix("mountfuzz-stress")
        .tempdir()?;
    let store = SharedStore::new(prog.profile, prog.keys.len(), prog.tests.len());
    let barrier = Barrier::new(prog.tests.len());
    let start = Instant::now();
    let buildah = matches!(prog.profile.engine, Engine::Buildah(_));
    let results: Vec<(Vec<TimedOp>, bool)> = crossbeam::scope(|s| {
        let handles: Vec<_> = (0..prog.tests.len())
            .map(|t| {
                let (store, barrier, root) = (&store, &barrier, root.path().to_path_buf());
                s.spawn(move |_| thread(prog, t, store, barrier, root, start, cfg, buildah))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a stress thread panicked"))
            .collect()
    })
    .expect("scoped threads joined");
    let mut run = StressRun {
        elapsed: start.elapsed(),
        ..StressRun::default()
    };
    for (t, (ops, stuck)) in results.into_iter().enumerate() {
        run.history.extend(ops);
        if stuck {
            run.stuck.push(prog.tests[t].name.clone());
        }
    }
    run.history.sort_by_key(|o| o.invoke);
    Ok(run)
}

#[allow(clippy::too_many_arguments)]
fn thread(
    prog: &Program,
    t: usize,
    store: &SharedStore,
    barrier: &Barrier,
    root: PathBuf,
    start: Instant,
    cfg: StressConfig,
    buildah: bool,
) -> (Vec<TimedOp>, bool) {
    let mut fs = FsStorage::new(&root);
    let mut rng = Rng::for_schedule(cfg.seed, t as u64);
    let mut ops = Vec::new();
    let mut held: BTreeMap<u32, (usize, Option<ProcessLock>)> = BTreeMap::new();
    // This test's build process: a buildah process per build locally, the test's podman server
    // (one for all its builds) remotely. Its lock objects live as long as it does.
    let mut process = ProcessLocks::default();
    let now = |s: Instant| s.elapsed().as_nanos() as u64;
    barrier.wait();
    for ev in &prog.tests[t].events {
        if !cfg.jitter.is_zero() {
            let us = rng.below(cfg.jitter.as_micros() as u64 + 1);
            std::thread::sleep(Duration::from_micros(us));
        }
        let holder = |run: u32| Holder {
            owner: t as u32,
            run,
        };
        match ev {
            Event::Acquire { run, key, sharing } => {
                let loc = &prog.keys[*key as usize].loc;
                let invoke = now(start);
                let (inst, lock) = if buildah && *sharing == Sharing::Locked {
                    let lock_file = loc
                        .lock_file
                        .as_deref()
                        .expect("a key mounted locked has a lock file");
                    let path = fs.real(lock_file);
                    let until = Instant::now() + cfg.lock_deadline;
                    match process.lock_until(&path, until) {
                        Ok(Some(lock)) => (0, Some(lock)),
                        _ => return (ops, true),
                    }
                } else {
                    match store.acquire(
                        holder(*run),
                        MountReq {
                            key: *key as usize,
                            sharing: *sharing,
                        },
                    ) {
                        Ok(i) => (i, None),
                        Err(_) => return (ops, true),
                    }
                };
                let dir = prog.profile.instance_dir(loc, inst);
                if *sharing == Sharing::Locked {
                    ops.push(TimedOp {
                        thread: t,
                        key: dir,
                        op: LinOp::Acquire,
                        invoke,
                        response: now(start),
                    });
                }
                held.insert(*key, (inst, lock));
            }
            Event::Op {
                key,
                op,
                file,
                value,
                ..
            } => {
                let Some((inst, _)) = held.get(key) else {
                    continue;
                };
                let dir = prog
                    .profile
                    .instance_dir(&prog.keys[*key as usize].loc, *inst);
                let f = &prog.files[*file as usize];
                let v = prog.values[*value as usize].clone();
                let invoke = now(start);
                let lop = match op {
                    OpKind::Write => {
                        // `echo v > f` is two steps: open (create or truncate the name), then
                        // write into that inode. A reader can fall between them (it sees ""),
                        // and a wipe between them unlinks the name and loses the write.
                        let path = fs.real(&dir);
                        let _ = std::fs::create_dir_all(&path);
                        let file = std::fs::File::create(path.join(f));
                        let truncated = now(start);
                        ops.push(TimedOp {
                            thread: t,
                            key: dir.clone(),
                            op: LinOp::Write {
                                file: f.clone(),
                                value: String::new(),
                            },
                            invoke,
                            response: truncated,
                        });
                        if let Ok(mut file) = file {
                            use std::io::Write as _;
                            let _ = file.write_all(v.as_bytes());
                        }
                        ops.push(TimedOp {
                            thread: t,
                            key: dir,
                            op: LinOp::Fill {
                                file: f.clone(),
                                value: v,
                            },
                            invoke: truncated,
                            response: now(start),
                        });
                        continue;
                    }
                    OpKind::Append => {
                        let line = if fs.read(&dir, f).ok().flatten().is_some() {
                            format!("\n{v}")
                        } else {
                            v.clone()
                        };
                        let _ = fs.append(&dir, f, line.as_bytes());
                        LinOp::Append {
                            file: f.clone(),
                            value: v,
                        }
                    }
                    OpKind::Read => {
                        let got = fs
                            .read(&dir, f)
                            .ok()
                            .flatten()
                            .map(|b| String::from_utf8_lossy(&b).into_owned());
                        LinOp::Read {
                            file: f.clone(),
                            got,
                        }
                    }
                    OpKind::Remove => {
                        let _ = fs.remove(&dir, f);
                        LinOp::Remove { file: f.clone() }
                    }
                    // Refused before any thread starts (see `run`).
                    OpKind::Touch | OpKind::Stat { .. } | OpKind::Opaque { .. } => continue,
                    OpKind::Wipe => {
                        let _ = fs.wipe(&dir);
                        LinOp::Wipe {
                            removes_lock: prog.profile.wipe_removes_lock(),
                        }
                    }
                };
                ops.push(TimedOp {
                    thread: t,
                    key: dir,
                    op: lop,
                    invoke,
                    response: now(start),
                });
            }
            Event::Release {
                run, keys, sharing, ..
            } => {
                for (k, s) in keys.iter().zip(sharing) {
                    if let Some((inst, lock)) = held.remove(k) {
                        let dir = prog.profile.instance_dir(&prog.keys[*k as usize].loc, inst);
                        let invoke = now(start);
                        drop(lock);
                        if *s == Sharing::Locked {
                            ops.push(TimedOp {
                                thread: t,
                                key: dir,
                                op: LinOp::Release,
                                invoke,
                                response: now(start),
                            });
                        }
                    }
                }
                let mounts: Vec<MountReq> = keys
                    .iter()
                    .zip(sharing)
                    .map(|(k, s)| MountReq {
                        key: *k as usize,
                        sharing: *s,
                    })
                    .collect();
                store.release_run(holder(*run), &mounts, false);
            }
            Event::BuildEnd { .. } => {
                if prog.world.build_process_exits() {
                    process = ProcessLocks::default();
                }
            }
            Event::Prune { keys, .. } | Event::Teardown { keys, .. } if buildah => {
                let target = match ev {
                    Event::Prune { parent, .. } => parent.clone(),
                    _ => prog.world.scratch(&prog.tests[t].name),
                };
                let invoke = now(start);
                let _ = fs.remove_tree(&target);
                let response = now(start);
                for k in keys {
                    let key = prog.keys[*k as usize].loc.dir.clone();
                    // rm -rf of the parent (or scratch) takes every lock file below it.
                    ops.push(TimedOp {
                        thread: t,
                        key,
                        op: LinOp::Wipe { removes_lock: true },
                        invoke,
                        response,
                    });
                }
            }
            Event::Prune { .. } | Event::Teardown { .. } => {}
            // `run` refuses programs with shared layers or `--no-cache` builds.
            Event::Layer { .. } | Event::NoCache { .. } | Event::Join { .. } => {}
        }
    }
    (ops, false)
}
