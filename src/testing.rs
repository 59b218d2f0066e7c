//! Helpers for property tests, the crate's and its users': failures persist under
//! `proptest-regressions/` at the crate root, where they are committed.

use proptest::test_runner::{Config, FileFailurePersistence};

/// A proptest config running `cases` cases, persisting failures to `proptest-regressions/<file>`.
pub fn proptest_config(file: &'static str, cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}
