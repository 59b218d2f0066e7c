//! Oracle: each build meets its expectation (semantics of bats' `expect_output` / `run_buildah 1`).

use crate::scenario::Expect;

/// The same verdict as [`check`] without building strings (the explorer's hot path): `failed`
/// says whether the build failed, `failure_has` and `output_has` answer substring questions.
/// Call [`check`] for the message only when this says the expectation is broken.
#[inline]
pub fn holds(
    expect: &Expect,
    failed: bool,
    failure_has: impl Fn(&str) -> bool,
    output_has: impl Fn(&str) -> bool,
) -> bool {
    match expect {
        Expect::Success => !failed,
        Expect::OutputContains(want) => !failed && output_has(want),
        Expect::FailsWith(want) => failed && failure_has(want),
    }
}

/// Checks a finished build: `failure` is its error message if it failed, `output` what it
/// printed. Returns the complaint, if any.
pub fn check(expect: &Expect, failure: Option<&str>, output: &str) -> Option<String> {
    match (expect, failure) {
        (Expect::Success, None) => None,
        (Expect::Success, Some(f)) => Some(format!("build failed unexpectedly: {f}")),
        (Expect::OutputContains(want), None) if output.contains(want.as_str()) => None,
        (Expect::OutputContains(want), None) => Some(format!(
            "expected output containing {want:?}, got {:?}",
            output.trim_end()
        )),
        (Expect::OutputContains(want), Some(f)) => Some(format!(
            "expected output containing {want:?}, but the build failed: {f}"
        )),
        (Expect::FailsWith(want), Some(f)) if f.contains(want.as_str()) => None,
        (Expect::FailsWith(want), Some(f)) => {
            Some(format!("expected failure with {want:?}, failed with {f:?}"))
        }
        (Expect::FailsWith(want), None) => Some(format!(
            "expected failure with {want:?}, but the build succeeded with output {:?}",
            output.trim_end()
        )),
    }
}
