//! Random scheduling: at every step, a runnable test chosen uniformly.

use std::collections::HashSet;
use std::time::Instant;

use super::{Budget, Machine, Options, Program, Rng, Verdict, run_one};

pub(super) fn run(
    prog: &Program,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
) -> (Verdict, u64, u64) {
    let mut m = Machine::new(prog, opts.oracles);
    let (mut choices, mut runnable) = (Vec::new(), Vec::new());
    let (mut done, mut steps) = (0u64, 0u64);
    let mut index = opts.shard.0;
    while done < budget.schedules {
        if done.is_multiple_of(64) && start.elapsed() >= budget.time {
            break;
        }
        let mut rng = Rng::for_schedule(opts.seed, index);
        index += opts.shard.1;
        let found = run_one(&mut m, &mut choices, &mut runnable, states, |r, _| {
            r[rng.below(r.len() as u64) as usize]
        });
        done += 1;
        steps += m.steps();
        if let Some(f) = found {
            return (Verdict::Violated(Box::new(f)), done, steps);
        }
    }
    let verdict = if done == 0 {
        Verdict::Unknown("the time budget ended before one schedule ran".into())
    } else {
        Verdict::Holds { exhaustive: false }
    };
    (verdict, done, steps)
}
