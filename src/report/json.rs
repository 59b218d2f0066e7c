//! Results as JSON (`--json`), one object per run.

use serde_json::{Value, json};

use crate::explore::{Outcome, Verdict};
use crate::run::{Counterexample, RunReport};

/// The verdict's name: holds, violated, not-found, unknown, vacuous or unsupported.
pub fn verdict_name(v: &Verdict, unsupported: bool) -> &'static str {
    if unsupported { "unsupported" } else { v.name() }
}

/// The proof behind the verdict: exhaustive, static or none.
pub fn proof_name(v: &Verdict) -> &'static str {
    v.proof().map_or("none", |p| p.name())
}

/// The numbers behind a verdict.
pub fn outcome(o: &Outcome) -> Value {
    json!({
        "schedules": o.schedules,
        "blocked": o.blocked,
        "elsewhere": o.elsewhere,
        "steps": o.steps,
        "distinct_states": o.distinct_states,
        "seconds": o.elapsed.as_secs_f64(),
        "proof": proof_name(&o.verdict),
        "reason": match &o.verdict {
            Verdict::Unknown(r) | Verdict::Vacuous(r) => Some(r.clone()),
            _ => None,
        },
        "deterministic": match &o.verdict { Verdict::Violated(f) => Some(f.deterministic), _ => None },
    })
}

/// Shard results (`run --json` outputs) merged into one verdict: violated when any shard found a
/// violation (the one with the lowest global schedule index, as the unsharded run finds first),
/// else unknown when any shard ran out of budget before a schedule, else holds; counts summed.
pub fn merge(shards: &[Value]) -> Result<Value, String> {
    if shards.is_empty() {
        return Err("nothing to merge".into());
    }
    let field = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    let same = [
        "suite", "engine", "topology", "remedy", "strategy", "seed", "sharing",
    ];
    for s in shards {
        for k in same {
            if field(s, k) != field(&shards[0], k) {
                return Err(format!(
                    "the shards differ in {k}: {} vs {}",
                    field(s, k),
                    field(&shards[0], k)
                ));
            }
        }
        if s.get("verdict").and_then(Value::as_str).is_none() {
            return Err("not a `mountfuzz run --json` result (no verdict)".into());
        }
    }
    // Every shard of one split, each once: a proof needs them all.
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for s in shards {
        let text = s["shard"].as_str().unwrap_or("0/1");
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
            .filter(|(i, n)| i < n);
        let Some(sh) = parsed else {
            return Err(format!("bad shard {text:?} in a result"));
        };
        if seen.contains(&sh) {
            return Err(format!("shard {text} appears twice"));
        }
        seen.push(sh);
    }
    let of = seen[0].1;
    if seen.iter().any(|s| s.1 != of) {
        return Err("the shards come from different splits (I/N with different N)".into());
    }
    if seen.len() as u64 != of {
        let missing: Vec<String> = (0..of)
            .filter(|i| !seen.iter().any(|s| s.0 == *i))
            .map(|i| format!("{i}/{of}"))
            .collect();
        return Err(format!(
            "shard(s) {} missing: the merged verdict needs all {of}",
            missing.join(", ")
        ));
    }
    // A static proof or a vacuous verdict is the same one sequential run in every shard:
    // count it once.
    let once = shards
        .iter()
        .all(|s| s["outcome"]["proof"] == "static" || s["verdict"] == "vacuous");
    let sum = |k: &str| -> u64 {
        let mut each = shards.iter().filter_map(|s| s["outcome"][k].as_u64());
        if once {
            each.next().unwrap_or(0)
        } else {
            each.sum()
        }
    };
    let violated = shards
        .iter()
        .filter(|s| s["verdict"] == "violated")
        .min_by_key(|s| s["first_violation_index"].as_u64().unwrap_or(u64::MAX));
    // Without a violation the weakest shard decides: a proof needs every shard's proof.
    let rank = |v: &Value| match v["verdict"].as_str() {
        Some("unsupported") => 0,
        Some("unknown") => 1,
        Some("not-found") => 2,
        Some("vacuous") => 3,
        _ => 4,
    };
    let weakest = shards.iter().min_by_key(|s| rank(s)).expect("not empty");
    let verdict = match violated {
        Some(_) => Value::from("violated"),
        None => weakest["verdict"].clone(),
    };
    let proof = match violated {
        Some(_) => Value::from("none"),
        None => weakest["outcome"]["proof"].clone(),
    };
    let mut out = json!({
        "verdict": verdict,
        "proof": proof,
        "shards": shards.len(),
        "schedules": sum("schedules"),
        "blocked": sum("blocked"),
        "elsewhere": sum("elsewhere"),
        "steps": sum("steps"),
    });
    for k in same {
        out[k] = field(&shards[0], k);
    }
    if let Some(v) = violated {
        out["first_violation_index"] = field(v, "first_violation_index");
        out["first_violation"] = field(v, "first_violation");
        out["counterexample"] = field(v, "counterexample");
        out["from_shard"] = field(v, "shard");
    }
    Ok(out)
}

/// A counterexample: schedule, violation, history, shared dirs.
pub fn counterexample(cx: &Counterexample) -> Value {
    json!({
        "tests": cx.tests,
        "schedule": cx.schedule.to_string(),
        "violation": cx.violation,
        "shared_dirs": cx.shared_dirs.iter().map(|(d, t, ts)| json!({"dir": d, "target": t, "tests": ts})).collect::<Vec<_>>(),
        "deterministic": cx.deterministic,
        "shrink_tries": cx.shrink_tries,
        "shrink_schedules": cx.shrink_schedules,
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
        "verdict": report.verdict_name(),
        "proof": proof_name(&report.outcome.verdict),
        "shard": format!("{}/{}", c.options.shard.0, c.options.shard.1),
        "first_violation_index": match &report.outcome.verdict { Verdict::Violated(f) => Some(f.index), _ => None },
        "first_violation": match &report.outcome.verdict { Verdict::Violated(f) => Some(f.violation.clone()), _ => None },
        "unsupported": report.unsupported,
        "deterministic_failures": report.deterministic.iter().map(|d| json!({
            "test": d.test,
            "violation": d.violation,
            "poisons": d.poisons,
            "counterexample": counterexample(&d.counterexample),
        })).collect::<Vec<_>>(),
        "search_verdict": report.outcome.verdict.name(),
        "skipped": report.skipped,
        "notes": report.notes,
        "outcome": outcome(&report.outcome),
        "counterexample": report.counterexample.as_ref().map(counterexample),
        "replay_file": replay_path,
    })
}
