//! The std/loom facade: production code names `crate::sync::Mutex`, and `--cfg loom` swaps in
//! loom's model-checked primitives so `tests/loom.rs` explores the very same store code.

#[cfg(loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub use loom::thread::yield_now;
#[cfg(not(loom))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::thread::yield_now;
