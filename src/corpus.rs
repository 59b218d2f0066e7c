//! A corpus of Dockerfiles checked the way a CI builds them: each file is imported, and N copies
//! of its build run in parallel (one CI runner, local builds), explored per engine profile under
//! the chosen intent. The table says how each file was modelled (commands by model, what was
//! unsupported and why) and the verdict per engine, with nothing rounded up: a search cut by its
//! budget is `unknown`.

use std::time::Duration;

use crate::check::Intent;
use crate::engine::{Engine, Profile};
use crate::explore::{Budget, Options, Strategy};
use crate::run::{RunConfig, run};
use crate::scenario::import::{ImportOptions, Tmpdir, Unsupported, import};
use crate::scenario::{Suite, TestCase};
use crate::world::{Remedy, Topology, World};

/// How one file fared.
#[derive(Clone, Debug)]
pub struct FileResult {
    /// The file.
    pub file: String,
    /// Commands by model: precise, profile, opaque, no-cache-effect (first engine's dialect).
    pub commands: [usize; 4],
    /// Cache RUNs.
    pub runs: usize,
    /// Why it could not be imported, per engine dialect that refused it.
    pub unsupported: Vec<(Engine, Unsupported)>,
    /// Per engine: the verdict's name and, for a violation, its oracle.
    pub verdicts: Vec<(Engine, String, Option<String>)>,
}

/// Checks every file of `files` (name, text) on `engines`, `copies` builds in parallel.
pub fn check(
    files: &[(String, String)],
    engines: &[Engine],
    copies: usize,
    seconds: f64,
    intent: Intent,
) -> Vec<FileResult> {
    let mut out = Vec::new();
    for (name, text) in files {
        let mut r = FileResult {
            file: name.clone(),
            commands: [0; 4],
            runs: 0,
            unsupported: Vec::new(),
            verdicts: Vec::new(),
        };
        for (ei, &engine) in engines.iter().enumerate() {
            let imp = import(
                &[(name.clone(), text.clone())],
                engine.dialect(),
                ImportOptions {
                    steps: false,
                    tmpdir: Tmpdir::Host,
                },
            );
            if ei == 0 {
                r.commands = imp.command_counts();
                r.runs = imp.runs.len();
            }
            if let Some(u) = imp.unsupported.first() {
                r.unsupported.push((engine, u.clone()));
                r.verdicts.push((engine, "unsupported".into(), None));
                continue;
            }
            let Some(test) = imp.suite.tests.first() else {
                r.verdicts
                    .push((engine, "vacuous".into(), Some("no cache RUN".into())));
                continue;
            };
            let suite = Suite {
                name: name.clone(),
                tests: (1..=copies)
                    .map(|i| TestCase {
                        name: format!("copy-{i}"),
                        steps: test.steps.clone(),
                    })
                    .collect(),
            };
            let config = RunConfig {
                suite,
                profile: Profile::new(engine),
                world: World {
                    torn_writes: intent.oracles().has(crate::check::Oracle::TornRead),
                    ..World::new(Topology::Local, Remedy::None)
                },
                sharing: None,
                strategy: Strategy::Dfs { por: true },
                budget: Budget::new(u64::MAX, seconds),
                options: Options {
                    oracles: intent.oracles(),
                    ..Options::default()
                },
                shrink_time: Duration::from_secs(1),
            };
            match run(config) {
                Ok(rep) => r.verdicts.push((
                    engine,
                    rep.verdict_name().to_string(),
                    rep.violation().map(|v| v.oracle.name().to_string()),
                )),
                Err(e) => r
                    .verdicts
                    .push((engine, "unsupported".into(), Some(e.to_string()))),
            }
        }
        out.push(r);
    }
    out
}

/// The README table: totals, then one row per file.
pub fn markdown(results: &[FileResult], engines: &[Engine]) -> String {
    let n = results.len();
    let clean = results.iter().filter(|r| r.unsupported.is_empty()).count();
    let mut totals = [0usize; 4];
    for r in results {
        for (t, c) in totals.iter_mut().zip(r.commands) {
            *t += c;
        }
    }
    let all: usize = totals.iter().sum();
    let pct = |x: usize, of: usize| {
        if of == 0 {
            0.0
        } else {
            100.0 * x as f64 / of as f64
        }
    };
    let mut s = String::new();
    s.push_str(&format!(
        "{clean} of {n} files ({:.0}%) imported with no unsupported construct on every engine; {} cache RUNs; {all} commands: {} precise ({:.0}%), {} by a tool profile ({:.0}%), {} opaque ({:.0}%), {} with no cache effect ({:.0}%).\n\n",
        pct(clean, n),
        results.iter().map(|r| r.runs).sum::<usize>(),
        totals[0],
        pct(totals[0], all),
        totals[1],
        pct(totals[1], all),
        totals[2],
        pct(totals[2], all),
        totals[3],
        pct(totals[3], all),
    ));
    s.push_str("| verdicts | ");
    s.push_str(
        &engines
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    s.push_str(" |\n|---|");
    s.push_str(&"---|".repeat(engines.len()));
    s.push('\n');
    for name in ["holds", "violated", "unknown", "vacuous", "unsupported"] {
        s.push_str(&format!("| {name} |"));
        for e in engines {
            let k = results
                .iter()
                .filter(|r| r.verdicts.iter().any(|(x, v, _)| x == e && v == name))
                .count();
            s.push_str(&format!(" {k} |"));
        }
        s.push('\n');
    }
    s.push_str("\n| file | RUNs | precise | profile | opaque | no effect |");
    for e in engines {
        s.push_str(&format!(" {e} |"));
    }
    s.push_str("\n|---|---|---|---|---|---|");
    s.push_str(&"---|".repeat(engines.len()));
    s.push('\n');
    for r in results {
        let short = std::path::Path::new(&r.file)
            .file_name()
            .map_or(r.file.clone(), |f| f.to_string_lossy().into_owned());
        s.push_str(&format!(
            "| {short} | {} | {} | {} | {} | {} |",
            r.runs, r.commands[0], r.commands[1], r.commands[2], r.commands[3]
        ));
        for e in engines {
            let cell = r
                .verdicts
                .iter()
                .find(|(x, ..)| x == e)
                .map(|(_, v, o)| match o {
                    Some(o) if v == "violated" => format!("violated ({o})"),
                    _ => v.clone(),
                })
                .unwrap_or_default();
            s.push_str(&format!(" {cell} |"));
        }
        s.push('\n');
    }
    for r in results {
        for (e, u) in &r.unsupported {
            s.push_str(&format!(
                "\nunsupported on {e}: {}:{}: {}: {}",
                u.file, u.line, u.construct, u.reason
            ));
        }
    }
    s
}
