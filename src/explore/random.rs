//! Random scheduling: at every step, a runnable test chosen uniformly.

use super::{Rng, Runnable, Sampler};

/// The uniform sampler.
pub(crate) struct Uniform;

impl Sampler for Uniform {
    fn begin(&mut self, _rng: &mut Rng) {}

    fn choose(&mut self, rng: &mut Rng, runnable: Runnable<'_>, _step: u64) -> usize {
        runnable.nth(rng.below(runnable.len() as u64) as usize)
    }
}
