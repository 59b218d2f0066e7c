//! Small suites from Dockerfile texts, and every execution of a program by brute force (every
//! order, no reduction), for tests whose claims are about all orders, and the commutation check
//! of the dependency relation. Each test file uses some of these.
#![allow(dead_code)]

use mountfuzz::check::Oracles;
use mountfuzz::engine::Engine;
use mountfuzz::explore::{Machine, Program};
use mountfuzz::scenario::Suite;

/// A suite of tests, each building its Dockerfiles in order; `true` beside a Dockerfile builds
/// it with `--no-cache`.
pub fn suite_of(tests: &[(&str, &[(&str, bool)])]) -> Suite {
    let mut toml = String::from("name = \"brute\"\n");
    for (name, builds) in tests {
        toml.push_str(&format!("[[test]]\nname = \"{name}\"\n"));
        for (b, no_cache) in *builds {
            toml.push_str(&format!("[[test.step]]\nbuild = \"\"\"\n{b}\"\"\"\n"));
            if *no_cache {
                toml.push_str("no_cache = true\n");
            }
        }
    }
    Suite::from_toml(&toml, "brute.toml", Engine::BuildKit.dialect()).unwrap()
}

/// A suite of tests that each build one Dockerfile.
pub fn one_build_each(tests: &[(&str, &str)]) -> Suite {
    let t: Vec<(&str, Vec<(&str, bool)>)> =
        tests.iter().map(|(n, b)| (*n, vec![(*b, false)])).collect();
    let refs: Vec<(&str, &[(&str, bool)])> = t.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    suite_of(&refs)
}

/// Every complete execution of `prog` under `oracles`, as the machine it ends in, with its
/// history recorded.
pub fn finals<'p>(prog: &'p Program, oracles: Oracles) -> Vec<Machine<'p>> {
    let mut m = Machine::new(prog, oracles);
    m.record();
    let mut out = Vec::new();
    let mut stack = vec![m];
    while let Some(m) = stack.pop() {
        let enabled: Vec<usize> = (0..prog.tests.len()).filter(|&t| m.enabled(t)).collect();
        if enabled.is_empty() {
            out.push(m);
            continue;
        }
        for t in enabled {
            let mut next = m.clone();
            next.advance(t);
            stack.push(next);
        }
    }
    out
}

/// Checks that DPOR, with no oracle, explores exactly one execution per trace of the
/// brute-force census of `prog` (none sleep-set blocked) and reaches the final states brute
/// force reaches, on a program with more than one trace (so the reduction is at stake).
/// `what` names the case in a failure.
pub fn assert_dpor_matches_census(prog: &Program, what: &str) {
    use mountfuzz::explore::{self, Budget, Options};
    let census =
        explore::traces::census(prog, Oracles::none(), 500_000).expect("small enough to enumerate");
    let opts = Options {
        oracles: Oracles::none(),
        ..Options::default()
    };
    let (_, counts, finals) = explore::dpor::finals(prog, Budget::new(5_000_000, 60.0), &opts);
    assert!(census.traces > 1, "{what}: one trace, nothing to reduce");
    assert_eq!(
        (counts.executions, counts.blocked),
        (census.traces, 0),
        "{what}: DPOR executions and blocked ones vs traces"
    );
    assert_eq!(finals, census.finals, "{what}: final states");
}

/// Two tests `a` (enabled) and `b` whose next events' footprints do not conflict: `a`'s event
/// leaves `b`'s footprint and whether `b` can move as they were; when both can move, both
/// orders reach the same state (and the same oracle verdict).
pub fn commute(m: &Machine<'_>, a: usize, b: usize) -> Result<(), String> {
    let (fa, fb) = (m.footprint(a), m.footprint(b));
    let mut after_a = m.clone();
    after_a.advance(a);
    if after_a.enabled(b) != m.enabled(b) {
        return Err(format!(
            "test {a}'s event changes whether test {b} can move"
        ));
    }
    if after_a.footprint(b) != fb {
        return Err(format!(
            "test {a}'s event changes test {b}'s footprint: {fb:?} -> {:?}",
            after_a.footprint(b)
        ));
    }
    if !m.enabled(b) {
        return Ok(());
    }
    let mut after_b = m.clone();
    after_b.advance(b);
    if !after_b.enabled(a) || after_b.footprint(a) != fa {
        return Err(format!("test {b}'s event disables or changes test {a}'s"));
    }
    let (mut ab, mut ba) = (after_a, after_b);
    ab.advance(b);
    ba.advance(a);
    if ab.canonical() != ba.canonical() {
        return Err(format!(
            "{a} then {b}:\n{}\n{b} then {a}:\n{}",
            ab.canonical(),
            ba.canonical()
        ));
    }
    if ab.violation().is_some() != ba.violation().is_some() {
        return Err(format!(
            "violations differ: {:?} vs {:?}",
            ab.violation(),
            ba.violation()
        ));
    }
    Ok(())
}
