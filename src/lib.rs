//! # mountfuzz
//!
//! A property-based concurrency fuzzer for build-cache mounts (`RUN --mount=type=cache,…`) shared
//! by parallel container builds.
//!
//! The crate is laid out along one data flow:
//! - [`mount`] and [`containerfile`] read what users write;
//! - [`engine`] decides, once, where a cache lives and what a concurrent request gets;
//! - [`store`] holds the holder table and the bytes (in memory, on a real filesystem, thread-safe).
pub mod check;
pub use run::Check;

pub mod containerfile;
pub mod engine;
pub mod explore;
pub mod fuzzing;
pub mod mount;
pub mod real;
pub mod report;
pub mod run;
pub mod scenario;
pub mod store;
pub mod stress;
pub mod sync;
pub mod testing;
pub mod verify;
pub mod world;
