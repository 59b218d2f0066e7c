//! Shrinking a failing run into a minimal counterexample: fewer tests, steps, RUNs and
//! operations, and fewer context switches, together. Every candidate is compiled and replayed
//! leniently; it is kept only if the same oracle still breaks.

use std::time::{Duration, Instant};

use super::replay::replay;
use super::{Found, Program, Schedule};
use crate::check::{Oracle, Oracles, Violation};
use crate::engine::Profile;
use crate::scenario::{Step, Suite};
use crate::world::World;

/// A minimal failing run: the suite, the schedule over its (non-skipped) tests, the violation.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The shrunk suite.
    pub suite: Suite,
    /// The schedule (program test indices) that breaks it.
    pub schedule: Schedule,
    /// What breaks.
    pub violation: Violation,
    /// Candidates tried while shrinking.
    pub tries: u64,
}

struct Shrinker<'a> {
    profile: Profile,
    world: &'a World,
    oracles: Oracles,
    target: Violation,
    /// The name of the test that made the complaint.
    target_test: String,
    deadline: Instant,
    tries: u64,
    /// Tests of the original suite that pass when run alone.
    solo_ok: Vec<String>,
}

/// `suite` with only its test number `test`.
pub fn alone(suite: &Suite, test: usize) -> Suite {
    Suite {
        name: suite.name.clone(),
        tests: vec![suite.tests[test].clone()],
    }
}

/// Whether test `test` of `suite`, run alone, breaks none of `oracles`.
pub(crate) fn passes_alone(
    suite: &Suite,
    test: usize,
    profile: Profile,
    world: &World,
    oracles: Oracles,
) -> bool {
    let Ok(prog) = Program::compile(&alone(suite, test), profile, world) else {
        return false;
    };
    replay(&prog, &Schedule::default(), oracles, false, true).is_ok_and(|r| r.violation.is_none())
}

impl Shrinker<'_> {
    fn passes_alone(&self, suite: &Suite, test: usize) -> bool {
        passes_alone(suite, test, self.profile, self.world, self.oracles)
    }

    /// A candidate counts if the same oracle still breaks and every test that passed alone
    /// before still does (so the failure is the tests' interference, not a gutted test).
    fn attempt(&mut self, suite: &Suite, schedule: &Schedule) -> Option<(Schedule, Violation)> {
        self.tries += 1;
        let prog = Program::compile(suite, self.profile, self.world).ok()?;
        let r = replay(&prog, schedule, self.oracles, false, true).ok()?;
        let v = r.violation.filter(|v| self.same_complaint(suite, v))?;
        let gutted = (0..suite.tests.len())
            .any(|t| self.solo_ok.contains(&suite.tests[t].name) && !self.passes_alone(suite, t));
        if gutted {
            return None;
        }
        Some((r.executed, v))
    }

    /// Whether `v` (a violation of `suite`) is the complaint being shrunk: the same oracle, by
    /// the same test, and for a failed expectation the same message (the same output or
    /// failure), so a shrunk test still fails for the reason it failed in the original.
    fn same_complaint(&self, suite: &Suite, v: &Violation) -> bool {
        let names = program_names(suite, self.world);
        v.oracle == self.target.oracle
            && names.get(v.test) == Some(&self.target_test)
            && (v.oracle != Oracle::Expectation || v.message == self.target.message)
    }

    fn time_left(&self) -> bool {
        Instant::now() < self.deadline
    }
}

/// Names of the program's tests in order (the suite's tests less the skipped ones).
pub(crate) fn program_names(suite: &Suite, world: &World) -> Vec<String> {
    suite
        .tests
        .iter()
        .filter(|t| !world.skipped(t))
        .map(|t| t.name.clone())
        .collect()
}

/// The schedule re-expressed for `to`'s tests; choices of removed tests are dropped.
pub(crate) fn remap(s: &Schedule, from: &[String], to: &[String]) -> Schedule {
    Schedule(
        s.0.iter()
            .filter_map(|&c| {
                let name = from.get(c as usize)?;
                to.iter().position(|n| n == name).map(|p| p as u32)
            })
            .collect(),
    )
}

/// Shrinks `found` (a violation of `suite` under `profile` in `world`) within `time`.
pub fn shrink(
    suite: &Suite,
    profile: Profile,
    world: &World,
    oracles: Oracles,
    found: &Found,
    time: Duration,
) -> Shrunk {
    let mut sh = Shrinker {
        profile,
        world,
        oracles,
        target: found.violation.clone(),
        target_test: program_names(suite, world)
            .get(found.violation.test)
            .cloned()
            .unwrap_or_default(),
        deadline: Instant::now() + time,
        tries: 0,
        solo_ok: Vec::new(),
    };
    sh.solo_ok = (0..suite.tests.len())
        .filter(|&t| sh.passes_alone(suite, t))
        .map(|t| suite.tests[t].name.clone())
        .collect();
    let mut best = suite.clone();
    let mut sched = found.schedule.clone();
    let mut viol = found.violation.clone();

    let mut improved = true;
    while improved && sh.time_left() {
        improved = false;
        // Whole tests.
        let mut i = best.tests.len();
        while i > 0 && sh.time_left() {
            i -= 1;
            if best.tests.len() == 1 {
                break;
            }
            let mut cand = best.clone();
            cand.tests.remove(i);
            let s = remap(
                &sched,
                &program_names(&best, world),
                &program_names(&cand, world),
            );
            if let Some((s, v)) = sh.attempt(&cand, &s) {
                (best, sched, viol, improved) = (cand, s, v, true);
            }
        }
        // Steps, RUNs, operations.
        for ti in 0..best.tests.len() {
            let mut si = best.tests[ti].steps.len();
            while si > 0 && sh.time_left() {
                si -= 1;
                let mut cand = best.clone();
                cand.tests[ti].steps.remove(si);
                if let Some((s, v)) = sh.attempt(&cand, &sched) {
                    (best, sched, viol, improved) = (cand, s, v, true);
                    continue;
                }
                let Step::Build(b) = &best.tests[ti].steps[si] else {
                    continue;
                };
                for ri in (0..b.runs.len()).rev() {
                    let Step::Build(b) = &best.tests[ti].steps[si] else {
                        break;
                    };
                    if b.runs.len() > 1 && ri < b.runs.len() {
                        let mut cand = best.clone();
                        if let Step::Build(cb) = &mut cand.tests[ti].steps[si] {
                            cb.runs.remove(ri);
                            cb.stages = cb.stages.as_ref().and_then(|st| st.without_run(ri));
                            cb.source = None;
                        }
                        if let Some((s, v)) = sh.attempt(&cand, &sched) {
                            (best, sched, viol, improved) = (cand, s, v, true);
                            continue;
                        }
                    }
                    let Step::Build(b) = &best.tests[ti].steps[si] else {
                        break;
                    };
                    let Some(run) = b.runs.get(ri) else { continue };
                    for oi in (0..run.ops.len()).rev() {
                        let mut cand = best.clone();
                        if let Step::Build(cb) = &mut cand.tests[ti].steps[si] {
                            cb.runs[ri].ops.remove(oi);
                            cb.source = None;
                        }
                        if let Some((s, v)) = sh.attempt(&cand, &sched) {
                            (best, sched, viol, improved) = (cand, s, v, true);
                        }
                    }
                }
            }
        }
        // Fewer context switches: drop a choice (its test then moves later) ...
        let mut pos = sched.0.len();
        while pos > 0 && sh.time_left() {
            pos -= 1;
            let mut cand = sched.clone();
            cand.0.remove(pos);
            if let Some((s, v)) = sh
                .attempt(&best, &cand)
                .filter(|(s, _)| s.switches() < sched.switches())
            {
                (sched, viol, improved) = (s, v, true);
                pos = pos.min(sched.0.len());
            }
        }
        // ... or let the previous test keep running where possible.
        let mut pos = 1;
        while pos < sched.0.len() && sh.time_left() {
            if sched.0[pos] != sched.0[pos - 1] {
                let mut cand = sched.clone();
                cand.0[pos] = cand.0[pos - 1];
                if let Some((s, v)) = sh
                    .attempt(&best, &cand)
                    .filter(|(s, _)| s.switches() < sched.switches())
                {
                    (sched, viol, improved) = (s, v, true);
                    continue;
                }
            }
            pos += 1;
        }
    }
    Shrunk {
        suite: best,
        schedule: sched,
        violation: viol,
        tries: sh.tries,
    }
}
