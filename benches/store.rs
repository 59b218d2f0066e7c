//! The filesystem store under contention: acquire + write + release cycles per sharing mode at
//! 1, 2, 4 and 8 threads on one cache key, beside a raw baseline measured in the same run
//! (mkdir + open + write plus a bare OFD lock/unlock of one file). `cargo bench --bench store`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mountfuzz::engine::{BuildahVersion, Engine, Profile};
use mountfuzz::mount::Sharing;
use mountfuzz::store::Storage;
use mountfuzz::store::fs::{FsStorage, lock};
use mountfuzz::store::shared::{MountReq, SharedStore};
use mountfuzz::store::table::Holder;

fn raw_ofd(file: &std::fs::File, cmd: libc::c_int, kind: libc::c_short) {
    // SAFETY: a zeroed flock is valid; `file` is open for the call.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: as above.
    unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl) };
}

/// The baseline cycle: mkdir -p, open the lock file, OFD lock, write the data file, unlock.
fn baseline_cycle(root: &Path, n: u64) {
    let dir = root.join("cache");
    std::fs::create_dir_all(&dir).unwrap();
    let lockf = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(root.join("lockfile"))
        .unwrap();
    raw_ofd(&lockf, libc::F_OFD_SETLKW, libc::F_WRLCK as libc::c_short);
    std::fs::File::create(dir.join("f"))
        .unwrap()
        .write_all(n.to_string().as_bytes())
        .unwrap();
    raw_ofd(&lockf, libc::F_OFD_SETLK, libc::F_UNLCK as libc::c_short);
}

/// The store's cycle in `sharing` mode for thread `t`.
fn store_cycle(
    store: &SharedStore,
    fs: &mut FsStorage,
    root: &Path,
    sharing: Sharing,
    t: u32,
    n: u64,
) {
    let holder = Holder {
        owner: t,
        run: n as u32,
    };
    match sharing {
        // Buildah's locked mode: a real OFD lock on the real lock file.
        Sharing::Locked => {
            let l = lock(&root.join("buildah-cache-lockfiles/k/buildah-cache-lockfile")).unwrap();
            fs.write("/cache/k", "f", n.to_string().as_bytes()).unwrap();
            drop(l);
        }
        // Shared and private: the thread-safe store decides the instance.
        _ => {
            let m = MountReq { key: 0, sharing };
            let inst = store.acquire(holder, m).unwrap();
            fs.write(&format!("/cache/k/{inst}"), "f", n.to_string().as_bytes())
                .unwrap();
            store.release_run(holder, &[m], false);
        }
    }
}

fn run_threads(threads: u32, iters: u64, f: impl Fn(u32, u64) + Sync) -> Duration {
    let per = iters.div_ceil(threads as u64);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let f = &f;
            s.spawn(move || (0..per).for_each(|n| f(t, n)));
        }
    });
    start.elapsed()
}

fn store(c: &mut Criterion) {
    let mut g = c.benchmark_group("store-cycles");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    g.throughput(Throughput::Elements(1));
    for threads in [1u32, 2, 4, 8] {
        g.bench_with_input(BenchmarkId::new("baseline", threads), &threads, |b, &th| {
            let root = tempfile::tempdir().unwrap();
            b.iter_custom(|iters| run_threads(th, iters, |_, n| baseline_cycle(root.path(), n)));
        });
        for (sharing, engine) in [
            (Sharing::Locked, Engine::Buildah(BuildahVersion::Current)),
            (Sharing::Shared, Engine::Buildah(BuildahVersion::Current)),
            (Sharing::Private, Engine::BuildKit),
        ] {
            g.bench_with_input(
                BenchmarkId::new(sharing.name(), threads),
                &threads,
                |b, &th| {
                    let root = tempfile::tempdir().unwrap();
                    let st = SharedStore::new(Profile::new(engine), 1, th as usize);
                    b.iter_custom(|iters| {
                        run_threads(th, iters, |t, n| {
                            let mut fs = FsStorage::new(root.path());
                            store_cycle(&st, &mut fs, root.path(), sharing, t, n)
                        })
                    });
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
