//! Suites from Dockerfiles: each file is a project built in parallel with the others (or, with
//! `steps`, one consecutive build of a single test). A file the frontend cannot read marks only
//! its own test unsupported, with file:line, the construct and the reason; the rest still runs,
//! and the report says what coverage was lost. Every command of every cache RUN is listed with
//! how it is modelled, so nothing is dropped without a word.

use std::collections::BTreeMap;

use serde::Serialize;

use super::stages::{StageNode, Stages};
use super::{Build, Expect, RunStep, Step, Suite, TestCase, scratch_tmpdir};
use crate::containerfile::{self, Command};
use crate::effects::{self, RunEffects};
use crate::mount::{Dialect, MountSpec, MountType, display};

/// Whether each test gets its own TMPDIR (the bats convention) or the host's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tmpdir {
    /// `TMPDIR` is the host's: every build of this user shares one cache parent.
    Host,
    /// `TMPDIR=$SCRATCH`: each test has its own (lost on a remote build, podman#25414).
    #[default]
    Scratch,
}

/// How files become tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// The files are consecutive builds of one test, not parallel projects.
    pub steps: bool,
    /// TMPDIR per test.
    pub tmpdir: Tmpdir,
}

/// One command of an imported RUN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommandReport {
    /// As written.
    pub text: String,
    /// `precise`, `profile:<tool>`, `opaque` or `no-cache-effect`.
    pub model: String,
}

/// One RUN with a cache mount, as imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// The Dockerfile.
    pub file: String,
    /// 1-based line of the RUN.
    pub line: usize,
    /// Its stage: the name, or the index.
    pub stage: String,
    /// Its cache mounts, as option strings.
    pub mounts: Vec<String>,
    /// Every command, in order.
    pub commands: Vec<CommandReport>,
    /// The cache operations, one line each.
    pub effects: Vec<String>,
    /// Paths it names outside every cache (not shared state).
    pub outside_paths: usize,
}

/// A construct that made its file's test unsupported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    /// The Dockerfile.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The instruction or construct.
    pub construct: String,
    /// Why.
    pub reason: String,
}

/// The result of an import.
#[derive(Clone, Debug)]
pub struct Import {
    /// The suite of the files that were read.
    pub suite: Suite,
    /// Every cache RUN.
    pub runs: Vec<RunReport>,
    /// The files that were not.
    pub unsupported: Vec<Unsupported>,
    /// What the model does not cover of what was read (parallel stages, unset variables).
    pub notes: Vec<String>,
    /// Files read that have no RUN with a cache mount (no test).
    pub empty: Vec<String>,
}

impl Import {
    /// The `--json` form: `{"suite", "runs", "unsupported", "notes"}`.
    pub fn to_json(&self, dialect: Dialect) -> serde_json::Value {
        serde_json::json!({
            "suite": self.suite.to_toml(dialect),
            "runs": self.runs,
            "unsupported": self.unsupported,
            "notes": self.notes,
        })
    }

    /// Counts of commands by model: (precise, profile, opaque, no-cache-effect).
    pub fn command_counts(&self) -> [usize; 4] {
        let mut n = [0; 4];
        for c in self.runs.iter().flat_map(|r| &r.commands) {
            let i = match c.model.as_str() {
                "precise" => 0,
                m if m.starts_with("profile:") => 1,
                "opaque" => 2,
                _ => 3,
            };
            n[i] += 1;
        }
        n
    }
}

/// One line for a cache operation.
pub fn op_text(op: &super::CacheOp, mounts: &[MountSpec]) -> String {
    use super::CacheOp::*;
    let t = |m: usize| {
        mounts
            .get(m)
            .map_or("?", |s| s.target.trim_end_matches('/'))
    };
    let p = |m: usize, f: &str| format!("{}/{f}", t(m));
    match op {
        Write { mount, file, data } => format!("write {} = {data:?}", p(*mount, file)),
        Replace { mount, file, data } => {
            format!("replace {} = {data:?} (a rename)", p(*mount, file))
        }
        Append { mount, file, data } => format!("append {} += {data:?}", p(*mount, file)),
        Read { mount, file } => format!("read {}", p(*mount, file)),
        Remove { mount, file } => format!("remove {}", p(*mount, file)),
        Wipe { mount } => format!("remove everything in {}", t(*mount)),
        RemoveTree { mount, dir } => format!("remove the tree {}", p(*mount, dir)),
        Touch { mount, file } => format!("touch {}", p(*mount, file)),
        Stat {
            mount,
            file,
            must_exist,
        } => format!(
            "look at {}{}",
            p(*mount, file),
            if *must_exist { " (must exist)" } else { "" }
        ),
        Opaque {
            mount,
            dir,
            what,
            writes,
        } => format!(
            "opaque `{what}`: may read{} anything under {}",
            if *writes { " and write" } else { "" },
            p(*mount, dir).trim_end_matches('/')
        ),
    }
}

/// A Dockerfile's cache RUNs as a build, with the report of each.
pub fn build_of(
    file: &str,
    text: &str,
    build_args: &BTreeMap<String, String>,
    dialect: Dialect,
) -> Result<(Build, Vec<RunReport>, Vec<String>), Unsupported> {
    let cf = containerfile::read(text, dialect, build_args, None).map_err(|e| Unsupported {
        file: file.to_string(),
        line: e.line,
        construct: text
            .lines()
            .nth(e.line.saturating_sub(1))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("")
            .to_string(),
        reason: e.problem.clone(),
    })?;
    let mut notes = Vec::new();
    for (a, b) in cf.parallel_stages() {
        let name = |s: usize| cf.stages[s].name.clone().unwrap_or_else(|| s.to_string());
        notes.push(format!(
            "{file}: stages {} and {} do not need each other: on BuildKit their RUNs run at once and interleave; Buildah builds stages in order unless --jobs is given, and the model runs them in order there",
            name(a),
            name(b)
        ));
    }
    let mut runs = Vec::new();
    let mut reports = Vec::new();
    let mut run_stage = Vec::new();
    let mut run_needs = Vec::new();
    for r in &cf.runs {
        let mounts: Vec<MountSpec> = r
            .mounts
            .iter()
            .filter(|m| m.kind == MountType::Cache)
            .cloned()
            .collect();
        if mounts.is_empty() {
            continue;
        }
        for v in &r.unset {
            notes.push(format!(
                "{file}:{}: ${v} in a mount option is not set by the Dockerfile (the base image may set it); expanded as empty",
                r.line
            ));
        }
        let fx: RunEffects = effects::of_run_in(&r.command, &r.shell, &mounts, &r.workdir, &r.env)
            .map_err(|reason| Unsupported {
                file: file.to_string(),
                line: r.line,
                construct: match &r.command {
                    Command::Shell(_) => "RUN (shell form)".into(),
                    Command::Exec(_) => "RUN (exec form)".into(),
                },
                reason,
            })?;
        let ops = fx.ops();
        reports.push(RunReport {
            file: file.to_string(),
            line: r.line,
            stage: cf.stages[r.stage]
                .name
                .clone()
                .unwrap_or_else(|| r.stage.to_string()),
            mounts: mounts.iter().map(|m| display(m, dialect)).collect(),
            commands: fx
                .commands
                .iter()
                .map(|c| CommandReport {
                    text: c.text.clone(),
                    model: c.model.name(),
                })
                .collect(),
            effects: ops.iter().map(|o| op_text(o, &mounts)).collect(),
            outside_paths: fx.outside_paths,
        });
        runs.push(RunStep {
            mounts,
            workdir: r.workdir.clone(),
            ops,
            unmount_fails: false,
        });
        run_stage.push(r.stage);
        run_needs.push(r.after.clone());
    }
    let mut graph: Vec<StageNode> = Vec::new();
    for (i, st) in cf.stages.iter().enumerate() {
        let mut name = st.name.clone().unwrap_or_else(|| format!("stage-{i}"));
        if graph.iter().any(|g| g.name == name) {
            name = format!("{name}-{i}");
        }
        graph.push(StageNode {
            name,
            needs: st.needs.clone(),
        });
    }
    Ok((
        Build {
            no_cache: false,
            stages: Stages::from_graph(&graph, &run_stage, &run_needs),
            env: BTreeMap::new(),
            runs,
            expect: Expect::Success,
            source: Some(text.to_string()),
        },
        reports,
        notes,
    ))
}

/// Imports `files` (name, text) in `dialect`.
pub fn import(files: &[(String, String)], dialect: Dialect, opts: ImportOptions) -> Import {
    let env = match opts.tmpdir {
        Tmpdir::Scratch => scratch_tmpdir(),
        Tmpdir::Host => BTreeMap::new(),
    };
    let mut tests: Vec<TestCase> = Vec::new();
    let mut out = Import {
        suite: Suite {
            name: "imported".into(),
            tests: Vec::new(),
        },
        runs: Vec::new(),
        unsupported: Vec::new(),
        notes: Vec::new(),
        empty: Vec::new(),
    };
    let mut steps = Vec::new();
    for (name, text) in files {
        match build_of(name, text, &BTreeMap::new(), dialect) {
            Ok((build, reports, notes)) => {
                if build.runs.is_empty() {
                    out.notes.push(format!(
                        "{name}: no RUN with a cache mount (nothing to model)"
                    ));
                    out.empty.push(name.clone());
                    continue;
                }
                out.runs.extend(reports);
                out.notes.extend(notes);
                let step = Step::Build(Build {
                    env: env.clone(),
                    ..build
                });
                if opts.steps {
                    steps.push(step);
                    continue;
                }
                let stem = std::path::Path::new(name)
                    .file_name()
                    .map_or(name.clone(), |s| s.to_string_lossy().into_owned());
                let mut test_name = stem.clone();
                let mut n = 2;
                while tests.iter().any(|t| t.name == test_name) {
                    test_name = format!("{stem}-{n}");
                    n += 1;
                }
                tests.push(TestCase {
                    name: test_name,
                    steps: vec![step],
                });
            }
            Err(u) => out.unsupported.push(u),
        }
    }
    if opts.steps && !steps.is_empty() {
        tests.push(TestCase {
            name: "builds".into(),
            steps,
        });
    }
    out.suite.tests = tests;
    out
}
