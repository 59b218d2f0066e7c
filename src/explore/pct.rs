//! PCT (Burckhardt et al., ASPLOS'10): random distinct priorities, the highest-priority runnable
//! test moves; at `depth - 1` random steps the running test drops below every initial priority.
//! Finds a bug of depth d with probability at least 1/(n·k^(d-1)) per schedule.

use std::collections::HashSet;
use std::time::Instant;

use super::{Budget, Machine, Options, Program, Rng, Verdict, run_one};

pub(super) fn run(
    prog: &Program,
    depth: u32,
    budget: Budget,
    opts: &Options,
    start: Instant,
    states: &mut Option<HashSet<u64>>,
) -> (Verdict, u64, u64) {
    let n = prog.tests.len();
    let k = prog.total_events().max(1) as u64;
    let mut m = Machine::new(prog, opts.oracles);
    let (mut choices, mut runnable) = (Vec::new(), Vec::new());
    let (mut done, mut steps) = (0u64, 0u64);
    let mut index = opts.shard.0;
    let mut prio: Vec<u64> = vec![0; n];
    let mut changes: Vec<u64> = Vec::new();
    while done < budget.schedules {
        if done.is_multiple_of(64) && start.elapsed() >= budget.time {
            break;
        }
        let mut rng = Rng::for_schedule(opts.seed, index);
        index += opts.shard.1;
        // Initial priorities: a random permutation of depth..depth+n.
        for (i, p) in prio.iter_mut().enumerate() {
            *p = depth as u64 + i as u64;
        }
        for i in (1..n).rev() {
            prio.swap(i, rng.below(i as u64 + 1) as usize);
        }
        changes.clear();
        changes.extend((1..depth).map(|_| 1 + rng.below(k)));
        let found = run_one(&mut m, &mut choices, &mut runnable, states, |r, step| {
            let t = *r
                .iter()
                .max_by_key(|&&t| prio[t])
                .expect("runnable is not empty");
            // Step `step + 1` is about to run t: a change point lowers t's priority to j.
            if let Some(j) = changes.iter().position(|&c| c == step + 1) {
                prio[t] = j as u64;
            }
            t
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
