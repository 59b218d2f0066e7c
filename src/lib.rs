//! # mountfuzz
//!
//! A property-based concurrency fuzzer for build-cache mounts (`RUN --mount=type=cache,…`) shared
//! by parallel container builds. It models BuildKit and Buildah (upstream main, 1.39 and 1.28), explores the
//! interleavings of parallel tests, and turns cross-test cache interference (podman#25414) into a
//! minimal, replayable counterexample.
//!
//! ## From `cargo test`
//!
//! [`Check`] runs a suite like shuttle's `check_random`: build it, pick the engine, the topology
//! and the remedy, and read the verdict and the counterexample (see its example).
//!
//! ## The data flow, one module each
//! - [`mount`] and [`containerfile`] read what users write; [`scenario`] holds suites (built-in,
//!   TOML, imported Containerfiles, proptest strategies);
//! - [`world`] decides the environment each step runs in (local or remote, and the remedy);
//! - [`engine`] decides, once, where a cache lives and what a concurrent request gets, with every
//!   engine hazard as a named, switchable [`engine::Quirk`];
//! - [`store`] holds the holder table and the bytes (in memory, on a real filesystem with OFD
//!   locks, and thread-safe on [`sync`] so loom can check it);
//! - [`explore`] runs schedules (random, PCT, DFS with partial-order reduction, replay) and shrinks
//!   failures; [`check`] holds the oracles, one per file;
//! - [`run`] and [`verify`] put it together; [`report`] renders text, JSON, HTML, JUnit and
//!   replay files;
//! - [`stress`] runs real threads on real files and [`check::linearize`] judges their histories;
//!   [`real`] drives real Buildah and podman-remote and compares them with the model.
//!
//! Every exploration is bounded by schedules and seconds and says *unknown* rather than hang;
//! every verdict carries the number of schedules (and, on request, distinct states) behind it.

pub use run::Check;

pub mod check;
pub mod containerfile;
pub mod corpus;
pub mod effects;
pub mod engine;
pub mod explore;
pub mod fuzzing;
pub mod lint;
pub mod mount;
pub mod real;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shell;
pub mod store;
pub mod stress;
pub mod sync;
pub mod testing;
pub mod tools;
pub mod verify;
pub mod world;
