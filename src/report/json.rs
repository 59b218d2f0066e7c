//! Results as JSON (`--json`), one object per run.

use serde_json::{Value, json};

use crate::explore::{Outcome, Verdict};
use crate::run::{Counterexample, RunReport};

/// The verdict's name: holds, violated, unknown or unsupported.
pub fn verdict_name(v: &Verdict, unsupported: bool) -> &'static str {
    match (v, unsupported) {
        (_, true) => "unsupported",
        (Verdict::Holds { .. }, _) => "holds",
        (Verdict::Violated(_), _) => "violated",
        (Verdict::Unknown(_), _) => "unknown",
    }
}

/// The numbers behind a verdict.
pub fn outcome(o: &Outcome) -> Value {
    json!({
        "schedules": o.schedules,
        "steps": o.steps,
        "distinct_states": o.distinct_states,
        "seconds": o.elapsed.as_secs_f64(),
        "exhaustive": matches!(o.verdict, Verdict::Holds { exhaustive: true }),
        "reason": match &o.verdict { Verdict::Unknown(r) => Some(r.clone()), _ => None },
    })
}

/// A counterexample: schedule, violation, history, shared dirs.
pub fn counterexample(cx: &Counterexample) -> Value {
    json!({
        "tests": cx.tests,
        "schedule": cx.schedule.to_string(),
        "violation": cx.violation,
        "shared_dirs": cx.shared_dirs.iter().map(|(d, t, ts)| json!({"dir": d, "target": t, "tests": ts})).collect::<Vec<_>>(),
        "history": cx.history.iter().map(|r| json!({"step": r.step, "test": r.test, "text": r.text})).collect::<Vec<_>>(),
    })
}

/// A whole run.
pub fn run(report: &RunReport, replay_path: Option<&str>) -> Value {
    let c = &report.config;
    json!({
        "suite": c.suite.name,
        "engine": c.profile.engine.to_string(),
        "quirks": c.profile.quirks.iter().map(|q| q.name()).collect::<Vec<_>>(),
        "topology": c.world.topology.to_string(),
        "remedy": c.world.remedy.to_string(),
        "sharing": c.sharing.map(|s| s.name()),
        "strategy": c.strategy.to_string(),
        "seed": c.options.seed,
        "verdict": verdict_name(&report.outcome.verdict, report.unsupported.is_some()),
        "unsupported": report.unsupported,
        "skipped": report.skipped,
        "outcome": outcome(&report.outcome),
        "counterexample": report.counterexample.as_ref().map(counterexample),
        "replay_file": replay_path,
    })
}
