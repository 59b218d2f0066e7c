//! The counterexample as a swimlane timeline: a column per test, a row per step, the cache dir
//! the tests share named above it.

use std::fmt::Write;

use crate::explore::{Proof, Verdict};
use crate::run::{Counterexample, RunReport};

const WIDTH: usize = 44;

fn cell(s: &str) -> String {
    let n = s.chars().count();
    if n <= WIDTH {
        format!("{s}{}", " ".repeat(WIDTH - n))
    } else {
        let cut: String = s.chars().take(WIDTH - 1).collect();
        format!("{cut}…")
    }
}

/// The swimlane of a counterexample.
pub fn swimlanes(cx: &Counterexample) -> String {
    let mut out = String::new();
    for (dir, target, tests) in &cx.shared_dirs {
        let names: Vec<&str> = tests.iter().map(|t| cx.tests[*t].as_str()).collect();
        let _ = writeln!(
            out,
            "shared cache dir: {dir}  (target {target}; used by {})",
            names.join(", ")
        );
    }
    let lanes: Vec<usize> = {
        let mut v: Vec<usize> = cx.history.iter().map(|r| r.test).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let _ = write!(out, "\n step │");
    for t in &lanes {
        let _ = write!(out, " {}│", cell(&format!("[{t}] {}", cx.tests[*t])));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "──────┼{}",
        format!("{}┼", "─".repeat(WIDTH + 1)).repeat(lanes.len())
    );
    for r in &cx.history {
        let _ = write!(out, "{:>5} │", r.step);
        for t in &lanes {
            let text = if *t == r.test {
                let mark = r.key.is_some_and(|k| cx.shared_keys.contains(&k));
                format!("{}{}", if mark { "*" } else { " " }, r.text)
            } else {
                String::new()
            };
            let _ = write!(out, " {}│", cell(&text));
        }
        out.push('\n');
    }
    out.push_str("  (* = a step on the shared cache dir)\n");
    out
}

/// The whole report of a run, for a terminal.
pub fn render(report: &RunReport, replay_path: Option<&str>) -> String {
    let c = &report.config;
    let o = &report.outcome;
    let mut out = String::new();
    let setting = format!(
        "{} on {}, topology {}, remedy {}{}",
        c.suite.name,
        c.profile.engine,
        c.world.topology,
        c.world.remedy,
        c.sharing
            .map(|s| format!(", sharing {s}"))
            .unwrap_or_default()
    );
    let rate = if o.elapsed.as_secs_f64() > 0.0 {
        o.steps as f64 / o.elapsed.as_secs_f64()
    } else {
        0.0
    };
    let states = o
        .distinct_states
        .filter(|_| c.strategy != crate::explore::Strategy::States)
        .map(|s| format!(", {s} distinct states"))
        .unwrap_or_default();
    let runs = if c.strategy == (crate::explore::Strategy::Dfs { por: true }) {
        format!(
            "{} execution(s), one per Mazurkiewicz trace, {} sleep-set blocked",
            o.schedules, o.blocked
        )
    } else if c.strategy == crate::explore::Strategy::States {
        format!("{} distinct state(s), each expanded once", o.schedules)
    } else {
        format!("{} schedule(s)", o.schedules)
    };
    let basis = format!(
        "{runs}, {} steps{states}, {:.2} s ({:.0} steps/s), strategy {}",
        o.steps,
        o.elapsed.as_secs_f64(),
        rate,
        c.strategy
    );
    if let Some(u) = &report.unsupported {
        let _ = writeln!(out, "UNSUPPORTED: {setting}\n  {u}");
        return out;
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(
            out,
            "coverage lost: {} of {} test(s) skipped here: {}",
            report.skipped.len(),
            c.suite.tests.len(),
            report.skipped.join(", ")
        );
    }
    for n in &report.notes {
        let _ = writeln!(out, "model note: {n}");
    }
    if !report.deterministic.is_empty() {
        let _ = writeln!(out, "VIOLATED (deterministic failure): {setting}");
        for d in &report.deterministic {
            let _ = writeln!(
                out,
                "  test {:?} fails on its own; no interleaving is needed: [{}] {}",
                d.test, d.violation.oracle, d.violation.message
            );
            match d.poisons.as_deref() {
                Some([]) => {
                    let _ = writeln!(
                        out,
                        "  the stuck build outlives its podman-remote client: the server keeps its locks until it restarts"
                    );
                }
                Some(others) => {
                    let _ = writeln!(
                        out,
                        "  the stuck build outlives its podman-remote client and the server keeps its locks: {} lock(s) that cache and hang until the server restarts",
                        others.join(", ")
                    );
                }
                None => {}
            }
            out.push_str(&swimlanes(&d.counterexample));
        }
        let _ = writeln!(
            out,
            "\nthe interleaving search over the {} other test(s):",
            c.suite.tests.len() - report.deterministic.len() - report.skipped.len()
        );
    }
    match &o.verdict {
        Verdict::Holds { proof } => {
            let why = match proof {
                Proof::Exhaustive => {
                    "every interleaving explored (up to the reduction's equivalence)"
                }
                Proof::Static => {
                    "no two tests share a cache dir, a lock or a pruned parent, so every interleaving is equivalent to the sequential run, which passed"
                }
            };
            let _ = writeln!(
                out,
                "HOLDS ({} proof): {setting}\n  {why}; {basis}",
                proof.name()
            );
        }
        Verdict::NotFound => {
            let states = match o.distinct_states {
                Some(s) => format!("{s} distinct states"),
                None => "distinct states not counted".into(),
            };
            let _ = writeln!(
                out,
                "NO VIOLATION FOUND in {} schedules ({states}): {setting}\n  sampled, not a proof; {basis}",
                o.schedules
            );
        }
        Verdict::Vacuous(why) => {
            let _ = writeln!(
                out,
                "VACUOUS: {setting}\n  nothing to interleave: {why}; the sequential run passed; {basis}"
            );
        }
        Verdict::Unknown(why) => {
            let _ = writeln!(out, "UNKNOWN: {setting}\n  {why}; {basis}");
        }
        Verdict::Violated(found) => {
            // Deterministic failures were reported above; this one needs an interleaving.
            let _ = writeln!(out, "VIOLATED: {setting}");
            let _ = writeln!(out, "  found by {basis}");
            let _ = writeln!(
                out,
                "  first violation (schedule #{}): [{}] {}",
                found.index, found.violation.oracle, found.violation.message
            );
            if let Some(cx) = &report.counterexample {
                let steps = cx.history.len();
                let _ = writeln!(
                    out,
                    "\nminimal counterexample ({} test(s), {} step(s), {} context switch(es); {} shrink tries):",
                    // A stage's thread (`test [stage s]`) counts as its test.
                    cx.history
                        .iter()
                        .filter_map(|r| {
                            let name = cx.tests.get(r.test)?;
                            cx.suite.tests.iter().position(|t| {
                                *name == t.name || name.starts_with(&format!("{} [stage ", t.name))
                            })
                        })
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    steps,
                    cx.schedule.switches(),
                    cx.shrink_tries
                );
                if cx.shrink_schedules > 0 {
                    let _ = writeln!(
                        out,
                        "(the shrinker ran {} schedule(s) of its own, not counted above)",
                        cx.shrink_schedules
                    );
                }
                out.push_str(&swimlanes(cx));
                if let Some(v) = &cx.violation {
                    let _ = writeln!(
                        out,
                        "\nviolation at step {} [{}]: {}",
                        v.step, v.oracle, v.message
                    );
                }
                let _ = writeln!(out, "schedule: {}", cx.schedule);
                if let Some(p) = replay_path {
                    let _ = writeln!(out, "replay:   mountfuzz replay {p}");
                }
            }
        }
    }
    out
}
