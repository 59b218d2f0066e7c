//! Workloads: a [`Suite`] is a set of tests that run in parallel (as `bats -j` runs them); a test
//! has its own scratch dir and ordered steps (builds, prunes, teardown) with expectations.
//!
//! Suites come from the built-ins ([`builtin`]), from a TOML file ([`Suite::from_toml`]), from
//! Containerfiles ([`Suite::import`]), or from proptest ([`strategy`]).

pub mod builtin;
pub mod families;
pub mod import;
pub mod shell;
pub mod stages;
pub mod strategy;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::mount::{Dialect, MountSpec};

/// A set of tests run in parallel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suite {
    /// The suite's name (reports, replay files).
    pub name: String,
    /// The tests.
    pub tests: Vec<TestCase>,
}

/// One test: its name and its steps in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// Unique within the suite.
    pub name: String,
    /// Run in order.
    pub steps: Vec<Step>,
}

/// One step of a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A build: its RUN instructions in order, with environment overrides for the client.
    Build(Build),
    /// `buildah prune` (runs on the client, with these environment overrides).
    Prune {
        /// Environment overrides (`TMPDIR` → `$SCRATCH`, …).
        env: BTreeMap<String, String>,
    },
    /// `rm -rf` of the test's scratch dir.
    Teardown,
}

/// A build of one Containerfile.
#[derive(Clone, Debug)]
pub struct Build {
    /// Environment overrides of the client process (`$SCRATCH` is the test's scratch dir).
    pub env: BTreeMap<String, String>,
    /// RUN instructions with cache mounts, in order.
    pub runs: Vec<RunStep>,
    /// What the build must produce.
    pub expect: Expect,
    /// The Containerfile it was read from, if any: a suite file keeps the user's text, which
    /// reads back to these runs. Anything that changes the runs sets it to `None`, and the
    /// suite file then gets a Containerfile written from the runs.
    pub source: Option<String>,
    /// Built with `--no-cache`: no layer is reused, and on BuildKit the build's plain cache
    /// mounts start from a fresh instance ([`crate::engine::Profile::no_cache_drops`]).
    pub no_cache: bool,
    /// The stages its RUNs lie in, where two can run at once ([`stages`]); `None`: its RUNs
    /// run in order.
    pub stages: Option<stages::Stages>,
}

/// Two builds are equal when they do the same: the text they were read from is not compared.
impl PartialEq for Build {
    fn eq(&self, o: &Build) -> bool {
        self.env == o.env
            && self.runs == o.runs
            && self.expect == o.expect
            && self.no_cache == o.no_cache
            && self.stages == o.stages
    }
}

impl Eq for Build {}

/// One RUN: its cache mounts and what its command does to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunStep {
    /// The `--mount` flags, in flag order (non-cache mounts are dropped).
    pub mounts: Vec<MountSpec>,
    /// WORKDIR (for relative targets).
    pub workdir: String,
    /// Cache operations, in order.
    pub ops: Vec<CacheOp>,
    /// Injected fault: unmounting after the RUN fails (for the unlock-skipped quirk).
    pub unmount_fails: bool,
}

/// An operation of a RUN on a file in one of its cache mounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheOp {
    /// `echo DATA > FILE`.
    Write {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
        /// Bytes written.
        data: String,
    },
    /// `sed -i FILE`, `mv A FILE` within one mount, `truncate FILE`, `ln -s T FILE`: the new
    /// content takes FILE's place at once, by a rename or one call (a reader sees the old file
    /// or the new one, never a part). A `Write` opens FILE with `O_TRUNC` first, so it has a
    /// moment when FILE is empty ([`crate::world::World::torn_writes`]).
    Replace {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
        /// Bytes it holds after.
        data: String,
    },
    /// `echo DATA >> FILE`.
    Append {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
        /// Bytes appended.
        data: String,
    },
    /// `cat FILE`: prints it, or fails with `No such file or directory`.
    Read {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
    },
    /// `rm -f FILE`.
    Remove {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
    },
    /// `rm -rf TARGET/*`.
    Wipe {
        /// Index into the RUN's mounts.
        mount: usize,
    },
    /// `rm -rf TARGET/DIR` (or `TARGET/DIR/*`): everything below a directory of the mount.
    RemoveTree {
        /// Index into the RUN's mounts.
        mount: usize,
        /// The directory below the mount target.
        dir: String,
    },
    /// `touch FILE` (also `mkdir -p DIR`, and the metadata write of `chmod`/`chown`): creates an
    /// empty file where none is, and leaves an existing one's content alone.
    Touch {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
    },
    /// A metadata read (`test -e`, `[ -f ]`, `ls FILE`, `stat`): looks whether FILE is there.
    /// With `must_exist` the RUN fails when it is not (`ls`, `stat`, `rm` without `-f`).
    Stat {
        /// Index into the RUN's mounts.
        mount: usize,
        /// Path below the mount target.
        file: String,
        /// Absent fails the RUN.
        must_exist: bool,
    },
    /// A command the model cannot represent precisely (an unknown tool, a listing, a subtree
    /// removal, a tool profile's work): it may read every file under `dir` and, with
    /// `writes`, change any of them and create others. Named by `what` in every report.
    Opaque {
        /// Index into the RUN's mounts.
        mount: usize,
        /// The directory below the mount target it works in (`""`: the whole mount).
        dir: String,
        /// The command (or `profile:<tool>`), for reports.
        what: String,
        /// It may write (else it only reads, as a listing does).
        writes: bool,
    },
}

impl CacheOp {
    /// The index of the mount the operation acts on.
    pub fn mount(&self) -> usize {
        match self {
            CacheOp::Write { mount, .. }
            | CacheOp::Replace { mount, .. }
            | CacheOp::Append { mount, .. }
            | CacheOp::Read { mount, .. }
            | CacheOp::Remove { mount, .. }
            | CacheOp::Wipe { mount }
            | CacheOp::RemoveTree { mount, .. }
            | CacheOp::Touch { mount, .. }
            | CacheOp::Stat { mount, .. }
            | CacheOp::Opaque { mount, .. } => *mount,
        }
    }
}

/// What a build must produce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Expect {
    /// It must succeed.
    #[default]
    Success,
    /// It must succeed and its output contain this text.
    OutputContains(String),
    /// It must fail with a message containing this text.
    FailsWith(String),
}

/// A suite file or Containerfile the reader rejected: which file, which field, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteError {
    /// The file (or built-in name).
    pub source: String,
    /// The field path (`test[1].step[0].build`), empty when the whole file is at fault.
    pub field: String,
    /// The problem.
    pub problem: String,
}

impl std::fmt::Display for SuiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.source, self.problem)
        } else {
            write!(f, "{}: {}: {}", self.source, self.field, self.problem)
        }
    }
}

impl std::error::Error for SuiteError {}

// ---- the TOML form -------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: String,
    #[serde(rename = "test", default)]
    tests: Vec<TestFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    name: String,
    #[serde(rename = "step", default)]
    steps: Vec<StepFile>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StepFile {
    /// A Containerfile's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    build: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    prune: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    teardown: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    build_args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expect_output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expect_failure: Option<String>,
    /// 0-based RUN indices whose unmount fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unmount_fails: Vec<usize>,
    /// The build runs with `--no-cache`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    no_cache: bool,
}

impl Suite {
    /// Reads a suite from TOML text; `source` names it in errors. Containerfiles are parsed in
    /// `dialect` (the engine the suite will run on).
    pub fn from_toml(text: &str, source: &str, dialect: Dialect) -> Result<Suite, SuiteError> {
        let err = |field: String, problem: String| SuiteError {
            source: source.to_string(),
            field,
            problem,
        };
        let file: SuiteFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].lines().count().max(1);
                    format!("line {line}")
                })
                .unwrap_or_default();
            err(at, msg)
        })?;
        if file.tests.is_empty() {
            return Err(err(
                "test".into(),
                "a suite needs at least one [[test]]".into(),
            ));
        }
        let mut tests = Vec::new();
        for (ti, t) in file.tests.iter().enumerate() {
            if t.name.is_empty() {
                return Err(err(format!("test[{ti}].name"), "must not be empty".into()));
            }
            if tests.iter().any(|x: &TestCase| x.name == t.name) {
                return Err(err(
                    format!("test[{ti}].name"),
                    format!("duplicate test name {:?}", t.name),
                ));
            }
            let mut steps = Vec::new();
            for (si, s) in t.steps.iter().enumerate() {
                let field = format!("test[{ti}].step[{si}]");
                steps.push(
                    step_from_file(s, dialect).map_err(|(f, p)| err(format!("{field}{f}"), p))?,
                );
            }
            tests.push(TestCase {
                name: t.name.clone(),
                steps,
            });
        }
        Ok(Suite {
            name: file.name,
            tests,
        })
    }

    /// Writes the suite as TOML that [`Suite::from_toml`] reads back to the same suite.
    pub fn to_toml(&self, dialect: Dialect) -> String {
        let file = SuiteFile {
            name: self.name.clone(),
            tests: self
                .tests
                .iter()
                .map(|t| TestFile {
                    name: t.name.clone(),
                    steps: t.steps.iter().map(|s| step_to_file(s, dialect)).collect(),
                })
                .collect(),
        };
        toml::to_string(&file).expect("a suite always serialises")
    }

    /// A suite with one test per Containerfile, each a single build run with `TMPDIR=$SCRATCH`;
    /// an error when any file cannot be read ([`import::import`] keeps the others).
    pub fn import(files: &[(String, String)], dialect: Dialect) -> Result<Suite, SuiteError> {
        let imp = import::import(files, dialect, import::ImportOptions::default());
        if let Some(u) = imp.unsupported.first() {
            return Err(SuiteError {
                source: u.file.clone(),
                field: String::new(),
                problem: format!("line {}: {}", u.line, u.reason),
            });
        }
        if let Some(f) = imp.empty.first() {
            return Err(SuiteError {
                source: f.clone(),
                field: String::new(),
                problem: "no RUN with a cache mount (nothing to model)".into(),
            });
        }
        Ok(imp.suite)
    }

    /// The same suite with every cache mount's `sharing=` set to `sharing`, except tests whose
    /// name says which mode they exercise (`…locked…`).
    pub fn with_sharing(mut self, sharing: crate::mount::Sharing) -> Suite {
        for t in &mut self.tests {
            if t.name.contains("locked") {
                continue;
            }
            for s in &mut t.steps {
                if let Step::Build(b) = s {
                    b.source = None;
                    for r in &mut b.runs {
                        for m in &mut r.mounts {
                            m.sharing = sharing;
                        }
                    }
                }
            }
        }
        self
    }
}

/// A built-in suite by name, or else a suite file by path (parsed in `dialect`).
pub fn load(name_or_path: &str, dialect: Dialect) -> Result<Suite, SuiteError> {
    if let Some(b) = builtin::find(name_or_path) {
        return Ok(b.suite());
    }
    let text = std::fs::read_to_string(name_or_path).map_err(|e| SuiteError {
        source: name_or_path.to_string(),
        field: String::new(),
        problem: format!(
            "not a built-in suite ({}) and cannot be read as a file: {e}",
            builtin::ALL
                .iter()
                .map(|b| b.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    Suite::from_toml(&text, name_or_path, dialect)
}

/// `{TMPDIR = "$SCRATCH"}`: the bats suite's per-test cache isolation.
pub fn scratch_tmpdir() -> BTreeMap<String, String> {
    BTreeMap::from([("TMPDIR".to_string(), "$SCRATCH".to_string())])
}

fn step_from_file(s: &StepFile, dialect: Dialect) -> Result<Step, (String, String)> {
    let kinds = s.build.is_some() as u8 + s.prune as u8 + s.teardown as u8;
    if kinds != 1 {
        return Err((
            String::new(),
            "a step is exactly one of build = \"…\", prune = true, teardown = true".into(),
        ));
    }
    if let Some(text) = &s.build {
        if s.expect_output.is_some() && s.expect_failure.is_some() {
            return Err((
                ".expect_failure".into(),
                "a build cannot expect both output and failure".into(),
            ));
        }
        let mut build = build_from_containerfile(text, &s.build_args, dialect)
            .map_err(|p| (".build".to_string(), p))?;
        build.env = s.env.clone();
        build.no_cache = s.no_cache;
        if !s.build_args.is_empty() {
            // The text needs its build args to read back the same; write the runs instead.
            build.source = None;
        }
        build.expect = match (&s.expect_output, &s.expect_failure) {
            (Some(o), None) => Expect::OutputContains(o.clone()),
            (None, Some(f)) => Expect::FailsWith(f.clone()),
            _ => Expect::Success,
        };
        for &i in &s.unmount_fails {
            let n = build.runs.len();
            build
                .runs
                .get_mut(i)
                .ok_or_else(|| {
                    (
                        ".unmount_fails".to_string(),
                        format!("RUN {i} does not exist (the build has {n} cache RUNs)"),
                    )
                })?
                .unmount_fails = true;
        }
        return Ok(Step::Build(build));
    }
    if s.expect_output.is_some()
        || s.expect_failure.is_some()
        || !s.unmount_fails.is_empty()
        || s.no_cache
    {
        return Err((
            String::new(),
            "expect_output, expect_failure, unmount_fails and no_cache belong to build steps"
                .into(),
        ));
    }
    if s.prune {
        Ok(Step::Prune { env: s.env.clone() })
    } else {
        Ok(Step::Teardown)
    }
}

fn step_to_file(s: &Step, dialect: Dialect) -> StepFile {
    match s {
        Step::Build(b) => StepFile {
            build: Some(
                b.source
                    .clone()
                    .unwrap_or_else(|| shell::containerfile_text(b, dialect)),
            ),
            env: b.env.clone(),
            expect_output: match &b.expect {
                Expect::OutputContains(o) => Some(o.clone()),
                _ => None,
            },
            expect_failure: match &b.expect {
                Expect::FailsWith(f) => Some(f.clone()),
                _ => None,
            },
            unmount_fails: b
                .runs
                .iter()
                .enumerate()
                .filter(|(_, r)| r.unmount_fails)
                .map(|(i, _)| i)
                .collect(),
            no_cache: b.no_cache,
            ..StepFile::default()
        },
        Step::Prune { env } => StepFile {
            prune: true,
            env: env.clone(),
            ..StepFile::default()
        },
        Step::Teardown => StepFile {
            teardown: true,
            ..StepFile::default()
        },
    }
}

/// A build from a Containerfile: each RUN with a cache mount becomes a [`RunStep`].
pub fn build_from_containerfile(
    text: &str,
    build_args: &BTreeMap<String, String>,
    dialect: Dialect,
) -> Result<Build, String> {
    let (build, _, _) = import::build_of("", text, build_args, dialect)
        .map_err(|u| format!("line {}: {}", u.line, u.reason))?;
    if build.runs.is_empty() {
        return Err("no RUN with a cache mount (nothing to model)".into());
    }
    Ok(build)
}
