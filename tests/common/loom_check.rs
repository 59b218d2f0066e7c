//! The loom helpers both loom test files use: run a model with the stated bounds and count its
//! interleavings, or report whether a bad outcome was seen in any of them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// Runs `f` under loom (preemption bound 3 unless `LOOM_MAX_PREEMPTIONS` says otherwise) and
/// returns how many interleavings it explored.
pub fn explore(name: &str, f: impl Fn() + Sync + Send + 'static) -> usize {
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || {
        seen.fetch_add(1, SeqCst);
        f()
    });
    let n = count.load(SeqCst);
    println!("loom: {name}: {n} interleavings");
    assert!(n > 0, "{name}: loom explored nothing");
    n
}

/// Runs the model and reports whether `bad` was raised in any interleaving.
pub fn found(name: &str, f: impl Fn(&AtomicBool) + Sync + Send + 'static) -> bool {
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    explore(name, move || f(&seen));
    flag.load(SeqCst)
}
