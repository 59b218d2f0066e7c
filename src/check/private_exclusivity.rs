//! Oracle: private exclusivity. An instance held in private mode has exactly one holder.

use crate::mount::Sharing;
use crate::store::table::KeyState;

/// After a grant on instance `inst`: whether it is now shared by a private holder and another.
pub fn on_grant(state: &KeyState, inst: usize) -> bool {
    let holds = &state.instances[inst].holds;
    holds.len() > 1 && holds.iter().any(|h| h.sharing == Sharing::Private)
}
