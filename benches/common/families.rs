//! The scenario families (`mountfuzz::scenario::families`) as the peers run them: n threads
//! over files each behind its own mutex, so loom and shuttle see the same conflicts at file
//! granularity as mountfuzz. Shared by the `dpor` and `shuttle` benches.

/// What test `i` of a family does, over files each behind its own mutex (slot 0 the shared file,
/// slot `1 + i` test i's own) and a dir lock that a locked RUN holds across its write and read.
macro_rules! family_body {
    ($family:expr, $files:expr, $dir_lock:expr, $i:expr) => {{
        let (files, i) = ($files, $i);
        let value = i as u64;
        match $family {
            Family::OwnFiles => {
                *files[1 + i].lock().unwrap() = Some(value);
                let _ = *files[1 + i].lock().unwrap();
            }
            Family::Appends => {
                let mut f = files[0].lock().unwrap();
                *f = Some(f.unwrap_or(0) + value);
            }
            Family::SharedWriteRead => {
                *files[0].lock().unwrap() = Some(value);
                let _ = *files[0].lock().unwrap();
            }
            Family::Locked => {
                let _held = $dir_lock.lock().unwrap();
                *files[0].lock().unwrap() = Some(value);
                let _ = *files[0].lock().unwrap();
            }
        }
    }};
}

/// The `n` threads of `family`, spawned and joined under `$peer` (`loom` or `shuttle`: its
/// `sync` and `thread` modules).
macro_rules! family_threads {
    ($peer:ident, $family:expr, $n:expr) => {{
        let (family, n) = ($family, $n);
        let files: $peer::sync::Arc<Vec<$peer::sync::Mutex<Option<u64>>>> =
            $peer::sync::Arc::new((0..=n).map(|_| $peer::sync::Mutex::new(None)).collect());
        let lock = $peer::sync::Arc::new($peer::sync::Mutex::new(()));
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let (files, lock) = (files.clone(), lock.clone());
                $peer::thread::spawn(move || family_body!(family, &files, &lock, i))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    }};
}

/// A shuttle test of `family` with `n` threads, for any of shuttle's schedulers.
#[allow(dead_code)]
pub fn shuttle_family(
    family: mountfuzz::scenario::families::Family,
    n: usize,
) -> impl Fn() + Send + Sync + 'static {
    use mountfuzz::scenario::families::Family;
    move || family_threads!(shuttle, family, n)
}
