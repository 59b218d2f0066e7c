//! Real engines as the oracle: a suite run as real `buildah bud` processes (local topology) or
//! through real `podman --remote` against one `podman system service` per test (remote), with
//! the order of cache RUNs forced by gate/work RUN pairs, and the reads compared with the model's
//! for the same schedule. Every process has a deadline and is ended by PID.

pub mod chroot;
pub mod driver;
pub mod process;

pub use process::{Finished, Guard, run_bounded, static_busybox, unavailable, which};
