//! Helpers for property tests, the crate's and its users': failures persist under
//! `proptest-regressions/` at the crate root, where they are committed.

use proptest::test_runner::{Config, FileFailurePersistence};

/// A proptest config running `cases` cases (`PROPTEST_CASES` overrides), persisting failures to
/// `file` (by convention `proptest-regressions/<test>.txt`).
pub fn proptest_config(file: &'static str, cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}
