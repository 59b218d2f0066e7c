//! Schedules at the granularity real builds can be forced to: a *unit* is one RUN (its mounts,
//! operations and release, with its build's end if it is the build's last RUN), one prune or one
//! teardown. Real-engine drivers release units in order; the model runs each unit atomically.

use super::Schedule;
use super::program::{Event, Program};

/// Per test, the exclusive end index (into its events) of each of its units, in order.
pub fn bounds(prog: &Program) -> Vec<Vec<usize>> {
    prog.tests
        .iter()
        .map(|t| {
            let ev = &t.events;
            (0..ev.len())
                .filter(|&i| match ev[i] {
                    Event::Release { .. } => !matches!(ev.get(i + 1), Some(Event::BuildEnd { .. })),
                    Event::BuildEnd { .. } | Event::Prune { .. } | Event::Teardown { .. } => true,
                    _ => false,
                })
                .map(|i| i + 1)
                .collect()
        })
        .collect()
}

/// The event-level schedule that runs each chosen unit to its end before the next; tests not
/// named are completed afterwards, lowest index first. Errors name a choice that does not fit.
pub fn expand(prog: &Program, units: &Schedule) -> Result<Schedule, String> {
    let b = bounds(prog);
    let mut next = vec![0usize; prog.tests.len()];
    let mut pc = vec![0usize; prog.tests.len()];
    let mut out = Vec::new();
    let take = |t: usize, next: &mut [usize], pc: &mut [usize], out: &mut Vec<u32>| {
        let end = b[t][next[t]];
        out.extend(std::iter::repeat_n(t as u32, end - pc[t]));
        pc[t] = end;
        next[t] += 1;
    };
    for (i, &c) in units.0.iter().enumerate() {
        let t = c as usize;
        if t >= prog.tests.len() || next[t] >= b[t].len() {
            return Err(format!(
                "unit choice {} (test {t}) does not fit: that test has no unit left",
                i + 1
            ));
        }
        take(t, &mut next, &mut pc, &mut out);
    }
    for t in 0..prog.tests.len() {
        while next[t] < b[t].len() {
            take(t, &mut next, &mut pc, &mut out);
        }
    }
    Ok(Schedule(out))
}

/// The order in which an event-level schedule starts units (then the rest, lowest test first).
pub fn from_events(prog: &Program, events: &Schedule) -> Schedule {
    let b = bounds(prog);
    let mut pc = vec![0usize; prog.tests.len()];
    let mut next = vec![0usize; prog.tests.len()];
    let mut out = Vec::new();
    for &c in &events.0 {
        let t = c as usize;
        if t >= pc.len() || next[t] >= b[t].len() {
            continue;
        }
        let start = if next[t] == 0 { 0 } else { b[t][next[t] - 1] };
        if pc[t] == start {
            out.push(c);
        }
        pc[t] += 1;
        if pc[t] == b[t][next[t]] {
            next[t] += 1;
        }
    }
    for (t, ends) in b.iter().enumerate() {
        let started = out.iter().filter(|&&c| c as usize == t).count();
        out.extend(std::iter::repeat_n(t as u32, ends.len() - started));
    }
    Schedule(out)
}

/// A uniformly random unit schedule: at each point, a test with units left.
pub fn random(prog: &Program, rng: &mut super::Rng) -> Schedule {
    let mut left: Vec<usize> = bounds(prog).iter().map(Vec::len).collect();
    let mut units = Vec::new();
    while left.iter().any(|&l| l > 0) {
        let live: Vec<usize> = (0..left.len()).filter(|&t| left[t] > 0).collect();
        let t = live[rng.below(live.len() as u64) as usize];
        left[t] -= 1;
        units.push(t as u32);
    }
    Schedule(units)
}

/// Searches random unit-level schedules (each RUN atomic, as a real build can be forced) for a
/// violation of `oracles`; returns the first such unit schedule with its violation.
pub fn find(
    prog: &Program,
    oracles: crate::check::Oracles,
    tries: u64,
    seed: u64,
) -> Option<(Schedule, crate::check::Violation)> {
    for i in 0..tries {
        let units = random(prog, &mut super::Rng::for_schedule(seed, i));
        let events = expand(prog, &units).expect("built from the bounds");
        // Lenient: a unit that would block is skipped, as a real harness would wait.
        let r = super::replay::replay(prog, &events, oracles, false, true).ok()?;
        if let Some(v) = r.violation {
            return Some((from_events(prog, &r.executed), v));
        }
    }
    None
}
